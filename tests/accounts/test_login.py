from datetime import date

import pytest
from sqlalchemy import select

from app import db as app_db
from app.accounts import deps
from app.accounts.models import AuditEvent, Role, WebSession
from app.accounts.security import token_digest
from app.organisations.validators import make_resident_id
from tests import factories as f


def test_login_page_has_csrf_and_fields(client):
    page = client.get("/login")
    assert page.status_code == 200
    assert 'name="username"' in page.text and 'name="password"' in page.text
    assert f.csrf_from(page.text)
    assert "Content-Security-Policy" in page.headers
    assert page.headers["X-Content-Type-Options"] == "nosniff"


def test_login_sets_httponly_samesite_cookie_and_home_shows_role(client, db):
    ent = f.enterprise(db)
    f.user(db, Role.ENTERPRISE_ADMIN, username="boss", enterprise_id=ent.id, full_name="Boss")
    db.commit()
    page = client.get("/login")
    response = client.post("/login", data={"username": "boss", "password": f.PASSWORD,
                                           "csrf_token": f.csrf_from(page.text)},
                           follow_redirects=False)
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert "pithead_session=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    home = client.get("/")
    assert "Hello, Boss" in home.text and ent.name in home.text


def test_login_without_csrf_is_refused_and_logs_nobody_in(client, db):
    f.user(db, Role.ADMIN, username="root")
    db.commit()
    response = client.post("/login", data={"username": "root", "password": f.PASSWORD},
                           follow_redirects=False)
    assert response.status_code == 403
    assert "pithead_session" not in response.headers.get("set-cookie", "")
    forged = client.post("/login", data={"username": "root", "password": f.PASSWORD,
                                         "csrf_token": "0" * 64}, follow_redirects=False)
    assert forged.status_code == 403
    assert client.get("/api/v1/me").status_code == 401


# --- helpers ------------------------------------------------------------------------------------

def _read(fn):
    """Run `fn(session)` in a short read transaction of its own (never holds a write lock)."""
    with app_db.open_session(write=False) as session:
        return fn(session)


def _session_rows(user_id: int) -> list[str]:
    return _read(lambda s: list(s.scalars(select(WebSession.token_hash)
                                          .where(WebSession.user_id == user_id))))


def _post_login(client, username: str, password: str = f.PASSWORD, next: str | None = None,
                csrf: str | None = None):
    data = {"username": username, "password": password,
            "csrf_token": csrf or f.csrf_from(client.get("/login").text)}
    if next is not None:
        data["next"] = next
    return client.post("/login", data=data, follow_redirects=False)


def _issued_session(response) -> str:
    lines = [c for c in response.headers.get_list("set-cookie")
             if c.startswith(deps.SESSION_COOKIE + "=")]
    assert len(lines) == 1, lines
    return lines[0].split(";")[0].split("=", 1)[1]


def _replay(make_client, token: str):
    browser = make_client()
    browser.cookies.set(deps.SESSION_COOKIE, token)
    return browser.get("/api/v1/me")


def _id_number_ending_in_x() -> str:
    for sequence in range(1000):
        number = make_resident_id(region="140105", birth=date(1988, 8, 8), sequence=sequence)
        if number.endswith("X"):
            return number
    raise AssertionError("no sequence gives the check character X")


# --- success, rotation, logout -----------------------------------------------------------------

def test_login_success_redirects_303_to_next_and_stores_only_the_token_hash(client, db):
    user = f.user(db, Role.ADMIN, username="root")
    db.commit()
    response = _post_login(client, "root", next="/admin/users?q=a")
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/users?q=a"
    token = client.cookies.get(deps.SESSION_COOKIE)
    assert token and len(token) >= 43  # 256 random bits, URL-safe base64
    assert _session_rows(user.id) == [token_digest(token)]
    assert client.get("/api/v1/me").json()["username"] == "root"


def test_login_cookie_attributes(client, db):
    f.user(db, Role.TRAINER, username="teach")
    db.commit()
    response = _post_login(client, "teach")
    cookies = [c for c in response.headers.get_list("set-cookie")
               if c.startswith(deps.SESSION_COOKIE + "=")]
    assert len(cookies) == 1
    attributes = {part.strip().split("=")[0].lower() for part in cookies[0].split(";")[1:]}
    assert {"httponly", "samesite", "path", "max-age"} <= attributes
    assert "SameSite=Lax" in cookies[0]
    assert "Max-Age=43200" in cookies[0]  # session_hours = 12
    assert "secure" not in attributes  # test env; production sets Secure (see middleware)


def test_session_rotates_when_another_user_signs_in_on_the_same_browser(client, db, make_client):
    a = f.user(db, Role.TRAINER, username="alice")
    b = f.user(db, Role.EXAMINER, username="bob")
    db.commit()
    csrf = f.login(client, "alice")
    token_a = client.cookies.get(deps.SESSION_COOKIE)
    assert _session_rows(a.id) == [token_digest(token_a)]
    # Signed in already: the login page redirects, so the form is posted with this session's token.
    assert client.get("/login", follow_redirects=False).status_code == 303
    response = _post_login(client, "bob", csrf=csrf)
    assert response.status_code == 303
    token_b = client.cookies.get(deps.SESSION_COOKIE)
    assert token_b != token_a
    assert _session_rows(a.id) == []  # alice's row is gone, not merely unused
    assert _session_rows(b.id) == [token_digest(token_b)]
    assert client.get("/api/v1/me").json()["username"] == "bob"
    assert _replay(make_client, token_a).status_code == 401


def test_planted_session_cookie_is_not_adopted_at_login(client, db):
    user = f.user(db, Role.TRAINER, username="victim")
    db.commit()
    planted = "attacker-chosen-value-" + "a" * 30
    client.cookies.set(deps.SESSION_COOKIE, planted)
    response = _post_login(client, "victim")
    assert response.status_code == 303
    issued = _issued_session(response)
    assert issued != planted
    assert _session_rows(user.id) == [token_digest(issued)]


def test_logout_ends_the_session_in_the_database(client, db, make_client):
    user = f.user(db, Role.TRAINER, username="leaver")
    db.commit()
    csrf = f.login(client, "leaver")
    old = client.cookies.get(deps.SESSION_COOKIE)
    other = make_client()
    f.login(other, "leaver")  # a second browser of the same user stays signed in
    assert len(_session_rows(user.id)) == 2
    response = client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    cleared = [c for c in response.headers.get_list("set-cookie")
               if c.startswith(deps.SESSION_COOKIE + "=")]
    assert len(cleared) == 1 and "Max-Age=0" in cleared[0]
    assert token_digest(old) not in _session_rows(user.id)
    assert len(_session_rows(user.id)) == 1
    assert _replay(make_client, old).status_code == 401
    assert other.get("/api/v1/me").status_code == 200
    assert "You are signed out." in client.get("/login").text


def test_logout_without_csrf_is_refused_and_keeps_the_session(client, db):
    user = f.user(db, Role.TRAINER, username="stay")
    db.commit()
    f.login(client, "stay")
    response = client.post("/logout", data={}, follow_redirects=False)
    assert response.status_code == 403
    assert len(_session_rows(user.id)) == 1
    assert client.get("/api/v1/me").status_code == 200


# --- refusals ----------------------------------------------------------------------------------

def test_wrong_password_rerenders_the_form_with_an_error_and_no_cookie(client, db):
    user = f.user(db, Role.TRAINER, username="typo")
    db.commit()
    response = _post_login(client, "typo", password="wrong-password", next="/admin/users")
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")
    assert "Wrong username or password." in response.text
    assert 'value="typo"' in response.text  # the username is kept
    assert 'value="/admin/users"' in response.text  # so is where to go afterwards
    assert 'value="wrong-password"' not in response.text
    assert not any(c.startswith(deps.SESSION_COOKIE + "=")
                   for c in response.headers.get_list("set-cookie"))
    assert _session_rows(user.id) == []
    assert client.get("/api/v1/me").status_code == 401


def test_unknown_user_gets_the_same_answer_as_a_wrong_password(client, db):
    f.user(db, Role.TRAINER, username="known")
    db.commit()
    unknown = _post_login(client, "nobody-here", password="wrong-password")
    wrong = _post_login(client, "known", password="wrong-password")
    assert unknown.status_code == wrong.status_code == 400
    assert "Wrong username or password." in unknown.text
    assert "Wrong username or password." in wrong.text


def test_inactive_user_cannot_sign_in_even_with_the_right_password(client, db):
    user = f.user(db, Role.TRAINER, username="gone", active=False)
    db.commit()
    response = _post_login(client, "gone")
    assert response.status_code == 400
    assert "Wrong username or password." in response.text
    assert _session_rows(user.id) == []
    api = client.post("/api/v1/auth/token", data={"username": "gone", "password": f.PASSWORD})
    assert api.status_code == 401
    reasons = _read(lambda s: list(s.scalars(
        select(AuditEvent.detail).where(AuditEvent.action == "login.failed")
        .order_by(AuditEvent.id))))
    assert [r["reason"] for r in reasons] == ["inactive", "inactive"]


@pytest.mark.parametrize("target", [
    "//evil.com", "https://evil.com", "http://evil.com/", "/\\evil.com", "\\\\evil.com",
    "//evil.com/%2F..", "javascript:alert(1)", "evil.com", "/\t/evil.com", " //evil.com",
])
def test_next_never_leaves_the_site(client, db, target):
    f.user(db, Role.TRAINER, username="safe")
    db.commit()
    response = _post_login(client, "safe", next=target)
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    # The login page does not echo it into its hidden field either.
    client.cookies.clear()
    page = client.get("/login", params={"next": target})
    assert 'name="next" value="/"' in page.text


def test_next_of_a_signed_in_user_visiting_the_login_page_is_checked_too(client, db):
    f.user(db, Role.TRAINER, username="already")
    db.commit()
    f.login(client, "already")
    away = client.get("/login", params={"next": "//evil.com"}, follow_redirects=False)
    assert away.status_code == 303 and away.headers["location"] == "/"
    onsite = client.get("/login", params={"next": "/admin/audit"}, follow_redirects=False)
    assert onsite.status_code == 303 and onsite.headers["location"] == "/admin/audit"


def test_worker_signs_in_with_the_id_number_lower_case_x_accepted(client, db):
    ent = f.enterprise(db)
    id_number = _id_number_ending_in_x()
    worker = f.user(db, Role.WORKER, username=id_number, enterprise_id=ent.id, full_name="李四")
    db.commit()
    response = _post_login(client, id_number[:17] + "x")
    assert response.status_code == 303
    me = client.get("/api/v1/me").json()
    assert me["id"] == worker.id and me["username"] == id_number
    token = client.post("/api/v1/auth/token", data={"username": " " + id_number.lower() + " ",
                                                     "password": f.PASSWORD})
    assert token.status_code == 200
