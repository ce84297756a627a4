"""A video lesson in a real browser (issue 11 item 3).

"Watched: 0 / 53 s" never moved (study.js wrote the count into the first [data-watched]
element, the <video> itself), and a full viewing credited only the stretch up to the last
periodic heartbeat: nothing reported the position when the video stopped, so the end of the
video (up to 30 s) was never watched in the server's eyes and the lesson stayed incomplete.
Here a real H.264 clip plays through; the page's timers are under the test's control.
"""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.courses import service as courses
from app.courses.package import load_package
from app.learning import service as learning
from app.learning.models import LessonProgress
from tests import factories as f
from tests import packages
from tests.learning.playable_video import playable_mp4

pytestmark = pytest.mark.browser

SECONDS = 6
COMPLETE = re.compile(r"\bis-complete\b")


@pytest.fixture
def video_lesson(db, tmp_path):  # type: ignore[no-untyped-def]
    """A one-lesson course whose lesson is a 6 s video, and an enrolled worker."""
    data = packages.course_yaml(code="TEST-VIDEO", required_minutes=0)
    data["modules"] = [{"title": {"en": "Film", "zh_CN": "影片"}, "lessons": [
        {"kind": "video", "file": "media/clip.mp4", "minutes": 1,
         "title": {"en": "Roof bolting", "zh_CN": "锚杆支护"}}]}]
    root = packages.write_package(tmp_path / "video", data=data,
                                  files={"media/clip.mp4": playable_mp4(SECONDS)})
    outcome = courses.import_package(db=db, package=load_package(root), by=None)
    course = courses.get_course_or_404(db=db, course_id=outcome.course_id, structure=True)
    lesson = course.modules[0].lessons[0]
    assert lesson.duration_seconds == SECONDS
    worker = f.worker(db, f.enterprise(db), full_name="王小明")
    enrolment = learning.enrol(db=db, course=course, workers=[worker],
                               by=f.user(db, f.Role.ADMIN))[0]
    ids = (worker.id_number, enrolment.id, lesson.id)
    db.commit()
    return ids


def sign_in(page, base: str, username: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(base + "/login")
    page.locator("#username").fill(username)
    page.locator("#password").fill(f.PASSWORD)
    page.locator("form[action='/login'] button[type=submit]").click()
    page.wait_for_url(base + "/")


def is_beat(response) -> bool:  # type: ignore[no-untyped-def]
    return response.url.endswith("/heartbeat") and response.request.method == "POST"


def progress_row(db, enrolment_id: int, lesson_id: int) -> LessonProgress:  # type: ignore[no-untyped-def]
    db.rollback()  # a fresh snapshot: what the app has committed since
    row = db.scalar(select(LessonProgress).where(LessonProgress.enrolment_id == enrolment_id,
                                                 LessonProgress.lesson_id == lesson_id))
    assert row is not None
    db.expunge(row)
    db.rollback()
    return row


def test_playing_the_video_through_moves_watched_credits_wall_time_and_completes(
        live_server, page, db, video_lesson):  # type: ignore[no-untyped-def]
    username, enrolment_id, lesson_id = video_lesson
    sign_in(page, live_server, username)
    page.clock.install()  # the periodic beat fires only when the test says so
    with page.expect_response(is_beat) as first:
        page.goto(f"{live_server}/learn/{enrolment_id}/lessons/{lesson_id}")
    assert first.value.ok
    opened = time.monotonic()
    video = page.locator("#lesson-video")
    watched = page.locator("[data-watched-count]")
    expect(watched).to_have_text("0")
    expect(page.get_by_text(f"/ {SECONDS} s")).to_be_visible()
    expect(video).to_have_js_property("readyState", 4, timeout=10_000)

    video.evaluate("v => { v.muted = true; return v.play(); }")
    time.sleep(SECONDS / 2)
    with page.expect_response(is_beat) as middle:
        page.clock.run_for("00:30")  # the 30 s beat, half-way through the clip
    half = middle.value.json()
    assert SECONDS / 2 - 1.5 <= half["watched_seconds"] <= SECONDS / 2 + 0.5, half
    expect(watched).to_have_text(str(int(half["watched_seconds"])))  # the counter moves
    # ... and the <video> keeps its own content (the count once replaced its fallback link).
    assert video.locator("a").count() == 1
    expect(page.locator("#lesson")).not_to_have_class(COMPLETE)

    # Played to the end: the page reports the position at once, before any periodic beat.
    with page.expect_response(is_beat, timeout=SECONDS * 1000 + 5000) as last:
        pass
    elapsed = time.monotonic() - opened
    end = last.value.json()
    assert video.evaluate("v => v.ended")
    assert end["watched_seconds"] >= SECONDS - 0.5, end
    assert end["lesson_completed"] is True
    expect(watched).to_have_text(str(SECONDS))
    expect(page.locator("#lesson")).to_have_class(COMPLETE)

    row = progress_row(db, enrolment_id, lesson_id)
    assert row.completed_at is not None
    assert row.watched_seconds >= SECONDS - 0.5
    # The wall time from opening the lesson to the end of the clip, to the second.
    assert elapsed - 2 <= row.credited_seconds <= elapsed + 1, (row.credited_seconds, elapsed)
