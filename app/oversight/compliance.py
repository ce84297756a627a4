"""Enterprise compliance for one year: per worker the required and credited class hours, overdue
initial training, theory pass, current certificates and one status; totals per enterprise.

Everything is computed with set-based SQL over a scope of workers (one enterprise, or every
enterprise of a region): one statement for the per-worker rows (`worker_rows`), one GROUP BY
for the totals, two more for the details of a page of rows. Nothing runs per worker, so the
number of statements does not grow with the workforce. Definitions: docs/oversight.md.

Public API (keyword-only; used by the dashboard, the worker transcript and the assessment):
`period`, `rules`, `scope_of_enterprise`, `scope_of_region`, `totals_by_enterprise`,
`enterprise_compliance`, `compliance_rows`, `worker_compliance`.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from app.certificates.models import Certificate, CertificateStatus
from app.db import utcnow
from app.exams.models import Attempt, AttemptStatus
from app.i18n import LOCAL_TZ, N_
from app.learning import profiles
from app.learning.models import Enrolment, EnrolmentStatus, StudyMode
from app.organisations import reference
from app.organisations.models import Enterprise, EnterpriseKind, Worker
from app.oversight.models import StudyHours

# A valid certificate whose expiry or review falls within this many days counts as expiring
# (issue 10: "certificate expiring within 90 days"; a display window, not a rule of law).
EXPIRING_WITHIN_DAYS = 90
# Enrolments that are still owed: a completed or withdrawn one is never overdue.
OPEN_ENROLMENT = (EnrolmentStatus.ACTIVE.value, EnrolmentStatus.RETRAINING.value)
# Certificates whose holder may not work under them any more.
BAD_CERTIFICATE = (CertificateStatus.SUSPENDED.value, CertificateStatus.REVOKED.value)


class ComplianceStatus(StrEnum):
    """A worker's status for the year: the first of these that applies."""

    CERTIFICATE_EXPIRED_OR_SUSPENDED = "certificate_expired_or_suspended"
    OVERDUE_INITIAL = "overdue_initial"
    CERTIFICATE_EXPIRING = "certificate_expiring"
    SHORT_OF_HOURS = "short_of_hours"
    COMPLIANT = "compliant"


# Precedence (first applies) and the key each status is counted under in the totals (API.md).
STATUS_ORDER = tuple(ComplianceStatus)
TOTALS_KEY = {
    ComplianceStatus.COMPLIANT: "compliant",
    ComplianceStatus.SHORT_OF_HOURS: "short_of_hours",
    ComplianceStatus.OVERDUE_INITIAL: "overdue_initial",
    ComplianceStatus.CERTIFICATE_EXPIRING: "certificates_expiring_90d",
    ComplianceStatus.CERTIFICATE_EXPIRED_OR_SUSPENDED: "certificates_expired_or_suspended",
}
TOTALS_KEYS = ("workers", "compliant", "short_of_hours", "overdue_initial",
               "certificates_expiring_90d", "certificates_expired_or_suspended")
STATUS_LABELS = {
    ComplianceStatus.COMPLIANT.value: N_("Compliant"),
    ComplianceStatus.SHORT_OF_HOURS.value: N_("Short of hours"),
    ComplianceStatus.OVERDUE_INITIAL.value: N_("Initial training overdue"),
    ComplianceStatus.CERTIFICATE_EXPIRING.value: N_("Certificate expiring within 90 days"),
    ComplianceStatus.CERTIFICATE_EXPIRED_OR_SUSPENDED.value:
        N_("Certificate expired, suspended or revoked"),
}
# ?sort= values: a column, '-' first for descending.
SORTS = ("name", "job_category", "team", "status", "required_hours", "credited_hours", "shortfall",
         "hired_on")


@dataclass(frozen=True)
class Period:
    """The year asked for and the day its dated rules are judged on: today for the current (or
    a future) year, 31 December for a past year."""

    year: int
    as_of: date

    @property
    def start(self) -> date:
        return date(self.year, 1, 1)

    @property
    def end(self) -> date:
        return date(self.year, 12, 31)

    @property
    def start_at(self) -> datetime:
        """1 January 00:00 Beijing time, for timestamps (attempts, results, events)."""
        return datetime.combine(self.start, time(0), tzinfo=LOCAL_TZ)

    @property
    def end_at(self) -> datetime:
        """The first moment after the year, Beijing time."""
        return datetime.combine(date(self.year + 1, 1, 1), time(0), tzinfo=LOCAL_TZ)


def today() -> date:
    """Today's date in Beijing (the ledger's calendar)."""
    return utcnow().astimezone(LOCAL_TZ).date()


def period(*, year: int | None = None, on: date | None = None) -> Period:
    """The period of `year` (default: the current year) judged on `on` (default: today)."""
    on = on or today()
    year = year or on.year
    return Period(year=year, as_of=min(on, date(year, 12, 31)))


@dataclass(frozen=True)
class Rules:
    """The active rule profile's values that compliance needs (docs/oversight.md)."""

    online_seconds: int    # credited seconds of one online class hour
    offline_seconds: int   # ... of one offline class hour
    hours: dict[str, dict[str, float]]  # job category -> {"initial", "annual"}
    initial_training_days: int
    theory_pass_valid_months: int

    def required(self, job_category: str, *, initial: bool) -> float:
        """Class hours a worker of `job_category` owes in the year."""
        hours = self.hours.get(job_category, {"initial": 0.0, "annual": 0.0})
        return hours["initial" if initial else "annual"]


def _profile_value(profile: Any, *path: str) -> Any:
    """A value of the active profile; a profile stored before the key was added falls back to
    the shipped copy of the same profile (the value is still data, never a constant here)."""
    for data in (profile.data, profiles.shipped_profiles().get(profile.code, {}),
                 profiles.shipped_profiles()[profiles.DEFAULT_PROFILE]):
        value: Any = data
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if value is not None:
            return value
    raise KeyError("/".join(path))


def rules(*, db: Session) -> Rules:
    """The compliance rules of the active profile."""
    profile = profiles.cached_profile(db=db)
    categories = {c["code"] for c in reference.job_categories()} | \
        set(profile.data.get("hours", {}))
    return Rules(
        online_seconds=profiles.class_hour_seconds(profile, StudyMode.ONLINE.value),
        offline_seconds=profiles.class_hour_seconds(profile, StudyMode.OFFLINE.value),
        hours={code: profiles.required_hours(profile, code) for code in sorted(categories)},
        initial_training_days=int(_profile_value(profile, "initial_training_days")),
        theory_pass_valid_months=int(_profile_value(
            profile, "special_operations", "exam", "theory_pass_valid_months")))


# --- scopes ------------------------------------------------------------------------------------

def scope_of_enterprise(enterprise_id: int) -> ColumnElement[bool]:
    """Condition on Worker: the workers of one enterprise."""
    return Worker.enterprise_id == enterprise_id


def region_condition(region: str | None) -> ColumnElement[bool]:
    """Condition on Enterprise: enterprises of a region (prefix match), or all with None.
    Supervisory agencies (kind 'agency', whose rosters hold cadres) are never enterprises here."""
    is_enterprise = Enterprise.kind != EnterpriseKind.AGENCY.value
    if not region:
        return is_enterprise
    return and_(Enterprise.region_code.startswith(region, autoescape=True), is_enterprise)


def scope_of_region(region: str | None) -> ColumnElement[bool]:
    """Condition on Worker: the workers of every enterprise of a region (None: everywhere);
    supervisory cadres (in agencies' rosters) are not counted."""
    if not region:
        # Agencies are few: leaving their rosters out is cheaper than listing every enterprise.
        return Worker.enterprise_id.not_in(
            select(Enterprise.id).where(Enterprise.kind == EnterpriseKind.AGENCY.value))
    return Worker.enterprise_id.in_(select(Enterprise.id).where(region_condition(region)))


# --- the per-worker rows in SQL ----------------------------------------------------------------

def _requirements(r: Rules) -> Any:
    """The profile's hours per job category as a small derived table (job_category,
    initial_centi, annual_centi): hours x 100, joined instead of a CASE per category."""
    parts = [select(literal(code).label("job_category"),
                    literal(round(hours["initial"] * 100)).label("initial_centi"),
                    literal(round(hours["annual"] * 100)).label("annual_centi"))
             for code, hours in r.hours.items()]
    return union_all(*parts).subquery("required")


def current_certificates(*, counted: ColumnElement[bool], as_of: date) -> Any:
    """Per worker in `counted`, flags over its current certificates (the latest of each
    program issued by `as_of`): `bad` (suspended, revoked or expired), `expiring` (valid, expiry
    or review within EXPIRING_WITHIN_DAYS) and `certified` (a valid one of its own category)."""
    # Older certificates of a program were superseded (an expired one followed by a new one is
    # no problem).
    ranked = (select(Certificate.worker_id.label("worker_id"),
                     Certificate.status.label("status"),
                     Certificate.expires_on.label("expires_on"),
                     Certificate.review_due_on.label("review_due_on"),
                     (Certificate.job_category == Worker.job_category).label("own_category"),
                     func.row_number().over(
                         partition_by=(Certificate.worker_id, Certificate.course_code),
                         order_by=(Certificate.issued_on.desc(), Certificate.id.desc()))
                     .label("rank"))
              .join(Worker, Worker.id == Certificate.worker_id)
              .where(counted, Certificate.issued_on <= as_of).subquery("ranked"))
    soon = as_of + timedelta(days=EXPIRING_WITHIN_DAYS)
    valid_now = and_(ranked.c.status == CertificateStatus.VALID.value,
                     ranked.c.expires_on >= as_of)
    return (select(ranked.c.worker_id.label("worker_id"),
                   func.max(case((or_(ranked.c.status.in_(BAD_CERTIFICATE),
                                      ranked.c.expires_on < as_of), 1), else_=0)).label("bad"),
                   func.max(case((and_(valid_now, or_(
                       ranked.c.expires_on <= soon, ranked.c.review_due_on <= soon)), 1),
                       else_=0)).label("expiring"),
                   func.max(case((and_(valid_now, ranked.c.own_category), 1),
                                 else_=0)).label("certified"))
            .where(ranked.c.rank == 1).group_by(ranked.c.worker_id).subquery("certs"))


def special_workforce(*, db: Session, scope: ColumnElement[bool],
                      period: Period) -> dict[str, tuple[int, int]]:
    """Special-operations workers counted in the year by job category: (workers, holding a
    valid certificate of their own category). One statement."""
    counted = and_(scope, Worker.hired_on <= period.end,
                   Worker.job_category.in_(sorted(reference.special_operation_codes())))
    certs = current_certificates(counted=counted, as_of=period.as_of)
    return {code: (int(workers), int(certified or 0)) for code, workers, certified in db.execute(
        select(Worker.job_category, func.count(),
               func.sum(case((certs.c.certified == 1, 1), else_=0)))
        .select_from(Worker).outerjoin(certs, certs.c.worker_id == Worker.id)
        .where(counted).group_by(Worker.job_category))}


def worker_rows(*, db: Session, scope: ColumnElement[bool], period: Period,
                rules: Rules) -> Select[Any]:
    """One row per worker counted in the year (hired by its end) within `scope`: ids, name,
    category, hours in hundredths (`required_centi`, `credited_centi`), flags and `status`.
    A select to filter, group or page; it runs no statement itself."""
    start, end, as_of = period.start, period.end, period.as_of
    counted = and_(scope, Worker.hired_on <= end)
    # The year's ledger seconds per worker, as the database keeps them (models.StudyHours).
    ledger = (select(StudyHours.worker_id.label("worker_id"),
                     StudyHours.online_seconds.label("online"),
                     StudyHours.offline_seconds.label("offline"))
              .where(StudyHours.year == period.year, StudyHours.month == 0)
              .subquery("ledger"))
    # Only workers hired in the year can be overdue with their initial training.
    overdue_enrolment = (select(Enrolment.worker_id.label("worker_id"))
                         .join(Worker, Worker.id == Enrolment.worker_id)
                         .where(counted, Worker.hired_on >= start, Enrolment.deadline < as_of,
                                Enrolment.status.in_(OPEN_ENROLMENT))
                         .group_by(Enrolment.worker_id).subquery("late"))
    certs = current_certificates(counted=counted, as_of=as_of)
    required_table = _requirements(rules)

    a, b = rules.online_seconds, rules.offline_seconds
    online = func.coalesce(ledger.c.online, 0)
    offline = func.coalesce(ledger.c.offline, 0)
    # Hours x 100 rounded half up, in integers on both databases: online/a + offline/b hours.
    credited = (online * (100 * b) + offline * (100 * a) + (a * b) // 2) // (a * b)
    hired_in_year = Worker.hired_on >= start
    required = case((hired_in_year, func.coalesce(required_table.c.initial_centi, 0)),
                    else_=func.coalesce(required_table.c.annual_centi, 0))
    short = credited < required
    overdue = and_(hired_in_year, short, or_(
        overdue_enrolment.c.worker_id.is_not(None),
        Worker.hired_on < as_of - timedelta(days=rules.initial_training_days)))
    bad = func.coalesce(certs.c.bad, 0) == 1
    expiring = func.coalesce(certs.c.expiring, 0) == 1
    status = case((bad, ComplianceStatus.CERTIFICATE_EXPIRED_OR_SUSPENDED.value),
                  (overdue, ComplianceStatus.OVERDUE_INITIAL.value),
                  (expiring, ComplianceStatus.CERTIFICATE_EXPIRING.value),
                  (short, ComplianceStatus.SHORT_OF_HOURS.value),
                  else_=ComplianceStatus.COMPLIANT.value)
    rank = case((bad, 0), (overdue, 1), (expiring, 2), (short, 3), else_=4)  # STATUS_ORDER
    special = Worker.job_category.in_(sorted(reference.special_operation_codes()))
    return (select(Worker.id.label("worker_id"), Worker.enterprise_id.label("enterprise_id"),
                   Worker.full_name.label("full_name"), Worker.job_category.label("job_category"),
                   Worker.team.label("team"),
                   Worker.hired_on.label("hired_on"),
                   case((hired_in_year, literal("initial")), else_=literal("annual"))
                   .label("requirement"),
                   required.label("required_centi"), credited.label("credited_centi"),
                   online.label("online_seconds"), offline.label("offline_seconds"),
                   case((short, required - credited), else_=0).label("shortfall_centi"),
                   case((overdue, 1), else_=0).label("overdue_initial"),
                   status.label("status"), rank.label("status_rank"),
                   case((special, 1), else_=0).label("special"),
                   case((and_(special, func.coalesce(certs.c.certified, 0) == 1), 1),
                        else_=0).label("certified"))
            .select_from(Worker)
            .outerjoin(ledger, ledger.c.worker_id == Worker.id)
            .outerjoin(overdue_enrolment, overdue_enrolment.c.worker_id == Worker.id)
            .outerjoin(certs, certs.c.worker_id == Worker.id)
            .outerjoin(required_table, required_table.c.job_category == Worker.job_category)
            .where(counted))


# --- totals ------------------------------------------------------------------------------------

@dataclass
class Totals:
    """Counts of workers per status, with the hours they were credited and the
    special-operations workforce (all additive: a region's totals are its enterprises' sums)."""

    workers: int = 0
    by_status: dict[str, int] = field(default_factory=lambda: {s.value: 0 for s in STATUS_ORDER})
    credited_centi: int = 0
    special: int = 0
    certified: int = 0

    def add(self, other: Totals) -> None:
        """Add another scope's totals to these."""
        self.workers += other.workers
        for key, value in other.by_status.items():
            self.by_status[key] += value
        self.credited_centi += other.credited_centi
        self.special += other.special
        self.certified += other.certified

    def as_dict(self) -> dict[str, int]:
        """The contract's totals: "workers" and one count per status."""
        out = {"workers": self.workers}
        for status in STATUS_ORDER:
            out[TOTALS_KEY[status]] = self.by_status[status.value]
        return out


def totals_by_enterprise(*, db: Session, scope: ColumnElement[bool], period: Period,
                         rules: Rules) -> dict[int, Totals]:
    """Totals of every enterprise with counted workers in `scope` (one GROUP BY statement)."""
    rows = worker_rows(db=db, scope=scope, period=period, rules=rules).subquery("rows")
    result: dict[int, Totals] = {}
    statement = (select(rows.c.enterprise_id, rows.c.status, func.count(),
                        func.sum(rows.c.credited_centi), func.sum(rows.c.special),
                        func.sum(rows.c.certified))
                 .group_by(rows.c.enterprise_id, rows.c.status))
    for enterprise_id, status, count, centi, special, certified in db.execute(statement):
        totals = result.setdefault(enterprise_id, Totals())
        totals.workers += count
        totals.by_status[status] += count
        totals.credited_centi += int(centi or 0)
        totals.special += int(special or 0)
        totals.certified += int(certified or 0)
    return result


# --- one enterprise's rows with their details ---------------------------------------------------

@dataclass(frozen=True)
class CertificateState:
    """A worker's current certificate of one program, judged on the period's reference day."""

    number: str
    title: dict[str, str]
    job_category: str
    status: str  # valid, expired, suspended, revoked
    issued_on: date
    expires_on: date
    review_due_on: date | None
    days_to_expiry: int
    days_to_review: int | None


@dataclass(frozen=True)
class WorkerCompliance:
    """One worker's compliance row for a year (hours rounded to hundredths)."""

    worker_id: int
    enterprise_id: int
    full_name: str
    job_category: str
    hired_on: date
    requirement: str  # "initial" (hired in the year) or "annual"
    required_hours: float
    credited_hours: float
    online_seconds: int
    offline_seconds: int
    shortfall_hours: float
    overdue_initial: bool
    status: str
    theory_pass_valid_until: date | None = None
    certificates: tuple[CertificateState, ...] = ()
    team: str | None = None

    @property
    def days_to_expiry(self) -> int | None:
        """The soonest expiry among the current certificates (negative: past)."""
        return min((c.days_to_expiry for c in self.certificates), default=None)

    @property
    def days_to_review(self) -> int | None:
        """The soonest review due among the current certificates."""
        return min((c.days_to_review for c in self.certificates
                    if c.days_to_review is not None), default=None)


@dataclass(frozen=True)
class CompliancePage:
    """A page of one enterprise's rows, the number matching the filters, and the totals of all
    its workers (filters and paging never change the totals)."""

    period: Period
    enterprise_id: int
    totals: Totals
    items: list[WorkerCompliance]
    total: int


def add_months(day: date, months: int) -> date:
    """`day` plus whole calendar months (31 March + 1 month = 30 April)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _order(rows: Any, sort: str) -> list[Any]:
    descending = sort.startswith("-")
    column = {"name": rows.c.full_name, "job_category": rows.c.job_category,
              "team": rows.c.team,
              "status": rows.c.status_rank, "required_hours": rows.c.required_centi,
              "credited_hours": rows.c.credited_centi, "shortfall": rows.c.shortfall_centi,
              "hired_on": rows.c.hired_on}[sort.lstrip("-")]
    return [column.desc() if descending else column.asc(), rows.c.worker_id.asc()]


def clean_sort(value: str | None) -> str:
    """A known sort key (default: status, most urgent first); anything else is None."""
    if not value:
        return "status"
    return value if value.lstrip("-") in SORTS and value.count("-") <= 1 else ""


def _details(db: Session, rows: Sequence[Any], period: Period,
             rules: Rules) -> list[WorkerCompliance]:
    """The rows with theory pass and certificates: two statements for any number of rows."""
    ids = [row.worker_id for row in rows]
    passes: dict[int, datetime] = {}
    certificates: dict[int, list[CertificateState]] = {}
    if ids:
        passes = {worker_id: at for worker_id, at in db.execute(
            select(Attempt.worker_id, func.max(Attempt.submitted_at))
            .where(Attempt.worker_id.in_(ids), Attempt.passed.is_(True),
                   Attempt.status == AttemptStatus.SUBMITTED.value,
                   Attempt.submitted_at < period.end_at)
            .group_by(Attempt.worker_id)) if at is not None}
        seen: set[tuple[int, str]] = set()
        for cert in db.scalars(select(Certificate)
                               .where(Certificate.worker_id.in_(ids),
                                      Certificate.issued_on <= period.as_of)
                               .order_by(Certificate.worker_id, Certificate.issued_on.desc(),
                                         Certificate.id.desc())):
            if (cert.worker_id, cert.course_code) in seen:
                continue  # superseded by a later certificate of the same program
            seen.add((cert.worker_id, cert.course_code))
            status = cert.status
            if status == CertificateStatus.VALID.value and cert.expires_on < period.as_of:
                status = CertificateStatus.EXPIRED.value
            certificates.setdefault(cert.worker_id, []).append(CertificateState(
                number=cert.number, title=cert.title, job_category=cert.job_category,
                status=status, issued_on=cert.issued_on, expires_on=cert.expires_on,
                review_due_on=cert.review_due_on,
                days_to_expiry=(cert.expires_on - period.as_of).days,
                days_to_review=(cert.review_due_on - period.as_of).days
                if cert.review_due_on else None))
    out = []
    for row in rows:
        passed_at = passes.get(row.worker_id)
        valid_until = None if passed_at is None else \
            add_months(_local_date(passed_at), rules.theory_pass_valid_months)
        out.append(WorkerCompliance(
            worker_id=row.worker_id, enterprise_id=row.enterprise_id, full_name=row.full_name,
            job_category=row.job_category, hired_on=row.hired_on, requirement=row.requirement,
            required_hours=row.required_centi / 100, credited_hours=row.credited_centi / 100,
            online_seconds=int(row.online_seconds), offline_seconds=int(row.offline_seconds),
            shortfall_hours=row.shortfall_centi / 100,
            overdue_initial=bool(row.overdue_initial), status=row.status,
            theory_pass_valid_until=valid_until,
            certificates=tuple(certificates.get(row.worker_id, ())), team=row.team))
    return out


def _local_date(moment: datetime) -> date:
    """The Beijing day of a stored moment (stored in UTC; SQLite returns it naive)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(LOCAL_TZ).date()


def _filtered(db: Session, *, enterprise_id: int, period: Period, rules: Rules,
              status: str | None, job_category: str | None, team: str | None = None) -> Any:
    rows = worker_rows(db=db, scope=scope_of_enterprise(enterprise_id), period=period,
                       rules=rules).subquery("rows")
    conditions = []
    if status:
        conditions.append(rows.c.status == status)
    if job_category:
        conditions.append(rows.c.job_category == job_category)
    if team:
        conditions.append(rows.c.team == team)
    return rows, conditions


def enterprise_compliance(*, db: Session, enterprise_id: int, period: Period,
                          status: str | None = None, job_category: str | None = None,
                          team: str | None = None, sort: str = "status", page: int = 1,
                          page_size: int = 25) -> CompliancePage:
    """One enterprise's totals (every worker) and a page of its rows matching the filters,
    sorted by `sort` (see SORTS; '-' first for descending). Five statements in all."""
    r = rules(db=db)
    totals = totals_by_enterprise(db=db, scope=scope_of_enterprise(enterprise_id),
                                  period=period, rules=r).get(enterprise_id, Totals())
    rows, conditions = _filtered(db, enterprise_id=enterprise_id, period=period, rules=r,
                                 status=status, job_category=job_category, team=team)
    if not conditions:
        total = totals.workers
    else:
        total = int(db.scalar(select(func.count()).select_from(rows).where(*conditions)) or 0)
    page_rows = db.execute(select(rows).where(*conditions).order_by(*_order(rows, sort))
                           .limit(page_size).offset((page - 1) * page_size)).all()
    return CompliancePage(period=period, enterprise_id=enterprise_id, totals=totals,
                          items=_details(db, page_rows, period, r), total=total)


def compliance_rows(*, db: Session, enterprise_id: int, period: Period,
                    status: str | None = None, job_category: str | None = None,
                    team: str | None = None, sort: str = "status") -> list[WorkerCompliance]:
    """Every row matching the filters in the page's order (for the workbook)."""
    r = rules(db=db)
    rows, conditions = _filtered(db, enterprise_id=enterprise_id, period=period, rules=r,
                                 status=status, job_category=job_category, team=team)
    found = db.execute(select(rows).where(*conditions).order_by(*_order(rows, sort))).all()
    return _details(db, found, period, r)


def worker_compliance(*, db: Session, worker: Worker, year: int | None = None,
                      on: date | None = None) -> WorkerCompliance | None:
    """One worker's row for a year, or None when the worker was hired after that year."""
    p = period(year=year, on=on)
    r = rules(db=db)
    found = db.execute(worker_rows(db=db, scope=Worker.id == worker.id, period=p,
                                   rules=r)).all()
    return _details(db, found, p, r)[0] if found else None
