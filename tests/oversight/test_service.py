"""Compliance definitions (docs/oversight.md) on a hand-made enterprise, statement counts, and
agreement of the numbers on generated data across enterprises and regions."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest
from sqlalchemy import event

from app.learning import service as learning
from app.oversight import compliance, dashboard, generator
from app.oversight.compliance import ComplianceStatus as S
from tests import factories as f
from tests.oversight import conftest as h

YEAR = 2026
ON = date(2026, 6, 30)
HOUR = 1800  # online seconds per class hour in the default profile


@pytest.fixture
def company(db):
    """One enterprise whose workers each show one rule; returns (enterprise, workers)."""
    ent = f.enterprise(db, region="140105", name="Rules Colliery")
    course, exam = h.course(db)
    blast, _blast_exam = h.course(db, job_category="coal.blasting")
    w = {}

    def worker(key, *, category="general.underground", hired=date(2020, 3, 1)):
        w[key] = f.worker(db, ent, full_name=key, job_category=category, hired_on=hired)
        return w[key]

    h.study(db, worker("ok"), date(2026, 2, 1), 20 * HOUR)
    enrolment = h.enrol(db, w["ok"], course.id, deadline=None, status="completed")
    h.attempt(db, w["ok"], exam, enrolment, date(2026, 3, 15), passed=True)
    h.study(db, worker("short"), date(2026, 2, 1), 10 * HOUR)
    h.study(db, w["short"], date(2026, 2, 2), 2700, mode="offline")
    h.study(db, worker("last_year"), date(2025, 12, 31), 20 * HOUR)
    h.study(db, worker("new_late", hired=date(2026, 1, 10)), date(2026, 2, 1), 5 * HOUR)
    worker("new_recent", hired=date(2026, 6, 20))
    worker("new_deadline", hired=date(2026, 6, 20))
    h.enrol(db, w["new_deadline"], course.id, deadline=date(2026, 6, 25))
    h.study(db, worker("new_done", hired=date(2026, 1, 10)), date(2026, 3, 1), 72 * HOUR)
    for key in ("expiring", "review", "suspended", "expired", "renewed"):
        h.study(db, worker(key, category="coal.blasting", hired=date(2019, 1, 1)),
                date(2026, 1, 5), 20 * HOUR)
    h.certificate(db, w["expiring"], blast, issued=date(2020, 8, 1), expires=date(2026, 8, 1))
    h.certificate(db, w["review"], blast, issued=date(2023, 9, 1), expires=date(2029, 9, 1),
                  review=date(2026, 9, 1))
    h.certificate(db, w["suspended"], blast, issued=date(2024, 1, 1), expires=date(2030, 1, 1),
                  status="suspended")
    h.certificate(db, w["expired"], blast, issued=date(2020, 5, 1), expires=date(2026, 5, 1))
    h.certificate(db, w["renewed"], blast, issued=date(2020, 1, 1), expires=date(2026, 1, 1))
    h.certificate(db, w["renewed"], blast, issued=date(2026, 2, 1), expires=date(2032, 2, 1))
    worker("future", hired=date(2027, 1, 1))
    db.commit()
    return ent, w


EXPECTED = {
    "ok": S.COMPLIANT, "short": S.SHORT_OF_HOURS, "last_year": S.SHORT_OF_HOURS,
    "new_late": S.OVERDUE_INITIAL, "new_recent": S.SHORT_OF_HOURS,
    "new_deadline": S.OVERDUE_INITIAL, "new_done": S.COMPLIANT,
    "expiring": S.CERTIFICATE_EXPIRING, "review": S.CERTIFICATE_EXPIRING,
    "suspended": S.CERTIFICATE_EXPIRED_OR_SUSPENDED, "expired": S.CERTIFICATE_EXPIRED_OR_SUSPENDED,
    "renewed": S.COMPLIANT,
}


def _all_rows(db, ent, **filters):
    return compliance.compliance_rows(db=db, enterprise_id=ent.id,
                                      period=compliance.period(year=YEAR, on=ON), **filters)


def test_each_rule_gives_its_status(db, company):
    ent, w = company
    rows = {row.full_name: row for row in _all_rows(db, ent)}
    assert {name: row.status for name, row in rows.items()} == {k: v.value
                                                                for k, v in EXPECTED.items()}
    assert "future" not in rows  # hired after the year: not counted
    assert rows["ok"].credited_hours == 20.0 and rows["ok"].required_hours == 20.0
    assert rows["short"].credited_hours == 11.0  # 10 h online + 2700 s offline = 1 h
    assert rows["short"].shortfall_hours == 9.0
    assert rows["last_year"].credited_hours == 0.0  # 31 December 2025 is another year
    assert rows["new_late"].requirement == "initial" and rows["new_late"].required_hours == 72
    assert rows["new_late"].overdue_initial and not rows["new_recent"].overdue_initial
    assert rows["ok"].theory_pass_valid_until == date(2027, 3, 15)
    assert rows["short"].theory_pass_valid_until is None
    assert rows["expiring"].days_to_expiry == 32
    assert rows["review"].days_to_review == 63
    assert [c.status for c in rows["expired"].certificates] == ["expired"]
    assert [c.status for c in rows["suspended"].certificates] == ["suspended"]
    # the superseded certificate is not listed, the new one is
    assert [c.expires_on for c in rows["renewed"].certificates] == [date(2032, 2, 1)]


def test_totals_count_each_worker_once(db, company):
    ent, _w = company
    page = compliance.enterprise_compliance(db=db, enterprise_id=ent.id,
                                            period=compliance.period(year=YEAR, on=ON),
                                            page_size=5)
    assert page.totals.as_dict() == {
        "workers": 12, "compliant": 3, "short_of_hours": 3, "overdue_initial": 2,
        "certificates_expiring_90d": 2, "certificates_expired_or_suspended": 2}
    assert len(page.items) == 5 and page.total == 12
    # most urgent first
    assert [row.status for row in page.items][:2] == [S.CERTIFICATE_EXPIRED_OR_SUSPENDED] * 2


def test_filters_and_sorting(db, company):
    ent, _w = company
    short = _all_rows(db, ent, status="short_of_hours", sort="-shortfall")
    assert [row.full_name for row in short] == ["new_recent", "last_year", "short"]
    blasting = _all_rows(db, ent, job_category="coal.blasting", sort="name")
    assert [row.full_name for row in blasting] == sorted(
        ["expiring", "review", "suspended", "expired", "renewed"])
    page = compliance.enterprise_compliance(db=db, enterprise_id=ent.id,
                                            period=compliance.period(year=YEAR, on=ON),
                                            status="overdue_initial")
    assert page.total == 2 and page.totals.workers == 12  # totals ignore the filters


def test_credited_hours_agree_with_the_learning_summary(db, company):
    _ent, w = company
    row = compliance.worker_compliance(db=db, worker=w["short"], year=YEAR, on=ON)
    assert row is not None
    summary = learning.hours_summary(db=db, worker=w["short"], year=YEAR)
    assert row.credited_hours == summary.class_hours
    assert compliance.worker_compliance(db=db, worker=w["future"], year=YEAR, on=ON) is None


def test_a_past_year_is_judged_on_its_last_day(db, company):
    ent, _w = company
    p = compliance.period(year=2025, on=ON)
    assert p.as_of == date(2025, 12, 31)
    rows = {row.full_name: row for row in compliance.compliance_rows(
        db=db, enterprise_id=ent.id, period=p)}
    assert rows["last_year"].credited_hours == 20.0
    assert "new_late" not in rows  # hired in 2026
    # the certificate issued in 2026 did not exist yet; the 2020 one was still valid
    assert [c.expires_on for c in rows["renewed"].certificates] == [date(2026, 1, 1)]


def _count_statements(db, call):
    statements = []
    engine = db.get_bind()
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    db.commit()  # a transaction's BEGIN is not one of the statements counted
    event.listen(engine, "before_cursor_execute", listener)
    try:
        call()
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    return len([s for s in statements if not s.strip().upper().startswith("BEGIN")])


def test_statements_do_not_grow_with_the_workforce(db, company):
    ent, _w = company
    ent_id = ent.id
    p = compliance.period(year=YEAR, on=ON)

    def run():
        compliance.enterprise_compliance(db=db, enterprise_id=ent_id, period=p, page_size=200)
        dashboard.dashboard(db=db, region="14", period=p)

    run()  # warm the rule profile cache
    small = _count_statements(db, run)
    generator.generate(db=db, workers=150, seed=3, enterprise_ids=[ent_id],
                       today=date(2026, 6, 30))
    db.commit()
    assert _count_statements(db, run) == small
    assert small <= 25


def test_numbers_agree_on_generated_data(db):
    made = generator.generate(db=db, workers=400, enterprises=8, seed=11, today=ON,
                              regions=("140105", "140202", "150602", "610802"))
    db.commit()
    assert made.workers == 400 and made.certificates > 0 and made.attempts > 0
    p = compliance.period(year=YEAR, on=ON)
    country = dashboard.dashboard(db=db, region=None, period=p)
    assert country.totals.workers == 400
    provinces = [dashboard.dashboard(db=db, region=code, period=p) for code in ("14", "15", "61")]
    for field in ("workers", "credited_centi", "theory_attempts", "theory_passed",
                  "practical_results", "practical_passed", "certificates_issued",
                  "certificates_suspended", "certificates_revoked", "special", "certified"):
        assert getattr(country.totals, field) == sum(getattr(b.totals, field) for b in provinces)
    for board in (country, *provinces):
        summed = dashboard.OversightTotals()
        for line in board.enterprises:
            summed.add(line.totals)
        assert summed.as_dict() == board.totals.as_dict()
        assert board.totals.workers == sum(board.totals.by_status.values())
    for line in country.enterprises:
        rows = compliance.compliance_rows(db=db, enterprise_id=line.enterprise_id, period=p)
        counts = Counter(row.status for row in rows)
        assert {s.value: counts.get(s.value, 0) for s in S} == line.totals.by_status
        assert round(sum(row.credited_hours for row in rows), 2) == line.totals.hours_credited
        assert sum(row.job_category.startswith(("coal.", "metal.")) for row in rows) == \
            line.totals.special
    # categories: the special-operations workforce adds up to the totals
    assert sum(c.workers for c in country.categories) == country.totals.special
    assert sum(c.theory_attempts for c in country.categories) == country.totals.theory_attempts
    assert sum(m.certificates_issued for m in country.months) == \
        country.totals.certificates_issued
