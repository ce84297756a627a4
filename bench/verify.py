"""Public certificate verification by number: lookups/s and latency with two server processes.

Seeds a scratch database with CERTIFICATES certificates (held by a few thousand workers), starts
Pithead with two uvicorn processes and drives it with wrk: every request is
GET /api/v1/certificates/{number}/verification of a random existing number, and every tenth
one a well-formed number that does not exist (404 expected).

The public endpoint is throttled per address (PITHEAD_VERIFY_RATE_PER_MINUTE, default 120):
all the load comes from 127.0.0.1, so the benchmark server runs with the budget raised (see
--rate-per-minute); the throttle's own cost is still paid on every request.

    .venv/bin/python bench/verify.py [--seconds 15] [--connections 8] [--certificates 200000]
                                     [--database-url postgresql+psycopg://postgres@127.0.0.1/test]

Target (issue 6): at least 1,000 lookups/s with p99 under 50 ms on SQLite with two server
processes, 200,000 certificates seeded.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common  # noqa: E402
from bench.common import describe_url, scratch_database, server_env  # noqa: E402

TARGET_RATE = 1000.0
TARGET_P99_MS = 50.0
PER_WORKER = 50
CHUNK = 5000

WRK_LUA = r"""
local numbers = {}
local counter = 0
local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end
function init(args)
  for line in io.lines(args[1]) do numbers[#numbers + 1] = line end
  unknown = args[2]
  addresses = tonumber(args[3])
  ok, missing, other, wrong = 0, 0, 0, 0
  math.randomseed(os.time() * 100 + id)
end
function request()
  counter = counter + 1
  local number
  if counter % 10 == 0 then number = unknown else number = numbers[math.random(#numbers)] end
  local n = math.random(0, addresses - 1)
  local address = string.format("10.%d.%d.1", math.floor(n / 256), n % 256)
  return wrk.format("GET", "/api/v1/certificates/" .. number .. "/verification",
    {["X-Forwarded-For"] = address})
end
function response(status, headers, body)
  if status == 200 then
    ok = ok + 1
    if not string.find(body, '"status":"valid"', 1, true) then wrong = wrong + 1 end
  elseif status == 404 then missing = missing + 1
  else other = other + 1 end
end
function done(summary, latency, requests)
  local a, m, o, w = 0, 0, 0, 0
  for _, t in ipairs(threads) do
    a = a + t:get("ok"); m = m + t:get("missing"); o = o + t:get("other"); w = w + t:get("wrong")
  end
  local q = {}
  for _, p in ipairs({50, 95, 99}) do q[#q + 1] = latency:percentile(p) end
  io.write(string.format('BENCH {"requests": %d, "duration_us": %d, "socket_errors": %d, ' ..
    '"ok": %d, "not_found": %d, "other_status": %d, "wrong_body": %d, ' ..
    '"quantiles_us": [%d, %d, %d]}\n', summary.requests, summary.duration,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    a, m, o, w, q[1], q[2], q[3]))
end
"""


def _unique_numbers(count: int) -> list[str]:
    from app.certificates.numbers import new_number

    seen: set[str] = set()
    while len(seen) < count:
        seen.add(new_number())
    return list(seen)


def seed(url: str, certificates: int) -> tuple[list[str], str]:
    """Migrate and fill: one enterprise, certificates / PER_WORKER workers, `certificates`
    valid certificates; returns (their numbers, a well-formed number that is not issued)."""
    from sqlalchemy import insert, select

    from app import schema
    from app.accounts.models import Role, User, UserRole
    from app.certificates.models import Certificate
    from app.courses.models import Course
    from app.db import make_engine, open_session, utcnow
    from app.organisations.models import Enterprise, Worker
    from app.organisations.validators import make_credit_code, make_resident_id

    schema.upgrade(url)
    engine = make_engine(url, pool_size=1)
    workers = -(-certificates // PER_WORKER)
    numbers = _unique_numbers(certificates + 1)
    unknown = numbers.pop()
    now = utcnow()
    issued = date.today() - timedelta(days=200)
    with open_session(write=True, engine=engine) as db:
        enterprise = Enterprise(name="Bench Verification Coal", region_code="140105",
                                credit_code=make_credit_code(region="140105", org_seq=91),
                                mine_type="coal", above_designated_size=True)
        db.add(enterprise)
        course = Course(code="BENCH-CERT", version=1, status="published",
                        title={"en": "Bench certificate course"},
                        job_category="general.underground", kind="initial", credit_hours=72,
                        certificate={"title": {"en": "Bench certificate",
                                               "zh_CN": "基准证书"}})
        db.add(course)
        db.flush()
        ids = [make_resident_id(region="140105", birth=date(1970, 1, 1) + timedelta(days=n // 1000),
                                sequence=n % 1000) for n in range(workers)]
        db.execute(insert(User), [{"username": i, "full_name": f"工人{n}", "password_hash": None,
                                   "enterprise_id": enterprise.id, "is_active": True,
                                   "created_at": now} for n, i in enumerate(ids)])
        users = {name: uid for name, uid in db.execute(
            select(User.username, User.id).where(User.username.in_(ids)))}
        db.execute(insert(UserRole), [{"user_id": users[i], "role": Role.WORKER.value}
                                      for i in ids])
        db.execute(insert(Worker), [{"user_id": users[i], "enterprise_id": enterprise.id,
                                     "id_number": i, "full_name": f"王{n}",
                                     "phone": "13800138000",
                                     "job_category": "general.underground",
                                     "hired_on": date(2015, 1, 1), "created_at": now,
                                     "updated_at": now} for n, i in enumerate(ids)])
        worker_ids = list(db.scalars(select(Worker.id).order_by(Worker.id)))
        title = {"en": "Bench certificate", "zh_CN": "基准证书"}
        for start in range(0, certificates, CHUNK):
            db.execute(insert(Certificate), [{
                "number": numbers[n], "worker_id": worker_ids[n // PER_WORKER],
                "course_id": course.id, "course_code": course.code, "title": title,
                "job_category": "general.underground", "issued_on": issued,
                "expires_on": issued + timedelta(days=6 * 365),
                "review_due_on": issued + timedelta(days=3 * 365), "review_years": 3,
                "status": "valid", "status_reason": "", "status_index": n,
                "issuer": "Pithead bench", "source": {}, "created_at": now}
                for n in range(start, min(certificates, start + CHUNK))])
        db.commit()
    engine.dispose()
    return numbers, unknown


@contextlib.contextmanager
def serve_with(database_url: str, extra_env: dict[str, str], *,
               workers: int = 2) -> Iterator[common.Server]:
    """bench.common.serve, with extra environment variables for the server."""
    port = common.free_port()
    command = [str(common.BIN / "uvicorn"), "--factory", "app.main:create_app", "--host",
               "127.0.0.1", "--port", str(port), "--workers", str(workers), "--no-access-log",
               "--log-level", "warning"]
    process = subprocess.Popen(command, cwd=common.ROOT,
                               env={**server_env(database_url), **extra_env},
                               start_new_session=True)
    server = common.Server(base=f"http://127.0.0.1:{port}", process=process)
    try:
        common._wait_healthy(server.base, process, 60.0)
        yield server
    finally:
        common._stop(process)


def run_wrk(base: str, numbers_file: str, unknown: str, *, connections: int,
            seconds: int, addresses: int) -> dict[str, object]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_LUA)
    try:
        completed = subprocess.run(
            ["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "--timeout", "10s",
             "-s", script.name, base, "--", numbers_file, unknown,
             str(addresses)], capture_output=True,
            text=True, check=False)
    finally:
        os.unlink(script.name)
    line = next((x for x in completed.stdout.splitlines() if x.startswith("BENCH ")), None)
    if completed.returncode != 0 or line is None:
        raise RuntimeError("wrk failed:\n" + completed.stdout + completed.stderr)
    result: dict[str, object] = json.loads(line[len("BENCH "):])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--certificates", type=int, default=200_000)
    parser.add_argument("--addresses", type=int, default=10_000,
                        help="distinct client addresses (X-Forwarded-For, trusted from "
                             "127.0.0.1 by uvicorn) the lookups come from")
    parser.add_argument("--rate-per-minute", type=int, default=100_000,
                        help="PITHEAD_VERIFY_RATE_PER_MINUTE of the benchmark server")
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("bench/verify.py needs wrk (apt-get install wrk)")
    with scratch_database(args.database_url) as url:
        os.environ.update(server_env(url))
        print(f"database: {describe_url(url)}; seeding {args.certificates} certificates ...")
        began = time.perf_counter()
        numbers, unknown = seed(url, args.certificates)
        print(f"seeded in {time.perf_counter() - began:.1f} s "
              f"({-(-args.certificates // PER_WORKER)} workers, {PER_WORKER} certificates each)")
        print(f"server: PITHEAD_VERIFY_RATE_PER_MINUTE={args.rate_per_minute} (default 120), "
              f"lookups from {args.addresses} addresses (X-Forwarded-For): the throttle runs "
              "on every request, refusing none")
        random.shuffle(numbers)
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as handle:
            handle.write("\n".join(numbers))
        try:
            with serve_with(url, {"PITHEAD_VERIFY_RATE_PER_MINUTE":
                                  str(args.rate_per_minute)}) as server:
                run_wrk(server.base, handle.name, unknown, connections=args.connections, seconds=3,
                        addresses=args.addresses)
                load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
                cpu_before = server.cpu_seconds()
                result = run_wrk(server.base, handle.name, unknown, connections=args.connections,
                                 seconds=args.seconds, addresses=args.addresses)
                cpu = server.cpu_seconds() - cpu_before
        finally:
            os.unlink(handle.name)
    requests = int(result["requests"])  # type: ignore[call-overload]
    rate = requests / (int(result["duration_us"]) / 1e6)  # type: ignore[call-overload]
    p50, p95, p99 = (q / 1000 for q in result["quantiles_us"])  # type: ignore[attr-defined]
    not_found = int(result["not_found"])  # type: ignore[call-overload]
    errors = sum(int(result[k]) for k in ("socket_errors", "other_status",  # type: ignore[call-overload]
                                          "wrong_body"))
    share = not_found / requests if requests else 0.0
    print(f"\nverification by number, 2 server processes, {args.connections} connections, "
          f"{args.seconds} s, {describe_url(url).split(':')[0]}, "
          f"{args.certificates} certificates")
    print(f"  lookups/s    {rate:8.0f}    target >= {TARGET_RATE:.0f}  "
          f"{'PASS' if rate >= TARGET_RATE else 'FAIL'}")
    print(f"  p50 ms       {p50:8.1f}")
    print(f"  p95 ms       {p95:8.1f}")
    print(f"  p99 ms       {p99:8.1f}    target <  {TARGET_P99_MS:.0f}    "
          f"{'PASS' if p99 < TARGET_P99_MS else 'FAIL'}")
    print(f"  errors       {errors:8d}    target = 0     {'PASS' if errors == 0 else 'FAIL'}"
          f"   (socket {result['socket_errors']}, other status {result['other_status']}, "
          f"200 without status valid {result['wrong_body']})")
    print(f"  server CPU   {cpu / requests * 1000 if requests else 0:8.2f} ms per lookup "
          f"(both processes; {os.cpu_count()} CPUs here, shared with wrk; load average before "
          f"the run {load:.1f})")
    print(f"  404 share    {share:8.1%}    expected ~10% (every tenth number is unknown)   "
          f"{'PASS' if abs(share - 0.1) < 0.01 else 'FAIL'}")


if __name__ == "__main__":
    main()
