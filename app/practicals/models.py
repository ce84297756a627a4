"""Tables of the practicals domain."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.courses.models import Course
from app.db import Base, utcnow
from app.organisations.models import Worker


class BaseKind(StrEnum):
    PRACTICAL_TEST = "practical_test"
    SKILLS_TRAINING = "skills_training"
    WARNING_EDUCATION = "warning_education"


class SessionStatus(StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


class BookingStatus(StrEnum):
    BOOKED = "booked"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"
    PASSED = "passed"
    FAILED = "failed"


ACTIVE_BOOKING = (BookingStatus.BOOKED.value, BookingStatus.WAITLISTED.value)


class Attendance(StrEnum):
    PRESENT = "present"
    ABSENT = "absent"  # excused
    NO_SHOW = "no_show"


class TestCentre(Base):
    """A training base: practical-operation test, skills training or warning education."""

    __tablename__ = "test_centres"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    address: Mapped[str] = mapped_column(String(300), default="")
    kinds: Mapped[list[str]] = mapped_column(JSON, default=list)
    stations: Mapped[list[str]] = mapped_column(JSON, default=list)
    contact: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PracticalSession(Base):
    __tablename__ = "practical_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    test_centre_id: Mapped[int] = mapped_column(ForeignKey("test_centres.id"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(index=True)
    ends_at: Mapped[datetime]
    capacity: Mapped[int] = mapped_column(Integer)
    examiner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=SessionStatus.SCHEDULED.value)
    series_id: Mapped[str | None] = mapped_column(String(32), index=True)
    booked_count: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    test_centre: Mapped[TestCentre] = relationship(lazy="raise")
    course: Mapped[Course] = relationship(lazy="raise")


class Booking(Base):
    """A worker's seat (or place on the waitlist) in a session, and later its result."""

    __tablename__ = "bookings"
    __table_args__ = (
        # One live booking per worker and session; a cancelled one may be followed by another.
        Index("uq_bookings_active", "session_id", "worker_id", unique=True,
              sqlite_where=text("status IN ('booked', 'waitlisted')"),
              postgresql_where=text("status IN ('booked', 'waitlisted')")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("practical_sessions.id"), index=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("workers.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    booked_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    promoted_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    attendance: Mapped[str | None] = mapped_column(String(16))
    checklist: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    score: Mapped[float | None] = mapped_column(Float)
    notes: Mapped[str] = mapped_column(Text, default="")
    result_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    result_at: Mapped[datetime | None]

    session: Mapped[PracticalSession] = relationship(lazy="raise")
    worker: Mapped[Worker] = relationship(lazy="raise")


class Notification(Base):
    """An in-app message. Stored as a kind and parameters and worded when shown, so each
    reader sees it in their own language."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    link: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    read_at: Mapped[datetime | None]
