"""Two open lesson pages in a real browser (issue 11 item 5).

A worker has one study clock. A second lesson tab used to stop all credit silently: the tab in
the background kept sending "hidden" beats every 30 s, each stopping the clock of the tab in
use, so neither earned. Now a background page reports once and stays quiet, and both pages say
what is going on: the one in use that another lesson page is open and only the page in use
earns, the one in the background that study continues in the other page. Pages of another
browser or device are known from the heartbeat answer (`other_tab`).
"""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.courses import service as courses
from app.courses.package import load_package
from app.learning import service as learning
from app.learning.models import LessonProgress, StudyClock
from app.organisations.models import Worker
from tests import factories as f
from tests import packages
from tests.browser.test_lesson_video import is_beat, sign_in

pytestmark = pytest.mark.browser

HERE = ("Another lesson is open in a second tab, window or device. Study time is counted once, "
        "not per page: only the page you are using earns it.")
ELSEWHERE = ("This page is not earning study time: your study continues in your other open "
             "lesson page.")
HERE_ZH = ("另一个标签页、窗口或设备上也打开了课程。学习时间只计一次，不按页面叠加："
           "只有您正在使用的页面计时。")


@pytest.fixture
def two_lessons(db, tmp_path):  # type: ignore[no-untyped-def]
    data = packages.course_yaml(code="TEST-TABS", required_minutes=0)
    data["modules"] = [{"title": {"en": "Reading", "zh_CN": "阅读"}, "lessons": [
        {"kind": "text", "file": "lessons/01-intro.md", "minutes": 5},
        {"kind": "text", "file": "lessons/02-gas.md", "minutes": 5}]}]
    root = packages.write_package(tmp_path / "tabs", data=data, files={
        "lessons/02-gas.md": "# Gas\n\nMeasure methane at the roof.\n"})
    outcome = courses.import_package(db=db, package=load_package(root), by=None)
    course = courses.get_course_or_404(db=db, course_id=outcome.course_id, structure=True)
    first, second = course.modules[0].lessons
    worker = f.worker(db, f.enterprise(db), full_name="王小明")
    enrolment = learning.enrol(db=db, course=course, workers=[worker],
                               by=f.user(db, f.Role.ADMIN))[0]
    ids = (worker.id_number, enrolment.id, first.id, second.id)
    db.commit()
    return ids


def open_lesson(page, base: str, enrolment_id: int, lesson_id: int) -> dict:  # type: ignore[no-untyped-def, type-arg]
    page.clock.install()  # the periodic beat fires only when the test says so
    with page.expect_response(is_beat) as first:
        page.goto(f"{base}/learn/{enrolment_id}/lessons/{lesson_id}")
    return first.value.json()


def periodic_beat(page) -> dict:  # type: ignore[no-untyped-def, type-arg]
    with page.expect_response(is_beat) as answer:
        page.clock.run_for("00:30")
    return answer.value.json()


def go_to_background(page) -> None:  # type: ignore[no-untyped-def]
    """What the browser does when another tab comes to the front (headless pages all stay
    "visible", so the test says so itself)."""
    with page.expect_response(is_beat):
        page.evaluate("""() => {
            Object.defineProperty(document, "visibilityState", {configurable: true,
                                                                get: () => "hidden"});
            document.dispatchEvent(new Event("visibilitychange"));
        }""")


def credited(db, enrolment_id: int, lesson_id: int) -> int:  # type: ignore[no-untyped-def]
    db.rollback()
    seconds = db.scalar(select(LessonProgress.credited_seconds).where(
        LessonProgress.enrolment_id == enrolment_id, LessonProgress.lesson_id == lesson_id))
    db.rollback()
    return int(seconds or 0)


def clock_running(db, id_number: str) -> bool:  # type: ignore[no-untyped-def]
    db.rollback()
    running = db.scalar(select(StudyClock.credit_from).join(
        Worker, Worker.id == StudyClock.worker_id).where(Worker.id_number == id_number))
    db.rollback()
    return running is not None


def test_two_tabs_say_which_one_earns_and_the_one_in_use_keeps_earning(
        live_server, page, db, two_lessons):  # type: ignore[no-untyped-def]
    username, enrolment_id, first_id, second_id = two_lessons
    sign_in(page, live_server, username)
    open_lesson(page, live_server, enrolment_id, first_id)
    note = page.locator("[data-other-tab]")
    expect(note).to_have_attribute("role", "status")
    expect(note).to_have_attribute("aria-live", "polite")
    expect(note).to_have_text("")  # alone: nothing to say
    assert periodic_beat(page)["other_tab"] is False

    # A second tab of the same browser opens the other lesson.
    other = page.context.new_page()
    open_lesson(other, live_server, enrolment_id, second_id)
    other_note = other.locator("[data-other-tab]")
    expect(note).to_have_text(HERE)
    expect(other_note).to_have_text(HERE)
    assert periodic_beat(page)["other_tab"] is True  # the server saw the other page beat too

    # The first tab goes to the background: it earns nothing and says so; the other earns.
    go_to_background(page)
    expect(note).to_have_text(ELSEWHERE)
    expect(note).to_have_class("flash flash-info")
    expect(other_note).to_have_text(HERE)
    assert periodic_beat(other)["credited_now"] == 0  # the first beat after the clock stopped
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    before = credited(db, enrolment_id, second_id)
    for _ in range(3):
        time.sleep(1.1)
        page.clock.run_for("00:30")  # the background tab stays quiet: it no longer stops...
        answer = periodic_beat(other)  # ... the clock of the tab in use, which earns
        assert answer["credited_now"] >= 1 and answer["other_tab"] is False, answer
    assert not [url for url in requests if url.endswith("/heartbeat")]
    assert credited(db, enrolment_id, second_id) >= before + 3
    expect(note).to_have_text(ELSEWHERE)
    expect(other_note).to_have_text(HERE)

    # The background tab is closed: the one left says nothing more, even though the closed
    # tab's goodbye stopped the clock once.
    page.close(run_before_unload=True)  # as a user closing the tab: pagehide runs
    expect(other_note).to_have_text("")
    stopped = time.monotonic() + 10
    while clock_running(db, username):  # the goodbye beat (keepalive) reaches the server
        assert time.monotonic() < stopped, "the closed tab's goodbye beat never arrived"
        time.sleep(0.1)
    assert periodic_beat(other)["other_tab"] is True
    expect(other_note).to_have_text("")
    expect(other_note).not_to_have_class("flash flash-info")


def test_a_page_on_another_device_is_reported_by_the_server(
        live_server, browser, page, db, two_lessons):  # type: ignore[no-untyped-def]
    """Another browser (a phone, say) shares no channel with this one: the heartbeat answer
    tells. The note is translated."""
    username, enrolment_id, first_id, second_id = two_lessons
    sign_in(page, live_server, username)
    open_lesson(page, live_server, enrolment_id, first_id)
    phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    try:
        other = phone.new_page()
        sign_in(other, live_server, username)
        open_lesson(other, live_server, enrolment_id, second_id)
        note, other_note = page.locator("[data-other-tab]"), other.locator("[data-other-tab]")
        expect(note).to_have_text("")
        assert periodic_beat(page)["other_tab"] is True
        expect(note).to_have_text(HERE)
        assert periodic_beat(other)["other_tab"] is True
        expect(other_note).to_have_text(HERE_ZH)  # the phone reads Chinese
        assert periodic_beat(page)["other_tab"] is True  # both in use: both keep saying so
        other.close()
    finally:
        phone.close()
