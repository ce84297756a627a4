"""HTML routes: the regional oversight dashboard (charts and tables) and an enterprise's
compliance list (filters, sorting, paging, export of exactly the rows shown)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from starlette.routing import NoMatchFound

from app.accounts.deps import CurrentUser, page_guard
from app.db import SessionDep
from app.i18n import gettext as _
from app.organisations import reference
from app.organisations import service as organisations
from app.organisations.deps import VisibleEnterprise
from app.oversight import cadres, charts, compliance, dashboard, exports
from app.oversight.api import category_names
from app.oversight.deps import FilterDep, PeriodDep
from app.pagination import PageDep
from app.web import render

router = APIRouter(dependencies=[Depends(page_guard)], include_in_schema=False)
RegionQuery = Annotated[str | None, Query(max_length=12)]
# The compliance chart shows at most this many enterprises (those with the lowest compliant
# share); the table below it lists all of them.
CHART_ENTERPRISES = 15


def percent(value: float | None) -> str:
    """A rate as a percentage, or a dash when there was nothing to count."""
    return "—" if value is None else f"{value * 100:.1f} %"


def _charts(board: dashboard.Dashboard, names: dict[str, str]) -> dict[str, Any]:
    months = board.months
    year = board.period.year
    trend_certs = charts.column_chart(
        title=_("Certificates issued per month, {year}").format(year=year),
        desc=_("Columns per month; the table below lists the same numbers."),
        bars=[charts.Bar(str(m.month), m.certificates_issued, str(m.certificates_issued))
              for m in months])
    trend_hours = charts.column_chart(
        title=_("Class hours credited per month, {year}").format(year=year),
        desc=_("Columns per month; the table below lists the same numbers."),
        bars=[charts.Bar(str(m.month), m.hours_credited, f"{m.hours_credited:.0f}")
              for m in months], colour=charts.PALETTE[1])
    rated = [c for c in board.categories if c.theory_attempts]
    pass_rates = charts.bar_chart(
        title=_("Theory pass rate by job category, {year}").format(year=year),
        desc=_("One bar per job category with attempts; the table below lists attempts, "
               "passes and practical results."),
        bars=[charts.Bar(names.get(c.job_category, c.job_category), c.theory_pass_rate or 0,
                         percent(c.theory_pass_rate)) for c in rated])
    order = compliance.STATUS_ORDER[::-1]  # compliant first
    worst = sorted((e for e in board.enterprises if e.totals.workers),
                   key=lambda e: (e.totals.compliant_share or 0, e.name))[:CHART_ENTERPRISES]
    by_enterprise = charts.stacked_chart(
        title=_("Compliance by enterprise, {year}").format(year=year),
        desc=_("Share of workers per status for the enterprises with the lowest compliant "
               "share; the enterprises table lists every enterprise."),
        legend=[exports.status_label(s.value) for s in order],
        rows=[(e.name, [charts.Segment(exports.status_label(s.value),
                                       e.totals.by_status[s.value]) for s in order])
              for e in worst])
    return {"trend_certs": trend_certs, "trend_hours": trend_hours, "pass_rates": pass_rates,
            "by_enterprise": by_enterprise, "has_rates": bool(rated),
            "chart_limit": CHART_ENTERPRISES}


@router.get("/oversight", name="oversight_dashboard")
def oversight_page(request: Request, db: SessionDep, user: CurrentUser, period: PeriodDep,
                   region: RegionQuery = None) -> Response:
    """The dashboard of a region (the regulator's own by default) for a year."""
    code = dashboard.region_for(db=db, user=user, region=region)
    board = dashboard.dashboard(db=db, region=code, period=period)
    names = category_names()
    chain = [code[:n] for n in (2, 4, 6) if code and len(code) >= n]
    known = organisations.region_names(db=db, codes=set(chain))
    own = "" if user.has_role(dashboard.Role.ADMIN) else (user.region_code or "")
    breadcrumbs = [(c, known.get(c)) for c in chain if len(c) >= len(own)]
    return render(request, "oversight/dashboard.html", {
        "board": board, "region": code, "year": period.year, "names": names,
        "breadcrumbs": breadcrumbs, "show_all": not own, "percent": percent,
        "status_label": exports.status_label, "statuses": compliance.STATUS_ORDER,
        "totals_key": compliance.TOTALS_KEY, "years": _years(period.year),
        "cadres": cadres.cadres_trained(db=db, region=code, period=period,
                                        rules=compliance.rules(db=db)),
        **_charts(board, names)})


def _years(current: int) -> list[int]:
    this = compliance.today().year
    return sorted({*range(this - 4, this + 1), current}, reverse=True)


def transcript_url(request: Request, worker_id: int) -> str:
    """The worker transcript page when the app has it, else the worker's page."""
    try:
        return str(request.url_for("worker_transcript", worker_id=worker_id).path)
    except NoMatchFound:
        return str(request.url_for("worker", worker_id=worker_id).path)


@router.get("/enterprises/{enterprise_id}/compliance", name="compliance_page")
def compliance_page(request: Request, enterprise: VisibleEnterprise, db: SessionDep,
                    period: PeriodDep, filters: FilterDep, paging: PageDep) -> Response:
    """One enterprise's workers for a year: counts at the top, filters, sorting, paging."""
    result = compliance.enterprise_compliance(
        db=db, enterprise_id=enterprise.id, period=period, status=filters.status,
        job_category=filters.job_category, team=filters.team, sort=filters.sort,
        page=paging.page, page_size=paging.page_size)
    params = {"year": str(period.year), **filters.params()}
    export = str(request.url_for("enterprise_compliance_xlsx", enterprise_id=enterprise.id)
                 .path)
    return render(request, "oversight/compliance.html", {
        "enterprise": enterprise, "result": result, "filters": filters, "params": params,
        "paging": paging, "names": category_names(), "job_categories":
            reference.job_categories(), "statuses": compliance.STATUS_ORDER,
        "status_label": exports.status_label, "totals_key": compliance.TOTALS_KEY,
        "export_url": export, "years": _years(period.year), "sorts": compliance.SORTS,
        "teams": organisations.enterprise_teams(db=db, enterprise_id=enterprise.id),
        "transcript_url": lambda worker_id: transcript_url(request, worker_id)})
