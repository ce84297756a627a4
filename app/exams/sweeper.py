"""Close attempts whose deadline has passed, even when their takers never come back.

Every app process runs this loop; closing is idempotent (rows are locked and re-checked), so
several processes sweeping at once is harmless.
"""

from __future__ import annotations

import logging
import threading

from app.db import open_session
from app.exams import service

log = logging.getLogger("pithead.exams")
SWEEP_SECONDS = 15.0


class Sweeper:
    """A daemon thread that grades expired attempts every SWEEP_SECONDS."""

    def __init__(self, interval: float = SWEEP_SECONDS) -> None:
        self.interval = interval
        self.stopping = threading.Event()
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


def sweep_once() -> int:
    """Grade every attempt past its deadline; returns how many were closed."""
    with open_session(write=True) as db:
        closed = service.close_expired(db=db)
        db.commit()
    if closed:
        log.info("closed %d attempts at their deadline", closed)
    return closed
