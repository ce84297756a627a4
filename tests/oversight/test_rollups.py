"""study_hours_enterprise (migration 0015), the enterprises' monthly study seconds kept by
triggers, always equals study_hours summed over the workers hired by each year's end; the
dashboard built on it and on its folded statements gives the raw computations' figures."""

from __future__ import annotations

from datetime import UTC, date, timedelta

from sqlalchemy import delete, select, update

from app.certificates.models import Certificate, CertificateEvent
from app.exams.models import Attempt
from app.i18n import LOCAL_TZ
from app.learning.models import LedgerEntry
from app.organisations.models import Enterprise, Worker
from app.oversight import compliance, dashboard, generator
from app.oversight.models import StudyHours, StudyHoursEnterprise
from app.practicals.models import Booking
from tests import factories as f
from tests.oversight import conftest as h

TODAY = date(2026, 11, 20)


def _expected(db):
    """The rollup computed in Python from study_hours and the workers' hiring dates."""
    hired = {w.id: (w.enterprise_id, w.hired_on) for w in db.scalars(select(Worker))}
    out: dict[tuple[int, int, int], tuple[int, int]] = {}
    for row in db.scalars(select(StudyHours).where(StudyHours.month > 0)):
        enterprise_id, hired_on = hired[row.worker_id]
        if hired_on > date(row.year, 12, 31):
            continue
        key = (enterprise_id, row.year, row.month)
        before = out.get(key, (0, 0))
        out[key] = (before[0] + row.online_seconds, before[1] + row.offline_seconds)
    return {k: v for k, v in out.items() if v != (0, 0)}


def _rollup(db):
    return {(r.enterprise_id, r.year, r.month): (r.online_seconds, r.offline_seconds)
            for r in db.scalars(select(StudyHoursEnterprise))
            if r.online_seconds or r.offline_seconds}


def _generate(db):
    made = generator.generate(db=db, workers=240, enterprises=4, seed=18, today=TODAY, years=2,
                              regions=("140105", "140211", "150102"))
    db.commit()
    return made


def test_the_rollup_equals_study_hours_and_follows_every_change(db):
    made = _generate(db)
    assert _rollup(db)
    assert _rollup(db) == _expected(db)
    first, second = made.worker_ids[:2]
    # heartbeats grow a day's row; a correction moves a day; a day is deleted; a new day
    day = db.scalar(select(LedgerEntry.day).where(LedgerEntry.worker_id == first).limit(1))
    db.execute(update(LedgerEntry).where(LedgerEntry.worker_id == first, LedgerEntry.day == day)
               .values(seconds=LedgerEntry.seconds + 60))
    days = set(db.scalars(select(LedgerEntry.day).where(LedgerEntry.worker_id == second)))
    moved = min(days)
    free = next(d for d in (date(2026, 2, 1) + timedelta(days=n) for n in range(400))
                if d not in days and d.month != moved.month)
    db.execute(update(LedgerEntry).where(LedgerEntry.worker_id == second,
                                         LedgerEntry.day == moved).values(day=free))
    db.execute(delete(LedgerEntry).where(LedgerEntry.worker_id == made.worker_ids[2]))
    h.study(db, db.get(Worker, made.worker_ids[3]), date(2026, 7, 7), 1800, mode="offline")
    db.commit()
    assert _rollup(db) == _expected(db)
    # a worker moves to another enterprise; another turns out to be hired after the year
    other = next(e for e in made.enterprise_ids
                 if e != db.get(Worker, made.worker_ids[4]).enterprise_id)
    db.execute(update(Worker).where(Worker.id == made.worker_ids[4]).values(enterprise_id=other))
    db.execute(update(Worker).where(Worker.id == first).values(hired_on=date(2027, 3, 1)))
    db.commit()
    assert _rollup(db) == _expected(db)
    db.execute(update(Worker).where(Worker.id == first).values(hired_on=date(2020, 3, 1)))
    db.commit()
    assert _rollup(db) == _expected(db)


def test_a_deleted_worker_leaves_the_rollup(db):
    ent = f.enterprise(db)
    kept, gone = f.worker(db, ent), f.worker(db, ent)
    h.study(db, kept, date(2026, 3, 2), 600)
    h.study(db, gone, date(2026, 3, 3), 900)
    db.commit()
    assert _rollup(db) == {(ent.id, 2026, 3): (1500, 0)}
    db.execute(delete(LedgerEntry).where(LedgerEntry.worker_id == gone.id))
    # a month the worker still has in study_hours (written straight, as the triggers would)
    db.add(StudyHours(worker_id=gone.id, year=2026, month=4, online_seconds=120,
                      offline_seconds=0))
    db.flush()
    assert _rollup(db)[(ent.id, 2026, 4)] == (120, 0)
    db.execute(delete(Worker).where(Worker.id == gone.id))  # its study_hours go with it
    db.execute(update(LedgerEntry).where(LedgerEntry.worker_id == kept.id)
               .values(seconds=700))
    db.commit()
    assert _rollup(db) == {(ent.id, 2026, 3): (700, 0)} == _expected(db)


def _local(moment):
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(LOCAL_TZ)


def _raw_board(db, region, period, r):
    """The dashboard's figures by the definitions, row by row in Python."""
    enterprises = {e.id for e in db.scalars(select(Enterprise).where(
        compliance.region_condition(region)))}
    workers = {w.id: w for w in db.scalars(select(Worker)) if w.enterprise_id in enterprises}
    start, end = period.start_at, period.end_at
    per: dict[int, dict[str, int]] = {}

    def bump(worker_id, name, by=1):
        bucket = per.setdefault(workers[worker_id].enterprise_id, {})
        bucket[name] = bucket.get(name, 0) + by

    for a in db.scalars(select(Attempt).where(Attempt.status == "submitted")):
        if a.worker_id in workers and start <= _local(a.submitted_at) < end:
            bump(a.worker_id, "theory_attempts")
            bump(a.worker_id, "theory_passed", int(bool(a.passed)))
    for b in db.scalars(select(Booking).where(Booking.status.in_(("passed", "failed")))):
        if b.worker_id in workers and b.result_at and start <= _local(b.result_at) < end:
            bump(b.worker_id, "practical_results")
            bump(b.worker_id, "practical_passed", int(b.status == "passed"))
    months: dict[int, int] = {}
    owners = {}
    for c in db.scalars(select(Certificate)):
        owners[c.id] = c.worker_id
        if c.worker_id in workers and period.start <= c.issued_on <= period.end:
            bump(c.worker_id, "certificates_issued")
            months[c.issued_on.month] = months.get(c.issued_on.month, 0) + 1
    seen = set()
    for e in db.scalars(select(CertificateEvent)):
        worker_id = owners[e.certificate_id]
        if (worker_id in workers and e.kind in ("suspended", "revoked")
                and start <= _local(e.at) < end and (e.certificate_id, e.kind) not in seen):
            seen.add((e.certificate_id, e.kind))
            bump(worker_id, f"certificates_{e.kind}")
    seconds: dict[int, list[int]] = {}
    for s in db.scalars(select(StudyHours).where(StudyHours.year == period.year,
                                                 StudyHours.month > 0)):
        if s.worker_id in workers and workers[s.worker_id].hired_on <= period.end:
            pair = seconds.setdefault(s.month, [0, 0])
            pair[0] += s.online_seconds
            pair[1] += s.offline_seconds
    hours = {m: round(on / r.online_seconds + off / r.offline_seconds, 1)
             for m, (on, off) in seconds.items()}
    return per, months, hours


def test_the_dashboard_equals_the_raw_computations_on_generated_data(db):
    _generate(db)
    period = compliance.period(year=2026, on=TODAY)
    r = compliance.rules(db=db)
    for region in ("14", "1401", None):
        board = dashboard.dashboard(db=db, region=region, period=period)
        scope = compliance.scope_of_region(region)
        base = compliance.totals_by_enterprise(db=db, scope=scope, period=period, rules=r)
        per, months, hours = _raw_board(db, region, period, r)
        assert board.enterprises
        for line in board.enterprises:
            expected = base.get(line.enterprise_id, compliance.Totals())
            assert line.totals.workers == expected.workers
            assert line.totals.by_status == expected.by_status
            assert line.totals.credited_centi == expected.credited_centi
            assert (line.totals.special, line.totals.certified) == \
                (expected.special, expected.certified)
            raw = per.get(line.enterprise_id, {})
            for name in ("theory_attempts", "theory_passed", "practical_results",
                         "practical_passed", "certificates_issued", "certificates_suspended",
                         "certificates_revoked"):
                assert getattr(line.totals, name) == raw.get(name, 0), name
        assert sum(board.totals.by_status.values()) == board.totals.workers
        assert board.totals.theory_attempts > 0 and board.totals.certificates_issued > 0
        special = compliance.special_workforce(db=db, scope=scope, period=period)
        assert {c.job_category: (c.workers, c.certified) for c in board.categories
                if c.workers} == special
        assert {m.month: m.certificates_issued for m in board.months
                if m.certificates_issued} == months
        assert {m.month: m.hours_credited for m in board.months
                if m.hours_credited} == {k: v for k, v in hours.items() if v}
        db.rollback()
