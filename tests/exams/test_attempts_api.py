"""The attempt API as written in API.md: starting, saving, submitting, 409 codes, the key."""

import json
from datetime import timedelta

from sqlalchemy import select, update

from app.accounts.models import AuditEvent, Role
from app.db import utcnow
from app.exams.models import Attempt, Exam
from app.learning.models import Enrolment
from tests import factories as f


def start(client, world, auth):
    return client.post(f"/api/v1/exams/{world['exam_id']}/attempts", headers=auth)


def right_answers(db, attempt_id):
    paper = db.get(Attempt, attempt_id).paper
    db.commit()  # end this read transaction: later reads must see what the app writes
    return {q["question_id"]: [o["id"] for o in q["options"] if o["right"]] for q in paper}


def test_start_returns_the_paper_without_the_key(client, db, exam_world):
    auth = f.token(client, exam_world["username"])
    response = start(client, exam_world, auth)
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "exam_id", "number", "deadline", "questions"}
    assert len(body["questions"]) == 3
    kinds = sorted(q["kind"] for q in body["questions"])
    assert kinds == ["multiple", "single", "true_false"]
    raw = json.dumps(body)
    for word in ("right", "weight", "correct", "feedback", "index"):
        assert f'"{word}"' not in raw
    tf = next(q for q in body["questions"] if q["kind"] == "true_false")
    assert sorted(o["text"] for o in tf["options"]) == ["False", "True"]
    single = next(q for q in body["questions"] if q["kind"] == "single")
    assert single["text"] == "Which gas is measured at the roof of a heading?"
    assert all(o["id"] >= 100_000 for o in single["options"])  # opaque ids, not positions


def test_chinese_paper_and_true_false_in_chinese(client, db, exam_world):
    auth = f.token(client, exam_world["username"])
    body = client.post(f"/api/v1/exams/{exam_world['exam_id']}/attempts",
                       headers={**auth, "Accept-Language": "zh-CN"}).json()
    single = next(q for q in body["questions"] if q["kind"] == "single")
    assert single["text"] == "在巷道顶部测量哪种气体？"
    assert sorted(o["text"] for o in single["options"]) == sorted(["甲烷", "二氧化碳", "氮气"])


def test_second_start_names_the_open_attempt(client, exam_world):
    auth = f.token(client, exam_world["username"])
    first = start(client, exam_world, auth).json()
    again = start(client, exam_world, auth)
    assert again.status_code == 409
    assert again.json()["code"] == "attempt_in_progress"
    assert again.json()["attempt_id"] == first["id"]


def test_not_eligible_until_the_course_is_completed(client, db, exam_world):
    db.execute(update(Enrolment).values(status="active"))
    db.commit()
    response = start(client, exam_world, f.token(client, exam_world["username"]))
    assert response.status_code == 409 and response.json()["code"] == "not_eligible"


def test_not_enrolled_is_not_eligible(client, db, exam_world):
    stranger = f.worker(db, f.enterprise(db))
    db.commit()
    response = start(client, exam_world, f.token(client, stranger.id_number))
    assert response.status_code == 409 and response.json()["code"] == "not_eligible"


def test_full_marks_then_idempotent_submit_and_audit(client, db, exam_world):
    auth = f.token(client, exam_world["username"])
    attempt = start(client, exam_world, auth).json()
    for question_id, option_ids in right_answers(db, attempt["id"]).items():
        saved = client.put(f"/api/v1/attempts/{attempt['id']}/answers/{question_id}",
                           json={"option_ids": option_ids}, headers=auth)
        assert saved.status_code == 200 and "saved_at" in saved.json()
    first = client.post(f"/api/v1/attempts/{attempt['id']}/submit", headers=auth)
    assert first.status_code == 200
    assert first.json() == {"id": attempt["id"], "status": "submitted", "score": 100.0,
                            "max_score": 100, "passed": True}
    again = client.post(f"/api/v1/attempts/{attempt['id']}/submit", headers=auth)
    assert again.json() == first.json()
    audits = db.scalars(select(AuditEvent).where(AuditEvent.action == "attempt.graded")).all()
    assert len(audits) == 1 and audits[0].detail["score"] == 100.0


def test_all_or_nothing_scoring_and_multiple_choice_needs_exactly_the_right_set(
        client, db, exam_world):
    auth = f.token(client, exam_world["username"])
    attempt = start(client, exam_world, auth).json()
    key = right_answers(db, attempt["id"])
    multiple = next(q for q in attempt["questions"] if q["kind"] == "multiple")
    partial = key[multiple["id"]][:1]
    client.put(f"/api/v1/attempts/{attempt['id']}/answers/{multiple['id']}",
               json={"option_ids": partial}, headers=auth)
    single = next(q for q in attempt["questions"] if q["kind"] == "single")
    client.put(f"/api/v1/attempts/{attempt['id']}/answers/{single['id']}",
               json={"option_ids": key[single["id"]]}, headers=auth)
    result = client.post(f"/api/v1/attempts/{attempt['id']}/submit", headers=auth).json()
    assert result["score"] == 33.33 and result["passed"] is False


def test_answers_after_submit_or_deadline_are_refused(client, db, exam_world):
    auth = f.token(client, exam_world["username"])
    attempt = start(client, exam_world, auth).json()
    question = attempt["questions"][0]
    option = question["options"][0]["id"]
    url = f"/api/v1/attempts/{attempt['id']}/answers/{question['id']}"
    db.execute(update(Attempt).where(Attempt.id == attempt["id"])
               .values(deadline=utcnow() - timedelta(seconds=1)))
    db.commit()
    late = client.put(url, json={"option_ids": [option]}, headers=auth)
    assert late.status_code == 409 and late.json()["code"] == "attempt_closed"
    graded = client.post(f"/api/v1/attempts/{attempt['id']}/submit", headers=auth).json()
    assert graded["status"] == "submitted" and graded["score"] == 0.0
    closed_by = db.scalar(select(Attempt.closed_by).where(Attempt.id == attempt["id"]))
    assert closed_by == "deadline"
    after = client.put(url, json={"option_ids": [option]}, headers=auth)
    assert after.status_code == 409 and after.json()["code"] == "attempt_closed"


def test_bad_option_ids_are_refused(client, db, exam_world):
    auth = f.token(client, exam_world["username"])
    attempt = start(client, exam_world, auth).json()
    single = next(q for q in attempt["questions"] if q["kind"] == "single")
    url = f"/api/v1/attempts/{attempt['id']}/answers/{single['id']}"
    assert client.put(url, json={"option_ids": [1]}, headers=auth).status_code == 422
    two = [o["id"] for o in single["options"][:2]]
    assert client.put(url, json={"option_ids": two}, headers=auth).status_code == 422
    assert client.put(f"/api/v1/attempts/{attempt['id']}/answers/999999",
                      json={"option_ids": []}, headers=auth).status_code == 404


def test_retake_then_attempts_exhausted_and_retraining(client, db, exam_world):
    auth = f.token(client, exam_world["username"])
    for number in (1, 2):
        attempt = start(client, exam_world, auth).json()
        assert attempt["number"] == number
        client.post(f"/api/v1/attempts/{attempt['id']}/submit", headers=auth)
    third = start(client, exam_world, auth)
    assert third.status_code == 409 and third.json()["code"] == "attempts_exhausted"
    status = db.scalar(select(Enrolment.status).where(Enrolment.id == exam_world["enrolment_id"]))
    assert status == "retraining"


def test_get_attempt_for_taker_enterprise_admin_and_not_others(client, db, exam_world):
    own_admin = f.user(db, Role.ENTERPRISE_ADMIN, username="own-admin",
                       enterprise_id=exam_world["enterprise_id"])
    other = f.user(db, Role.ENTERPRISE_ADMIN, username="other-admin",
                   enterprise_id=f.enterprise(db, region="150602").id)
    stranger = f.worker(db, f.enterprise(db))
    db.commit()
    auth = f.token(client, exam_world["username"])
    attempt = start(client, exam_world, auth).json()
    mine = client.get(f"/api/v1/attempts/{attempt['id']}", headers=auth).json()
    assert mine["status"] == "in_progress" and mine["answers"] == {}
    assert len(mine["questions"]) == 3
    admin_view = client.get(f"/api/v1/attempts/{attempt['id']}",
                            headers=f.token(client, own_admin.username))
    assert admin_view.status_code == 200 and admin_view.json()["questions"] is None
    for username in (other.username, stranger.id_number):
        headers = f.token(client, username)
        assert client.get(f"/api/v1/attempts/{attempt['id']}", headers=headers).status_code == 404
        assert client.post(f"/api/v1/attempts/{attempt['id']}/submit",
                           headers=headers).status_code == 404
    assert client.post(f"/api/v1/attempts/{attempt['id']}/submit",
                       headers=f.token(client, own_admin.username)).status_code == 404


def test_shuffled_per_attempt_and_stable_for_review(client, db, exam_world):
    db.execute(update(Exam).values(max_attempts=20))
    db.commit()
    auth = f.token(client, exam_world["username"])
    orders = set()
    for _ in range(8):
        attempt = start(client, exam_world, auth).json()
        single = next(q for q in attempt["questions"] if q["kind"] == "single")
        orders.add(tuple(o["text"] for o in single["options"]))
        again = client.get(f"/api/v1/attempts/{attempt['id']}", headers=auth).json()
        assert again["questions"] == attempt["questions"]  # the stored paper, not a new draw
        client.post(f"/api/v1/attempts/{attempt['id']}/submit", headers=auth)
    assert len(orders) > 1


def test_sweeper_grades_an_expired_attempt_nobody_came_back_to(client, db, exam_world):
    from app.exams.sweeper import sweep_once

    auth = f.token(client, exam_world["username"])
    attempt = start(client, exam_world, auth).json()
    key = right_answers(db, attempt["id"])
    for question_id, option_ids in list(key.items())[:2]:
        client.put(f"/api/v1/attempts/{attempt['id']}/answers/{question_id}",
                   json={"option_ids": option_ids}, headers=auth)
    db.execute(update(Attempt).where(Attempt.id == attempt["id"])
               .values(deadline=utcnow() - timedelta(seconds=5)))
    db.commit()
    assert sweep_once() == 1
    assert sweep_once() == 0
    row = db.get(Attempt, attempt["id"])
    assert (row.status, row.closed_by, row.score) == ("submitted", "deadline", 66.67)
