"""JSON routes of the expert pool: search, add, read, change."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from app.accounts.api import client_ip
from app.db import SessionDep
from app.experts import service
from app.experts.deps import EditableExpert, EditorUser, StaffUser, VisibleExpert
from app.experts.schemas import ExpertCreate, ExpertOut, ExpertPatch
from app.pagination import Page, PageDep

router = APIRouter(prefix="/api/v1", tags=["experts"])
Text = Annotated[str, Query(max_length=100)]


@router.get("/experts", response_model=Page[ExpertOut])
def list_experts(db: SessionDep, user: StaffUser, paging: PageDep, speciality: Text = "",
                 region: Annotated[str, Query(max_length=12)] = "", q: Text = "",
                 role: Text = "", available: bool | None = None) -> Page[ExpertOut]:
    """Search the pool by speciality, region (prefix), role, availability and free text."""
    filters = service.clean_filter(db=db, query=q, speciality=speciality, region=region,
                                   role=role, available=available)
    items, total = service.list_(db=db, filters=filters, page=paging.page,
                                 page_size=paging.page_size)
    return Page(items=[ExpertOut.of(e) for e in items], total=total)


@router.post("/experts", response_model=ExpertOut, status_code=201)
def create_expert(request: Request, body: ExpertCreate, db: SessionDep,
                  by: EditorUser) -> ExpertOut:
    """Add an expert (admin; a regulator within its region)."""
    expert = service.create(db=db, data=body.model_dump(), by=by, ip=client_ip(request))
    return ExpertOut.of(expert)


@router.get("/experts/{expert_id}", response_model=ExpertOut)
def get_expert(expert: VisibleExpert) -> ExpertOut:
    """One expert (any staff)."""
    return ExpertOut.of(expert)


@router.patch("/experts/{expert_id}", response_model=ExpertOut)
def update_expert(request: Request, expert: EditableExpert, body: ExpertPatch, db: SessionDep,
                  by: EditorUser) -> ExpertOut:
    """Change the fields sent (admin; a regulator within its region, also the new region)."""
    expert = service.update(db=db, expert=expert, changes=body.model_dump(exclude_unset=True),
                            by=by, ip=client_ip(request))
    return ExpertOut.of(expert)
