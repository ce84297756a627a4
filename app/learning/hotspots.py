"""The panorama hazard drill, judged on the server.

The lesson page never carries the position or the flag of a hazard the learner has not found:
the page sends the direction of each tap (yaw, pitch) and this module finds the hotspot it hit,
records a hazard as found (the lesson completes when every hazard is found) and answers with
what was there. Information hotspots are no secret (the page shows them from the start).

Guessing is throttled: a learner who taps nothing more than `MISSES_PER_MINUTE` times within a
minute gets 429 for every tap, hit or not, until the oldest miss is a minute old, so that a
drill cannot be solved by sweeping the sphere with taps. The count is kept per process (like
app/ratelimit.py): no write per miss; with N processes the budget is at most N times as big.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.courses.models import Lesson, LessonKind
from app.errors import Conflict, NotFound, TooManyRequests
from app.i18n import gettext as _
from app.learning import service
from app.learning.models import Enrolment, EnrolmentStatus, LessonProgress
from app.learning.schemas import hotspot_spot

# Great-circle distance (degrees) from a hotspot within which a tap hits it.
TOLERANCE_DEGREES = 10.0
# Taps that hit nothing, per enrolment and lesson, in any 60 seconds.
MISSES_PER_MINUTE = 10
MISS_WINDOW_SECONDS = 60.0
MAX_TRACKED = 50_000


class TapOutcome(StrEnum):
    FOUND = "found"                # a hazard, found by this tap
    FOUND_BEFORE = "found_before"  # a hazard the learner had already found
    INFORMATION = "information"    # an information hotspot
    MISS = "miss"                  # nothing within the tolerance


@dataclass
class TapResult:
    outcome: TapOutcome
    index: int | None
    spot: dict[str, Any] | None
    found: list[int]
    lesson_completed: bool
    course_completed: bool


def angular_distance(yaw1: float, pitch1: float, yaw2: float, pitch2: float) -> float:
    """Great-circle distance in degrees between two (yaw, pitch) directions."""
    p1, p2, dy = math.radians(pitch1), math.radians(pitch2), math.radians(yaw1 - yaw2)
    cos = math.sin(p1) * math.sin(p2) + math.cos(p1) * math.cos(p2) * math.cos(dy)
    return math.degrees(math.acos(max(-1.0, min(1.0, cos))))


def nearest(spots: list[dict[str, Any]], yaw: float, pitch: float,
            indexes: set[int] | list[int] | range) -> int | None:
    """The index (among `indexes`) of the hotspot closest to (yaw, pitch) within the
    tolerance, or None."""
    best: int | None = None
    best_distance = TOLERANCE_DEGREES
    for index in indexes:
        spot = spots[index]
        distance = angular_distance(yaw, pitch, float(spot["yaw"]), float(spot["pitch"]))
        if distance <= best_distance:
            best, best_distance = index, distance
    return best


class MissBudget:
    """At most `limit` misses per `window` seconds per key; past it every tap is refused."""

    def __init__(self, limit: int = MISSES_PER_MINUTE,
                 window: float = MISS_WINDOW_SECONDS) -> None:
        self.limit = limit
        self.window = window
        self.misses: OrderedDict[str, list[float]] = OrderedDict()
        self.lock = threading.Lock()

    def _recent(self, key: str, now: float) -> list[float]:
        stamps = [t for t in self.misses.pop(key, []) if now - t < self.window]
        if stamps:
            self.misses[key] = stamps
        return stamps

    def check(self, key: str) -> None:
        """TooManyRequests (with Retry-After) while the key has used up its misses."""
        now = time.monotonic()
        with self.lock:
            stamps = self._recent(key, now)
        if len(stamps) >= self.limit:
            wait = max(1, math.ceil(self.window - (now - stamps[-self.limit])))
            raise TooManyRequests(
                _("Too many taps that found nothing. Look around and try again in {seconds} "
                  "seconds.").format(seconds=wait), retry_after=wait)

    def miss(self, key: str) -> None:
        now = time.monotonic()
        with self.lock:
            stamps = self._recent(key, now)
            stamps.append(now)
            self.misses[key] = stamps
            while len(self.misses) > MAX_TRACKED:
                self.misses.popitem(last=False)

    def clear(self) -> None:
        with self.lock:
            self.misses.clear()


misses = MissBudget()


def visible_spots(lesson: Lesson, found: list[int] | None) -> list[tuple[int, dict[str, Any]]]:
    """The hotspots a page may show: information hotspots and the hazards already found."""
    done = set(found or [])
    return [(index, spot) for index, spot in enumerate(lesson.hotspots or [])
            if not spot.get("hazard") or index in done]


def page_spots(lesson: Lesson, found: list[int] | None) -> list[dict[str, Any]]:
    """What the lesson page gives its script: the visible hotspots in the request's language,
    nothing about the hazards still to find."""
    return [hotspot_spot(index, spot).model_dump() for index, spot in visible_spots(lesson, found)]


def tap(*, db: Session, enrolment: Enrolment, lesson: Lesson, yaw: float, pitch: float,
        now: datetime | None = None) -> TapResult:
    """Judge a tap of the learner towards (yaw, pitch) in a panorama: a hazard not found yet
    wins over everything else within the tolerance, then the closest known hotspot."""
    if lesson.kind != LessonKind.PANORAMA.value:
        raise NotFound(_("This lesson has no hazard drill."))
    if enrolment.status == EnrolmentStatus.WITHDRAWN.value:
        raise Conflict(_("This enrolment was withdrawn."), code="enrolment_closed")
    key = f"{enrolment.id}:{lesson.id}"
    misses.check(key)
    spots: list[dict[str, Any]] = list(lesson.hotspots or [])
    row = db.execute(select(LessonProgress.found_hotspots, LessonProgress.completed_at).where(
        LessonProgress.enrolment_id == enrolment.id,
        LessonProgress.lesson_id == lesson.id)).one()
    hazards = {i for i, spot in enumerate(spots) if spot.get("hazard")}
    found = sorted(hazards & set(row.found_hotspots or []))
    index = nearest(spots, yaw, pitch, hazards - set(found))
    if index is not None:
        progress, lesson_done, course_done = service.found_hotspot(
            db=db, enrolment=enrolment, lesson=lesson, index=index, now=now)
        return TapResult(TapOutcome.FOUND, index, spots[index],
                         sorted(hazards & set(progress.found_hotspots)), lesson_done, course_done)
    index = nearest(spots, yaw, pitch, range(len(spots)))
    done = row.completed_at is not None
    course_done = enrolment.status == EnrolmentStatus.COMPLETED.value
    if index is None:
        misses.miss(key)
        return TapResult(TapOutcome.MISS, None, None, found, done, course_done)
    outcome = TapOutcome.FOUND_BEFORE if index in hazards else TapOutcome.INFORMATION
    return TapResult(outcome, index, spots[index], found, done, course_done)
