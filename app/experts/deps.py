"""Lookups with permission: the only place the experts domain decides who reaches what.

A plain worker gets 403 everywhere (the pool is for staff; the check is by role, before any
lookup, so it reveals nothing about which ids exist). A regulator asking to change an expert
outside its region gets 404, as for every object outside a jurisdiction."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from app.accounts.deps import CurrentUser
from app.accounts.models import Role, User
from app.db import SessionDep
from app.errors import Forbidden, NotFound
from app.experts import service
from app.experts.models import Expert
from app.i18n import gettext as _


def staff_user(user: CurrentUser) -> User:
    """Any signed-in user who is not only a worker."""
    if not service.is_staff(user):
        raise Forbidden(_("The expert pool is open to staff only."))
    return user


StaffUser = Annotated[User, Depends(staff_user)]


def editor_user(user: StaffUser) -> User:
    """Administrators and regulators (regulators: within their region, checked per expert)."""
    if not user.has_role(Role.ADMIN, Role.REGULATOR):
        raise Forbidden(_("Only administrators and regulators add or edit experts."))
    return user


EditorUser = Annotated[User, Depends(editor_user)]


def visible_expert(expert_id: int, user: StaffUser, db: SessionDep) -> Expert:
    """Any expert, for staff."""
    return service.get_or_404(db=db, expert_id=expert_id)


VisibleExpert = Annotated[Expert, Depends(visible_expert)]


def editable_expert(expert_id: int, user: EditorUser, db: SessionDep) -> Expert:
    """The expert if the user's jurisdiction covers its region; 404 otherwise."""
    expert = service.get_or_404(db=db, expert_id=expert_id)
    if not service.can_edit(user, expert):
        raise NotFound(_("No such expert."))
    return expert


EditableExpert = Annotated[Expert, Depends(editable_expert)]
