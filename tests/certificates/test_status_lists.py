"""Status-list entries (random, never reused, the list grows), the public base URL rule, and
existing certificates surviving migration 0007."""

import threading
import time

import jwt
import pytest
from alembic import command
from sqlalchemy import func, inspect, select, text, update

from app import config, schema
from app import db as app_db
from app.certificates import credentials, pdf, service
from app.certificates.models import Certificate, StatusList
from app.config import Settings
from tests import factories as f
from tests.certificates.conftest import pass_theory
from tests.certificates.test_credentials import BASE, _entry, _jwks, assert_conforms


def _values(db, certified, **extra) -> dict:
    worker = certified["worker"]
    first = db.scalar(select(Certificate).where(Certificate.worker_id == worker.id))
    return {"worker_id": worker.id, "course_id": first.course_id,
            "course_code": first.course_code, "title": first.title,
            "job_category": first.job_category, "issued_on": first.issued_on,
            "expires_on": first.expires_on, "issuer": first.issuer, "source": {}, **extra}


def test_every_worker_who_passes_gets_a_certificate(client, db, certified):
    # Issue 9 item 1: the second certificate failed on a duplicate status index (500), and
    # the exam submit that completed the requirements was rolled back with it.
    for name in ("李四", "王五", "赵六"):
        worker = f.worker(db, certified["enterprise"], full_name=name)
        db.commit()
        pass_theory(db, client, course=certified["course"], exam=certified["exam"],
                    worker=worker, admin=certified["admin"])
    db.commit()
    rows = db.execute(select(Certificate.worker_id, Certificate.status_index)).all()
    assert len(rows) == 4 and len({r.worker_id for r in rows}) == 4
    assert len({r.status_index for r in rows}) == 4


def test_300_certificates_get_distinct_random_entries_and_the_list_grows(client, db,
                                                                          certified):
    db.execute(update(StatusList).where(StatusList.id == 1).values(size=64))
    db.commit()
    with app_db.open_session(write=True) as writer:
        values = _values(writer, certified)
        created = [service.create_certificate(db=writer, values=values) for _ in range(300)]
        writer.commit()
        indexes = [c.status_index for c in created]
        numbers = [c.number for c in created]
    size = db.scalar(select(StatusList.size).where(StatusList.id == 1))
    assert db.scalar(select(func.count()).select_from(StatusList)) == 1
    assert size >= 512  # 64 doubled at least three times to hold 301 entries
    assert len(set(indexes)) == 300 and all(0 <= i < size for i in indexes)
    all_indexes = db.scalars(select(Certificate.status_index)).all()
    assert len(set(all_indexes)) == len(all_indexes) == 301
    # Random, not in order of issue: the index tells nothing about when it was issued.
    assert indexes != sorted(indexes) and max(indexes) > 300
    db.commit()

    # The grown list is published whole; a certificate near its end is read correctly.
    far = created[indexes.index(max(indexes))]
    admin = certified["admin"]
    with app_db.open_session(write=True) as writer:
        certificate = service.get_by_number_or_404(db=writer, number=far.number)
        service.suspend(db=writer, certificate=certificate, reason="Inquiry", by=admin)
        writer.commit()
    published = client.get("/api/v1/status-lists/1?format=json").json()
    assert _entry(published, max(indexes)) == 1
    assert sum(_entry(published, i) for i in indexes) == 1
    assert len(set(numbers)) == 300


def test_an_entry_taken_meanwhile_is_drawn_again(db, certified, monkeypatch):
    # What a concurrent issuer does: it takes the entry between our check and our insert.
    # The unique constraint refuses ours inside a savepoint; the transaction goes on.
    taken = db.scalar(select(Certificate.status_index))
    db.commit()
    real = service._free_status_entry
    calls: list[int] = []

    def first_a_taken_one(session):  # type: ignore[no-untyped-def]
        calls.append(1)
        return taken if len(calls) == 1 else real(session)

    monkeypatch.setattr(service, "_free_status_entry", first_a_taken_one)
    with app_db.open_session(write=True) as writer:
        certificate = service.create_certificate(db=writer, values=_values(writer, certified))
        writer.commit()
        assert certificate.status_index != taken and len(calls) == 2
    assert db.scalar(select(func.count()).select_from(Certificate)) == 2


@pytest.mark.postgres_only
def test_two_racing_issuers_on_postgresql(db, certified, monkeypatch):
    # Both draw index 7 first; the second's insert waits for the first to commit, fails on
    # the unique constraint, and draws again (8).
    draws: dict[str, list[int]] = {"a": [7], "b": [7, 8]}

    def randbelow(_size: int) -> int:
        return draws[threading.current_thread().name].pop(0)

    monkeypatch.setattr(service.secrets, "randbelow", randbelow)
    a_inserted, b_checked = threading.Event(), threading.Event()
    results: dict[str, int] = {}
    errors: list[BaseException] = []

    def issuer(name: str) -> None:
        try:
            with app_db.open_session(write=True) as session:
                values = _values(session, certified)
                if name == "b":
                    a_inserted.wait(10)
                    b_checked.set()
                certificate = service.create_certificate(db=session, values=values)
                if name == "a":
                    a_inserted.set()
                    b_checked.wait(10)
                    time.sleep(0.5)  # b is now blocked on our uncommitted index 7
                session.commit()
                results[name] = certificate.status_index
        except BaseException as exc:  # noqa: BLE001 - reported to the test thread
            errors.append(exc)

    threads = [threading.Thread(target=issuer, args=(n,), name=n) for n in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors, errors
    assert results == {"a": 7, "b": 8}


def test_existing_certificates_keep_working_after_migration_0007(client, db, certified,
                                                                 database_url):
    # A database at 0006 with a certificate at index 0 (what the old allocator gave it).
    index_before = db.scalar(select(Certificate.status_index))
    number = db.scalar(select(Certificate.number))
    db.commit()
    db.close()
    app_db.get_engine().dispose()
    engine = app_db.make_engine(database_url, pool_size=1)
    try:
        with engine.begin() as connection:
            cfg = schema._alembic_config()
            cfg.attributes["connection"] = connection
            command.downgrade(cfg, "0006")
        with engine.begin() as connection:
            assert "status_lists" not in inspect(connection).get_table_names()
            connection.execute(text("UPDATE certificates SET status_index = 0"))
        with engine.begin() as connection:
            cfg = schema._alembic_config()
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, "head")
    finally:
        engine.dispose()
    assert index_before is not None
    assert db.scalar(select(Certificate.status_index)) == 0
    assert db.scalar(select(StatusList.size).where(StatusList.id == 1)) == 131_072
    db.commit()
    token = client.get(f"/api/v1/certificates/{number}/credential",
                       headers=certified["auth"]).text
    assert_conforms(token)
    lists = [client.get("/api/v1/status-lists/1").text]
    assert credentials.verify_credential(token, _jwks(client), lists).valid is True
    # New certificates after the migration still get fresh entries.
    worker = f.worker(db, certified["enterprise"], full_name="李四")
    db.commit()
    pass_theory(db, client, course=certified["course"], exam=certified["exam"], worker=worker,
                admin=certified["admin"])
    db.commit()
    assert db.scalar(select(func.count(func.distinct(Certificate.status_index)))) == 2


# --- the public base URL ---------------------------------------------------------------------

def _credential_payload(client, certified, number, host: str | None = None) -> dict:
    headers = {**certified["auth"], **({"Host": host} if host else {})}
    response = client.get(f"/api/v1/certificates/{number}/credential", headers=headers)
    assert response.status_code == 200, response.text
    return jwt.decode(response.text, options={"verify_signature": False})


def test_without_a_configured_base_url_links_use_the_request_origin(client, db, certified):
    number = db.scalar(select(Certificate.number))
    db.commit()
    payload = _credential_payload(client, certified, number)
    assert payload["id"] == f"{BASE}/verify/{number}"
    elsewhere = _credential_payload(client, certified, number, host="10.0.0.5:9000")
    assert elsewhere["id"] == f"http://10.0.0.5:9000/verify/{number}"
    assert elsewhere["credentialStatus"]["statusListCredential"] == \
        "http://10.0.0.5:9000/api/v1/status-lists/1"
    assert elsewhere["iss"] == elsewhere["issuer"]["id"] == "http://10.0.0.5:9000"


def test_a_configured_base_url_is_used_everywhere(client, db, certified, monkeypatch):
    monkeypatch.setenv("PITHEAD_BASE_URL", "https://certs.example.cn/")
    config.get_settings.cache_clear()
    number = db.scalar(select(Certificate.number))
    db.commit()
    response = client.get(f"/api/v1/certificates/{number}/credential", headers=certified["auth"])
    payload = jwt.decode(response.text, options={"verify_signature": False})
    assert payload["id"] == f"https://certs.example.cn/verify/{number}"
    assert payload["issuer"]["id"] == payload["iss"] == "https://certs.example.cn"
    assert payload["credentialStatus"]["statusListCredential"] == \
        "https://certs.example.cn/api/v1/status-lists/1"
    assert jwt.get_unverified_header(response.text)["kid"].startswith(
        "https://certs.example.cn/api/v1/keys/")
    assert pdf.verification_url(number) == f"https://certs.example.cn/verify/{number}"
    assert all(k["kid"].startswith("https://certs.example.cn/api/v1/keys/")
               for k in client.get("/.well-known/jwks.json").json()["keys"])


def test_production_refuses_to_start_without_a_base_url():
    secret = "x" * 40
    with pytest.raises(ValueError, match="PITHEAD_BASE_URL"):
        Settings(env="production", secret_key=secret, base_url="")
    with pytest.raises(ValueError, match="PITHEAD_BASE_URL"):
        Settings(env="production", secret_key=secret, base_url="certs.example.cn")
    assert Settings(env="production", secret_key=secret,
                    base_url="https://certs.example.cn").base_url == "https://certs.example.cn"
    assert Settings(env="development", base_url="").base_url == ""
