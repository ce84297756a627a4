"""Group commit for small, frequent writes (study heartbeats) on SQLite.

SQLite has one writer and every commit waits for the disk (synchronous=FULL). Instead of one
transaction and one fsync per request, a writer thread per process runs every job queued while
the previous batch was committing in ONE transaction, each job in its own savepoint, and
answers the waiting requests only after the commit: an acknowledged write is still a durable
write, and the disk is flushed once per batch instead of once per request.

On PostgreSQL, which commits concurrently, a job simply runs in a transaction of its own.

Jobs never take their connection from the request engine's pool: a request that waits for its
job may hold a pooled connection (its read transaction), and while requests that hold the
pool's connections wait for a server thread, the threads may all be waiting for jobs; a job
that needed a pooled connection would then wait for ever (pool timeout). So the writer thread
(SQLite) and PostgreSQL jobs use an engine of their own on the same database; on SQLite it
shares the request engine's process write lock (app.db).
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Engine
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from app.db import get_engine, make_engine, open_session

T = TypeVar("T")
log = logging.getLogger("pithead.batching")
MAX_BATCH = 256
IDLE_EXIT_SECONDS = 30.0
JOB_TIMEOUT_SECONDS = 30.0


@dataclass
class _Job:
    run: Callable[[Session], Any]
    future: Future[Any] = field(default_factory=Future)


def _own_engine(engine: Engine, pool_size: int) -> Engine:
    """A second engine on `engine`'s database, with a pool of its own."""
    return make_engine(engine.url.render_as_string(hide_password=False), pool_size=pool_size)


class GroupCommitter:
    """A writer thread that commits queued jobs in batches (one per engine and process)."""

    def __init__(self, engine: Engine) -> None:
        self.source = engine
        self.engine = _own_engine(engine, pool_size=1)  # used by the writer thread only
        self.jobs: queue.Queue[_Job] = queue.Queue()
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None

    def enqueue(self, run: Callable[[Session], T]) -> Future[T]:
        """Queue `run(session)` for the next batch; its future is set once committed."""
        job = _Job(run)
        self.jobs.put(job)
        self._ensure_thread()
        return job.future

    def submit(self, run: Callable[[Session], T]) -> T:
        """Run `run(session)` in the next batch; returns its result once committed."""
        return self.enqueue(run).result(timeout=JOB_TIMEOUT_SECONDS)

    def _ensure_thread(self) -> None:
        with self.lock:
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._loop, name="pithead-group-commit",
                                               daemon=True)
                self.thread.start()

    def _loop(self) -> None:
        while True:
            try:
                first = self.jobs.get(timeout=IDLE_EXIT_SECONDS)
            except queue.Empty:
                with self.lock:
                    if self.jobs.empty():  # idle: let the thread go (it restarts on demand)
                        self.thread = None
                        return
                continue
            batch = [first]
            while len(batch) < MAX_BATCH:
                try:
                    batch.append(self.jobs.get_nowait())
                except queue.Empty:
                    break
            self._run_batch(batch)

    def _run_batch(self, batch: list[_Job]) -> None:
        done: list[tuple[_Job, Any]] = []
        try:
            with open_session(write=True, engine=self.engine) as session:
                for job in batch:
                    try:
                        with session.begin_nested():
                            done.append((job, job.run(session)))
                    except Exception as exc:  # noqa: BLE001 - the job's own failure, reported to it
                        job.future.set_exception(exc)
                session.commit()
        except Exception as exc:  # noqa: BLE001 - the commit failed: nothing in it was written
            log.exception("group commit of %d jobs failed", len(batch))
            for job, _result in done:
                job.future.set_exception(exc)
            return
        for job, result in done:
            job.future.set_result(result)


_committers: dict[int, GroupCommitter] = {}
_job_engines: dict[int, tuple[Engine, Engine]] = {}  # request engine id -> (it, jobs' engine)
_committers_lock = threading.Lock()


def _job_engine(engine: Engine) -> Engine:
    """The engine PostgreSQL jobs of the request engine `engine` run on."""
    with _committers_lock:
        known = _job_engines.get(id(engine))
        if known is None or known[0] is not engine:
            if known is not None:
                known[1].dispose()
            size = engine.pool.size() if hasattr(engine.pool, "size") else 5
            known = _job_engines[id(engine)] = (engine, _own_engine(engine, size))
        return known[1]


def _committer(engine: Engine) -> GroupCommitter:
    """The group committer of the request engine `engine` (SQLite)."""
    with _committers_lock:
        committer = _committers.get(id(engine))
        if committer is None or committer.source is not engine:
            if committer is not None:  # the request engine was replaced (tests)
                committer.engine.dispose()
            committer = _committers[id(engine)] = GroupCommitter(engine)
        return committer


def _run_alone(engine: Engine, run: Callable[[Session], T]) -> T:
    with open_session(write=True, engine=engine) as session:
        result = run(session)
        session.commit()
        return result


def run_write(run: Callable[[Session], T]) -> T:
    """Run a small write job durably: batched on SQLite, in its own transaction elsewhere."""
    engine = get_engine()
    if engine.dialect.name != "sqlite":
        return _run_alone(_job_engine(engine), run)
    return _committer(engine).submit(run)


def group_commits(session: Session) -> bool:
    """Whether run_write batches the writes of `session`'s database (SQLite)."""
    return session.get_bind().dialect.name == "sqlite"


def _run_in(session: Session, run: Callable[[Session], T]) -> T:
    result = run(session)
    session.commit()
    return result


async def run_write_async(run: Callable[[Session], T], *, session: Session | None = None) -> T:
    """run_write for async routes. On SQLite, waiting for the batch's commit holds no server
    thread (the answer to a save is a callback from the writer thread). Elsewhere the job runs
    in `session` when given, the request's own transaction, and commits it (one connection
    and one transaction for the request instead of two), or else in a transaction of its own."""
    engine = get_engine()
    if engine.dialect.name != "sqlite":
        if session is not None:
            return await run_in_threadpool(_run_in, session, run)
        return await run_in_threadpool(_run_alone, _job_engine(engine), run)
    future = asyncio.wrap_future(_committer(engine).enqueue(run))
    # shield: a timeout or a cancelled request must not cancel the job's future, which the
    # writer thread sets whatever happens (as run_write's timeout leaves it alone).
    return await asyncio.wait_for(asyncio.shield(future), JOB_TIMEOUT_SECONDS)
