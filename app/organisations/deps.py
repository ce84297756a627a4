"""Lookups with jurisdiction: the only place organisations decides who sees what."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from app.accounts.deps import CurrentUser
from app.accounts.models import Role
from app.db import SessionDep
from app.errors import Forbidden, NotFound
from app.i18n import gettext as _
from app.organisations import service
from app.organisations.models import Enterprise, EnterpriseKind, Worker


def visible_enterprise(enterprise_id: int, user: CurrentUser, db: SessionDep) -> Enterprise:
    """The enterprise if the user's jurisdiction covers it; 404 (not 403) otherwise,
    so ids of other enterprises reveal nothing."""
    enterprise = service.get_enterprise_or_404(db=db, enterprise_id=enterprise_id)
    if not service.can_see_enterprise(user, enterprise):
        raise NotFound(_("No such enterprise."))
    return enterprise


VisibleEnterprise = Annotated[Enterprise, Depends(visible_enterprise)]


def managed_enterprise(enterprise: VisibleEnterprise, user: CurrentUser) -> Enterprise:
    """The enterprise if the user may change its roster (admin or its enterprise admin)."""
    if not service.can_manage_enterprise(user, enterprise.id):
        raise Forbidden(_("Only the enterprise's administrators may change its roster."))
    return enterprise


ManagedEnterprise = Annotated[Enterprise, Depends(managed_enterprise)]


def visible_worker(worker_id: int, user: CurrentUser, db: SessionDep) -> Worker:
    """The worker if it is the user or within the user's jurisdiction; 404 otherwise."""
    worker = service.get_worker_or_404(db=db, worker_id=worker_id)
    if not service.can_see_worker(user, worker):
        raise NotFound(_("No such worker."))
    return worker


VisibleWorker = Annotated[Worker, Depends(visible_worker)]


def managed_worker(worker: VisibleWorker, user: CurrentUser) -> Worker:
    """The worker if the user administers its enterprise."""
    if not service.can_manage_enterprise(user, worker.enterprise_id):
        raise Forbidden(_("Only the worker's enterprise administrators may do this."))
    return worker


ManagedWorker = Annotated[Worker, Depends(managed_worker)]


def visible_agency(agency_id: int, user: CurrentUser, db: SessionDep) -> Enterprise:
    """A supervisory agency within the user's jurisdiction (admins; regulators of its region);
    404 otherwise, as for enterprises."""
    agency = db.get(Enterprise, agency_id)
    if agency is None or agency.kind != EnterpriseKind.AGENCY.value or \
            not user.has_role(Role.ADMIN, Role.REGULATOR) or \
            not service.can_see_enterprise(user, agency):
        raise NotFound(_("No such agency."))
    return agency


VisibleAgency = Annotated[Enterprise, Depends(visible_agency)]
