"""Pydantic shapes of the accounts API and forms."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from app.accounts.models import User
from app.bounds import Id


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_in: int


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    full_name: str
    roles: list[str]
    enterprise_id: int | None
    region_code: str | None

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(id=user.id, username=user.username, full_name=user.full_name,
                   roles=user.role_names, enterprise_id=user.enterprise_id,
                   region_code=user.region_code)


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=200)
    full_name: str = Field(default="", max_length=100)
    roles: list[str] = Field(min_length=1)
    enterprise_id: Id | None = None
    region_code: str | None = None


class UserUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    full_name: str = Field(default="", max_length=100)
    roles: list[str] = Field(min_length=1)
    enterprise_id: Id | None = None
    region_code: str | None = None


class PasswordIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    password: str = Field(min_length=1, max_length=200)
