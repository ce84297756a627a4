"""JSON routes of authoring (trainers and admins): drafts, modules, lessons, media, order,
publish, archive. The lookups here are shared with the authoring pages."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Request, Response, UploadFile
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from app import media
from app.accounts.api import client_ip
from app.accounts.deps import require
from app.accounts.models import Role, User
from app.bounds import DbInt, Id
from app.courses import authoring, service
from app.courses.models import Course, Lesson, Module
from app.db import SessionDep
from app.errors import NotFound
from app.exams import service as exams
from app.i18n import gettext as _

router = APIRouter(prefix="/api/v1/authoring", tags=["authoring"])

# --- lookups (pages use them too) -------------------------------------------------------------

Author = Annotated[User, Depends(require(Role.TRAINER, Role.ADMIN))]


def authored_course(course_id: int, db: SessionDep, user: Author) -> Course:
    """Any version of a course, with modules and lessons, for a trainer or admin."""
    return service.get_course_or_404(db=db, course_id=course_id, structure=True)


AuthoredCourse = Annotated[Course, Depends(authored_course)]


def draft_course(course: AuthoredCourse) -> Course:
    """A course that is still a draft (409 course_not_draft otherwise)."""
    authoring.ensure_draft(course)
    return course


DraftCourse = Annotated[Course, Depends(draft_course)]


def draft_module(module_id: int, course: DraftCourse) -> Module:
    """A module of the draft in the path."""
    module = authoring.module_of(course, module_id)
    if module is None:
        raise NotFound(_("No such module in this course."))
    return module


DraftModule = Annotated[Module, Depends(draft_module)]


def authored_lesson(lesson_id: int, course: AuthoredCourse) -> Lesson:
    """A lesson of the course version in the path (any status)."""
    lesson = authoring.lesson_of(course, lesson_id)
    if lesson is None:
        raise NotFound(_("No such lesson in this course."))
    return lesson


AuthoredLesson = Annotated[Lesson, Depends(authored_lesson)]


def draft_lesson(lesson: AuthoredLesson, course: DraftCourse) -> Lesson:
    """A lesson of the draft in the path."""
    return lesson


DraftLesson = Annotated[Lesson, Depends(draft_lesson)]


# --- shapes ---------------------------------------------------------------------------------

class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CertificateIn(_In):
    """The certificate the course issues (as a course package's `certificate` block)."""

    title: dict[str, str]
    validity_years: DbInt
    review_years: DbInt


class CourseCreateIn(_In):
    code: str
    title: dict[str, str]
    description: dict[str, str] = {}
    job_category: str
    kind: str
    credit_hours: float = 0
    required_minutes: DbInt = 0
    practical_required: bool = False
    certificate: CertificateIn | None = None
    audience: list[str] = ["worker"]


class CourseUpdateIn(_In):
    title: dict[str, str] | None = None
    description: dict[str, str] | None = None
    job_category: str | None = None
    kind: str | None = None
    credit_hours: float | None = None
    required_minutes: DbInt | None = None
    practical_required: bool | None = None
    certificate: CertificateIn | None = None  # null removes it; left out keeps it
    audience: list[str] | None = None


class ModuleIn(_In):
    title: dict[str, str]


class HotspotIn(_In):
    yaw: float
    pitch: float
    label: dict[str, str]
    hazard: bool = False
    description: dict[str, str] | None = None


class LessonCreateIn(_In):
    kind: str
    title: dict[str, str] = {}
    minutes: DbInt
    body: dict[str, str] = {}
    hotspots: list[HotspotIn] | None = None


class LessonUpdateIn(_In):
    title: dict[str, str] | None = None
    minutes: DbInt | None = None
    body: dict[str, str] | None = None
    hotspots: list[HotspotIn] | None = None
    module_id: Id | None = None


class ModuleOrderIn(_In):
    id: Id
    lessons: list[Id] = []


class OrderIn(_In):
    modules: list[ModuleOrderIn] = Field(min_length=1)


class AuthoringLessonOut(BaseModel):
    id: int
    position: int
    kind: str
    title: dict[str, str]
    minutes: int
    body: dict[str, str]
    media_key: str | None
    media_url: str | None
    duration_seconds: float | None
    hotspots: list[dict[str, Any]]


class AuthoringModuleOut(BaseModel):
    id: int
    position: int
    title: dict[str, str]
    lessons: list[AuthoringLessonOut]


class AuthoringCourseSummary(BaseModel):
    id: int
    code: str
    version: int
    status: str
    title: dict[str, str]
    job_category: str
    kind: str
    credit_hours: float
    required_minutes: int
    practical_required: bool
    audience: list[str]
    certificate: dict[str, Any] | None
    created_at: datetime
    published_at: datetime | None


class AuthoringExamOut(BaseModel):
    id: int
    duration_minutes: int
    pass_mark: int
    max_attempts: int
    question_count: int
    blueprint: list[dict[str, Any]]


class AuthoringCourseOut(AuthoringCourseSummary):
    description: dict[str, str]
    modules: list[AuthoringModuleOut]
    exam: AuthoringExamOut | None
    publish_problems: list[dict[str, Any]]


def lesson_out(lesson: Lesson) -> AuthoringLessonOut:
    """Everything an author edits on a lesson."""
    return AuthoringLessonOut(
        id=lesson.id, position=lesson.position, kind=lesson.kind, title=dict(lesson.title),
        minutes=lesson.minutes, body=dict(lesson.body or {}), media_key=lesson.media_key,
        media_url=media.url(lesson.media_key) if lesson.media_key else None,
        duration_seconds=lesson.duration_seconds, hotspots=list(lesson.hotspots or []))


def module_out(module: Module) -> AuthoringModuleOut:
    """A module with its lessons."""
    return AuthoringModuleOut(id=module.id, position=module.position, title=dict(module.title),
                              lessons=[lesson_out(lesson) for lesson in module.lessons])


def summary_out(course: Course) -> AuthoringCourseSummary:
    """A course version in the authoring list."""
    return AuthoringCourseSummary(
        id=course.id, code=course.code, version=course.version, status=course.status,
        title=dict(course.title), job_category=course.job_category, kind=course.kind,
        credit_hours=course.credit_hours, required_minutes=course.required_minutes,
        practical_required=course.practical_required, audience=course.audience_roles,
        certificate=dict(course.certificate) if course.certificate else None,
        created_at=course.created_at, published_at=course.published_at)


def course_out(course: Course, db: Session) -> AuthoringCourseOut:
    """A course version with its whole structure (modules and lessons loaded) and its exam."""
    exam = exams.exam_of(db=db, course_id=course.id)
    return AuthoringCourseOut(
        **summary_out(course).model_dump(), description=dict(course.description or {}),
        modules=[module_out(m) for m in course.modules],
        exam=AuthoringExamOut(
            id=exam.id, duration_minutes=exam.duration_minutes, pass_mark=exam.pass_mark,
            max_attempts=exam.max_attempts, question_count=exams.question_count(exam),
            blueprint=[dict(item) for item in exam.blueprint]) if exam else None,
        publish_problems=authoring.publish_problems(course, db=db)
        if course.status == "draft" else [])


def _certificate(body: CertificateIn | None) -> authoring.CertificateFields | None:
    if body is None:
        return None
    return authoring.CertificateFields(title=body.title, validity_years=body.validity_years,
                                       review_years=body.review_years)


def _hotspots(items: list[HotspotIn] | None) -> list[authoring.Hotspot] | None:
    if items is None:
        return None
    return [authoring.Hotspot(yaw=i.yaw, pitch=i.pitch, label=i.label, hazard=i.hazard,
                              description=i.description or {}) for i in items]


def _fields(course: Course, body: CourseUpdateIn) -> authoring.CourseFields:
    def pick(value: Any, current: Any) -> Any:
        return current if value is None else value

    return authoring.CourseFields(
        title=pick(body.title, course.title), description=pick(body.description,
                                                                course.description or {}),
        job_category=pick(body.job_category, course.job_category),
        kind=pick(body.kind, course.kind), credit_hours=pick(body.credit_hours,
                                                             course.credit_hours),
        required_minutes=pick(body.required_minutes, course.required_minutes),
        practical_required=pick(body.practical_required, course.practical_required),
        audience=pick(body.audience, course.audience_roles),
        certificate=_certificate(body.certificate) if "certificate" in body.model_fields_set
        else authoring.certificate_fields(course))


# --- courses --------------------------------------------------------------------------------

@router.get("/courses", response_model=list[AuthoringCourseSummary],
            name="authoring_list_courses")
def list_courses(db: SessionDep, user: Author, code: str = "") -> list[AuthoringCourseSummary]:
    """Every course version (drafts, published, archived), by code, newest version first."""
    return [summary_out(c) for c in authoring.list_all(db=db) if not code or c.code == code]


@router.post("/courses", response_model=AuthoringCourseOut, status_code=201)
def create_draft(request: Request, body: CourseCreateIn, db: SessionDep,
                 user: Author) -> AuthoringCourseOut:
    """A new draft: version 1, or one more than the highest version of its code."""
    course = authoring.create_draft(
        db=db, code=body.code, by=user, ip=client_ip(request),
        fields=authoring.CourseFields(
            title=body.title, description=body.description, job_category=body.job_category,
            kind=body.kind, credit_hours=body.credit_hours,
            required_minutes=body.required_minutes, practical_required=body.practical_required,
            certificate=_certificate(body.certificate), audience=body.audience))
    return course_out(course, db)


@router.get("/courses/{course_id}", response_model=AuthoringCourseOut,
            name="authoring_get_course")
def get_course(db: SessionDep, course: AuthoredCourse) -> AuthoringCourseOut:
    """A course version with modules, lessons (text, media, hotspots) and, for a draft, what
    still keeps it from being published."""
    return course_out(course, db)


@router.patch("/courses/{course_id}", response_model=AuthoringCourseOut)
def update_course(request: Request, body: CourseUpdateIn, db: SessionDep, user: Author,
                  course: DraftCourse) -> AuthoringCourseOut:
    """Change a draft's fields (those given)."""
    authoring.update_course(db=db, course=course, fields=_fields(course, body), by=user,
                            ip=client_ip(request))
    return course_out(course, db)


@router.delete("/courses/{course_id}", status_code=204)
def discard_draft(request: Request, db: SessionDep, user: Author,
                  course: DraftCourse) -> Response:
    """Delete a draft."""
    authoring.discard_draft(db=db, course=course, by=user, ip=client_ip(request))
    return Response(status_code=204)


@router.post("/courses/{course_id}/versions", response_model=AuthoringCourseOut,
             status_code=201)
def new_version(request: Request, db: SessionDep, user: Author,
                course: AuthoredCourse) -> AuthoringCourseOut:
    """A draft copying this published or archived version, as the next version."""
    draft = authoring.new_version(db=db, course=course, by=user, ip=client_ip(request))
    return course_out(draft, db)


@router.post("/courses/{course_id}/publish", response_model=AuthoringCourseOut)
def publish(request: Request, db: SessionDep, user: Author,
            course: DraftCourse) -> AuthoringCourseOut:
    """Publish a complete draft (422 draft_incomplete lists what is missing); older
    published versions are archived, their enrolments stay on them."""
    authoring.publish(db=db, course=course, by=user, ip=client_ip(request))
    return course_out(course, db)


@router.post("/courses/{course_id}/archive", response_model=AuthoringCourseOut)
def archive(request: Request, db: SessionDep, user: Author,
            course: AuthoredCourse) -> AuthoringCourseOut:
    """Close a published version to new enrolments (running ones continue)."""
    authoring.archive(db=db, course=course, by=user, ip=client_ip(request))
    return course_out(course, db)


@router.put("/courses/{course_id}/order", response_model=AuthoringCourseOut)
def reorder(body: OrderIn, db: SessionDep, user: Author,
            course: DraftCourse) -> AuthoringCourseOut:
    """Put every module, and every lesson in them, in this order."""
    authoring.reorder(db=db, course=course, by=user,
                      order=[(m.id, list(m.lessons)) for m in body.modules])
    return course_out(course, db)


# --- modules --------------------------------------------------------------------------------

@router.post("/courses/{course_id}/modules", response_model=AuthoringModuleOut,
             status_code=201)
def add_module(body: ModuleIn, db: SessionDep, user: Author,
               course: DraftCourse) -> AuthoringModuleOut:
    """Append a module."""
    return module_out(authoring.add_module(db=db, course=course, title=body.title, by=user))


@router.patch("/courses/{course_id}/modules/{module_id}", response_model=AuthoringModuleOut)
def rename_module(body: ModuleIn, db: SessionDep, user: Author, course: DraftCourse,
                  module: DraftModule) -> AuthoringModuleOut:
    """Change a module's title."""
    authoring.rename_module(db=db, course=course, module=module, title=body.title, by=user)
    return module_out(module)


@router.delete("/courses/{course_id}/modules/{module_id}", status_code=204)
def delete_module(db: SessionDep, user: Author, course: DraftCourse,
                  module: DraftModule) -> Response:
    """Remove a module and its lessons."""
    authoring.delete_module(db=db, course=course, module=module, by=user)
    return Response(status_code=204)


# --- lessons --------------------------------------------------------------------------------

@router.post("/courses/{course_id}/modules/{module_id}/lessons",
             response_model=AuthoringLessonOut, status_code=201)
def add_lesson(body: LessonCreateIn, db: SessionDep, user: Author, course: DraftCourse,
               module: DraftModule) -> AuthoringLessonOut:
    """Append a lesson. Text and case lessons carry Markdown per locale; video, document and
    panorama lessons get their file with PUT .../lessons/{id}/media."""
    lesson = authoring.add_lesson(
        db=db, course=course, module=module, kind=body.kind, by=user,
        fields=authoring.LessonFields(title=body.title, minutes=body.minutes, body=body.body),
        hotspots=_hotspots(body.hotspots))
    return lesson_out(lesson)


@router.patch("/courses/{course_id}/lessons/{lesson_id}", response_model=AuthoringLessonOut)
def update_lesson(body: LessonUpdateIn, db: SessionDep, user: Author, course: DraftCourse,
                  lesson: DraftLesson) -> AuthoringLessonOut:
    """Change a lesson (the fields given); `module_id` moves it to the end of that module."""
    target = None
    if body.module_id is not None:
        target = authoring.module_of(course, body.module_id)
        if target is None:
            raise NotFound(_("No such module in this course."))
    fields = authoring.LessonFields(
        title=lesson.title if body.title is None else body.title,
        minutes=lesson.minutes if body.minutes is None else body.minutes,
        body=(lesson.body or {}) if body.body is None else body.body)
    authoring.update_lesson(db=db, course=course, lesson=lesson, fields=fields, by=user,
                            hotspots=_hotspots(body.hotspots), module=target)
    return lesson_out(lesson)


@router.put("/courses/{course_id}/lessons/{lesson_id}/media", response_model=AuthoringLessonOut)
def set_media(db: SessionDep, user: Author, course: DraftCourse, lesson: DraftLesson,
              file: Annotated[UploadFile, File()]) -> AuthoringLessonOut:
    """Upload the file of a video (MP4), document (PDF) or panorama (JPEG/PNG/WebP, 2:1)
    lesson: checked by its content and size, stored under a generated name."""
    limit = authoring.upload_limit(lesson.kind) if lesson.kind in authoring.MEDIA_TYPES else 0
    data = file.file.read(limit + 1)
    authoring.set_media(db=db, course=course, lesson=lesson, upload=data, by=user)
    return lesson_out(lesson)


@router.delete("/courses/{course_id}/lessons/{lesson_id}", status_code=204)
def delete_lesson(db: SessionDep, user: Author, course: DraftCourse,
                  lesson: DraftLesson) -> Response:
    """Remove a lesson."""
    authoring.delete_lesson(db=db, course=course, lesson=lesson, by=user)
    return Response(status_code=204)
