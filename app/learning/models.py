"""Tables of the learning domain: enrolments, lesson progress, the study clock, the ledger,
offline classes and rule profiles."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.courses.models import Course
from app.db import Base, utcnow
from app.organisations.models import Worker


class EnrolmentStatus(StrEnum):
    ACTIVE = "active"
    COMPLETED = "completed"
    WITHDRAWN = "withdrawn"
    # The last allowed exam attempt failed: the worker must retrain in a fresh enrolment.
    RETRAINING = "retraining"


class StudyMode(StrEnum):
    ONLINE = "online"
    OFFLINE = "offline"


class RuleProfile(Base):
    """A set of regulatory rules as data (class-hour lengths, hours per job category, exam and
    certificate rules). Exactly one profile is active."""

    __tablename__ = "rule_profiles"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[dict[str, str]] = mapped_column(JSON)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    is_active: Mapped[bool] = mapped_column(Boolean, default=False)
    loaded_at: Mapped[datetime] = mapped_column(default=utcnow)


class Enrolment(Base):
    """A worker enrolled in one course version. Counters mirror the progress rows and are
    updated in the same transaction, so totals always add up."""

    __tablename__ = "enrolments"
    __table_args__ = (
        # One running enrolment per worker and course version; a finished one may be followed
        # by a fresh enrolment (retraining).
        Index("uq_enrolments_active", "course_id", "worker_id", unique=True,
              sqlite_where=text("status = 'active'"), postgresql_where=text("status = 'active'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"), index=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("workers.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=EnrolmentStatus.ACTIVE.value)
    enrolled_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    enrolled_at: Mapped[datetime] = mapped_column(default=utcnow)
    deadline: Mapped[date | None]
    completed_at: Mapped[datetime | None]
    credited_seconds: Mapped[int] = mapped_column(Integer, default=0)
    lessons_completed: Mapped[int] = mapped_column(Integer, default=0)
    lessons_total: Mapped[int] = mapped_column(Integer, default=0)

    course: Mapped[Course] = relationship(lazy="raise")
    worker: Mapped[Worker] = relationship(lazy="raise")


class LessonProgress(Base):
    __tablename__ = "lesson_progress"
    __table_args__ = (UniqueConstraint("enrolment_id", "lesson_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolments.id", ondelete="CASCADE"),
                                              index=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lessons.id"))
    credited_seconds: Mapped[int] = mapped_column(Integer, default=0)
    position_seconds: Mapped[float] = mapped_column(Float, default=0)
    watched_seconds: Mapped[float] = mapped_column(Float, default=0)
    found_hotspots: Mapped[list[int]] = mapped_column(JSON, default=list)
    completed_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class StudyClock(Base):
    """One per worker: credit runs on one clock however many tabs or lessons are open."""

    __tablename__ = "study_clocks"

    worker_id: Mapped[int] = mapped_column(ForeignKey("workers.id"), primary_key=True)
    credit_from: Mapped[datetime | None]
    last_interaction_at: Mapped[datetime | None]


class LedgerEntry(Base):
    """The study-hours ledger: seconds of credited study per worker, day, course and mode."""

    __tablename__ = "study_ledger"
    __table_args__ = (
        Index("uq_study_ledger_online", "worker_id", "day", "course_id", unique=True,
              sqlite_where=text("mode = 'online'"), postgresql_where=text("mode = 'online'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("workers.id"), index=True)
    day: Mapped[date] = mapped_column(index=True)
    course_id: Mapped[int | None] = mapped_column(ForeignKey("courses.id"))
    mode: Mapped[str] = mapped_column(String(8))
    seconds: Mapped[int] = mapped_column(Integer, default=0)
    offline_class_id: Mapped[int | None] = mapped_column(
        ForeignKey("offline_classes.id", ondelete="CASCADE"))


class OfflineClass(Base):
    """A class held at a training base; attendees earn ledger time at the offline rate."""

    __tablename__ = "offline_classes"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    course_id: Mapped[int | None] = mapped_column(ForeignKey("courses.id"))
    held_on: Mapped[date]
    class_hours: Mapped[float] = mapped_column(Float)
    location: Mapped[str] = mapped_column(String(200), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    trainer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OfflineAttendance(Base):
    __tablename__ = "offline_attendance"

    class_id: Mapped[int] = mapped_column(ForeignKey("offline_classes.id", ondelete="CASCADE"),
                                          primary_key=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("workers.id"), primary_key=True)
