"""Business rules of courses: importing packages (with versions), catalogue, course structure."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session, defer, selectinload

from app import media
from app.accounts import service as accounts
from app.accounts.models import User
from app.courses.models import Course, CourseStatus, Lesson, Module, audience_value
from app.courses.package import LessonData, Package, PackageError, Problem
from app.db import utcnow
from app.errors import NotFound
from app.exams import bank as exam_bank
from app.exams import service as exams
from app.i18n import gettext as _
from app.i18n import localized
from app.pagination import LIKE_ESCAPE, like_pattern

__all__ = ["localized"]

_IMAGE_LINK = re.compile(r"(!\[[^\]]*\]\(\s*)([^)\s]+)")


@dataclass
class ImportOutcome:
    code: str
    version: int
    action: str  # "created", "unchanged", "new_version"
    course_id: int


def import_package(*, db: Session, package: Package, by: User | None) -> ImportOutcome:
    """Write a validated package: unchanged if already imported, a new published version if its
    version went up (older versions are archived; their enrolments stay on them)."""
    spec = package.spec
    versions = list(db.scalars(select(Course).where(Course.code == spec.code)
                               .order_by(Course.version)))
    same = next((c for c in versions if c.version == spec.version), None)
    if same is not None:
        if same.source_hash == package.source_hash:
            return ImportOutcome(spec.code, spec.version, "unchanged", same.id)
        raise PackageError([Problem(f"{package.root.name}/course.yaml", 1, (
            f"version {spec.version} of {spec.code} was already imported with different "
            "content; raise 'version' to publish the change"))])
    newest = versions[-1].version if versions else 0
    if spec.version < newest:
        raise PackageError([Problem(f"{package.root.name}/course.yaml", 1, (
            f"version {spec.version} is older than version {newest} already imported"))])
    course = _write_course(db, package, by)
    archive_older(db, course)
    exam_bank.upsert_questions(db=db, bank=spec.code, questions=package.questions,
                               job_category=spec.job_category)
    exams.sync_exam(db=db, course=course)
    accounts.record_audit(db=db, action="course.imported", actor=by, object_type="course",
                          object_id=course.id, detail={"code": spec.code,
                                                       "version": spec.version})
    return ImportOutcome(spec.code, spec.version, "new_version" if versions else "created",
                         course.id)


def archive_older(db: Session, course: Course) -> None:
    db.execute(update(Course).where(Course.code == course.code, Course.id != course.id,
                                    Course.status == CourseStatus.PUBLISHED.value)
               .values(status=CourseStatus.ARCHIVED.value))


def _write_course(db: Session, package: Package, by: User | None) -> Course:
    spec = package.spec
    course = Course(
        code=spec.code, version=spec.version, status=CourseStatus.PUBLISHED.value,
        title=spec.title, description=spec.description or {}, job_category=spec.job_category,
        kind=spec.kind, credit_hours=spec.credit_hours, required_minutes=spec.required_minutes,
        practical_required=spec.practical_required, audience=audience_value(spec.audience),
        certificate=spec.certificate.model_dump() if spec.certificate else None,
        practical=spec.practical.model_dump() if spec.practical else None,
        exam_spec=spec.exam.model_dump() if spec.exam else None,
        source_hash=package.source_hash, created_by=by.id if by else None,
        published_at=utcnow())
    db.add(course)
    db.flush()
    modules = []
    for position, module_spec in enumerate(spec.modules, start=1):
        module = Module(course_id=course.id, position=position, title=module_spec.title)
        db.add(module)
        modules.append(module)
    db.flush()
    counters: dict[int, int] = {}
    for item in package.lessons:
        counters[item.module_index] = counters.get(item.module_index, 0) + 1
        db.add(_lesson_row(item, course.id, modules[item.module_index].id,
                           counters[item.module_index]))
    db.flush()
    return course


def _lesson_row(item: LessonData, course_id: int, module_id: int, position: int) -> Lesson:
    keys = {target: media.store(data) for target, data in item.images.items()}

    def relink(markdown: str) -> str:
        return _IMAGE_LINK.sub(lambda m: m.group(1) + (media.url(keys[m.group(2)])
                                                       if m.group(2) in keys else m.group(2)),
                               markdown)

    hotspots = [spot.model_dump() for spot in item.spec.hotspots or []]
    return Lesson(course_id=course_id, module_id=module_id, position=position,
                  kind=item.spec.kind, title=item.title, minutes=item.spec.minutes,
                  body={locale: relink(text) for locale, text in item.bodies.items()},
                  media_key=media.store(item.media_bytes) if item.media_bytes else None,
                  duration_seconds=item.duration_seconds, hotspots=hotspots)


# --- reading ----------------------------------------------------------------------------------

def get_course_or_404(*, db: Session, course_id: int, structure: bool = False) -> Course:
    """A course, with modules and lessons loaded when `structure`."""
    stmt = select(Course).where(Course.id == course_id)
    if structure:
        stmt = stmt.options(selectinload(Course.modules).selectinload(Module.lessons))
    course = db.scalar(stmt)
    if course is None:
        raise NotFound(_("No such course."))
    return course


def get_lesson_or_404(*, db: Session, course_id: int, lesson_id: int) -> Lesson:
    """A lesson of the given course version."""
    lesson = db.scalar(select(Lesson).where(Lesson.id == lesson_id, Lesson.course_id == course_id))
    if lesson is None:
        raise NotFound(_("No such lesson in this course."))
    return lesson


def lesson_for_progress(*, db: Session, course_id: int, lesson_id: int) -> Lesson | None:
    """A lesson with what progress rules need (kind, minutes, duration, hotspots), without its
    Markdown bodies."""
    return db.scalar(select(Lesson).where(Lesson.id == lesson_id, Lesson.course_id == course_id)
                     .options(defer(Lesson.body)))


def list_courses(*, db: Session, code: str = "", job_category: str = "", kind: str = "",
                 statuses: tuple[str, ...] = (CourseStatus.PUBLISHED.value,), query: str = "",
                 page: int = 1, page_size: int = 25,
                 audience: str = "") -> tuple[list[Course], int]:
    """Courses filtered by code, job category, kind, status, title text and audience (a role:
    only courses offered to it)."""
    stmt = select(Course).where(Course.status.in_(statuses))
    if audience:
        # Roles are stored comma-separated and no role name contains another.
        stmt = stmt.where(Course.audience.contains(audience, autoescape=True))
    if code:
        stmt = stmt.where(Course.code == code)
    if job_category:
        stmt = stmt.where(Course.job_category == job_category)
    if kind:
        stmt = stmt.where(Course.kind == kind)
    if query.strip():
        like = like_pattern(query.strip())
        stmt = stmt.where(or_(Course.code.ilike(like, escape=LIKE_ESCAPE), func.lower(
            func.cast(Course.title, type_=Course.code.type)).like(like.lower(),
                                                                  escape=LIKE_ESCAPE)))
    total = db.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    items = db.scalars(stmt.order_by(Course.code, Course.version.desc()).limit(page_size)
                       .offset((page - 1) * page_size)).all()
    return list(items), total


def lessons_of(*, db: Session, course_id: int) -> list[Lesson]:
    """Every lesson of a course version in reading order."""
    return list(db.scalars(select(Lesson).join(Module).where(Lesson.course_id == course_id)
                           .order_by(Module.position, Lesson.position)))

