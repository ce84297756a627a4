"""Workers through the API: the roster list (masked ID numbers, paging, search, jurisdiction),
one worker, and setting a worker's password."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select, update

from app import db as app_db
from app.accounts.models import AuditEvent, Role, User
from app.organisations.models import Worker
from tests import factories as f

REQUIRED_FIELDS = {"id", "user_id", "full_name", "id_number_masked", "job_category",
                   "enterprise_id"}
MASKED = re.compile(r"[0-9]{6}\*{8}[0-9]{3}[0-9X]")


def _masked(id_number: str) -> str:
    return id_number[:6] + "********" + id_number[-4:]


@pytest.fixture
def roster(db):
    """Enterprise A (Taiyuan) with three workers, enterprise B (Ordos) with one, and staff."""
    a = f.enterprise(db, region="140105", name="Alpha Mine")
    b = f.enterprise(db, region="150602", name="Bravo Mine")
    workers = [
        f.worker(db, a, full_name="张三", birth=date(1980, 1, 1)),
        f.worker(db, a, full_name="李四", birth=date(1985, 2, 2),
                 job_category="coal.gas_inspection"),
        f.worker(db, a, full_name="王五", birth=date(1990, 3, 3)),
    ]
    outsider = f.worker(db, b, full_name="赵六", birth=date(1991, 4, 4))
    f.user(db, Role.ADMIN, username="root")
    f.user(db, Role.ENTERPRISE_ADMIN, username="a.admin", enterprise_id=a.id)
    f.user(db, Role.ENTERPRISE_ADMIN, username="b.admin", enterprise_id=b.id)
    for region in ("14", "1401", "1402", "15"):
        f.user(db, Role.REGULATOR, username=f"reg{region}", region_code=region)
    db.commit()
    return {"a": a, "b": b, "workers": workers, "outsider": outsider}


# --- GET /api/v1/enterprises/{id}/workers --------------------------------------------------

def test_roster_items_have_the_contract_fields_and_masked_ids(client, roster):
    response = client.get(f"/api/v1/enterprises/{roster['a'].id}/workers",
                          headers=f.token(client, "a.admin"))
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 3
    by_id = {w.id: w for w in roster["workers"]}
    assert {item["id"] for item in body["items"]} == set(by_id)
    for item in body["items"]:
        worker = by_id[item["id"]]
        assert REQUIRED_FIELDS <= item.keys()
        assert "id_number" not in item
        assert {k: item[k] for k in REQUIRED_FIELDS} == {
            "id": worker.id, "user_id": worker.user_id, "full_name": worker.full_name,
            "id_number_masked": _masked(worker.id_number), "job_category": worker.job_category,
            "enterprise_id": roster["a"].id}
        assert MASKED.fullmatch(item["id_number_masked"])
        assert worker.id_number not in response.text
    assert roster["outsider"].full_name not in response.text


def test_roster_pages(client, db, roster):
    for n in range(4):
        f.worker(db, roster["a"], full_name=f"Worker {n}", birth=date(1970, 1, 1 + n))
    db.commit()
    auth = f.token(client, "root")
    url = f"/api/v1/enterprises/{roster['a'].id}/workers"
    pages = [client.get(url, params={"page": p, "page_size": 3}, headers=auth).json()
             for p in (1, 2, 3)]
    assert [len(p["items"]) for p in pages] == [3, 3, 1]
    assert {p["total"] for p in pages} == {7}
    seen = [item["id"] for p in pages for item in p["items"]]
    assert len(seen) == len(set(seen)) == 7
    beyond = client.get(url, params={"page": 4, "page_size": 3}, headers=auth).json()
    assert beyond == {"items": [], "total": 7}
    assert client.get(url, params={"page": 0}, headers=auth).status_code == 422


def test_roster_search_by_name_and_id_prefix_and_category(client, roster):
    auth = f.token(client, "reg14")
    url = f"/api/v1/enterprises/{roster['a'].id}/workers"
    zhang, li, _wang = roster["workers"]

    def names(**params: str) -> tuple[list[str], int]:
        body = client.get(url, params=params, headers=auth).json()
        return [item["full_name"] for item in body["items"]], body["total"]

    assert names(q="李") == (["李四"], 1)
    assert names(q=zhang.id_number[:10]) == (["张三"], 1)  # 1401051980: region + birth year
    assert names(q=zhang.id_number) == (["张三"], 1)
    assert names(q=li.id_number[:14]) == (["李四"], 1)
    assert names(q=roster["outsider"].id_number[:10]) == ([], 0)
    assert names(q="赵") == ([], 0)  # B's worker is not in A's roster
    assert names(job_category="coal.gas_inspection") == (["李四"], 1)
    assert names(q="张", job_category="coal.gas_inspection") == ([], 0)


LIST_VIEWERS = {"root": 200, "a.admin": 200, "reg14": 200, "reg1401": 200,
                "reg1402": 404, "reg15": 404, "b.admin": 404}


@pytest.mark.parametrize("viewer", list(LIST_VIEWERS))
def test_roster_list_follows_jurisdiction(client, roster, viewer):
    response = client.get(f"/api/v1/enterprises/{roster['a'].id}/workers",
                          headers=f.token(client, viewer))
    assert response.status_code == LIST_VIEWERS[viewer]
    if response.status_code == 200:
        assert response.json()["total"] == 3
    else:
        assert "张三" not in response.text and "Alpha Mine" not in response.text


def test_a_worker_cannot_list_its_roster(client, roster):
    zhang = roster["workers"][0]
    response = client.get(f"/api/v1/enterprises/{roster['a'].id}/workers",
                          headers=f.token(client, zhang.id_number))
    assert response.status_code == 404
    assert "李四" not in response.text


# --- GET /api/v1/workers/{id} --------------------------------------------------------------

def test_a_worker_sees_itself_and_not_a_colleague(client, roster):
    zhang, li, _wang = roster["workers"]
    auth = f.token(client, zhang.id_number)
    own = client.get(f"/api/v1/workers/{zhang.id}", headers=auth)
    assert own.status_code == 200
    assert own.json()["full_name"] == "张三"
    assert own.json()["id_number_masked"] == _masked(zhang.id_number)
    colleague = client.get(f"/api/v1/workers/{li.id}", headers=auth)
    assert colleague.status_code == 404
    assert "李四" not in colleague.text


@pytest.mark.parametrize(("viewer", "status"), [("root", 200), ("a.admin", 200),
                                                ("reg14", 200), ("reg1402", 404),
                                                ("reg15", 404), ("b.admin", 404)])
def test_one_worker_follows_jurisdiction(client, roster, viewer, status):
    zhang = roster["workers"][0]
    response = client.get(f"/api/v1/workers/{zhang.id}", headers=f.token(client, viewer))
    assert response.status_code == status
    assert ("张三" in response.text) is (status == 200)


# --- PUT /api/v1/workers/{id}/password ----------------------------------------------------

def _password_hash(user_id: int) -> str | None:
    with app_db.open_session(write=False) as s:
        return s.get(User, user_id).password_hash


@pytest.mark.parametrize("setter", ["root", "a.admin"])
def test_admin_and_own_enterprise_admin_set_the_password(client, roster, setter):
    zhang = roster["workers"][0]
    old_token = f.token(client, zhang.id_number)
    response = client.put(f"/api/v1/workers/{zhang.id}/password",
                          json={"password": "pit-head-2026"}, headers=f.token(client, setter))
    assert response.status_code == 204
    assert response.content == b""
    # The worker's earlier token ended with the reset; the new password works with the ID.
    assert client.get("/api/v1/me", headers=old_token).status_code == 401
    assert client.post("/api/v1/auth/token", data={
        "username": zhang.id_number, "password": f.PASSWORD}).status_code == 401
    me = client.get("/api/v1/me", headers=f.token(client, zhang.id_number, "pit-head-2026"))
    assert me.json()["username"] == zhang.id_number
    with app_db.open_session(write=False) as s:
        events = s.scalars(select(AuditEvent).where(
            AuditEvent.action == "user.password_reset")).all()
        setter_id = s.scalar(select(User.id).where(User.username == setter))
    assert [(e.actor_id, e.object_type, e.object_id, e.enterprise_id) for e in events] == [
        (setter_id, "user", str(zhang.user_id), roster["a"].id)]


@pytest.mark.parametrize(("setter", "status"), [("b.admin", 404), ("reg15", 404),
                                                ("reg1402", 404), ("reg14", 403)])
def test_others_cannot_set_the_password(client, roster, setter, status):
    zhang = roster["workers"][0]
    before = _password_hash(zhang.user_id)
    response = client.put(f"/api/v1/workers/{zhang.id}/password",
                          json={"password": "pit-head-2026"}, headers=f.token(client, setter))
    assert response.status_code == status
    assert _password_hash(zhang.user_id) == before


def test_a_worker_cannot_set_its_own_password_here(client, roster):
    zhang = roster["workers"][0]
    before = _password_hash(zhang.user_id)
    response = client.put(f"/api/v1/workers/{zhang.id}/password",
                          json={"password": "pit-head-2026"},
                          headers=f.token(client, zhang.id_number))
    assert response.status_code == 403
    assert _password_hash(zhang.user_id) == before


def test_short_password_is_422_and_changes_nothing(client, roster):
    zhang = roster["workers"][0]
    before = _password_hash(zhang.user_id)
    response = client.put(f"/api/v1/workers/{zhang.id}/password", json={"password": "short"},
                          headers=f.token(client, "a.admin"))
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"loc": ["password"], "msg": "The password must have at least 8 characters."}]
    assert _password_hash(zhang.user_id) == before
    with app_db.open_session(write=False) as s:
        assert s.scalars(select(AuditEvent).where(
            AuditEvent.action == "user.password_reset")).all() == []


def test_unknown_worker_is_404(client, roster):
    response = client.put("/api/v1/workers/999999/password", json={"password": "pit-head-2026"},
                          headers=f.token(client, "root"))
    assert response.status_code == 404


def test_enterprise_admin_cannot_reset_a_worker_login_with_staff_roles(client, db, roster):
    """A worker profile whose login also holds a staff role: only an admin resets it."""
    promoted = f.user(db, Role.WORKER, Role.REGULATOR, username="dual", region_code="14",
                      enterprise_id=roster["a"].id)
    worker = roster["workers"][0]
    db.execute(update(Worker).where(Worker.id == worker.id).values(user_id=promoted.id))
    db.commit()
    before = _password_hash(promoted.id)
    refused = client.put(f"/api/v1/workers/{worker.id}/password",
                         json={"password": "pit-head-2026"}, headers=f.token(client, "a.admin"))
    assert refused.status_code == 403
    assert _password_hash(promoted.id) == before
    allowed = client.put(f"/api/v1/workers/{worker.id}/password",
                         json={"password": "pit-head-2026"}, headers=f.token(client, "root"))
    assert allowed.status_code == 204
    assert _password_hash(promoted.id) != before
