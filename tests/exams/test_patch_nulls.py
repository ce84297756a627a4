"""PATCH bodies: a field left out keeps its value, an explicit null for a field that cannot be
empty is a 422 located at the field (issue 9 item 12: it used to raise inside the handler)."""

import pytest
from sqlalchemy import select

from app.accounts.models import Role
from app.exams.models import Question
from tests import factories as f

BANK = "TEST-MINI"


@pytest.fixture
def tauth(client, db):
    trainer = f.user(db, Role.TRAINER)
    db.commit()
    return f.token(client, trainer.username)


@pytest.mark.parametrize("field", ["duration_minutes", "pass_mark", "max_attempts", "title",
                                   "blueprint", "requires_completion", "review_mode"])
def test_null_exam_setting_is_422_and_changes_nothing(client, db, exam_world, tauth, field):
    url = f"/api/v1/exams/{exam_world['exam_id']}"
    before = client.get(f"{url}/settings", headers=tauth).json()
    response = client.patch(url, headers=tauth, json={field: None})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["errors"][0]["loc"] == ["body", field]
    assert client.get(f"{url}/settings", headers=tauth).json() == before


def test_null_clears_an_exam_time_and_leaving_out_keeps(client, exam_world, tauth):
    url = f"/api/v1/exams/{exam_world['exam_id']}"
    response = client.patch(url, headers=tauth, json={"available_from": None})
    assert response.status_code == 200, response.text
    assert response.json()["available_from"] is None
    kept = client.patch(url, headers=tauth, json={"pass_mark": 70})
    assert kept.status_code == 200, kept.text
    assert kept.json()["duration_minutes"] == response.json()["duration_minutes"]


@pytest.mark.parametrize("field", ["text", "category", "kind", "feedback"])
def test_null_question_field_is_422(client, db, exam_world, tauth, field):
    question_id = db.scalar(select(Question.id).where(Question.bank == BANK).limit(1))
    db.commit()
    url = f"/api/v1/banks/{BANK}/questions/{question_id}"
    before = client.get(url, headers=tauth).json()
    response = client.patch(url, headers=tauth, json={field: None})
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["loc"] == ["body", field]
    assert client.get(url, headers=tauth).json() == before


def test_openapi_says_which_patch_fields_take_null(app):
    schemas = app.openapi()["components"]["schemas"]
    exam = schemas["ExamPatch"]["properties"]
    assert exam["duration_minutes"]["type"] == "integer" and "anyOf" not in exam["duration_minutes"]
    assert {"type": "null"} in exam["available_from"]["anyOf"]
    assert "anyOf" not in schemas["QuestionPatch"]["properties"]["text"]

