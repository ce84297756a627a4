"""study_hours, kept by triggers on study_ledger, always equals the ledger's sums."""

from __future__ import annotations

from datetime import date

from sqlalchemy import case, delete, extract, func, select, update

from app.learning.models import LedgerEntry
from app.oversight.models import StudyHours
from tests import factories as f
from tests.oversight import conftest as h


def _from_ledger(db):
    """(worker, year, month) -> (online, offline) summed from the ledger, month 0 = year."""
    out = {}
    rows = db.execute(select(LedgerEntry.worker_id, extract("year", LedgerEntry.day),
                             extract("month", LedgerEntry.day),
                             func.sum(case((LedgerEntry.mode == "online", LedgerEntry.seconds),
                                           else_=0)),
                             func.sum(case((LedgerEntry.mode == "offline", LedgerEntry.seconds),
                                           else_=0)))
                      .group_by(LedgerEntry.worker_id, extract("year", LedgerEntry.day),
                                extract("month", LedgerEntry.day)))
    for worker_id, year, month, online, offline in rows:
        for key in ((worker_id, int(year), int(month)), (worker_id, int(year), 0)):
            before = out.get(key, (0, 0))
            out[key] = (before[0] + int(online), before[1] + int(offline))
    return out


def _summary(db):
    return {(r.worker_id, r.year, r.month): (r.online_seconds, r.offline_seconds)
            for r in db.scalars(select(StudyHours)) if r.online_seconds or r.offline_seconds}


def test_the_summary_follows_inserts_updates_and_deletes(db):
    ent = f.enterprise(db)
    a, b = f.worker(db, ent), f.worker(db, ent)
    h.study(db, a, date(2026, 1, 5), 600)
    h.study(db, a, date(2026, 1, 6), 1200)
    h.study(db, a, date(2026, 3, 1), 2700, mode="offline")
    h.study(db, b, date(2025, 12, 31), 300)
    db.commit()
    assert _summary(db) == _from_ledger(db)
    assert _summary(db)[(a.id, 2026, 0)] == (1800, 2700)
    # heartbeats add to a day's row; a correction moves a row to another day and mode
    db.execute(update(LedgerEntry).where(LedgerEntry.worker_id == a.id,
                                         LedgerEntry.day == date(2026, 1, 5))
               .values(seconds=LedgerEntry.seconds + 60))
    db.execute(update(LedgerEntry).where(LedgerEntry.worker_id == b.id)
               .values(day=date(2026, 2, 1), mode="offline"))
    db.execute(delete(LedgerEntry).where(LedgerEntry.worker_id == a.id,
                                         LedgerEntry.day == date(2026, 3, 1)))
    db.commit()
    assert _summary(db) == _from_ledger(db)
    assert _summary(db)[(a.id, 2026, 0)] == (1860, 0)
    assert _summary(db)[(b.id, 2026, 2)] == (0, 300)
    assert (b.id, 2025, 0) not in _summary(db)
