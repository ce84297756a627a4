"""Pydantic shapes of the learning API."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.bounds import Id
from app.i18n import localized
from app.learning.models import Enrolment


class EnrolmentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    course_id: Id
    worker_ids: list[Id] | None = Field(default=None, max_length=5000)
    deadline: date | None = None
    # Move workers studying an earlier version of the course to this one (see enrol_workers).
    move: bool = False


class EnrolmentBrief(BaseModel):
    id: int
    course_id: int
    worker_id: int
    status: str
    deadline: date | None = None


class EnrolmentResult(EnrolmentBrief):
    """One worker of an enrolment request: the enrolment they have now and what happened."""

    outcome: str  # enrolled | already_enrolled | enrolled_in_other_version | moved
    version: int  # the course version of that enrolment
    moved_from_id: int | None = None
    moved_from_version: int | None = None


class EnrolmentOut(EnrolmentBrief):
    credited_minutes: float
    required_minutes: int
    lessons_completed: int
    lessons_total: int
    credited_seconds: int


class HeartbeatIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    visible: bool
    interacted: bool = False
    position: float | None = Field(default=None, ge=0, le=24 * 3600)
    # The `clock` of this page's previous answer (absent on a page's first beat).
    clock: str | None = Field(default=None, max_length=24, pattern=r"^(\d{8}T\d{12})?$")


class HeartbeatOut(BaseModel):
    credited_seconds: int
    credited_now: int
    lesson_completed: bool
    course_completed: bool
    attention_required: bool
    watched_seconds: float
    position_seconds: float
    # The worker's study clock as this beat left it ("" when stopped), to send back next time.
    clock: str = ""
    # Another lesson page (tab, window or device) beat on the same clock since this page's
    # previous beat: time is counted once, so only one page at a time earns it.
    other_tab: bool = False


class HotspotTapIn(BaseModel):
    """Where the learner tapped in a panorama (degrees, as in the course package)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    yaw: float = Field(ge=-180, le=180)
    pitch: float = Field(ge=-90, le=90)


class HotspotSpot(BaseModel):
    """A hotspot the learner may see: an information hotspot or a hazard already found."""

    index: int
    yaw: float
    pitch: float
    hazard: bool
    label: str
    description: str


class HotspotTapOut(BaseModel):
    # found: a hazard found by this tap; found_before: one found earlier; information: an
    # information hotspot; miss: nothing within the tolerance.
    outcome: str
    spot: HotspotSpot | None
    found: list[int]
    hazards_found: int
    hazards_total: int
    lesson_completed: bool
    course_completed: bool


def hotspot_spot(index: int, spot: dict[str, Any]) -> HotspotSpot:
    """A hotspot of a course package in the request's language."""
    return HotspotSpot(index=index, yaw=float(spot["yaw"]), pitch=float(spot["pitch"]),
                       hazard=bool(spot.get("hazard")), label=localized(spot.get("label")),
                       description=localized(spot.get("description")))


def enrolment_brief(enrolment: Enrolment) -> EnrolmentBrief:
    """The short shape of an enrolment."""
    return EnrolmentBrief(id=enrolment.id, course_id=enrolment.course_id,
                          worker_id=enrolment.worker_id, status=enrolment.status,
                          deadline=enrolment.deadline)


def enrolment_out(enrolment: Enrolment) -> EnrolmentOut:
    """The full shape (the course must be loaded)."""
    return EnrolmentOut(**enrolment_brief(enrolment).model_dump(),
                        credited_minutes=round(enrolment.credited_seconds / 60, 2),
                        required_minutes=enrolment.course.required_minutes,
                        lessons_completed=enrolment.lessons_completed,
                        lessons_total=enrolment.lessons_total,
                        credited_seconds=enrolment.credited_seconds)


class OfflineClassCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200)
    course_id: Id | None = None
    held_on: date
    class_hours: float = Field(gt=0, le=16)
    location: str = Field(default="", max_length=200)
    notes: str = Field(default="", max_length=2000)
    worker_ids: list[Id] = Field(min_length=1, max_length=2000)


class OfflineClassOut(BaseModel):
    id: int
    title: str
    course_id: int | None
    held_on: date
    class_hours: float
    location: str
    worker_ids: list[int]
    credited_minutes_each: float
