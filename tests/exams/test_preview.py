"""A trainer previews a whole exam as a taker sees it: a paper drawn per the blueprint (as for an
attempt), both languages, all on one page or one per screen, the key on request; nothing is
stored; problems in the blueprint are shown instead of a paper."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select, update

from app.accounts.models import AuditEvent, Role
from app.exams.models import Answer, Attempt, AttemptEvent, Exam, Question
from app.learning.models import Enrolment
from tests import factories as f

STEMS_EN = ("Methane is lighter than air.", "Which gas is measured at the roof of a heading?",
            "Which are personal protective equipment?")
STEMS_ZH = ("甲烷比空气轻。", "在巷道顶部测量哪种气体？", "哪些是个人防护用品？")


@pytest.fixture
def trainer_client(client, db, exam_world):
    f.user(db, Role.TRAINER, username="trainer1")
    db.commit()
    f.login(client, "trainer1")
    return client


def _url(world, **params: object) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return f"/exams/{world['exam_id']}/preview" + (f"?{query}" if query else "")


def _option_ids(html: str) -> list[str]:
    return re.findall(r'id="o(\d+)"', html)


def _numbers(html: str) -> list[str]:
    return re.findall(r'Question (\d+) of 3', html)


def _counts(db) -> dict[str, int]:
    result = {model.__name__: db.scalar(select(func.count()).select_from(model)) or 0
              for model in (Attempt, Answer, AttemptEvent, AuditEvent, Enrolment, Question,
                            Exam)}
    db.commit()
    return result


def _set_exam(db, world, **values: object) -> None:
    db.execute(update(Exam).where(Exam.id == world["exam_id"]).values(**values))
    db.commit()


def test_preview_draws_a_whole_paper_and_records_nothing(trainer_client, db, exam_world):
    before = _counts(db)
    page = trainer_client.get(_url(exam_world))
    assert page.status_code == 200, page.text
    assert "Preview — nothing is recorded" in page.text
    assert all(stem in page.text for stem in STEMS_EN)
    assert _numbers(page.text) == ["1", "2", "3"]
    assert len(_option_ids(page.text)) == 2 + 3 + 3  # true/false, then two of three options
    assert "Right answer" not in page.text
    assert "Draw another paper" in page.text
    # The answers would go nowhere: the form only reloads the preview, never /attempts.
    assert "/attempts/" not in page.text and "hx-post" not in page.text
    seed = re.search(r'name="seed" value="(\d+)"', page.text)
    assert seed is not None
    again = trainer_client.get(_url(exam_world, seed=seed.group(1)))
    assert _option_ids(again.text) == _option_ids(page.text)
    assert _counts(db) == before


def test_each_seed_is_a_paper_of_its_own_and_draw_another_drops_it(trainer_client, exam_world):
    papers = {tuple(_option_ids(trainer_client.get(_url(exam_world, seed=seed)).text))
              for seed in range(1, 6)}
    assert len(papers) > 1
    page = trainer_client.get(_url(exam_world, seed=3, key=1))
    another = re.search(r'<a href="([^"]+)"[^>]*data-draw-another', page.text)
    assert another is not None
    assert "seed=" not in another.group(1) and "key=1" in another.group(1)


def test_both_languages_show_the_same_paper(trainer_client, exam_world):
    en = trainer_client.get(_url(exam_world, seed=11))
    zh = trainer_client.get(_url(exam_world, seed=11, locale="zh_CN"))
    assert zh.status_code == 200
    assert all(stem in zh.text for stem in STEMS_ZH)
    assert not any(stem in zh.text for stem in STEMS_EN)
    assert _option_ids(zh.text) == _option_ids(en.text)
    order_en = [STEMS_EN.index(s) for s in re.findall("|".join(map(re.escape, STEMS_EN)), en.text)]
    order_zh = [STEMS_ZH.index(s) for s in re.findall("|".join(map(re.escape, STEMS_ZH)), zh.text)]
    assert order_en == order_zh


def test_the_key_and_feedback_are_shown_on_request(trainer_client, db, exam_world):
    db.execute(update(Question).where(Question.external_id == "B-2").values(
        feedback={"en": "Methane rises: measure it at the roof.", "zh_CN": "甲烷上升。"}))
    db.commit()
    hidden = trainer_client.get(_url(exam_world, seed=7))
    assert "Methane rises" not in hidden.text and "is-key" not in hidden.text
    shown = trainer_client.get(_url(exam_world, seed=7, key=1))
    assert shown.status_code == 200
    assert "Methane rises: measure it at the roof." in shown.text
    assert _option_ids(shown.text) == _option_ids(hidden.text)
    keyed = re.findall(r'<label class="option is-key"[^>]*>\s*<input[^>]*>\s*<span>([^<]+)</span>',
                       shown.text)
    # True (B-1), Methane (B-2), Helmet and Self-rescuer (B-3): the positive weights.
    assert sorted(keyed) == ["Helmet", "Methane", "Self-rescuer", "True"]
    assert shown.text.count("Right answer") == 4
    assert "Hide the right answers" in shown.text


def test_one_per_screen_moves_through_the_same_paper(trainer_client, db, exam_world):
    whole = trainer_client.get(_url(exam_world, seed=21))
    ids = _option_ids(whole.text)
    _set_exam(db, exam_world, one_per_screen=True)
    first = trainer_client.get(_url(exam_world, seed=21))
    assert _numbers(first.text) == ["1"]
    shown = _option_ids(first.text)
    assert shown == ids[:len(shown)]
    second = trainer_client.get(_url(exam_world, seed=21, q=1, go="next"))
    assert _numbers(second.text) == ["2"]
    third = trainer_client.get(_url(exam_world, seed=21, q=2, go=3))
    assert _numbers(third.text) == ["3"]
    assert ids[-len(_option_ids(third.text)):] == _option_ids(third.text)
    back = trainer_client.get(_url(exam_world, seed=21, q=3, go="prev"))
    assert _numbers(back.text) == ["2"]
    assert 'name="go" value="3"' in first.text  # the taker's grid of question buttons


def test_blueprint_problems_are_shown_instead_of_a_paper(trainer_client, db, exam_world):
    _set_exam(db, exam_world, blueprint=[{"category": "basics", "count": 5},
                                         {"category": "ventilation", "count": 2}])
    before = _counts(db)
    page = trainer_client.get(_url(exam_world))
    assert page.status_code == 200
    assert "No paper can be drawn from this exam" in page.text
    assert "Category basics has 3 active questions; the blueprint draws 5." in page.text
    assert "Category ventilation has 0 active questions; the blueprint draws 2." in page.text
    assert "<fieldset" not in page.text and not _option_ids(page.text)
    _set_exam(db, exam_world, blueprint=[{"category": "basics", "count": 0}])
    empty = trainer_client.get(_url(exam_world))
    assert "The blueprint draws no questions" in empty.text
    assert _counts(db) == before


def test_bad_links_and_outsiders_are_refused(trainer_client, client, db, exam_world):
    for query in ({"seed": -1}, {"seed": 2**31}, {"seed": "abc"}, {"key": "perhaps"}):
        # Pages answer a malformed query with 400 (the API would say 422).
        assert trainer_client.get(_url(exam_world, **query)).status_code == 400, query
    assert trainer_client.get("/exams/999999/preview").status_code == 404
    client.cookies.clear()
    f.login(client, exam_world["username"])
    refused = client.get(_url(exam_world))
    assert refused.status_code in (403, 404)
    assert STEMS_EN[1] not in refused.text


def test_the_settings_and_bank_pages_link_to_the_preview(trainer_client, exam_world):
    link = f'href="/exams/{exam_world["exam_id"]}/preview"'
    assert link in trainer_client.get(f"/exams/{exam_world['exam_id']}/settings").text
    assert link in trainer_client.get("/bank/TEST-MINI").text
