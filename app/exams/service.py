"""Business rules of exams: the exam of a course, starting attempts (drawn and shuffled per
attempt), saving answers, submitting, closing at the deadline, grading, review."""

from __future__ import annotations

import random
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from app.accounts import service as accounts
from app.accounts.models import Role, User
from app.certificates import service as certificates
from app.courses.models import Course
from app.db import utcnow
from app.errors import Conflict, Invalid, NotFound
from app.exams.models import (
    Answer,
    Attempt,
    AttemptEvent,
    AttemptStatus,
    Exam,
    ExtraTime,
    Question,
    QuestionStatus,
)
from app.i18n import gettext as _
from app.learning.models import Enrolment, EnrolmentStatus
from app.organisations.models import Worker

_random = secrets.SystemRandom()
MAX_SCORE = 100


# --- the exam of a course --------------------------------------------------------------------

def sync_exam(*, db: Session, course: Course) -> Exam | None:
    """Create the course's exam from its exam block (packages, published drafts)."""
    spec = course.exam_spec
    if not spec:
        return None
    exam = db.scalar(select(Exam).where(Exam.course_id == course.id))
    if exam is None:
        exam = Exam(course_id=course.id, bank=course.code)
        db.add(exam)
    exam.title = spec["title"]
    exam.duration_minutes = int(spec["duration_minutes"])
    exam.pass_mark = int(spec["pass_mark"])
    exam.max_attempts = int(spec["max_attempts"])
    exam.requires_completion = bool(spec.get("requires_completion", True))
    exam.blueprint = [{"category": b["category"], "count": int(b["count"])}
                      for b in spec["blueprint"]]
    db.flush()
    return exam


def copy_exam(*, db: Session, source: Course, target: Course) -> Exam | None:
    """Give a new version of a course the exam of the version it was copied from (every
    setting and the blueprint; the bank is the course code, so the questions are shared).
    Without an exam row, the source's exam block is used; None when it has neither."""
    exam = db.scalar(select(Exam).where(Exam.course_id == source.id))
    if exam is None:
        return sync_exam(db=db, course=target) if target.exam_spec else None
    copy = Exam(course_id=target.id, bank=exam.bank, title=dict(exam.title or {}),
                duration_minutes=exam.duration_minutes, pass_mark=exam.pass_mark,
                max_attempts=exam.max_attempts, requires_completion=exam.requires_completion,
                blueprint=[dict(item) for item in exam.blueprint],
                available_from=exam.available_from, available_until=exam.available_until,
                review_mode=exam.review_mode, one_per_screen=exam.one_per_screen)
    db.add(copy)
    db.flush()
    return copy


def delete_exam_of_draft(*, db: Session, course: Course) -> None:
    """Remove the exam of a draft being discarded (a draft has no enrolments, so its exam has
    no attempts; extra time granted on it goes with it)."""
    exam_id = db.scalar(select(Exam.id).where(Exam.course_id == course.id))
    if exam_id is None:
        return
    db.execute(delete(ExtraTime).where(ExtraTime.exam_id == exam_id))
    db.execute(delete(Exam).where(Exam.id == exam_id))


def exam_of(*, db: Session, course_id: int) -> Exam | None:
    """The exam of a course version, if it has one."""
    return db.scalar(select(Exam).where(Exam.course_id == course_id))


def exam_ids_for(*, db: Session, course_ids: Sequence[int]) -> dict[int, int]:
    """The exam id of each course that has one (one query)."""
    if not course_ids:
        return {}
    return {cid: eid for cid, eid in db.execute(
        select(Exam.course_id, Exam.id).where(Exam.course_id.in_(course_ids)))}


def get_exam_or_404(*, db: Session, exam_id: int) -> Exam:
    """An exam or NotFound."""
    exam = db.get(Exam, exam_id)
    if exam is None:
        raise NotFound(_("No such exam."))
    return exam


def question_count(exam: Exam) -> int:
    """How many questions an attempt of this exam has."""
    return sum(int(item["count"]) for item in exam.blueprint)


# --- starting an attempt ----------------------------------------------------------------------

def _enrolment_for(db: Session, exam: Exam, worker: Worker) -> Enrolment | None:
    return db.scalar(select(Enrolment).where(
        Enrolment.worker_id == worker.id, Enrolment.course_id == exam.course_id,
        Enrolment.status.in_([EnrolmentStatus.ACTIVE.value, EnrolmentStatus.COMPLETED.value,
                              EnrolmentStatus.RETRAINING.value]))
        .order_by(Enrolment.id.desc()).limit(1))


@dataclass
class Eligibility:
    enrolment: Enrolment | None
    attempts_used: int
    open_attempt: Attempt | None
    reason: str | None  # None: may start
    code: str | None


def eligibility(*, db: Session, exam: Exam, worker: Worker,
                now: datetime | None = None) -> Eligibility:
    """Whether the worker may start an attempt now, and why not."""
    now = now or utcnow()
    enrolment = _enrolment_for(db, exam, worker)
    if enrolment is None:
        return Eligibility(None, 0, None, _("You are not enrolled in this exam's course."),
                           "not_eligible")
    used = db.scalar(select(func.count()).select_from(Attempt).where(
        Attempt.exam_id == exam.id, Attempt.enrolment_id == enrolment.id)) or 0
    open_attempt = db.scalar(select(Attempt).where(
        Attempt.exam_id == exam.id, Attempt.worker_id == worker.id,
        Attempt.status == AttemptStatus.IN_PROGRESS.value))
    if open_attempt is not None:
        return Eligibility(enrolment, used, open_attempt, _("You have an attempt in progress."),
                           "attempt_in_progress")
    if enrolment.status == EnrolmentStatus.RETRAINING.value or used >= exam.max_attempts:
        return Eligibility(enrolment, used, None, _(
            "You have used all {n} attempts. You need retraining: ask your enterprise to "
            "enrol you in the course again.").format(n=exam.max_attempts), "attempts_exhausted")
    if exam.requires_completion and enrolment.status != EnrolmentStatus.COMPLETED.value:
        return Eligibility(enrolment, used, None, _(
            "The exam opens when you have completed the course."), "not_eligible")
    if exam.available_from and now < exam.available_from:
        return Eligibility(enrolment, used, None, _("The exam is not open yet."),
                           "exam_not_open")
    if exam.available_until and now > exam.available_until:
        return Eligibility(enrolment, used, None, _("The exam is closed."), "exam_not_open")
    return Eligibility(enrolment, used, None, None, None)


def _draw(db: Session, exam: Exam, rng: random.Random = _random) -> list[dict[str, Any]]:
    """The paper: questions drawn per the blueprint, questions and options shuffled, options
    given random ids (so neither their order nor their ids reveal the key)."""
    paper: list[dict[str, Any]] = []
    used_ids: set[int] = set()
    # The pools as ids (one query), the drawn questions loaded whole (one more): a start reads
    # only the questions it puts on the paper.
    pools: dict[str, list[int]] = {}
    for question_id, category in db.execute(select(Question.id, Question.category).where(
            Question.bank == exam.bank,
            Question.category.in_(sorted({item["category"] for item in exam.blueprint})),
            Question.status == QuestionStatus.ACTIVE.value).order_by(Question.id)):
        pools.setdefault(category, []).append(question_id)
    drawn: list[int] = []
    for item in exam.blueprint:
        pool = pools.get(item["category"], [])
        if len(pool) < item["count"]:
            raise Conflict(_("The exam cannot be drawn: category {category} has {have} "
                             "questions, {need} are needed. Tell the trainer.").format(
                category=item["category"], have=len(pool), need=item["count"]),
                code="exam_misconfigured")
        drawn.extend(rng.sample(pool, item["count"]))
    loaded = {q.id: q for q in db.scalars(
        select(Question).where(Question.id.in_(sorted(set(drawn)))))}
    for question_id in drawn:
        question = loaded[question_id]
        options = []
        for index, option in enumerate(question.options):
            option_id = rng.randrange(100_000, 1_000_000_000)
            while option_id in used_ids:
                option_id = rng.randrange(100_000, 1_000_000_000)
            used_ids.add(option_id)
            options.append({"id": option_id, "index": index, "text": option["text"],
                            "right": float(option["weight"]) > 0})
        rng.shuffle(options)
        paper.append({"question_id": question.id, "kind": question.kind,
                      "category": question.category, "text": question.text,
                      "feedback": question.feedback, "image_key": question.image_key,
                      "options": options})
    rng.shuffle(paper)
    return paper


def preview_seed() -> int:
    """A fresh seed for a preview paper."""
    return _random.randrange(0, 2**31)


def draw_preview(*, db: Session, exam: Exam, seed: int) -> list[dict[str, Any]]:
    """A paper drawn exactly as for an attempt (same blueprint, pools and shuffling), for a
    trainer's preview: nothing is stored, and the same seed draws the same paper while the bank
    is unchanged (so a one-per-screen preview can move between questions)."""
    # Seeded on purpose: a preview must be reproducible; attempts keep the system generator.
    return _draw(db, exam, random.Random(seed))  # noqa: S311


def start_attempt(*, db: Session, exam: Exam, worker: Worker, by: User, ip: str | None = None,
                  user_agent: str | None = None, now: datetime | None = None) -> Attempt:
    """Start an attempt: eligibility, then a freshly drawn paper and a server-side deadline."""
    now = now or utcnow()
    close_expired(db=db, now=now, worker_id=worker.id)
    check = eligibility(db=db, exam=exam, worker=worker, now=now)
    if check.reason is not None:
        extra = {"attempt_id": check.open_attempt.id} if check.open_attempt else {}
        raise Conflict(check.reason, code=check.code, extra=extra)
    assert check.enrolment is not None
    extra_minutes = db.scalar(select(ExtraTime.minutes).where(
        ExtraTime.exam_id == exam.id, ExtraTime.worker_id == worker.id)) or 0
    attempt = Attempt(exam_id=exam.id, worker_id=worker.id, enrolment_id=check.enrolment.id,
                      number=check.attempts_used + 1, started_at=now,
                      deadline=now + timedelta(minutes=exam.duration_minutes + extra_minutes),
                      paper=_draw(db, exam), ip=ip, user_agent=(user_agent or "")[:255])
    try:
        with db.begin_nested():
            db.add(attempt)
            db.flush()
    except IntegrityError:
        # Two starts raced (two tabs, a double tap): the other one won.
        raise Conflict(_("You have an attempt in progress."), code="attempt_in_progress",
                       extra=_open_attempt_extra(db, exam, worker)) from None
    db.add(AttemptEvent(attempt_id=attempt.id, at=now, kind="started",
                        detail={"ip": ip, "user_agent": (user_agent or "")[:255],
                                "extra_minutes": extra_minutes}))
    db.flush()
    return attempt


def _open_attempt_extra(db: Session, exam: Exam, worker: Worker) -> dict[str, Any]:
    open_id = db.scalar(select(Attempt.id).where(
        Attempt.exam_id == exam.id, Attempt.worker_id == worker.id,
        Attempt.status == AttemptStatus.IN_PROGRESS.value))
    return {"attempt_id": open_id} if open_id else {}


# --- answering ----------------------------------------------------------------------------------

# The save path's statements, built once and bound per call (exam-day load: building a
# statement and its cache key costs more than running it). Core, on the tables: the same SQL
# as through the ORM entities.
_attempts, _answers, _workers = Attempt.__table__, Answer.__table__, Worker.__table__
_ATTEMPT_STATE = (select(_attempts.c.status, _attempts.c.deadline)
                  .where(_attempts.c.id == bindparam("attempt_id")).with_for_update())
_OWN_PAPER = (select(_attempts.c.paper).join(_workers, _workers.c.id == _attempts.c.worker_id)
              .where(_attempts.c.id == bindparam("attempt_id"),
                     _workers.c.user_id == bindparam("user_id")))


def _upsert_answer(insert: Callable[..., Any]) -> Any:
    stmt = insert(_answers).values(
        attempt_id=bindparam("attempt_id"), question_id=bindparam("question_id"),
        option_ids=bindparam("option_ids", type_=_answers.c.option_ids.type),
        saved_at=bindparam("saved_at", type_=_answers.c.saved_at.type))
    return stmt.on_conflict_do_update(index_elements=["attempt_id", "question_id"], set_={
        "option_ids": stmt.excluded.option_ids, "saved_at": stmt.excluded.saved_at})


_UPSERT_ANSWER = {"postgresql": _upsert_answer(pg_insert), "sqlite": _upsert_answer(sqlite_insert)}


def save_answer(*, db: Session, attempt_id: int, paper: list[dict[str, Any]], question_id: int,
                option_ids: list[int], now: datetime | None = None) -> datetime:
    """Save (replace) the answer to one question; refused once the attempt is closed or past
    its deadline. `paper` is the attempt's paper as loaded by the caller (it never changes)."""
    now = now or utcnow()
    item = next((q for q in paper if q["question_id"] == question_id), None)
    if item is None:
        raise NotFound(_("No such question in this attempt."))
    known = {option["id"] for option in item["options"]}
    chosen = sorted(set(option_ids))
    if not set(chosen) <= known:
        raise Invalid(errors=[{"loc": ["option_ids"], "msg": _(
            "An option does not belong to this question.")}])
    if item["kind"] != "multiple" and len(chosen) > 1:
        raise Invalid(errors=[{"loc": ["option_ids"], "msg": _(
            "This question takes one answer.")}])
    # The attempt row is locked, so a save and a submit never interleave.
    state = db.execute(_ATTEMPT_STATE, {"attempt_id": attempt_id}).one()
    if state.status != AttemptStatus.IN_PROGRESS.value or now > state.deadline:
        raise Conflict(_("This attempt is closed: answers can no longer be changed."),
                       code="attempt_closed")
    db.execute(_UPSERT_ANSWER[db.get_bind().dialect.name], {
        "attempt_id": attempt_id, "question_id": question_id, "option_ids": chosen,
        "saved_at": now})
    return now


def answers_of(*, db: Session, attempt_id: int) -> dict[int, list[int]]:
    """The saved answers of an attempt, by question id."""
    return {qid: list(ids) for qid, ids in db.execute(
        select(Answer.question_id, Answer.option_ids).where(Answer.attempt_id == attempt_id))}


def record_event(*, db: Session, attempt: Attempt, kind: str, detail: dict[str, Any] | None = None,
                 now: datetime | None = None) -> None:
    """Note something that happened during an attempt (leaving the page, going offline)."""
    db.add(AttemptEvent(attempt_id=attempt.id, at=now or utcnow(), kind=kind[:32],
                        detail=detail or {}))
    db.flush()


# --- grading ------------------------------------------------------------------------------------

def grade(paper: list[dict[str, Any]], answers: dict[int, list[int]]) -> tuple[float, int]:
    """(score on the 0-100 scale, questions right): all or nothing per question, the points
    split evenly across the paper."""
    right = 0
    for item in paper:
        key = {option["id"] for option in item["options"] if option["right"]}
        if set(answers.get(item["question_id"], [])) == key:
            right += 1
    score = round(MAX_SCORE * right / len(paper), 2) if paper else 0.0
    return score, right


def _close(db: Session, attempt: Attempt, exam: Exam, *, now: datetime, closed_by: str,
           by: User | None) -> None:
    answers = answers_of(db=db, attempt_id=attempt.id)
    score, right = grade(attempt.paper, answers)
    passed = score >= exam.pass_mark
    db.execute(update(Attempt).where(Attempt.id == attempt.id).values(
        status=AttemptStatus.SUBMITTED.value, submitted_at=now, closed_by=closed_by,
        score=score, passed=passed))
    db.refresh(attempt)
    if passed:
        # A course without a practical test is complete with the theory pass: its certificate
        # is issued in this same transaction.
        certificates.issue_if_complete(db=db, worker_id=attempt.worker_id,
                                       course_id=exam.course_id,
                                       source={"attempt_id": attempt.id}, by=by)
    if not passed and attempt.number >= exam.max_attempts:
        db.execute(update(Enrolment).where(Enrolment.id == attempt.enrolment_id)
                   .values(status=EnrolmentStatus.RETRAINING.value))
    db.add(AttemptEvent(attempt_id=attempt.id, at=now, kind="closed",
                        detail={"by": closed_by, "answered": len(answers)}))
    accounts.record_audit(db=db, action="attempt.graded", actor=by, object_type="attempt",
                          object_id=attempt.id, detail={
                              "exam_id": exam.id, "worker_id": attempt.worker_id,
                              "number": attempt.number, "score": score, "passed": passed,
                              "right": right, "questions": len(attempt.paper),
                              "closed_by": closed_by})
    db.flush()


def _lock_attempt(db: Session, attempt_id: int) -> Attempt:
    attempt = db.scalar(select(Attempt).where(Attempt.id == attempt_id).with_for_update()
                        .execution_options(populate_existing=True))
    if attempt is None:
        raise NotFound(_("No such attempt."))
    return attempt


def submit(*, db: Session, attempt_id: int, by: User | None,
           now: datetime | None = None) -> Attempt:
    """Close and grade an attempt from its saved answers; submitting again changes nothing."""
    now = now or utcnow()
    attempt = _lock_attempt(db, attempt_id)
    if attempt.status == AttemptStatus.SUBMITTED.value:
        return attempt
    exam = db.get(Exam, attempt.exam_id)
    assert exam is not None
    # Past the deadline it counts as closed by the deadline (graded on the answers saved in time).
    late = now > attempt.deadline
    _close(db, attempt, exam, now=attempt.deadline if late else now,
           closed_by="deadline" if late else "taker", by=by)
    return attempt


def close_expired(*, db: Session, now: datetime | None = None, worker_id: int | None = None,
                  limit: int = 200) -> int:
    """Grade attempts whose deadline has passed (whether or not their takers come back)."""
    now = now or utcnow()
    stmt = select(Attempt.id).where(Attempt.status == AttemptStatus.IN_PROGRESS.value,
                                    Attempt.deadline < now)
    if worker_id is not None:
        stmt = stmt.where(Attempt.worker_id == worker_id)
    closed = 0
    for attempt_id in db.scalars(stmt.order_by(Attempt.deadline).limit(limit)).all():
        attempt = _lock_attempt(db, attempt_id)
        if attempt.status == AttemptStatus.IN_PROGRESS.value:
            exam = db.get(Exam, attempt.exam_id)
            assert exam is not None
            _close(db, attempt, exam, now=attempt.deadline, closed_by="deadline", by=None)
            closed += 1
    return closed


# --- reading ------------------------------------------------------------------------------------

def own_paper_or_404(*, db: Session, attempt_id: int, user_id: int) -> list[dict[str, Any]]:
    """The paper of an attempt taken by the user `user_id`; NotFound for a missing attempt and
    for anybody else's, exactly as OwnAttempt answers. The one lookup an answer save needs (one
    column, one join), without loading the attempt, its worker and its exam."""
    paper = db.execute(_OWN_PAPER, {"attempt_id": attempt_id, "user_id": user_id}).scalar()
    if paper is None:
        raise NotFound(_("No such attempt."))
    return paper


def get_attempt_or_404(*, db: Session, attempt_id: int) -> Attempt:
    """An attempt with its worker and exam."""
    attempt = db.scalar(select(Attempt).where(Attempt.id == attempt_id)
                        .options(joinedload(Attempt.worker), joinedload(Attempt.exam))
                        .execution_options(populate_existing=True))
    if attempt is None:
        raise NotFound(_("No such attempt."))
    return attempt


def can_see_attempt(user: User, attempt: Attempt) -> bool:
    """The taker, its enterprise's administrators and admins."""
    if user.has_role(Role.ADMIN) or attempt.worker.user_id == user.id:
        return True
    return user.has_role(Role.ENTERPRISE_ADMIN) and \
        user.enterprise_id == attempt.worker.enterprise_id


def attempts_of(*, db: Session, exam: Exam, worker: Worker) -> list[Attempt]:
    """A worker's attempts at an exam, newest first."""
    return list(db.scalars(select(Attempt).where(Attempt.exam_id == exam.id,
                                                 Attempt.worker_id == worker.id)
                           .order_by(Attempt.id.desc())))


def latest_pass(*, db: Session, worker_id: int, course_code: str,
                since: datetime) -> Attempt | None:
    """The worker's newest passed attempt at any version of a course's exam since `since`
    (the theory pass that makes a worker eligible for the practical test)."""
    return db.scalar(select(Attempt).join(Exam, Exam.id == Attempt.exam_id)
                     .join(Course, Course.id == Exam.course_id)
                     .where(Attempt.worker_id == worker_id, Course.code == course_code,
                            Attempt.passed.is_(True), Attempt.submitted_at >= since)
                     .order_by(Attempt.submitted_at.desc()).limit(1))


def events_of(*, db: Session, attempt_id: int) -> list[AttemptEvent]:
    """The attempt's log, oldest first."""
    return list(db.scalars(select(AttemptEvent).where(AttemptEvent.attempt_id == attempt_id)
                           .order_by(AttemptEvent.at, AttemptEvent.id)))


# --- the taker's pages ----------------------------------------------------------------------------

def extra_minutes_of(*, db: Session, exam_id: int, worker_id: int) -> int:
    """The extra minutes a worker gets on an exam (0 when none were granted)."""
    return db.scalar(select(ExtraTime.minutes).where(
        ExtraTime.exam_id == exam_id, ExtraTime.worker_id == worker_id)) or 0


@dataclass
class Reviewed:
    """One question of a closed attempt as its review shows it (this carries the key)."""

    number: int
    item: dict[str, Any]
    chosen: list[int]
    right: bool


def review(paper: list[dict[str, Any]], answers: dict[int, list[int]]) -> list[Reviewed]:
    """Each question of a paper with the taker's answer and whether it was right, by the rule of
    `grade`. Only for attempts that are closed: it reveals the key."""
    reviewed = []
    for number, item in enumerate(paper, start=1):
        chosen = answers.get(item["question_id"], [])
        key = {option["id"] for option in item["options"] if option["right"]}
        reviewed.append(Reviewed(number=number, item=item, chosen=list(chosen),
                                 right=set(chosen) == key))
    return reviewed
