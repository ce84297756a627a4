"""Admin pages for users: list (search, role filter, pages), create, edit roles, permissions."""

import re

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app import db as app_db
from app.accounts.models import AuditEvent, Role, User
from tests import factories as f

ROW = re.compile(r'<td><a href="/admin/users/(\d+)">([^<]+)</a></td>')


def _read(fn):
    with app_db.open_session(write=False) as session:
        return fn(session)


def _listed(html: str) -> list[str]:
    return [name for _id, name in ROW.findall(html)]


def _counts() -> tuple[int, int]:
    return _read(lambda s: (s.scalar(select(func.count()).select_from(User)),
                            s.scalar(select(func.count()).select_from(AuditEvent)
                                     .where(AuditEvent.action.like("user.%")))))


def _stored(username: str) -> User | None:
    return _read(lambda s: s.scalar(select(User).where(User.username == username)
                                    .options(selectinload(User.roles))))


@pytest.fixture
def admin(client, db):
    """A signed-in admin browser and its CSRF token."""
    f.user(db, Role.ADMIN, username="root", full_name="Root Admin")
    db.commit()
    return f.login(client, "root")


# --- list ---------------------------------------------------------------------------------------

@pytest.fixture
def people(db):
    ent = f.enterprise(db)
    f.user(db, Role.TRAINER, username="trainer.zhang", full_name="张伟")
    f.user(db, Role.TRAINER, Role.EXAMINER, username="trainer.li", full_name="李娜")
    f.user(db, Role.EXAMINER, username="exam.wang", full_name="王芳")
    f.user(db, Role.REGULATOR, username="reg.zhao", full_name="赵强", region_code="14")
    f.user(db, Role.ENTERPRISE_ADMIN, username="boss.liu", full_name="刘洋", enterprise_id=ent.id)
    f.user(db, Role.TRAINER, username="old.trainer", full_name="Old", active=False)
    db.commit()


def test_users_list_shows_everyone_sorted_by_username(client, admin, people):
    page = client.get("/admin/users")
    assert page.status_code == 200
    assert _listed(page.text) == ["boss.liu", "exam.wang", "old.trainer", "reg.zhao", "root",
                                  "trainer.li", "trainer.zhang"]
    assert "7 users" in page.text
    assert "Examiner, Trainer" in page.text  # roles by their labels
    assert "Deactivated" in page.text


def test_users_list_search_matches_username_and_full_name(client, admin, people):
    assert _listed(client.get("/admin/users", params={"q": "trainer"}).text) == [
        "old.trainer", "trainer.li", "trainer.zhang"]
    assert _listed(client.get("/admin/users", params={"q": "TRAINER.Z"}).text) == [
        "trainer.zhang"]
    by_name = client.get("/admin/users", params={"q": "王芳"})
    assert _listed(by_name.text) == ["exam.wang"]
    assert "1 user" in by_name.text
    nothing = client.get("/admin/users", params={"q": "nobody"})
    assert _listed(nothing.text) == [] and "No users match." in nothing.text


def test_users_list_role_filter_and_search_combine(client, admin, people):
    assert _listed(client.get("/admin/users", params={"role": "examiner"}).text) == [
        "exam.wang", "trainer.li"]
    assert _listed(client.get("/admin/users", params={"role": "trainer"}).text) == [
        "old.trainer", "trainer.li", "trainer.zhang"]
    assert _listed(client.get("/admin/users",
                              params={"role": "trainer", "q": "li"}).text) == ["trainer.li"]
    page = client.get("/admin/users", params={"role": "regulator"})
    assert _listed(page.text) == ["reg.zhao"]
    assert '<option value="regulator" selected>' in page.text


def test_users_list_pagination(client, admin, people):
    first = client.get("/admin/users", params={"page_size": 3})
    assert _listed(first.text) == ["boss.liu", "exam.wang", "old.trainer"]
    assert "Page 1 of 3" in first.text
    assert 'href="?page=2&amp;page_size=3" rel="next"' in first.text
    assert 'rel="prev"' not in first.text
    third = client.get("/admin/users", params={"page_size": 3, "page": 3})
    assert _listed(third.text) == ["trainer.zhang"]
    assert "Page 3 of 3" in third.text and 'rel="next"' not in third.text
    filtered = client.get("/admin/users", params={"page_size": 2, "page": 2, "q": "trainer"})
    assert _listed(filtered.text) == ["trainer.zhang"]
    assert 'href="?q=trainer&amp;page=1&amp;page_size=2" rel="prev"' in filtered.text
    past_the_end = client.get("/admin/users", params={"page_size": 3, "page": 9})
    assert past_the_end.status_code == 200 and _listed(past_the_end.text) == []


def test_users_list_rejects_bad_paging(client, admin):
    assert client.get("/admin/users", params={"page": 0}).status_code == 400
    assert client.get("/admin/users", params={"page_size": 10_000}).status_code == 400


# --- create ---------------------------------------------------------------------------------------

def test_create_user_form(client, db, admin):
    ent = f.enterprise(db, name="Hongtai Coal")
    db.commit()
    form = client.get("/admin/users/new")
    assert form.status_code == 200
    for name in ("username", "password", "full_name", "roles", "enterprise_id", "region_code",
                 "csrf_token"):
        assert f'name="{name}"' in form.text
    assert f'<option value="{ent.id}" >Hongtai Coal</option>' in form.text
    response = client.post("/admin/users/new", data={
        "csrf_token": admin, "username": "new.boss", "password": "long-enough-pw",
        "full_name": "New Boss", "roles": ["enterprise_admin", "worker"],
        "enterprise_id": str(ent.id), "region_code": ""}, follow_redirects=False)
    assert response.status_code == 303
    stored = _stored("new.boss")
    assert response.headers["location"] == f"/admin/users/{stored.id}"
    assert (stored.full_name, stored.role_names, stored.enterprise_id, stored.region_code) == (
        "New Boss", ["enterprise_admin", "worker"], ent.id, None)
    follow = client.get(response.headers["location"])
    assert "User new.boss created." in follow.text


def test_create_regulator_normalises_the_region(client, admin):
    response = client.post("/admin/users/new", data={
        "csrf_token": admin, "username": "inspector", "password": "long-enough-pw",
        "roles": "regulator", "region_code": "140100"}, follow_redirects=False)
    assert response.status_code == 303
    assert _stored("inspector").region_code == "1401"


@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"password": "short"}, "password", "The password must have at least 8 characters."),
    ({"roles": None}, "roles", "Choose at least one."),
    ({"roles": "overlord"}, "roles", "Unknown role: overlord."),
    ({"roles": "regulator"}, "region_code", "A regulator needs a region."),
    ({"roles": "regulator", "region_code": "99"}, "region_code",
     "There is no province with code 99."),
    ({"roles": "regulator", "region_code": "149999"}, "region_code",
     "There is no region with code 149999 in GB/T 2260."),
    ({"roles": "enterprise_admin"}, "enterprise_id",
     "An enterprise administrator needs an enterprise."),
    ({"username": ""}, "username", "This field is required."),
])
def test_create_user_bad_input_rerenders_400_and_writes_nothing(client, admin, fields, field,
                                                                 message):
    data = {"csrf_token": admin, "username": "newbie", "password": "long-enough-pw",
            "full_name": "Kept Name", "roles": "trainer", **fields}
    data = {k: v for k, v in data.items() if v is not None}
    before = _counts()
    response = client.post("/admin/users/new", data=data, follow_redirects=False)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")
    # The message sits next to its field.
    if field in ("username", "password", "region_code"):
        assert f'<small id="e-{field}" class="error">{message}</small>' in response.text
    else:
        assert f'<small class="error">{message}</small>' in response.text
    assert 'value="Kept Name"' in response.text  # what was typed comes back
    assert 'value="long-enough-pw"' not in response.text  # except the password
    assert _counts() == before


def test_create_user_with_a_taken_username_rerenders_and_writes_nothing(client, db, admin):
    f.user(db, Role.TRAINER, username="taken")
    db.commit()
    before = _counts()
    response = client.post("/admin/users/new", data={
        "csrf_token": admin, "username": "taken", "password": "long-enough-pw",
        "roles": "trainer"}, follow_redirects=False)
    assert response.status_code == 409
    assert "The username taken is taken." in response.text
    assert 'name="username"' in response.text
    assert _counts() == before


# --- edit ---------------------------------------------------------------------------------------

def test_edit_roles_is_audited_with_before_and_after(client, db, admin):
    target = f.user(db, Role.TRAINER, username="promote-me", full_name="Someone")
    db.commit()
    form = client.get(f"/admin/users/{target.id}")
    assert form.status_code == 200
    assert 'name="roles" value="trainer" checked' in form.text
    response = client.post(f"/admin/users/{target.id}", data={
        "csrf_token": admin, "full_name": "Someone Else", "roles": ["examiner", "trainer"],
        "region_code": "", "enterprise_id": ""}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/admin/users/{target.id}"
    stored = _stored("promote-me")
    assert stored.role_names == ["examiner", "trainer"] and stored.full_name == "Someone Else"
    events = _read(lambda s: list(s.scalars(select(AuditEvent).where(
        AuditEvent.action == "user.roles_changed"))))
    assert len(events) == 1
    event = events[0]
    assert (event.actor_name, event.object_type, event.object_id) == (
        "root", "user", str(target.id))
    assert event.detail == {"username": "promote-me", "before": ["trainer"],
                            "after": ["examiner", "trainer"]}
    # Saving without a role change writes no role event.
    client.post(f"/admin/users/{target.id}", data={
        "csrf_token": admin, "full_name": "Renamed", "roles": ["trainer", "examiner"]})
    assert _read(lambda s: s.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "user.roles_changed"))) == 1
    assert _stored("promote-me").full_name == "Renamed"


def test_edit_with_bad_input_rerenders_and_changes_nothing(client, db, admin):
    target = f.user(db, Role.TRAINER, username="keep-me", full_name="Original")
    db.commit()
    before = _counts()
    response = client.post(f"/admin/users/{target.id}", data={
        "csrf_token": admin, "full_name": "Changed", "roles": "regulator"},
        follow_redirects=False)
    assert response.status_code == 400
    assert "A regulator needs a region." in response.text
    stored = _stored("keep-me")
    assert (stored.full_name, stored.role_names) == ("Original", ["trainer"])
    assert _counts() == before


def test_unknown_user_is_a_friendly_404(client, admin):
    page = client.get("/admin/users/999999")
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "No such user." in page.text and "Back to the home page" in page.text


# --- who may see the admin pages ----------------------------------------------------------

ADMIN_PAGES = ["/admin/users", "/admin/users/new", "/admin/audit"]


@pytest.mark.parametrize("role", [Role.TRAINER, Role.REGULATOR, Role.ENTERPRISE_ADMIN,
                                  Role.EXAMINER, Role.WORKER])
def test_non_admins_get_a_friendly_403_page(client, db, role):
    ent = f.enterprise(db)
    target = f.user(db, Role.TRAINER, username="target")
    f.user(db, role, username="nosy", enterprise_id=ent.id, region_code="14")
    db.commit()
    csrf = f.login(client, "nosy")
    for path in [*ADMIN_PAGES, f"/admin/users/{target.id}"]:
        page = client.get(path)
        assert page.status_code == 403, path
        assert page.headers["content-type"].startswith("text/html")
        assert "<html" in page.text
        assert "Your role does not allow this." in page.text
        assert "If you think you should have access, ask your administrator." in page.text
    # Writes are refused the same way and change nothing.
    post = client.post(f"/admin/users/{target.id}/active",
                       data={"active": "false", "csrf_token": csrf})
    assert post.status_code == 403
    assert _stored("target").is_active is True


@pytest.mark.parametrize("path", [*ADMIN_PAGES, "/admin/users?q=li&role=trainer"])
def test_anonymous_is_sent_to_login_and_back(client, db, path):
    f.user(db, Role.ADMIN, username="root")
    db.commit()
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith("/login?next=")
    login_page = client.get(location)
    csrf = f.csrf_from(login_page.text)
    form = login_page.text.split('action="/login"', 1)[1]
    next_value = re.search(r'name="next" value="([^"]+)"', form).group(1)
    assert next_value == path.replace("&", "&amp;")
    done = client.post("/login", data={"username": "root", "password": f.PASSWORD,
                                       "csrf_token": csrf, "next": path},
                       follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == path
