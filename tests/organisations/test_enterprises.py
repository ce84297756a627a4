"""Enterprises: registering them (admin only, GB 32100 check character, region codes), reading
one and listing them within the caller's jurisdiction (API and the registration page)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app import db as app_db
from app.accounts.models import AuditEvent, Role
from app.organisations.models import Enterprise
from app.organisations.validators import make_credit_code
from tests import factories as f

CODE = make_credit_code(region="140100", org_seq=4242)


def _body(**overrides: object) -> dict[str, object]:
    return {"name": "Xishan Coal Power", "credit_code": CODE, "region_code": "140100",
            "mine_type": "coal", "above_designated_size": True, **overrides}


def _wrong_check(code: str) -> str:
    """The same code with a wrong final check character."""
    return code[:17] + ("0" if code[17] != "0" else "1")


def _counts() -> tuple[int, int]:
    """(enterprises, audit events) as the database has them now."""
    with app_db.open_session(write=False) as s:
        return (s.scalar(select(func.count()).select_from(Enterprise)) or 0,
                s.scalar(select(func.count()).select_from(AuditEvent)) or 0)


@pytest.fixture
def admin(client, db) -> dict[str, str]:
    f.user(db, Role.ADMIN, username="root")
    db.commit()
    return f.token(client, "root")


# --- POST /api/v1/enterprises -------------------------------------------------------------

def test_admin_registers_an_enterprise_with_the_short_region_code(client, admin):
    response = client.post("/api/v1/enterprises", json=_body(), headers=admin)
    assert response.status_code == 201, response.text
    created = response.json()
    assert isinstance(created["id"], int)
    assert created == {"id": created["id"], "name": "Xishan Coal Power", "credit_code": CODE,
                       "region_code": "1401", "mine_type": "coal",
                       "above_designated_size": True}
    assert client.get(f"/api/v1/enterprises/{created['id']}", headers=admin).json() == created
    with app_db.open_session(write=False) as s:
        row = s.get(Enterprise, created["id"])
        assert (row.region_code, row.credit_code) == ("1401", CODE)
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "enterprise.created")).one()
        assert (event.object_type, event.object_id, event.region_code) == (
            "enterprise", str(created["id"]), "1401")


def test_credit_code_is_stored_upper_case_and_trimmed(client, admin):
    code = make_credit_code(region="150602", org_seq=77)
    body = _body(credit_code=f"  {code.lower()} ", region_code="150602",
                 mine_type="metal_nonmetal", above_designated_size=False)
    response = client.post("/api/v1/enterprises", json=body, headers=admin)
    assert response.status_code == 201, response.text
    assert response.json()["credit_code"] == code
    assert response.json()["region_code"] == "150602"


def test_wrong_check_character_is_422_and_writes_nothing(client, admin):
    before = _counts()
    response = client.post("/api/v1/enterprises", json=_body(credit_code=_wrong_check(CODE)),
                           headers=admin)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 422 and problem["code"] == "validation_error"
    assert problem["errors"] == [{"loc": ["credit_code"],
                                  "msg": f"check character should be {CODE[17]}"}]
    assert _counts() == before


def test_every_bad_field_is_reported_at_once(client, admin):
    response = client.post("/api/v1/enterprises", headers=admin, json=_body(
        credit_code=_wrong_check(CODE), region_code="99"))
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"loc": ["credit_code"], "msg": f"check character should be {CODE[17]}"},
        {"loc": ["region_code"], "msg": "There is no province with code 99."},
    ]
    malformed = client.post("/api/v1/enterprises", json=_body(region_code="1401001"),
                            headers=admin)
    assert malformed.status_code == 422
    assert [e["loc"][-1] for e in malformed.json()["errors"]] == ["region_code"]
    bad_type = client.post("/api/v1/enterprises", json=_body(mine_type="gold"), headers=admin)
    assert bad_type.status_code == 422
    assert [e["loc"][-1] for e in bad_type.json()["errors"]] == ["mine_type"]
    assert _counts() == (0, 1)  # only the token's login event


def test_duplicate_credit_code_is_409(client, admin):
    assert client.post("/api/v1/enterprises", json=_body(), headers=admin).status_code == 201
    before = _counts()
    again = client.post("/api/v1/enterprises", json=_body(name="Another name"), headers=admin)
    assert again.status_code == 409
    assert again.json()["code"] == "credit_code_taken"
    assert _counts() == before


@pytest.mark.parametrize("role", [Role.REGULATOR, Role.ENTERPRISE_ADMIN, Role.WORKER,
                                  Role.TRAINER, Role.EXAMINER])
def test_only_admins_register_enterprises(client, db, role):
    ent = f.enterprise(db)
    f.user(db, role, username="someone", enterprise_id=ent.id, region_code="14")
    db.commit()
    before = _counts()
    response = client.post("/api/v1/enterprises", json=_body(),
                           headers=f.token(client, "someone"))
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert _counts()[0] == before[0]


def test_anonymous_cannot_register(client):
    response = client.post("/api/v1/enterprises", json=_body())
    assert response.status_code == 401
    assert _counts() == (0, 0)


# --- GET /api/v1/enterprises/{id}: jurisdiction ------------------------------------------

VIEWERS = {
    "admin": ((Role.ADMIN,), {}),
    "own enterprise_admin": ((Role.ENTERPRISE_ADMIN,), {"enterprise": "mine"}),
    "regulator 14": ((Role.REGULATOR,), {"region_code": "14"}),
    "regulator 1401": ((Role.REGULATOR,), {"region_code": "1401"}),
    "regulator 140105": ((Role.REGULATOR,), {"region_code": "140105"}),
    "regulator 1402": ((Role.REGULATOR,), {"region_code": "1402"}),
    "regulator 140106": ((Role.REGULATOR,), {"region_code": "140106"}),
    "regulator 15": ((Role.REGULATOR,), {"region_code": "15"}),
    "regulator without region": ((Role.REGULATOR,), {}),
    "other enterprise_admin": ((Role.ENTERPRISE_ADMIN,), {"enterprise": "other"}),
    "worker of the enterprise": ((Role.WORKER,), {"enterprise": "mine"}),
    "trainer": ((Role.TRAINER,), {}),
}
SEES_140105 = {"admin", "own enterprise_admin", "regulator 14", "regulator 1401",
               "regulator 140105"}


@pytest.mark.parametrize("viewer", list(VIEWERS))
def test_one_enterprise_is_visible_only_within_jurisdiction(client, db, viewer):
    mine = f.enterprise(db, region="140105", name="Taiyuan Xishan Mine")
    other = f.enterprise(db, region="150602", name="Ordos Mine")
    roles, scope = VIEWERS[viewer]
    enterprise_id = {"mine": mine.id, "other": other.id}.get(scope.get("enterprise", ""))
    f.user(db, *roles, username="viewer", enterprise_id=enterprise_id,
           region_code=scope.get("region_code"))
    db.commit()
    response = client.get(f"/api/v1/enterprises/{mine.id}", headers=f.token(client, "viewer"))
    if viewer in SEES_140105:
        assert response.status_code == 200, response.text
        assert response.json()["name"] == "Taiyuan Xishan Mine"
        assert response.json()["region_code"] == "140105"
    else:
        assert response.status_code == 404, response.text
        assert "Taiyuan Xishan Mine" not in response.text
        assert mine.credit_code not in response.text


def test_unknown_enterprise_is_404(client, admin):
    response = client.get("/api/v1/enterprises/424242", headers=admin)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


# --- GET /api/v1/enterprises: the same scope for lists -------------------------------------

LIST_EXPECTED = {
    "admin": ["Alpha", "Bravo", "Charlie", "Delta"],
    "regulator 14": ["Alpha", "Charlie", "Delta"],
    "regulator 1401": ["Alpha", "Delta"],
    "regulator 1402": ["Charlie"],
    "regulator 15": ["Bravo"],
    "own enterprise_admin": ["Alpha"],
    "worker of the enterprise": [],
}


@pytest.mark.parametrize("viewer", list(LIST_EXPECTED))
def test_list_is_scoped_like_the_detail(client, db, viewer):
    alpha = f.enterprise(db, region="140105", name="Alpha")
    f.enterprise(db, region="150602", name="Bravo")
    f.enterprise(db, region="140202", name="Charlie")
    f.enterprise(db, region="1401", name="Delta")
    roles, scope = VIEWERS[viewer]
    f.user(db, *roles, username="viewer", region_code=scope.get("region_code"),
           enterprise_id=alpha.id if scope.get("enterprise") else None)
    db.commit()
    response = client.get("/api/v1/enterprises", headers=f.token(client, "viewer"))
    assert response.status_code == 200
    body = response.json()
    assert [e["name"] for e in body["items"]] == LIST_EXPECTED[viewer]
    assert body["total"] == len(LIST_EXPECTED[viewer])


def test_list_pages_and_searches(client, db, admin):
    for name in ("Alpha", "Bravo", "Charlie", "Delta", "Echo"):
        f.enterprise(db, region="140105", name=name)
    db.commit()
    page2 = client.get("/api/v1/enterprises?page=2&page_size=2", headers=admin).json()
    assert [e["name"] for e in page2["items"]] == ["Charlie", "Delta"]
    assert page2["total"] == 5
    page3 = client.get("/api/v1/enterprises?page=3&page_size=2", headers=admin).json()
    assert [e["name"] for e in page3["items"]] == ["Echo"]
    search = client.get("/api/v1/enterprises?q=rav", headers=admin).json()
    assert ([e["name"] for e in search["items"]], search["total"]) == (["Bravo"], 1)
    assert client.get("/api/v1/enterprises?page_size=0", headers=admin).status_code == 422
    assert client.get("/api/v1/enterprises?page_size=201", headers=admin).status_code == 422


# --- the registration page ----------------------------------------------------------------

def test_registration_page_reports_a_bad_code_and_registers_a_good_one(client, db):
    f.user(db, Role.ADMIN, username="root")
    db.commit()
    csrf = f.login(client, "root")
    form = client.get("/enterprises/new")
    assert form.status_code == 200 and 'name="credit_code"' in form.text
    before = _counts()
    bad = client.post("/enterprises/new", data={
        "csrf_token": csrf, "name": "Xishan", "credit_code": _wrong_check(CODE),
        "region_code": "1401", "mine_type": "coal"}, follow_redirects=False)
    assert bad.status_code == 400
    assert f"check character should be {CODE[17]}" in bad.text
    assert _counts() == before
    good = client.post("/enterprises/new", data={
        "csrf_token": csrf, "name": "Xishan", "credit_code": CODE, "region_code": "1401",
        "mine_type": "coal", "above_designated_size": "on"}, follow_redirects=False)
    assert good.status_code == 303
    with app_db.open_session(write=False) as s:
        created = s.scalars(select(Enterprise)).one()
    assert good.headers["location"] == f"/enterprises/{created.id}"
    assert (created.name, created.region_code, created.above_designated_size) == (
        "Xishan", "1401", True)
    page = client.get(good.headers["location"])
    assert "Enterprise Xishan registered." in page.text


def test_registration_page_needs_csrf_and_admin(client, db):
    ent = f.enterprise(db)
    f.user(db, Role.ADMIN, username="root")
    f.user(db, Role.ENTERPRISE_ADMIN, username="boss", enterprise_id=ent.id)
    db.commit()
    f.login(client, "root")
    before = _counts()
    forged = client.post("/enterprises/new", data={
        "csrf_token": "0" * 64, "name": "Xishan", "credit_code": CODE, "region_code": "1401",
        "mine_type": "coal"}, follow_redirects=False)
    assert forged.status_code == 403
    assert _counts()[0] == before[0]
    csrf = f.login(client, "boss")
    assert client.get("/enterprises/new").status_code == 403
    refused = client.post("/enterprises/new", data={
        "csrf_token": csrf, "name": "Xishan", "credit_code": CODE, "region_code": "1401",
        "mine_type": "coal"}, follow_redirects=False)
    assert refused.status_code == 403
    assert _counts()[0] == before[0]
