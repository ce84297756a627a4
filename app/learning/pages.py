"""HTML routes of learning: my courses, the course outline, the lesson player, my hours,
enterprise enrolment lists, rule profiles."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from app import media
from app.accounts.deps import AdminUser, CurrentUser, page_guard
from app.courses import service as courses
from app.courses.markdown import render as render_markdown
from app.courses.markdown import without_title
from app.courses.pages import course_context
from app.db import SessionDep, utcnow
from app.errors import NotFound
from app.exams import service as exams
from app.i18n import get_locale
from app.i18n import gettext as _
from app.learning import hotspots, profiles, service
from app.learning.deps import EnrolmentLesson, VisibleEnrolment
from app.learning.models import EnrolmentStatus
from app.organisations import service as organisations
from app.organisations.deps import VisibleEnterprise
from app.organisations.models import Worker
from app.pagination import PageDep
from app.web import markup, render

router = APIRouter(dependencies=[Depends(page_guard)], include_in_schema=False)


def _own_worker(db: SessionDep, user: CurrentUser) -> Worker:
    worker = organisations.worker_of_user(db=db, user_id=user.id)
    if worker is None:
        raise NotFound(_("Your account is not on an enterprise roster yet."))
    return worker


@router.get("/learn", name="my_courses")
def my_courses(request: Request, db: SessionDep, user: CurrentUser) -> Response:
    """The signed-in worker's courses with progress, and hours this year."""
    worker = _own_worker(db, user)
    return render(request, "learning/my_courses.html", {
        **course_context(), "enrolments": service.my_enrolments(db=db, worker=worker),
        "hours": service.hours_summary(db=db, worker=worker)})


@router.get("/learn/hours", name="my_hours")
def my_hours(request: Request, db: SessionDep, user: CurrentUser,
             year: Annotated[int, Query(ge=0, le=9999)] = 0) -> Response:
    """The worker's study-hours ledger for a year."""
    worker = _own_worker(db, user)
    summary = service.hours_summary(db=db, worker=worker, year=year or None)
    entries = service.ledger_entries(db=db, worker=worker, year=summary.year)
    return render(request, "learning/hours.html", {
        **course_context(), "summary": summary, "entries": entries,
        "profile": profiles.active_profile(db=db)})


@router.get("/learn/{enrolment_id}", name="enrolment")
def enrolment_page(request: Request, db: SessionDep, user: CurrentUser,
                   enrolment: VisibleEnrolment) -> Response:
    """A course outline with the progress of each lesson."""
    course = courses.get_course_or_404(db=db, course_id=enrolment.course_id, structure=True)
    return render(request, "learning/enrolment.html", {
        **course_context(), "enrolment": enrolment, "course": course,
        "progress": service.progress_of(db=db, enrolment=enrolment),
        "exam_id": exams.exam_ids_for(db=db, course_ids=[course.id]).get(course.id),
        "is_learner": enrolment.worker.user_id == user.id})


@router.get("/learn/{enrolment_id}/lessons/{lesson_id}", name="lesson")
def lesson_page(request: Request, db: SessionDep, user: CurrentUser,
                enrolment: VisibleEnrolment, lesson: EnrolmentLesson) -> Response:
    """The lesson player: text and cases, video, PDF documents, 360° panoramas."""
    locale = get_locale()
    lessons = courses.lessons_of(db=db, course_id=enrolment.course_id)
    index = next(i for i, item in enumerate(lessons) if item.id == lesson.id)
    progress = service.progress_of(db=db, enrolment=enrolment).get(lesson.id)
    body = lesson.body.get(locale) or lesson.body.get("en") or ""
    return render(request, "learning/lesson.html", {
        **course_context(), "enrolment": enrolment, "lesson": lesson, "progress": progress,
        "html": markup(render_markdown(without_title(body))) if body else None,
        "media_url": media.url(lesson.media_key) if lesson.media_key else None,
        "panorama_spots": hotspots.page_spots(lesson, progress.found_hotspots if progress
                                              else None),
        "previous": lessons[index - 1] if index > 0 else None,
        "next": lessons[index + 1] if index + 1 < len(lessons) else None,
        "position": index + 1, "count": len(lessons),
        "is_learner": enrolment.worker.user_id == user.id,
        "active": enrolment.status != EnrolmentStatus.WITHDRAWN.value,
        "beat_seconds": 30})


@router.get("/enterprises/{enterprise_id}/enrolments", name="enterprise_enrolments")
def enterprise_enrolments(request: Request, db: SessionDep, user: CurrentUser,
                          enterprise: VisibleEnterprise, paging: PageDep, course_id: int = 0,
                          status: str = "", overdue: bool = False, q: str = "") -> Response:
    """Who is enrolled in what, with progress; overdue first."""
    filters = service.EnrolmentFilter(course_id=course_id or None, status=status,
                                      overdue=overdue, query=q)
    items, total = service.enterprise_enrolments(db=db, enterprise_id=enterprise.id,
                                                 filters=filters, page=paging.page,
                                                 page_size=paging.page_size)
    published, _count = courses.list_courses(db=db, page_size=200)
    return render(request, "learning/enterprise_enrolments.html", {
        **course_context(), "enterprise": enterprise, "items": items, "total": total,
        "paging": paging, "course_id": course_id, "status": status, "overdue": overdue, "q": q,
        "courses": published, "today": service.local_day(utcnow())})


@router.get("/admin/profiles", name="admin_profiles")
def rule_profiles(request: Request, db: SessionDep, admin: AdminUser) -> Response:
    """The rule profiles loaded (the active one first)."""
    items = sorted(profiles.list_profiles(db=db), key=lambda p: (not p.is_active, p.code))
    return render(request, "learning/profiles.html", {**course_context(), "profiles": items})
