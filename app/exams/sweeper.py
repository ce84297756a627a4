"""Close attempts whose deadline has passed, even when their takers never come back.

Every app process runs this loop; closing is idempotent (rows are locked and re-checked), so
several processes sweeping at once is harmless.
"""

from __future__ import annotations

import logging
import threading
import time

from app.db import open_session
from app.exams import service

log = logging.getLogger("pithead.exams")
SWEEP_SECONDS = 15.0
LIFECYCLE_SECONDS = 3600.0  # the certificates' daily pass, at most hourly per process


class Sweeper:
    """A daemon thread that grades expired attempts every SWEEP_SECONDS."""

    def __init__(self, interval: float = SWEEP_SECONDS) -> None:
        self.interval = interval
        self.stopping = threading.Event()
        self.lifecycle_at: float | None = None
        self.thread = threading.Thread(target=self._run, name="pithead-exam-sweeper",
                                       daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=5)

    def _run(self) -> None:
        while not self.stopping.wait(self.interval):
            try:
                sweep_once()
            except Exception:  # noqa: BLE001 - keep sweeping; the next round retries
                log.exception("closing expired attempts failed")
            now = time.monotonic()
            if self.lifecycle_at is None or now - self.lifecycle_at >= LIFECYCLE_SECONDS:
                self.lifecycle_at = now
                try:
                    lifecycle_once()
                except Exception:  # noqa: BLE001 - the next hour retries; the pass is idempotent
                    log.exception("the certificates' lifecycle pass failed")


def sweep_once() -> int:
    """Grade every attempt past its deadline; returns how many were closed."""
    with open_session(write=True) as db:
        closed = service.close_expired(db=db)
        db.commit()
    if closed:
        log.info("closed %d attempts at their deadline", closed)
    return closed


def lifecycle_once() -> None:
    """The certificates' pass (reminders, review enrolments, reviews, expiry); idempotent."""
    from app.certificates import lifecycle
    from app.certificates.service import today

    with open_session(write=True) as db:
        outcome = lifecycle.run(db, today())
        db.commit()
    if outcome.reminders or outcome.enrolments or outcome.reviewed or outcome.expired:
        log.info("certificates: %s", outcome)
