"""Plan-implementation assessment: indicators of a region for a year (or up to a cut-off day),
admins' targets for them, and snapshots frozen for an assessment date (mid-term, final).

The numbers come from the platform's own records with set-based SQL: the compliance rows and
the dashboard's totals (app/oversight/compliance.py, dashboard.py, so they agree with the
dashboard) plus four statements of our own (trained workers, completions, sessions held,
bases). Definitions: docs/oversight.md, "Plan-implementation assessment".
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, String, and_, case, cast, func, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.accounts import service as accounts
from app.accounts.models import Role, User
from app.courses.models import Lesson, LessonKind
from app.db import utcnow
from app.errors import Conflict, Forbidden, Invalid, NotFound
from app.i18n import LOCAL_TZ, N_
from app.i18n import gettext as _
from app.learning.models import Enrolment, EnrolmentStatus, LessonProgress
from app.organisations.models import Worker
from app.oversight import compliance, dashboard
from app.oversight.assessment_models import NATIONAL, AssessmentSnapshot, AssessmentTarget
from app.oversight.compliance import ComplianceStatus, Period
from app.practicals.models import BaseKind, PracticalSession, SessionStatus, TestCentre

# Units whose values (and targets) are whole numbers.
COUNT_UNITS = frozenset({"workers", "enterprises", "courses", "lessons", "sessions", "bases"})
LABEL_MAX = 60
# The two assessment dates of the plan, offered by the form (any label and past day may be used).
SUGGESTED_SNAPSHOTS = (("mid-term", date(2023, 12, 31)), ("final", date(2025, 12, 31)))
TARGET_MAX = 1_000_000_000


@dataclass(frozen=True)
class Indicator:
    """One indicator: a stable code, its name (translated when shown) and its unit."""

    code: str
    name: str
    unit: str


INDICATORS: tuple[Indicator, ...] = (
    Indicator("workers_trained_initial", N_("Workers who completed initial training hours"),
              "workers"),
    Indicator("workers_trained_annual", N_("Workers who completed annual training hours"),
              "workers"),
    Indicator("hours_per_worker", N_("Class hours credited per worker"), "hours"),
    Indicator("special_ops_workers", N_("Special-operations workers"), "workers"),
    Indicator("special_ops_certified", N_("Special-operations workers certified"), "workers"),
    Indicator("special_ops_certified_share", N_("Share of special-operations workers certified"),
              "percent"),
    Indicator("theory_pass_rate", N_("Theory exam pass rate"), "percent"),
    Indicator("practical_pass_rate", N_("Practical test pass rate"), "percent"),
    Indicator("enterprises_fully_compliant", N_("Enterprises fully compliant"), "enterprises"),
    Indicator("enterprises_fully_compliant_share", N_("Share of enterprises fully compliant"),
              "percent"),
    Indicator("courses_completed", N_("Courses completed"), "courses"),
    Indicator("case_lessons_completed", N_("Warning-education (case) lessons completed"),
              "lessons"),
    Indicator("practical_tests_held", N_("Practical test sessions held at bases"), "sessions"),
    Indicator("training_bases_practical_test", N_("Practical-test bases"), "bases"),
    Indicator("training_bases_skills_training", N_("Skills-training bases"), "bases"),
    Indicator("training_bases_warning_education", N_("Warning-education bases"), "bases"),
)
BY_CODE = {i.code: i for i in INDICATORS}
UNIT_LABELS = {
    "workers": N_("workers"), "hours": N_("hours"), "percent": N_("percent"),
    "enterprises": N_("enterprises"), "courses": N_("courses"), "lessons": N_("lessons"),
    "sessions": N_("sessions"), "bases": N_("bases"),
}
BASE_KIND_CODES = {"training_bases_practical_test": BaseKind.PRACTICAL_TEST.value,
                   "training_bases_skills_training": BaseKind.SKILLS_TRAINING.value,
                   "training_bases_warning_education": BaseKind.WARNING_EDUCATION.value}


@dataclass(frozen=True)
class Cutoff(Period):
    """A period that ends on its `as_of` day instead of 31 December: a snapshot counts what was
    recorded from 1 January of as_of's year up to and including as_of."""

    @property
    def end(self) -> date:
        return self.as_of

    @property
    def end_at(self) -> datetime:
        return datetime.combine(self.as_of + timedelta(days=1), time(0), tzinfo=LOCAL_TZ)


def cutoff(as_of: date) -> Cutoff:
    """The period of as_of's year up to as_of."""
    return Cutoff(year=as_of.year, as_of=as_of)


@dataclass(frozen=True)
class Value:
    """An indicator's value and target (None: nothing to measure / no target set)."""

    code: str
    value: float | None
    target: float | None

    @property
    def indicator(self) -> Indicator:
        return BY_CODE[self.code]

    @property
    def met(self) -> bool | None:
        """Every indicator counts up: met when the value reaches the target."""
        if self.value is None or self.target is None:
            return None
        return self.value >= self.target


@dataclass(frozen=True)
class Assessment:
    region: str | None
    year: int
    as_of: date
    values: list[Value]


# --- jurisdiction ------------------------------------------------------------------------------

def can_assess(user: User) -> bool:
    """Admins, and regulators with a region, read the assessment."""
    return dashboard.can_oversee(user)


def region_for(*, db: Session, user: User, region: str | None) -> str | None:
    """The region asked for, within the user's jurisdiction: a regulator its own region (the
    default) or below (another: 404), an admin any region or the country (None)."""
    if not can_assess(user):
        raise Forbidden(_("Only regulators and administrators see the plan assessment."))
    return dashboard.region_for(db=db, user=user, region=region)


def require_admin(user: User) -> None:
    """Targets and snapshots are set by administrators only."""
    if not user.has_role(Role.ADMIN):
        raise Forbidden(_("Only administrators set targets and freeze snapshots."))


def _stored(region: str | None) -> str:
    return region or NATIONAL


# --- the numbers -------------------------------------------------------------------------------

def _percent(part: int, whole: int) -> float | None:
    return round(part * 100 / whole, 2) if whole else None


def _trained(db: Session, region: str | None, p: Period,
             r: compliance.Rules) -> dict[str, int]:
    """Workers who owed initial / annual hours in the period and were credited them all."""
    rows = compliance.worker_rows(db=db, scope=compliance.scope_of_region(region), period=p,
                                  rules=r).subquery("rows")
    reached = and_(rows.c.required_centi > 0, rows.c.credited_centi >= rows.c.required_centi)
    return {requirement: int(count or 0) for requirement, count in db.execute(
        select(rows.c.requirement, func.sum(case((reached, 1), else_=0)))
        .group_by(rows.c.requirement))}


def _completions(db: Session, region: str | None, p: Period) -> tuple[int, int]:
    """Courses completed and case lessons completed in the period by the region's workers."""
    scope = compliance.scope_of_region(region)
    courses = db.scalar(
        select(func.count()).select_from(Enrolment).join(Worker, Worker.id == Enrolment.worker_id)
        .where(scope, Enrolment.status == EnrolmentStatus.COMPLETED.value,
               Enrolment.completed_at >= p.start_at, Enrolment.completed_at < p.end_at))
    lessons = db.scalar(
        select(func.count()).select_from(LessonProgress)
        .join(Lesson, Lesson.id == LessonProgress.lesson_id)
        .join(Enrolment, Enrolment.id == LessonProgress.enrolment_id)
        .join(Worker, Worker.id == Enrolment.worker_id)
        .where(scope, Lesson.kind == LessonKind.CASE.value,
               LessonProgress.completed_at >= p.start_at, LessonProgress.completed_at < p.end_at))
    return int(courses or 0), int(lessons or 0)


def _centre_region(region: str | None) -> ColumnElement[bool]:
    if not region:
        return true()
    return TestCentre.region_code.startswith(region, autoescape=True)


def _sessions_held(db: Session, region: str | None, p: Period) -> int:
    """Sessions at the region's bases that took place in the period: not cancelled, started in
    it and over by now."""
    ended_by = min(p.end_at, utcnow())
    return int(db.scalar(
        select(func.count()).select_from(PracticalSession)
        .join(TestCentre, TestCentre.id == PracticalSession.test_centre_id)
        .where(_centre_region(region), PracticalSession.status != SessionStatus.CANCELLED.value,
               PracticalSession.starts_at >= p.start_at, PracticalSession.starts_at < p.end_at,
               PracticalSession.ends_at <= ended_by)) or 0)


def _bases(db: Session, region: str | None, p: Period) -> dict[str, int]:
    """Training bases of the region registered by the period's end, by kind (one statement;
    a base of several kinds counts under each)."""
    kinds = cast(TestCentre.kinds, String)
    columns = [func.sum(case((kinds.like(f'%"{kind}"%'), 1), else_=0))
               for kind in BASE_KIND_CODES.values()]
    row = db.execute(select(*columns).where(_centre_region(region),
                                            TestCentre.created_at < p.end_at)).one()
    return {code: int(value or 0) for code, value in zip(BASE_KIND_CODES, row, strict=True)}


def measure(*, db: Session, region: str | None, period: Period) -> dict[str, float | None]:
    """Every indicator's value for a region (None: the country) in a period."""
    r = compliance.rules(db=db)
    board = dashboard.dashboard(db=db, region=region, period=period, details=False)
    totals = board.totals
    with_workers = [line for line in board.enterprises if line.totals.workers]
    compliant = sum(1 for line in with_workers if line.totals.by_status[
        ComplianceStatus.COMPLIANT.value] == line.totals.workers)
    trained = _trained(db, region, period, r)
    courses, lessons = _completions(db, region, period)
    values: dict[str, float | None] = {
        "workers_trained_initial": trained.get("initial", 0),
        "workers_trained_annual": trained.get("annual", 0),
        "hours_per_worker": round(totals.credited_centi / totals.workers / 100, 2)
        if totals.workers else None,
        "special_ops_workers": totals.special,
        "special_ops_certified": totals.certified,
        "special_ops_certified_share": _percent(totals.certified, totals.special),
        "theory_pass_rate": _percent(totals.theory_passed, totals.theory_attempts),
        "practical_pass_rate": _percent(totals.practical_passed, totals.practical_results),
        "enterprises_fully_compliant": compliant,
        "enterprises_fully_compliant_share": _percent(compliant, len(with_workers)),
        "courses_completed": courses,
        "case_lessons_completed": lessons,
        "practical_tests_held": _sessions_held(db, region, period),
        **_bases(db, region, period),
    }
    return {i.code: values[i.code] for i in INDICATORS}


def assessment(*, db: Session, region: str | None, year: int) -> Assessment:
    """The indicators of a region (None: the country) for a year, with that year's targets
    (the same period as the dashboard: judged today in the current year)."""
    p = compliance.period(year=year)
    values = measure(db=db, region=region, period=p)
    targets = get_targets(db=db, region=region, year=year)
    return Assessment(region=region, year=year, as_of=p.as_of, values=[
        Value(code=code, value=value, target=targets.get(code)) for code, value in values.items()])


def indicator_dict(item: Value) -> dict[str, Any]:
    """The contract's {"code","name","value","target","unit"} (plus "met")."""
    indicator = item.indicator
    return {"code": item.code, "name": _(indicator.name), "value": item.value,
            "target": item.target, "unit": indicator.unit, "met": item.met}


def as_dict(result: Assessment) -> dict[str, Any]:
    """The contract's JSON of an assessment."""
    return {"region": result.region, "year": result.year, "as_of": result.as_of,
            "indicators": [indicator_dict(v) for v in result.values]}


# --- targets -----------------------------------------------------------------------------------

def get_targets(*, db: Session, region: str | None, year: int) -> dict[str, float]:
    """The targets set for a region (None: the country) and year, by indicator code."""
    return {code: value for code, value in db.execute(
        select(AssessmentTarget.indicator_code, AssessmentTarget.value)
        .where(AssessmentTarget.region_code == _stored(region), AssessmentTarget.year == year))
        if code in BY_CODE}


def clean_targets(values: dict[str, Any]) -> dict[str, float | None]:
    """Known codes with a number of their unit (None clears); 422 naming each bad field."""
    errors: list[dict[str, Any]] = []
    clean: dict[str, float | None] = {}
    for code, raw in values.items():
        loc = ["targets", code]
        indicator = BY_CODE.get(code)
        if indicator is None:
            errors.append({"loc": loc, "msg": _("Unknown indicator.")})
            continue
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            clean[code] = None
            continue
        try:
            if isinstance(raw, bool):
                raise ValueError
            number = float(str(raw).strip()) if isinstance(raw, str) else float(raw)
        except (TypeError, ValueError):
            errors.append({"loc": loc, "msg": _("Enter a number.")})
            continue
        if not math.isfinite(number) or number < 0 or number > TARGET_MAX:
            errors.append({"loc": loc, "msg": _("Enter a number from 0 to {max}.").format(
                max=f"{TARGET_MAX:,}")})
        elif indicator.unit == "percent" and number > 100:
            errors.append({"loc": loc, "msg": _("A percentage is at most 100.")})
        elif indicator.unit in COUNT_UNITS and not number.is_integer():
            errors.append({"loc": loc, "msg": _("Enter a whole number.")})
        else:
            clean[code] = number
    if errors:
        raise Invalid(errors=errors)
    return clean


def set_targets(*, db: Session, region: str | None, year: int, values: dict[str, Any],
                by: User, ip: str | None = None) -> dict[str, float]:
    """Set (a number) or clear (None) targets of a region and year; each change is audited.
    Returns the targets now set."""
    require_admin(by)
    clean = clean_targets(values)
    stored = _stored(region)
    try:
        with db.begin_nested():  # a lost race undoes only these changes, not the request
            _apply_targets(db, stored=stored, region=region, year=year, clean=clean, by=by,
                           ip=ip)
    except IntegrityError as exc:  # a concurrent request set the same target first
        raise Conflict(_("These targets were changed at the same time; reload and try again."),
                       code="targets_changed") from exc
    return get_targets(db=db, region=region, year=year)


def _apply_targets(db: Session, *, stored: str, region: str | None, year: int,
                   clean: dict[str, float | None], by: User, ip: str | None) -> None:
    existing = {t.indicator_code: t for t in db.scalars(
        select(AssessmentTarget).where(AssessmentTarget.region_code == stored,
                                       AssessmentTarget.year == year,
                                       AssessmentTarget.indicator_code.in_(list(clean))))}
    for code, value in clean.items():
        row = existing.get(code)
        old = row.value if row else None
        if old == value:
            continue
        if value is None:
            assert row is not None
            db.delete(row)
        elif row is None:
            db.add(AssessmentTarget(region_code=stored, year=year, indicator_code=code,
                                    value=value, updated_by=by.id))
        else:
            row.value, row.updated_by, row.updated_at = value, by.id, utcnow()
        accounts.record_audit(
            db=db, action="assessment.target_cleared" if value is None else
            "assessment.target_set", actor=by, object_type="assessment_target",
            object_id=f"{stored or 'national'}/{year}/{code}", region_code=stored or None,
            ip=ip, detail={"region": region, "year": year, "indicator": code, "old": old,
                           "new": value})
    db.flush()


# --- snapshots ---------------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def clean_label(label: str) -> str:
    """A snapshot label: 1 to 60 printable characters, trimmed."""
    text = (label or "").strip()
    if not text or len(text) > LABEL_MAX or _CONTROL.search(text):
        raise Invalid(errors=[{"loc": ["label"], "msg": _(
            "A label has 1 to {max} characters, for example mid-term or final.").format(
                max=LABEL_MAX)}])
    return text


def clean_as_of(as_of: date) -> date:
    """A past (or today's) assessment day from 2000 on; a day in the future is refused."""
    if as_of > compliance.today():
        raise Invalid(errors=[{"loc": ["as_of"], "msg": _(
            "The assessment date cannot be in the future: a snapshot freezes what was "
            "recorded up to that day.")}])
    if as_of.year < 2000:
        raise Invalid(errors=[{"loc": ["as_of"], "msg": _("The assessment date is before 2000.")}])
    return as_of


def freeze(*, db: Session, region: str | None, label: str, as_of: date, by: User,
           ip: str | None = None) -> AssessmentSnapshot:
    """Compute the region's indicators up to `as_of` with as_of's year's targets and store
    them for good (409 snapshot_exists when the region already has this label)."""
    require_admin(by)
    text = clean_label(label)
    day = clean_as_of(as_of)
    stored = _stored(region)
    if db.scalar(select(AssessmentSnapshot.id).where(AssessmentSnapshot.region_code == stored,
                                                     AssessmentSnapshot.label == text)):
        raise Conflict(_("This region already has a snapshot labelled {label}; snapshots are "
                         "never changed, so choose another label.").format(label=text),
                       code="snapshot_exists")
    values = measure(db=db, region=region, period=cutoff(day))
    targets = get_targets(db=db, region=region, year=day.year)
    snapshot = AssessmentSnapshot(
        region_code=stored, label=text, as_of=day, created_by=by.id,
        indicators=[{"code": code, "value": value, "target": targets.get(code),
                     "unit": BY_CODE[code].unit} for code, value in values.items()])
    try:
        with db.begin_nested():  # a lost race undoes only the insert, not the request
            db.add(snapshot)
            db.flush()
    except IntegrityError as exc:  # the same label frozen by a concurrent request
        raise Conflict(_("This region already has a snapshot labelled {label}; snapshots are "
                         "never changed, so choose another label.").format(label=text),
                       code="snapshot_exists") from exc
    accounts.record_audit(db=db, action="assessment.snapshot_frozen", actor=by,
                          object_type="assessment_snapshot", object_id=snapshot.id,
                          region_code=stored or None, ip=ip,
                          detail={"region": region, "label": text, "as_of": day.isoformat()})
    return snapshot


def snapshot_values(snapshot: AssessmentSnapshot) -> list[Value]:
    """A snapshot's stored values (indicators added after it was frozen are absent)."""
    return [Value(code=item["code"], value=item.get("value"), target=item.get("target"))
            for item in snapshot.indicators if item.get("code") in BY_CODE]


def snapshot_dict(snapshot: AssessmentSnapshot) -> dict[str, Any]:
    """The JSON of a snapshot with its indicators."""
    return {"id": snapshot.id, "region": snapshot.region_code or None, "label": snapshot.label,
            "as_of": snapshot.as_of, "year": snapshot.as_of.year,
            "created_by": snapshot.created_by, "created_at": snapshot.created_at,
            "indicators": [indicator_dict(v) for v in snapshot_values(snapshot)]}


def list_snapshots(*, db: Session, region: str | None, page: int = 1,
                   page_size: int = 25) -> tuple[list[AssessmentSnapshot], int]:
    """The snapshots of exactly one region (None: the country's), oldest assessment day first."""
    condition = AssessmentSnapshot.region_code == _stored(region)
    total = int(db.scalar(select(func.count()).select_from(AssessmentSnapshot)
                          .where(condition)) or 0)
    items = list(db.scalars(select(AssessmentSnapshot).where(condition)
                            .order_by(AssessmentSnapshot.as_of, AssessmentSnapshot.id)
                            .limit(page_size).offset((page - 1) * page_size)))
    return items, total


def can_see_snapshot(user: User, snapshot: AssessmentSnapshot) -> bool:
    """Admins see every snapshot; a regulator those of its region and below."""
    if user.has_role(Role.ADMIN):
        return True
    own = user.region_code or ""
    return bool(user.has_role(Role.REGULATOR) and own and snapshot.region_code.startswith(own))


def get_snapshot_or_404(*, db: Session, user: User, snapshot_id: int) -> AssessmentSnapshot:
    """A snapshot within the user's jurisdiction; another region's answers like a missing id."""
    if not can_assess(user):
        raise Forbidden(_("Only regulators and administrators see the plan assessment."))
    snapshot = db.get(AssessmentSnapshot, snapshot_id)
    if snapshot is None or not can_see_snapshot(user, snapshot):
        raise NotFound(_("No such snapshot in your jurisdiction."))
    return snapshot


def snapshots_by_ids(*, db: Session, user: User, ids: list[int]) -> list[AssessmentSnapshot]:
    """Snapshots in the order asked for, each within the user's jurisdiction (else 404)."""
    return [get_snapshot_or_404(db=db, user=user, snapshot_id=i) for i in dict.fromkeys(ids)]


def suggested_snapshot(*, db: Session, region: str | None) -> tuple[str, date]:
    """The form's default: the first of mid-term / final the region has not frozen yet."""
    taken = {label for (label,) in db.execute(select(AssessmentSnapshot.label).where(
        AssessmentSnapshot.region_code == _stored(region)))}
    today = compliance.today()
    for label, day in SUGGESTED_SNAPSHOTS:
        if label not in taken and day <= today:
            return label, day
    return "", today
