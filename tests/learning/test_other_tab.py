"""Two open lesson pages share the worker's one study clock (issue 11 item 5).

The heartbeat answer carries the clock as the beat left it (`clock`); a page sends it back with
its next beat, and `other_tab` says whether another page (tab, window or device) beat on the
same clock in between. The crediting rules are untouched: these fields only report.
"""

from __future__ import annotations

from sqlalchemy import select

from app.learning.models import StudyClock
from tests import factories as f


def _url(enrolment, lesson) -> str:  # type: ignore[no-untyped-def]
    return f"/api/v1/enrolments/{enrolment.id}/lessons/{lesson.id}/heartbeat"


def test_each_page_learns_when_another_page_used_the_clock(client, db, enrolled):  # type: ignore[no-untyped-def]
    worker, enrolment, lessons = enrolled
    db.commit()
    auth = f.token(client, worker.id_number)
    text_page, video_page = _url(enrolment, lessons["text"]), _url(enrolment, lessons["video"])

    def beat(url: str, clock: str | None, **body: object) -> dict:  # type: ignore[type-arg]
        sent = {"visible": True, **body, **({"clock": clock} if clock is not None else {})}
        answer = client.post(url, json=sent, headers=auth)
        assert answer.status_code == 200, answer.text
        return answer.json()

    a = beat(text_page, None)  # page A's first beat: nothing to compare with
    assert a["other_tab"] is False and len(a["clock"]) == 21
    a = beat(text_page, a["clock"])  # alone: its own clock comes back
    assert a["other_tab"] is False

    b = beat(video_page, None, position=0)  # page B opens (another lesson)
    assert b["other_tab"] is False
    a = beat(text_page, a["clock"])
    assert a["other_tab"] is True  # B beat since A's last beat
    b = beat(video_page, b["clock"], position=0)
    assert b["other_tab"] is True  # and A since B's

    # B goes to the background: its beat stops the clock and earns nothing.
    b = beat(video_page, b["clock"], visible=False)
    assert b["clock"] == "" and b["credited_now"] == 0 and b["other_tab"] is False
    a = beat(text_page, a["clock"])
    assert a["other_tab"] is True and a["credited_now"] == 0  # the first beat after a pause
    a = beat(text_page, a["clock"])  # B stays quiet in the background: A is alone again
    assert a["other_tab"] is False

    # The same lesson open twice is two pages too.
    c = beat(text_page, None)
    a = beat(text_page, a["clock"])
    assert c["other_tab"] is False and a["other_tab"] is True


def test_a_malformed_clock_is_refused_and_changes_nothing(client, db, enrolled):  # type: ignore[no-untyped-def]
    worker, enrolment, lessons = enrolled
    db.commit()
    auth = f.token(client, worker.id_number)
    url = _url(enrolment, lessons["text"])
    first = client.post(url, json={"visible": True}, headers=auth).json()
    db.rollback()
    before = db.scalar(select(StudyClock.credit_from).where(StudyClock.worker_id == worker.id))
    db.rollback()
    for bad in ("yesterday", "2026" * 6 + "0", 12, "20261204T160000"):
        refused = client.post(url, json={"visible": False, "clock": bad}, headers=auth)
        assert refused.status_code == 422, (bad, refused.text)
        assert refused.json()["code"] == "validation_error"
    db.rollback()
    after = db.scalar(select(StudyClock.credit_from).where(StudyClock.worker_id == worker.id))
    db.rollback()
    assert after == before  # the refused hidden beats did not stop the clock
    again = client.post(url, json={"visible": True, "clock": first["clock"]}, headers=auth)
    assert again.status_code == 200 and again.json()["other_tab"] is False
