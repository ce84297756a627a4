"""Plan-implementation assessment: indicator values on a hand-made population, targets (audited),
frozen snapshots (immutable in the database), jurisdiction, and workbook = JSON."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from app import db as app_db
from app.accounts.models import AuditEvent, Role
from app.courses.models import Lesson, Module
from app.learning.models import LessonProgress
from app.oversight import assessment, compliance, dashboard
from app.oversight.assessment_models import AssessmentSnapshot, AssessmentTarget
from app.practicals.models import Booking, PracticalSession
from app.practicals.models import TestCentre as Centre
from tests import factories as f
from tests.oversight import conftest as h

YEAR = 2025
HOUR = 1800  # online seconds of one class hour in the default profile


def _centre(db, region, kinds, created=datetime(2024, 1, 1, tzinfo=UTC)):
    item = Centre(name=f"Base {region}", region_code=region, kinds=kinds, created_at=created)
    db.add(item)
    db.flush()
    return item


def _session(db, centre, course, examiner, day, *, status="scheduled"):
    start = h.at(day, 9)
    item = PracticalSession(test_centre_id=centre.id, course_id=course.id, starts_at=start,
                            ends_at=start + timedelta(hours=3), capacity=10,
                            examiner_id=examiner.id, status=status)
    db.add(item)
    db.flush()
    return item


def _result(db, session, worker, passed, day):
    db.add(Booking(session_id=session.id, worker_id=worker.id,
                   status="passed" if passed else "failed", result_at=h.at(day, 12)))
    db.flush()


@pytest.fixture
def population(db):
    """Shanxi: enterprise A (140105, six workers) and A2 (140202, one compliant worker);
    Inner Mongolia: enterprise B (150602, one worker). Every indicator has a known value."""
    ent_a = f.enterprise(db, region="140105", name="Alpha Colliery")
    ent_a2 = f.enterprise(db, region="140202", name="Datong Colliery")
    ent_b = f.enterprise(db, region="150602", name="Beta Ordos Mine")
    course, exam = h.course(db)
    blast, _exam = h.course(db, job_category="coal.blasting")
    examiner = f.user(db, Role.EXAMINER, username="examiner")
    w = {}

    def worker(key, ent=ent_a, *, category="general.underground", hired=date(2020, 3, 1)):
        w[key] = f.worker(db, ent, full_name=key, job_category=category, hired_on=hired)
        return w[key]

    h.study(db, worker("annual_done"), date(YEAR, 2, 1), 20 * HOUR)
    h.study(db, worker("annual_short"), date(YEAR, 2, 1), 10 * HOUR)
    h.study(db, worker("initial_done", hired=date(YEAR, 2, 1)), date(YEAR, 3, 1), 72 * HOUR)
    h.study(db, worker("initial_short", hired=date(YEAR, 3, 1)), date(YEAR, 3, 5), 5 * HOUR)
    h.study(db, worker("blaster_cert", category="coal.blasting", hired=date(2019, 1, 1)),
            date(YEAR, 1, 5), 20 * HOUR)
    worker("blaster_none", category="coal.blasting", hired=date(2019, 1, 1))
    h.certificate(db, w["blaster_cert"], blast, issued=date(2024, 1, 1), expires=date(2030, 1, 1))
    h.study(db, worker("datong", ent_a2), date(YEAR, 4, 1), 20 * HOUR)
    h.study(db, worker("ordos", ent_b), date(YEAR, 4, 1), 20 * HOUR)
    worker("hired_later", hired=date(YEAR + 1, 1, 2))  # not counted in YEAR

    # Theory: one pass, one fail in YEAR; one pass the year before (not counted).
    done = h.enrol(db, w["annual_done"], course.id, deadline=None, status="completed")
    done.completed_at = h.at(date(YEAR, 6, 1))
    old = h.enrol(db, w["annual_short"], course.id, deadline=None, status="completed")
    old.completed_at = h.at(date(YEAR - 1, 6, 1))
    h.attempt(db, w["annual_done"], exam, done, date(YEAR, 3, 15), passed=True)
    h.attempt(db, w["annual_short"], exam, old, date(YEAR, 4, 1), passed=False)
    earlier = h.enrol(db, w["annual_short"], course.id, deadline=None, status="withdrawn")
    h.attempt(db, w["annual_short"], exam, earlier, date(YEAR - 1, 4, 1), passed=True)
    ordos = h.enrol(db, w["ordos"], course.id, deadline=None, status="completed")
    ordos.completed_at = h.at(date(YEAR, 6, 1))

    # Lessons: a case lesson and a text lesson completed in YEAR, a case lesson the year after.
    module = Module(course_id=course.id, position=1, title={"en": "M"})
    db.add(module)
    db.flush()
    lessons = {}
    for position, kind in enumerate(("case", "text"), start=1):
        lessons[kind] = Lesson(course_id=course.id, module_id=module.id, position=position,
                               kind=kind, title={"en": kind}, minutes=5, body={"en": "x"})
        db.add(lessons[kind])
    db.flush()
    db.add_all([
        LessonProgress(enrolment_id=done.id, lesson_id=lessons["case"].id,
                       completed_at=h.at(date(YEAR, 5, 1))),
        LessonProgress(enrolment_id=done.id, lesson_id=lessons["text"].id,
                       completed_at=h.at(date(YEAR, 5, 1))),
        LessonProgress(enrolment_id=old.id, lesson_id=lessons["case"].id,
                       completed_at=h.at(date(YEAR + 1, 1, 5))),
        LessonProgress(enrolment_id=ordos.id, lesson_id=lessons["case"].id,
                       completed_at=h.at(date(YEAR, 5, 1)))])

    # Bases and practical sessions.
    taiyuan = _centre(db, "140105", ["practical_test", "skills_training"])
    datong = _centre(db, "140202", ["warning_education"])
    _centre(db, "140105", ["practical_test"], created=datetime(YEAR + 1, 2, 1, tzinfo=UTC))
    ordos_base = _centre(db, "150602", ["practical_test", "warning_education"])
    held = _session(db, taiyuan, blast, examiner, date(YEAR, 5, 10))
    _result(db, held, w["blaster_cert"], True, date(YEAR, 5, 10))
    _result(db, held, w["blaster_none"], False, date(YEAR, 5, 10))
    _session(db, datong, blast, examiner, date(YEAR, 7, 1))
    _session(db, datong, blast, examiner, date(YEAR, 8, 1), status="cancelled")
    _session(db, taiyuan, blast, examiner, date(YEAR + 1, 3, 1))
    _session(db, ordos_base, blast, examiner, date(YEAR, 7, 1))

    f.user(db, Role.ADMIN, username="root")
    f.user(db, Role.REGULATOR, username="reg14", region_code="14")
    f.user(db, Role.REGULATOR, username="reg15", region_code="15")
    f.user(db, Role.REGULATOR, username="reg1401", region_code="1401")
    f.user(db, Role.ENTERPRISE_ADMIN, username="a.admin", enterprise_id=ent_a.id)
    db.commit()
    return w


SHANXI_2025 = {
    "workers_trained_initial": 1,
    "workers_trained_annual": 3,  # annual_done, blaster_cert, datong
    # 20 + 10 + 72 + 5 + 20 + 0 + 20 = 147 hours over 7 workers
    "hours_per_worker": 21.0,
    "special_ops_workers": 2,
    "special_ops_certified": 1,
    "special_ops_certified_share": 50.0,
    "theory_pass_rate": 50.0,
    "practical_pass_rate": 50.0,
    "enterprises_fully_compliant": 1,  # Datong; Alpha has short and overdue workers
    "enterprises_fully_compliant_share": 50.0,
    "courses_completed": 1,
    "case_lessons_completed": 1,
    "practical_tests_held": 2,  # Taiyuan in May, Datong in July (not the cancelled one)
    "training_bases_practical_test": 1,  # the second Taiyuan base opened in YEAR + 1
    "training_bases_skills_training": 1,
    "training_bases_warning_education": 1,
}


def test_indicator_values_of_a_region(db, population):
    values = assessment.measure(db=db, region="14", period=compliance.period(year=YEAR))
    assert values == SHANXI_2025
    assert list(values) == [i.code for i in assessment.INDICATORS]


def test_sub_region_and_country(db, population):
    taiyuan = assessment.measure(db=db, region="1401", period=compliance.period(year=YEAR))
    assert taiyuan["special_ops_workers"] == 2 and taiyuan["enterprises_fully_compliant"] == 0
    assert taiyuan["enterprises_fully_compliant_share"] == 0.0
    assert taiyuan["practical_tests_held"] == 1 and taiyuan["training_bases_warning_education"] \
        == 0
    country = assessment.measure(db=db, region=None, period=compliance.period(year=YEAR))
    assert country["workers_trained_annual"] == 4 and country["courses_completed"] == 2
    assert country["case_lessons_completed"] == 2 and country["practical_tests_held"] == 3
    assert country["training_bases_warning_education"] == 2
    assert country["enterprises_fully_compliant"] == 2
    assert country["enterprises_fully_compliant_share"] == 66.67
    empty = assessment.measure(db=db, region="65", period=compliance.period(year=YEAR))
    assert empty["hours_per_worker"] is None and empty["theory_pass_rate"] is None
    assert empty["workers_trained_annual"] == 0


def test_numbers_agree_with_the_dashboard(db, population):
    p = compliance.period(year=YEAR)
    board = dashboard.dashboard(db=db, region="14", period=p, details=False)
    values = assessment.measure(db=db, region="14", period=p)
    assert values["theory_pass_rate"] == round(board.totals.theory_pass_rate * 100, 2)
    assert values["special_ops_workers"] == board.totals.special
    assert values["hours_per_worker"] == round(board.totals.hours_credited / board.totals.workers,
                                               2)


def test_a_cut_off_counts_up_to_its_day(db, population):
    spring = assessment.measure(db=db, region="14", period=assessment.cutoff(date(YEAR, 3, 31)))
    # events count up to the day: the April fail, the May results and lessons, the June
    # completion and the later sessions are after it
    assert spring["theory_pass_rate"] == 100.0
    assert spring["practical_pass_rate"] is None and spring["practical_tests_held"] == 0
    assert spring["courses_completed"] == 0 and spring["case_lessons_completed"] == 0
    # class hours are kept per calendar year (docs/assessment.md): Datong's April hours count
    assert spring["workers_trained_initial"] == 1 and spring["workers_trained_annual"] == 3
    before_hiring = assessment.measure(db=db, region="14",
                                       period=assessment.cutoff(date(YEAR, 2, 15)))
    assert before_hiring["workers_trained_initial"] == 1  # initial_short (1 March) not counted
    assert before_hiring["hours_per_worker"] == round((20 + 10 + 72 + 20 + 0 + 20) / 6, 2)
    whole = assessment.measure(db=db, region="14", period=assessment.cutoff(date(YEAR, 12, 31)))
    assert whole == SHANXI_2025


def _get(client, username, url, **params):
    return client.get(url, params=params, headers=f.token(client, username))


def test_assessment_contract_and_jurisdiction(client, population):
    body = _get(client, "reg14", "/api/v1/assessment", year=YEAR).json()
    assert body["region"] == "14" and body["year"] == YEAR
    assert {i["code"]: i["value"] for i in body["indicators"]} == SHANXI_2025
    first = body["indicators"][0]
    assert set(first) >= {"code", "name", "value", "target", "unit"}
    assert first["target"] is None and first["unit"] == "workers"
    assert {i["unit"] for i in body["indicators"]} == {"workers", "hours", "percent",
                                                       "enterprises", "courses", "lessons",
                                                       "sessions", "bases"}
    assert _get(client, "reg14", "/api/v1/assessment", region="1401", year=YEAR).json()[
        "region"] == "1401"
    # another province answers 404, a malformed or unknown code 422, other roles 403
    assert _get(client, "reg15", "/api/v1/assessment", region="14").status_code == 404
    assert _get(client, "reg1401", "/api/v1/assessment", region="1402").status_code == 404
    assert _get(client, "reg14", "/api/v1/assessment", region="1499").status_code == 422
    assert _get(client, "reg14", "/api/v1/assessment", year=1999).status_code == 422
    assert _get(client, "a.admin", "/api/v1/assessment").status_code == 403
    assert client.get("/api/v1/assessment").status_code == 401
    national = _get(client, "root", "/api/v1/assessment", year=YEAR).json()
    assert national["region"] is None


def _put(client, username, body):
    return client.put("/api/v1/assessment/targets", json=body, headers=f.token(client, username))


def test_targets_are_set_by_admins_and_audited(client, db, population):
    body = {"region": "14", "year": YEAR,
            "targets": {"theory_pass_rate": 40, "practical_pass_rate": 90,
                        "special_ops_workers": 2}}
    assert _put(client, "reg14", body).status_code == 403
    response = _put(client, "root", body)
    assert response.status_code == 200, response.text
    assert response.json() == {"region": "14", "year": YEAR, "targets": {
        "theory_pass_rate": 40.0, "practical_pass_rate": 90.0, "special_ops_workers": 2.0}}
    indicators = {i["code"]: i for i in _get(client, "reg14", "/api/v1/assessment",
                                             year=YEAR).json()["indicators"]}
    assert (indicators["theory_pass_rate"]["target"], indicators["theory_pass_rate"]["met"]) == \
        (40.0, True)
    assert indicators["practical_pass_rate"]["met"] is False
    assert indicators["special_ops_workers"]["met"] is True
    assert _get(client, "reg14", "/api/v1/assessment/targets", year=YEAR).json()["targets"] == \
        response.json()["targets"]
    # another year and region keep none
    assert _get(client, "reg14", "/api/v1/assessment/targets", year=YEAR - 1).json()[
        "targets"] == {}
    # change one, clear one, repeat one: two audit rows
    again = _put(client, "root", {"region": "14", "year": YEAR, "targets": {
        "theory_pass_rate": 60, "practical_pass_rate": None, "special_ops_workers": 2}})
    assert again.json()["targets"] == {"theory_pass_rate": 60.0, "special_ops_workers": 2.0}
    with app_db.open_session(write=False) as s:
        events = s.scalars(select(AuditEvent).where(AuditEvent.action.like("assessment.%"))
                           .order_by(AuditEvent.id)).all()
    assert [(e.action, e.detail["indicator"], e.detail["old"], e.detail["new"]) for e in events] \
        == [("assessment.target_set", "theory_pass_rate", None, 40.0),
            ("assessment.target_set", "practical_pass_rate", None, 90.0),
            ("assessment.target_set", "special_ops_workers", None, 2.0),
            ("assessment.target_set", "theory_pass_rate", 40.0, 60.0),
            ("assessment.target_cleared", "practical_pass_rate", 90.0, None)]
    assert all(e.actor_name == "root" and e.region_code == "14" for e in events)


@pytest.mark.parametrize(("targets", "field"), [
    ({"no_such_indicator": 1}, "no_such_indicator"),
    ({"theory_pass_rate": 101}, "theory_pass_rate"),
    ({"special_ops_workers": 2.5}, "special_ops_workers"),
    ({"hours_per_worker": -1}, "hours_per_worker"),
])
def test_bad_targets_change_nothing(client, db, population, targets, field):
    response = _put(client, "root", {"region": "14", "year": YEAR,
                                     "targets": {"courses_completed": 5, **targets}})
    assert response.status_code == 422, response.text
    assert [e["loc"] for e in response.json()["errors"]] == [["targets", field]]
    with app_db.open_session(write=False) as s:
        assert s.scalar(select(AssessmentTarget.id)) is None


def _post(client, username, body):
    return client.post("/api/v1/assessment/snapshots", json=body,
                       headers=f.token(client, username))


def test_snapshots_are_frozen(client, db, population):
    _put(client, "root", {"region": "14", "year": YEAR, "targets": {"theory_pass_rate": 45}})
    body = {"region": "14", "label": "final", "as_of": f"{YEAR}-12-31"}
    assert _post(client, "reg14", body).status_code == 403
    response = _post(client, "root", body)
    assert response.status_code == 201, response.text
    snap = response.json()
    assert snap["region"] == "14" and snap["label"] == "final" and snap["as_of"] == "2025-12-31"
    assert {i["code"]: i["value"] for i in snap["indicators"]} == SHANXI_2025
    assert {i["code"]: i["target"] for i in snap["indicators"]}["theory_pass_rate"] == 45.0
    # the live view and the frozen one agree today ...
    live = _get(client, "root", "/api/v1/assessment", region="14", year=YEAR).json()
    assert live["indicators"] == snap["indicators"]
    # ... and after the records change, the snapshot does not
    with app_db.open_session(write=True) as s:
        s.add(Centre(name="New base", region_code="140105", kinds=["skills_training"],
                         created_at=datetime(YEAR, 6, 1, tzinfo=UTC)))
        s.commit()
    _put(client, "root", {"region": "14", "year": YEAR, "targets": {"theory_pass_rate": 80}})
    listed = _get(client, "reg14", "/api/v1/assessment/snapshots").json()
    assert listed["total"] == 1 and listed["items"][0] == snap
    assert _get(client, "reg14", f"/api/v1/assessment/snapshots/{snap['id']}").json() == snap
    live = _get(client, "root", "/api/v1/assessment", region="14", year=YEAR).json()
    assert {i["code"]: i["value"] for i in live["indicators"]}[
        "training_bases_skills_training"] == 2
    # the same label again is a conflict; a mid-term of the same region is another snapshot
    again = _post(client, "root", body)
    assert again.status_code == 409 and again.json()["code"] == "snapshot_exists"
    mid = _post(client, "root", {"region": "14", "label": "mid-term", "as_of": "2023-12-31"})
    assert mid.status_code == 201
    assert [s["label"] for s in _get(client, "reg14", "/api/v1/assessment/snapshots").json()[
        "items"]] == ["mid-term", "final"]
    with app_db.open_session(write=False) as s:
        audit = s.scalars(select(AuditEvent).where(
            AuditEvent.action == "assessment.snapshot_frozen")).all()
    assert [e.detail["label"] for e in audit] == ["final", "mid-term"]


def test_snapshot_jurisdiction(client, population):
    made = _post(client, "root", {"region": "1401", "label": "mid-term",
                                  "as_of": "2023-12-31"}).json()
    national = _post(client, "root", {"label": "final", "as_of": "2025-12-31"}).json()
    assert national["region"] is None
    url = f"/api/v1/assessment/snapshots/{made['id']}"
    assert _get(client, "reg14", url).status_code == 200
    assert _get(client, "reg1401", url).status_code == 200
    assert _get(client, "reg15", url).status_code == 404
    assert _get(client, "reg15", url).json() == _get(
        client, "reg15", "/api/v1/assessment/snapshots/999999").json()
    assert _get(client, "reg14", f"/api/v1/assessment/snapshots/{national['id']}")\
        .status_code == 404
    assert _get(client, "reg15", "/api/v1/assessment/snapshots", region="14").status_code == 404
    assert _get(client, "reg15", "/api/v1/assessment/snapshots").json() == {"items": [],
                                                                           "total": 0}
    assert _get(client, "root", "/api/v1/assessment/snapshots").json()["total"] == 1
    assert _get(client, "a.admin", url).status_code == 403


@pytest.mark.parametrize(("body", "status", "loc"), [
    ({"region": "14", "label": "future", "as_of": "2999-01-01"}, 422, ["as_of"]),
    ({"region": "14", "label": "  ", "as_of": "2023-12-31"}, 422, ["label"]),
    ({"region": "14", "label": "x" * 61, "as_of": "2023-12-31"}, 422, ["label"]),
    ({"region": "1499", "label": "mid-term", "as_of": "2023-12-31"}, 422, ["region"]),
    ({"region": "14", "label": "mid-term", "as_of": "2023-02-30"}, 422, None),
    ({"region": "14", "label": "mid-term", "as_of": "2023-12-31", "extra": 1}, 422, None),
])
def test_bad_snapshots_are_refused(client, population, body, status, loc):
    response = _post(client, "root", body)
    assert response.status_code == status, response.text
    if loc:
        assert [e["loc"] for e in response.json()["errors"]] == [loc]
    with app_db.open_session(write=False) as s:
        assert s.scalar(select(AssessmentSnapshot.id)) is None


def test_tomorrow_is_in_the_future(client, population):
    tomorrow = compliance.today() + timedelta(days=1)
    response = _post(client, "root", {"region": "14", "label": "soon",
                                      "as_of": tomorrow.isoformat()})
    assert response.status_code == 422
    today = _post(client, "root", {"region": "14", "label": "now",
                                   "as_of": compliance.today().isoformat()})
    assert today.status_code == 201


def test_the_api_has_no_way_to_change_a_snapshot(app, client, population):
    made = _post(client, "root", {"region": "14", "label": "final", "as_of": "2025-12-31"})
    url = f"/api/v1/assessment/snapshots/{made.json()['id']}"
    auth = f.token(client, "root")
    for method in ("PUT", "PATCH", "DELETE"):
        assert client.request(method, url, json={"label": "x"}, headers=auth).status_code == 405
    methods = {m for r in app.routes if getattr(r, "path", "").startswith("/api/v1/assessment/"
                                                                          "snapshots")
               for m in getattr(r, "methods", ())}
    assert methods <= {"GET", "POST", "HEAD"}


def test_the_database_refuses_to_change_a_snapshot(client, population):
    made = _post(client, "root", {"region": "14", "label": "final", "as_of": "2025-12-31"}).json()
    for statement in ("UPDATE assessment_snapshots SET label = 'edited' WHERE id = :id",
                      "UPDATE assessment_snapshots SET indicators = '[]' WHERE id = :id",
                      "DELETE FROM assessment_snapshots WHERE id = :id"):
        with app_db.open_session(write=True) as s, pytest.raises(DBAPIError,
                                                                 match="append-only"):
            s.execute(text(statement), {"id": made["id"]})
            s.flush()
    assert _get(client, "root", f"/api/v1/assessment/snapshots/{made['id']}").json() == made


def test_workbook_equals_the_json(client, population):
    _put(client, "root", {"region": "14", "year": YEAR, "targets": {"theory_pass_rate": 45,
                                                                    "courses_completed": 3}})
    mid = _post(client, "root", {"region": "14", "label": "mid-term",
                                 "as_of": "2023-12-31"}).json()
    final = _post(client, "root", {"region": "14", "label": "final",
                                   "as_of": "2025-12-31"}).json()
    data = _get(client, "reg14", "/api/v1/assessment", year=YEAR).json()
    response = _get(client, "reg14", "/api/v1/assessment.xlsx", year=YEAR,
                    snapshots=f"{mid['id']},{final['id']}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    expected = [(i["code"], i["name"], i["unit"], i["value"], i["target"],
                 "" if i["met"] is None else ("Met" if i["met"] else "Not met"),
                 m["value"], m["target"], fi["value"], fi["target"])
                for i, m, fi in zip(data["indicators"], mid["indicators"], final["indicators"],
                                    strict=True)]
    assert [tuple(None if c is None else c for c in r) for r in rows] == \
        [tuple(None if c == "" else c for c in e) for e in expected]
    header = next(sheet.iter_rows(max_row=1, values_only=True))
    assert header[0] == "code" and "mid-term (2023-12-31)" in header[6]
    assert len(header) == 10
    # a snapshot of another region is 404, a bad id list 422
    other = _post(client, "root", {"region": "15", "label": "final",
                                   "as_of": "2025-12-31"}).json()
    assert _get(client, "reg14", "/api/v1/assessment.xlsx",
                snapshots=str(other["id"])).status_code == 404
    assert _get(client, "reg14", "/api/v1/assessment.xlsx", snapshots="1;2").status_code == 422
    assert _get(client, "reg15", "/api/v1/assessment.xlsx", region="14").status_code == 404
