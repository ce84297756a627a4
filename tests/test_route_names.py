"""Route names are unique app-wide (issue 11 item 1).

`request.url_for(name)` returns the first route of that name. When the API route
GET /api/v1/exams/{id}/settings and the page route GET /exams/{id}/settings were both called
`exam_settings`, the trainer's "Set up the exam" and "Save the settings" forms redirected to
the API and the browser showed raw JSON. These tests keep every name unique and submit those
two forms the way a browser does.
"""

from __future__ import annotations

from collections import defaultdict
from urllib.parse import urlsplit

from sqlalchemy import select

from app.accounts.models import Role
from app.courses.models import Course
from app.exams.models import Exam
from tests import factories as f
from tests.test_forms import Form, parse, session_csrf, submit


def test_every_route_name_is_unique(app):  # type: ignore[no-untyped-def]
    where: dict[str, list[str]] = defaultdict(list)
    for route in app.routes:
        name = getattr(route, "name", None)
        if name:
            methods = ",".join(sorted(getattr(route, "methods", None) or []))
            where[name].append(f"{methods} {getattr(route, 'path', '?')}".strip())
    assert len(where) > 100  # the walk saw the whole app, not an empty table
    duplicates = {name: paths for name, paths in where.items() if len(paths) > 1}
    assert not duplicates, "route names used more than once (url_for picks the first):\n" + \
        "\n".join(f"  {name}: {' | '.join(paths)}" for name, paths in sorted(duplicates.items()))


def test_page_redirects_resolve_to_pages_not_the_api(app):  # type: ignore[no-untyped-def]
    """The names the exam pages redirect to are the pages' own paths."""
    assert app.url_path_for("exam_settings", exam_id=7) == "/exams/7/settings"
    assert app.url_path_for("exam_statistics", exam_id=7) == "/exams/7/statistics"
    assert app.url_path_for("bank_statistics", bank="B") == "/bank/B/statistics"
    assert app.url_path_for("api_exam_settings", exam_id=7) == "/api/v1/exams/7/settings"


def _only_post_form(html: str, action_part: str) -> Form:
    forms = [form for form in parse(html).forms
             if form.method == "post" and action_part in form.action]
    assert len(forms) == 1, [form.action for form in parse(html).forms]
    return forms[0]


def _assert_html_page(response, path: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html"), response.text[:300]
    assert urlsplit(str(response.url)).path == path
    assert [r.status_code for r in response.history] == [303]
    assert urlsplit(response.history[0].headers["location"]).path == path


def test_trainer_sets_up_then_saves_an_exam_and_lands_on_the_settings_page(client, db):  # type: ignore[no-untyped-def]
    course = Course(code="HAND-MADE", version=1, status="published", title={"en": "Hand made"},
                    job_category="general.underground", kind="general", credit_hours=1,
                    required_minutes=0)
    db.add(course)
    trainer = f.user(db, Role.TRAINER, username="trainer1")
    db.commit()
    course_id = course.id
    imported = client.post(
        "/api/v1/banks/HAND-MADE/import", headers=f.token(client, trainer.username),
        files={"file": ("q.gift", b"$CATEGORY: c\n\n::A::Air. {T}\n\n::B::Rock. {F}\n",
                        "text/plain")})
    assert imported.status_code in (200, 201), imported.text
    f.login(client, trainer.username)

    # The bank page links to "Set up the exam"; its form is what the browser submits.
    bank_page = client.get("/bank/HAND-MADE")
    setup_url = f"/bank/HAND-MADE/courses/{course_id}/exam"
    assert f'href="{setup_url}"' in bank_page.text
    setup_page = client.get(setup_url)
    assert setup_page.status_code == 200 and "Set up the exam" in setup_page.text
    setup = _only_post_form(setup_page.text, setup_url)
    assert setup.action == setup_url and setup.fields["csrf_token"] == session_csrf(client)
    assert setup.fields["bp_0_category"] == "c"
    typed = {name: "Theory" for name in setup.required if name.startswith("title")}
    created = submit(client, setup, **typed, bp_0_count="2")
    exam = db.scalar(select(Exam).where(Exam.course_id == course_id))
    db.commit()
    assert exam is not None, created.text
    settings_path = f"/exams/{exam.id}/settings"
    _assert_html_page(created, settings_path)
    assert "Exam settings" in created.text and "The exam of version 1 is set up." in created.text

    # "Save the settings" on that page: again a page, never the API's JSON.
    save = _only_post_form(created.text, settings_path)
    assert save.action == settings_path
    saved = submit(client, save, duration_minutes="45")
    _assert_html_page(saved, settings_path)
    assert "Exam settings saved." in saved.text
    db.expire_all()
    assert db.get(Exam, exam.id).duration_minutes == 45
    db.commit()
