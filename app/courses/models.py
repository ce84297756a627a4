"""Tables of the courses domain: a course version, its modules and lessons."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, utcnow

Localized = dict[str, str]


class CourseStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    ARCHIVED = "archived"


class CourseKind(StrEnum):
    INITIAL = "initial"
    REFRESHER = "refresher"
    REVIEW = "review"
    GENERAL = "general"
    WARNING = "warning"


class LessonKind(StrEnum):
    TEXT = "text"
    VIDEO = "video"
    DOCUMENT = "document"
    PANORAMA = "panorama"
    CASE = "case"


class Audience(StrEnum):
    """Who a course is offered to: roster workers, supervisory cadres (regulators), or both."""

    WORKER = "worker"
    REGULATOR = "regulator"


def audience_value(roles: Iterable[str]) -> str:
    """The stored form of an audience: its roles sorted and comma-separated."""
    return ",".join(sorted(set(roles)))


MARKDOWN_KINDS = frozenset({LessonKind.TEXT, LessonKind.CASE})


class Course(Base):
    """One version of a course. A new version is a new row; enrolments point at their version."""

    __tablename__ = "courses"
    __table_args__ = (UniqueConstraint("code", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default=CourseStatus.DRAFT.value, index=True)
    title: Mapped[Localized] = mapped_column(JSON)
    description: Mapped[Localized] = mapped_column(JSON, default=dict)
    job_category: Mapped[str] = mapped_column(String(40), index=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    credit_hours: Mapped[float] = mapped_column(Float, default=0)
    required_minutes: Mapped[int] = mapped_column(Integer, default=0)
    practical_required: Mapped[bool] = mapped_column(Boolean, default=False)
    # The roles the course is offered to, comma-separated ("regulator,worker"); see audience_roles.
    audience: Mapped[str] = mapped_column(String(64), default=Audience.WORKER.value,
                                          server_default=Audience.WORKER.value)
    certificate: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    practical: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    exam_spec: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    source_hash: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None]

    @property
    def audience_roles(self) -> list[str]:
        return [role for role in (self.audience or Audience.WORKER.value).split(",") if role]

    modules: Mapped[list[Module]] = relationship(
        lazy="raise", order_by="Module.position", cascade="all, delete-orphan",
        back_populates="course")


class Module(Base):
    __tablename__ = "course_modules"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"),
                                           index=True)
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[Localized] = mapped_column(JSON)

    course: Mapped[Course] = relationship(lazy="raise", back_populates="modules")
    lessons: Mapped[list[Lesson]] = relationship(
        lazy="raise", order_by="Lesson.position", cascade="all, delete-orphan",
        back_populates="module")


class Lesson(Base):
    """A lesson: Markdown bodies per locale (text, case) or one media file with extras."""

    __tablename__ = "lessons"

    id: Mapped[int] = mapped_column(primary_key=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("course_modules.id", ondelete="CASCADE"),
                                           index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"),
                                           index=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[Localized] = mapped_column(JSON)
    minutes: Mapped[int] = mapped_column(Integer)
    body: Mapped[Localized] = mapped_column(JSON, default=dict)
    media_key: Mapped[str | None] = mapped_column(String(64))
    duration_seconds: Mapped[float | None] = mapped_column(Float)
    hotspots: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)

    module: Mapped[Module] = relationship(lazy="raise", back_populates="lessons")

    @property
    def hazard_count(self) -> int:
        return sum(1 for spot in self.hotspots or [] if spot.get("hazard"))
