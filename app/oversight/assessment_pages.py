"""The plan-implementation assessment page: indicators against targets, frozen snapshots side by
side, and the admins' forms for targets and for freezing a snapshot."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from app.accounts.api import client_ip
from app.accounts.deps import AdminUser, CurrentUser, page_guard
from app.accounts.models import Role, User
from app.db import SessionDep
from app.errors import Conflict, Invalid
from app.i18n import gettext as _
from app.organisations import service as organisations
from app.oversight import assessment, compliance
from app.oversight.assessment_api import MAX_SNAPSHOT_COLUMNS, met_text, snapshot_ids, table
from app.web import (
    FormDep,
    flash,
    form_errors,
    form_text,
    parse_iso_date,
    query_string,
    redirect,
    render,
)

router = APIRouter(dependencies=[Depends(page_guard)], include_in_schema=False)
FIRST_YEAR = 2020  # the plan's monitoring starts with 2021; one year before for comparison


def years() -> list[int]:
    """The years offered by the picker, newest first."""
    return list(range(compliance.today().year, FIRST_YEAR - 1, -1))


def _year(raw: str, errors: dict[str, str]) -> int:
    if not raw:
        return compliance.today().year
    if raw.isdigit() and 2000 <= int(raw) <= 2100:
        return int(raw)
    errors["year"] = _("Choose a year from 2000 to 2100.")
    return compliance.today().year


def number(value: float | None, unit: str) -> str:
    """An indicator value as shown: whole numbers for counts, a % sign for shares."""
    if value is None:
        return "–"
    if unit in assessment.COUNT_UNITS:
        return f"{value:,.0f}"
    if unit == "percent":
        return f"{value:.2f} %".replace(".00 %", " %")
    return f"{value:,.2f}"


def _page(request: Request, db: Session, user: User, *, region_raw: str, year_raw: str,
          snapshots_raw: list[str], errors: dict[str, str] | None = None,
          values: dict[str, Any] | None = None, status_code: int = 200) -> Response:
    errors = dict(errors or {})
    year = _year(year_raw, errors)
    try:
        region = assessment.region_for(db=db, user=user, region=region_raw or None)
    except Invalid as exc:
        errors.update(form_errors(exc.errors))
        region = assessment.region_for(db=db, user=user, region=None)
    result = assessment.assessment(db=db, region=region, year=year)
    available, _total = assessment.list_snapshots(db=db, region=region, page=1, page_size=200)
    try:
        wanted = snapshot_ids(snapshots_raw)
    except Invalid as exc:
        errors.update(form_errors(exc.errors))
        wanted = []
    shown = ([s for s in available if s.id in set(wanted)] if wanted
             else available[:MAX_SNAPSHOT_COLUMNS])
    is_admin = user.has_role(Role.ADMIN)
    label, as_of = assessment.suggested_snapshot(db=db, region=region)
    form_values = {"label": label, "as_of": as_of.isoformat(),
                   **{f"target_{v.code}": "" if v.target is None else number_input(v.target)
                      for v in result.values}, **(values or {})}
    region_known = organisations.region_names(db=db, codes={region}) if region else {}
    export = "/api/v1/assessment.xlsx?" + query_string(
        {"region": region or "", "year": year,
         "snapshots": ",".join(str(s.id) for s in shown)})
    return render(request, "oversight/assessment.html", {
        "result": result, "region": region, "region_known": region_known.get(region or ""),
        "year": year, "years": years(), "rows": table(result, shown), "snapshots": shown,
        "available": available, "is_admin": is_admin, "errors": errors,
        "values": form_values, "export_url": export, "number": number, "met_text": met_text,
        "suggested": assessment.SUGGESTED_SNAPSHOTS,
        # translated here: Jinja's _() %-formats its result, and a unit may be "%"
        "units": {code: _(label) for code, label in assessment.UNIT_LABELS.items()},
        "region_input": region_raw if "region" in errors else (region or ""),
        "regions": organisations.list_regions(db=db, max_digits=2),
    }, status_code=400 if errors and status_code == 200 else status_code)


def number_input(value: float) -> str:
    """A target as the form's input shows it (no trailing .0)."""
    return str(int(value)) if value.is_integer() else str(value)


@router.get("/assessment", name="assessment")
def assessment_page(request: Request, db: SessionDep, user: CurrentUser) -> Response:
    """Indicators of a region and year against their targets, snapshots side by side."""
    params = request.query_params
    return _page(request, db, user, region_raw=params.get("region", "")[:12],
                 year_raw=params.get("year", "")[:6],
                 snapshots_raw=[v[:200] for v in params.getlist("snapshots")[:20]])


def _back(request: Request, region: str | None, year: int) -> Response:
    params = {"region": region or "", "year": year}
    return redirect(request.url_for("assessment").path + "?" + query_string(params))


@router.post("/assessment/targets", name="assessment_targets")
def save_targets(request: Request, db: SessionDep, user: AdminUser, form: FormDep) -> Response:
    """Save the targets form (admin): every indicator's field; an empty field clears it."""
    region_raw, year_raw = form_text(form, "region")[:12], form_text(form, "year")[:6]
    errors: dict[str, str] = {}
    year = _year(year_raw, errors)
    values = {code: form_text(form, f"target_{code}")[:40] for code in assessment.BY_CODE}
    if not errors:
        try:
            region = assessment.region_for(db=db, user=user, region=region_raw or None)
            assessment.set_targets(db=db, region=region, year=year, values=values, by=user,
                                   ip=client_ip(request))
        except (Invalid, Conflict) as exc:
            errors = {f"target_{k}" if k in assessment.BY_CODE else k: v
                      for k, v in (form_errors(exc.errors).items() if isinstance(exc, Invalid)
                                   else {"targets": exc.message}.items())}
    if errors:
        return _page(request, db, user, region_raw=region_raw, year_raw=year_raw,
                     snapshots_raw=[], errors=errors,
                     values={f"target_{k}": v for k, v in values.items()}, status_code=400)
    flash(request, _("Targets saved."))
    return _back(request, region, year)


@router.post("/assessment/snapshots", name="assessment_freeze")
def freeze_snapshot(request: Request, db: SessionDep, user: AdminUser, form: FormDep) -> Response:
    """Freeze a snapshot of the region from the form (admin)."""
    region_raw, year_raw = form_text(form, "region")[:12], form_text(form, "year")[:6]
    label, as_of_raw = form_text(form, "label")[:200], form_text(form, "as_of")[:20]
    as_of = parse_iso_date(as_of_raw)
    errors: dict[str, str] = {}
    if as_of is None:
        errors["as_of"] = _("Enter a date such as 2026-11-28.")
    else:
        try:
            region = assessment.region_for(db=db, user=user, region=region_raw or None)
            snapshot = assessment.freeze(db=db, region=region, label=label, as_of=as_of,
                                         by=user, ip=client_ip(request))
        except Invalid as exc:
            errors = form_errors(exc.errors)
        except Conflict as exc:
            errors = {"label": exc.message}
    if errors:
        return _page(request, db, user, region_raw=region_raw, year_raw=year_raw,
                     snapshots_raw=[], errors=errors,
                     values={"label": label, "as_of": as_of_raw}, status_code=400)
    flash(request, _("Snapshot {label} frozen as of {day}.").format(
        label=snapshot.label, day=snapshot.as_of.isoformat()))
    return _back(request, region, _year(year_raw, {}))
