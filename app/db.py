"""Database engine, sessions and the declarative base shared by every domain."""

from __future__ import annotations

import asyncio
import os
import threading
import weakref
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import DateTime, Engine, MetaData, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator
from starlette.concurrency import run_in_threadpool

from app.config import get_settings
from app.errors import AppError

try:
    import fcntl
except ImportError:  # not POSIX: SQLite's busy handler alone orders the processes
    fcntl = None  # type: ignore[assignment]

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
WRITE_LOCK_TIMEOUT = 30.0


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always handed back timezone-aware (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base: constraint names follow NAMING_CONVENTION so migrations are stable."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}


class WriterLock:
    """SQLite's one writer at a time, taken in turns: within a process by a thread lock, and
    between the server's processes by two byte-range locks on the file `<database>-lock`.

    Without the second part, a writer whose BEGIN IMMEDIATE found the database locked by
    another process retried in SQLite's busy handler, sleeping up to 100 ms between tries, and
    a busy process that committed and began again won nearly every time: on exam day the other
    process's writes waited seconds while the CPUs were not busy. Here the waiting thread
    blocks in the kernel (the GIL released) and is woken when the lock is free; a process
    first passes a turnstile, which a waiting process holds, so the process that just wrote
    lets the other one go first. POSIX record locks belong to the process: the kernel drops
    them when it dies, even by SIGKILL. SQLite's own locking still guards the data; this only
    orders who asks. (The wait between processes has no timeout of its own: the lock is held
    for one transaction, and a dead holder's lock goes with it.)
    """

    TURNSTILE, WRITER = 0, 1

    def __init__(self, path: str | None) -> None:
        self.local = threading.Lock()
        self.path = path
        self.fd: int | None = None

    def acquire(self, timeout: float) -> bool:
        if not self.local.acquire(timeout=timeout):
            return False
        try:
            self._between_processes()
        except BaseException:
            self.local.release()
            raise
        return True

    def release(self) -> None:
        if self.fd is not None and fcntl is not None:
            fcntl.lockf(self.fd, fcntl.LOCK_UN, 1, self.WRITER)
        self.local.release()

    def _between_processes(self) -> None:
        if fcntl is None or self.path is None:
            return
        if self.fd is None:
            try:
                self.fd = os.open(self.path + "-lock", os.O_RDWR | os.O_CREAT, 0o600)
            except OSError:  # a read-only folder: SQLite's busy handler alone, as before
                self.path = None
                return
        fcntl.lockf(self.fd, fcntl.LOCK_EX, 1, self.TURNSTILE)
        try:
            fcntl.lockf(self.fd, fcntl.LOCK_EX, 1, self.WRITER)
        finally:
            fcntl.lockf(self.fd, fcntl.LOCK_UN, 1, self.TURNSTILE)


# One lock per database file, shared by every engine of this process on that file (the request
# engine and the group committer's own engine, app.batching).
_writer_locks: dict[str, WriterLock] = {}
_writer_locks_guard = threading.Lock()


def _writer_lock(database: str | None) -> WriterLock:
    if not database or database == ":memory:":
        return WriterLock(None)
    key = str(Path(database).resolve())
    with _writer_locks_guard:
        return _writer_locks.setdefault(key, WriterLock(key))


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # The driver's own transaction handling is switched off so that we can choose
        # BEGIN IMMEDIATE for writers: a writer then waits for the lock up front (busy_timeout)
        # instead of failing half-way through with "database is locked".
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.execute("PRAGMA foreign_keys=ON")
        # FULL: an acknowledged commit survives power loss, not only a process crash.
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    # SQLite has one writer at a time. Left to themselves, the threads of a process that want
    # to write all poll SQLite's lock with growing sleeps, which wrecks latency under load; so
    # they queue on this lock first, and the processes take turns (WriterLock).
    writer = _writer_lock(engine.url.database)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        if conn.get_execution_options().get("pithead_write"):
            if not writer.acquire(timeout=WRITE_LOCK_TIMEOUT):
                raise TimeoutError("waited too long for the database write lock")
            conn.connection.info["holds_writer"] = True
            try:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            except BaseException:
                conn.connection.info.pop("holds_writer", None)
                writer.release()
                raise
        else:
            conn.exec_driver_sql("BEGIN DEFERRED")

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_conn: Any, record: Any) -> None:
        # The connection is back in the pool: its transaction is committed or rolled back.
        if record.info.pop("holds_writer", False):
            writer.release()


def make_engine(url: str, *, pool_size: int = 10) -> Engine:
    """An engine for SQLite (WAL, immediate write transactions) or PostgreSQL (psycopg 3)."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 15}, pool_size=pool_size
        )
        _configure_sqlite(engine)
        return engine
    return create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


@lru_cache
def get_engine() -> Engine:
    """The process-wide engine for the configured database."""
    settings = get_settings()
    return make_engine(settings.database_url, pool_size=settings.db_pool_size)


@lru_cache
def _session_factories(engine: Engine) -> tuple[sessionmaker[Session], sessionmaker[Session]]:
    reader = sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)
    writer = sessionmaker(
        bind=engine.execution_options(pithead_write=True), expire_on_commit=False, autoflush=False
    )
    return reader, writer


def open_session(*, write: bool, engine: Engine | None = None) -> Session:
    """A new session; `write=True` takes SQLite's write lock at BEGIN."""
    reader, writer = _session_factories(engine or get_engine())
    return (writer if write else reader)()


def _discard(session: Session) -> None:
    # Detach first: a rollback would expire every loaded object, and the error page still
    # shows the signed-in user (whose roles were loaded before the failure).
    session.expunge_all()
    session.rollback()


# A request keeps its connection (and, writing on SQLite, the process write lock) across
# several thread hand-offs: each sync dependency, the endpoint, the commit. With more requests
# holding connections than the pool has, every server thread can end up waiting for a
# connection while the requests that hold them wait for a thread: nothing moves until the pool
# gives up (30 s, then errors). So at most the pool's capacity of requests per process use the
# database at once; the others wait for their turn here, in order, holding neither.
_admissions: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = \
    weakref.WeakKeyDictionary()


def _admission() -> asyncio.Semaphore:
    loop = asyncio.get_running_loop()
    gate = _admissions.get(loop)
    if gate is None:
        pool = get_engine().pool
        capacity = pool.size() + max(0, getattr(pool, "_max_overflow", 0)) \
            if hasattr(pool, "size") else 10
        gate = _admissions[loop] = asyncio.Semaphore(capacity)
    return gate


async def get_db(request: Request) -> AsyncIterator[Session]:
    """One transaction per request: committed on success, rolled back on error.

    Unsafe methods open a write transaction, unless the route declared that it writes through
    app.batching (`ReadOnlyRequest`). An AppError marked `keep_writes` (a failed login that must
    still count) commits what was flushed before it is rendered.

    Async only to spare the most visited pages two thread hand-offs: opening a session does
    no I/O, and ending it (which does) runs in the thread pool.
    """
    async with _admission():
        write = getattr(request.state, "db_write", request.method not in SAFE_METHODS)
        session = open_session(write=write)
        request.state.db = session
        try:
            yield session
            await _end(session, commit=True)
        except AppError as exc:
            await _end(session, commit=exc.keep_writes)
            raise
        except BaseException:
            await _end(session, commit=False)
            raise


async def _end(session: Session, *, commit: bool) -> None:
    if session.in_transaction():
        await run_in_threadpool(_finish, session, commit=commit)
    else:
        _finish(session, commit=commit)  # no transaction: nothing to send, no thread needed


def _finish(session: Session, *, commit: bool) -> None:
    try:
        if commit:
            session.commit()
        else:
            _discard(session)
    finally:
        session.close()


# scope="function": the commit happens before the response leaves, so an acknowledged
# write is a committed write.
SessionDep = Annotated[Session, Depends(get_db, scope="function")]


async def read_only_request(request: Request) -> None:
    """Route dependency: this unsafe request reads through SessionDep and writes elsewhere
    (app.batching), so its own transaction need not hold the write lock. (Async: it does no
    I/O, so it needs no thread hand-off.)"""
    request.state.db_write = False


ReadOnlyRequest = Depends(read_only_request)


def begin_write(session: Session) -> None:
    """Begin `session`'s next transaction as a writer (on SQLite: BEGIN IMMEDIATE under the
    process write lock), for a `ReadOnlyRequest` route that reads, then does slow work such as
    parsing an upload outside any transaction, then writes briefly. Commit the read first."""
    if session.in_transaction():
        raise RuntimeError("begin_write: end the read transaction first (session.commit())")
    session.connection(execution_options={"pithead_write": True})
