"""Tables of the exams domain."""

from __future__ import annotations

from datetime import datetime
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
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, utcnow
from app.organisations.models import Worker

Localized = dict[str, str]


class QuestionKind(StrEnum):
    SINGLE = "single"
    MULTIPLE = "multiple"
    TRUE_FALSE = "true_false"


class QuestionStatus(StrEnum):
    ACTIVE = "active"
    RETIRED = "retired"


class AttemptStatus(StrEnum):
    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"


class ReviewMode(StrEnum):
    SCORE_ONLY = "score_only"
    MISTAKES = "mistakes"


class Question(Base):
    """A question of a course's bank (the bank is named by the course code). Options carry
    weights: the right ones are positive. Attempts keep their own copy, so editing or retiring a
    question never changes a past attempt."""

    __tablename__ = "questions"
    __table_args__ = (UniqueConstraint("bank", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bank: Mapped[str] = mapped_column(String(64), index=True)
    category: Mapped[str] = mapped_column(String(64), index=True)
    external_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[Localized] = mapped_column(JSON)
    options: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # [{"text": {..}, "weight": n}]
    feedback: Mapped[Localized] = mapped_column(JSON, default=dict)
    image_key: Mapped[str | None] = mapped_column(String(64))
    job_category: Mapped[str | None] = mapped_column(String(40))
    difficulty: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=QuestionStatus.ACTIVE.value,
                                        index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Exam(Base):
    """The theory exam of a course version."""

    __tablename__ = "exams"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"), unique=True)
    bank: Mapped[str] = mapped_column(String(64))
    title: Mapped[Localized] = mapped_column(JSON)
    duration_minutes: Mapped[int] = mapped_column(Integer)
    pass_mark: Mapped[int] = mapped_column(Integer)
    max_attempts: Mapped[int] = mapped_column(Integer)
    requires_completion: Mapped[bool] = mapped_column(Boolean, default=True)
    blueprint: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # [{"category", "count"}]
    available_from: Mapped[datetime | None]
    available_until: Mapped[datetime | None]
    review_mode: Mapped[str] = mapped_column(String(16), default=ReviewMode.MISTAKES.value)
    one_per_screen: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ExtraTime(Base):
    """Extra minutes a worker gets on an exam (accessibility, WCAG 2.2.1)."""

    __tablename__ = "exam_extra_time"

    exam_id: Mapped[int] = mapped_column(ForeignKey("exams.id", ondelete="CASCADE"),
                                         primary_key=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("workers.id"), primary_key=True)
    minutes: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(200), default="")


class Attempt(Base):
    """One sitting of an exam. `paper` is the drawn, shuffled questions as the taker saw them
    (with the key, never sent before submit), so review and regrading are stable."""

    __tablename__ = "attempts"
    __table_args__ = (
        UniqueConstraint("exam_id", "enrolment_id", "number"),
        Index("uq_attempts_open", "exam_id", "worker_id", unique=True,
              sqlite_where=text("status = 'in_progress'"),
              postgresql_where=text("status = 'in_progress'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    exam_id: Mapped[int] = mapped_column(ForeignKey("exams.id"), index=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("workers.id"), index=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolments.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default=AttemptStatus.IN_PROGRESS.value,
                                        index=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    deadline: Mapped[datetime] = mapped_column(index=True)
    submitted_at: Mapped[datetime | None]
    closed_by: Mapped[str | None] = mapped_column(String(16))  # "taker" or "deadline"
    score: Mapped[float | None] = mapped_column(Float)
    passed: Mapped[bool | None] = mapped_column(Boolean)
    paper: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(255))

    worker: Mapped[Worker] = relationship(lazy="raise")
    exam: Mapped[Exam] = relationship(lazy="raise")


class Answer(Base):
    """The latest answer to one question of an attempt (saved as it is given)."""

    __tablename__ = "answers"

    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id", ondelete="CASCADE"),
                                            primary_key=True)
    question_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    option_ids: Mapped[list[int]] = mapped_column(JSON)
    saved_at: Mapped[datetime] = mapped_column(default=utcnow)


class AttemptEvent(Base):
    """What happened during an attempt, for examiners: the page was hidden or shown again,
    the connection dropped, the attempt was closed at the deadline."""

    __tablename__ = "attempt_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id", ondelete="CASCADE"),
                                            index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(32))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
