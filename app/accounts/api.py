"""JSON routes of accounts: token, me, users."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request

from app.accounts import service
from app.accounts.deps import CurrentUser, require
from app.accounts.models import Role, User
from app.accounts.schemas import TokenOut, UserCreate, UserOut
from app.db import SessionDep
from app.organisations import service as organisations

router = APIRouter(prefix="/api/v1", tags=["accounts"])


def client_ip(request: Request) -> str | None:
    """The client address as the server sees it (behind a proxy: run uvicorn --proxy-headers)."""
    return request.client.host if request.client else None


@router.post("/auth/token", response_model=TokenOut)
def token(request: Request, db: SessionDep, username: Annotated[str, Form()],
          password: Annotated[str, Form()]) -> TokenOut:
    """OAuth2 password grant: a bearer token for the API."""
    user = service.authenticate(db=db, username=username, password=password, ip=client_ip(request))
    access_token, expires_in = service.issue_token(db=db, user=user)
    return TokenOut(access_token=access_token, expires_in=expires_in)


@router.get("/me", response_model=UserOut)
def me(user: CurrentUser) -> UserOut:
    """The signed-in user."""
    return UserOut.of(user)


@router.post("/users", response_model=UserOut, status_code=201)
def create_user(request: Request, body: UserCreate, db: SessionDep,
                by: Annotated[User, Depends(require(Role.ADMIN, Role.ENTERPRISE_ADMIN))],
                ) -> UserOut:
    """Create a user (admins: any; enterprise admins: workers of their own enterprise)."""
    region_code = organisations.clean_region_code(db=db, value=body.region_code,
                                                  field="region_code")
    if body.enterprise_id is not None and by.has_role(Role.ADMIN):
        organisations.get_enterprise_or_404(db=db, enterprise_id=body.enterprise_id)
    user = service.create_user(db=db, username=body.username, password=body.password,
                               full_name=body.full_name, roles=body.roles,
                               enterprise_id=body.enterprise_id, region_code=region_code, by=by,
                               ip=client_ip(request))
    return UserOut.of(user)
