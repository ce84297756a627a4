"""Every form that changes state carries the real CSRF token (issue 9 item 5).

The certificate decision forms once shipped with an empty csrf_token (their template imported
the csrf macro without context) and every suspend, reinstate or revoke answered 403. These
tests read pages the way a browser does: they parse each form and htmx element, check that the
token it would send is the session's own, and submit the certificate forms exactly as the
browser would, with the fields of the HTML.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app import web
from app.accounts.deps import SESSION_COOKIE
from app.accounts.models import Role, User
from app.certificates.models import Certificate, CertificateEvent
from app.courses import service as courses
from app.exams.models import Exam
from app.learning import service as learning
from tests import factories as f
from tests.certificates.conftest import certified  # noqa: F401  (the fixture, for this module)

TEMPLATES = Path(web.__file__).parent / "templates"
UNSAFE_HX = ("hx-post", "hx-put", "hx-patch", "hx-delete")


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)  # hidden and pre-filled inputs
    required: list[str] = field(default_factory=list)  # empty inputs the user must fill


@dataclass
class HxElement:
    tag: str
    method: str
    url: str
    headers: dict[str, str]  # hx-headers of the element and its ancestors, nearest winning
    form_token: str | None  # csrf_token of the form it sits in, if any


class PageParser(HTMLParser):
    """The forms and htmx requests of a page, with what each would send as CSRF token."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
            "source", "track", "wbr"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self.hx: list[HxElement] = []
        self.meta_token: str | None = None
        self._stack: list[tuple[str, dict[str, str]]] = []  # open elements' hx-headers
        self._form: Form | None = None
        self._hx_in_form: list[HxElement] = []
        self._textarea: str | None = None
        self._select: str | None = None

    def _headers(self) -> dict[str, str]:
        merged: dict[str, str] = {}
        for _, headers in self._stack:
            merged.update(headers)
        return merged

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        own = json.loads(a["hx-headers"]) if "hx-headers" in a else {}
        if tag == "meta" and a.get("name") == "csrf-token":
            self.meta_token = a.get("content", "")
        if tag == "form":
            self._form = Form(action=a.get("action", ""), method=a.get("method", "get").lower())
            self.forms.append(self._form)
        for verb in UNSAFE_HX:
            if verb in a:
                element = HxElement(tag=tag, method=verb[3:], url=a[verb],
                                    headers={**self._headers(), **own}, form_token=None)
                self.hx.append(element)
                if self._form is not None:
                    self._hx_in_form.append(element)
        if self._form is not None and a.get("name"):
            name = a["name"]
            if tag == "input" and a.get("type", "text") not in ("submit", "button", "checkbox",
                                                                "radio", "file"):
                if a.get("value"):
                    self._form.fields[name] = a["value"]
                elif a.get("type") == "hidden":
                    self._form.fields[name] = ""
                elif "required" in a:
                    self._form.required.append(name)
            elif tag == "textarea":
                self._textarea = name
                self._form.fields[name] = ""
                if "required" in a:
                    self._form.required.append(name)
            elif tag == "select":
                self._select = name
        if self._form is not None and tag == "option" and self._select:
            if "selected" in a or self._select not in self._form.fields:
                self._form.fields[self._select] = a.get("value", "")
        if tag not in self.VOID:
            self._stack.append((tag, own))

    def handle_data(self, data: str) -> None:
        if self._form is not None and self._textarea:
            self._form.fields[self._textarea] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self._form is not None:
            for element in self._hx_in_form:
                element.form_token = self._form.fields.get(web.CSRF_FIELD)
            self._form, self._hx_in_form = None, []
        if tag == "textarea":
            if self._form is not None and self._textarea and not self._form.fields[self._textarea]:
                self._form.fields.pop(self._textarea)  # empty: the user types it
            self._textarea = None
        if tag == "select":
            self._select = None
        for i in range(len(self._stack) - 1, -1, -1):  # tolerate unclosed elements
            if self._stack[i][0] == tag:
                del self._stack[i:]
                break


def parse(html: str) -> PageParser:
    parser = PageParser()
    parser.feed(html)
    parser.close()
    return parser


def session_csrf(client: TestClient) -> str:
    """The token the server expects from this signed-in browser."""
    session = client.cookies.get(SESSION_COOKIE)
    assert session, "not signed in"
    return web._sign("session:" + session)


def assert_every_form_carries(page: PageParser, token: str, where: str) -> list[Form]:
    """Every POST form and every unsafe htmx element of the page sends `token`. A plain form
    sends its fields only (no hx-boost here), so it needs the hidden field whatever the page's
    hx-headers say; an htmx request sends the hx-headers and, inside a form, its fields."""
    assert token
    assert page.meta_token == token, f"{where}: <meta name=csrf-token>"
    unsafe = [form for form in page.forms if form.method == "post"]
    for form in unsafe:
        sent = form.fields.get(web.CSRF_FIELD)
        assert sent == token, f"{where}: the form to {form.action} sends {sent!r}"
    for element in page.hx:
        sent = element.headers.get("X-CSRF-Token") or element.form_token
        assert sent == token, f"{where}: <{element.tag} hx-{element.method}={element.url}>"
    return unsafe


def submit(client: TestClient, form: Form, **typed: str):  # type: ignore[no-untyped-def]
    """Send the form as a browser would: its own fields plus what the user typed."""
    missing = [name for name in form.required if name not in typed]
    assert not missing, f"the form to {form.action} needs {missing}"
    return client.post(form.action, data={**form.fields, **typed}, follow_redirects=True)


# --- the certificate decisions, end to end ---------------------------------------------------

def _decision_forms(client: TestClient, number: str) -> dict[str, Form]:
    page = client.get(f"/certificates/{number}")
    assert page.status_code == 200
    parsed = parse(page.text)
    forms = assert_every_form_carries(parsed, session_csrf(client), f"/certificates/{number}")
    prefix = f"/certificates/{number}/"
    return {form.action.removeprefix(prefix): form for form in forms
            if form.action.startswith(prefix)}


def test_regulator_suspends_reinstates_and_revokes_from_the_detail_page(client, db, certified):  # noqa: F811
    f.user(db, Role.REGULATOR, username="reg14", region_code="14")
    db.commit()
    number = db.scalar(select(Certificate.number))
    db.commit()
    f.login(client, "reg14")

    forms = _decision_forms(client, number)
    assert sorted(forms) == ["revoke", "suspend"]
    assert forms["suspend"].required == ["reason"]
    done = submit(client, forms["suspend"], reason="Training records under review")
    assert done.status_code == 200, done.text
    assert "The certificate is suspended." in done.text

    forms = _decision_forms(client, number)
    assert sorted(forms) == ["reinstate", "revoke"]
    done = submit(client, forms["reinstate"], reason="Records found in order")
    assert done.status_code == 200 and "The certificate is reinstated." in done.text

    forms = _decision_forms(client, number)
    done = submit(client, forms["revoke"], reason="Certificate obtained by fraud")
    assert done.status_code == 200 and "The certificate is revoked." in done.text
    assert _decision_forms(client, number) == {}  # revocation is final: no more forms

    db.expire_all()
    assert db.scalar(select(Certificate.status)) == "revoked"
    assert db.scalars(select(CertificateEvent.kind).order_by(CertificateEvent.id)).all() == [
        "issued", "suspended", "reinstated", "revoked"]


def test_a_form_with_a_wrong_token_is_refused_and_changes_nothing(client, db, certified):  # noqa: F811
    """The check above is not vacuous: the same form with the token of another session is
    refused with 403."""
    f.user(db, Role.REGULATOR, username="reg14", region_code="14")
    db.commit()
    number = db.scalar(select(Certificate.number))
    db.commit()
    f.login(client, "reg14")
    form = _decision_forms(client, number)["suspend"]
    for token in ("", web._sign("session:someone-else")):
        form.fields[web.CSRF_FIELD] = token
        refused = client.post(form.action, data={**form.fields, "reason": "x"})
        assert refused.status_code == 403
    db.expire_all()
    assert db.scalar(select(Certificate.status)) == "valid"


# --- a tour of the pages with forms -----------------------------------------------------------

def test_every_form_on_the_pages_of_each_role_carries_the_session_token(client, db, certified):  # noqa: F811
    """Each role's pages: every POST form and htmx write sends the signed-in session's token,
    and the forms this test expects are there (so it cannot pass on an empty page)."""
    worker = certified["worker"]
    enterprise = certified["enterprise"]
    f.user(db, Role.REGULATOR, username="reg14", region_code="14")
    other = f.user(db, Role.WORKER, username="someone")
    db.commit()
    number = db.scalar(select(Certificate.number))
    exam = db.scalar(select(Exam))
    course_id = exam.course_id
    assert db.scalar(select(User.id).where(User.username == "root"))
    # A second worker in the middle of the exam: the attempt page saves answers with hx-post.
    candidate = f.worker(db, enterprise, full_name="李四")
    enrolment = learning.enrol(db=db, course=courses.get_course_or_404(db=db, course_id=course_id),
                               workers=[candidate], by=db.scalar(select(User).where(
                                   User.username == "root")))[0]
    enrolment.status = "completed"
    db.commit()
    attempt = client.post(f"/api/v1/exams/{exam.id}/attempts",
                          headers=f.token(client, candidate.id_number))
    assert attempt.status_code == 201, attempt.text
    attempt_id = attempt.json()["id"]
    tour = {
        worker.id_number: {
            "/": ["/logout", "/language"],
            f"/courses/{course_id}": ["/logout"],
            "/certificates/mine": ["/logout"],
            "/practicals": ["/practicals/calendar-link"],
            "/notifications": ["/logout"],
        },
        candidate.id_number: {
            f"/attempts/{attempt_id}": [f"/attempts/{attempt_id}/save",
                                        f"/attempts/{attempt_id}/submit"],
            f"/attempts/{attempt_id}/confirm": [f"/attempts/{attempt_id}/submit"],
        },
        "root": {
            "/admin/users/new": ["/admin/users/new"],
            f"/admin/users/{other.id}": [f"/admin/users/{other.id}",
                                         f"/admin/users/{other.id}/password",
                                         f"/admin/users/{other.id}/active"],
            "/enterprises/new": ["/enterprises/new"],
            f"/enterprises/{enterprise.id}": [f"/enterprises/{enterprise.id}/enrol"],
            f"/enterprises/{enterprise.id}/import": [f"/enterprises/{enterprise.id}/import"],
            f"/workers/{worker.id}": [f"/workers/{worker.id}/password"],
            "/admin/bases/new": ["/admin/bases/new"],
        },
        "reg14": {
            f"/certificates/{number}": [f"/certificates/{number}/suspend",
                                        f"/certificates/{number}/revoke"],
        },
    }
    checked = htmx = 0
    for username, pages in tour.items():
        client.cookies.clear()
        f.login(client, username)
        token = session_csrf(client)
        for url, expected in pages.items():
            response = client.get(url)
            assert response.status_code == 200, (username, url, response.status_code)
            page = parse(response.text)
            forms = assert_every_form_carries(page, token, url)
            actions = {form.action for form in forms}
            assert set(expected) <= actions, (url, expected, actions)
            checked += len(forms)
            htmx += len(page.hx)
    assert checked >= 20 and htmx >= 1


def test_anonymous_forms_carry_the_cookie_bound_token(client):
    """Signed out, the token is bound to the anonymous CSRF cookie the page sets."""
    for url, action in (("/login", "/login"), ("/verify/credential", "/verify/credential")):
        response = client.get(url)
        assert response.status_code == 200
        anon = client.cookies.get(web.ANON_CSRF_COOKIE)
        assert anon
        forms = assert_every_form_carries(parse(response.text), web._sign("anon:" + anon), url)
        assert action in {form.action for form in forms}


# --- every template, statically ----------------------------------------------------------------

STATE_CHANGING = re.compile(r"""<form\b[^>]*\bmethod=["']?post|\bhx-(?:post|put|patch|delete)=""",
                            re.IGNORECASE)
IMPORT = re.compile(r"""{%-?\s*from\s+["']([^"']+)["']\s+import\s+([^%]*?)-?%}""")
MACRO = re.compile(r"""{%-?\s*macro\s+(\w+)\(([^)]*)\)\s*-?%}(.*?){%-?\s*endmacro""", re.DOTALL)
TOKEN_IN_FORM = re.compile(r"""csrf\(\)|name=["']csrf_token["']\s+value=["']{{\s*csrf_token\s*}}|"""
                           r"""post_button\([^)]*\bcsrf_token\b""")


def _templates() -> list[Path]:
    found = sorted(TEMPLATES.rglob("*.html"))
    assert len(found) > 40
    return found


def _macros_needing_context() -> dict[str, set[str]]:
    """Per macro file, the macros that read csrf_token from the caller's context (not from a
    parameter): imported without context they render an empty token."""
    needing: dict[str, set[str]] = {}
    for template in _templates():
        for name, params, body in MACRO.findall(template.read_text(encoding="utf-8")):
            if re.search(r"\bcsrf_token\b", body) and not re.search(r"\bcsrf_token\b", params):
                needing.setdefault(template.relative_to(TEMPLATES).as_posix(), set()).add(name)
    return needing


def test_macros_that_read_the_token_from_the_context_are_known() -> None:
    needing = _macros_needing_context()
    assert "csrf" in needing["_macros.html"]
    assert "post_button" not in needing.get("authoring/_macros.html", set())  # a parameter


def _form_bodies(source: str) -> list[str]:
    """The source of each <form method=post ...> ... </form> of a template."""
    bodies = []
    for match in re.finditer(r"<form\b[^>]*>", source, re.IGNORECASE):
        if not re.search(r"""\bmethod=["']?post""", match.group(0), re.IGNORECASE):
            continue
        end = source.find("</form>", match.end())
        assert end != -1, f"unclosed form at {match.group(0)}"
        bodies.append(source[match.start():end])
    return bodies


@pytest.mark.parametrize("template", _templates(), ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_template_forms_get_the_token(template: Path) -> None:
    source = template.read_text(encoding="utf-8")
    if not STATE_CHANGING.search(source):
        return
    needing = _macros_needing_context()
    for source_file, names in IMPORT.findall(source):
        imported = {n.strip() for n in names.replace("with context", "").split(",")}
        for macro in sorted(imported & needing.get(source_file, set())):
            assert "with context" in names, (
                f"{template.name} imports {macro} from {source_file} without context: its "
                "forms would send an empty csrf_token")
    for body in _form_bodies(source):
        assert TOKEN_IN_FORM.search(body), f"{template.name}: a POST form without csrf_token:\n" \
                                           f"{body[:200]}"


def test_htmx_writes_inherit_the_token_from_the_page() -> None:
    """hx-post/put/patch/delete elements without a form token rely on <body hx-headers>."""
    base = (TEMPLATES / "base.html").read_text(encoding="utf-8")
    assert re.search(r"""<body[^>]*hx-headers='{"X-CSRF-Token": "{{ csrf_token }}"}'""", base)
    for template in _templates():
        source = template.read_text(encoding="utf-8")
        for match in re.finditer(r"""hx-headers=(["'])(.*?)\1""", source):
            if template.name != "base.html":
                assert "X-CSRF-Token" in match.group(2), (
                    f"{template.name} replaces hx-headers without the CSRF token")


def test_the_macro_fails_loudly_when_imported_without_context() -> None:
    """A page that imports csrf without context fails to render instead of shipping an empty
    token (and the template test above names the template)."""
    from jinja2 import UndefinedError

    bad = web.templates.env.from_string('{% from "_macros.html" import csrf %}{{ csrf() }}')
    with pytest.raises(UndefinedError, match="csrf_macro_imported_without_context"):
        bad.render(csrf_token="t0ken")
    good = web.templates.env.from_string(
        '{% from "_macros.html" import csrf with context %}{{ csrf() }}')
    assert good.render(csrf_token="t0ken") == (
        '<input type="hidden" name="csrf_token" value="t0ken">')
