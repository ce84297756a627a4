"""Course lookups. Published and archived courses are visible to every signed-in user;
drafts only to trainers and admins."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from app.accounts.deps import CurrentUser
from app.accounts.models import Role
from app.courses import service
from app.courses.models import Course, CourseStatus
from app.db import SessionDep
from app.errors import NotFound
from app.i18n import gettext as _


def visible_course(course_id: int, user: CurrentUser, db: SessionDep) -> Course:
    """A course the user may see, with modules and lessons loaded."""
    course = service.get_course_or_404(db=db, course_id=course_id, structure=True)
    if course.status == CourseStatus.DRAFT.value and not user.has_role(Role.TRAINER, Role.ADMIN):
        raise NotFound(_("No such course."))
    return course


VisibleCourse = Annotated[Course, Depends(visible_course)]
