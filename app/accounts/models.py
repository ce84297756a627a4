"""Tables of the accounts domain."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, utcnow
from app.i18n import N_


class Role(StrEnum):
    ADMIN = "admin"
    REGULATOR = "regulator"
    ENTERPRISE_ADMIN = "enterprise_admin"
    TRAINER = "trainer"
    EXAMINER = "examiner"
    WORKER = "worker"


ROLE_LABELS = {
    Role.ADMIN: N_("Administrator"),
    Role.REGULATOR: N_("Regulator"),
    Role.ENTERPRISE_ADMIN: N_("Enterprise administrator"),
    Role.TRAINER: N_("Trainer"),
    Role.EXAMINER: N_("Examiner"),
    Role.WORKER: N_("Worker"),
}


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(100), default="")
    # None: no password set yet (an imported worker before the enterprise admin sets one).
    password_hash: Mapped[str | None] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id"), index=True)
    region_code: Mapped[str | None] = mapped_column(String(6))
    locale: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    roles: Mapped[list[UserRole]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="UserRole.role"
    )

    @property
    def role_names(self) -> list[str]:
        return [r.role for r in self.roles]

    def has_role(self, *roles: Role) -> bool:
        names = {r.role for r in self.roles}
        return any(role.value in names for role in roles)


class UserRole(Base):
    __tablename__ = "user_roles"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True)
    role: Mapped[str] = mapped_column(String(32), primary_key=True)


class WebSession(Base):
    """A signed-in browser. Only the SHA-256 of the cookie's token is stored."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(255))

    user: Mapped[User] = relationship(lazy="raise")


class ApiToken(Base):
    """A bearer token from the OAuth2 password grant, stored hashed, with an expiry."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]

    user: Mapped[User] = relationship(lazy="raise")


class LoginThrottle(Base):
    """Consecutive failed logins per account name (never per IP: a whole mine shares one).

    `audited_at` is when the last `login.failed` audit row of this streak was written and
    `unaudited` how many failures since then have none of their own (the audit log is
    append-only, so failures are summarised instead of one row each; see service).
    """

    __tablename__ = "login_throttles"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]
    last_failure_at: Mapped[datetime | None]
    audited_at: Mapped[datetime | None]
    unaudited: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class TrustedDevice(Base):
    """A browser that signed in to an account before (OWASP "device cookie").

    Only the SHA-256 of the cookie's random token is stored. While the account is throttled,
    a login from such a browser is judged by this device's own failure count instead, so
    someone guessing the password elsewhere cannot lock the owner out.
    """

    __tablename__ = "trusted_devices"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]


class AuditEvent(Base):
    """Append-only: the database refuses UPDATE and DELETE on this table (see migrations)."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    actor_name: Mapped[str] = mapped_column(String(100), default="")
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str] = mapped_column(String(32), default="")
    object_id: Mapped[str] = mapped_column(String(64), default="")
    enterprise_id: Mapped[int | None] = mapped_column(Integer)
    region_code: Mapped[str | None] = mapped_column(String(6))
    ip: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
