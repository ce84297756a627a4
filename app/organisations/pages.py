"""HTML routes of organisations: enterprises, roster (search, import with preview, export)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from app.accounts.api import client_ip
from app.accounts.deps import AdminUser, CurrentUser, page_guard, require
from app.accounts.models import Role, User
from app.courses import service as courses
from app.db import ReadOnlyRequest, SessionDep, begin_write
from app.errors import AppError, Invalid
from app.i18n import N_, get_locale
from app.i18n import gettext as _
from app.organisations import reference, roster, service, validators
from app.organisations.api import parse_upload, read_upload
from app.organisations.deps import (
    ManagedEnterprise,
    ManagedWorker,
    VisibleAgency,
    VisibleEnterprise,
    VisibleWorker,
)
from app.organisations.models import Enterprise, MineType, RosterUpload, Worker
from app.organisations.schemas import AgencyCreate, CadreCreate, EnterpriseCreate
from app.pagination import PageDep
from app.web import flash, form_dict, form_errors, redirect, render

router = APIRouter(dependencies=[Depends(page_guard)], include_in_schema=False)
StaffUser = Annotated[User, Depends(require(Role.ADMIN, Role.REGULATOR))]

MINE_TYPE_LABELS = {
    MineType.COAL.value: N_("Coal mine"),
    MineType.METAL_NONMETAL.value: N_("Metal and non-metal mine"),
    MineType.OTHER.value: N_("Other"),
}


def _context() -> dict:
    return {"job_categories": reference.job_categories(),
            "education_levels": reference.education_levels(),
            "mine_types": MINE_TYPE_LABELS, "mask_id": validators.mask_id_number}


@router.get("/regions/options", name="region_options")
def region_options(request: Request, user: CurrentUser,
                   field: Annotated[str, Query(max_length=40)] = "region_code") -> Response:
    """The <option>s of a region field's datalist: divisions matching what was typed so far
    (a code prefix, 140100 for 1401, or part of a Chinese or English name), at most 20."""
    typed = request.query_params.get(field, "")[:40]
    return render(request, "organisations/_region_options.html",
                  {"matches": reference.find_regions(typed, limit=20)})


@router.get("/enterprises", name="enterprises")
def enterprises(request: Request, db: SessionDep, user: CurrentUser, paging: PageDep,
                q: str = "") -> Response:
    """The enterprises in the user's jurisdiction."""
    items, total = service.list_enterprises(db=db, user=user, query=q, page=paging.page,
                                            page_size=paging.page_size)
    if total == 1 and not q and not user.has_role(Role.ADMIN, Role.REGULATOR):
        return redirect(request.url_for("enterprise", enterprise_id=items[0].id).path)
    regions = service.region_names(db=db, codes={e.region_code for e in items}
                                   | {e.region_code[:2] for e in items})
    return render(request, "organisations/enterprises.html", {
        **_context(), "items": items, "total": total, "paging": paging, "q": q,
        "regions": regions, "staff": service.staff_counts(db=db,
                                                          enterprise_ids=[e.id for e in items])})


@router.get("/enterprises/new", name="enterprise_new")
def enterprise_new(request: Request, db: SessionDep, admin: AdminUser) -> Response:
    """The form for registering an enterprise."""
    return render(request, "organisations/enterprise_form.html", {
        **_context(), "values": {}, "errors": {}, "regions": service.list_regions(db=db)})


@router.post("/enterprises/new", name="enterprise_create")
async def enterprise_create(request: Request, db: SessionDep, admin: AdminUser) -> Response:
    """Register an enterprise from the form."""
    values = form_dict(await request.form())
    values["above_designated_size"] = values.get("above_designated_size") == "on"
    try:
        body = EnterpriseCreate.model_validate(values)
        enterprise = service.create_enterprise(
            db=db, name=body.name, credit_code=body.credit_code, region_code=body.region_code,
            mine_type=body.mine_type.value, above_designated_size=body.above_designated_size,
            by=admin, ip=client_ip(request))
    except (ValidationError, Invalid, AppError) as exc:
        if isinstance(exc, ValidationError):
            errors = form_errors(exc.errors())  # type: ignore[arg-type]
        elif isinstance(exc, Invalid):
            errors = form_errors(exc.errors)
        else:
            errors = {"credit_code": exc.message}
        return render(request, "organisations/enterprise_form.html", {
            **_context(), "values": values, "errors": errors,
            "regions": service.list_regions(db=db)}, status_code=400)
    flash(request, _("Enterprise {name} registered.").format(name=enterprise.name))
    return redirect(request.url_for("enterprise", enterprise_id=enterprise.id).path)


def _agencies_page(request: Request, db: SessionDep, user: User, values: dict,
                   errors: dict, status_code: int = 200) -> Response:
    items = service.list_agencies(db=db, user=user)
    names = service.region_names(db=db, codes={a.region_code for a in items})
    return render(request, "organisations/agencies.html", {
        **_context(), "items": items, "region_map": names, "values": values, "errors": errors,
        "regions": service.list_regions(db=db),
        "staff": service.staff_counts(db=db, enterprise_ids=[a.id for a in items])},
        status_code=status_code)


@router.get("/agencies", name="agencies")
def agencies(request: Request, db: SessionDep, user: StaffUser) -> Response:
    """Supervisory agencies in the user's jurisdiction, and the form registering one."""
    return _agencies_page(request, db, user, {"region_code": user.region_code or ""}, {})


@router.post("/agencies", name="agency_create")
async def agency_create(request: Request, db: SessionDep, user: StaffUser) -> Response:
    """Register a supervisory agency from the form."""
    values = form_dict(await request.form())
    try:
        body = AgencyCreate.model_validate(values)
        agency = service.create_agency(db=db, name=body.name, credit_code=body.credit_code,
                                       region_code=body.region_code, by=user,
                                       ip=client_ip(request))
    except (ValidationError, Invalid, AppError) as exc:
        if isinstance(exc, ValidationError):
            errors = form_errors(exc.errors())  # type: ignore[arg-type]
        elif isinstance(exc, Invalid):
            errors = form_errors(exc.errors)
        else:
            errors = {"credit_code": exc.message}
        return _agencies_page(request, db, user, values, errors, status_code=400)
    flash(request, _("Agency {name} registered.").format(name=agency.name))
    return redirect(request.url_for("agency", agency_id=agency.id).path)


def _agency_page(request: Request, db: SessionDep, user: User, agency: Enterprise,
                 values: dict, errors: dict, status_code: int = 200) -> Response:
    regions = service.region_names(db=db, codes={agency.region_code, agency.region_code[:2]})
    return render(request, "organisations/agency.html", {
        **_context(), "agency": agency, "regions": regions, "values": values,
        "errors": errors, "cadres": service.list_cadres(db=db, agency_id=agency.id),
        "candidates": service.cadre_candidates(db=db, agency=agency, by=user)},
        status_code=status_code)


@router.get("/agencies/{agency_id}", name="agency")
def agency_detail(request: Request, db: SessionDep, user: CurrentUser,
                  agency: VisibleAgency) -> Response:
    """An agency's supervisory cadres (their learner profiles) and the form registering one."""
    return _agency_page(request, db, user, agency,
                        {"job_category": "general.safety_manager"}, {})


@router.post("/agencies/{agency_id}/cadres", name="cadre_create")
async def cadre_create(request: Request, db: SessionDep, user: CurrentUser,
                       agency: VisibleAgency) -> Response:
    """Register a regulator user as a supervisory cadre (a learner) of the agency."""
    values = form_dict(await request.form())
    try:
        body = CadreCreate.model_validate(values)
        cadre = service.register_cadre(db=db, agency=agency, user_id=body.user_id,
                                       id_number=body.id_number, full_name=body.full_name,
                                       job_category=body.job_category, by=user,
                                       ip=client_ip(request))
    except (ValidationError, Invalid, AppError) as exc:
        if isinstance(exc, ValidationError):
            errors = form_errors(exc.errors())  # type: ignore[arg-type]
        elif isinstance(exc, Invalid):
            errors = form_errors(exc.errors)
        else:
            errors = {"user_id": exc.message}
        return _agency_page(request, db, user, agency, values, errors, status_code=400)
    flash(request, _("{name} is registered as a supervisory cadre and can now enrol in "
                     "courses offered to cadres.").format(name=cadre.full_name))
    return redirect(request.url_for("agency", agency_id=agency.id).path)


@router.get("/enterprises/{enterprise_id}", name="enterprise")
def enterprise_detail(request: Request, db: SessionDep, user: CurrentUser,
                      enterprise: VisibleEnterprise, paging: PageDep, q: str = "",
                      job_category: str = "", enrol: int = 0,
                      team: Annotated[str, Query(max_length=60)] = "") -> Response:
    """The enterprise and its roster: search, filter by job category and team, page through."""
    workers, total = service.list_workers(db=db, enterprise_id=enterprise.id, query=q,
                                          job_category=job_category, team=team,
                                          page=paging.page, page_size=paging.page_size)
    regions = service.region_names(db=db, codes={enterprise.region_code,
                                                 enterprise.region_code[:2],
                                                 enterprise.region_code[:4]})
    can_manage = service.can_manage_enterprise(user, enterprise.id)
    audience = "regulator" if enterprise.kind == "agency" else "worker"
    published = courses.list_courses(db=db, page_size=200, audience=audience)[0] \
        if can_manage else []
    locale = get_locale()
    context = {**_context(), "enterprise": enterprise, "workers": workers, "total": total,
               "paging": paging, "q": q, "job_category": job_category, "regions": regions,
               "team": team, "teams": service.enterprise_teams(db=db,
                                                               enterprise_id=enterprise.id),
               "can_manage": can_manage, "courses": published, "enrol_course": enrol,
               "course_title": lambda c: courses.localized(c.title, locale)}
    template = ("organisations/_roster_table.html"
                if request.headers.get("hx-target") == "roster" else
                "organisations/enterprise.html")
    return render(request, template, context)


@router.get("/enterprises/{enterprise_id}/roster.xlsx", name="roster_export")
def roster_export(enterprise: ManagedEnterprise, db: SessionDep) -> Response:
    """The roster as an .xlsx file with the import's columns."""
    data = roster.export_roster(db=db, enterprise=enterprise)
    filename = f"roster-{enterprise.credit_code}.xlsx"
    return Response(data, media_type="application/vnd.openxmlformats-officedocument."
                                      "spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@router.get("/enterprises/{enterprise_id}/import", name="roster_import")
def roster_import_form(request: Request, enterprise: ManagedEnterprise) -> Response:
    """Upload a roster file (then a preview, then confirm)."""
    return render(request, "organisations/import.html", {**_context(), "enterprise": enterprise,
                                                         "columns": roster.EXPORT_COLUMNS})


# The import steps parse the file outside any transaction (a worker thread, no write lock):
# their lookups run in a read transaction, and only the short write takes the lock.
_imports = APIRouter(dependencies=[ReadOnlyRequest, Depends(page_guard)], include_in_schema=False)


@_imports.post("/enterprises/{enterprise_id}/import", name="roster_import_preview")
async def roster_import_preview(request: Request, enterprise: ManagedEnterprise,
                                db: SessionDep, user: CurrentUser,
                                file: Annotated[UploadFile, File()]) -> Response:
    """Check the file and show what would change, or every bad row; nothing is imported yet."""
    context = {**_context(), "enterprise": enterprise, "columns": roster.EXPORT_COLUMNS}
    filename = file.filename or "upload"
    try:
        data = await read_upload(file)
        parsed = await parse_upload(db, data, filename)
    except Invalid as exc:
        return render(request, "organisations/import.html",
                      {**context, "problem": exc.message, "errors": exc.errors},
                      status_code=422)

    def check_and_keep() -> tuple[roster.ImportResult, RosterUpload | None]:
        result = roster.check_roster(db=db, enterprise=enterprise, parsed=parsed)
        if result.errors:
            return result, None
        db.commit()  # the read is over; keeping the file is the only write
        begin_write(db)
        return result, roster.store_upload(db=db, enterprise=enterprise, data=data,
                                           filename=filename, by=user)

    result, upload = await run_in_threadpool(check_and_keep)
    if upload is None:
        return render(request, "organisations/import.html",
                      {**context, "errors": [e.as_dict() for e in result.errors],
                       "problem": _("{n} rows of the file have errors; nothing was "
                                    "imported.").format(n=len({e.row for e in result.errors}))},
                      status_code=422)
    return render(request, "organisations/import_preview.html",
                  {**context, "result": result, "upload": upload,
                   "preview_rows": result.rows[:50]})


@_imports.post("/enterprises/{enterprise_id}/import/{token}", name="roster_import_confirm")
def roster_import_confirm(request: Request, enterprise: ManagedEnterprise, db: SessionDep,
                          user: CurrentUser, token: str,
                          action: Annotated[str, Form()] = "import") -> Response:
    """Import the previewed file (checked again: the roster may have changed meanwhile)."""
    upload = roster.get_upload_or_404(db=db, enterprise=enterprise, token=token, by=user)
    db.commit()  # end the read: the file is parsed outside any transaction
    if action == "cancel":
        begin_write(db)
        roster.discard_upload(db=db, upload=upload)
        flash(request, _("Import cancelled; nothing changed."), "info")
        return redirect(request.url_for("enterprise", enterprise_id=enterprise.id).path)
    try:
        parsed = roster.parse_roster(data=upload.content, filename=upload.filename)
        begin_write(db)
        result = roster.import_roster(db=db, enterprise=enterprise, parsed=parsed,
                                      dry_run=False, by=user, ip=client_ip(request))
    except Invalid as exc:
        return render(request, "organisations/import.html", {
            **_context(), "enterprise": enterprise, "columns": roster.EXPORT_COLUMNS,
            "problem": exc.message, "errors": exc.errors}, status_code=422)
    roster.discard_upload(db=db, upload=upload)
    flash(request, _("Roster imported: {created} added, {updated} updated, {unchanged} "
                     "unchanged.").format(created=result.created, updated=result.updated,
                                          unchanged=result.unchanged))
    return redirect(request.url_for("enterprise", enterprise_id=enterprise.id).path)


@router.get("/workers/{worker_id}", name="worker")
def worker_detail(request: Request, db: SessionDep, user: CurrentUser,
                  worker: VisibleWorker) -> Response:
    """A worker's profile."""
    return _worker_page(request, db, worker,
                        can_manage=service.can_manage_enterprise(user, worker.enterprise_id))


def _worker_page(request: Request, db: SessionDep, worker: Worker, *, can_manage: bool,
                 errors: dict[str, str] | None = None, team_value: str | None = None) -> Response:
    """The worker's profile page; with `errors`, a form on it came back refused (400)."""
    return render(request, "organisations/worker.html", {
        **_context(), "worker": worker, "can_manage": can_manage, "errors": errors or {},
        **({"team_value": team_value} if team_value is not None else {}),
        "teams": service.enterprise_teams(db=db, enterprise_id=worker.enterprise_id)
        if can_manage else []}, status_code=200 if errors is None else 400)


@router.post("/workers/{worker_id}/team", name="worker_team")
def worker_team(request: Request, db: SessionDep, user: CurrentUser, worker: ManagedWorker,
                team: Annotated[str, Form()] = "") -> Response:
    """Put the worker in a team (blank: no team)."""
    try:
        service.set_worker_team(db=db, worker=worker, team=team, by=user,
                                ip=client_ip(request))
    except Invalid as exc:
        return _worker_page(request, db, worker, can_manage=True, team_value=team,
                            errors=form_errors(exc.errors))
    flash(request, _("Team saved."))
    return redirect(request.url_for("worker", worker_id=worker.id).path)


@router.post("/workers/{worker_id}/password", name="worker_password")
def worker_password(request: Request, db: SessionDep, user: CurrentUser, worker: ManagedWorker,
                    password: Annotated[str, Form()] = "") -> Response:
    """Set the password the worker signs in with."""
    try:
        service.set_worker_password(db=db, worker=worker, password=password, by=user,
                                    ip=client_ip(request))
    except Invalid as exc:
        return _worker_page(request, db, worker, can_manage=True,
                            errors=form_errors(exc.errors))
    flash(request, _("Password set. {name} signs in with the ID number.").format(
        name=worker.full_name))
    return redirect(request.url_for("worker", worker_id=worker.id).path)


router.routes.extend(_imports.routes)
