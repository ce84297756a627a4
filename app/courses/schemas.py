"""Pydantic shapes of the courses API."""

from __future__ import annotations

from pydantic import BaseModel

from app.courses.models import Course, Lesson
from app.courses.service import localized


class CourseSummary(BaseModel):
    id: int
    code: str
    version: int
    title: str
    status: str
    credit_hours: float
    exam_id: int | None
    job_category: str
    kind: str
    required_minutes: int
    practical_required: bool
    audience: list[str]


class LessonOut(BaseModel):
    id: int
    title: str
    kind: str
    minutes: int


class ModuleOut(BaseModel):
    id: int
    title: str
    lessons: list[LessonOut]


class CourseOut(CourseSummary):
    modules: list[ModuleOut]


def course_summary(course: Course, locale: str, exam_id: int | None = None) -> CourseSummary:
    """The list shape of a course in `locale`."""
    return CourseSummary(id=course.id, code=course.code, version=course.version,
                         title=localized(course.title, locale), status=course.status,
                         credit_hours=course.credit_hours, exam_id=exam_id,
                         job_category=course.job_category, kind=course.kind,
                         required_minutes=course.required_minutes,
                         practical_required=course.practical_required,
                         audience=course.audience_roles)


def lesson_out(lesson: Lesson, locale: str) -> LessonOut:
    """The outline shape of a lesson."""
    return LessonOut(id=lesson.id, title=localized(lesson.title, locale), kind=lesson.kind,
                     minutes=lesson.minutes)


def course_out(course: Course, locale: str, exam_id: int | None = None) -> CourseOut:
    """A course with its modules and lessons (they must be loaded)."""
    summary = course_summary(course, locale, exam_id)
    return CourseOut(**summary.model_dump(), modules=[
        ModuleOut(id=m.id, title=localized(m.title, locale),
                  lessons=[lesson_out(lesson, locale) for lesson in m.lessons])
        for m in course.modules])
