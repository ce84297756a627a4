"""Enrolment lookups with jurisdiction: the worker, its enterprise admins, admins."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from app.accounts.deps import CurrentUser
from app.courses import service as courses
from app.courses.models import Lesson
from app.db import SessionDep
from app.errors import NotFound
from app.i18n import gettext as _
from app.learning import service
from app.learning.models import Enrolment


def visible_enrolment(enrolment_id: int, user: CurrentUser, db: SessionDep) -> Enrolment:
    """An enrolment the user may see; 404 otherwise."""
    enrolment = service.get_enrolment_or_404(db=db, enrolment_id=enrolment_id)
    if not service.can_see_enrolment(user, enrolment):
        raise NotFound(_("No such enrolment."))
    return enrolment


VisibleEnrolment = Annotated[Enrolment, Depends(visible_enrolment)]


def own_enrolment(enrolment: VisibleEnrolment, user: CurrentUser) -> Enrolment:
    """An enrolment of the signed-in worker itself (only the learner studies)."""
    if enrolment.worker.user_id != user.id:
        raise NotFound(_("No such enrolment."))
    return enrolment


OwnEnrolment = Annotated[Enrolment, Depends(own_enrolment)]


def enrolment_lesson(lesson_id: int, enrolment: VisibleEnrolment, db: SessionDep) -> Lesson:
    """A lesson of the enrolment's course version."""
    return courses.get_lesson_or_404(db=db, course_id=enrolment.course_id, lesson_id=lesson_id)


EnrolmentLesson = Annotated[Lesson, Depends(enrolment_lesson)]




def beat_enrolment(enrolment_id: int, user: CurrentUser, db: SessionDep) -> Enrolment:
    """The signed-in worker's own enrolment, loaded lean for the heartbeat (the hottest
    route): no course or worker objects, just the row, found only if it is the caller's."""
    enrolment = service.own_enrolment_row(db=db, enrolment_id=enrolment_id, user_id=user.id)
    if enrolment is None:
        raise NotFound(_("No such enrolment."))
    return enrolment


BeatEnrolment = Annotated[Enrolment, Depends(beat_enrolment)]


def beat_lesson(lesson_id: int, enrolment: BeatEnrolment, db: SessionDep) -> Lesson:
    """The lesson of a heartbeat, without its Markdown bodies (a beat never needs them)."""
    lesson = courses.lesson_for_progress(db=db, course_id=enrolment.course_id,
                                         lesson_id=lesson_id)
    if lesson is None:
        raise NotFound(_("No such lesson in this course."))
    return lesson


BeatLesson = Annotated[Lesson, Depends(beat_lesson)]
