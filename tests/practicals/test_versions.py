"""Sessions belong to the course, not to one version (issue 9 item 8): a session scheduled
under version 1 serves learners of version 2 on every path, and its pass certifies them with
their own version's certificate."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.accounts.models import Role
from app.certificates.models import Certificate
from app.courses import service as courses
from app.courses.models import Course
from app.courses.package import load_package
from app.db import utcnow
from app.exams.models import Exam
from app.learning import service as learning
from app.practicals import service
from tests import factories as f
from tests import packages
from tests.practicals.conftest import pass_theory


def certificate_spec(title: str) -> dict:
    return {"title": {"en": title, "zh_CN": title}, "validity_years": 6, "review_years": 3}


def import_version(db, tmp_path, version: int) -> Course:
    outcome = courses.import_package(db=db, package=load_package(packages.write_package(
        tmp_path / f"v{version}", data=packages.course_yaml(
            code="TEST-GAS", version=version, title={"en": f"Gas inspection v{version}"},
            practical_required=True,
            certificate=certificate_spec(f"Gas inspection certificate, version {version}")))),
        by=None)
    return courses.get_course_or_404(db=db, course_id=outcome.course_id)


@pytest.fixture
def versions(db, tmp_path):
    """Version 1 of a course with a session scheduled under it (capacity 1), then version 2
    published (version 1 archived), and an enterprise admin."""
    v1 = import_version(db, tmp_path, 1)
    admin = f.user(db, Role.ADMIN, username="root")
    examiner = f.user(db, Role.EXAMINER, username="examiner1")
    centre = service.create_test_centre(db=db, name="Taiyuan test base", region_code="1401",
                                        address="1 Mine Road", kinds=["practical_test"],
                                        by=admin)
    start = utcnow().replace(microsecond=0) + timedelta(days=3)
    session = service.create_sessions(db=db, centre=centre, course=v1, starts_at=start,
                                      ends_at=start + timedelta(hours=3), capacity=1,
                                      examiner_id=examiner.id, by=admin)[0]
    v2 = import_version(db, tmp_path, 2)
    ent = f.enterprise(db)
    f.user(db, Role.ENTERPRISE_ADMIN, username="boss", enterprise_id=ent.id)

    def learner(*, passed: bool = True):
        """A worker enrolled in version 2, with a theory pass of version 2's exam."""
        worker = f.worker(db, ent)
        enrolment = learning.enrol(db=db, course=v2, workers=[worker], by=admin)[0]
        assert enrolment.course_id == v2.id
        if passed:
            exam = db.scalar(select(Exam).where(Exam.course_id == v2.id))
            pass_theory(db, exam, worker, enrolment)
        return worker

    db.commit()
    return {"v1": v1, "v2": v2, "session": session, "admin": admin, "learner": learner}


def test_a_version_1_session_serves_a_version_2_learner_to_the_certificate(
        client, db, versions, clock):
    v1, v2, session = versions["v1"], versions["v2"], versions["session"]
    assert (db.get(Course, v1.id).status, v2.status) == ("archived", "published")
    first, second = versions["learner"](), versions["learner"]()
    not_yet = versions["learner"](passed=False)
    db.commit()

    # The learner's page offers the session (it said "No session ... scheduled yet").
    f.login(client, first.id_number)
    mine = client.get("/practicals").text
    assert "No session of this course is scheduled yet" not in mine
    assert f"/practicals/calendar?course_id={v2.id}&amp;date=" in mine
    calendar = client.get("/practicals/calendar", params={
        "course_id": v2.id, "date": session.starts_at.date().isoformat()}).text
    assert f"/practicals/sessions/{session.id}" in calendar

    # The API lists it under either version's id; the session page lets the learner book.
    auth = f.token(client, first.id_number)
    for course_id in (v1.id, v2.id):
        listed = client.get("/api/v1/practical-sessions", params={"course_id": course_id},
                            headers=auth).json()
        assert [s["id"] for s in listed["items"]] == [session.id], course_id
    page = client.get(f"/practicals/sessions/{session.id}").text
    assert 'id="eligibility"' not in page
    assert f'action="/practicals/sessions/{session.id}/book"' in page

    # Booking by the API, the waitlist, and eligibility by the course's theory exam.
    url = f"/api/v1/practical-sessions/{session.id}/bookings"
    seat = client.post(url, json={"worker_id": first.id}, headers=auth)
    assert seat.status_code == 201 and seat.json()["status"] == "booked"
    boss = f.token(client, "boss")
    waiting = client.post(url, json={"worker_id": second.id}, headers=boss)
    assert waiting.status_code == 201 and waiting.json()["status"] == "waitlisted"
    refused = client.post(url, json={"worker_id": not_yet.id}, headers=boss)
    assert refused.status_code == 409 and refused.json()["code"] == "not_eligible"
    assert client.delete(f"/api/v1/bookings/{seat.json()['id']}",
                         headers=auth).status_code == 204
    booking_id = waiting.json()["id"]
    assert client.get(f"/api/v1/practical-sessions/{session.id}", headers=boss).json()[
        "bookings"][-1] == {"id": booking_id, "worker_id": second.id, "status": "booked"}

    # The result, from the start on, issues version 2's certificate.
    clock.at(session.starts_at + timedelta(hours=1))
    done = client.post(f"/api/v1/bookings/{booking_id}/result",
                       json={"passed": True, "score": 90, "notes": ""},
                       headers=f.token(client, "examiner1"))
    assert done.status_code == 200 and done.json()["status"] == "passed"
    issued = db.scalars(select(Certificate).where(Certificate.worker_id == second.id)).all()
    assert [(c.course_id, c.course_code, c.title["en"]) for c in issued] == [
        (v2.id, "TEST-GAS", "Gas inspection certificate, version 2")]
    assert db.scalars(select(Certificate).where(Certificate.worker_id == first.id)).all() == []


def test_the_enrolled_version_decides_the_certificate(db, versions):
    v1, v2 = versions["v1"], versions["v2"]
    worker = versions["learner"]()
    assert service.enrolled_version(db=db, worker_id=worker.id, course_id=v1.id) == v2.id
    assert service.enrolled_version(db=db, worker_id=worker.id, course_id=v2.id) == v2.id
    stranger = f.worker(db, f.enterprise(db))
    assert service.enrolled_version(db=db, worker_id=stranger.id, course_id=v1.id) == v1.id
