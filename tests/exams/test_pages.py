"""The taker's exam pages: the rules and starting, the exam form (htmx autosave and plain form
posts), one question per screen, confirming, submitting, the review per mode, deadlines,
ownership, and no key anywhere in the HTML before submit."""

from __future__ import annotations

import re
from datetime import timedelta
from html.parser import HTMLParser

from sqlalchemy import select, update

from app.accounts.models import Role
from app.db import utcnow
from app.exams.models import Answer, Attempt, AttemptEvent, Exam, ExtraTime
from app.learning.models import Enrolment
from app.organisations.models import Enterprise
from tests import factories as f

KEY_WORDS = ("right", "correct", "weight", "index", "key")


# --- helpers ------------------------------------------------------------------------------------

def begin(client, world) -> tuple[int, str]:
    """Sign the worker in, press Start; (attempt id, CSRF token)."""
    csrf = f.login(client, world["username"])
    response = client.post(f"/exams/{world['exam_id']}/start", data={"csrf_token": csrf},
                           follow_redirects=False)
    assert response.status_code == 303, response.text
    match = re.fullmatch(r"/attempts/(\d+)", response.headers["location"])
    assert match, response.headers["location"]
    return int(match.group(1)), csrf


def paper_of(db, attempt_id):
    paper = db.get(Attempt, attempt_id).paper
    db.commit()  # end the read transaction: later reads must see what the app writes
    return paper


def by_kind(paper, kind):
    return next(item for item in paper if item["kind"] == kind)


def right_ids(item):
    return [option["id"] for option in item["options"] if option["right"]]


def wrong_ids(item):
    return [option["id"] for option in item["options"] if not option["right"]]


def saved_answers(db, attempt_id):
    rows = db.execute(select(Answer.question_id, Answer.option_ids)
                      .where(Answer.attempt_id == attempt_id)).all()
    db.commit()
    return {qid: sorted(ids) for qid, ids in rows}


def autosave(client, csrf, attempt_id, question_id, option_ids):
    return client.post(f"/attempts/{attempt_id}/answers/{question_id}",
                       data={f"q{question_id}": [str(i) for i in option_ids]},
                       headers={"X-CSRF-Token": csrf, "HX-Request": "true"},
                       follow_redirects=False)


def set_exam(db, world, **values):
    db.execute(update(Exam).where(Exam.id == world["exam_id"]).values(**values))
    db.commit()


class Tags(HTMLParser):
    """Every start tag with its attributes, in document order."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, {name: value or "" for name, value in attrs}))


def tags_of(html: str) -> list[tuple[str, dict[str, str]]]:
    parser = Tags()
    parser.feed(html)
    return parser.tags


def option_inputs(html: str, question_id: int) -> list[dict[str, str]]:
    return [attrs for tag, attrs in tags_of(html)
            if tag == "input" and attrs.get("name") == f"q{question_id}"]


# --- the exam's rules and starting ----------------------------------------------------------------

def test_intro_shows_the_rules_and_a_start_button(client, db, exam_world):
    db.add(ExtraTime(exam_id=exam_world["exam_id"], worker_id=exam_world["worker_id"],
                     minutes=10, reason="dyslexia"))
    db.commit()
    csrf = f.login(client, exam_world["username"])
    page = client.get(f"/exams/{exam_world['exam_id']}")
    assert page.status_code == 200
    text = page.text
    assert "Theory exam of Mini course" in text
    assert "40 minutes (30 minutes and 10 minutes extra time for you)" in text
    assert "80 of 100 points" in text
    assert "0 of 2 used" in text
    assert "<dt>Questions</dt><dd>3</dd>" in text
    assert f'action="/exams/{exam_world["exam_id"]}/start"' in text
    assert "You have 2 attempts left." in text
    assert csrf in text


def test_intro_says_why_a_worker_may_not_start(client, db, exam_world):
    db.execute(update(Enrolment).values(status="active"))
    db.commit()
    f.login(client, exam_world["username"])
    page = client.get(f"/exams/{exam_world['exam_id']}")
    assert "The exam opens when you have completed the course." in page.text
    assert "/start" not in page.text


def test_intro_for_staff_has_no_start(client, db, exam_world):
    f.user(db, Role.TRAINER, username="teacher")
    db.commit()
    f.login(client, "teacher")
    page = client.get(f"/exams/{exam_world['exam_id']}")
    assert page.status_code == 200
    assert "Only workers on an enterprise roster take exams." in page.text
    assert "/start" not in page.text
    refused = client.post(f"/exams/{exam_world['exam_id']}/start",
                          data={"csrf_token": f.csrf_from(page.text)}, follow_redirects=False)
    assert refused.status_code == 404


def test_start_records_the_attempt_and_resumes_instead_of_starting_twice(client, db, exam_world):
    attempt_id, csrf = begin(client, exam_world)
    attempt = db.get(Attempt, attempt_id)
    assert attempt.worker_id == exam_world["worker_id"] and attempt.status == "in_progress"
    assert (attempt.ip, attempt.user_agent) == ("testclient", "testclient")
    db.commit()
    intro = client.get(f"/exams/{exam_world['exam_id']}")
    assert "Resume the exam" in intro.text and f'href="/attempts/{attempt_id}"' in intro.text
    assert "/start" not in intro.text
    again = client.post(f"/exams/{exam_world['exam_id']}/start", data={"csrf_token": csrf},
                        follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"] == f"/attempts/{attempt_id}"
    assert db.scalar(select(Attempt.id).where(Attempt.id != attempt_id)) is None


def test_start_when_not_eligible_goes_back_to_the_rules_with_the_reason(client, db, exam_world):
    csrf = f.login(client, exam_world["username"])
    db.execute(update(Enrolment).values(status="active"))
    db.commit()
    response = client.post(f"/exams/{exam_world['exam_id']}/start", data={"csrf_token": csrf},
                           follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/exams/{exam_world['exam_id']}"
    page = client.get(response.headers["location"])
    assert "The exam opens when you have completed the course." in page.text
    assert db.scalar(select(Attempt.id)) is None


def test_start_needs_the_csrf_token(client, db, exam_world):
    f.login(client, exam_world["username"])
    response = client.post(f"/exams/{exam_world['exam_id']}/start", follow_redirects=False)
    assert response.status_code == 403
    assert db.scalar(select(Attempt.id)) is None


# --- the exam form ------------------------------------------------------------------------------

def test_exam_page_shows_every_question_in_paper_order_with_the_timer(client, db, exam_world):
    attempt_id, _csrf = begin(client, exam_world)
    paper = paper_of(db, attempt_id)
    attempt = db.get(Attempt, attempt_id)
    db.commit()
    page = client.get(f"/attempts/{attempt_id}")
    assert page.status_code == 200
    html = page.text
    positions = [html.index(f'data-question="{item["question_id"]}"') for item in paper]
    assert positions == sorted(positions)
    assert html.count('class="question"') == 3
    assert f'data-deadline="{attempt.deadline.isoformat()}"' in html
    assert 'role="timer"' in html and 'aria-live="polite"' in html
    assert "10 minutes left." in html and "5 minutes left." in html and "1 minute left." in html
    single = by_kind(paper, "single")
    assert [a["type"] for a in option_inputs(html, single["question_id"])] == ["radio"] * 3
    multiple = by_kind(paper, "multiple")
    assert [a["type"] for a in option_inputs(html, multiple["question_id"])] == ["checkbox"] * 3
    tf = by_kind(paper, "true_false")
    assert [a["type"] for a in option_inputs(html, tf["question_id"])] == ["radio"] * 2
    assert f'hx-post="/attempts/{attempt_id}/answers/{single["question_id"]}"' in html
    assert 'hx-sync="this:queue last"' in html
    assert html.count('class="grid-cell"') == 3  # the navigation grid, nothing answered yet
    assert '<strong data-answered-count>0</strong> / 3' in html
    assert 'href="/static/css/exam.css' in html and 'src="/static/js/exam.js' in html


def test_no_key_in_the_exam_page(client, db, exam_world):
    """Nothing in the HTML before submit tells a right option from a wrong one."""
    attempt_id, _csrf = begin(client, exam_world)
    paper = paper_of(db, attempt_id)
    html = client.get(f"/attempts/{attempt_id}").text
    for _tag, attrs in tags_of(html):
        for name, value in attrs.items():
            for word in KEY_WORDS:
                assert word not in name.lower(), (name, value)
                assert word not in value.lower(), (name, value)
    for item in paper:
        inputs = option_inputs(html, item["question_id"])
        # Values are the attempt's random ids, in the paper's shuffled order.
        assert [int(a["value"]) for a in inputs] == [o["id"] for o in item["options"]]
        assert all(o["id"] >= 100_000 for o in item["options"])
        # Apart from its id and text, every option's markup is the same, right or wrong.
        shapes = set()
        for option in item["options"]:
            match = re.search(rf'<label class="option" for="o{option["id"]}">.*?</label>', html,
                              re.S)
            assert match
            shape = match.group(0).replace(str(option["id"]), "ID")
            shapes.add(re.sub(r"<span>.*?</span>", "<span>TEXT</span>", shape, flags=re.S))
        assert len(shapes) == 1, shapes
    single = by_kind(paper, "single")
    texts = [o["text"]["en"] for o in single["options"]]
    spots = [html.index(f"<span>{text}</span>") for text in texts]
    assert spots == sorted(spots)  # option texts in the paper's order too


def test_chinese_exam_page(client, db, exam_world):
    attempt_id, _csrf = begin(client, exam_world)
    html = client.get(f"/attempts/{attempt_id}", headers={"Accept-Language": "zh-CN"}).text
    assert "在巷道顶部测量哪种气体？" in html
    assert "<span>甲烷</span>" in html and "<span>二氧化碳</span>" in html
    assert "<span>正确</span>" in html and "<span>错误</span>" in html
    assert '<html lang="zh-CN">' in html


def test_autosave_through_htmx_saves_and_updates_the_grid(client, db, exam_world):
    attempt_id, csrf = begin(client, exam_world)
    paper = paper_of(db, attempt_id)
    single = by_kind(paper, "single")
    choice = wrong_ids(single)[0]
    response = autosave(client, csrf, attempt_id, single["question_id"], [choice])
    assert response.status_code == 200, response.text
    assert response.headers["X-Answer-Saved"]
    assert "✓ Saved " in response.text
    cell = next(attrs for tag, attrs in tags_of(response.text)
                if attrs.get("id") == f"cell-{single['question_id']}")
    assert cell["hx-swap-oob"] == "true" and "is-answered" in cell["class"]
    assert saved_answers(db, attempt_id) == {single["question_id"]: [choice]}
    # Changing the answer replaces it.
    changed = right_ids(single)
    assert autosave(client, csrf, attempt_id, single["question_id"], changed).status_code == 200
    assert saved_answers(db, attempt_id) == {single["question_id"]: changed}
    page = client.get(f"/attempts/{attempt_id}").text
    qid = single["question_id"]
    assert f'id="o{changed[0]}" name="q{qid}" value="{changed[0]}" checked' in page
    assert '<strong data-answered-count>1</strong> / 3' in page


def test_autosave_clearing_a_multiple_choice_marks_it_unanswered(client, db, exam_world):
    attempt_id, csrf = begin(client, exam_world)
    multiple = by_kind(paper_of(db, attempt_id), "multiple")
    qid = multiple["question_id"]
    assert autosave(client, csrf, attempt_id, qid, right_ids(multiple)).status_code == 200
    cleared = autosave(client, csrf, attempt_id, qid, [])
    assert cleared.status_code == 200
    cell = next(attrs for tag, attrs in tags_of(cleared.text) if attrs.get("id") == f"cell-{qid}")
    assert "is-answered" not in cell["class"]
    assert saved_answers(db, attempt_id) == {qid: []}


def test_autosave_refuses_foreign_options_two_answers_and_missing_csrf(client, db, exam_world):
    attempt_id, csrf = begin(client, exam_world)
    paper = paper_of(db, attempt_id)
    single, tf = by_kind(paper, "single"), by_kind(paper, "true_false")
    foreign = autosave(client, csrf, attempt_id, single["question_id"], [tf["options"][0]["id"]])
    assert foreign.status_code == 422
    two = autosave(client, csrf, attempt_id, single["question_id"],
                   [o["id"] for o in single["options"][:2]])
    assert two.status_code == 422
    no_csrf = client.post(f"/attempts/{attempt_id}/answers/{single['question_id']}",
                          data={f"q{single['question_id']}": str(single["options"][0]["id"])})
    assert no_csrf.status_code == 403
    assert saved_answers(db, attempt_id) == {}


def test_plain_form_save_without_javascript(client, db, exam_world):
    attempt_id, csrf = begin(client, exam_world)
    paper = paper_of(db, attempt_id)
    single, multiple, tf = (by_kind(paper, k) for k in ("single", "multiple", "true_false"))
    form = {"csrf_token": csrf, "go": "stay",
            "shown": [str(item["question_id"]) for item in paper],
            f"q{single['question_id']}": str(right_ids(single)[0]),
            f"q{multiple['question_id']}": [str(i) for i in right_ids(multiple)]}
    response = client.post(f"/attempts/{attempt_id}/save", data=form, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == f"/attempts/{attempt_id}"
    assert saved_answers(db, attempt_id) == {single["question_id"]: right_ids(single),
                                             multiple["question_id"]: sorted(right_ids(multiple))}
    page = client.get(response.headers["location"])
    assert "Your answers are saved." in page.text
    assert '<strong data-answered-count>2</strong> / 3' in page.text
    first_saved = db.scalar(select(Answer.saved_at).where(
        Answer.question_id == single["question_id"]))
    db.commit()
    # Unchecking every box of a question shown clears it; unchanged answers are not rewritten.
    form.pop(f"q{multiple['question_id']}")
    form[f"q{tf['question_id']}"] = str(tf["options"][0]["id"])
    again = client.post(f"/attempts/{attempt_id}/save", data=form, follow_redirects=False)
    assert again.status_code == 303
    assert saved_answers(db, attempt_id) == {single["question_id"]: right_ids(single),
                                             multiple["question_id"]: [],
                                             tf["question_id"]: [tf["options"][0]["id"]]}
    assert db.scalar(select(Answer.saved_at).where(
        Answer.question_id == single["question_id"])) == first_saved
    db.commit()
    finish = client.post(f"/attempts/{attempt_id}/save", data={**form, "go": "confirm"},
                         follow_redirects=False)
    assert finish.headers["location"] == f"/attempts/{attempt_id}/confirm"


def test_one_question_per_screen(client, db, exam_world):
    set_exam(db, exam_world, one_per_screen=True)
    attempt_id, csrf = begin(client, exam_world)
    paper = paper_of(db, attempt_id)
    first = client.get(f"/attempts/{attempt_id}").text
    assert first.count('class="question"') == 1
    assert f'data-question="{paper[0]["question_id"]}"' in first
    assert "Question 1 of 3" in first
    assert 'value="prev"' not in first and 'value="next"' in first
    # The grid: buttons that save the form and jump, the current one marked.
    cells = [attrs for tag, attrs in tags_of(first) if "grid-cell" in attrs.get("class", "")
             and attrs.get("id", "").startswith("cell-")]
    assert [(c["name"], c["value"], c["form"]) for c in cells] == [
        ("go", "1", "exam-form"), ("go", "2", "exam-form"), ("go", "3", "exam-form")]
    assert cells[0].get("aria-current") == "step" and "aria-current" not in cells[1]
    second_id = paper[1]["question_id"]
    choice = paper[1]["options"][0]["id"]
    moved = client.post(f"/attempts/{attempt_id}/save", data={
        "csrf_token": csrf, "q": "2", "shown": str(second_id), f"q{second_id}": str(choice),
        "go": "next"}, follow_redirects=False)
    assert moved.status_code == 303 and moved.headers["location"] == f"/attempts/{attempt_id}?q=3"
    assert saved_answers(db, attempt_id) == {second_id: [choice]}
    third = client.get(moved.headers["location"]).text
    assert third.count('class="question"') == 1 and "Question 3 of 3" in third
    assert f'data-question="{paper[2]["question_id"]}"' in third
    assert 'value="next"' not in third and 'value="prev"' in third
    back = client.post(f"/attempts/{attempt_id}/save", data={
        "csrf_token": csrf, "q": "3", "shown": str(paper[2]["question_id"]), "go": "prev"},
        follow_redirects=False)
    assert back.headers["location"] == f"/attempts/{attempt_id}?q=2"
    jump = client.post(f"/attempts/{attempt_id}/save", data={
        "csrf_token": csrf, "q": "2", "shown": str(second_id), f"q{second_id}": str(choice),
        "go": "1"}, follow_redirects=False)
    assert jump.headers["location"] == f"/attempts/{attempt_id}?q=1"
    clamped = client.get(f"/attempts/{attempt_id}?q=99").text
    assert "Question 3 of 3" in clamped
    # The autosave fragment keeps the grid cell a button, still marked as the current one.
    fragment = autosave(client, csrf, attempt_id, second_id, [choice]).text
    cell = next(attrs for tag, attrs in tags_of(fragment) if attrs.get("id") == f"cell-{second_id}")
    assert cell["value"] == "2" and cell["aria-current"] == "step"


def test_confirm_shows_the_unanswered_count_with_links(client, db, exam_world):
    attempt_id, csrf = begin(client, exam_world)
    paper = paper_of(db, attempt_id)
    autosave(client, csrf, attempt_id, paper[1]["question_id"], [paper[1]["options"][0]["id"]])
    page = client.get(f"/attempts/{attempt_id}/confirm")
    assert page.status_code == 200
    assert "You answered 1 of 3 questions." in page.text
    assert "2 questions are not answered:" in page.text
    assert f'<a href="/attempts/{attempt_id}#q-1">Question 1</a>' in page.text
    assert f'<a href="/attempts/{attempt_id}#q-3">Question 3</a>' in page.text
    assert f'href="/attempts/{attempt_id}#q-2"' not in page.text
    assert f'action="/attempts/{attempt_id}/submit"' in page.text
    assert 'role="timer"' in page.text
    set_exam(db, exam_world, one_per_screen=True)
    assert f'<a href="/attempts/{attempt_id}?q=3">Question 3</a>' in client.get(
        f"/attempts/{attempt_id}/confirm").text


def test_submit_grades_and_shows_the_result_once(client, db, exam_world):
    attempt_id, csrf = begin(client, exam_world)
    paper = paper_of(db, attempt_id)
    for item in paper:
        assert autosave(client, csrf, attempt_id, item["question_id"],
                        right_ids(item)).status_code == 200
    done = client.post(f"/attempts/{attempt_id}/submit", data={"csrf_token": csrf},
                       follow_redirects=False)
    assert done.status_code == 303
    assert done.headers["location"] == f"/attempts/{attempt_id}/result"
    attempt = db.get(Attempt, attempt_id)
    assert (attempt.status, attempt.score, attempt.passed, attempt.closed_by) == (
        "submitted", 100.0, True, "taker")
    db.commit()
    result = client.get(done.headers["location"]).text
    assert "✓ Passed" in result and "<strong data-score>100</strong> / 100" in result
    assert "3 of 3 questions answered right." in result
    again = client.post(f"/attempts/{attempt_id}/submit", data={"csrf_token": csrf},
                        follow_redirects=False)
    assert again.headers["location"] == f"/attempts/{attempt_id}/result"
    assert db.get(Attempt, attempt_id).submitted_at == attempt.submitted_at
    db.commit()
    # A submitted attempt: the exam form, the confirmation and saves lead to the result.
    for url in (f"/attempts/{attempt_id}", f"/attempts/{attempt_id}/confirm"):
        response = client.get(url, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == f"/attempts/{attempt_id}/result"
    late = autosave(client, csrf, attempt_id, paper[0]["question_id"], wrong_ids(paper[0])[:1])
    assert late.status_code == 409
    assert late.headers["HX-Redirect"] == f"/attempts/{attempt_id}/result"
    assert saved_answers(db, attempt_id)[paper[0]["question_id"]] == sorted(right_ids(paper[0]))


def test_review_with_mistakes_shows_answers_right_answers_and_feedback(client, db, exam_world):
    attempt_id, csrf = begin(client, exam_world)
    paper = paper_of(db, attempt_id)
    single, multiple = by_kind(paper, "single"), by_kind(paper, "multiple")
    # Feedback of the question as the attempt's paper carries it.
    paper = [{**item, "feedback": {"en": "Methane is lighter than air and rises.",
                                   "zh_CN": "甲烷比空气轻。"}}
             if item is single else item for item in paper]
    db.execute(update(Attempt).where(Attempt.id == attempt_id).values(paper=paper))
    db.commit()
    wrong = next(o for o in single["options"] if not o["right"])
    autosave(client, csrf, attempt_id, single["question_id"], [wrong["id"]])
    autosave(client, csrf, attempt_id, multiple["question_id"], right_ids(multiple))
    client.post(f"/attempts/{attempt_id}/submit", data={"csrf_token": csrf})
    html = client.get(f"/attempts/{attempt_id}/result").text
    assert "✗ Not passed" in html and "<strong data-score>33.33</strong> / 100" in html
    assert "1 of 3 questions answered right." in html
    assert html.count('class="review-item is-right"') == 1
    assert html.count('class="review-item is-wrong"') == 2
    assert "✗ Wrong" in html and "✗ Not answered" in html
    assert "Methane is lighter than air and rises." in html
    item = re.search(r'<article class="review-item is-wrong">.*?Which gas.*?</article>', html,
                     re.S).group(0)
    assert re.search(rf'<li class="is-chosen">\s*<span>{wrong["text"]["en"]}</span>\s*'
                     r'<span class="review-tag">Your answer</span>', item)
    assert re.search(r'<li class=" is-key">\s*<span>Methane</span>\s*'
                     r'<span class="review-tag review-tag-key">Right answer</span>', item)
    assert "You may take the exam again: 1 attempt left." in html


def test_review_score_only_hides_the_answers(client, db, exam_world):
    set_exam(db, exam_world, review_mode="score_only")
    attempt_id, csrf = begin(client, exam_world)
    single = by_kind(paper_of(db, attempt_id), "single")
    autosave(client, csrf, attempt_id, single["question_id"], right_ids(single))
    client.post(f"/attempts/{attempt_id}/submit", data={"csrf_token": csrf})
    html = client.get(f"/attempts/{attempt_id}/result").text
    assert "<strong data-score>33.33</strong> / 100" in html and "✗ Not passed" in html
    assert "Pass mark: 80." in html
    assert "review-item" not in html and "Your answers" not in html
    for option in single["options"]:
        assert option["text"]["en"] not in html
    assert "Which gas" not in html


def test_last_failed_attempt_says_retraining(client, db, exam_world):
    set_exam(db, exam_world, max_attempts=1)
    attempt_id, csrf = begin(client, exam_world)
    client.post(f"/attempts/{attempt_id}/submit", data={"csrf_token": csrf})
    html = client.get(f"/attempts/{attempt_id}/result").text
    assert "You have used all 1 attempts. You need retraining" in html
    intro = client.get(f"/exams/{exam_world['exam_id']}").text
    assert "You need retraining" in intro and "/start" not in intro
    assert f'href="/attempts/{attempt_id}/result">Not passed</a>' in intro


def test_expired_attempt_redirects_to_its_graded_result(client, db, exam_world):
    attempt_id, csrf = begin(client, exam_world)
    paper = paper_of(db, attempt_id)
    autosave(client, csrf, attempt_id, paper[0]["question_id"], right_ids(paper[0]))
    db.execute(update(Attempt).where(Attempt.id == attempt_id)
               .values(deadline=utcnow() - timedelta(seconds=5)))
    db.commit()
    page = client.get(f"/attempts/{attempt_id}", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == f"/attempts/{attempt_id}/result"
    late = autosave(client, csrf, attempt_id, paper[1]["question_id"], right_ids(paper[1]))
    assert late.status_code == 409 and late.headers["HX-Redirect"].endswith("/result")
    plain = client.post(f"/attempts/{attempt_id}/save", data={
        "csrf_token": csrf, "shown": str(paper[1]["question_id"]),
        f"q{paper[1]['question_id']}": str(right_ids(paper[1])[0])}, follow_redirects=False)
    assert plain.status_code == 303 and plain.headers["location"].endswith("/result")
    result = client.get(f"/attempts/{attempt_id}/result")
    assert result.status_code == 200
    assert "The time ran out: the answers saved in time were graded." in result.text
    assert "<strong data-score>33.33</strong> / 100" in result.text
    attempt = db.get(Attempt, attempt_id)
    assert (attempt.status, attempt.closed_by) == ("submitted", "deadline")
    assert saved_answers(db, attempt_id) == {paper[0]["question_id"]: sorted(right_ids(paper[0]))}


def test_result_of_an_open_attempt_goes_back_to_the_exam(client, db, exam_world):
    attempt_id, _csrf = begin(client, exam_world)
    response = client.get(f"/attempts/{attempt_id}/result", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == f"/attempts/{attempt_id}"


def test_other_people_get_404_on_every_attempt_page(client, db, exam_world, make_client):
    attempt_id, csrf = begin(client, exam_world)
    paper = paper_of(db, attempt_id)
    qid, option = paper[0]["question_id"], paper[0]["options"][0]["id"]
    colleague = f.worker(db, db.get(Enterprise, exam_world["enterprise_id"]))
    f.user(db, Role.ENTERPRISE_ADMIN, username="boss", enterprise_id=exam_world["enterprise_id"])
    f.user(db, Role.ADMIN, username="admin2")
    db.commit()
    for username in (colleague.id_number, "boss", "admin2"):
        other = make_client()
        token = f.login(other, username)
        for method, url, data in (
                ("GET", f"/attempts/{attempt_id}", None),
                ("GET", f"/attempts/{attempt_id}/confirm", None),
                ("GET", f"/attempts/{attempt_id}/result", None),
                ("POST", f"/attempts/{attempt_id}/answers/{qid}", {f"q{qid}": str(option)}),
                ("POST", f"/attempts/{attempt_id}/save",
                 {"shown": str(qid), f"q{qid}": str(option)}),
                ("POST", f"/attempts/{attempt_id}/submit", {})):
            kwargs = {"follow_redirects": False}
            if data is not None:
                kwargs.update(data={**data, "csrf_token": token}, headers={"X-CSRF-Token": token})
            response = other.request(method, url, **kwargs)
            assert response.status_code == 404, (username, method, url, response.status_code)
            assert paper[0]["text"]["en"] not in response.text
    assert saved_answers(db, attempt_id) == {}
    assert db.get(Attempt, attempt_id).status == "in_progress"


def test_leaving_the_page_is_logged_through_the_events_api(client, db, exam_world):
    attempt_id, csrf = begin(client, exam_world)
    html = client.get(f"/attempts/{attempt_id}").text
    assert f'data-events-url="/api/v1/attempts/{attempt_id}/events"' in html
    response = client.post(f"/api/v1/attempts/{attempt_id}/events", json={"kind": "hidden"},
                           headers={"X-CSRF-Token": csrf})
    assert response.status_code == 204
    kinds = db.scalars(select(AttemptEvent.kind).where(AttemptEvent.attempt_id == attempt_id)
                       .order_by(AttemptEvent.id)).all()
    assert kinds == ["started", "hidden"]
    assert db.get(Attempt, attempt_id).status == "in_progress"  # noted, not punished
