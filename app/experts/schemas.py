"""Pydantic shapes of the experts API (the vocabularies are checked in the service)."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from app.bounds import Id, PatchBody
from app.experts.models import Expert


class ExpertCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    full_name: str = Field(min_length=1, max_length=100)
    organisation: str = Field(min_length=1, max_length=200)
    region_code: str = Field(min_length=1, max_length=12)
    specialities: list[str] = Field(min_length=1, max_length=20)
    roles: list[str] = Field(default_factory=list, max_length=10)
    qualifications: str = Field(default="", max_length=2000)
    available: bool = True
    user_id: Id | None = None


class ExpertPatch(PatchBody):
    """Fields to change; `user_id: null` unlinks the expert's login."""

    nullable: ClassVar[frozenset[str]] = frozenset({"user_id"})

    full_name: str | None = Field(default=None, min_length=1, max_length=100)
    organisation: str | None = Field(default=None, min_length=1, max_length=200)
    region_code: str | None = Field(default=None, min_length=1, max_length=12)
    specialities: list[str] | None = Field(default=None, min_length=1, max_length=20)
    roles: list[str] | None = Field(default=None, max_length=10)
    qualifications: str | None = Field(default=None, max_length=2000)
    available: bool | None = None
    user_id: Id | None = None


class LinkedUserOut(BaseModel):
    id: int
    username: str
    full_name: str


class ExpertOut(BaseModel):
    id: int
    full_name: str
    organisation: str
    region_code: str
    specialities: list[str]
    roles: list[str]
    qualifications: str
    available: bool
    user_id: int | None
    user: LinkedUserOut | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, expert: Expert) -> ExpertOut:
        """The API shape of an expert loaded by service.get_or_404 / list_."""
        user = expert.user
        return cls(id=expert.id, full_name=expert.full_name, organisation=expert.organisation,
                   region_code=expert.region_code, specialities=expert.speciality_codes,
                   roles=expert.role_codes, qualifications=expert.qualifications,
                   available=expert.available, user_id=expert.user_id,
                   user=LinkedUserOut(id=user.id, username=user.username,
                                      full_name=user.full_name) if user else None,
                   created_at=expert.created_at, updated_at=expert.updated_at)
