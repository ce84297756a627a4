"""HTML routes of accounts: login, logout, language, home, user administration, audit log."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import Response
from pydantic import ValidationError

from app import i18n
from app.accounts import service
from app.accounts.api import client_ip
from app.accounts.deps import (
    DEVICE_COOKIE,
    SESSION_COOKIE,
    AdminUser,
    OptionalUserDep,
    page_guard,
)
from app.accounts.models import ROLE_LABELS, User
from app.accounts.schemas import UserCreate, UserUpdate
from app.bounds import parse_int
from app.config import get_settings
from app.db import SessionDep
from app.errors import AppError, Invalid, TooManyRequests
from app.home import home_panels
from app.i18n import gettext as _
from app.middleware import set_cookie
from app.organisations import service as organisations
from app.pagination import PageDep
from app.web import (
    LOCALE_COOKIE,
    flash,
    form_dict,
    form_errors,
    parse_iso_date,
    redirect,
    render,
    safe_next,
)

router = APIRouter(dependencies=[Depends(page_guard)], include_in_schema=False)

# --- login, logout, language ----------------------------------------------------------------

@router.get("/login", name="login")
def login_form(request: Request, user: OptionalUserDep, next: str = "/") -> Response:
    """The login form (workers sign in with their ID number)."""
    if user is not None:
        return redirect(safe_next(next))
    return render(request, "accounts/login.html", {"next": safe_next(next), "username": ""})


@router.post("/login", name="login_submit")
def login_submit(request: Request, db: SessionDep, username: Annotated[str, Form()] = "",
                 password: Annotated[str, Form()] = "",
                 next: Annotated[str, Form()] = "/") -> Response:
    """Check the credentials, rotate the session and go to the home page."""
    device_tokens = service.device_cookie_tokens(request.cookies.get(DEVICE_COOKIE))
    try:
        user = service.authenticate(db=db, username=username, password=password,
                                    ip=client_ip(request), device_tokens=device_tokens)
    except TooManyRequests as exc:
        return render(request, "accounts/login.html",
                      {"next": safe_next(next), "username": username, "error": exc.message},
                      status_code=429, headers=exc.headers)
    except AppError as exc:
        # The failure count must be kept: commit it, then show the form again.
        db.commit()
        return render(request, "accounts/login.html",
                      {"next": safe_next(next), "username": username, "error": exc.message},
                      status_code=400)
    token = service.start_session(db=db, user=user,
                                  previous_token=request.cookies.get(SESSION_COOKIE),
                                  ip=client_ip(request),
                                  user_agent=request.headers.get("user-agent"))
    set_cookie(request, SESSION_COOKIE, token, max_age=get_settings().session_hours * 3600)
    # This browser is now trusted for the account: a lock caused by others cannot stop it.
    tokens = service.remember_device(db=db, user=user, device_tokens=device_tokens)
    set_cookie(request, DEVICE_COOKIE, ".".join(tokens),
               max_age=int(service.DEVICE_LIFETIME.total_seconds()))
    if user.locale:
        set_cookie(request, LOCALE_COOKIE, user.locale, max_age=365 * 86400, http_only=False)
    return redirect(safe_next(next))


@router.post("/logout", name="logout")
def logout(request: Request, db: SessionDep) -> Response:
    """End this browser's session."""
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        service.end_session(db=db, token=token)
    set_cookie(request, SESSION_COOKIE, "", max_age=0)
    flash(request, _("You are signed out."))
    return redirect(request.url_for("login").path)


@router.post("/language", name="set_language")
def set_language(request: Request, db: SessionDep, user: OptionalUserDep,
                 locale: Annotated[str, Form()], next: Annotated[str, Form()] = "/") -> Response:
    """Switch the interface language (remembered in a cookie and on the account)."""
    chosen = i18n.normalise_locale(locale) or i18n.DEFAULT_LOCALE
    set_cookie(request, LOCALE_COOKIE, chosen, max_age=365 * 86400, http_only=False)
    if user is not None:
        db.get(User, user.id).locale = chosen  # type: ignore[union-attr]
    return redirect(safe_next(next))


# --- home -------------------------------------------------------------------------------------

@router.get("/", name="home")
def home(request: Request, db: SessionDep, user: OptionalUserDep) -> Response:
    """The signed-in user's home, one panel per role; the public landing page otherwise."""
    if user is None:
        return render(request, "landing.html")
    panels = home_panels(db=db, user=user)
    return render(request, "home.html", {"panels": panels})


# --- user administration (admin) ------------------------------------------------------------

def _role_choices() -> list[tuple[str, str]]:
    return [(role.value, _(label)) for role, label in ROLE_LABELS.items()]


@router.get("/admin/users", name="admin_users")
def users_list(request: Request, db: SessionDep, admin: AdminUser, paging: PageDep,
               q: str = "", role: str = "") -> Response:
    """Search users."""
    users, total = service.list_users(db=db, query=q, role=role, page=paging.page,
                                      page_size=paging.page_size)
    return render(request, "accounts/users_list.html", {
        "users": users, "total": total, "paging": paging, "q": q, "role": role,
        "role_choices": _role_choices()})


def _user_form(request: Request, db: SessionDep, *, target: User | None, values: dict,
               errors: dict[str, str], status_code: int = 200) -> Response:
    enterprises, _total = organisations.list_enterprises(db=db, user=request.state.user,
                                                         page_size=500)
    return render(request, "accounts/user_form.html", {
        "target": target, "values": values, "errors": errors, "role_choices": _role_choices(),
        "enterprises": enterprises, "regions": organisations.list_regions(db=db)},
        status_code=status_code)


def _roles_from(values: dict) -> list[str]:
    roles = values.get("roles", [])
    return roles if isinstance(roles, list) else [roles]


def _scope_fields(db: SessionDep, values: dict) -> tuple[int | None, str | None]:
    enterprise_id = parse_int(str(values.get("enterprise_id") or ""), name="enterprise_id",
                              minimum=1)
    if enterprise_id is not None:
        organisations.get_enterprise_or_404(db=db, enterprise_id=enterprise_id)
    region = organisations.clean_region_code(db=db, value=values.get("region_code") or None)
    return enterprise_id, region


@router.get("/admin/users/new", name="admin_user_new")
def user_new(request: Request, db: SessionDep, admin: AdminUser) -> Response:
    """The form for a new user."""
    return _user_form(request, db, target=None, values={"roles": []}, errors={})


@router.post("/admin/users/new", name="admin_user_create")
async def user_create(request: Request, db: SessionDep, admin: AdminUser) -> Response:
    """Create a user from the form."""
    values = form_dict(await request.form())
    values["roles"] = _roles_from(values)
    try:
        body = UserCreate.model_validate({**values, "enterprise_id": None, "region_code": None})
        enterprise_id, region = _scope_fields(db, values)
        user = service.create_user(db=db, username=body.username, password=body.password,
                                   full_name=body.full_name, roles=body.roles,
                                   enterprise_id=enterprise_id, region_code=region, by=admin,
                                   ip=client_ip(request))
    except ValidationError as exc:
        return _user_form(request, db, target=None, values=values,
                          errors=form_errors(exc.errors()), status_code=400)  # type: ignore[arg-type]
    except Invalid as exc:
        return _user_form(request, db, target=None, values=values,
                          errors=form_errors(exc.errors), status_code=400)
    except AppError as exc:
        return _user_form(request, db, target=None, values=values,
                          errors={"username": exc.message}, status_code=exc.status)
    flash(request, _("User {username} created.").format(username=user.username))
    return redirect(request.url_for("admin_user_edit", user_id=user.id).path)


@router.get("/admin/users/{user_id}", name="admin_user_edit")
def user_edit(request: Request, db: SessionDep, admin: AdminUser, user_id: int) -> Response:
    """Edit a user's roles, deactivate, reset the password."""
    target = service.get_user_or_404(db=db, user_id=user_id)
    values = {"full_name": target.full_name, "roles": target.role_names,
              "enterprise_id": target.enterprise_id or "", "region_code": target.region_code or ""}
    return _user_form(request, db, target=target, values=values, errors={})


@router.post("/admin/users/{user_id}", name="admin_user_update")
async def user_update(request: Request, db: SessionDep, admin: AdminUser,
                      user_id: int) -> Response:
    """Save name, roles and scope."""
    target = service.get_user_or_404(db=db, user_id=user_id)
    values = form_dict(await request.form())
    values["roles"] = _roles_from(values)
    try:
        body = UserUpdate.model_validate({"full_name": values.get("full_name", ""),
                                          "roles": values["roles"]})
        enterprise_id, region = _scope_fields(db, values)
        service.update_user(db=db, user=target, full_name=body.full_name, roles=body.roles,
                            enterprise_id=enterprise_id, region_code=region, by=admin,
                            ip=client_ip(request))
    except ValidationError as exc:
        return _user_form(request, db, target=target, values=values,
                          errors=form_errors(exc.errors()), status_code=400)  # type: ignore[arg-type]
    except Invalid as exc:
        return _user_form(request, db, target=target, values=values,
                          errors=form_errors(exc.errors), status_code=400)
    flash(request, _("Changes saved."))
    return redirect(request.url_for("admin_user_edit", user_id=target.id).path)


@router.post("/admin/users/{user_id}/active", name="admin_user_active")
def user_active(request: Request, db: SessionDep, admin: AdminUser, user_id: int,
                active: Annotated[bool, Form()]) -> Response:
    """Deactivate (sessions end at once) or reactivate."""
    target = service.get_user_or_404(db=db, user_id=user_id)
    service.set_active(db=db, user=target, active=active, by=admin, ip=client_ip(request))
    flash(request, _("Account reactivated.") if active else _("Account deactivated; "
                                                              "its sessions have ended."))
    return redirect(request.url_for("admin_user_edit", user_id=target.id).path)


@router.post("/admin/users/{user_id}/password", name="admin_user_password")
def user_password(request: Request, db: SessionDep, admin: AdminUser, user_id: int,
                  password: Annotated[str, Form()] = "") -> Response:
    """Set a new password for the user."""
    target = service.get_user_or_404(db=db, user_id=user_id)
    try:
        service.reset_password(db=db, user=target, password=password, by=admin,
                               ip=client_ip(request))
    except Invalid as exc:
        values = {"full_name": target.full_name, "roles": target.role_names,
                  "enterprise_id": target.enterprise_id or "",
                  "region_code": target.region_code or ""}
        return _user_form(request, db, target=target, values=values,
                          errors=form_errors(exc.errors), status_code=400)
    flash(request, _("Password changed; the user's sessions have ended."))
    return redirect(request.url_for("admin_user_edit", user_id=target.id).path)


# --- audit log --------------------------------------------------------------------------------

@router.get("/admin/audit", name="admin_audit")
def audit(request: Request, db: SessionDep, admin: AdminUser, paging: PageDep,
          q: str = "", action: str = "", date_from: Annotated[str, Query(alias="from")] = "",
          date_to: Annotated[str, Query(alias="to")] = "") -> Response:
    """Search the audit log."""
    start = parse_iso_date(date_from)
    end = parse_iso_date(date_to)
    filters = service.AuditFilter(
        query=q, action=action,
        date_from=datetime.combine(start, time.min, tzinfo=i18n.LOCAL_TZ) if start else None,
        date_to=datetime.combine(end + timedelta(days=1), time.min, tzinfo=i18n.LOCAL_TZ)
        if end else None)
    events, total = service.search_audit(db=db, filters=filters, page=paging.page,
                                         page_size=paging.page_size)
    return render(request, "accounts/audit.html", {
        "events": events, "total": total, "paging": paging, "q": q, "action": action,
        "date_from": date_from, "date_to": date_to,
        "actions": service.audit_actions(db=db)})

