"""The trainer's side of exams: the question bank (questions of a course code, imported from
GIFT - packages, uploads - or spreadsheets, edited, previewed, retired, exported back to GIFT),
exam settings, extra time, and regrading after a key was corrected.

Every function that changes something validates everything first (an Invalid lists each problem
with its location), writes, audits, flushes, and leaves the commit to the request.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import re
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Text, cast, func, or_, select, update
from sqlalchemy.orm import Session

from app import media
from app.accounts import service as accounts
from app.accounts.models import User
from app.courses.gift import (
    MAX_BYTES,
    GiftError,
    GiftOption,
    GiftQuestion,
    parse_gift,
    to_gift,
)
from app.courses.models import Course
from app.courses.package import QuestionData
from app.errors import Invalid, NotFound
from app.exams import service as exams
from app.exams.models import (
    Attempt,
    AttemptStatus,
    Exam,
    ExtraTime,
    Question,
    QuestionKind,
    QuestionStatus,
    ReviewMode,
)
from app.i18n import LOCAL_TZ, N_
from app.i18n import gettext as _
from app.learning.models import Enrolment, EnrolmentStatus
from app.organisations import reference
from app.organisations.models import Worker
from app.spreadsheets import SpreadsheetError, read_table

LOCALES = ("en", "zh_CN")
BANK_PATTERN = re.compile(r"^[A-Z0-9-]{1,64}$")
KINDS = tuple(k.value for k in QuestionKind)
DIFFICULTIES = ("easy", "medium", "hard")
MAX_OPTIONS = 10
SHEET_OPTIONS = 6
TEXT_MAX = 2000
OPTION_MAX = 500
FEEDBACK_MAX = 2000
Loc = list[str | int]

KIND_LABELS = {"single": N_("Single choice"), "multiple": N_("Multiple choice"),
               "true_false": N_("True or false")}
DIFFICULTY_LABELS = {"easy": N_("Easy"), "medium": N_("Medium"), "hard": N_("Hard")}
STATUS_LABELS = {"active": N_("Active"), "retired": N_("Retired")}
REVIEW_LABELS = {ReviewMode.SCORE_ONLY.value: N_("Score only"),
                 ReviewMode.MISTAKES.value: N_("Score and which answers were wrong")}


def external_id_of(question: GiftQuestion) -> str:
    """A question's stable id in its bank: its GIFT `[id:]` number, else its title, else a
    digest of its content."""
    if question.key:
        return question.key[:64]
    digest = hashlib.sha1(f"{question.category}\0{question.text}".encode(),
                          usedforsecurity=False).hexdigest()[:16]
    return f"auto-{digest}"


@dataclass
class BankImport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


def upsert_questions(*, db: Session, bank: str, questions: Sequence[QuestionData],
                     job_category: str | None = None) -> BankImport:
    """Insert new questions and update changed ones, matched by their id in the bank."""
    result = BankImport()
    existing = {q.external_id: q for q in db.scalars(select(Question).where(Question.bank == bank))}
    for item in questions:
        source = item.source
        key = external_id_of(source)
        options = [_option_record(texts, option.weight, {"en": option.feedback}
                                  if option.feedback else {})
                   for texts, option in zip(item.options, source.options, strict=True)]
        fields = {"category": source.category, "kind": source.kind, "text": item.texts,
                  "options": options, "feedback": {"en": source.feedback} if source.feedback
                  else {}}
        question = existing.get(key)
        if question is None:
            db.add(Question(bank=bank, external_id=key, job_category=job_category, **fields))
            result.created += 1
        elif any(getattr(question, name) != value for name, value in fields.items()):
            for name, value in fields.items():
                setattr(question, name, value)
            question.status = QuestionStatus.ACTIVE.value
            result.updated += 1
        else:
            result.unchanged += 1
    db.flush()
    return result


def available_counts(*, db: Session, bank: str) -> dict[str, int]:
    """Active questions per category of a bank."""
    rows = db.execute(select(Question.category, func.count()).where(
        Question.bank == bank, Question.status == QuestionStatus.ACTIVE.value)
        .group_by(Question.category))
    return {category: int(count) for category, count in rows}


def get_question_or_404(*, db: Session, question_id: int) -> Question:
    """A question or NotFound."""
    question = db.get(Question, question_id)
    if question is None:
        raise NotFound(_("No such question."))
    return question


def _like(text: str) -> str:
    return "%" + re.sub(r"([!%_])", r"!\1", text) + "%"


def list_questions(*, db: Session, bank: str = "", category: str = "", status: str = "",
                   query: str = "", page: int = 1, page_size: int = 25,
                   job_category: str = "", difficulty: str = "",
                   kind: str = "") -> tuple[list[Question], int]:
    """Questions filtered by bank, category, status, job category, difficulty, kind and text
    (the id or the stem in any language)."""
    stmt = select(Question)
    if bank:
        stmt = stmt.where(Question.bank == bank)
    if category:
        stmt = stmt.where(Question.category == category)
    if status:
        stmt = stmt.where(Question.status == status)
    if job_category:
        stmt = stmt.where(Question.job_category == job_category)
    if difficulty:
        stmt = stmt.where(Question.difficulty == difficulty)
    if kind:
        stmt = stmt.where(Question.kind == kind)
    if query.strip():
        text = query.strip()
        # JSON columns hold non-ASCII text as \\u escapes: search for both spellings.
        escaped = json.dumps(text)[1:-1]
        as_text = cast(Question.text, Text)
        stmt = stmt.where(or_(Question.external_id.ilike(_like(text), escape="!"),
                              as_text.ilike(_like(text), escape="!"),
                              as_text.ilike(_like(escaped), escape="!")))
    total = db.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    items = db.scalars(stmt.order_by(Question.bank, Question.category, Question.external_id)
                       .limit(page_size).offset((page - 1) * page_size)).all()
    return list(items), total


def _option_record(texts: dict[str, str], weight: float,
                   feedback: dict[str, str]) -> dict[str, Any]:
    """An option as the bank stores it; `feedback` (what a taker who chose it reads) only
    when there is some, so questions without it keep their stored shape."""
    record: dict[str, Any] = {"text": texts, "weight": weight}
    if feedback:
        record["feedback"] = feedback
    return record


def _in(texts: dict[str, str] | None, locale: str) -> str:
    return (texts or {}).get(locale) or (texts or {}).get("en", "")


def as_gift(question: Question, locale: str = "en", *, annotate: bool = True) -> GiftQuestion:
    """A bank question as a GIFT question in one language (for export). With `annotate`, its
    explanation, option feedback and tags (job category, difficulty, image) come along."""
    tags = [f"{name}={value}" for name, value in (
        ("job_category", question.job_category), ("difficulty", question.difficulty),
        ("image", question.image_key)) if value] if annotate else []
    return GiftQuestion(
        category=question.category, title=question.external_id,
        text=_in(question.text, locale), kind=question.kind,  # type: ignore[arg-type]
        options=[GiftOption(_in(o["text"], locale), float(o["weight"]),
                            _in(o.get("feedback"), locale) if annotate else "")
                 for o in question.options], line=0,
        feedback=_in(question.feedback, locale) if annotate else "", tags=tags)


def export_gift(questions: Sequence[Question], locale: str = "en", *,
                annotate: bool = True) -> str:
    """GIFT text of `questions`, grouped by category (importable again, round trip).

    With `annotate` (the default) each question also carries its general feedback (`####`),
    its options' feedback (`#`) and a comment line
    `// [tag:job_category=...] [tag:difficulty=...] [tag:image=...]` that the bank's GIFT
    import reads back (other GIFT readers ignore comments or keep them as tags)."""
    lines: list[str] = []
    category = None
    for question in sorted(questions, key=lambda q: (q.category, q.external_id)):
        if question.category != category:
            category = question.category
            lines.append(f"$CATEGORY: {category}\n")
        lines.append(to_gift(as_gift(question, locale, annotate=annotate)) + "\n")
    return "\n".join(lines)


# --- labels and lookups -------------------------------------------------------------------------

def valid_bank(bank: str) -> bool:
    """Whether `bank` can name a bank (a course code: capitals, digits, hyphens)."""
    return bool(BANK_PATTERN.match(bank))


def question_of_bank(*, db: Session, bank: str, question_id: int) -> Question:
    """A question of the bank in the path (404 for another bank's question)."""
    question = db.get(Question, question_id)
    if question is None or question.bank != bank:
        raise NotFound(_("No such question in this bank."))
    return question


def right_indexes(question: Question) -> list[int]:
    """Positions of the options a right answer chooses (exactly these)."""
    return [i for i, option in enumerate(question.options) if float(option["weight"]) > 0]


@dataclass
class BankSummary:
    bank: str
    active: int = 0
    retired: int = 0
    categories: dict[str, dict[str, int]] = field(default_factory=dict)
    titles: dict[str, str] = field(default_factory=dict)  # of the newest course version

    @property
    def total(self) -> int:
        return self.active + self.retired


def list_banks(*, db: Session) -> list[BankSummary]:
    """Every bank (the banks with questions, and every course code), with counts per category
    and status (two queries)."""
    banks: dict[str, BankSummary] = {}
    for bank, category, status, count in db.execute(
            select(Question.bank, Question.category, Question.status, func.count())
            .group_by(Question.bank, Question.category, Question.status)):
        summary = banks.setdefault(bank, BankSummary(bank))
        counts = summary.categories.setdefault(category, {"active": 0, "retired": 0})
        counts[status] = counts.get(status, 0) + int(count)
        if status == QuestionStatus.ACTIVE.value:
            summary.active += int(count)
        else:
            summary.retired += int(count)
    for code, title in db.execute(select(Course.code, Course.title)
                                  .order_by(Course.code, Course.version)):
        banks.setdefault(code, BankSummary(code)).titles = dict(title or {})
    for summary in banks.values():
        summary.categories = dict(sorted(summary.categories.items()))
    return [banks[name] for name in sorted(banks)]


def bank_categories(*, db: Session, bank: str) -> list[str]:
    """The categories used in a bank."""
    return list(db.scalars(select(Question.category).where(Question.bank == bank)
                           .group_by(Question.category).order_by(Question.category)))


def courses_of_bank(*, db: Session, bank: str) -> list[tuple[Course, Exam | None]]:
    """The course versions of a bank's code, newest first, each with its exam (two queries)."""
    courses = list(db.scalars(select(Course).where(Course.code == bank)
                              .order_by(Course.version.desc())))
    exams_by_course = {e.course_id: e for e in db.scalars(
        select(Exam).where(Exam.course_id.in_([c.id for c in courses])))} if courses else {}
    return [(course, exams_by_course.get(course.id)) for course in courses]


# --- validation of questions ----------------------------------------------------------------

class Problems:
    """Problems collected while validating, raised together."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def add(self, loc: Loc, message: str) -> None:
        self.items.append({"loc": loc, "msg": message})

    def raise_if_any(self, message: str | None = None, code: str | None = None) -> None:
        if self.items:
            raise Invalid(message or _("Some fields need correcting; nothing was saved."),
                          errors=self.items, code=code)


@dataclass
class QuestionInput:
    """What a trainer sets on a question. `options` are the option texts per locale (ignored
    for true/false); `right` the positions of the right options (true/false: [0] for true,
    [1] for false); `weights`, for multiple choice only, the options' weights (None: the right
    ones share 100 evenly, the wrong ones get -100)."""

    category: str
    kind: str
    text: dict[str, str]
    options: list[dict[str, str]] = field(default_factory=list)
    right: list[int] = field(default_factory=list)
    weights: list[float] | None = None
    feedback: dict[str, str] = field(default_factory=dict)
    job_category: str | None = None
    difficulty: str | None = None
    external_id: str = ""


def _one_line(text: str | None) -> str:
    # GIFT keeps a stem or an option on one line: whitespace runs become one space.
    return re.sub(r"\s+", " ", text or "").strip()


def _localized(value: dict[str, str] | None, loc: Loc, problems: Problems, *, limit: int,
               required: bool, what: str) -> dict[str, str]:
    result: dict[str, str] = {}
    for locale, text in (value or {}).items():
        if locale not in LOCALES:
            problems.add([*loc, locale], _("Only English (en) and Chinese (zh_CN) are used."))
            continue
        cleaned = _one_line(text if isinstance(text, str) else "")
        if len(cleaned) > limit:
            problems.add([*loc, locale], _("At most {n} characters.").format(n=limit))
        elif cleaned:
            result[locale] = cleaned
    if required and not result.get("en"):
        problems.add([*loc, "en"], what)
    return result


def even_weights(count: int, right: Sequence[int]) -> list[float]:
    """Multiple-choice weights: the right options share 100 evenly (rounded so GIFT writes
    them exactly), the wrong ones get -100."""
    share = round(100 / len(right), 4) if right else 0.0
    return [share if i in right else -100.0 for i in range(count)]


def _check_external_id(value: str, problems: Problems, loc: Loc) -> str:
    value = _one_line(value)
    if len(value) > 64:
        problems.add(loc, _("At most {n} characters.").format(n=64))
    return value


def _check_category(value: str, problems: Problems, loc: Loc) -> str:
    value = _one_line(value)
    if not value:
        problems.add(loc, _("The category is required."))
    elif len(value) > 64:
        problems.add(loc, _("At most {n} characters.").format(n=64))
    elif any(not part.strip() for part in re.split(r"(?<!/)/(?!/)", value)):
        # "a/b" is a path (GIFT's $CATEGORY keeps Moodle's nesting); "//" a '/' in a name.
        problems.add(loc, _("A category path cannot start or end with '/' or have an empty "
                            "part."))
    return value


def check_question(data: QuestionInput, problems: Problems, *,
                   loc: Loc | None = None) -> dict[str, Any]:
    """The question's column values, or problems located under `loc`."""
    base: Loc = list(loc or [])
    values: dict[str, Any] = {"category": _check_category(data.category, problems,
                                                          [*base, "category"])}
    if data.kind not in KINDS:
        problems.add([*base, "kind"], _("Choose single choice, multiple choice or true/false."))
    values["kind"] = data.kind
    values["text"] = _localized(data.text, [*base, "text"], problems, limit=TEXT_MAX,
                                required=True, what=_("The English question text is required."))
    values["feedback"] = _localized(data.feedback, [*base, "feedback"], problems,
                                    limit=FEEDBACK_MAX, required=False, what="")
    job_category = (data.job_category or "").strip() or None
    if job_category is not None and job_category not in reference.job_category_codes():
        problems.add([*base, "job_category"], _("Unknown job category {value}; use a code such "
                                                "as general.underground or "
                                                "coal.gas_inspection.").format(value=job_category))
    values["job_category"] = job_category
    difficulty = (data.difficulty or "").strip() or None
    if difficulty is not None and difficulty not in DIFFICULTIES:
        problems.add([*base, "difficulty"], _("The difficulty is easy, medium or hard."))
    values["difficulty"] = difficulty
    right = sorted(set(data.right))
    if data.kind == QuestionKind.TRUE_FALSE.value:
        if right not in ([0], [1]):
            problems.add([*base, "right"], _("Say whether the statement is true or false."))
        truth = right == [0]
        values["options"] = [{"text": {"en": "True"}, "weight": 100.0 if truth else 0.0},
                             {"text": {"en": "False"}, "weight": 0.0 if truth else 100.0}]
        return values
    options = []
    for index, texts in enumerate(data.options):
        options.append({"text": _localized(
            texts, [*base, "options", index, "text"], problems, limit=OPTION_MAX, required=True,
            what=_("Option {n} needs its English text.").format(n=index + 1)), "weight": 0.0})
    if len(options) < 2:
        problems.add([*base, "options"], _("A choice question needs at least two options."))
    elif len(options) > MAX_OPTIONS:
        problems.add([*base, "options"], _("At most {n} options.").format(n=MAX_OPTIONS))
    if any(not 0 <= i < len(options) for i in right):
        problems.add([*base, "right"], _("A right answer names an option that does not exist."))
        right = [i for i in right if 0 <= i < len(options)]
    if data.kind == QuestionKind.SINGLE.value:
        if len(right) != 1:
            problems.add([*base, "right"], _("A single-choice question has exactly one right "
                                             "option."))
        for index, option in enumerate(options):
            option["weight"] = 100.0 if index in right else 0.0
    elif data.kind == QuestionKind.MULTIPLE.value:
        weights = data.weights
        if weights is not None:
            _check_weights(weights, len(options), right, problems, base)
            for option, weight in zip(options, weights, strict=False):
                option["weight"] = float(weight)
        else:
            if len(right) < 2:
                problems.add([*base, "right"], _("A multiple-choice question has at least two "
                                                 "right options (with one, make it single "
                                                 "choice)."))
            for option, weight in zip(options, even_weights(len(options), right), strict=True):
                option["weight"] = weight
    values["options"] = options
    return values


def _check_weights(weights: Sequence[float], count: int, right: list[int], problems: Problems,
                   base: Loc) -> None:
    if len(weights) != count:
        problems.add([*base, "weights"], _("Give a weight for every option."))
        return
    for index, weight in enumerate(weights):
        if not math.isfinite(weight) or not -100 <= weight <= 100:
            problems.add([*base, "weights", index], _("A weight is a percentage from -100 to "
                                                      "100."))
            return
    positive = [i for i, w in enumerate(weights) if w > 0]
    if right and positive != right:
        problems.add([*base, "weights"], _("The right options, and only they, have positive "
                                           "weights."))
    elif not positive:
        # One right option is fine with explicit weights: a "choose all that apply" question
        # (Moodle's multiple response) whose key happens to be one option.
        problems.add([*base, "weights"], _("A multiple-choice question needs at least one "
                                           "option with a positive weight."))
    elif abs(sum(weights[i] for i in positive) - 100) > 0.5:
        problems.add([*base, "weights"], _("The positive weights add up to {sum:g}, not "
                                           "100.").format(sum=sum(weights[i] for i in positive)))


def _audit(db: Session, action: str, by: User | None, question: Question, ip: str | None = None,
           **detail: Any) -> None:
    accounts.record_audit(db=db, action=action, actor=by, object_type="question",
                          object_id=question.id, ip=ip,
                          detail={"bank": question.bank, "external_id": question.external_id,
                                  **detail})


def _next_external_id(db: Session, bank: str) -> str:
    taken = set(db.scalars(select(Question.external_id).where(Question.bank == bank)))
    number = len(taken) + 1
    while f"Q-{number}" in taken:
        number += 1
    return f"Q-{number}"


def check_image(data: bytes | None, problems: Problems, loc: Loc | None = None) -> None:
    """An uploaded stem image must really be an image (checked by its content) and small."""
    if data is None:
        return
    reason = media.problem(data, allowed=media.IMAGE_KINDS)
    if reason is not None:
        sniffed = media.sniff(data)
        if sniffed in media.IMAGE_KINDS and len(data) > media.KINDS[sniffed].max_bytes:
            message = _("The image is larger than {mb} MB.").format(
                mb=media.KINDS[sniffed].max_bytes // (1024 * 1024))
        elif sniffed == "svg":
            message = _("The SVG image contains scripts or event handlers.")
        else:
            message = _("The file's content is not a PNG, JPEG, WebP or SVG image (it was "
                        "checked, not its name).")
        problems.add(loc or ["image"], message)


IMAGE_UPLOAD_LIMIT = max(media.KINDS[k].max_bytes for k in media.IMAGE_KINDS)


def create_question(*, db: Session, bank: str, data: QuestionInput, by: User,
                    image: bytes | None = None, ip: str | None = None) -> Question:
    """Add a question to a bank (its id in the bank is generated when not given)."""
    problems = Problems()
    if not valid_bank(bank):
        problems.add(["bank"], _("A bank is named by a course code: capital letters, digits "
                                 "and hyphens."))
    values = check_question(data, problems)
    external_id = _check_external_id(data.external_id, problems, ["external_id"])
    if external_id and db.scalar(select(Question.id).where(Question.bank == bank,
                                                           Question.external_id == external_id)):
        problems.add(["external_id"], _("Another question of this bank has the id "
                                        "{id}.").format(id=external_id))
    check_image(image, problems)
    problems.raise_if_any()
    question = Question(bank=bank, external_id=external_id or _next_external_id(db, bank),
                        status=QuestionStatus.ACTIVE.value, **values)
    if image is not None:
        question.image_key = media.store(image)
    db.add(question)
    db.flush()
    _audit(db, "question.created", by, question, ip, category=question.category,
           kind=question.kind, right=right_indexes(question))
    db.flush()
    return question


_EDITABLE = ("category", "kind", "text", "options", "feedback", "job_category", "difficulty")


def update_question(*, db: Session, question: Question, data: QuestionInput, by: User,
                    image: bytes | None = None, remove_image: bool = False,
                    ip: str | None = None) -> Question:
    """Change a question. Attempts keep the copy they drew, so nobody's paper changes (a wrong
    key in past attempts is fixed with `regrade_question`)."""
    problems = Problems()
    values = check_question(data, problems)
    external_id = _check_external_id(data.external_id, problems, ["external_id"]) \
        or question.external_id
    if external_id != question.external_id and db.scalar(select(Question.id).where(
            Question.bank == question.bank, Question.external_id == external_id)):
        problems.add(["external_id"], _("Another question of this bank has the id "
                                        "{id}.").format(id=external_id))
    check_image(image, problems)
    problems.raise_if_any()
    changed = [name for name in _EDITABLE if getattr(question, name) != values[name]]
    before_right = right_indexes(question)
    for name in changed:
        setattr(question, name, values[name])
    if external_id != question.external_id:
        changed.append("external_id")
        question.external_id = external_id
    if image is not None:
        key = media.store(image)
        if key != question.image_key:
            question.image_key = key
            changed.append("image_key")
    elif remove_image and question.image_key:
        question.image_key = None
        changed.append("image_key")
    db.flush()
    if changed:
        _audit(db, "question.updated", by, question, ip, changed=changed,
               right_before=before_right, right_after=right_indexes(question))
        db.flush()
    return question


def set_status(*, db: Session, question: Question, status: str, by: User,
               ip: str | None = None) -> Question:
    """Retire a question (it is never drawn again; attempts keep their copies) or make it
    active again."""
    if status not in (QuestionStatus.ACTIVE.value, QuestionStatus.RETIRED.value):
        raise Invalid(errors=[{"loc": ["status"], "msg": _("Choose active or retired.")}])
    if question.status != status:
        question.status = status
        db.flush()
        _audit(db, "question.retired" if status == QuestionStatus.RETIRED.value
               else "question.reactivated", by, question, ip)
        db.flush()
    return question


def input_of(question: Question) -> QuestionInput:
    """A question's current values as an input (to change some of them)."""
    return QuestionInput(
        category=question.category, kind=question.kind, text=dict(question.text),
        options=[dict(o["text"]) for o in question.options], right=right_indexes(question),
        weights=[float(o["weight"]) for o in question.options]
        if question.kind == QuestionKind.MULTIPLE.value else None,
        feedback=dict(question.feedback or {}), job_category=question.job_category,
        difficulty=question.difficulty, external_id=question.external_id)


# --- imports: GIFT and spreadsheets ---------------------------------------------------------

@dataclass
class ImportItem:
    """One question of an uploaded file, validated: its id in the bank, its column values
    (only the ones the file sets), and where it came from."""

    external_id: str
    values: dict[str, Any]
    where: str  # "file.gift:12" or "row 5" (translated)


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    items: list[ImportItem] = field(default_factory=list)
    new_ids: set[str] = field(default_factory=set)
    changed_ids: set[str] = field(default_factory=set)

    def as_dict(self) -> dict[str, int]:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged}


def _file_error(filename: str, line: int, message: str) -> dict[str, Any]:
    return {"file": filename, "line": line, "message": message, "loc": [filename, line],
            "msg": f"{filename}:{line}: {message}"}


def _decode(data: bytes, filename: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        message = _("The file is not UTF-8 text: save it as UTF-8 and upload it again.")
        raise Invalid(f"{filename}:{line}: {message}", code="gift_invalid",
                      errors=[_file_error(filename, line, message)]) from None


_TAG_NAMES = ("job_category", "difficulty", "image")


def _bank_tags(question: GiftQuestion, problems: Problems) -> dict[str, str]:
    """A question's `[tag:...]` values as bank fields. `name=value` sets job_category,
    difficulty or image; Moodle's plain tags are understood when they name a difficulty or a
    job category code. Any other tag is refused: the bank has no place to keep it."""
    fields: dict[str, str] = {}
    codes = reference.job_category_codes()
    for tag in question.tags:
        name, sep, value = tag.partition("=")
        name, value = name.strip(), value.strip()
        if sep and name in _TAG_NAMES:
            fields.setdefault(name, value)
        elif not sep and tag.lower() in DIFFICULTIES:
            fields.setdefault("difficulty", tag.lower())
        elif not sep and tag in codes:
            fields.setdefault("job_category", tag)
        else:
            problems.add(["tags"], _("The tag {tag} has no place in the bank: use "
                                     "[tag:job_category=CODE], [tag:difficulty=easy|medium|hard] "
                                     "or [tag:image=KEY], or remove it.").format(tag=tag))
    return fields


def _parse_gift_file(text: str, filename: str) -> list[GiftQuestion]:
    try:
        return parse_gift(text, filename=filename)
    except GiftError as exc:
        # The parser's messages are English; a catalog may translate the fixed ones.
        message = _(exc.message)
        raise Invalid(f"{exc.filename}:{exc.line}: {message}", code="gift_invalid",
                      errors=[_file_error(exc.filename, exc.line, message)]) from None


def _check_size(data: bytes, filename: str) -> None:
    if len(data) > MAX_BYTES:
        message = _("The file is larger than {n} MB; split it into smaller files.").format(
            n=MAX_BYTES // (1024 * 1024))
        raise Invalid(f"{filename}:1: {message}", code="gift_invalid",
                      errors=[_file_error(filename, 1, message)])


def _gift_options(question: GiftQuestion, values: dict[str, Any], problems: Problems) -> None:
    """The file's option weights (single choice may give wrong options negative ones) and
    feedback, on the validated options."""
    for index, (option, parsed) in enumerate(zip(values["options"], question.options,
                                                 strict=False)):
        option["weight"] = parsed.weight
        if len(parsed.feedback) > FEEDBACK_MAX:
            problems.add(["options", index, "feedback", "en"], _("At most {n} characters.")
                         .format(n=FEEDBACK_MAX))
        elif parsed.feedback:
            option["feedback"] = {"en": parsed.feedback}


def parse_gift_upload(*, data: bytes, filename: str, zh_data: bytes | None = None,
                      zh_filename: str = "") -> list[ImportItem]:
    """Questions of an uploaded GIFT file (and, optionally, its Chinese translation paired by
    `[id:]` or `::id::` titles). Any unsupported construct refuses the whole file with
    file:line."""
    filename = filename or "upload.gift"
    _check_size(data, filename)
    source = _decode(data, filename)
    questions = _parse_gift_file(source, filename)
    errors: list[dict[str, Any]] = []
    translations: dict[str, GiftQuestion] = {}
    if zh_data:
        zh_filename = zh_filename or "upload.zh_CN.gift"
        _check_size(zh_data, zh_filename)
        for question in _parse_gift_file(_decode(zh_data, zh_filename), zh_filename):
            if not question.key:
                errors.append(_file_error(zh_filename, question.line, _(
                    "A translated question needs the ::id:: title of its English question.")))
            elif question.key in translations:
                errors.append(_file_error(zh_filename, question.line, _(
                    "The id {id} is used twice.").format(id=question.key)))
            else:
                translations[question.key] = question
    if not questions:
        errors.append(_file_error(filename, 1, _("The file has no questions.")))
    items: list[ImportItem] = []
    seen: dict[str, int] = {}
    english_keys = {q.key for q in questions if q.key}
    for question in questions:
        where = f"{filename}:{question.line}"

        def fail(message: str, line: int = question.line) -> None:
            errors.append(_file_error(filename, line, message))

        if not question.category:
            fail(_("The question has no $CATEGORY line before it."))
            continue
        key = external_id_of(question)
        if key in seen:
            fail(_("The id {id} is also used on line {line}.").format(id=key, line=seen[key]))
            continue
        seen[key] = question.line
        problems = Problems()
        tags = _bank_tags(question, problems)
        values = check_question(QuestionInput(
            category=question.category, kind=question.kind, text={"en": question.text},
            options=[{"en": o.text} for o in question.options], right=question.correct,
            weights=[o.weight for o in question.options]
            if question.kind == QuestionKind.MULTIPLE.value else None,
            feedback={"en": question.feedback} if question.feedback else {},
            job_category=tags.get("job_category"), difficulty=tags.get("difficulty")),
            problems)
        _gift_options(question, values, problems)
        # Line breaks and indentation of the question text are kept (pages show them).
        if len(question.text) > TEXT_MAX:
            problems.add(["text", "en"], _("At most {n} characters.").format(n=TEXT_MAX))
        elif values["text"].get("en"):
            values["text"]["en"] = question.text
        if len(key) > 64:
            problems.add(["external_id"], _("At most {n} characters.").format(n=64))
        image = tags.get("image")
        if image:
            try:
                exists = media.path_of(image).is_file()
            except ValueError:
                exists = False
            if not exists:
                problems.add(["image"], _("The image {key} is not in this site's media.")
                             .format(key=image))
            values["image_key"] = image
        tag_line = question.comment_line or question.line
        for problem in problems.items:
            fail(problem["msg"], tag_line if problem["loc"][0] in (
                "job_category", "difficulty", "image", "tags") else question.line)
        if "job_category" not in tags:
            values.pop("job_category")
        if "difficulty" not in tags:
            values.pop("difficulty")
        other = translations.get(question.key) if question.key else None
        if other is not None:
            if other.kind != question.kind or len(other.options) != len(question.options) or \
                    [o.weight for o in other.options] != [o.weight for o in question.options]:
                errors.append(_file_error(zh_filename, other.line, _(
                    "Question {id} differs from the English one (kind, options or right "
                    "answers).").format(id=question.key)))
            elif not problems.items:
                _merge_translation(values, other)
        items.append(ImportItem(external_id=key, values=values, where=where))
    for key, other in translations.items():
        if key not in english_keys:
            errors.append(_file_error(zh_filename, other.line, _(
                "Question {id} is not in the English file.").format(id=key)))
    if errors:
        errors.sort(key=lambda e: (e["file"] != filename, e["line"]))
        raise Invalid(_("The file has {n} problems; nothing was imported.").format(
            n=len(errors)) if len(errors) > 1 else errors[0]["msg"], code="gift_invalid",
            errors=errors)
    return items


def _merge_translation(values: dict[str, Any], other: GiftQuestion) -> None:
    """Add the Chinese texts (a text equal to the English one is no translation)."""
    text = other.text.strip()
    if text and text != values["text"]["en"] and len(text) <= TEXT_MAX:
        values["text"]["zh_CN"] = text
    for option, translated in zip(values["options"], other.options, strict=True):
        option_text = _one_line(translated.text)
        if values["kind"] != QuestionKind.TRUE_FALSE.value and option_text and \
                option_text != option["text"]["en"] and len(option_text) <= OPTION_MAX:
            option["text"]["zh_CN"] = option_text
        feedback = _one_line(translated.feedback)
        english = option.get("feedback", {}).get("en")
        if feedback and english and feedback != english and len(feedback) <= FEEDBACK_MAX:
            option["feedback"]["zh_CN"] = feedback
    feedback = _one_line(other.feedback)
    if feedback and feedback != values["feedback"].get("en") and len(feedback) <= FEEDBACK_MAX:
        values["feedback"]["zh_CN"] = feedback


# Spreadsheet columns, as documented in docs/question-bank.md (headers are matched without
# regard to case, so text_zh_CN and TEXT_ZH_CN are the same column).
SHEET_REQUIRED = ("external_id", "category", "kind", "text_en", "correct")
SHEET_OPTIONAL = ("text_zh_CN",
                  *(f"option_{n}_en" for n in range(1, SHEET_OPTIONS + 1)),
                  *(f"option_{n}_zh_CN" for n in range(1, SHEET_OPTIONS + 1)),
                  "job_category", "difficulty", "feedback_en", "feedback_zh_CN")
SHEET_COLUMNS = SHEET_REQUIRED + SHEET_OPTIONAL
_COLUMN_NAMES = {name.lower(): name for name in SHEET_COLUMNS}
_TRUE = {"t", "true", "对", "正确"}
_FALSE = {"f", "false", "错", "错误"}
_KIND_WORDS = {"single": "single", "multiple": "multiple", "true_false": "true_false",
               "truefalse": "true_false", "tf": "true_false", "单选": "single",
               "多选": "multiple", "判断": "true_false"}


@dataclass
class RowError:
    row: int
    column: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message,
                "loc": ["file", self.row, self.column], "msg": self.message}


def _sheet_column(loc: Loc) -> str:
    """The spreadsheet column of a validation location."""
    head = loc[0] if loc else ""
    if head in ("text", "feedback") and len(loc) > 1:
        return f"{head}_{loc[1]}"
    if head == "options" and len(loc) > 1 and isinstance(loc[1], int):
        locale = loc[3] if len(loc) > 3 else "en"
        return f"option_{loc[1] + 1}_{locale}"
    if head in ("right", "weights"):
        return "correct"
    if head == "options":
        return "option_1_en"
    return str(head)


def _parse_correct(value: str, kind: str) -> list[int] | None:
    cleaned = value.strip().lower()
    if kind == QuestionKind.TRUE_FALSE.value:
        if cleaned in _TRUE:
            return [0]
        if cleaned in _FALSE:
            return [1]
        return None
    parts = [p for p in re.split(r"[\s,，;；、]+", cleaned) if p]
    if not parts or not all(p.isdigit() for p in parts):
        return None
    return [int(p) - 1 for p in parts]


def parse_sheet_upload(*, data: bytes, filename: str) -> list[ImportItem]:
    """Questions of an uploaded .xlsx or CSV file (columns in docs/question-bank.md). Every
    row is checked; any problem refuses the whole file with row, column and message."""
    try:
        table = read_table(data, filename=filename or "upload", required=SHEET_REQUIRED,
                           optional=SHEET_OPTIONAL, max_rows=10_000)
    except SpreadsheetError as exc:
        message = _(exc.message_template).format(**exc.params)
        column = _COLUMN_NAMES.get(exc.column or "", exc.column or "")
        raise Invalid(message, code="bank_invalid", errors=[RowError(
            exc.row or 1, column, message).as_dict()]) from None
    errors: list[RowError] = []
    items: list[ImportItem] = []
    seen: dict[str, int] = {}
    for number, cells in table.rows:
        before = len(errors)

        def fail(column: str, message: str, row: int = number) -> None:
            errors.append(RowError(row, column, message))

        external_id = _one_line(cells.get("external_id", ""))
        if not external_id:
            fail("external_id", _("The question id is missing."))
        elif len(external_id) > 64:
            fail("external_id", _("At most {n} characters.").format(n=64))
        elif external_id in seen:
            fail("external_id", _("The id {id} is also used in row {row}.").format(
                id=external_id, row=seen[external_id]))
        else:
            seen[external_id] = number
        raw_kind = cells.get("kind", "").strip().lower()
        kind = _KIND_WORDS.get(raw_kind.replace("-", "_").replace("/", ""), "")
        if not kind:
            fail("kind", _("Unknown kind {value}; use single, multiple or true_false.").format(
                value=raw_kind) if raw_kind else _("The kind is missing."))
        texts: list[dict[str, str]] = []
        gap = None
        for n in range(1, SHEET_OPTIONS + 1):
            en = cells.get(f"option_{n}_en", "")
            zh = cells.get(f"option_{n}_zh_cn", "")
            if not en and not zh:
                gap = gap or n
                continue
            if kind == QuestionKind.TRUE_FALSE.value:
                fail(f"option_{n}_en", _("A true/false question has no option columns."))
                break
            if gap is not None:
                fail(f"option_{gap}_en", _("Option {n} is empty but a later option is "
                                           "filled.").format(n=gap))
                break
            if not en:
                fail(f"option_{n}_en", _("Option {n} has a Chinese text but no English "
                                         "one.").format(n=n))
            texts.append({"en": en, "zh_CN": zh})
        raw_correct = cells.get("correct", "")
        right = _parse_correct(raw_correct, kind) if kind else []
        if kind and right is None:
            fail("correct", _("{value} is not an answer: write T or F.").format(value=raw_correct)
                 if kind == QuestionKind.TRUE_FALSE.value else
                 _("{value} is not an answer: write the numbers of the right options, for "
                   "example 1 or 1,3.").format(value=raw_correct) if raw_correct else
                 _("The right answer is missing."))
        if len(errors) > before:
            continue
        problems = Problems()
        values = check_question(QuestionInput(
            category=cells.get("category", ""), kind=kind,
            text={"en": cells.get("text_en", ""), "zh_CN": cells.get("text_zh_cn", "")},
            options=texts, right=right or [],
            feedback={"en": cells.get("feedback_en", ""),
                      "zh_CN": cells.get("feedback_zh_cn", "")},
            job_category=cells.get("job_category", ""), difficulty=cells.get("difficulty", "")),
            problems)
        for problem in problems.items:
            fail(_sheet_column(problem["loc"]), problem["msg"])
        for optional in ("job_category", "difficulty"):
            if optional not in table.header:
                values.pop(optional)
        if not any(name in table.header for name in ("feedback_en", "feedback_zh_cn")):
            values.pop("feedback")
        items.append(ImportItem(external_id=external_id, values=values,
                                where=_("row {n}").format(n=number)))
    if errors:
        order = {name: i for i, name in enumerate(SHEET_COLUMNS)}
        errors.sort(key=lambda e: (e.row, order.get(e.column, 99)))
        raise Invalid(_("{n} rows of the file have errors; nothing was imported.").format(
            n=len({e.row for e in errors})), code="bank_invalid",
            errors=[e.as_dict() for e in errors])
    return items


def is_gift(filename: str, data: bytes) -> bool:
    """Whether an upload is GIFT (by its name, else by looking like text with '{')."""
    name = (filename or "").lower()
    if name.endswith((".gift", ".txt")):
        return True
    if name.endswith((".xlsx", ".csv", ".tsv")) or data.startswith(b"PK\x03\x04"):
        return False
    head = data[:4096]
    return (b"{" in head and b"::" in head) or \
        head.lstrip(b"\xef\xbb\xbf").startswith(b"$CATEGORY")


def parse_upload(*, data: bytes, filename: str, zh_data: bytes | None = None,
                 zh_filename: str = "") -> list[ImportItem]:
    """A GIFT file (with its optional translation) or a spreadsheet, validated whole."""
    if is_gift(filename, data):
        return parse_gift_upload(data=data, filename=filename, zh_data=zh_data,
                                 zh_filename=zh_filename)
    return parse_sheet_upload(data=data, filename=filename)


def plan_import(*, db: Session, bank: str, items: list[ImportItem]) -> ImportResult:
    """What importing `items` would do: new, changed and unchanged questions (by id)."""
    result = ImportResult(items=items)
    existing = {q.external_id: q for q in db.scalars(select(Question).where(Question.bank == bank))}
    for item in items:
        question = existing.get(item.external_id)
        if question is None:
            result.created += 1
            result.new_ids.add(item.external_id)
        elif any(getattr(question, name) != value for name, value in item.values.items()):
            result.updated += 1
            result.changed_ids.add(item.external_id)
        else:
            result.unchanged += 1
    return result


def import_questions(*, db: Session, bank: str, items: list[ImportItem], dry_run: bool,
                     by: User, source: str = "", ip: str | None = None) -> ImportResult:
    """Upsert the questions by their id in the bank (all validated beforehand). Existing
    questions keep their status: a retired question stays retired."""
    if not valid_bank(bank):
        raise NotFound(_("No such bank."))
    result = plan_import(db=db, bank=bank, items=items)
    if dry_run:
        return result
    existing = {q.external_id: q for q in db.scalars(select(Question).where(Question.bank == bank))}
    for item in items:
        question = existing.get(item.external_id)
        if question is None:
            values = {"feedback": {}, "job_category": None, "difficulty": None, **item.values}
            db.add(Question(bank=bank, external_id=item.external_id,
                            status=QuestionStatus.ACTIVE.value, **values))
        elif item.external_id in result.changed_ids:
            for name, value in item.values.items():
                setattr(question, name, value)
    db.flush()
    accounts.record_audit(db=db, action="bank.imported", actor=by, object_type="bank",
                          object_id=bank, ip=ip, detail={"source": source[:200],
                                                         **result.as_dict()})
    db.flush()
    return result


# --- uploads awaiting confirmation (the preview step of the import page) --------------------

PENDING_TTL = timedelta(hours=2)
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


def _pending_dir() -> Path:
    return media.media_root() / "_pending_imports"


@dataclass
class PendingUpload:
    token: str
    bank: str
    user_id: int
    filename: str
    data: bytes
    zh_filename: str = ""
    zh_data: bytes | None = None


def store_pending(*, bank: str, by: User, filename: str, data: bytes, zh_filename: str = "",
                  zh_data: bytes | None = None) -> str:
    """Keep checked files until the trainer confirms the preview (on disk, so any app process
    can finish the import); stale ones are dropped."""
    folder = _pending_dir()
    folder.mkdir(parents=True, exist_ok=True)
    cutoff = time.time() - PENDING_TTL.total_seconds()
    for stale in folder.iterdir():
        try:
            if stale.stat().st_mtime < cutoff:
                stale.unlink()
        except OSError:
            continue
    token = secrets.token_urlsafe(24)
    meta = {"bank": bank, "user_id": by.id, "filename": filename[:255],
            "zh_filename": zh_filename[:255], "zh": zh_data is not None}
    (folder / f"{token}.data").write_bytes(data)
    if zh_data is not None:
        (folder / f"{token}.zh").write_bytes(zh_data)
    (folder / f"{token}.json").write_text(json.dumps(meta), encoding="utf-8")
    return token


def load_pending(*, token: str, bank: str, by: User) -> PendingUpload:
    """The upload of this user for this bank, or NotFound (expired, someone else's)."""
    expired = NotFound(_("This upload has expired; please upload the file again."))
    if not _TOKEN.match(token):
        raise expired
    folder = _pending_dir()
    try:
        meta_path = folder / f"{token}.json"
        if meta_path.stat().st_mtime < time.time() - PENDING_TTL.total_seconds():
            raise expired
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if meta["bank"] != bank or meta["user_id"] != by.id:
            raise expired
        data = (folder / f"{token}.data").read_bytes()
        zh_data = (folder / f"{token}.zh").read_bytes() if meta.get("zh") else None
    except (OSError, ValueError, KeyError):
        raise expired from None
    return PendingUpload(token=token, bank=bank, user_id=by.id, filename=meta["filename"],
                         data=data, zh_filename=meta.get("zh_filename", ""), zh_data=zh_data)


def discard_pending(token: str) -> None:
    """Forget an upload once imported or cancelled."""
    if not _TOKEN.match(token):
        return
    for suffix in (".json", ".data", ".zh"):
        (_pending_dir() / f"{token}{suffix}").unlink(missing_ok=True)


# --- exam settings ------------------------------------------------------------------------------

@dataclass
class ExamSettings:
    """What a trainer sets on an exam. Times are timezone-aware (pages read them in Beijing
    time)."""

    title: dict[str, str]
    duration_minutes: int
    pass_mark: int
    max_attempts: int
    requires_completion: bool
    blueprint: list[dict[str, Any]]
    available_from: datetime | None = None
    available_until: datetime | None = None
    review_mode: str = ReviewMode.MISTAKES.value
    one_per_screen: bool = False


def settings_of(exam: Exam) -> ExamSettings:
    """An exam's current settings."""
    return ExamSettings(
        title=dict(exam.title or {}), duration_minutes=exam.duration_minutes,
        pass_mark=exam.pass_mark, max_attempts=exam.max_attempts,
        requires_completion=exam.requires_completion,
        blueprint=[dict(item) for item in exam.blueprint],
        available_from=exam.available_from, available_until=exam.available_until,
        review_mode=exam.review_mode, one_per_screen=exam.one_per_screen)


def default_settings(course: Course) -> ExamSettings:
    """Settings for a new exam of a course (to be completed by the trainer)."""
    return ExamSettings(title={"en": "Theory exam", "zh_CN": "理论考试"}, duration_minutes=60,
                        pass_mark=80, max_attempts=2, requires_completion=True, blueprint=[])


def check_settings(*, db: Session, bank: str, settings: ExamSettings) -> ExamSettings:
    """Validated settings; the blueprint may not ask more of a category than the bank's active
    questions in it."""
    problems = Problems()
    title = _localized(settings.title, ["title"], problems, limit=200, required=True,
                       what=_("The English title is required."))
    if not 1 <= settings.duration_minutes <= 600:
        problems.add(["duration_minutes"], _("The duration is 1 to 600 minutes."))
    if not 1 <= settings.pass_mark <= 100:
        problems.add(["pass_mark"], _("The pass mark is 1 to 100."))
    if not 1 <= settings.max_attempts <= 10:
        problems.add(["max_attempts"], _("Allow 1 to 10 attempts."))
    if settings.review_mode not in REVIEW_LABELS:
        problems.add(["review_mode"], _("Choose what takers see after submitting."))
    available = available_counts(db=db, bank=bank)
    blueprint: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, item in enumerate(settings.blueprint):
        category = _one_line(str(item.get("category", "")))
        try:
            count = int(item.get("count", 0))
        except (TypeError, ValueError):
            count = -1
        loc: Loc = ["blueprint", index]
        if not category:
            problems.add([*loc, "category"], _("The category is required."))
            continue
        if category in seen:
            problems.add([*loc, "category"], _("The category {category} is listed twice.")
                         .format(category=category))
            continue
        seen.add(category)
        if count < 0 or count > 500:
            problems.add([*loc, "count"], _("Draw 0 to 500 questions from a category."))
        elif count > available.get(category, 0):
            problems.add([*loc, "count"], _(
                "Category {category} has {have} active questions; {need} cannot be drawn.")
                .format(category=category, have=available.get(category, 0), need=count))
        elif count > 0:
            blueprint.append({"category": category, "count": count})
    if not blueprint and not any(p["loc"][0] == "blueprint" for p in problems.items):
        problems.add(["blueprint"], _("Draw at least one question."))
    start, end = settings.available_from, settings.available_until
    for name, value in (("available_from", start), ("available_until", end)):
        if value is not None and value.tzinfo is None:
            problems.add([name], _("Give the time with its time zone."))
    if start and end and start.tzinfo and end.tzinfo and end <= start:
        problems.add(["available_until"], _("The exam must close after it opens."))
    problems.raise_if_any()
    return ExamSettings(title=title, duration_minutes=settings.duration_minutes,
                        pass_mark=settings.pass_mark, max_attempts=settings.max_attempts,
                        requires_completion=bool(settings.requires_completion),
                        blueprint=blueprint,
                        available_from=start.astimezone(UTC) if start else None,
                        available_until=end.astimezone(UTC) if end else None,
                        review_mode=settings.review_mode,
                        one_per_screen=bool(settings.one_per_screen))


def _settings_record(settings: ExamSettings) -> dict[str, Any]:
    record: dict[str, Any] = {name: getattr(settings, name) for name in (
        "title", "duration_minutes", "pass_mark", "max_attempts", "requires_completion",
        "blueprint", "review_mode", "one_per_screen")}
    for name in ("available_from", "available_until"):
        value = getattr(settings, name)
        record[name] = value.isoformat() if value else None
    return record


def _spec_of(course: Course, settings: ExamSettings) -> dict[str, Any]:
    # The course's exam block, so a new version of the course starts from these settings.
    spec = copy.deepcopy(course.exam_spec or {})
    spec.update({"title": settings.title, "duration_minutes": settings.duration_minutes,
                 "pass_mark": settings.pass_mark, "max_attempts": settings.max_attempts,
                 "requires_completion": settings.requires_completion,
                 "blueprint": [dict(item) for item in settings.blueprint]})
    return spec


def update_exam(*, db: Session, exam: Exam, settings: ExamSettings, by: User,
                ip: str | None = None) -> Exam:
    """Change an exam's settings (attempts already started keep their paper and deadline)."""
    checked = check_settings(db=db, bank=exam.bank, settings=settings)
    before = _settings_record(settings_of(exam))
    for name in ("title", "duration_minutes", "pass_mark", "max_attempts", "requires_completion",
                 "blueprint", "available_from", "available_until", "review_mode",
                 "one_per_screen"):
        setattr(exam, name, getattr(checked, name))
    course = db.get(Course, exam.course_id)
    if course is not None:
        course.exam_spec = _spec_of(course, checked)
    db.flush()
    after = _settings_record(checked)
    changed = {name: {"before": before[name], "after": after[name]}
               for name in after if before[name] != after[name]}
    if changed:
        accounts.record_audit(db=db, action="exam.updated", actor=by, object_type="exam",
                              object_id=exam.id, ip=ip,
                              detail={"bank": exam.bank, "course_id": exam.course_id,
                                      "changes": changed})
        db.flush()
    return exam


def create_exam(*, db: Session, course: Course, settings: ExamSettings, by: User,
                ip: str | None = None) -> Exam:
    """Give a course version (an authored one, say) its exam."""
    if db.scalar(select(Exam.id).where(Exam.course_id == course.id)) is not None:
        raise Invalid(_("This course version already has an exam."), code="exam_exists",
                      errors=[{"loc": ["course_id"], "msg": _("This course version already has "
                                                              "an exam.")}])
    checked = check_settings(db=db, bank=course.code, settings=settings)
    exam = Exam(course_id=course.id, bank=course.code, title=checked.title,
                duration_minutes=checked.duration_minutes, pass_mark=checked.pass_mark,
                max_attempts=checked.max_attempts,
                requires_completion=checked.requires_completion, blueprint=checked.blueprint,
                available_from=checked.available_from, available_until=checked.available_until,
                review_mode=checked.review_mode, one_per_screen=checked.one_per_screen)
    db.add(exam)
    course.exam_spec = _spec_of(course, checked)
    db.flush()
    accounts.record_audit(db=db, action="exam.created", actor=by, object_type="exam",
                          object_id=exam.id, ip=ip,
                          detail={"bank": exam.bank, "course_id": course.id,
                                  "settings": _settings_record(checked)})
    db.flush()
    return exam


def parse_local_datetime(value: str) -> datetime | None | bool:
    """A date and time typed on a page, in Beijing time ('2026-05-01T09:00', '2026-05-01
    09:00', or a date alone for midnight): aware, or None when empty, or False when it is not
    a time."""
    text = (value or "").strip()
    if not text:
        return None
    for fmt in ("%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S",
                "%Y-%m-%d"):
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=LOCAL_TZ)
        except ValueError:
            continue
    return False


def local_input(value: datetime | None) -> str:
    """A timestamp as a datetime-local field shows it, in Beijing time."""
    return value.astimezone(LOCAL_TZ).strftime("%Y-%m-%dT%H:%M") if value else ""


# --- extra time (accessibility, WCAG 2.2.1) -------------------------------------------------------

def extra_times(*, db: Session, exam: Exam) -> list[tuple[ExtraTime, Worker]]:
    """The workers granted extra time on an exam, by name."""
    return [(grant, worker) for grant, worker in db.execute(
        select(ExtraTime, Worker).join(Worker, Worker.id == ExtraTime.worker_id)
        .where(ExtraTime.exam_id == exam.id).order_by(Worker.full_name, Worker.id))]


def find_workers(*, db: Session, query: str, limit: int = 20) -> list[Worker]:
    """Workers whose ID number starts with, or whose name contains, `query`."""
    text = query.strip()
    if not text:
        return []
    like = re.sub(r"([!%_])", r"!\1", text)
    return list(db.scalars(select(Worker).where(or_(
        Worker.id_number.ilike(like.upper() + "%", escape="!"),
        Worker.full_name.ilike("%" + like + "%", escape="!")))
        .order_by(Worker.full_name, Worker.id).limit(limit)))


def set_extra_time(*, db: Session, exam: Exam, worker: Worker, minutes: int, reason: str,
                   by: User, ip: str | None = None) -> ExtraTime | None:
    """Grant (or change, or with 0 minutes withdraw) a worker's extra minutes on an exam. New
    attempts get them on top of the duration; one already started keeps its deadline."""
    problems = Problems()
    reason = _one_line(reason)
    if not 0 <= minutes <= 600:
        problems.add(["minutes"], _("Give 0 to 600 extra minutes."))
    if minutes > 0 and not reason:
        problems.add(["reason"], _("Say why (for example: dyslexia, reading aid)."))
    if len(reason) > 200:
        problems.add(["reason"], _("At most {n} characters.").format(n=200))
    problems.raise_if_any()
    grant = db.get(ExtraTime, (exam.id, worker.id))
    before = {"minutes": grant.minutes, "reason": grant.reason} if grant else None
    if minutes == 0:
        if grant is not None:
            db.delete(grant)
        grant = None
    elif grant is None:
        grant = ExtraTime(exam_id=exam.id, worker_id=worker.id, minutes=minutes, reason=reason)
        db.add(grant)
    else:
        grant.minutes, grant.reason = minutes, reason
    db.flush()
    after = {"minutes": minutes, "reason": reason} if minutes else None
    if before != after:
        accounts.record_audit(db=db, action="exam.extra_time", actor=by, object_type="exam",
                              object_id=exam.id, enterprise_id=worker.enterprise_id, ip=ip,
                              detail={"worker_id": worker.id, "before": before, "after": after})
        db.flush()
    return grant


# --- correcting a key and regrading ---------------------------------------------------------------

@dataclass
class Regraded:
    attempt_id: int
    exam_id: int
    worker_id: int
    before: dict[str, Any]
    after: dict[str, Any]


@dataclass
class RegradeResult:
    question_id: int
    submitted: int = 0  # submitted attempts that contain the question
    in_progress: int = 0  # open attempts whose key was corrected (graded when they close)
    skipped: int = 0  # attempts drawn before the question's options changed in number
    changes: list[Regraded] = field(default_factory=list)


def correct_key(*, db: Session, question: Question, right: list[int], by: User,
                ip: str | None = None) -> Question:
    """Set which options of a question are right (texts and kind stay as they are)."""
    data = input_of(question)
    data.right = sorted(set(right))
    data.weights = None
    update_question(db=db, question=question, data=data, by=by, ip=ip)
    return question


def affected_attempts(*, db: Session, question: Question) -> list[Attempt]:
    """The attempts (any status) whose paper contains the question (two queries)."""
    exam_ids = select(Exam.id).where(Exam.bank == question.bank)
    attempts = db.scalars(select(Attempt).where(Attempt.exam_id.in_(exam_ids))
                          .order_by(Attempt.id)).all()
    return [a for a in attempts if any(item["question_id"] == question.id for item in a.paper)]


def regrade_question(*, db: Session, question: Question, by: User,
                     ip: str | None = None) -> RegradeResult:
    """Apply the question's current key to every attempt that drew it: the paper's right flags
    follow the question (options matched by their `index`); submitted attempts are graded
    again with exams.grade and every changed score is audited (attempt.regraded)."""
    result = RegradeResult(question_id=question.id)
    key = [float(option["weight"]) > 0 for option in question.options]
    candidates = affected_attempts(db=db, question=question)
    exam_rows = {e.id: e for e in db.scalars(select(Exam).where(
        Exam.id.in_({a.exam_id for a in candidates})))} if candidates else {}
    for found in candidates:
        attempt = db.scalar(select(Attempt).where(Attempt.id == found.id).with_for_update()
                            .execution_options(populate_existing=True))
        assert attempt is not None
        paper = copy.deepcopy(attempt.paper)
        item = next(i for i in paper if i["question_id"] == question.id)
        if len(item["options"]) != len(key) or any(o["index"] >= len(key)
                                                   for o in item["options"]):
            result.skipped += 1
            continue
        for option in item["options"]:
            option["right"] = key[option["index"]]
        if attempt.status != AttemptStatus.SUBMITTED.value:
            if paper != attempt.paper:
                db.execute(update(Attempt).where(Attempt.id == attempt.id).values(paper=paper))
            result.in_progress += 1
            continue
        result.submitted += 1
        exam = exam_rows[attempt.exam_id]
        score, right = exams.grade(paper, exams.answers_of(db=db, attempt_id=attempt.id))
        passed = score >= exam.pass_mark
        before = {"score": attempt.score, "passed": attempt.passed}
        db.execute(update(Attempt).where(Attempt.id == attempt.id)
                   .values(paper=paper, score=score, passed=passed))
        if before == {"score": score, "passed": passed}:
            continue
        _follow_enrolment(db, attempt, exam, passed)
        after = {"score": score, "passed": passed}
        result.changes.append(Regraded(attempt.id, exam.id, attempt.worker_id, before, after))
        accounts.record_audit(db=db, action="attempt.regraded", actor=by, object_type="attempt",
                              object_id=attempt.id, ip=ip, detail={
                                  "question_id": question.id, "bank": question.bank,
                                  "exam_id": exam.id, "worker_id": attempt.worker_id,
                                  "number": attempt.number, "right": right,
                                  "questions": len(paper), "before": before, "after": after})
    _audit(db, "question.regraded", by, question, ip, right=right_indexes(question),
           submitted=result.submitted, in_progress=result.in_progress, skipped=result.skipped,
           changed=len(result.changes))
    db.flush()
    return result


def _follow_enrolment(db: Session, attempt: Attempt, exam: Exam, passed: bool) -> None:
    """A regrade that turns the last allowed attempt into a pass lifts the retraining it
    caused; one that turns it into a fail imposes it (as grading would have)."""
    enrolment = db.get(Enrolment, attempt.enrolment_id)
    if enrolment is None or attempt.number < exam.max_attempts:
        return
    if not passed and enrolment.status in (EnrolmentStatus.ACTIVE.value,
                                           EnrolmentStatus.COMPLETED.value):
        enrolment.status = EnrolmentStatus.RETRAINING.value
    elif passed and enrolment.status == EnrolmentStatus.RETRAINING.value:
        newer = db.scalar(select(func.count()).select_from(Attempt).where(
            Attempt.enrolment_id == enrolment.id, Attempt.number > attempt.number)) or 0
        running = db.scalar(select(Enrolment.id).where(
            Enrolment.worker_id == enrolment.worker_id,
            Enrolment.course_id == enrolment.course_id,
            Enrolment.status == EnrolmentStatus.ACTIVE.value))
        if newer:
            return
        if enrolment.completed_at is not None:
            enrolment.status = EnrolmentStatus.COMPLETED.value
        elif running is None:
            enrolment.status = EnrolmentStatus.ACTIVE.value
    db.flush()

