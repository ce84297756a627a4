"""POST /api/v1/users: who may create whom, validation, and CSRF for cookie-authenticated calls."""

import pytest
from sqlalchemy import func, select

from app import db as app_db
from app.accounts.models import AuditEvent, Role, User
from app.accounts.security import verify_password
from tests import factories as f

PROBLEM = "application/problem+json"


def _read(fn):
    with app_db.open_session(write=False) as session:
        return fn(session)


def _user_count() -> int:
    return _read(lambda s: s.scalar(select(func.count()).select_from(User)))


def _stored(username: str) -> User | None:
    return _read(lambda s: s.scalar(select(User).where(User.username == username)))


def _body(**overrides):
    return {"username": "newbie", "password": "long-enough-pw", "full_name": "New Person",
            "roles": ["trainer"], **overrides}


@pytest.fixture
def admin(client, db):
    f.user(db, Role.ADMIN, username="root")
    db.commit()
    return f.token(client, "root")


@pytest.fixture
def boss(client, db):
    """An enterprise admin's bearer header, its enterprise and another enterprise."""
    own = f.enterprise(db, region="140105")
    other = f.enterprise(db, region="150102")
    f.user(db, Role.ENTERPRISE_ADMIN, username="boss", enterprise_id=own.id)
    db.commit()
    return f.token(client, "boss"), own, other


def _assert_validation(response, loc: list[str]) -> list[dict]:
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["status"] == 422 and body["code"] == "validation_error"
    assert body["title"] and body["detail"]
    assert all(set(e) == {"loc", "msg"} and e["msg"] for e in body["errors"])
    assert [e["loc"] for e in body["errors"]] == [loc]
    return body["errors"]


# --- admin ------------------------------------------------------------------------------------

@pytest.mark.parametrize("roles", [["admin"], ["trainer"], ["examiner", "trainer"], ["worker"]])
def test_admin_creates_any_role_and_gets_the_me_shape(client, admin, roles):
    response = client.post("/api/v1/users", json=_body(roles=roles), headers=admin)
    assert response.status_code == 201
    stored = _stored("newbie")
    assert response.json() == {"id": stored.id, "username": "newbie", "full_name": "New Person",
                               "roles": sorted(roles), "enterprise_id": None,
                               "region_code": None}
    assert verify_password(stored.password_hash, "long-enough-pw")
    assert "long-enough-pw" not in stored.password_hash
    # The new account works and /me agrees with the creation answer.
    me = client.get("/api/v1/me", headers=f.token(client, "newbie", "long-enough-pw")).json()
    assert me == response.json()


def test_admin_creates_an_enterprise_admin_and_a_regulator(client, db, admin):
    ent = f.enterprise(db)
    db.commit()
    boss = client.post("/api/v1/users", headers=admin, json=_body(
        username="ent-boss", roles=["enterprise_admin"], enterprise_id=ent.id))
    assert boss.status_code == 201
    assert boss.json()["enterprise_id"] == ent.id and boss.json()["roles"] == ["enterprise_admin"]
    regulator = client.post("/api/v1/users", headers=admin, json=_body(
        username="inspector", roles=["regulator"], region_code="140100"))
    assert regulator.status_code == 201
    assert regulator.json()["region_code"] == "1401"
    assert _stored("inspector").region_code == "1401"
    audit = _read(lambda s: list(s.scalars(select(AuditEvent).where(
        AuditEvent.action == "user.created").order_by(AuditEvent.id))))
    assert [(e.actor_name, e.detail["username"], e.detail["roles"]) for e in audit] == [
        ("root", "ent-boss", ["enterprise_admin"]), ("root", "inspector", ["regulator"])]


def test_admin_naming_a_missing_enterprise_gets_404(client, admin):
    response = client.post("/api/v1/users", headers=admin,
                           json=_body(roles=["enterprise_admin"], enterprise_id=999_999))
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert _stored("newbie") is None


def test_duplicate_username_is_409_username_taken(client, db, admin):
    f.user(db, Role.TRAINER, username="taken")
    db.commit()
    count = _user_count()
    response = client.post("/api/v1/users", json=_body(username="taken"), headers=admin)
    assert response.status_code == 409
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["code"] == "username_taken" and body["status"] == 409
    assert body["detail"] == "The username taken is taken."
    assert _user_count() == count


def test_duplicate_id_number_with_lower_case_x_is_409(client, db, admin):
    ent = f.enterprise(db)
    worker = f.worker(db, ent)
    db.commit()
    number = worker.id_number
    response = client.post("/api/v1/users", headers=admin, json=_body(
        username=number[:17] + ("x" if number.endswith("X") else number[17]), roles=["worker"],
        enterprise_id=ent.id))
    assert response.status_code == 409 and response.json()["code"] == "username_taken"


def test_short_password_is_422_with_located_errors(client, admin):
    errors = _assert_validation(
        client.post("/api/v1/users", json=_body(password="short"), headers=admin), ["password"])
    assert errors[0]["msg"] == "The password must have at least 8 characters."
    assert _stored("newbie") is None


def test_unknown_role_is_422(client, admin):
    errors = _assert_validation(
        client.post("/api/v1/users", json=_body(roles=["trainer", "overlord"]), headers=admin),
        ["roles"])
    assert errors[0]["msg"] == "Unknown role: overlord."
    assert _stored("newbie") is None


def test_regulator_without_region_is_422(client, admin):
    errors = _assert_validation(
        client.post("/api/v1/users", json=_body(roles=["regulator"]), headers=admin),
        ["region_code"])
    assert errors[0]["msg"] == "A regulator needs a region."


def test_enterprise_admin_without_enterprise_is_422(client, admin):
    _assert_validation(
        client.post("/api/v1/users", json=_body(roles=["enterprise_admin"]), headers=admin),
        ["enterprise_id"])


@pytest.mark.parametrize(("region", "msg"), [
    ("99", "There is no province with code 99."),
    ("990100", "There is no province with code 99."),
    ("14010", "A region code has 2, 4 or 6 digits (GB/T 2260), for example 14 or 140100."),
    ("abc", "A region code has 2, 4 or 6 digits (GB/T 2260), for example 14 or 140100."),
    # Well-formed codes of an existing province that name no division.
    ("149999", "There is no region with code 149999 in GB/T 2260."),
    ("1499", "There is no region with code 149900 in GB/T 2260."),
    ("149900", "There is no region with code 149900 in GB/T 2260."),
    ("110100", "There is no region with code 110100 in GB/T 2260."),  # "市辖区" names no place
])
def test_bad_region_is_422(client, admin, region, msg):
    errors = _assert_validation(
        client.post("/api/v1/users", json=_body(roles=["regulator"], region_code=region),
                    headers=admin), ["region_code"])
    assert errors[0]["msg"] == msg
    assert _stored("newbie") is None


def test_malformed_body_is_422_with_pydantic_locations(client, admin):
    response = client.post("/api/v1/users", headers=admin,
                           json={"username": "", "password": "long-enough-pw", "roles": [],
                                 "surprise": 1})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_error"
    assert {tuple(e["loc"]) for e in body["errors"]} == {
        ("body", "username"), ("body", "roles"), ("body", "surprise")}


# --- enterprise admin -------------------------------------------------------------------------

def test_enterprise_admin_creates_workers_of_its_own_enterprise_only(client, boss):
    headers, own, _other = boss
    response = client.post("/api/v1/users", headers=headers,
                           json=_body(username="w1", roles=["worker"]))
    assert response.status_code == 201
    assert response.json()["enterprise_id"] == own.id  # forced, not left empty
    explicit = client.post("/api/v1/users", headers=headers, json=_body(
        username="w2", roles=["worker"], enterprise_id=own.id, region_code="14"))
    assert explicit.status_code == 201
    assert explicit.json()["enterprise_id"] == own.id
    assert explicit.json()["region_code"] is None  # a worker gets no regulator scope


@pytest.mark.parametrize("roles", [["trainer"], ["admin"], ["enterprise_admin"],
                                   ["worker", "examiner"], ["regulator"]])
def test_enterprise_admin_may_not_create_other_roles(client, boss, roles):
    headers, own, _other = boss
    count = _user_count()
    response = client.post("/api/v1/users", headers=headers, json=_body(
        roles=roles, enterprise_id=own.id, region_code="14"))
    assert response.status_code == 403
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["code"] == "forbidden"
    assert response.json()["detail"] == "You may only create worker accounts."
    assert _user_count() == count


def test_enterprise_admin_may_not_create_workers_of_another_enterprise(client, boss):
    headers, _own, other = boss
    response = client.post("/api/v1/users", headers=headers,
                           json=_body(roles=["worker"], enterprise_id=other.id))
    assert response.status_code == 403
    assert response.json()["detail"] == "You may only create accounts for your own enterprise."
    assert _stored("newbie") is None


@pytest.mark.parametrize("role", [Role.TRAINER, Role.EXAMINER, Role.REGULATOR, Role.WORKER])
def test_other_roles_may_not_create_users(client, db, role):
    ent = f.enterprise(db)
    f.user(db, role, username="someone", enterprise_id=ent.id, region_code="14")
    db.commit()
    response = client.post("/api/v1/users", headers=f.token(client, "someone"),
                           json=_body(roles=["worker"], enterprise_id=ent.id))
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert _stored("newbie") is None


def test_anonymous_may_not_create_users(client):
    response = client.post("/api/v1/users", json=_body())
    assert response.status_code == 401 and response.json()["code"] == "not_authenticated"


# --- CSRF on cookie-authenticated API writes --------------------------------------------------

def test_cookie_authenticated_api_write_needs_the_csrf_header(client, db, make_client):
    f.user(db, Role.ADMIN, username="root")
    f.user(db, Role.ADMIN, username="other-admin")
    db.commit()
    csrf = f.login(client, "root")
    bare = client.post("/api/v1/users", json=_body())
    assert bare.status_code == 403
    assert bare.headers["content-type"] == PROBLEM
    assert bare.json()["code"] == "csrf_failed"
    assert _stored("newbie") is None
    # A token that belongs to another browser's session is no good either.
    foreign = f.login(make_client(), "other-admin")
    assert foreign != csrf
    crossed = client.post("/api/v1/users", json=_body(), headers={"X-CSRF-Token": foreign})
    assert crossed.status_code == 403 and crossed.json()["code"] == "csrf_failed"
    # Nor is a token in the JSON body or the query string: only the header counts.
    in_body = client.post("/api/v1/users", json={**_body(), "csrf_token": csrf})
    assert in_body.status_code == 403 and in_body.json()["code"] == "csrf_failed"
    in_query = client.post("/api/v1/users", json=_body(), params={"csrf_token": csrf})
    assert in_query.status_code == 403 and in_query.json()["code"] == "csrf_failed"
    assert _stored("newbie") is None
    good = client.post("/api/v1/users", json=_body(), headers={"X-CSRF-Token": csrf})
    assert good.status_code == 201 and good.json()["username"] == "newbie"


def test_cookie_authenticated_api_reads_need_no_csrf(client, db):
    f.user(db, Role.TRAINER, username="reader")
    db.commit()
    f.login(client, "reader")
    assert client.get("/api/v1/me").status_code == 200


def test_bearer_authenticated_api_write_needs_no_csrf(client, admin):
    response = client.post("/api/v1/users", json=_body(), headers=admin)
    assert response.status_code == 201


@pytest.mark.parametrize(("given", "stored"), [
    ("140105", "140105"), ("140100", "1401"), ("1401", "1401"), ("140000", "14"),
    ("110101", "110101"), ("419001", "419001"), (" 5002 ", None),
])
def test_any_listed_division_is_accepted_in_long_or_short_form(client, admin, given, stored):
    response = client.post("/api/v1/users", headers=admin,
                           json=_body(roles=["regulator"], region_code=given))
    if stored is None:  # 5002 (重庆 "县") is a pseudo-entry of the standard, not a place
        assert response.status_code == 422
        assert _stored("newbie") is None
    else:
        assert response.status_code == 201, response.text
        assert response.json()["region_code"] == stored
