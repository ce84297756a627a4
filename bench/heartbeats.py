"""Sustained study-time heartbeats: beats/s and latency with two server processes.

Seeds a scratch database with the shipped induction course and LEARNERS enrolled workers, each
with a bearer token, starts Pithead with two uvicorn processes and drives it with wrk: every
request is a heartbeat of a different learner (round robin), as fast as the server answers.
After the run it checks the books: what the enrolments say was credited equals the ledger.

    .venv/bin/python bench/heartbeats.py [--seconds 15] [--connections 32] [--learners 1000]
                                         [--database-url postgresql+psycopg://postgres@127.0.0.1/test]

Target (issue 3): at least 500 beats/s with p99 under 100 ms on SQLite
(1,000 learners beating every 30 s need 33/s).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import describe_url, scratch_database, serve, server_env  # noqa: E402

TARGET_RATE = 500.0
TARGET_P99_MS = 100.0
COURSE = Path(__file__).resolve().parent.parent / "courses" / "general-underground-induction"

WRK_LUA = r"""
local targets = {}
local index = 0
local non_200 = 0
function init(args)
  for line in io.lines(args[1]) do
    local path, token = line:match("([^ ]+) ([^ ]+)")
    targets[#targets + 1] = {path, token}
  end
  index = math.random(#targets)
end
function request()
  index = index % #targets + 1
  local t = targets[index]
  return wrk.format("POST", t[1], {["Authorization"] = "Bearer " .. t[2],
    ["Content-Type"] = "application/json"}, '{"visible": true, "interacted": true}')
end
function response(status, headers, body)
  if status ~= 200 then non_200 = non_200 + 1 end
end
function done(summary, latency, requests)
  local q = {}
  for _, p in ipairs({50, 95, 99}) do q[#q + 1] = latency:percentile(p) end
  io.write(string.format('BENCH {"requests": %d, "duration_us": %d, "errors": %d, ' ..
    '"status_errors": %d, "quantiles_us": [%d, %d, %d]}\n', summary.requests, summary.duration,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status, q[1], q[2], q[3]))
end
"""


def seed(url: str, learners: int) -> list[tuple[str, str]]:
    """Migrate, import the induction course, enrol `learners` workers; (beat path, token)."""
    from sqlalchemy import insert, select

    from app import schema
    from app.accounts import service as accounts
    from app.accounts.models import Role, User, UserRole
    from app.courses import service as courses
    from app.courses.package import load_package
    from app.db import make_engine, open_session
    from app.learning import service as learning
    from app.organisations.models import Enterprise, Worker
    from app.organisations.validators import make_credit_code, make_resident_id

    schema.upgrade(url)
    engine = make_engine(url, pool_size=1)
    with open_session(write=True, engine=engine) as db:
        outcome = courses.import_package(db=db, package=load_package(COURSE), by=None)
        course = courses.get_course_or_404(db=db, course_id=outcome.course_id)
        lesson = next(x for x in courses.lessons_of(db=db, course_id=course.id)
                      if x.kind == "text")
        enterprise = Enterprise(name="Bench Coal", credit_code=make_credit_code(
            region="140105", org_seq=77), region_code="140105", mine_type="coal",
            above_designated_size=True)
        db.add(enterprise)
        admin = User(username="bench-admin", full_name="Bench", password_hash=None,
                     roles=[UserRole(role=Role.ADMIN.value)])
        db.add(admin)
        db.flush()
        from datetime import date
        ids = [make_resident_id(region="140105", birth=date(1980, 1, 1 + n % 28),
                                sequence=n) for n in range(learners)]
        db.execute(insert(User), [{"username": i, "full_name": f"Learner {n}",
                                   "password_hash": None, "enterprise_id": enterprise.id,
                                   "is_active": True}
                                  for n, i in enumerate(ids)])
        users = {name: uid for name, uid in db.execute(
            select(User.username, User.id).where(User.username.in_(ids)))}
        db.execute(insert(UserRole), [{"user_id": users[i], "role": "worker"} for i in ids])
        db.execute(insert(Worker), [{"user_id": users[i], "enterprise_id": enterprise.id,
                                     "id_number": i, "full_name": f"Learner {n}", "phone": "",
                                     "job_category": "general.underground",
                                     "hired_on": date(2024, 1, 1)} for n, i in enumerate(ids)])
        workers = list(db.scalars(select(Worker).order_by(Worker.id)))
        admin = accounts.get_by_username(db=db, username="bench-admin")
        enrolments = learning.enrol(db=db, course=course, workers=workers, by=admin)
        targets = []
        by_user = {u.id: u for u in db.scalars(select(User).where(User.id.in_(users.values())))}
        for worker, enrolment in zip(workers, enrolments, strict=True):
            token, _expires = accounts.issue_token(db=db, user=by_user[worker.user_id])
            targets.append((f"/api/v1/enrolments/{enrolment.id}/lessons/{lesson.id}/heartbeat",
                            token))
        db.commit()
    engine.dispose()
    return targets


def books_balance(url: str) -> tuple[int, int]:
    """(seconds credited on enrolments, seconds in the ledger): they must be equal."""
    from sqlalchemy import func, select

    from app.db import make_engine, open_session
    from app.learning.models import Enrolment, LedgerEntry

    engine = make_engine(url, pool_size=1)
    with open_session(write=False, engine=engine) as db:
        credited = db.scalar(select(func.coalesce(func.sum(Enrolment.credited_seconds), 0)))
        ledger = db.scalar(select(func.coalesce(func.sum(LedgerEntry.seconds), 0)))
    engine.dispose()
    return int(credited or 0), int(ledger or 0)


def run_wrk(base: str, targets_file: str, *, connections: int, seconds: int) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_LUA)
    try:
        completed = subprocess.run(
            ["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "--timeout", "10s",
             "-s", script.name, base, "--", targets_file], capture_output=True, text=True,
            check=True)
    finally:
        os.unlink(script.name)
    line = next(x for x in completed.stdout.splitlines() if x.startswith("BENCH "))
    return json.loads(line[len("BENCH "):])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--learners", type=int, default=1000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("bench/heartbeats.py needs wrk (apt-get install wrk)")
    with scratch_database(args.database_url) as url:
        os.environ.update(server_env(url))
        print(f"database: {describe_url(url)}; seeding {args.learners} learners ...")
        targets = seed(url, args.learners)
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as handle:
            handle.write("\n".join(f"{path} {token}" for path, token in targets))
        try:
            with serve("app.main:create_app", database_url=url, workers=2,
                       factory=True) as server:
                run_wrk(server.base, handle.name, connections=args.connections, seconds=3)
                result = run_wrk(server.base, handle.name, connections=args.connections,
                                 seconds=args.seconds)
        finally:
            os.unlink(handle.name)
        credited, ledger = books_balance(url)
    rate = result["requests"] / (result["duration_us"] / 1e6)
    p50, p95, p99 = (q / 1000 for q in result["quantiles_us"])
    errors = result["errors"] + result["status_errors"]
    print(f"\nheartbeats, 2 server processes, {args.connections} connections, "
          f"{args.seconds} s, {describe_url(url).split(':')[0]}")
    print(f"  beats/s      {rate:8.0f}    target >= {TARGET_RATE:.0f}   "
          f"{'PASS' if rate >= TARGET_RATE else 'FAIL'}")
    print(f"  p50 ms       {p50:8.1f}")
    print(f"  p95 ms       {p95:8.1f}")
    print(f"  p99 ms       {p99:8.1f}    target <  {TARGET_P99_MS:.0f}   "
          f"{'PASS' if p99 < TARGET_P99_MS else 'FAIL'}")
    print(f"  errors       {errors:8d}    target = 0     {'PASS' if errors == 0 else 'FAIL'}")
    print(f"  books        enrolments {credited} s = ledger {ledger} s   "
          f"{'PASS' if credited == ledger else 'FAIL'}")


if __name__ == "__main__":
    main()
