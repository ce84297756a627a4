"""Migrations: upgrade from an empty database, downgrade to base, upgrade again; and the models
match what the migrations build (a model change without a migration fails here)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from app import schema
from app.db import UTCDateTime, make_engine
from app.models import Base
from tests.conftest import IS_POSTGRES, TEST_URL, WORKER

_counter = itertools.count()


@pytest.fixture
def empty_url(tmp_path: Path) -> Iterator[str]:
    """A brand-new database with nothing in it (not a copy of the migrated template)."""
    if not IS_POSTGRES:
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    name = f"pithead_mig_{WORKER}_{next(_counter)}"
    admin = create_engine(TEST_URL, isolation_level="AUTOCOMMIT", pool_size=1)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(TEST_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _inspect(url: str, fn):  # type: ignore[no-untyped-def]
    engine = make_engine(url, pool_size=1)
    try:
        with engine.connect() as conn:
            return fn(conn)
    finally:
        engine.dispose()


def _tables(url: str) -> set[str]:
    return _inspect(url, lambda conn: set(inspect(conn).get_table_names()))


def _guards(url: str) -> set[str]:
    """Triggers and trigger functions left in the database."""
    if IS_POSTGRES:
        sql = ("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal UNION "
               "SELECT proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
               "WHERE n.nspname = 'public'")
    else:
        sql = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
    return _inspect(url, lambda conn: set(conn.execute(text(sql)).scalars()))


def _differences(url: str) -> list:  # type: ignore[type-arg]
    def compare(conn):  # type: ignore[no-untyped-def]
        context = MigrationContext.configure(conn, opts={
            "compare_type": True, "compare_server_default": True,
            "target_metadata": Base.metadata})
        return compare_metadata(context, Base.metadata)

    return _inspect(url, compare)


MODEL_TABLES = set(Base.metadata.tables)


def _head() -> str:
    heads = ScriptDirectory.from_config(schema._alembic_config()).get_heads()
    assert len(heads) == 1, f"migrations must form one line, found heads {heads}"
    return heads[0]


def test_every_migration_has_a_downgrade():
    script = ScriptDirectory.from_config(schema._alembic_config())
    for revision in script.walk_revisions():
        source = Path(revision.path).read_text()
        assert "def downgrade() -> None:" in source, revision.path
        body = source.split("def downgrade() -> None:", 1)[1]
        assert body.strip() not in ("", "pass"), f"{revision.path} has an empty downgrade"


def test_every_model_is_known_to_the_metadata():
    # app.models must import every domain's tables, or Alembic and these checks miss them.
    assert {"users", "user_roles", "web_sessions", "api_tokens", "login_throttles",
            "audit_events", "regions", "enterprises", "workers", "roster_uploads"} <= MODEL_TABLES


def test_upgrade_from_empty_downgrade_to_base_and_upgrade_again(empty_url):
    assert _tables(empty_url) == set()
    schema.upgrade(empty_url)
    assert _tables(empty_url) == MODEL_TABLES | {"alembic_version"}
    assert _inspect(empty_url, lambda c: c.execute(text(
        "SELECT version_num FROM alembic_version")).scalars().all()) == [_head()]
    assert _guards(empty_url) >= ({"audit_events_no_change", "audit_events_no_truncate",
                                   "audit_events_refuse_change"} if IS_POSTGRES
                                  else {"audit_events_no_update", "audit_events_no_delete"})
    regions = _inspect(empty_url, lambda c: c.execute(text(
        "SELECT count(*) FROM regions")).scalar_one())
    assert regions > 30  # every province at least, loaded by upgrade

    schema.downgrade_to_base(empty_url)
    assert _tables(empty_url) <= {"alembic_version"}
    assert _inspect(empty_url, lambda c: c.execute(text(
        "SELECT count(*) FROM alembic_version")).scalar_one()) == 0
    assert _guards(empty_url) == set()

    schema.upgrade(empty_url)
    assert _tables(empty_url) == MODEL_TABLES | {"alembic_version"}
    assert _differences(empty_url) == []


def test_upgrade_twice_is_a_no_op(empty_url):
    schema.upgrade(empty_url)
    count = _inspect(empty_url, lambda c: c.execute(text(
        "SELECT count(*) FROM regions")).scalar_one())
    schema.upgrade(empty_url)
    assert _inspect(empty_url, lambda c: c.execute(text(
        "SELECT count(*) FROM regions")).scalar_one()) == count


def test_models_match_the_migrations(database_url):
    """compare_metadata against a database built only by the migrations: no differences."""
    assert _differences(database_url) == []


def test_the_comparison_catches_a_model_change_without_a_migration(database_url):
    # Guard the guard: an extra column in the models must show up as a difference.
    from sqlalchemy import Column, MetaData, String

    metadata = MetaData()
    for table in Base.metadata.tables.values():
        table.to_metadata(metadata)
    metadata.tables["users"].append_column(Column("nickname", String(20)))

    def compare(conn):  # type: ignore[no-untyped-def]
        context = MigrationContext.configure(conn, opts={"compare_type": True,
                                                         "target_metadata": metadata})
        return compare_metadata(context, metadata)

    diffs = _inspect(database_url, compare)
    assert [(d[0], d[2], d[3].name) for d in diffs] == [("add_column", "users", "nickname")]


def test_timestamps_are_timezone_aware_columns():
    for table in Base.metadata.tables.values():
        for column in table.columns:
            if column.type.python_type.__name__ == "datetime":
                assert isinstance(column.type, UTCDateTime), f"{table.name}.{column.name}"
