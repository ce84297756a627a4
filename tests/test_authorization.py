"""Table-driven authorization: every object-scoped route refuses users outside its jurisdiction.

The test walks `app.routes`. Every route whose path has a parameter ("{...}") must have an
entry in ROUTE_CASES saying how to address an object of enterprise A (Shanxi, region 140105),
who may reach it, and with what request. Then, for each route:

- four outsiders are refused (404 or 403) and get nothing of the object: the administrator of
  enterprise B (Inner Mongolia, 150602), a regulator of region 15, a regulator of region 1402
  (same province, another prefecture) and a worker of enterprise B;
- users who may see the object but not act on it are refused too (`refused` in the case);
- the right insiders (`allowed`) get a 2xx or 3xx answer.

A refused write must leave the database exactly as it was. A new object-scoped route without
an entry here fails `test_every_object_scoped_route_has_a_case`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest
from fastapi import APIRouter
from fastapi.routing import APIRoute
from sqlalchemy import select

from app import db as app_db
from app.accounts.models import Role, User
from app.models import Base
from app.organisations import roster
from app.organisations.models import Enterprise, Worker
from app.organisations.validators import make_credit_code, make_resident_id
from tests import factories as f

OUTSIDERS = ("b_admin", "reg_15", "reg_1402", "worker_b")
HEADER = "id_number,full_name,phone,job_category,hired_on\n"
NEW_ID = make_resident_id(region="140105", birth=date(1985, 1, 1), sequence=777)
CSV = (HEADER + f"{NEW_ID},赵新工,13900139000,general.underground,2021-06-01\n").encode()


@dataclass
class World:
    """Enterprise A (Shanxi) with its staff, enterprise B (Inner Mongolia), everyone's logins."""

    ent_a: Enterprise
    ent_b: Enterprise
    worker_a: Worker
    users: dict[str, User]
    upload_token: str


@dataclass(frozen=True)
class Case:
    """How to reach an object of enterprise A through one route, and who may."""

    url: Callable[[World], str]
    allowed: tuple[str, ...]
    # Insiders who may see the object (or the page) but not do this: refused with 403/404.
    refused: tuple[str, ...] = ()
    data: Callable[[World], dict[str, str]] | None = None  # form fields (pages)
    json: Callable[[World], dict[str, Any]] | None = None  # JSON body (API)
    upload: bool = False  # send CSV as the multipart field `file`
    # Text that identifies the object: an outsider's response must not contain it.
    secrets: Callable[[World], list[str]] = field(default=lambda w: [w.ent_a.name])
    # The allowed insiders' answer shows the secrets (proves the check above can fail).
    shows: bool = False


def _enterprise_secrets(w: World) -> list[str]:
    return [w.ent_a.name, w.ent_a.credit_code]


def _worker_secrets(w: World) -> list[str]:
    masked = w.worker_a.id_number[:6] + "*" * 8 + w.worker_a.id_number[-4:]
    return [w.worker_a.full_name, w.worker_a.id_number, masked]


def _ent(w: World) -> int:
    return w.ent_a.id


# Authoring (trainers and admins, platform-wide): a draft with a module, a text lesson and a
# panorama, and a published course, created on first use in the test's database.
AUTHORING_SECRET = "Authoring secret draft"
AUTHORING_ALLOWED = ("admin",)
AUTHORING_REFUSED = ("a_admin", "reg_14", "worker_a")


def _authoring(w: World) -> dict[str, int]:
    from app import media
    from app.courses.models import Course, Lesson, Module
    from tests import packages

    with app_db.open_session(write=True) as s:
        draft = s.scalar(select(Course).where(Course.code == "AUTH-DRAFT"))
        if draft is None:
            common = {"job_category": "general.underground", "kind": "general",
                      "credit_hours": 1.0, "required_minutes": 1}
            draft = Course(code="AUTH-DRAFT", version=1, status="draft",
                           title={"en": AUTHORING_SECRET}, **common)
            live = Course(code="AUTH-LIVE", version=1, status="published",
                          title={"en": AUTHORING_SECRET + " (live)"}, **common)
            s.add_all([draft, live])
            s.flush()
            for course in (draft, live):
                module = Module(course_id=course.id, position=1, title={"en": "Module"})
                s.add(module)
                s.flush()
                s.add_all([
                    Lesson(course_id=course.id, module_id=module.id, position=1, kind="text",
                           title={"en": "Text"}, minutes=1, body={"en": "# Text"}),
                    Lesson(course_id=course.id, module_id=module.id, position=2,
                           kind="panorama", title={"en": "Scene"}, minutes=1,
                           media_key=media.store(packages.png(64, 32)), hotspots=[])])
            s.commit()
        live_id = s.scalar(select(Course.id).where(Course.code == "AUTH-LIVE"))
        module_id = s.scalar(select(Module.id).where(Module.course_id == draft.id))
        lessons = {kind: lesson_id for kind, lesson_id in s.execute(
            select(Lesson.kind, Lesson.id).where(Lesson.course_id == draft.id))}
    return {"draft": draft.id, "live": live_id, "module": module_id, "text": lessons["text"],
            "scene": lessons["panorama"]}


def _draft_url(w: World, rest: str = "") -> str:
    ids = _authoring(w)
    return f"/author/courses/{ids['draft']}" + rest.format(**ids)


def _draft_api(w: World, rest: str = "") -> str:
    ids = _authoring(w)
    return f"/api/v1/authoring/courses/{ids['draft']}" + rest.format(**ids)


def _authoring_case(url: Callable[[World], str], *, shows: bool = False,
                    data: Callable[[World], dict[str, str]] | None = None,
                    json: Callable[[World], dict[str, Any]] | None = None,
                    allowed: tuple[str, ...] = AUTHORING_ALLOWED,
                    upload: bool = False) -> Case:
    return Case(url=url, allowed=allowed, refused=AUTHORING_REFUSED, data=data, json=json,
                upload=upload, secrets=lambda w: [AUTHORING_SECRET], shows=shows)


_COURSE_FIELDS = {"title_en": "Renamed", "job_category": "general.underground",
                  "kind": "general", "credit_hours": "2", "required_minutes": "5"}


# Supervisory agencies (organisations): one in Taiyuan (1401), so a regulator of another
# prefecture of Shanxi (1402) is an outsider; each cadre registration names a new regulator.
AGENCY_NAME = "Taiyuan Mine Safety Supervision Office"
AGENCY_CADRE = "Agency Cadre Zero"
_cadre_seq = itertools.count(1)


def _agency(w: World) -> int:
    with app_db.open_session(write=True) as s:
        agency_id = s.scalar(select(Enterprise.id).where(Enterprise.name == AGENCY_NAME))
        if agency_id is None:
            agency = Enterprise(name=AGENCY_NAME, credit_code=make_credit_code(
                region="140100", org_seq=14_010_001, authority="11"), region_code="1401",
                mine_type="other", kind="agency")
            s.add(agency)
            s.flush()
            login = f.user(s, Role.REGULATOR, username="cadre0", region_code="1401")
            s.add(Worker(user_id=login.id, enterprise_id=agency.id, full_name=AGENCY_CADRE,
                         id_number=make_resident_id(region="140105", birth=date(1979, 1, 1),
                                                    sequence=599),
                         job_category="general.safety_manager", hired_on=date(2024, 1, 1)))
            s.commit()
            agency_id = agency.id
    return agency_id


def _cadre_body(w: World) -> dict[str, Any]:
    n = next(_cadre_seq)
    with app_db.open_session(write=True) as s:
        login = f.user(s, Role.REGULATOR, username=f"cadre{n}", region_code="1401")
        s.commit()
        user_id = login.id
    return {"user_id": user_id, "full_name": f"Cadre {n}", "job_category":
            "general.safety_manager", "id_number": make_resident_id(
                region="140105", birth=date(1980, 1, 1), sequence=600 + n)}


def _agency_case(url: Callable[[World], str], *, write: bool = False, api: bool = True) -> Case:
    body = (lambda w: _cadre_body(w)) if write else None
    form = (lambda w: {k: str(v) for k, v in _cadre_body(w).items()}) if write else None
    return Case(url=url, allowed=("admin", "reg_14"), refused=("a_admin", "worker_a"),
                json=body if api else None, data=None if api else form,
                secrets=lambda w: [AGENCY_NAME, AGENCY_CADRE], shows=not write)


ROUTE_CASES: dict[tuple[str, str], Case] = {
    # --- JSON API (bearer token) --------------------------------------------------------------
    ("GET", "/api/v1/agencies/{agency_id}/cadres"): _agency_case(
        lambda w: f"/api/v1/agencies/{_agency(w)}/cadres"),
    ("POST", "/api/v1/agencies/{agency_id}/cadres"): _agency_case(
        lambda w: f"/api/v1/agencies/{_agency(w)}/cadres", write=True),
    ("GET", "/agencies/{agency_id}"): _agency_case(
        lambda w: f"/agencies/{_agency(w)}", api=False),
    ("POST", "/agencies/{agency_id}/cadres"): _agency_case(
        lambda w: f"/agencies/{_agency(w)}/cadres", write=True, api=False),
    ("GET", "/api/v1/enterprises/{enterprise_id}"): Case(
        url=lambda w: f"/api/v1/enterprises/{_ent(w)}",
        allowed=("admin", "a_admin", "reg_14"), refused=("worker_a",),
        secrets=_enterprise_secrets, shows=True),
    ("POST", "/api/v1/enterprises/{enterprise_id}/workers/import"): Case(
        url=lambda w: f"/api/v1/enterprises/{_ent(w)}/workers/import",
        allowed=("admin", "a_admin"), refused=("reg_14", "worker_a"), upload=True),
    ("GET", "/api/v1/enterprises/{enterprise_id}/workers"): Case(
        url=lambda w: f"/api/v1/enterprises/{_ent(w)}/workers",
        allowed=("admin", "a_admin", "reg_14"), refused=("worker_a",),
        secrets=_worker_secrets, shows=True),
    ("GET", "/api/v1/workers/{worker_id}"): Case(
        url=lambda w: f"/api/v1/workers/{w.worker_a.id}",
        allowed=("admin", "a_admin", "reg_14", "worker_a"),
        secrets=_worker_secrets, shows=True),
    ("PUT", "/api/v1/workers/{worker_id}/password"): Case(
        url=lambda w: f"/api/v1/workers/{w.worker_a.id}/password",
        allowed=("admin", "a_admin"), refused=("reg_14", "worker_a"),
        json=lambda w: {"password": "a-brand-new-password"}, secrets=_worker_secrets),
    ("PUT", "/api/v1/workers/{worker_id}/team"): Case(
        url=lambda w: f"/api/v1/workers/{w.worker_a.id}/team",
        allowed=("admin", "a_admin"), refused=("reg_14", "worker_a"),
        json=lambda w: {"team": "综采一队"}, secrets=_worker_secrets),
    # --- pages (session cookie + CSRF token) --------------------------------------------------
    ("GET", "/admin/users/{user_id}"): Case(
        url=lambda w: f"/admin/users/{w.worker_a.user_id}",
        allowed=("admin",), refused=("a_admin", "reg_14", "worker_a"),
        secrets=_worker_secrets, shows=True),
    ("POST", "/admin/users/{user_id}"): Case(
        url=lambda w: f"/admin/users/{w.worker_a.user_id}",
        allowed=("admin",), refused=("a_admin", "reg_14", "worker_a"),
        data=lambda w: {"full_name": "Renamed", "roles": "worker",
                        "enterprise_id": str(w.ent_a.id), "region_code": ""},
        secrets=_worker_secrets),
    ("POST", "/admin/users/{user_id}/active"): Case(
        url=lambda w: f"/admin/users/{w.worker_a.user_id}/active",
        allowed=("admin",), refused=("a_admin", "reg_14", "worker_a"),
        data=lambda w: {"active": "false"}, secrets=_worker_secrets),
    ("POST", "/admin/users/{user_id}/password"): Case(
        url=lambda w: f"/admin/users/{w.worker_a.user_id}/password",
        allowed=("admin",), refused=("a_admin", "reg_14", "worker_a"),
        data=lambda w: {"password": "a-brand-new-password"}, secrets=_worker_secrets),
    ("GET", "/enterprises/{enterprise_id}"): Case(
        url=lambda w: f"/enterprises/{_ent(w)}",
        allowed=("admin", "a_admin", "reg_14"), refused=("worker_a",),
        secrets=lambda w: [*_enterprise_secrets(w), w.worker_a.full_name], shows=True),
    ("GET", "/enterprises/{enterprise_id}/roster.xlsx"): Case(
        url=lambda w: f"/enterprises/{_ent(w)}/roster.xlsx",
        allowed=("admin", "a_admin"), refused=("reg_14", "worker_a")),
    ("GET", "/enterprises/{enterprise_id}/import"): Case(
        url=lambda w: f"/enterprises/{_ent(w)}/import",
        allowed=("admin", "a_admin"), refused=("reg_14", "worker_a"), shows=True),
    ("POST", "/enterprises/{enterprise_id}/import"): Case(
        url=lambda w: f"/enterprises/{_ent(w)}/import",
        allowed=("admin", "a_admin"), refused=("reg_14", "worker_a"), upload=True),
    # The upload was made by A's administrator: nobody else may confirm it, not even an admin.
    ("POST", "/enterprises/{enterprise_id}/import/{token}"): Case(
        url=lambda w: f"/enterprises/{_ent(w)}/import/{w.upload_token}",
        allowed=("a_admin",), refused=("admin", "reg_14", "worker_a"),
        data=lambda w: {"action": "import"}),
    ("GET", "/workers/{worker_id}"): Case(
        url=lambda w: f"/workers/{w.worker_a.id}",
        allowed=("admin", "a_admin", "reg_14", "worker_a"),
        secrets=_worker_secrets, shows=True),
    ("POST", "/workers/{worker_id}/password"): Case(
        url=lambda w: f"/workers/{w.worker_a.id}/password",
        allowed=("admin", "a_admin"), refused=("reg_14", "worker_a"),
        data=lambda w: {"password": "a-brand-new-password"}, secrets=_worker_secrets),
    ("POST", "/workers/{worker_id}/team"): Case(
        url=lambda w: f"/workers/{w.worker_a.id}/team",
        allowed=("admin", "a_admin"), refused=("reg_14", "worker_a"),
        data=lambda w: {"team": "综采一队"}, secrets=_worker_secrets),
    # --- authoring (trainers and admins only; everyone else is an outsider) --------------
    ("GET", "/api/v1/authoring/courses/{course_id}"): _authoring_case(
        _draft_api, shows=True),
    ("PATCH", "/api/v1/authoring/courses/{course_id}"): _authoring_case(
        _draft_api, json=lambda w: {"credit_hours": 2}),
    ("DELETE", "/api/v1/authoring/courses/{course_id}"): _authoring_case(_draft_api),
    ("POST", "/api/v1/authoring/courses/{course_id}/versions"): _authoring_case(
        lambda w: f"/api/v1/authoring/courses/{_authoring(w)['live']}/versions"),
    ("POST", "/api/v1/authoring/courses/{course_id}/publish"): _authoring_case(
        lambda w: _draft_api(w, "/publish")),
    ("POST", "/api/v1/authoring/courses/{course_id}/archive"): _authoring_case(
        lambda w: f"/api/v1/authoring/courses/{_authoring(w)['live']}/archive"),
    ("PUT", "/api/v1/authoring/courses/{course_id}/order"): _authoring_case(
        lambda w: _draft_api(w, "/order"), json=lambda w: {"modules": [
            {"id": _authoring(w)["module"],
             "lessons": [_authoring(w)["scene"], _authoring(w)["text"]]}]}),
    ("POST", "/api/v1/authoring/courses/{course_id}/modules"): _authoring_case(
        lambda w: _draft_api(w, "/modules"), json=lambda w: {"title": {"en": "New"}}),
    ("PATCH", "/api/v1/authoring/courses/{course_id}/modules/{module_id}"): _authoring_case(
        lambda w: _draft_api(w, "/modules/{module}"), json=lambda w: {"title": {"en": "New"}}),
    ("DELETE", "/api/v1/authoring/courses/{course_id}/modules/{module_id}"): _authoring_case(
        lambda w: _draft_api(w, "/modules/{module}")),
    ("POST", "/api/v1/authoring/courses/{course_id}/modules/{module_id}/lessons"):
        _authoring_case(lambda w: _draft_api(w, "/modules/{module}/lessons"),
                        json=lambda w: {"kind": "text", "minutes": 1, "body": {"en": "# New"}}),
    ("PATCH", "/api/v1/authoring/courses/{course_id}/lessons/{lesson_id}"): _authoring_case(
        lambda w: _draft_api(w, "/lessons/{text}"), json=lambda w: {"minutes": 3}),
    ("DELETE", "/api/v1/authoring/courses/{course_id}/lessons/{lesson_id}"): _authoring_case(
        lambda w: _draft_api(w, "/lessons/{text}")),
    # The upload here is a CSV, which an allowed author gets 422 for; allowed uploads are
    # covered in tests/courses/test_authoring.py.
    ("PUT", "/api/v1/authoring/courses/{course_id}/lessons/{lesson_id}/media"): _authoring_case(
        lambda w: _draft_api(w, "/lessons/{scene}/media"), upload=True, allowed=()),
    ("GET", "/author/courses/{course_id}"): _authoring_case(_draft_url, shows=True),
    ("POST", "/author/courses/{course_id}"): _authoring_case(
        _draft_url, data=lambda w: _COURSE_FIELDS),
    ("POST", "/author/courses/{course_id}/new-version"): _authoring_case(
        lambda w: f"/author/courses/{_authoring(w)['live']}/new-version"),
    ("POST", "/author/courses/{course_id}/publish"): _authoring_case(
        lambda w: _draft_url(w, "/publish")),
    ("GET", "/author/courses/{course_id}/publish"): _authoring_case(
        lambda w: _draft_url(w, "/publish"), shows=True),
    ("POST", "/author/courses/{course_id}/archive"): _authoring_case(
        lambda w: f"/author/courses/{_authoring(w)['live']}/archive"),
    ("POST", "/author/courses/{course_id}/discard"): _authoring_case(
        lambda w: _draft_url(w, "/discard")),
    ("POST", "/author/courses/{course_id}/modules"): _authoring_case(
        lambda w: _draft_url(w, "/modules"), data=lambda w: {"title_en": "New"}),
    ("POST", "/author/courses/{course_id}/modules/{module_id}"): _authoring_case(
        lambda w: _draft_url(w, "/modules/{module}"), data=lambda w: {"title_en": "New"}),
    ("POST", "/author/courses/{course_id}/modules/{module_id}/move"): _authoring_case(
        lambda w: _draft_url(w, "/modules/{module}/move"), data=lambda w: {"direction": "up"}),
    ("POST", "/author/courses/{course_id}/modules/{module_id}/delete"): _authoring_case(
        lambda w: _draft_url(w, "/modules/{module}/delete")),
    ("GET", "/author/courses/{course_id}/modules/{module_id}/lessons/new"): _authoring_case(
        lambda w: _draft_url(w, "/modules/{module}/lessons/new?kind=video"), shows=True),
    ("POST", "/author/courses/{course_id}/modules/{module_id}/lessons"): _authoring_case(
        lambda w: _draft_url(w, "/modules/{module}/lessons"),
        data=lambda w: {"kind": "text", "minutes": "1", "body_en": "# New"}),
    ("GET", "/author/courses/{course_id}/lessons/{lesson_id}"): _authoring_case(
        lambda w: _draft_url(w, "/lessons/{text}"), shows=True),
    ("POST", "/author/courses/{course_id}/lessons/{lesson_id}"): _authoring_case(
        lambda w: _draft_url(w, "/lessons/{text}"),
        data=lambda w: {"title_en": "Text", "minutes": "2", "body_en": "# Text"}),
    ("POST", "/author/courses/{course_id}/lessons/{lesson_id}/move"): _authoring_case(
        lambda w: _draft_url(w, "/lessons/{text}/move"), data=lambda w: {"direction": "down"}),
    ("POST", "/author/courses/{course_id}/lessons/{lesson_id}/delete"): _authoring_case(
        lambda w: _draft_url(w, "/lessons/{text}/delete")),
    ("POST", "/author/courses/{course_id}/lessons/{lesson_id}/hotspots"): _authoring_case(
        lambda w: _draft_url(w, "/lessons/{scene}/hotspots"),
        data=lambda w: {"rows": "1", "action": "save", "hotspots_0_yaw": "10",
                        "hotspots_0_pitch": "0", "hotspots_0_label_en": "Flame",
                        "hotspots_0_hazard": "on"}),
    ("GET", "/author/courses/{course_id}/lessons/{lesson_id}/preview"): _authoring_case(
        lambda w: _draft_url(w, "/lessons/{scene}/preview"), shows=True),
}


# Learning and exams: worker A enrolled (course completed) in the mini course of
# tests/packages.py, with an attempt in progress, and an offline class A's worker attended.
LEARNING_SECRET = "Mini course"


def _learning(w: World) -> dict[str, Any]:
    import tempfile
    from pathlib import Path

    from sqlalchemy import update

    from app.courses import service as courses
    from app.courses.models import Course, Lesson
    from app.courses.package import load_package
    from app.exams import service as exams
    from app.exams.models import Attempt, Exam
    from app.learning import service as learning
    from app.learning.models import Enrolment, OfflineClass
    from tests import packages

    with app_db.open_session(write=True) as s:
        course = s.scalar(select(Course).where(Course.code == "TEST-MINI"))
        if course is None:
            root = packages.write_package(Path(tempfile.mkdtemp()) / "mini")
            outcome = courses.import_package(db=s, package=load_package(root), by=None)
            course = courses.get_course_or_404(db=s, course_id=outcome.course_id)
            worker = s.get(Worker, w.worker_a.id)
            from app.accounts import service as accounts

            admin = accounts.get_user_or_404(db=s, user_id=w.users["admin"].id)
            assert worker is not None
            enrolment = learning.enrol(db=s, course=course, workers=[worker], by=admin)[0]
            s.execute(update(Enrolment).where(Enrolment.id == enrolment.id)
                      .values(status="completed"))
            exam = s.scalar(select(Exam).where(Exam.course_id == course.id))
            assert exam is not None
            exams.start_attempt(db=s, exam=exam, worker=worker, by=admin)
            learning.record_offline_class(
                db=s, title="Alpha roof-support class", held_on=date(2026, 1, 5), class_hours=2,
                location="", notes="", course=None, workers=[worker], by=admin)
            s.commit()
        enrolment_id = s.scalar(select(Enrolment.id).where(Enrolment.course_id == course.id))
        lessons = {kind: lesson_id for kind, lesson_id in s.execute(
            select(Lesson.kind, Lesson.id).where(Lesson.course_id == course.id))}
        attempt = s.scalar(select(Attempt).where(Attempt.worker_id == w.worker_a.id))
        assert attempt is not None
        class_id = s.scalar(select(OfflineClass.id))
        media_key = s.scalar(select(Lesson.media_key).where(Lesson.kind == "video",
                                                            Lesson.course_id == course.id))
    return {"course": course.id, "enrolment": enrolment_id, "lessons": lessons,
            "attempt": attempt.id, "question": attempt.paper[0]["question_id"],
            "option": attempt.paper[0]["options"][0]["id"], "class": class_id,
            "media": media_key, "exam": attempt.exam_id}


def _enrolment_case(url: Callable[[World], str], *, allowed: tuple[str, ...],
                    refused: tuple[str, ...], json: Callable[[World], dict[str, Any]] | None
                    = None, shows: bool = False) -> Case:
    return Case(url=url, allowed=allowed, refused=refused, json=json,
                secrets=lambda w: [LEARNING_SECRET, w.worker_a.full_name], shows=shows)


def _lesson_url(w: World, kind: str, rest: str = "") -> str:
    ids = _learning(w)
    return f"/api/v1/enrolments/{ids['enrolment']}/lessons/{ids['lessons'][kind]}" + rest


LEARNING_CASES: dict[tuple[str, str], Case] = {
    ("GET", "/api/v1/enrolments/{enrolment_id}"): _enrolment_case(
        lambda w: f"/api/v1/enrolments/{_learning(w)['enrolment']}",
        allowed=("admin", "a_admin", "worker_a"), refused=("reg_14",)),
    ("POST", "/api/v1/enrolments/{enrolment_id}/lessons/{lesson_id}/heartbeat"): _enrolment_case(
        lambda w: _lesson_url(w, "text", "/heartbeat"), allowed=("worker_a",),
        refused=("admin", "a_admin", "reg_14"), json=lambda w: {"visible": True}),
    ("POST", "/api/v1/enrolments/{enrolment_id}/lessons/{lesson_id}/hotspots/tap"):
        _enrolment_case(lambda w: _lesson_url(w, "panorama", "/hotspots/tap"),
                        allowed=("worker_a",), refused=("admin", "a_admin", "reg_14"),
                        json=lambda w: {"yaw": 0, "pitch": 0}),
    ("GET", "/learn/{enrolment_id}"): _enrolment_case(
        lambda w: f"/learn/{_learning(w)['enrolment']}",
        allowed=("admin", "a_admin", "worker_a"), refused=("reg_14",), shows=True),
    ("GET", "/learn/{enrolment_id}/lessons/{lesson_id}"): _enrolment_case(
        lambda w: f"/learn/{_learning(w)['enrolment']}/lessons/{_learning(w)['lessons']['text']}",
        allowed=("admin", "a_admin", "worker_a"), refused=("reg_14",)),
    ("GET", "/enterprises/{enterprise_id}/enrolments"): Case(
        url=lambda w: f"/enterprises/{_ent(w)}/enrolments",
        allowed=("admin", "a_admin", "reg_14"), refused=("worker_a",),
        secrets=lambda w: [w.ent_a.name, w.worker_a.full_name]),
    ("POST", "/enterprises/{enterprise_id}/enrol"): Case(
        url=lambda w: f"/enterprises/{_ent(w)}/enrol",
        allowed=("admin", "a_admin"), refused=("worker_a",),
        data=lambda w: {"course_id": str(_learning(w)["course"]),
                        "worker_ids": str(w.worker_a.id)}),
    ("GET", "/enterprises/{enterprise_id}/enrol/move"): Case(
        url=lambda w: f"/enterprises/{_ent(w)}/enrol/move?course_id={_learning(w)['course']}"
                      f"&worker_ids={w.worker_a.id}",
        allowed=("admin", "a_admin"), refused=("worker_a", "reg_14")),
    ("GET", "/classes/{class_id}"): Case(
        url=lambda w: f"/classes/{_learning(w)['class']}", allowed=("admin",),
        refused=("a_admin", "reg_14", "worker_a"),
        secrets=lambda w: ["Alpha roof-support class", w.worker_a.full_name], shows=True),
    ("GET", "/api/v1/offline-classes/{class_id}"): Case(
        url=lambda w: f"/api/v1/offline-classes/{_learning(w)['class']}", allowed=("admin",),
        refused=("a_admin", "reg_14", "worker_a"),
        secrets=lambda w: ["Alpha roof-support class"], shows=True),
    ("GET", "/api/v1/attempts/{attempt_id}"): _enrolment_case(
        lambda w: f"/api/v1/attempts/{_learning(w)['attempt']}",
        allowed=("admin", "a_admin", "worker_a"), refused=("reg_14",)),
    ("PUT", "/api/v1/attempts/{attempt_id}/answers/{question_id}"): _enrolment_case(
        lambda w: f"/api/v1/attempts/{_learning(w)['attempt']}/answers/"
                  f"{_learning(w)['question']}",
        allowed=("worker_a",), refused=("admin", "a_admin", "reg_14"),
        json=lambda w: {"option_ids": [_learning(w)["option"]]}),
    ("POST", "/api/v1/attempts/{attempt_id}/submit"): _enrolment_case(
        lambda w: f"/api/v1/attempts/{_learning(w)['attempt']}/submit",
        allowed=("worker_a",), refused=("admin", "a_admin", "reg_14")),
    ("POST", "/api/v1/attempts/{attempt_id}/events"): _enrolment_case(
        lambda w: f"/api/v1/attempts/{_learning(w)['attempt']}/events",
        allowed=("worker_a",), refused=("admin", "a_admin", "reg_14"),
        json=lambda w: {"kind": "hidden"}),
}
ROUTE_CASES.update(LEARNING_CASES)


def _practical(w: World) -> dict[str, int]:
    """A practical session of the mini course with a booking of worker A (who passed theory)."""
    from datetime import timedelta

    from app.accounts import service as accounts
    from app.courses.models import Course
    from app.db import utcnow
    from app.exams.models import Attempt
    from app.practicals import service as practicals
    from app.practicals.models import Booking, PracticalSession

    ids = _learning(w)
    with app_db.open_session(write=True) as s:
        session_id = s.scalar(select(PracticalSession.id))
        if session_id is None:
            admin = accounts.get_user_or_404(db=s, user_id=w.users["admin"].id)
            examiner = f.user(s, Role.EXAMINER, username="examiner-x")
            centre = practicals.create_test_centre(db=s, name="Base", region_code="14",
                                                   address="", kinds=["practical_test"], by=admin)
            course = s.get(Course, ids["course"])
            assert course is not None
            start = utcnow() + timedelta(days=5)
            session = practicals.create_sessions(
                db=s, centre=centre, course=course, starts_at=start,
                ends_at=start + timedelta(hours=2), capacity=5, examiner_id=examiner.id,
                by=admin)[0]
            attempt = s.get(Attempt, ids["attempt"])
            assert attempt is not None
            s.add(Attempt(exam_id=attempt.exam_id, worker_id=attempt.worker_id,
                          enrolment_id=attempt.enrolment_id, number=2, status="submitted",
                          started_at=utcnow(), deadline=utcnow(), submitted_at=utcnow(),
                          score=100.0, passed=True, paper=[]))
            s.flush()
            worker = s.get(Worker, w.worker_a.id)
            practicals.book(db=s, session=session, worker=worker, by=admin)
            s.commit()
            session_id = session.id
        booking_id = s.scalar(select(Booking.id))
    return {"session": session_id, "booking": booking_id}


PRACTICAL_CASES: dict[tuple[str, str], Case] = {
    # Booking for worker A: the positive paths (with eligibility) are in tests/practicals.
    ("POST", "/api/v1/practical-sessions/{session_id}/bookings"): Case(
        url=lambda w: f"/api/v1/practical-sessions/{_practical(w)['session']}/bookings",
        allowed=(), refused=("reg_14",), json=lambda w: {"worker_id": w.worker_a.id}),
    ("DELETE", "/api/v1/bookings/{booking_id}"): Case(
        url=lambda w: f"/api/v1/bookings/{_practical(w)['booking']}",
        allowed=("worker_a",), refused=("reg_14",)),
    # Only the session's examiner (tested in tests/practicals) records results.
    ("POST", "/api/v1/bookings/{booking_id}/result"): Case(
        url=lambda w: f"/api/v1/bookings/{_practical(w)['booking']}/result",
        allowed=(), refused=("admin", "a_admin", "reg_14", "worker_a"),
        json=lambda w: {"passed": True, "score": 90, "notes": ""}),
    # The examiner's pages: only the session's examiner ("examiner-x"; that path is tested in
    # tests/practicals/test_examiner.py) marks attendance and records results; admins may look.
    ("GET", "/examiner/sessions/{session_id}"): Case(
        url=lambda w: f"/examiner/sessions/{_practical(w)['session']}",
        allowed=("admin",), refused=("a_admin", "reg_14", "worker_a"),
        secrets=lambda w: [*_worker_secrets(w), w.ent_a.name], shows=True),
    ("GET", "/examiner/bookings/{booking_id}"): Case(
        url=lambda w: f"/examiner/bookings/{_practical(w)['booking']}",
        allowed=("admin",), refused=("a_admin", "reg_14", "worker_a"),
        secrets=lambda w: [*_worker_secrets(w), w.ent_a.name], shows=True),
    ("POST", "/examiner/bookings/{booking_id}/attendance"): Case(
        url=lambda w: f"/examiner/bookings/{_practical(w)['booking']}/attendance",
        allowed=(), refused=("admin", "a_admin", "reg_14", "worker_a"),
        data=lambda w: {"attendance": "present"},
        secrets=lambda w: [*_worker_secrets(w), w.ent_a.name]),
    ("POST", "/examiner/bookings/{booking_id}/result"): Case(
        url=lambda w: f"/examiner/bookings/{_practical(w)['booking']}/result",
        allowed=(), refused=("admin", "a_admin", "reg_14", "worker_a"),
        data=lambda w: {"score": "90", "passed": "yes", "notes": ""},
        secrets=lambda w: [*_worker_secrets(w), w.ent_a.name]),
}
ROUTE_CASES.update(PRACTICAL_CASES)


def _certificate(w: World) -> str:
    """A certificate of worker A (issued directly: the issuing rules are tested elsewhere)."""
    from datetime import date as _date

    from app.certificates.models import Certificate

    ids = _learning(w)
    with app_db.open_session(write=True) as s:
        number = s.scalar(select(Certificate.number).where(
            Certificate.worker_id == w.worker_a.id))
        if number is None:
            from app.certificates.numbers import check_character

            number = f"PH-7K3Q9XW2MD4T-{check_character('7K3Q9XW2MD4T')}"
            s.add(Certificate(number=number, worker_id=w.worker_a.id, course_id=ids["course"],
                              course_code="TEST-MINI", title={"en": "Alpha certificate"},
                              job_category="general.underground", issued_on=_date(2026, 1, 1),
                              expires_on=_date(2032, 1, 1), review_due_on=_date(2029, 1, 1),
                              status_index=0, issuer="Pithead"))
            s.commit()
    return number


CERTIFICATE_CASES: dict[tuple[str, str], Case] = {
    ("GET", "/api/v1/workers/{worker_id}/certificates"): Case(
        url=lambda w: (_certificate(w), f"/api/v1/workers/{w.worker_a.id}/certificates")[1],
        allowed=("admin", "a_admin", "reg_14", "worker_a"),
        secrets=lambda w: [_certificate(w)], shows=True),
    ("POST", "/api/v1/certificates/{number}/suspend"): Case(
        url=lambda w: f"/api/v1/certificates/{_certificate(w)}/suspend",
        allowed=("admin",), refused=("a_admin", "worker_a"),
        json=lambda w: {"reason": "test"}),
    ("POST", "/api/v1/certificates/{number}/revoke"): Case(
        url=lambda w: f"/api/v1/certificates/{_certificate(w)}/revoke",
        allowed=("reg_14",), refused=("a_admin", "worker_a"),
        json=lambda w: {"reason": "test"}),
    # Reinstating needs a suspended certificate: the positive path is in tests/certificates.
    ("POST", "/api/v1/certificates/{number}/reinstate"): Case(
        url=lambda w: f"/api/v1/certificates/{_certificate(w)}/reinstate",
        allowed=(), refused=("a_admin", "worker_a"), json=lambda w: {"reason": "test"}),
    # The signed credential (app/certificates/credentials_api.py): holder side only.
    ("GET", "/api/v1/certificates/{number}/credential"): Case(
        url=lambda w: f"/api/v1/certificates/{_certificate(w)}/credential",
        allowed=("admin", "a_admin", "worker_a"), refused=("reg_14",)),
    # Pages and the PDF (app/certificates/pages.py).
    ("GET", "/api/v1/certificates/{number}/pdf"): Case(
        url=lambda w: f"/api/v1/certificates/{_certificate(w)}/pdf",
        allowed=("admin", "a_admin", "reg_14", "worker_a")),
    ("GET", "/certificates/{number}"): Case(
        url=lambda w: f"/certificates/{_certificate(w)}",
        allowed=("admin", "a_admin", "reg_14", "worker_a"),
        secrets=lambda w: [w.worker_a.full_name, w.worker_a.id_number], shows=True),
    ("POST", "/certificates/{number}/{action}"): Case(
        url=lambda w: f"/certificates/{_certificate(w)}/suspend",
        allowed=("reg_14",), refused=("a_admin", "worker_a"),
        data=lambda w: {"reason": "test"}),
}
ROUTE_CASES.update(CERTIFICATE_CASES)


# Pages of practical tests (app/practicals/pages.py), on the same session and booking of
# worker A. A refused booking or cancellation comes back as a message (303) to those allowed.
def _practical_page_ids(w: World) -> dict[str, int]:
    from app.practicals.models import Notification, PracticalSession

    ids = _practical(w)
    with app_db.open_session(write=False) as s:
        centre = s.scalar(select(PracticalSession.test_centre_id).where(
            PracticalSession.id == ids["session"]))
        notification = s.scalar(select(Notification.id).where(
            Notification.user_id == w.worker_a.user_id).order_by(Notification.id).limit(1))
    assert centre is not None and notification is not None
    return {**ids, "centre": centre, "notification": notification}


def _new_time(w: World) -> dict[str, str]:
    from datetime import timedelta

    return {"day": (date.today() + timedelta(days=10)).isoformat(), "start_time": "09:00",
            "end_time": "11:00"}


PRACTICAL_PAGE_CASES: dict[tuple[str, str], Case] = {
    ("GET", "/admin/bases/{centre_id}"): Case(
        url=lambda w: f"/admin/bases/{_practical_page_ids(w)['centre']}",
        allowed=("admin",), refused=("a_admin", "reg_14", "worker_a")),
    ("POST", "/admin/bases/{centre_id}"): Case(
        url=lambda w: f"/admin/bases/{_practical_page_ids(w)['centre']}",
        allowed=("admin",), refused=("a_admin", "reg_14", "worker_a"),
        data=lambda w: {"name": "Renamed base", "region_code": "14",
                        "kinds": "practical_test"}),
    ("POST", "/practicals/sessions/{session_id}/book"): Case(
        url=lambda w: f"/practicals/sessions/{_practical(w)['session']}/book",
        allowed=("worker_a", "a_admin", "admin"), refused=("reg_14",),
        data=lambda w: {"worker_id": str(w.worker_a.id)}, secrets=_worker_secrets),
    ("POST", "/practicals/bookings/{booking_id}/cancel"): Case(
        url=lambda w: f"/practicals/bookings/{_practical(w)['booking']}/cancel",
        allowed=("worker_a", "a_admin", "admin"), refused=("reg_14",),
        secrets=_worker_secrets),
    ("POST", "/practicals/sessions/{session_id}/change"): Case(
        url=lambda w: f"/practicals/sessions/{_practical(w)['session']}/change",
        allowed=("admin",), refused=("a_admin", "reg_14", "worker_a"), data=_new_time),
    ("POST", "/practicals/sessions/{session_id}/cancel"): Case(
        url=lambda w: f"/practicals/sessions/{_practical(w)['session']}/cancel",
        allowed=("admin",), refused=("a_admin", "reg_14", "worker_a"),
        data=lambda w: {"reason": "Bench broken"}),
    # A message of worker A (their booking): theirs alone to open.
    ("POST", "/notifications/{notification_id}/open"): Case(
        url=lambda w: f"/notifications/{_practical_page_ids(w)['notification']}/open",
        allowed=("worker_a",), refused=("admin", "a_admin", "reg_14")),
}
ROUTE_CASES.update(PRACTICAL_PAGE_CASES)


# The taker's exam pages (app/exams/pages.py): only worker A, whose attempt it is, gets through;
# even those who may read the attempt through the API (admin, A's administrator) are refused.
EXAM_STEMS = ("Which gas is measured at the roof of a heading?", "Methane is lighter than air.",
              "Which are personal protective equipment?")


def _attempt_page_case(rest: str = "", *, data: Callable[[World], dict[str, str]] | None = None,
                       shows: bool = False) -> Case:
    return Case(url=lambda w: f"/attempts/{_learning(w)['attempt']}" + rest.format(**_learning(w)),
                allowed=("worker_a",), refused=("admin", "a_admin", "reg_14"), data=data,
                secrets=lambda w: [*EXAM_STEMS, w.worker_a.full_name], shows=shows)


def _answer_form(w: World) -> dict[str, str]:
    ids = _learning(w)
    return {"shown": str(ids["question"]), f"q{ids['question']}": str(ids["option"]),
            "go": "stay"}


EXAM_PAGE_CASES: dict[tuple[str, str], Case] = {
    ("GET", "/attempts/{attempt_id}"): _attempt_page_case(shows=True),
    ("POST", "/attempts/{attempt_id}/answers/{question_id}"): _attempt_page_case(
        "/answers/{question}", data=_answer_form),
    ("POST", "/attempts/{attempt_id}/save"): _attempt_page_case("/save", data=_answer_form),
    ("GET", "/attempts/{attempt_id}/confirm"): _attempt_page_case("/confirm"),
    ("POST", "/attempts/{attempt_id}/submit"): _attempt_page_case("/submit"),
    ("GET", "/attempts/{attempt_id}/result"): _attempt_page_case("/result"),
}
ROUTE_CASES.update(EXAM_PAGE_CASES)


# The trainer's side of exams (app/exams/bank_api.py, bank_pages.py): trainers and admins,
# platform-wide; everyone else is refused. The bank is the mini course's (TEST-MINI).
BANK_SECRET = "Which gas is measured at the roof of a heading?"
BANK_REFUSED = ("a_admin", "reg_14", "worker_a")
BANK_GIFT = b"$CATEGORY: basics\n\n::Z-1::Zinc is a metal. {T}\n"


def _bank(w: World) -> dict[str, Any]:
    """The mini course's bank and exam (from _learning), B-2's id, a course without an exam
    whose bank has a question, and a fresh upload of the admin awaiting confirmation."""
    from app.courses.models import Course
    from app.exams import bank
    from app.exams.models import Exam, Question

    ids = _learning(w)
    live = _authoring(w)["live"]
    with app_db.open_session(write=True) as s:
        if s.scalar(select(Question.id).where(Question.bank == "AUTH-LIVE")) is None:
            s.add(Question(bank="AUTH-LIVE", category="c", external_id="L-1", kind="true_false",
                           text={"en": "Live"}, options=[{"text": {"en": "True"}, "weight": 100},
                                                         {"text": {"en": "False"}, "weight": 0}],
                           feedback={}, status="active"))
            s.commit()
        question = s.scalar(select(Question.id).where(Question.bank == "TEST-MINI",
                                                      Question.external_id == "B-2"))
        exam = s.scalar(select(Exam.id).where(Exam.course_id == ids["course"]))
        assert s.get(Course, live) is not None
    token = bank.store_pending(bank="TEST-MINI", by=w.users["admin"], filename="z.gift",
                               data=BANK_GIFT)
    return {"question": question, "exam": exam, "live": live, "token": token}


def _bank_case(url: Callable[[World], str], *, shows: bool = False,
               data: Callable[[World], dict[str, str]] | None = None,
               json: Callable[[World], dict[str, Any]] | None = None,
               allowed: tuple[str, ...] = ("admin",), upload: bool = False,
               secrets: Callable[[World], list[str]] | None = None) -> Case:
    return Case(url=url, allowed=allowed, refused=BANK_REFUSED, data=data, json=json,
                upload=upload, secrets=secrets or (lambda w: [BANK_SECRET]), shows=shows)


def _bank_api(rest: str = "") -> Callable[[World], str]:
    return lambda w: "/api/v1/banks/TEST-MINI" + rest.format(**_bank(w))


def _bank_page(rest: str = "") -> Callable[[World], str]:
    return lambda w: "/bank/TEST-MINI" + rest.format(**_bank(w))


def _exam_url(prefix: str, rest: str = "") -> Callable[[World], str]:
    return lambda w: f"{prefix}/exams/{_bank(w)['exam']}" + rest.format(**_bank(w))


_QUESTION_FORM = {"kind": "single", "category": "basics", "text_en": "New one?",
                  "option_0_en": "a", "right_0": "on", "option_1_en": "b", "rows": "6"}
_EXAM_FORM = {"title_en": "Exam", "duration_minutes": "30", "pass_mark": "80",
              "max_attempts": "2", "requires_completion": "on", "review_mode": "mistakes",
              "bp_rows": "1", "bp_0_category": "basics", "bp_0_count": "3"}


def _worker_secret(w: World) -> list[str]:
    return [w.worker_a.full_name]


BANK_CASES: dict[tuple[str, str], Case] = {
    ("GET", "/api/v1/banks/{bank}/questions"): _bank_case(_bank_api("/questions"), shows=True),
    ("POST", "/api/v1/banks/{bank}/questions"): _bank_case(
        _bank_api("/questions"), json=lambda w: {
            "category": "basics", "kind": "true_false", "text": {"en": "Air?"}, "answer": True}),
    ("GET", "/api/v1/banks/{bank}/questions/{question_id}"): _bank_case(
        _bank_api("/questions/{question}"), shows=True),
    ("PATCH", "/api/v1/banks/{bank}/questions/{question_id}"): _bank_case(
        _bank_api("/questions/{question}"), json=lambda w: {"difficulty": "easy"}),
    ("POST", "/api/v1/banks/{bank}/questions/{question_id}/retire"): _bank_case(
        _bank_api("/questions/{question}/retire")),
    ("POST", "/api/v1/banks/{bank}/questions/{question_id}/reactivate"): _bank_case(
        _bank_api("/questions/{question}/reactivate")),
    # The upload is a CSV, which an allowed trainer gets 422 for (images: tests/exams).
    ("PUT", "/api/v1/banks/{bank}/questions/{question_id}/image"): _bank_case(
        _bank_api("/questions/{question}/image"), upload=True, allowed=()),
    ("DELETE", "/api/v1/banks/{bank}/questions/{question_id}/image"): _bank_case(
        _bank_api("/questions/{question}/image")),
    ("POST", "/api/v1/banks/{bank}/questions/{question_id}/regrade"): _bank_case(
        _bank_api("/questions/{question}/regrade"), json=lambda w: {"right": [0]}),
    # A roster CSV is no question file: 422 for the allowed (imports: tests/exams).
    ("POST", "/api/v1/banks/{bank}/import"): _bank_case(
        _bank_api("/import"), upload=True, allowed=()),
    ("GET", "/api/v1/banks/{bank}/export"): _bank_case(_bank_api("/export"), shows=True),
    ("GET", "/api/v1/banks/{bank}/statistics"): _bank_case(_bank_api("/statistics")),
    ("GET", "/api/v1/exams/{exam_id}/settings"): _bank_case(_exam_url("/api/v1", "/settings")),
    ("PATCH", "/api/v1/exams/{exam_id}"): _bank_case(
        _exam_url("/api/v1"), json=lambda w: {"pass_mark": 70}),
    ("GET", "/api/v1/exams/{exam_id}/extra-time"): _bank_case(
        _exam_url("/api/v1", "/extra-time"), secrets=_worker_secret),
    ("PUT", "/api/v1/exams/{exam_id}/extra-time/{worker_id}"): _bank_case(
        lambda w: _exam_url("/api/v1", "/extra-time")(w) + f"/{w.worker_a.id}",
        json=lambda w: {"minutes": 10, "reason": "Reading aid"}, secrets=_worker_secret,
        shows=True),
    ("GET", "/api/v1/exams/{exam_id}/statistics"): _bank_case(
        _exam_url("/api/v1", "/statistics")),
    ("GET", "/bank/{bank}"): _bank_case(_bank_page(), shows=True),
    ("GET", "/bank/{bank}/questions/new"): _bank_case(_bank_page("/questions/new")),
    ("POST", "/bank/{bank}/questions"): _bank_case(
        _bank_page("/questions"), data=lambda w: _QUESTION_FORM),
    ("GET", "/bank/{bank}/questions/{question_id}"): _bank_case(
        _bank_page("/questions/{question}"), shows=True),
    ("POST", "/bank/{bank}/questions/{question_id}"): _bank_case(
        _bank_page("/questions/{question}"), data=lambda w: {
            **_QUESTION_FORM, "text_en": BANK_SECRET, "external_id": "B-2"}),
    ("POST", "/bank/{bank}/questions/{question_id}/status"): _bank_case(
        _bank_page("/questions/{question}/status"), data=lambda w: {"action": "retire"}),
    ("GET", "/bank/{bank}/questions/{question_id}/preview"): _bank_case(
        _bank_page("/questions/{question}/preview"), shows=True),
    ("GET", "/bank/{bank}/questions/{question_id}/regrade"): _bank_case(
        _bank_page("/questions/{question}/regrade"), shows=True),
    ("POST", "/bank/{bank}/questions/{question_id}/regrade"): _bank_case(
        _bank_page("/questions/{question}/regrade"), data=lambda w: {"right": "0"}),
    ("GET", "/bank/{bank}/import"): _bank_case(_bank_page("/import")),
    ("POST", "/bank/{bank}/import"): _bank_case(_bank_page("/import"), upload=True, allowed=()),
    # The upload was made by the admin: nobody else may confirm it.
    ("POST", "/bank/{bank}/import/{token}"): _bank_case(
        _bank_page("/import/{token}"), data=lambda w: {"action": "import"}),
    ("GET", "/bank/{bank}/export.gift"): _bank_case(_bank_page("/export.gift"), shows=True),
    ("GET", "/bank/{bank}/statistics"): _bank_case(_bank_page("/statistics")),
    ("GET", "/bank/{bank}/courses/{course_id}/exam"): _bank_case(
        lambda w: f"/bank/AUTH-LIVE/courses/{_bank(w)['live']}/exam",
        secrets=lambda w: [AUTHORING_SECRET], shows=True),
    ("POST", "/bank/{bank}/courses/{course_id}/exam"): _bank_case(
        lambda w: f"/bank/AUTH-LIVE/courses/{_bank(w)['live']}/exam", data=lambda w: {
            **_EXAM_FORM, "bp_0_category": "c", "bp_0_count": "1"},
        secrets=lambda w: [AUTHORING_SECRET]),
    ("GET", "/exams/{exam_id}/settings"): _bank_case(_exam_url("", "/settings"),
                                                     secrets=lambda w: [LEARNING_SECRET],
                                                     shows=True),
    ("POST", "/exams/{exam_id}/settings"): _bank_case(
        _exam_url("", "/settings"), data=lambda w: _EXAM_FORM,
        secrets=lambda w: [LEARNING_SECRET]),
    ("GET", "/exams/{exam_id}/extra-time"): _bank_case(
        lambda w: _exam_url("", "/extra-time")(w) + f"?q={w.worker_a.id_number}",
        secrets=_worker_secret, shows=True),
    ("POST", "/exams/{exam_id}/extra-time"): _bank_case(
        _exam_url("", "/extra-time"), secrets=_worker_secret, data=lambda w: {
            "worker_id": str(w.worker_a.id), "minutes": "10", "reason": "Reading aid"}),
    ("GET", "/exams/{exam_id}/statistics"): _bank_case(_exam_url("", "/statistics")),
    # The drawn paper shows every question of the mini bank (it draws all three).
    ("GET", "/exams/{exam_id}/preview"): _bank_case(_exam_url("", "/preview"), shows=True),
}
ROUTE_CASES.update(BANK_CASES)


# The expert pool (app/experts): every staff member reads it (PUBLIC_ROUTES below), but only
# admins and regulators of the expert's region change an expert; other regions get 404.
EXPERT_SECRET = "Alpha Shanxi Ventilation Expert"


def _expert(w: World) -> int:
    from app.experts.models import Expert, ExpertSpeciality

    with app_db.open_session(write=True) as s:
        expert_id = s.scalar(select(Expert.id).where(Expert.full_name == EXPERT_SECRET))
        if expert_id is None:
            expert = Expert(full_name=EXPERT_SECRET, organisation="Shanxi Institute",
                            region_code="140105", qualifications="", available=True,
                            specialities=[ExpertSpeciality(speciality="ventilation")], roles=[])
            s.add(expert)
            s.commit()
            expert_id = expert.id
    return expert_id


def _expert_case(url: Callable[[World], str], *, shows: bool = False,
                 data: Callable[[World], dict[str, str]] | None = None,
                 json: Callable[[World], dict[str, Any]] | None = None) -> Case:
    return Case(url=url, allowed=("admin", "reg_14"), refused=("a_admin", "worker_a"),
                data=data, json=json, secrets=lambda w: [EXPERT_SECRET], shows=shows)


EXPERT_CASES: dict[tuple[str, str], Case] = {
    ("PATCH", "/api/v1/experts/{expert_id}"): _expert_case(
        lambda w: f"/api/v1/experts/{_expert(w)}", json=lambda w: {"available": False},
        shows=True),
    ("GET", "/experts/{expert_id}/edit"): _expert_case(
        lambda w: f"/experts/{_expert(w)}/edit", shows=True),
    ("POST", "/experts/{expert_id}/edit"): _expert_case(
        lambda w: f"/experts/{_expert(w)}/edit", data=lambda w: {
            "full_name": EXPERT_SECRET, "organisation": "Shanxi Institute",
            "region_code": "140105", "specialities": "gas", "available": "on"}),
}
ROUTE_CASES.update(EXPERT_CASES)

# Compliance (issue 10.2): its enterprise admin, regulators of its region and admins; a worker
# of the enterprise is refused.
OVERSIGHT_CASES: dict[tuple[str, str], Case] = {
    ("GET", "/api/v1/enterprises/{enterprise_id}/compliance"): Case(
        url=lambda w: f"/api/v1/enterprises/{_ent(w)}/compliance",
        allowed=("admin", "a_admin", "reg_14"), refused=("worker_a",),
        secrets=_worker_secrets, shows=True),
    ("GET", "/api/v1/enterprises/{enterprise_id}/compliance.xlsx"): Case(
        url=lambda w: f"/api/v1/enterprises/{_ent(w)}/compliance.xlsx",
        allowed=("admin", "a_admin", "reg_14"), refused=("worker_a",), secrets=_worker_secrets),
    ("GET", "/enterprises/{enterprise_id}/compliance"): Case(
        url=lambda w: f"/enterprises/{_ent(w)}/compliance",
        allowed=("admin", "a_admin", "reg_14"), refused=("worker_a",),
        secrets=lambda w: [*_enterprise_secrets(w)[:1], w.worker_a.full_name], shows=True),
}
ROUTE_CASES.update(OVERSIGHT_CASES)


# Worker transcript (issue 10.1): the worker itself, its enterprise admin, regulators of its
# region and admins; the same 404 as a missing worker for everyone else. The JSON shows the
# worker; the downloads must not leak a byte of it to an outsider.
TRANSCRIPT_CASES: dict[tuple[str, str], Case] = {
    ("GET", "/api/v1/workers/{worker_id}/transcript"): Case(
        url=lambda w: f"/api/v1/workers/{w.worker_a.id}/transcript",
        allowed=("admin", "a_admin", "reg_14", "worker_a"),
        secrets=_worker_secrets, shows=True),
    ("GET", "/api/v1/workers/{worker_id}/transcript.pdf"): Case(
        url=lambda w: f"/api/v1/workers/{w.worker_a.id}/transcript.pdf",
        allowed=("admin", "a_admin", "reg_14", "worker_a"), secrets=_worker_secrets),
    ("GET", "/api/v1/workers/{worker_id}/transcript.xlsx"): Case(
        url=lambda w: f"/api/v1/workers/{w.worker_a.id}/transcript.xlsx",
        allowed=("admin", "a_admin", "reg_14", "worker_a"), secrets=_worker_secrets),
    ("GET", "/workers/{worker_id}/transcript"): Case(
        url=lambda w: f"/workers/{w.worker_a.id}/transcript",
        allowed=("admin", "a_admin", "reg_14", "worker_a"),
        secrets=_worker_secrets, shows=True),
}
ROUTE_CASES.update(TRANSCRIPT_CASES)

# Plan assessment (issue 10.4): a snapshot of Taiyuan (1401) is read by admins and regulators of
# 14 or 1401; another prefecture's or province's regulator gets the same 404 as a missing id.
ASSESSMENT_SECRET = "Assessment secret snapshot"


def _assessment_snapshot(w: World) -> int:
    from app.oversight.assessment_models import AssessmentSnapshot

    with app_db.open_session(write=True) as s:
        found = s.scalar(select(AssessmentSnapshot.id).where(
            AssessmentSnapshot.label == ASSESSMENT_SECRET))
        if found is None:
            item = AssessmentSnapshot(region_code="1401", label=ASSESSMENT_SECRET,
                                      as_of=date(2023, 12, 31), indicators=[])
            s.add(item)
            s.commit()
            found = item.id
        return found


ASSESSMENT_CASES: dict[tuple[str, str], Case] = {
    ("GET", "/api/v1/assessment/snapshots/{snapshot_id}"): Case(
        url=lambda w: f"/api/v1/assessment/snapshots/{_assessment_snapshot(w)}",
        allowed=("admin", "reg_14"), refused=("a_admin", "worker_a"),
        secrets=lambda w: [ASSESSMENT_SECRET], shows=True),
}
ROUTE_CASES.update(ASSESSMENT_CASES)

# The assessment's region-scoped routes take the region as a query parameter (no path
# parameter, so the walk above does not see them): each refuses every outsider for Taiyuan.
ASSESSMENT_REGION_ROUTES = [
    ("GET", "/api/v1/assessment?region=1401", None),
    ("GET", "/api/v1/assessment.xlsx?region=1401", None),
    ("GET", "/api/v1/assessment/snapshots?region=1401", None),
    ("GET", "/api/v1/assessment/targets?region=1401", None),
    ("PUT", "/api/v1/assessment/targets", {"region": "1401", "year": 2025,
                                           "targets": {"courses_completed": 1}}),
    ("POST", "/api/v1/assessment/snapshots", {"region": "1401", "label": "x",
                                              "as_of": "2023-12-31"}),
    ("GET", "/assessment?region=1401", None),
]


# Object-scoped routes that are public by design (e.g. a certificate verification page): each
# needs a reason here, and is then exempt from the jurisdiction cases.
PUBLIC_ROUTES: dict[tuple[str, str], str] = {
    ("GET", "/api/v1/certificates/{number}/verification"): "public verification by design: "
    "anyone, no login, holder masked (tests/certificates)",
    ("GET", "/api/v1/status-lists/{list_id}"): "the W3C Bitstring Status Lists (revocation, "
    "suspension) are published to every verifier by design; they name no one "
    "(tests/certificates/test_credentials.py)",
    ("GET", "/api/v1/keys/{thumbprint}"): "the issuer's public signing keys (a credential's kid "
    "URL), published to every verifier by design, as in /.well-known/jwks.json "
    "(tests/certificates/test_credentials.py)",
    ("GET", "/verify/{number}"): "the public verification page the QR code points to: anyone, "
    "no login, holder masked, throttled (tests/certificates/test_pages.py)",
    ("GET", "/api/v1/courses/{course_id}"): "the course catalogue is open to every signed-in "
    "user; drafts are hidden from non-authors (tests/courses)",
    ("GET", "/courses/{course_id}"): "as the catalogue API",
    ("GET", "/api/v1/experts/{expert_id}"): "the expert pool is open to all staff of every "
    "region by design (issue 10.5); a worker is refused, editing is jurisdiction-scoped "
    "(EXPERT_CASES; tests/experts/test_api.py)",
    ("GET", "/experts/{expert_id}"): "as the expert API: any staff reads, workers get 403 "
    "(tests/experts/test_pages.py)",
    ("POST", "/courses/{course_id}/enrol"): "a worker enrols itself; no other worker is named",
    ("GET", "/media/{key}"): "course media are course content, readable by every signed-in user; "
    "keys are content hashes",
    ("POST", "/api/v1/exams/{exam_id}/attempts"): "starts an attempt for the caller only; "
    "eligibility (enrolment of the caller) is tested in tests/exams",
    ("GET", "/api/v1/practical-sessions/{session_id}"): "session times and places are public; "
    "its bookings are listed only to admins, its examiner and the workers' own enterprise "
    "(tests/practicals/test_api.py)",
    ("GET", "/exams/{exam_id}"): "an exam's rules are open to every signed-in user; the attempts "
    "it lists and its Start button are the caller's own (tests/exams/test_pages.py)",
    ("POST", "/exams/{exam_id}/start"): "as the attempts API: starts an attempt for the caller "
    "only (tests/exams/test_pages.py)",
    ("GET", "/practicals/sessions/{session_id}"): "a session's time, place and free seats are "
    "public (the directory links to it); its bookings are listed only to admins, its examiner "
    "and the workers' own enterprise admin (tests/practicals/test_pages.py)",
    ("GET", "/practicals/sessions/{session_id}.ics"): "the same session as an iCalendar file, "
    "without bookings",
    ("GET", "/practicals/calendar/{token}.ics"): "a worker's calendar feed, opened by its secret "
    "token alone so calendar apps can subscribe; a wrong or reset token is 404 "
    "(tests/practicals/test_pages.py)",
}


def object_scoped_routes(app: Any) -> set[tuple[str, str]]:
    """(method, path template) of every APIRoute whose path has a parameter."""
    try:  # FastAPI >= 0.160 keeps included routers nested; this walks them
        from fastapi.routing import iter_route_contexts
        routes = [(rc.route, rc.path, rc.methods) for rc in iter_route_contexts(app.routes)]
    except ImportError:  # pragma: no cover - older FastAPI flattens include_router
        routes = [(r, getattr(r, "path", None), getattr(r, "methods", None)) for r in app.routes]
    found = set()
    for route, path, methods in routes:
        if isinstance(route, APIRoute) and path and "{" in path:
            found.update((method, path) for method in methods or () if method != "HEAD")
    return found


# --- the world ----------------------------------------------------------------------------

@pytest.fixture
def world(db) -> World:
    ent_a = f.enterprise(db, region="140105", name="Alpha Shanxi Colliery")
    ent_b = f.enterprise(db, region="150602", name="Beta Ordos Mine")
    worker_a = f.worker(db, ent_a, full_name="王守矿")
    worker_b = f.worker(db, ent_b, full_name="李北方")
    users = {
        "admin": f.user(db, Role.ADMIN, username="root", full_name="Root"),
        "a_admin": f.user(db, Role.ENTERPRISE_ADMIN, username="a.admin", enterprise_id=ent_a.id,
                          full_name="Alpha Boss"),
        "reg_14": f.user(db, Role.REGULATOR, username="reg14", region_code="14",
                         full_name="Shanxi Regulator"),
        "b_admin": f.user(db, Role.ENTERPRISE_ADMIN, username="b.admin", enterprise_id=ent_b.id,
                          full_name="Beta Boss"),
        "reg_15": f.user(db, Role.REGULATOR, username="reg15", region_code="15",
                         full_name="Inner Mongolia Regulator"),
        "reg_1402": f.user(db, Role.REGULATOR, username="reg1402", region_code="1402",
                           full_name="Datong Regulator"),
    }
    for key, item in (("worker_a", worker_a), ("worker_b", worker_b)):
        users[key] = db.get(User, item.user_id)
    upload = roster.store_upload(db=db, enterprise=ent_a, data=CSV, filename="roster.csv",
                                 by=users["a_admin"])
    db.commit()
    return World(ent_a=ent_a, ent_b=ent_b, worker_a=worker_a, users=users,
                 upload_token=upload.token)


def _snapshot() -> dict[str, list[Any]]:
    """Every row of every table: what a refused request must leave as it was."""
    with app_db.open_session(write=False) as s:
        return {table.name: s.execute(select(table).order_by(*table.primary_key.columns)).all()
                for table in Base.metadata.sorted_tables}


def _request(method: str, case: Case, w: World, *, api: bool, auth: dict[str, str],
             csrf: str) -> dict[str, Any]:
    """Headers and body of the route's request, authenticated as signed in."""
    headers = dict(auth)
    kwargs: dict[str, Any] = {"headers": headers}
    if method != "GET":
        if not api:
            headers["X-CSRF-Token"] = csrf
        data = case.data(w) if case.data else {}
        if not api:
            data = {**data, "csrf_token": csrf}
        if case.upload:
            kwargs["files"] = {"file": ("roster.csv", CSV, "text/csv")}
        if case.json is not None:
            kwargs["json"] = case.json(w)
        elif data:
            kwargs["data"] = data
    return kwargs


@pytest.fixture
def sign_in(make_client, world: World) -> Callable[[tuple[str, str], str], Callable[[], Any]]:
    """Sign `actor` in, in a browser of its own (bearer token for /api, a session for pages);
    returns a function sending the route's request as that actor."""

    def prepare(key: tuple[str, str], actor: str) -> Callable[[], Any]:
        method, template = key
        case = ROUTE_CASES[key]
        client = make_client()
        username = world.users[actor].username
        api = template.startswith("/api/")
        if api:
            auth, csrf = f.token(client, username), ""
        else:
            auth, csrf = {}, f.login(client, username)
        # Build the request now: case builders may create the object on first use, and that
        # must happen before a refusal check takes its picture of the database.
        path = case.url(world)
        request = _request(method, case, world, api=api, auth=auth, csrf=csrf)
        return lambda: client.request(method, path, follow_redirects=False, **request)

    return prepare


def _assert_refused(response: Any, key: tuple[str, str], actor: str, world: World,
                    before: dict[str, list[Any]] | None) -> None:
    """403/404, no spreadsheet, nothing of the object for an outsider, and nothing changed."""
    method, template = key
    case = ROUTE_CASES[key]
    assert response.status_code in (403, 404), (
        f"{actor} got {response.status_code} from {method} {template}: {response.text[:300]}")
    assert "spreadsheetml" not in response.headers.get("content-type", "")
    body = response.content.decode("utf-8", errors="replace")
    for secret in case.secrets(world) if actor in OUTSIDERS else ():
        assert secret not in body, f"{actor} saw {secret!r} through {method} {template}"
    if before is not None:
        after = _snapshot()
        changed = sorted(name for name in before if before[name] != after[name])
        assert not changed, f"{actor}'s refused {method} {template} changed table(s) {changed}"


def _outsider_params() -> list[Any]:
    return [pytest.param(key, actor, id=f"{key[0]} {key[1]} as {actor}")
            for key in ROUTE_CASES for actor in OUTSIDERS]


# --- the tests ----------------------------------------------------------------------------

def test_every_object_scoped_route_has_a_case(app):
    found = object_scoped_routes(app)
    missing = sorted(found - ROUTE_CASES.keys() - PUBLIC_ROUTES.keys())
    assert not missing, "\n".join(
        f"new object-scoped route {method} {path} has no cross-enterprise/cross-region case "
        f"in tests/test_authorization.py" for method, path in missing)
    stale = sorted((ROUTE_CASES.keys() | PUBLIC_ROUTES.keys()) - found)
    assert not stale, f"ROUTE_CASES names routes the app no longer has: {stale}"


@pytest.mark.parametrize(("method", "url", "body"), ASSESSMENT_REGION_ROUTES,
                         ids=[f"{m} {u}" for m, u, _b in ASSESSMENT_REGION_ROUTES])
def test_assessment_region_routes_refuse_outsiders(make_client, world, method, url, body):
    writes = ("reg_14",) if method != "GET" else ()  # admins only
    for actor in (*OUTSIDERS, "a_admin", "worker_a", *writes):
        client = make_client()
        auth = f.token(client, world.users[actor].username) if url.startswith("/api/") else {}
        if not auth:
            f.login(client, world.users[actor].username)
        before = _snapshot() if method != "GET" else None
        response = client.request(method, url, json=body, headers=auth)
        assert response.status_code in (403, 404), f"{actor}: {method} {url}"
        assert "spreadsheetml" not in response.headers.get("content-type", "")
        if before is not None:
            assert _snapshot() == before, f"{actor}'s refused {method} {url} changed data"
    insider = make_client()
    if url.startswith("/api/"):
        auth = f.token(insider, "root" if writes else "reg14")
    else:
        auth = {}
        f.login(insider, "reg14")
    assert insider.request(method, url, json=body, headers=auth).status_code in (200, 201)


def test_route_walk_sees_api_and_page_routes(app):
    found = object_scoped_routes(app)
    assert ("GET", "/api/v1/enterprises/{enterprise_id}") in found
    assert ("POST", "/enterprises/{enterprise_id}/import/{token}") in found
    assert not any(path.startswith("/static") for _method, path in found)


def test_a_new_route_without_a_case_is_caught(app):
    before = object_scoped_routes(app)
    router = APIRouter(prefix="/api/v1")

    @router.get("/things/{thing_id}")
    def thing(thing_id: int) -> dict[str, int]:
        return {"id": thing_id}

    app.include_router(router)
    added = object_scoped_routes(app) - before
    assert added == {("GET", "/api/v1/things/{thing_id}")}
    assert not added & ROUTE_CASES.keys()


def test_foreign_id_answers_like_a_missing_id(client, world):
    """404 for another region's enterprise is indistinguishable from a nonexistent id."""
    auth = f.token(client, "reg15")
    foreign = client.get(f"/api/v1/enterprises/{world.ent_a.id}", headers=auth)
    missing = client.get("/api/v1/enterprises/999999", headers=auth)
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json() == missing.json()
    assert foreign.headers["content-type"] == "application/problem+json"


def _check_refused(sign_in: Any, world: World, key: tuple[str, str], actor: str) -> None:
    send = sign_in(key, actor)
    # Signing in writes a session and audit events, so the picture is taken after it.
    before = _snapshot() if key[0] != "GET" else None
    _assert_refused(send(), key, actor, world, before)


@pytest.mark.parametrize(("key", "actor"), _outsider_params())
def test_outsider_is_refused(sign_in, world, key, actor):
    _check_refused(sign_in, world, key, actor)


@pytest.mark.parametrize("key", [pytest.param(key, id=f"{key[0]} {key[1]}")
                                 for key in ROUTE_CASES])
def test_insiders(sign_in, world, key):
    """Insiders without the right are refused (first, as they must change nothing); then each
    allowed insider gets a 2xx/3xx answer. One test per route keeps the suite quick."""
    case = ROUTE_CASES[key]
    for actor in case.refused:
        _check_refused(sign_in, world, key, actor)
    for actor in case.allowed:
        response = sign_in(key, actor)()
        assert 200 <= response.status_code < 400, (
            f"{actor} got {response.status_code} from {key[0]} {key[1]}: {response.text[:300]}")
        if case.shows:
            assert any(secret in response.text for secret in case.secrets(world)), (
                f"{actor}'s answer from {key[1]} shows none of {case.secrets(world)}")
