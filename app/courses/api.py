"""JSON routes of courses: catalogue and course structure."""

from __future__ import annotations

from fastapi import APIRouter

from app.accounts.deps import CurrentUser
from app.courses import service
from app.courses.deps import VisibleCourse
from app.courses.models import CourseStatus
from app.courses.schemas import CourseOut, CourseSummary, course_out, course_summary
from app.db import SessionDep
from app.exams import service as exams
from app.i18n import get_locale
from app.organisations import service as organisations
from app.pagination import Page, PageDep

router = APIRouter(prefix="/api/v1", tags=["courses"])


@router.get("/courses", response_model=Page[CourseSummary])
def list_courses(db: SessionDep, user: CurrentUser, paging: PageDep, code: str = "",
                 job_category: str = "", kind: str = "") -> Page[CourseSummary]:
    """Published courses (with ?code= every published or archived version of that code); a
    caller with a learner profile sees only the courses offered to its role (`audience`)."""
    statuses = (CourseStatus.PUBLISHED.value, CourseStatus.ARCHIVED.value) if code else \
        (CourseStatus.PUBLISHED.value,)
    items, total = service.list_courses(db=db, code=code, job_category=job_category, kind=kind,
                                        statuses=statuses, page=paging.page,
                                        page_size=paging.page_size,
                                        audience=organisations.catalogue_audience(db=db,
                                                                                  user=user))
    locale = get_locale()
    exam_ids = exams.exam_ids_for(db=db, course_ids=[c.id for c in items])
    return Page(items=[course_summary(c, locale, exam_ids.get(c.id)) for c in items], total=total)


@router.get("/courses/{course_id}", response_model=CourseOut)
def get_course(course: VisibleCourse, db: SessionDep) -> CourseOut:
    """A course with its modules and lessons."""
    return course_out(course, get_locale(), exams.exam_ids_for(db=db, course_ids=[course.id])
                      .get(course.id))
