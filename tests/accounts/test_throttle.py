"""Per-account login throttling: 10 consecutive failures, then 429 + Retry-After with a
doubling back-off capped at 15 minutes; never a permanent lock, never keyed on the IP."""

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app import db as app_db
from app.accounts.models import AuditEvent, LoginThrottle, Role
from app.accounts.service import FIRST_BACKOFF_SECONDS, MAX_BACKOFF_SECONDS
from app.db import utcnow
from tests import factories as f

WRONG = "not-the-password"


def _throttle(username: str) -> LoginThrottle | None:
    with app_db.open_session(write=False) as session:
        return session.get(LoginThrottle, username)


def _lock_seconds(row: LoginThrottle) -> float:
    assert row.locked_until is not None and row.last_failure_at is not None
    return (row.locked_until - row.last_failure_at).total_seconds()


def _api(client, username: str, password: str):
    return client.post("/api/v1/auth/token", data={"username": username, "password": password})


def _page(client, username: str, password: str):
    page = client.get("/login")
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": f.csrf_from(page.text)},
                       follow_redirects=False)


def _fail(client, username: str, times: int, *, via=_api) -> None:
    expected = 401 if via is _api else 400
    for attempt in range(times):
        response = via(client, username, WRONG)
        assert response.status_code == expected, (attempt, response.text)


def _wait_out(db, username: str) -> None:
    """Simulate the passing of time: the lock ends a second ago."""
    db.execute(update(LoginThrottle).where(LoginThrottle.username == username)
               .values(locked_until=utcnow() - timedelta(seconds=1)))
    db.commit()


def _arrange(db, username: str, failures: int) -> None:
    """Start from `failures` earlier consecutive failures (each real one costs an argon2 hash)."""
    db.add(LoginThrottle(username=username, failures=failures, last_failure_at=utcnow()))
    db.commit()


@pytest.fixture
def miner(db):
    user = f.user(db, Role.TRAINER, username="miner")
    db.commit()
    return user


@pytest.mark.parametrize("via", [_api, _page], ids=["api", "page"])
def test_each_failure_is_counted_and_kept_although_the_request_fails(client, miner, via):
    assert _throttle("miner") is None
    _fail(client, "miner", 1, via=via)
    row = _throttle("miner")
    assert row is not None and row.failures == 1 and row.locked_until is None
    _fail(client, "miner", 1, via=via)
    row = _throttle("miner")
    assert row.failures == 2 and row.locked_until is None


def test_tenth_failure_locks_and_the_eleventh_try_gets_429_even_with_the_right_password(
        client, db, miner):
    _arrange(db, "miner", 8)
    _fail(client, "miner", 1)
    assert _throttle("miner").failures == 9
    assert _api(client, "miner", f.PASSWORD).status_code == 200  # 9 failures: still let in
    assert _throttle("miner") is None  # and success resets the count
    _fail(client, "miner", 10)
    row = _throttle("miner")
    assert row.failures == 10
    assert _lock_seconds(row) == FIRST_BACKOFF_SECONDS == 30
    refused = _api(client, "miner", f.PASSWORD)
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    assert 1 <= int(refused.headers["retry-after"]) <= 30
    body = refused.json()
    assert body["status"] == 429 and body["code"] == "too_many_requests"
    assert body["retry_after"] == int(refused.headers["retry-after"])
    # Refused tries do not count and do not extend the lock.
    assert _throttle("miner").failures == 10
    assert _throttle("miner").locked_until == row.locked_until


def test_the_login_page_answers_429_with_retry_after_and_the_form(client, miner):
    _fail(client, "miner", 10, via=_page)
    refused = _page(client, "miner", f.PASSWORD)
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 30
    assert refused.headers["content-type"].startswith("text/html")
    assert "Too many failed logins for this account." in refused.text
    assert 'name="password"' in refused.text
    assert "pithead_session" not in refused.headers.get("set-cookie", "")


def test_after_the_wait_the_right_password_works_and_the_count_resets(client, db, miner):
    _arrange(db, "miner", 9)
    _fail(client, "miner", 1)
    assert _api(client, "miner", f.PASSWORD).status_code == 429
    _wait_out(db, "miner")
    assert _api(client, "miner", f.PASSWORD).status_code == 200
    assert _throttle("miner") is None
    # A fresh count: one failure does not lock again.
    _fail(client, "miner", 1)
    assert _throttle("miner").failures == 1 and _throttle("miner").locked_until is None


def test_back_off_doubles_per_further_failure_and_is_capped_at_15_minutes(client, db, miner):
    _arrange(db, "miner", 9)
    _fail(client, "miner", 1)
    first = _lock_seconds(_throttle("miner"))
    _wait_out(db, "miner")
    _fail(client, "miner", 1)  # the 11th consecutive failure
    second = _lock_seconds(_throttle("miner"))
    assert (first, second) == (30, 60)
    retry = int(_api(client, "miner", f.PASSWORD).headers["retry-after"])
    assert 30 < retry <= 60
    _wait_out(db, "miner")
    _fail(client, "miner", 1)
    assert _lock_seconds(_throttle("miner")) == 120
    # Many failures later the wait stops growing.
    db.execute(update(LoginThrottle).where(LoginThrottle.username == "miner")
               .values(failures=60, locked_until=utcnow() - timedelta(seconds=1)))
    db.commit()
    _fail(client, "miner", 1)
    row = _throttle("miner")
    assert row.failures == 61
    assert _lock_seconds(row) == MAX_BACKOFF_SECONDS == 15 * 60
    retry = int(_api(client, "miner", f.PASSWORD).headers["retry-after"])
    assert 60 < retry <= 900
    # Never a permanent lock: even then, after the wait the right password gets in.
    _wait_out(db, "miner")
    assert _api(client, "miner", f.PASSWORD).status_code == 200


def test_throttling_is_per_account_not_per_ip(client, db, miner):
    f.user(db, Role.TRAINER, username="colleague")
    db.commit()
    _arrange(db, "miner", 9)
    _fail(client, "miner", 1)
    assert _api(client, "miner", f.PASSWORD).status_code == 429
    # Same client, same address: another account is not affected.
    assert _api(client, "colleague", f.PASSWORD).status_code == 200
    assert _page(client, "colleague", f.PASSWORD).status_code == 303
    assert _throttle("colleague") is None


def test_id_number_spellings_share_one_counter(client, db):
    ent = f.enterprise(db)
    worker = f.worker(db, ent)
    db.commit()
    number = worker.id_number
    _arrange(db, number, 8)
    _fail(client, number, 1)
    _fail(client, " " + number + " ", 1)
    assert _throttle(number).failures == 10
    assert _api(client, number, f.PASSWORD).status_code == 429


def test_unknown_accounts_are_throttled_too_without_revealing_they_do_not_exist(client, db):
    _arrange(db, "ghost", 9)
    _fail(client, "ghost", 1)
    refused = _api(client, "ghost", WRONG)
    assert refused.status_code == 429
    assert _throttle("ghost").failures == 10


def test_failures_are_audited(client, miner):
    _fail(client, "miner", 2, via=_api)
    _fail(client, "miner", 1, via=_page)
    with app_db.open_session(write=False) as session:
        events = list(session.scalars(select(AuditEvent).where(AuditEvent.action == "login.failed")
                                      .order_by(AuditEvent.id)))
    assert [e.detail["failures"] for e in events] == [1, 2, 3]
    assert {e.detail["username"] for e in events} == {"miner"}
    assert {e.detail["reason"] for e in events} == {"bad_credentials"}
    assert {e.actor_id for e in events} == {miner.id}
    assert {e.object_id for e in events} == {str(miner.id)}
    assert {e.ip for e in events} == {"testclient"}
