from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select, text

from app.certificates import lifecycle, numbers
from app.certificates.models import Certificate, CertificateEvent
from app.courses.models import Course
from app.learning.models import Enrolment
from app.practicals.models import Notification
from tests import factories as f

ISSUED = date(2020, 1, 1)
REVIEW = date(2023, 1, 1)
EXPIRES = date(2026, 1, 1)


def _course(db, code, kind, *, hours=8.0, status="published", category="general.underground"):
    course = Course(code=code, version=1, status=status, title={"en": code}, job_category=category,
                    kind=kind, credit_hours=hours, published_at=datetime(2019, 1, 1, tzinfo=UTC))
    db.add(course)
    db.flush()
    return course


@pytest.fixture
def cert(db):
    ent = f.enterprise(db, region="140105")
    worker = f.worker(db, ent)
    initial = _course(db, "initial-1", "initial")
    certificate = Certificate(
        number=numbers.new_number(), worker_id=worker.id, course_id=initial.id,
        course_code=initial.code, title={"en": "T"}, job_category="general.underground",
        issued_on=ISSUED, expires_on=EXPIRES, review_due_on=REVIEW, review_years=3,
        status="valid", issuer="test", status_index=0, source={})
    db.add(certificate)
    db.commit()
    return certificate


def _events(db, kind):
    db.commit()
    return list(db.scalars(select(CertificateEvent).where(CertificateEvent.kind == kind)
                           .order_by(CertificateEvent.id)))


def _notes(db, user_id):
    db.commit()
    return [(n.kind, n.params["days"], n.params["due_on"]) for n in db.scalars(
        select(Notification).where(Notification.user_id == user_id).order_by(Notification.id))]


def test_reminders_at_90_60_30_days_exactly_once(db, cert):
    user_id = db.scalar(text("select user_id from workers where id = :w"), {"w": cert.worker_id})
    assert lifecycle.run(db, date(2022, 10, 2)).reminders == 0  # 91 days before the review
    days = [date(2022, 10, 3), date(2022, 10, 4), date(2022, 11, 2), date(2022, 11, 3),
            date(2022, 12, 2), date(2022, 12, 15), date(2023, 1, 1)]
    sent = [lifecycle.run(db, day).reminders for day in days]
    db.commit()
    assert sent == [1, 0, 1, 0, 1, 0, 0]
    assert _notes(db, user_id) == [("certificate_review_due", 90, "2023-01-01"),
                                   ("certificate_review_due", 60, "2023-01-01"),
                                   ("certificate_review_due", 30, "2023-01-01")]
    assert [e.detail for e in _events(db, "reminder")] == [
        {"what": "review", "days": d, "due_on": "2023-01-01"} for d in (90, 60, 30)]
    # expiry: a pass that starts late sends only the nearest reminder
    assert lifecycle.run(db, date(2025, 12, 5)).reminders == 1
    assert lifecycle.run(db, date(2025, 12, 31)).reminders == 0
    assert _notes(db, user_id)[-1] == ("certificate_expiring", 30, "2026-01-01")
    notification = db.scalars(select(Notification).order_by(Notification.id.desc())).first()
    assert notification.link == "/certificates/mine"
    assert notification.params["number"] == cert.number


def test_enrolled_in_the_review_course_when_the_window_opens(db, cert):
    _course(db, "refresher-1", "refresher")
    review = _course(db, "review-1", "review")
    _course(db, "review-other", "review", category="other.category")
    db.commit()
    assert lifecycle.run(db, date(2022, 11, 1)).enrolments == 0  # 61 days before
    assert db.scalar(select(Enrolment.id)) is None
    assert lifecycle.run(db, date(2022, 11, 2)).enrolments == 1  # the window opens
    assert lifecycle.run(db, date(2022, 11, 3)).enrolments == 0
    db.commit()
    enrolments = list(db.scalars(select(Enrolment)))
    assert [(e.course_id, e.worker_id, e.deadline, e.status) for e in enrolments] == [
        (review.id, cert.worker_id, REVIEW, "active")]
    assert [e.detail for e in _events(db, "review_enrolment")] == [
        {"due_on": "2023-01-01", "enrolment_id": enrolments[0].id, "course": "review-1"}]


def test_refresher_when_no_review_course_and_none_when_neither(db, cert):
    assert lifecycle.run(db, date(2022, 11, 2)).enrolments == 0
    assert _events(db, "review_enrolment") == []
    refresher = _course(db, "refresher-1", "refresher")
    db.commit()
    assert lifecycle.run(db, date(2022, 11, 5)).enrolments == 1
    db.commit()
    assert db.scalar(select(Enrolment.course_id)) == refresher.id


def test_a_completed_review_course_moves_the_review_date(db, cert):
    review = _course(db, "review-1", "review")
    short = _course(db, "review-short", "review", hours=4)
    db.commit()
    lifecycle.run(db, date(2022, 11, 2))
    enrolment = db.scalar(select(Enrolment))
    # a short course, and one completed before the window, do not count
    db.add(Enrolment(course_id=short.id, worker_id=cert.worker_id, status="completed",
                     completed_at=datetime(2022, 12, 1, 4, tzinfo=UTC)))
    db.add(Enrolment(course_id=review.id, worker_id=cert.worker_id, status="completed",
                     completed_at=datetime(2022, 10, 1, 4, tzinfo=UTC)))
    db.commit()
    assert lifecycle.run(db, date(2022, 12, 5)).reviewed == 0
    enrolment = db.get(Enrolment, enrolment.id)
    enrolment.status = "completed"
    enrolment.completed_at = datetime(2022, 12, 10, 4, tzinfo=UTC)
    db.commit()
    assert lifecycle.run(db, date(2022, 12, 11)).reviewed == 1
    assert lifecycle.run(db, date(2022, 12, 12)).reviewed == 0
    db.commit()
    assert db.get(Certificate, cert.id).review_due_on == date(2026, 1, 1)  # capped at expiry
    assert [e.detail for e in _events(db, "reviewed")] == [
        {"enrolment_id": enrolment.id, "completed_on": "2022-12-10",
         "previous_due_on": "2023-01-01", "review_due_on": "2026-01-01"}]


def test_review_moves_by_review_years(db, cert):
    certificate = db.get(Certificate, cert.id)
    certificate.expires_on = date(2030, 1, 1)
    review = _course(db, "review-1", "review")
    db.add(Enrolment(course_id=review.id, worker_id=cert.worker_id, status="completed",
                     completed_at=datetime(2022, 12, 20, 4, tzinfo=UTC)))
    db.commit()
    assert lifecycle.run(db, date(2022, 12, 21)).reviewed == 1
    db.commit()
    assert db.get(Certificate, cert.id).review_due_on == date(2026, 1, 1)


def test_expiry_recorded_once_and_history_is_append_only(db, cert):
    assert lifecycle.run(db, EXPIRES).expired == 0
    assert lifecycle.run(db, date(2026, 1, 2)).expired == 1
    assert lifecycle.run(db, date(2026, 1, 3)).expired == 0
    events = _events(db, "expired")
    assert [e.detail for e in events] == [{"expires_on": "2026-01-01"}]
    with pytest.raises(Exception):  # noqa: B017,PT011 - the driver's error differs by database
        db.execute(text("update certificate_events set kind = 'x' where id = :i"),
                   {"i": events[0].id})
        db.flush()
    db.rollback()
    with pytest.raises(Exception):  # noqa: B017,PT011
        db.execute(text("delete from certificate_events where id = :i"), {"i": events[0].id})
        db.flush()
    db.rollback()
    assert [e.kind for e in _events(db, "expired")] == ["expired"]


def test_suspended_and_revoked_get_no_reminders(db, cert):
    db.get(Certificate, cert.id).status = "suspended"
    db.commit()
    outcome = lifecycle.run(db, date(2022, 12, 2))
    assert (outcome.reminders, outcome.enrolments, outcome.expired) == (0, 0, 0)


def test_the_reminder_is_worded_on_the_notifications_page(client, db, cert):
    lifecycle.run(db, date(2022, 12, 5))
    username = db.scalar(text("select u.username from users u join workers w on w.user_id = u.id"
                              " where w.id = :w"), {"w": cert.worker_id})
    db.commit()
    f.login(client, username)
    page = client.get("/notifications")
    assert page.status_code == 200
    assert (f"Certificate {cert.number} is due for review in 30 days (2023-01-01)."
            in page.text)
