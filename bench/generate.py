"""Generate N workers with realistic training histories into a Pithead database.

    .venv/bin/python bench/generate.py --workers 200000 [--database-url URL] [--seed 1]

Enterprises (one per 500 workers by default) spread over mining prefectures of several
provinces; per worker 1-2 enrolments a year, study-ledger days, exam attempts, practical
results and certificates (some suspended or revoked) over the last three years. The database
is migrated first; workers are written in chunks of 20,000 (COPY on PostgreSQL). See
app/oversight/generator.py and docs/oversight.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

CHUNK = 20_000


def run(url: str, *, workers: int, enterprises: int | None, seed: int) -> dict[str, int]:
    """Migrate `url` and add `workers` workers with histories; returns row counts."""
    from app import schema
    from app.db import make_engine, open_session
    from app.oversight import generator

    schema.upgrade(url)
    engine = make_engine(url, pool_size=1)
    totals: dict[str, int] = {}
    enterprise_ids: list[int] | None = None
    try:
        done = 0
        while done < workers:
            size = min(CHUNK, workers - done)
            with open_session(write=True, engine=engine) as db:
                if enterprise_ids is None:
                    made = generator.generate(db=db, workers=size, seed=seed,
                                              enterprises=enterprises or max(1, workers // 500))
                    enterprise_ids = made.enterprise_ids
                else:
                    made = generator.generate(db=db, workers=size, seed=seed + done,
                                              enterprise_ids=enterprise_ids)
                db.commit()
            for name in ("enterprises", "workers", "enrolments", "ledger", "attempts",
                         "bookings", "certificates", "events"):
                totals[name] = totals.get(name, 0) + getattr(made, name)
            done += size
            print(f"  {done:>8,} workers written", flush=True)
    finally:
        engine.dispose()
    return totals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=10_000)
    parser.add_argument("--enterprises", type=int, default=None)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database-url", default=os.environ.get("PITHEAD_DATABASE_URL"))
    args = parser.parse_args()
    if not args.database_url:
        from app.config import get_settings
        args.database_url = get_settings().database_url
    started = time.perf_counter()
    totals = run(args.database_url, workers=args.workers, enterprises=args.enterprises,
                 seed=args.seed)
    print(", ".join(f"{name} {count:,}" for name, count in totals.items()),
          f"in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
