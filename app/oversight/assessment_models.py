"""Tables of the plan-implementation assessment: targets per region, year and indicator, and
frozen snapshots of the indicators (the database refuses to change a snapshot, migration 0012)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow

# region_code "" stands for the whole country (an admin's national view).
NATIONAL = ""


class AssessmentTarget(Base):
    """An admin's target for one indicator of one region (or the country) in one year."""

    __tablename__ = "assessment_targets"
    __table_args__ = (UniqueConstraint("region_code", "year", "indicator_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    year: Mapped[int] = mapped_column(Integer)
    indicator_code: Mapped[str] = mapped_column(String(40))
    value: Mapped[float] = mapped_column(Float)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class AssessmentSnapshot(Base):
    """The indicators of a region computed up to `as_of` and frozen at `created_at`: a row is
    written once and never changed (triggers refuse UPDATE and DELETE)."""

    __tablename__ = "assessment_snapshots"
    __table_args__ = (UniqueConstraint("region_code", "label"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    label: Mapped[str] = mapped_column(String(60))
    as_of: Mapped[date]
    # [{"code", "value", "target", "unit"}] in the order of the indicator list at freezing;
    # names are translated when shown, so each reader sees them in their own language.
    indicators: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
