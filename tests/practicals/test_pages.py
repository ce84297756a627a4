"""Pages of practical tests: the public directory of training bases and its admin pages,
scheduling a weekly series, a session's page (booking, waitlist, cancelling, booking for
one's staff, changing and cancelling a session), the calendar and its iCalendar feeds, the
worker's "My practical tests" and the notifications."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from html import escape

from sqlalchemy import select

from app.accounts.models import Role, User
from app.db import utcnow
from app.i18n import LOCAL_TZ, format_datetime
from app.practicals import models, service
from app.practicals.models import Booking, Notification, PracticalSession
from tests import factories as f
from tests.practicals.test_calendar import parse_ics, utc

ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}


def sign_in(make_client, username: str):
    """A browser of its own, signed in; (client, CSRF token)."""
    client = make_client()
    return client, f.login(client, username)


def post(client, url: str, csrf: str, **data):
    return client.post(url, data={"csrf_token": csrf, **data}, follow_redirects=True)


def booking_of(db, session_id: int, worker_id: int) -> Booking:
    db.commit()  # a fresh snapshot: the app wrote since the last read
    return db.scalar(select(Booking).where(Booking.session_id == session_id,
                                           Booking.worker_id == worker_id)
                     .order_by(Booking.id.desc()).limit(1)
                     .execution_options(populate_existing=True))


def kinds_for(db, user_id: int) -> list[str]:
    db.commit()
    return list(db.scalars(select(Notification.kind).where(Notification.user_id == user_id)
                           .order_by(Notification.id)))


def local_day_in(days: int) -> date:
    return (utcnow().astimezone(LOCAL_TZ) + timedelta(days=days)).date()


def session_on(db, practical, day: date, *, hour: int = 9, capacity: int = 5,
               centre: models.TestCentre | None = None) -> PracticalSession:
    start = datetime.combine(day, time(hour), tzinfo=LOCAL_TZ).astimezone(UTC)
    return service.create_sessions(db=db, centre=centre or practical["centre"],
                                   course=practical["course"], starts_at=start,
                                   ends_at=start + timedelta(hours=3), capacity=capacity,
                                   examiner_id=practical["examiner"].id,
                                   by=practical["admin"])[0]


# --- training bases ------------------------------------------------------------------------------

def test_the_directory_is_public_and_filtered_by_region_prefix(client, db, practical):
    admin = practical["admin"]
    service.create_test_centre(db=db, name="Ordos skills base", region_code="150602",
                               address="9 Steppe Road", kinds=["skills_training"], by=admin,
                               stations=["Hoist simulator"], contact="0477-1234567")
    session = practical["make_session"](capacity=3, hours_ahead=72)
    db.commit()
    everything = client.get("/bases")  # nobody signed in
    assert everything.status_code == 200
    assert "Taiyuan test base" in everything.text and "Ordos skills base" in everything.text
    assert f'href="/practicals/sessions/{session.id}"' in everything.text
    assert "3 of 3 seats free" in everything.text
    assert "Hoist simulator" in everything.text and "0477-1234567" in everything.text
    shanxi = client.get("/bases?region=14")
    assert "Taiyuan test base" in shanxi.text and "Ordos skills base" not in shanxi.text
    # The chosen province lists its prefectures for a narrower choice.
    assert '<option value="1401"' in shanxi.text and '<option value="1506"' not in shanxi.text
    ordos = client.get("/bases?region=1506")
    assert "Ordos skills base" in ordos.text and "Taiyuan test base" not in ordos.text
    datong = client.get("/bases?region=1402")
    assert "Taiyuan test base" not in datong.text and "No training base in this region yet." \
        in datong.text
    skills = client.get("/bases?kind=skills_training")
    assert "Ordos skills base" in skills.text and "Taiyuan test base" not in skills.text
    chinese = client.get("/bases", headers=ZH)
    assert '<html lang="zh-CN">' in chinese.text


def test_admins_add_and_change_bases_and_nobody_else_may(make_client, db, practical):
    db.commit()
    admin, csrf = sign_in(make_client, "root")
    bad = admin.post("/admin/bases/new", data={"csrf_token": csrf, "name": " ",
                                               "region_code": "99"})
    assert bad.status_code == 400
    assert "Enter the base&#39;s name." in bad.text
    assert "Choose what the base does: practical_test, skills_training, warning_education." \
        in bad.text
    assert "There is no province with code 99." in bad.text
    done = post(admin, "/admin/bases/new", csrf, name="Datong warning base", region_code="1402",
                address="2 Coal St", kinds=["warning_education", "skills_training"],
                stations="Self-rescuer drill\n\nSmoke tunnel\n", contact="Mr Li")
    assert done.status_code == 200 and "Training base Datong warning base added." in done.text
    db.commit()
    centre = db.scalar(select(models.TestCentre).where(
        models.TestCentre.name == "Datong warning base"))
    assert (centre.region_code, centre.kinds, centre.stations, centre.contact) == (
        "1402", ["skills_training", "warning_education"], ["Self-rescuer drill", "Smoke tunnel"],
        "Mr Li")
    form = admin.get(f"/admin/bases/{centre.id}")
    assert "Self-rescuer drill\nSmoke tunnel" in form.text
    post(admin, f"/admin/bases/{centre.id}", csrf, name="Datong base", region_code="140200",
         kinds=["practical_test"], stations="Gas bench", address="", contact="")
    db.commit()
    db.refresh(centre)
    assert (centre.name, centre.kinds, centre.stations) == ("Datong base", ["practical_test"],
                                                            ["Gas bench"])
    examiner, csrf2 = sign_in(make_client, "examiner1")
    assert examiner.get("/admin/bases").status_code == 403
    refused = examiner.post(f"/admin/bases/{centre.id}", data={
        "csrf_token": csrf2, "name": "Hijacked", "region_code": "14", "kinds": "practical_test"})
    assert refused.status_code == 403
    db.commit()
    db.refresh(centre)
    assert centre.name == "Datong base"


# --- scheduling --------------------------------------------------------------------------------

def test_an_examiner_schedules_a_weekly_series_through_the_page(make_client, db, practical):
    db.commit()
    client, csrf = sign_in(make_client, "examiner1")
    form = client.get("/practicals/sessions/new")
    assert form.status_code == 200 and "Taiyuan test base" in form.text
    day = local_day_in(10)
    fields = {"test_centre_id": str(practical["centre"].id),
              "course_id": str(practical["course"].id), "day": day.isoformat(),
              "start_time": "09:00", "end_time": "12:30", "capacity": "8",
              "examiner_id": str(practical["examiner"].id), "weeks": "3"}
    wrong = client.post("/practicals/sessions/new", data={
        "csrf_token": csrf, **fields, "end_time": "08:00", "capacity": "0"})
    assert wrong.status_code == 400
    assert "The session must end after it starts." in wrong.text
    assert "Capacity is between 1 and 500 seats." in wrong.text
    response = client.post("/practicals/sessions/new", data={"csrf_token": csrf, **fields},
                           follow_redirects=False)
    assert response.status_code == 303
    first_id = int(re.fullmatch(r"/practicals/sessions/(\d+)", response.headers["location"])[1])
    db.commit()
    sessions = list(db.scalars(select(PracticalSession).order_by(PracticalSession.starts_at)))
    assert [s.id for s in sessions][0] == first_id and len(sessions) == 3
    start = datetime.combine(day, time(9), tzinfo=LOCAL_TZ).astimezone(UTC)
    assert [s.starts_at for s in sessions] == [start + timedelta(weeks=n) for n in range(3)]
    assert [s.ends_at - s.starts_at for s in sessions] == [timedelta(hours=3, minutes=30)] * 3
    assert start.hour == 1  # 09:00 in Beijing is 01:00 UTC
    assert len({s.series_id for s in sessions}) == 1 and sessions[0].series_id is not None
    assert {(s.capacity, s.examiner_id) for s in sessions} == {(8, practical["examiner"].id)}
    page = client.get(response.headers["location"])
    assert "3 session(s) scheduled." in page.text and "09:00" in page.text


def test_workers_and_enterprise_admins_cannot_schedule(make_client, db, practical):
    worker = practical["worker"]()
    db.commit()
    client, csrf = sign_in(make_client, worker.id_number)
    assert client.get("/practicals/sessions/new").status_code == 403
    assert client.post("/practicals/sessions/new", data={"csrf_token": csrf}).status_code == 403


# --- booking as a worker ---------------------------------------------------------------------

def test_a_worker_books_sees_the_waitlist_cancels_and_the_first_waitlisted_is_promoted(
        make_client, db, practical):
    session = practical["make_session"](capacity=1, hours_ahead=72)
    a, b, c = (practical["worker"]() for _ in range(3))
    db.commit()
    ca, csrf_a = sign_in(make_client, a.id_number)
    cb, csrf_b = sign_in(make_client, b.id_number)
    cc, csrf_c = sign_in(make_client, c.id_number)
    url = f"/practicals/sessions/{session.id}"
    before = ca.get(url)
    assert "Book a seat" in before.text and 'id="seats-free">1 of 1<' in before.text
    booked = post(ca, url + "/book", csrf_a)
    assert "Your seat is booked." in booked.text
    assert "You have a seat in this session." in booked.text
    assert "You can give up your seat until" in booked.text and "24 hours before" in booked.text
    assert 'id="seats-free">0 of 1<' in booked.text
    assert "Join the waitlist" in cb.get(url).text
    waiting_b = post(cb, url + "/book", csrf_b)
    assert "The session is full: you are number 1 on the waitlist." in waiting_b.text
    waiting_c = post(cc, url + "/book", csrf_c)
    assert "you are number 2 on the waitlist." in waiting_c.text
    assert "You are number 2 on the waitlist." in cc.get(url).text
    assert 'id="waitlist-length">2<' in cc.get(url).text
    mine = booking_of(db, session.id, a.id)
    cancelled = post(ca, f"/practicals/bookings/{mine.id}/cancel", csrf_a)
    assert "Booking cancelled." in cancelled.text and "Book a seat" not in cancelled.text
    assert booking_of(db, session.id, a.id).status == "cancelled"
    assert booking_of(db, session.id, b.id).status == "booked"
    assert booking_of(db, session.id, c.id).status == "waitlisted"
    assert kinds_for(db, b.user_id) == ["waitlisted", "promoted"]
    assert "You have a seat in this session." in cb.get(url).text
    assert "You are number 1 on the waitlist." in cc.get(url).text
    messages = cb.get("/notifications")
    assert "A seat became free and it is yours" in messages.text
    assert 'id="unread-count"' in messages.text
    # My practical tests lists the seat, and the waitlist place with its number.
    assert "Waitlist, number 1" in cc.get("/practicals").text
    assert "Seat booked" in cb.get("/practicals").text


def test_a_too_late_cancellation_gets_the_specific_message(make_client, db, practical):
    session = practical["make_session"](capacity=2, hours_ahead=10)
    worker = practical["worker"]()
    db.commit()
    client, csrf = sign_in(make_client, worker.id_number)
    post(client, f"/practicals/sessions/{session.id}/book", csrf)
    booking = booking_of(db, session.id, worker.id)
    assert booking.status == "booked"
    page = post(client, f"/practicals/bookings/{booking.id}/cancel", csrf)
    assert "Seats can only be cancelled until 24 hours before the start." in page.text
    assert booking_of(db, session.id, worker.id).status == "booked"


def test_an_ineligible_worker_gets_the_specific_reason(make_client, db, practical):
    session = practical["make_session"]()
    never = practical["worker"](passed=False)
    stale = practical["worker"](days_ago=400)
    outsider = f.worker(db, practical["enterprise"])  # not enrolled at all
    db.commit()
    theory = ("The worker has no passed theory exam for this course in the last 12 months.")
    url = f"/practicals/sessions/{session.id}"
    for worker, reason in ((never, theory), (stale, theory),
                           (outsider, "The worker is not enrolled in this course.")):
        client, csrf = sign_in(make_client, worker.id_number)
        page = client.get(url)
        assert reason in page.text and "Book a seat" not in page.text
        refused = post(client, url + "/book", csrf)
        assert refused.text.count(reason) >= 1 and "Your seat is booked." not in refused.text
        assert booking_of(db, session.id, worker.id) is None
        status = client.get("/practicals")
        if worker is outsider:
            assert "None of your courses has a practical test." in status.text
    # The course needs no practical in the mini package: make it need one, and the worker
    # without a pass is told so on "My practical tests".
    course = practical["course"]
    course.practical_required = True
    db.commit()
    client, _csrf = sign_in(make_client, never.id_number)
    status = client.get("/practicals")
    assert "Not yet: no passed theory exam for this course in the last 12 months." in status.text
    assert f'href="/exams/{practical["exam"].id}"' in status.text
    passed = practical["worker"]()
    db.commit()
    client, _csrf = sign_in(make_client, passed.id_number)
    assert "you may book a practical test." in client.get("/practicals").text


# --- booking for one's staff -------------------------------------------------------------------

def test_an_enterprise_admin_books_own_staff_but_not_another_enterprises(make_client, db,
                                                                        practical):
    ent = practical["enterprise"]
    other = f.enterprise(db, region="150602", name="Other Mine")
    session = practical["make_session"](capacity=4, hours_ahead=72)
    ready = practical["worker"]()
    ready.full_name = "Ready Worker"
    unready = practical["worker"](passed=False)
    unready.full_name = "Unready Worker"
    foreign = practical["worker"](enterprise=other)
    foreign.full_name = "Foreign Worker"
    f.user(db, Role.ENTERPRISE_ADMIN, username="ent.admin", enterprise_id=ent.id)
    db.commit()
    client, csrf = sign_in(make_client, "ent.admin")
    url = f"/practicals/sessions/{session.id}"
    page = client.get(url)
    candidates = page.text.split('id="candidates"')[1].split("</ul>")[0]
    assert "Ready Worker" in candidates and "Unready Worker" in candidates
    assert "Foreign Worker" not in page.text
    assert ("The worker has no passed theory exam for this course in the last 12 months."
            in candidates)
    assert f'name="worker_id" value="{ready.id}"' in candidates
    assert f'name="worker_id" value="{unready.id}"' not in candidates
    refused = client.post(url + "/book", data={"csrf_token": csrf, "worker_id": str(foreign.id)})
    assert refused.status_code == 404
    assert booking_of(db, session.id, foreign.id) is None
    done = post(client, url + "/book", csrf, worker_id=str(ready.id))
    assert "Seat booked for Ready Worker." in done.text
    booking = booking_of(db, session.id, ready.id)
    assert (booking.status, booking.booked_by) == ("booked", db.scalar(
        select(User.id).where(User.username == "ent.admin")))
    staff = done.text.split('id="staff"')[1].split('id="candidates"')[0]
    assert "Ready Worker" in staff and "Seat booked" in staff
    assert f'action="/practicals/bookings/{booking.id}/cancel"' in staff
    # A search reaches anyone on the roster and says why they cannot be booked.
    search = client.get(url + "?q=Ready")
    assert "The worker already holds a booking for this test." in search.text
    post(client, f"/practicals/bookings/{booking.id}/cancel", csrf)
    assert booking_of(db, session.id, ready.id).status == "cancelled"
    # Another enterprise's admin can neither see nor cancel that staff's booking.
    db.commit()  # end the read snapshot before writing
    f.user(db, Role.ENTERPRISE_ADMIN, username="other.admin", enterprise_id=other.id)
    db.commit()
    stranger, csrf3 = sign_in(make_client, "other.admin")
    assert "Ready Worker" not in stranger.get(url).text
    again = post(client, url + "/book", csrf, worker_id=str(ready.id))
    assert "Seat booked for Ready Worker." in again.text
    second = booking_of(db, session.id, ready.id)
    assert stranger.post(f"/practicals/bookings/{second.id}/cancel",
                         data={"csrf_token": csrf3}).status_code == 404
    assert booking_of(db, session.id, ready.id).status == "booked"


# --- changing and cancelling sessions ----------------------------------------------------------

def test_moving_and_cancelling_a_session_tells_everyone(make_client, db, practical):
    session = practical["make_session"](capacity=1, hours_ahead=72)
    seat, waiting = practical["worker"](), practical["worker"]()
    for worker in (seat, waiting):
        service.book(db=db, session=session, worker=worker, by=practical["admin"])
    other_examiner = f.user(db, Role.EXAMINER, username="examiner2")
    db.commit()
    url = f"/practicals/sessions/{session.id}"
    stranger, csrf_s = sign_in(make_client, other_examiner.username)
    assert "Everyone booked" not in stranger.get(url).text
    assert stranger.post(url + "/cancel", data={"csrf_token": csrf_s, "reason": "x"}
                         ).status_code == 403
    examiner, csrf = sign_in(make_client, "examiner1")
    page = examiner.get(url)
    assert "Everyone booked" in page.text and f'href="/examiner/sessions/{session.id}"' in page.text
    assert "Waitlist, number 1" in page.text
    day = local_day_in(5)
    moved = post(examiner, url + "/change", csrf, day=day.isoformat(), start_time="14:00",
                 end_time="16:00")
    assert "The session was moved; everyone booked has been told." in moved.text
    db.commit()
    db.refresh(session)
    assert session.starts_at == datetime.combine(day, time(14), tzinfo=LOCAL_TZ).astimezone(UTC)
    assert kinds_for(db, seat.user_id) == ["booked", "session_changed"]
    assert kinds_for(db, waiting.user_id) == ["waitlisted", "session_changed"]
    worker, _csrf = sign_in(make_client, seat.id_number)
    assert "New time: Mini course" in worker.get("/notifications").text
    assert format_datetime(session.starts_at, fmt="short") in worker.get("/notifications").text
    assert format_datetime(session.starts_at, fmt="short").endswith("2:00\u202fPM")
    no_reason = post(examiner, url + "/cancel", csrf, reason=" ")
    assert "Give the reason for cancelling" in no_reason.text
    done = post(examiner, url + "/cancel", csrf, reason="Gas bench under repair")
    assert "Session cancelled; 2 booking(s) freed and told." in done.text
    assert "This session was cancelled." in done.text
    for person in (seat, waiting):
        assert booking_of(db, session.id, person.id).status == "cancelled"
        assert kinds_for(db, person.user_id)[-1] == "session_cancelled"
    text = worker.get("/notifications").text
    assert "Reason: Gas bench under repair" in text


# --- the calendar and its feeds --------------------------------------------------------------

def test_month_and_week_views_list_the_sessions_by_day(client, db, practical):
    first_day = local_day_in(40).replace(day=10)
    monday = first_day - timedelta(days=first_day.weekday())
    one = session_on(db, practical, monday, hour=9)
    two = session_on(db, practical, monday + timedelta(days=2), hour=7)
    later = session_on(db, practical, monday + timedelta(days=14), hour=9)
    ordos = service.create_test_centre(db=db, name="Ordos base", region_code="1506", address="",
                                       kinds=["practical_test"], by=practical["admin"])
    far = session_on(db, practical, monday + timedelta(days=1), centre=ordos)
    db.commit()

    def day_of(html: str, session_id: int) -> str | None:
        for chunk in html.split('data-day="')[1:]:
            if f'href="/practicals/sessions/{session_id}"' in chunk:
                return chunk.split('"', 1)[0]
        return None

    month = client.get(f"/practicals/calendar?view=month&date={monday.isoformat()}")
    assert month.status_code == 200
    assert day_of(month.text, one.id) == monday.isoformat()
    assert day_of(month.text, two.id) == (monday + timedelta(days=2)).isoformat()
    assert day_of(month.text, far.id) == (monday + timedelta(days=1)).isoformat()
    assert "07:00–10:00" in month.text  # Beijing time
    in_month = later.starts_at.astimezone(LOCAL_TZ).month == monday.month
    assert (f'href="/practicals/sessions/{later.id}"' in month.text) == in_month
    week = client.get(f"/practicals/calendar?view=week&date={(monday + timedelta(days=3))}")
    assert week.text.count('class="cal-day') == 7
    assert day_of(week.text, one.id) == monday.isoformat()
    assert f'href="/practicals/sessions/{later.id}"' not in week.text
    shanxi = client.get(f"/practicals/calendar?view=week&date={monday}&region=14")
    assert day_of(shanxi.text, one.id) and day_of(shanxi.text, far.id) is None
    other = client.get(f"/practicals/calendar?view=week&date={monday}&course_id=999999")
    assert "No session in this period." in other.text
    following = client.get(f"/practicals/calendar?view=week&date={monday + timedelta(days=14)}")
    assert day_of(following.text, later.id) == (monday + timedelta(days=14)).isoformat()


def test_the_session_feed_is_public_and_shows_cancellation(client, db, practical):
    session = practical["make_session"](hours_ahead=72)
    db.commit()
    response = client.get(f"/practicals/sessions/{session.id}.ics")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    [event] = parse_ics(response.text)
    assert event["UID"] == f"practical-session-{session.id}@pithead"
    assert utc(event["DTSTART"]) == session.starts_at and utc(event["DTEND"]) == session.ends_at
    assert event["SUMMARY"] == "Practical test: Mini course"
    assert event["LOCATION"] == "Taiyuan test base, 1 Mine Road"
    assert event["STATUS"] == "CONFIRMED"
    assert event["URL"] == f"http://testserver/practicals/sessions/{session.id}"
    service.cancel_session(db=db, session=session, reason="Snow", by=practical["admin"])
    db.commit()
    [event] = parse_ics(client.get(f"/practicals/sessions/{session.id}.ics").text)
    assert event["STATUS"] == "CANCELLED"
    assert client.get("/practicals/sessions/999999.ics").status_code == 404


def test_the_worker_feed_lives_at_a_secret_address_that_can_be_reset(make_client, client, db,
                                                                     practical):
    seat_session = practical["make_session"](capacity=1, hours_ahead=72)
    wait_session = practical["make_session"](capacity=1, hours_ahead=120)
    gone_session = practical["make_session"](capacity=3, hours_ahead=170)
    own_cancel = practical["make_session"](capacity=3, hours_ahead=240)
    worker, rival = practical["worker"](), practical["worker"]()
    admin = practical["admin"]
    service.book(db=db, session=seat_session, worker=worker, by=admin)
    service.book(db=db, session=wait_session, worker=rival, by=admin)
    # One live booking per course is the rule, so the others are written as rows directly.
    now = utcnow()
    db.add_all([Booking(session_id=wait_session.id, worker_id=worker.id, status="waitlisted",
                        created_at=now),
                Booking(session_id=gone_session.id, worker_id=worker.id, status="booked",
                        created_at=now),
                Booking(session_id=own_cancel.id, worker_id=worker.id, status="cancelled",
                        created_at=now, cancelled_at=now)])
    gone_session.booked_count = 1
    db.flush()
    service.cancel_session(db=db, session=gone_session, reason="Flood", by=admin)
    db.commit()
    browser, csrf = sign_in(make_client, worker.id_number)
    page = browser.get("/practicals")
    assert "Make my calendar link" in page.text and ".ics" not in page.text.split(
        'id="calendar-feed"')[1]
    post(browser, "/practicals/calendar-link", csrf)
    page = browser.get("/practicals")
    feed = re.search(r'value="(http://testserver/practicals/calendar/([\w-]+)\.ics)"', page.text)
    assert feed, page.text
    url, token = feed[1], feed[2]
    assert f'href="webcal://testserver/practicals/calendar/{token}.ics"' in page.text
    response = client.get(url.removeprefix("http://testserver"))  # no cookie
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    events = {e["UID"]: e for e in parse_ics(response.text)}
    assert set(events) == {f"practical-session-{s.id}@pithead"
                           for s in (seat_session, wait_session, gone_session)}
    assert events[f"practical-session-{seat_session.id}@pithead"]["STATUS"] == "CONFIRMED"
    assert events[f"practical-session-{wait_session.id}@pithead"]["STATUS"] == "TENTATIVE"
    assert "You are on the waitlist." in events[
        f"practical-session-{wait_session.id}@pithead"]["DESCRIPTION"]
    assert events[f"practical-session-{gone_session.id}@pithead"]["STATUS"] == "CANCELLED"
    assert utc(events[f"practical-session-{seat_session.id}@pithead"]["DTSTART"]) == \
        seat_session.starts_at
    assert client.get("/practicals/calendar/not-the-token.ics").status_code == 404
    assert client.get(f"/practicals/calendar/{token[:-1]}.ics").status_code == 404
    reset = post(browser, "/practicals/calendar-link", csrf)
    assert "New calendar link made; the old one no longer works." in reset.text
    assert client.get(f"/practicals/calendar/{token}.ics").status_code == 404
    new_token = re.search(r"/practicals/calendar/([\w-]+)\.ics", reset.text)[1]
    assert new_token != token
    assert client.get(f"/practicals/calendar/{new_token}.ics").status_code == 200


# --- notifications ---------------------------------------------------------------------------

def test_notifications_are_worded_per_reader_marked_read_and_counted_in_the_nav(
        make_client, db, practical):
    session = practical["make_session"](hours_ahead=72)
    worker = practical["worker"]()
    booking = service.book(db=db, session=session, worker=worker, by=practical["admin"])
    service.notify(db=db, user_id=worker.user_id, kind="result_passed",
                   params={"session_id": session.id, "score": 92.0},
                   link=f"/practicals/sessions/{session.id}")
    db.commit()
    client, csrf = sign_in(make_client, worker.id_number)
    home = client.get("/")
    assert re.search(r'id="unread-count"[^>]*>2<', home.text)
    page = client.get("/notifications")
    assert "Your seat is booked: Mini course at Taiyuan test base" in page.text
    assert "You passed the practical test of Mini course (92.0 points)." in page.text
    first = db.scalar(select(Notification).where(Notification.user_id == worker.user_id)
                      .order_by(Notification.id))
    opened = client.post(f"/notifications/{first.id}/open", data={"csrf_token": csrf},
                         follow_redirects=False)
    assert opened.status_code == 303
    assert opened.headers["location"] == f"/practicals/sessions/{session.id}"
    assert re.search(r'id="unread-count"[^>]*>1<', client.get("/").text)
    post(client, "/notifications/read", csrf)
    assert 'id="unread-count"' not in client.get("/").text
    chinese = client.get("/notifications", headers=ZH)
    assert '<html lang="zh-CN">' in chinese.text
    # Someone else's message is not theirs to open.
    db.commit()  # end the read snapshot before writing
    other = practical["worker"]()
    db.commit()
    stranger, csrf2 = sign_in(make_client, other.id_number)
    assert stranger.post(f"/notifications/{first.id}/open",
                         data={"csrf_token": csrf2}).status_code == 404
    assert booking.status == "booked"


def test_the_session_page_is_public_but_lists_bookings_only_to_those_entitled(
        make_client, client, db, practical):
    session = practical["make_session"](hours_ahead=72)
    worker = practical["worker"]()
    worker.full_name = "Secret Name"
    service.book(db=db, session=session, worker=worker, by=practical["admin"])
    other = f.enterprise(db, region="150602")
    f.user(db, Role.ENTERPRISE_ADMIN, username="b.boss", enterprise_id=other.id)
    f.user(db, Role.REGULATOR, username="reg.14", region_code="14")
    db.commit()
    url = f"/practicals/sessions/{session.id}"
    anonymous = client.get(url)
    assert anonymous.status_code == 200 and "Sign in to book" in anonymous.text
    assert "Taiyuan test base" in anonymous.text and "Secret Name" not in anonymous.text
    for username in ("b.boss", "reg.14"):
        viewer, _csrf = sign_in(make_client, username)
        page = viewer.get(url)
        assert page.status_code == 200 and "Secret Name" not in page.text
    admin, _csrf = sign_in(make_client, "root")
    assert "Secret Name" in admin.get(url).text
    assert escape("Seat booked") in admin.get(url).text
