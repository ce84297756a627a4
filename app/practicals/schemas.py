"""Pydantic shapes of the practicals API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from app.bounds import DbInt, Id
from app.practicals.models import PracticalSession, TestCentre


class TestCentreCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    region_code: str = Field(min_length=1, max_length=12)
    address: str = Field(default="", max_length=300)
    kinds: list[str] = Field(min_length=1)
    stations: list[str] = []
    contact: str = Field(default="", max_length=200)


class TestCentreOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    region_code: str
    address: str
    kinds: list[str]
    stations: list[str]
    contact: str


class SessionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    test_centre_id: Id
    course_id: Id
    starts_at: datetime
    ends_at: datetime
    capacity: DbInt
    examiner_id: Id
    weeks: int = Field(default=1, ge=1, le=52)


class BookingBrief(BaseModel):
    id: int
    worker_id: int
    status: str


class SessionOut(BaseModel):
    id: int
    test_centre_id: int
    test_centre_name: str
    region_code: str
    course_id: int
    course_code: str
    starts_at: datetime
    ends_at: datetime
    capacity: int
    booked: int
    waitlisted: int | None = None
    examiner_id: int
    status: str
    series_id: str | None
    bookings: list[BookingBrief] | None = None


class BookingCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    worker_id: Id


class BookingOut(BaseModel):
    id: int
    session_id: int
    worker_id: int
    status: str
    attendance: str | None = None
    score: float | None = None
    notes: str = ""


class ResultIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    passed: bool
    score: float = Field(ge=0, le=100)
    notes: str = Field(default="", max_length=2000)
    checklist: list[dict[str, object]] = []


def centre_out(centre: TestCentre) -> TestCentreOut:
    """The API shape of a training base."""
    return TestCentreOut.model_validate(centre)


def session_out(session: PracticalSession, *, bookings: list[BookingBrief] | None = None,
                waitlisted: int | None = None) -> SessionOut:
    """The API shape of a session (base and course loaded)."""
    return SessionOut(id=session.id, test_centre_id=session.test_centre_id,
                      test_centre_name=session.test_centre.name,
                      region_code=session.test_centre.region_code, course_id=session.course_id,
                      course_code=session.course.code, starts_at=session.starts_at,
                      ends_at=session.ends_at, capacity=session.capacity,
                      booked=session.booked_count, waitlisted=waitlisted,
                      examiner_id=session.examiner_id, status=session.status,
                      series_id=session.series_id, bookings=bookings)
