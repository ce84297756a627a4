"""Tables of the experts domain: the talent pool and each expert's specialities and roles."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.db import Base, utcnow
from app.i18n import N_


class Speciality(StrEnum):
    """Fields of mine safety an expert is consulted on (codes are stable; labels translated)."""

    GAS = "gas"
    VENTILATION = "ventilation"
    HOISTING = "hoisting"
    WATER = "water"
    ELECTRICAL = "electrical"
    BLASTING = "blasting"
    GROUND_CONTROL = "ground_control"
    FIRE = "fire"
    DUST = "dust"
    TRANSPORT = "transport"
    MINE_RESCUE = "mine_rescue"
    TAILINGS = "tailings"
    OCCUPATIONAL_HEALTH = "occupational_health"
    ACCIDENT_ANALYSIS = "accident_analysis"


SPECIALITY_LABELS = {
    Speciality.GAS: N_("Gas prevention"),
    Speciality.VENTILATION: N_("Ventilation"),
    Speciality.HOISTING: N_("Hoisting"),
    Speciality.WATER: N_("Water hazard prevention"),
    Speciality.ELECTRICAL: N_("Electrical"),
    Speciality.BLASTING: N_("Blasting"),
    Speciality.GROUND_CONTROL: N_("Roof and ground control"),
    Speciality.FIRE: N_("Mine fire prevention"),
    Speciality.DUST: N_("Dust prevention"),
    Speciality.TRANSPORT: N_("Underground transport"),
    Speciality.MINE_RESCUE: N_("Mine rescue"),
    Speciality.TAILINGS: N_("Tailings ponds"),
    Speciality.OCCUPATIONAL_HEALTH: N_("Occupational health"),
    Speciality.ACCIDENT_ANALYSIS: N_("Accident analysis"),
}


class ExpertRole(StrEnum):
    """What an expert serves as, besides advising."""

    TRAINER = "trainer"
    EXAMINER = "examiner"
    ACCIDENT_INVESTIGATOR = "accident_investigator"


EXPERT_ROLE_LABELS = {
    ExpertRole.TRAINER: N_("Trainer"),
    ExpertRole.EXAMINER: N_("Examiner"),
    ExpertRole.ACCIDENT_INVESTIGATOR: N_("Accident investigator"),
}


class Expert(Base):
    """A mine-safety expert or supervisory cadre; region_code is a short GB/T 2260 code."""

    __tablename__ = "experts"

    id: Mapped[int] = mapped_column(primary_key=True)
    full_name: Mapped[str] = mapped_column(String(100), index=True)
    organisation: Mapped[str] = mapped_column(String(200))
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    qualifications: Mapped[str] = mapped_column(Text, default="")
    available: Mapped[bool] = mapped_column(Boolean, default=True)
    # The expert's own login, when the expert also trains or examines on the platform.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    specialities: Mapped[list[ExpertSpeciality]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="ExpertSpeciality.speciality")
    roles: Mapped[list[ExpertRoleLink]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="ExpertRoleLink.role")
    user: Mapped[User | None] = relationship(lazy="raise")

    @property
    def speciality_codes(self) -> list[str]:
        return [s.speciality for s in self.specialities]

    @property
    def role_codes(self) -> list[str]:
        return [r.role for r in self.roles]


class ExpertSpeciality(Base):
    """One speciality of an expert (a row each, so a search by speciality is an indexed join)."""

    __tablename__ = "expert_specialities"

    expert_id: Mapped[int] = mapped_column(ForeignKey("experts.id", ondelete="CASCADE"),
                                           primary_key=True)
    speciality: Mapped[str] = mapped_column(String(32), primary_key=True, index=True)


class ExpertRoleLink(Base):
    """One role an expert serves in (trainer, examiner, accident investigator)."""

    __tablename__ = "expert_roles"

    expert_id: Mapped[int] = mapped_column(ForeignKey("experts.id", ondelete="CASCADE"),
                                           primary_key=True)
    role: Mapped[str] = mapped_column(String(32), primary_key=True, index=True)
