"""Tables of the organisations domain."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.db import Base, utcnow


class MineType(StrEnum):
    COAL = "coal"
    METAL_NONMETAL = "metal_nonmetal"
    OTHER = "other"


class Region(Base):
    """A GB/T 2260 division, code stored without trailing zero pairs ('14', '1401', '140105')."""

    __tablename__ = "regions"

    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    name_en: Mapped[str] = mapped_column(String(100))
    name_zh: Mapped[str] = mapped_column(String(100))


class EnterpriseKind(StrEnum):
    ENTERPRISE = "enterprise"
    # A supervisory agency: its roster holds supervisory cadres (regulator users) as learners.
    AGENCY = "agency"


class Enterprise(Base):
    """A mining enterprise, or (kind 'agency') a supervisory agency whose roster holds the
    learner profiles of its supervisory cadres; agencies have credit codes too (GB 32100)."""

    __tablename__ = "enterprises"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    credit_code: Mapped[str] = mapped_column(String(18), unique=True)
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    mine_type: Mapped[str] = mapped_column(String(20))
    above_designated_size: Mapped[bool] = mapped_column(Boolean, default=False)
    kind: Mapped[str] = mapped_column(String(16), default=EnterpriseKind.ENTERPRISE.value,
                                      server_default=EnterpriseKind.ENTERPRISE.value)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Worker(Base):
    """A worker's profile in an enterprise roster; its login user has the ID number as username."""

    __tablename__ = "workers"
    # The team filters and the list of an enterprise's teams (migration 0013).
    __table_args__ = (Index("ix_workers_enterprise_id_team", "enterprise_id", "team"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    id_number: Mapped[str] = mapped_column(String(18), unique=True)
    full_name: Mapped[str] = mapped_column(String(100), index=True)
    phone: Mapped[str] = mapped_column(String(20), default="")
    job_category: Mapped[str] = mapped_column(String(40), index=True)
    hired_on: Mapped[date]
    # The team or crew within the enterprise (综采一队); None when the roster gives none.
    team: Mapped[str | None] = mapped_column(String(60))
    education_level: Mapped[str | None] = mapped_column(String(20))
    # The secret in the address of the worker's iCalendar feed (calendar apps send no cookie).
    calendar_token: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    user: Mapped[User] = relationship(lazy="raise")
    enterprise: Mapped[Enterprise] = relationship(lazy="raise")


class RosterUpload(Base):
    """A roster file awaiting confirmation after its preview (kept in the database, so any
    app process can finish the import)."""

    __tablename__ = "roster_uploads"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id", ondelete="CASCADE"))
    uploaded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    filename: Mapped[str] = mapped_column(String(255))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
