"""Benchmark: Pithead's signed-in home page against the floor, measured in one run.

Both servers run under uvicorn with two worker processes on one freshly seeded database
(2 enterprises, 2,000 workers with logins, 2,000 other sessions). The benchmark signs in as a
worker through the real login form, then loads `/` with that session cookie from 32
keep-alive connections, alternately from Pithead and from bench/floor_app.py (a bare
Starlette app running the same two SQL statements on the same engine setup), in rounds so
that both meet the same machine. Every response must be 200 and show the worker's name.

Target (issue 2): Pithead serves at least half of the floor's requests per second, with a p95
under 50 ms, at 32 concurrent clients on SQLite.

    .venv/bin/python bench/pages.py [--seconds 15] [--database-url postgresql+psycopg://...]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402 - the project root must be importable first
    CpuSample,
    LoadResult,
    Seeded,
    Server,
    combine,
    describe_url,
    fetch,
    home_statements,
    login,
    run_aiohttp,
    run_wrk,
    scratch_database,
    seed,
    serve,
    wrk_path,
)

TARGET_RATIO = 0.50
TARGET_P95_MS = 50.0
BUSY_MACHINE = 0.10  # warn when other processes used more than this share of the CPUs


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=15.0,
                        help="measured seconds per server, split over the rounds (default 15)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="alternations Pithead/floor (default 3)")
    parser.add_argument("--warmup", type=float, default=3.0,
                        help="unmeasured seconds per server first (default 3)")
    parser.add_argument("--connections", type=int, default=32, help="concurrent clients")
    parser.add_argument("--processes", type=int, default=2, help="worker processes per server")
    parser.add_argument("--workers", type=int, default=2000, help="seeded workers (>= 2)")
    parser.add_argument("--database-url", default=None,
                        help="a PostgreSQL server URL to create a scratch database on "
                             "(default: SQLite in a temporary directory)")
    parser.add_argument("--client", choices=["auto", "wrk", "aiohttp"], default="auto",
                        help="load generator (auto: wrk when installed, else aiohttp)")
    args = parser.parse_args()
    if args.workers < 2:
        parser.error("--workers must be at least 2")
    if args.rounds < 1 or args.seconds / args.rounds < 1:
        parser.error("each round needs at least one second per server")
    if args.client == "auto":
        args.client = "wrk" if wrk_path() else "aiohttp"
    elif args.client == "wrk" and not wrk_path():
        parser.error("wrk is not installed")
    return args


class Bench:
    """Load, and what it cost, for one server at a time."""

    def __init__(self, args: argparse.Namespace, cookie: str, seeded: Seeded) -> None:
        self.args = args
        self.cookie = f"pithead_session={cookie}"
        self.marker = seeded.full_name
        self.seeded = seeded
        self.others = 0.0  # CPU seconds other processes used during the measured slices
        self.steal = 0.0
        self.capacity = 0.0  # CPU seconds the machine had during the measured slices

    def check(self, name: str, server: Server) -> None:
        """Refuse to measure a server whose signed-in home page is not the expected one."""
        status, body = fetch(server.base + "/", self.cookie)
        expected = (self.seeded.full_name, self.seeded.enterprise_name, self.seeded.course_title)
        if status != 200 or not all(text in body for text in expected):
            raise SystemExit(f"{name}: the signed-in home page is wrong (HTTP {status}):\n"
                             f"{body[:500]}")

    def load(self, server: Server, seconds: float) -> LoadResult:
        url, connections = server.base + "/", self.args.connections
        if self.args.client == "wrk":
            return run_wrk(url, cookie=self.cookie, marker=self.marker,
                           connections=connections, seconds=seconds)
        return run_aiohttp(url, cookie=self.cookie, marker=self.marker,
                           connections=connections, seconds=seconds)

    def measure(self, server: Server, seconds: float, all_servers: list[Server]) -> LoadResult:
        before, cpu_before = CpuSample.take(), [s.cpu_seconds() for s in all_servers]
        result = self.load(server, seconds)
        after, cpu_after = CpuSample.take(), [s.cpu_seconds() for s in all_servers]
        servers_cpu = [b - a for a, b in zip(cpu_before, cpu_after, strict=True)]
        result.server_cpu = servers_cpu[all_servers.index(server)]
        elapsed = after.wall - before.wall
        ours = (after.mine - before.mine) + sum(servers_cpu)
        self.others += max(0.0, (after.busy - before.busy) - ours)
        self.steal += after.steal - before.steal
        self.capacity += elapsed * (os.cpu_count() or 1)
        return result


def _row(name: str, result: LoadResult) -> str:
    return (f"{name:<27}{result.rps:>8.0f}{result.p50:>8.1f}{result.p95:>8.1f}"
            f"{result.p99:>8.1f}{result.requests:>10}{result.non_200:>9}"
            f"{result.wrong_body:>7}{result.socket_errors:>8}{result.cpu_ms_per_request:>9.2f}")


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def main() -> None:
    args = _arguments()
    slice_seconds = max(1, round(args.seconds / args.rounds))  # wrk runs whole seconds
    with scratch_database(args.database_url) as url:
        kind = "SQLite" if url.startswith("sqlite") else "PostgreSQL"
        print(f"Seeding {describe_url(url)} ...", flush=True)
        seeded = seed(url, workers=args.workers)
        with serve("app.main:create_app", database_url=url, workers=args.processes,
                   factory=True) as app_server, \
                serve("bench.floor_app:app", database_url=url,
                      workers=args.processes) as floor_server:
            servers = {"Pithead": app_server, "floor": floor_server}
            bench = Bench(args, login(app_server.base, seeded.username, seeded.password),
                          seeded)
            statements = home_statements(url, bench.cookie)
            same_sql = statements["page"] == statements["floor"]
            if not same_sql:
                print("WARNING: the floor no longer runs the page's SQL; update "
                      "bench/floor_app.py.")
                for name, sql in statements.items():
                    print(f"  {name}:\n" + "\n".join(f"    {line}" for line in sql))
            for name, server in servers.items():
                bench.check(name, server)
                print(f"  {name}: warming up {args.warmup:g} s", flush=True)
                if args.warmup > 0:
                    bench.load(server, args.warmup)
            runs: dict[str, list[LoadResult]] = {name: [] for name in servers}
            for n in range(args.rounds):
                order = list(servers) if n % 2 == 0 else list(reversed(servers))
                line = []
                for name in order:
                    result = bench.measure(servers[name], slice_seconds, list(servers.values()))
                    runs[name].append(result)
                    line.append(f"{name} {result.rps:.0f} req/s, p95 {result.p95:.1f} ms")
                print(f"  round {n + 1}/{args.rounds}: " + "; ".join(line), flush=True)

    app, floor = combine(runs["Pithead"]), combine(runs["floor"])
    ratio = app.rps / floor.rps if floor.rps else 0.0
    cpu_ratio = (floor.cpu_ms_per_request / app.cpu_ms_per_request
                 if app.cpu_ms_per_request else 0.0)
    others = bench.others / bench.capacity if bench.capacity else 0.0
    steal = bench.steal / bench.capacity if bench.capacity else 0.0

    print()
    print(f"Signed-in home page (GET / as a worker) on {kind}: {seeded.workers:,} workers in "
          f"2 enterprises, {seeded.enrolments:,} enrolments, {seeded.ledger_rows:,} ledger rows, "
          f"{seeded.sessions:,} other sessions")
    print(f"uvicorn with {args.processes} worker processes per server; {args.client}, "
          f"{args.connections} connections, {args.rounds} x {slice_seconds:g} s per server "
          f"after {args.warmup:g} s warm-up")
    print(f"{os.cpu_count()} CPUs, Python {platform.python_version()}; other processes used "
          f"{others:.0%} of the CPUs meanwhile (steal {steal:.0%})")
    print()
    print(f"{'':<27}{'req/s':>8}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}{'requests':>10}"
          f"{'non-200':>9}{'wrong':>7}{'errors':>8}{'CPU ms':>9}")
    print(_row("Pithead (FastAPI, Jinja2)", app))
    print(_row("floor (bare Starlette)", floor))
    print(f"{'':<27}(CPU ms: server CPU time per request, both processes)")
    print()
    print(f"throughput Pithead/floor: {ratio:.2f}    target >= {TARGET_RATIO:.2f}    "
          f"{_verdict(ratio >= TARGET_RATIO)}")
    print(f"Pithead p95: {app.p95:.1f} ms{'':<{max(0, 9 - len(f'{app.p95:.1f}'))}}"
          f"target <  {TARGET_P95_MS:.0f} ms   {_verdict(app.p95 < TARGET_P95_MS)}")
    print(f"CPU per request floor/Pithead: {cpu_ratio:.2f} (the same comparison, "
          f"less sensitive to other load)")
    print("every response 200 with the worker's home: "
          + ("yes" if app.clean and floor.clean else "NO"))
    queries = [sql for sql in statements["page"] if not sql.startswith("BEGIN")]
    print(f"the floor runs the page's {len(queries)} queries, same SQL and transaction: "
          + ("yes" if same_sql else "NO (see above)"))
    if kind != "SQLite":
        print("The targets are set for SQLite; on PostgreSQL the figures are for comparison.")
    if others > BUSY_MACHINE:
        print(f"WARNING: other processes used {others:.0%} of the CPUs during the measurement; "
              f"the figures are lower and noisier than on a quiet machine.")


if __name__ == "__main__":
    main()
