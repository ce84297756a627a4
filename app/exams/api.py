"""JSON routes of exams: starting attempts, saving answers, submitting, reading results."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response

from app import batching
from app.accounts.api import client_ip
from app.accounts.deps import CurrentUser
from app.db import ReadOnlyRequest, SessionDep
from app.exams import service
from app.exams.deps import ExamDep, OwnAttempt, OwnWorker, VisibleAttempt
from app.exams.models import AttemptStatus
from app.exams.schemas import (
    AnswerIn,
    AnswerSaved,
    AttemptOut,
    AttemptStarted,
    EventIn,
    SubmitOut,
    questions_out,
)
from app.i18n import get_locale

router = APIRouter(prefix="/api/v1", tags=["exams"])


@router.post("/exams/{exam_id}/attempts", response_model=AttemptStarted, status_code=201)
def start_attempt(request: Request, exam: ExamDep, worker: OwnWorker, db: SessionDep,
                  user: CurrentUser) -> AttemptStarted:
    """Start an attempt: 409 attempts_exhausted, not_eligible or attempt_in_progress."""
    attempt = service.start_attempt(db=db, exam=exam, worker=worker, by=user,
                                    ip=client_ip(request),
                                    user_agent=request.headers.get("user-agent"))
    return AttemptStarted(id=attempt.id, exam_id=exam.id, number=attempt.number,
                          deadline=attempt.deadline,
                          questions=questions_out(attempt, get_locale()))


OwnPaper = tuple[int, list[dict[str, Any]]]


def own_paper(attempt_id: int, user: CurrentUser, db: SessionDep) -> OwnPaper:
    """The id and paper of the signed-in taker's attempt; 404 for a missing attempt or anybody
    else's, as OwnAttempt. (Exam-day load: one column read, in one thread hand-off.)"""
    paper = service.own_paper_or_404(db=db, attempt_id=attempt_id, user_id=user.id)
    if batching.group_commits(db):
        db.commit()  # the read is over and the write goes elsewhere: nothing left to commit
    return attempt_id, paper


@router.put("/attempts/{attempt_id}/answers/{question_id}", response_model=AnswerSaved,
            dependencies=[ReadOnlyRequest])
async def save_answer(own: Annotated[OwnPaper, Depends(own_paper)], question_id: int,
                      body: AnswerIn, db: SessionDep) -> AnswerSaved:
    """Save one answer as it is given; 409 attempt_closed after submit or the deadline.

    Checked in a read transaction and written by group commit on SQLite (exam-day load);
    async, so waiting for the commit takes no server thread. On PostgreSQL the write joins
    the request's transaction."""
    attempt_id, paper = own
    saved_at = await batching.run_write_async(lambda wdb: service.save_answer(
        db=wdb, attempt_id=attempt_id, paper=paper, question_id=question_id,
        option_ids=body.option_ids), session=db)
    return AnswerSaved(saved_at=saved_at)


@router.post("/attempts/{attempt_id}/submit", response_model=SubmitOut)
def submit(attempt: OwnAttempt, db: SessionDep, user: CurrentUser) -> SubmitOut:
    """Close and grade the attempt; submitting again returns the same result."""
    graded = service.submit(db=db, attempt_id=attempt.id, by=user)
    return SubmitOut(id=graded.id, status=graded.status, score=graded.score,
                     max_score=service.MAX_SCORE, passed=graded.passed)


@router.get("/attempts/{attempt_id}", response_model=AttemptOut)
def get_attempt(attempt: VisibleAttempt, db: SessionDep, user: CurrentUser) -> AttemptOut:
    """An attempt with its saved answers (the taker also gets the questions, without the key).

    An attempt past its deadline is graded by the sweeper; until then it reads as in progress
    but refuses answers."""
    questions = questions_out(attempt, get_locale()) if attempt.worker.user_id == user.id \
        and attempt.status == AttemptStatus.IN_PROGRESS.value else None
    return AttemptOut(id=attempt.id, exam_id=attempt.exam_id, number=attempt.number,
                      status=attempt.status, score=attempt.score, passed=attempt.passed,
                      deadline=attempt.deadline, submitted_at=attempt.submitted_at,
                      answers=service.answers_of(db=db, attempt_id=attempt.id),
                      questions=questions)


@router.post("/attempts/{attempt_id}/events", status_code=204)
def record_event(attempt: OwnAttempt, body: EventIn, db: SessionDep,
                 request: Request) -> Response:
    """Log a page event for examiners (leaving the page is noted, never punished)."""
    if attempt.status == AttemptStatus.IN_PROGRESS.value:
        service.record_event(db=db, attempt=attempt, kind=body.kind,
                             detail={"ip": client_ip(request)})
    return Response(status_code=204)
