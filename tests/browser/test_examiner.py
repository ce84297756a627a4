"""The examiner at the test base, on a phone-sized screen: sign in, open the session, mark the
worker present (htmx swaps the worker's card), score the checklist station by station, check
the total, record the result, and see the booking passed on the roster."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select, update

from app.accounts.models import AuditEvent
from app.courses import service as courses
from app.courses.package import load_package
from app.db import utcnow
from app.exams.models import Exam
from app.learning import service as learning
from app.practicals import service
from app.practicals.models import Booking, PracticalSession
from tests import factories as f
from tests import packages
from tests.practicals.conftest import pass_theory
from tests.practicals.test_examiner import PRACTICAL, scored

pytestmark = pytest.mark.browser
PHONE_WIDTH = 390


@pytest.fixture
def booked(db, tmp_path):  # type: ignore[no-untyped-def]
    """A session of a course with a practical checklist, examined by `examiner1`, with one
    worker booked."""
    outcome = courses.import_package(db=db, package=load_package(packages.write_package(
        tmp_path / "gas", data=packages.course_yaml(
            code="TEST-GAS", title={"en": "Gas inspection", "zh_CN": "瓦斯检查"},
            practical=PRACTICAL))), by=None)
    course = courses.get_course_or_404(db=db, course_id=outcome.course_id)
    admin = f.user(db, f.Role.ADMIN, username="root")
    examiner = f.user(db, f.Role.EXAMINER, username="examiner1", full_name="Examiner One")
    centre = service.create_test_centre(db=db, name="Taiyuan test base", region_code="1401",
                                        address="1 Mine Road", kinds=["practical_test"],
                                        by=admin)
    start = utcnow().replace(microsecond=0) + timedelta(hours=30)
    session = service.create_sessions(db=db, centre=centre, course=course, starts_at=start,
                                      ends_at=start + timedelta(hours=3), capacity=4,
                                      examiner_id=examiner.id, by=admin)[0]
    worker = f.worker(db, f.enterprise(db, name="Alpha Colliery"), full_name="王小明")
    enrolment = learning.enrol(db=db, course=course, workers=[worker], by=admin)[0]
    pass_theory(db, db.scalar(select(Exam).where(Exam.course_id == course.id)), worker,
                enrolment)
    booking = service.book(db=db, session=session, worker=worker, by=admin)
    # Under way (results open at the start): booked ahead, the session began ten minutes ago.
    db.execute(update(PracticalSession).where(PracticalSession.id == session.id).values(
        starts_at=utcnow() - timedelta(minutes=10), ends_at=utcnow() + timedelta(hours=3)))
    db.commit()
    return {"session_id": session.id, "booking_id": booking.id, "examiner_id": examiner.id}


def fits_the_screen(page) -> bool:  # type: ignore[no-untyped-def]
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH


def test_examiner_scores_and_records_on_a_phone(live_server, page, db, booked):
    assert page.viewport_size == {"width": PHONE_WIDTH, "height": 844}
    page.goto(live_server + "/login")
    page.get_by_label("Username or ID number").fill("examiner1")
    page.get_by_label("Password").fill(f.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(live_server + "/")

    page.goto(live_server + "/examiner")
    page.locator(f"#session-{booked['session_id']} a").click()
    page.wait_for_url(live_server + f"/examiner/sessions/{booked['session_id']}")
    assert fits_the_screen(page)
    card = page.locator(f"#booking-{booked['booking_id']}")
    expect(card).to_contain_text("王小明")
    expect(card).to_contain_text("Not marked")

    with page.expect_response(lambda r: r.url.endswith(
            f"/examiner/bookings/{booked['booking_id']}/attendance") and r.status == 200):
        card.get_by_role("button", name="Present").click()
    card = page.locator(f"#booking-{booked['booking_id']}")
    expect(card).to_have_attribute("data-attendance", "present")
    expect(card.get_by_role("button", name="Present")).to_have_attribute("aria-pressed", "true")
    assert page.url == live_server + f"/examiner/sessions/{booked['session_id']}"  # no reload

    card.get_by_role("button", name="Score the test").click()
    page.wait_for_url(live_server + f"/examiner/bookings/{booked['booking_id']}")
    assert fits_the_screen(page)
    expect(page.locator("fieldset.station legend")).to_have_text([
        re.compile(r"^Methanometer bench\s+up to 60 points$"),
        re.compile(r"^Sensor bench\s+up to 40 points$")])
    for label, points in (("Check the instrument's airtightness", "30"),
                          ("Zero in fresh air", "28"),
                          ("Function-test a portable detector", "20"),
                          ("Check the sensor's alarm settings", "7")):
        page.get_by_label(label).fill(points)
    page.get_by_role("button", name="Calculate total").click()
    expect(page.locator("[data-field=total]")).to_contain_text("Total: 85 of 100")
    expect(page.locator("[data-field=preview-verdict]")).to_have_text("Pass")
    expect(page.get_by_label("Zero in fresh air")).to_have_value("28")

    page.get_by_label("Notes").fill("Zeroed a little slowly.")
    page.get_by_role("button", name="Record result").click()
    page.wait_for_url(live_server + f"/examiner/bookings/{booked['booking_id']}")
    expect(page.locator("[data-field=verdict]")).to_have_text("Passed")
    expect(page.locator("[data-field=score]")).to_have_text("85")
    expect(page.get_by_role("status").first).to_contain_text("Result recorded for 王小明.")
    assert page.locator("input[name^=awarded_]").count() == 0

    page.get_by_role("link", name="Roster").click()
    card = page.locator(f"#booking-{booked['booking_id']}")
    expect(card).to_have_attribute("data-status", "passed")
    expect(card.locator("[data-field=result]")).to_have_text("Passed · 85 points")

    db.commit()
    row = db.get(Booking, booked["booking_id"], populate_existing=True)
    assert (row.status, row.score, row.attendance, row.notes) == (
        "passed", 85.0, "present", "Zeroed a little slowly.")
    assert row.checklist == scored(30, 28, 20, 7)
    event = db.scalars(select(AuditEvent).where(
        AuditEvent.action == "practical.result_recorded")).one()
    assert (event.actor_id, event.detail["score"]) == (booked["examiner_id"], 85.0)
