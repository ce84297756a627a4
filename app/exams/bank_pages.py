"""HTML routes of the trainer's side of exams (trainers and admins): question banks, question
forms, preview, retire, import with a checked preview, export, exam settings, extra time,
regrading after a key was corrected, and item statistics.

Plain forms throughout, so every action works without JavaScript; a bad form is shown again
with 400 and a message beside each field, and nothing is written.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy import select
from starlette.datastructures import FormData, UploadFile

from app import media
from app.accounts.api import client_ip
from app.accounts.deps import page_guard
from app.courses.authoring_api import Author
from app.courses.markdown import render as render_markdown
from app.courses.models import Course
from app.courses.pages import course_context
from app.courses.service import get_course_or_404
from app.db import ReadOnlyRequest, SessionDep, begin_write
from app.errors import Conflict, Invalid, NotFound
from app.exams import bank as service
from app.exams import service as exams
from app.exams import statistics as stats
from app.exams.bank_api import MAX_IMPORT_BYTES, BankCode, BankQuestion, TrainerExam
from app.exams.models import Exam, Question, QuestionKind, QuestionStatus
from app.exams.schemas import option_text
from app.i18n import get_locale, localized, set_locale
from app.i18n import gettext as _
from app.organisations import reference
from app.organisations import service as organisations
from app.organisations.models import Enterprise
from app.organisations.validators import mask_id_number
from app.pagination import PageDep
from app.web import FormDep, flash, markup, redirect, render
from app.web import form_text as _text

router = APIRouter(dependencies=[Depends(page_guard)], include_in_schema=False)

FORM_OPTION_ROWS = 6
DOC_PATH = Path(__file__).resolve().parents[2] / "docs" / "question-bank.md"


# --- helpers ----------------------------------------------------------------------------------

def _int(text: str, invalid: int = -1) -> int:
    try:
        return int(text.strip())
    except ValueError:
        return invalid


def _float(text: str) -> float:
    try:
        value = float(text.strip())
    except ValueError:
        return math.nan
    return value


def _file(form: FormData, name: str, limit: int) -> tuple[bytes | None, str]:
    """An uploaded file, read no further than its limit plus one byte; None when no file was
    chosen."""
    item = form.get(name)
    if not isinstance(item, UploadFile) or not item.filename:
        return None, ""
    data = item.file.read(limit + 1)
    return (data or None), item.filename or ""


def _context() -> dict[str, Any]:
    locale = get_locale()
    return {**course_context(), "t": lambda value: localized(value, locale),
            "kind_labels_q": service.KIND_LABELS, "difficulty_labels": service.DIFFICULTY_LABELS,
            "status_labels": service.STATUS_LABELS, "review_labels": service.REVIEW_LABELS,
            "job_category_list": reference.job_categories(), "flag_labels": stats.FLAG_LABELS,
            "kinds": service.KINDS, "difficulties": service.DIFFICULTIES,
            "media_url": media.url, "right_indexes": service.right_indexes}


def _bank_url(request: Request, bank: str) -> str:
    return request.url_for("bank_detail", bank=bank).path


def _question_url(request: Request, question: Question) -> str:
    return request.url_for("bank_question", bank=question.bank, question_id=question.id).path


# --- banks ------------------------------------------------------------------------------------

@router.get("/bank", name="bank_home")
def bank_home(request: Request, db: SessionDep, user: Author, code: str = "") -> Response:
    """Every bank (course code) with its questions per category; open one by its code."""
    if code.strip():
        wanted = code.strip().upper()
        if service.valid_bank(wanted):
            return redirect(_bank_url(request, wanted))
    return render(request, "exams/bank/index.html", {
        **_context(), "banks": service.list_banks(db=db), "code": code,
        "code_error": _("A bank is named by a course code: capital letters, digits and "
                        "hyphens.") if code.strip() else None})


@router.get("/bank/{bank}", name="bank_detail")
def bank_detail(request: Request, db: SessionDep, bank: BankCode, paging: PageDep, q: str = "",
                category: str = "", status: str = "", job_category: str = "",
                difficulty: str = "", kind: str = "") -> Response:
    """A bank's questions (search, filters, pages) and the exams that draw from it."""
    items, total = service.list_questions(
        db=db, bank=bank, category=category, status=status, job_category=job_category,
        difficulty=difficulty, kind=kind, query=q, page=paging.page, page_size=paging.page_size)
    params = {"q": q, "category": category, "status": status, "job_category": job_category,
              "difficulty": difficulty, "kind": kind}
    return render(request, "exams/bank/bank.html", {
        **_context(), "bank": bank, "items": items, "total": total, "paging": paging,
        "params": params, "categories": service.bank_categories(db=db, bank=bank),
        "available": service.available_counts(db=db, bank=bank),
        "courses": service.courses_of_bank(db=db, bank=bank)})


# --- question form ----------------------------------------------------------------------------

def _question_values(question: Question) -> dict[str, Any]:
    values: dict[str, Any] = {"external_id": question.external_id,
                              "category": question.category, "kind": question.kind,
                              "job_category": question.job_category or "",
                              "difficulty": question.difficulty or ""}
    for locale in service.LOCALES:
        values[f"text_{locale}"] = question.text.get(locale, "")
        values[f"feedback_{locale}"] = (question.feedback or {}).get(locale, "")
    right = service.right_indexes(question)
    if question.kind == QuestionKind.TRUE_FALSE.value:
        values["tf_answer"] = "true" if right == [0] else "false"
        return values
    weights = [float(o["weight"]) for o in question.options]
    # Weights are shown only when they are not the computed ones (so ticking other options
    # recomputes them).
    custom = question.kind == QuestionKind.MULTIPLE.value and \
        weights != service.even_weights(len(weights), right)
    for index, option in enumerate(question.options):
        for locale in service.LOCALES:
            values[f"option_{index}_{locale}"] = option["text"].get(locale, "")
        values[f"right_{index}"] = index in right
        if custom:
            values[f"weight_{index}"] = f"{weights[index]:g}"
    return values


def _form_values(form: FormData, rows: int) -> dict[str, Any]:
    values: dict[str, Any] = {key: _text(form, key) for key in form
                              if key not in ("csrf_token", "image")}
    for index in range(rows):
        values[f"right_{index}"] = _text(form, f"right_{index}") == "on"
    return values


def _rows_in(form: FormData) -> int:
    return min(max(_int(_text(form, "rows"), FORM_OPTION_ROWS), FORM_OPTION_ROWS),
               service.MAX_OPTIONS)


def _posted_question(form: FormData) -> tuple[service.QuestionInput, list[int]]:
    """The question in the form, and the form row of each option kept (empty rows dropped)."""
    kind = _text(form, "kind")
    kept: list[int] = []
    options: list[dict[str, str]] = []
    right: list[int] = []
    weights: list[float] = []
    for row in range(_rows_in(form)):
        texts = {locale: _text(form, f"option_{row}_{locale}") for locale in service.LOCALES}
        if not any(t.strip() for t in texts.values()):
            continue
        if _text(form, f"right_{row}") == "on":
            right.append(len(options))
        weight = _text(form, f"weight_{row}").strip()
        if weight:
            weights.append(_float(weight))
        kept.append(row)
        options.append(texts)
    if kind == QuestionKind.TRUE_FALSE.value:
        answer = _text(form, "tf_answer")
        right = [0] if answer == "true" else [1] if answer == "false" else []
    data = service.QuestionInput(
        category=_text(form, "category"), kind=kind,
        text={locale: _text(form, f"text_{locale}") for locale in service.LOCALES},
        options=options, right=right,
        weights=weights if kind == QuestionKind.MULTIPLE.value and weights else None,
        feedback={locale: _text(form, f"feedback_{locale}") for locale in service.LOCALES},
        job_category=_text(form, "job_category"), difficulty=_text(form, "difficulty"),
        external_id=_text(form, "external_id"))
    return data, kept


def _keyed(errors: list[dict[str, Any]], kept: list[int]) -> dict[str, str]:
    """Service errors keyed like the form's fields."""
    result: dict[str, str] = {}
    for error in errors:
        loc = list(error.get("loc", []))
        head = str(loc[0]) if loc else "__all__"
        if head == "options" and len(loc) > 1 and isinstance(loc[1], int):
            row = kept[loc[1]] if loc[1] < len(kept) else loc[1]
            key = f"option_{row}_{loc[3] if len(loc) > 3 else 'en'}"
        elif head in ("text", "feedback") and len(loc) > 1:
            key = f"{head}_{loc[1]}"
        else:
            key = head
        result.setdefault(key, str(error.get("msg", "")))
    if "right" in result and "tf_answer" not in result:
        result["tf_answer"] = result["right"]
    return result


def _question_form(request: Request, db: SessionDep, bank: str, *,
                   question: Question | None = None, values: dict[str, Any] | None = None,
                   errors: dict[str, str] | None = None, status_code: int = 200) -> Response:
    if values is None:
        values = _question_values(question) if question else {
            "kind": QuestionKind.SINGLE.value}
    used = sum(1 for key in values if key.startswith("option_") and key.endswith("_en")
               and values[key])
    rows = min(max(FORM_OPTION_ROWS, used), service.MAX_OPTIONS)
    return render(request, "exams/bank/question_form.html", {
        **_context(), "bank": bank, "question": question, "values": values,
        "errors": errors or {}, "rows": rows,
        "categories": service.bank_categories(db=db, bank=bank),
        "image_limit_mb": service.IMAGE_UPLOAD_LIMIT // (1024 * 1024)},
        status_code=status_code)


@router.get("/bank/{bank}/questions/new", name="bank_question_new")
def question_new(request: Request, db: SessionDep, bank: BankCode,
                 category: str = "") -> Response:
    """The form for a new question."""
    return _question_form(request, db, bank, values={"kind": QuestionKind.SINGLE.value,
                                                     "category": category})


@router.post("/bank/{bank}/questions", name="bank_question_create")
def question_create(request: Request, db: SessionDep, bank: BankCode, user: Author,
                    form: FormDep) -> Response:
    """Add a question from the form (with an optional stem image)."""
    data, kept = _posted_question(form)
    image, _name = _file(form, "image", service.IMAGE_UPLOAD_LIMIT)
    try:
        question = service.create_question(db=db, bank=bank, data=data, image=image, by=user,
                                           ip=client_ip(request))
    except Invalid as exc:
        return _question_form(request, db, bank, values=_form_values(form, _rows_in(form)),
                              errors=_keyed(exc.errors, kept), status_code=400)
    flash(request, _("Question {id} added.").format(id=question.external_id))
    return redirect(_question_url(request, question))


@router.get("/bank/{bank}/questions/{question_id}", name="bank_question")
def question_edit(request: Request, db: SessionDep, bank: BankCode,
                  question: BankQuestion) -> Response:
    """Edit a question."""
    return _question_form(request, db, bank, question=question)


@router.post("/bank/{bank}/questions/{question_id}", name="bank_question_update")
def question_update(request: Request, db: SessionDep, bank: BankCode, question: BankQuestion,
                    user: Author, form: FormDep) -> Response:
    """Save a question; past attempts keep the copy they drew."""
    data, kept = _posted_question(form)
    image, _name = _file(form, "image", service.IMAGE_UPLOAD_LIMIT)
    try:
        service.update_question(db=db, question=question, data=data, image=image,
                                remove_image=_text(form, "remove_image") == "on", by=user,
                                ip=client_ip(request))
    except Invalid as exc:
        return _question_form(request, db, bank, question=question,
                              values=_form_values(form, _rows_in(form)),
                              errors=_keyed(exc.errors, kept), status_code=400)
    flash(request, _("Question {id} saved. Attempts already drawn keep their copy; if the key "
                     "was wrong, regrade them.").format(id=question.external_id))
    return redirect(_question_url(request, question))


@router.post("/bank/{bank}/questions/{question_id}/status", name="bank_question_status")
def question_status(request: Request, db: SessionDep, question: BankQuestion, user: Author,
                    form: FormDep) -> Response:
    """Retire a question (never drawn again) or make it active again."""
    retire = _text(form, "action") == "retire"
    service.set_status(db=db, question=question, by=user, ip=client_ip(request),
                       status=QuestionStatus.RETIRED.value if retire
                       else QuestionStatus.ACTIVE.value)
    flash(request, (_("Question {id} retired: it is no longer drawn. Past attempts keep "
                      "their copy.") if retire else
                    _("Question {id} is active again.")).format(id=question.external_id))
    return redirect(_question_url(request, question))


@router.get("/bank/{bank}/questions/{question_id}/preview", name="bank_question_preview")
def question_preview(request: Request, question: BankQuestion, locale: str = "") -> Response:
    """The question as a taker sees it (without the key)."""
    shown = locale if locale in service.LOCALES else get_locale()
    item = {"kind": question.kind}
    previous = get_locale()
    set_locale(shown)  # True and False in the language shown
    try:
        options = [{"index": index, "text": option_text(
            item, {"index": index, "text": o["text"]}, shown)}
            for index, o in enumerate(question.options)]
    finally:
        set_locale(previous)
    return render(request, "exams/bank/preview.html", {
        **_context(), "bank": question.bank, "question": question, "shown": shown,
        "stem": localized(question.text, shown), "options": options,
        "image_url": media.url(question.image_key) if question.image_key else None})


# --- regrading --------------------------------------------------------------------------------

def _regrade_page(request: Request, db: SessionDep, question: Question, *,
                  errors: dict[str, str] | None = None, status_code: int = 200) -> Response:
    attempts = service.affected_attempts(db=db, question=question)
    submitted = sum(1 for a in attempts if a.status == "submitted")
    return render(request, "exams/bank/regrade.html", {
        **_context(), "bank": question.bank, "question": question,
        "right": service.right_indexes(question), "submitted": submitted,
        "in_progress": len(attempts) - submitted, "errors": errors or {}},
        status_code=status_code)


@router.get("/bank/{bank}/questions/{question_id}/regrade", name="bank_question_regrade")
def regrade_form(request: Request, db: SessionDep, question: BankQuestion) -> Response:
    """Correct a wrong key and regrade the attempts that drew the question."""
    return _regrade_page(request, db, question)


@router.post("/bank/{bank}/questions/{question_id}/regrade", name="bank_question_regrade_post")
def regrade_post(request: Request, db: SessionDep, question: BankQuestion, user: Author,
                 form: FormDep) -> Response:
    """Set the right options, then regrade every attempt that drew the question."""
    right = [_int(v) for v in form.getlist("right") if isinstance(v, str)]
    if right != service.right_indexes(question):
        try:
            service.correct_key(db=db, question=question, right=right, by=user,
                                ip=client_ip(request))
        except Invalid as exc:
            return _regrade_page(request, db, question, status_code=400,
                                 errors={"right": str(exc.errors[0]["msg"]) if exc.errors
                                         else exc.message})
    result = service.regrade_question(db=db, question=question, by=user, ip=client_ip(request))
    flash(request, _("Regraded: {submitted} submitted attempts checked, {changed} scores "
                     "changed, {open} open attempts corrected before grading.").format(
        submitted=result.submitted, changed=len(result.changes), open=result.in_progress))
    if result.skipped:
        flash(request, _("{n} attempts drew an earlier version of the question with another "
                         "number of options and were left as they were.").format(
            n=result.skipped), "info")
    return redirect(request.url_for("bank_question_regrade", bank=question.bank,
                                    question_id=question.id).path)


# --- import and export ------------------------------------------------------------------------

def _import_page(request: Request, bank: str, *, status_code: int = 200,
                 **extra: Any) -> Response:
    return render(request, "exams/bank/import.html", {
        **_context(), "bank": bank, "columns": service.SHEET_COLUMNS,
        "option_rows": service.SHEET_OPTIONS, **extra}, status_code=status_code)


@router.get("/bank/{bank}/import", name="bank_import")
def import_form(request: Request, bank: BankCode) -> Response:
    """Upload a GIFT file (and its translation) or a spreadsheet; a preview comes first."""
    return _import_page(request, bank)


# The import steps parse the files outside any transaction (this is a worker thread): the
# lookups run in a read transaction, and only the confirmed import takes the write lock.
_imports = APIRouter(dependencies=[ReadOnlyRequest, Depends(page_guard)], include_in_schema=False)


@_imports.post("/bank/{bank}/import", name="bank_import_check")
def import_check(request: Request, db: SessionDep, bank: BankCode, user: Author,
                 form: FormDep) -> Response:
    """Check the file(s) and show what would change, or every problem; nothing is imported
    yet (a read: the pending files are kept on disk)."""
    db.commit()
    data, filename = _file(form, "file", MAX_IMPORT_BYTES)
    zh_data, zh_filename = _file(form, "file_zh_CN", MAX_IMPORT_BYTES)
    too_big = _("The file is larger than {mb} MB.").format(mb=MAX_IMPORT_BYTES // (1024 * 1024))
    if not data:
        return _import_page(request, bank, status_code=422,
                            problem=_("Choose a file to upload."))
    if len(data) > MAX_IMPORT_BYTES or (zh_data and len(zh_data) > MAX_IMPORT_BYTES):
        return _import_page(request, bank, status_code=422, problem=too_big)
    try:
        items = service.parse_upload(data=data, filename=filename, zh_data=zh_data,
                                     zh_filename=zh_filename)
        result = service.import_questions(db=db, bank=bank, items=items, dry_run=True, by=user)
    except Invalid as exc:
        return _import_page(request, bank, status_code=422, problem=exc.message,
                            errors=exc.errors)
    token = service.store_pending(bank=bank, by=user, filename=filename, data=data,
                                  zh_filename=zh_filename, zh_data=zh_data)
    return render(request, "exams/bank/import_preview.html", {
        **_context(), "bank": bank, "result": result, "token": token, "filename": filename,
        "zh_filename": zh_filename, "preview": result.items[:50]})


@_imports.post("/bank/{bank}/import/{token}", name="bank_import_confirm")
def import_confirm(request: Request, db: SessionDep, bank: BankCode, user: Author, token: str,
                   form: FormDep) -> Response:
    """Import the previewed file (checked again: the bank may have changed meanwhile)."""
    db.commit()
    upload = service.load_pending(token=token, bank=bank, by=user)
    if _text(form, "action") == "cancel":
        service.discard_pending(token)
        flash(request, _("Import cancelled; nothing changed."), "info")
        return redirect(_bank_url(request, bank))
    try:
        items = service.parse_upload(data=upload.data, filename=upload.filename,
                                     zh_data=upload.zh_data, zh_filename=upload.zh_filename)
        begin_write(db)
        result = service.import_questions(db=db, bank=bank, items=items, dry_run=False, by=user,
                                          source=upload.filename, ip=client_ip(request))
    except Invalid as exc:
        return _import_page(request, bank, status_code=422, problem=exc.message,
                            errors=exc.errors)
    service.discard_pending(token)
    flash(request, _("Questions imported: {created} added, {updated} updated, {unchanged} "
                     "unchanged.").format(**result.as_dict()))
    return redirect(_bank_url(request, bank))


@router.get("/bank/{bank}/export.gift", name="bank_export")
def export(db: SessionDep, bank: BankCode, locale: str = "en", status: str = "") -> Response:
    """The bank as GIFT in one language."""
    if locale not in service.LOCALES:
        raise NotFound(_("There is no such language."))
    questions = service.list_questions(db=db, bank=bank, status=status, page_size=1_000_000)[0]
    suffix = "" if locale == "en" else f".{locale}"
    return Response(service.export_gift(questions, locale),
                    media_type="text/plain; charset=utf-8",
                    headers={"Content-Disposition":
                             f'attachment; filename="{bank}{suffix}.gift"'})


@router.get("/help/question-bank", name="bank_help")
def bank_help(request: Request, user: Author) -> Response:
    """docs/question-bank.md: the import columns and the GIFT subset."""
    try:
        text = DOC_PATH.read_text(encoding="utf-8")
    except OSError:
        raise NotFound(_("The help page is not installed.")) from None
    return render(request, "exams/bank/help.html", {"html": markup(render_markdown(text))})


# --- statistics -------------------------------------------------------------------------------

@router.get("/bank/{bank}/statistics", name="bank_statistics")
def bank_statistics(request: Request, db: SessionDep, bank: BankCode) -> Response:
    """Facility and discrimination of the bank's questions, hardest first."""
    return render(request, "exams/bank/statistics.html", {
        **_context(), "bank": bank, "exam": None,
        "result": stats.statistics(db=db, bank=bank),
        "hard_below": stats.HARD_BELOW, "low_below": stats.LOW_DISCRIMINATION_BELOW})


@router.get("/exams/{exam_id}/statistics", name="exam_statistics")
def exam_statistics(request: Request, db: SessionDep, exam: TrainerExam) -> Response:
    """Facility and discrimination of one exam's questions, hardest first."""
    return render(request, "exams/bank/statistics.html", {
        **_context(), "bank": exam.bank, "exam": exam,
        "result": stats.statistics(db=db, exam_id=exam.id),
        "hard_below": stats.HARD_BELOW, "low_below": stats.LOW_DISCRIMINATION_BELOW})


# --- exam settings ----------------------------------------------------------------------------

def _settings_values(settings: service.ExamSettings) -> dict[str, Any]:
    values: dict[str, Any] = {
        "duration_minutes": settings.duration_minutes, "pass_mark": settings.pass_mark,
        "max_attempts": settings.max_attempts,
        "requires_completion": settings.requires_completion,
        "one_per_screen": settings.one_per_screen, "review_mode": settings.review_mode,
        "available_from": service.local_input(settings.available_from),
        "available_until": service.local_input(settings.available_until)}
    for locale in service.LOCALES:
        values[f"title_{locale}"] = settings.title.get(locale, "")
    return values


def _blueprint_rows(db: SessionDep, bank: str,
                    counts: dict[str, Any]) -> list[dict[str, Any]]:
    available = service.available_counts(db=db, bank=bank)
    names = sorted(set(available) | set(counts))
    return [{"category": name, "count": counts.get(name, 0),
             "available": available.get(name, 0)} for name in names]


def _posted_settings(form: FormData) -> tuple[service.ExamSettings, dict[str, str],
                                              dict[str, Any]]:
    errors: dict[str, str] = {}
    times = {}
    for name in ("available_from", "available_until"):
        parsed = service.parse_local_datetime(_text(form, name))
        if parsed is False:
            errors[name] = _("Enter a date and time such as 2026-05-01 09:00.")
            parsed = None
        times[name] = parsed
    blueprint = []
    counts: dict[str, Any] = {}
    for row in range(min(_int(_text(form, "bp_rows"), 0), 200)):
        category = _text(form, f"bp_{row}_category")
        raw = _text(form, f"bp_{row}_count").strip()
        count = _int(raw) if raw else 0
        counts[category] = raw
        blueprint.append({"category": category, "count": count})
    settings = service.ExamSettings(
        title={locale: _text(form, f"title_{locale}") for locale in service.LOCALES},
        duration_minutes=_int(_text(form, "duration_minutes")),
        pass_mark=_int(_text(form, "pass_mark")),
        max_attempts=_int(_text(form, "max_attempts")),
        requires_completion=_text(form, "requires_completion") == "on",
        blueprint=blueprint, available_from=times["available_from"],  # type: ignore[arg-type]
        available_until=times["available_until"],  # type: ignore[arg-type]
        review_mode=_text(form, "review_mode"),
        one_per_screen=_text(form, "one_per_screen") == "on")
    return settings, errors, counts


def _settings_errors(errors: list[dict[str, Any]],
                     blueprint: list[dict[str, Any]]) -> dict[str, str]:
    """Service errors keyed like the form's fields (blueprint rows by their category)."""
    result: dict[str, str] = {}
    for error in errors:
        loc = list(error.get("loc", []))
        head = str(loc[0]) if loc else "__all__"
        if head == "title" and len(loc) > 1:
            key = f"title_{loc[1]}"
        elif head == "blueprint" and len(loc) > 1 and isinstance(loc[1], int) \
                and loc[1] < len(blueprint):
            key = f"bp:{blueprint[loc[1]]['category']}"
        else:
            key = head
        result.setdefault(key, str(error.get("msg", "")))
    return result


def _settings_page(request: Request, db: SessionDep, *, bank: str, course: Course,
                   exam: Exam | None, values: dict[str, Any], counts: dict[str, Any],
                   errors: dict[str, str] | None = None, status_code: int = 200) -> Response:
    return render(request, "exams/bank/exam_settings.html", {
        **_context(), "bank": bank, "course": course, "exam": exam, "values": values,
        "rows": _blueprint_rows(db, bank, counts), "errors": errors or {}},
        status_code=status_code)


def _course_of_bank(db: SessionDep, bank: str, course_id: int) -> Course:
    course = get_course_or_404(db=db, course_id=course_id)
    if course.code != bank:
        raise NotFound(_("No such course version in this bank."))
    return course


@router.get("/exams/{exam_id}/settings", name="exam_settings")
def exam_settings(request: Request, db: SessionDep, exam: TrainerExam) -> Response:
    """Edit an exam: duration, pass mark, attempts, blueprint, window, review."""
    settings = service.settings_of(exam)
    course = get_course_or_404(db=db, course_id=exam.course_id)
    return _settings_page(request, db, bank=exam.bank, course=course, exam=exam,
                          values=_settings_values(settings),
                          counts={b["category"]: b["count"] for b in settings.blueprint})


@router.post("/exams/{exam_id}/settings", name="exam_settings_post")
def exam_settings_post(request: Request, db: SessionDep, exam: TrainerExam, user: Author,
                       form: FormDep) -> Response:
    """Save an exam's settings."""
    settings, errors, counts = _posted_settings(form)
    course = get_course_or_404(db=db, course_id=exam.course_id)
    values: dict[str, Any] = {key: _text(form, key) for key in form if key != "csrf_token"}
    values["requires_completion"] = settings.requires_completion
    values["one_per_screen"] = settings.one_per_screen
    if not errors:
        try:
            service.update_exam(db=db, exam=exam, settings=settings, by=user,
                                ip=client_ip(request))
        except Invalid as exc:
            errors = _settings_errors(exc.errors, settings.blueprint)
    if errors:
        return _settings_page(request, db, bank=exam.bank, course=course, exam=exam,
                              values=values, counts=counts, errors=errors, status_code=400)
    flash(request, _("Exam settings saved. Attempts already started keep their questions and "
                     "deadline."))
    return redirect(request.url_for("exam_settings", exam_id=exam.id).path)


# --- preview of a whole paper -----------------------------------------------------------------

PREVIEW_SEED_MAX = 2**31 - 1


def _blueprint_problems(db: SessionDep, exam: Exam) -> list[str]:
    """Why no paper can be drawn: each category short of questions, or a blueprint that draws
    nothing (the same checks as publishing)."""
    available = service.available_counts(db=db, bank=exam.bank)
    problems = [_("Category {category} has {have} active questions; the blueprint draws "
                  "{need}.").format(category=item["category"],
                                    have=available.get(item["category"], 0),
                                    need=int(item["count"]))
                for item in exam.blueprint
                if int(item["count"]) > available.get(item["category"], 0)]
    if exams.question_count(exam) < 1:
        problems.append(_("The blueprint draws no questions: choose how many questions to "
                          "draw from each category."))
    return problems


def _preview_items(paper: list[dict[str, Any]], shown: str) -> list[dict[str, Any]]:
    """The drawn paper as the taker's page lists it (texts in the language shown), with the key
    and feedback the trainer may reveal."""
    previous = get_locale()
    set_locale(shown)  # True and False in the language shown
    try:
        return [{
            "number": number, "id": item["question_id"], "kind": item["kind"],
            "category": item["category"], "text": localized(item["text"], shown),
            "image_url": media.url(item["image_key"]) if item.get("image_key") else None,
            "feedback": localized(item.get("feedback"), shown),
            "options": [{"id": option["id"], "text": option_text(item, option, shown),
                         "key": option["right"]} for option in item["options"]],
            "chosen": set(), "answered": False}
            for number, item in enumerate(paper, start=1)]
    finally:
        set_locale(previous)


@router.get("/exams/{exam_id}/preview", name="exam_preview")
def exam_preview(request: Request, db: SessionDep, exam: TrainerExam,
                 seed: Annotated[int | None, Query(ge=0, le=PREVIEW_SEED_MAX)] = None,
                 q: int = 1, go: str = "", key: bool = False, locale: str = "") -> Response:
    """A whole paper drawn as for an attempt and shown like the taker's exam page; nothing is
    stored. The seed in the links keeps the same paper while moving between questions,
    switching language or showing the key; "Draw another paper" drops it."""
    shown = locale if locale in service.LOCALES else get_locale()
    seed = exams.preview_seed() if seed is None else seed
    course = get_course_or_404(db=db, course_id=exam.course_id)
    base = request.url_for("exam_preview", exam_id=exam.id).path

    def url(**params: Any) -> str:
        return f"{base}?{urlencode({k: v for k, v in params.items() if v is not None})}"

    on = 1 if key else None
    urls = {"base": base, "another": url(locale=shown, key=on),
            "toggle": url(seed=seed, locale=shown, key=None if key else 1),
            "locales": {code: url(seed=seed, locale=code, key=on) for code in service.LOCALES}}
    context: dict[str, Any] = {
        **_context(), "bank": exam.bank, "exam": exam, "course": course, "seed": seed,
        "key": key, "shown": shown, "minutes": exam.duration_minutes, "urls": urls}
    problems = _blueprint_problems(db, exam)
    paper: list[dict[str, Any]] = []
    if not problems:
        try:
            paper = exams.draw_preview(db=db, exam=exam, seed=seed)
        except Conflict as exc:  # the bank changed between the count and the draw
            problems = [exc.message]
    if problems:
        return render(request, "exams/preview_paper.html",
                      {**context, "problems": problems, "items": [], "shown_items": [],
                       "total": 0, "current": None})
    items = _preview_items(paper, shown)
    current = None
    if exam.one_per_screen:
        # The navigation buttons are the taker's (name="go": a number, "prev" or "next").
        if go.isascii() and go.isdigit() and len(go) <= 6:
            q = int(go)
        elif go in ("prev", "next"):
            q += 1 if go == "next" else -1
        current = min(max(q, 1), len(items))
    return render(request, "exams/preview_paper.html", {
        **context, "problems": [], "items": items, "total": len(items), "current": current,
        "shown_items": [items[current - 1]] if current else items})


@router.get("/bank/{bank}/courses/{course_id}/exam", name="exam_new")
def exam_new(request: Request, db: SessionDep, bank: BankCode, course_id: int) -> Response:
    """Set up the exam of a course version that has none (an authored course, say)."""
    course = _course_of_bank(db, bank, course_id)
    existing = db.scalar(select(Exam).where(Exam.course_id == course.id))
    if existing is not None:
        return redirect(request.url_for("exam_settings", exam_id=existing.id).path)
    settings = service.default_settings(course)
    return _settings_page(request, db, bank=bank, course=course, exam=None,
                          values=_settings_values(settings), counts={})


@router.post("/bank/{bank}/courses/{course_id}/exam", name="exam_create")
def exam_create(request: Request, db: SessionDep, bank: BankCode, course_id: int, user: Author,
                form: FormDep) -> Response:
    """Create the exam of a course version from the form."""
    course = _course_of_bank(db, bank, course_id)
    settings, errors, counts = _posted_settings(form)
    values: dict[str, Any] = {key: _text(form, key) for key in form if key != "csrf_token"}
    values["requires_completion"] = settings.requires_completion
    values["one_per_screen"] = settings.one_per_screen
    exam = None
    if not errors:
        try:
            exam = service.create_exam(db=db, course=course, settings=settings, by=user,
                                       ip=client_ip(request))
        except Invalid as exc:
            errors = _settings_errors(exc.errors, settings.blueprint)
    if errors or exam is None:
        return _settings_page(request, db, bank=bank, course=course, exam=None, values=values,
                              counts=counts, errors=errors, status_code=400)
    flash(request, _("The exam of version {version} is set up.").format(version=course.version))
    return redirect(request.url_for("exam_settings", exam_id=exam.id).path)


# --- extra time -------------------------------------------------------------------------------

def _extra_time_page(request: Request, db: SessionDep, exam: Exam, *, q: str = "",
                     errors: dict[str, str] | None = None, values: dict[str, Any] | None = None,
                     status_code: int = 200) -> Response:
    grants = service.extra_times(db=db, exam=exam)
    found = service.find_workers(db=db, query=q) if q.strip() else []
    ids = {w.enterprise_id for w in found} | {w.enterprise_id for _g, w in grants}
    enterprises = {e.id: e for e in db.scalars(select(Enterprise).where(
        Enterprise.id.in_(ids)))} if ids else {}
    return render(request, "exams/bank/extra_time.html", {
        **_context(), "bank": exam.bank, "exam": exam, "grants": grants, "found": found,
        "q": q, "errors": errors or {}, "values": values or {}, "mask": mask_id_number,
        "enterprises": enterprises}, status_code=status_code)


@router.get("/exams/{exam_id}/extra-time", name="exam_extra_time")
def extra_time(request: Request, db: SessionDep, exam: TrainerExam, q: str = "") -> Response:
    """The workers with extra time on this exam; find a worker by ID number or name."""
    return _extra_time_page(request, db, exam, q=q)


@router.post("/exams/{exam_id}/extra-time", name="exam_extra_time_post")
def extra_time_post(request: Request, db: SessionDep, exam: TrainerExam, user: Author,
                    form: FormDep) -> Response:
    """Grant, change or (0 minutes) withdraw a worker's extra time, with a reason."""
    worker = organisations.get_worker_or_404(db=db, worker_id=_int(_text(form, "worker_id")))
    raw = _text(form, "minutes").strip()
    minutes = _int(raw) if raw else -1
    try:
        grant = service.set_extra_time(db=db, exam=exam, worker=worker, minutes=minutes,
                                       reason=_text(form, "reason"), by=user,
                                       ip=client_ip(request))
    except Invalid as exc:
        errors = {str(e["loc"][0]): str(e["msg"]) for e in exc.errors}
        return _extra_time_page(request, db, exam, q=_text(form, "q") or worker.id_number,
                                errors={"worker_id": str(worker.id), **errors},
                                values={"minutes": raw, "reason": _text(form, "reason")},
                                status_code=400)
    if grant is None:
        flash(request, _("{name} has no extra time on this exam now.").format(
            name=worker.full_name))
    else:
        flash(request, _("{name} gets {minutes} extra minutes on attempts started from now "
                         "on.").format(name=worker.full_name, minutes=grant.minutes))
    return redirect(request.url_for("exam_extra_time", exam_id=exam.id).path)


router.routes.extend(_imports.routes)
