"""The panorama hazard drill is judged on the server: the lesson page carries no hazard the
learner has not found, taps are sent as directions, and guessing is throttled.

The mini package's scene (tests/packages.py): Cable (yaw 30, pitch -5) and Roof (-90, 10) are
hazards, Refuge (150, 0) is an information hotspot."""

from __future__ import annotations

import html
import json
import re

import pytest
from sqlalchemy import select

from app.learning import hotspots
from app.learning.models import Enrolment, EnrolmentStatus, LessonProgress
from tests import factories as f


@pytest.fixture(autouse=True)
def fresh_budget():  # type: ignore[no-untyped-def]
    hotspots.misses.clear()
    yield
    hotspots.misses.clear()


@pytest.fixture
def learner(client, db, enrolled):  # type: ignore[no-untyped-def]
    """(bearer headers, tap URL, page URL, enrolment, panorama lesson)."""
    worker, enrolment, lessons = enrolled
    db.commit()
    scene = lessons["panorama"]
    url = f"/api/v1/enrolments/{enrolment.id}/lessons/{scene.id}/hotspots/tap"
    return (f.token(client, worker.id_number), url,
            f"/learn/{enrolment.id}/lessons/{scene.id}", enrolment, scene)


def found_in_db(db, enrolment_id: int, lesson_id: int) -> tuple[list[int], bool]:  # type: ignore[no-untyped-def]
    db.rollback()  # a fresh snapshot: what the app has committed since
    progress = db.scalar(select(LessonProgress).where(LessonProgress.enrolment_id == enrolment_id,
                                                      LessonProgress.lesson_id == lesson_id))
    assert progress is not None
    return list(progress.found_hotspots or []), progress.completed_at is not None


def page_spots(text: str) -> list[dict]:
    match = re.search(r'data-spots="([^"]*)"', text)
    assert match is not None
    return json.loads(html.unescape(match.group(1)))


def test_the_page_shows_no_hazard_until_it_is_found(client, db, enrolled, learner):
    worker, _enrolment, _lessons = enrolled
    auth, url, page_url, enrolment, scene = learner
    f.login(client, worker.id_number)
    page = client.get(page_url).text
    # Only the information hotspot: no hazard's label, flag or position anywhere in the page.
    assert page_spots(page) == [{"index": 2, "yaw": 150.0, "pitch": 0.0, "hazard": False,
                                 "label": "Refuge", "description": ""}]
    assert "Cable" not in page and "Roof" not in page and "hazard&#34;: true" not in page
    assert f'data-tap-url="{url}"' in page
    assert "/hotspots/" not in page.replace(url, "")  # no route by index any more
    assert client.post(url, json={"yaw": 32, "pitch": -1}, headers=auth).json()["outcome"] \
        == "found"
    page = client.get(page_url).text
    assert [s["label"] for s in page_spots(page)] == ["Cable", "Refuge"]
    assert "Roof" not in page
    assert re.search(r"<strong data-found-count>1</strong>", page)


def test_taps_are_judged_by_direction_and_every_hazard_completes_the_lesson(client, db,
                                                                             learner):
    auth, url, _page, enrolment, scene = learner
    miss = client.post(url, json={"yaw": 0, "pitch": 0}, headers=auth)
    assert miss.status_code == 200
    assert miss.json() == {"outcome": "miss", "spot": None, "found": [], "hazards_found": 0,
                           "hazards_total": 2, "lesson_completed": False,
                           "course_completed": False}
    info = client.post(url, json={"yaw": 155, "pitch": 3}, headers=auth).json()
    assert info["outcome"] == "information" and info["spot"]["label"] == "Refuge"
    assert found_in_db(db, enrolment.id, scene.id) == ([], False)
    # 8° beside the cable (within the 10° tolerance) finds it; the answer carries its place.
    hit = client.post(url, json={"yaw": 38, "pitch": -5}, headers=auth).json()
    assert hit["outcome"] == "found" and hit["found"] == [0] and hit["hazards_found"] == 1
    assert hit["spot"] == {"index": 0, "yaw": 30.0, "pitch": -5.0, "hazard": True,
                           "label": "Cable", "description": ""}
    assert hit["lesson_completed"] is False
    again = client.post(url, json={"yaw": 30, "pitch": -5}, headers=auth).json()
    assert again["outcome"] == "found_before" and again["found"] == [0]
    # 11° away is a miss (great-circle distance, not degrees of yaw alone).
    assert client.post(url, json={"yaw": -90, "pitch": 21}, headers=auth).json()["outcome"] \
        == "miss"
    done = client.post(url, json={"yaw": -95, "pitch": 12}, headers=auth).json()
    assert done["outcome"] == "found" and done["found"] == [0, 1]
    assert done["lesson_completed"] is True
    assert found_in_db(db, enrolment.id, scene.id) == ([0, 1], True)


def test_labels_come_in_the_learners_language(client, db, learner):
    auth, url, _page, _enrolment, _scene = learner
    answer = client.post(url, json={"yaw": 150, "pitch": 0},
                         headers={**auth, "Accept-Language": "zh-CN"}).json()
    assert answer["spot"]["label"] == "Refuge"  # the package has English only: the fallback


def test_bad_taps_are_refused_and_change_nothing(client, db, enrolled, learner):
    _worker, _enrolment, lessons = enrolled
    auth, url, _page, enrolment, scene = learner
    for body in ({"yaw": 181, "pitch": 0}, {"yaw": 0, "pitch": -90.5}, {"yaw": 30},
                 {"yaw": 30, "pitch": -5, "index": 0}, {"yaw": "x", "pitch": 0}):
        response = client.post(url, json=body, headers=auth)
        assert response.status_code == 422, body
        assert response.json()["code"] == "validation_error"
    nan = client.post(url, content=b'{"yaw": NaN, "pitch": 0}',
                      headers={**auth, "Content-Type": "application/json"})
    assert nan.status_code == 422
    text_url = url.replace(f"/lessons/{scene.id}/", f"/lessons/{lessons['text'].id}/")
    wrong_kind = client.post(text_url, json={"yaw": 30, "pitch": -5}, headers=auth)
    assert wrong_kind.status_code == 404
    assert wrong_kind.json()["detail"] == "This lesson has no hazard drill."
    # The old route by index (which told hazards from empty space) is gone.
    assert client.post(url.replace("/tap", "/0"), json={}, headers=auth).status_code in (404, 405)
    assert found_in_db(db, enrolment.id, scene.id) == ([], False)


def test_a_withdrawn_enrolment_records_nothing(client, db, learner):
    auth, url, _page, enrolment, scene = learner
    row = db.get(Enrolment, enrolment.id)
    row.status = EnrolmentStatus.WITHDRAWN.value
    db.commit()
    response = client.post(url, json={"yaw": 30, "pitch": -5}, headers=auth)
    assert response.status_code == 409 and response.json()["code"] == "enrolment_closed"
    assert found_in_db(db, enrolment.id, scene.id) == ([], False)


def test_sweeping_the_sphere_is_throttled(client, db, learner):
    auth, url, _page, enrolment, scene = learner
    for step in range(hotspots.MISSES_PER_MINUTE):
        # Known hotspots do not use up the budget.
        info = client.post(url, json={"yaw": 150, "pitch": 0}, headers=auth)
        assert info.json()["outcome"] == "information"
        answer = client.post(url, json={"yaw": -170 + 20 * step, "pitch": 60}, headers=auth)
        assert answer.json()["outcome"] == "miss"
    # Once it is used up, every tap is refused, even one right on a hazard.
    refused = client.post(url, json={"yaw": 30, "pitch": -5}, headers=auth)
    assert refused.status_code == 429
    assert refused.json()["code"] == "too_many_requests"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert "Too many taps that found nothing" in refused.json()["detail"]
    zh = client.post(url, json={"yaw": 30, "pitch": -5},
                     headers={**auth, "Accept-Language": "zh-CN"})
    assert zh.status_code == 429 and "点击未命中的次数过多" in zh.json()["detail"]
    assert found_in_db(db, enrolment.id, scene.id) == ([], False)


def test_the_miss_budget_frees_up_as_misses_age(monkeypatch):
    budget = hotspots.MissBudget(limit=2, window=60)
    clock = [1000.0]
    monkeypatch.setattr(hotspots.time, "monotonic", lambda: clock[0])
    budget.miss("k")
    clock[0] += 30
    budget.miss("k")
    with pytest.raises(hotspots.TooManyRequests) as refused:
        budget.check("k")
    assert refused.value.retry_after == 30
    budget.check("other")  # per key
    clock[0] += 30.5  # the first miss is now more than a minute old
    budget.check("k")


def test_geometry_wraps_round_the_back_and_prefers_hazards_not_yet_found():
    assert hotspots.angular_distance(179, 0, -179, 0) == pytest.approx(2)
    assert hotspots.angular_distance(0, 89, 180, 89) == pytest.approx(2)
    spots = [{"yaw": 175, "pitch": 0, "hazard": False}, {"yaw": -178, "pitch": 0, "hazard": True}]
    assert hotspots.nearest(spots, 176, 0, range(2)) == 0
    assert hotspots.nearest(spots, 176, 0, {1}) == 1
    assert hotspots.nearest(spots, 0, 0, range(2)) is None
