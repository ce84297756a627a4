"""The signed-in home page: one panel per role the user holds, each from its domain's service."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.accounts.models import Role, User
from app.learning import service as learning
from app.organisations import reference
from app.organisations import service as organisations
from app.organisations.models import Enterprise, Region, Worker


@dataclass
class Panel:
    role: str
    data: dict[str, Any] = field(default_factory=dict)


def _admin(db: Session, user: User) -> Panel:
    counts = {
        "users": db.scalar(select(func.count()).select_from(User)) or 0,
        "enterprises": db.scalar(select(func.count()).select_from(Enterprise)) or 0,
        "workers": db.scalar(select(func.count()).select_from(Worker)) or 0,
    }
    return Panel(Role.ADMIN.value, counts)


def _regulator(db: Session, user: User) -> Panel:
    enterprises, total = organisations.list_enterprises(db=db, user=user, page_size=10)
    region = db.get(Region, user.region_code) if user.region_code else None
    counts = organisations.staff_counts(db=db, enterprise_ids=[e.id for e in enterprises])
    return Panel(Role.REGULATOR.value, {"region": region, "enterprises": enterprises,
                                        "total": total, "staff": counts})


def _enterprise_admin(db: Session, user: User) -> Panel:
    enterprise = db.get(Enterprise, user.enterprise_id) if user.enterprise_id else None
    if enterprise is None:
        return Panel(Role.ENTERPRISE_ADMIN.value, {"enterprise": None})
    staff = organisations.staff_counts(db=db, enterprise_ids=[enterprise.id])
    _items, overdue = learning.enterprise_enrolments(
        db=db, enterprise_id=enterprise.id, filters=learning.EnrolmentFilter(overdue=True),
        page_size=1)
    return Panel(Role.ENTERPRISE_ADMIN.value, {
        "enterprise": enterprise, "staff": staff.get(enterprise.id, 0), "overdue": overdue})


def _worker(db: Session, user: User) -> Panel:
    worker = organisations.worker_of_user(db=db, user_id=user.id)
    categories = {c["code"]: c for c in reference.job_categories()}
    if worker is None:
        return Panel(Role.WORKER.value, {"worker": None})
    enrolments = learning.active_enrolments(db=db, worker=worker)
    return Panel(Role.WORKER.value, {
        "worker": worker, "category": categories.get(worker.job_category),
        "enrolments": enrolments, "hours": learning.hours_summary(db=db, worker=worker)})


_BUILDERS = {
    Role.ADMIN: _admin,
    Role.REGULATOR: _regulator,
    Role.ENTERPRISE_ADMIN: _enterprise_admin,
    Role.WORKER: _worker,
}


def home_panels(*, db: Session, user: User) -> list[Panel]:
    """The panels of the user's home, in the order of the roles they hold."""
    panels = []
    for role in Role:
        if user.has_role(role):
            builder = _BUILDERS.get(role)
            panels.append(builder(db, user) if builder else Panel(role.value))
    return panels
