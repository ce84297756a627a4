"""Who is asking: session cookie or bearer token, roles, CSRF for cookie-authenticated writes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request

from app.accounts import service
from app.accounts.models import Role, User
from app.db import SessionDep
from app.errors import Forbidden, Unauthorized
from app.i18n import gettext as _
from app.web import check_csrf_header, verify_csrf

SESSION_COOKIE = "pithead_session"
# A browser that signed in before (service.remember_device): up to 5 random tokens, '.'-joined.
DEVICE_COOKIE = "pithead_device"


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _sep, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def optional_user(request: Request, db: SessionDep) -> User | None:
    """The signed-in user (bearer token first, then session cookie), or None."""
    if hasattr(request.state, "user"):
        return request.state.user
    user = None
    token = _bearer(request)
    if token:
        user = service.token_user(db=db, token=token)
        request.state.auth_via = "bearer" if user else None
    else:
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie:
            user = service.session_user(db=db, token=cookie)
            if user is not None:
                request.state.session_token = cookie
                request.state.auth_via = "cookie"
    request.state.user = user
    return user


OptionalUserDep = Annotated[User | None, Depends(optional_user)]


def current_user(request: Request, user: OptionalUserDep) -> User:
    """The signed-in user; 401 (API) or a redirect to the login page (pages) otherwise."""
    if user is None:
        raise Unauthorized(_("Please sign in."))
    via_cookie = getattr(request.state, "auth_via", None) == "cookie"
    if via_cookie and request.url.path.startswith("/api/"):
        check_csrf_header(request)
    return user


CurrentUser = Annotated[User, Depends(current_user)]


def require(*roles: Role) -> Callable[..., User]:
    """A dependency that lets through only users holding one of `roles`."""

    def dependency(user: CurrentUser) -> User:
        if not user.has_role(*roles):
            raise Forbidden(_("Your role does not allow this."))
        return user

    dependency.__name__ = "require_" + "_or_".join(role.value for role in roles)
    return dependency


async def page_guard(request: Request, user: OptionalUserDep) -> None:
    """Every page router: know the user (for the layout) and check CSRF on unsafe methods."""
    await verify_csrf(request)


AdminUser = Annotated[User, Depends(require(Role.ADMIN))]
