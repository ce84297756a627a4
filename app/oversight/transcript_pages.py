"""HTML page of a worker's transcript (/workers/{id}/transcript), and /transcript, the
signed-in worker's own."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from app.accounts.deps import CurrentUser, page_guard
from app.db import SessionDep
from app.errors import NotFound
from app.i18n import gettext as _
from app.i18n import localized
from app.organisations import service as organisations
from app.organisations.deps import VisibleWorker
from app.oversight import transcript
from app.web import redirect, render

router = APIRouter(dependencies=[Depends(page_guard)], include_in_schema=False)


@router.get("/transcript", name="my_transcript")
def my_transcript(request: Request, db: SessionDep, user: CurrentUser) -> Response:
    """The signed-in worker's own transcript."""
    worker = organisations.worker_of_user(db=db, user_id=user.id)
    if worker is None:
        raise NotFound(_("Your account is not on an enterprise roster yet."))
    return redirect(str(request.url_for("worker_transcript", worker_id=worker.id).path),
                    status_code=303)


@router.get("/workers/{worker_id}/transcript", name="worker_transcript")
def worker_transcript(request: Request, worker: VisibleWorker, user: CurrentUser,
                      db: SessionDep) -> Response:
    """Everything the worker has done: enrolments, attempts, practicals, certificates, hours."""
    item = transcript.build(db=db, worker=worker, viewer=user)
    return render(request, "oversight/transcript.html", {
        "item": item, "w": item.worker, "is_self": worker.user_id == user.id,
        "tr": transcript, "t": localized,
        "label": transcript.label, "job_category_name": transcript.category_name})
