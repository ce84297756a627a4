"""Exam and attempt lookups with ownership checks."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from app.accounts.deps import CurrentUser
from app.db import SessionDep
from app.errors import NotFound
from app.exams import service
from app.exams.models import Attempt, Exam
from app.i18n import gettext as _
from app.organisations import service as organisations
from app.organisations.models import Worker


def exam_or_404(exam_id: int, user: CurrentUser, db: SessionDep) -> Exam:
    """An exam (any signed-in user may read what an exam is; starting it has its own rules)."""
    return service.get_exam_or_404(db=db, exam_id=exam_id)


ExamDep = Annotated[Exam, Depends(exam_or_404)]


def own_worker(user: CurrentUser, db: SessionDep) -> Worker:
    """The signed-in worker's roster profile (only workers take exams)."""
    worker = organisations.worker_of_user(db=db, user_id=user.id)
    if worker is None:
        raise NotFound(_("Your account is not on an enterprise roster, so you cannot take "
                         "exams."))
    return worker


OwnWorker = Annotated[Worker, Depends(own_worker)]


def visible_attempt(attempt_id: int, user: CurrentUser, db: SessionDep) -> Attempt:
    """An attempt the user may see: the taker, its enterprise admins, admins; 404 otherwise."""
    attempt = service.get_attempt_or_404(db=db, attempt_id=attempt_id)
    if not service.can_see_attempt(user, attempt):
        raise NotFound(_("No such attempt."))
    return attempt


VisibleAttempt = Annotated[Attempt, Depends(visible_attempt)]


def own_attempt(attempt: VisibleAttempt, user: CurrentUser) -> Attempt:
    """An attempt of the signed-in taker itself (only the taker answers and submits)."""
    if attempt.worker.user_id != user.id:
        raise NotFound(_("No such attempt."))
    return attempt


OwnAttempt = Annotated[Attempt, Depends(own_attempt)]
