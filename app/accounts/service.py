"""Business rules of accounts: users, roles, login with throttling, sessions, tokens, audit."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Delete, Select, bindparam, delete, func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session, joinedload, selectinload

from app.accounts.models import (
    ApiToken,
    AuditEvent,
    LoginThrottle,
    Role,
    TrustedDevice,
    User,
    UserRole,
    WebSession,
)
from app.accounts.security import (
    MIN_PASSWORD_LENGTH,
    hash_password,
    needs_rehash,
    new_token,
    token_digest,
    verify_password,
)
from app.config import get_settings
from app.db import utcnow
from app.errors import Conflict, Forbidden, Invalid, LoginFailed, NotFound, TooManyRequests
from app.i18n import gettext as _
from app.pagination import LIKE_ESCAPE, like_pattern

MAX_CONSECUTIVE_FAILURES = 10
FIRST_BACKOFF_SECONDS = 30
MAX_BACKOFF_SECONDS = 15 * 60
# Failed logins of a streak after the lock starts get one audit row per interval at most.
FAILED_LOGIN_AUDIT_INTERVAL = timedelta(hours=1)
# Trusted devices (device cookies): lifetime, how many per account, tokens per cookie.
DEVICE_LIFETIME = timedelta(days=180)
MAX_DEVICES_PER_USER = 10
MAX_DEVICE_TOKENS = 5


# --- users ----------------------------------------------------------------------------------

def normalise_username(username: str) -> str:
    """Usernames compare exactly, except that an ID number's final 'x' is always upper case."""
    value = username.strip()
    if len(value) == 18 and value[:17].isdigit() and value[17] in "xX":
        return value[:17] + "X"
    return value


def get_user(*, db: Session, user_id: int) -> User | None:
    """A user with roles loaded, or None."""
    return db.scalar(select(User).where(User.id == user_id).options(selectinload(User.roles)))


def get_user_or_404(*, db: Session, user_id: int) -> User:
    """A user with roles loaded, or NotFound."""
    user = get_user(db=db, user_id=user_id)
    if user is None:
        raise NotFound(_("No such user."))
    return user


def get_by_username(*, db: Session, username: str) -> User | None:
    """The user with this login name, roles loaded."""
    return db.scalar(select(User).where(User.username == normalise_username(username))
                     .options(selectinload(User.roles)))


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid(errors=[{"loc": ["password"], "msg": _(
            "The password must have at least {n} characters.").format(n=MIN_PASSWORD_LENGTH)}])


def _clean_roles(roles: Iterable[str]) -> list[Role]:
    result: list[Role] = []
    for name in roles:
        try:
            role = Role(name)
        except ValueError:
            raise Invalid(errors=[{"loc": ["roles"], "msg": _("Unknown role: {role}.").format(
                role=name)}]) from None
        if role not in result:
            result.append(role)
    if not result:
        raise Invalid(errors=[{"loc": ["roles"], "msg": _("Choose at least one role.")}])
    return result


def _check_scope_fields(roles: list[Role], enterprise_id: int | None,
                        region_code: str | None) -> None:
    errors = []
    if Role.REGULATOR in roles and not region_code:
        errors.append({"loc": ["region_code"], "msg": _("A regulator needs a region.")})
    if Role.ENTERPRISE_ADMIN in roles and not enterprise_id:
        errors.append({"loc": ["enterprise_id"],
                       "msg": _("An enterprise administrator needs an enterprise.")})
    if errors:
        raise Invalid(errors=errors)


def create_user(*, db: Session, username: str, password: str | None, full_name: str,
                roles: Iterable[str], enterprise_id: int | None = None,
                region_code: str | None = None, by: User | None,
                ip: str | None = None) -> User:
    """Create a user. An enterprise admin may only create workers of its own enterprise."""
    clean_roles = _clean_roles(roles)
    if by is not None and not by.has_role(Role.ADMIN):
        if not by.has_role(Role.ENTERPRISE_ADMIN) or clean_roles != [Role.WORKER]:
            raise Forbidden(_("You may only create worker accounts."))
        if enterprise_id not in (None, by.enterprise_id):
            raise Forbidden(_("You may only create accounts for your own enterprise."))
        enterprise_id, region_code = by.enterprise_id, None
    username = normalise_username(username)
    if not username:
        raise Invalid(errors=[{"loc": ["username"], "msg": _("Enter a username.")}])
    if password is not None:
        _check_password(password)
    _check_scope_fields(clean_roles, enterprise_id, region_code)
    if get_by_username(db=db, username=username) is not None:
        raise Conflict(_("The username {username} is taken.").format(username=username),
                       code="username_taken")
    user = User(
        username=username, full_name=full_name.strip(),
        password_hash=hash_password(password) if password else None,
        enterprise_id=enterprise_id, region_code=region_code,
        roles=[UserRole(role=role.value) for role in clean_roles],
    )
    db.add(user)
    db.flush()
    record_audit(db=db, action="user.created", actor=by, object_type="user", object_id=user.id,
                 enterprise_id=enterprise_id, region_code=region_code, ip=ip,
                 detail={"username": username, "roles": [r.value for r in clean_roles]})
    return user


def update_user(*, db: Session, user: User, full_name: str, roles: Iterable[str],
                enterprise_id: int | None, region_code: str | None, by: User,
                ip: str | None = None) -> User:
    """Change a user's name, roles and scope; a role change goes to the audit log."""
    clean_roles = _clean_roles(roles)
    _check_scope_fields(clean_roles, enterprise_id, region_code)
    before = sorted(user.role_names)
    after = sorted(r.value for r in clean_roles)
    user.full_name = full_name.strip()
    user.enterprise_id = enterprise_id
    user.region_code = region_code
    if before != after:
        user.roles = [UserRole(role=name) for name in after]
        record_audit(db=db, action="user.roles_changed", actor=by, object_type="user",
                     object_id=user.id, enterprise_id=enterprise_id, region_code=region_code,
                     ip=ip, detail={"username": user.username, "before": before, "after": after})
    db.flush()
    return user


def set_active(*, db: Session, user: User, active: bool, by: User, ip: str | None = None) -> None:
    """Deactivate (ending every session and token at once) or reactivate a user."""
    if by.id == user.id and not active:
        raise Conflict(_("You cannot deactivate yourself."), code="cannot_deactivate_self")
    user.is_active = active
    if not active:
        end_all_sessions(db=db, user_id=user.id)
    record_audit(db=db, action="user.activated" if active else "user.deactivated", actor=by,
                 object_type="user", object_id=user.id, enterprise_id=user.enterprise_id,
                 region_code=user.region_code, ip=ip, detail={"username": user.username})
    db.flush()


def reset_password(*, db: Session, user: User, password: str, by: User,
                   ip: str | None = None) -> None:
    """Set a new password for someone else; their sessions and tokens end."""
    _check_password(password)
    user.password_hash = hash_password(password)
    end_all_sessions(db=db, user_id=user.id)
    db.execute(delete(LoginThrottle).where(LoginThrottle.username == user.username))
    record_audit(db=db, action="user.password_reset", actor=by, object_type="user",
                 object_id=user.id, enterprise_id=user.enterprise_id,
                 region_code=user.region_code, ip=ip, detail={"username": user.username})
    db.flush()


def list_users(*, db: Session, query: str = "", role: str = "", page: int = 1,
               page_size: int = 25) -> tuple[list[User], int]:
    """Users matching a name/username search and a role, one page at a time."""
    stmt = select(User)
    if query:
        like = like_pattern(query.strip())
        stmt = stmt.where(or_(User.username.ilike(like, escape=LIKE_ESCAPE),
                              User.full_name.ilike(like, escape=LIKE_ESCAPE)))
    if role:
        stmt = stmt.where(User.id.in_(select(UserRole.user_id).where(UserRole.role == role)))
    total = db.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    users = db.scalars(stmt.order_by(User.username).options(selectinload(User.roles))
                       .limit(page_size).offset((page - 1) * page_size)).all()
    return list(users), total


# --- login and throttling -----------------------------------------------------------------

def _backoff_seconds(failures: int) -> int:
    """30 s after the 10th consecutive failure, doubling with each further one, at most 15 min."""
    exponent = max(0, failures - MAX_CONSECUTIVE_FAILURES)
    return int(min(MAX_BACKOFF_SECONDS, FIRST_BACKOFF_SECONDS * 2 ** min(exponent, 20)))


def _throttle_for(db: Session, username: str) -> LoginThrottle | None:
    return db.get(LoginThrottle, username, with_for_update=True)


def _throttle_row(db: Session, username: str) -> LoginThrottle:
    """The account's throttle row, created if missing without racing a concurrent failure."""
    insert = pg_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
    db.execute(insert(LoginThrottle).values(username=username, failures=0)
               .on_conflict_do_nothing(index_elements=["username"]))
    throttle = db.get(LoginThrottle, username, with_for_update=True, populate_existing=True)
    assert throttle is not None
    return throttle


def _refuse_if_locked(locked_until: datetime | None, now: datetime, message: str) -> None:
    if locked_until and locked_until > now:
        wait = max(1, math.ceil((locked_until - now).total_seconds()))
        raise TooManyRequests(message.format(seconds=wait), retry_after=wait)


def _record_failure(throttle: LoginThrottle | TrustedDevice, now: datetime) -> None:
    throttle.failures += 1
    if throttle.failures >= MAX_CONSECUTIVE_FAILURES:
        throttle.locked_until = now + timedelta(seconds=_backoff_seconds(throttle.failures))


def _audit_due(throttle: LoginThrottle, now: datetime) -> bool:
    """Whether this failure gets an audit row of its own (bounded per username).

    Rows: each failure up to the one that locks the account (10), then at most one per
    FAILED_LOGIN_AUDIT_INTERVAL, each counting the failures since the last row
    (`unrecorded_before`). So however long an attack lasts, it adds 10 rows and then at most
    24 a day per username.
    """
    if throttle.failures <= MAX_CONSECUTIVE_FAILURES or throttle.audited_at is None:
        return True
    return now - throttle.audited_at >= FAILED_LOGIN_AUDIT_INTERVAL


def _trusted_device(db: Session, name: str, tokens: Iterable[str]) -> TrustedDevice | None:
    """The unexpired trusted device among `tokens` that belongs to the account `name`."""
    digests = [token_digest(token) for token in list(tokens)[:MAX_DEVICE_TOKENS] if token]
    if not digests:
        return None
    return db.scalar(select(TrustedDevice).join(User, User.id == TrustedDevice.user_id)
                     .where(TrustedDevice.token_hash.in_(digests), User.username == name,
                            TrustedDevice.expires_at > utcnow())
                     .with_for_update(of=TrustedDevice).limit(1))


def authenticate(*, db: Session, username: str, password: str, ip: str | None = None,
                 device_tokens: Iterable[str] = ()) -> User:
    """The active user with these credentials; failures are counted per account and audited.

    After 10 consecutive failures each further try must wait (429, Retry-After), the wait
    doubling up to 15 minutes; the right password after the wait always gets in.

    `device_tokens` are the browser's device cookie tokens (see remember_device). A login
    that presents a valid one for this account skips the account's lock and is throttled by
    the device's own failure count instead (same rule), so the owner gets in with the right
    password while someone else keeps the account locked; a trusted-device success does not
    lift the account's lock.
    """
    name = normalise_username(username)[:64]
    now = utcnow()
    device = _trusted_device(db, name, device_tokens)
    throttle = _throttle_for(db, name)
    if device is not None:
        _refuse_if_locked(device.locked_until, now, _(
            "Too many failed logins from this browser. Try again in {seconds} seconds."))
    elif throttle is not None:
        _refuse_if_locked(throttle.locked_until, now, _(
            "Too many failed logins for this account. Try again in {seconds} seconds."))
    user = get_by_username(db=db, username=name)
    good = verify_password(user.password_hash if user else None, password)
    if user is None or not good or not user.is_active:
        reason = "inactive" if user and good else "bad_credentials"
        if device is not None:
            _record_failure(device, now)
            # The first failure and each one that (re)locks the device: one per lock window.
            if device.failures == 1 or device.failures >= MAX_CONSECUTIVE_FAILURES:
                record_audit(db=db, action="login.failed", actor=user, object_type="user",
                             object_id=user.id if user else "", ip=ip,
                             detail={"username": name, "device": device.id,
                                     "failures": device.failures, "reason": reason})
        else:
            if throttle is None:
                throttle = _throttle_row(db, name)
            _record_failure(throttle, now)
            throttle.last_failure_at = now
            if _audit_due(throttle, now):
                record_audit(db=db, action="login.failed", actor=user, object_type="user",
                             object_id=user.id if user else "", ip=ip,
                             detail={"username": name, "failures": throttle.failures,
                                     "unrecorded_before": throttle.unaudited,
                                     "reason": reason})
                throttle.audited_at, throttle.unaudited = now, 0
            else:
                throttle.unaudited += 1
        db.flush()
        raise LoginFailed(_("Wrong username or password."))
    if device is not None:
        device.failures, device.locked_until, device.last_used_at = 0, None, now
    if throttle is not None and (device is None or not throttle.locked_until
                                 or throttle.locked_until <= now):
        db.delete(throttle)
    if user.password_hash and needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    record_audit(db=db, action="login.succeeded", actor=user, object_type="user",
                 object_id=user.id, enterprise_id=user.enterprise_id,
                 region_code=user.region_code, ip=ip,
                 detail={"device": device.id} if device is not None else None)
    db.flush()
    return user


def remember_device(*, db: Session, user: User, device_tokens: Iterable[str] = ()) -> list[str]:
    """After a successful login: the tokens the device cookie should now hold.

    A browser already trusted for `user` keeps its token (its lifetime renewed); otherwise a
    new random token is issued and its hash stored. The cookie keeps up to MAX_DEVICE_TOKENS
    tokens, newest first, so a browser shared by a few people stays trusted for each.
    """
    tokens = [t for t in device_tokens if t][:MAX_DEVICE_TOKENS]
    expires = utcnow() + DEVICE_LIFETIME
    own = _trusted_device(db, user.username, tokens)
    if own is not None:
        own.expires_at = expires
        mine = next(t for t in tokens if token_digest(t) == own.token_hash)
    else:
        mine = new_token()
        db.add(TrustedDevice(token_hash=token_digest(mine), user_id=user.id,
                             expires_at=expires))
        db.flush()
        # Keep the newest MAX_DEVICES_PER_USER devices of an account.
        stale = select(TrustedDevice.id).where(TrustedDevice.user_id == user.id) \
            .order_by(TrustedDevice.id.desc()).offset(MAX_DEVICES_PER_USER)
        stale_ids = list(db.scalars(stale))
        if stale_ids:
            db.execute(delete(TrustedDevice).where(TrustedDevice.id.in_(stale_ids)))
    return ([mine] + [t for t in tokens if t != mine])[:MAX_DEVICE_TOKENS]


def device_cookie_tokens(value: str | None) -> list[str]:
    """The tokens in a device cookie value ('token.token...'), at most MAX_DEVICE_TOKENS."""
    return [t for t in (value or "").split(".") if t][:MAX_DEVICE_TOKENS]


# --- browser sessions and API tokens ----------------------------------------------------------

def start_session(*, db: Session, user: User, previous_token: str | None = None,
                  ip: str | None = None, user_agent: str | None = None) -> str:
    """A fresh session token for `user`; any session the browser had before is ended (rotation)."""
    if previous_token:
        end_session(db=db, token=previous_token)
    token = new_token()
    db.add(WebSession(token_hash=token_digest(token), user_id=user.id,
                      expires_at=utcnow() + timedelta(hours=get_settings().session_hours),
                      ip=ip, user_agent=(user_agent or "")[:255]))
    db.flush()
    return token


def end_session(*, db: Session, token: str) -> None:
    """Forget a browser session."""
    db.execute(delete(WebSession).where(WebSession.token_hash == token_digest(token)))


def end_all_sessions(*, db: Session, user_id: int) -> None:
    """End every browser session and API token of a user, and forget its trusted devices."""
    db.execute(delete(WebSession).where(WebSession.user_id == user_id))
    db.execute(delete(ApiToken).where(ApiToken.user_id == user_id))
    db.execute(delete(TrustedDevice).where(TrustedDevice.user_id == user_id))


def _active_user_statement(model: type[WebSession] | type[ApiToken]) -> Select[User]:
    # One statement: the session/token row, its user and the user's roles.
    return (select(User).join(model, model.user_id == User.id)
            .where(model.token_hash == bindparam("digest"), model.expires_at > bindparam("now"),
                   User.is_active.is_(True))
            .options(joinedload(User.roles)))


# Built once, not per request: every page and API call runs one of these, and building the
# statement and its cache key cost more than running it (see bench/README.md).
_ACTIVE_USER = {WebSession: _active_user_statement(WebSession),
                ApiToken: _active_user_statement(ApiToken)}


def _active_user_by(db: Session, model: type[WebSession] | type[ApiToken],
                    token: str) -> User | None:
    return db.execute(_ACTIVE_USER[model], {"digest": token_digest(token), "now": utcnow()}
                      ).unique().scalar_one_or_none()


def session_user(*, db: Session, token: str) -> User | None:
    """The active user of an unexpired browser session."""
    return _active_user_by(db, WebSession, token)


def issue_token(*, db: Session, user: User) -> tuple[str, int]:
    """A new bearer token and its lifetime in seconds."""
    token = new_token()
    lifetime = get_settings().token_minutes * 60
    db.add(ApiToken(token_hash=token_digest(token), user_id=user.id,
                    expires_at=utcnow() + timedelta(seconds=lifetime)))
    db.flush()
    return token, lifetime


def token_user(*, db: Session, token: str) -> User | None:
    """The active user of an unexpired bearer token."""
    return _active_user_by(db, ApiToken, token)


def purge_expired(*, db: Session) -> int:
    """Delete expired sessions, tokens and trusted devices; returns how many went."""
    now = utcnow()
    return sum(_deleted(db, delete(model).where(model.expires_at <= now))
               for model in (WebSession, ApiToken, TrustedDevice))


def _deleted(db: Session, statement: Delete) -> int:
    """How many rows a DELETE removed."""
    result = cast(CursorResult[Any], db.execute(statement))
    return int(result.rowcount or 0)


# --- audit log ------------------------------------------------------------------------------

def record_audit(*, db: Session, action: str, actor: User | None, object_type: str = "",
                 object_id: int | str = "", enterprise_id: int | None = None,
                 region_code: str | None = None, ip: str | None = None,
                 detail: dict[str, Any] | None = None) -> AuditEvent:
    """Append an event to the audit log (the database refuses to change it afterwards)."""
    event = AuditEvent(
        actor_id=actor.id if actor else None,
        actor_name=(actor.username if actor else ""),
        action=action, object_type=object_type, object_id=str(object_id),
        enterprise_id=enterprise_id, region_code=region_code, ip=ip, detail=detail or {},
    )
    db.add(event)
    return event


@dataclass(frozen=True)
class AuditFilter:
    query: str = ""
    action: str = ""
    date_from: datetime | None = None
    date_to: datetime | None = None


def search_audit(*, db: Session, filters: AuditFilter, page: int = 1,
                 page_size: int = 50) -> tuple[list[AuditEvent], int]:
    """Audit events, newest first, filtered by actor/object text, action and time."""
    stmt = select(AuditEvent)
    if filters.query:
        like = like_pattern(filters.query.strip())
        stmt = stmt.where(or_(AuditEvent.actor_name.ilike(like, escape=LIKE_ESCAPE),
                              AuditEvent.object_id == filters.query.strip(),
                              AuditEvent.ip.ilike(like, escape=LIKE_ESCAPE)))
    if filters.action:
        stmt = stmt.where(AuditEvent.action.startswith(filters.action))
    if filters.date_from:
        stmt = stmt.where(AuditEvent.occurred_at >= filters.date_from)
    if filters.date_to:
        stmt = stmt.where(AuditEvent.occurred_at < filters.date_to)
    total = db.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    events = db.scalars(stmt.order_by(AuditEvent.id.desc()).limit(page_size)
                        .offset((page - 1) * page_size)).all()
    return list(events), total


def audit_actions(*, db: Session) -> list[str]:
    """The distinct actions in the log, for the filter menu."""
    return list(db.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)))
