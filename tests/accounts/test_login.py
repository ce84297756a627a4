from app.accounts.models import Role
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
