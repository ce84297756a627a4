"""Device cookies (OWASP): a browser that signed in to an account before gets past a lock
that someone else caused, judged by its own failure count; failed-login audit rows stay
bounded per username however long an attack lasts."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from app import db as app_db
from app.accounts import service
from app.accounts.models import AuditEvent, LoginThrottle, Role, TrustedDevice
from app.accounts.security import token_digest
from app.db import utcnow
from tests import factories as f

WRONG = "not-the-password"
DEVICE = "pithead_device"


def _read(fn):
    with app_db.open_session(write=False) as session:
        return fn(session)


def _page(client, username: str, password: str):
    page = client.get("/login")
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": f.csrf_from(page.text)},
                       follow_redirects=False)


def _api(client, username: str, password: str):
    return client.post("/api/v1/auth/token", data={"username": username, "password": password})


def _wait_out_account(db, username: str) -> None:
    db.execute(update(LoginThrottle).where(LoginThrottle.username == username)
               .values(locked_until=utcnow() - timedelta(seconds=1)))
    db.commit()


def _failed_rows(username: str) -> list[AuditEvent]:
    rows = _read(lambda s: list(s.scalars(select(AuditEvent).where(
        AuditEvent.action == "login.failed").order_by(AuditEvent.id))))
    return [e for e in rows if e.detail["username"] == username]


def _sign_out(client) -> None:
    page = client.get("/")
    client.post("/logout", data={"csrf_token": f.csrf_from(page.text)}, follow_redirects=False)


@pytest.fixture
def owner(db):
    user = f.user(db, Role.WORKER, username="owner")
    db.commit()
    return user


@pytest.fixture
def trusted(client, owner):
    """The owner's own browser: signed in once (so it holds a device cookie), then out."""
    assert _page(client, "owner", f.PASSWORD).status_code == 303
    assert client.cookies.get(DEVICE)
    _sign_out(client)
    return client


def test_a_successful_login_sets_a_long_lived_http_only_device_cookie_stored_as_a_hash(
        client, owner):
    response = _page(client, "owner", f.PASSWORD)
    assert response.status_code == 303
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith(DEVICE))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert f"Max-Age={180 * 86400}" in cookie
    token = client.cookies.get(DEVICE)
    rows = _read(lambda s: list(s.scalars(select(TrustedDevice))))
    assert [(r.user_id, r.token_hash) for r in rows] == [(owner.id, token_digest(token))]
    # Signing in again from the same browser keeps the same device.
    _sign_out(client)
    assert _page(client, "owner", f.PASSWORD).status_code == 303
    assert client.cookies.get(DEVICE) == token
    assert _read(lambda s: s.scalar(select(func.count()).select_from(TrustedDevice))) == 1


def test_an_attacker_with_1000_wrong_attempts_cannot_stop_the_owner(
        client, db, make_client, trusted):
    attacker = make_client()
    refused = failed = 0
    for attempt in range(1000):
        if attempt % 100 == 99:  # time passes: every lock runs out now and then
            _wait_out_account(db, "owner")
        response = (_page if attempt % 10 == 0 else _api)(attacker, "owner", WRONG)
        if response.status_code == 429:
            refused += 1
        else:
            assert response.status_code in (400, 401)
            failed += 1
    assert refused > 900 and failed >= 10
    assert len(_failed_rows("owner")) == 10  # the audit log did not grow with the attack
    assert _read(lambda s: s.get(LoginThrottle, "owner")).locked_until > utcnow()
    # The attacker is still locked out even with the right password ...
    assert _page(attacker, "owner", f.PASSWORD).status_code == 429
    # ... and so is any other browser that never signed in to this account ...
    stranger = make_client()
    assert _page(stranger, "owner", f.PASSWORD).status_code == 429
    assert _api(stranger, "owner", f.PASSWORD).status_code == 429
    # ... but the owner's own browser gets in with the right password.
    assert _page(trusted, "owner", f.PASSWORD).status_code == 303
    assert trusted.get("/").status_code == 200
    # A trusted-device login does not lift the account's lock for everyone else.
    assert _page(stranger, "owner", f.PASSWORD).status_code == 429


def test_without_a_device_cookie_the_lockout_still_applies(client, db, owner):
    for _ in range(10):
        assert _page(client, "owner", WRONG).status_code == 400
    assert client.cookies.get(DEVICE) is None
    refused = _page(client, "owner", f.PASSWORD)
    assert refused.status_code == 429
    assert "Too many failed logins for this account." in refused.text
    # A forged or foreign device cookie is no better than none.
    client.cookies.set(DEVICE, "forged-token-value")
    assert _page(client, "owner", f.PASSWORD).status_code == 429


def test_a_trusted_browser_that_fails_too_often_is_locked_itself(client, db, trusted):
    for _ in range(9):
        assert _page(trusted, "owner", WRONG).status_code == 400
    assert _read(lambda s: s.get(LoginThrottle, "owner")) is None  # not the account's count
    assert _page(trusted, "owner", WRONG).status_code == 400  # the 10th: the device locks
    device = _read(lambda s: s.scalar(select(TrustedDevice)))
    assert device.failures == 10 and device.locked_until > utcnow()
    refused = _page(trusted, "owner", f.PASSWORD)
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 30
    assert "Too many failed logins from this browser." in refused.text
    # After the wait the right password works and the device's count starts again.
    db.execute(update(TrustedDevice).values(locked_until=utcnow() - timedelta(seconds=1)))
    db.commit()
    assert _page(trusted, "owner", f.PASSWORD).status_code == 303
    device = _read(lambda s: s.scalar(select(TrustedDevice)))
    assert (device.failures, device.locked_until) == (0, None)


def test_a_device_trusted_for_one_account_does_not_help_another(client, db, make_client,
                                                                trusted):
    f.user(db, Role.WORKER, username="colleague")
    db.commit()
    attacker = make_client()
    for _ in range(10):
        assert _api(attacker, "colleague", WRONG).status_code == 401
    assert _page(trusted, "colleague", f.PASSWORD).status_code == 429
    # Once in, the shared browser is trusted for both: the cookie holds both tokens.
    _wait_out_account(db, "colleague")
    assert _page(trusted, "colleague", f.PASSWORD).status_code == 303
    assert len(trusted.cookies.get(DEVICE).split(".")) == 2
    _sign_out(trusted)
    assert _page(trusted, "owner", f.PASSWORD).status_code == 303


def test_a_device_that_expired_or_was_revoked_is_not_trusted(client, db, make_client,
                                                             trusted, owner):
    attacker = make_client()
    for _ in range(10):
        _api(attacker, "owner", WRONG)
    db.execute(update(TrustedDevice).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.commit()
    assert _page(trusted, "owner", f.PASSWORD).status_code == 429
    db.execute(update(TrustedDevice).values(expires_at=utcnow() + timedelta(days=1)))
    db.commit()
    assert _page(trusted, "owner", f.PASSWORD).status_code == 303
    _sign_out(trusted)
    # An administrator's password reset forgets every trusted device of the account.
    admin = f.user(db, Role.ADMIN, username="root")
    db.commit()
    service.reset_password(db=db, user=service.get_user(db=db, user_id=owner.id),
                           password="a-new-password", by=admin)
    db.commit()
    assert _read(lambda s: s.scalar(select(func.count()).select_from(TrustedDevice))) == 0
    assert service.purge_expired(db=db) == 0


def test_purge_removes_expired_devices(db, owner):
    db.add(TrustedDevice(token_hash="a" * 64, user_id=owner.id,
                         expires_at=utcnow() - timedelta(seconds=1)))
    db.add(TrustedDevice(token_hash="b" * 64, user_id=owner.id,
                         expires_at=utcnow() + timedelta(days=1)))
    db.commit()
    assert service.purge_expired(db=db) == 1
    db.commit()
    assert _read(lambda s: list(s.scalars(select(TrustedDevice.token_hash)))) == ["b" * 64]


def test_an_account_keeps_at_most_10_devices(make_client, owner):
    for _ in range(12):
        browser = make_client()
        assert _page(browser, "owner", f.PASSWORD).status_code == 303
    assert _read(lambda s: s.scalar(select(func.count()).select_from(TrustedDevice))) == 10
    assert browser.cookies.get(DEVICE)  # the newest is among them
    assert _read(lambda s: s.scalar(select(TrustedDevice).where(
        TrustedDevice.token_hash == token_digest(browser.cookies.get(DEVICE))))) is not None


def test_failed_login_audit_rows_are_bounded_per_username(client, db, owner):
    for _ in range(10):
        _api(client, "owner", WRONG)
    rows = _failed_rows("owner")
    assert [r.detail["failures"] for r in rows] == list(range(1, 11))
    # A long attack: each lock runs out and the next guess fails. Refused tries (429) write
    # nothing; failures after the lock get one row per hour at most.
    for _ in range(30):
        _wait_out_account(db, "owner")
        assert _api(client, "owner", WRONG).status_code == 401
        for _ in range(5):
            assert _api(client, "owner", WRONG).status_code == 429
    assert len(_failed_rows("owner")) == 10
    assert _read(lambda s: s.get(LoginThrottle, "owner")).unaudited == 30
    # An hour after the last row, the next failure writes one summary row.
    db.execute(update(LoginThrottle).where(LoginThrottle.username == "owner")
               .values(audited_at=utcnow() - timedelta(hours=1, seconds=1)))
    db.commit()
    _wait_out_account(db, "owner")
    assert _api(client, "owner", WRONG).status_code == 401
    rows = _failed_rows("owner")
    assert len(rows) == 11
    assert rows[-1].detail["failures"] == 41 and rows[-1].detail["unrecorded_before"] == 30
    assert _read(lambda s: s.get(LoginThrottle, "owner")).unaudited == 0


def test_the_api_token_endpoint_keeps_per_account_throttling(client, db, trusted):
    """The API has no cookies: a lock on the account applies there whatever the browser."""
    for _ in range(10):
        _api(client, "owner", WRONG)
    assert _api(trusted, "owner", f.PASSWORD).status_code == 429
    assert _page(trusted, "owner", f.PASSWORD).status_code == 303
