"""Results only from the session's start on, attendance from a set time before it (issue 9
item 6), with fixed clocks: the service, the API and the examiner's pages."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.accounts.models import AuditEvent
from app.certificates.models import Certificate
from app.config import get_settings
from app.errors import Conflict
from app.practicals import service
from app.practicals.models import Booking, Notification
from tests import factories as f

SECOND = timedelta(seconds=1)


def state(db, booking_id: int) -> tuple:
    """What a refused result or attendance must leave alone."""
    row = db.execute(select(Booking.status, Booking.attendance, Booking.score, Booking.notes,
                            Booking.result_by, Booking.result_at)
                     .where(Booking.id == booking_id)).one()
    audits = db.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action.in_(["practical.result_recorded", "practical.attendance_recorded"])))
    told = db.scalar(select(func.count()).select_from(Notification))
    certificates = db.scalar(select(func.count()).select_from(Certificate))
    db.commit()  # end the read, so that the test's next write sees the app's commits
    return (*row, audits, told, certificates)


@pytest.fixture
def booked(db, practical):
    """A worker holding a seat in a session two days ahead."""
    session = practical["make_session"]()
    worker = practical["worker"]()
    booking = service.book(db=db, session=session, worker=worker, by=practical["admin"])
    db.commit()
    return {"session": session, "worker": worker,
            "booking": service.get_booking_or_404(db=db, booking_id=booking.id)}


def test_the_service_refuses_a_result_before_the_start_and_takes_it_from_the_start(
        db, practical, booked):
    session, booking = booked["session"], booked["booking"]
    before = state(db, booking.id)
    for early in (session.starts_at - timedelta(days=4), session.starts_at - SECOND):
        with pytest.raises(Conflict) as info:
            service.record_result(db=db, booking=booking, passed=True, score=90, notes="",
                                  by=practical["examiner"], now=early)
        assert info.value.code == "session_not_started"
        with pytest.raises(Conflict) as info:
            service.record_examined_result(db=db, booking=booking, by=practical["examiner"],
                                           score=90, passed=True, now=early)
        assert info.value.code == "session_not_started"
    assert state(db, booking.id) == before

    row = service.record_result(db=db, booking=booking, passed=True, score=90, notes="",
                                by=practical["examiner"], now=session.starts_at)
    assert (row.status, row.result_at) == ("passed", session.starts_at)


def test_the_api_answers_409_session_not_started_and_writes_nothing(
        client, db, practical, booked, clock):
    session, booking = booked["session"], booked["booking"]
    url = f"/api/v1/bookings/{booking.id}/result"
    body = {"passed": True, "score": 90, "notes": "Recorded on 4 Dec for 8 Dec."}
    auth = f.token(client, "examiner1")
    before = state(db, booking.id)
    for early in (session.starts_at - timedelta(days=4), session.starts_at - SECOND):
        clock.at(early)
        answer = client.post(url, json=body, headers=auth)
        assert answer.status_code == 409, answer.text
        assert answer.json()["code"] == "session_not_started"
        assert state(db, booking.id) == before

    clock.at(session.starts_at)
    answer = client.post(url, json=body, headers=auth)
    assert answer.status_code == 200 and answer.json()["status"] == "passed"
    # Entered after the fact, days later, it is taken too (and the log says when).
    late = practical["make_session"](hours_ahead=96)
    other = service.book(db=db, session=late, worker=practical["worker"](),
                         by=practical["admin"])
    db.commit()
    clock.at(late.ends_at + timedelta(days=9))
    answer = client.post(f"/api/v1/bookings/{other.id}/result",
                         json={"passed": False, "score": 20, "notes": ""}, headers=auth)
    assert answer.status_code == 200 and answer.json()["status"] == "failed"
    assert db.scalar(select(Booking.result_at).where(Booking.id == other.id)) == \
        late.ends_at + timedelta(days=9)


def test_attendance_opens_a_set_time_before_the_start(db, practical, booked, monkeypatch):
    session, booking = booked["session"], booked["booking"]
    examiner = practical["examiner"]
    opens = session.starts_at - timedelta(minutes=60)  # the default
    before = state(db, booking.id)
    with pytest.raises(Conflict) as info:
        service.mark_attendance(db=db, booking=booking, attendance="present", by=examiner,
                                now=opens - SECOND)
    assert info.value.code == "attendance_not_open"
    assert state(db, booking.id) == before
    service.mark_attendance(db=db, booking=booking, attendance="present", by=examiner,
                            now=opens)
    assert booking.attendance == "present"
    # Marked present before the start, the result still waits for the start.
    with pytest.raises(Conflict) as info:
        service.record_result(db=db, booking=booking, passed=True, score=90, notes="",
                              by=examiner, now=session.starts_at - SECOND)
    assert info.value.code == "session_not_started"

    monkeypatch.setattr(get_settings(), "attendance_opens_minutes", 15)
    assert service.attendance_opens_at(session) == session.starts_at - timedelta(minutes=15)
    with pytest.raises(Conflict) as info:
        service.mark_attendance(db=db, booking=booking, attendance="no_show", by=examiner,
                                now=opens)
    assert info.value.code == "attendance_not_open"
    service.mark_attendance(db=db, booking=booking, attendance="absent", by=examiner,
                            now=session.starts_at - timedelta(minutes=15))
    assert booking.attendance == "absent"


def test_the_setting_is_read_from_the_environment_and_checked(monkeypatch):
    from app.config import Settings

    monkeypatch.setenv("PITHEAD_ATTENDANCE_OPENS_MINUTES", "30")
    assert Settings().attendance_opens_minutes == 30
    monkeypatch.setenv("PITHEAD_ATTENDANCE_OPENS_MINUTES", "-5")
    with pytest.raises(ValueError, match="attendance_opens_minutes"):
        Settings()


def test_the_examiners_pages_say_when_and_offer_nothing_before(
        client, db, practical, booked, clock):
    session, booking = booked["session"], booked["booking"]
    roster_url = f"/examiner/sessions/{session.id}"
    booking_url = f"/examiner/bookings/{booking.id}"
    csrf = f.login(client, "examiner1")
    before = state(db, booking.id)

    # A day before: neither attendance nor results.
    clock.at(session.starts_at - timedelta(days=1))
    roster = client.get(roster_url).text
    assert 'data-field="opening"' in roster and "Attendance opens at" in roster
    assert f'action="/examiner/bookings/{booking.id}/attendance"' not in roster
    assert "Score the test" not in roster and 'data-field="results-open"' in roster
    page = client.get(booking_url).text
    assert 'data-field="results-open"' in page and 'name="score"' not in page
    refused = client.post(f"{booking_url}/attendance",
                          data={"attendance": "present", "csrf_token": csrf},
                          headers={"HX-Request": "true"})
    assert refused.status_code == 200 and "Attendance can be marked from 60 minutes" in \
        refused.text
    early = client.post(f"{booking_url}/result", data={
        "csrf_token": csrf, "score": "90", "passed": "yes", "notes": ""})
    assert early.status_code == 409 and "has not started yet" in early.text
    assert state(db, booking.id) == before

    # Within the hour before the start: attendance, but no result yet.
    clock.at(session.starts_at - timedelta(minutes=60))
    roster = client.get(roster_url).text
    assert f'action="/examiner/bookings/{booking.id}/attendance"' in roster
    assert "Attendance is open" in roster and "Score the test" not in roster
    marked = client.post(f"{booking_url}/attendance",
                         data={"attendance": "present", "csrf_token": csrf},
                         follow_redirects=False)
    assert marked.status_code == 303
    assert state(db, booking.id)[1] == "present"
    clock.at(session.starts_at - SECOND)
    assert client.post(f"{booking_url}/result", data={
        "csrf_token": csrf, "score": "90", "passed": "yes", "notes": ""}).status_code == 409
    assert state(db, booking.id)[0] == "booked"

    # From the start on: the scoring form and the result.
    clock.at(session.starts_at)
    roster = client.get(roster_url).text
    assert "Score the test" in roster and 'data-field="opening"' not in roster
    assert 'name="score"' in client.get(booking_url).text
    done = client.post(f"{booking_url}/result", data={
        "csrf_token": csrf, "score": "90", "passed": "yes", "notes": ""},
        follow_redirects=False)
    assert done.status_code == 303
    assert state(db, booking.id)[:3] == ("passed", "present", 90.0)
