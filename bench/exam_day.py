"""Exam-day load: 500 takers start, answer and submit a 40-question exam, two server processes.

Seeds a scratch database itself: the shipped course coal-gas-inspection-initial (its exam draws
40 questions), TAKERS workers enrolled with the course completed, each with a bearer token. Then
it starts Pithead with two uvicorn processes and drives it through the JSON API with one lean
asyncio client (aiohttp on uvloop), in three phases:

  start   TAKERS  POST /api/v1/exams/{id}/attempts, sent on an open-loop schedule spread evenly
                  over --start-window seconds (10);
  save    TAKERS  takers each PUT answers to their own attempt's questions for --seconds: every
                  taker sends its next save at its own steady pace (TAKERS / --save-rate seconds
                  apart, so together they offer --save-rate saves/s, 315 by default: the target
                  plus 5 %, since the rate is measured up to the last answer), one at a time;
  submit  TAKERS  POST /api/v1/attempts/{id}/submit spread evenly over --submit-window (5 s).

Latency is measured from each request's SCHEDULED send time, not from when the client got round
to it, so a server that falls behind shows it (no coordinated omission). Any response other
than the expected 2xx, and any connection error or timeout, is an error.

Between saving and submitting, a flat-out run measures capacity (informational, no target):
the same takers saving as fast as the server answers, one request each in flight, for
--capacity-seconds (0 skips it). With every taker waiting on its last save, latency there is
takers / throughput by Little's law, so it says what the server can take, not how fast a
taker is served at exam-day rates; its saves are checked with the others.

Then it checks the database: every acknowledged save is stored (the answers counted equal the
distinct acknowledged (attempt, question) pairs, each with the last acknowledged option_ids),
and every attempt is submitted, by its taker, with the score the submit answered, which is the
grade of the acknowledged answers.

    .venv/bin/python bench/exam_day.py [--takers 500] [--seconds 20] [--save-rate 315]
                                       [--database-url postgresql+psycopg://postgres@127.0.0.1/test]

Targets (issue 4): 500 attempts started within 10 s, p99 <= 2 s, 0 errors; 500 takers saving
answers, >= 300 saves/s with p99 <= 250 ms; 500 submits within 5 s, p99 <= 1 s, 0 errors.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import time
from collections import Counter
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    CpuSample,
    Server,
    describe_url,
    percentile,
    scratch_database,
    serve,
    server_env,
)

COURSE = Path(__file__).resolve().parent.parent / "courses" / "coal-gas-inspection-initial"
START_P99_S = 2.0
SAVE_RATE = 300.0
SAVE_P99_MS = 250.0
SUBMIT_P99_S = 1.0


# --- seed ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ExamWorld:
    url: str
    exam_id: int
    tokens: list[str]  # one bearer token per taker


def seed(url: str, takers: int) -> ExamWorld:
    """Migrate `url`, import the gas-inspection course (its bank and exam) and add `takers`
    workers enrolled with the course completed, each with a bearer token (direct inserts)."""
    from sqlalchemy import insert, select

    from app import schema
    from app.accounts.models import ApiToken, Role, User, UserRole
    from app.accounts.security import new_token, token_digest
    from app.courses import service as courses
    from app.courses.package import load_package
    from app.db import make_engine, open_session, utcnow
    from app.exams.models import Exam
    from app.learning.models import Enrolment, EnrolmentStatus
    from app.organisations.models import Enterprise, MineType, Worker
    from app.organisations.validators import make_credit_code, make_resident_id

    schema.upgrade(url)
    engine = make_engine(url, pool_size=1)
    now = utcnow()
    try:
        with open_session(write=True, engine=engine) as db:
            outcome = courses.import_package(db=db, package=load_package(COURSE), by=None)
            exam_id = db.scalar(select(Exam.id).where(Exam.course_id == outcome.course_id))
            assert exam_id is not None, "the course package has no exam block"
            firm = Enterprise(name="Bench Gas Colliery", region_code="140105",
                              credit_code=make_credit_code(region="140105", org_seq=4040),
                              mine_type=MineType.COAL.value, above_designated_size=True)
            db.add(firm)
            db.flush()
            ids = [make_resident_id(region="140105", birth=date(1975, 1, 1) + timedelta(n // 1000),
                                    sequence=n % 1000) for n in range(takers)]
            user_ids = list(db.scalars(
                insert(User).returning(User.id, sort_by_parameter_order=True),
                [{"username": i, "full_name": f"Taker {n:04d}", "password_hash": None,
                  "is_active": True, "enterprise_id": firm.id, "created_at": now}
                 for n, i in enumerate(ids)]))
            db.execute(insert(UserRole), [{"user_id": u, "role": Role.WORKER.value}
                                          for u in user_ids])
            worker_ids = list(db.scalars(
                insert(Worker).returning(Worker.id, sort_by_parameter_order=True),
                [{"user_id": u, "enterprise_id": firm.id, "id_number": i,
                  "full_name": f"Taker {n:04d}", "phone": "", "job_category":
                  "coal.gas_inspection", "hired_on": date(2020, 1, 1), "created_at": now,
                  "updated_at": now} for n, (u, i) in enumerate(zip(user_ids, ids, strict=True))]))
            db.execute(insert(Enrolment), [
                {"course_id": outcome.course_id, "worker_id": w,
                 "status": EnrolmentStatus.COMPLETED.value, "enrolled_at": now - timedelta(60),
                 "completed_at": now - timedelta(1), "credited_seconds": 305 * 60,
                 "lessons_completed": 12, "lessons_total": 12} for w in worker_ids])
            tokens = [new_token() for _ in user_ids]
            db.execute(insert(ApiToken), [
                {"token_hash": token_digest(t), "user_id": u, "created_at": now,
                 "expires_at": now + timedelta(hours=6)}
                for t, u in zip(tokens, user_ids, strict=True)])
            db.commit()
    finally:
        engine.dispose()
    return ExamWorld(url=url, exam_id=exam_id, tokens=tokens)


# --- the client ------------------------------------------------------------------------------

@dataclass
class Taker:
    token: str
    attempt_id: int | None = None
    questions: list[tuple[int, str, list[int]]] = field(default_factory=list)  # id, kind, options
    acked: dict[int, list[int]] = field(default_factory=dict)  # question -> last acknowledged
    submitted_score: float | None = None

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def answer(self, rng: random.Random) -> tuple[int, list[int]]:
        """A random question of the paper and a valid answer to it (sorted option ids)."""
        question_id, kind, options = rng.choice(self.questions)
        if kind == "multiple":
            chosen = rng.sample(options, rng.randint(1, len(options)))
        else:
            chosen = [rng.choice(options)]
        return question_id, sorted(chosen)


@dataclass
class Phase:
    """One phase's outcome; latencies in seconds from the scheduled send time."""

    name: str
    sent: int = 0
    ok: int = 0
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)  # unexpected outcomes
    began: float = 0.0
    ended: float = 0.0  # the last response
    server_cpu: float = 0.0  # CPU seconds of the server's processes meanwhile
    client_cpu: float = 0.0  # of this load generator
    others_cpu: float = 0.0  # of every other process on the machine (the database server too)
    wall: float = 0.0

    @property
    def errors(self) -> int:
        return self.sent - self.ok

    @property
    def seconds(self) -> float:
        return self.ended - self.began

    def p(self, q: float) -> float:
        return percentile(sorted(self.latencies), q)


async def _request(session: Any, method: str, url: str, *, headers: dict[str, str],
                   json: Any = None) -> tuple[int, Any]:
    """(status, parsed JSON body or None); connection failures raise."""
    async with session.request(method, url, headers=headers, json=json) as response:
        body = await response.json(content_type=None) if response.status < 300 else None
        if response.status >= 300:
            await response.read()
        return response.status, body


async def _sleep_until(moment: float) -> None:
    delay = moment - time.perf_counter()
    if delay > 0:
        await asyncio.sleep(delay)


def _note_failure(phase: Phase, status: int | None, exc: BaseException | None) -> None:
    phase.statuses[f"HTTP {status}" if exc is None else type(exc).__name__] += 1


async def run_start(session: Any, base: str, exam_id: int, takers: list[Taker],
                    window: float) -> Phase:
    """Every taker starts an attempt; sends spread evenly over `window` seconds."""
    import aiohttp

    phase = Phase("start")
    phase.began = time.perf_counter()

    async def one(index: int, taker: Taker) -> None:
        scheduled = phase.began + window * index / len(takers)
        await _sleep_until(scheduled)
        phase.sent += 1
        try:
            status, body = await _request(
                session, "POST", f"{base}/api/v1/exams/{exam_id}/attempts",
                headers=taker.headers)
        except (aiohttp.ClientError, TimeoutError) as exc:
            _note_failure(phase, None, exc)
            return
        done = time.perf_counter()
        phase.latencies.append(done - scheduled)
        phase.ended = max(phase.ended, done)
        if status != 201:
            _note_failure(phase, status, None)
            return
        phase.ok += 1
        taker.attempt_id = int(body["id"])
        taker.questions = [(int(q["id"]), q["kind"], [int(o["id"]) for o in q["options"]])
                           for q in body["questions"]]

    await asyncio.gather(*(one(n, t) for n, t in enumerate(takers)))
    return phase


async def run_saves(session: Any, base: str, takers: list[Taker], *, seconds: float,
                    rate: float | None, seed: int, name: str = "save") -> Phase:
    """Each taker saves answers one at a time for `seconds`: at `rate` saves/s all together
    (each taker every len(takers)/rate s, offsets staggered), or as fast as answered (None).
    Acknowledged saves (200) are recorded on the taker."""
    import aiohttp

    phase = Phase(name)
    phase.began = time.perf_counter()
    stop = phase.began + seconds
    period = len(takers) / rate if rate else 0.0

    async def one(index: int, taker: Taker) -> None:
        rng = random.Random(seed * 100_003 + index)  # noqa: S311 - picking answers
        scheduled = phase.began + period * index / len(takers)
        while scheduled < stop:
            if rate:
                await _sleep_until(scheduled)
            else:
                scheduled = time.perf_counter()
            question_id, chosen = taker.answer(rng)
            phase.sent += 1
            url = f"{base}/api/v1/attempts/{taker.attempt_id}/answers/{question_id}"
            try:
                status, _body = await _request(session, "PUT", url, headers=taker.headers,
                                               json={"option_ids": chosen})
            except (aiohttp.ClientError, TimeoutError) as exc:
                _note_failure(phase, None, exc)
                status = None
            done = time.perf_counter()
            if status is not None:
                phase.latencies.append(done - scheduled)
                phase.ended = max(phase.ended, done)
                if status == 200:
                    phase.ok += 1
                    taker.acked[question_id] = chosen
                else:
                    _note_failure(phase, status, None)
            scheduled += period

    await asyncio.gather(*(one(n, t) for n, t in enumerate(takers) if t.attempt_id))
    return phase


async def run_submit(session: Any, base: str, takers: list[Taker], window: float) -> Phase:
    """Every taker submits; sends spread evenly over `window` seconds."""
    import aiohttp

    phase = Phase("submit")
    phase.began = time.perf_counter()
    started = [t for t in takers if t.attempt_id]

    async def one(index: int, taker: Taker) -> None:
        scheduled = phase.began + window * index / len(started)
        await _sleep_until(scheduled)
        phase.sent += 1
        try:
            status, body = await _request(
                session, "POST", f"{base}/api/v1/attempts/{taker.attempt_id}/submit",
                headers=taker.headers)
        except (aiohttp.ClientError, TimeoutError) as exc:
            _note_failure(phase, None, exc)
            return
        done = time.perf_counter()
        phase.latencies.append(done - scheduled)
        phase.ended = max(phase.ended, done)
        if status != 200 or body.get("status") != "submitted":
            _note_failure(phase, status, None)
            return
        phase.ok += 1
        taker.submitted_score = float(body["score"])

    await asyncio.gather(*(one(n, t) for n, t in enumerate(started)))
    return phase


async def _with_cpu(server: Server, work: Awaitable[Phase]) -> Phase:
    """Run a phase and note where the machine's CPU went meanwhile."""
    before, machine = server.cpu_seconds(), CpuSample.take()
    phase = await work
    after = CpuSample.take()
    phase.server_cpu = server.cpu_seconds() - before
    phase.client_cpu = after.mine - machine.mine
    phase.others_cpu = max(0.0, after.busy - machine.busy - phase.server_cpu - phase.client_cpu)
    phase.wall = after.wall - machine.wall
    return phase


async def drive(server: Server, world: ExamWorld, args: argparse.Namespace,
                takers: list[Taker]) -> list[Phase]:
    import aiohttp

    base = server.base
    # Idle connections are closed before uvicorn closes them (5 s): a request sent on a
    # connection the server is closing fails, which would count as an error here.
    connector = aiohttp.TCPConnector(limit=0, keepalive_timeout=2)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        start = await _with_cpu(server, run_start(session, base, world.exam_id, takers,
                                                  args.start_window))
        save = await _with_cpu(server, run_saves(session, base, takers, seconds=args.seconds,
                                                 rate=args.save_rate, seed=args.seed))
        capacity = None
        if args.capacity_seconds > 0:
            capacity = await _with_cpu(server, run_saves(
                session, base, takers, seconds=args.capacity_seconds, rate=None,
                seed=args.seed + 1, name="capacity"))
        submit = await _with_cpu(server, run_submit(session, base, takers, args.submit_window))
    return [start, save, submit] + ([capacity] if capacity else [])


def run_client(coroutine: Awaitable[Any]) -> Any:
    """Run the load generator on uvloop when it is installed (it costs less CPU)."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)  # type: ignore[arg-type]
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coroutine)  # type: ignore[arg-type]


# --- the books -------------------------------------------------------------------------------

@dataclass
class Books:
    acknowledged_pairs: int = 0
    stored_answers: int = 0
    missing: int = 0  # acknowledged, not stored
    different: int = 0  # stored, not the last acknowledged value
    unexpected: int = 0  # stored, never acknowledged
    attempts: int = 0
    submitted_by_taker: int = 0
    score_mismatch: int = 0  # stored score != submit's answer or != grade of the acked answers
    paper_questions: int = 0

    @property
    def ok(self) -> bool:
        return not (self.missing or self.different or self.unexpected or self.score_mismatch) \
            and self.submitted_by_taker == self.attempts


def check_books(url: str, takers: list[Taker]) -> Books:
    from sqlalchemy import select

    from app.db import make_engine, open_session
    from app.exams.models import Answer, Attempt
    from app.exams.service import grade

    by_attempt = {t.attempt_id: t for t in takers if t.attempt_id}
    books = Books(acknowledged_pairs=sum(len(t.acked) for t in by_attempt.values()))
    engine = make_engine(url, pool_size=1)
    try:
        with open_session(write=False, engine=engine) as db:
            stored: dict[tuple[int, int], list[int]] = {
                (a, q): sorted(ids) for a, q, ids in db.execute(
                    select(Answer.attempt_id, Answer.question_id, Answer.option_ids)
                    .where(Answer.attempt_id.in_(list(by_attempt))))}
            attempts = list(db.execute(select(
                Attempt.id, Attempt.status, Attempt.closed_by, Attempt.score, Attempt.paper)
                .where(Attempt.id.in_(list(by_attempt)))))
    finally:
        engine.dispose()
    books.stored_answers = len(stored)
    for attempt_id, taker in by_attempt.items():
        for question_id, value in taker.acked.items():
            got = stored.get((attempt_id, question_id))
            if got is None:
                books.missing += 1
            elif got != value:
                books.different += 1
    books.unexpected = sum(1 for (a, q) in stored if q not in by_attempt[a].acked)
    books.attempts = len(by_attempt)
    books.paper_questions = max((len(row.paper) for row in attempts), default=0)
    for attempt_id, status, closed_by, score, paper in attempts:
        taker = by_attempt[attempt_id]
        if status == "submitted" and closed_by == "taker" and score is not None:
            books.submitted_by_taker += 1
        expected, _right = grade(paper, taker.acked)
        if score is None or float(score) != expected or taker.submitted_score != float(score):
            books.score_mismatch += 1
    return books


# --- report ----------------------------------------------------------------------------------

def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def report(args: argparse.Namespace, url: str, phases: list[Phase], books: Books) -> bool:
    start, save, submit = phases[:3]
    n = args.takers
    rate = save.ok / save.seconds if save.seconds else 0.0
    rows: list[tuple[str, str, str, bool | None]] = []

    def row(label: str, value: str, target: str = "", ok: bool | None = None) -> None:
        rows.append((label, value, target, ok))

    def cpu_rows(phase: Phase) -> None:
        sent = max(1, phase.sent)
        row("  CPU per request: server / client", f"{phase.server_cpu / sent * 1000:.1f} / "
            f"{phase.client_cpu / sent * 1000:.1f} ms")
        row("  other processes' CPU meanwhile", f"{phase.others_cpu / max(phase.wall, 1e-9):.2f}"
            f" of {os.cpu_count()} cores")

    kind = describe_url(url).split(":")[0].split("+")[0]
    print(f"\nexam day, {kind}, 2 server processes, {n} takers, {books.paper_questions} "
          f"questions a paper")
    row(f"start: {n} POSTs sent over", f"{args.start_window:.1f} s")
    row("  started (201)", f"{start.ok}/{n}", f"= {n}", start.ok == n)
    row("  all answered within", f"{start.seconds:.2f} s")
    row("  p50 latency", f"{start.p(50) * 1000:.0f} ms")
    row("  p99 latency", f"{start.p(99) * 1000:.0f} ms", f"<= {START_P99_S * 1000:.0f} ms",
        start.p(99) <= START_P99_S)
    row("  errors", f"{start.errors}", "= 0", start.errors == 0)
    cpu_rows(start)
    row(f"save: {n} takers for", f"{save.seconds:.1f} s, offered "
        f"{args.save_rate:.0f}/s" if args.save_rate else f"{save.seconds:.1f} s, flat out")
    row("  saves/s acknowledged", f"{rate:.0f}", f">= {SAVE_RATE:.0f}", rate >= SAVE_RATE)
    row("  saves acknowledged", f"{save.ok}")
    row("  p50 latency", f"{save.p(50) * 1000:.1f} ms")
    row("  p95 latency", f"{save.p(95) * 1000:.1f} ms")
    row("  p99 latency", f"{save.p(99) * 1000:.1f} ms", f"<= {SAVE_P99_MS:.0f} ms",
        save.p(99) * 1000 <= SAVE_P99_MS)
    row("  errors", f"{save.errors}", "= 0", save.errors == 0)
    cpu_rows(save)
    row(f"submit: {n} POSTs sent over", f"{args.submit_window:.1f} s")
    row("  submitted (200)", f"{submit.ok}/{n}", f"= {n}", submit.ok == n)
    row("  all answered within", f"{submit.seconds:.2f} s")
    row("  p50 latency", f"{submit.p(50) * 1000:.0f} ms")
    row("  p99 latency", f"{submit.p(99) * 1000:.0f} ms", f"<= {SUBMIT_P99_S * 1000:.0f} ms",
        submit.p(99) <= SUBMIT_P99_S)
    row("  errors", f"{submit.errors}", "= 0", submit.errors == 0)
    cpu_rows(submit)
    if len(phases) > 3:
        cap = phases[3]
        row(f"capacity (info): {n} takers flat out for", f"{cap.seconds:.1f} s")
        row("  saves/s acknowledged", f"{cap.ok / cap.seconds if cap.seconds else 0:.0f}")
        row("  p50 / p99 latency", f"{cap.p(50) * 1000:.0f} / {cap.p(99) * 1000:.0f} ms")
        row("  errors", f"{cap.errors}", "= 0", cap.errors == 0)
        cpu_rows(cap)
    row("books: acknowledged (attempt, question)", f"{books.acknowledged_pairs}")
    row("  answers stored", f"{books.stored_answers}", f"= {books.acknowledged_pairs}",
        books.stored_answers == books.acknowledged_pairs)
    row("  missing / not the last acknowledged", f"{books.missing} / {books.different}", "= 0",
        books.missing == 0 and books.different == 0)
    row("  never acknowledged but stored", f"{books.unexpected}", "= 0", books.unexpected == 0)
    row("  attempts submitted by the taker", f"{books.submitted_by_taker}/{books.attempts}",
        f"= {n}", books.submitted_by_taker == books.attempts == n)
    row("  score != grade of acknowledged answers", f"{books.score_mismatch}", "= 0",
        books.score_mismatch == 0)
    width = max(len(r[0]) for r in rows) + 2
    for label, value, target, ok in rows:
        line = f"  {label:<{width}}{value:>18}"
        if target:
            line += f"   target {target:<10} {verdict(bool(ok))}"
        print(line)
    for phase in phases:
        if phase.statuses:
            print(f"  {phase.name} failures: " + ", ".join(
                f"{k} x{v}" for k, v in phase.statuses.most_common()))
    passed = all(ok for *_rest, ok in rows if ok is not None)
    print(f"  overall: {verdict(passed)}")
    return passed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=None,
                        help="a PostgreSQL server URL (a scratch database is created on it and "
                             "dropped); SQLite in a temporary directory when omitted")
    parser.add_argument("--takers", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=20.0, help="length of the save phase")
    parser.add_argument("--save-rate", type=float, default=315.0,
                        help="saves/s all takers together offer (0: flat out)")
    parser.add_argument("--start-window", type=float, default=10.0)
    parser.add_argument("--submit-window", type=float, default=5.0)
    parser.add_argument("--capacity-seconds", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=4)
    args = parser.parse_args()
    with scratch_database(args.database_url) as url:
        os.environ.update(server_env(url))
        print(f"database: {describe_url(url)}; seeding {args.takers} takers ...", flush=True)
        world = seed(url, args.takers)
        takers = [Taker(token) for token in world.tokens]
        with serve("app.main:create_app", database_url=url, workers=2, factory=True) as server:
            phases = run_client(drive(server, world, args, takers))
        books = check_books(url, takers)
    report(args, url, phases, books)  # it measures; exit status 0 either way (bench/README.md)


if __name__ == "__main__":
    main()
