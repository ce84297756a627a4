"""JSON routes of learning: enrolments, heartbeats, panorama hotspots, hours."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request

from app import batching
from app.accounts.api import client_ip
from app.accounts.deps import CurrentUser, require
from app.accounts.models import Role, User
from app.courses import service as courses
from app.db import ReadOnlyRequest, SessionDep
from app.errors import Invalid
from app.i18n import gettext as _
from app.learning import hotspots, profiles, service
from app.learning.deps import (
    BeatEnrolment,
    BeatLesson,
    EnrolmentLesson,
    OwnEnrolment,
    VisibleEnrolment,
)
from app.learning.models import OfflineClass
from app.learning.schemas import (
    EnrolmentCreate,
    EnrolmentOut,
    EnrolmentResult,
    HeartbeatIn,
    HeartbeatOut,
    HotspotTapIn,
    HotspotTapOut,
    OfflineClassCreate,
    OfflineClassOut,
    enrolment_brief,
    enrolment_out,
    hotspot_spot,
)
from app.organisations.models import Worker

router = APIRouter(prefix="/api/v1", tags=["learning"])


@router.post("/enrolments", response_model=list[EnrolmentResult], status_code=201)
def create_enrolments(request: Request, body: EnrolmentCreate, db: SessionDep,
                      user: CurrentUser) -> list[EnrolmentResult]:
    """Enrol workers (enterprise admins: own staff; admins: anyone; a worker: itself). Each
    item says what happened (`outcome`); a worker on an earlier version stays there unless
    `move` is true."""
    course = courses.get_course_or_404(db=db, course_id=body.course_id)
    if body.worker_ids is not None and not body.worker_ids:
        raise Invalid(errors=[{"loc": ["worker_ids"], "msg": _("Name at least one worker.")}])
    workers = service.workers_for_enrolment(db=db, by=user, worker_ids=body.worker_ids)
    results = service.enrol_workers(db=db, course=course, workers=workers, by=user,
                                    deadline=body.deadline, move=body.move,
                                    ip=client_ip(request))
    return [EnrolmentResult(
        **enrolment_brief(r.enrolment).model_dump(), outcome=r.outcome, version=r.version,
        moved_from_id=r.moved_from.id if r.moved_from else None,
        moved_from_version=r.moved_from_version) for r in results]


@router.get("/enrolments/{enrolment_id}", response_model=EnrolmentOut)
def get_enrolment(enrolment: VisibleEnrolment) -> EnrolmentOut:
    """Progress of an enrolment."""
    return enrolment_out(enrolment)


@router.post("/enrolments/{enrolment_id}/lessons/{lesson_id}/heartbeat",
             response_model=HeartbeatOut, dependencies=[ReadOnlyRequest])
def heartbeat(enrolment: BeatEnrolment, lesson: BeatLesson, body: HeartbeatIn) -> HeartbeatOut:
    """Credit study time for an open lesson page (hidden or idle time earns nothing).

    The hottest write of the platform: checked in a read transaction, written by group commit.
    """
    result = batching.run_write(lambda db: service.heartbeat(
        db=db, enrolment=enrolment, lesson=lesson, visible=body.visible,
        interacted=body.interacted, position=body.position))
    return HeartbeatOut(
        credited_seconds=result.credited_seconds, credited_now=result.credited_now,
        lesson_completed=result.lesson_completed, course_completed=result.course_completed,
        attention_required=result.attention_required, watched_seconds=result.watched_seconds,
        position_seconds=result.position_seconds, clock=_clock_token(result.clock_now),
        other_tab=body.clock is not None and body.clock != _clock_token(result.clock_was))


def _clock_token(moment: datetime | None) -> str:
    """The study clock as a page sees it: when credit runs from (UTC), "" when stopped."""
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%S%f") if moment else ""


@router.post("/enrolments/{enrolment_id}/lessons/{lesson_id}/hotspots/tap",
             response_model=HotspotTapOut)
def tap_hotspot(enrolment: OwnEnrolment, lesson: EnrolmentLesson, body: HotspotTapIn,
                db: SessionDep) -> HotspotTapOut:
    """The learner tapped towards (yaw, pitch) in a panorama's hazard drill: what is there (a
    hazard, found now or before, an information hotspot, or nothing). A hazard is recorded as
    found; the lesson completes when every hazard is. 429 after too many misses a minute."""
    result = hotspots.tap(db=db, enrolment=enrolment, lesson=lesson, yaw=body.yaw,
                          pitch=body.pitch)
    spot = None
    if result.spot is not None and result.index is not None:
        spot = hotspot_spot(result.index, result.spot)
    return HotspotTapOut(outcome=result.outcome.value, spot=spot, found=result.found,
                         hazards_found=len(result.found), hazards_total=lesson.hazard_count,
                         lesson_completed=result.lesson_completed,
                         course_completed=result.course_completed)


TrainerUser = Annotated[User, Depends(require(Role.TRAINER, Role.ADMIN))]


def _class_out(db: SessionDep, item: OfflineClass, workers: list[Worker]) -> OfflineClassOut:
    rate = profiles.class_hour_seconds(profiles.active_profile(db=db), "offline")
    return OfflineClassOut(id=item.id, title=item.title, course_id=item.course_id,
                           held_on=item.held_on, class_hours=item.class_hours,
                           location=item.location, worker_ids=[w.id for w in workers],
                           credited_minutes_each=round(item.class_hours * rate / 60, 2))


@router.post("/offline-classes", response_model=OfflineClassOut, status_code=201)
def create_offline_class(request: Request, body: OfflineClassCreate, db: SessionDep,
                         user: TrainerUser) -> OfflineClassOut:
    """Record a class held at a training base; attendees get ledger time (trainers, admins)."""
    course = courses.get_course_or_404(db=db, course_id=body.course_id) if body.course_id \
        else None
    workers = service.workers_for_attendance(db=db, worker_ids=body.worker_ids)
    item = service.record_offline_class(db=db, title=body.title, held_on=body.held_on,
                                        class_hours=body.class_hours, location=body.location,
                                        notes=body.notes, course=course, workers=workers,
                                        by=user, ip=client_ip(request))
    return _class_out(db, item, workers)


@router.get("/offline-classes/{class_id}", response_model=OfflineClassOut)
def get_offline_class(class_id: int, db: SessionDep, user: TrainerUser) -> OfflineClassOut:
    """One offline class with its attendees (trainers, admins)."""
    item, workers = service.get_offline_class_or_404(db=db, class_id=class_id)
    return _class_out(db, item, workers)
