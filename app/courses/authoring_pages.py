"""HTML routes of authoring for trainers and admins: the list of courses, drafts with their
modules and lessons (uploads, hotspots), reordering, preview as a learner, publish, archive.

Plain forms throughout, so every action works without JavaScript; each bad form is shown
again with 400 and a message beside each field, and nothing is written.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from itertools import groupby
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.datastructures import FormData, UploadFile

from app import media
from app.accounts.api import client_ip
from app.accounts.deps import page_guard
from app.courses import authoring
from app.courses.authoring_api import (
    Author,
    AuthoredCourse,
    AuthoredLesson,
    DraftCourse,
    DraftLesson,
    DraftModule,
)
from app.courses.markdown import render as render_markdown
from app.courses.models import MARKDOWN_KINDS, Course, CourseKind, CourseStatus, Lesson, Module
from app.courses.pages import course_context
from app.db import SessionDep
from app.errors import Conflict, Invalid, NotFound
from app.exams import service as exams
from app.i18n import get_locale
from app.i18n import gettext as _
from app.learning import profiles
from app.organisations import reference
from app.web import FormDep, flash, markup, redirect, render
from app.web import form_text as _text

router = APIRouter(dependencies=[Depends(page_guard)], include_in_schema=False)

HOTSPOT_FIELDS = ("yaw", "pitch", "label_en", "label_zh_CN", "description_en",
                  "description_zh_CN", "hazard")
MAX_HOTSPOT_ROWS = 50


# --- form helpers -----------------------------------------------------------------------------

def _localized(form: FormData, prefix: str) -> dict[str, str]:
    return {locale: _text(form, f"{prefix}_{locale}") for locale in authoring.LOCALES}


def _number(text: str, kind: Callable[[str], Any], invalid: Any) -> Any:
    """A form number; `invalid` (a value the service refuses, with its message) otherwise."""
    try:
        value = kind(text.strip())
    except ValueError:
        return invalid
    return value if not isinstance(value, float) or math.isfinite(value) else invalid


def _keyed(errors: list[dict[str, Any]]) -> dict[str, str]:
    """Service errors keyed like the form fields: ["title", "en"] -> "title_en"."""
    result: dict[str, str] = {}
    for error in errors:
        key = "_".join(str(part) for part in error.get("loc", [])) or "__all__"
        result.setdefault(key, str(error.get("msg", "")))
    return result


def _upload(form: FormData, kind: str) -> bytes | None:
    """The uploaded file, read no further than its limit plus one byte (so an oversized file is
    refused without being read whole); None when no file was chosen."""
    item = form.get("file")
    if not isinstance(item, UploadFile) or kind not in authoring.MEDIA_TYPES:
        return None
    data = item.file.read(authoring.upload_limit(kind) + 1)
    return data or None


def _course_fields(form: FormData) -> authoring.CourseFields:
    certificate = None
    if _text(form, "issues_certificate") == "on":
        certificate = authoring.CertificateFields(
            title=_localized(form, "certificate_title"),
            validity_years=_number(_text(form, "certificate_validity_years"), int, 0),
            review_years=_number(_text(form, "certificate_review_years"), int, 0))
    return authoring.CourseFields(
        title=_localized(form, "title"), description=_localized(form, "description"),
        job_category=_text(form, "job_category"), kind=_text(form, "kind"),
        credit_hours=_number(_text(form, "credit_hours") or "0", float, math.nan),
        required_minutes=_number(_text(form, "required_minutes") or "0", int, -1),
        practical_required=_text(form, "practical_required") == "on", certificate=certificate,
        # Unticked boxes are not sent: the marker says the form showed them.
        audience=[role for role in ("worker", "regulator")
                  if _text(form, f"audience_{role}") == "on"]
        if _text(form, "audience_shown") else None)


def _certificate_defaults(db: SessionDep) -> dict[str, Any]:
    """Validity and review years of a new certificate: the active rule profile's."""
    rules = profiles.active_profile(db=db).data.get("special_operations", {}).get(
        "certificate", {})
    return {"certificate_validity_years": str(rules.get("validity_years", "")),
            "certificate_review_years": str(rules.get("review_years", ""))}


def _course_values(db: SessionDep, course: Course) -> dict[str, Any]:
    values: dict[str, Any] = {
        "code": course.code, "job_category": course.job_category, "kind": course.kind,
        "credit_hours": f"{course.credit_hours:g}", "required_minutes": course.required_minutes,
        "practical_required": course.practical_required,
        "audience_worker": "worker" in course.audience_roles,
        "audience_regulator": "regulator" in course.audience_roles,
        "issues_certificate": bool(course.certificate), **_certificate_defaults(db)}
    certificate = authoring.certificate_fields(course)
    if certificate is not None:
        values["certificate_validity_years"] = str(certificate.validity_years)
        values["certificate_review_years"] = str(certificate.review_years)
    for locale in authoring.LOCALES:
        values[f"title_{locale}"] = (course.title or {}).get(locale, "")
        values[f"description_{locale}"] = (course.description or {}).get(locale, "")
        values[f"certificate_title_{locale}"] = \
            certificate.title.get(locale, "") if certificate else ""
    return values


def _form_values(form: FormData) -> dict[str, Any]:
    values: dict[str, Any] = {key: _text(form, key) for key in form if key != "csrf_token"}
    values["practical_required"] = values.get("practical_required") == "on"
    for role in ("worker", "regulator"):
        values[f"audience_{role}"] = values.get(f"audience_{role}") == "on"
    values["issues_certificate"] = values.get("issues_certificate") == "on"
    return values


def _context() -> dict[str, Any]:
    return {**course_context(), "job_category_list": reference.job_categories(),
            "course_kinds": [k.value for k in CourseKind], "status_label": authoring.status_label,
            "media_types": authoring.MEDIA_TYPES, "markdown_kinds": MARKDOWN_KINDS}


def _editor_url(request: Request, course: Course) -> str:
    return request.url_for("author_course", course_id=course.id).path


# --- list and new drafts ------------------------------------------------------------------------

@router.get("/author", name="author_home")
def author_home(request: Request, db: SessionDep, user: Author) -> Response:
    """Drafts of this author, and every course by code with its versions and status."""
    courses = authoring.list_all(db=db)
    groups = [(code, list(items)) for code, items in groupby(courses, key=lambda c: c.code)]
    return render(request, "authoring/index.html", {
        **_context(), "groups": groups,
        "my_drafts": [c for c in courses if c.status == CourseStatus.DRAFT.value
                      and c.created_by == user.id],
        "draft_codes": {c.code for c in courses if c.status == CourseStatus.DRAFT.value}})


@router.get("/author/new", name="author_new")
def author_new(request: Request, db: SessionDep, user: Author) -> Response:
    """The form for a new course draft."""
    return render(request, "authoring/new.html", {
        **_context(), "values": {"credit_hours": "0", "required_minutes": "0",
                                 "audience_worker": True, **_certificate_defaults(db)},
        "errors": {}})


@router.post("/author/new", name="author_create")
def author_create(request: Request, db: SessionDep, user: Author, form: FormDep) -> Response:
    """Create a draft from the form."""
    try:
        course = authoring.create_draft(db=db, code=_text(form, "code"),
                                        fields=_course_fields(form), by=user,
                                        ip=client_ip(request))
    except (Invalid, Conflict) as exc:
        errors = _keyed(exc.extra.get("errors", [])) if isinstance(exc, Invalid) else \
            {"code": exc.message}
        return render(request, "authoring/new.html", {
            **_context(), "values": _form_values(form), "errors": errors}, status_code=400)
    flash(request, _("Draft {code} version {version} created. Add its modules and lessons.")
          .format(code=course.code, version=course.version))
    return redirect(_editor_url(request, course))


# --- the course editor ------------------------------------------------------------------------

def _editor(request: Request, db: SessionDep, course: Course, *, status_code: int = 200,
            **extra: Any) -> Response:
    context: dict[str, Any] = {
        **_context(), "course": course, "is_draft": course.status == CourseStatus.DRAFT.value,
        "values": _course_values(db, course), "errors": {}, "module_errors": {},
        "module_values": {}, "publish_errors": None,
        "problems": authoring.publish_problems(course, db=db)
        if course.status == CourseStatus.DRAFT.value else [],
        "exam": exams.exam_of(db=db, course_id=course.id),
        "draft": authoring.draft_of(db=db, code=course.code),
        "first_lesson": next((lesson for m in course.modules for lesson in m.lessons), None)}
    context.update(extra)
    return render(request, "authoring/course.html", context, status_code=status_code)


@router.get("/author/courses/{course_id}", name="author_course")
def author_course(request: Request, db: SessionDep, user: Author,
                  course: AuthoredCourse) -> Response:
    """A course version: a draft is edited here; other versions are shown read-only."""
    return _editor(request, db, course)


@router.post("/author/courses/{course_id}", name="author_course_update")
def author_course_update(request: Request, db: SessionDep, user: Author, course: DraftCourse,
                         form: FormDep) -> Response:
    """Save the draft's fields."""
    try:
        authoring.update_course(db=db, course=course, fields=_course_fields(form), by=user,
                                ip=client_ip(request))
    except Invalid as exc:
        values = {**_form_values(form), "code": course.code}
        return _editor(request, db, course, status_code=400, values=values,
                       errors=_keyed(exc.errors))
    flash(request, _("Course details saved."))
    return redirect(_editor_url(request, course))


@router.post("/author/courses/{course_id}/new-version", name="author_new_version")
def author_new_version(request: Request, db: SessionDep, user: Author,
                       course: AuthoredCourse) -> Response:
    """Copy this version into a new draft (or go to the draft that exists already)."""
    try:
        draft = authoring.new_version(db=db, course=course, by=user, ip=client_ip(request))
    except Conflict as exc:
        existing = authoring.draft_of(db=db, code=course.code)
        if existing is None:
            raise
        flash(request, exc.message, "info")
        return redirect(_editor_url(request, existing))
    flash(request, _("Version {version} of {code} is a new draft, copied from version "
                     "{source}.").format(version=draft.version, code=draft.code,
                                         source=course.version))
    return redirect(_editor_url(request, draft))


@router.get("/author/courses/{course_id}/publish", name="author_publish_confirm")
def author_publish_confirm(request: Request, db: SessionDep, user: Author,
                           course: DraftCourse) -> Response:
    """Before publishing: what changes (version, lessons, hours, exam) and what happens to the
    learners of earlier versions; the Publish button of this page is the only one that
    publishes."""
    return render(request, "authoring/publish.html", {
        **_context(), "course": course, "changes": authoring.publish_changes(db=db, course=course),
        "problems": authoring.publish_problems(course, db=db)})


@router.post("/author/courses/{course_id}/publish", name="author_publish")
def author_publish(request: Request, db: SessionDep, user: Author, course: DraftCourse,
                   form: FormDep) -> Response:
    """Publish the draft (confirmed on the confirmation page); older published versions of its
    code are archived. Without the confirmation, nothing is published: off to that page."""
    if not _text(form, "confirm"):
        return redirect(request.url_for("author_publish_confirm", course_id=course.id).path)
    try:
        authoring.publish(db=db, course=course, by=user, ip=client_ip(request))
    except Invalid as exc:
        return _editor(request, db, course, status_code=400, publish_errors=exc.errors)
    flash(request, _("Version {version} of {code} is published. Older versions are archived; "
                     "their learners continue on them.").format(version=course.version,
                                                                code=course.code))
    return redirect(_editor_url(request, course))


@router.post("/author/courses/{course_id}/archive", name="author_archive")
def author_archive(request: Request, db: SessionDep, user: Author,
                   course: AuthoredCourse) -> Response:
    """Close a published version to new enrolments."""
    authoring.archive(db=db, course=course, by=user, ip=client_ip(request))
    flash(request, _("Version {version} of {code} is archived: nobody new can enrol; running "
                     "enrolments continue.").format(version=course.version, code=course.code))
    return redirect(_editor_url(request, course))


@router.post("/author/courses/{course_id}/discard", name="author_discard")
def author_discard(request: Request, db: SessionDep, user: Author,
                   course: DraftCourse) -> Response:
    """Delete the draft."""
    code, version = course.code, course.version
    authoring.discard_draft(db=db, course=course, by=user, ip=client_ip(request))
    flash(request, _("Draft {code} version {version} discarded.").format(code=code,
                                                                         version=version))
    return redirect(request.url_for("author_home").path)


# --- modules ------------------------------------------------------------------------------------

def _direction(form: FormData) -> int:
    return -1 if _text(form, "direction") == "up" else 1


@router.post("/author/courses/{course_id}/modules", name="author_module_add")
def author_module_add(request: Request, db: SessionDep, user: Author, course: DraftCourse,
                      form: FormDep) -> Response:
    """Append a module."""
    try:
        module = authoring.add_module(db=db, course=course, title=_localized(form, "title"),
                                      by=user)
    except Invalid as exc:
        return _editor(request, db, course, status_code=400,
                       module_errors={"new": _keyed(exc.errors)},
                       module_values={"new": _form_values(form)})
    flash(request, _("Module added."))
    return redirect(_editor_url(request, course) + f"#module-{module.id}")


@router.post("/author/courses/{course_id}/modules/{module_id}", name="author_module_rename")
def author_module_rename(request: Request, db: SessionDep, user: Author, course: DraftCourse,
                         module: DraftModule, form: FormDep) -> Response:
    """Change a module's title."""
    try:
        authoring.rename_module(db=db, course=course, module=module,
                                title=_localized(form, "title"), by=user)
    except Invalid as exc:
        return _editor(request, db, course, status_code=400,
                       module_errors={module.id: _keyed(exc.errors)},
                       module_values={module.id: _form_values(form)})
    flash(request, _("Module renamed."))
    return redirect(_editor_url(request, course) + f"#module-{module.id}")


@router.post("/author/courses/{course_id}/modules/{module_id}/move", name="author_module_move")
def author_module_move(request: Request, db: SessionDep, user: Author, course: DraftCourse,
                       module: DraftModule, form: FormDep) -> Response:
    """Move a module up or down."""
    authoring.move_module(db=db, course=course, module=module, offset=_direction(form), by=user)
    return redirect(_editor_url(request, course) + f"#module-{module.id}")


@router.post("/author/courses/{course_id}/modules/{module_id}/delete",
             name="author_module_delete")
def author_module_delete(request: Request, db: SessionDep, user: Author, course: DraftCourse,
                         module: DraftModule) -> Response:
    """Remove a module with its lessons."""
    authoring.delete_module(db=db, course=course, module=module, by=user)
    flash(request, _("Module deleted."))
    return redirect(_editor_url(request, course))


# --- lessons ------------------------------------------------------------------------------------

def _lesson_values(lesson: Lesson) -> dict[str, Any]:
    values: dict[str, Any] = {"minutes": lesson.minutes, "module_id": lesson.module_id}
    for locale in authoring.LOCALES:
        values[f"title_{locale}"] = (lesson.title or {}).get(locale, "")
        values[f"body_{locale}"] = (lesson.body or {}).get(locale, "")
    return values


def _hotspot_rows(lesson: Lesson) -> list[dict[str, Any]]:
    rows = []
    for spot in lesson.hotspots or []:
        row: dict[str, Any] = {"yaw": f"{spot.get('yaw', 0):g}",
                               "pitch": f"{spot.get('pitch', 0):g}",
                               "hazard": bool(spot.get("hazard"))}
        for locale in authoring.LOCALES:
            row[f"label_{locale}"] = (spot.get("label") or {}).get(locale, "")
            row[f"description_{locale}"] = (spot.get("description") or {}).get(locale, "")
        rows.append(row)
    return rows


def _lesson_form(request: Request, course: Course, kind: str, *, module: Module | None = None,
                 lesson: Lesson | None = None, values: dict[str, Any] | None = None,
                 errors: dict[str, str] | None = None, rows: list[dict[str, Any]] | None = None,
                 hotspot_errors: dict[str, str] | None = None,
                 status_code: int = 200) -> Response:
    limit_mb = authoring.upload_limit(kind) // (1024 * 1024) if kind in authoring.MEDIA_TYPES \
        else 0
    accept = ",".join(f".{t}" for t in sorted(authoring.MEDIA_TYPES.get(kind, ())))
    if rows is None and lesson is not None:
        rows = _hotspot_rows(lesson)
    return render(request, "authoring/lesson.html", {
        **_context(), "course": course, "module": module, "lesson": lesson, "kind": kind,
        "values": values if values is not None else
        (_lesson_values(lesson) if lesson else {"minutes": "10"}),
        "errors": errors or {}, "limit_mb": limit_mb, "accept": accept,
        "types": authoring.accepted_types(kind) if kind in authoring.MEDIA_TYPES else "",
        "rows": rows if rows else [{}], "hotspot_errors": hotspot_errors or {},
        "media_url": media.url(lesson.media_key) if lesson and lesson.media_key else None},
        status_code=status_code)


def _lesson_fields(form: FormData) -> authoring.LessonFields:
    return authoring.LessonFields(title=_localized(form, "title"),
                                  minutes=_number(_text(form, "minutes"), int, 0),
                                  body=_localized(form, "body"))


@router.get("/author/courses/{course_id}/modules/{module_id}/lessons/new",
            name="author_lesson_new")
def author_lesson_new(request: Request, user: Author, course: DraftCourse, module: DraftModule,
                      kind: str = "text") -> Response:
    """The form for a new lesson of one kind."""
    if kind not in course_context()["lesson_kind_labels"]:
        raise NotFound(_("There is no such kind of lesson."))
    return _lesson_form(request, course, kind, module=module)


@router.post("/author/courses/{course_id}/modules/{module_id}/lessons",
             name="author_lesson_create")
def author_lesson_create(request: Request, db: SessionDep, user: Author, course: DraftCourse,
                         module: DraftModule, form: FormDep) -> Response:
    """Add a lesson: Markdown for text and case, an upload for video, document and panorama."""
    kind = _text(form, "kind")
    if kind not in course_context()["lesson_kind_labels"]:
        raise NotFound(_("There is no such kind of lesson."))
    try:
        lesson = authoring.add_lesson(db=db, course=course, module=module, kind=kind,
                                      fields=_lesson_fields(form), upload=_upload(form, kind),
                                      require_media=True, by=user)
    except Invalid as exc:
        return _lesson_form(request, course, kind, module=module, values=_form_values(form),
                            errors=_keyed(exc.errors), status_code=400)
    flash(request, _("Lesson added."))
    if kind == "panorama":
        return redirect(request.url_for("author_lesson", course_id=course.id,
                                        lesson_id=lesson.id).path + "#hotspots")
    return redirect(_editor_url(request, course) + f"#module-{module.id}")


@router.get("/author/courses/{course_id}/lessons/{lesson_id}", name="author_lesson")
def author_lesson(request: Request, user: Author, course: DraftCourse,
                  lesson: DraftLesson) -> Response:
    """Edit a lesson of a draft (and, for a panorama, its hotspots)."""
    return _lesson_form(request, course, lesson.kind, lesson=lesson)


@router.post("/author/courses/{course_id}/lessons/{lesson_id}", name="author_lesson_update")
def author_lesson_update(request: Request, db: SessionDep, user: Author, course: DraftCourse,
                         lesson: DraftLesson, form: FormDep) -> Response:
    """Save a lesson; a new file replaces the old one; another module moves it there."""
    target = None
    module_id = _number(_text(form, "module_id"), int, None)
    if module_id is not None and module_id != lesson.module_id:
        target = authoring.module_of(course, module_id)
        if target is None:
            raise NotFound(_("No such module in this course."))
    try:
        authoring.update_lesson(db=db, course=course, lesson=lesson,
                                fields=_lesson_fields(form),
                                upload=_upload(form, lesson.kind), module=target, by=user)
    except Invalid as exc:
        return _lesson_form(request, course, lesson.kind, lesson=lesson,
                            values=_form_values(form), errors=_keyed(exc.errors),
                            status_code=400)
    flash(request, _("Lesson saved."))
    return redirect(_editor_url(request, course) + f"#lesson-{lesson.id}")


def _posted_rows(form: FormData) -> list[dict[str, Any]]:
    count = min(_number(_text(form, "rows"), int, 0), MAX_HOTSPOT_ROWS)
    rows = []
    for index in range(max(count, 0)):
        row: dict[str, Any] = {name: _text(form, f"hotspots_{index}_{name}")
                               for name in HOTSPOT_FIELDS}
        row["hazard"] = row["hazard"] == "on"
        row["remove"] = _text(form, f"hotspots_{index}_remove") == "on"
        rows.append(row)
    return rows


@router.post("/author/courses/{course_id}/lessons/{lesson_id}/hotspots",
             name="author_hotspots")
def author_hotspots(request: Request, db: SessionDep, user: Author, course: DraftCourse,
                    lesson: DraftLesson, form: FormDep) -> Response:
    """Save a panorama's hotspot rows ("add a row" shows the form again with one more, unsaved;
    ticked rows are removed; empty rows are ignored)."""
    if lesson.kind != "panorama":
        raise NotFound(_("Only 360° panorama lessons have hotspots."))
    rows = [row for row in _posted_rows(form) if not row["remove"]]
    if _text(form, "action") == "add":
        rows = (rows + [{}])[:MAX_HOTSPOT_ROWS]
        return _lesson_form(request, course, lesson.kind, lesson=lesson, rows=rows)
    kept = [(index, row) for index, row in enumerate(rows)
            if any(str(row.get(name) or "").strip() for name in HOTSPOT_FIELDS if name != "hazard")]
    spots = [authoring.Hotspot(
        yaw=_number(row["yaw"], float, math.nan), pitch=_number(row["pitch"], float, math.nan),
        label={locale: row[f"label_{locale}"] for locale in authoring.LOCALES},
        description={locale: row[f"description_{locale}"] for locale in authoring.LOCALES},
        hazard=row["hazard"]) for _index, row in kept]
    try:
        authoring.set_hotspots(db=db, course=course, lesson=lesson, hotspots=spots, by=user)
    except Invalid as exc:
        for error in exc.errors:  # the service counts kept rows; the form counts every row
            loc = error["loc"]
            if len(loc) > 1 and loc[0] == "hotspots" and isinstance(loc[1], int):
                error["loc"] = ["hotspots", kept[loc[1]][0], *loc[2:]]
        return _lesson_form(request, course, lesson.kind, lesson=lesson, rows=rows,
                            hotspot_errors=_keyed(exc.errors), status_code=400)
    flash(request, _("Hotspots saved: {n}.").format(n=len(spots)))
    return redirect(request.url_for("author_lesson", course_id=course.id,
                                    lesson_id=lesson.id).path + "#hotspots")


@router.post("/author/courses/{course_id}/lessons/{lesson_id}/move", name="author_lesson_move")
def author_lesson_move(request: Request, db: SessionDep, user: Author, course: DraftCourse,
                       lesson: DraftLesson, form: FormDep) -> Response:
    """Move a lesson up or down in its module."""
    authoring.move_lesson(db=db, course=course, lesson=lesson, offset=_direction(form), by=user)
    return redirect(_editor_url(request, course) + f"#lesson-{lesson.id}")


@router.post("/author/courses/{course_id}/lessons/{lesson_id}/delete",
             name="author_lesson_delete")
def author_lesson_delete(request: Request, db: SessionDep, user: Author, course: DraftCourse,
                         lesson: DraftLesson) -> Response:
    """Remove a lesson."""
    module_id = lesson.module_id
    authoring.delete_lesson(db=db, course=course, lesson=lesson, by=user)
    flash(request, _("Lesson deleted."))
    return redirect(_editor_url(request, course) + f"#module-{module_id}")


# --- preview ------------------------------------------------------------------------------------

@router.get("/author/courses/{course_id}/lessons/{lesson_id}/preview", name="author_preview")
def author_preview(request: Request, user: Author, course: AuthoredCourse,
                   lesson: AuthoredLesson) -> Response:
    """The lesson exactly as a learner sees it, without an enrolment: nothing is credited or
    recorded."""
    locale = get_locale()
    lessons = [item for m in course.modules for item in m.lessons]
    index = lessons.index(lesson)
    body = lesson.body.get(locale) or lesson.body.get("en") or ""

    def lesson_url(item: Lesson) -> str:
        return request.url_for("author_preview", course_id=course.id, lesson_id=item.id).path

    flash(request, _("Preview: this is what learners see. No study time is credited."), "info")
    return render(request, "learning/lesson.html", {
        **course_context(), "enrolment": None, "lesson": lesson, "progress": None,
        "html": markup(render_markdown(body)) if body else None,
        "media_url": media.url(lesson.media_key) if lesson.media_key else None,
        "previous": lessons[index - 1] if index > 0 else None,
        "next": lessons[index + 1] if index + 1 < len(lessons) else None,
        "position": index + 1, "count": len(lessons), "is_learner": False, "active": False,
        "beat_seconds": 30,
        "preview": {"outline_url": _editor_url(request, course), "lesson_url": lesson_url,
                    "course": course}})
