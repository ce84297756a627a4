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
from app.courses.models import Course, CourseStatus
from app.db import utcnow
from app.errors import Conflict, Forbidden, Invalid, NotFound
from app.exams import service as exams
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
    """Sessions by time, filtered by course, region of the base and a time range."""
    stmt = select(PracticalSession).join(TestCentre).options(
        joinedload(PracticalSession.test_centre), joinedload(PracticalSession.course))
    if course_id:
        stmt = stmt.where(PracticalSession.course_id == course_id)
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
    code = db.scalar(select(Course.code).where(Course.id == session.course_id))
    enrolled = db.scalar(select(Enrolment.id).join(Course).where(
        Enrolment.worker_id == worker.id, Course.code == code,
        Enrolment.status != EnrolmentStatus.WITHDRAWN.value).limit(1))
    if enrolled is None:
        return "not_eligible", _("The worker is not enrolled in this course.")
    months = _theory_months(db)
    passed = exams.latest_pass(db=db, worker_id=worker.id, course_code=code,
                               since=now - timedelta(days=round(months * 30.44)))
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
    return db.scalar(select(func.count()).select_from(Booking).join(PracticalSession).where(
        Booking.worker_id == worker.id, Booking.status.in_(ACTIVE_BOOKING),
        PracticalSession.status == SessionStatus.SCHEDULED.value,
        PracticalSession.starts_at < session.ends_at,
        PracticalSession.ends_at > session.starts_at)) > 0


def book(*, db: Session, session: PracticalSession, worker: Worker, by: User,
         now: datetime | None = None, ip: str | None = None) -> Booking:
    """A seat if one is free, else a place on the waitlist in arrival order.

    The worker's row and then the session's row are locked, so two bookings never take the
    same last seat and one worker never holds two overlapping sessions, on PostgreSQL as on
    SQLite (where BEGIN IMMEDIATE serialises writers anyway)."""
    now = now or utcnow()
    if not can_book_for(by, worker):
        raise NotFound(_("No such worker."))
    db.execute(select(Worker.id).where(Worker.id == worker.id).with_for_update())
    locked = _lock(db, _in(db, PracticalSession, session.id), "status", "starts_at", "ends_at",
                   "capacity", "booked_count")
    if locked.status != SessionStatus.SCHEDULED.value:
        raise Conflict(_("This session was cancelled."), code="session_cancelled")
    if locked.starts_at <= now:
        raise Conflict(_("This session has already started."), code="session_started")
    problem = eligibility_problem(db=db, session=session, worker=worker, now=now)
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

def record_attendance(*, db: Session, booking: Booking, attendance: str, by: User) -> None:
    """Present, absent (excused) or no-show, by the session's examiner."""
    _check_examiner(booking, by)
    if attendance not in {a.value for a in Attendance}:
        raise Invalid(errors=[{"loc": ["attendance"], "msg": _("Choose present, absent or "
                                                               "no-show.")}])
    booking.attendance = attendance
    db.flush()


def _check_examiner(booking: Booking, by: User) -> None:
    if booking.session.examiner_id != by.id:
        raise Forbidden(_("Only the session's examiner records results."))


def record_result(*, db: Session, booking: Booking, passed: bool, score: float, notes: str,
                  by: User, checklist: list[dict[str, Any]] | None = None,
                  ip: str | None = None) -> Booking:
    """The examiner's result for a booked seat (whenever it is entered); audited, and the
    worker is told."""
    _check_examiner(booking, by)
    worker_user_id, enterprise_id = booking.worker.user_id, booking.worker.enterprise_id
    row = _lock(db, _in(db, Booking, booking.id), "status")
    if row.status != BookingStatus.BOOKED.value:
        raise Conflict(_("A result can only be recorded for a booked seat."),
                       code="booking_not_booked")
    if not 0 <= score <= 100:
        raise Invalid(errors=[{"loc": ["score"], "msg": _("The score is between 0 and 100.")}])
    row.status = BookingStatus.PASSED.value if passed else BookingStatus.FAILED.value
    row.score = score
    row.notes = notes.strip()
    row.checklist = checklist or []
    row.attendance = row.attendance or Attendance.PRESENT.value
    row.result_by = by.id
    row.result_at = utcnow()
    db.flush()
    accounts.record_audit(db=db, action="practical.result_recorded", actor=by,
                          object_type="booking", object_id=row.id,
                          enterprise_id=enterprise_id, ip=ip,
                          detail={"worker_id": row.worker_id, "passed": passed,
                                  "score": score, "session_id": row.session_id})
    notify(db=db, user_id=worker_user_id,
           kind="result_passed" if passed else "result_failed",
           params={"session_id": row.session_id, "score": score},
           link=f"/practicals/sessions/{row.session_id}")
    return row


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
