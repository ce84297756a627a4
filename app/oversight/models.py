"""Tables of oversight: the study-hours summary that the database keeps in step with the
ledger, and the indexes the compliance queries need on other domains' tables."""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.learning.models import Enrolment
from app.organisations.models import Worker


class StudyHours(Base):
    """Ledger seconds per worker, year and month (month 0: the whole year), written only by
    triggers on study_ledger (migration 0011) in the ledger's own transaction, so it always
    equals the ledger's sums. Compliance reads one row per worker instead of every study day."""

    __tablename__ = "study_hours"

    worker_id: Mapped[int] = mapped_column(ForeignKey("workers.id", ondelete="CASCADE"),
                                           primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    month: Mapped[int] = mapped_column(Integer, primary_key=True)
    online_seconds: Mapped[int] = mapped_column(BigInteger, default=0)
    offline_seconds: Mapped[int] = mapped_column(BigInteger, default=0)


# A year's totals (month 0) and its monthly trend are read by year and month, index-only.
Index("ix_study_hours_year_month", StudyHours.year, StudyHours.month, StudyHours.worker_id,
      StudyHours.online_seconds, StudyHours.offline_seconds)
# Only workers hired in the year can be overdue with their initial training (about 1 in 12).
Index("ix_workers_hired_on", Worker.hired_on)
# Overdue enrolments: open ones past their deadline (a small part of all enrolments).
Index("ix_enrolments_open_deadline", Enrolment.deadline, Enrolment.worker_id,
      sqlite_where=text("status IN ('active', 'retraining')"),
      postgresql_where=text("status IN ('active', 'retraining')"))


class StudyHoursEnterprise(Base):
    """Study seconds per enterprise, year and month (1-12) of the workers hired by the end of
    that year: the sums of study_hours, written only by triggers on study_hours and workers
    (migration 0015) in the writing transaction. The dashboard's monthly trend reads 12 rows
    per enterprise instead of every worker's months."""

    __tablename__ = "study_hours_enterprise"

    enterprise_id: Mapped[int] = mapped_column(
        ForeignKey("enterprises.id", ondelete="CASCADE"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    month: Mapped[int] = mapped_column(Integer, primary_key=True)
    online_seconds: Mapped[int] = mapped_column(BigInteger, default=0)
    offline_seconds: Mapped[int] = mapped_column(BigInteger, default=0)
