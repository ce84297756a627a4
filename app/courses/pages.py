"""HTML routes of courses: the catalogue and a course's outline (with enrolment actions)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import FileResponse, Response

from app import media
from app.accounts.api import client_ip
from app.accounts.deps import CurrentUser, page_guard
from app.accounts.models import Role
from app.courses import service
from app.courses.authoring import status_label
from app.courses.deps import VisibleCourse
from app.courses.models import CourseKind
from app.db import SessionDep
from app.errors import AppError, NotFound
from app.i18n import N_, get_locale, ngettext
from app.i18n import gettext as _
from app.learning import service as learning
from app.organisations import reference
from app.organisations import service as organisations
from app.pagination import PageDep
from app.web import flash, parse_iso_date, redirect, render

router = APIRouter(dependencies=[Depends(page_guard)], include_in_schema=False)

KIND_LABELS = {
    CourseKind.INITIAL.value: N_("Initial training"),
    CourseKind.REFRESHER.value: N_("Annual refresher"),
    CourseKind.REVIEW.value: N_("Certificate review"),
    CourseKind.GENERAL.value: N_("General"),
    CourseKind.WARNING.value: N_("Warning education"),
}
LESSON_KIND_LABELS = {
    "text": N_("Reading"), "case": N_("Accident case"), "video": N_("Video"),
    "document": N_("Document"), "panorama": N_("360° scene"),
}


def course_context() -> dict:
    """What course templates need to show titles and labels."""
    locale = get_locale()
    return {"t": lambda value: service.localized(value, locale), "kind_labels": KIND_LABELS,
            "status_label": status_label,
            "lesson_kind_labels": LESSON_KIND_LABELS,
            "job_categories": {c["code"]: c for c in reference.job_categories()}}


@router.get("/courses", name="catalogue")
def catalogue(request: Request, db: SessionDep, user: CurrentUser, paging: PageDep,
              job_category: str = "", kind: str = "") -> Response:
    """Published courses, filtered by job category and kind."""
    items, total = service.list_courses(db=db, job_category=job_category, kind=kind,
                                        page=paging.page, page_size=paging.page_size)
    return render(request, "courses/catalogue.html", {
        **course_context(), "items": items, "total": total, "paging": paging,
        "job_category": job_category, "kind": kind,
        "categories": reference.job_categories()})


@router.get("/courses/{course_id}", name="course")
def course_page(request: Request, db: SessionDep, user: CurrentUser,
                course: VisibleCourse) -> Response:
    """A course's outline; workers enrol themselves, enterprise admins enrol staff."""
    worker = organisations.worker_of_user(db=db, user_id=user.id)
    mine = None
    if worker is not None:
        mine = next((e for e in learning.my_enrolments(db=db, worker=worker)
                     if e.course.code == course.code and e.status != "withdrawn"), None)
    return render(request, "courses/course.html", {
        **course_context(), "course": course, "worker": worker, "enrolment": mine,
        "can_enrol_staff": user.has_role(Role.ENTERPRISE_ADMIN) and user.enterprise_id})


@router.post("/courses/{course_id}/enrol", name="course_enrol")
def course_enrol(request: Request, db: SessionDep, user: CurrentUser,
                 course: VisibleCourse) -> Response:
    """A worker enrols itself."""
    worker = organisations.worker_of_user(db=db, user_id=user.id)
    if worker is None:
        raise NotFound(_("You are not on an enterprise roster, so you cannot enrol."))
    enrolment = learning.enrol(db=db, course=course, workers=[worker], by=user,
                               ip=client_ip(request))[0]
    flash(request, _("You are enrolled. Start with the first lesson."))
    return redirect(request.url_for("enrolment", enrolment_id=enrolment.id).path)


@router.post("/enterprises/{enterprise_id}/enrol", name="enterprise_enrol")
def enterprise_enrol(request: Request, db: SessionDep, user: CurrentUser, enterprise_id: int,
                     course_id: Annotated[int, Form()],
                     worker_ids: Annotated[list[int] | None, Form()] = None,
                     job_category: Annotated[str, Form()] = "",
                     deadline: Annotated[str, Form()] = "") -> Response:
    """Enrol chosen staff, or a whole job category, from the roster page."""
    enterprise = organisations.get_enterprise_or_404(db=db, enterprise_id=enterprise_id)
    if not organisations.can_see_enterprise(user, enterprise):
        raise NotFound(_("No such enterprise."))
    back = request.url_for("enterprise", enterprise_id=enterprise.id).path
    try:
        if not organisations.can_manage_enterprise(user, enterprise.id):
            raise AppError(_("Only the enterprise's administrators may enrol its staff."))
        course = service.get_course_or_404(db=db, course_id=course_id)
        if not worker_ids and not job_category:
            raise AppError(_("Tick the workers to enrol, or choose a whole job category."))
        workers = learning.workers_for_enrolment(
            db=db, by=user, worker_ids=None if job_category else worker_ids,
            enterprise_id=enterprise.id, job_category=job_category)
        if not workers:
            raise AppError(_("Nobody on the roster has that job category."))
        enrolments = learning.enrol(db=db, course=course, workers=workers, by=user,
                                    deadline=parse_iso_date(deadline), ip=client_ip(request))
    except AppError as exc:
        detail = "; ".join(str(e.get("msg")) for e in exc.extra.get("errors", [])) or exc.message
        flash(request, detail, "error")
        return redirect(back)
    flash(request, ngettext("{n} worker enrolled in {course}.", "{n} workers enrolled in {course}.",
                            len(enrolments)).format(n=len(enrolments),
                                                    course=service.localized(course.title)))
    return redirect(request.url_for("enterprise_enrolments", enterprise_id=enterprise.id).path)


@router.get("/media/{key}", name="media")
def media_file(key: str, user: CurrentUser) -> Response:
    """A course media file (byte ranges supported, so videos seek and resume)."""
    try:
        path = media.path_of(key)
    except ValueError:
        raise NotFound(_("No such file.")) from None
    if not path.is_file():
        raise NotFound(_("No such file."))
    headers = {"Cache-Control": "private, max-age=86400, immutable"}
    if key.endswith(".svg"):
        # An SVG opened directly is shown as an image, never run as a document of our origin.
        headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; " \
                                             "sandbox"
    return FileResponse(path, media_type=media.content_type(key), headers=headers)
