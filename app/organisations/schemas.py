"""Pydantic shapes of the organisations API."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from app.bounds import Id
from app.organisations import validators
from app.organisations.models import Enterprise, MineType, Worker


class EnterpriseCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    credit_code: str = Field(min_length=1, max_length=40)
    region_code: str = Field(min_length=1, max_length=12)
    mine_type: MineType
    above_designated_size: bool = False


class AgencyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    credit_code: str = Field(min_length=1, max_length=40)
    region_code: str = Field(min_length=1, max_length=12)


class AgencyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    credit_code: str
    region_code: str
    kind: str


class CadreCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_id: Id
    id_number: str = Field(min_length=1, max_length=40)
    full_name: str = Field(min_length=1, max_length=100)
    job_category: str = Field(default="general.safety_manager", max_length=40)


class EnterpriseOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    credit_code: str
    region_code: str
    mine_type: str
    above_designated_size: bool


class WorkerOut(BaseModel):
    id: int
    user_id: int
    full_name: str
    id_number_masked: str
    job_category: str
    enterprise_id: int
    phone: str
    hired_on: date
    education_level: str | None
    team: str | None = None

    @classmethod
    def of(cls, worker: Worker) -> WorkerOut:
        return cls(id=worker.id, user_id=worker.user_id, full_name=worker.full_name,
                   id_number_masked=validators.mask_id_number(worker.id_number),
                   job_category=worker.job_category, enterprise_id=worker.enterprise_id,
                   phone=worker.phone, hired_on=worker.hired_on,
                   education_level=worker.education_level, team=worker.team)


class TeamIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    team: str | None = Field(default=None, max_length=200)


class ImportRowError(BaseModel):
    row: int
    column: str
    message: str


class ImportOut(BaseModel):
    created: int
    updated: int
    unchanged: int = 0
    dry_run: bool = False
    errors: list[ImportRowError] = []


def enterprise_out(enterprise: Enterprise) -> EnterpriseOut:
    """The API shape of an enterprise."""
    return EnterpriseOut.model_validate(enterprise)
