"""Authoring: course drafts, their modules and lessons, uploads, publishing and archiving.

A draft is a Course row with status "draft". Every function that changes one checks that it is
still a draft, validates everything before writing anything (an Invalid lists each problem with
its location), flushes, and leaves the commit to the request. The course passed in must have
its modules and lessons loaded (get_course_or_404(structure=True)); the functions keep those
collections in step, so the caller can show the result without loading it again.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app import media
from app.accounts import service as accounts
from app.accounts.models import User
from app.courses.models import (
    MARKDOWN_KINDS,
    Audience,
    Course,
    CourseKind,
    CourseStatus,
    Lesson,
    LessonKind,
    Module,
    audience_value,
)
from app.courses.package import first_heading, image_size, is_equirectangular
from app.courses.service import archive_older, get_course_or_404
from app.db import utcnow
from app.errors import Conflict, Invalid
from app.exams import bank as exam_bank
from app.exams import service as exams
from app.i18n import N_
from app.i18n import gettext as _
from app.learning import profiles
from app.learning import service as learning
from app.learning.models import Enrolment, EnrolmentStatus
from app.organisations import reference

LOCALES = ("en", "zh_CN")
CODE_PATTERN = re.compile(r"^[A-Z0-9-]+$")
TITLE_MAX = 200
BODY_MAX = 100_000
MINUTES_MAX = 600
CERTIFICATE_YEARS_MAX = 50
MEDIA_TYPES: dict[str, frozenset[str]] = {
    LessonKind.VIDEO.value: frozenset({"mp4"}),
    LessonKind.DOCUMENT.value: frozenset({"pdf"}),
    LessonKind.PANORAMA.value: frozenset({"jpg", "png", "webp"}),
}
Loc = list[str | int]


@dataclass
class CertificateFields:
    """The certificate a course issues (as a course package's `certificate` block)."""

    title: dict[str, str]
    validity_years: int
    review_years: int

    def as_block(self) -> dict[str, Any]:
        return {"title": dict(self.title), "validity_years": self.validity_years,
                "review_years": self.review_years}


@dataclass
class CourseFields:
    """What an author sets on a course version (the code is set once, at creation)."""

    title: dict[str, str]
    job_category: str
    kind: str
    credit_hours: float
    required_minutes: int
    practical_required: bool = False
    description: dict[str, str] = field(default_factory=dict)
    certificate: CertificateFields | None = None  # None: the course issues no certificate
    # The roles offered the course; None keeps what the course has (workers for a new one).
    audience: list[str] | None = None


@dataclass
class LessonFields:
    """What an author sets on a lesson (media and hotspots have their own functions)."""

    title: dict[str, str]
    minutes: int
    body: dict[str, str] = field(default_factory=dict)


@dataclass
class Hotspot:
    """One point of a panorama; `hazard` ones must all be found to complete the lesson."""

    yaw: float
    pitch: float
    label: dict[str, str]
    hazard: bool = False
    description: dict[str, str] = field(default_factory=dict)


@dataclass
class CheckedMedia:
    data: bytes
    duration_seconds: float | None


class _Problems:
    """Problems collected while validating, raised together."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def add(self, loc: Loc, message: str) -> None:
        self.items.append({"loc": loc, "msg": message})

    def raise_if_any(self, message: str | None = None) -> None:
        if self.items:
            raise Invalid(message or _("Some fields need correcting; nothing was saved."),
                          errors=self.items)


# --- validation ---------------------------------------------------------------------------

def _clean_localized(value: dict[str, str] | None, loc: Loc, problems: _Problems, *,
                     required: bool, limit: int = TITLE_MAX) -> dict[str, str]:
    value = value or {}
    result = {}
    for locale, text in value.items():
        if locale not in LOCALES:
            problems.add([*loc, locale], _("Only English (en) and Chinese (zh_CN) are used."))
            continue
        text = (text or "").strip()
        if len(text) > limit:
            problems.add([*loc, locale], _("At most {n} characters.").format(n=limit))
        elif text:
            result[locale] = text
    if required and not result.get("en"):
        problems.add([*loc, "en"], _("The English text is required."))
    return result


def _check_code(code: str, problems: _Problems) -> str:
    code = code.strip()
    if not code:
        problems.add(["code"], _("The course code is required."))
    elif len(code) > 64 or not CODE_PATTERN.match(code):
        problems.add(["code"], _("Use capital letters, digits and hyphens only (at most 64), "
                                 "for example GAS-INSPECTION."))
    return code


def _check_course(fields: CourseFields, problems: _Problems) -> CourseFields:
    title = _clean_localized(fields.title, ["title"], problems, required=True)
    description = _clean_localized(fields.description, ["description"], problems,
                                   required=False, limit=2000)
    if fields.job_category not in reference.job_category_codes():
        problems.add(["job_category"], _("Choose a job category from the list."))
    if fields.kind not in {k.value for k in CourseKind}:
        problems.add(["kind"], _("Choose a kind of course from the list."))
    if not math.isfinite(fields.credit_hours) or not 0 <= fields.credit_hours <= 1000:
        problems.add(["credit_hours"], _("Enter a number of class hours from 0 to 1000."))
    if not 0 <= fields.required_minutes <= 100_000:
        problems.add(["required_minutes"], _("Enter a number of minutes from 0 to 100000."))
    certificate = _check_certificate(fields.certificate, problems)
    audience = None if fields.audience is None else sorted(set(fields.audience))
    if audience is None:
        pass
    elif not audience:
        problems.add(["audience"], _("Offer the course to workers, to supervisory cadres, "
                                     "or to both."))
    elif not set(audience) <= {a.value for a in Audience}:
        problems.add(["audience"], _("A course is offered to workers or supervisory cadres "
                                     "only."))
    return CourseFields(title=title, job_category=fields.job_category, kind=fields.kind,
                        credit_hours=fields.credit_hours, required_minutes=fields.required_minutes,
                        practical_required=bool(fields.practical_required),
                        description=description, certificate=certificate, audience=audience)


def _check_certificate(fields: CertificateFields | None,
                       problems: _Problems) -> CertificateFields | None:
    if fields is None:
        return None
    title = _clean_localized(fields.title, ["certificate", "title"], problems, required=True)
    validity, review = fields.validity_years, fields.review_years
    if not 1 <= validity <= CERTIFICATE_YEARS_MAX:
        problems.add(["certificate", "validity_years"],
                     _("The certificate is valid for 1 to {n} years.").format(
                         n=CERTIFICATE_YEARS_MAX))
    if not 1 <= review <= CERTIFICATE_YEARS_MAX:
        problems.add(["certificate", "review_years"],
                     _("Give the years between reviews, 1 to {n}.").format(
                         n=CERTIFICATE_YEARS_MAX))
    elif 1 <= validity <= CERTIFICATE_YEARS_MAX and review > validity:
        problems.add(["certificate", "review_years"],
                     _("The review falls due within the validity ({n} years) at the latest.")
                     .format(n=validity))
    return CertificateFields(title=title, validity_years=validity, review_years=review)


def _check_lesson(kind: str, fields: LessonFields, problems: _Problems) -> LessonFields:
    body: dict[str, str] = {}
    title = dict(fields.title or {})
    if kind in MARKDOWN_KINDS:
        for locale, text in (fields.body or {}).items():
            if locale not in LOCALES:
                problems.add(["body", locale], _("Only English (en) and Chinese (zh_CN) are "
                                                 "used."))
            elif len(text or "") > BODY_MAX:
                problems.add(["body", locale], _("At most {n} characters.").format(n=BODY_MAX))
            elif (text or "").strip():
                body[locale] = text.replace("\r\n", "\n").strip() + "\n"
        if not body.get("en"):
            problems.add(["body", "en"], _("Write the lesson's English text."))
        for locale, text in body.items():
            if not (title.get(locale) or "").strip() and first_heading(text):
                title[locale] = first_heading(text)
    title = _clean_localized(title, ["title"], problems, required=False)
    if not title.get("en") and not any(p["loc"][:2] == ["body", "en"] for p in problems.items):
        problems.add(["title", "en"], _("The English title is required (or start the English "
                                        "text with a '# heading').")
                     if kind in MARKDOWN_KINDS else _("The English title is required."))
    if not 1 <= fields.minutes <= MINUTES_MAX:
        problems.add(["minutes"], _("Enter the study time in minutes, from 1 to {n}.")
                     .format(n=MINUTES_MAX))
    return LessonFields(title=title, minutes=fields.minutes, body=body)


def _check_hotspots(hotspots: list[Hotspot], problems: _Problems) -> list[dict[str, Any]]:
    result = []
    for index, spot in enumerate(hotspots):
        loc: Loc = ["hotspots", index]
        if not (math.isfinite(spot.yaw) and -180 <= spot.yaw <= 180):
            problems.add([*loc, "yaw"], _("Yaw is an angle from -180 to 180."))
        if not (math.isfinite(spot.pitch) and -90 <= spot.pitch <= 90):
            problems.add([*loc, "pitch"], _("Pitch is an angle from -90 to 90."))
        label = _clean_localized(spot.label, [*loc, "label"], problems, required=True)
        description = _clean_localized(spot.description, [*loc, "description"], problems,
                                       required=False, limit=1000)
        item: dict[str, Any] = {"yaw": spot.yaw, "pitch": spot.pitch, "label": label,
                                "hazard": bool(spot.hazard)}
        if description:
            item["description"] = description
        result.append(item)
    if len(result) > 50:
        problems.add(["hotspots"], _("At most 50 hotspots."))
    return result


def upload_limit(kind: str) -> int:
    """How many bytes an upload for a lesson of `kind` may have (read at most this plus one)."""
    return max(media.KINDS[k].max_bytes for k in MEDIA_TYPES[kind])


def accepted_types(kind: str) -> str:
    """The file types a lesson of `kind` takes, for messages and the file picker."""
    return ", ".join(sorted(MEDIA_TYPES[kind]))


def check_media(*, kind: str, data: bytes, loc: Loc | None = None) -> CheckedMedia:
    """The upload if it may be the media of a lesson of `kind`: real content type (magic bytes),
    size, panoramas 2:1, videos with a readable duration; Invalid otherwise."""
    loc = loc or ["file"]
    problems = _Problems()
    if kind not in MEDIA_TYPES:
        problems.add(loc, _("Text and case lessons have no file; write their Markdown."))
        problems.raise_if_any()
    allowed = MEDIA_TYPES[kind]
    duration = None
    if not data:
        problems.add(loc, _("Choose a file to upload."))
    elif media.problem(data, allowed=allowed):
        sniffed = media.sniff(data)
        if sniffed in allowed and len(data) > media.KINDS[sniffed].max_bytes:
            problems.add(loc, _("The file is larger than {mb} MB.").format(
                mb=media.KINDS[sniffed].max_bytes // (1024 * 1024)))
        else:
            problems.add(loc, _("The file's content is not {types} (it was checked, not its "
                                "name).").format(types=accepted_types(kind)))
    elif kind == LessonKind.PANORAMA.value:
        size = image_size(data)
        if size is None:
            problems.add(loc, _("The image cannot be read."))
        elif not is_equirectangular(*size):
            problems.add(loc, _("A 360° panorama is twice as wide as it is high "
                                "(equirectangular); this image is {w}×{h}.").format(
                                    w=size[0], h=size[1]))
    elif kind == LessonKind.VIDEO.value:
        duration = media.mp4_duration_seconds(data)
        if not duration or not math.isfinite(duration) or duration <= 0:
            problems.add(loc, _("The video's duration cannot be read; export it again as "
                                "MP4 (H.264)."))
    problems.raise_if_any(problems.items[0]["msg"] if problems.items else None)
    return CheckedMedia(data=data, duration_seconds=duration)


# --- lookups ------------------------------------------------------------------------------

def ensure_draft(course: Course) -> None:
    """Only drafts may be changed; published and archived versions are history."""
    if course.status != CourseStatus.DRAFT.value:
        raise Conflict(_("Version {version} of {code} is {status}; only drafts can be edited. "
                         "Make a new version to change it.").format(
                             version=course.version, code=course.code,
                             status=status_label(course.status)),
                       code="course_not_draft")


def status_label(status: str) -> str:
    """A course status in the current language."""
    return {CourseStatus.DRAFT.value: _("draft"), CourseStatus.PUBLISHED.value: _("published"),
            CourseStatus.ARCHIVED.value: _("archived")}.get(status, status)


def module_of(course: Course, module_id: int) -> Module | None:
    """The module of a course (structure loaded), or None."""
    return next((m for m in course.modules if m.id == module_id), None)


def lesson_of(course: Course, lesson_id: int) -> Lesson | None:
    """The lesson of a course (structure loaded), or None."""
    return next((lesson for m in course.modules for lesson in m.lessons
                 if lesson.id == lesson_id), None)


def list_all(*, db: Session) -> list[Course]:
    """Every course version, by code and newest version first."""
    return list(db.scalars(select(Course).order_by(Course.code, Course.version.desc())))


def draft_of(*, db: Session, code: str) -> Course | None:
    """The draft of a course code, if there is one."""
    return db.scalar(select(Course).where(Course.code == code,
                                          Course.status == CourseStatus.DRAFT.value))


def _next_version(db: Session, code: str) -> int:
    return (db.scalar(select(func.max(Course.version)).where(Course.code == code)) or 0) + 1


def _refuse_second_draft(db: Session, code: str) -> None:
    existing = draft_of(db=db, code=code)
    if existing is not None:
        raise Conflict(_("There already is a draft of {code} (version {version}); edit or "
                         "discard it first.").format(code=code, version=existing.version),
                       code="draft_exists", extra={"draft_id": existing.id})


def _audit(db: Session, action: str, course: Course, by: User, ip: str | None = None,
           **detail: Any) -> None:
    accounts.record_audit(db=db, action=action, actor=by, object_type="course",
                          object_id=course.id, ip=ip,
                          detail={"code": course.code, "version": course.version, **detail})


def _flush_new_version(db: Session, course: Course) -> None:
    try:
        db.flush()
    except IntegrityError:
        # Another author took this version number at the same moment (PostgreSQL).
        raise Conflict(_("Someone else created version {version} of {code} at the same time; "
                         "open the course list and try again.").format(
                             version=course.version, code=course.code),
                       code="draft_exists") from None


def _renumber(items: list[Any]) -> None:
    for position, item in enumerate(items, start=1):
        item.position = position


# --- courses ------------------------------------------------------------------------------

def create_draft(*, db: Session, code: str, fields: CourseFields, by: User,
                 ip: str | None = None) -> Course:
    """A new, empty draft; its version is one more than the highest version of its code."""
    problems = _Problems()
    code = _check_code(code, problems)
    clean = _check_course(fields, problems)
    problems.raise_if_any()
    _refuse_second_draft(db, code)
    course = Course(code=code, version=_next_version(db, code),
                    status=CourseStatus.DRAFT.value, title=clean.title,
                    description=clean.description, job_category=clean.job_category,
                    kind=clean.kind, credit_hours=clean.credit_hours,
                    required_minutes=clean.required_minutes,
                    practical_required=clean.practical_required,
                    audience=audience_value(clean.audience or [Audience.WORKER.value]),
                    certificate=clean.certificate.as_block() if clean.certificate else None,
                    created_by=by.id, modules=[])
    db.add(course)
    _flush_new_version(db, course)
    _audit(db, "course.draft_created", course, by, ip)
    return course


def new_version(*, db: Session, course: Course, by: User, ip: str | None = None) -> Course:
    """A draft copying a published or archived version (modules, lessons, media, hotspots,
    exam, certificate, practical) as the next version of its code."""
    if course.status == CourseStatus.DRAFT.value:
        raise Conflict(_("This is already a draft; edit it."), code="course_is_draft")
    _refuse_second_draft(db, course.code)
    draft = Course(code=course.code, version=_next_version(db, course.code),
                   status=CourseStatus.DRAFT.value, title=dict(course.title),
                   description=dict(course.description or {}), job_category=course.job_category,
                   kind=course.kind, credit_hours=course.credit_hours,
                   required_minutes=course.required_minutes,
                   practical_required=course.practical_required, audience=course.audience,
                   certificate=_copy(course.certificate), practical=_copy(course.practical),
                   exam_spec=_copy(course.exam_spec), created_by=by.id, modules=[])
    db.add(draft)
    _flush_new_version(db, draft)
    for module in course.modules:
        copy = Module(position=module.position, title=dict(module.title), lessons=[])
        draft.modules.append(copy)
        for lesson in module.lessons:
            copy.lessons.append(Lesson(
                course_id=draft.id, position=lesson.position, kind=lesson.kind,
                title=dict(lesson.title), minutes=lesson.minutes, body=dict(lesson.body or {}),
                media_key=lesson.media_key, duration_seconds=lesson.duration_seconds,
                hotspots=_copy(lesson.hotspots) or []))
    db.flush()
    exams.copy_exam(db=db, source=course, target=draft)
    _audit(db, "course.version_created", draft, by, ip, copied_from=course.id)
    return draft


def _copy(value: Any) -> Any:
    """A deep copy of JSON data, so the new version never shares a mutable value."""
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def update_course(*, db: Session, course: Course, fields: CourseFields, by: User,
                  ip: str | None = None) -> Course:
    """Change a draft's title, description, category, kind and hours."""
    ensure_draft(course)
    problems = _Problems()
    clean = _check_course(fields, problems)
    problems.raise_if_any()
    course.title = clean.title
    course.description = clean.description
    course.job_category = clean.job_category
    course.kind = clean.kind
    course.credit_hours = clean.credit_hours
    course.required_minutes = clean.required_minutes
    course.practical_required = clean.practical_required
    if clean.audience is not None:
        course.audience = audience_value(clean.audience)
    course.certificate = _merged_certificate(course.certificate, clean.certificate)
    db.flush()
    _audit(db, "course.draft_updated", course, by, ip)
    return course


def _merged_certificate(current: dict[str, Any] | None,
                        fields: CertificateFields | None) -> dict[str, Any] | None:
    # Keys a package may add beside the three edited here are kept.
    if fields is None:
        return None
    return {**_copy(current or {}), **fields.as_block()}


def certificate_fields(course: Course) -> CertificateFields | None:
    """A course's certificate block as the fields an author edits."""
    block = course.certificate
    if not block:
        return None
    return CertificateFields(title=dict(block.get("title") or {}),
                             validity_years=int(block.get("validity_years") or 0),
                             review_years=int(block.get("review_years") or 0))


def discard_draft(*, db: Session, course: Course, by: User, ip: str | None = None) -> None:
    """Delete a draft with its modules and lessons (media files stay: others may share them)."""
    ensure_draft(course)
    _audit(db, "course.draft_discarded", course, by, ip)
    exams.delete_exam_of_draft(db=db, course=course)
    db.delete(course)
    db.flush()


def publish_problems(course: Course, *, db: Session) -> list[dict[str, Any]]:
    """What keeps a draft from being published ({loc, msg} each); empty when it is ready:
    its content, its exam (a course with a certificate, an exam block or a special-operations
    job category needs a drawable one) and the rule profile's minimums for special operations."""
    problems = _Problems()
    _content_problems(course, problems)
    profile = profiles.active_profile(db=db)
    _exam_problems(db, course, profile.code, profile.data, problems)
    if course.job_category in reference.special_operation_codes():
        _special_operation_problems(course, profile.code, profile.data, problems)
    return problems.items


def _content_problems(course: Course, problems: _Problems) -> None:
    if not (course.title or {}).get("en"):
        problems.add(["title", "en"], _("The course needs an English title."))
    if not course.modules:
        problems.add(["modules"], _("Add at least one module."))
    for m, module in enumerate(course.modules, start=1):
        if not module.lessons:
            problems.add(["modules", m], _("Module {m} has no lessons.").format(m=m))
        for n, lesson in enumerate(module.lessons, start=1):
            where = _("Module {m}, lesson {n}").format(m=m, n=n)
            loc: Loc = ["modules", m, "lessons", n]
            if not (lesson.title or {}).get("en"):
                problems.add(loc, _("{where}: the English title is missing.").format(where=where))
            if lesson.kind in MARKDOWN_KINDS and not (lesson.body or {}).get("en", "").strip():
                problems.add(loc, _("{where}: the English text is missing.").format(where=where))
            if lesson.kind in MEDIA_TYPES and not lesson.media_key:
                problems.add(loc, _("{where}: no file has been uploaded.").format(where=where))
            if lesson.kind == LessonKind.VIDEO.value and lesson.media_key and \
                    not lesson.duration_seconds:
                problems.add(loc, _("{where}: the video's duration is unknown.").format(
                    where=where))
            if lesson.minutes < 1:
                problems.add(loc, _("{where}: the study time is missing.").format(where=where))


def needs_exam(course: Course) -> bool:
    """Whether a course cannot go without a theory exam: it issues a certificate, declares an
    exam, or trains a special operation (whose certificate needs a theory pass)."""
    return bool(course.certificate or course.exam_spec) or \
        course.job_category in reference.special_operation_codes()


def _exam_problems(db: Session, course: Course, profile_code: str, rules: dict[str, Any],
                   problems: _Problems) -> None:
    exam = exams.exam_of(db=db, course_id=course.id)
    if exam is not None:
        duration, pass_mark, attempts = exam.duration_minutes, exam.pass_mark, exam.max_attempts
        blueprint = list(exam.blueprint or [])
    elif course.exam_spec:
        spec = course.exam_spec
        duration, pass_mark = int(spec.get("duration_minutes", 0)), int(spec.get("pass_mark", 0))
        attempts, blueprint = int(spec.get("max_attempts", 0)), list(spec.get("blueprint") or [])
    else:
        if needs_exam(course):
            problems.add(["exam"], _(
                "This course needs a theory exam (it issues a certificate or trains a special "
                "operation): set up the exam of version {version} in the question bank {code}.")
                .format(version=course.version, code=course.code))
        return
    if sum(int(item.get("count", 0)) for item in blueprint) < 1:
        problems.add(["exam", "blueprint"], _("The exam draws no questions: choose how many "
                                              "questions to draw from each category."))
    available = exam_bank.available_counts(db=db, bank=exam.bank if exam else course.code)
    for item in blueprint:
        have, need = available.get(item["category"], 0), int(item["count"])
        if need > have:
            problems.add(["exam", "blueprint"], _(
                "The exam draws {need} questions from category {category}, which has {have} "
                "active questions.").format(need=need, category=item["category"], have=have))
    if course.job_category not in reference.special_operation_codes():
        return
    rule = (rules.get("special_operations") or {}).get("exam") or {}
    if "duration_minutes" in rule and duration < int(rule["duration_minutes"]):
        problems.add(["exam", "duration_minutes"], _(
            "Special-operations exams last {n} minutes (rule profile {profile}: "
            "special_operations.exam.duration_minutes); this exam lasts {m}.").format(
                n=int(rule["duration_minutes"]), profile=profile_code, m=duration))
    if "pass_mark" in rule and pass_mark < int(rule["pass_mark"]):
        problems.add(["exam", "pass_mark"], _(
            "Special-operations exams pass at {n} points or more (rule profile {profile}: "
            "special_operations.exam.pass_mark); this exam passes at {m}.").format(
                n=int(rule["pass_mark"]), profile=profile_code, m=pass_mark))
    if "attempts" in rule and attempts > int(rule["attempts"]):
        problems.add(["exam", "max_attempts"], _(
            "Special-operations exams allow at most {n} attempts (rule profile {profile}: "
            "special_operations.exam.attempts); this exam allows {m}.").format(
                n=int(rule["attempts"]), profile=profile_code, m=attempts))


def _minimum_hours(course: Course, rules: dict[str, Any]) -> tuple[float, str] | None:
    """The class hours a special-operations course must give, with the profile key it comes
    from: review courses the review training, refreshers the annual hours, initial courses
    (and any course issuing the certificate) the initial training; None for other courses."""
    special = rules.get("special_operations") or {}
    if course.kind == CourseKind.REVIEW.value:
        value = (special.get("certificate") or {}).get("review_training_hours")
        key = "special_operations.certificate.review_training_hours"
    elif course.kind == CourseKind.REFRESHER.value:
        value, key = special.get("annual_hours"), "special_operations.annual_hours"
    elif course.kind == CourseKind.INITIAL.value or course.certificate:
        value, key = special.get("initial_hours"), "special_operations.initial_hours"
    else:
        return None
    return (float(value), key) if value is not None else None


def _special_operation_problems(course: Course, profile_code: str, rules: dict[str, Any],
                                problems: _Problems) -> None:
    minimum = _minimum_hours(course, rules)
    if minimum is not None:
        hours, key = minimum
        if course.credit_hours < hours:
            problems.add(["credit_hours"], _(
                "Special operations need at least {n} class hours (rule profile {profile}: "
                "{key}); this course gives {h}.").format(
                    n=f"{hours:g}", profile=profile_code, key=key, h=f"{course.credit_hours:g}"))
        online = int((rules.get("class_hour_minutes") or {}).get("online", 0))
        minutes = math.ceil(hours * online)
        if course.required_minutes < minutes:
            problems.add(["required_minutes"], _(
                "Special operations need at least {m} minutes of credited online study: {n} "
                "class hours of {k} minutes (rule profile {profile}: {key} and "
                "class_hour_minutes.online); this course requires {r}.").format(
                    m=minutes, n=f"{hours:g}", k=online, profile=profile_code, key=key,
                    r=course.required_minutes))
    if course.kind == CourseKind.INITIAL.value and not course.certificate:
        problems.add(["certificate"], _(
            "An initial special-operations course issues the operations certificate: give it "
            "the certificate settings."))
    limits = (rules.get("special_operations") or {}).get("certificate") or {}
    block = course.certificate or {}
    for name, label in (("validity_years", "special_operations.certificate.validity_years"),
                        ("review_years", "special_operations.certificate.review_years")):
        if block and name in limits and int(block.get(name) or 0) > int(limits[name]):
            problems.add(["certificate", name], _(
                "Special-operations certificates allow at most {n} years here (rule profile "
                "{profile}: {key}); this course sets {m}.").format(
                    n=int(limits[name]), profile=profile_code, key=label,
                    m=int(block.get(name) or 0)))


def publish(*, db: Session, course: Course, by: User, ip: str | None = None) -> Course:
    """Publish a complete draft; older published versions of its code are archived (their
    enrolments stay on them)."""
    ensure_draft(course)
    newer = db.scalar(select(func.max(Course.version)).where(Course.code == course.code,
                                                             Course.id != course.id))
    if newer is not None and newer > course.version:
        raise Conflict(_("Version {newer} of {code} exists already; this draft (version "
                         "{version}) would replace a newer version. Discard it and make a new "
                         "version instead.").format(newer=newer, code=course.code,
                                                    version=course.version),
                       code="newer_version_exists")
    problems = publish_problems(course, db=db)
    if problems:
        raise Invalid(_("The draft is not complete yet; nothing was published."),
                      errors=problems, code="draft_incomplete")
    course.status = CourseStatus.PUBLISHED.value
    course.published_at = utcnow()
    db.flush()
    archive_older(db, course)
    exams.sync_exam(db=db, course=course)  # the exam block copied from the previous version
    _audit(db, "course.published", course, by, ip)
    return course


def archive(*, db: Session, course: Course, by: User, ip: str | None = None) -> Course:
    """Close a published version to new enrolments; running enrolments continue."""
    if course.status != CourseStatus.PUBLISHED.value:
        raise Conflict(_("Only a published course can be archived."),
                       code="course_not_published")
    course.status = CourseStatus.ARCHIVED.value
    db.flush()
    _audit(db, "course.archived", course, by, ip)
    return course


# --- what publishing changes ---------------------------------------------------------------

@dataclass
class LessonChange:
    """A lesson that is new, gone or changed in the draft (against the version before it)."""

    title: dict[str, str]
    kind: str
    minutes: int


@dataclass
class PublishChanges:
    """What publishing a draft changes, for the confirmation page: against the newest earlier
    version (None when the code was never published), and for learners of earlier versions."""

    previous: Course | None
    added: list[LessonChange] = field(default_factory=list)
    removed: list[LessonChange] = field(default_factory=list)
    changed: list[LessonChange] = field(default_factory=list)
    unchanged: int = 0
    # (label, before, after) of each course and exam setting, with whether it differs.
    settings: list[tuple[str, str, str, bool]] = field(default_factory=list)
    archived: list[int] = field(default_factory=list)  # published versions closed by this
    active: int = 0  # enrolments running on earlier versions
    completed: int = 0  # enrolments completed on earlier versions


def _change(lesson: Lesson) -> LessonChange:
    return LessonChange(title=dict(lesson.title or {}), kind=lesson.kind, minutes=lesson.minutes)


def _exam_rows(exam: Any) -> dict[str, str]:
    if exam is None:
        return {}
    return {_("Exam duration"): _("{n} min").format(n=exam.duration_minutes),
            _("Questions drawn"): str(exams.question_count(exam)),
            _("Pass mark"): str(exam.pass_mark),
            _("Attempts allowed"): str(exam.max_attempts),
            _("The exam opens only when the course is completed"):
                _("yes") if exam.requires_completion else _("no"),
            _("One question per screen"): _("yes") if exam.one_per_screen else _("no")}


def _setting_rows(course: Course | None, exam: Any) -> dict[str, str]:
    if course is None:
        return {}
    return {_("Online study required"): _("{n} min").format(n=course.required_minutes),
            _("Class hours"): f"{course.credit_hours:g}",
            _("Practical test"): _("required") if course.practical_required
            else _("not required"),
            _("Offered to"): audience_label(course.audience_roles),
            **_exam_rows(exam)}


AUDIENCE_LABELS = {Audience.WORKER.value: N_("workers"),
                   Audience.REGULATOR.value: N_("supervisory cadres")}


def audience_label(roles: list[str]) -> str:
    """Who a course is offered to, in words ("workers, supervisory cadres")."""
    return ", ".join(_(AUDIENCE_LABELS[r]) if r in AUDIENCE_LABELS else r for r in roles)


def publish_changes(*, db: Session, course: Course) -> PublishChanges:
    """What publishing this draft changes: lessons added, removed and changed since the newest
    earlier version, its settings and exam before and after, the versions archived, and how many
    learners run or completed earlier versions (they stay there unless moved)."""
    previous_id = db.scalar(select(Course.id).where(
        Course.code == course.code, Course.version < course.version,
        Course.status != CourseStatus.DRAFT.value).order_by(Course.version.desc()).limit(1))
    previous = get_course_or_404(db=db, course_id=previous_id, structure=True) \
        if previous_id is not None else None
    changes = PublishChanges(previous=previous)
    new = [lesson for module in course.modules for lesson in module.lessons]
    old = [lesson for module in previous.modules for lesson in module.lessons] \
        if previous else []
    # "Unchanged" is the move rule's own test, so this page never disagrees with what a moved
    # learner keeps; a changed lesson is one of the same English title that is not unchanged.
    signature = learning._lesson_signature  # noqa: SLF001
    left = list(old)
    rest: list[Lesson] = []
    for lesson in new:
        match = next((o for o in left if signature(o) == signature(lesson)), None)
        if match is None:
            rest.append(lesson)
        else:
            left.remove(match)
            changes.unchanged += 1
    for lesson in rest:
        match = next((o for o in left if (o.title or {}).get("en") == (lesson.title or {})
                      .get("en")), None)
        if match is None:
            changes.added.append(_change(lesson))
        else:
            left.remove(match)
            changes.changed.append(_change(lesson))
    changes.removed = [_change(lesson) for lesson in left]
    before = _setting_rows(previous, exams.exam_of(db=db, course_id=previous.id)
                           if previous else None)
    after = _setting_rows(course, exams.exam_of(db=db, course_id=course.id))
    dash = "—"
    changes.settings = [(label, before.get(label, dash), after.get(label, dash),
                         before.get(label, dash) != after.get(label, dash))
                        for label in [*after, *(k for k in before if k not in after)]]
    changes.archived = list(db.scalars(select(Course.version).where(
        Course.code == course.code, Course.id != course.id,
        Course.status == CourseStatus.PUBLISHED.value).order_by(Course.version)))
    counts: dict[str, int] = {status: count for status, count in db.execute(select(
        Enrolment.status, func.count()).join(
        Course, Course.id == Enrolment.course_id).where(
        Course.code == course.code, Course.id != course.id,
        Enrolment.status.in_([EnrolmentStatus.ACTIVE.value, EnrolmentStatus.COMPLETED.value]))
        .group_by(Enrolment.status)).all()}
    changes.active = int(counts.get(EnrolmentStatus.ACTIVE.value, 0))
    changes.completed = int(counts.get(EnrolmentStatus.COMPLETED.value, 0))
    return changes


# --- modules ------------------------------------------------------------------------------

def _module_title(title: dict[str, str]) -> dict[str, str]:
    problems = _Problems()
    clean = _clean_localized(title, ["title"], problems, required=True)
    problems.raise_if_any()
    return clean


def add_module(*, db: Session, course: Course, title: dict[str, str], by: User) -> Module:
    """Append a module to a draft."""
    ensure_draft(course)
    clean = _module_title(title)
    module = Module(position=len(course.modules) + 1, title=clean, lessons=[])
    course.modules.append(module)
    db.flush()
    _audit(db, "course.module_added", course, by, module_id=module.id)
    return module


def rename_module(*, db: Session, course: Course, module: Module, title: dict[str, str],
                  by: User) -> Module:
    """Change a module's title."""
    ensure_draft(course)
    module.title = _module_title(title)
    db.flush()
    _audit(db, "course.module_renamed", course, by, module_id=module.id)
    return module


def delete_module(*, db: Session, course: Course, module: Module, by: User) -> None:
    """Remove a module and its lessons from a draft."""
    ensure_draft(course)
    course.modules.remove(module)
    _renumber(course.modules)
    db.flush()
    _audit(db, "course.module_deleted", course, by, module_id=module.id)


def move_module(*, db: Session, course: Course, module: Module, offset: int, by: User) -> None:
    """Move a module up (offset -1) or down (+1); at either end nothing moves."""
    ensure_draft(course)
    modules = list(course.modules)
    index = modules.index(module)
    target = index + offset
    if 0 <= target < len(modules) and target != index:
        modules.insert(target, modules.pop(index))
        course.modules = modules
        _renumber(course.modules)
        db.flush()
        _audit(db, "course.reordered", course, by)


def reorder(*, db: Session, course: Course, order: list[tuple[int, list[int]]],
            by: User) -> None:
    """Put modules, and the lessons in them, in the given order: every module id once, each
    with the ids of its lessons (a lesson may move to another module)."""
    ensure_draft(course)
    modules = {m.id: m for m in course.modules}
    lessons = {lesson.id: lesson for m in course.modules for lesson in m.lessons}
    problems = _Problems()
    module_ids = [module_id for module_id, _lessons in order]
    lesson_ids = [lesson_id for _module, ids in order for lesson_id in ids]
    if sorted(module_ids) != sorted(modules):
        problems.add(["modules"], _("List every module of the course exactly once."))
    if sorted(lesson_ids) != sorted(lessons):
        problems.add(["lessons"], _("List every lesson of the course exactly once."))
    problems.raise_if_any(problems.items[0]["msg"] if problems.items else None)
    new_lists = {module_id: [lessons[i] for i in ids] for module_id, ids in order}
    for module_id, items in new_lists.items():
        for lesson in items:
            if lesson.module_id != module_id:
                modules[lesson.module_id].lessons.remove(lesson)
    course.modules = [modules[i] for i in module_ids]
    _renumber(course.modules)
    for module_id, items in new_lists.items():
        modules[module_id].lessons = items
        _renumber(items)
    db.flush()
    _audit(db, "course.reordered", course, by)


# --- lessons ------------------------------------------------------------------------------

def add_lesson(*, db: Session, course: Course, module: Module, kind: str, fields: LessonFields,
               upload: bytes | None = None, hotspots: list[Hotspot] | None = None,
               require_media: bool = False, by: User) -> Lesson:
    """Append a lesson to a module of a draft: Markdown for text and case, a checked upload
    for video, document and panorama (optional unless `require_media`; publishing needs it)."""
    ensure_draft(course)
    problems = _Problems()
    if kind not in {k.value for k in LessonKind}:
        problems.add(["kind"], _("Choose a kind of lesson from the list."))
        problems.raise_if_any()
    clean = _check_lesson(kind, fields, problems)
    spots = _lesson_hotspots(kind, hotspots, problems)
    checked = _maybe_media(kind, upload, problems)
    if require_media and kind in MEDIA_TYPES and not upload:
        problems.add(["file"], _("Choose a file to upload."))
    problems.raise_if_any()
    lesson = Lesson(course_id=course.id, position=len(module.lessons) + 1, kind=kind,
                    title=clean.title, minutes=clean.minutes, body=clean.body,
                    hotspots=spots or [])
    if checked is not None:
        _attach(lesson, checked)
    module.lessons.append(lesson)
    db.flush()
    _audit(db, "course.lesson_added", course, by, lesson_id=lesson.id, kind=kind)
    return lesson


def _lesson_hotspots(kind: str, hotspots: list[Hotspot] | None,
                     problems: _Problems) -> list[dict[str, Any]] | None:
    if hotspots is None:
        return None
    if kind != LessonKind.PANORAMA.value:
        if hotspots:
            problems.add(["hotspots"], _("Only 360° panorama lessons have hotspots."))
        return None
    return _check_hotspots(hotspots, problems)


def _maybe_media(kind: str, upload: bytes | None, problems: _Problems) -> CheckedMedia | None:
    if not upload:
        return None
    try:
        return check_media(kind=kind, data=upload)
    except Invalid as exc:
        problems.items.extend(exc.errors)
        return None


def _attach(lesson: Lesson, checked: CheckedMedia) -> None:
    lesson.media_key = media.store(checked.data)
    lesson.duration_seconds = checked.duration_seconds


def update_lesson(*, db: Session, course: Course, lesson: Lesson, fields: LessonFields,
                  upload: bytes | None = None, hotspots: list[Hotspot] | None = None,
                  module: Module | None = None, by: User) -> Lesson:
    """Change a lesson's title, minutes and text; optionally replace its file, its hotspots,
    or move it to the end of another module of the same draft."""
    ensure_draft(course)
    problems = _Problems()
    clean = _check_lesson(lesson.kind, fields, problems)
    spots = _lesson_hotspots(lesson.kind, hotspots, problems)
    checked = _maybe_media(lesson.kind, upload, problems)
    problems.raise_if_any()
    lesson.title = clean.title
    lesson.minutes = clean.minutes
    if lesson.kind in MARKDOWN_KINDS:
        lesson.body = clean.body
    if spots is not None:
        lesson.hotspots = spots
    if checked is not None:
        _attach(lesson, checked)
    if module is not None and module.id != lesson.module_id:
        current = module_of(course, lesson.module_id)
        assert current is not None
        current.lessons.remove(lesson)
        _renumber(current.lessons)
        lesson.position = len(module.lessons) + 1
        module.lessons.append(lesson)
    db.flush()
    _audit(db, "course.lesson_updated", course, by, lesson_id=lesson.id)
    return lesson


def set_media(*, db: Session, course: Course, lesson: Lesson, upload: bytes,
              by: User) -> Lesson:
    """Replace the file of a video, document or panorama lesson (checked first)."""
    ensure_draft(course)
    checked = check_media(kind=lesson.kind, data=upload)
    _attach(lesson, checked)
    db.flush()
    _audit(db, "course.lesson_media_set", course, by, lesson_id=lesson.id,
           media_key=lesson.media_key)
    return lesson


def set_hotspots(*, db: Session, course: Course, lesson: Lesson, hotspots: list[Hotspot],
                 by: User) -> Lesson:
    """Replace the hotspots of a panorama lesson."""
    ensure_draft(course)
    problems = _Problems()
    if lesson.kind != LessonKind.PANORAMA.value:
        problems.add(["hotspots"], _("Only 360° panorama lessons have hotspots."))
        problems.raise_if_any()
    spots = _check_hotspots(hotspots, problems)
    problems.raise_if_any()
    lesson.hotspots = spots
    db.flush()
    _audit(db, "course.hotspots_set", course, by, lesson_id=lesson.id, count=len(spots))
    return lesson


def delete_lesson(*, db: Session, course: Course, lesson: Lesson, by: User) -> None:
    """Remove a lesson from a draft."""
    ensure_draft(course)
    module = module_of(course, lesson.module_id)
    assert module is not None
    module.lessons.remove(lesson)
    _renumber(module.lessons)
    db.flush()
    _audit(db, "course.lesson_deleted", course, by, lesson_id=lesson.id)


def move_lesson(*, db: Session, course: Course, lesson: Lesson, offset: int, by: User) -> None:
    """Move a lesson up (-1) or down (+1) in its module; at either end nothing moves."""
    ensure_draft(course)
    module = module_of(course, lesson.module_id)
    assert module is not None
    items = list(module.lessons)
    index = items.index(lesson)
    target = index + offset
    if 0 <= target < len(items) and target != index:
        items.insert(target, items.pop(index))
        module.lessons = items
        _renumber(module.lessons)
        db.flush()
        _audit(db, "course.reordered", course, by)
