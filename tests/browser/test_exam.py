"""Taking an exam in a real browser on a phone-sized screen: start, answer by tapping (each
answer saved by htmx as it is given, the grid following), confirm with the unanswered count,
submit and read the graded review; and losing the connection mid-exam, which shows the banner,
keeps the answer on screen and saves it once the connection returns."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select, update

from app.courses import service as courses
from app.courses.package import load_package
from app.exams.models import Answer, Attempt, AttemptEvent, Exam
from app.learning import service as learning
from app.learning.models import Enrolment
from tests import factories as f
from tests import packages

pytestmark = pytest.mark.browser
ANSWERED = re.compile(r"\bis-answered\b")


@pytest.fixture
def exam_worker(db, tmp_path):  # type: ignore[no-untyped-def]
    """The mini course's 3-question exam and a worker who completed the course."""
    outcome = courses.import_package(db=db, package=load_package(
        packages.write_package(tmp_path / "mini")), by=None)
    course = courses.get_course_or_404(db=db, course_id=outcome.course_id)
    exam = db.scalar(select(Exam).where(Exam.course_id == course.id))
    worker = f.worker(db, f.enterprise(db), full_name="王小明")
    admin = f.user(db, f.Role.ADMIN, username="root")
    enrolment = learning.enrol(db=db, course=course, workers=[worker], by=admin)[0]
    db.execute(update(Enrolment).where(Enrolment.id == enrolment.id).values(status="completed"))
    db.commit()
    return {"exam_id": exam.id, "username": worker.id_number}


def sign_in_and_start(page, live_server, world) -> int:  # type: ignore[no-untyped-def]
    page.goto(live_server + "/login")
    page.get_by_label("Username or ID number").fill(world["username"])
    page.get_by_label("Password").fill(f.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(live_server + "/")
    page.goto(live_server + f"/exams/{world['exam_id']}")
    page.get_by_role("button", name="Start the exam").click()
    page.wait_for_url(re.compile(r"/attempts/\d+$"))
    return int(page.url.rsplit("/", 1)[1])


def paper_of(db, attempt_id):  # type: ignore[no-untyped-def]
    paper = db.get(Attempt, attempt_id).paper
    db.commit()
    return paper


def saved(db, attempt_id):  # type: ignore[no-untyped-def]
    rows = db.execute(select(Answer.question_id, Answer.option_ids)
                      .where(Answer.attempt_id == attempt_id)).all()
    db.commit()
    return {qid: sorted(ids) for qid, ids in rows}


def tap(page, attempt_id, question_id, option_id):  # type: ignore[no-untyped-def]
    """Tap an option's label and wait until the server acknowledged the save."""
    with page.expect_response(lambda r: r.url.endswith(
            f"/attempts/{attempt_id}/answers/{question_id}") and r.status == 200):
        page.locator(f"label[for='o{option_id}']").click()


def test_worker_takes_the_exam_on_a_phone(live_server, page, db, exam_worker):
    attempt_id = sign_in_and_start(page, live_server, exam_worker)
    paper = paper_of(db, attempt_id)
    assert re.fullmatch(r"(29:\d\d|30:00)", page.locator("[data-countdown]").inner_text())
    assert page.locator("#exam-announcer").inner_text() == ""
    expect(page.locator("[data-answered-count]")).to_have_text("0")

    first = paper[0]
    right = [o["id"] for o in first["options"] if o["right"]]
    tap(page, attempt_id, first["question_id"], right[0])
    expect(page.locator(f"#saved-{first['question_id']}")).to_contain_text("Saved")
    expect(page.locator(f"#cell-{first['question_id']}")).to_have_class(ANSWERED)
    expect(page.locator("[data-answered-count]")).to_have_text("1")
    for option_id in right[1:]:
        tap(page, attempt_id, first["question_id"], option_id)
    assert saved(db, attempt_id) == {first["question_id"]: sorted(right)}
    # Only the first two questions are answered; the third is left for the confirmation.
    second = paper[1]
    for option_id in [o["id"] for o in second["options"] if o["right"]]:
        tap(page, attempt_id, second["question_id"], option_id)
    expect(page.locator("[data-answered-count]")).to_have_text("2")
    expect(page.locator(f"#cell-{paper[2]['question_id']}")).not_to_have_class(ANSWERED)

    # Leaving the page (another app in front) is noted in the attempt's log.
    with page.expect_response(lambda r: r.url.endswith(f"/attempts/{attempt_id}/events")
                              and r.status == 204):
        page.evaluate("""() => {
            Object.defineProperty(document, 'visibilityState',
                                  {value: 'hidden', configurable: true});
            document.dispatchEvent(new Event('visibilitychange'));
        }""")
    events = db.scalars(select(AttemptEvent.kind).where(AttemptEvent.attempt_id == attempt_id)
                        .order_by(AttemptEvent.id)).all()
    db.commit()
    assert events == ["started", "hidden"]

    page.get_by_role("button", name="Finish and submit…").click()
    page.wait_for_url(re.compile(rf"/attempts/{attempt_id}/confirm$"))
    expect(page.get_by_text("You answered 2 of 3 questions.")).to_be_visible()
    expect(page.get_by_text("1 question is not answered:")).to_be_visible()
    page.get_by_role("link", name="Question 3").click()
    page.wait_for_url(re.compile(rf"/attempts/{attempt_id}#q-3$"))
    third = paper[2]
    for option_id in [o["id"] for o in third["options"] if o["right"]]:
        tap(page, attempt_id, third["question_id"], option_id)
    expect(page.locator("[data-answered-count]")).to_have_text("3")
    page.get_by_role("button", name="Finish and submit…").click()
    expect(page.get_by_text("Every question is answered.")).to_be_visible()
    page.get_by_role("button", name="Submit the exam").click()
    page.wait_for_url(re.compile(rf"/attempts/{attempt_id}/result$"))
    expect(page.get_by_role("heading", name="✓ Passed")).to_be_visible()
    expect(page.locator("[data-score]")).to_have_text("100")
    expect(page.locator(".review-item.is-right")).to_have_count(3)
    attempt = db.get(Attempt, attempt_id)
    assert (attempt.status, attempt.score, attempt.passed) == ("submitted", 100.0, True)


def test_connection_drop_keeps_the_answer_and_saves_it_when_back(live_server, page, db,
                                                                 exam_worker):
    attempt_id = sign_in_and_start(page, live_server, exam_worker)
    paper = paper_of(db, attempt_id)
    item = next(q for q in paper if q["kind"] == "single")
    qid = item["question_id"]
    first, second = item["options"][0]["id"], item["options"][1]["id"]
    other = next(q for q in paper if q["kind"] == "true_false")
    kept = {other["question_id"]: [other["options"][0]["id"]]}
    tap(page, attempt_id, other["question_id"], other["options"][0]["id"])
    tap(page, attempt_id, qid, first)
    banner = page.locator("#conn-banner")
    expect(banner).to_be_hidden()

    page.context.set_offline(True)
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("Connection lost")
    page.locator(f"label[for='o{second}']").click()
    expect(page.locator(f"#q-{paper.index(item) + 1}")).to_have_class(re.compile(r"\bis-unsaved\b"))
    expect(page.locator(f"#saved-{qid}")).to_contain_text("Not saved yet")
    expect(page.locator(f"#o{second}")).to_be_checked()
    assert saved(db, attempt_id) == {qid: [first], **kept}
    # Moving on would lose the screen: the form stays put while offline.
    page.get_by_role("button", name="Finish and submit…").click()
    assert page.url == live_server + f"/attempts/{attempt_id}"
    expect(page.locator(f"#o{second}")).to_be_checked()

    with page.expect_response(lambda r: r.url.endswith(f"/attempts/{attempt_id}/answers/{qid}")
                              and r.status == 200):
        page.context.set_offline(False)
    expect(page.locator(f"#saved-{qid}")).to_contain_text("Saved")
    expect(banner).to_be_hidden()
    expect(page.locator("#conn-restored")).to_be_visible()
    expect(page.locator(f"#o{second}")).to_be_checked()
    assert saved(db, attempt_id) == {qid: [second], **kept}


def test_timer_announces_only_at_10_5_and_1_minutes_then_submits(live_server, page, db,
                                                                  exam_worker):
    attempt_id = sign_in_and_start(page, live_server, exam_worker)
    page.clock.install()  # the page's clock from now on moves only when the test says so
    page.reload()
    page.evaluate("""() => {
        const announcer = document.getElementById('exam-announcer');
        window.announced = [];
        new MutationObserver(() => window.announced.push(announcer.textContent))
            .observe(announcer, {childList: true, characterData: true, subtree: true});
    }""")
    timer, countdown = page.locator("#exam-timer"), page.locator("[data-countdown]")
    assert re.fullmatch(r"(29:5\d|30:00)", countdown.inner_text())
    page.clock.run_for("19:50")
    assert re.fullmatch(r"10:(0\d|1[0-2])", countdown.inner_text())  # ticks once a second
    assert page.evaluate("window.announced") == []
    page.clock.run_for("00:15")
    expect(page.locator("#exam-announcer")).to_have_text("10 minutes left.")
    expect(timer).to_have_class(re.compile(r"\bis-low\b"))
    page.clock.run_for("04:00")  # minutes pass: the countdown moves, nothing is announced
    assert re.fullmatch(r"05:5\d", countdown.inner_text())
    assert page.evaluate("window.announced") == ["10 minutes left."]
    page.clock.run_for("01:00")
    expect(page.locator("#exam-announcer")).to_have_text("5 minutes left.")
    page.clock.run_for("04:00")
    expect(page.locator("#exam-announcer")).to_have_text("1 minute left.")
    expect(timer).to_have_class(re.compile(r"\bis-critical\b"))
    assert page.evaluate("window.announced") == [
        "10 minutes left.", "5 minutes left.", "1 minute left."]
    # At zero the page submits; the server decides how the attempt closed.
    page.clock.run_for("01:30")
    page.wait_for_url(re.compile(rf"/attempts/{attempt_id}/result$"))
    attempt = db.get(Attempt, attempt_id)
    assert attempt.status == "submitted" and attempt.score == 0.0
