"""Capacity holds when many book the last seats at once (real threads, real transactions)."""

import threading

import pytest
from sqlalchemy import func, select

from app.accounts import service as accounts
from app.db import open_session
from app.errors import AppError
from app.organisations.models import Worker
from app.practicals import service
from app.practicals.models import Booking


@pytest.mark.parametrize(("seats", "takers"), [(3, 12)])
def test_concurrent_bookings_never_overbook(db, practical, seats, takers):
    session = practical["make_session"](capacity=seats)
    workers = [practical["worker"]() for _ in range(takers)]
    db.commit()
    session_id, worker_ids, admin_id = session.id, [w.id for w in workers], \
        practical["admin"].id
    barrier = threading.Barrier(takers)
    errors: list[BaseException] = []

    def take(worker_id: int) -> None:
        try:
            with open_session(write=False) as s:  # what the request reads before it writes
                admin = accounts.get_user_or_404(db=s, user_id=admin_id)
                target = service.get_session_or_404(db=s, session_id=session_id)
                worker = s.get(Worker, worker_id)
            barrier.wait(timeout=30)  # then everyone books at the same moment
            with open_session(write=True) as s:
                service.book(db=s, session=target, worker=worker, by=admin)
                s.commit()
        except (AppError, Exception) as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=take, args=(wid,)) for wid in worker_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    db.commit()
    counts = dict(db.execute(select(Booking.status, func.count()).group_by(Booking.status)).all())
    assert counts == {"booked": seats, "waitlisted": takers - seats}
    db.refresh(session)
    assert session.booked_count == seats
