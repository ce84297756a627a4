"""JSON routes and the workbook of the plan-implementation assessment (API.md, "Oversight")."""

from __future__ import annotations

import io
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from app.accounts.api import client_ip
from app.accounts.deps import AdminUser, CurrentUser
from app.accounts.models import User
from app.db import SessionDep
from app.errors import Invalid
from app.i18n import gettext as _
from app.oversight import assessment, compliance
from app.oversight.assessment import Assessment
from app.oversight.assessment_models import AssessmentSnapshot
from app.oversight.deps import YearQuery
from app.oversight.exports import XLSX
from app.pagination import Page, PageDep
from app.spreadsheets import neutralise_formula

router = APIRouter(prefix="/api/v1", tags=["assessment"])
RegionQuery = Annotated[str | None, Query(max_length=12, description=(
    "a GB/T 2260 code (14 or 140000); default: the regulator's own region, the whole country "
    "for an admin"))]
SnapshotsQuery = Annotated[list[str] | None, Query(max_length=200, description=(
    "snapshot ids for the side-by-side columns, repeated or comma-separated"))]
MAX_SNAPSHOT_COLUMNS = 20


class IndicatorOut(BaseModel):
    code: str
    name: str
    value: float | None
    target: float | None
    unit: str
    met: bool | None = Field(description="value reaches target; null without either")


class AssessmentOut(BaseModel):
    region: str | None
    year: int
    as_of: date
    indicators: list[IndicatorOut]


class SnapshotOut(BaseModel):
    id: int
    region: str | None
    label: str
    as_of: date
    year: int
    created_by: int | None
    created_at: datetime
    indicators: list[IndicatorOut]


class SnapshotIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    region: str | None = Field(default=None, max_length=12,
                               description="GB/T 2260 code; null or absent: the whole country")
    label: str = Field(max_length=200, description="e.g. mid-term or final (1-60 characters)")
    as_of: date = Field(description="the assessment day; not in the future")


class TargetsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    region: str | None = Field(default=None, max_length=12)
    year: int = Field(ge=2000, le=2100)
    targets: dict[str, float | None] = Field(
        max_length=len(assessment.INDICATORS),
        description="indicator code -> target (null clears it)")


class TargetsOut(BaseModel):
    region: str | None
    year: int
    targets: dict[str, float]


@router.get("/assessment", response_model=AssessmentOut)
def get_assessment(db: SessionDep, user: CurrentUser, region: RegionQuery = None,
                   year: YearQuery = None) -> dict[str, Any]:
    """The plan indicators of a region for a year, each with its target and whether it is met."""
    code = assessment.region_for(db=db, user=user, region=region)
    return assessment.as_dict(assessment.assessment(db=db, region=code,
                                                    year=year or _this_year()))


def _this_year() -> int:
    return compliance.today().year


def snapshot_ids(values: list[str] | None) -> list[int]:
    """`?snapshots=1&snapshots=2` or `?snapshots=1,2` as ids (422 for anything else)."""
    ids: list[int] = []
    for value in values or []:
        for part in value.split(","):
            part = part.strip()
            if not part:
                continue
            if not part.isdigit() or len(part) > 9:
                raise Invalid(errors=[{"loc": ["query", "snapshots"],
                                       "msg": _("Snapshot ids are whole numbers.")}])
            ids.append(int(part))
    if len(set(ids)) > MAX_SNAPSHOT_COLUMNS:
        raise Invalid(errors=[{"loc": ["query", "snapshots"], "msg": _(
            "Compare at most {max} snapshots.").format(max=MAX_SNAPSHOT_COLUMNS)}])
    return ids


def table(result: Assessment, snapshots: list[AssessmentSnapshot]) -> list[dict[str, Any]]:
    """The comparison table: one row per indicator, this year's value and target, then each
    snapshot's frozen value and target (None where the snapshot has no such indicator)."""
    frozen = [{v.code: v for v in assessment.snapshot_values(s)} for s in snapshots]
    rows = []
    for item in result.values:
        rows.append({"value": item, "snapshots": [f.get(item.code) for f in frozen]})
    return rows


def workbook(*, result: Assessment, snapshots: list[AssessmentSnapshot]) -> bytes:
    """The page's table as a workbook: codes, names, units, the year's value, target, met, and
    each snapshot's value and target side by side."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=_("Assessment")[:31])
    bold = Font(bold=True)
    header = ["code", _("Indicator"), _("Unit"),
              _("{year} value").format(year=result.year),
              _("{year} target").format(year=result.year), _("Met")]
    for s in snapshots:
        name = f"{s.label} ({s.as_of.isoformat()})"
        header += [_("{snapshot} value").format(snapshot=name),
                   _("{snapshot} target").format(snapshot=name)]
    cells = []
    for text in header:
        cell = WriteOnlyCell(sheet, value=neutralise_formula(text))
        cell.font = bold
        cells.append(cell)
    sheet.append(cells)
    for row in table(result, snapshots):
        item = row["value"]
        line: list[Any] = [item.code, _(item.indicator.name), item.indicator.unit, item.value,
                           item.target, met_text(item.met)]
        for frozen in row["snapshots"]:
            line += [frozen.value, frozen.target] if frozen else [None, None]
        sheet.append([neutralise_formula(v) for v in line])
    about = book.create_sheet(title=_("About")[:31])
    about.append([_("Region"), result.region or _("Whole country")])
    about.append([_("Year"), result.year])
    about.append([_("Values as of"), result.as_of])
    for s in snapshots:
        about.append([_("Snapshot"), neutralise_formula(s.label), s.as_of, s.created_at
                      .replace(tzinfo=None)])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def met_text(met: bool | None) -> str:
    """Met / not met in the current language ("" without a target)."""
    if met is None:
        return ""
    return _("Met") if met else _("Not met")


def workbook_for(*, db: Session, user: User, region: str | None, year: int | None,
                 snapshots: list[str] | None) -> tuple[bytes, str]:
    """The workbook and its file name (shared by the API and the page)."""
    code = assessment.region_for(db=db, user=user, region=region)
    result = assessment.assessment(db=db, region=code, year=year or _this_year())
    chosen = assessment.snapshots_by_ids(db=db, user=user, ids=snapshot_ids(snapshots))
    return (workbook(result=result, snapshots=chosen),
            f"assessment-{code or 'all'}-{result.year}.xlsx")


@router.get("/assessment.xlsx", response_class=Response,
            responses={200: {"content": {XLSX: {}}}})
def assessment_xlsx(db: SessionDep, user: CurrentUser, region: RegionQuery = None,
                    year: YearQuery = None, snapshots: SnapshotsQuery = None) -> Response:
    """The assessment table as a workbook, with the snapshots named in `snapshots` as columns."""
    data, filename = workbook_for(db=db, user=user, region=region, year=year,
                                  snapshots=snapshots)
    return Response(data, media_type=XLSX,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@router.get("/assessment/snapshots", response_model=Page[SnapshotOut])
def list_snapshots(db: SessionDep, user: CurrentUser, paging: PageDep,
                   region: RegionQuery = None) -> dict[str, Any]:
    """The frozen snapshots of a region (default: the regulator's own, the country for an
    admin), oldest assessment day first, with their indicators."""
    code = assessment.region_for(db=db, user=user, region=region)
    items, total = assessment.list_snapshots(db=db, region=code, page=paging.page,
                                             page_size=paging.page_size)
    return {"items": [assessment.snapshot_dict(s) for s in items], "total": total}


@router.post("/assessment/snapshots", response_model=SnapshotOut, status_code=201)
def create_snapshot(request: Request, body: SnapshotIn, db: SessionDep,
                    user: AdminUser) -> dict[str, Any]:
    """Freeze a region's indicators as of a past day (admin). The snapshot is never changed
    afterwards: there is no route to edit or delete it and the database refuses to."""
    code = assessment.region_for(db=db, user=user, region=body.region)
    snapshot = assessment.freeze(db=db, region=code, label=body.label, as_of=body.as_of,
                                 by=user, ip=client_ip(request))
    return assessment.snapshot_dict(snapshot)


@router.get("/assessment/snapshots/{snapshot_id}", response_model=SnapshotOut)
def get_snapshot(snapshot_id: int, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    """One frozen snapshot (a regulator's region or below; another region answers 404)."""
    return assessment.snapshot_dict(
        assessment.get_snapshot_or_404(db=db, user=user, snapshot_id=snapshot_id))


@router.get("/assessment/targets", response_model=TargetsOut)
def get_targets(db: SessionDep, user: CurrentUser, region: RegionQuery = None,
                year: YearQuery = None) -> dict[str, Any]:
    """The targets set for a region and year, by indicator code."""
    code = assessment.region_for(db=db, user=user, region=region)
    year = year or _this_year()
    return {"region": code, "year": year,
            "targets": assessment.get_targets(db=db, region=code, year=year)}


@router.put("/assessment/targets", response_model=TargetsOut)
def put_targets(request: Request, body: TargetsIn, db: SessionDep,
                user: AdminUser) -> dict[str, Any]:
    """Set or clear (null) targets of a region and year (admin); indicators not named keep
    theirs. Every change is written to the audit log."""
    code = assessment.region_for(db=db, user=user, region=body.region)
    targets = assessment.set_targets(db=db, region=code, year=body.year, values=body.targets,
                                     by=user, ip=client_ip(request))
    return {"region": code, "year": body.year, "targets": targets}
