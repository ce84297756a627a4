"""Shared pieces of the benchmarks: scratch databases, seed data, servers, load generators.

Nothing here is imported by the application. Run the benchmarks from the project root with the
project's virtualenv (see bench/README.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import re
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from http.client import HTTPResponse
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SECRET_KEY = "bench-" + "k" * 58  # production settings refuse keys shorter than 32 characters
PASSWORD = "bench-password-1"  # noqa: S105 - a throwaway account in a scratch database


# --- scratch databases ----------------------------------------------------------------------

@contextlib.contextmanager
def scratch_database(server_url: str | None) -> Iterator[str]:
    """A new, empty database for one run, removed afterwards.

    None: an SQLite file in a temporary directory. A PostgreSQL URL names a server (and a
    database to connect to for CREATE DATABASE); a database `pithead_bench_<random>` is
    created on it and dropped at the end.
    """
    if server_url is None or server_url.startswith("sqlite"):
        directory = tempfile.mkdtemp(prefix="pithead-bench-")
        try:
            yield f"sqlite:///{directory}/bench.db"
        finally:
            shutil.rmtree(directory, ignore_errors=True)
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"pithead_bench_{secrets.token_hex(4)}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def describe_url(url: str) -> str:
    """A database URL without its password, for printing."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


# --- seed data -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Seeded:
    username: str
    password: str
    full_name: str
    enterprise_name: str
    course_title: str  # of an active enrolment of that worker: the home page lists it
    workers: int
    sessions: int
    enrolments: int
    ledger_rows: int


COURSES = 6


def seed(url: str, *, enterprises: int = 2, workers: int = 2000, sessions: int = 2000) -> Seeded:
    """Migrate `url` and fill it: enterprises, workers with logins, courses, enrolments, a
    year of study-hours ledger, and other users' sessions.

    The first worker of the first enterprise is the one the benchmark signs in as; it has two
    active enrolments, a completed one and 40 days of study this year.
    """
    from sqlalchemy import insert

    from app import schema
    from app.accounts.models import Role, User, UserRole, WebSession
    from app.accounts.security import hash_password, token_digest
    from app.courses.models import Course, CourseKind, CourseStatus
    from app.db import make_engine, open_session, utcnow
    from app.learning.models import Enrolment, EnrolmentStatus, LedgerEntry, StudyMode
    from app.learning.service import local_day
    from app.organisations.models import Enterprise, MineType, Worker
    from app.organisations.validators import make_credit_code, make_resident_id

    schema.upgrade(url)
    engine = make_engine(url, pool_size=1)
    password_hash = hash_password(PASSWORD)  # argon2 on purpose: once, shared by every login
    regions = ["140108", "150602", "140105", "610802"]
    first_name = "王建国"
    now = utcnow()
    year_start = date(local_day(now).year, 1, 1)
    try:
        with open_session(write=True, engine=engine) as db:
            firms = [Enterprise(name=f"Bench Mining Co. {n + 1}", region_code=regions[n % 4],
                                credit_code=make_credit_code(region=regions[n % 4], org_seq=n + 1),
                                mine_type=MineType.COAL.value, above_designated_size=True)
                     for n in range(enterprises)]
            db.add_all(firms)
            db.flush()
            users, profiles = [], []
            for n in range(workers):
                firm = firms[n % enterprises]
                birth = date(1970, 1, 1) + timedelta(days=n // 1000)  # unique with sequence
                id_number = make_resident_id(region=firm.region_code, birth=birth,
                                             sequence=n % 1000)
                name = first_name if n == 0 else f"Worker {n:05d}"
                users.append({"username": id_number, "full_name": name,
                              "password_hash": password_hash, "is_active": True,
                              "enterprise_id": firm.id, "created_at": now})
                profiles.append({"enterprise_id": firm.id,
                                 "id_number": id_number, "full_name": name,
                                 "phone": "13800138000",
                                 "job_category": "coal.gas_inspection" if n % 5 == 0
                                 else "general.underground",
                                 "hired_on": date(2015, 1, 1) + timedelta(days=n % 3000),
                                 "created_at": now, "updated_at": now})
            user_ids = list(db.scalars(
                insert(User).returning(User.id, sort_by_parameter_order=True), users))
            db.execute(insert(UserRole), [{"user_id": i, "role": Role.WORKER.value}
                                          for i in user_ids])
            worker_ids = list(db.scalars(
                insert(Worker).returning(Worker.id, sort_by_parameter_order=True),
                [{**p, "user_id": i} for p, i in zip(profiles, user_ids, strict=True)]))
            course_ids = list(db.scalars(
                insert(Course).returning(Course.id, sort_by_parameter_order=True),
                [{"code": f"BENCH-{k + 1:03d}", "version": 1,
                  "status": CourseStatus.PUBLISHED.value,
                  "title": {"en": f"Bench safety course {k + 1}",
                            "zh": f"基准安全课程 {k + 1}"},
                  "description": {"en": "Seeded by bench/common.py"},
                  "job_category": "general.underground", "kind": CourseKind.GENERAL.value,
                  "credit_hours": 8.0, "required_minutes": 480, "created_at": now,
                  "published_at": now} for k in range(COURSES)]))
            enrolments, ledger = [], []
            for n, worker_id in enumerate(worker_ids):
                mine = [(0, EnrolmentStatus.ACTIVE), (1, EnrolmentStatus.ACTIVE),
                        (2, EnrolmentStatus.COMPLETED)] if n == 0 else \
                    [((n + k) % COURSES, EnrolmentStatus.ACTIVE if k == 0
                      else EnrolmentStatus.COMPLETED) for k in range(1 + (n % 3 == 0))]
                for k, status in mine:
                    done = status == EnrolmentStatus.COMPLETED
                    enrolments.append({
                        "course_id": course_ids[k], "worker_id": worker_id,
                        "status": status.value, "enrolled_at": now - timedelta(days=30 + k),
                        "deadline": year_start + timedelta(days=360),
                        "completed_at": now if done else None,
                        "credited_seconds": 28800 if done else 3600 * (n % 7),
                        "lessons_completed": 12 if done else n % 12, "lessons_total": 12})
                for day in range(40 if n == 0 else 8):
                    ledger.append({"worker_id": worker_id, "day": year_start + timedelta(day),
                                   "course_id": course_ids[mine[0][0]],
                                   "mode": StudyMode.ONLINE.value, "seconds": 1500})
                ledger.append({"worker_id": worker_id, "day": year_start + timedelta(50),
                               "course_id": None, "mode": StudyMode.OFFLINE.value,
                               "seconds": 7200})
            db.execute(insert(Enrolment), enrolments)
            db.execute(insert(LedgerEntry), ledger)
            expires = now + timedelta(hours=12)
            db.execute(insert(WebSession), [
                {"token_hash": token_digest(secrets.token_urlsafe(32)),
                 "user_id": user_ids[1 + n % (workers - 1)], "expires_at": expires,
                 "created_at": now, "ip": "127.0.0.1", "user_agent": "bench"}
                for n in range(sessions)])
            db.commit()
            return Seeded(username=str(users[0]["username"]), password=PASSWORD,
                          full_name=first_name, enterprise_name=firms[0].name,
                          course_title="Bench safety course 1", workers=workers,
                          sessions=sessions, enrolments=len(enrolments),
                          ledger_rows=len(ledger))
    finally:
        engine.dispose()


# --- servers -------------------------------------------------------------------------------

def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env(database_url: str) -> dict[str, str]:
    """The environment of a benchmarked server: production settings on the scratch database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PITHEAD_")}
    env.update({"PITHEAD_DATABASE_URL": database_url, "PITHEAD_ENV": "production",
                "PITHEAD_SECRET_KEY": SECRET_KEY, "PITHEAD_MEDIA_DIR": tempfile.gettempdir(),
                # required in production; no benchmark follows the links it goes into
                "PITHEAD_BASE_URL": "http://127.0.0.1"})
    return env


@dataclass
class Server:
    """A running uvicorn: its base URL and its process group (supervisor and workers)."""

    base: str
    process: subprocess.Popen[bytes]

    def cpu_seconds(self) -> float:
        """CPU time used so far by the processes of this server (Linux /proc; 0 elsewhere)."""
        return process_group_cpu(self.process.pid)


@contextlib.contextmanager
def serve(target: str, *, database_url: str, workers: int = 2, factory: bool = False,
          ready_timeout: float = 60.0) -> Iterator[Server]:
    """Run `uvicorn target` with `workers` processes, in a process group of its own; yields it
    once /healthz answers 200, stops it afterwards."""
    port = free_port()
    command = [str(BIN / "uvicorn"), target, "--host", "127.0.0.1", "--port", str(port),
               "--workers", str(workers), "--no-access-log", "--log-level", "warning"]
    if factory:
        command.insert(2, "--factory")
    process = subprocess.Popen(command, cwd=ROOT, env=server_env(database_url),
                               start_new_session=True)
    server = Server(base=f"http://127.0.0.1:{port}", process=process)
    try:
        _wait_healthy(server.base, process, ready_timeout)
        yield server
    finally:
        _stop(process)


def _wait_healthy(base: str, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before it was ready")
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{base}/healthz did not answer 200 within {timeout:.0f} s")
        time.sleep(0.1)  # polling a child process we started, not synchronising a test


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)  # our own process group (start_new_session)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


# --- the floor runs what the page runs ----------------------------------------------------

def home_statements(database_url: str, cookie: str) -> dict[str, list[str]]:
    """The SQL statements Pithead's home page and the floor each run for one request with
    `cookie`, recorded in a separate process configured like the servers."""
    completed = subprocess.run(
        [sys.executable, "-c", "from bench.common import _print_home_statements as p; p()",
         cookie], cwd=ROOT, env=server_env(database_url), capture_output=True, text=True,
        check=False)
    if completed.returncode != 0:
        raise RuntimeError("recording the statements failed:\n" + completed.stderr[-3000:])
    result: dict[str, list[str]] = json.loads(completed.stdout.splitlines()[-1])
    return result


def _print_home_statements() -> None:
    from fastapi.testclient import TestClient
    from sqlalchemy import Engine, event

    import bench.floor_app as floor
    from app.db import get_engine
    from app.main import create_app

    def recorded(engine: Engine, app: Any) -> list[str]:
        statements: list[str] = []

        def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            # Parameter names may differ (psycopg renders them); the SQL may not.
            statements.append(re.sub(r"%\(\w+\)s", "%s", " ".join(statement.split())))

        event.listen(engine, "before_cursor_execute", record)
        response = TestClient(app).get("/", headers={"Cookie": sys.argv[1]})
        event.remove(engine, "before_cursor_execute", record)
        if response.status_code != 200:
            raise SystemExit(f"GET / answered {response.status_code}")
        return statements

    page = recorded(get_engine(), create_app())
    bare = recorded(floor.engine, floor.app)
    print(json.dumps({"page": page, "floor": bare}))


# --- CPU accounting (Linux) ----------------------------------------------------------------

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def process_group_cpu(pgid: int) -> float:
    """User + system CPU seconds of the live processes in process group `pgid`."""
    total = 0
    for entry in Path("/proc").glob("[0-9]*/stat"):
        try:
            raw = entry.read_text()
        except OSError:
            continue  # the process ended meanwhile
        fields = raw[raw.rfind(")") + 2:].split()
        if int(fields[2]) == pgid:
            total += int(fields[11]) + int(fields[12])
    return total / _TICK


@dataclass(frozen=True)
class CpuSample:
    """Machine-wide busy and steal time, and what this script and its children used."""

    wall: float
    busy: float
    steal: float
    mine: float  # this process and its waited-for children (wrk runs)

    @classmethod
    def take(cls) -> CpuSample:
        busy = steal = 0.0
        with contextlib.suppress(OSError):
            fields = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
            # user nice system idle iowait irq softirq steal ...
            busy = (sum(fields[:3]) + sum(fields[5:8])) / _TICK
            steal = fields[7] / _TICK if len(fields) > 7 else 0.0
        me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(
            resource.RUSAGE_CHILDREN)
        mine = me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime
        return cls(wall=time.monotonic(), busy=busy, steal=steal, mine=mine)


# --- HTTP helpers --------------------------------------------------------------------------

class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _cookies(response: HTTPResponse | urllib.error.HTTPError) -> dict[str, str]:
    found = {}
    for line in response.headers.get_all("Set-Cookie") or []:
        name, _, rest = line.partition("=")
        found[name.strip()] = rest.split(";", 1)[0]
    return found


def login(base: str, username: str, password: str) -> str:
    """Sign in through the real login form; returns the `pithead_session` cookie value.

    Cookies are handled by hand: production marks them Secure and this is plain HTTP.
    """
    opener = urllib.request.build_opener(_NoRedirect)
    with opener.open(base + "/login", timeout=10) as page:
        html = page.read().decode()
        anon = _cookies(page)
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    if not match:
        raise RuntimeError("no csrf_token on the login page")
    form = urllib.parse.urlencode({"username": username, "password": password, "next": "/",
                                   "csrf_token": match.group(1)}).encode()
    request = urllib.request.Request(
        base + "/login", data=form, method="POST",
        headers={"Cookie": "; ".join(f"{k}={v}" for k, v in anon.items())})
    try:
        with opener.open(request, timeout=10) as response:
            status, cookies = response.status, _cookies(response)
    except urllib.error.HTTPError as exc:  # the 303 surfaces as an error without redirects
        status, cookies = exc.code, _cookies(exc)
    if status != 303 or "pithead_session" not in cookies:
        raise RuntimeError(f"login failed: HTTP {status}")
    return cookies["pithead_session"]


def fetch(url: str, cookie: str) -> tuple[int, str]:
    """One GET with the session cookie: status and body."""
    request = urllib.request.Request(url, headers={"Cookie": cookie})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


# --- load generators -----------------------------------------------------------------------

# Latency is kept as its quantiles at 0.1 %, 0.2 %, ... 99.9 %: enough to pool several runs
# (each point stands for 0.1 % of its run's requests) and read p50/p95/p99 of the whole.
QUANTILE_POINTS = [i / 10 for i in range(1, 1000)]


@dataclass
class LoadResult:
    """One or more measured runs against one server. Latencies in milliseconds."""

    client: str
    seconds: float
    requests: int  # completed responses, whatever their status
    non_200: int
    wrong_body: int  # 200 without the expected text
    socket_errors: int  # connect/read/write errors and timeouts
    quantiles: list[float]  # latency at QUANTILE_POINTS
    server_cpu: float = 0.0  # CPU seconds the server's processes used meanwhile

    @property
    def ok(self) -> int:
        """Responses that were 200 and showed the expected page."""
        return self.requests - self.non_200 - self.wrong_body

    @property
    def rps(self) -> float:
        """Good responses per second."""
        return self.ok / self.seconds if self.seconds else 0.0

    @property
    def clean(self) -> bool:
        return self.non_200 == 0 and self.wrong_body == 0 and self.socket_errors == 0

    @property
    def cpu_ms_per_request(self) -> float:
        return self.server_cpu / self.requests * 1000 if self.requests else 0.0

    def percentile(self, p: float) -> float:
        return pooled_percentile([self], p)

    @property
    def p50(self) -> float:
        return self.percentile(50)

    @property
    def p95(self) -> float:
        return self.percentile(95)

    @property
    def p99(self) -> float:
        return self.percentile(99)


def pooled_percentile(results: Sequence[LoadResult], p: float) -> float:
    """The latency percentile `p` of all the requests of `results` together."""
    points = sorted((value, result.requests / len(result.quantiles))
                    for result in results if result.requests for value in result.quantiles)
    if not points:
        return 0.0
    goal = p / 100 * sum(weight for _value, weight in points)
    seen = 0.0
    for value, weight in points:
        seen += weight
        if seen >= goal * (1 - 1e-9):
            return value
    return points[-1][0]


def combine(results: Sequence[LoadResult]) -> LoadResult:
    """Several runs against the same server as one: totals, pooled latency quantiles."""
    pooled = [pooled_percentile(results, p) for p in QUANTILE_POINTS]
    return LoadResult(client=results[0].client, seconds=sum(r.seconds for r in results),
                      requests=sum(r.requests for r in results),
                      non_200=sum(r.non_200 for r in results),
                      wrong_body=sum(r.wrong_body for r in results),
                      socket_errors=sum(r.socket_errors for r in results),
                      quantiles=pooled, server_cpu=sum(r.server_cpu for r in results))


WRK_SCRIPT = r"""
-- args: cookie header value, text every good response contains
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  wrk.headers["Cookie"] = args[1]
  marker = args[2]
  non200 = 0
  wrong = 0
end

function response(status, headers, body)
  if status ~= 200 then
    non200 = non200 + 1
  elseif not string.find(body, marker, 1, true) then
    wrong = wrong + 1
  end
end

function done(summary, latency, requests)
  local non, bad = 0, 0
  for _, t in ipairs(threads) do
    non = non + t:get("non200")
    bad = bad + t:get("wrong")
  end
  local q = {}
  for i = 1, 999 do
    q[i] = string.format("%d", latency:percentile(i / 10))
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "non_200": %d, "wrong_body": %d, ' ..
    '"socket_errors": %d, "quantiles_us": [%s]}\n',
    summary.requests, summary.duration, non, bad,
    e.connect + e.read + e.write + e.timeout, table.concat(q, ",")))
end
"""


def wrk_path() -> str | None:
    """The wrk binary, if installed."""
    return shutil.which("wrk")


def run_wrk(url: str, *, cookie: str, marker: str, connections: int, seconds: float,
            threads: int = 1) -> LoadResult:
    """A closed loop by wrk: `connections` keep-alive connections, each sending its next
    request when the last one is answered, for `seconds` (whole seconds)."""
    wrk = wrk_path()
    assert wrk is not None
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT)
    try:
        completed = subprocess.run(
            [wrk, "-t", str(threads), "-c", str(connections), "-d", f"{max(1, round(seconds))}s",
             "--timeout", "10s", "-s", script.name, url, "--", cookie, marker],
            capture_output=True, text=True, check=True)
    finally:
        os.unlink(script.name)
    line = next((x for x in completed.stdout.splitlines() if x.startswith("BENCH ")), None)
    if line is None:
        raise RuntimeError("wrk printed no result:\n" + completed.stdout + completed.stderr)
    data = json.loads(line[len("BENCH "):])
    return LoadResult(client="wrk", seconds=data["duration_us"] / 1e6,
                      requests=int(data["requests"]), non_200=int(data["non_200"]),
                      wrong_body=int(data["wrong_body"]),
                      socket_errors=int(data["socket_errors"]),
                      quantiles=[us / 1000 for us in data["quantiles_us"]])


def percentile(values: Sequence[float], p: float) -> float:
    """The nearest-rank percentile of sorted `values` (0 when empty)."""
    if not values:
        return 0.0
    rank = max(1, min(len(values), math.ceil(p / 100 * len(values))))
    return values[rank - 1]


def run_aiohttp(url: str, *, cookie: str, marker: str, connections: int,
                seconds: float) -> LoadResult:
    """The same closed loop as run_wrk with an asyncio client (slower: it shares the CPU)."""
    return asyncio.run(_aiohttp_loop(url, cookie, marker, connections, seconds))


async def _aiohttp_loop(url: str, cookie: str, marker: str, connections: int,
                        seconds: float) -> LoadResult:
    import aiohttp

    latencies: list[float] = []
    counts = {"non_200": 0, "wrong": 0, "errors": 0}
    connector = aiohttp.TCPConnector(limit=connections)
    timeout = aiohttp.ClientTimeout(total=10)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout,
                                     headers={"Cookie": cookie}) as session:
        start = time.perf_counter()
        deadline = start + seconds

        async def one_client() -> None:
            while time.perf_counter() < deadline:
                began = time.perf_counter()
                try:
                    async with session.get(url) as response:
                        body = await response.text()
                        status = response.status
                except (aiohttp.ClientError, TimeoutError):
                    counts["errors"] += 1
                    continue
                latencies.append((time.perf_counter() - began) * 1000)
                if status != 200:
                    counts["non_200"] += 1
                elif marker not in body:
                    counts["wrong"] += 1

        await asyncio.gather(*(one_client() for _ in range(connections)))
        elapsed = time.perf_counter() - start
    latencies.sort()
    return LoadResult(client="aiohttp", seconds=elapsed, requests=len(latencies),
                      non_200=counts["non_200"], wrong_body=counts["wrong"],
                      socket_errors=counts["errors"],
                      quantiles=[percentile(latencies, p) for p in QUANTILE_POINTS])


def named_processes_cpu(name: str) -> float:
    """User + system CPU seconds of the live processes called `name` (e.g. "postgres", a local
    database server's share of a run; Linux /proc; 0 elsewhere)."""
    total = 0
    for entry in Path("/proc").glob("[0-9]*/stat"):
        try:
            raw = entry.read_text()
        except OSError:
            continue  # the process ended meanwhile
        if raw[raw.find("(") + 1:raw.rfind(")")] == name:
            fields = raw[raw.rfind(")") + 2:].split()
            total += int(fields[11]) + int(fields[12])
    return total / _TICK
