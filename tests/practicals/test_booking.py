"""Booking rules: seats, waitlist in arrival order, promotion, eligibility, overlap, guard time."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.db import utcnow
from app.errors import Conflict, Forbidden
from app.practicals import service
from app.practicals.models import Booking, Notification


def test_seats_then_waitlist_in_arrival_order_and_promotion(db, practical):
    session = practical["make_session"](capacity=2)
    workers = [practical["worker"]() for _ in range(4)]
    admin = practical["admin"]
    statuses = [service.book(db=db, session=session, worker=w, by=admin).status for w in workers]
    assert statuses == ["booked", "booked", "waitlisted", "waitlisted"]
    first = db.scalar(select(Booking).where(Booking.worker_id == workers[0].id))
    promoted = service.cancel_booking(db=db, booking=first, by=admin)
    assert promoted is not None and promoted.worker_id == workers[2].id
    assert promoted.status == "booked"
    kinds = db.scalars(select(Notification.kind).where(
        Notification.user_id == workers[2].user_id).order_by(Notification.id)).all()
    assert kinds == ["waitlisted", "promoted"]
    db.refresh(session)
    assert session.booked_count == 2


def test_not_eligible_without_a_recent_theory_pass(db, practical):
    session = practical["make_session"]()
    never = practical["worker"](passed=False)
    stale = practical["worker"](days_ago=400)
    for worker in (never, stale):
        with pytest.raises(Conflict) as info:
            service.book(db=db, session=session, worker=worker, by=practical["admin"])
        assert info.value.code == "not_eligible"
    assert db.scalar(select(func.count()).select_from(Booking)) == 0


def test_overlapping_sessions_and_double_booking_are_refused(db, practical):
    first = practical["make_session"](hours_ahead=48)
    overlapping = practical["make_session"](hours_ahead=49)
    worker = practical["worker"]()
    service.book(db=db, session=first, worker=worker, by=practical["admin"])
    with pytest.raises(Conflict) as info:
        service.book(db=db, session=first, worker=worker, by=practical["admin"])
    assert info.value.code == "already_booked"
    with pytest.raises(Conflict) as info:
        service.book(db=db, session=overlapping, worker=worker, by=practical["admin"])
    assert info.value.code in ("overlapping_booking", "already_booked")


def test_seats_cannot_be_given_up_within_24_hours(db, practical):
    session = practical["make_session"](hours_ahead=30)
    worker = practical["worker"]()
    booking = service.book(db=db, session=session, worker=worker, by=practical["admin"])
    with pytest.raises(Conflict) as info:
        service.cancel_booking(db=db, booking=booking, by=practical["admin"],
                               now=session.starts_at - timedelta(hours=23))
    assert info.value.code == "too_late_to_cancel"
    service.cancel_booking(db=db, booking=booking, by=practical["admin"],
                           now=session.starts_at - timedelta(hours=25))
    assert booking.status == "cancelled"


def test_only_the_sessions_examiner_records_a_result(db, practical):
    session = practical["make_session"]()
    worker = practical["worker"]()
    booking = service.book(db=db, session=session, worker=worker, by=practical["admin"])
    booking = service.get_booking_or_404(db=db, booking_id=booking.id)
    started = session.starts_at
    with pytest.raises(Forbidden):
        service.record_result(db=db, booking=booking, passed=True, score=90, notes="",
                              by=practical["admin"], now=started)
    row = service.record_result(db=db, booking=booking, passed=True, score=92, notes="steady",
                                by=practical["examiner"], now=started)
    assert (row.status, row.score) == ("passed", 92)
    with pytest.raises(Conflict) as info:
        service.record_result(db=db, booking=booking, passed=False, score=10, notes="",
                              by=practical["examiner"], now=started)
    assert info.value.code == "booking_not_booked"
    another = practical["make_session"](hours_ahead=200)
    with pytest.raises(Conflict) as info:
        service.book(db=db, session=another, worker=worker, by=practical["admin"])
    assert info.value.code == "already_passed"


def test_cancelling_a_session_frees_and_tells_everyone(db, practical):
    session = practical["make_session"](capacity=1)
    a, b = practical["worker"](), practical["worker"]()
    for worker in (a, b):
        service.book(db=db, session=session, worker=worker, by=practical["admin"])
    assert service.cancel_session(db=db, session=session, reason="flooded road",
                                  by=practical["admin"]) == 2
    rows = db.scalars(select(Booking.status)).all()
    assert rows == ["cancelled", "cancelled"]
    told = db.scalars(select(Notification.params).where(
        Notification.kind == "session_cancelled")).all()
    assert [p["reason"] for p in told] == ["flooded road", "flooded road"]


def test_a_weekly_series(db, practical):
    start = utcnow().replace(microsecond=0) + timedelta(days=3)
    sessions = service.create_sessions(
        db=db, centre=practical["centre"], course=practical["course"], starts_at=start,
        ends_at=start + timedelta(hours=2), capacity=5, examiner_id=practical["examiner"].id,
        by=practical["admin"], weeks=4)
    assert [s.starts_at - start for s in sessions] == [timedelta(weeks=n) for n in range(4)]
    assert len({s.series_id for s in sessions}) == 1 and sessions[0].series_id
