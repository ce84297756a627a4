"""Enrolling staff in a new version of a course: each worker is told what happened (enrolled,
already enrolled, on an earlier version and not moved), and an explicit move carries over the
progress of unchanged lessons (issue 9 item 9)."""

from __future__ import annotations

from sqlalchemy import select, update

from app.accounts.models import Role
from app.courses import authoring
from app.courses import service as courses
from app.db import utcnow
from app.learning.models import Enrolment, LedgerEntry, LessonProgress
from tests import factories as f


def _new_version(db, course, admin, *, retitle_first_lesson: bool = False):  # type: ignore[no-untyped-def]
    """Version 2 of the course, published (optionally with its first lesson changed)."""
    v1 = courses.get_course_or_404(db=db, course_id=course.id, structure=True)
    draft = authoring.new_version(db=db, course=v1, by=admin)
    if retitle_first_lesson:
        lesson = draft.modules[0].lessons[0]
        authoring.update_lesson(db=db, course=draft, lesson=lesson, by=admin,
                                fields=authoring.LessonFields(
                                    title={"en": "Introduction, revised"}, minutes=lesson.minutes,
                                    body=dict(lesson.body)))
    authoring.publish(db=db, course=draft, by=admin)
    return draft


def _finish_lesson(db, enrolment_id: int, position: int, seconds: int) -> None:  # type: ignore[no-untyped-def]
    """Mark the enrolment's lesson at reading `position` (0-based) completed with study time."""
    enrolment = db.get(Enrolment, enrolment_id)
    lessons = courses.lessons_of(db=db, course_id=enrolment.course_id)
    db.execute(update(LessonProgress).where(
        LessonProgress.enrolment_id == enrolment_id,
        LessonProgress.lesson_id == lessons[position].id).values(
        credited_seconds=seconds, completed_at=utcnow()))
    enrolment.credited_seconds += seconds
    enrolment.lessons_completed += 1
    db.flush()


def test_api_says_what_happened_to_each_worker_and_moves_only_when_asked(client, db, course):
    ent = f.enterprise(db)
    on_v1, newcomer = f.worker(db, ent, full_name="甲"), f.worker(db, ent, full_name="乙")
    admin = f.user(db, Role.ADMIN, username="root")
    f.user(db, Role.ENTERPRISE_ADMIN, username="boss", enterprise_id=ent.id)
    db.commit()
    auth = f.token(client, "boss")
    first = client.post("/api/v1/enrolments", json={"course_id": course.id,
                                                    "worker_ids": [on_v1.id]}, headers=auth)
    assert first.status_code == 201
    assert (first.json()[0]["outcome"], first.json()[0]["version"]) == ("enrolled", 1)
    old_id = first.json()[0]["id"]
    _finish_lesson(db, old_id, 0, 150)  # the text lesson, unchanged in version 2
    _finish_lesson(db, old_id, 1, 70)   # the video, unchanged too
    v2 = _new_version(db, course, admin, retitle_first_lesson=True)
    db.commit()

    answer = client.post("/api/v1/enrolments", json={
        "course_id": v2.id, "worker_ids": [on_v1.id, newcomer.id]}, headers=auth)
    assert answer.status_code == 201, answer.text
    by_worker = {item["worker_id"]: item for item in answer.json()}
    assert by_worker[on_v1.id] == {
        "id": old_id, "course_id": course.id, "worker_id": on_v1.id, "status": "active",
        "deadline": None, "outcome": "enrolled_in_other_version", "version": 1,
        "moved_from_id": None, "moved_from_version": None}
    assert (by_worker[newcomer.id]["outcome"], by_worker[newcomer.id]["course_id"],
            by_worker[newcomer.id]["version"]) == ("enrolled", v2.id, 2)
    db.rollback()
    assert db.get(Enrolment, old_id).status == "active"  # nothing changed for the v1 learner

    moved = client.post("/api/v1/enrolments", json={
        "course_id": v2.id, "worker_ids": [on_v1.id, newcomer.id], "move": True}, headers=auth)
    assert moved.status_code == 201, moved.text
    by_worker = {item["worker_id"]: item for item in moved.json()}
    assert by_worker[newcomer.id]["outcome"] == "already_enrolled"
    item = by_worker[on_v1.id]
    assert (item["outcome"], item["course_id"], item["version"], item["moved_from_id"],
            item["moved_from_version"], item["status"]) == ("moved", v2.id, 2, old_id, 1, "active")
    db.rollback()
    assert db.get(Enrolment, old_id).status == "withdrawn"
    new = db.get(Enrolment, item["id"])
    # The revised first lesson starts again; the unchanged video keeps its progress.
    assert (new.lessons_completed, new.credited_seconds, new.lessons_total) == (1, 70, 4)
    progress = {p.lesson_id: p for p in db.scalars(
        select(LessonProgress).where(LessonProgress.enrolment_id == new.id))}
    lessons = courses.lessons_of(db=db, course_id=v2.id)
    assert progress[lessons[0].id].completed_at is None
    assert progress[lessons[1].id].credited_seconds == 70
    assert progress[lessons[1].id].completed_at is not None
    assert db.scalar(select(LedgerEntry.id)) is None  # moving credits no study time

    again = client.post("/api/v1/enrolments", json={
        "course_id": v2.id, "worker_ids": [on_v1.id], "move": True}, headers=auth)
    assert [(i["id"], i["outcome"]) for i in again.json()] == [(new.id, "already_enrolled")]
    assert db.scalar(select(Enrolment.id).where(Enrolment.worker_id == on_v1.id,
                                                Enrolment.status == "active")) == new.id


def test_completed_earlier_version_is_never_moved(client, db, course):
    ent = f.enterprise(db)
    worker = f.worker(db, ent)
    admin = f.user(db, Role.ADMIN, username="root")
    db.commit()
    auth = f.token(client, "root")
    old_id = client.post("/api/v1/enrolments", json={"course_id": course.id,
                                                     "worker_ids": [worker.id]},
                         headers=auth).json()[0]["id"]
    db.execute(update(Enrolment).where(Enrolment.id == old_id).values(status="completed"))
    v2 = _new_version(db, course, admin)
    db.commit()
    answer = client.post("/api/v1/enrolments", json={
        "course_id": v2.id, "worker_ids": [worker.id], "move": True}, headers=auth)
    assert [(i["id"], i["outcome"], i["status"], i["version"]) for i in answer.json()] == \
        [(old_id, "enrolled_in_other_version", "completed", 1)]


def test_enterprise_page_says_what_happened_and_offers_the_move(client, db, course):
    ent = f.enterprise(db)
    on_v1, newcomer = f.worker(db, ent, full_name="Wang Wei"), f.worker(db, ent,
                                                                        full_name="Li Na")
    admin = f.user(db, Role.ADMIN, username="root")
    f.user(db, Role.ENTERPRISE_ADMIN, username="boss", enterprise_id=ent.id)
    db.commit()
    ent_id, on_v1_id, newcomer_id = ent.id, on_v1.id, newcomer.id
    csrf = f.login(client, "boss")
    client.post(f"/enterprises/{ent_id}/enrol", data={
        "csrf_token": csrf, "course_id": course.id, "worker_ids": [on_v1_id]})
    v2 = _new_version(db, course, admin)
    db.commit()
    v2_id = v2.id

    done = client.post(f"/enterprises/{ent_id}/enrol", data={
        "csrf_token": csrf, "course_id": v2_id, "worker_ids": [on_v1_id, newcomer_id]},
        follow_redirects=False)
    assert done.status_code == 303
    assert done.headers["location"] == \
        f"/enterprises/{ent_id}/enrol/move?course_id={v2_id}&worker_ids={on_v1_id}"
    page = client.get(done.headers["location"])
    assert page.status_code == 200
    assert "1 worker enrolled in Mini course." in page.text
    assert "1 worker is studying an earlier version and was not moved: Wang Wei (version 1)." \
        in page.text
    assert "Move to version 2?" in page.text and f'value="{on_v1_id}" checked' in page.text
    assert "Li Na" not in page.text.split("<table", 1)[1]

    moved = client.post(f"/enterprises/{ent_id}/enrol", data={
        "csrf_token": csrf, "course_id": v2_id, "worker_ids": [on_v1_id], "move": "on"},
        follow_redirects=False)
    assert moved.headers["location"] == f"/enterprises/{ent_id}/enrolments"
    listing = client.get(moved.headers["location"])
    assert "1 worker moved to version 2: Wang Wei." in listing.text
    db.rollback()
    assert sorted(db.execute(select(Enrolment.worker_id, Enrolment.course_id, Enrolment.status)
                             ).all()) == sorted([(on_v1_id, course.id, "withdrawn"),
                                                 (on_v1_id, v2_id, "active"),
                                                 (newcomer_id, v2_id, "active")])
    repeat = client.post(f"/enterprises/{ent_id}/enrol", data={
        "csrf_token": csrf, "course_id": v2_id, "worker_ids": [on_v1_id, newcomer_id]})
    assert "2 workers were already enrolled in this version; nothing changed for them." \
        in repeat.text


def test_worker_on_an_earlier_version_is_told_so(client, db, course):
    ent = f.enterprise(db)
    worker = f.worker(db, ent)
    admin = f.user(db, Role.ADMIN, username="root")
    db.commit()
    csrf = f.login(client, worker.id_number)
    client.post(f"/courses/{course.id}/enrol", data={"csrf_token": csrf})
    v2 = _new_version(db, course, admin)
    db.commit()
    again = client.post(f"/courses/{v2.id}/enrol", data={"csrf_token": csrf})
    assert "You are enrolled in version 1 of this course, which you continue" in again.text
