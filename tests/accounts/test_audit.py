"""The audit log: append-only in the database itself, and the admin page that searches it."""

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from app import db as app_db
from app.accounts.models import AuditEvent, Role
from tests import factories as f
from tests.conftest import IS_POSTGRES


def _read(fn):
    with app_db.open_session(write=False) as session:
        return fn(session)


def _one_event(db) -> int:
    event = AuditEvent(action="test.event", actor_name="someone", object_type="user",
                       object_id="1", detail={"k": "v"})
    db.add(event)
    db.commit()
    return event.id


# --- append-only --------------------------------------------------------------------------------

@pytest.mark.parametrize("statement", [
    "UPDATE audit_events SET action = 'forged' WHERE id = :id",
    "UPDATE audit_events SET detail = NULL",
    "DELETE FROM audit_events WHERE id = :id",
    "DELETE FROM audit_events",
])
def test_the_database_refuses_update_and_delete(db, statement):
    event_id = _one_event(db)
    with pytest.raises(DBAPIError, match="audit_events is append-only"):
        db.execute(text(statement), {"id": event_id})
    db.rollback()
    stored = _read(lambda s: s.get(AuditEvent, event_id))
    assert (stored.action, stored.detail) == ("test.event", {"k": "v"})
    assert _read(lambda s: s.scalar(select(func.count()).select_from(AuditEvent))) == 1


def test_the_orm_cannot_change_an_event_either(db):
    event_id = _one_event(db)
    event = db.get(AuditEvent, event_id)
    event.action = "forged"
    with pytest.raises(DBAPIError, match="audit_events is append-only"):
        db.commit()
    db.rollback()
    assert _read(lambda s: s.get(AuditEvent, event_id).action) == "test.event"


@pytest.mark.postgres_only
def test_postgres_refuses_truncate(db):
    event_id = _one_event(db)
    with pytest.raises(DBAPIError, match="audit_events is append-only"):
        db.execute(text("TRUNCATE audit_events"))
    db.rollback()
    assert _read(lambda s: s.get(AuditEvent, event_id)) is not None


def test_inserting_still_works_after_a_refusal(db):
    _one_event(db)
    with pytest.raises(DBAPIError):
        db.execute(text("DELETE FROM audit_events"))
    db.rollback()
    _one_event(db)
    assert _read(lambda s: s.scalar(select(func.count()).select_from(AuditEvent))) == 2


def test_guards_are_in_the_schema(db):
    if IS_POSTGRES:
        triggers = set(db.scalars(text(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = 'audit_events'::regclass "
            "AND NOT tgisinternal")))
        assert triggers == {"audit_events_no_change", "audit_events_no_truncate"}
    else:
        triggers = set(db.scalars(text(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_events'")))
        assert triggers == {"audit_events_no_update", "audit_events_no_delete"}
    db.rollback()


# --- what gets recorded ----------------------------------------------------------------------

def test_logins_are_recorded_with_who_and_where(client, db):
    user = f.user(db, Role.TRAINER, username="trainer1")
    db.commit()
    f.login(client, "trainer1")
    events = _read(lambda s: list(s.scalars(select(AuditEvent).order_by(AuditEvent.id))))
    assert [(e.action, e.actor_id, e.actor_name, e.object_id, e.ip) for e in events] == [
        ("login.succeeded", user.id, "trainer1", str(user.id), "testclient")]


# --- the admin search page --------------------------------------------------------------------

ROW = re.compile(r"<tr>\s*<td><time[^>]*>[^<]*</time></td>\s*<td>([^<]*)</td>\s*"
                 r"<td><code>([^<]*)</code></td>\s*<td>([^<]*)</td>")


def _rows(html: str) -> list[tuple[str, str, str]]:
    return [(who, action, obj.strip()) for who, action, obj in ROW.findall(html)]


def _at(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def history(db):
    """Events at known instants (Beijing time is UTC+8)."""
    rows = [
        (_at(2026, 1, 9, 15, 59), "alice", "user.created", "11"),      # 2026-01-09 23:59 CST
        (_at(2026, 1, 9, 16, 0), "bob", "user.roles_changed", "12"),    # 2026-01-10 00:00 CST
        (_at(2026, 1, 10, 12, 0), "alice", "user.deactivated", "13"),   # 2026-01-10 20:00 CST
        (_at(2026, 1, 10, 16, 30), "carol", "login.failed", "14"),      # 2026-01-11 00:30 CST
        (_at(2026, 2, 1, 8, 0), "bob", "login.succeeded", "15"),        # 2026-02-01 16:00 CST
    ]
    for when, who, action, obj in rows:
        db.add(AuditEvent(occurred_at=when, actor_name=who, action=action, object_type="user",
                          object_id=obj, ip="10.0.0.1", detail={"note": who}))
    db.commit()


@pytest.fixture
def auditor(client, db, history):
    f.user(db, Role.ADMIN, username="root")
    db.commit()
    f.login(client, "root")
    return client


def _search(client, **params) -> list[tuple[str, str, str]]:
    page = client.get("/admin/audit", params=params)
    assert page.status_code == 200
    return _rows(page.text)


def test_audit_page_lists_newest_first(auditor):
    page = auditor.get("/admin/audit")
    rows = _rows(page.text)
    assert rows[0][:2] == ("root", "login.succeeded")  # the admin's own sign-in, just now
    assert rows[1:] == [("bob", "login.succeeded", "user 15"), ("carol", "login.failed", "user 14"),
                        ("alice", "user.deactivated", "user 13"),
                        ("bob", "user.roles_changed", "user 12"),
                        ("alice", "user.created", "user 11")]
    assert "6 events" in page.text
    assert "note: alice" in page.text


def test_audit_search_by_user(auditor):
    assert _search(auditor, q="alice") == [("alice", "user.deactivated", "user 13"),
                                           ("alice", "user.created", "user 11")]
    assert _search(auditor, q="ALI") == _search(auditor, q="alice")
    assert _search(auditor, q="13") == [("alice", "user.deactivated", "user 13")]  # object id
    assert _search(auditor, q="nobody") == []
    assert "No events match." in auditor.get("/admin/audit", params={"q": "nobody"}).text


def test_audit_search_by_action(auditor):
    assert _search(auditor, action="user.roles_changed") == [
        ("bob", "user.roles_changed", "user 12")]
    # A prefix selects a family of actions.
    assert [r[1] for r in _search(auditor, action="user.")] == [
        "user.deactivated", "user.roles_changed", "user.created"]
    assert _search(auditor, action="login.failed", q="carol") == [
        ("carol", "login.failed", "user 14")]
    page = auditor.get("/admin/audit", params={"action": "login.failed"})
    assert '<option value="login.failed" selected>' in page.text


def test_audit_search_by_date_range_in_beijing_time(auditor):
    assert _search(auditor, **{"from": "2026-01-10", "to": "2026-01-10"}) == [
        ("alice", "user.deactivated", "user 13"), ("bob", "user.roles_changed", "user 12")]
    assert [r[2] for r in _search(auditor, **{"to": "2026-01-09"})] == ["user 11"]
    assert [r[2] for r in _search(auditor, **{"from": "2026-01-11", "to": "2026-01-31"})] == [
        "user 14"]
    assert [r[2] for r in _search(auditor, **{"from": "2026-01-10", "to": "2026-02-01"},
                                  q="bob")] == ["user 15", "user 12"]
    # A malformed date is ignored rather than an error.
    assert len(_search(auditor, **{"from": "10/01/2026"})) == 6


def test_audit_page_pagination(auditor):
    first = auditor.get("/admin/audit", params={"page_size": 4, "action": "user."})
    assert [r[2] for r in _rows(first.text)] == ["user 13", "user 12", "user 11"]
    first = auditor.get("/admin/audit", params={"page_size": 2})
    assert len(_rows(first.text)) == 2 and "Page 1 of 3" in first.text
    third = auditor.get("/admin/audit", params={"page_size": 2, "page": 3})
    assert _rows(third.text) == [("bob", "user.roles_changed", "user 12"),
                                 ("alice", "user.created", "user 11")]
