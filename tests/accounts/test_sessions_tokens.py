"""Bearer tokens (stored hashed, expiring), /api/v1/me, session expiry, and ending every session
and token of a user at deactivation and password reset."""

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app import db as app_db
from app.accounts.models import ApiToken, AuditEvent, Role, WebSession
from app.accounts.security import token_digest
from app.db import utcnow
from tests import factories as f

PROBLEM = "application/problem+json"


def _read(fn):
    with app_db.open_session(write=False) as session:
        return fn(session)


def _rows(model, user_id: int) -> list:
    return _read(lambda s: list(s.scalars(select(model).where(model.user_id == user_id))))


def _assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["status"] == status and body["code"] == code
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    return body


# --- tokens ------------------------------------------------------------------------------------

def test_token_endpoint_returns_a_bearer_token_stored_only_as_its_hash(client, db):
    user = f.user(db, Role.TRAINER, username="api-user")
    db.commit()
    before = utcnow()
    response = client.post("/api/v1/auth/token",
                           data={"username": "api-user", "password": f.PASSWORD})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    raw = body["access_token"]
    assert len(raw) >= 43
    [row] = _rows(ApiToken, user.id)
    assert row.token_hash == token_digest(raw)
    assert raw not in row.token_hash
    assert timedelta(seconds=3599) <= row.expires_at - before <= timedelta(seconds=3605)
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"})
    assert me.status_code == 200 and me.json()["id"] == user.id


def test_token_endpoint_takes_a_form_not_json(client, db):
    f.user(db, Role.TRAINER, username="api-user")
    db.commit()
    response = client.post("/api/v1/auth/token",
                           json={"username": "api-user", "password": f.PASSWORD})
    body = _assert_problem(response, 422, "validation_error")
    assert {tuple(e["loc"]) for e in body["errors"]} == {("body", "username"),
                                                          ("body", "password")}


def test_bad_credentials_are_401_problem_json(client, db):
    f.user(db, Role.TRAINER, username="api-user")
    db.commit()
    response = client.post("/api/v1/auth/token",
                           data={"username": "api-user", "password": "wrong-password"})
    body = _assert_problem(response, 401, "invalid_credentials")
    assert body["detail"] == "Wrong username or password."
    assert response.headers["www-authenticate"] == "Bearer"
    assert "access_token" not in body


def test_expired_token_is_401_problem_json(client, db):
    user = f.user(db, Role.TRAINER, username="api-user")
    db.commit()
    headers = f.token(client, "api-user")
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    db.execute(update(ApiToken).where(ApiToken.user_id == user.id)
               .values(expires_at=utcnow() - timedelta(seconds=1)))
    db.commit()
    response = client.get("/api/v1/me", headers=headers)
    body = _assert_problem(response, 401, "not_authenticated")
    assert set(body) >= {"status", "title", "detail", "code"}


@pytest.mark.parametrize("header", [
    "Bearer not-a-real-token", "Bearer ", "Basic YWRtaW46cGFzc3dvcmQ=", "bearer",
])
def test_bad_authorization_headers_are_401(client, header):
    _assert_problem(client.get("/api/v1/me", headers={"Authorization": header}), 401,
                    "not_authenticated")


def test_an_invalid_bearer_token_does_not_fall_back_to_the_session_cookie(client, db):
    f.user(db, Role.TRAINER, username="both")
    db.commit()
    f.login(client, "both")
    assert client.get("/api/v1/me").status_code == 200
    response = client.get("/api/v1/me", headers={"Authorization": "Bearer forged"})
    _assert_problem(response, 401, "not_authenticated")


def test_anonymous_me_is_401_problem_json(client):
    _assert_problem(client.get("/api/v1/me"), 401, "not_authenticated")


def test_me_returns_exactly_the_fields_of_the_contract(client, db):
    ent = f.enterprise(db)
    user = f.user(db, Role.WORKER, Role.ENTERPRISE_ADMIN, username="two-hats",
                  enterprise_id=ent.id, full_name="王五")
    regulator = f.user(db, Role.REGULATOR, username="reg", region_code="14")
    db.commit()
    me = client.get("/api/v1/me", headers=f.token(client, "two-hats")).json()
    assert me == {"id": user.id, "username": "two-hats", "full_name": "王五",
                  "roles": ["enterprise_admin", "worker"], "enterprise_id": ent.id,
                  "region_code": None}
    me = client.get("/api/v1/me", headers=f.token(client, "reg")).json()
    assert me == {"id": regulator.id, "username": "reg", "full_name": "Test User",
                  "roles": ["regulator"], "enterprise_id": None, "region_code": "14"}


def test_expired_browser_session_is_refused(client, db):
    user = f.user(db, Role.TRAINER, username="sleepy")
    db.commit()
    f.login(client, "sleepy")
    db.execute(update(WebSession).where(WebSession.user_id == user.id)
               .values(expires_at=utcnow() - timedelta(seconds=1)))
    db.commit()
    _assert_problem(client.get("/api/v1/me"), 401, "not_authenticated")
    page = client.get("/admin/users", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"] == "/login?next=/admin/users"


# --- deactivation and password reset end everything ----------------------------------------

@pytest.fixture
def admin_browser(client, db):
    f.user(db, Role.ADMIN, username="root")
    db.commit()
    csrf = f.login(client, "root")
    return client, csrf


def _signed_in_everywhere(make_client, username: str):
    """A browser session and a bearer token of `username`."""
    browser = make_client()
    f.login(browser, username)
    return browser, f.token(browser, username)


def test_deactivation_ends_sessions_and_tokens_at_once(admin_browser, make_client, db):
    admin, csrf = admin_browser
    target = f.user(db, Role.TRAINER, username="target")
    db.commit()
    browser, bearer = _signed_in_everywhere(make_client, "target")
    second_browser, _bearer = _signed_in_everywhere(make_client, "target")
    assert len(_rows(WebSession, target.id)) == 2 and len(_rows(ApiToken, target.id)) == 2
    response = admin.post(f"/admin/users/{target.id}/active",
                          data={"active": "false", "csrf_token": csrf}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/admin/users/{target.id}"
    assert _rows(WebSession, target.id) == [] and _rows(ApiToken, target.id) == []
    _assert_problem(browser.get("/api/v1/me"), 401, "not_authenticated")
    _assert_problem(second_browser.get("/api/v1/me"), 401, "not_authenticated")
    _assert_problem(browser.get("/api/v1/me", headers=bearer), 401, "not_authenticated")
    # A deactivated user cannot come back in by signing in again.
    again = browser.post("/api/v1/auth/token", data={"username": "target", "password": f.PASSWORD})
    _assert_problem(again, 401, "invalid_credentials")
    assert admin.get("/api/v1/me").status_code == 200  # the admin's own session is untouched
    actions = _read(lambda s: list(s.scalars(select(AuditEvent.action)
                                             .where(AuditEvent.object_id == str(target.id))
                                             .order_by(AuditEvent.id))))
    assert "user.deactivated" in actions
    # Reactivation lets the user sign in again (with a new session).
    back = admin.post(f"/admin/users/{target.id}/active",
                      data={"active": "true", "csrf_token": csrf}, follow_redirects=False)
    assert back.status_code == 303
    assert browser.post("/api/v1/auth/token",
                        data={"username": "target", "password": f.PASSWORD}).status_code == 200


def test_an_admin_cannot_deactivate_themself(admin_browser):
    admin, csrf = admin_browser
    me = admin.get("/api/v1/me").json()
    response = admin.post(f"/admin/users/{me['id']}/active",
                          data={"active": "false", "csrf_token": csrf}, follow_redirects=False)
    assert response.status_code == 409
    assert "You cannot deactivate yourself." in response.text
    assert admin.get("/api/v1/me").status_code == 200


def test_password_reset_ends_sessions_and_tokens(admin_browser, make_client, db):
    admin, csrf = admin_browser
    target = f.user(db, Role.TRAINER, username="target")
    db.commit()
    browser, bearer = _signed_in_everywhere(make_client, "target")
    response = admin.post(f"/admin/users/{target.id}/password",
                          data={"password": "a-brand-new-secret", "csrf_token": csrf},
                          follow_redirects=False)
    assert response.status_code == 303
    assert _rows(WebSession, target.id) == [] and _rows(ApiToken, target.id) == []
    _assert_problem(browser.get("/api/v1/me"), 401, "not_authenticated")
    _assert_problem(browser.get("/api/v1/me", headers=bearer), 401, "not_authenticated")
    old = browser.post("/api/v1/auth/token", data={"username": "target", "password": f.PASSWORD})
    _assert_problem(old, 401, "invalid_credentials")
    new = browser.post("/api/v1/auth/token",
                       data={"username": "target", "password": "a-brand-new-secret"})
    assert new.status_code == 200
    events = _read(lambda s: list(s.scalars(select(AuditEvent)
                                            .where(AuditEvent.action == "user.password_reset"))))
    assert [(e.actor_name, e.object_id) for e in events] == [("root", str(target.id))]
    assert "a-brand-new-secret" not in str(events[0].detail)


def test_password_reset_clears_a_throttle_lock(admin_browser, make_client, db):
    admin, csrf = admin_browser
    target = f.user(db, Role.TRAINER, username="locked")
    db.commit()
    browser = make_client()
    for _ in range(10):
        browser.post("/api/v1/auth/token", data={"username": "locked", "password": "wrong-pass"})
    assert browser.post("/api/v1/auth/token",
                        data={"username": "locked", "password": f.PASSWORD}).status_code == 429
    admin.post(f"/admin/users/{target.id}/password",
               data={"password": "a-brand-new-secret", "csrf_token": csrf})
    assert browser.post("/api/v1/auth/token",
                        data={"username": "locked",
                              "password": "a-brand-new-secret"}).status_code == 200


def test_short_password_reset_is_refused_and_changes_nothing(admin_browser, make_client, db):
    admin, csrf = admin_browser
    target = f.user(db, Role.TRAINER, username="target")
    db.commit()
    browser, _bearer = _signed_in_everywhere(make_client, "target")
    response = admin.post(f"/admin/users/{target.id}/password",
                          data={"password": "short", "csrf_token": csrf}, follow_redirects=False)
    assert response.status_code == 400
    assert "The password must have at least 8 characters." in response.text
    assert len(_rows(WebSession, target.id)) == 1
    assert browser.get("/api/v1/me").status_code == 200
