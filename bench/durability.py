"""Durability of acknowledged answers: SIGKILL the server while takers save, then check the books.

Seeds a scratch database like bench/exam_day.py (the gas-inspection course and its 40-question
exam, TAKERS workers with the course completed), starts Pithead (two uvicorn processes by
default, as in production) and starts every taker's attempt. Then, ROUNDS times:

  1. start the server and wait for /healthz;
  2. every taker saves answers as fast as the server answers, one at a time, to a few questions
     of its own attempt (so answers are overwritten again and again), remembering each save it
     sent, in order, and whether it was acknowledged (200, with the saved_at the server gave);
  3. at a random moment (--kill-after, 0.5-3 s into the saving) SIGKILL the server's whole
     process group (supervisor and workers): no shutdown, no flush, no goodbye;
  4. read every answer from the database and compare: for each (attempt, question) the stored
     answer must be the LAST acknowledged save (same option_ids, same saved_at) or a save sent
     after it whose acknowledgement died with the server (it may or may not have committed:
     both are correct). Anything else, an acknowledged save missing or overwritten by an
     older one, is a lost answer.

On SQLite the answers go through group commit (app/batching.py: one transaction and one fsync
for a batch of saves, each acknowledged only after the commit) with synchronous=FULL: this is
what the check proves durable against a crash of the process.

    .venv/bin/python bench/durability.py [--rounds 20] [--takers 50] [--workers 2] [--seed 9]
                                         [--database-url postgresql+psycopg://postgres@127.0.0.1/test]

Target (issue 4): 20 rounds, 0 acknowledged answers lost.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import signal
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Server, describe_url, scratch_database, serve, server_env  # noqa: E402
from bench.exam_day import Taker, run_client, seed  # noqa: E402

QUESTIONS_PER_TAKER = 6  # few questions each: the same answers are overwritten many times


@dataclass
class Sent:
    value: list[int]
    acked_at: datetime | None = None  # the saved_at of the acknowledgement; None: not acked


@dataclass
class Round:
    number: int
    kill_after: float
    sent: int = 0
    acknowledged: int = 0
    unacknowledged: int = 0  # in flight when the server died
    in_flight_stored: int = 0  # of those, committed anyway (allowed)
    errors: int = 0  # HTTP answers other than 200 (none expected)
    pairs: int = 0
    lost: int = 0
    examples: list[str] = field(default_factory=list)


async def start_attempts(base: str, exam_id: int, takers: list[Taker]) -> None:
    import aiohttp

    from bench.exam_day import _request

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
        async def one(taker: Taker) -> None:
            status, body = await _request(session, "POST",
                                          f"{base}/api/v1/exams/{exam_id}/attempts",
                                          headers=taker.headers)
            if status != 201:
                raise RuntimeError(f"starting an attempt answered HTTP {status}")
            taker.attempt_id = int(body["id"])
            questions = [(int(q["id"]), q["kind"], [int(o["id"]) for o in q["options"]])
                         for q in body["questions"]]
            taker.questions = questions[:QUESTIONS_PER_TAKER]

        await asyncio.gather(*(one(t) for t in takers))


async def save_until_killed(server: Server, takers: list[Taker], round_: Round,
                            history: dict[tuple[int, int], list[Sent]], rng: random.Random
                            ) -> None:
    """Takers save flat out; the server is SIGKILLed `round_.kill_after` s in."""
    import aiohttp

    from bench.exam_day import _request

    killed = asyncio.Event()
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector,
                                     timeout=aiohttp.ClientTimeout(total=30)) as session:
        async def taker_loop(index: int, taker: Taker) -> None:
            picks = random.Random(rng.random() + index)  # noqa: S311 - picking answers
            while not killed.is_set():
                question_id, value = taker.answer(picks)
                entry = Sent(value)
                history.setdefault((taker.attempt_id or 0, question_id), []).append(entry)
                round_.sent += 1
                url = f"{server.base}/api/v1/attempts/{taker.attempt_id}/answers/{question_id}"
                try:
                    status, body = await _request(session, "PUT", url, headers=taker.headers,
                                                  json={"option_ids": value})
                except (aiohttp.ClientError, TimeoutError, ConnectionError):
                    round_.unacknowledged += 1  # the server died with it in flight
                    return
                if status == 200:
                    entry.acked_at = datetime.fromisoformat(body["saved_at"])
                    round_.acknowledged += 1
                else:
                    round_.errors += 1  # refused, so not saved: forget it was sent
                    history[(taker.attempt_id or 0, question_id)].pop()

        async def killer() -> None:
            await asyncio.sleep(round_.kill_after)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.process.pid, signal.SIGKILL)
            killed.set()

        await asyncio.gather(killer(), *(taker_loop(n, t) for n, t in enumerate(takers)))
    server.process.wait(timeout=30)
    _wait_group_gone(server.process.pid)


def _wait_group_gone(pgid: int, timeout: float = 30.0) -> None:
    """Wait until no process of the killed group is left (the workers die with the
    supervisor, but the kernel reaps them asynchronously)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        alive = False
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                raw = (entry / "stat").read_text()
            except OSError:
                continue
            fields = raw[raw.rfind(")") + 2:].split()
            if int(fields[2]) == pgid and fields[0] != "Z":
                alive = True
                break
        if not alive:
            return
        time.sleep(0.05)  # polling the kernel for processes we killed, not a test sync
    raise RuntimeError(f"processes of group {pgid} survived SIGKILL")


def check(url: str, history: dict[tuple[int, int], list[Sent]], round_: Round) -> None:
    """Compare the database with what the takers were told; then make what is stored the
    known starting point of the next round."""
    from sqlalchemy import select

    from app.db import make_engine, open_session
    from app.exams.models import Answer

    engine = make_engine(url, pool_size=1)
    try:
        with open_session(write=False, engine=engine) as db:
            stored = {(a, q): (sorted(ids), at) for a, q, ids, at in db.execute(
                select(Answer.attempt_id, Answer.question_id, Answer.option_ids,
                       Answer.saved_at))}
    finally:
        engine.dispose()
    for pair, sends in history.items():
        round_.pairs += 1
        got = stored.get(pair)
        last_acked = max((n for n, s in enumerate(sends) if s.acked_at is not None), default=-1)
        later = sends[last_acked + 1:]  # sent after the last acknowledgement, never acked
        ok = False
        if last_acked >= 0 and got == (sends[last_acked].value, sends[last_acked].acked_at):
            ok = True
        elif got is not None and any(s.value == got[0] for s in later) and (
                last_acked < 0 or got[1] > (sends[last_acked].acked_at or got[1])):
            ok = True  # an unacknowledged save that committed before the kill
            round_.in_flight_stored += 1
        elif got is None and last_acked < 0:
            ok = True  # nothing ever acknowledged here, nothing stored
        if not ok:
            round_.lost += 1
            if len(round_.examples) < 5:
                expected = sends[last_acked] if last_acked >= 0 else None
                round_.examples.append(
                    f"attempt {pair[0]} question {pair[1]}: stored {got}, last acknowledged "
                    f"{(expected.value, expected.acked_at) if expected else None}")
    # What is stored now is the truth the next round starts from.
    for pair in history:
        got = stored.get(pair)
        history[pair] = [Sent(got[0], got[1])] if got is not None else []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=None,
                        help="a PostgreSQL server URL (a scratch database is created on it and "
                             "dropped); SQLite in a temporary directory when omitted")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--takers", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2, help="uvicorn processes")
    parser.add_argument("--kill-after", type=float, nargs=2, default=(0.5, 3.0),
                        metavar=("MIN", "MAX"), help="seconds into the saving (uniform)")
    parser.add_argument("--seed", type=int, default=9)
    args = parser.parse_args()
    rng = random.Random(args.seed)  # noqa: S311 - kill moments and answers, not secrets
    rounds: list[Round] = []
    with scratch_database(args.database_url) as url:
        os.environ.update(server_env(url))
        kind = describe_url(url).split(":")[0].split("+")[0]
        print(f"database: {describe_url(url)}; seeding {args.takers} takers ...", flush=True)
        world = seed(url, args.takers)
        takers = [Taker(token) for token in world.tokens]
        with serve("app.main:create_app", database_url=url, workers=args.workers,
                   factory=True) as server:
            run_client(start_attempts(server.base, world.exam_id, takers))
        history: dict[tuple[int, int], list[Sent]] = {}
        print(f"\ndurability, {kind}, {args.workers} server process(es), {args.takers} takers "
              f"saving flat out, SIGKILL {args.kill_after[0]:g}-{args.kill_after[1]:g} s in\n")
        print(f"  {'round':>5} {'kill at':>8} {'sent':>6} {'acked':>6} {'in flight':>9} "
              f"{'committed':>9} {'refused':>7} {'pairs':>6} {'lost':>5}")
        for number in range(1, args.rounds + 1):
            round_ = Round(number, kill_after=rng.uniform(*args.kill_after))
            with serve("app.main:create_app", database_url=url, workers=args.workers,
                       factory=True) as server:
                run_client(save_until_killed(server, takers, round_, history, rng))
            check(url, history, round_)
            rounds.append(round_)
            print(f"  {number:>5} {round_.kill_after:>7.2f}s {round_.sent:>6} "
                  f"{round_.acknowledged:>6} {round_.unacknowledged:>9} "
                  f"{round_.in_flight_stored:>9} {round_.errors:>7} {round_.pairs:>6} "
                  f"{round_.lost:>5}", flush=True)
            for example in round_.examples:
                print(f"        lost: {example}")
    acknowledged = sum(r.acknowledged for r in rounds)
    lost = sum(r.lost for r in rounds)
    errors = sum(r.errors for r in rounds)
    passed = lost == 0 and errors == 0 and len(rounds) == args.rounds and acknowledged > 0
    print(f"\n  rounds: {len(rounds)}, acknowledged: {acknowledged}, lost: {lost}, "
          f"refused: {errors}   target: lost = 0   {'PASS' if passed else 'FAIL'}")
    sys.exit(0 if passed else 1)


if __name__ == "__main__":
    main()
