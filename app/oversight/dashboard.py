"""The regulators' regional dashboard: per enterprise the compliance totals plus exam pass rates,
certificates issued / suspended / revoked and hours credited in the year; monthly trends and
pass rates by job category for the charts. Set-based SQL only (a fixed number of GROUP BY
statements, whatever the region's size); definitions in docs/oversight.md."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    case,
    cast,
    extract,
    func,
    literal,
    select,
    text,
    union_all,
)
from sqlalchemy.orm import Session

from app.accounts.models import Role, User
from app.certificates.models import Certificate, CertificateEvent
from app.errors import Forbidden, NotFound
from app.exams.models import Attempt, AttemptStatus
from app.i18n import gettext as _
from app.organisations import service as organisations
from app.organisations.models import Enterprise, Region, Worker
from app.oversight import compliance
from app.oversight.compliance import Period, Rules, Totals
from app.oversight.models import StudyHoursEnterprise
from app.practicals.models import Booking, BookingStatus


@dataclass
class OversightTotals(Totals):
    """Compliance totals plus the period's activity; every field adds up over enterprises."""

    theory_attempts: int = 0
    theory_passed: int = 0
    practical_results: int = 0
    practical_passed: int = 0
    certificates_issued: int = 0
    certificates_suspended: int = 0
    certificates_revoked: int = 0

    def add(self, other: Totals) -> None:
        """Add another scope's totals to these."""
        super().add(other)
        if isinstance(other, OversightTotals):
            for name in ("theory_attempts", "theory_passed", "practical_results",
                         "practical_passed", "certificates_issued", "certificates_suspended",
                         "certificates_revoked"):
                setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def hours_credited(self) -> float:
        return self.credited_centi / 100

    @property
    def theory_pass_rate(self) -> float | None:
        return rate(self.theory_passed, self.theory_attempts)

    @property
    def practical_pass_rate(self) -> float | None:
        return rate(self.practical_passed, self.practical_results)

    @property
    def compliant_share(self) -> float | None:
        return rate(self.by_status[compliance.ComplianceStatus.COMPLIANT.value], self.workers)

    def as_dict(self) -> dict[str, Any]:
        """The contract's oversight totals (without "enterprises", which only a region has)."""
        return {**super().as_dict(), "theory_pass_rate": self.theory_pass_rate,
                "practical_pass_rate": self.practical_pass_rate,
                "certificates_issued": self.certificates_issued,
                "certificates_suspended": self.certificates_suspended,
                "certificates_revoked": self.certificates_revoked,
                "hours_credited": self.hours_credited,
                "theory_attempts": self.theory_attempts, "theory_passed": self.theory_passed,
                "practical_results": self.practical_results,
                "practical_passed": self.practical_passed,
                "special_operations_workers": self.special,
                "special_operations_certified": self.certified}


def rate(part: int, whole: int) -> float | None:
    """part / whole to four decimals, None when there is nothing to divide."""
    return round(part / whole, 4) if whole else None


@dataclass(frozen=True)
class EnterpriseLine:
    enterprise_id: int
    name: str
    region_code: str
    totals: OversightTotals


@dataclass(frozen=True)
class CategoryLine:
    """Pass rates and the special-operations workforce of one job category."""

    job_category: str
    theory_attempts: int = 0
    theory_passed: int = 0
    practical_results: int = 0
    practical_passed: int = 0
    workers: int = 0
    certified: int = 0

    @property
    def theory_pass_rate(self) -> float | None:
        return rate(self.theory_passed, self.theory_attempts)

    @property
    def practical_pass_rate(self) -> float | None:
        return rate(self.practical_passed, self.practical_results)

    @property
    def certified_share(self) -> float | None:
        return rate(self.certified, self.workers)


@dataclass(frozen=True)
class MonthLine:
    month: int
    certificates_issued: int
    hours_credited: float


@dataclass
class Dashboard:
    region: str | None
    period: Period
    totals: OversightTotals
    enterprises: list[EnterpriseLine]
    categories: list[CategoryLine]
    months: list[MonthLine]
    subregions: list[Region] = field(default_factory=list)


# --- jurisdiction ------------------------------------------------------------------------------

def can_oversee(user: User) -> bool:
    """Admins, and regulators with a region, see the dashboard."""
    return user.has_role(Role.ADMIN) or bool(user.has_role(Role.REGULATOR) and user.region_code)


def region_for(*, db: Session, user: User, region: str | None) -> str | None:
    """The region the user asked for, checked: a regulator's own region (the default) or one
    below it, any region (or the whole country, None) for an admin. 403 for other roles,
    404 for a region outside the regulator's, 422 for a malformed or unknown code."""
    if not can_oversee(user):
        raise Forbidden(_("Only regulators and administrators see the oversight dashboard."))
    code = organisations.clean_region_code(db=db, value=region, field="region")
    if user.has_role(Role.ADMIN):
        return code
    own = user.region_code or ""
    if code is None:
        return own
    if not code.startswith(own):
        raise NotFound(_("No such region in your jurisdiction."))
    return code


# --- the numbers -------------------------------------------------------------------------------

def _enterprise_scope(region: str | None) -> ColumnElement[bool]:
    return compliance.scope_of_region(region)


def _by_enterprise(db: Session, statement: Any) -> dict[int, tuple[Any, ...]]:
    return {row[0]: tuple(row[1:]) for row in db.execute(statement)}


def _activity(db: Session, scope: ColumnElement[bool], p: Period,
              issued_by_month: dict[int, int]) -> dict[tuple[int, str], dict[str, int]]:
    """Theory attempts, practical results, certificates issued / suspended / revoked in the
    period, by (enterprise, job category) of the worker, in one statement: the five kinds of
    event as one UNION ALL of (worker, kind, month, passed), joined to the region's workers
    once (five joins of the whole workforce cost more than the events themselves). Adds the
    certificates issued per month to `issued_by_month`."""
    zero, one = literal(0), literal(1)
    results = (BookingStatus.PASSED.value, BookingStatus.FAILED.value)
    # A certificate suspended (or revoked) twice in the year counts once.
    events = (select(CertificateEvent.certificate_id.label("certificate_id"),
                     CertificateEvent.kind.label("kind"))
              .where(CertificateEvent.kind.in_(("suspended", "revoked")),
                     CertificateEvent.at >= p.start_at, CertificateEvent.at < p.end_at)
              .distinct().subquery("events"))
    happened = union_all(
        select(Attempt.worker_id.label("worker_id"), literal("theory").label("kind"),
               zero.label("month"), case((Attempt.passed.is_(True), 1), else_=0).label("ok"))
        .where(Attempt.status == AttemptStatus.SUBMITTED.value,
               Attempt.submitted_at >= p.start_at, Attempt.submitted_at < p.end_at),
        select(Booking.worker_id, literal("practical"), zero,
               case((Booking.status == BookingStatus.PASSED.value, 1), else_=0))
        .where(Booking.status.in_(results), Booking.result_at >= p.start_at,
               Booking.result_at < p.end_at),
        select(Certificate.worker_id, literal("issued"),
               cast(extract("month", Certificate.issued_on), Integer), zero)
        .where(Certificate.issued_on >= p.start, Certificate.issued_on <= p.end),
        select(Certificate.worker_id, events.c.kind, zero, one)
        .join(Certificate, Certificate.id == events.c.certificate_id),
    ).subquery("happened")
    names = {"theory": ("theory_attempts", "theory_passed"),
             "practical": ("practical_results", "practical_passed"),
             "issued": ("certificates_issued", None),
             "suspended": ("certificates_suspended", None),
             "revoked": ("certificates_revoked", None)}
    out: dict[tuple[int, str], dict[str, int]] = {}
    for enterprise_id, category, kind, month, count, passed in db.execute(
            select(Worker.enterprise_id, Worker.job_category, happened.c.kind,
                   happened.c.month, func.count(), func.sum(happened.c.ok))
            .select_from(happened).join(Worker, Worker.id == happened.c.worker_id)
            .where(scope)
            .group_by(Worker.enterprise_id, Worker.job_category, happened.c.kind,
                      happened.c.month)):
        bucket = out.setdefault((enterprise_id, category), {})
        counted, passes = names[kind]
        bucket[counted] = bucket.get(counted, 0) + int(count)
        if passes:
            bucket[passes] = bucket.get(passes, 0) + int(passed or 0)
        if kind == "issued":
            issued_by_month[int(month)] = issued_by_month.get(int(month), 0) + int(count)
    return out


def _compliance(db: Session, scope: ColumnElement[bool], p: Period,
                r: Rules) -> tuple[dict[int, Totals], dict[str, tuple[int, int]]]:
    """The compliance totals of every enterprise in `scope` and the special-operations
    workforce by job category (workers, certified), from one pass over the per-worker rows
    grouped by enterprise, job category and status: the same figures as
    compliance.totals_by_enterprise and compliance.special_workforce, which would each
    rank the region's certificates again."""
    rows = compliance.worker_rows(db=db, scope=scope, period=p, rules=r).subquery("rows")
    base: dict[int, Totals] = {}
    per_category: dict[str, tuple[int, int]] = {}
    for enterprise_id, category, status, count, centi, special, certified in db.execute(
            select(rows.c.enterprise_id, rows.c.job_category, rows.c.status, func.count(),
                   func.sum(rows.c.credited_centi), func.sum(rows.c.special),
                   func.sum(rows.c.certified))
            .group_by(rows.c.enterprise_id, rows.c.job_category, rows.c.status)):
        totals = base.setdefault(enterprise_id, Totals())
        special, certified = int(special or 0), int(certified or 0)
        totals.workers += count
        totals.by_status[status] += count
        totals.credited_centi += int(centi or 0)
        totals.special += special
        totals.certified += certified
        if special:
            workers, holding = per_category.get(category, (0, 0))
            per_category[category] = (workers + special, holding + certified)
    return base, per_category


def _months(db: Session, region: str | None, p: Period, r: Rules,
            issued: dict[int, int]) -> list[MonthLine]:
    """Certificates issued (counted by _activity) and hours credited per month: one statement
    over the enterprises' monthly rollup (models.StudyHoursEnterprise, at most 12 rows per
    enterprise), equal to study_hours summed over the region's workers hired by the year's
    end."""
    seconds = {int(month): (int(online or 0), int(offline or 0))
               for month, online, offline in db.execute(
                   select(StudyHoursEnterprise.month,
                          func.sum(StudyHoursEnterprise.online_seconds),
                          func.sum(StudyHoursEnterprise.offline_seconds))
                   .where(StudyHoursEnterprise.year == p.year,
                          StudyHoursEnterprise.enterprise_id.in_(
                              select(Enterprise.id).where(compliance.region_condition(region))))
                   .group_by(StudyHoursEnterprise.month))}
    last = 12 if p.as_of.year > p.year or p.as_of.month == 12 else p.as_of.month
    lines = []
    for month in range(1, last + 1):
        online, offline = seconds.get(month, (0, 0))
        hours = online / r.online_seconds + offline / r.offline_seconds
        lines.append(MonthLine(month=month, certificates_issued=issued.get(month, 0),
                               hours_credited=round(hours, 1)))
    return lines


def _categories(activity: dict[tuple[int, str], dict[str, int]],
                per_category: dict[str, tuple[int, int]]) -> list[CategoryLine]:
    by_category: dict[str, dict[str, int]] = {}
    for (_enterprise_id, category), values in activity.items():
        bucket = by_category.setdefault(category, {})
        for name, value in values.items():
            bucket[name] = bucket.get(name, 0) + value
    lines = []
    for code in sorted(set(by_category) | set(per_category)):
        a = by_category.get(code, {})
        workers, certified = per_category.get(code, (0, 0))
        lines.append(CategoryLine(
            job_category=code, theory_attempts=a.get("theory_attempts", 0),
            theory_passed=a.get("theory_passed", 0),
            practical_results=a.get("practical_results", 0),
            practical_passed=a.get("practical_passed", 0), workers=workers,
            certified=certified))
    return lines


def subregions(*, db: Session, region: str | None) -> list[Region]:
    """The divisions one level below `region` that hold enterprises (for the drill-down)."""
    length = len(region or "") + 2
    if length > 6:
        return []
    prefix = func.substr(Enterprise.region_code, 1, length)
    codes = {code for (code,) in db.execute(
        select(prefix).where(compliance.region_condition(region),
                             func.length(Enterprise.region_code) >= length).distinct())}
    known = organisations.region_names(db=db, codes=codes)
    return [known.get(code) or Region(code=code, name_en=code, name_zh=code)
            for code in sorted(codes)]


def dashboard(*, db: Session, region: str | None, period: Period,
              details: bool = True) -> Dashboard:
    """The dashboard of a region (None: every region) for a period. With `details`, also the
    charts' monthly trend, the job-category lines and the sub-regions."""
    r = compliance.rules(db=db)
    if db.get_bind().dialect.name == "postgresql":
        # JIT compilation (PostgreSQL's default above a cost of 100,000) adds more to these
        # sub-second GROUP BYs than it saves; off for this transaction only.
        db.execute(text("SET LOCAL jit = off"))
        # The per-worker rows of a whole country (200,000) hash and aggregate in about 20 MB:
        # with the default 4 MB the hashes spill to disk in batches and the grouping sorts.
        db.execute(text("SET LOCAL work_mem = '64MB'"))
    scope = _enterprise_scope(region)
    enterprises = list(db.scalars(select(Enterprise)
                                  .where(compliance.region_condition(region))
                                  .order_by(Enterprise.region_code, Enterprise.name,
                                            Enterprise.id)))
    base, per_category = _compliance(db, scope, period, r)
    issued_by_month: dict[int, int] = {}
    activity = _activity(db, scope, period, issued_by_month)
    per_enterprise: dict[int, dict[str, int]] = {}
    for (enterprise_id, _category), values in activity.items():
        bucket = per_enterprise.setdefault(enterprise_id, {})
        for name, value in values.items():
            bucket[name] = bucket.get(name, 0) + value
    lines = []
    totals = OversightTotals()
    for enterprise in enterprises:
        line_totals = OversightTotals()
        line_totals.add(base.get(enterprise.id, Totals()))
        for name, value in per_enterprise.get(enterprise.id, {}).items():
            setattr(line_totals, name, value)
        totals.add(line_totals)
        lines.append(EnterpriseLine(enterprise_id=enterprise.id, name=enterprise.name,
                                    region_code=enterprise.region_code, totals=line_totals))
    result = Dashboard(region=region, period=period, totals=totals, enterprises=lines,
                       categories=[], months=[])
    if details:
        result.categories = _categories(activity, per_category)
        result.months = _months(db, region, period, r, issued_by_month)
        result.subregions = subregions(db=db, region=region)
    return result


def as_dict(board: Dashboard) -> dict[str, Any]:
    """The contract's JSON of a dashboard."""
    return {
        "region": board.region, "year": board.period.year,
        "totals": {**board.totals.as_dict(), "enterprises": len(board.enterprises)},
        "enterprises": [{"enterprise_id": line.enterprise_id, "name": line.name,
                         "region_code": line.region_code, "totals": line.totals.as_dict()}
                        for line in board.enterprises],
        "job_categories": [{"job_category": c.job_category,
                            "theory_attempts": c.theory_attempts,
                            "theory_passed": c.theory_passed,
                            "theory_pass_rate": c.theory_pass_rate,
                            "practical_results": c.practical_results,
                            "practical_passed": c.practical_passed,
                            "practical_pass_rate": c.practical_pass_rate,
                            "special_operations_workers": c.workers,
                            "special_operations_certified": c.certified,
                            "certified_share": c.certified_share}
                           for c in board.categories],
        "months": [{"month": m.month, "certificates_issued": m.certificates_issued,
                    "hours_credited": m.hours_credited} for m in board.months],
    }
