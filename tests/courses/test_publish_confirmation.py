"""Publishing asks for confirmation: the page lists what changes (version, lessons, study time
and exam before and after) and what happens to learners already enrolled in earlier versions;
only its confirmed form publishes."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import delete, func, select, update

from app import db as app_db
from app.accounts.models import AuditEvent, Role
from app.courses import service
from app.courses.models import Course, Lesson
from app.courses.package import load_package
from app.exams.models import Exam
from app.learning import service as learning
from app.learning.models import Enrolment
from tests import factories as f
from tests import packages


@pytest.fixture
def world(db, client, tmp_path):
    """TEST-MINI v1 published with three learners (studying, completed, withdrawn) and a
    trainer signed in; v2 drafted from it with a lesson added, one removed, one changed, more
    study time and a higher pass mark."""
    outcome = service.import_package(db=db, package=load_package(
        packages.write_package(tmp_path / "mini")), by=None)
    v1 = service.get_course_or_404(db=db, course_id=outcome.course_id)
    ent = f.enterprise(db)
    admin = f.user(db, Role.ADMIN, username="root")
    workers = [f.worker(db, ent) for _ in range(3)]
    enrolments = learning.enrol(db=db, course=v1, workers=workers, by=admin)
    db.execute(update(Enrolment).where(Enrolment.id == enrolments[1].id)
               .values(status="completed"))
    db.execute(update(Enrolment).where(Enrolment.id == enrolments[2].id)
               .values(status="withdrawn"))
    f.user(db, Role.TRAINER, username="trainer1")
    db.commit()
    csrf = f.login(client, "trainer1")
    made = client.post(f"/author/courses/{v1.id}/new-version", data={"csrf_token": csrf},
                       follow_redirects=False)
    assert made.status_code == 303, made.text
    draft_id = int(made.headers["location"].rsplit("/", 1)[1])
    lessons = {lesson.title["en"]: lesson for lesson in db.scalars(
        select(Lesson).where(Lesson.course_id == draft_id))}
    db.execute(update(Lesson).where(Lesson.id == lessons["Card"].id).values(minutes=3))
    db.execute(delete(Lesson).where(Lesson.id == lessons["Scene"].id))
    card = lessons["Card"]
    db.add(Lesson(module_id=card.module_id, course_id=draft_id, position=9, kind="text",
                  title={"en": "Gas alarms"}, minutes=2, body={"en": "# Gas alarms\n\nListen."}))
    db.execute(update(Course).where(Course.id == draft_id).values(required_minutes=6))
    db.execute(update(Exam).where(Exam.course_id == draft_id).values(pass_mark=85))
    db.commit()
    return {"v1": v1.id, "draft": draft_id, "csrf": csrf}


def _status(course_id: int) -> str:
    with app_db.open_session(write=False) as s:
        return s.scalar(select(Course.status).where(Course.id == course_id)) or ""


def _published_audits() -> int:
    with app_db.open_session(write=False) as s:
        return s.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "course.published")) or 0


def _row(html: str, label: str) -> str:
    match = re.search(r"<tr[^>]*>\s*<th scope=\"row\">" + re.escape(label) + r"</th>(.*?)</tr>",
                      html, re.S)
    assert match, label
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(1))).strip()


def test_the_confirmation_page_lists_what_changes(client, world):
    editor = client.get(f"/author/courses/{world['draft']}")
    assert f'href="/author/courses/{world["draft"]}/publish"' in editor.text
    page = client.get(f"/author/courses/{world['draft']}/publish")
    assert page.status_code == 200, page.text
    assert "Publish version 2 of TEST-MINI?" in page.text
    assert "Version 1 → version 2" in page.text
    assert "Version 1 will be archived" in page.text
    lists = {kind: re.findall(r"<li>([^<]+?) <small>", body) for kind, body in re.findall(
        r'<ul data-lessons="(\w+)">(.*?)</ul>', page.text, re.S)}
    assert lists == {"added": ["Gas alarms"], "removed": ["Scene"], "changed": ["Card"]}
    assert "2 lessons unchanged" in page.text
    assert _row(page.text, "Online study required") == "4 min 6 min (changed)"
    assert _row(page.text, "Pass mark") == "80 85 (changed)"
    assert _row(page.text, "Exam duration") == "30 min 30 min"
    assert page.text.count("data-changed") == 2
    assert "1 learner is studying an earlier version." in page.text
    assert "1 learner has completed an earlier version." in page.text  # withdrawn: not counted
    assert "They stay on their version" in page.text
    assert "Certificates already issued are not affected." in page.text
    assert 'name="confirm" value="yes"' in page.text and 'name="csrf_token"' in page.text
    assert _status(world["draft"]) == "draft"


def test_publishing_without_the_confirmation_publishes_nothing(client, world):
    url = f"/author/courses/{world['draft']}/publish"
    for data in ({}, {"confirm": ""}):
        response = client.post(url, data={"csrf_token": world["csrf"], **data},
                               follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == url
    assert _status(world["draft"]) == "draft" and _status(world["v1"]) == "published"
    assert _published_audits() == 0
    done = client.post(url, data={"csrf_token": world["csrf"], "confirm": "yes"},
                       follow_redirects=False)
    assert done.status_code == 303
    assert done.headers["location"] == f"/author/courses/{world['draft']}"
    assert _status(world["draft"]) == "published" and _status(world["v1"]) == "archived"
    assert _published_audits() == 1
    # Published: there is nothing left to confirm.
    assert client.get(url).status_code == 409


def test_a_first_publication_and_an_incomplete_draft(client, db, world):
    created = client.post("/author/new", data={
        "csrf_token": world["csrf"], "code": "FRESH-ONE", "title_en": "Fresh", "kind": "general",
        "job_category": "general.underground", "credit_hours": "1", "required_minutes": "30"},
        follow_redirects=False)
    assert created.status_code == 303, created.text
    url = created.headers["location"] + "/publish"
    page = client.get(url)
    assert page.status_code == 200
    assert "First publication of FRESH-ONE: version 1." in page.text
    assert "Nobody is enrolled in an earlier version." in page.text
    assert "Add at least one module." in page.text
    assert 'name="confirm"' not in page.text  # not ready: no button that publishes
    refused = client.post(url, data={"csrf_token": world["csrf"], "confirm": "yes"},
                          follow_redirects=False)
    assert refused.status_code == 400
    assert "The draft is not complete yet; nothing was published." in refused.text


def test_the_page_speaks_chinese(client, world):
    client.cookies.set("locale", "zh_CN")
    page = client.get(f"/author/courses/{world['draft']}/publish",
                      headers={"Accept-Language": "zh-CN"})
    assert page.status_code == 200
    assert "发布" in page.text and "已颁发的证书不受影响。" in page.text


def test_outsiders_cannot_open_the_confirmation(client, db, world):
    f.user(db, Role.REGULATOR, username="reg", region_code="14")
    db.commit()
    client.cookies.clear()
    f.login(client, "reg")
    response = client.get(f"/author/courses/{world['draft']}/publish")
    assert response.status_code in (403, 404)
    assert "Gas alarms" not in response.text
