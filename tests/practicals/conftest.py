from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from app.accounts.models import Role
from app.courses import service as courses
from app.courses.package import load_package
from app.db import utcnow
from app.exams.models import Attempt, Exam
from app.learning import service as learning
from app.practicals import examiner_pages, pages, service
from tests import factories as f
from tests import packages


class Clock:
    """A fixed clock for the practicals code (service and pages): `at(moment)` stops it there;
    until then it reads the real time."""

    def __init__(self) -> None:
        self.moment: datetime | None = None

    def at(self, moment: datetime) -> datetime:
        self.moment = moment
        return moment

    def now(self) -> datetime:
        return self.moment or utcnow()


@pytest.fixture
def clock(monkeypatch):
    """The practicals' clock, fixed by the test (`clock.at(...)`)."""
    fixed = Clock()
    for module in (service, examiner_pages, pages):
        monkeypatch.setattr(module, "utcnow", fixed.now)
    return fixed


def pass_theory(db, exam, worker, enrolment, *, days_ago: int = 1):
    """A passed theory attempt, submitted `days_ago` days ago."""
    when = utcnow() - timedelta(days=days_ago)
    db.add(Attempt(exam_id=exam.id, worker_id=worker.id, enrolment_id=enrolment.id, number=1,
                   status="submitted", started_at=when - timedelta(minutes=30), deadline=when,
                   submitted_at=when, closed_by="taker", score=100.0, passed=True, paper=[]))
    db.flush()


@pytest.fixture
def practical(db, tmp_path):
    """A published course with an exam, a practical-test base in Taiyuan, an examiner, a
    session tomorrow with `capacity` seats, and a factory of eligible workers."""
    outcome = courses.import_package(db=db, package=load_package(
        packages.write_package(tmp_path / "mini")), by=None)
    course = courses.get_course_or_404(db=db, course_id=outcome.course_id)
    exam = db.scalar(select(Exam).where(Exam.course_id == course.id))
    admin = f.user(db, Role.ADMIN, username="root")
    examiner = f.user(db, Role.EXAMINER, username="examiner1")
    centre = service.create_test_centre(db=db, name="Taiyuan test base", region_code="1401",
                                        address="1 Mine Road", kinds=["practical_test"],
                                        by=admin, stations=["Gas detector bench"])
    ent = f.enterprise(db)

    def make_session(capacity: int = 2, hours_ahead: int = 48, length: int = 3):
        start = utcnow().replace(microsecond=0) + timedelta(hours=hours_ahead)
        return service.create_sessions(db=db, centre=centre, course=course, starts_at=start,
                                       ends_at=start + timedelta(hours=length),
                                       capacity=capacity, examiner_id=examiner.id, by=admin)[0]

    def eligible_worker(*, passed: bool = True, days_ago: int = 1, enterprise=None):
        worker = f.worker(db, enterprise or ent)
        enrolment = learning.enrol(db=db, course=course, workers=[worker], by=admin)[0]
        if passed:
            pass_theory(db, exam, worker, enrolment, days_ago=days_ago)
        return worker

    db.commit()
    return {"course": course, "exam": exam, "admin": admin, "examiner": examiner,
            "centre": centre, "enterprise": ent, "make_session": make_session,
            "worker": eligible_worker}
