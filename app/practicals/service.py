"""Business rules of practical tests: training bases, sessions (weekly series), booking under
contention with waitlists, cancellation with promotion, examiner results, notifications."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session, joinedload

from app.accounts import service as accounts
from app.accounts.models import Role, User
from app.certificates import service as certificates
from app.config import get_settings
from app.courses.models import Course, CourseStatus
from app.db import utcnow
from app.errors import Conflict, Forbidden, Invalid, NotFound
from app.exams import service as exams
from app.exams.models import Attempt
from app.i18n import gettext as _
from app.learning import profiles
from app.learning.models import Enrolment, EnrolmentStatus
from app.organisations import service as organisations
from app.organisations.models import Worker
from app.practicals.models import (
    ACTIVE_BOOKING,
    Attendance,
    BaseKind,
    Booking,
    BookingStatus,
    Notification,
    PracticalSession,
    SessionStatus,
    TestCentre,
)

DEFAULT_CANCEL_GUARD_HOURS = 24
Locked = TypeVar("Locked", PracticalSession, Booking)


def _in(db: Session, model: type[Locked], key: int) -> Locked:
    """The row as an object of this session (callers may hand in objects of another)."""
    obj = db.get(model, key)
    if obj is None:
        raise NotFound(_("Not found."))
    return obj


def _lock(db: Session, obj: Locked, *columns: str) -> Locked:
    """Lock `obj`'s row (SELECT ... FOR UPDATE) and re-read the columns a decision depends
    on; loaded relationships stay as they are."""
    db.refresh(obj, attribute_names=list(columns), with_for_update=True)
    return obj
DEFAULT_THEORY_VALID_MONTHS = 12


# --- training bases -------------------------------------------------------------------------

def create_test_centre(*, db: Session, name: str, region_code: str, address: str,
                       kinds: Sequence[str], by: User, stations: Sequence[str] = (),
                       contact: str = "", ip: str | None = None) -> TestCentre:
    """Register a training base (admin)."""
    errors = []
    if not name.strip():
        errors.append({"loc": ["name"], "msg": _("Enter the base's name.")})
    unknown = sorted(set(kinds) - {k.value for k in BaseKind})
    if unknown or not kinds:
        errors.append({"loc": ["kinds"], "msg": _(
            "Choose what the base does: practical_test, skills_training, warning_education.")})
    try:
        region = organisations.clean_region_code(db=db, value=region_code)
    except Invalid as exc:
        errors.extend(exc.errors)
        region = None
    if region is None and not any(e["loc"] == ["region_code"] for e in errors):
        errors.append({"loc": ["region_code"], "msg": _("Choose a region.")})
    if errors:
        raise Invalid(errors=errors)
    centre = TestCentre(name=name.strip(), region_code=region or "", address=address.strip(),
                        kinds=sorted(set(kinds)), stations=[s.strip() for s in stations
                                                            if s.strip()],
                        contact=contact.strip())
    db.add(centre)
    db.flush()
    accounts.record_audit(db=db, action="test_centre.created", actor=by,
                          object_type="test_centre", object_id=centre.id,
                          region_code=centre.region_code, ip=ip, detail={"name": centre.name})
    return centre


def get_test_centre_or_404(*, db: Session, centre_id: int) -> TestCentre:
    """A training base or NotFound."""
    centre = db.get(TestCentre, centre_id)
    if centre is None:
        raise NotFound(_("No such training base."))
    return centre


def list_test_centres(*, db: Session, region: str = "", kind: str = "") -> list[TestCentre]:
    """Training bases, optionally within a region (prefix) and of a kind."""
    stmt = select(TestCentre)
    if region:
        stmt = stmt.where(TestCentre.region_code.startswith(region, autoescape=True))
    centres = list(db.scalars(stmt.order_by(TestCentre.region_code, TestCentre.name)))
    return [c for c in centres if not kind or kind in (c.kinds or [])]


# --- sessions ---------------------------------------------------------------------------------

def create_sessions(*, db: Session, centre: TestCentre, course: Course, starts_at: datetime,
                    ends_at: datetime, capacity: int, examiner_id: int, by: User,
                    weeks: int = 1, ip: str | None = None) -> list[PracticalSession]:
    """Schedule a session, or a weekly series of `weeks` sessions at the same time."""
    errors = []
    if ends_at <= starts_at:
        errors.append({"loc": ["ends_at"], "msg": _("The session must end after it starts.")})
    if starts_at <= utcnow():
        errors.append({"loc": ["starts_at"], "msg": _("The session must start in the future.")})
    if not 1 <= capacity <= 500:
        errors.append({"loc": ["capacity"], "msg": _("Capacity is between 1 and 500 seats.")})
    if not 1 <= weeks <= 52:
        errors.append({"loc": ["weeks"], "msg": _("A series has 1 to 52 weekly sessions.")})
    examiner = accounts.get_user(db=db, user_id=examiner_id)
    if examiner is None or not examiner.is_active or not examiner.has_role(Role.EXAMINER):
        errors.append({"loc": ["examiner_id"], "msg": _("Choose an active examiner.")})
    if course.status != CourseStatus.PUBLISHED.value:
        errors.append({"loc": ["course_id"], "msg": _("Choose a published course.")})
    if BaseKind.PRACTICAL_TEST.value not in (centre.kinds or []):
        errors.append({"loc": ["test_centre_id"], "msg": _(
            "This base does not hold practical tests.")})
    if errors:
        raise Invalid(errors=errors)
    series = secrets.token_hex(8) if weeks > 1 else None
    sessions = [PracticalSession(test_centre_id=centre.id, course_id=course.id,
                                 starts_at=starts_at + timedelta(weeks=n),
                                 ends_at=ends_at + timedelta(weeks=n), capacity=capacity,
                                 examiner_id=examiner_id, series_id=series, created_by=by.id)
                for n in range(weeks)]
    db.add_all(sessions)
    db.flush()
    accounts.record_audit(db=db, action="practical_session.created", actor=by,
                          object_type="practical_session", object_id=sessions[0].id, ip=ip,
                          region_code=centre.region_code,
                          detail={"course": course.code, "sessions": len(sessions),
                                  "capacity": capacity})
    return sessions


def get_session_or_404(*, db: Session, session_id: int) -> PracticalSession:
    """A session with its base and course."""
    session = db.scalar(select(PracticalSession).where(PracticalSession.id == session_id)
                        .options(joinedload(PracticalSession.test_centre),
                                 joinedload(PracticalSession.course)))
    if session is None:
        raise NotFound(_("No such practical session."))
    return session


def list_sessions(*, db: Session, course_id: int | None = None, region: str = "",
                  start: datetime | None = None, end: datetime | None = None,
                  include_cancelled: bool = False) -> list[PracticalSession]:
    """Sessions by time, filtered by course, region of the base and a time range. A session
    belongs to its course, not to one version: `course_id` names any version of the course
    and matches the sessions of all its versions."""
    stmt = select(PracticalSession).join(TestCentre).options(
        joinedload(PracticalSession.test_centre), joinedload(PracticalSession.course))
    if course_id:
        code = select(Course.code).where(Course.id == course_id).scalar_subquery()
        stmt = stmt.join(Course, Course.id == PracticalSession.course_id).where(
            Course.code == code)
    if region:
        stmt = stmt.where(TestCentre.region_code.startswith(region, autoescape=True))
    if start:
        stmt = stmt.where(PracticalSession.ends_at > start)
    if end:
        stmt = stmt.where(PracticalSession.starts_at < end)
    if not include_cancelled:
        stmt = stmt.where(PracticalSession.status == SessionStatus.SCHEDULED.value)
    return list(db.scalars(stmt.order_by(PracticalSession.starts_at, PracticalSession.id)))


def bookings_of(*, db: Session, session_id: int) -> list[Booking]:
    """A session's bookings with their workers, seats first, then the waitlist in order."""
    return list(db.scalars(select(Booking).where(Booking.session_id == session_id)
                           .options(joinedload(Booking.worker))
                           .order_by(Booking.created_at, Booking.id)))


# --- booking ----------------------------------------------------------------------------------

def _guard_hours(db: Session) -> int:
    data = profiles.active_profile(db=db).data
    return int(data.get("practical", {}).get("cancel_guard_hours", DEFAULT_CANCEL_GUARD_HOURS))


def _theory_months(db: Session) -> int:
    data = profiles.active_profile(db=db).data
    exam = data.get("special_operations", {}).get("exam", {})
    return int(exam.get("theory_pass_valid_months", DEFAULT_THEORY_VALID_MONTHS))


def can_book_for(user: User, worker: Worker) -> bool:
    """The worker itself, its enterprise's administrators and admins may book for it."""
    return user.has_role(Role.ADMIN) or worker.user_id == user.id or (
        user.has_role(Role.ENTERPRISE_ADMIN) and user.enterprise_id == worker.enterprise_id)


def eligibility_problem(*, db: Session, session: PracticalSession, worker: Worker,
                        now: datetime) -> tuple[str, str] | None:
    """Why the worker may not book this session: (code, message), or None."""
    code = db.scalar(select(Course.code).where(Course.id == session.course_id)) or ""
    enrolled = db.scalar(select(Enrolment.id).join(Course).where(
        Enrolment.worker_id == worker.id, Course.code == code,
        Enrolment.status != EnrolmentStatus.WITHDRAWN.value).limit(1))
    if enrolled is None:
        return "not_eligible", _("The worker is not enrolled in this course.")
    months = _theory_months(db)
    passed = exams.latest_pass(db=db, worker_id=worker.id, course_code=code,
                               since=profiles.theory_pass_valid_since(db=db, now=now))
    if passed is None:
        return "not_eligible", _("The worker has no passed theory exam for this course in the "
                                 "last {n} months.").format(n=months)
    earlier = db.scalar(select(Booking.status).join(PracticalSession).join(Course).where(
        Booking.worker_id == worker.id, Course.code == code,
        Booking.status.in_([*ACTIVE_BOOKING, BookingStatus.PASSED.value]),
        or_(Booking.status == BookingStatus.PASSED.value,
            PracticalSession.ends_at > now)).limit(1))
    if earlier == BookingStatus.PASSED.value:
        return "already_passed", _("The worker has already passed this practical test.")
    if earlier is not None:
        return "already_booked", _("The worker already holds a booking for this test.")
    return None


def _overlapping(db: Session, worker: Worker, session: PracticalSession) -> bool:
    return (db.scalar(select(func.count()).select_from(Booking).join(PracticalSession).where(
        Booking.worker_id == worker.id, Booking.status.in_(ACTIVE_BOOKING),
        PracticalSession.status == SessionStatus.SCHEDULED.value,
        PracticalSession.starts_at < session.ends_at,
        PracticalSession.ends_at > session.starts_at)) or 0) > 0


def book(*, db: Session, session: PracticalSession, worker: Worker, by: User,
         now: datetime | None = None, ip: str | None = None) -> Booking:
    """A seat if one is free, else a place on the waitlist in arrival order.

    The worker's row and then the session's row are locked, so two bookings never take the
    same last seat and one worker never holds two overlapping sessions, on PostgreSQL as on
    SQLite (where BEGIN IMMEDIATE serialises writers anyway). What depends only on the worker
    (eligibility) is read under the worker's lock, before the session's: every booking of the
    session waits for that one, so it is held for the seat decision and the writes only. The
    time, unless given, is read once the session is locked, so created_at (the order of the
    waitlist) is the order in which the seats were decided."""
    if not can_book_for(by, worker):
        raise NotFound(_("No such worker."))
    db.execute(select(Worker.id).where(Worker.id == worker.id).with_for_update())
    problem = eligibility_problem(db=db, session=session, worker=worker, now=now or utcnow())
    locked = _lock(db, _in(db, PracticalSession, session.id), "status", "starts_at", "ends_at",
                   "capacity", "booked_count")
    now = now or utcnow()
    if locked.status != SessionStatus.SCHEDULED.value:
        raise Conflict(_("This session was cancelled."), code="session_cancelled")
    if locked.starts_at <= now:
        raise Conflict(_("This session has already started."), code="session_started")
    if problem is not None:
        raise Conflict(problem[1], code=problem[0])
    if _overlapping(db, worker, locked):
        raise Conflict(_("The worker already holds a session at that time."),
                       code="overlapping_booking")
    seat = locked.booked_count < locked.capacity
    booking = Booking(session_id=locked.id, worker_id=worker.id, booked_by=by.id,
                      created_at=now,
                      status=BookingStatus.BOOKED.value if seat else
                      BookingStatus.WAITLISTED.value)
    if seat:
        locked.booked_count += 1
    db.add(booking)
    db.flush()
    notify(db=db, user_id=worker.user_id, kind="booked" if seat else "waitlisted",
           params={"session_id": locked.id, "starts_at": locked.starts_at.isoformat()},
           link=f"/practicals/sessions/{locked.id}")
    accounts.record_audit(db=db, action="booking.created", actor=by, object_type="booking",
                          object_id=booking.id, enterprise_id=worker.enterprise_id, ip=ip,
                          detail={"session_id": locked.id, "worker_id": worker.id,
                                  "status": booking.status})
    return booking


def get_booking_or_404(*, db: Session, booking_id: int) -> Booking:
    """A booking with its session (and base and course) and worker."""
    booking = db.scalar(select(Booking).where(Booking.id == booking_id)
                        .options(joinedload(Booking.worker),
                                 joinedload(Booking.session).joinedload(
                                     PracticalSession.test_centre),
                                 joinedload(Booking.session).joinedload(PracticalSession.course)))
    if booking is None:
        raise NotFound(_("No such booking."))
    return booking


def _promote_first(db: Session, session: PracticalSession, now: datetime) -> Booking | None:
    first = db.scalar(select(Booking).where(
        Booking.session_id == session.id, Booking.status == BookingStatus.WAITLISTED.value)
        .order_by(Booking.created_at, Booking.id).limit(1).with_for_update())
    if first is None:
        return None
    first.status = BookingStatus.BOOKED.value
    first.promoted_at = now
    session.booked_count += 1
    user_id = db.scalar(select(Worker.user_id).where(Worker.id == first.worker_id))
    assert user_id is not None
    notify(db=db, user_id=user_id, kind="promoted",
           params={"session_id": session.id, "starts_at": session.starts_at.isoformat()},
           link=f"/practicals/sessions/{session.id}")
    return first


def cancel_booking(*, db: Session, booking: Booking, by: User, now: datetime | None = None,
                   ip: str | None = None) -> Booking | None:
    """Cancel a seat or a waitlist place; a freed seat goes to the first on the waitlist
    (returned). Seats can be given up until the guard time before the start (24 h)."""
    now = now or utcnow()
    session = _lock(db, _in(db, PracticalSession, booking.session_id), "status", "starts_at",
                    "booked_count")
    row = _lock(db, _in(db, Booking, booking.id), "status", "cancelled_at")
    if row.status not in ACTIVE_BOOKING:
        raise Conflict(_("This booking is not active."), code="booking_not_active")
    guard = _guard_hours(db)
    if row.status == BookingStatus.BOOKED.value and now > session.starts_at - timedelta(
            hours=guard):
        raise Conflict(_("Seats can only be cancelled until {hours} hours before the start.")
                       .format(hours=guard), code="too_late_to_cancel")
    if row.status == BookingStatus.WAITLISTED.value and now >= session.starts_at:
        raise Conflict(_("This session has already started."), code="session_started")
    had_seat = row.status == BookingStatus.BOOKED.value
    row.status = BookingStatus.CANCELLED.value
    row.cancelled_at = now
    promoted = None
    if had_seat:
        session.booked_count -= 1
        promoted = _promote_first(db, session, now)
    db.flush()
    accounts.record_audit(db=db, action="booking.cancelled", actor=by, object_type="booking",
                          object_id=row.id, ip=ip,
                          detail={"session_id": session.id, "promoted": promoted.id
                                  if promoted else None})
    return promoted


def cancel_session(*, db: Session, session: PracticalSession, reason: str, by: User,
                   ip: str | None = None) -> int:
    """Cancel a session: every booked or waitlisted worker is told and freed."""
    locked = _lock(db, _in(db, PracticalSession, session.id), "status", "booked_count")
    if locked.status == SessionStatus.CANCELLED.value:
        return 0
    locked.status = SessionStatus.CANCELLED.value
    active = list(db.scalars(select(Booking).where(
        Booking.session_id == locked.id, Booking.status.in_(ACTIVE_BOOKING))
        .options(joinedload(Booking.worker))))
    now = utcnow()
    for booking in active:
        booking.status = BookingStatus.CANCELLED.value
        booking.cancelled_at = now
        notify(db=db, user_id=booking.worker.user_id, kind="session_cancelled",
               params={"session_id": locked.id, "starts_at": locked.starts_at.isoformat(),
                       "reason": reason}, link=f"/practicals/sessions/{locked.id}")
    locked.booked_count = 0
    db.flush()
    accounts.record_audit(db=db, action="practical_session.cancelled", actor=by,
                          object_type="practical_session", object_id=locked.id, ip=ip,
                          detail={"reason": reason, "freed": len(active)})
    return len(active)


def change_session(*, db: Session, session: PracticalSession, starts_at: datetime,
                   ends_at: datetime, by: User, ip: str | None = None) -> None:
    """Move a session; everyone booked or waitlisted is told."""
    if ends_at <= starts_at or starts_at <= utcnow():
        raise Invalid(errors=[{"loc": ["starts_at"], "msg": _(
            "The session must start in the future and end after it starts.")}])
    session.starts_at, session.ends_at = starts_at, ends_at
    for booking in db.scalars(select(Booking).where(
            Booking.session_id == session.id, Booking.status.in_(ACTIVE_BOOKING))
            .options(joinedload(Booking.worker))):
        notify(db=db, user_id=booking.worker.user_id, kind="session_changed",
               params={"session_id": session.id, "starts_at": starts_at.isoformat()},
               link=f"/practicals/sessions/{session.id}")
    db.flush()
    accounts.record_audit(db=db, action="practical_session.changed", actor=by,
                          object_type="practical_session", object_id=session.id, ip=ip,
                          detail={"starts_at": starts_at.isoformat()})


# --- the examiner ---------------------------------------------------------------------------

def attendance_opens_at(session: PracticalSession) -> datetime:
    """From when the examiner may mark attendance: a set time before the start
    (PITHEAD_ATTENDANCE_OPENS_MINUTES, default 60)."""
    return session.starts_at - timedelta(minutes=get_settings().attendance_opens_minutes)


def results_open_at(session: PracticalSession) -> datetime:
    """From when results may be recorded: the session's start (never before it)."""
    return session.starts_at


def _check_results_open(session: PracticalSession, now: datetime) -> None:
    if now < results_open_at(session):
        raise Conflict(_("The session has not started yet: results can be recorded from its "
                         "start on."), code="session_not_started")


def _check_examiner(booking: Booking, by: User) -> None:
    if booking.session.examiner_id != by.id:
        raise Forbidden(_("Only the session's examiner records results."))


def record_result(*, db: Session, booking: Booking, passed: bool, score: float, notes: str,
                  by: User, checklist: list[dict[str, Any]] | None = None,
                  now: datetime | None = None, ip: str | None = None) -> Booking:
    """The examiner's result for a booked seat, at any time from the session's start on
    (409 session_not_started before it); audited, and the worker is told. A pass issues the
    certificate of the course version the worker is enrolled in."""
    _check_examiner(booking, by)
    worker_user_id, enterprise_id = booking.worker.user_id, booking.worker.enterprise_id
    session = _in(db, PracticalSession, booking.session_id)
    now = now or utcnow()
    _check_results_open(session, now)
    row = _lock(db, _in(db, Booking, booking.id), "status", "attendance")
    if row.status != BookingStatus.BOOKED.value:
        raise Conflict(_("A result can only be recorded for a booked seat."),
                       code="booking_not_booked")
    if row.attendance in (Attendance.ABSENT.value, Attendance.NO_SHOW.value):
        raise Conflict(_("The worker was marked absent or as a no-show: there is no result to "
                         "record. Correct the attendance first if they did take the test."),
                       code="worker_not_present")
    if not 0 <= score <= 100:
        raise Invalid(errors=[{"loc": ["score"], "msg": _("The score is between 0 and 100.")}])
    row.status = BookingStatus.PASSED.value if passed else BookingStatus.FAILED.value
    row.score = score
    row.notes = notes.strip()
    row.checklist = checklist or []
    row.attendance = row.attendance or Attendance.PRESENT.value
    row.result_by = by.id
    row.result_at = now
    db.flush()
    accounts.record_audit(db=db, action="practical.result_recorded", actor=by,
                          object_type="booking", object_id=row.id,
                          enterprise_id=enterprise_id, ip=ip,
                          detail={"worker_id": row.worker_id, "passed": passed,
                                  "score": score, "session_id": row.session_id})
    if passed:
        certificates.issue_if_complete(
            db=db, worker_id=row.worker_id,
            course_id=enrolled_version(db=db, worker_id=row.worker_id,
                                       course_id=session.course_id),
            source={"booking_id": row.id}, by=by)
    notify(db=db, user_id=worker_user_id,
           kind="result_passed" if passed else "result_failed",
           params={"session_id": row.session_id, "score": score},
           link=f"/practicals/sessions/{row.session_id}")
    return row


def enrolled_version(*, db: Session, worker_id: int, course_id: int) -> int:
    """The version of course `course_id`'s code that the worker is enrolled in (running or
    completed first, then the newest enrolment that is not withdrawn); `course_id` itself when
    there is none. Sessions serve every version of a course, so a session scheduled under
    version 1 certifies a worker on version 2 with version 2's certificate."""
    code = select(Course.code).where(Course.id == course_id).scalar_subquery()
    current = (EnrolmentStatus.ACTIVE.value, EnrolmentStatus.COMPLETED.value)
    rows = db.execute(select(Enrolment.course_id, Enrolment.status).join(
        Course, Course.id == Enrolment.course_id).where(
        Enrolment.worker_id == worker_id, Course.code == code,
        Enrolment.status != EnrolmentStatus.WITHDRAWN.value).order_by(Enrolment.id.desc()))
    found = [(enrolled, status in current) for enrolled, status in rows]
    for enrolled, is_current in found:
        if is_current:
            return int(enrolled)
    return int(found[0][0]) if found else course_id


# --- notifications ------------------------------------------------------------------------------

def notify(*, db: Session, user_id: int, kind: str, params: dict[str, Any], link: str = "") -> None:
    """Leave an in-app message for a user."""
    db.add(Notification(user_id=user_id, kind=kind, params=params, link=link))


def notifications_for(*, db: Session, user: User, limit: int = 50) -> list[Notification]:
    """A user's latest messages, newest first."""
    return list(db.scalars(select(Notification).where(Notification.user_id == user.id)
                           .order_by(Notification.id.desc()).limit(limit)))


def unread_count(*, db: Session, user: User) -> int:
    """How many messages the user has not read."""
    return db.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None))) or 0


def mark_read(*, db: Session, user: User) -> None:
    """Mark all of a user's messages read."""
    db.execute(update(Notification).where(Notification.user_id == user.id,
                                          Notification.read_at.is_(None))
               .values(read_at=utcnow()))


# --- the examiner's workflow (app/practicals/examiner_pages.py) ---------------------------------

RESULT_STATUSES = (BookingStatus.PASSED.value, BookingStatus.FAILED.value)
# The roster: every seat that is or was held to the end (cancelled seats and the waitlist are not).
ROSTER_STATUSES = (BookingStatus.BOOKED.value, *RESULT_STATUSES)
NOT_PRESENT = (Attendance.ABSENT.value, Attendance.NO_SHOW.value)


def examiner_sessions(*, db: Session, user: User, everyone: bool = False
                      ) -> list[tuple[PracticalSession, int, int]]:
    """The sessions `user` examines (everybody's when `everyone`: admins), cancelled ones
    included, by start time; each with its seats on the roster and the results recorded."""
    stmt = select(PracticalSession).options(joinedload(PracticalSession.test_centre),
                                            joinedload(PracticalSession.course))
    counts = select(Booking.session_id, Booking.status, func.count()).join(
        PracticalSession).where(Booking.status.in_(ROSTER_STATUSES))
    if not everyone:
        stmt = stmt.where(PracticalSession.examiner_id == user.id)
        counts = counts.where(PracticalSession.examiner_id == user.id)
    seats: dict[int, int] = {}
    recorded: dict[int, int] = {}
    for session_id, status, n in db.execute(counts.group_by(Booking.session_id,
                                                              Booking.status)):
        seats[session_id] = seats.get(session_id, 0) + n
        if status in RESULT_STATUSES:
            recorded[session_id] = recorded.get(session_id, 0) + n
    return [(s, seats.get(s.id, 0), recorded.get(s.id, 0)) for s in db.scalars(
        stmt.order_by(PracticalSession.starts_at, PracticalSession.id))]


def roster_of(*, db: Session, session_id: int) -> list[Booking]:
    """The workers holding a seat in a session (awaiting a result or with one), with their
    enterprises, by name."""
    return list(db.scalars(select(Booking).join(Worker, Booking.worker_id == Worker.id).where(
        Booking.session_id == session_id, Booking.status.in_(ROSTER_STATUSES))
        .options(joinedload(Booking.worker).joinedload(Worker.enterprise))
        .order_by(Worker.full_name, Booking.id)))


def waitlisted_count(*, db: Session, session_id: int) -> int:
    """How many wait for a seat in a session."""
    return db.scalar(select(func.count()).select_from(Booking).where(
        Booking.session_id == session_id,
        Booking.status == BookingStatus.WAITLISTED.value)) or 0


def mark_attendance(*, db: Session, booking: Booking, attendance: str, by: User,
                    now: datetime | None = None, ip: str | None = None) -> Booking:
    """The session's examiner marks a booked seat present, absent (excused) or no-show, from
    a set time before the start on (409 attendance_not_open before); it may be corrected
    until a result is recorded. Audited."""
    _check_examiner(booking, by)
    if attendance not in {a.value for a in Attendance}:
        raise Invalid(errors=[{"loc": ["attendance"], "msg": _("Choose present, absent or "
                                                               "no-show.")}])
    session = _in(db, PracticalSession, booking.session_id)
    if (now or utcnow()) < attendance_opens_at(session):
        raise Conflict(_("Attendance can be marked from {minutes} minutes before the session "
                         "starts.").format(minutes=get_settings().attendance_opens_minutes),
                       code="attendance_not_open")
    row = _lock(db, _in(db, Booking, booking.id), "status", "attendance")
    if row.status != BookingStatus.BOOKED.value:
        raise Conflict(_("Attendance can only be marked for a booked seat that has no result "
                         "yet."), code="booking_not_booked")
    before = row.attendance
    row.attendance = attendance
    db.flush()
    accounts.record_audit(db=db, action="practical.attendance_recorded", actor=by,
                          object_type="booking", object_id=row.id,
                          enterprise_id=booking.worker.enterprise_id, ip=ip,
                          detail={"worker_id": row.worker_id, "session_id": row.session_id,
                                  "attendance": attendance, "before": before})
    return row


def practical_spec(course: Course) -> tuple[list[dict[str, Any]], int | None]:
    """The course's practical checklist (from its package's `practical` block; empty without
    one) and its pass mark."""
    spec = course.practical or {}
    mark = spec.get("pass_mark")
    return list(spec.get("checklist") or []), None if mark is None else int(mark)


def _whole_number(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    text = str(value or "").strip()
    if not text:
        return None
    try:
        number = float(text.replace(",", "."))
    except ValueError:
        return None
    return int(number) if number.is_integer() else None


def score_checklist(*, checklist: Sequence[dict[str, Any]], pass_mark: int | None,
                    awarded: Sequence[object]) -> tuple[list[dict[str, Any]], int, bool]:
    """Points awarded item by item (whole numbers from 0 to the item's points) -> the
    checklist as stored with the result ([{station, item, points, awarded}]), the total and
    the verdict (total >= pass mark). Invalid names every item in error (loc awarded_<i>)."""
    if len(awarded) != len(checklist):
        raise Invalid(errors=[{"loc": ["checklist"], "msg": _(
            "Score every item of the checklist.")}])
    errors = []
    scored = []
    for index, (item, value) in enumerate(zip(checklist, awarded, strict=True)):
        points = int(item["points"])
        number = _whole_number(value)
        if number is None:
            errors.append({"loc": [f"awarded_{index}"], "msg": _(
                "Enter the points awarded as a whole number.")})
        elif not 0 <= number <= points:
            errors.append({"loc": [f"awarded_{index}"], "msg": _(
                "Award from 0 to {points} points.").format(points=points)})
        else:
            scored.append({"station": item["station"], "item": item["item"],
                           "points": points, "awarded": number})
    if errors:
        raise Invalid(errors=errors)
    total = sum(entry["awarded"] for entry in scored)
    return scored, total, total >= (pass_mark if pass_mark is not None else 0)


def record_examined_result(*, db: Session, booking: Booking, by: User, notes: str = "",
                           awarded: Sequence[object] | None = None,
                           score: float | None = None, passed: bool | None = None,
                           now: datetime | None = None, ip: str | None = None) -> Booking:
    """The result from the examiner's scoring form. With the course's checklist the points
    awarded per item make the score (their total) and the verdict (total >= pass mark);
    without one the examiner enters both. An absent or no-show seat gets no result. Recorded
    by record_result (audited, the worker told); never before the session starts."""
    _check_examiner(booking, by)
    now = now or utcnow()
    _check_results_open(_in(db, PracticalSession, booking.session_id), now)
    row = _lock(db, _in(db, Booking, booking.id), "status", "attendance")
    if row.status != BookingStatus.BOOKED.value:
        raise Conflict(_("A result can only be recorded for a booked seat."),
                       code="booking_not_booked")
    if row.attendance in NOT_PRESENT:
        raise Conflict(_("The worker was not at the test (absent or no-show), so there is no "
                         "result to record. If that is wrong, correct the attendance first."),
                       code="not_present")
    checklist, pass_mark = practical_spec(booking.session.course)
    if checklist:
        scored, total, verdict = score_checklist(checklist=checklist, pass_mark=pass_mark,
                                                 awarded=awarded or [])
        return record_result(db=db, booking=booking, passed=verdict, score=float(total),
                             notes=notes, by=by, checklist=scored, now=now, ip=ip)
    errors = []
    if score is None or not 0 <= score <= 100:
        errors.append({"loc": ["score"], "msg": _("The score is between 0 and 100.")})
    if passed is None:
        errors.append({"loc": ["passed"], "msg": _("Choose passed or failed.")})
    if errors:
        raise Invalid(errors=errors)
    assert score is not None and passed is not None
    return record_result(db=db, booking=booking, passed=passed, score=score, notes=notes,
                         by=by, now=now, ip=ip)


# --- pages: bases, a worker's own tests, calendar feeds (app/practicals/pages.py) ------------

def _centre_problems(db: Session, name: str, region_code: str,
                     kinds: Sequence[str]) -> tuple[list[dict[str, Any]], str | None]:
    errors: list[dict[str, Any]] = []
    if not name.strip():
        errors.append({"loc": ["name"], "msg": _("Enter the base's name.")})
    if not kinds or set(kinds) - {k.value for k in BaseKind}:
        errors.append({"loc": ["kinds"], "msg": _("Choose what the base does.")})
    region = None
    try:
        region = organisations.clean_region_code(db=db, value=region_code)
    except Invalid as exc:
        errors.extend(exc.errors)
    if region is None and not any(e["loc"] == ["region_code"] for e in errors):
        errors.append({"loc": ["region_code"], "msg": _("Choose a region.")})
    return errors, region


def update_test_centre(*, db: Session, centre: TestCentre, name: str, region_code: str,
                       address: str, kinds: Sequence[str], stations: Sequence[str],
                       contact: str, by: User, ip: str | None = None) -> TestCentre:
    """Change a training base's details (admin); audited."""
    errors, region = _centre_problems(db, name, region_code, kinds)
    if errors:
        raise Invalid(errors=errors)
    centre.name, centre.region_code = name.strip(), region or ""
    centre.address, centre.contact = address.strip(), contact.strip()
    centre.kinds = sorted(set(kinds))
    centre.stations = [s.strip() for s in stations if s.strip()]
    db.flush()
    accounts.record_audit(db=db, action="test_centre.changed", actor=by,
                          object_type="test_centre", object_id=centre.id,
                          region_code=centre.region_code, ip=ip, detail={"name": centre.name})
    return centre


def cancel_guard_hours(*, db: Session) -> int:
    """Hours before the start until which a seat may be given up (rule profile; default 24)."""
    return _guard_hours(db)


def theory_valid_months(*, db: Session) -> int:
    """How long a passed theory exam makes a worker eligible for the practical test."""
    return _theory_months(db)


def theory_pass(*, db: Session, worker: Worker, course_code: str,
                now: datetime) -> Attempt | None:
    """The worker's latest passed theory attempt that still counts for the practical test."""
    months = _theory_months(db)
    return exams.latest_pass(db=db, worker_id=worker.id, course_code=course_code,
                             since=now - timedelta(days=round(months * 30.44)))


def _booking_with_session() -> Any:
    return (joinedload(Booking.session).joinedload(PracticalSession.test_centre),
            joinedload(Booking.session).joinedload(PracticalSession.course))


def bookings_of_worker(*, db: Session, worker: Worker) -> list[Booking]:
    """Every booking of a worker with its session, base and course, by start time."""
    return list(db.scalars(select(Booking).join(PracticalSession)
                           .where(Booking.worker_id == worker.id)
                           .options(*_booking_with_session())
                           .order_by(PracticalSession.starts_at, Booking.id)))


def calendar_bookings(*, db: Session, worker: Worker) -> list[Booking]:
    """What a worker's calendar feed lists: seats, waitlist places and results, plus places
    freed because the session itself was cancelled (so calendar apps show it cancelled)."""
    return [b for b in bookings_of_worker(db=db, worker=worker)
            if b.status != BookingStatus.CANCELLED.value
            or b.session.status == SessionStatus.CANCELLED.value]


def waitlist_positions(bookings: Sequence[Booking]) -> dict[int, int]:
    """Place on the waitlist (1 = next to get a seat) by booking id, from a session's
    bookings in arrival order (bookings_of)."""
    waiting = [b for b in bookings if b.status == BookingStatus.WAITLISTED.value]
    return {b.id: n for n, b in enumerate(waiting, start=1)}


def waitlist_position(*, db: Session, booking: Booking) -> int:
    """A waitlisted booking's place (1 = next to get a seat); 0 when it is not waitlisted."""
    if booking.status != BookingStatus.WAITLISTED.value:
        return 0
    ahead = db.scalar(select(func.count()).select_from(Booking).where(
        Booking.session_id == booking.session_id,
        Booking.status == BookingStatus.WAITLISTED.value,
        or_(Booking.created_at < booking.created_at,
            (Booking.created_at == booking.created_at) & (Booking.id < booking.id)))) or 0
    return ahead + 1


def calendar_token(*, db: Session, worker: Worker) -> str:
    """The secret of the worker's calendar feed address, made on first use."""
    if worker.calendar_token:
        return worker.calendar_token
    return reset_calendar_token(db=db, worker=worker)


def reset_calendar_token(*, db: Session, worker: Worker) -> str:
    """A new feed address for the worker; the old one stops working."""
    token = secrets.token_urlsafe(24)
    # Core UPDATE keeps the profile's updated_at: a feed address is not a profile change.
    db.execute(update(Worker).where(Worker.id == worker.id)
               .values(calendar_token=token, updated_at=Worker.updated_at)
               .execution_options(synchronize_session=False))
    worker.calendar_token = token
    db.flush()
    return token


def worker_by_calendar_token(*, db: Session, token: str) -> Worker | None:
    """The worker whose calendar feed this secret opens, if any."""
    if not token or len(token) > 64:
        return None
    return db.scalar(select(Worker).where(Worker.calendar_token == token))


def staff_candidates(*, db: Session, session: PracticalSession, enterprise_id: int,
                     query: str = "", limit: int = 30) -> list[Worker]:
    """Staff of an enterprise to offer for a session: those enrolled in its course, or,
    with a search, anyone on the roster matching it (to show why they cannot be booked)."""
    if query.strip():
        found, _total = organisations.list_workers(db=db, enterprise_id=enterprise_id,
                                                   query=query, page_size=limit)
        return found
    code = select(Course.code).where(Course.id == session.course_id).scalar_subquery()
    enrolled = select(Enrolment.worker_id).join(Course).where(
        Course.code == code, Enrolment.status != EnrolmentStatus.WITHDRAWN.value)
    return list(db.scalars(select(Worker).where(Worker.enterprise_id == enterprise_id,
                                                Worker.id.in_(enrolled))
                           .order_by(Worker.full_name, Worker.id).limit(limit)))


def sessions_by_id(*, db: Session, session_ids: set[int]) -> dict[int, PracticalSession]:
    """Sessions with their bases and courses (one query), for wording notifications."""
    if not session_ids:
        return {}
    return {s.id: s for s in db.scalars(select(PracticalSession).where(
        PracticalSession.id.in_(session_ids)).options(
        joinedload(PracticalSession.test_centre), joinedload(PracticalSession.course)))}


def open_notification(*, db: Session, user: User, notification_id: int) -> Notification:
    """Mark one of the user's messages read (NotFound for anyone else's)."""
    item = db.get(Notification, notification_id)
    if item is None or item.user_id != user.id:
        raise NotFound(_("No such message."))
    if item.read_at is None:
        item.read_at = utcnow()
        db.flush()
    return item
