"""The examiner's workflow (app/practicals/examiner_pages.py): their sessions, the roster with
attendance, the checklist scored item by item into the result, who may do it, the audit log,
the worker's notification, results entered after the fact, and the API path."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from app.accounts.models import AuditEvent, Role
from app.courses import service as courses
from app.courses.package import load_package
from app.db import utcnow
from app.exams.models import Exam
from app.learning import service as learning
from app.organisations.validators import mask_id_number
from app.practicals import service
from app.practicals.models import Booking, Notification, PracticalSession
from tests import factories as f
from tests import packages
from tests.practicals.conftest import pass_theory

METHANOMETER = {"en": "Methanometer bench", "zh_CN": "光干涉甲烷测定器操作台"}
SENSORS = {"en": "Sensor bench", "zh_CN": "传感器操作台"}
CHECKLIST = [
    {"station": METHANOMETER, "item": {"en": "Check the instrument's airtightness",
                                       "zh_CN": "检查仪器气密性"}, "points": 30},
    {"station": METHANOMETER, "item": {"en": "Zero in fresh air", "zh_CN": "在新鲜空气中对零"},
     "points": 30},
    {"station": SENSORS, "item": {"en": "Function-test a portable detector",
                                  "zh_CN": "便携仪功能检查"}, "points": 20},
    {"station": SENSORS, "item": {"en": "Check the sensor's alarm settings",
                                  "zh_CN": "检查传感器报警设置"}, "points": 20},
]
PRACTICAL = {"pass_mark": 80, "checklist": CHECKLIST}


def scored(*awarded: int) -> list[dict]:
    """The checklist as stored with a result that awarded these points."""
    return [{**item, "awarded": points} for item, points in zip(CHECKLIST, awarded, strict=True)]


def fresh(db, booking_id: int) -> Booking:
    """The booking as the database has it now."""
    db.commit()
    booking = db.get(Booking, booking_id, populate_existing=True)
    assert booking is not None
    return booking


def booking_state(db, booking_id: int) -> tuple:
    row = fresh(db, booking_id)
    return (row.status, row.attendance, row.score, row.checklist, row.notes, row.result_by,
            row.result_at)


def count(db, model, *where) -> int:
    db.commit()
    return db.scalar(select(func.count()).select_from(model).where(*where))


def article(html: str, element_id: str) -> str:
    """The <article id=...> of the page (a session card or a roster entry)."""
    match = re.search(rf'<article[^>]* id="{element_id}".*?</article>', html, re.S)
    assert match, f"no article {element_id}"
    return match.group(0)


def awarded_form(csrf: str, *points: object, action: str = "record", notes: str = "") -> dict:
    data = {f"awarded_{i}": str(p) for i, p in enumerate(points)}
    return {**data, "csrf_token": csrf, "action": action, "notes": notes}


@pytest.fixture
def base(db, tmp_path, clock):
    """A gas-inspection-like course whose package has a practical checklist (two stations,
    100 points, pass mark 80), the mini course without one, a test base, two examiners, an
    admin, an enterprise and factories of sessions and booked workers."""
    gas = courses.import_package(db=db, package=load_package(packages.write_package(
        tmp_path / "gas", data=packages.course_yaml(
            code="TEST-GAS", title={"en": "Gas inspection", "zh_CN": "瓦斯检查"},
            practical_required=True, practical=PRACTICAL))), by=None)
    mini = courses.import_package(db=db, package=load_package(packages.write_package(
        tmp_path / "mini")), by=None)
    admin = f.user(db, Role.ADMIN, username="root", full_name="Root Admin")
    examiner = f.user(db, Role.EXAMINER, username="examiner1", full_name="Examiner One")
    other = f.user(db, Role.EXAMINER, username="examiner2", full_name="Examiner Two")
    centre = service.create_test_centre(db=db, name="Taiyuan test base", region_code="1401",
                                        address="1 Mine Road", kinds=["practical_test"],
                                        by=admin)
    ent = f.enterprise(db, name="Alpha Colliery")
    boss = f.user(db, Role.ENTERPRISE_ADMIN, username="boss", enterprise_id=ent.id)
    course_ids = {"gas": gas.course_id, "mini": mini.course_id}

    def make_session(*, course: str = "gas", by=None, capacity: int = 3, hours_ahead: int = 48):
        item = courses.get_course_or_404(db=db, course_id=course_ids[course])
        start = utcnow().replace(microsecond=0) + timedelta(hours=hours_ahead)
        return service.create_sessions(db=db, centre=centre, course=item, starts_at=start,
                                       ends_at=start + timedelta(hours=3), capacity=capacity,
                                       examiner_id=(by or examiner).id, by=admin)[0]

    def book(session, full_name: str = "张三"):
        item = courses.get_course_or_404(db=db, course_id=session.course_id)
        worker = f.worker(db, ent, full_name=full_name)
        enrolment = learning.enrol(db=db, course=item, workers=[worker], by=admin)[0]
        exam = db.scalar(select(Exam).where(Exam.course_id == item.id))
        pass_theory(db, exam, worker, enrolment)
        booking = service.book(db=db, session=session, worker=worker, by=admin)
        db.commit()
        return worker, booking

    def start(session) -> None:
        """The clock a minute after the session's start: attendance and results are open."""
        clock.at(session.starts_at + timedelta(minutes=1))

    db.commit()
    return {"admin": admin, "examiner": examiner, "other": other, "enterprise": ent,
            "boss": boss, "session": make_session, "book": book, "start": start}


def move_to_past(db, session, days: int = 3) -> None:
    start = utcnow().replace(microsecond=0) - timedelta(days=days)
    db.execute(update(PracticalSession).where(PracticalSession.id == session.id)
               .values(starts_at=start, ends_at=start + timedelta(hours=3)))
    db.commit()


def record_directly(db, base, booking, *points: int) -> None:
    """A result recorded through the service (arranging data)."""
    booking = service.get_booking_or_404(db=db, booking_id=booking.id)
    service.record_examined_result(db=db, booking=booking, by=base["examiner"],
                                   awarded=list(points),
                                   now=max(utcnow(), booking.session.starts_at))
    db.commit()


# --- the examiner's sessions ---------------------------------------------------------------------

def test_the_examiner_sees_only_their_sessions_upcoming_and_past(client, db, base):
    mine = base["session"]()
    theirs = base["session"](by=base["other"], hours_ahead=72)
    earlier = base["session"](hours_ahead=24)
    _w1, first = base["book"](mine, "王一")
    _w2, second = base["book"](mine, "王二")
    base["book"](theirs, "李三")
    base["book"](earlier, "赵四")
    record_directly(db, base, first, 30, 30, 20, 20)
    move_to_past(db, earlier)

    f.login(client, "examiner1")
    page = client.get("/examiner")
    assert page.status_code == 200
    assert f"/examiner/sessions/{theirs.id}" not in page.text
    upcoming, past = page.text.split('id="past-heading"')
    assert f'id="session-{mine.id}"' in upcoming and f'id="session-{earlier.id}"' not in upcoming
    assert f'id="session-{earlier.id}"' in past
    card = article(page.text, f"session-{mine.id}")
    assert 'data-seats="2"' in card and 'data-recorded="1"' in card
    assert "2 booked" in card and "1 result recorded" in card and "Gas inspection" in card
    old = article(page.text, f"session-{earlier.id}")
    assert 'data-seats="1"' in old and 'data-recorded="0"' in old
    assert second.id  # still awaiting its result

    other = client.get(f"/examiner/sessions/{theirs.id}")
    assert other.status_code == 404 and "李三" not in other.text

    f.login(client, "examiner2")
    listed = client.get("/examiner").text
    assert f'id="session-{theirs.id}"' in listed
    assert f"/examiner/sessions/{mine.id}" not in listed
    assert f"/examiner/sessions/{earlier.id}" not in listed


def test_admins_see_every_session_read_only_and_others_are_refused(client, db, base, make_client):
    session = base["session"]()
    theirs = base["session"](by=base["other"])
    worker, booking = base["book"](session, "王守矿")

    f.login(client, "root")
    listed = client.get("/examiner")
    assert listed.status_code == 200
    assert f'id="session-{session.id}"' in listed.text
    assert f'id="session-{theirs.id}"' in listed.text
    assert "Examiner One" in article(listed.text, f"session-{session.id}")
    assert "Examiner Two" in article(listed.text, f"session-{theirs.id}")
    roster = client.get(f"/examiner/sessions/{session.id}")
    assert roster.status_code == 200 and "王守矿" in roster.text
    assert "/attendance" not in roster.text and "read-only" in roster.text
    scoring = client.get(f"/examiner/bookings/{booking.id}")
    assert scoring.status_code == 200 and "王守矿" in scoring.text
    assert "awarded_0" not in scoring.text and "/result" not in scoring.text

    for username in (worker.id_number, "boss"):
        browser = make_client()
        f.login(browser, username)
        for url in ("/examiner", f"/examiner/sessions/{session.id}",
                    f"/examiner/bookings/{booking.id}"):
            refused = browser.get(url)
            assert refused.status_code == 403, (username, url)
            assert "Alpha Colliery" not in refused.text and "Taiyuan" not in refused.text
            assert mask_id_number(worker.id_number) not in refused.text


# --- roster and attendance -------------------------------------------------------------------

def test_roster_and_attendance(client, db, base):
    session = base["session"](capacity=2)
    first, booked_first = base["book"](session, "王一")
    second, booked_second = base["book"](session, "王二")
    waiting, on_waitlist = base["book"](session, "王三")
    assert on_waitlist.status == "waitlisted"
    base["start"](session)
    csrf = f.login(client, "examiner1")

    page = client.get(f"/examiner/sessions/{session.id}")
    assert page.status_code == 200
    entry = article(page.text, f"booking-{booked_first.id}")
    assert "王一" in entry and mask_id_number(first.id_number) in entry
    assert "Alpha Colliery" in entry and "Not marked" in entry and "Awaiting result" in entry
    assert first.id_number not in page.text
    assert "王三" not in page.text and "1 waiting" in page.text
    assert page.text.index("王一") < page.text.index("王二")

    marked = client.post(f"/examiner/bookings/{booked_first.id}/attendance",
                         data={"attendance": "present", "csrf_token": csrf},
                         follow_redirects=False)
    assert marked.status_code == 303
    assert marked.headers["location"] == (f"/examiner/sessions/{session.id}"
                                          f"#booking-{booked_first.id}")
    assert fresh(db, booked_first.id).attendance == "present"
    entry = article(client.get(marked.headers["location"]).text, f"booking-{booked_first.id}")
    assert 'data-attendance="present"' in entry and 'aria-pressed="true"' in entry

    # htmx: only the worker's card comes back.
    partial = client.post(f"/examiner/bookings/{booked_second.id}/attendance",
                          data={"attendance": "no_show"},
                          headers={"HX-Request": "true", "X-CSRF-Token": csrf})
    assert partial.status_code == 200
    assert partial.text.lstrip().startswith(f'<article id="booking-{booked_second.id}"')
    assert "<html" not in partial.text and 'data-attendance="no_show"' in partial.text
    assert "No-show" in partial.text and "Score the test" not in partial.text
    assert fresh(db, booked_second.id).attendance == "no_show"

    # A mistake can be corrected until a result is recorded.
    client.post(f"/examiner/bookings/{booked_second.id}/attendance",
                data={"attendance": "absent", "csrf_token": csrf})
    assert fresh(db, booked_second.id).attendance == "absent"
    events = db.execute(select(AuditEvent.object_id, AuditEvent.detail).where(
        AuditEvent.action == "practical.attendance_recorded").order_by(AuditEvent.id)).all()
    assert [(e.object_id, e.detail["attendance"], e.detail["before"]) for e in events] == [
        (str(booked_first.id), "present", None), (str(booked_second.id), "no_show", None),
        (str(booked_second.id), "absent", "no_show")]

    wrong = client.post(f"/examiner/bookings/{booked_first.id}/attendance",
                        data={"attendance": "late", "csrf_token": csrf})
    assert wrong.status_code == 422
    assert fresh(db, booked_first.id).attendance == "present"

    # The waitlisted booking is not on the roster and cannot be marked or scored.
    refused = client.post(f"/examiner/bookings/{on_waitlist.id}/attendance",
                          data={"attendance": "present", "csrf_token": csrf})
    assert refused.status_code == 200 and "no result yet" in refused.text  # flash on the roster
    assert fresh(db, on_waitlist.id).attendance is None
    waiting_page = client.get(f"/examiner/bookings/{on_waitlist.id}")
    assert waiting_page.status_code == 200 and "On the waitlist" in waiting_page.text
    assert "awarded_0" not in waiting_page.text

    # Once the result is in, attendance stays as it was.
    record_directly(db, base, booked_first, 30, 30, 20, 20)
    late = client.post(f"/examiner/bookings/{booked_first.id}/attendance",
                       data={"attendance": "no_show"},
                       headers={"HX-Request": "true", "X-CSRF-Token": csrf})
    assert late.status_code == 200 and 'role="alert"' in late.text
    assert fresh(db, booked_first.id).attendance == "present"
    assert waiting.id


# --- scoring the checklist -------------------------------------------------------------------

def test_scoring_the_checklist_computes_the_total_and_the_verdict(client, db, base):
    session = base["session"]()
    _passing, good = base["book"](session, "王一")
    _failing, poor = base["book"](session, "王二")
    base["start"](session)
    csrf = f.login(client, "examiner1")

    page = client.get(f"/examiner/bookings/{good.id}")
    assert page.status_code == 200
    text = page.text
    positions = [text.index(s) for s in ("Methanometer bench", "Check the instrument&#39;s",
                                         "Zero in fresh air", "Sensor bench",
                                         "Function-test a portable detector",
                                         "Check the sensor&#39;s alarm settings")]
    assert positions == sorted(positions)
    assert text.count("Methanometer bench") == 1  # grouped by station
    for index, points in enumerate((30, 30, 20, 20)):
        assert re.search(rf'name="awarded_{index}" type="number" min="0" max="{points}"', text)
    assert "up to 60 points" in text and "up to 40 points" in text
    assert re.search(r"<dt>Pass mark</dt><dd>80 / 100</dd>", text)

    preview = client.post(f"/examiner/bookings/{good.id}/result",
                          data=awarded_form(csrf, 30, 25, 20, 5, action="preview"))
    assert preview.status_code == 200
    assert "Total: 80 of 100" in preview.text
    assert '<strong data-field="preview-verdict">Pass</strong>' in preview.text
    assert 'value="25"' in preview.text  # the form keeps what was entered
    assert booking_state(db, good.id)[:3] == ("booked", None, None)
    assert count(db, AuditEvent, AuditEvent.action == "practical.result_recorded") == 0

    low = client.post(f"/examiner/bookings/{poor.id}/result",
                      data=awarded_form(csrf, 30, 25, 20, 4, action="preview"))
    assert "Total: 79 of 100" in low.text
    assert '<strong data-field="preview-verdict">Fail</strong>' in low.text

    recorded = client.post(f"/examiner/bookings/{good.id}/result",
                           data=awarded_form(csrf, 30, 25, 20, 5, notes="Slow to zero."),
                           follow_redirects=False)
    assert recorded.status_code == 303
    assert recorded.headers["location"] == f"/examiner/bookings/{good.id}"
    row = fresh(db, good.id)
    assert (row.status, row.score, row.attendance, row.notes, row.result_by) == (
        "passed", 80.0, "present", "Slow to zero.", base["examiner"].id)
    assert row.checklist == scored(30, 25, 20, 5)
    assert row.result_at is not None

    shown = client.get(recorded.headers["location"]).text
    assert '<h2 data-field="verdict" class="ok">Passed</h2>' in shown
    assert '<strong data-field="score">80</strong> / 100' in shown
    assert '<li data-item="1"><strong>25 / 30</strong> · Zero in fresh air</li>' in shown
    assert "55 / 60" in shown and "25 / 40" in shown and "Slow to zero." in shown
    assert "Recorded by Examiner One" in shown
    assert "awarded_0" not in shown and "Result recorded for 王一." in shown

    client.post(f"/examiner/bookings/{poor.id}/result",
                data=awarded_form(csrf, 30, 25, 20, 4))
    row = fresh(db, poor.id)
    assert (row.status, row.score, row.checklist) == ("failed", 79.0, scored(30, 25, 20, 4))

    roster = client.get(f"/examiner/sessions/{session.id}").text
    assert "Passed · 80 points" in article(roster, f"booking-{good.id}")
    assert "Failed · 79 points" in article(roster, f"booking-{poor.id}")

    # The result is final: a second submission changes nothing.
    again = client.post(f"/examiner/bookings/{poor.id}/result",
                        data=awarded_form(csrf, 30, 30, 20, 20))
    assert again.status_code == 409
    assert "A result can only be recorded for a booked seat." in again.text
    assert fresh(db, poor.id).score == 79.0


def test_each_item_is_checked_and_nothing_is_stored_on_an_error(client, db, base):
    session = base["session"]()
    _worker, booking = base["book"](session)
    base["start"](session)
    csrf = f.login(client, "examiner1")
    before = booking_state(db, booking.id)

    bad = client.post(f"/examiner/bookings/{booking.id}/result",
                      data=awarded_form(csrf, 31, "", "2.5", -1))
    assert bad.status_code == 400
    assert bad.text.count("Award from 0 to 30 points.") == 1
    assert bad.text.count("Enter the points awarded as a whole number.") == 2
    assert bad.text.count("Award from 0 to 20 points.") == 1
    for index in range(4):
        assert f'aria-describedby="e-awarded_{index}"' in bad.text
    assert booking_state(db, booking.id) == before

    missing = client.post(f"/examiner/bookings/{booking.id}/result",
                          data={"csrf_token": csrf, "awarded_0": "30", "action": "record"})
    assert missing.status_code == 400
    assert booking_state(db, booking.id) == before

    long = client.post(f"/examiner/bookings/{booking.id}/result",
                       data=awarded_form(csrf, 30, 30, 20, 20, notes="x" * 2001))
    assert long.status_code == 400 and "at most 2000 characters" in long.text
    assert booking_state(db, booking.id) == before
    assert count(db, AuditEvent, AuditEvent.action == "practical.result_recorded") == 0


@pytest.mark.parametrize("attendance", ["absent", "no_show"])
def test_an_absent_or_no_show_worker_gets_no_result(client, db, base, attendance):
    session = base["session"]()
    _worker, booking = base["book"](session)
    base["start"](session)
    csrf = f.login(client, "examiner1")
    client.post(f"/examiner/bookings/{booking.id}/attendance",
                data={"attendance": attendance, "csrf_token": csrf})
    before = booking_state(db, booking.id)
    assert before[:2] == ("booked", attendance)

    page = client.get(f"/examiner/bookings/{booking.id}")
    assert page.status_code == 200
    assert 'data-field="not-present"' in page.text and "no result can be recorded" in page.text
    assert "awarded_0" not in page.text

    refused = client.post(f"/examiner/bookings/{booking.id}/result",
                          data=awarded_form(csrf, 30, 30, 20, 20))
    assert refused.status_code == 409
    assert "The worker was not at the test" in refused.text
    assert booking_state(db, booking.id) == before
    assert count(db, AuditEvent, AuditEvent.action == "practical.result_recorded") == 0

    # Marked present after all, the worker can be scored.
    client.post(f"/examiner/bookings/{booking.id}/attendance",
                data={"attendance": "present", "csrf_token": csrf})
    client.post(f"/examiner/bookings/{booking.id}/result",
                data=awarded_form(csrf, 30, 30, 20, 20))
    assert fresh(db, booking.id).status == "passed"


def test_only_the_sessions_examiner_records_and_a_refusal_changes_nothing(
        client, db, base, make_client):
    session = base["session"]()
    worker, booking = base["book"](session)
    base["start"](session)
    before = booking_state(db, booking.id)
    examining = AuditEvent.action.in_(["practical.result_recorded",
                                       "practical.attendance_recorded"])
    counts = (count(db, AuditEvent, examining), count(db, Notification))
    body = {"passed": True, "score": 90, "notes": ""}

    other = make_client()
    other_csrf = f.login(other, "examiner2")
    assert other.post(f"/examiner/bookings/{booking.id}/result",
                      data=awarded_form(other_csrf, 30, 30, 20, 20)).status_code == 404
    assert other.post(f"/examiner/bookings/{booking.id}/attendance",
                      data={"attendance": "present", "csrf_token": other_csrf}
                      ).status_code == 404
    assert other.get(f"/examiner/bookings/{booking.id}").status_code == 404
    admin = make_client()
    admin_csrf = f.login(admin, "root")
    assert admin.post(f"/examiner/bookings/{booking.id}/result",
                      data=awarded_form(admin_csrf, 30, 30, 20, 20)).status_code == 403
    assert admin.post(f"/examiner/bookings/{booking.id}/attendance",
                      data={"attendance": "present", "csrf_token": admin_csrf}
                      ).status_code == 403

    url = f"/api/v1/bookings/{booking.id}/result"
    assert client.post(url, json=body, headers=f.token(client, "examiner2")).status_code == 404
    for username in ("root", "boss", worker.id_number):
        answer = client.post(url, json=body, headers=f.token(client, username))
        assert answer.status_code == 403, username
        assert answer.json()["code"] == "forbidden"

    assert booking_state(db, booking.id) == before
    assert (count(db, AuditEvent, examining), count(db, Notification)) == counts


# --- the audit log, the worker's notification, after the fact, the API ------------------------

def test_the_result_goes_to_the_audit_log_and_the_worker_is_told(client, db, base):
    session = base["session"]()
    worker, booking = base["book"](session)
    base["start"](session)
    csrf = f.login(client, "examiner1")
    client.post(f"/examiner/bookings/{booking.id}/result",
                data=awarded_form(csrf, 30, 30, 20, 5))
    db.commit()
    event = db.scalars(select(AuditEvent).where(
        AuditEvent.action == "practical.result_recorded")).one()
    assert (event.actor_id, event.object_type, event.object_id, event.enterprise_id) == (
        base["examiner"].id, "booking", str(booking.id), base["enterprise"].id)
    assert event.detail == {"worker_id": worker.id, "passed": True, "score": 85.0,
                            "session_id": session.id}
    told = db.scalars(select(Notification).where(
        Notification.user_id == worker.user_id).order_by(Notification.id)).all()
    assert [(n.kind, n.params.get("score")) for n in told] == [
        ("booked", None), ("result_passed", 85.0)]


def test_a_result_for_a_past_session_is_recorded(client, db, base):
    session = base["session"]()
    _worker, booking = base["book"](session)
    move_to_past(db, session, days=10)
    csrf = f.login(client, "examiner1")
    listed = client.get("/examiner").text
    assert f'id="session-{session.id}"' in listed.split('id="past-heading"')[1]
    client.post(f"/examiner/bookings/{booking.id}/attendance",
                data={"attendance": "present", "csrf_token": csrf})
    recorded = client.post(f"/examiner/bookings/{booking.id}/result",
                           data=awarded_form(csrf, 10, 10, 10, 10), follow_redirects=False)
    assert recorded.status_code == 303
    row = fresh(db, booking.id)
    assert (row.status, row.score) == ("failed", 40.0)


def test_the_api_path_works_for_the_examiner(client, db, base):
    session = base["session"]()
    _worker, booking = base["book"](session)
    move_to_past(db, session)
    answer = client.post(f"/api/v1/bookings/{booking.id}/result",
                         json={"passed": False, "score": 55, "notes": "Zeroed in return air."},
                         headers=f.token(client, "examiner1"))
    assert answer.status_code == 200
    assert {k: answer.json()[k] for k in ("id", "status", "score", "notes")} == {
        "id": booking.id, "status": "failed", "score": 55.0, "notes": "Zeroed in return air."}
    event = db.scalars(select(AuditEvent).where(
        AuditEvent.action == "practical.result_recorded")).one()
    assert (event.object_id, event.detail["score"], event.detail["passed"]) == (
        str(booking.id), 55, False)
    f.login(client, "examiner1")
    page = client.get(f"/examiner/bookings/{booking.id}")
    assert '<h2 data-field="verdict">Failed</h2>' in page.text
    assert '<strong data-field="score">55</strong>' in page.text


# --- without a checklist; in Chinese --------------------------------------------------------------

def test_without_a_checklist_the_examiner_enters_score_and_verdict(client, db, base):
    session = base["session"](course="mini")
    _worker, booking = base["book"](session)
    base["start"](session)
    csrf = f.login(client, "examiner1")
    page = client.get(f"/examiner/bookings/{booking.id}").text
    assert 'name="score"' in page and "awarded_0" not in page and "Calculate total" not in page

    incomplete = client.post(f"/examiner/bookings/{booking.id}/result",
                             data={"csrf_token": csrf, "score": "120", "notes": ""})
    assert incomplete.status_code == 400
    assert "The score is between 0 and 100." in incomplete.text
    assert "Choose passed or failed." in incomplete.text
    assert fresh(db, booking.id).status == "booked"

    client.post(f"/examiner/bookings/{booking.id}/result",
                data={"csrf_token": csrf, "score": "85.5", "passed": "yes", "notes": "Good."})
    row = fresh(db, booking.id)
    assert (row.status, row.score, row.checklist, row.notes) == ("passed", 85.5, [], "Good.")


def test_stations_and_items_show_in_the_readers_language(client, db, base):
    session = base["session"]()
    _worker, booking = base["book"](session)
    base["start"](session)
    f.login(client, "examiner1")
    client.cookies.set("pithead_lang", "zh_CN")
    page = client.get(f"/examiner/bookings/{booking.id}").text
    assert '<html lang="zh-CN">' in page
    assert "光干涉甲烷测定器操作台" in page and "在新鲜空气中对零" in page
    assert "Methanometer bench" not in page and "Zero in fresh air" not in page
    roster = client.get(f"/examiner/sessions/{session.id}").text
    assert "瓦斯检查" in roster and "Gas inspection" not in roster
