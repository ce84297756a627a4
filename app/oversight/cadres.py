"""Supervisory cadres trained in a region: the learners of its supervisory agencies (kept out
of every enterprise figure) counted on their own line of the oversight dashboard."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from app.organisations.models import Enterprise, EnterpriseKind, Worker
from app.oversight.compliance import Period, Rules
from app.oversight.models import StudyHours


@dataclass(frozen=True)
class CadreLine:
    agencies: int
    cadres: int
    trained: int          # cadres credited any study time in the year
    hours_credited: float  # class hours credited to the cadres in the year


def cadres_trained(*, db: Session, region: str | None, period: Period,
                   rules: Rules) -> CadreLine:
    """Agencies of the region (None: all), their cadres, how many were credited study time in
    the period's year and the class hours credited (two statements)."""
    agency = Enterprise.kind == EnterpriseKind.AGENCY.value
    if region:
        agency = agency & Enterprise.region_code.startswith(region, autoescape=True)
    agencies, cadres = db.execute(
        select(func.count(func.distinct(Enterprise.id)), func.count(Worker.id))
        .select_from(Enterprise).outerjoin(Worker, Worker.enterprise_id == Enterprise.id)
        .where(agency)).one()
    trained, online, offline = db.execute(
        select(func.sum(case((StudyHours.online_seconds + StudyHours.offline_seconds > 0, 1),
                             else_=0)),
               func.sum(StudyHours.online_seconds), func.sum(StudyHours.offline_seconds))
        .select_from(StudyHours).join(Worker, Worker.id == StudyHours.worker_id)
        .join(Enterprise, Enterprise.id == Worker.enterprise_id)
        .where(agency, StudyHours.year == period.year, StudyHours.month == 0)).one()
    hours = int(online or 0) / rules.online_seconds + int(offline or 0) / rules.offline_seconds
    return CadreLine(agencies=int(agencies or 0), cadres=int(cadres or 0),
                     trained=int(trained or 0), hours_credited=round(hours, 1))
