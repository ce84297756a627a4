"""JSON routes and workbooks of enterprise compliance and regional oversight (API.md)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from app.accounts.deps import CurrentUser
from app.db import SessionDep
from app.organisations import reference
from app.organisations.deps import VisibleEnterprise
from app.oversight import compliance, dashboard, exports
from app.oversight.deps import FilterDep, PeriodDep
from app.oversight.schemas import ComplianceOut, OversightOut
from app.pagination import PageDep
from app.web import localised_name

router = APIRouter(prefix="/api/v1", tags=["oversight"])
RegionQuery = Annotated[str | None, Query(max_length=12, description=(
    "a GB/T 2260 code (14 or 140000); default: the regulator's own region, every region for "
    "an admin"))]


def category_names() -> dict[str, str]:
    """Job category code -> its name in the current language."""
    return {c["code"]: localised_name(c) for c in reference.job_categories()}


def xlsx_response(data: bytes, filename: str) -> Response:
    """A workbook download."""
    return Response(data, media_type=exports.XLSX,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@router.get("/enterprises/{enterprise_id}/compliance", response_model=ComplianceOut)
def enterprise_compliance(enterprise: VisibleEnterprise, db: SessionDep, period: PeriodDep,
                          filters: FilterDep, paging: PageDep) -> ComplianceOut:
    """Every worker's hours, certificates and status for the year: totals of all workers, a
    page of the rows matching `status` / `job_category` / `team`, sorted by `sort`."""
    result = compliance.enterprise_compliance(
        db=db, enterprise_id=enterprise.id, period=period, status=filters.status,
        job_category=filters.job_category, team=filters.team, sort=filters.sort,
        page=paging.page,
        page_size=paging.page_size)
    return ComplianceOut.of(result, page=paging.page, page_size=paging.page_size)


def compliance_xlsx_bytes(*, db: Any, enterprise_id: int, period: compliance.Period,
                          filters: Any) -> bytes:
    """The compliance workbook of the filtered, sorted rows (shared with the page's export)."""
    page = compliance.enterprise_compliance(db=db, enterprise_id=enterprise_id, period=period,
                                            page_size=1)
    rows = compliance.compliance_rows(db=db, enterprise_id=enterprise_id, period=period,
                                      status=filters.status, job_category=filters.job_category,
                                      team=filters.team, sort=filters.sort)
    return exports.compliance_workbook(page=page, rows=rows, category_names=category_names())


@router.get("/enterprises/{enterprise_id}/compliance.xlsx", response_class=Response,
            responses={200: {"content": {exports.XLSX: {}}}})
def enterprise_compliance_xlsx(enterprise: VisibleEnterprise, db: SessionDep,
                               period: PeriodDep, filters: FilterDep) -> Response:
    """The same as a workbook: every row matching the filters, in the same order, and the
    totals."""
    data = compliance_xlsx_bytes(db=db, enterprise_id=enterprise.id, period=period,
                                 filters=filters)
    return xlsx_response(data, f"compliance-{enterprise.id}-{period.year}.xlsx")


@router.get("/oversight", response_model=OversightOut)
def oversight(db: SessionDep, user: CurrentUser, period: PeriodDep,
              region: RegionQuery = None) -> dict[str, Any]:
    """A region's enterprises with compliance totals, pass rates, certificates and hours."""
    code = dashboard.region_for(db=db, user=user, region=region)
    return dashboard.as_dict(dashboard.dashboard(db=db, region=code, period=period))


@router.get("/oversight.xlsx", response_class=Response,
            responses={200: {"content": {exports.XLSX: {}}}})
def oversight_xlsx(db: SessionDep, user: CurrentUser, period: PeriodDep,
                   region: RegionQuery = None) -> Response:
    """The same as a workbook (enterprises, totals, job categories, months)."""
    code = dashboard.region_for(db=db, user=user, region=region)
    board = dashboard.dashboard(db=db, region=code, period=period)
    data = exports.oversight_workbook(board=board, data=dashboard.as_dict(board),
                                      category_names=category_names())
    return xlsx_response(data, f"oversight-{code or 'all'}-{period.year}.xlsx")
