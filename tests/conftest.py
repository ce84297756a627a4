"""Test fixtures: a fresh, migrated database per test (SQLite file copy or PostgreSQL template),
an app bound to it, and helpers to sign in.

PITHEAD_TEST_DATABASE_URL selects PostgreSQL (e.g. postgresql+psycopg://postgres@127.0.0.1/test);
without it every test gets its own SQLite file.
"""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from app import config, schema
from app import db as app_db

TEST_URL = os.environ.get("PITHEAD_TEST_DATABASE_URL", "")
IS_POSTGRES = TEST_URL.startswith("postgresql")
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
# Databases of this run are named after the target database and the process, so two runs on
# one server (a developer and CI, say) never drop each other's.
RUN_TAG = f"{make_url(TEST_URL).database or 'x'}_{WORKER}_{os.getpid()}"[:40] if TEST_URL else ""
_counter = itertools.count()


def pytest_report_header() -> str:
    return f"pithead database: {'PostgreSQL ' + TEST_URL if IS_POSTGRES else 'SQLite'}"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if IS_POSTGRES:
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (set PITHEAD_TEST_DATABASE_URL)")
    for item in items:
        if "postgres_only" in item.keywords:
            item.add_marker(skip)


def _admin_engine():  # type: ignore[no-untyped-def]
    return create_engine(TEST_URL, isolation_level="AUTOCOMMIT", pool_size=1)


@pytest.fixture(scope="session")
def template_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database migrated once per test process; each test starts from a copy of it."""
    if IS_POSTGRES:
        name = f"pithead_tpl_{RUN_TAG}"
        admin = _admin_engine()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(TEST_URL).set(database=name).render_as_string(hide_password=False)
        schema.upgrade(url)
        yield name
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    else:
        path = tmp_path_factory.mktemp("template") / "template.db"
        schema.upgrade(f"sqlite:///{path}")
        yield str(path)


@pytest.fixture
def database_url(template_database: str, tmp_path: Path) -> Iterator[str]:
    """A fresh database for this test, already migrated, with the reference data."""
    if IS_POSTGRES:
        name = f"pithead_t_{RUN_TAG}_{next(_counter)}"
        admin = _admin_engine()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template_database}"'))
        yield make_url(TEST_URL).set(database=name).render_as_string(hide_password=False)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    else:
        path = tmp_path / "test.db"
        shutil.copyfile(template_database, path)
        yield f"sqlite:///{path}"


@pytest.fixture
def settings_env(database_url: str, tmp_path: Path,
                 monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Point the app's settings at this test's database and media folder."""
    monkeypatch.setenv("PITHEAD_DATABASE_URL", database_url)
    monkeypatch.setenv("PITHEAD_ENV", "test")
    monkeypatch.setenv("PITHEAD_SECRET_KEY", "test-secret-key-of-sufficient-length-0123456789")
    monkeypatch.setenv("PITHEAD_MEDIA_DIR", str(tmp_path / "media"))
    config.get_settings.cache_clear()
    app_db.get_engine.cache_clear()
    yield database_url
    app_db.get_engine().dispose()
    app_db.get_engine.cache_clear()
    config.get_settings.cache_clear()


@pytest.fixture
def app(settings_env: str):  # type: ignore[no-untyped-def]
    from app.main import create_app

    return create_app()


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app, base_url="http://testserver") as test_client:
        yield test_client


@pytest.fixture
def db(settings_env: str) -> Iterator[Session]:
    """A session on the test database for arranging data; call db.commit() to publish it.

    Deferred transactions: a test that only reads (asserting on what the app wrote) takes no
    write lock, so the app under test is never blocked by it on SQLite. A read transaction
    keeps its snapshot, though: call db.commit() (which expires nothing) before reading again
    what the app wrote after an earlier read."""
    session = app_db.open_session(write=False)
    try:
        yield session
    finally:
        session.rollback()
        session.close()


@pytest.fixture
def make_client(app):  # type: ignore[no-untyped-def]
    """Extra independent browsers (each with its own cookies)."""
    clients: list[TestClient] = []

    def factory() -> TestClient:
        c = TestClient(app, base_url="http://testserver")
        c.__enter__()
        clients.append(c)
        return c

    yield factory
    for c in clients:
        c.__exit__(None, None, None)
