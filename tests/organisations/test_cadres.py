"""Supervisory cadres are learners too: agencies, cadre profiles, course audiences, and
oversight figures that never count agencies as enterprises."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.courses import service as courses
from app.courses.package import PackageError, load_package
from app.learning import service as learning
from app.learning.models import LedgerEntry
from app.organisations import service as organisations
from app.organisations.models import Enterprise, Worker
from app.organisations.validators import make_credit_code, make_resident_id
from app.oversight import cadres, compliance, dashboard
from tests import factories as f
from tests import packages

T0 = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)  # 10:00 in Beijing
AGENCY_CODE = make_credit_code(region="140000", org_seq=14_000_001, authority="11")
CADRE_ID = make_resident_id(region="140105", birth=date(1980, 5, 17), sequence=318)


def _course(db, tmp_path, code: str, audience: list[str] | None) -> int:
    data = packages.course_yaml(code=code)
    if audience is not None:
        data["audience"] = audience
    outcome = courses.import_package(db=db, package=load_package(
        packages.write_package(tmp_path / code, data=data)), by=None)
    return outcome.course_id


@pytest.fixture
def world(db, tmp_path):
    """An admin, a Shanxi regulator (14), an Inner Mongolia regulator (15), a worker of a Shanxi
    enterprise, and three courses: for workers, for cadres only, for both."""
    users = {
        "admin": f.user(db, f.Role.ADMIN, username="root"),
        "reg14": f.user(db, f.Role.REGULATOR, username="reg14", region_code="14"),
        "reg1402": f.user(db, f.Role.REGULATOR, username="reg1402", region_code="1402"),
        "reg15": f.user(db, f.Role.REGULATOR, username="reg15", region_code="15"),
    }
    ent = f.enterprise(db, region="140105", name="Jin'an Colliery")
    worker = f.worker(db, ent)
    ids = {"workers": _course(db, tmp_path, "FOR-WORKERS", None),
           "cadres": _course(db, tmp_path, "FOR-CADRES", ["regulator"]),
           "both": _course(db, tmp_path, "FOR-BOTH", ["worker", "regulator"])}
    db.commit()
    return {"users": users, "enterprise": ent, "worker": worker, "courses": ids}


def _agency_and_cadre(client, world) -> tuple[int, int]:
    auth = f.token(client, "reg14")
    agency = client.post("/api/v1/agencies", headers=auth, json={
        "name": "山西省应急管理厅 矿山安全监督处", "credit_code": AGENCY_CODE, "region_code": "14"})
    assert agency.status_code == 201, agency.text
    assert agency.json()["kind"] == "agency"
    cadre = client.post(f"/api/v1/agencies/{agency.json()['id']}/cadres", headers=auth, json={
        "user_id": world["users"]["reg14"].id, "id_number": CADRE_ID, "full_name": "王监察"})
    assert cadre.status_code == 201, cadre.text
    assert cadre.json()["user_id"] == world["users"]["reg14"].id
    assert cadre.json()["job_category"] == "general.safety_manager"
    return agency.json()["id"], cadre.json()["id"]


def test_a_cadre_enrols_studies_and_is_credited_like_a_worker(client, db, world):
    agency_id, cadre_id = _agency_and_cadre(client, world)
    auth = f.token(client, "reg14")
    catalogue = client.get("/api/v1/courses", headers=auth).json()
    assert {c["code"] for c in catalogue["items"]} == {"FOR-CADRES", "FOR-BOTH"}
    assert {tuple(c["audience"]) for c in catalogue["items"]} == {
        ("regulator",), ("regulator", "worker")}
    enrolled = client.post("/api/v1/enrolments", headers=auth,
                           json={"course_id": world["courses"]["cadres"]})
    assert enrolled.status_code == 201, enrolled.text
    assert enrolled.json()[0]["outcome"] == "enrolled"
    enrolment = learning.get_enrolment_or_404(db=db, enrolment_id=enrolled.json()[0]["id"])
    lesson = courses.lessons_of(db=db, course_id=world["courses"]["cadres"])[0]
    for n in range(21):  # 20 gaps of 30 s: ten minutes credited
        learning.heartbeat(db=db, enrolment=enrolment, lesson=lesson,
                           now=T0 + timedelta(seconds=30 * n), visible=True, interacted=True)
    db.commit()
    assert db.scalar(select(func.sum(LedgerEntry.seconds))
                     .where(LedgerEntry.worker_id == cadre_id)) == 600
    transcript = client.get(f"/api/v1/workers/{cadre_id}/transcript", headers=auth)
    assert transcript.status_code == 200, transcript.text
    year = next(h for h in transcript.json()["hours"] if h["year"] == 2026)
    assert year["online_seconds"] == 600
    assert [e["course_code"] for e in transcript.json()["enrolments"]] == ["FOR-CADRES"]
    assert transcript.json()["enrolments"][0]["credited_minutes"] == 10
    f.login(client, "reg14")
    hours = client.get("/learn/hours?year=2026")
    assert hours.status_code == 200
    assert "Mini course" in hours.text and "10.0" in hours.text
    page = client.get(f"/agencies/{agency_id}")
    assert page.status_code == 200 and "王监察" in page.text


def test_audiences_refuse_the_wrong_learners(client, db, world):
    _agency_and_cadre(client, world)
    worker = world["worker"]
    worker_auth = f.token(client, worker.id_number)
    listed = client.get("/api/v1/courses", headers=worker_auth).json()["items"]
    assert {c["code"] for c in listed} == {"FOR-WORKERS", "FOR-BOTH"}
    refused = client.post("/api/v1/enrolments", headers=worker_auth,
                          json={"course_id": world["courses"]["cadres"]})
    assert refused.status_code == 409
    assert refused.json()["code"] == "course_not_offered"
    cadre_auth = f.token(client, "reg14")
    refused = client.post("/api/v1/enrolments", headers=cadre_auth,
                          json={"course_id": world["courses"]["workers"]})
    assert refused.status_code == 409
    assert refused.json()["code"] == "course_not_offered"
    # An administrator enrolling the worker is refused the same way, and nothing is written.
    admin_auth = f.token(client, "root")
    refused = client.post("/api/v1/enrolments", headers=admin_auth, json={
        "course_id": world["courses"]["cadres"], "worker_ids": [worker.id]})
    assert refused.status_code == 409
    assert client.post("/api/v1/enrolments", headers=worker_auth,
                       json={"course_id": world["courses"]["both"]}).status_code == 201
    # Staff without a learner profile see every course.
    assert client.get("/api/v1/courses", headers=admin_auth).json()["total"] == 3


def test_agency_jurisdiction_and_bad_input(client, db, world):
    agency_id, _cadre_id = _agency_and_cadre(client, world)
    for outsider in ("reg15", "reg1402"):  # another province; another prefecture of Shanxi
        auth = f.token(client, outsider)
        assert client.get("/api/v1/agencies", headers=auth).json() == []
        assert client.get(f"/api/v1/agencies/{agency_id}/cadres",
                          headers=auth).status_code == 404
    reg15 = f.token(client, "reg15")
    assert client.post("/api/v1/agencies", headers=reg15, json={
        "name": "Shanxi again", "credit_code": make_credit_code(
            region="140000", org_seq=14_000_002, authority="11"),
        "region_code": "14"}).status_code == 422
    worker_auth = f.token(client, world["worker"].id_number)
    assert client.post("/api/v1/agencies", headers=worker_auth, json={
        "name": "x", "credit_code": AGENCY_CODE, "region_code": "14"}).status_code == 403
    reg14 = f.token(client, "reg14")
    bad = client.post("/api/v1/agencies", headers=reg14, json={
        "name": "Bad", "credit_code": AGENCY_CODE[:-1] + "0", "region_code": "14"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["loc"][-1] == "credit_code"
    taken = client.post("/api/v1/agencies", headers=reg14, json={
        "name": "Twice", "credit_code": AGENCY_CODE, "region_code": "14"})
    assert taken.status_code == 409 and taken.json()["code"] == "credit_code_taken"
    url = f"/api/v1/agencies/{agency_id}/cadres"
    # Not a regulator; a regulator of another province (not visible to reg14: no such user).
    for user_key, loc in (("admin", "user_id"), ("reg15", "user_id")):
        answer = client.post(url, headers=reg14, json={
            "user_id": world["users"][user_key].id,
            "id_number": make_resident_id(region="140105", birth=date(1981, 1, 1), sequence=9),
            "full_name": "X"})
        assert answer.status_code == 422, answer.text
        assert answer.json()["errors"][0]["loc"][-1] == loc
    bad_id = client.post(url, headers=reg14, json={
        "user_id": world["users"]["reg1402"].id, "id_number": "140105198001011234",
        "full_name": "Y"})
    assert bad_id.status_code == 422
    again = client.post(url, headers=reg14, json={
        "user_id": world["users"]["reg14"].id, "id_number": make_resident_id(
            region="140105", birth=date(1982, 1, 1), sequence=7), "full_name": "Z"})
    assert again.status_code == 409 and again.json()["code"] == "already_a_learner"
    assert db.scalar(select(func.count()).select_from(Worker)
                     .where(Worker.enterprise_id == agency_id)) == 1
    # Agencies are not in the enterprise list.
    names = [e["name"] for e in client.get("/api/v1/enterprises", headers=reg14).json()["items"]]
    assert names == ["Jin'an Colliery"]


def test_agency_pages(client, db, world):
    f.login(client, "reg14")
    csrf = f.login(client, "reg14")
    created = client.post("/agencies", data={
        "name": "山西省应急管理厅", "credit_code": AGENCY_CODE, "region_code": "14",
        "csrf_token": csrf}, follow_redirects=False)
    assert created.status_code == 303, created.text
    agency_id = db.scalar(select(Enterprise.id).where(Enterprise.credit_code == AGENCY_CODE))
    page = client.get(f"/agencies/{agency_id}")
    assert "reg1402" in page.text and "reg15" not in page.text
    invalid = client.post(f"/agencies/{agency_id}/cadres", data={
        "user_id": str(world["users"]["reg1402"].id), "id_number": "nope", "full_name": "李",
        "job_category": "general.safety_manager", "csrf_token": csrf})
    assert invalid.status_code == 400
    registered = client.post(f"/agencies/{agency_id}/cadres", data={
        "user_id": str(world["users"]["reg1402"].id), "full_name": "李监察",
        "id_number": make_resident_id(region="140200", birth=date(1979, 3, 3), sequence=5),
        "job_category": "general.safety_manager", "csrf_token": csrf}, follow_redirects=False)
    assert registered.status_code == 303, registered.text
    assert "李监察" in client.get(f"/agencies/{agency_id}").text
    assert "山西省应急管理厅" in client.get("/agencies").text


def test_oversight_never_counts_agencies(client, db, world):
    period = compliance.period(year=2026, on=date(2026, 12, 1))
    before = dashboard.dashboard(db=db, region="14", period=period)
    before_all = dashboard.dashboard(db=db, region=None, period=period)
    db.commit()
    _agency_id, cadre_id = _agency_and_cadre(client, world)
    cadre = db.get(Worker, cadre_id)
    db.add(LedgerEntry(worker_id=cadre.id, day=date(2026, 3, 1), course_id=None,
                       mode="online", seconds=36_000))
    db.commit()
    for region, earlier in (("14", before), (None, before_all)):
        board = dashboard.dashboard(db=db, region=region, period=period)
        assert [line.name for line in board.enterprises] == ["Jin'an Colliery"]
        assert board.totals == earlier.totals
        assert board.months == earlier.months
        rows = db.execute(compliance.worker_rows(
            db=db, scope=compliance.scope_of_region(region), period=period,
            rules=compliance.rules(db=db))).all()
        assert [row.worker_id for row in rows] == [world["worker"].id]
    db.rollback()
    # Their own line: one cadre of one agency, credited 20 class hours (36,000 s online).
    line = cadres.cadres_trained(db=db, region="14", period=period,
                                 rules=compliance.rules(db=db))
    assert line == cadres.CadreLine(agencies=1, cadres=1, trained=1, hours_credited=20.0)
    assert cadres.cadres_trained(db=db, region="15", period=period,
                                 rules=compliance.rules(db=db)).cadres == 0
    db.rollback()
    f.login(client, "reg14")
    page = client.get("/oversight?year=2026")
    assert page.status_code == 200
    assert "1 of 1 cadres of 1 supervisory agencies" in page.text
    assert "20.0 class hours" in page.text
    f.login(client, "reg15")
    assert 'id="cadres-trained"' not in client.get("/oversight?year=2026").text


def test_package_audience(tmp_path):
    data = packages.course_yaml()
    data["audience"] = ["worker", "regulator"]
    assert load_package(packages.write_package(tmp_path / "ok", data=data)).spec.audience == [
        "worker", "regulator"]
    for bad in (["inspector"], [], ["worker", "worker"]):
        data["audience"] = bad
        with pytest.raises(PackageError):
            load_package(packages.write_package(tmp_path / f"bad{len(bad)}", data=data))


def test_authoring_api_audience(client, db, world):
    auth = f.token(client, "root")
    created = client.post("/api/v1/authoring/courses", headers=auth, json={
        "code": "CADRE-BRIEF", "title": {"en": "Cadre briefing"},
        "job_category": "general.safety_manager", "kind": "general",
        "audience": ["regulator"]})
    assert created.status_code == 201, created.text
    assert created.json()["audience"] == ["regulator"]
    course_id = created.json()["id"]
    for bad in ([], ["inspector"]):
        answer = client.patch(f"/api/v1/authoring/courses/{course_id}", headers=auth,
                              json={"audience": bad})
        assert answer.status_code == 422, answer.text
    both = client.patch(f"/api/v1/authoring/courses/{course_id}", headers=auth,
                        json={"audience": ["worker", "regulator"]})
    assert both.status_code == 200 and both.json()["audience"] == ["regulator", "worker"]


def test_learner_roles(db, world):
    ent = world["enterprise"]
    agency = organisations.create_agency(db=db, name="Agency", credit_code=AGENCY_CODE,
                                         region_code="14", by=world["users"]["admin"])
    cadre = organisations.register_cadre(
        db=db, agency=agency, user_id=world["users"]["reg14"].id, id_number=CADRE_ID,
        full_name="王监察", job_category="general.safety_manager", by=world["users"]["admin"])
    roles = organisations.learner_roles(db=db, worker_ids=[world["worker"].id, cadre.id])
    assert roles == {world["worker"].id: "worker", cadre.id: "regulator"}
    assert ent.kind == "enterprise" and agency.kind == "agency"
    db.rollback()


def test_authoring_form_audience(client, db, world):
    csrf = f.login(client, "root")
    assert 'name="audience_shown"' in client.get("/author/new").text
    form = {"code": "CADRE-FORM", "title_en": "Cadre form", "job_category":
            "general.safety_manager", "kind": "general", "credit_hours": "1",
            "required_minutes": "10", "audience_shown": "1", "csrf_token": csrf}
    refused = client.post("/author/new", data=form)
    assert refused.status_code == 400
    assert "Offer the course to workers, to supervisory cadres, or to both." in refused.text
    created = client.post("/author/new", data={**form, "audience_regulator": "on"},
                          follow_redirects=False)
    assert created.status_code == 303, created.text
    course_id = int(created.headers["location"].rsplit("/", 1)[1])
    db.commit()
    assert courses.get_course_or_404(db=db, course_id=course_id).audience_roles == ["regulator"]
