"""What every page shares: security headers, health, error pages, language, CSRF on every
state-changing route, and the SQLite settings the engine runs with."""

from __future__ import annotations

import re
import sqlite3

import pytest
from babel.messages.pofile import read_po
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import event, select, text

from app import db as app_db
from app import i18n
from app.accounts.models import Role, User
from tests import factories as f
from tests.conftest import IS_POSTGRES

CATALOG = i18n.TRANSLATIONS_DIR / "zh_CN" / "LC_MESSAGES" / "messages.po"
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
sqlite_only = pytest.mark.skipif(IS_POSTGRES, reason="SQLite engine settings")


def _zh(message: str) -> str:
    token = i18n.set_locale("zh_CN")
    try:
        return i18n.gettext(message)
    finally:
        i18n._current.reset(token)


def _html_lang(html: str) -> str:
    match = re.search(r'<html lang="([^"]+)">', html)
    assert match, "no <html lang=...>"
    return match.group(1)


# --- security headers ---------------------------------------------------------------------------

def _assert_security_headers(response) -> None:
    csp = response.headers["content-security-policy"]
    directives = {d.strip().split(" ")[0]: d.strip() for d in csp.split(";")}
    assert directives["default-src"] == "default-src 'self'"
    assert directives["script-src"] == "script-src 'self'"
    assert directives["object-src"] == "object-src 'none'"
    assert directives["base-uri"] == "base-uri 'self'"
    assert directives["frame-ancestors"] == "frame-ancestors 'self'"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"


def test_html_responses_carry_the_security_headers(client, db):
    f.user(db, Role.TRAINER, username="plain")
    db.commit()
    anonymous = {"/": 200, "/login": 200, "/no-such-page": 404}
    for path, status in anonymous.items():
        response = client.get(path)
        assert response.status_code == status, path
        assert response.headers["content-type"].startswith("text/html"), path
        _assert_security_headers(response)
    f.login(client, "plain")
    for path, status in {"/": 200, "/admin/users": 403, "/no-such-page": 404}.items():
        response = client.get(path)
        assert response.status_code == status, path
        assert response.headers["content-type"].startswith("text/html"), path
        _assert_security_headers(response)
    # Private pages are not cached by shared caches.
    assert client.get("/").headers["cache-control"] == "no-store"


def test_other_responses_carry_them_too(client):
    for response in (client.get("/healthz"), client.get("/api/v1/nothing"),
                     client.get("/api/v1/me"), client.get("/admin/users", follow_redirects=False),
                     client.get("/static/css/app.css")):
        _assert_security_headers(response)


def test_a_server_error_is_a_friendly_page_with_the_headers(app):
    def boom() -> None:
        raise RuntimeError("internal detail that must not leak")

    app.add_api_route("/boom-for-test", boom)
    app.add_api_route("/api/v1/boom-for-test", boom)
    with TestClient(app, raise_server_exceptions=False) as client:
        page = client.get("/boom-for-test")
        assert page.status_code == 500
        assert page.headers["content-type"].startswith("text/html")
        assert "Something went wrong on our side." in page.text
        assert "internal detail" not in page.text
        _assert_security_headers(page)
        api = client.get("/api/v1/boom-for-test")
        assert api.status_code == 500
        assert api.headers["content-type"] == "application/problem+json"
        assert api.json()["code"] == "server_error"
        assert "internal detail" not in api.text
        _assert_security_headers(api)


# --- health and errors -------------------------------------------------------------------------

def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"status": "ok", "database": "ok"}


def test_unknown_api_path_is_404_problem_json(client):
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == {"type": "about:blank", "status": 404, "title": "Not found",
                               "detail": "There is no page at this address.",
                               "code": "not_found"}


def test_wrong_method_on_the_api_is_405_problem_json(client):
    response = client.delete("/api/v1/me")
    assert response.status_code == 405
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 405


def test_unknown_page_is_a_friendly_html_404(client):
    page = client.get("/no/such/page")
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "<h1>404 · Not found</h1>" in page.text
    assert "There is no page at this address." in page.text
    assert 'href="/" role="button"' in page.text  # a way back
    assert "Traceback" not in page.text


def test_error_pages_speak_chinese_when_asked(client):
    page = client.get("/no/such/page", headers={"Accept-Language": "zh-CN"})
    assert page.status_code == 404
    assert _html_lang(page.text) == "zh-CN"
    assert _zh("There is no page at this address.") in page.text


# --- language ------------------------------------------------------------------------------------

def _catalog_entries():
    with CATALOG.open("rb") as handle:
        catalog = read_po(handle, locale="zh_CN")
    return [m for m in catalog if m.id and m.string and not m.fuzzy
            and (all(m.string) if isinstance(m.string, tuple) else True)]


def test_the_chinese_catalog_is_used_for_every_translated_message():
    entries = _catalog_entries()
    assert entries, f"{CATALOG} has no translations"
    token = i18n.set_locale("zh_CN")
    try:
        for message in entries:
            if isinstance(message.id, tuple):
                singular, plural = message.id
                assert i18n.ngettext(singular, plural, 1) == message.string[0], message.id
            else:
                assert i18n.gettext(message.id) == message.string, message.id
    finally:
        i18n._current.reset(token)
    # English stays English.
    singular = [m.id for m in entries if isinstance(m.id, str)]
    assert [i18n.gettext(message) for message in singular] == singular


def test_accept_language_zh_cn_gives_the_chinese_ui(client):
    sign_in = _zh("Sign in")
    assert sign_in != "Sign in", "the catalog should translate 'Sign in'"
    page = client.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"})
    assert _html_lang(page.text) == "zh-CN"
    assert f"<h1>{sign_in}</h1>" in page.text
    english = client.get("/login", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert _html_lang(english.text) == "en" and "<h1>Sign in</h1>" in english.text
    unsupported = client.get("/login", headers={"Accept-Language": "fr-FR"})
    assert _html_lang(unsupported.text) == "en"
    weighted = client.get("/login", headers={"Accept-Language": "en;q=0.5, zh;q=0.9"})
    assert _html_lang(weighted.text) == "zh-CN"


def test_api_problem_details_follow_the_language_too(client):
    response = client.get("/api/v1/me", headers={"Accept-Language": "zh-CN"})
    assert response.status_code == 401
    assert response.json()["detail"] == _zh("Please sign in.")


def _language_cookie(response) -> str | None:
    for line in response.headers.get_list("set-cookie"):
        if line.startswith("pithead_lang="):
            return line
    return None


def test_language_switch_sets_the_cookie_and_the_next_page_uses_it(client):
    page = client.get("/login", headers={"Accept-Language": "en"})
    csrf = f.csrf_from(page.text)
    response = client.post("/language", data={"locale": "zh_CN", "next": "/login",
                                              "csrf_token": csrf}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    cookie = _language_cookie(response)
    assert cookie.startswith("pithead_lang=zh_CN;")
    assert "Max-Age=31536000" in cookie and "SameSite=Lax" in cookie
    # The choice beats the browser's Accept-Language.
    after = client.get("/login", headers={"Accept-Language": "en"})
    assert _html_lang(after.text) == "zh-CN"
    assert f"<h1>{_zh('Sign in')}</h1>" in after.text
    back = client.post("/language", data={"locale": "en", "next": "/",
                                          "csrf_token": f.csrf_from(after.text)},
                       follow_redirects=False)
    assert _language_cookie(back).startswith("pithead_lang=en;")
    assert _html_lang(client.get("/").text) == "en"


def test_language_switch_refuses_foreign_targets_and_unknown_languages(client):
    csrf = f.csrf_from(client.get("/login").text)
    response = client.post("/language", data={"locale": "klingon", "next": "https://evil.com",
                                              "csrf_token": csrf}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/"
    assert _language_cookie(response).startswith("pithead_lang=en;")


def test_language_switch_without_csrf_is_403(client):
    client.get("/login")
    response = client.post("/language", data={"locale": "zh_CN"}, follow_redirects=False)
    assert response.status_code == 403
    assert _language_cookie(response) is None


def test_a_signed_in_users_choice_is_remembered_on_the_account(client, db, make_client):
    user = f.user(db, Role.TRAINER, username="polyglot")
    db.commit()
    csrf = f.login(client, "polyglot")
    client.post("/language", data={"locale": "zh_CN", "next": "/", "csrf_token": csrf})
    with app_db.open_session(write=False) as session:
        assert session.scalar(select(User.locale).where(User.id == user.id)) == "zh_CN"
    # A new browser (no language cookie, English Accept-Language) gets it back at sign-in.
    other = make_client()
    page = other.get("/login", headers={"Accept-Language": "en"})
    response = other.post("/login", data={"username": "polyglot", "password": f.PASSWORD,
                                          "csrf_token": f.csrf_from(page.text)},
                          follow_redirects=False)
    assert _language_cookie(response).startswith("pithead_lang=zh_CN;")
    assert _html_lang(other.get("/", headers={"Accept-Language": "en"}).text) == "zh-CN"


# --- CSRF on every state-changing page and API route -------------------------------------------

def _unsafe_routes(app, *, api: bool) -> list[tuple[str, str]]:
    routes = []
    for route in app.routes:
        if not isinstance(route, APIRoute):
            continue
        if route.path.startswith("/api/") != api:
            continue
        for method in sorted(route.methods & UNSAFE):
            routes.append((method, re.sub(r"\{[^}]+\}", "1", route.path)))
    return routes


@pytest.fixture
def signed_in_admin(client, db, make_client):
    """An admin browser, and a CSRF token that belongs to another browser's session."""
    f.user(db, Role.ADMIN, username="root")
    f.user(db, Role.ADMIN, username="root2")
    db.commit()
    own = f.login(client, "root")
    foreign = f.login(make_client(), "root2")
    assert own != foreign
    return own, foreign


def test_every_state_changing_page_route_refuses_a_missing_or_foreign_csrf_token(
        app, client, signed_in_admin):
    _own, foreign = signed_in_admin
    routes = _unsafe_routes(app, api=False)
    assert ("POST", "/login") in routes and ("POST", "/admin/users/1/active") in routes
    for method, path in routes:
        bare = client.request(method, path, data={"active": "false", "password": "x" * 10},
                              follow_redirects=False)
        assert bare.status_code == 403, (method, path, bare.status_code)
        assert "The form expired or did not come from this site." in bare.text, (method, path)
        forged = client.request(method, path, data={"csrf_token": foreign, "active": "false"},
                                follow_redirects=False)
        assert forged.status_code == 403, (method, path, forged.status_code)
        header = client.request(method, path, headers={"X-CSRF-Token": foreign},
                                follow_redirects=False)
        assert header.status_code == 403, (method, path, header.status_code)
    # Still signed in, still active: nothing was done.
    assert client.get("/api/v1/me").json()["username"] == "root"


def test_every_cookie_authenticated_api_write_needs_the_csrf_header(app, client,
                                                                    signed_in_admin):
    own, foreign = signed_in_admin
    routes = [r for r in _unsafe_routes(app, api=True) if r != ("POST", "/api/v1/auth/token")]
    assert ("POST", "/api/v1/users") in routes
    for method, path in routes:
        for headers in ({}, {"X-CSRF-Token": foreign}):
            response = client.request(method, path, json={}, headers=headers)
            assert response.status_code == 403, (method, path, headers, response.status_code)
            assert response.json()["code"] == "csrf_failed", (method, path)


def test_the_htmx_header_is_accepted_instead_of_the_form_field(client, db, signed_in_admin):
    own, _foreign = signed_in_admin
    target = f.user(db, Role.TRAINER, username="target")
    db.commit()
    response = client.post(f"/admin/users/{target.id}/active", data={"active": "false"},
                           headers={"X-CSRF-Token": own, "HX-Request": "true"},
                           follow_redirects=False)
    assert response.status_code == 303
    with app_db.open_session(write=False) as session:
        assert session.get(User, target.id).is_active is False


def test_anonymous_csrf_token_is_bound_to_its_own_browser(client, make_client, db):
    f.user(db, Role.TRAINER, username="plain")
    db.commit()
    other = make_client()
    foreign = f.csrf_from(other.get("/login").text)
    client.get("/login")
    response = client.post("/login", data={"username": "plain", "password": f.PASSWORD,
                                           "csrf_token": foreign}, follow_redirects=False)
    assert response.status_code == 403
    assert client.get("/api/v1/me").status_code == 401


FORM = re.compile(r"<form\b[^>]*>.*?</form>", re.S | re.I)


def test_every_post_form_on_the_pages_carries_the_csrf_token(client, db):
    ent = f.enterprise(db)
    target = f.user(db, Role.TRAINER, username="target")
    f.user(db, Role.ADMIN, username="root")
    db.commit()
    pages = ["/login", "/"]
    seen = 0
    for path in pages:
        seen += _check_forms(client.get(path).text, path)
    f.login(client, "root")
    for path in ["/", "/admin/users", "/admin/users/new", f"/admin/users/{target.id}",
                 "/admin/audit", "/enterprises", f"/enterprises/{ent.id}"]:
        page = client.get(path)
        assert page.status_code == 200, path
        seen += _check_forms(page.text, path)
    assert seen >= 10


def _check_forms(html: str, path: str) -> int:
    count = 0
    for form in FORM.findall(html):
        opening = form.split(">", 1)[0].lower()
        if 'method="post"' in opening:
            assert 'name="csrf_token"' in form, (path, opening)
            count += 1
    return count


# --- database engine settings -----------------------------------------------------------------

@sqlite_only
def test_sqlite_pragmas_of_the_apps_engine(app):
    with app_db.get_engine().connect() as conn:
        pragma = {name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
                  for name in ("journal_mode", "foreign_keys", "synchronous", "busy_timeout")}
    assert pragma["journal_mode"] == "wal"
    assert pragma["foreign_keys"] == 1
    assert pragma["synchronous"] == 2  # FULL
    assert pragma["busy_timeout"] > 0


@sqlite_only
def test_a_write_request_begins_immediate_and_a_read_request_deferred(client, db):
    f.user(db, Role.TRAINER, username="plain")
    db.commit()
    csrf = f.login(client, "plain")
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        if statement.startswith("BEGIN"):
            statements.append(statement)

    engine = app_db.get_engine()
    event.listen(engine, "before_cursor_execute", record)
    try:
        assert client.get("/api/v1/me").status_code == 200
        assert statements == ["BEGIN DEFERRED"]
        statements.clear()
        response = client.post("/language", data={"locale": "en", "csrf_token": csrf},
                               follow_redirects=False)
        assert response.status_code == 303
        assert statements == ["BEGIN IMMEDIATE"]
    finally:
        event.remove(engine, "before_cursor_execute", record)


@sqlite_only
def test_a_write_session_holds_the_write_lock_from_its_first_statement(database_url, app):
    path = database_url.split("///", 1)[1]
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    writer = app_db.open_session(write=True)
    try:
        writer.execute(text("SELECT 1"))  # a read only, but BEGIN IMMEDIATE took the lock
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
        writer.rollback()
        other.execute("BEGIN IMMEDIATE")  # free again
        other.execute("ROLLBACK")
        # A read session takes no write lock.
        with app_db.open_session(write=False) as reader:
            reader.execute(text("SELECT 1"))
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
    finally:
        writer.close()
        other.close()


def test_foreign_keys_are_enforced(db):
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError):
        db.execute(text("INSERT INTO user_roles (user_id, role) VALUES (987654, 'admin')"))
    db.rollback()


def test_no_form_renders_an_empty_csrf_token(client, db):
    """A macro imported without context would render csrf_token="" (the form then fails)."""
    from app.accounts.models import Role
    from tests import factories as fac

    ent = fac.enterprise(db)
    worker = fac.worker(db, ent)
    fac.user(db, Role.ADMIN, username="root-csrf")
    db.commit()
    fac.login(client, "root-csrf")
    pages = ["/", "/admin/users/new", f"/admin/users/{worker.user_id}", "/enterprises/new",
             f"/enterprises/{ent.id}", f"/workers/{worker.id}", "/classes/new"]
    for path in pages:
        page = client.get(path)
        assert page.status_code == 200, path
        assert 'name="csrf_token" value=""' not in page.text, path
