"""HTML routes of the expert pool: search, an expert's page, add and edit forms."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from app.accounts.api import client_ip
from app.accounts.deps import page_guard
from app.accounts.models import User
from app.bounds import INT_MAX, parse_int
from app.db import SessionDep
from app.errors import Conflict, Forbidden, Invalid
from app.experts import service
from app.experts.deps import EditableExpert, EditorUser, StaffUser, VisibleExpert
from app.experts.models import EXPERT_ROLE_LABELS, SPECIALITY_LABELS, Expert
from app.experts.schemas import ExpertCreate
from app.i18n import gettext as _
from app.organisations import service as organisations
from app.pagination import PageDep
from app.web import FormDep, flash, form_dict, form_errors, redirect, render

router = APIRouter(dependencies=[Depends(page_guard)], include_in_schema=False)


def _region_paths(db: Session, codes: set[str]) -> dict[str, list[Any]]:
    """Each code's divisions from the province down ('140105' -> Shanxi, Taiyuan, Xiaodian)."""
    levels = {code[:n] for code in codes for n in (2, 4, 6) if len(code) >= n}
    known = organisations.region_names(db=db, codes=levels)
    return {code: [known[code[:n]] for n in (2, 4, 6) if len(code) >= n and code[:n] in known]
            for code in codes}


def _context(db: Session, user: User, experts: list[Expert]) -> dict[str, Any]:
    return {"specialities": SPECIALITY_LABELS, "expert_roles": EXPERT_ROLE_LABELS,
            "can_create": service.can_create(user),
            "region_paths": _region_paths(db, {e.region_code for e in experts})}


@router.get("/experts", name="experts")
def experts(request: Request, db: SessionDep, user: StaffUser, paging: PageDep) -> Response:
    """Search the pool: free text, speciality, region, role and availability."""
    params = request.query_params
    raw = {name: params.get(name, "")[:100] for name in ("q", "speciality", "region", "role",
                                                          "available")}
    available = {"yes": True, "no": False}.get(raw["available"])
    errors: dict[str, str] = {}
    try:
        filters = service.clean_filter(db=db, query=raw["q"], speciality=raw["speciality"],
                                       region=raw["region"], role=raw["role"],
                                       available=available)
    except Invalid as exc:
        errors = form_errors(exc.errors)
        items: list[Expert] = []
        total = 0
    else:
        items, total = service.list_(db=db, filters=filters, page=paging.page,
                                     page_size=paging.page_size)
    return render(request, "experts/list.html", {
        **_context(db, user, items), "items": items, "total": total, "paging": paging,
        "values": raw, "errors": errors, "regions": organisations.list_regions(db=db)},
        status_code=400 if errors else 200)


def _form_values(form: Any) -> dict[str, Any]:
    """The form's fields in the shape of ExpertCreate (checkbox groups as lists)."""
    values = form_dict(form)
    for name in ("specialities", "roles"):
        given = values.get(name, [])
        values[name] = given if isinstance(given, list) else [given]
    values["available"] = values.get("available") == "on"
    values["user_id"] = parse_int(str(values.get("user_id") or ""), name="user_id", minimum=1,
                                  maximum=INT_MAX)
    return values


def _render_form(request: Request, db: SessionDep, user: User, *, values: dict[str, Any],
                 errors: dict[str, str], expert: Expert | None = None,
                 status_code: int = 200) -> Response:
    return render(request, "experts/form.html", {
        **_context(db, user, [expert] if expert else []), "expert": expert, "values": values,
        "errors": errors, "regions": organisations.list_regions(db=db),
        "linkable": service.linkable_users(db=db)}, status_code=status_code)


def _problems(exc: Exception) -> dict[str, str]:
    """A failed save as messages on the form's fields."""
    if isinstance(exc, ValidationError):
        return form_errors(exc.errors())  # type: ignore[arg-type]
    if isinstance(exc, Invalid):
        return form_errors(exc.errors)
    if isinstance(exc, Conflict):
        return {"user_id": exc.message}
    assert isinstance(exc, Forbidden)
    return {"region_code": exc.message}


def _require_create(user: User) -> None:
    if not service.can_create(user):
        raise Forbidden(_("Your account has no region; ask an administrator to set one."))


@router.get("/experts/new", name="expert_new")
def expert_new(request: Request, db: SessionDep, user: EditorUser) -> Response:
    """The form for adding an expert."""
    _require_create(user)
    values = {"available": True, "region_code": user.region_code or "", "specialities": [],
              "roles": []}
    return _render_form(request, db, user, values=values, errors={})


@router.post("/experts/new", name="expert_create")
def expert_create(request: Request, db: SessionDep, user: EditorUser, form: FormDep) -> Response:
    """Add an expert from the form."""
    _require_create(user)
    values = _form_values(form)
    try:
        body = ExpertCreate.model_validate(values)
        expert = service.create(db=db, data=body.model_dump(), by=user, ip=client_ip(request))
    except (ValidationError, Invalid, Conflict, Forbidden) as exc:
        return _render_form(request, db, user, values=values, errors=_problems(exc),
                            status_code=400)
    flash(request, _("Expert {name} added.").format(name=expert.full_name))
    return redirect(request.url_for("expert", expert_id=expert.id).path)


@router.get("/experts/{expert_id}", name="expert")
def expert_detail(request: Request, db: SessionDep, user: StaffUser,
                  expert: VisibleExpert) -> Response:
    """One expert, with the linked login if any."""
    return render(request, "experts/detail.html", {
        **_context(db, user, [expert]), "expert": expert,
        "can_edit": service.can_edit(user, expert)})


def _values_of(expert: Expert) -> dict[str, Any]:
    return {"full_name": expert.full_name, "organisation": expert.organisation,
            "region_code": expert.region_code, "specialities": expert.speciality_codes,
            "roles": expert.role_codes, "qualifications": expert.qualifications,
            "available": expert.available, "user_id": expert.user_id}


@router.get("/experts/{expert_id}/edit", name="expert_edit")
def expert_edit(request: Request, db: SessionDep, user: EditorUser,
                expert: EditableExpert) -> Response:
    """The form for changing an expert."""
    return _render_form(request, db, user, values=_values_of(expert), errors={}, expert=expert)


@router.post("/experts/{expert_id}/edit", name="expert_update")
def expert_update(request: Request, db: SessionDep, user: EditorUser, expert: EditableExpert,
                  form: FormDep) -> Response:
    """Save the edit form (every field is sent; only what changed is written and audited)."""
    values = _form_values(form)
    try:
        body = ExpertCreate.model_validate(values)
        updated = service.update(db=db, expert=expert, changes=body.model_dump(), by=user,
                                 ip=client_ip(request))
    except (ValidationError, Invalid, Conflict, Forbidden) as exc:
        return _render_form(request, db, user, values=values, errors=_problems(exc),
                            expert=expert, status_code=400)
    flash(request, _("Expert {name} saved.").format(name=updated.full_name))
    return redirect(request.url_for("expert", expert_id=updated.id).path)
