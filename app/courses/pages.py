"""HTML routes of courses: the catalogue and a course's outline (with enrolment actions)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import FileResponse, Response

from app import media
from app.accounts.api import client_ip
from app.accounts.deps import CurrentUser, page_guard
from app.accounts.models import Role
from app.courses import service
from app.courses.authoring import status_label
from app.courses.deps import VisibleCourse
from app.courses.models import Course, CourseKind
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
    items, total = service.list_courses(
        db=db, job_category=job_category, kind=kind, page=paging.page,
        page_size=paging.page_size,
        audience=organisations.catalogue_audience(db=db, user=user))
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
    result = learning.enrol_workers(db=db, course=course, workers=[worker], by=user,
                                    ip=client_ip(request))[0]
    if result.outcome == learning.EnrolOutcome.ENROLLED.value:
        flash(request, _("You are enrolled. Start with the first lesson."))
    elif result.outcome == learning.EnrolOutcome.ALREADY_ENROLLED.value:
        flash(request, _("You are already enrolled in this course."), "info")
    else:
        flash(request, _("You are enrolled in version {version} of this course, which you "
                         "continue; ask your enterprise if you should move to version "
                         "{new}.").format(version=result.version, new=course.version), "info")
    return redirect(request.url_for("enrolment", enrolment_id=result.enrolment.id).path)


@router.post("/enterprises/{enterprise_id}/enrol", name="enterprise_enrol")
def enterprise_enrol(request: Request, db: SessionDep, user: CurrentUser, enterprise_id: int,
                     course_id: Annotated[int, Form()],
                     worker_ids: Annotated[list[int] | None, Form()] = None,
                     job_category: Annotated[str, Form()] = "",
                     deadline: Annotated[str, Form()] = "",
                     move: Annotated[str, Form()] = "") -> Response:
    """Enrol chosen staff, or a whole job category, from the roster page; say what happened
    to each; staff on an earlier version are moved only when `move` is ticked (the move page
    asks)."""
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
        results = learning.enrol_workers(db=db, course=course, workers=workers, by=user,
                                         deadline=parse_iso_date(deadline), move=move == "on",
                                         ip=client_ip(request))
    except AppError as exc:
        detail = "; ".join(str(e.get("msg")) for e in exc.extra.get("errors", [])) or exc.message
        flash(request, detail, "error")
        return redirect(back)
    names = {w.id: w.full_name for w in workers}
    for message, category in enrolment_messages(results, names, course):
        flash(request, message, category)
    waiting = [r.enrolment.worker_id for r in results
               if r.outcome == learning.EnrolOutcome.OTHER_VERSION.value
               and r.enrolment.status == "active"]
    if waiting:
        # Moving is a choice with consequences: ask, on a page of its own.
        query = urlencode([("course_id", course.id), *(("worker_ids", i) for i in waiting)])
        return redirect(request.url_for("enterprise_enrol_move",
                                        enterprise_id=enterprise.id).path + "?" + query)
    return redirect(request.url_for("enterprise_enrolments", enterprise_id=enterprise.id).path)


def _names(results: list[learning.EnrolResult], names: dict[int, str]) -> str:
    shown = [_("{name} (version {version})").format(name=names.get(r.enrolment.worker_id, "?"),
                                                     version=r.version) for r in results[:10]]
    if len(results) > 10:
        shown.append(_("and {n} more").format(n=len(results) - 10))
    return ", ".join(shown)


def enrolment_messages(results: list[learning.EnrolResult], names: dict[int, str],
                       course: Course) -> list[tuple[str, str]]:
    """What an enrolment request did, in words, one message per kind of outcome."""
    title = service.localized(course.title)
    by_outcome: dict[str, list[learning.EnrolResult]] = {}
    for result in results:
        by_outcome.setdefault(result.outcome, []).append(result)
    messages: list[tuple[str, str]] = []
    new = by_outcome.get(learning.EnrolOutcome.ENROLLED.value, [])
    if new:
        messages.append((ngettext("{n} worker enrolled in {course}.",
                                  "{n} workers enrolled in {course}.", len(new)).format(
                                      n=len(new), course=title), "success"))
    moved = by_outcome.get(learning.EnrolOutcome.MOVED.value, [])
    if moved:
        messages.append((ngettext(
            "{n} worker moved to version {version}: {names}. Progress in unchanged lessons "
            "carries over; the study-hours record keeps all time studied.",
            "{n} workers moved to version {version}: {names}. Progress in unchanged lessons "
            "carries over; the study-hours record keeps all time studied.", len(moved)).format(
                n=len(moved), version=course.version,
                names=", ".join(names.get(r.enrolment.worker_id, "?") for r in moved[:10])),
            "success"))
    already = by_outcome.get(learning.EnrolOutcome.ALREADY_ENROLLED.value, [])
    if already:
        messages.append((ngettext("{n} worker was already enrolled in this version; nothing "
                                  "changed for them.",
                                  "{n} workers were already enrolled in this version; nothing "
                                  "changed for them.", len(already)).format(n=len(already)),
                         "info"))
    other = by_outcome.get(learning.EnrolOutcome.OTHER_VERSION.value, [])
    studying = [r for r in other if r.enrolment.status == "active"]
    completed = [r for r in other if r.enrolment.status != "active"]
    if studying:
        messages.append((ngettext(
            "{n} worker is studying an earlier version and was not moved: {names}.",
            "{n} workers are studying an earlier version and were not moved: {names}.",
            len(studying)).format(n=len(studying), names=_names(studying, names)), "info"))
    if completed:
        messages.append((ngettext(
            "{n} worker has completed an earlier version and was not enrolled again: {names}.",
            "{n} workers have completed an earlier version and were not enrolled again: "
            "{names}.", len(completed)).format(n=len(completed),
                                               names=_names(completed, names)), "info"))
    return messages


@router.get("/enterprises/{enterprise_id}/enrol/move", name="enterprise_enrol_move")
def enterprise_enrol_move(request: Request, db: SessionDep, user: CurrentUser,
                          enterprise_id: int, course_id: int,
                          worker_ids: Annotated[list[int] | None, Query()] = None) -> Response:
    """Offer to move staff who study an earlier version of a course to its published one."""
    enterprise = organisations.get_enterprise_or_404(db=db, enterprise_id=enterprise_id)
    if not organisations.can_manage_enterprise(user, enterprise.id):
        raise NotFound(_("No such enterprise."))
    course = service.get_course_or_404(db=db, course_id=course_id)
    workers = learning.workers_for_enrolment(db=db, by=user, worker_ids=worker_ids or [])
    rows = [r for r in learning.earlier_version_enrolments(db=db, course=course, workers=workers)
            if r.enrolment.status == "active"]
    return render(request, "courses/move.html", {
        **course_context(), "course": course, "enterprise": enterprise, "rows": rows,
        "names": {w.id: w.full_name for w in workers}})


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
