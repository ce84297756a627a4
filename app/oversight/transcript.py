"""The worker transcript: one worker's whole training record in one answer (issue 10.1).

Profile, every enrolment, every theory attempt, practical bookings and results, certificates
with their history, and class hours per year against the rule profile. Read with a fixed
number of statements whatever the size of the record (one per section, set-based), so the
page, the JSON, the PDF and the workbook cost the same for a new hire and a veteran.

Who sees it is decided by the organisations jurisdiction (organisations.deps.visible_worker,
the same check as GET /api/v1/workers/{id}/certificates). What they see differs in one field
only: the ID number is whole for the worker itself and platform admins, masked for everyone
else (docs/transcript.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import extract, func, select
from sqlalchemy.orm import Session

from app.accounts.models import Role, User
from app.certificates import service as certificates
from app.certificates.models import CertificateEvent
from app.courses.models import Course
from app.db import utcnow
from app.exams.models import Attempt, Exam
from app.i18n import LOCAL_TZ, N_, get_locale
from app.i18n import gettext as _
from app.learning import profiles
from app.learning.models import Enrolment, LedgerEntry, StudyMode
from app.learning.service import local_day
from app.organisations import reference, validators
from app.organisations.models import Worker
from app.practicals.models import Booking, PracticalSession, TestCentre

# How a year's requirement is chosen: the year the worker was hired owes the initial training
# hours, each later year the annual refresher hours; a year before the hire owes nothing.
REQUIREMENT_LABELS = {
    "initial": N_("Initial training"),
    "annual": N_("Annual refresher"),
    "none": N_("Not yet hired"),
}
# The labels of every code the transcript shows (the page, the PDF and the workbook translate
# them at the point of use; the JSON keeps the codes).
ENROLMENT_LABELS = {
    "active": N_("Active"),
    "completed": N_("Completed"),
    "withdrawn": N_("Withdrawn"),
    "retraining": N_("Retraining"),
}
ATTEMPT_LABELS = {
    "in_progress": N_("In progress"),
    "passed": N_("Passed"),
    "failed": N_("Failed"),
}
BOOKING_LABELS = {
    "booked": N_("Seat booked"),
    "waitlisted": N_("On the waitlist"),
    "cancelled": N_("Cancelled"),
    "passed": N_("Passed"),
    "failed": N_("Failed"),
}
ATTENDANCE_LABELS = {
    "present": N_("Present"),
    "absent": N_("Absent"),
    "no_show": N_("No-show"),
}
CERTIFICATE_LABELS = {
    "valid": N_("Valid"),
    "expired": N_("Expired"),
    "suspended": N_("Suspended"),
    "revoked": N_("Revoked"),
}
EVENT_LABELS = {
    "issued": N_("Issued"),
    "suspended": N_("Suspended"),
    "reinstated": N_("Reinstated"),
    "revoked": N_("Revoked"),
    "expired": N_("Expired"),
    "reminder": N_("Reminder sent"),
    "review_enrolment": N_("Enrolled for the review"),
    "reviewed": N_("Reviewed"),
}

PLATFORM_NAME = N_("Pithead mine safety training platform")


def label(labels: Mapping[str, str], code: str | None) -> str:
    """A code's label in the current language (the code itself when it has none)."""
    if code is None:
        return ""
    return _(labels[code]) if code in labels else code


def category_name(code: str) -> str:
    """A job category's name in the current language."""
    for row in reference.job_categories():
        if row["code"] == code:
            chinese = get_locale() == "zh_CN" and row.get("zh")
            return str(row["zh"] if chinese else row["en"])
    return code


def region_name(code: str) -> str:
    """A region's name in the current language, with its code."""
    row = reference.region(code)
    if row is None:
        return code
    name = row.get("zh") if get_locale() == "zh_CN" and row.get("zh") else row.get("en")
    return f"{name} ({code})"


def local_time(value: datetime | None) -> str:
    """A timestamp as YYYY-MM-DD HH:MM in China Standard Time ('' for None)."""
    return value.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M") if value else ""


def day(value: date | None) -> str:
    """A date as YYYY-MM-DD ('' for None)."""
    return value.isoformat() if value else ""


@dataclass(frozen=True)
class WorkerLine:
    id: int
    full_name: str
    id_number: str
    id_number_masked: bool
    enterprise_id: int
    enterprise_name: str
    region_code: str
    job_category: str
    phone: str
    hired_on: date
    education_level: str | None


@dataclass(frozen=True)
class EnrolmentLine:
    id: int
    course_id: int
    course_code: str
    course_title: dict[str, str]
    version: int
    status: str
    enrolled_at: datetime
    deadline: date | None
    completed_at: datetime | None
    credited_minutes: float
    required_minutes: int
    credit_hours: float
    lessons_completed: int
    lessons_total: int


@dataclass(frozen=True)
class AttemptLine:
    id: int
    exam_id: int
    course_id: int
    course_code: str
    course_title: dict[str, str]
    version: int
    number: int
    status: str
    started_at: datetime
    submitted_at: datetime | None
    score: float | None
    pass_mark: int
    passed: bool | None


    @property
    def outcome(self) -> str:
        """in_progress, passed or failed (a key of ATTEMPT_LABELS)."""
        if self.passed is None:
            return "in_progress"
        return "passed" if self.passed else "failed"


@dataclass(frozen=True)
class PracticalLine:
    id: int
    session_id: int
    course_id: int
    course_code: str
    course_title: dict[str, str]
    version: int
    test_centre: str
    starts_at: datetime
    status: str
    attendance: str | None
    score: float | None
    result_at: datetime | None


@dataclass(frozen=True)
class CertificateEventLine:
    at: datetime
    kind: str
    reason: str


@dataclass(frozen=True)
class CertificateLine:
    number: str
    course_id: int
    course_code: str
    title: dict[str, str]
    job_category: str
    issued_on: date
    expires_on: date
    review_due_on: date | None
    status: str  # as a verifier is told: valid, expired, suspended, revoked
    status_reason: str
    issuer: str
    history: list[CertificateEventLine] = field(default_factory=list)


@dataclass(frozen=True)
class HoursLine:
    year: int
    requirement: str  # "initial", "annual" or "none"
    required_hours: float
    credited_hours: float
    online_seconds: int
    offline_seconds: int

    @property
    def met(self) -> bool:
        """Whether the year's credited hours reach its requirement."""
        return self.credited_hours >= self.required_hours


@dataclass(frozen=True)
class Transcript:
    worker: WorkerLine
    enrolments: list[EnrolmentLine]
    attempts: list[AttemptLine]
    practicals: list[PracticalLine]
    certificates: list[CertificateLine]
    hours: list[HoursLine]
    generated_at: datetime


def shows_full_id_number(*, viewer: User, worker: Worker) -> bool:
    """The worker itself and platform admins see the ID number whole; enterprise admins and
    regulators see it masked (a transcript is printed and passed on; the birth date in the
    middle of the number is not needed to identify the record)."""
    return worker.user_id == viewer.id or viewer.has_role(Role.ADMIN)


def _worker_line(worker: Worker, viewer: User) -> WorkerLine:
    whole = shows_full_id_number(viewer=viewer, worker=worker)
    return WorkerLine(
        id=worker.id, full_name=worker.full_name,
        id_number=worker.id_number if whole else validators.mask_id_number(worker.id_number),
        id_number_masked=not whole, enterprise_id=worker.enterprise_id,
        enterprise_name=worker.enterprise.name, region_code=worker.enterprise.region_code,
        job_category=worker.job_category, phone=worker.phone, hired_on=worker.hired_on,
        education_level=worker.education_level)


def _enrolments(db: Session, worker_id: int) -> list[EnrolmentLine]:
    rows = db.execute(
        select(Enrolment, Course.code, Course.title, Course.version, Course.required_minutes,
               Course.credit_hours)
        .join(Course, Course.id == Enrolment.course_id)
        .where(Enrolment.worker_id == worker_id)
        .order_by(Enrolment.enrolled_at.desc(), Enrolment.id.desc())).all()
    return [EnrolmentLine(
        id=e.id, course_id=e.course_id, course_code=code, course_title=title, version=version,
        status=e.status, enrolled_at=e.enrolled_at, deadline=e.deadline,
        completed_at=e.completed_at, credited_minutes=round(e.credited_seconds / 60, 1),
        required_minutes=required, credit_hours=credit, lessons_completed=e.lessons_completed,
        lessons_total=e.lessons_total)
        for e, code, title, version, required, credit in rows]


def _attempts(db: Session, worker_id: int) -> list[AttemptLine]:
    # Columns, not the entity: an attempt's paper (every question drawn) is not needed here.
    rows = db.execute(
        select(Attempt.id, Attempt.exam_id, Exam.course_id, Course.code.label("course_code"),
               Course.title.label("course_title"), Course.version, Attempt.number,
               Attempt.status, Attempt.started_at, Attempt.submitted_at, Attempt.score,
               Exam.pass_mark, Attempt.passed)
        .join(Exam, Exam.id == Attempt.exam_id)
        .join(Course, Course.id == Exam.course_id)
        .where(Attempt.worker_id == worker_id)
        .order_by(Attempt.started_at.desc(), Attempt.id.desc())).all()
    return [AttemptLine(**row._mapping) for row in rows]


def _practicals(db: Session, worker_id: int) -> list[PracticalLine]:
    rows = db.execute(
        select(Booking.id, Booking.session_id, PracticalSession.course_id,
               Course.code.label("course_code"), Course.title.label("course_title"),
               Course.version, TestCentre.name.label("test_centre"), PracticalSession.starts_at,
               Booking.status, Booking.attendance, Booking.score, Booking.result_at)
        .join(PracticalSession, PracticalSession.id == Booking.session_id)
        .join(TestCentre, TestCentre.id == PracticalSession.test_centre_id)
        .join(Course, Course.id == PracticalSession.course_id)
        .where(Booking.worker_id == worker_id)
        .order_by(PracticalSession.starts_at.desc(), Booking.id.desc())).all()
    return [PracticalLine(**row._mapping) for row in rows]


def _certificates(db: Session, worker_id: int, today: date) -> list[CertificateLine]:
    items = certificates.certificates_of(db=db, worker_id=worker_id)
    # Every certificate's history in one statement (the service reads one certificate's).
    events: dict[int, list[CertificateEventLine]] = {c.id: [] for c in items}
    for event in db.scalars(select(CertificateEvent)
                            .where(CertificateEvent.certificate_id.in_(list(events)))
                            .order_by(CertificateEvent.at, CertificateEvent.id)):
        events[event.certificate_id].append(
            CertificateEventLine(at=event.at, kind=event.kind, reason=event.reason))
    return [CertificateLine(
        number=c.number, course_id=c.course_id, course_code=c.course_code, title=c.title,
        job_category=c.job_category, issued_on=c.issued_on, expires_on=c.expires_on,
        review_due_on=c.review_due_on, status=certificates.status_of(c, today),
        status_reason=c.status_reason, issuer=c.issuer, history=events[c.id])
        for c in items]


def requirement_of(*, year: int, hired_on: date) -> str:
    """Which requirement a calendar year owes: initial (the hire year), annual, or none."""
    if year < hired_on.year:
        return "none"
    return "initial" if year == hired_on.year else "annual"


def _hours(db: Session, worker: Worker, this_year: int) -> list[HoursLine]:
    """Class hours per calendar year at the profile's rates, as learning.service.hours_summary
    counts one year, for every year from the first ledger entry (or the year records of the
    worker begin) to this year, in one GROUP BY."""
    profile = profiles.cached_profile(db=db)
    year_of = extract("year", LedgerEntry.day)
    seconds: dict[int, dict[str, int]] = {}
    for year, mode, total in db.execute(
            select(year_of, LedgerEntry.mode, func.coalesce(func.sum(LedgerEntry.seconds), 0))
            .where(LedgerEntry.worker_id == worker.id)
            .group_by(year_of, LedgerEntry.mode)):
        seconds.setdefault(int(year), {})[mode] = int(total)
    # Records begin when the worker was hired, or put on the roster if hired before the
    # platform knew it (so a veteran's transcript does not list decades of empty years); a
    # ledger entry earlier than that still opens the list.
    records_begin = max(worker.hired_on.year, worker.created_at.year)
    first = min([records_begin, *seconds])
    required = profiles.required_hours(profile, worker.job_category)
    online_rate = profiles.class_hour_seconds(profile, "online")
    offline_rate = profiles.class_hour_seconds(profile, "offline")
    lines = []
    for year in range(first, max(this_year, *seconds, first) + 1):
        online = seconds.get(year, {}).get(StudyMode.ONLINE.value, 0)
        offline = seconds.get(year, {}).get(StudyMode.OFFLINE.value, 0)
        requirement = requirement_of(year=year, hired_on=worker.hired_on)
        lines.append(HoursLine(
            year=year, requirement=requirement,
            required_hours=required[requirement] if requirement != "none" else 0.0,
            credited_hours=round(online / online_rate + offline / offline_rate, 2),
            online_seconds=online, offline_seconds=offline))
    return lines


def build(*, db: Session, worker: Worker, viewer: User) -> Transcript:
    """The transcript of `worker` (its enterprise loaded) as `viewer` may read it; the caller
    has already checked jurisdiction (organisations.deps.visible_worker)."""
    now = utcnow()
    today = local_day(now)
    return Transcript(
        worker=_worker_line(worker, viewer), enrolments=_enrolments(db, worker.id),
        attempts=_attempts(db, worker.id), practicals=_practicals(db, worker.id),
        certificates=_certificates(db, worker.id, today),
        hours=_hours(db, worker, today.year), generated_at=now)

