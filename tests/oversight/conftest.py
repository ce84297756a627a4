"""Builders for compliance tests: courses, ledger days, enrolments, attempts, results and
certificates written straight into the tables (the rules under test only read them)."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.orm import Session

from app.certificates.models import Certificate, CertificateEvent
from app.courses.models import Course
from app.exams.models import Attempt, Exam
from app.i18n import LOCAL_TZ
from app.learning.models import Enrolment, LedgerEntry
from app.organisations.models import Worker

_seq = itertools.count(1)


def course(db: Session, *, job_category: str = "general.underground") -> tuple[Course, Exam]:
    n = next(_seq)
    item = Course(code=f"T-{n}", version=1, status="published", title={"en": f"Course {n}"},
                  job_category=job_category, kind="general", credit_hours=20,
                  required_minutes=60)
    db.add(item)
    db.flush()
    exam = Exam(course_id=item.id, bank=f"T-{n}", title={"en": "Exam"}, duration_minutes=120,
                pass_mark=80, max_attempts=2, blueprint=[])
    db.add(exam)
    db.flush()
    return item, exam


def study(db: Session, worker: Worker, day: date, seconds: int, *, mode: str = "online",
          course_id: int | None = None) -> None:
    db.add(LedgerEntry(worker_id=worker.id, day=day, course_id=course_id, mode=mode,
                       seconds=seconds))
    db.flush()


def enrol(db: Session, worker: Worker, course_id: int, *, deadline: date | None,
          status: str = "active") -> Enrolment:
    item = Enrolment(course_id=course_id, worker_id=worker.id, status=status, deadline=deadline)
    db.add(item)
    db.flush()
    return item


def at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=LOCAL_TZ).astimezone(UTC)


def attempt(db: Session, worker: Worker, exam: Exam, enrolment: Enrolment, day: date, *,
            passed: bool) -> Attempt:
    moment = at(day)
    item = Attempt(exam_id=exam.id, worker_id=worker.id, enrolment_id=enrolment.id, number=1,
                   status="submitted", started_at=moment, deadline=moment + timedelta(hours=2),
                   submitted_at=moment + timedelta(minutes=30), score=90 if passed else 50,
                   passed=passed, paper=[])
    db.add(item)
    db.flush()
    return item


def certificate(db: Session, worker: Worker, course: Course, *, issued: date, expires: date,
                review: date | None = None, status: str = "valid",
                job_category: str | None = None) -> Certificate:
    n = next(_seq)
    item = Certificate(number=f"T{n:08d}", worker_id=worker.id, course_id=course.id,
                       course_code=course.code, title={"en": "Cert"},
                       job_category=job_category or worker.job_category, issued_on=issued,
                       expires_on=expires, review_due_on=review, status=status,
                       status_index=100000 + n, issuer="Test")
    db.add(item)
    db.flush()
    return item


def event(db: Session, cert: Certificate, kind: str, day: date) -> None:
    db.add(CertificateEvent(certificate_id=cert.id, kind=kind, at=at(day)))
    db.flush()
