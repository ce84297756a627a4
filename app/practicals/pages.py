"""HTML routes of practical tests: the public directory of training bases (and their admin
pages), scheduling sessions and weekly series, a session's page (booking for oneself or for
one's staff, the waitlist, changing and cancelling), the calendar with its iCalendar feeds,
the worker's "My practical tests" and the in-app notifications."""

from __future__ import annotations

import calendar as monthcal
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from app.accounts import service as accounts
from app.accounts.api import client_ip
from app.accounts.deps import CurrentUser, OptionalUserDep, page_guard, require
from app.accounts.models import Role, User
from app.bounds import BadParameter, parse_int
from app.courses import service as courses
from app.courses.models import Course
from app.courses.pages import course_context
from app.db import SessionDep, utcnow
from app.errors import Conflict, Forbidden, Invalid, NotFound
from app.exams import service as exams
from app.i18n import LOCAL_TZ, N_, format_datetime, get_locale
from app.i18n import gettext as _
from app.learning import service as learning
from app.organisations import service as organisations
from app.organisations.models import Worker
from app.organisations.validators import mask_id_number
from app.practicals import calendar as ics
from app.practicals import service
from app.practicals.models import (
    BaseKind,
    BookingStatus,
    Notification,
    PracticalSession,
    SessionStatus,
    TestCentre,
)
from app.web import flash, form_errors, parse_iso_date, redirect, render, safe_next, templates

router = APIRouter(dependencies=[Depends(page_guard)], include_in_schema=False)
AdminUser = Annotated[User, Depends(require(Role.ADMIN))]
Scheduler = Annotated[User, Depends(require(Role.ADMIN, Role.EXAMINER))]
WorkerUser = Annotated[User, Depends(require(Role.WORKER))]

KIND_LABELS = {
    BaseKind.PRACTICAL_TEST.value: N_("Practical-operation test"),
    BaseKind.SKILLS_TRAINING.value: N_("Skills training"),
    BaseKind.WARNING_EDUCATION.value: N_("Warning education"),
}
BOOKING_LABELS = {
    BookingStatus.BOOKED.value: N_("Seat booked"),
    BookingStatus.WAITLISTED.value: N_("On the waitlist"),
    BookingStatus.CANCELLED.value: N_("Cancelled"),
    BookingStatus.PASSED.value: N_("Passed"),
    BookingStatus.FAILED.value: N_("Failed"),
}
UPCOMING_DAYS = 60
CALENDAR_MIME = "text/calendar; charset=utf-8"


# --- shared helpers ----------------------------------------------------------------------------

def local_hm(moment: datetime) -> str:
    """Hours and minutes on Beijing time."""
    return moment.astimezone(LOCAL_TZ).strftime("%H:%M")


def local_date(moment: datetime) -> date:
    """The calendar day on Beijing time."""
    return moment.astimezone(LOCAL_TZ).date()


def _to_utc(day: date, clock: time) -> datetime:
    return datetime.combine(day, clock, tzinfo=LOCAL_TZ).astimezone(UTC)


def _parse_clock(value: str) -> time | None:
    try:
        return time.fromisoformat(value.strip()) if value.strip() else None
    except ValueError:
        return None


def _context(**extra: Any) -> dict[str, Any]:
    return {**course_context(), "kind_labels_base": KIND_LABELS, "booking_labels": BOOKING_LABELS,
            "hm": local_hm, "local_date": local_date, "mask_id": mask_id_number, **extra}


def _region_choices(db: SessionDep, selected: str) -> tuple[list[Any], list[Any], dict[str, Any]]:
    """Provinces, the prefectures of the selected province, and every region by code."""
    regions = organisations.list_regions(db=db)
    provinces = [r for r in regions if len(r.code) == 2]
    prefectures = [r for r in regions if len(r.code) == 4 and selected
                   and r.code.startswith(selected[:2])]
    return provinces, prefectures, {r.code: r for r in regions}


def _region_name(regions: dict[str, Any], code: str, chinese: bool) -> str:
    names = []
    for size in (2, 4, 6):
        region = regions.get(code[:size]) if len(code) >= size else None
        if region is not None:
            names.append(region.name_zh if chinese else region.name_en)
    return (" " if chinese else ", ").join(names) if names else code


def unread_notifications(request: Request) -> int:
    """The nav's unread badge: one COUNT in the request's own transaction, only for pages
    that render the layout for a signed-in user (templates call it), once per request."""
    cached = getattr(request.state, "unread_notifications", None)
    if cached is not None:
        return int(cached)
    user = getattr(request.state, "user", None)
    db = getattr(request.state, "db", None)
    if user is None or db is None or not db.in_transaction():
        return 0  # error pages render after the request's transaction ended
    count = service.unread_count(db=db, user=user)
    request.state.unread_notifications = count
    return count


templates.env.globals["unread_notifications"] = unread_notifications


# --- training bases: the public directory and the admin pages ------------------------------

@router.get("/bases", name="bases_directory")
def directory(request: Request, db: SessionDep, user: OptionalUserDep, region: str = "",
              kind: str = "") -> Response:
    """Training bases by region (no sign-in needed), with their upcoming sessions."""
    region = region.strip() if region.strip().isdigit() else ""
    kind = kind if kind in KIND_LABELS else ""
    centres = service.list_test_centres(db=db, region=region, kind=kind)
    now = utcnow()
    upcoming: dict[int, list[PracticalSession]] = defaultdict(list)
    for item in service.list_sessions(db=db, region=region, start=now,
                                      end=now + timedelta(days=UPCOMING_DAYS)):
        upcoming[item.test_centre_id].append(item)
    provinces, prefectures, regions = _region_choices(db, region)
    chinese = get_locale() == "zh_CN"
    return render(request, "practicals/bases.html", _context(
        centres=centres, upcoming=upcoming, region=region, kind=kind, provinces=provinces,
        prefectures=prefectures, place={c.id: _region_name(regions, c.region_code, chinese)
                                        for c in centres}, days=UPCOMING_DAYS))


@router.get("/admin/bases", name="admin_bases")
def admin_bases(request: Request, db: SessionDep, user: AdminUser) -> Response:
    """Every training base, to edit or add one."""
    return render(request, "practicals/admin_bases.html", _context(
        centres=service.list_test_centres(db=db)))


def _base_form(request: Request, db: SessionDep, values: dict[str, Any], errors: dict[str, str],
               centre: TestCentre | None = None, status_code: int = 200) -> Response:
    regions = organisations.list_regions(db=db)
    return render(request, "practicals/base_form.html", _context(
        values=values, errors=errors, centre=centre, regions=regions), status_code=status_code)


def _base_values(form: FormData) -> dict[str, Any]:
    return {"name": str(form.get("name", "")), "region_code": str(form.get("region_code", "")),
            "address": str(form.get("address", "")), "contact": str(form.get("contact", "")),
            "stations": str(form.get("stations", "")),
            "kinds": [str(k) for k in form.getlist("kinds")]}


@router.get("/admin/bases/new", name="base_new")
def base_new(request: Request, db: SessionDep, user: AdminUser) -> Response:
    """The form for a new training base."""
    return _base_form(request, db, {"kinds": [BaseKind.PRACTICAL_TEST.value]}, {})


@router.post("/admin/bases/new", name="base_create")
async def base_create(request: Request, db: SessionDep, user: AdminUser) -> Response:
    """Register a training base."""
    values = _base_values(await request.form())
    try:
        centre = service.create_test_centre(
            db=db, name=values["name"], region_code=values["region_code"],
            address=values["address"], kinds=values["kinds"], by=user,
            stations=values["stations"].splitlines(), contact=values["contact"],
            ip=client_ip(request))
    except Invalid as exc:
        return _base_form(request, db, values, form_errors(exc.errors), status_code=400)
    flash(request, _("Training base {name} added.").format(name=centre.name))
    return redirect(request.url_for("admin_bases").path)


@router.get("/admin/bases/{centre_id}", name="base_edit")
def base_edit(request: Request, db: SessionDep, user: AdminUser, centre_id: int) -> Response:
    """The form to change a training base."""
    centre = service.get_test_centre_or_404(db=db, centre_id=centre_id)
    values = {"name": centre.name, "region_code": centre.region_code,
              "address": centre.address, "contact": centre.contact,
              "stations": "\n".join(centre.stations or []), "kinds": list(centre.kinds or [])}
    return _base_form(request, db, values, {}, centre=centre)


@router.post("/admin/bases/{centre_id}", name="base_update")
async def base_update(request: Request, db: SessionDep, user: AdminUser,
                      centre_id: int) -> Response:
    """Save a training base's details."""
    centre = service.get_test_centre_or_404(db=db, centre_id=centre_id)
    values = _base_values(await request.form())
    try:
        service.update_test_centre(
            db=db, centre=centre, name=values["name"], region_code=values["region_code"],
            address=values["address"], kinds=values["kinds"],
            stations=values["stations"].splitlines(), contact=values["contact"], by=user,
            ip=client_ip(request))
    except Invalid as exc:
        return _base_form(request, db, values, form_errors(exc.errors), centre=centre,
                          status_code=400)
    flash(request, _("Training base {name} saved.").format(name=centre.name))
    return redirect(request.url_for("admin_bases").path)


# --- scheduling ----------------------------------------------------------------------------

def _session_form(request: Request, db: SessionDep, user: User, values: dict[str, Any],
                  errors: dict[str, str], status_code: int = 200) -> Response:
    centres = service.list_test_centres(db=db, kind=BaseKind.PRACTICAL_TEST.value)
    published, _total = courses.list_courses(db=db, page_size=200)
    examiners, _count = accounts.list_users(db=db, role=Role.EXAMINER.value, page_size=200)
    return render(request, "practicals/session_form.html", _context(
        values=values, errors=errors, centres=centres,
        courses=sorted(published, key=lambda c: (not c.practical_required, c.code)),
        examiners=[e for e in examiners if e.is_active]), status_code=status_code)


@router.get("/practicals/sessions/new", name="session_new")
def session_new(request: Request, db: SessionDep, user: Scheduler, test_centre_id: int = 0,
                course_id: int = 0) -> Response:
    """The form to schedule a session or a weekly series."""
    start = local_date(utcnow()) + timedelta(days=7)
    return _session_form(request, db, user, {
        "test_centre_id": test_centre_id, "course_id": course_id, "day": start.isoformat(),
        "start_time": "09:00", "end_time": "12:00", "capacity": "10", "weeks": "1",
        "examiner_id": user.id if user.has_role(Role.EXAMINER) else ""}, {})


def _times(values: dict[str, Any], errors: dict[str, str]) -> tuple[datetime, datetime] | None:
    day = parse_iso_date(str(values.get("day", "")))
    start = _parse_clock(str(values.get("start_time", "")))
    end = _parse_clock(str(values.get("end_time", "")))
    if day is None:
        errors["day"] = _("Enter the date of the session.")
    if start is None:
        errors["start_time"] = _("Enter the start time, for example 09:00.")
    if end is None:
        errors["end_time"] = _("Enter the end time, for example 12:00.")
    if day is None or start is None or end is None:
        return None
    return _to_utc(day, start), _to_utc(day, end)


def _whole(value: Any, field: str, errors: dict[str, str]) -> int:
    try:
        return parse_int(str(value or ""), name=field, minimum=0) or 0
    except BadParameter:
        errors[field] = _("Enter a whole number.")
        return 0


@router.post("/practicals/sessions/new", name="session_create")
async def session_create(request: Request, db: SessionDep, user: Scheduler) -> Response:
    """Schedule the session (or the series) and open the first one."""
    form = await request.form()
    values = {key: str(form.get(key, "")) for key in (
        "test_centre_id", "course_id", "day", "start_time", "end_time", "capacity",
        "examiner_id", "weeks")}
    errors: dict[str, str] = {}
    times = _times(values, errors)
    capacity = _whole(values["capacity"], "capacity", errors)
    weeks = _whole(values["weeks"] or "1", "weeks", errors)
    examiner_id = _whole(values["examiner_id"], "examiner_id", errors)
    centre = course = None
    centre_id = _whole(values["test_centre_id"], "test_centre_id", {})
    if centre_id:
        centre = db.get(TestCentre, centre_id)
    if centre is None:
        errors["test_centre_id"] = _("Choose a training base.")
    course_id = _whole(values["course_id"], "course_id", {})
    if course_id:
        course = db.get(Course, course_id)
    if course is None:
        errors["course_id"] = _("Choose a course.")
    if not errors and centre is not None and course is not None and times is not None:
        try:
            sessions = service.create_sessions(
                db=db, centre=centre, course=course, starts_at=times[0], ends_at=times[1],
                capacity=capacity, examiner_id=examiner_id, by=user, weeks=weeks,
                ip=client_ip(request))
        except Invalid as exc:
            errors.update(form_errors(exc.errors))
        else:
            flash(request, _("{n} session(s) scheduled.").format(n=len(sessions)))
            return redirect(request.url_for("practical_session",
                                            session_id=sessions[0].id).path)
    return _session_form(request, db, user, values, errors, status_code=400)


# --- a session ---------------------------------------------------------------------------------

def _can_manage(user: User | None, session: PracticalSession) -> bool:
    return user is not None and (user.has_role(Role.ADMIN) or session.examiner_id == user.id)


def _session_event(session: PracticalSession, request: Request, *,
                   status: str | None = None, note: str = "") -> ics.Event:
    t = course_context()["t"]
    centre = session.test_centre
    cancelled = session.status == SessionStatus.CANCELLED.value
    description = "\n".join(line for line in (
        _("Practical test: {course}").format(course=t(session.course.title)),
        note, _("Contact: {contact}").format(contact=centre.contact) if centre.contact else "",
        str(request.url_for("practical_session", session_id=session.id))) if line)
    return ics.Event(
        uid=f"practical-session-{session.id}", start=session.starts_at, end=session.ends_at,
        summary=_("Practical test: {course}").format(course=t(session.course.title)),
        location=", ".join(part for part in (centre.name, centre.address) if part),
        description=description,
        url=str(request.url_for("practical_session", session_id=session.id)),
        status="CANCELLED" if cancelled else (status or "CONFIRMED"))


@router.get("/practicals/sessions/{session_id}.ics", name="session_ics")
def session_ics(request: Request, db: SessionDep, session_id: int) -> Response:
    """One session as an iCalendar file (public, like the session's time and place)."""
    session = service.get_session_or_404(db=db, session_id=session_id)
    body = ics.build([_session_event(session, request)], name=_("Practical test"),
                     now=utcnow())
    return Response(body, media_type=CALENDAR_MIME, headers={
        "Content-Disposition": f'attachment; filename="practical-session-{session.id}.ics"'})


@router.get("/practicals/sessions/{session_id}", name="practical_session")
def session_page(request: Request, db: SessionDep, user: OptionalUserDep, session_id: int,
                 q: str = "") -> Response:
    """A session: time, base, seats and waitlist; booking for oneself or one's staff; the
    full list for admins and the session's examiner."""
    session = service.get_session_or_404(db=db, session_id=session_id)
    bookings = service.bookings_of(db=db, session_id=session.id)
    positions = service.waitlist_positions(bookings)
    now = utcnow()
    guard = service.cancel_guard_hours(db=db)
    context = _context(
        session=session, positions=positions, waitlisted=len(positions), guard_hours=guard,
        cancel_until=session.starts_at - timedelta(hours=guard), q=q,
        open=session.status == SessionStatus.SCHEDULED.value and session.starts_at > now,
        full=session.booked_count >= session.capacity, manage=_can_manage(user, session),
        examiner=accounts.get_user(db=db, user_id=session.examiner_id),
        worker=None, mine=[], problem=None, staff=[], candidates=[], everyone=[])
    if user is not None:
        worker = organisations.worker_of_user(db=db, user_id=user.id)
        if worker is not None:
            context["worker"] = worker
            context["mine"] = [b for b in bookings if b.worker_id == worker.id]
            if context["open"] and not any(b.status in (BookingStatus.BOOKED.value,
                                                        BookingStatus.WAITLISTED.value)
                                           for b in context["mine"]):
                context["problem"] = service.eligibility_problem(
                    db=db, session=session, worker=worker, now=now)
        if user.has_role(Role.ENTERPRISE_ADMIN) and user.enterprise_id:
            context["staff"] = [b for b in bookings
                                if b.worker.enterprise_id == user.enterprise_id]
            if context["open"]:
                context["candidates"] = [
                    (w, service.eligibility_problem(db=db, session=session, worker=w, now=now))
                    for w in service.staff_candidates(db=db, session=session,
                                                      enterprise_id=user.enterprise_id,
                                                      query=q)]
        if context["manage"]:
            context["everyone"] = bookings
            context["enterprises"] = {e.id: e for e in organisations.all_enterprises(db=db)}
    return render(request, "practicals/session.html", context)


def _back(request: Request, session_id: int) -> Response:
    return redirect(request.url_for("practical_session", session_id=session_id).path)


@router.post("/practicals/sessions/{session_id}/book", name="session_book")
async def session_book(request: Request, db: SessionDep, user: CurrentUser,
                       session_id: int) -> Response:
    """Book a seat (or the waitlist) for oneself, or, as an enterprise admin, for one's staff.
    A business refusal (not eligible, overlapping, full...) comes back as a message."""
    session = service.get_session_or_404(db=db, session_id=session_id)
    form = await request.form()
    raw = str(form.get("worker_id", "")).strip()
    worker: Worker | None
    if raw:
        worker = organisations.get_worker_or_404(
            db=db, worker_id=parse_int(raw, name="worker_id", minimum=1) or 0)
    else:
        worker = organisations.worker_of_user(db=db, user_id=user.id)
    if worker is None or not service.can_book_for(user, worker):
        raise NotFound(_("No such worker."))
    try:
        booking = service.book(db=db, session=session, worker=worker, by=user,
                               ip=client_ip(request))
    except Conflict as exc:
        flash(request, exc.message, "error")
        return _back(request, session.id)
    own = worker.user_id == user.id
    if booking.status == BookingStatus.BOOKED.value:
        flash(request, _("Your seat is booked.") if own else
              _("Seat booked for {name}.").format(name=worker.full_name))
    else:
        position = service.waitlist_position(db=db, booking=booking)
        flash(request, (_("The session is full: you are number {n} on the waitlist.") if own
                        else _("The session is full: {name} is number {n} on the waitlist."))
              .format(n=position, name=worker.full_name), "info")
    return _back(request, session.id)


@router.post("/practicals/bookings/{booking_id}/cancel", name="booking_cancel")
def booking_cancel(request: Request, db: SessionDep, user: CurrentUser,
                   booking_id: int) -> Response:
    """Give up a seat or a waitlist place (the worker, its enterprise admin); the first on
    the waitlist gets the seat."""
    booking = service.get_booking_or_404(db=db, booking_id=booking_id)
    if not service.can_book_for(user, booking.worker):
        raise NotFound(_("No such booking."))
    try:
        service.cancel_booking(db=db, booking=booking, by=user, ip=client_ip(request))
    except Conflict as exc:
        flash(request, exc.message, "error")
    else:
        flash(request, _("Booking cancelled."))
    return _back(request, booking.session_id)


def _managed_session(db: SessionDep, user: User, session_id: int) -> PracticalSession:
    session = service.get_session_or_404(db=db, session_id=session_id)
    if not _can_manage(user, session):
        raise Forbidden(_("Only an administrator or the session's examiner may change it."))
    return session


@router.post("/practicals/sessions/{session_id}/change", name="session_change")
async def session_change(request: Request, db: SessionDep, user: Scheduler,
                         session_id: int) -> Response:
    """Move a session (Beijing time); everyone booked or waitlisted is told."""
    session = _managed_session(db, user, session_id)
    form = await request.form()
    values = {key: str(form.get(key, "")) for key in ("day", "start_time", "end_time")}
    errors: dict[str, str] = {}
    times = _times(values, errors)
    if session.status != SessionStatus.SCHEDULED.value:
        errors["day"] = _("This session was cancelled.")
    if times is not None and not errors:
        try:
            service.change_session(db=db, session=session, starts_at=times[0],
                                   ends_at=times[1], by=user, ip=client_ip(request))
        except Invalid as exc:
            errors.update(form_errors(exc.errors))
    if errors:
        for message in dict.fromkeys(errors.values()):
            flash(request, message, "error")
    else:
        flash(request, _("The session was moved; everyone booked has been told."))
    return _back(request, session.id)


@router.post("/practicals/sessions/{session_id}/cancel", name="session_cancel")
async def session_cancel(request: Request, db: SessionDep, user: Scheduler,
                         session_id: int) -> Response:
    """Cancel a session with a reason: everyone booked or waitlisted is told and freed."""
    session = _managed_session(db, user, session_id)
    reason = str((await request.form()).get("reason", "")).strip()
    if not reason:
        flash(request, _("Give the reason for cancelling; the workers will read it."), "error")
        return _back(request, session.id)
    freed = service.cancel_session(db=db, session=session, reason=reason, by=user,
                                   ip=client_ip(request))
    flash(request, _("Session cancelled; {n} booking(s) freed and told.").format(n=freed))
    return _back(request, session.id)


# --- the calendar ----------------------------------------------------------------------------

def _calendar_range(view: str, anchor: date) -> tuple[date, date, date, date]:
    """(first day shown, day after the last, previous anchor, next anchor)."""
    if view == "week":
        first = anchor - timedelta(days=anchor.weekday())
        return first, first + timedelta(days=7), first - timedelta(days=7), \
            first + timedelta(days=7)
    start = anchor.replace(day=1)
    days = monthcal.monthrange(start.year, start.month)[1]
    after = start + timedelta(days=days)
    first = start - timedelta(days=start.weekday())
    last = after + timedelta(days=(7 - after.weekday()) % 7)
    previous = (start - timedelta(days=1)).replace(day=1)
    return first, last, previous, after


@router.get("/practicals/calendar", name="practicals_calendar")
def calendar_page(request: Request, db: SessionDep, user: OptionalUserDep, view: str = "month",
                  date: str = "", region: str = "", course_id: int = 0) -> Response:
    """Sessions by day, a month or a week at a time, by region (prefix) and course."""
    view = view if view in ("month", "week") else "month"
    today = local_date(utcnow())
    anchor = parse_iso_date(date) or today
    region = region.strip() if region.strip().isdigit() else ""
    first, after, previous, following = _calendar_range(view, anchor)
    sessions = service.list_sessions(db=db, course_id=course_id or None, region=region,
                                     start=_to_utc(first, time()), end=_to_utc(after, time()))
    by_day: dict[Any, list[PracticalSession]] = defaultdict(list)
    for item in sessions:
        by_day[local_date(item.starts_at)].append(item)
    days = [first + timedelta(days=n) for n in range((after - first).days)]
    provinces, prefectures, _regions = _region_choices(db, region)
    published, _total = courses.list_courses(db=db, page_size=200)
    return render(request, "practicals/calendar.html", _context(
        view=view, anchor=anchor, today=today, days=days, by_day=by_day, month=anchor.month,
        previous=previous, following=following, region=region, course_id=course_id,
        provinces=provinces, prefectures=prefectures, courses=published,
        can_schedule=user is not None and user.has_role(Role.ADMIN, Role.EXAMINER),
        is_admin=user is not None and user.has_role(Role.ADMIN)))


@router.get("/practicals/calendar/{token}.ics", name="worker_ics")
def worker_ics(request: Request, db: SessionDep, token: str) -> Response:
    """A worker's sessions as a calendar feed, at a secret address that calendar apps can
    subscribe to without signing in."""
    worker = service.worker_by_calendar_token(db=db, token=token)
    if worker is None:
        raise NotFound(_("There is no calendar at this address."))
    events = []
    for booking in service.calendar_bookings(db=db, worker=worker):
        waiting = booking.status == BookingStatus.WAITLISTED.value
        note = _("You are on the waitlist.") if waiting else (
            _("Session cancelled.") if booking.status == BookingStatus.CANCELLED.value else "")
        events.append(_session_event(booking.session, request, note=note,
                                     status="TENTATIVE" if waiting else "CONFIRMED"))
    body = ics.build(events, name=_("My practical tests"), now=utcnow())
    return Response(body, media_type=CALENDAR_MIME, headers={"Cache-Control": "no-store"})


# --- the worker's own page -----------------------------------------------------------------

@router.get("/practicals", name="my_practicals")
def my_practicals(request: Request, db: SessionDep, user: WorkerUser) -> Response:
    """Eligibility per enrolled course, upcoming bookings, results and the calendar feed."""
    worker = organisations.worker_of_user(db=db, user_id=user.id)
    if worker is None:
        return render(request, "practicals/my_practicals.html", _context(worker=None))
    now = utcnow()
    bookings = service.bookings_of_worker(db=db, worker=worker)
    live = (BookingStatus.BOOKED.value, BookingStatus.WAITLISTED.value)
    upcoming = [(b, service.waitlist_position(db=db, booking=b)) for b in bookings
                if b.status in live and b.session.ends_at > now]
    results = [b for b in reversed(bookings) if b.status in (BookingStatus.PASSED.value,
                                                             BookingStatus.FAILED.value)]
    passed_codes = {b.session.course.code for b in results
                    if b.status == BookingStatus.PASSED.value}
    held_codes = {b.session.course.code for b, _n in upcoming}
    enrolments = [e for e in learning.my_enrolments(db=db, worker=worker)
                  if e.course.practical_required and e.status != "withdrawn"]
    exam_ids = exams.exam_ids_for(db=db, course_ids=[e.course_id for e in enrolments])
    courses_status = []
    seen: set[str] = set()
    for enrolment in enrolments:
        code = enrolment.course.code
        if code in seen:
            continue
        seen.add(code)
        theory = service.theory_pass(db=db, worker=worker, course_code=code, now=now)
        following = service.list_sessions(db=db, course_id=enrolment.course_id, start=now)[:1] \
            if theory is not None and code not in passed_codes | held_codes else []
        courses_status.append({
            "course": enrolment.course, "exam_id": exam_ids.get(enrolment.course_id),
            "pass": theory, "passed_practical": code in passed_codes, "holds": code in held_codes,
            "next_day": local_date(following[0].starts_at) if following else None})
    token = worker.calendar_token
    feed = str(request.url_for("worker_ics", token=token)) if token else ""
    return render(request, "practicals/my_practicals.html", _context(
        worker=worker, upcoming=upcoming, results=results, courses_status=courses_status,
        months=service.theory_valid_months(db=db), feed=feed,
        webcal=feed.replace("https://", "webcal://").replace("http://", "webcal://"),
        guard_hours=service.cancel_guard_hours(db=db)))


@router.post("/practicals/calendar-link", name="calendar_link_reset")
def calendar_link_reset(request: Request, db: SessionDep, user: WorkerUser) -> Response:
    """Make (or replace) the secret address of the worker's calendar feed."""
    worker = organisations.worker_of_user(db=db, user_id=user.id)
    if worker is None:
        raise NotFound(_("You have no worker profile."))
    had = bool(worker.calendar_token)
    service.reset_calendar_token(db=db, worker=worker)
    flash(request, _("New calendar link made; the old one no longer works.") if had
          else _("Calendar link made."))
    return redirect(request.url_for("my_practicals").path)


# --- notifications ---------------------------------------------------------------------------

def notification_text(item: Notification, sessions: dict[int, PracticalSession]) -> str:
    """A notification worded in the reader's language from its kind and parameters."""
    t = course_context()["t"]
    params = item.params or {}
    session = sessions.get(int(params.get("session_id") or 0))
    course = t(session.course.title) if session else _("a practical test")
    base = session.test_centre.name if session else ""
    when = ""
    if params.get("starts_at"):
        try:
            when = format_datetime(datetime.fromisoformat(str(params["starts_at"])), fmt="short")
        except ValueError:
            when = ""
    values = {"course": course, "base": base, "when": when,
              "reason": params.get("reason", ""), "score": params.get("score", ""),
              "number": params.get("number", ""), "days": params.get("days", ""),
              "due_on": params.get("due_on", "")}
    templates_by_kind = {
        "booked": _("Your seat is booked: {course} at {base}, {when}."),
        "waitlisted": _("The session is full, so you are on its waitlist: {course} at {base}, "
                        "{when}."),
        "promoted": _("A seat became free and it is yours: {course} at {base}, {when}."),
        "session_cancelled": _("Cancelled: {course} at {base}, {when}. Reason: {reason}"),
        "session_changed": _("New time: {course} at {base} now starts {when}."),
        "result_passed": _("You passed the practical test of {course} ({score} points)."),
        "result_failed": _("You did not pass the practical test of {course} ({score} points)."),
        "certificate_review_due": _("Certificate {number} is due for review in {days} days "
                                    "({due_on}). Complete the review course before then."),
        "certificate_expiring": _("Certificate {number} expires in {days} days ({due_on}). "
                                  "Re-examination is needed to keep it."),
    }
    template = templates_by_kind.get(item.kind)
    return template.format(**values) if template else _("You have a new message.")


@router.get("/notifications", name="notifications")
def notifications(request: Request, db: SessionDep, user: CurrentUser) -> Response:
    """The user's messages, newest first, unread ones marked."""
    items = service.notifications_for(db=db, user=user)
    sessions = service.sessions_by_id(db=db, session_ids={
        int((n.params or {}).get("session_id") or 0) for n in items} - {0})
    return render(request, "practicals/notifications.html", _context(
        items=[(n, notification_text(n, sessions)) for n in items],
        unread=sum(1 for n in items if n.read_at is None)))


@router.post("/notifications/read", name="notifications_read")
def notifications_read(request: Request, db: SessionDep, user: CurrentUser) -> Response:
    """Mark every message read."""
    service.mark_read(db=db, user=user)
    request.state.unread_notifications = 0
    return redirect(request.url_for("notifications").path)


@router.post("/notifications/{notification_id}/open", name="notification_open")
def notification_open(request: Request, db: SessionDep, user: CurrentUser,
                      notification_id: int) -> Response:
    """Mark one message read and go where it points."""
    item = service.open_notification(db=db, user=user, notification_id=notification_id)
    return redirect(safe_next(item.link, default=request.url_for("notifications").path))
