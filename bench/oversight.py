"""The regional oversight dashboard and an enterprise's compliance list at scale (issue 10).

    .venv/bin/python bench/oversight.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/oversight.py --workers 20000          # SQLite, a smaller run
    .venv/bin/python bench/oversight.py --reuse --database-url postgresql+psycopg://postgres@127.0.0.1:5432/pithead_bench_keep

With --reuse the URL names the database itself: it is migrated to the newest schema, filled only
when it holds no workers yet, and kept afterwards, so later runs skip the few minutes of
generating (drop it yourself when done).

Generates `--workers` workers (default 200,000, about a million enrolments; bench/generate.py)
in a scratch database, starts Pithead (two uvicorn processes, production settings) and times,
through HTTP with a regulator's and an admin's bearer tokens: the province dashboard (JSON and
HTML page), the whole-country dashboard, and the largest enterprise's compliance list (first
page, JSON and HTML). Each is asked `--repeat` times after one cold request; target: every
answer under 1 s. Prints row counts, then per request the cold time, median and max.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import PASSWORD, describe_url, scratch_database, serve  # noqa: E402
from bench.generate import run as generate  # noqa: E402

TARGET_SECONDS = 1.0


def _users(url: str) -> tuple[int, str]:
    """A Shanxi regulator and an admin with the bench password (unless an earlier run made
    them); the province's largest enterprise (id) and the province code."""
    from sqlalchemy import func, select

    from app.accounts.models import Role, User, UserRole
    from app.accounts.security import hash_password
    from app.db import make_engine, open_session
    from app.organisations.models import Enterprise, Worker

    engine = make_engine(url, pool_size=1)
    try:
        with open_session(write=True, engine=engine) as db:
            password = hash_password(PASSWORD)
            existing = set(db.scalars(select(User.username).where(
                User.username.in_(("bench-regulator", "bench-admin")))))
            users = [User(username="bench-regulator", full_name="Bench Regulator",
                          password_hash=password, region_code="14",
                          roles=[UserRole(role=Role.REGULATOR.value)]),
                     User(username="bench-admin", full_name="Bench Admin",
                          password_hash=password, roles=[UserRole(role=Role.ADMIN.value)])]
            # --reuse: an earlier run made them (with the same password)
            db.add_all([user for user in users if user.username not in existing])
            largest = db.execute(
                select(Worker.enterprise_id, func.count()).join(
                    Enterprise, Enterprise.id == Worker.enterprise_id)
                .where(Enterprise.region_code.startswith("14"))
                .group_by(Worker.enterprise_id).order_by(func.count().desc()).limit(1)).one()
            db.commit()
            return int(largest[0]), "14"
    finally:
        engine.dispose()


def _token(base: str, username: str) -> str:
    data = urllib.parse.urlencode({"username": username, "password": PASSWORD}).encode()
    with urllib.request.urlopen(base + "/api/v1/auth/token", data=data, timeout=30) as response:
        return str(json.loads(response.read())["access_token"])


def _time(url: str, token: str) -> tuple[float, int, int]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}",
                                                   "Accept-Language": "zh-CN"})
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=120) as response:
        body = response.read()
        status = response.status
    return time.perf_counter() - started, status, len(body)


def _has_workers(url: str) -> bool:
    """Migrate `url` to the newest schema; whether it holds workers already (--reuse)."""
    from sqlalchemy import create_engine, inspect, select

    from app import schema
    from app.organisations.models import Worker

    engine = create_engine(url)
    try:
        if "workers" not in inspect(engine).get_table_names():
            return False
    finally:
        engine.dispose()
    schema.upgrade(url)
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.scalar(select(Worker.id).limit(1)) is not None
    finally:
        engine.dispose()


def _counts(url: str) -> str:
    from sqlalchemy import func, select

    from app.db import make_engine, open_session
    from app.models import Base

    engine = make_engine(url, pool_size=1)
    names = ("enterprises", "workers", "enrolments", "study_ledger", "attempts", "bookings",
             "certificates")
    try:
        with open_session(write=False, engine=engine) as db:
            tables = Base.metadata.tables
            return ", ".join(f"{name} {db.scalar(select(func.count()).select_from(tables[name])):,}"
                             for name in names)
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=None,
                        help="a PostgreSQL server URL (a scratch database is made on it); "
                             "default SQLite in a temporary directory")
    parser.add_argument("--workers", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--reuse", action="store_true",
                        help="use the database --database-url names as it is (generated only "
                             "when empty) and keep it")
    args = parser.parse_args()
    if args.reuse and not args.database_url:
        parser.error("--reuse needs --database-url naming the database to keep")
    databases = (contextlib.nullcontext(args.database_url) if args.reuse
                 else scratch_database(args.database_url))
    with databases as url:
        print(f"database: {describe_url(url)}")
        started = time.perf_counter()
        if args.reuse and _has_workers(url):
            print(f"reused: {_counts(url)}")
        else:
            generate(url, workers=args.workers, enterprises=None, seed=1)
            print(f"generated in {time.perf_counter() - started:.0f} s: {_counts(url)}")
        enterprise_id, province = _users(url)
        if url.startswith("postgresql"):
            from sqlalchemy import create_engine, text
            engine = create_engine(url, isolation_level="AUTOCOMMIT")
            with engine.connect() as connection:
                connection.execute(text("VACUUM ANALYZE"))
            engine.dispose()
        with serve("app.main:create_app", database_url=url, workers=2, factory=True) as server:
            regulator = _token(server.base, "bench-regulator")
            admin = _token(server.base, "bench-admin")
            probes = [
                ("dashboard JSON, province 14 (regulator)",
                 f"/api/v1/oversight?region={province}", regulator),
                ("dashboard page, province 14 (regulator)", "/oversight", regulator),
                ("dashboard JSON, every region (admin)", "/api/v1/oversight", admin),
                ("compliance JSON, largest enterprise, first page",
                 f"/api/v1/enterprises/{enterprise_id}/compliance", regulator),
                ("compliance page, largest enterprise, first page",
                 f"/enterprises/{enterprise_id}/compliance", regulator),
            ]
            failed = False
            for label, path, token in probes:
                cold, status, size = _time(server.base + path, token)
                warm = [_time(server.base + path, token)[0] for _ in range(args.repeat)]
                worst = max([cold, *warm])
                verdict = "PASS" if worst < TARGET_SECONDS and status == 200 else "FAIL"
                failed |= verdict == "FAIL"
                print(f"{label:<50} HTTP {status} {size / 1024:7.0f} KiB  cold "
                      f"{cold * 1000:6.0f} ms  median {statistics.median(warm) * 1000:6.0f} ms"
                      f"  max {worst * 1000:6.0f} ms  (target < {TARGET_SECONDS * 1000:.0f} ms)"
                      f"  {verdict}")
            print("overall:", "FAIL" if failed else "PASS")


if __name__ == "__main__":
    main()
