"""HTML routes of offline classes: trainers record a class held at a training base and pick the
attendees from enterprise rosters; attendees earn ledger time at the offline rate."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from app.accounts.api import client_ip
from app.accounts.deps import page_guard, require
from app.accounts.models import Role, User
from app.bounds import parse_int
from app.courses import service as courses
from app.courses.pages import course_context
from app.db import SessionDep
from app.errors import Invalid
from app.i18n import gettext as _
from app.learning import service
from app.organisations import service as organisations
from app.organisations.validators import mask_id_number
from app.pagination import PageDep
from app.web import flash, form_errors, parse_iso_date, redirect, render

router = APIRouter(dependencies=[Depends(page_guard)], include_in_schema=False)
TrainerUser = Annotated[User, Depends(require(Role.TRAINER, Role.ADMIN))]


@router.get("/classes", name="offline_classes")
def classes(request: Request, db: SessionDep, user: TrainerUser, paging: PageDep) -> Response:
    """Offline classes recorded so far."""
    items, total = service.list_offline_classes(db=db, page=paging.page,
                                                page_size=paging.page_size)
    return render(request, "learning/classes.html", {**course_context(), "items": items,
                                                      "total": total, "paging": paging})


def _form(request: Request, db: SessionDep, values: dict, errors: dict[str, str],
          status_code: int = 200) -> Response:
    enterprises = organisations.all_enterprises(db=db)
    enterprise_id = parse_int(str(values.get("enterprise_id") or ""), name="enterprise_id",
                              minimum=0, default=0) or 0
    workers, _total = organisations.list_workers(
        db=db, enterprise_id=enterprise_id, query=values.get("q", ""),
        page_size=500) if enterprise_id else ([], 0)
    published, _count = courses.list_courses(db=db, page_size=200)
    return render(request, "learning/class_form.html", {
        **course_context(), "values": values, "errors": errors, "enterprises": enterprises,
        "mask_id": mask_id_number,
        "workers": workers, "courses": published, "today": date.today().isoformat()},
        status_code=status_code)


@router.get("/classes/new", name="offline_class_new")
def class_new(request: Request, db: SessionDep, user: TrainerUser, enterprise_id: int = 0,
              q: str = "") -> Response:
    """The form: pick an enterprise to list its roster, tick the attendees."""
    return _form(request, db, {"enterprise_id": enterprise_id, "q": q, "class_hours": "4",
                               "held_on": date.today().isoformat()}, {})


@router.post("/classes/new", name="offline_class_create")
async def class_create(request: Request, db: SessionDep, user: TrainerUser) -> Response:
    """Record the class and credit the attendees."""
    form = await request.form()
    fields = ("title", "course_id", "held_on", "class_hours", "location", "notes",
              "enterprise_id", "q")
    values: dict[str, Any] = {key: form.get(key, "") for key in fields}
    worker_ids = [parse_int(str(v), name="worker_ids", minimum=1) or 0
                  for v in form.getlist("worker_ids") if str(v).strip()]
    values["worker_ids"] = worker_ids
    errors: dict[str, str] = {}
    held_on = parse_iso_date(str(values["held_on"]))
    if held_on is None:
        errors["held_on"] = _("Enter the date of the class.")
    try:
        hours = float(str(values["class_hours"]).replace(",", "."))
    except ValueError:
        errors["class_hours"] = _("Enter the class hours as a number, for example 4 or 1.5.")
        hours = 0.0
    course = None
    course_id = parse_int(str(values["course_id"]), name="course_id", minimum=1)
    if course_id is not None:
        course = courses.get_course_or_404(db=db, course_id=course_id)
    workers = service.workers_for_attendance(db=db, worker_ids=worker_ids)
    try:
        if errors:  # the service still checks the other fields, so every problem shows at once
            raise Invalid(errors=[])
        item = service.record_offline_class(
            db=db, title=str(values["title"]), held_on=held_on or date.today(),
            class_hours=hours, location=str(values["location"]), notes=str(values["notes"]),
            course=course, workers=workers, by=user, ip=client_ip(request))
    except Invalid as exc:
        others = service.offline_class_problems(title=str(values["title"]), held_on=held_on,
                                                class_hours=hours if "class_hours" not in errors
                                                else None, workers=workers)
        merged = {**form_errors(others), **form_errors(exc.errors), **errors}
        return _form(request, db, values, merged, status_code=400)
    flash(request, _("Class recorded: {n} attendees credited with {hours} class hours.").format(
        n=len(workers), hours=hours))
    return redirect(request.url_for("offline_class", class_id=item.id).path)


@router.get("/classes/{class_id}", name="offline_class")
def class_detail(request: Request, db: SessionDep, user: TrainerUser, class_id: int) -> Response:
    """One class with its attendees."""
    item, attendees = service.get_offline_class_or_404(db=db, class_id=class_id)
    return render(request, "learning/class_detail.html", {
        **course_context(), "item": item, "attendees": attendees,
        "course": courses.get_course_or_404(db=db, course_id=item.course_id)
        if item.course_id else None})
