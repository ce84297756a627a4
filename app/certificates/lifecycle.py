"""The daily life of certificates: reminders before a review or expiry, the refresher enrolment
when the review window opens, recording a completed review, and the expiry event.

`run(db, today)` is idempotent: every step is recorded as a CertificateEvent and skipped when
already recorded, so running it again (or from several processes) changes nothing. Concurrent
runs are serialised by locking the active rule-profile row (SQLite serialises writers anyway).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import Session

from app.certificates.models import Certificate, CertificateEvent, CertificateStatus
from app.certificates.service import add_years, record_event
from app.courses.models import Course, CourseStatus
from app.courses.service import lessons_of
from app.i18n import LOCAL_TZ
from app.learning.models import (
    Enrolment,
    EnrolmentStatus,
    LessonProgress,
    RuleProfile,
    StudyClock,
)
from app.learning.profiles import active_profile
from app.learning.service import _insert
from app.organisations.models import Worker
from app.practicals.service import notify

REMINDER_DAYS = (90, 60, 30)
REVIEW_KINDS = ("review", "refresher")
LINK = "/certificates/mine"


@dataclass
class Outcome:
    """What one pass did (for logs, the CLI and tests)."""

    reminders: int = 0
    enrolments: int = 0
    reviewed: int = 0
    expired: int = 0
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Rules:
    window_days: int
    training_hours: float


def _rules(db: Session) -> Rules:
    # Lock the active profile row: concurrent passes (several processes) run one at a time.
    profile = active_profile(db=db)
    db.execute(select(RuleProfile.code).where(RuleProfile.code == profile.code)
               .with_for_update())
    spec = (profile.data or {}).get("special_operations", {}).get("certificate", {})
    return Rules(window_days=int(spec.get("review_window_days", 60)),
                 training_hours=float(spec.get("review_training_hours", 8)))


def run(db: Session, today: date) -> Outcome:
    """One pass over the certificates that need attention on `today` (a Beijing calendar day).
    The caller commits."""
    rules = _rules(db)
    outcome = Outcome()
    horizon = today + timedelta(days=max(REMINDER_DAYS))
    live = [CertificateStatus.VALID.value]
    candidates = list(db.scalars(select(Certificate).where(
        Certificate.status.in_(live),
        or_(Certificate.expires_on <= horizon,
            and_(Certificate.review_due_on.is_not(None),
                 Certificate.review_due_on <= horizon)),
        # expired ones only until their expiry is recorded: the pass stays small over years
        or_(Certificate.expires_on >= today, ~exists().where(
            CertificateEvent.certificate_id == Certificate.id,
            CertificateEvent.kind == "expired")))
        .order_by(Certificate.id)))
    if not candidates:
        return outcome
    events: dict[int, list[CertificateEvent]] = {c.id: [] for c in candidates}
    ids = list(events)
    for start in range(0, len(ids), 500):
        for event in db.scalars(select(CertificateEvent).where(
                CertificateEvent.certificate_id.in_(ids[start:start + 500]),
                CertificateEvent.kind.in_(["reminder", "review_enrolment", "reviewed",
                                           "expired"]))):
            events[event.certificate_id].append(event)
    workers = {w.id: w for w in db.scalars(select(Worker).where(
        Worker.id.in_({c.worker_id for c in candidates})))}
    for certificate in candidates:
        history = events[certificate.id]
        worker = workers[certificate.worker_id]
        if today > certificate.expires_on:
            if not any(e.kind == "expired" for e in history):
                record_event(db=db, certificate=certificate, kind="expired", by=None,
                             detail={"expires_on": certificate.expires_on.isoformat()})
                outcome.expired += 1
            continue
        if _record_review(db, certificate, history, rules, today):
            outcome.reviewed += 1
        outcome.reminders += _remind(db, certificate, worker, history, today)
        if _enrol_for_review(db, certificate, worker, history, rules, today, outcome):
            outcome.enrolments += 1
    db.flush()
    return outcome


def _remind(db: Session, certificate: Certificate, worker: Worker,
            history: list[CertificateEvent], today: date) -> int:
    """The 90-, 60- and 30-day reminders, each once per due date. A pass that starts late sends
    only the nearest one (no burst of stale reminders)."""
    sent = 0
    targets: list[tuple[str, date, str]] = [("expiry", certificate.expires_on,
                                             "certificate_expiring")]
    if certificate.review_due_on is not None and \
            certificate.review_due_on < certificate.expires_on:
        targets.append(("review", certificate.review_due_on, "certificate_review_due"))
    for what, due, kind in targets:
        left = (due - today).days
        if left < 0:
            continue
        days = min((d for d in REMINDER_DAYS if left <= d), default=None)
        if days is None:
            continue
        if any(e.kind == "reminder" and e.detail.get("what") == what and
               e.detail.get("days") == days and e.detail.get("due_on") == due.isoformat()
               for e in history):
            continue
        detail = {"what": what, "days": days, "due_on": due.isoformat()}
        record_event(db=db, certificate=certificate, kind="reminder", by=None, detail=detail)
        history.append(CertificateEvent(kind="reminder", detail=detail))
        if worker.user_id is not None:
            notify(db=db, user_id=worker.user_id, kind=kind, link=LINK,
                   params={"number": certificate.number, "days": days,
                           "due_on": due.isoformat()})
        sent += 1
    return sent


def _window(certificate: Certificate, rules: Rules) -> tuple[date, date] | None:
    if certificate.review_due_on is None or certificate.review_years is None:
        return None
    due = certificate.review_due_on
    return due - timedelta(days=rules.window_days), due


def _review_course(db: Session, job_category: str, rules: Rules) -> Course | None:
    """The newest published review course of the category long enough to count, else such a
    refresher course."""
    for kind in REVIEW_KINDS:
        course = db.scalar(select(Course).where(
            Course.status == CourseStatus.PUBLISHED.value, Course.kind == kind,
            Course.job_category == job_category, Course.credit_hours >= rules.training_hours)
            .order_by(Course.published_at.desc(), Course.id.desc()).limit(1))
        if course is not None:
            return course
    return None


def _enrol_for_review(db: Session, certificate: Certificate, worker: Worker,
                      history: list[CertificateEvent], rules: Rules, today: date,
                      outcome: Outcome) -> bool:
    window = _window(certificate, rules)
    if window is None or not window[0] <= today <= window[1]:
        return False
    due = certificate.review_due_on
    assert due is not None
    if any(e.kind == "review_enrolment" and e.detail.get("due_on") == due.isoformat()
           for e in history):
        return False
    course = _review_course(db, certificate.job_category, rules)
    if course is None:
        outcome.notes.append(f"{certificate.number}: no published review course for "
                             f"{certificate.job_category}")
        return False
    enrolment = db.scalar(select(Enrolment).where(
        Enrolment.course_id == course.id, Enrolment.worker_id == worker.id,
        Enrolment.status == EnrolmentStatus.ACTIVE.value))
    if enrolment is None:
        lessons = lessons_of(db=db, course_id=course.id)
        enrolment = Enrolment(course_id=course.id, worker_id=worker.id, enrolled_by=None,
                              deadline=due, lessons_total=len(lessons))
        db.add(enrolment)
        db.flush()
        db.add_all(LessonProgress(enrolment_id=enrolment.id, lesson_id=lesson.id)
                   for lesson in lessons)
        db.execute(_insert(db)(StudyClock).values([{"worker_id": worker.id}])
                   .on_conflict_do_nothing(index_elements=["worker_id"]))
    detail: dict[str, Any] = {"due_on": due.isoformat(), "enrolment_id": enrolment.id,
                              "course": course.code}
    record_event(db=db, certificate=certificate, kind="review_enrolment", by=None,
                 detail=detail)
    history.append(CertificateEvent(kind="review_enrolment", detail=detail))
    return True


def _record_review(db: Session, certificate: Certificate, history: list[CertificateEvent],
                   rules: Rules, today: date) -> bool:
    """A review or refresher course of enough hours, completed in the window, records the
    review and moves the next one `review_years` on (never past the expiry)."""
    window = _window(certificate, rules)
    if window is None or today < window[0] or certificate.review_due_on is None or \
            certificate.review_due_on >= certificate.expires_on:
        return False
    opens, due = window
    used = {e.detail.get("enrolment_id") for e in history if e.kind == "reviewed"}
    for enrolment in db.scalars(select(Enrolment).join(Course).where(
            Enrolment.worker_id == certificate.worker_id,
            Enrolment.status == EnrolmentStatus.COMPLETED.value,
            Enrolment.completed_at.is_not(None),
            Course.kind.in_(REVIEW_KINDS), Course.job_category == certificate.job_category,
            Course.credit_hours >= rules.training_hours).order_by(Enrolment.completed_at)):
        assert enrolment.completed_at is not None
        completed_on = enrolment.completed_at.astimezone(LOCAL_TZ).date() \
            if enrolment.completed_at.tzinfo else enrolment.completed_at.date()
        if enrolment.id in used or not opens <= completed_on <= due:
            continue
        assert certificate.review_years is not None
        following = min(add_years(due, certificate.review_years), certificate.expires_on)
        record_event(db=db, certificate=certificate, kind="reviewed", by=None, detail={
            "enrolment_id": enrolment.id, "completed_on": completed_on.isoformat(),
            "previous_due_on": due.isoformat(), "review_due_on": following.isoformat()})
        certificate.review_due_on = following
        db.flush()
        return True
    return False
