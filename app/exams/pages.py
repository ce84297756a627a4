"""HTML routes of exams for the taker: the exam's rules, starting, the timed exam form (autosave
by htmx, plain form posts without JavaScript), the submit confirmation and the graded review.

Nothing rendered before submit carries the key: templates get only stems, option texts and the
attempt's random option ids, in the order of the stored paper."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from app import batching, media
from app.accounts.api import client_ip
from app.accounts.deps import CurrentUser, page_guard
from app.bounds import parse_int
from app.courses import service as courses
from app.db import ReadOnlyRequest, SessionDep, utcnow
from app.errors import Conflict, Invalid
from app.exams import service
from app.exams.deps import ExamDep, OwnAttempt, OwnWorker
from app.exams.models import Attempt, AttemptStatus, ReviewMode
from app.exams.schemas import option_text
from app.i18n import LOCAL_TZ, get_locale, localized
from app.i18n import gettext as _
from app.organisations import service as organisations
from app.web import flash, is_htmx, redirect, render

router = APIRouter(dependencies=[Depends(page_guard)], include_in_schema=False)
# Answer saves check in a read transaction and write through app.batching (exam-day load), so
# the read-only marker must run before page_guard opens the request's session.
_saves = APIRouter(dependencies=[ReadOnlyRequest, Depends(page_guard)], include_in_schema=False)

SAVED_HEADER = "X-Answer-Saved"


async def _form(request: Request) -> FormData:
    return await request.form()


FormDep = Annotated[FormData, Depends(_form)]


# --- helpers ------------------------------------------------------------------------------------

def _attempt_url(attempt: Attempt, number: int | None = None) -> str:
    url = f"/attempts/{attempt.id}"
    if number is None:
        return url
    return f"{url}?q={number}" if attempt.exam.one_per_screen else f"{url}#q-{number}"


def _result_url(attempt: Attempt) -> str:
    return f"/attempts/{attempt.id}/result"


def _is_open(attempt: Attempt, now: datetime | None = None) -> bool:
    """In progress and before its deadline (the server's clock is the only authority)."""
    return attempt.status == AttemptStatus.IN_PROGRESS.value and \
        (now or utcnow()) <= attempt.deadline


def _clock(value: datetime, seconds: bool = False) -> str:
    return value.astimezone(LOCAL_TZ).strftime("%H:%M:%S" if seconds else "%H:%M")


def _score(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def _questions(attempt: Attempt, answers: dict[int, list[int]]) -> list[dict[str, Any]]:
    """The paper as the taker sees it, in its stored order: no key, no original positions."""
    locale = get_locale()
    items = []
    for number, item in enumerate(attempt.paper, start=1):
        chosen = answers.get(item["question_id"], [])
        items.append({
            "number": number, "id": item["question_id"], "kind": item["kind"],
            "text": localized(item["text"], locale),
            "image_url": media.url(item["image_key"]) if item.get("image_key") else None,
            "options": [{"id": option["id"], "text": option_text(item, option, locale)}
                        for option in item["options"]],
            "chosen": set(chosen), "answered": bool(chosen)})
    return items


def _timer(attempt: Attempt) -> dict[str, Any]:
    now = utcnow()
    left = max(0, int((attempt.deadline - now).total_seconds()))
    return {"deadline_iso": attempt.deadline.isoformat(), "now_iso": now.isoformat(),
            "ends_at": _clock(attempt.deadline),
            "left_text": f"{left // 3600}:{left % 3600 // 60:02d}:{left % 60:02d}" if left >= 3600
            else f"{left // 60:02d}:{left % 60:02d}",
            "events_url": f"/api/v1/attempts/{attempt.id}/events",
            "submit_url": f"/attempts/{attempt.id}/submit"}


def _option_ids(form: FormData, question_id: int) -> list[int]:
    values = form.getlist(f"q{question_id}")
    if not all(isinstance(value, str) and value.isascii() and value.isdigit()
               and len(value) <= 9 for value in values):
        raise Invalid(errors=[{"loc": [f"q{question_id}"], "msg": _(
            "An option does not belong to this question.")}])
    return [int(str(value)) for value in values]


def _closed_answer(request: Request, attempt: Attempt) -> Response:
    """An answer came after submit or the deadline: off to the result (htmx follows too)."""
    url = _result_url(attempt)
    if is_htmx(request):
        return render(request, "exams/_closed.html", {}, status_code=409,
                      headers={"HX-Redirect": url})
    flash(request, _("Time is up: the exam is closed. Answers saved in time were graded."),
          "info")
    return redirect(url)


# --- the exam's rules and starting -------------------------------------------------------------

@router.get("/exams/{exam_id}", name="exam_intro")
def exam_intro(request: Request, exam: ExamDep, db: SessionDep, user: CurrentUser) -> Response:
    """The exam's rules, the caller's attempts, and a Start button or a Resume link."""
    course = courses.get_course_or_404(db=db, course_id=exam.course_id)
    worker = organisations.worker_of_user(db=db, user_id=user.id)
    context: dict[str, Any] = {"exam": exam, "course": course, "worker": worker,
                               "questions": service.question_count(exam), "score": _score,
                               "now": utcnow()}
    if worker is not None:
        check = service.eligibility(db=db, exam=exam, worker=worker)
        extra = service.extra_minutes_of(db=db, exam_id=exam.id, worker_id=worker.id)
        context.update({
            "check": check, "extra_minutes": extra,
            "attempts": service.attempts_of(db=db, exam=exam, worker=worker),
            "attempts_left": max(0, exam.max_attempts - check.attempts_used),
            "open_expired": check.open_attempt is not None
            and not _is_open(check.open_attempt)})
    return render(request, "exams/intro.html", context)


@router.post("/exams/{exam_id}/start", name="exam_start")
def exam_start(request: Request, exam: ExamDep, worker: OwnWorker, db: SessionDep,
               user: CurrentUser) -> Response:
    """Start an attempt and go to it; an open attempt is resumed instead."""
    try:
        attempt = service.start_attempt(db=db, exam=exam, worker=worker, by=user,
                                        ip=client_ip(request),
                                        user_agent=request.headers.get("user-agent"))
    except Conflict as exc:
        if exc.code == "attempt_in_progress" and exc.extra.get("attempt_id"):
            return redirect(f"/attempts/{exc.extra['attempt_id']}")
        flash(request, exc.message, "error")
        return redirect(f"/exams/{exam.id}")
    return redirect(f"/attempts/{attempt.id}")


# --- taking the exam --------------------------------------------------------------------------

@router.get("/attempts/{attempt_id}", name="attempt")
def attempt_page(request: Request, attempt: OwnAttempt, db: SessionDep, q: int = 1) -> Response:
    """The exam form: every question, or one per screen (?q=n), with the navigation grid."""
    if not _is_open(attempt):
        return redirect(_result_url(attempt))
    answers = service.answers_of(db=db, attempt_id=attempt.id)
    items = _questions(attempt, answers)
    exam = attempt.exam
    current = min(max(q, 1), len(items)) if exam.one_per_screen and items else None
    shown = [items[current - 1]] if current else items
    return render(request, "exams/attempt.html", {
        "attempt": attempt, "exam": exam, "items": items, "shown": shown, "current": current,
        "total": len(items), "answered": sum(1 for item in items if item["answered"]),
        **_timer(attempt)})


@_saves.post("/attempts/{attempt_id}/answers/{question_id}", name="attempt_answer")
def save_answer(request: Request, attempt: OwnAttempt, question_id: int,
                form: FormDep) -> Response:
    """Autosave of one question (htmx, on every change): a small "saved" fragment and the
    question's cell of the navigation grid."""
    if not _is_open(attempt):
        return _closed_answer(request, attempt)
    option_ids = _option_ids(form, question_id)
    attempt_id, paper = attempt.id, attempt.paper
    try:
        saved_at = batching.run_write(lambda db: service.save_answer(
            db=db, attempt_id=attempt_id, paper=paper, question_id=question_id,
            option_ids=option_ids))
    except Conflict as exc:
        if exc.code == "attempt_closed":
            return _closed_answer(request, attempt)
        raise
    number = next(n for n, item in enumerate(paper, start=1) if item["question_id"] == question_id)
    return render(request, "exams/_saved.html", {
        "attempt": attempt, "saved_time": _clock(saved_at, seconds=True),
        "cell": {"number": number, "id": question_id, "answered": bool(option_ids)},
        "one_per_screen": attempt.exam.one_per_screen,
        "current": number if attempt.exam.one_per_screen else None},
        headers={SAVED_HEADER: saved_at.isoformat()})


@_saves.post("/attempts/{attempt_id}/save", name="attempt_save")
def save_form(request: Request, attempt: OwnAttempt, db: SessionDep, form: FormDep) -> Response:
    """The exam form posted without JavaScript (or a navigation button): save every question
    shown whose answer changed, then stay, move, or go to the confirmation."""
    if not _is_open(attempt):
        return _closed_answer(request, attempt)
    total = len(attempt.paper)
    go = str(form.get("go") or "stay")
    # Parsed before anything is saved: a bad number changes nothing.
    current = parse_int(str(form.get("q") or ""), name="q", minimum=1, default=1) or 1
    target = None if go in ("confirm", "next", "prev", "stay") else \
        parse_int(go, name="go", minimum=1)
    saved = service.answers_of(db=db, attempt_id=attempt.id)
    in_paper = {item["question_id"] for item in attempt.paper}
    changes: list[tuple[int, list[int]]] = []
    for value in form.getlist("shown"):
        if not isinstance(value, str) or value not in {str(q) for q in in_paper}:
            continue
        question_id = int(value)
        option_ids = _option_ids(form, question_id)
        if sorted(set(option_ids)) != sorted(saved.get(question_id, [])):
            changes.append((question_id, option_ids))
    if changes:
        attempt_id, paper = attempt.id, attempt.paper

        def job(db: Any) -> None:
            for question_id, option_ids in changes:
                service.save_answer(db=db, attempt_id=attempt_id, paper=paper,
                                    question_id=question_id, option_ids=option_ids)

        try:
            batching.run_write(job)
        except Conflict as exc:
            if exc.code == "attempt_closed":
                return _closed_answer(request, attempt)
            raise
    if go == "confirm":
        return redirect(f"/attempts/{attempt.id}/confirm")
    if target is not None:
        return redirect(_attempt_url(attempt, min(target, total)))
    if go in ("next", "prev"):
        step = 1 if go == "next" else -1
        return redirect(_attempt_url(attempt, min(max(current + step, 1), total)))
    flash(request, _("Your answers are saved."))
    return redirect(_attempt_url(attempt, current) if attempt.exam.one_per_screen
                    else _attempt_url(attempt))


@router.get("/attempts/{attempt_id}/confirm", name="attempt_confirm")
def confirm_page(request: Request, attempt: OwnAttempt, db: SessionDep) -> Response:
    """Before submitting: how many questions are unanswered, with links to them."""
    if not _is_open(attempt):
        return redirect(_result_url(attempt))
    items = _questions(attempt, service.answers_of(db=db, attempt_id=attempt.id))
    unanswered = [item for item in items if not item["answered"]]
    return render(request, "exams/confirm.html", {
        "attempt": attempt, "exam": attempt.exam, "total": len(items),
        "unanswered": [{"number": item["number"],
                        "url": _attempt_url(attempt, item["number"])} for item in unanswered],
        **_timer(attempt)})


@router.post("/attempts/{attempt_id}/submit", name="attempt_submit")
def submit(attempt: OwnAttempt, db: SessionDep, user: CurrentUser) -> Response:
    """Close and grade the attempt (submitting again changes nothing), then the result."""
    service.submit(db=db, attempt_id=attempt.id, by=user)
    return redirect(_result_url(attempt))


# --- the result -------------------------------------------------------------------------------

@router.get("/attempts/{attempt_id}/result", name="attempt_result")
def result_page(request: Request, attempt: OwnAttempt, db: SessionDep) -> Response:
    """Score and pass or fail; with review_mode "mistakes" also each question's answer, the right
    answer where it was wrong, and the feedback."""
    if attempt.status == AttemptStatus.IN_PROGRESS.value:
        if _is_open(attempt):
            return redirect(_attempt_url(attempt))
        # Past the deadline and not yet swept: grade it now (as the sweeper would), then show
        # it from a fresh request, which sees the graded row.
        worker_id = attempt.worker_id
        batching.run_write(lambda wdb: service.close_expired(db=wdb, worker_id=worker_id))
        return redirect(_result_url(attempt))
    exam = attempt.exam
    answers = service.answers_of(db=db, attempt_id=attempt.id)
    reviewed = service.review(attempt.paper, answers)
    check = service.eligibility(db=db, exam=exam, worker=attempt.worker)
    locale = get_locale()
    review = []
    if exam.review_mode == ReviewMode.MISTAKES.value:
        for entry in reviewed:
            item = entry.item
            review.append({
                "number": entry.number, "right": entry.right, "answered": bool(entry.chosen),
                "text": localized(item["text"], locale),
                "image_url": media.url(item["image_key"]) if item.get("image_key") else None,
                "feedback": localized(item.get("feedback"), locale),
                "options": [{"text": option_text(item, option, locale),
                             "chosen": option["id"] in entry.chosen, "key": option["right"]}
                            for option in item["options"]]})
    return render(request, "exams/result.html", {
        "attempt": attempt, "exam": exam, "score": _score(attempt.score),
        "right_count": sum(1 for entry in reviewed if entry.right), "total": len(reviewed),
        "review": review, "check": check,
        "attempts_left": max(0, exam.max_attempts - check.attempts_used)})


router.routes.extend(_saves.routes)
