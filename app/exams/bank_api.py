"""JSON routes of the trainer's side of exams (trainers and admins): question banks, imports
and exports, exam settings, extra time, regrading and item statistics. The lookups here are
shared with the bank pages."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Query, Request, Response, UploadFile
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from app import media
from app.accounts.api import client_ip
from app.bounds import DbInt, PatchBody
from app.courses.authoring_api import Author
from app.db import ReadOnlyRequest, SessionDep, begin_write
from app.errors import Invalid, NotFound
from app.exams import bank as service
from app.exams import statistics as stats
from app.exams.models import Exam, Question, QuestionStatus
from app.exams.service import get_exam_or_404
from app.i18n import LOCAL_TZ
from app.i18n import gettext as _
from app.organisations import service as organisations
from app.organisations.validators import mask_id_number
from app.pagination import Page, PageDep

router = APIRouter(prefix="/api/v1", tags=["question bank"])
MAX_IMPORT_BYTES = 10 * 1024 * 1024


# --- lookups (pages use them too) -------------------------------------------------------------

def bank_code(bank: str, user: Author) -> str:
    """A bank named in the path (a course code), for a trainer or admin."""
    if not service.valid_bank(bank):
        raise NotFound(_("No such bank."))
    return bank


BankCode = Annotated[str, Depends(bank_code)]


def bank_question(question_id: int, bank: BankCode, db: SessionDep) -> Question:
    """A question of the bank in the path."""
    return service.question_of_bank(db=db, bank=bank, question_id=question_id)


BankQuestion = Annotated[Question, Depends(bank_question)]


def trainer_exam(exam_id: int, db: SessionDep, user: Author) -> Exam:
    """An exam, for a trainer or admin."""
    return get_exam_or_404(db=db, exam_id=exam_id)


TrainerExam = Annotated[Exam, Depends(trainer_exam)]


async def read_limited(file: UploadFile | None, limit: int = MAX_IMPORT_BYTES) -> bytes | None:
    """An upload's bytes (None when no file was sent), refusing more than `limit`."""
    if file is None:
        return None
    data = await file.read(limit + 1)
    if len(data) > limit:
        message = _("The file is larger than {mb} MB.").format(mb=limit // (1024 * 1024))
        raise Invalid(message, code="file_too_large", errors=[{"loc": ["file"], "msg": message}])
    return data


# --- shapes -----------------------------------------------------------------------------------

class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OptionIn(_In):
    text: dict[str, str]
    right: bool = False
    weight: float | None = None


class QuestionIn(_In):
    external_id: str = ""
    category: str
    kind: str
    text: dict[str, str]
    options: list[OptionIn] = Field(default=[], max_length=service.MAX_OPTIONS)
    answer: bool | None = None  # true/false questions: whether the statement is true
    feedback: dict[str, str] = {}
    job_category: str | None = None
    difficulty: str | None = None


class QuestionPatch(PatchBody):
    nullable = frozenset({"external_id", "options", "answer", "job_category", "difficulty"})

    external_id: str | None = None
    category: str | None = None
    kind: str | None = None
    text: dict[str, str] | None = None
    options: list[OptionIn] | None = Field(default=None, max_length=service.MAX_OPTIONS)
    answer: bool | None = None
    feedback: dict[str, str] | None = None
    job_category: str | None = None
    difficulty: str | None = None


class OptionOut(BaseModel):
    index: int
    text: dict[str, str]
    weight: float
    right: bool


class QuestionOut(BaseModel):
    id: int
    bank: str
    external_id: str
    category: str
    kind: str
    text: dict[str, str]
    options: list[OptionOut]
    feedback: dict[str, str]
    image_key: str | None
    image_url: str | None
    job_category: str | None
    difficulty: str | None
    status: str
    created_at: datetime
    updated_at: datetime


class BankOut(BaseModel):
    bank: str
    title: dict[str, str]
    active: int
    retired: int
    categories: dict[str, dict[str, int]]


class ImportOut(BaseModel):
    created: int
    updated: int
    unchanged: int
    dry_run: bool


class RegradeIn(_In):
    right: list[DbInt] | None = None  # the right options' `index`; omitted: keep the key


class RegradedOut(BaseModel):
    attempt_id: int
    exam_id: int
    worker_id: int
    before: dict[str, Any]
    after: dict[str, Any]


class RegradeOut(BaseModel):
    question_id: int
    right: list[int]
    submitted: int
    in_progress: int
    skipped: int
    changed: list[RegradedOut]


class ItemOut(BaseModel):
    question_id: int
    external_id: str
    category: str
    kind: str
    text: dict[str, str]
    status: str
    takers: int
    right: int
    facility: float | None
    discrimination: float | None
    flags: list[str]


class StatisticsOut(BaseModel):
    attempts: int
    mean_score: float | None
    discrimination: str = "point_biserial_rest"
    items: list[ItemOut]


class BlueprintItem(_In):
    category: str
    count: DbInt


class ExamPatch(PatchBody):
    nullable = frozenset({"available_from", "available_until"})  # null clears the time

    title: dict[str, str] | None = None
    duration_minutes: DbInt | None = None
    pass_mark: DbInt | None = None
    max_attempts: DbInt | None = None
    requires_completion: bool | None = None
    blueprint: list[BlueprintItem] | None = Field(default=None, max_length=100)
    available_from: datetime | None = None
    available_until: datetime | None = None
    review_mode: str | None = None
    one_per_screen: bool | None = None


class ExamSettingsOut(BaseModel):
    id: int
    course_id: int
    bank: str
    title: dict[str, str]
    duration_minutes: int
    pass_mark: int
    max_attempts: int
    requires_completion: bool
    blueprint: list[dict[str, Any]]
    available_from: datetime | None
    available_until: datetime | None
    review_mode: str
    one_per_screen: bool
    available: dict[str, int]


class ExtraTimeIn(_In):
    minutes: DbInt
    reason: str = ""


class ExtraTimeOut(BaseModel):
    exam_id: int
    worker_id: int
    full_name: str
    id_number: str  # masked
    minutes: int
    reason: str


def question_out(question: Question) -> QuestionOut:
    """Everything a trainer edits on a question, with its key."""
    return QuestionOut(
        id=question.id, bank=question.bank, external_id=question.external_id,
        category=question.category, kind=question.kind, text=dict(question.text),
        options=[OptionOut(index=i, text=dict(o["text"]), weight=float(o["weight"]),
                           right=float(o["weight"]) > 0)
                 for i, o in enumerate(question.options)],
        feedback=dict(question.feedback or {}), image_key=question.image_key,
        image_url=media.url(question.image_key) if question.image_key else None,
        job_category=question.job_category, difficulty=question.difficulty,
        status=question.status, created_at=question.created_at,
        updated_at=question.updated_at)


def _input(body: QuestionIn) -> service.QuestionInput:
    weights = [o.weight for o in body.options]
    return service.QuestionInput(
        category=body.category, kind=body.kind, text=body.text,
        options=[o.text for o in body.options],
        right=([0] if body.answer else [1]) if body.kind == "true_false" and body.answer
        is not None else [i for i, o in enumerate(body.options) if o.right],
        weights=[float(w) for w in weights if w is not None]
        if weights and all(w is not None for w in weights) else None,
        feedback=body.feedback, job_category=body.job_category, difficulty=body.difficulty,
        external_id=body.external_id)


def _patched(question: Question, body: QuestionPatch) -> service.QuestionInput:
    current = service.input_of(question)
    given = body.model_dump(exclude_unset=True)
    merged = QuestionIn(
        external_id=given.get("external_id") or current.external_id,
        category=given.get("category", current.category),
        kind=given.get("kind", current.kind), text=given.get("text", current.text),
        options=body.options if body.options is not None else [
            OptionIn(text=texts, right=i in current.right,
                     weight=current.weights[i] if current.weights else None)
            for i, texts in enumerate(current.options)],
        answer=body.answer if body.answer is not None else (
            current.right == [0] if current.kind == "true_false" else None),
        feedback=given.get("feedback", current.feedback),
        job_category=given.get("job_category", current.job_category),
        difficulty=given.get("difficulty", current.difficulty))
    data = _input(merged)
    if body.options is None and merged.kind != current.kind:
        data.weights = None  # a new kind gets its own weights
    return data


def settings_out(db: SessionDep, exam: Exam) -> ExamSettingsOut:
    """An exam's settings, with the active questions per category of its bank."""
    return ExamSettingsOut(
        id=exam.id, course_id=exam.course_id, bank=exam.bank, title=dict(exam.title),
        duration_minutes=exam.duration_minutes, pass_mark=exam.pass_mark,
        max_attempts=exam.max_attempts, requires_completion=exam.requires_completion,
        blueprint=[dict(item) for item in exam.blueprint],
        available_from=exam.available_from, available_until=exam.available_until,
        review_mode=exam.review_mode, one_per_screen=exam.one_per_screen,
        available=service.available_counts(db=db, bank=exam.bank))


def statistics_out(result: stats.Statistics) -> StatisticsOut:
    """Item statistics as JSON (rounded to 4 places)."""
    def four(value: float | None) -> float | None:
        return None if value is None else round(value, 4)

    return StatisticsOut(attempts=result.attempts, mean_score=four(result.mean_score),
                         items=[ItemOut(**{**item.as_dict(), "facility": four(item.facility),
                                           "discrimination": four(item.discrimination)})
                                for item in result.items])


# --- banks and questions ------------------------------------------------------------------------

@router.get("/banks", response_model=list[BankOut])
def list_banks(db: SessionDep, user: Author) -> list[BankOut]:
    """Every bank (course code) with its active and retired questions per category."""
    return [BankOut(bank=b.bank, title=b.titles, active=b.active, retired=b.retired,
                    categories=b.categories) for b in service.list_banks(db=db)]


@router.get("/banks/{bank}/questions", response_model=Page[QuestionOut])
def list_questions(db: SessionDep, bank: BankCode, paging: PageDep, category: str = "",
                   status: str = "", job_category: str = "", difficulty: str = "",
                   kind: str = "", q: str = "") -> Page[QuestionOut]:
    """A bank's questions, filtered and paged."""
    items, total = service.list_questions(
        db=db, bank=bank, category=category, status=status, job_category=job_category,
        difficulty=difficulty, kind=kind, query=q, page=paging.page,
        page_size=paging.page_size)
    return Page(items=[question_out(item) for item in items], total=total)


@router.post("/banks/{bank}/questions", response_model=QuestionOut, status_code=201)
def create_question(request: Request, body: QuestionIn, db: SessionDep, bank: BankCode,
                    user: Author) -> QuestionOut:
    """Add a question (`options[].right`; true/false questions give `answer`)."""
    return question_out(service.create_question(db=db, bank=bank, data=_input(body), by=user,
                                                ip=client_ip(request)))


@router.get("/banks/{bank}/questions/{question_id}", response_model=QuestionOut)
def get_question(question: BankQuestion) -> QuestionOut:
    """A question with its key."""
    return question_out(question)


@router.patch("/banks/{bank}/questions/{question_id}", response_model=QuestionOut)
def update_question(request: Request, body: QuestionPatch, db: SessionDep,
                    question: BankQuestion, user: Author) -> QuestionOut:
    """Change the fields given (`options` replaces every option). Past attempts keep their
    copies; use .../regrade to apply a corrected key to them."""
    return question_out(service.update_question(db=db, question=question,
                                                data=_patched(question, body), by=user,
                                                ip=client_ip(request)))


@router.post("/banks/{bank}/questions/{question_id}/retire", response_model=QuestionOut)
def retire_question(request: Request, db: SessionDep, question: BankQuestion,
                    user: Author) -> QuestionOut:
    """Never draw this question again (attempts keep their copies)."""
    return question_out(service.set_status(db=db, question=question, by=user,
                                           status=QuestionStatus.RETIRED.value,
                                           ip=client_ip(request)))


@router.post("/banks/{bank}/questions/{question_id}/reactivate", response_model=QuestionOut)
def reactivate_question(request: Request, db: SessionDep, question: BankQuestion,
                        user: Author) -> QuestionOut:
    """Draw a retired question again."""
    return question_out(service.set_status(db=db, question=question, by=user,
                                           status=QuestionStatus.ACTIVE.value,
                                           ip=client_ip(request)))


@router.put("/banks/{bank}/questions/{question_id}/image", response_model=QuestionOut)
async def set_image(request: Request, db: SessionDep, question: BankQuestion, user: Author,
                    file: Annotated[UploadFile, File()]) -> QuestionOut:
    """The stem's image (PNG, JPEG, WebP or SVG, checked by its content)."""
    data = await read_limited(file, service.IMAGE_UPLOAD_LIMIT) or b""
    problems = service.Problems()
    if not data:
        problems.add(["image"], _("Choose a file to upload."))
    service.check_image(data, problems)
    problems.raise_if_any(problems.items[0]["msg"] if problems.items else None)
    return question_out(service.update_question(db=db, question=question,
                                                data=service.input_of(question), image=data,
                                                by=user, ip=client_ip(request)))


@router.delete("/banks/{bank}/questions/{question_id}/image", response_model=QuestionOut)
def remove_image(request: Request, db: SessionDep, question: BankQuestion,
                 user: Author) -> QuestionOut:
    """Take the image off the stem."""
    return question_out(service.update_question(db=db, question=question,
                                                data=service.input_of(question),
                                                remove_image=True, by=user,
                                                ip=client_ip(request)))


def regrade_out(question: Question, result: service.RegradeResult) -> RegradeOut:
    """What a regrade did."""
    return RegradeOut(question_id=question.id, right=service.right_indexes(question),
                      submitted=result.submitted, in_progress=result.in_progress,
                      skipped=result.skipped,
                      changed=[RegradedOut(attempt_id=c.attempt_id, exam_id=c.exam_id,
                                           worker_id=c.worker_id, before=c.before,
                                           after=c.after) for c in result.changes])


@router.post("/banks/{bank}/questions/{question_id}/regrade", response_model=RegradeOut)
def regrade(request: Request, body: RegradeIn, db: SessionDep, question: BankQuestion,
            user: Author) -> RegradeOut:
    """Correct the key (`right`: the right options' indexes) and regrade every submitted
    attempt that drew the question; each changed score is audited (attempt.regraded)."""
    if body.right is not None:
        service.correct_key(db=db, question=question, right=body.right, by=user,
                            ip=client_ip(request))
    result = service.regrade_question(db=db, question=question, by=user, ip=client_ip(request))
    return regrade_out(question, result)


# --- import and export ------------------------------------------------------------------------

@router.post("/banks/{bank}/import", response_model=ImportOut, dependencies=[ReadOnlyRequest])
async def import_questions(request: Request, db: SessionDep, bank: BankCode, user: Author,
                           file: Annotated[UploadFile, File()],
                           file_zh_CN: Annotated[UploadFile | None, File()] = None,  # noqa: N803
                           dry_run: bool = False) -> ImportOut:
    """Import a GIFT file (with an optional Chinese translation, `file_zh_CN`) or an .xlsx /
    CSV file (columns in docs/question-bank.md), all or nothing, upserting by id. 422 lists
    every problem (file and line, or row and column); `?dry_run=true` checks and counts
    without writing."""
    data = await read_limited(file) or b""
    zh_data = await read_limited(file_zh_CN) if file_zh_CN is not None and \
        file_zh_CN.filename else None
    # Parsed in a worker thread after the read transaction ends (a big spreadsheet takes
    # seconds: not on the event loop, not holding SQLite's write lock), then one short write.
    if db.in_transaction():
        await run_in_threadpool(db.commit)
    items = await run_in_threadpool(
        service.parse_upload, data=data, filename=file.filename or "upload",
        zh_data=zh_data or None,
        zh_filename=(file_zh_CN.filename or "") if file_zh_CN else "")

    def write() -> service.ImportResult:
        if not dry_run:
            begin_write(db)
        return service.import_questions(db=db, bank=bank, items=items, dry_run=dry_run,
                                        by=user, source=file.filename or "",
                                        ip=client_ip(request))

    result = await run_in_threadpool(write)
    return ImportOut(**result.as_dict(), dry_run=dry_run)


@router.get("/banks/{bank}/export", response_class=PlainTextResponse)
def export_gift(db: SessionDep, bank: BankCode,
                locale: Annotated[str, Query(pattern="^(en|zh_CN)$")] = "en",
                status: str = "") -> Response:
    """The bank as GIFT in one language (importable again; `status=active` leaves out retired
    questions)."""
    questions = service.list_questions(db=db, bank=bank, status=status, page_size=1_000_000)[0]
    suffix = "" if locale == "en" else f".{locale}"
    return Response(service.export_gift(questions, locale), media_type="text/plain; charset=utf-8",
                    headers={"Content-Disposition":
                             f'attachment; filename="{bank}{suffix}.gift"'})


@router.get("/banks/{bank}/statistics", response_model=StatisticsOut, name="api_bank_statistics")
def bank_statistics(db: SessionDep, bank: BankCode) -> StatisticsOut:
    """Facility and discrimination of every question of the bank that was drawn, over the
    submitted attempts of every exam of the bank, hardest first."""
    return statistics_out(stats.statistics(db=db, bank=bank))


# --- exams --------------------------------------------------------------------------------

@router.get("/exams/{exam_id}/settings", response_model=ExamSettingsOut, name="api_exam_settings")
def exam_settings(db: SessionDep, exam: TrainerExam) -> ExamSettingsOut:
    """An exam's settings and the active questions per category of its bank."""
    return settings_out(db, exam)


@router.patch("/exams/{exam_id}", response_model=ExamSettingsOut)
def update_exam(request: Request, body: ExamPatch, db: SessionDep, exam: TrainerExam,
                user: Author) -> ExamSettingsOut:
    """Change the fields given; the blueprint may not ask more of a category than its active
    questions. Times without a zone are Beijing time; null clears a time."""
    settings = service.settings_of(exam)
    given = body.model_dump(exclude_unset=True)
    for name, value in given.items():
        if name in ("available_from", "available_until") and value is not None \
                and value.tzinfo is None:
            value = value.replace(tzinfo=LOCAL_TZ)
        setattr(settings, name, value)
    service.update_exam(db=db, exam=exam, settings=settings, by=user, ip=client_ip(request))
    return settings_out(db, exam)


@router.get("/exams/{exam_id}/extra-time", response_model=list[ExtraTimeOut])
def list_extra_time(db: SessionDep, exam: TrainerExam) -> list[ExtraTimeOut]:
    """The workers granted extra time on the exam."""
    return [ExtraTimeOut(exam_id=exam.id, worker_id=w.id, full_name=w.full_name,
                         id_number=mask_id_number(w.id_number), minutes=g.minutes,
                         reason=g.reason) for g, w in service.extra_times(db=db, exam=exam)]


@router.put("/exams/{exam_id}/extra-time/{worker_id}", response_model=ExtraTimeOut)
def set_extra_time(request: Request, worker_id: int, body: ExtraTimeIn, db: SessionDep,
                   exam: TrainerExam, user: Author) -> ExtraTimeOut:
    """Grant a worker extra minutes (0 withdraws them) with a reason; audited. Attempts
    started afterwards get them on top of the duration."""
    worker = organisations.get_worker_or_404(db=db, worker_id=worker_id)
    grant = service.set_extra_time(db=db, exam=exam, worker=worker, minutes=body.minutes,
                                   reason=body.reason, by=user, ip=client_ip(request))
    return ExtraTimeOut(exam_id=exam.id, worker_id=worker.id, full_name=worker.full_name,
                        id_number=mask_id_number(worker.id_number),
                        minutes=grant.minutes if grant else 0,
                        reason=grant.reason if grant else "")


@router.get("/exams/{exam_id}/statistics", response_model=StatisticsOut, name="api_exam_statistics")
def exam_statistics(db: SessionDep, exam: TrainerExam) -> StatisticsOut:
    """Facility and discrimination of the exam's questions over its submitted attempts."""
    return statistics_out(stats.statistics(db=db, exam_id=exam.id))

