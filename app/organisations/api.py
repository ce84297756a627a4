"""JSON routes of organisations: enterprises, rosters, worker passwords."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Query, Request, Response, UploadFile
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from app.accounts.api import client_ip
from app.accounts.deps import CurrentUser, require
from app.accounts.models import Role, User
from app.accounts.schemas import PasswordIn
from app.db import ReadOnlyRequest, SessionDep, begin_write
from app.errors import Invalid
from app.i18n import gettext as _
from app.organisations import roster, service
from app.organisations.deps import (
    ManagedEnterprise,
    ManagedWorker,
    VisibleAgency,
    VisibleEnterprise,
    VisibleWorker,
)
from app.organisations.schemas import (
    AgencyCreate,
    AgencyOut,
    CadreCreate,
    EnterpriseCreate,
    EnterpriseOut,
    ImportOut,
    TeamIn,
    WorkerOut,
    enterprise_out,
)
from app.pagination import Page, PageDep

router = APIRouter(prefix="/api/v1", tags=["organisations"])
MAX_UPLOAD_BYTES = 10 * 1024 * 1024


async def read_upload(file: UploadFile) -> bytes:
    """The uploaded bytes, refusing files over the limit without reading them whole."""
    data = await file.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise Invalid(_("The file is larger than 10 MB."), code="file_too_large",
                      errors=[{"loc": ["file"], "msg": _("The file is larger than 10 MB.")}])
    return data


@router.post("/enterprises", response_model=EnterpriseOut, status_code=201)
def create_enterprise(request: Request, body: EnterpriseCreate, db: SessionDep,
                      by: Annotated[User, Depends(require(Role.ADMIN))]) -> EnterpriseOut:
    """Register an enterprise (admin)."""
    enterprise = service.create_enterprise(
        db=db, name=body.name, credit_code=body.credit_code, region_code=body.region_code,
        mine_type=body.mine_type.value, above_designated_size=body.above_designated_size,
        by=by, ip=client_ip(request))
    return enterprise_out(enterprise)


@router.get("/enterprises", response_model=Page[EnterpriseOut])
def list_enterprises(db: SessionDep, user: CurrentUser, paging: PageDep,
                     q: str = "") -> Page[EnterpriseOut]:
    """The enterprises within the caller's jurisdiction."""
    items, total = service.list_enterprises(db=db, user=user, query=q, page=paging.page,
                                            page_size=paging.page_size)
    return Page(items=[enterprise_out(e) for e in items], total=total)


@router.get("/enterprises/{enterprise_id}", response_model=EnterpriseOut)
def get_enterprise(enterprise: VisibleEnterprise) -> EnterpriseOut:
    """One enterprise (admin, its enterprise admins, regulators of its region)."""
    return enterprise_out(enterprise)


async def parse_upload(db: Session, data: bytes, filename: str) -> roster.ParsedRoster:
    """Read and validate an uploaded roster in a worker thread, outside any transaction.

    Parsing a 20,000-row workbook takes seconds: on the event loop it would stall every other
    request, and inside a write transaction it would hold SQLite's write lock (answer saves
    and the deadline sweeper waited behind it). The route must be a `ReadOnlyRequest`, so the
    lookups before this ran in a read transaction, which ends here."""
    if db.in_transaction():
        await run_in_threadpool(db.commit)
    return await run_in_threadpool(roster.parse_roster, data=data, filename=filename)


def write_roster(db: Session, **kwargs: Any) -> roster.ImportResult:
    """Check a parsed roster against the database and write it, in one short write
    transaction (a dry run stays a read)."""
    if not kwargs["dry_run"]:
        begin_write(db)
    return roster.import_roster(db=db, **kwargs)


@router.post("/enterprises/{enterprise_id}/workers/import", response_model=ImportOut,
             dependencies=[ReadOnlyRequest])
async def import_workers(request: Request, enterprise: ManagedEnterprise, db: SessionDep,
                         user: CurrentUser, file: Annotated[UploadFile, File()],
                         dry_run: Annotated[bool, Query()] = False) -> ImportOut:
    """Upsert the roster from a .csv or .xlsx file; all rows or none."""
    parsed = await parse_upload(db, await read_upload(file), file.filename or "upload")
    result = await run_in_threadpool(write_roster, db, enterprise=enterprise, parsed=parsed,
                                     dry_run=dry_run, by=user, ip=client_ip(request))
    return ImportOut(created=result.created, updated=result.updated, unchanged=result.unchanged,
                     dry_run=dry_run, errors=[])


@router.get("/enterprises/{enterprise_id}/workers", response_model=Page[WorkerOut])
def list_workers(enterprise: VisibleEnterprise, db: SessionDep, paging: PageDep, q: str = "",
                 job_category: str = "",
                 team: Annotated[str, Query(max_length=60)] = "") -> Page[WorkerOut]:
    """One page of the enterprise's roster, ID numbers masked (`team`: only that team)."""
    items, total = service.list_workers(db=db, enterprise_id=enterprise.id, query=q,
                                        job_category=job_category, team=team,
                                        page=paging.page, page_size=paging.page_size)
    return Page(items=[WorkerOut.of(w) for w in items], total=total)


@router.post("/agencies", response_model=AgencyOut, status_code=201)
def create_agency(request: Request, body: AgencyCreate, db: SessionDep,
                  by: Annotated[User, Depends(require(Role.ADMIN, Role.REGULATOR))]) -> AgencyOut:
    """Register a supervisory agency (admins; regulators within their own region)."""
    agency = service.create_agency(db=db, name=body.name, credit_code=body.credit_code,
                                   region_code=body.region_code, by=by, ip=client_ip(request))
    return AgencyOut.model_validate(agency)


@router.get("/agencies", response_model=list[AgencyOut])
def list_agencies(db: SessionDep,
                  user: Annotated[User, Depends(require(Role.ADMIN, Role.REGULATOR))]
                  ) -> list[AgencyOut]:
    """The supervisory agencies within the caller's jurisdiction."""
    return [AgencyOut.model_validate(a) for a in service.list_agencies(db=db, user=user)]


@router.get("/agencies/{agency_id}/cadres", response_model=list[WorkerOut])
def list_cadres(agency: VisibleAgency, db: SessionDep) -> list[WorkerOut]:
    """The learner profiles of the agency's supervisory cadres."""
    return [WorkerOut.of(w) for w in service.list_cadres(db=db, agency_id=agency.id)]


@router.post("/agencies/{agency_id}/cadres", response_model=WorkerOut, status_code=201)
def register_cadre(request: Request, agency: VisibleAgency, body: CadreCreate, db: SessionDep,
                   user: CurrentUser) -> WorkerOut:
    """Give a regulator user a learner profile in the agency's roster (its workers.id is then
    used for enrolments, study time, hours and exams like any worker's)."""
    cadre = service.register_cadre(db=db, agency=agency, user_id=body.user_id,
                                   id_number=body.id_number, full_name=body.full_name,
                                   job_category=body.job_category, by=user,
                                   ip=client_ip(request))
    return WorkerOut.of(cadre)


@router.get("/workers/{worker_id}", response_model=WorkerOut)
def get_worker(worker: VisibleWorker) -> WorkerOut:
    """One worker (the worker, its enterprise admins, regulators of its region, admins)."""
    return WorkerOut.of(worker)


@router.put("/workers/{worker_id}/team", response_model=WorkerOut)
def set_worker_team(request: Request, worker: ManagedWorker, body: TeamIn, db: SessionDep,
                    user: CurrentUser) -> WorkerOut:
    """Put the worker in a team (null or "": no team)."""
    service.set_worker_team(db=db, worker=worker, team=body.team, by=user,
                            ip=client_ip(request))
    return WorkerOut.of(worker)


@router.put("/workers/{worker_id}/password", status_code=204)
def set_worker_password(request: Request, worker: ManagedWorker, body: PasswordIn,
                        db: SessionDep, user: CurrentUser) -> Response:
    """Set the worker's login password (its username is its ID number)."""
    service.set_worker_password(db=db, worker=worker, password=body.password, by=user,
                                ip=client_ip(request))
    return Response(status_code=204)
