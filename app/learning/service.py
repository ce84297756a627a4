"""Business rules of learning: enrolment, credited study time (heartbeats), lesson and course
completion, the study-hours ledger, offline classes."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, func, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, joinedload

from app.accounts import service as accounts
from app.accounts.models import Role, User
from app.courses import service as courses
from app.courses.models import Course, CourseStatus, Lesson, LessonKind
from app.db import utcnow
from app.errors import Conflict, Forbidden, Invalid, NotFound
from app.i18n import LOCAL_TZ
from app.i18n import gettext as _
from app.learning import profiles
from app.learning.models import (
    Enrolment,
    EnrolmentStatus,
    LedgerEntry,
    LessonProgress,
    OfflineAttendance,
    OfflineClass,
    StudyClock,
    StudyMode,
)
from app.organisations import service as organisations
from app.organisations.models import Worker
from app.pagination import LIKE_ESCAPE, like_pattern


def _insert(db: Session) -> Any:
    return pg_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert


def local_day(moment: datetime) -> date:
    """The calendar day (Beijing time) a moment belongs to, for the ledger."""
    return moment.astimezone(LOCAL_TZ).date()


# --- visibility --------------------------------------------------------------------------------

def can_see_enrolment(user: User, enrolment: Enrolment) -> bool:
    """The worker, its enterprise's administrators and admins see an enrolment."""
    if user.has_role(Role.ADMIN) or enrolment.worker.user_id == user.id:
        return True
    return user.has_role(Role.ENTERPRISE_ADMIN) and \
        user.enterprise_id == enrolment.worker.enterprise_id


def get_enrolment_or_404(*, db: Session, enrolment_id: int) -> Enrolment:
    """An enrolment with its worker and course loaded."""
    enrolment = db.scalar(select(Enrolment).where(Enrolment.id == enrolment_id)
                          .options(joinedload(Enrolment.worker), joinedload(Enrolment.course))
                          .execution_options(populate_existing=True))
    if enrolment is None:
        raise NotFound(_("No such enrolment."))
    return enrolment


def own_enrolment_row(*, db: Session, enrolment_id: int, user_id: int) -> Enrolment | None:
    """An enrolment row if it belongs to the worker whose login is `user_id` (one query)."""
    return db.scalar(select(Enrolment).join(Worker, Worker.id == Enrolment.worker_id)
                     .where(Enrolment.id == enrolment_id, Worker.user_id == user_id))


# --- enrolment --------------------------------------------------------------------------------

def _check_can_enrol(by: User, workers: Sequence[Worker]) -> None:
    if by.has_role(Role.ADMIN):
        return
    for worker in workers:
        if worker.user_id == by.id:
            continue
        if not (by.has_role(Role.ENTERPRISE_ADMIN) and by.enterprise_id == worker.enterprise_id):
            raise Forbidden(_("You may only enrol yourself or your own enterprise's staff."))


def _check_audience(db: Session, course: Course, workers: Sequence[Worker]) -> None:
    """Refuse learners the course is not offered to: supervisory cadres (profiles in an
    agency's roster) need 'regulator' in its audience, roster workers need 'worker'."""
    roles = organisations.learner_roles(db=db, worker_ids=[w.id for w in workers])
    offered = set(course.audience_roles)
    refused = sorted({role for role in roles.values() if role not in offered})
    if refused == [Role.REGULATOR.value]:
        raise Conflict(_("This course is not offered to supervisory cadres."),
                       code="course_not_offered")
    if refused:
        raise Conflict(_("This course is offered to supervisory cadres only, not to workers."),
                       code="course_not_offered")


class EnrolOutcome(StrEnum):
    """What enrolling did for one worker."""

    ENROLLED = "enrolled"                          # a new enrolment in this version
    ALREADY_ENROLLED = "already_enrolled"          # enrolled in this version already
    OTHER_VERSION = "enrolled_in_other_version"    # stays on an earlier version (not moved)
    MOVED = "moved"                                # moved from an earlier version to this one


@dataclass
class EnrolResult:
    enrolment: Enrolment   # the enrolment the worker has now
    outcome: str
    version: int           # the course version that enrolment is on
    moved_from: Enrolment | None = None
    moved_from_version: int | None = None


def enrol(*, db: Session, course: Course, workers: Sequence[Worker], by: User,
          deadline: date | None = None, ip: str | None = None) -> list[Enrolment]:
    """Enrol workers in a published course; a worker already enrolled in that course (this or
    another version) keeps the enrolment they have, which is returned instead."""
    return [r.enrolment for r in enrol_workers(db=db, course=course, workers=workers, by=by,
                                               deadline=deadline, ip=ip)]


def _current_enrolments(db: Session, course: Course,
                        worker_ids: Sequence[int]) -> dict[int, tuple[Enrolment, int]]:
    """Each worker's running or completed enrolment in any version of the course's code, with
    that version: one in this version first, else the newest."""
    found: dict[int, tuple[Enrolment, int]] = {}
    for enrolment, version in db.execute(
            select(Enrolment, Course.version).join(Course, Course.id == Enrolment.course_id)
            .where(Enrolment.worker_id.in_(worker_ids), Course.code == course.code,
                   Enrolment.status.in_([EnrolmentStatus.ACTIVE.value,
                                         EnrolmentStatus.COMPLETED.value]))
            .order_by(Enrolment.id)):
        held = found.get(enrolment.worker_id)
        if held is None or held[0].course_id != course.id:
            found[enrolment.worker_id] = (enrolment, version)
    return found


def enrol_workers(*, db: Session, course: Course, workers: Sequence[Worker], by: User,
                  deadline: date | None = None, move: bool = False,
                  ip: str | None = None) -> list[EnrolResult]:
    """Enrol workers in a published course version, saying for each what happened: enrolled,
    already enrolled in this version, or enrolled in an earlier version. A worker studying an
    earlier version stays on it unless `move`: then that enrolment is withdrawn and a new one
    in this version carries over the progress of every unchanged lesson (the study-hours ledger
    keeps all credited time, so nothing is counted twice). A completed enrolment never moves."""
    if course.status != CourseStatus.PUBLISHED.value:
        raise Conflict(_("This course is not open for enrolment."), code="course_not_published")
    _check_audience(db, course, workers)
    if deadline is not None and deadline < date.today():
        raise Invalid(errors=[{"loc": ["deadline"], "msg": _("The deadline is in the past.")}])
    _check_can_enrol(by, workers)
    existing = _current_enrolments(db, course, [w.id for w in workers])
    lessons = courses.lessons_of(db=db, course_id=course.id)
    results: list[EnrolResult] = []
    created: list[EnrolResult] = []
    for worker in workers:
        held = existing.get(worker.id)
        if held is not None:
            enrolment, version = held
            if enrolment.course_id == course.id:
                results.append(EnrolResult(enrolment, EnrolOutcome.ALREADY_ENROLLED.value,
                                           version))
                continue
            if not move or enrolment.status != EnrolmentStatus.ACTIVE.value:
                results.append(EnrolResult(enrolment, EnrolOutcome.OTHER_VERSION.value,
                                           version))
                continue
        new = Enrolment(course_id=course.id, worker_id=worker.id, enrolled_by=by.id,
                        deadline=deadline if deadline or held is None else held[0].deadline,
                        lessons_total=len(lessons))
        db.add(new)
        if held is None:
            result = EnrolResult(new, EnrolOutcome.ENROLLED.value, course.version)
        else:
            held[0].status = EnrolmentStatus.WITHDRAWN.value
            result = EnrolResult(new, EnrolOutcome.MOVED.value, course.version,
                                 moved_from=held[0], moved_from_version=held[1])
        created.append(result)
        results.append(result)
    db.flush()
    carried = _carry_over(db, lessons, [r.moved_from for r in created if r.moved_from])
    for result in created:
        enrolment = result.enrolment
        old = carried.get(result.moved_from.id, {}) if result.moved_from else {}
        rows = [LessonProgress(enrolment_id=enrolment.id, lesson_id=lesson.id,
                               **old.get(lesson.id, {})) for lesson in lessons]
        db.add_all(rows)
        if old:
            enrolment.credited_seconds = sum(int(r.credited_seconds or 0) for r in rows)
            enrolment.lessons_completed = sum(1 for r in rows if r.completed_at is not None)
            _maybe_complete_course(enrolment, course, utcnow())
    if created:
        db.execute(_insert(db)(StudyClock).values(
            [{"worker_id": r.enrolment.worker_id} for r in created])
                   .on_conflict_do_nothing(index_elements=["worker_id"]))
        fresh = [r.enrolment.worker_id for r in created if r.moved_from is None]
        moved = [{"worker_id": r.enrolment.worker_id, "from_enrolment": r.moved_from.id,
                  "from_version": r.moved_from_version, "to_enrolment": r.enrolment.id}
                 for r in created if r.moved_from is not None]
        if fresh:
            accounts.record_audit(db=db, action="enrolment.created", actor=by,
                                  object_type="course", object_id=course.id, ip=ip,
                                  detail={"code": course.code, "workers": fresh})
        if moved:
            accounts.record_audit(db=db, action="enrolment.moved", actor=by,
                                  object_type="course", object_id=course.id, ip=ip,
                                  detail={"code": course.code, "version": course.version,
                                          "moves": moved})
    db.flush()
    return results


def earlier_version_enrolments(*, db: Session, course: Course,
                               workers: Sequence[Worker]) -> list[EnrolResult]:
    """The workers' enrolments in another version of the course (running or completed)."""
    held = _current_enrolments(db, course, [w.id for w in workers])
    return [EnrolResult(enrolment, EnrolOutcome.OTHER_VERSION.value, version)
            for enrolment, version in held.values() if enrolment.course_id != course.id]


def _lesson_signature(lesson: Lesson) -> str:
    """What makes two lessons of different versions the same lesson for a learner."""
    return json.dumps([lesson.kind, lesson.title, lesson.body, lesson.media_key, lesson.minutes,
                       lesson.hotspots], sort_keys=True, ensure_ascii=False)


def _carry_over(db: Session, lessons: Sequence[Lesson],
                old: Sequence[Enrolment]) -> dict[int, dict[int, dict[str, Any]]]:
    """Per old enrolment, the progress to copy onto each lesson of the new version that is
    unchanged from a lesson of the old one (each old lesson used once)."""
    result: dict[int, dict[int, dict[str, Any]]] = {}
    for enrolment in old:
        by_signature: dict[str, list[Lesson]] = {}
        for lesson in courses.lessons_of(db=db, course_id=enrolment.course_id):
            by_signature.setdefault(_lesson_signature(lesson), []).append(lesson)
        progress = progress_of(db=db, enrolment=enrolment)
        copies: dict[int, dict[str, Any]] = {}
        for lesson in lessons:
            matches = by_signature.get(_lesson_signature(lesson))
            if not matches:
                continue
            row = progress.get(matches.pop(0).id)
            if row is not None:
                copies[lesson.id] = {
                    "credited_seconds": row.credited_seconds,
                    "position_seconds": row.position_seconds,
                    "watched_seconds": row.watched_seconds,
                    "found_hotspots": list(row.found_hotspots or []),
                    "completed_at": row.completed_at}
        result[enrolment.id] = copies
    return result


def workers_for_enrolment(*, db: Session, by: User, worker_ids: list[int] | None,
                          enterprise_id: int | None = None,
                          job_category: str = "") -> list[Worker]:
    """The workers an enrolment request names (or the caller itself, or a whole job category of
    an enterprise); unknown or foreign ids are refused as not found."""
    if worker_ids is None and not job_category:
        own = organisations.worker_of_user(db=db, user_id=by.id)
        if own is None:
            raise Invalid(errors=[{"loc": ["worker_ids"], "msg": _(
                "Name the workers to enrol (you are not on a roster yourself).")}])
        return [own]
    stmt = select(Worker)
    if job_category:
        if enterprise_id is None:
            raise Invalid(errors=[{"loc": ["enterprise_id"], "msg": _("Choose the enterprise.")}])
        stmt = stmt.where(Worker.enterprise_id == enterprise_id,
                          Worker.job_category == job_category)
        return list(db.scalars(stmt.order_by(Worker.id)))
    ids = sorted(set(worker_ids or []))
    found = list(db.scalars(stmt.where(Worker.id.in_(ids)).order_by(Worker.id)))
    visible = [w for w in found if by.has_role(Role.ADMIN) or w.user_id == by.id or (
        by.has_role(Role.ENTERPRISE_ADMIN) and by.enterprise_id == w.enterprise_id)]
    if len(visible) != len(ids):
        missing = sorted(set(ids) - {w.id for w in visible})
        raise NotFound(_("No such worker: {ids}.").format(ids=", ".join(map(str, missing))))
    return visible


@dataclass(frozen=True)
class EnrolmentBrief:
    id: int
    title: dict[str, str]
    lessons_completed: int
    lessons_total: int
    deadline: date | None


def active_enrolments(*, db: Session, worker: Worker) -> list[EnrolmentBrief]:
    """The worker's running enrolments, newest first: only what the home page shows, read as
    columns (the home page is the most visited page)."""
    rows = db.execute(select(Enrolment.id, Course.title, Enrolment.lessons_completed,
                             Enrolment.lessons_total, Enrolment.deadline)
                      .join(Course, Course.id == Enrolment.course_id)
                      .where(Enrolment.worker_id == worker.id,
                             Enrolment.status == EnrolmentStatus.ACTIVE.value)
                      .order_by(Enrolment.enrolled_at.desc(), Enrolment.id.desc()))
    return [EnrolmentBrief(*row) for row in rows]


def my_enrolments(*, db: Session, worker: Worker) -> list[Enrolment]:
    """A worker's enrolments, newest first, with their courses."""
    return list(db.scalars(select(Enrolment).where(Enrolment.worker_id == worker.id)
                           .options(joinedload(Enrolment.course))
                           .order_by(Enrolment.enrolled_at.desc(), Enrolment.id.desc())))


def progress_of(*, db: Session, enrolment: Enrolment) -> dict[int, LessonProgress]:
    """Progress rows of an enrolment by lesson id."""
    return {p.lesson_id: p for p in db.scalars(
        select(LessonProgress).where(LessonProgress.enrolment_id == enrolment.id))}


@dataclass
class EnrolmentFilter:
    course_id: int | None = None
    status: str = ""
    overdue: bool = False
    query: str = ""


def enterprise_enrolments(*, db: Session, enterprise_id: int, filters: EnrolmentFilter,
                          page: int = 1, page_size: int = 25) -> tuple[list[Enrolment], int]:
    """An enterprise's enrolments with worker and course, filtered, one page at a time."""
    stmt = select(Enrolment).join(Worker).where(
        Worker.enterprise_id == enterprise_id)
    if filters.course_id:
        stmt = stmt.where(Enrolment.course_id == filters.course_id)
    if filters.status:
        stmt = stmt.where(Enrolment.status == filters.status)
    if filters.overdue:
        stmt = stmt.where(Enrolment.status == EnrolmentStatus.ACTIVE.value,
                          Enrolment.deadline < date.today())
    if filters.query.strip():
        stmt = stmt.where(Worker.full_name.ilike(like_pattern(filters.query.strip()),
                                                 escape=LIKE_ESCAPE))
    total = db.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    items = db.scalars(stmt.options(joinedload(Enrolment.worker), joinedload(Enrolment.course))
                       .order_by(Enrolment.deadline.is_(None), Enrolment.deadline,
                                 Worker.full_name, Enrolment.id)
                       .limit(page_size).offset((page - 1) * page_size)).all()
    return list(items), total


# --- credited study time ---------------------------------------------------------------------

@dataclass
class BeatResult:
    credited_seconds: int        # total for this lesson
    credited_now: int            # what this beat added
    lesson_completed: bool
    course_completed: bool
    attention_required: bool
    watched_seconds: float
    position_seconds: float
    # The worker's study clock (when credit runs from; None: stopped) as this beat found it and
    # as it left it. A page compares the first with what its own previous beat left to tell
    # that another page (tab, window or device) beat on the same clock in between.
    clock_was: datetime | None = None
    clock_now: datetime | None = None


def _locked(db: Session, model: type, *criteria: ColumnElement[bool]) -> Any:
    return db.scalars(select(model).where(*criteria).with_for_update()
                      .execution_options(populate_existing=True)).one()


def heartbeat(*, db: Session, enrolment: Enrolment, lesson: Lesson, visible: bool,
              interacted: bool = False, position: float | None = None,
              now: datetime | None = None) -> BeatResult:
    """Credit study time for one beat of an open lesson page.

    One clock per worker (however many tabs or lessons are open): a beat credits the wall time
    since the previous credited beat, at most the profile's cap per beat (60 s), and nothing
    when the page is hidden, when the learner has given no input for the attention time, or
    when it is the first beat after such a pause.

    The hottest write of the platform, so it reads and writes columns (Core statements) rather
    than loading and flushing ORM objects.
    """
    if enrolment.status == EnrolmentStatus.WITHDRAWN.value:
        raise Conflict(_("This enrolment was withdrawn."), code="enrolment_closed")
    now = now or utcnow()
    rules = profiles.study_rules(db=db)
    # Lock order: clock, enrolment, progress (the same everywhere, so no deadlocks).
    clock = db.execute(select(StudyClock.credit_from, StudyClock.last_interaction_at)
                       .where(StudyClock.worker_id == enrolment.worker_id)
                       .with_for_update()).one()
    row = db.execute(select(Enrolment.status, Enrolment.credited_seconds,
                            Enrolment.lessons_completed, Enrolment.lessons_total,
                            Course.required_minutes)
                     .join(Course, Course.id == Enrolment.course_id)
                     .where(Enrolment.id == enrolment.id)
                     .with_for_update(of=Enrolment)).one()
    progress = db.execute(select(LessonProgress.id, LessonProgress.credited_seconds,
                                 LessonProgress.position_seconds, LessonProgress.watched_seconds,
                                 LessonProgress.found_hotspots, LessonProgress.completed_at)
                          .where(LessonProgress.enrolment_id == enrolment.id,
                                 LessonProgress.lesson_id == lesson.id)
                          .with_for_update()).one()
    last_input = now if interacted or clock.last_interaction_at is None \
        else clock.last_interaction_at
    idle = now - last_input > timedelta(minutes=rules.attention_minutes)
    credited = 0
    credit_from: datetime | None = None  # hidden or idle time is never credited later
    if visible and not idle:
        if clock.credit_from is not None and clock.credit_from < now:
            credited = int(min((now - clock.credit_from).total_seconds(),
                               rules.max_seconds_per_beat))
        credit_from = now
    db.execute(update(StudyClock).where(StudyClock.worker_id == enrolment.worker_id)
               .values(credit_from=credit_from, last_interaction_at=last_input))
    lesson_seconds = progress.credited_seconds + credited
    position_now, watched = progress.position_seconds, progress.watched_seconds
    if lesson.kind == LessonKind.VIDEO.value and position is not None:
        position_now, watched = _track_video(progress.position_seconds, watched, position,
                                             credited)
    lesson_done = progress.completed_at is not None
    newly_done = not lesson_done and _requirement_met(
        lesson, rules, credited=lesson_seconds, watched=watched,
        found=progress.found_hotspots or [])
    db.execute(update(LessonProgress).where(LessonProgress.id == progress.id).values(
        credited_seconds=lesson_seconds, position_seconds=position_now,
        watched_seconds=watched, updated_at=now,
        **({"completed_at": now} if newly_done else {})))
    course_done = _update_enrolment(db, enrolment, row, credited=credited,
                                    lesson_newly_done=newly_done, now=now)
    if credited:
        _add_to_ledger(db, worker_id=enrolment.worker_id, course_id=enrolment.course_id,
                       day=local_day(now), seconds=credited)
    _forget_cached_rows(db, enrolment)
    return BeatResult(lesson_seconds, credited, lesson_done or newly_done, course_done, idle,
                      watched, position_now, clock.credit_from, credit_from)


def _update_enrolment(db: Session, enrolment: Enrolment, row: Any, *, credited: int,
                      lesson_newly_done: bool, now: datetime) -> bool:
    """Add the beat to the enrolment's counters; complete the course when all lessons are done
    and the required minutes are reached. Returns whether the course is complete."""
    total = row.credited_seconds + credited
    lessons = row.lessons_completed + (1 if lesson_newly_done else 0)
    if row.status == EnrolmentStatus.COMPLETED.value:
        completes = False
        done = True
    else:
        completes = lessons >= row.lessons_total and total >= row.required_minutes * 60
        done = completes
    if credited or lesson_newly_done or completes:
        values: dict[str, Any] = {"credited_seconds": total, "lessons_completed": lessons}
        if completes:
            values.update(status=EnrolmentStatus.COMPLETED.value, completed_at=now)
        db.execute(update(Enrolment).where(Enrolment.id == enrolment.id).values(**values))
    return done


def _forget_cached_rows(db: Session, enrolment: Enrolment) -> None:
    # Rows were changed with Core statements: objects this session holds must reload them.
    if enrolment in db:
        db.expire(enrolment)
    for obj in list(db.identity_map.values()):
        if isinstance(obj, LessonProgress | StudyClock):
            db.expire(obj)


def _track_video(last_position: float, watched: float, position: float,
                 credited: int) -> tuple[float, float]:
    """(new position, watched seconds): only playback at about real speed while credited
    counts as watched; seeking does not."""
    advance = position - last_position
    if credited and 0 < advance <= credited + 2:
        watched += advance
    return max(0.0, position), watched


def _add_to_ledger(db: Session, *, worker_id: int, course_id: int, day: date,
                   seconds: int) -> None:
    stmt = _insert(db)(LedgerEntry).values(worker_id=worker_id, day=day, course_id=course_id,
                                           mode=StudyMode.ONLINE.value, seconds=seconds)
    db.execute(stmt.on_conflict_do_update(
        index_elements=["worker_id", "day", "course_id"],
        # A literal predicate: PostgreSQL matches the partial index only by its exact text.
        index_where=text("mode = 'online'"),
        set_={"seconds": LedgerEntry.seconds + stmt.excluded.seconds}))


def _requirement_met(lesson: Lesson, rules: profiles.StudyRules, *, credited: int,
                     watched: float, found: list[int]) -> bool:
    """Whether a lesson's completion rule is met by this progress."""
    if lesson.kind == LessonKind.VIDEO.value:
        duration = lesson.duration_seconds or lesson.minutes * 60
        return watched >= rules.video_watched_ratio * duration
    if lesson.kind == LessonKind.PANORAMA.value and lesson.hazard_count:
        hazards = {i for i, spot in enumerate(lesson.hotspots) if spot.get("hazard")}
        return hazards <= set(found)
    return credited >= lesson.minutes * 60


def _maybe_complete_lesson(rules: profiles.StudyRules, enrolment: Enrolment, lesson: Lesson,
                           progress: LessonProgress, now: datetime) -> bool:
    if progress.completed_at is not None:
        return True
    if not _requirement_met(lesson, rules, credited=progress.credited_seconds,
                            watched=progress.watched_seconds,
                            found=progress.found_hotspots or []):
        return False
    progress.completed_at = now
    enrolment.lessons_completed += 1
    return True


def _maybe_complete_course(enrolment: Enrolment, course: Course, now: datetime) -> bool:
    if enrolment.status == EnrolmentStatus.COMPLETED.value:
        return True
    if enrolment.lessons_completed >= enrolment.lessons_total and \
            enrolment.credited_seconds >= course.required_minutes * 60:
        enrolment.status = EnrolmentStatus.COMPLETED.value
        enrolment.completed_at = now
        return True
    return False


def found_hotspot(*, db: Session, enrolment: Enrolment, lesson: Lesson, index: int,
                  now: datetime | None = None) -> tuple[LessonProgress, bool, bool]:
    """Record that the learner found hotspot `index` of a panorama; the lesson completes when
    every hazard is found. Returns (progress, lesson completed, course completed)."""
    if lesson.kind != LessonKind.PANORAMA.value or not 0 <= index < len(lesson.hotspots or []):
        raise NotFound(_("No such hotspot."))
    now = now or utcnow()
    course = db.get(Course, enrolment.course_id)  # from the identity map: no query
    assert course is not None
    rules = profiles.study_rules(db=db)
    row = _locked(db, Enrolment, Enrolment.id == enrolment.id)
    progress = _locked(db, LessonProgress, LessonProgress.enrolment_id == enrolment.id,
                       LessonProgress.lesson_id == lesson.id)
    if index not in (progress.found_hotspots or []):
        progress.found_hotspots = sorted({*(progress.found_hotspots or []), index})
    lesson_done = _maybe_complete_lesson(rules, row, lesson, progress, now)
    course_done = _maybe_complete_course(row, course, now)
    db.flush()
    return progress, lesson_done, course_done


# --- the ledger and hours ----------------------------------------------------------------------

@dataclass
class HoursSummary:
    year: int
    online_seconds: int
    offline_seconds: int
    class_hours: float
    required_annual: float
    required_initial: float


def hours_summary(*, db: Session, worker: Worker, year: int | None = None) -> HoursSummary:
    """Class hours this year (online and offline at the profile's rates) against the
    job category's annual requirement."""
    year = year or local_day(utcnow()).year
    profile = profiles.cached_profile(db=db)
    rows = db.execute(select(LedgerEntry.mode, func.coalesce(func.sum(LedgerEntry.seconds), 0))
                      .where(LedgerEntry.worker_id == worker.id,
                             LedgerEntry.day >= date(year, 1, 1),
                             LedgerEntry.day <= date(year, 12, 31))
                      .group_by(LedgerEntry.mode)).all()
    seconds = {mode: int(total) for mode, total in rows}
    online = seconds.get(StudyMode.ONLINE.value, 0)
    offline = seconds.get(StudyMode.OFFLINE.value, 0)
    hours = online / profiles.class_hour_seconds(profile, "online") + \
        offline / profiles.class_hour_seconds(profile, "offline")
    required = profiles.required_hours(profile, worker.job_category)
    return HoursSummary(year, online, offline, round(hours, 2), required["annual"],
                        required["initial"])


def ledger_entries(*, db: Session, worker: Worker,
                   year: int) -> list[tuple[LedgerEntry, Course | None]]:
    """A worker's ledger for a year, newest day first, with the courses."""
    rows = db.execute(select(LedgerEntry, Course)
                      .outerjoin(Course, Course.id == LedgerEntry.course_id)
                      .where(LedgerEntry.worker_id == worker.id,
                             LedgerEntry.day >= date(year, 1, 1),
                             LedgerEntry.day <= date(year, 12, 31))
                      .order_by(LedgerEntry.day.desc(), LedgerEntry.id)).all()
    return [(entry, course) for entry, course in rows]


# --- offline classes ---------------------------------------------------------------------------

def offline_class_problems(*, title: str, held_on: date | None, class_hours: float | None,
                           workers: Sequence[Worker]) -> list[dict[str, object]]:
    """Every problem of an offline class record (field, message); empty when it is valid."""
    errors: list[dict[str, object]] = []
    if not title.strip():
        errors.append({"loc": ["title"], "msg": _("Enter what the class was about.")})
    if held_on is not None and held_on > local_day(utcnow()):
        errors.append({"loc": ["held_on"], "msg": _("The class date is in the future.")})
    if class_hours is not None and not 0 < class_hours <= 16:
        errors.append({"loc": ["class_hours"], "msg": _(
            "A class lasts between 0.5 and 16 class hours.")})
    if not workers:
        errors.append({"loc": ["worker_ids"], "msg": _("Choose at least one attendee.")})
    return errors


def record_offline_class(*, db: Session, title: str, held_on: date, class_hours: float,
                         location: str, notes: str, course: Course | None,
                         workers: Sequence[Worker], by: User,
                         ip: str | None = None) -> OfflineClass:
    """Record a class held at a training base; each attendee gets ledger time at the offline
    rate (45 minutes per class hour by default)."""
    errors = offline_class_problems(title=title, held_on=held_on, class_hours=class_hours,
                                    workers=workers)
    if errors:
        raise Invalid(errors=errors)
    profile = profiles.active_profile(db=db)
    seconds = int(round(class_hours * profiles.class_hour_seconds(profile, "offline")))
    item = OfflineClass(title=title.strip(), course_id=course.id if course else None,
                        held_on=held_on, class_hours=class_hours, location=location.strip(),
                        notes=notes.strip(), trainer_id=by.id)
    db.add(item)
    db.flush()
    for worker in workers:
        db.add(OfflineAttendance(class_id=item.id, worker_id=worker.id))
        db.add(LedgerEntry(worker_id=worker.id, day=held_on,
                           course_id=course.id if course else None,
                           mode=StudyMode.OFFLINE.value, seconds=seconds,
                           offline_class_id=item.id))
    accounts.record_audit(db=db, action="offline_class.recorded", actor=by,
                          object_type="offline_class", object_id=item.id, ip=ip,
                          detail={"title": item.title, "attendees": len(workers),
                                  "class_hours": class_hours})
    db.flush()
    return item


def workers_for_attendance(*, db: Session, worker_ids: list[int]) -> list[Worker]:
    """The ticked attendees (trainers work across enterprises); unknown ids are refused."""
    ids = sorted(set(worker_ids))
    found = list(db.scalars(select(Worker).where(Worker.id.in_(ids)).order_by(Worker.id)))
    if len(found) != len(ids):
        missing = sorted(set(ids) - {w.id for w in found})
        raise NotFound(_("No such worker: {ids}.").format(ids=", ".join(map(str, missing))))
    return found


def get_offline_class_or_404(*, db: Session,
                             class_id: int) -> tuple[OfflineClass, list[Worker]]:
    """A class and its attendees."""
    item = db.get(OfflineClass, class_id)
    if item is None:
        raise NotFound(_("No such class."))
    attendees = list(db.scalars(select(Worker).join(
        OfflineAttendance, OfflineAttendance.worker_id == Worker.id)
        .where(OfflineAttendance.class_id == class_id)
        .options(joinedload(Worker.enterprise)).order_by(Worker.full_name)))
    return item, attendees


def list_offline_classes(*, db: Session, page: int = 1,
                         page_size: int = 25) -> tuple[list[tuple[OfflineClass, int]], int]:
    """Offline classes, newest first, with their attendee counts."""
    total = db.scalar(select(func.count()).select_from(OfflineClass)) or 0
    counts = select(OfflineAttendance.class_id, func.count().label("n")).group_by(
        OfflineAttendance.class_id).subquery()
    rows = db.execute(select(OfflineClass, func.coalesce(counts.c.n, 0))
                      .outerjoin(counts, counts.c.class_id == OfflineClass.id)
                      .order_by(OfflineClass.held_on.desc(), OfflineClass.id.desc())
                      .limit(page_size).offset((page - 1) * page_size)).all()
    return [(item, int(n)) for item, n in rows], total
