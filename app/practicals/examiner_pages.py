"""HTML routes of the examiner at the test base (phone-first): their sessions, a session's
roster with attendance buttons, and the scoring form of one booking (the course's checklist
grouped by station, scored item by item) that records the result.

Only a session's examiner marks attendance and records results; admins may look, read-only.
Everyone else is refused: 403 for roles without examining, 404 for other examiners."""

from __future__ import annotations

from typing import Annotated, Any

from babel import Locale
from babel.dates import format_time
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.accounts.api import client_ip
from app.accounts.deps import page_guard, require
from app.accounts.models import Role, User
from app.db import SessionDep, utcnow
from app.errors import Conflict, Forbidden, Invalid, NotFound
from app.i18n import LOCAL_TZ, N_, format_datetime, get_locale, localized
from app.i18n import gettext as _
from app.organisations.models import Enterprise, Worker
from app.organisations.validators import mask_id_number
from app.practicals import service
from app.practicals.models import Attendance, Booking, BookingStatus, PracticalSession
from app.web import flash, form_errors, is_htmx, redirect, render

router = APIRouter(dependencies=[Depends(page_guard)], include_in_schema=False)
ExaminerUser = Annotated[User, Depends(require(Role.EXAMINER, Role.ADMIN))]

ATTENDANCE_LABELS = {Attendance.PRESENT.value: N_("Present"),
                     Attendance.ABSENT.value: N_("Absent"),
                     Attendance.NO_SHOW.value: N_("No-show")}
STATUS_LABELS = {BookingStatus.BOOKED.value: N_("Awaiting result"),
                 BookingStatus.PASSED.value: N_("Passed"),
                 BookingStatus.FAILED.value: N_("Failed"),
                 BookingStatus.WAITLISTED.value: N_("On the waitlist"),
                 BookingStatus.CANCELLED.value: N_("Cancelled")}


# --- access -------------------------------------------------------------------------------------

def _visible_session(db: SessionDep, session_id: int, user: User) -> PracticalSession:
    session = service.get_session_or_404(db=db, session_id=session_id)
    if session.examiner_id != user.id and not user.has_role(Role.ADMIN):
        raise NotFound(_("No such practical session."))
    return session


def _visible_booking(db: SessionDep, booking_id: int, user: User) -> Booking:
    booking = service.get_booking_or_404(db=db, booking_id=booking_id)
    if booking.session.examiner_id != user.id and not user.has_role(Role.ADMIN):
        raise NotFound(_("No such booking."))
    return booking


def _examined_booking(db: SessionDep, booking_id: int, user: User) -> Booking:
    """A booking of one of the user's own sessions (admins see others' but may not act)."""
    booking = _visible_booking(db, booking_id, user)
    if booking.session.examiner_id != user.id:
        raise Forbidden(_("Only the session's examiner records attendance and results."))
    return booking


# --- view helpers -------------------------------------------------------------------------------

def _number(value: float | int | None) -> str:
    return "" if value is None else f"{value:g}"


def _stations(checklist: list[dict[str, Any]], values: dict[int, Any] | None = None,
              errors: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Checklist items grouped by station (in order of first appearance), each item with its
    index in the checklist (the form field awarded_<index>), the value to show and its error.
    A stored checklist carries `awarded`; a form being filled gets `values`."""
    groups: dict[str, dict[str, Any]] = {}
    for index, item in enumerate(checklist):
        name = localized(item.get("station"))
        group = groups.setdefault(name, {"name": name, "items": [], "points": 0, "awarded": 0})
        value = values.get(index, "") if values is not None else item.get("awarded")
        group["items"].append({"index": index, "name": localized(item.get("item")),
                               "points": int(item["points"]), "value": value,
                               "error": (errors or {}).get(f"awarded_{index}")})
        group["points"] += int(item["points"])
        if isinstance(item.get("awarded"), int | float):
            group["awarded"] += item["awarded"]
    return list(groups.values())


def _span(session: PracticalSession) -> str:
    """When a session runs, in the reader's language and Beijing time: "3/6/26, 09:00–12:00"."""
    starts = format_datetime(session.starts_at, fmt="short")
    same_day = session.starts_at.astimezone(LOCAL_TZ).date() == \
        session.ends_at.astimezone(LOCAL_TZ).date()
    ends = format_time(session.ends_at, format="short", tzinfo=LOCAL_TZ,
                       locale=Locale.parse(get_locale())) if same_day else \
        format_datetime(session.ends_at, fmt="short")
    return f"{starts}–{ends}"


def _base_context(session: PracticalSession, user: User) -> dict[str, Any]:
    now = utcnow()
    attendance_from, results_from = (service.attendance_opens_at(session),
                                     service.results_open_at(session))
    return {"session": session, "t": localized, "can_edit": session.examiner_id == user.id,
            "span": _span, "attendance_open": now >= attendance_from,
            "results_open": now >= results_from, "attendance_opens_at": attendance_from,
            "results_open_at": results_from,
            "attendance_labels": ATTENDANCE_LABELS, "status_labels": STATUS_LABELS,
            "mask_id": mask_id_number, "number": _number,
            "cancelled": session.status == "cancelled"}


def _examiner_names(db: SessionDep, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = db.execute(select(User.id, User.full_name, User.username).where(User.id.in_(ids)))
    return {uid: name or username for uid, name, username in rows}


# --- the examiner's sessions --------------------------------------------------------------------

@router.get("/examiner", name="examiner_home")
def examiner_home(request: Request, db: SessionDep, user: ExaminerUser) -> Response:
    """The sessions this examiner runs, upcoming first, then past ones (latest first); admins
    see every examiner's sessions."""
    everyone = user.has_role(Role.ADMIN) and not user.has_role(Role.EXAMINER)
    rows = service.examiner_sessions(db=db, user=user, everyone=everyone)
    now = utcnow()
    upcoming = [r for r in rows if r[0].ends_at > now]
    past = [r for r in rows if r[0].ends_at <= now][::-1]
    names = _examiner_names(db, {r[0].examiner_id for r in rows}) if everyone else {}
    return render(request, "practicals/examiner/sessions.html", {
        "upcoming": upcoming, "past": past, "everyone": everyone, "examiners": names,
        "t": localized, "span": _span})


@router.get("/examiner/sessions/{session_id}", name="examiner_session")
def examiner_session(request: Request, db: SessionDep, user: ExaminerUser,
                     session_id: int) -> Response:
    """A session's roster: each booked worker with attendance buttons and the result."""
    session = _visible_session(db, session_id, user)
    roster = service.roster_of(db=db, session_id=session.id)
    return render(request, "practicals/examiner/session.html", {
        **_base_context(session, user), "roster": roster,
        "waitlisted": service.waitlisted_count(db=db, session_id=session.id),
        "recorded": sum(1 for b in roster if b.status in service.RESULT_STATUSES),
        "examiner_name": _examiner_names(db, {session.examiner_id}).get(session.examiner_id)})


@router.post("/examiner/bookings/{booking_id}/attendance", name="examiner_attendance")
async def examiner_attendance(request: Request, db: SessionDep, user: ExaminerUser,
                              booking_id: int) -> Response:
    """Mark a worker present, absent or no-show (htmx swaps the worker's card; without
    JavaScript the roster is shown again)."""
    booking = _examined_booking(db, booking_id, user)
    form = await request.form()
    attendance = str(form.get("attendance", ""))
    problem = None
    try:
        service.mark_attendance(db=db, booking=booking, attendance=attendance, by=user,
                                ip=client_ip(request))
    except Conflict as exc:
        problem = exc.message
    if is_htmx(request):
        session = booking.session
        booking = db.scalars(select(Booking).where(Booking.id == booking.id).options(
            joinedload(Booking.worker).joinedload(Worker.enterprise))
            .execution_options(populate_existing=True)).one()
        return render(request, "practicals/examiner/_roster_entry.html", {
            **_base_context(session, user), "booking": booking, "problem": problem})
    if problem:
        flash(request, problem, "error")
    else:
        flash(request, _("{name}: {attendance}.").format(
            name=booking.worker.full_name, attendance=_(ATTENDANCE_LABELS[attendance])))
    url = request.url_for("examiner_session", session_id=booking.session_id).path
    return redirect(f"{url}#booking-{booking.id}")


def _scoring_page(request: Request, db: SessionDep, booking: Booking, user: User, *,
                  values: dict[str, Any] | None = None, errors: dict[str, str] | None = None,
                  preview: dict[str, Any] | None = None, problem: str | None = None,
                  status_code: int = 200) -> Response:
    session = booking.session
    checklist, pass_mark = service.practical_spec(session.course)
    values = values or {}
    recorded = booking.status in service.RESULT_STATUSES
    if recorded:
        stations = _stations(booking.checklist or [])
    else:
        stations = _stations(checklist, {i: values.get(f"awarded_{i}", "")
                                         for i in range(len(checklist))}, errors)
    return render(request, "practicals/examiner/booking.html", {
        **_base_context(session, user), "booking": booking, "checklist": checklist,
        "pass_mark": pass_mark, "stations": stations, "values": values,
        "errors": errors or {}, "preview": preview, "problem": problem, "recorded": recorded,
        "max_total": sum(int(item["points"]) for item in checklist),
        "not_present": booking.attendance in service.NOT_PRESENT,
        "enterprise_name": db.scalar(select(Enterprise.name).where(
            Enterprise.id == booking.worker.enterprise_id)),
        "recorder_name": _examiner_names(db, {booking.result_by}).get(booking.result_by or 0, "")
        if booking.result_by else ""},
        status_code=status_code)


@router.get("/examiner/bookings/{booking_id}", name="examiner_booking")
def examiner_booking(request: Request, db: SessionDep, user: ExaminerUser,
                     booking_id: int) -> Response:
    """The scoring form of one booking, or its recorded result."""
    booking = _visible_booking(db, booking_id, user)
    return _scoring_page(request, db, booking, user)


def _optional_float(value: str) -> float | None:
    try:
        return float(value.replace(",", ".")) if value.strip() else None
    except ValueError:
        return None


@router.post("/examiner/bookings/{booking_id}/result", name="examiner_result")
async def examiner_result(request: Request, db: SessionDep, user: ExaminerUser,
                          booking_id: int) -> Response:
    """Score the checklist: `action=preview` shows the total and verdict without saving;
    otherwise the result is recorded (audited, the worker told)."""
    booking = _examined_booking(db, booking_id, user)
    form = await request.form()
    if utcnow() < service.results_open_at(booking.session):
        return _scoring_page(request, db, booking, user, status_code=409, problem=_(
            "The session has not started yet: results can be recorded from its start on."))
    checklist, pass_mark = service.practical_spec(booking.session.course)
    values = {key: str(form.get(key, "")) for key in
              [f"awarded_{i}" for i in range(len(checklist))] + ["score", "passed", "notes"]}
    awarded = [values[f"awarded_{i}"] for i in range(len(checklist))]
    if form.get("action") == "preview" and checklist:
        try:
            _scored, total, passed = service.score_checklist(
                checklist=checklist, pass_mark=pass_mark, awarded=awarded)
        except Invalid as exc:
            return _scoring_page(request, db, booking, user, values=values,
                                 errors=form_errors(exc.errors), status_code=400)
        return _scoring_page(request, db, booking, user, values=values,
                             preview={"total": total, "passed": passed})
    passed_value = {"yes": True, "no": False}.get(values["passed"])
    if len(values["notes"]) > 2000:
        return _scoring_page(request, db, booking, user, values=values, status_code=400,
                             errors={"notes": _("The notes are too long (at most 2000 "
                                                "characters).")})
    try:
        service.record_examined_result(
            db=db, booking=booking, by=user, notes=values["notes"], awarded=awarded,
            score=_optional_float(values["score"]), passed=passed_value,
            ip=client_ip(request))
    except Invalid as exc:
        return _scoring_page(request, db, booking, user, values=values,
                             errors=form_errors(exc.errors), status_code=400)
    except Conflict as exc:
        return _scoring_page(request, db, booking, user, values=values, problem=exc.message,
                             status_code=409)
    flash(request, _("Result recorded for {name}.").format(name=booking.worker.full_name))
    return redirect(request.url_for("examiner_booking", booking_id=booking.id).path)
