"""The trainer's side of exams: the question bank (CRUD, retire, images, GIFT and spreadsheet
imports and exports), exam settings, extra time, regrading, and who may do any of it."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.accounts.models import AuditEvent, Role
from app.exams.models import Attempt, Exam, ExtraTime, Question
from app.organisations.models import Enterprise
from app.spreadsheets import write_xlsx
from tests import factories as f
from tests import packages

BANK = "TEST-MINI"
API = f"/api/v1/banks/{BANK}"
DOC = Path(__file__).resolve().parents[2] / "docs" / "question-bank.md"


@pytest.fixture
def trainer(db):
    user = f.user(db, Role.TRAINER, username="trainer1", full_name="Tess Trainer")
    db.commit()
    return user


@pytest.fixture
def tauth(client, trainer):
    return f.token(client, trainer.username)


def qid(db, external_id, bank=BANK):
    value = db.scalar(select(Question.id).where(Question.bank == bank,
                                                Question.external_id == external_id))
    db.commit()
    return value


def audits(db, action):
    rows = db.scalars(select(AuditEvent).where(AuditEvent.action == action)
                      .order_by(AuditEvent.id)).all()
    db.commit()
    return rows


def count_questions(db, bank):
    value = db.scalar(select(func.count()).select_from(Question).where(Question.bank == bank))
    db.commit()
    return value


SINGLE = {"external_id": "N-1", "category": "basics", "kind": "single",
          "text": {"en": "Where is methane measured?", "zh_CN": "在哪里测量甲烷？"},
          "options": [{"text": {"en": "At the roof", "zh_CN": "顶部"}, "right": True},
                      {"text": {"en": "At the floor"}}, {"text": {"en": "Outside"}}],
          "job_category": "coal.gas_inspection", "difficulty": "easy"}


# --- questions: create, read, edit, retire ----------------------------------------------------

def test_create_read_edit_and_retire_a_question(client, db, exam_world, tauth):
    created = client.post(f"{API}/questions", json=SINGLE, headers=tauth)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["external_id"] == "N-1" and body["status"] == "active"
    assert [(o["index"], o["weight"], o["right"]) for o in body["options"]] == [
        (0, 100.0, True), (1, 0.0, False), (2, 0.0, False)]
    assert body["job_category"] == "coal.gas_inspection" and body["difficulty"] == "easy"
    url = f"{API}/questions/{body['id']}"
    assert client.get(url, headers=tauth).json()["text"] == SINGLE["text"]

    multiple = client.patch(url, headers=tauth, json={
        "kind": "multiple", "options": [{"text": {"en": "a"}, "right": True},
                                        {"text": {"en": "b"}, "right": True},
                                        {"text": {"en": "c"}, "right": True},
                                        {"text": {"en": "d"}}]})
    assert multiple.status_code == 200, multiple.text
    assert [o["weight"] for o in multiple.json()["options"]] == [33.3333, 33.3333, 33.3333,
                                                                 -100.0]
    weighted = client.patch(url, headers=tauth, json={"options": [
        {"text": {"en": "a"}, "right": True, "weight": 70},
        {"text": {"en": "b"}, "right": True, "weight": 30}, {"text": {"en": "c"}, "weight": 0}]})
    assert [o["weight"] for o in weighted.json()["options"]] == [70.0, 30.0, 0.0]
    bad_sum = client.patch(url, headers=tauth, json={"options": [
        {"text": {"en": "a"}, "right": True, "weight": 70},
        {"text": {"en": "b"}, "right": True, "weight": 20}]})
    assert bad_sum.status_code == 422
    assert bad_sum.json()["errors"][0]["loc"] == ["weights"]
    one_right = client.patch(url, headers=tauth, json={"options": [
        {"text": {"en": "a"}, "right": True}, {"text": {"en": "b"}}]})
    assert one_right.status_code == 422 and one_right.json()["errors"][0]["loc"] == ["right"]

    true_false = client.patch(url, headers=tauth, json={"kind": "true_false", "answer": False})
    assert [(o["text"]["en"], o["right"]) for o in true_false.json()["options"]] == [
        ("True", False), ("False", True)]

    retired = client.post(f"{url}/retire", headers=tauth)
    assert retired.json()["status"] == "retired"
    listed = client.get(f"{API}/questions?status=retired", headers=tauth).json()
    assert [q["external_id"] for q in listed["items"]] == ["N-1"] and listed["total"] == 1
    assert client.post(f"{url}/reactivate", headers=tauth).json()["status"] == "active"
    assert [a.detail["external_id"] for a in audits(db, "question.created")] == ["N-1"]
    assert len(audits(db, "question.updated")) == 3
    assert len(audits(db, "question.retired")) == 1
    assert len(audits(db, "question.reactivated")) == 1


def test_question_validation_lists_every_problem(client, exam_world, tauth):
    response = client.post(f"{API}/questions", headers=tauth, json={
        "category": "a/ /b", "kind": "single", "text": {"zh_CN": "只有中文"},
        "options": [{"text": {"en": "x"}, "right": True}, {"text": {"zh_CN": "y"}, "right": True}],
        "job_category": "nope", "difficulty": "brutal"})
    assert response.status_code == 422
    locs = [e["loc"] for e in response.json()["errors"]]
    assert locs == [["category"], ["text", "en"], ["job_category"], ["difficulty"],
                    ["options", 1, "text", "en"], ["right"]]


def test_search_and_filters(client, db, exam_world, tauth):
    client.post(f"{API}/questions", json=SINGLE, headers=tauth)

    def ids(query):
        return sorted(q["external_id"] for q in client.get(f"{API}/questions?{query}",
                                                           headers=tauth).json()["items"])

    assert ids("q=methane") == ["B-1", "N-1"]
    assert ids("q=甲烷") == ["B-1", "N-1"]  # the Chinese stem of B-1, and N-1's
    assert ids("q=100%25") == []  # % is a character, not a wildcard
    assert ids("kind=multiple") == ["B-3"]
    assert ids("job_category=coal.gas_inspection") == ["N-1"]
    assert ids("difficulty=easy&category=basics") == ["N-1"]
    assert ids("job_category=general.underground") == ["B-1", "B-2", "B-3"]  # from the package
    paged = client.get(f"{API}/questions?page=2&page_size=3", headers=tauth).json()
    assert paged["total"] == 4 and [q["external_id"] for q in paged["items"]] == ["N-1"]


def test_a_retired_question_is_never_drawn(client, db, exam_world, tauth):
    new = client.post(f"{API}/questions", json=SINGLE, headers=tauth).json()
    b2 = qid(db, "B-2")
    client.post(f"{API}/questions/{b2}/retire", headers=tauth)
    db.execute(Exam.__table__.update().values(max_attempts=10))
    db.commit()
    worker_auth = f.token(client, exam_world["username"])
    drawn = set()
    for _ in range(4):
        attempt = client.post(f"/api/v1/exams/{exam_world['exam_id']}/attempts",
                              headers=worker_auth).json()
        drawn |= {q["id"] for q in attempt["questions"]}
        client.post(f"/api/v1/attempts/{attempt['id']}/submit", headers=worker_auth)
    assert drawn == {qid(db, "B-1"), qid(db, "B-3"), new["id"]}
    # Two retired: three cannot be drawn from two.
    client.post(f"{API}/questions/{new['id']}/retire", headers=tauth)
    refused = client.post(f"/api/v1/exams/{exam_world['exam_id']}/attempts",
                          headers=worker_auth)
    assert refused.status_code == 409 and refused.json()["code"] == "exam_misconfigured"
    # A past attempt keeps its copy of a retired question.
    papers = db.scalars(select(Attempt.paper)).all()
    db.commit()
    assert any(item["question_id"] == new["id"] for paper in papers for item in paper)


def test_banks_list_counts_per_category(client, db, exam_world, tauth):
    client.post(f"{API}/questions", json={**SINGLE, "category": "gas"}, headers=tauth)
    client.post(f"{API}/questions/{qid(db, 'B-1')}/retire", headers=tauth)
    banks = client.get("/api/v1/banks", headers=tauth).json()
    mini = next(b for b in banks if b["bank"] == BANK)
    assert mini["active"] == 3 and mini["retired"] == 1
    assert mini["categories"] == {"basics": {"active": 2, "retired": 1},
                                  "gas": {"active": 1, "retired": 0}}
    assert mini["title"]["en"] == "Mini course"
    page = client.get("/bank", headers=tauth)
    assert page.status_code == 200 and BANK in page.text


# --- images -------------------------------------------------------------------------------

def test_image_upload_is_checked_by_content(client, db, exam_world, tauth):
    url = f"{API}/questions/{qid(db, 'B-2')}/image"
    fake = client.put(url, headers=tauth,
                      files={"file": ("roof.png", b"<html>not an image</html>", "image/png")})
    assert fake.status_code == 422
    assert fake.json()["errors"][0]["loc"] == ["image"]
    svg = client.put(url, headers=tauth, files={"file": (
        "x.svg", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "image/svg+xml")})
    assert svg.status_code == 422
    assert db.scalar(select(Question.image_key).where(Question.id == qid(db, "B-2"))) is None
    db.commit()
    good = client.put(url, headers=tauth, files={"file": ("roof.png", packages.png(), "image/png")})
    assert good.status_code == 200
    key = good.json()["image_key"]
    assert key.endswith(".png") and good.json()["image_url"] == f"/media/{key}"
    assert client.get(f"/media/{key}", headers=tauth).content == packages.png()
    assert client.delete(url, headers=tauth).json()["image_key"] is None


def test_image_on_the_question_form(client, db, exam_world, trainer):
    csrf = f.login(client, trainer.username)
    form = {"csrf_token": csrf, "kind": "single", "category": "basics", "text_en": "Pic?",
            "option_0_en": "a", "right_0": "on", "option_1_en": "b", "rows": "6"}
    refused = client.post(f"/bank/{BANK}/questions", data=form,
                          files={"image": ("p.png", b"GIF89a not really", "image/png")})
    assert refused.status_code == 400
    assert "is not a PNG, JPEG, WebP or SVG image" in refused.text
    assert count_questions(db, BANK) == 3
    added = client.post(f"/bank/{BANK}/questions", data=form,
                        files={"image": ("p.png", packages.png(), "image/png")},
                        follow_redirects=False)
    assert added.status_code == 303
    question = db.scalar(select(Question).where(Question.external_id == "Q-4"))
    db.commit()
    assert question is not None and question.image_key.endswith(".png")
    # A taker's paper carries the image (the exam draws 3 of the 4 basics; make it draw all).
    preview = client.get(f"/bank/{BANK}/questions/{question.id}/preview")
    assert f'src="/media/{question.image_key}"' in preview.text


# --- pages ------------------------------------------------------------------------------

def test_question_pages_create_edit_preview_retire(client, db, exam_world, trainer):
    csrf = f.login(client, trainer.username)
    bank_page = client.get(f"/bank/{BANK}?category=basics&q=gas")
    assert bank_page.status_code == 200
    assert "Which gas is measured at the roof of a heading?" in bank_page.text
    assert "Methane is lighter than air." not in bank_page.text  # filtered out by q
    assert client.get(f"/bank/{BANK}/questions/new").status_code == 200
    bad = client.post(f"/bank/{BANK}/questions", data={
        "csrf_token": csrf, "kind": "multiple", "category": "basics", "text_en": "Pick",
        "option_0_en": "a", "right_0": "on", "option_2_en": "c", "rows": "6"})
    assert bad.status_code == 400
    assert "at least two right options" in bad.text
    assert 'value="c"' in bad.text  # what was typed is shown again
    created = client.post(f"/bank/{BANK}/questions", follow_redirects=False, data={
        "csrf_token": csrf, "kind": "multiple", "category": "basics", "external_id": "M-9",
        "text_en": "Pick  two\nplease", "text_zh_CN": "选两个", "option_0_en": "a",
        "right_0": "on", "option_2_en": "c", "right_2": "on", "option_3_en": "d",
        "difficulty": "hard", "rows": "6"})
    assert created.status_code == 303
    question = db.scalar(select(Question).where(Question.external_id == "M-9"))
    db.commit()
    assert question.text == {"en": "Pick two please", "zh_CN": "选两个"}
    assert [(o["text"]["en"], o["weight"]) for o in question.options] == [
        ("a", 50.0), ("c", 50.0), ("d", -100.0)]
    edit = client.get(created.headers["location"])
    assert edit.status_code == 200 and 'value="M-9"' in edit.text
    # Computed weights are not shown, so ticking other options computes them again.
    assert 'name="weight_0" type="number" value=""' in edit.text
    preview = client.get(f"/bank/{BANK}/questions/{question.id}/preview?locale=zh_CN")
    assert preview.status_code == 200 and "选两个" in preview.text
    assert "checked" not in preview.text and "weight" not in preview.text.lower()
    tf = client.get(f"/bank/{BANK}/questions/{qid(db, 'B-1')}/preview?locale=zh_CN")
    assert "甲烷比空气轻。" in tf.text
    retire = client.post(f"/bank/{BANK}/questions/{question.id}/status",
                         data={"csrf_token": csrf, "action": "retire"}, follow_redirects=False)
    assert retire.status_code == 303
    assert db.scalar(select(Question.status).where(Question.id == question.id)) == "retired"
    db.commit()
    saved = client.post(f"/bank/{BANK}/questions/{question.id}", follow_redirects=False, data={
        "csrf_token": csrf, "kind": "true_false", "category": "basics", "external_id": "M-9",
        "text_en": "Now a statement", "tf_answer": "true", "rows": "6"})
    assert saved.status_code == 303
    db.expire_all()
    question = db.get(Question, question.id)
    db.commit()
    assert question.kind == "true_false" and question.options[0]["weight"] == 100.0
    assert question.status == "retired"  # editing keeps the status
    help_page = client.get("/help/question-bank")
    assert help_page.status_code == 200 and "option_1_zh_CN" in help_page.text


# --- GIFT import and export -------------------------------------------------------------------

def _fields(question):
    # A translation equal to the English text shows the same; packages store the true/false
    # options' "True" for Chinese too, an import of the export leaves it out.
    options = [{"weight": o["weight"], "text": {locale: text for locale, text in o["text"].items()
                                                if locale == "en" or text != o["text"]["en"]}}
               for o in question.options]
    return (question.external_id, question.category, question.kind, question.text, options,
            question.feedback, question.job_category, question.difficulty, question.image_key)


def test_gift_export_then_import_into_another_bank_gives_the_same_questions(
        client, db, exam_world, tauth):
    b2 = qid(db, "B-2")
    client.patch(f"{API}/questions/{b2}", headers=tauth, json={
        "difficulty": "hard", "job_category": "coal.gas_inspection",
        "feedback": {"en": "Methane {CH4} # rises: it is light", "zh_CN": "甲烷上升"}})
    client.put(f"{API}/questions/{b2}/image", headers=tauth,
               files={"file": ("roof.png", packages.png(), "image/png")})
    client.post(f"{API}/questions", headers=tauth, json={
        **SINGLE, "external_id": "E-1", "category": "escape", "text": {"en": "a = b ~ c: {d}"},
        "options": [{"text": {"en": "#1"}, "right": True}, {"text": {"en": "\\2"}}]})
    client.post(f"{API}/questions", headers=tauth, json={
        "external_id": "M-7", "category": "basics", "kind": "multiple", "text": {"en": "Thirds"},
        "options": [{"text": {"en": "a"}, "right": True, "weight": 33.33333},
                    {"text": {"en": "b"}, "right": True, "weight": 33.33333},
                    {"text": {"en": "c"}, "right": True, "weight": 33.33334}]})
    english = client.get(f"{API}/export?locale=en", headers=tauth)
    chinese = client.get(f"{API}/export?locale=zh_CN", headers=tauth)
    assert english.status_code == 200 and english.headers["content-type"].startswith("text/plain")
    assert "$CATEGORY: basics" in english.text and "[tag:difficulty=hard]" in english.text
    assert "甲烷" in chinese.text and "~%33.33334%c" in english.text
    imported = client.post("/api/v1/banks/COPY-BANK/import", headers=tauth, files={
        "file": ("mini.gift", english.content, "text/plain"),
        "file_zh_CN": ("mini.zh_CN.gift", chinese.content, "text/plain")})
    assert imported.status_code == 200, imported.text
    assert imported.json() == {"created": 5, "updated": 0, "unchanged": 0, "dry_run": False}
    originals = {q.external_id: _fields(q) for q in db.scalars(
        select(Question).where(Question.bank == BANK))}
    copies = {q.external_id: _fields(q) for q in db.scalars(
        select(Question).where(Question.bank == "COPY-BANK"))}
    db.commit()
    assert copies == originals
    again = client.post("/api/v1/banks/COPY-BANK/import", headers=tauth, files={
        "file": ("mini.gift", english.content, "text/plain"),
        "file_zh_CN": ("mini.zh_CN.gift", chinese.content, "text/plain")})
    assert again.json() == {"created": 0, "updated": 0, "unchanged": 5, "dry_run": False}
    assert [a.detail["created"] for a in audits(db, "bank.imported")] == [5, 0]


GIFT_WITH_NUMERICAL = """// a bank with one unsupported question
$CATEGORY: gas

::G-1::Methane is lighter than air. {T}

::G-2::How many percent of methane is explosive? {#5:15}
"""


def test_gift_import_is_refused_whole_with_file_and_line(client, db, exam_world, tauth,
                                                         trainer):
    response = client.post("/api/v1/banks/NEW-BANK/import", headers=tauth, files={
        "file": ("gas.gift", GIFT_WITH_NUMERICAL.encode(), "text/plain")})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "gift_invalid"
    assert body["errors"] == [{"file": "gas.gift", "line": 6,
                               "message": "numerical questions are not supported",
                               "loc": ["gas.gift", 6],
                               "msg": "gas.gift:6: numerical questions are not supported"}]
    assert count_questions(db, "NEW-BANK") == 0
    no_category = client.post("/api/v1/banks/NEW-BANK/import", headers=tauth, files={
        "file": ("x.gift", b"::A::Air is a gas. {T}\n\n$CATEGORY: c\n\n::B::Rock {F}\n\n"
                           b"::B::Again {F}\n", "text/plain")})
    assert [(e["line"], e["message"]) for e in no_category.json()["errors"]] == [
        (1, "The question has no $CATEGORY line before it."),
        (7, "The id B is also used on line 5.")]
    bad_tag = client.post("/api/v1/banks/NEW-BANK/import", headers=tauth, files={
        "file": ("t.gift", b"$CATEGORY: c\n\n// [tag:difficulty=brutal]\n::A::Air. {T}\n",
                 "text/plain")})
    assert [(e["line"], e["message"]) for e in bad_tag.json()["errors"]] == [
        (3, "The difficulty is easy, medium or hard.")]
    assert count_questions(db, "NEW-BANK") == 0
    # The page shows the same problem and imports nothing.
    csrf = f.login(client, trainer.username)
    page = client.post("/bank/NEW-BANK/import", data={"csrf_token": csrf},
                       files={"file": ("gas.gift", GIFT_WITH_NUMERICAL.encode(), "text/plain")})
    assert page.status_code == 422
    assert "<code>gas.gift</code></td><td>6</td>" in page.text
    assert count_questions(db, "NEW-BANK") == 0


def test_gift_translation_must_match(client, db, exam_world, tauth):
    english = b"$CATEGORY: c\n\n::A::Pick {=x ~y}\n\n::B::Air. {T}\n"
    chinese = b"$CATEGORY: c\n\n::A::\xe9\x80\x89 {~x =y}\n\n::C::\xe7\xa9\xba. {T}\n"
    response = client.post("/api/v1/banks/NEW-BANK/import", headers=tauth, files={
        "file": ("q.gift", english, "text/plain"),
        "file_zh_CN": ("q.zh_CN.gift", chinese, "text/plain")})
    assert response.status_code == 422
    assert [(e["file"], e["line"], e["message"]) for e in response.json()["errors"]] == [
        ("q.zh_CN.gift", 3, "Question A differs from the English one (kind, options or right "
                            "answers)."),
        ("q.zh_CN.gift", 5, "Question C is not in the English file.")]


# --- spreadsheet import -----------------------------------------------------------------------

def _doc_csv() -> bytes:
    text = DOC.read_text(encoding="utf-8")
    start = text.index("```\nexternal_id,") + 4
    return text[start:text.index("```", start)].encode()


def test_the_documented_csv_example_imports_with_a_dry_run_first(client, db, exam_world, tauth):
    data = _doc_csv()
    dry = client.post("/api/v1/banks/DOC-BANK/import?dry_run=true", headers=tauth,
                      files={"file": ("bank.csv", data, "text/csv")})
    assert dry.json() == {"created": 3, "updated": 0, "unchanged": 0, "dry_run": True}
    assert count_questions(db, "DOC-BANK") == 0
    assert audits(db, "bank.imported") == []
    real = client.post("/api/v1/banks/DOC-BANK/import", headers=tauth,
                       files={"file": ("bank.csv", data, "text/csv")})
    assert real.json() == {"created": 3, "updated": 0, "unchanged": 0, "dry_run": False}
    questions = {q.external_id: q for q in db.scalars(
        select(Question).where(Question.bank == "DOC-BANK"))}
    db.commit()
    assert questions["GB-1"].kind == "true_false" and questions["GB-1"].options[0]["weight"] == 100
    assert questions["GB-1"].text == {"en": "Methane is lighter than air.",
                                      "zh_CN": "甲烷比空气轻。"}
    assert [o["weight"] for o in questions["GB-2"].options] == [100.0, 0.0, 0.0]
    assert [o["weight"] for o in questions["GB-3"].options] == [50.0, 50.0, -100.0]
    assert questions["GB-3"].category == "ppe" and questions["GB-3"].difficulty == "medium"
    changed = data.replace(b"Which are protective", b"Which are personal protective")
    dry2 = client.post("/api/v1/banks/DOC-BANK/import?dry_run=1", headers=tauth,
                       files={"file": ("bank.csv", changed, "text/csv")})
    assert dry2.json() == {"created": 0, "updated": 1, "unchanged": 2, "dry_run": True}


def test_spreadsheet_with_bad_rows_is_refused_with_row_column_and_message(
        client, db, exam_world, tauth):
    header = "external_id,category,kind,text_en,option_1_en,option_2_en,option_3_en,correct\n"
    rows = ("OK-1,c,single,Fine?,yes,no,,1\n"
            "BAD-1,c,single,Four?,a,b,c,4\n"
            "BAD-2,c,essay,Write,,,,1\n"
            "BAD-3,c,true_false,Air?,,,,maybe\n"
            "OK-1,,multiple,,a,,c,\"1,3\"\n")
    response = client.post("/api/v1/banks/SHEET-BANK/import", headers=tauth,
                           files={"file": ("q.csv", (header + rows).encode(), "text/csv")})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "bank_invalid"
    assert [(e["row"], e["column"], e["message"]) for e in body["errors"]] == [
        (3, "correct", "A right answer names an option that does not exist."),
        (3, "correct", "A single-choice question has exactly one right option."),
        (4, "kind", "Unknown kind essay; use single, multiple or true_false."),
        (5, "correct", "maybe is not an answer: write T or F."),
        (6, "external_id", "The id OK-1 is also used in row 2."),
        (6, "option_2_en", "Option 2 is empty but a later option is filled.")]
    assert count_questions(db, "SHEET-BANK") == 0
    workbook = write_xlsx(["External_ID", "Category", "Kind", "Text_EN", "Text_zh_CN",
                           "Option_1_EN", "Option_2_EN", "Correct", "job_category"],
                          [["X-1", "c", "single", "Pick", "选", "a", "b", "2", "coal.nope"],
                           ["X-2", "c", "true_false", "Air?", "", "", "", "F", ""]])
    xlsx = client.post("/api/v1/banks/SHEET-BANK/import", headers=tauth,
                       files={"file": ("q.xlsx", workbook, "application/octet-stream")})
    assert xlsx.status_code == 422
    assert [(e["row"], e["column"]) for e in xlsx.json()["errors"]] == [(2, "job_category")]
    fixed = write_xlsx(["external_id", "category", "kind", "text_en", "text_zh_CN",
                        "option_1_en", "option_2_en", "correct"],
                       [["X-1", "c", "single", "Pick", "选", "a", "b", "2"],
                        ["X-2", "c", "true_false", "Air?", "", "", "", "F"]])
    ok = client.post("/api/v1/banks/SHEET-BANK/import", headers=tauth,
                     files={"file": ("q.xlsx", fixed, "application/octet-stream")})
    assert ok.json() == {"created": 2, "updated": 0, "unchanged": 0, "dry_run": False}
    x2 = db.scalar(select(Question).where(Question.external_id == "X-2"))
    db.commit()
    assert [o["weight"] for o in x2.options] == [0.0, 100.0]
    unknown = client.post("/api/v1/banks/SHEET-BANK/import", headers=tauth, files={
        "file": ("q.csv", b"external_id,category,kind,text_en,correct,colour\nA,c,single,x,1,red\n",
                 "text/csv")})
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["column"] == "colour"


def test_import_page_previews_then_imports(client, db, exam_world, trainer):
    csrf = f.login(client, trainer.username)
    page = client.get(f"/bank/{BANK}/import")
    assert page.status_code == 200 and 'href="/help/question-bank"' in page.text
    preview = client.post(f"/bank/{BANK}/import", data={"csrf_token": csrf},
                          files={"file": ("bank.csv", _doc_csv(), "text/csv")})
    assert preview.status_code == 200
    assert "Nothing has been imported yet." in preview.text
    assert count_questions(db, BANK) == 3
    token = preview.text.split(f'action="/bank/{BANK}/import/')[1].split('"')[0]
    other = f.user(db, Role.TRAINER, username="trainer2")
    db.commit()
    other_client = client.__class__(client.app, base_url="http://testserver")
    other_csrf = f.login(other_client, other.username)
    stolen = other_client.post(f"/bank/{BANK}/import/{token}",
                               data={"csrf_token": other_csrf, "action": "import"})
    assert stolen.status_code == 404  # only the uploader confirms
    done = client.post(f"/bank/{BANK}/import/{token}",
                       data={"csrf_token": csrf, "action": "import"}, follow_redirects=False)
    assert done.status_code == 303
    assert count_questions(db, BANK) == 6
    assert audits(db, "bank.imported")[0].detail["created"] == 3
    again = client.post(f"/bank/{BANK}/import/{token}",
                        data={"csrf_token": csrf, "action": "import"})
    assert again.status_code == 404  # used up


# --- exam settings and extra time ----------------------------------------------------------

def test_exam_settings_validated_against_the_pool(client, db, exam_world, tauth):
    url = f"/api/v1/exams/{exam_world['exam_id']}"
    settings = client.get(f"{url}/settings", headers=tauth).json()
    assert settings["available"] == {"basics": 3}
    assert settings["blueprint"] == [{"category": "basics", "count": 3}]
    too_many = client.patch(url, headers=tauth,
                            json={"blueprint": [{"category": "basics", "count": 4}]})
    assert too_many.status_code == 422
    assert too_many.json()["errors"] == [{"loc": ["blueprint", 0, "count"], "msg": (
        "Category basics has 3 active questions; 4 cannot be drawn.")}]
    nowhere = client.patch(url, headers=tauth,
                           json={"blueprint": [{"category": "ghosts", "count": 1}],
                                 "pass_mark": 101, "available_from": "2026-06-02T09:00:00",
                                 "available_until": "2026-06-01T09:00:00"})
    assert [e["loc"] for e in nowhere.json()["errors"]] == [
        ["pass_mark"], ["blueprint", 0, "count"], ["available_until"]]
    ok = client.patch(url, headers=tauth, json={
        "duration_minutes": 45, "blueprint": [{"category": "basics", "count": 2}],
        "available_from": "2026-06-01T09:00:00", "review_mode": "score_only",
        "one_per_screen": True})
    assert ok.status_code == 200, ok.text
    body = ok.json()
    assert body["duration_minutes"] == 45 and body["one_per_screen"] is True
    assert body["available_from"].startswith("2026-06-01T01:00:00")  # 09:00 Beijing in UTC
    exam = db.get(Exam, exam_world["exam_id"])
    db.commit()
    assert exam.blueprint == [{"category": "basics", "count": 2}]
    assert exam.available_from == datetime(2026, 6, 1, 1, 0, tzinfo=UTC)
    event = audits(db, "exam.updated")[-1]
    assert event.detail["changes"]["duration_minutes"] == {"before": 30, "after": 45}
    assert set(event.detail["changes"]) == {"duration_minutes", "blueprint", "available_from",
                                            "review_mode", "one_per_screen"}


def test_exam_settings_page(client, db, exam_world, trainer):
    csrf = f.login(client, trainer.username)
    url = f"/exams/{exam_world['exam_id']}/settings"
    page = client.get(url)
    assert page.status_code == 200 and 'name="bp_0_count"' in page.text
    form = {"csrf_token": csrf, "title_en": "Exam", "duration_minutes": "40",
            "pass_mark": "70", "max_attempts": "3", "requires_completion": "on",
            "available_from": "2026-09-01T08:30", "available_until": "",
            "review_mode": "mistakes", "bp_rows": "1", "bp_0_category": "basics",
            "bp_0_count": "5"}
    refused = client.post(url, data=form)
    assert refused.status_code == 400
    assert "Category basics has 3 active questions; 5 cannot be drawn." in refused.text
    assert db.get(Exam, exam_world["exam_id"]).duration_minutes == 30
    db.commit()
    saved = client.post(url, data={**form, "bp_0_count": "3"}, follow_redirects=False)
    assert saved.status_code == 303
    db.expire_all()
    exam = db.get(Exam, exam_world["exam_id"])
    db.commit()
    assert (exam.duration_minutes, exam.pass_mark, exam.max_attempts) == (40, 70, 3)
    assert exam.available_from == datetime(2026, 9, 1, 0, 30, tzinfo=UTC)
    assert exam.available_until is None and exam.one_per_screen is False
    shown = client.get(url)
    assert 'value="2026-09-01T08:30"' in shown.text


def test_an_authored_course_gets_an_exam_from_the_bank_page(client, db, exam_world, trainer):
    from app.courses.models import Course

    course = Course(code="HAND-MADE", version=1, status="published", title={"en": "Hand made"},
                    job_category="general.underground", kind="general", credit_hours=1,
                    required_minutes=0)
    db.add(course)
    db.commit()
    csrf = f.login(client, trainer.username)
    client.post("/api/v1/banks/HAND-MADE/import", headers=f.token(client, trainer.username),
                files={"file": ("q.gift", b"$CATEGORY: c\n\n::A::Air. {T}\n\n::B::Rock. {F}\n",
                                "text/plain")})
    bank_page = client.get("/bank/HAND-MADE")
    assert f"/bank/HAND-MADE/courses/{course.id}/exam" in bank_page.text
    created = client.post(f"/bank/HAND-MADE/courses/{course.id}/exam", follow_redirects=False,
                          data={"csrf_token": csrf, "title_en": "Theory", "duration_minutes": "20",
                                "pass_mark": "50", "max_attempts": "2", "review_mode": "mistakes",
                                "bp_rows": "1", "bp_0_category": "c", "bp_0_count": "2"})
    assert created.status_code == 303, created.text
    exam = db.scalar(select(Exam).where(Exam.course_id == course.id))
    db.refresh(course)
    db.commit()
    assert exam.blueprint == [{"category": "c", "count": 2}] and exam.bank == "HAND-MADE"
    assert course.exam_spec["duration_minutes"] == 20  # a new version starts from these
    assert audits(db, "exam.created")[0].detail["course_id"] == course.id


def test_extra_time_extends_a_new_attempts_deadline(client, db, exam_world, tauth, trainer):
    url = f"/api/v1/exams/{exam_world['exam_id']}/extra-time/{exam_world['worker_id']}"
    no_reason = client.put(url, headers=tauth, json={"minutes": 15})
    assert no_reason.status_code == 422 and no_reason.json()["errors"][0]["loc"] == ["reason"]
    granted = client.put(url, headers=tauth, json={"minutes": 15, "reason": "Dyslexia"})
    assert granted.status_code == 200
    assert granted.json()["minutes"] == 15 and "*" in granted.json()["id_number"]
    worker_auth = f.token(client, exam_world["username"])
    attempt = client.post(f"/api/v1/exams/{exam_world['exam_id']}/attempts",
                          headers=worker_auth).json()
    row = db.get(Attempt, attempt["id"])
    db.commit()
    assert row.deadline - row.started_at == timedelta(minutes=30 + 15)
    event = audits(db, "exam.extra_time")[0]
    assert event.detail == {"worker_id": exam_world["worker_id"], "before": None,
                            "after": {"minutes": 15, "reason": "Dyslexia"}}
    assert event.enterprise_id == exam_world["enterprise_id"]
    listed = client.get(f"/api/v1/exams/{exam_world['exam_id']}/extra-time", headers=tauth)
    assert [(g["worker_id"], g["minutes"]) for g in listed.json()] == [
        (exam_world["worker_id"], 15)]
    # The page: find the worker by ID number, withdraw the extra time.
    csrf = f.login(client, trainer.username)
    page = client.get(f"/exams/{exam_world['exam_id']}/extra-time",
                      params={"q": exam_world["username"]})
    assert page.status_code == 200 and "Dyslexia" in page.text
    assert page.text.count(f'name="worker_id" value="{exam_world["worker_id"]}"') == 2
    withdrawn = client.post(f"/exams/{exam_world['exam_id']}/extra-time", follow_redirects=False,
                            data={"csrf_token": csrf, "worker_id": str(exam_world["worker_id"]),
                                  "minutes": "0", "reason": ""})
    assert withdrawn.status_code == 303
    assert db.scalar(select(func.count()).select_from(ExtraTime)) == 0
    db.commit()
    assert audits(db, "exam.extra_time")[-1].detail["after"] is None


# --- regrading --------------------------------------------------------------------------------

def test_regrade_after_a_wrong_key_changes_the_score_and_is_audited(client, db, exam_world,
                                                                   tauth, trainer):
    worker_auth = f.token(client, exam_world["username"])
    attempt = client.post(f"/api/v1/exams/{exam_world['exam_id']}/attempts",
                          headers=worker_auth).json()
    paper = db.get(Attempt, attempt["id"]).paper
    db.commit()
    b2 = qid(db, "B-2")
    for item in paper:
        if item["question_id"] == b2:  # "Carbon dioxide": wrong by the key, right in truth
            chosen = [o["id"] for o in item["options"] if o["index"] == 1]
        else:
            chosen = [o["id"] for o in item["options"] if o["right"]]
        client.put(f"/api/v1/attempts/{attempt['id']}/answers/{item['question_id']}",
                   json={"option_ids": chosen}, headers=worker_auth)
    graded = client.post(f"/api/v1/attempts/{attempt['id']}/submit", headers=worker_auth).json()
    assert (graded["score"], graded["passed"]) == (66.67, False)
    # A second worker has the exam open: the corrected key reaches that paper before grading.
    other = f.worker(db, db.get(Enterprise, exam_world["enterprise_id"]))
    from app.courses.models import Course
    from app.learning import service as learning
    course = db.scalar(select(Course).where(Course.code == BANK))
    admin = f.user(db, Role.ADMIN, username="root2")
    learning.enrol(db=db, course=course, workers=[other], by=admin)
    db.execute(Exam.__table__.update().values(requires_completion=False))
    db.commit()
    open_attempt = client.post(f"/api/v1/exams/{exam_world['exam_id']}/attempts",
                               headers=f.token(client, other.id_number)).json()

    response = client.post(f"{API}/questions/{b2}/regrade", headers=tauth, json={"right": [1]})
    db.expire_all()
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["right"] == [1] and body["submitted"] == 1 and body["in_progress"] == 1
    assert body["changed"] == [{"attempt_id": attempt["id"], "exam_id": exam_world["exam_id"],
                                "worker_id": exam_world["worker_id"],
                                "before": {"score": 66.67, "passed": False},
                                "after": {"score": 100.0, "passed": True}}]
    row = db.get(Attempt, attempt["id"])
    open_row = db.get(Attempt, open_attempt["id"])
    db.commit()
    assert (row.score, row.passed) == (100.0, True)
    item = next(i for i in row.paper if i["question_id"] == b2)
    assert {o["index"]: o["right"] for o in item["options"]} == {0: False, 1: True, 2: False}
    open_item = next(i for i in open_row.paper if i["question_id"] == b2)
    assert {o["index"]: o["right"] for o in open_item["options"]} == {0: False, 1: True,
                                                                       2: False}
    event = audits(db, "attempt.regraded")[0]
    assert event.object_id == str(attempt["id"])
    assert event.detail["before"] == {"score": 66.67, "passed": False}
    assert event.detail["after"] == {"score": 100.0, "passed": True}
    assert event.detail["question_id"] == b2
    assert audits(db, "question.regraded")[0].detail["changed"] == 1
    # Regrading again changes nothing more.
    again = client.post(f"{API}/questions/{b2}/regrade", headers=tauth, json={})
    assert again.json()["changed"] == [] and len(audits(db, "attempt.regraded")) == 1
    # The page: a single-choice key needs exactly one option.
    csrf = f.login(client, trainer.username)
    page = client.get(f"/bank/{BANK}/questions/{b2}/regrade")
    assert page.status_code == 200 and "1 submitted and 1 open attempts" in page.text
    bad = client.post(f"/bank/{BANK}/questions/{b2}/regrade",
                      data={"csrf_token": csrf, "right": ["0", "2"]})
    assert bad.status_code == 400
    back = client.post(f"/bank/{BANK}/questions/{b2}/regrade", follow_redirects=False,
                       data={"csrf_token": csrf, "right": "0"})
    assert back.status_code == 303
    db.commit()
    db.expire_all()
    row = db.get(Attempt, attempt["id"])
    db.commit()
    assert (row.score, row.passed) == (66.67, False)
    assert len(audits(db, "attempt.regraded")) == 2


# --- who may ------------------------------------------------------------------------------

def test_only_trainers_and_admins(client, db, exam_world):
    ent_admin = f.user(db, Role.ENTERPRISE_ADMIN, username="ent-admin",
                       enterprise_id=exam_world["enterprise_id"])
    examiner = f.user(db, Role.EXAMINER, username="examiner1")
    db.commit()
    b1 = qid(db, "B-1")
    for username in (exam_world["username"], ent_admin.username, examiner.username):
        auth = f.token(client, username)
        assert client.get("/api/v1/banks", headers=auth).status_code == 403
        assert client.get(f"{API}/questions/{b1}", headers=auth).status_code == 403
        assert client.post(f"{API}/questions/{b1}/retire", headers=auth).status_code == 403
        assert client.patch(f"/api/v1/exams/{exam_world['exam_id']}", headers=auth,
                            json={"pass_mark": 1}).status_code == 403
    assert db.scalar(select(Question.status).where(Question.id == b1)) == "active"
    db.commit()
    browser = client.__class__(client.app, base_url="http://testserver")
    f.login(browser, ent_admin.username)
    assert browser.get("/bank").status_code == 403
    assert browser.get(f"/bank/{BANK}").status_code == 403
    admin_auth = f.token(client, "root")
    assert client.get(f"{API}/questions/{b1}", headers=admin_auth).status_code == 200
    # A question is reached through its own bank only.
    assert client.get(f"/api/v1/banks/OTHER/questions/{b1}",
                      headers=admin_auth).status_code == 404
    assert client.get("/api/v1/banks/lower-case/questions",
                      headers=admin_auth).status_code == 404


MOODLE_EXPORT = """// question: 0  name: Switch category to $course$/top/Default for TEST/Gas
$CATEGORY: $course$/top/Default for TEST/Gas/Detection

// question: 12  name: Roof gas
// [id:GAS-12] [tag:easy] [tag:coal.gas_inspection]
::Roof gas::[html]<p>Which gas collects at the <b>roof</b>?</p><p>Think\\: density.</p>{
\t=[html]Methane#[html]<i>Right</i>: it is light.
\t~Carbon dioxide#It is heavy.
\t####[html]<p>CH<sub>4</sub> rises.</p>
}

// [id:GAS-13]
::Lamp::The flame lamp
    shows gas.{FALSE#It does not.#Right.}

::Select::Tick all that apply{
\t~%100%Helmet#Yes
\t~%-50%Lighter
\t~%-50%Matches
}
"""


def test_moodle_gift_imports_with_feedback_paths_ids_and_tags_and_round_trips(
        client, db, exam_world, tauth):
    response = client.post("/api/v1/banks/MOODLE/import", headers=tauth, files={
        "file": ("moodle.gift", MOODLE_EXPORT.encode(), "text/plain")})
    assert response.status_code == 200, response.text
    assert response.json()["created"] == 3
    stored = {q.external_id: q for q in db.scalars(select(Question).where(
        Question.bank == "MOODLE"))}
    assert set(stored) == {"GAS-12", "GAS-13", "Select"}
    roof, lamp, select_all = stored["GAS-12"], stored["GAS-13"], stored["Select"]
    assert roof.category == "Default for TEST/Gas/Detection"
    assert roof.text == {"en": "Which gas collects at the roof?\nThink: density."}
    assert (roof.difficulty, roof.job_category) == ("easy", "coal.gas_inspection")
    assert roof.options == [
        {"text": {"en": "Methane"}, "weight": 100.0, "feedback": {"en": "Right: it is light."}},
        {"text": {"en": "Carbon dioxide"}, "weight": 0.0, "feedback": {"en": "It is heavy."}}]
    assert roof.feedback == {"en": "CH4 rises."}
    assert lamp.text == {"en": "The flame lamp\n    shows gas."}
    assert [(o["weight"], o["feedback"]) for o in lamp.options] == [
        (0.0, {"en": "It does not."}), (100.0, {"en": "Right."})]
    assert select_all.kind == "multiple" and [o["weight"] for o in select_all.options] == [
        100.0, -50.0, -50.0]
    db.commit()
    # Export, import into another bank: the same questions, feedback and all.
    english = client.get("/api/v1/banks/MOODLE/export?locale=en", headers=tauth)
    assert "$CATEGORY: Default for TEST/Gas/Detection" in english.text
    assert "\\n    shows gas." in english.text and "{FALSE#It does not.#Right.}" in english.text
    copied = client.post("/api/v1/banks/MOODLE-COPY/import", headers=tauth, files={
        "file": ("copy.gift", english.content, "text/plain")})
    assert copied.status_code == 200, copied.text
    copies = {q.external_id: q for q in db.scalars(select(Question).where(
        Question.bank == "MOODLE-COPY"))}
    assert {k: (q.category, q.kind, q.text, q.options, q.feedback, q.difficulty,
                q.job_category) for k, q in copies.items()} == {
        k: (q.category, q.kind, q.text, q.options, q.feedback, q.difficulty, q.job_category)
        for k, q in stored.items()}
    db.commit()
    again = client.post("/api/v1/banks/MOODLE-COPY/import", headers=tauth, files={
        "file": ("copy.gift", english.content, "text/plain")})
    assert again.json()["unchanged"] == 3


@pytest.mark.parametrize(("content", "line", "message"), [
    (b"$CATEGORY: c\n\n::A::Air\x00 is a gas. {T}\n", 3, "U+0000 (NUL)"),
    (b"$CATEGORY: c\n\n// [tag:chapter-3]\n::A::Air. {T}\n", 3, "The tag chapter-3 has no "
                                                               "place in the bank"),
    (b"$CATEGORY: /c\n\n::A::Air. {T}\n", 3, "A category path cannot start or end"),
    (b"// " + b"x" * (5 * 1024 * 1024), 1, "larger than 5 MB"),
])
def test_gift_import_refuses_control_characters_unknown_tags_and_big_files(
        client, db, exam_world, tauth, content, line, message):
    response = client.post("/api/v1/banks/NEW-BANK/import", headers=tauth, files={
        "file": ("bad.gift", content, "text/plain")})
    assert response.status_code == 422
    (error,) = response.json()["errors"]
    assert error["line"] == line and message in error["message"], error
    assert count_questions(db, "NEW-BANK") == 0
