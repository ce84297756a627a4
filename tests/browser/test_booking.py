"""Booking a practical test in a real browser on a phone-sized screen: a worker who passed the
theory exam finds a session from "My practical tests", opens it from the calendar (a list per
day on a narrow screen), books a seat and sees it confirmed, with the booking in the database
and a message in the nav."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.accounts.models import Role
from app.courses import service as courses
from app.courses.package import load_package
from app.db import utcnow
from app.exams.models import Exam
from app.learning import service as learning
from app.practicals import service as practicals
from app.practicals.models import Booking
from tests import factories as f
from tests import packages
from tests.practicals.conftest import pass_theory

pytestmark = pytest.mark.browser


@pytest.fixture
def ready_worker(db, tmp_path):  # type: ignore[no-untyped-def]
    """A worker enrolled in the mini course (made to require a practical test) who passed its
    theory exam yesterday, and a session with two seats in three days at a Taiyuan base."""
    outcome = courses.import_package(db=db, package=load_package(
        packages.write_package(tmp_path / "mini")), by=None)
    course = courses.get_course_or_404(db=db, course_id=outcome.course_id)
    course.practical_required = True
    exam = db.scalar(select(Exam).where(Exam.course_id == course.id))
    admin = f.user(db, Role.ADMIN, username="root")
    examiner = f.user(db, Role.EXAMINER, username="examiner1")
    centre = practicals.create_test_centre(db=db, name="Taiyuan test base", region_code="1401",
                                           address="1 Mine Road", kinds=["practical_test"],
                                           by=admin)
    start = utcnow().replace(microsecond=0) + timedelta(days=3)
    session = practicals.create_sessions(db=db, centre=centre, course=course, starts_at=start,
                                         ends_at=start + timedelta(hours=3), capacity=2,
                                         examiner_id=examiner.id, by=admin)[0]
    worker = f.worker(db, f.enterprise(db), full_name="王小明")
    enrolment = learning.enrol(db=db, course=course, workers=[worker], by=admin)[0]
    pass_theory(db, exam, worker, enrolment)
    db.commit()
    return {"username": worker.id_number, "worker_id": worker.id, "session_id": session.id}


def fits_the_screen(page) -> bool:  # type: ignore[no-untyped-def]
    return bool(page.evaluate(
        "document.documentElement.scrollWidth <= window.innerWidth"))


def test_a_worker_who_passed_theory_books_a_seat_on_a_phone(live_server, page, db,
                                                            ready_worker):
    page.goto(live_server + "/login")
    page.get_by_label("Username or ID number").fill(ready_worker["username"])
    page.get_by_label("Password").fill(f.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(live_server + "/")

    page.get_by_role("link", name="Practical tests").click()
    page.wait_for_url(live_server + "/practicals")
    expect(page.locator("#eligibility")).to_contain_text("you may book a practical test")
    assert fits_the_screen(page)
    page.get_by_role("button", name="Find a session").click()
    page.wait_for_url(re.compile(r"/practicals/calendar\?"))

    # On a narrow screen the month is a list of the days that have sessions.
    days = page.locator(".cal-day")
    visible = [days.nth(n) for n in range(days.count()) if days.nth(n).is_visible()]
    assert len(visible) == 1
    assert fits_the_screen(page)
    visible[0].get_by_role("link").click()
    page.wait_for_url(live_server + f"/practicals/sessions/{ready_worker['session_id']}")
    expect(page.locator("#seats-free")).to_have_text("2 of 2")

    book = page.get_by_role("button", name="Book a seat")
    box = book.bounding_box()
    assert box is not None and box["width"] >= 44 and box["height"] >= 36  # a thumb's target
    book.click()
    page.wait_for_url(live_server + f"/practicals/sessions/{ready_worker['session_id']}")
    expect(page.get_by_role("status")).to_have_text("Your seat is booked.")
    expect(page.locator("#my-booking")).to_contain_text("You have a seat in this session.")
    expect(page.locator("#seats-free")).to_have_text("1 of 2")
    expect(page.locator("#unread-count")).to_have_text("1")
    assert fits_the_screen(page)

    booking = db.scalar(select(Booking).where(Booking.worker_id == ready_worker["worker_id"]))
    assert booking is not None and booking.status == "booked"
    assert booking.session_id == ready_worker["session_id"]

    page.get_by_role("link", name="Practical tests").click()
    expect(page.locator("#upcoming")).to_contain_text("Seat booked")
