"""The assessment page: pickers within jurisdiction, value vs target, snapshots side by side, the
admins' forms (CSRF, re-rendered with messages on bad input), both languages, links."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import func, select

from app import db as app_db
from app.accounts.models import AuditEvent, Role
from app.oversight.assessment_models import AssessmentSnapshot, AssessmentTarget
from tests import factories as f
from tests.oversight import conftest as h

YEAR = 2025


@pytest.fixture
def region(db):
    ent = f.enterprise(db, region="140105", name="Alpha Colliery")
    worker = f.worker(db, ent, full_name="王守矿")
    h.study(db, worker, date(YEAR, 2, 1), 20 * 1800)
    f.enterprise(db, region="150602", name="Beta Ordos Mine")
    f.user(db, Role.ADMIN, username="root")
    f.user(db, Role.REGULATOR, username="reg14", region_code="14")
    f.user(db, Role.REGULATOR, username="reg15", region_code="15")
    f.user(db, Role.ENTERPRISE_ADMIN, username="a.admin", enterprise_id=ent.id)
    db.commit()


def _row(html: str, name: str) -> str:
    match = re.search(r"<tr>\s*<th scope=\"row\">" + re.escape(name) + r".*?</tr>", html, re.S)
    assert match, name
    return match.group(0)


def test_regulator_sees_its_region_read_only(client, region):
    f.login(client, "reg14")
    page = client.get("/assessment", params={"year": YEAR})
    assert page.status_code == 200
    assert "Plan assessment" in page.text and "(14)" in page.text
    row = _row(page.text, "Workers who completed annual training hours")
    assert re.findall(r'<td class="num">([^<]*)</td>', row)[0] == "1"
    assert "Save targets" not in page.text and "Freeze snapshot" not in page.text
    assert "/api/v1/assessment.xlsx?region=14&amp;year=2025" in page.text
    assert 'class="table-box assessment-table"' in page.text
    assert client.get("/assessment", params={"region": "15"}).status_code == 404
    bad = client.get("/assessment", params={"region": "1499"})
    assert bad.status_code == 400 and "There is no region with code 149900" in bad.text


def test_other_roles_are_refused(client, region):
    f.login(client, "a.admin")
    assert client.get("/assessment").status_code == 403
    csrf = f.login(client, "reg14")
    response = client.post("/assessment/targets", data={
        "csrf_token": csrf, "region": "14", "year": str(YEAR), "target_theory_pass_rate": "50"})
    assert response.status_code == 403
    with app_db.open_session(write=False) as s:
        assert s.scalar(select(func.count()).select_from(AssessmentTarget)) == 0


def _targets(**values):
    return {f"target_{k}": str(v) for k, v in values.items()}


def test_admin_sets_targets_and_freezes_snapshots(client, region):
    csrf = f.login(client, "root")
    page = client.get("/assessment", params={"region": "14", "year": YEAR})
    assert "Save targets" in page.text and 'value="mid-term"' in page.text
    assert 'name="csrf_token"' in page.text
    saved = client.post("/assessment/targets", data={
        "csrf_token": csrf, "region": "14", "year": str(YEAR),
        **_targets(workers_trained_annual=1, theory_pass_rate=90)}, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    assert saved.headers["location"] == "/assessment?region=14&year=2025"
    page = client.get(saved.headers["location"])
    assert "Targets saved." in page.text
    row = _row(page.text, "Workers who completed annual training hours")
    assert '<span class="met">Met</span>' in row
    assert 'value="90"' in page.text
    frozen = client.post("/assessment/snapshots", data={
        "csrf_token": csrf, "region": "14", "year": str(YEAR), "label": "final",
        "as_of": "2025-12-31"}, follow_redirects=False)
    assert frozen.status_code == 303, frozen.text
    page = client.get(frozen.headers["location"])
    assert "Snapshot final frozen as of 2025-12-31." in page.text
    assert "as of 2025-12-31" in page.text
    row = _row(page.text, "Workers who completed annual training hours")
    # this year's value, target, met, then the snapshot's value and target
    assert re.findall(r'<td class="num">([^<]*)</td>', row) == ["1", "1", "1", "1"]
    snapshot_id = client.get("/api/v1/assessment/snapshots", params={"region": "14"}).json()[
        "items"][0]["id"]
    assert f"snapshots={snapshot_id}" in page.text
    # an empty field clears the target (audited)
    client.post("/assessment/targets", data={
        "csrf_token": csrf, "region": "14", "year": str(YEAR),
        **_targets(workers_trained_annual="", theory_pass_rate=90)})
    with app_db.open_session(write=False) as s:
        actions = s.scalars(select(AuditEvent.action).where(
            AuditEvent.action.like("assessment.%")).order_by(AuditEvent.id)).all()
    assert actions == ["assessment.target_set", "assessment.target_set",
                       "assessment.snapshot_frozen", "assessment.target_cleared"]


@pytest.mark.parametrize(("data", "field", "message"), [
    (_targets(theory_pass_rate=120), "target_theory_pass_rate", "A percentage is at most 100."),
    (_targets(courses_completed="many"), "target_courses_completed", "Enter a number."),
    (_targets(courses_completed="2.5"), "target_courses_completed", "Enter a whole number."),
])
def test_bad_targets_are_shown_on_the_form(client, region, data, field, message):
    csrf = f.login(client, "root")
    response = client.post("/assessment/targets", data={
        "csrf_token": csrf, "region": "14", "year": str(YEAR),
        **_targets(hours_per_worker=10), **data})
    assert response.status_code == 400
    assert f'id="e-{field}" class="error">{message}' in response.text
    with app_db.open_session(write=False) as s:
        assert s.scalar(select(func.count()).select_from(AssessmentTarget)) == 0


@pytest.mark.parametrize(("data", "field"), [
    ({"label": "soon", "as_of": "2999-01-01"}, "as_of"),
    ({"label": "", "as_of": "2023-12-31"}, "label"),
    ({"label": "x", "as_of": "yesterday"}, "as_of"),
])
def test_bad_snapshots_are_shown_on_the_form(client, region, data, field):
    csrf = f.login(client, "root")
    response = client.post("/assessment/snapshots", data={
        "csrf_token": csrf, "region": "14", "year": str(YEAR), **data})
    assert response.status_code == 400
    assert f'id="e-{field}" class="error">' in response.text
    with app_db.open_session(write=False) as s:
        assert s.scalar(select(func.count()).select_from(AssessmentSnapshot)) == 0


def test_a_label_taken_is_shown_on_the_form(client, region):
    csrf = f.login(client, "root")
    body = {"csrf_token": csrf, "region": "14", "year": str(YEAR), "label": "mid-term",
            "as_of": "2023-12-31"}
    assert client.post("/assessment/snapshots", data=body,
                       follow_redirects=False).status_code == 303
    again = client.post("/assessment/snapshots", data=body)
    assert again.status_code == 400 and "already has a snapshot labelled mid-term" in again.text


def test_without_csrf_nothing_is_saved(client, region):
    f.login(client, "root")
    response = client.post("/assessment/targets", data={
        "region": "14", "year": str(YEAR), **_targets(theory_pass_rate=50)})
    assert response.status_code == 403
    with app_db.open_session(write=False) as s:
        assert s.scalar(select(func.count()).select_from(AssessmentTarget)) == 0


def test_chinese_page(client, region):
    f.login(client, "reg14")
    page = client.get("/assessment", params={"year": YEAR}, headers={"Accept-Language": "zh-CN"})
    assert page.status_code == 200
    assert "规划实施评估" in page.text and "理论考试合格率" in page.text
    assert "理论考试合格率 <small class=\"unit\">(%)</small>" in page.text


def test_home_and_navigation_link_to_the_page(client, region):
    for username in ("reg14", "root"):
        f.login(client, username)
        home = client.get("/")
        assert 'href="/assessment"' in home.text, username
