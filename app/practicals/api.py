"""JSON routes of practical tests: bases, sessions, bookings, results."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from app.accounts.api import client_ip
from app.accounts.deps import CurrentUser, require
from app.accounts.models import Role, User
from app.courses import service as courses
from app.db import SessionDep
from app.errors import NotFound
from app.i18n import gettext as _
from app.organisations import service as organisations
from app.pagination import Page
from app.practicals import service
from app.practicals.models import Booking, BookingStatus
from app.practicals.schemas import (
    BookingBrief,
    BookingCreate,
    BookingOut,
    ResultIn,
    SessionCreate,
    SessionOut,
    TestCentreCreate,
    TestCentreOut,
    centre_out,
    session_out,
)

router = APIRouter(prefix="/api/v1", tags=["practicals"])
AdminUser = Annotated[User, Depends(require(Role.ADMIN))]
Scheduler = Annotated[User, Depends(require(Role.ADMIN, Role.EXAMINER))]


def booking_out(booking: Booking) -> BookingOut:
    """The API shape of a booking."""
    return BookingOut(id=booking.id, session_id=booking.session_id,
                      worker_id=booking.worker_id, status=booking.status,
                      attendance=booking.attendance, score=booking.score, notes=booking.notes)


@router.post("/test-centres", response_model=TestCentreOut, status_code=201)
def create_test_centre(request: Request, body: TestCentreCreate, db: SessionDep,
                       user: AdminUser) -> TestCentreOut:
    """Register a training base (admin)."""
    centre = service.create_test_centre(db=db, name=body.name, region_code=body.region_code,
                                        address=body.address, kinds=body.kinds, by=user,
                                        stations=body.stations, contact=body.contact,
                                        ip=client_ip(request))
    return centre_out(centre)


@router.get("/test-centres", response_model=Page[TestCentreOut])
def list_test_centres(db: SessionDep, region: str = "", kind: str = "") -> Page[TestCentreOut]:
    """The public directory of training bases by region."""
    items = service.list_test_centres(db=db, region=region, kind=kind)
    return Page(items=[centre_out(c) for c in items], total=len(items))


@router.post("/practical-sessions", response_model=SessionOut, status_code=201)
def create_session(request: Request, body: SessionCreate, db: SessionDep,
                   user: Scheduler) -> SessionOut:
    """Schedule a session (or a weekly series: `weeks`); the first is returned."""
    centre = service.get_test_centre_or_404(db=db, centre_id=body.test_centre_id)
    course = courses.get_course_or_404(db=db, course_id=body.course_id)
    sessions = service.create_sessions(db=db, centre=centre, course=course,
                                       starts_at=body.starts_at, ends_at=body.ends_at,
                                       capacity=body.capacity, examiner_id=body.examiner_id,
                                       by=user, weeks=body.weeks, ip=client_ip(request))
    return session_out(service.get_session_or_404(db=db, session_id=sessions[0].id),
                       bookings=[])


@router.get("/practical-sessions", response_model=Page[SessionOut])
def list_sessions(db: SessionDep, user: CurrentUser, course_id: int = 0,
                  region: str = "") -> Page[SessionOut]:
    """Scheduled sessions, by course (any version's id: sessions serve every version of
    their course) and region."""
    items = service.list_sessions(db=db, course_id=course_id or None, region=region)
    return Page(items=[session_out(s) for s in items], total=len(items))


@router.get("/practical-sessions/{session_id}", response_model=SessionOut)
def get_session(session_id: int, db: SessionDep, user: CurrentUser) -> SessionOut:
    """A session; its bookings for admins, its examiner, enterprise admins (their own staff)
    and workers (their own)."""
    session = service.get_session_or_404(db=db, session_id=session_id)
    bookings = service.bookings_of(db=db, session_id=session.id)
    waitlisted = sum(1 for b in bookings if b.status == BookingStatus.WAITLISTED.value)
    if user.has_role(Role.ADMIN) or session.examiner_id == user.id:
        visible = bookings
    else:
        visible = [b for b in bookings if b.worker.user_id == user.id or (
            user.has_role(Role.ENTERPRISE_ADMIN) and b.worker.enterprise_id == user.enterprise_id)]
    return session_out(session, waitlisted=waitlisted, bookings=[
        BookingBrief(id=b.id, worker_id=b.worker_id, status=b.status) for b in visible])


@router.post("/practical-sessions/{session_id}/bookings", response_model=BookingOut,
             status_code=201)
def book(request: Request, session_id: int, body: BookingCreate, db: SessionDep,
         user: CurrentUser) -> BookingOut:
    """Book a seat (or the waitlist) for a worker: the worker itself or its enterprise admin."""
    session = service.get_session_or_404(db=db, session_id=session_id)
    worker = organisations.get_worker_or_404(db=db, worker_id=body.worker_id)
    booking = service.book(db=db, session=session, worker=worker, by=user,
                           ip=client_ip(request))
    return booking_out(booking)




@router.delete("/bookings/{booking_id}", status_code=204)
def cancel_booking(request: Request, booking_id: int, db: SessionDep,
                   user: CurrentUser) -> Response:
    """Cancel a booking (the worker or its enterprise admin); the waitlist moves up."""
    booking = service.get_booking_or_404(db=db, booking_id=booking_id)
    if not service.can_book_for(user, booking.worker):
        raise NotFound(_("No such booking."))
    service.cancel_booking(db=db, booking=booking, by=user, ip=client_ip(request))
    return Response(status_code=204)


@router.post("/bookings/{booking_id}/result", response_model=BookingOut)
def record_result(request: Request, booking_id: int, body: ResultIn, db: SessionDep,
                  user: CurrentUser) -> BookingOut:
    """The session's examiner records the result of a booked seat, at any time from the
    session's start on (409 `session_not_started` before it)."""
    booking = service.get_booking_or_404(db=db, booking_id=booking_id)
    if booking.session.examiner_id != user.id and not service.can_book_for(user, booking.worker):
        raise NotFound(_("No such booking."))
    row = service.record_result(db=db, booking=booking, passed=body.passed, score=body.score,
                                notes=body.notes, checklist=body.checklist, by=user,
                                ip=client_ip(request))
    return booking_out(row)
