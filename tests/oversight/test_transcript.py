"""The worker transcript (issue 10.1): content, jurisdiction, bounded queries, PDF and XLSX."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import event, select
from sqlalchemy.orm import Session, selectinload

from app import db as app_db
from app.accounts.models import Role, User
from app.certificates.models import Certificate, CertificateEvent
from app.courses.models import Course
from app.exams.models import Attempt, Exam
from app.i18n import LOCAL_TZ
from app.learning import profiles
from app.learning import service as learning
from app.learning.models import Enrolment, LedgerEntry
from app.organisations import service as organisations
from app.organisations.models import Worker
from app.oversight import transcript
from app.practicals.models import Booking, PracticalSession
from app.practicals.models import TestCentre as Centre
from tests import factories as f

THIS_YEAR = learning.local_day(datetime.now(UTC)).year
LAST_YEAR = THIS_YEAR - 1
ZH = {"Accept-Language": "zh-CN"}
EN = {"Accept-Language": "en"}


def _at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=LOCAL_TZ).astimezone(UTC)


@dataclass
class Record:
    worker: Worker
    v1: Course
    v2: Course
    certificate: Certificate


def _course(db: Session, code: str, version: int, title: str) -> tuple[Course, Exam]:
    course = Course(code=code, version=version, status="published",
                    title={"en": title, "zh_CN": title + "（中文）"},
                    job_category="general.underground", kind="general", credit_hours=20,
                    required_minutes=90)
    db.add(course)
    db.flush()
    exam = Exam(course_id=course.id, bank=code, title={"en": "Exam"}, duration_minutes=60,
                pass_mark=80, max_attempts=3, blueprint=[])
    db.add(exam)
    db.flush()
    return course, exam


def _attempt(db: Session, worker: Worker, exam: Exam, enrolment: Enrolment, number: int,
             day: date, score: float) -> Attempt:
    moment = _at(day)
    item = Attempt(exam_id=exam.id, worker_id=worker.id, enrolment_id=enrolment.id,
                   number=number, status="submitted", started_at=moment,
                   deadline=moment + timedelta(hours=1),
                   submitted_at=moment + timedelta(minutes=40), score=score,
                   passed=score >= exam.pass_mark, paper=[])
    db.add(item)
    db.flush()
    return item


def build_record(db: Session, worker: Worker, *, extra: int = 0, code: str = "GU-SAFE",
                 title: str = "Underground safety") -> Record:
    """Two versions of a course (v1 completed, v2 active), two attempts (one failed), a passed
    practical, a certificate suspended then reinstated, ledger entries in two years; `extra`
    more enrolments with one attempt each."""
    v1, exam1 = _course(db, code, 1, title)
    v2, exam2 = _course(db, code, 2, title + " 2")
    e1 = Enrolment(course_id=v1.id, worker_id=worker.id, status="completed",
                   enrolled_at=_at(date(LAST_YEAR, 3, 2)), deadline=date(LAST_YEAR, 6, 30),
                   completed_at=_at(date(LAST_YEAR, 5, 1)), credited_seconds=5400,
                   lessons_completed=3, lessons_total=3)
    e2 = Enrolment(course_id=v2.id, worker_id=worker.id, status="active",
                   enrolled_at=_at(date(THIS_YEAR, 1, 5)), deadline=date(THIS_YEAR, 12, 31),
                   credited_seconds=1800, lessons_completed=1, lessons_total=4)
    db.add_all([e1, e2])
    db.flush()
    _attempt(db, worker, exam1, e1, 1, date(LAST_YEAR, 5, 2), 55)
    _attempt(db, worker, exam1, e1, 2, date(LAST_YEAR, 5, 9), 92.5)
    for n in range(extra):
        course, exam = _course(db, f"{code}-X{n}", 1, f"Extra course {n}")
        enrolment = Enrolment(course_id=course.id, worker_id=worker.id, status="active")
        db.add(enrolment)
        db.flush()
        _attempt(db, worker, exam, enrolment, 1, date(THIS_YEAR, 1, 10), 70)
    examiner = f.user(db, Role.EXAMINER, full_name="Examiner")
    centre = Centre(name="大同实操考点", region_code="1402", kinds=["practical_test"])
    db.add(centre)
    db.flush()
    session = PracticalSession(test_centre_id=centre.id, course_id=v1.id,
                               starts_at=_at(date(LAST_YEAR, 5, 20), 9),
                               ends_at=_at(date(LAST_YEAR, 5, 20), 12), capacity=10,
                               examiner_id=examiner.id, booked_count=1)
    db.add(session)
    db.flush()
    db.add(Booking(session_id=session.id, worker_id=worker.id, status="passed",
                   attendance="present", score=88, result_by=examiner.id,
                   result_at=_at(date(LAST_YEAR, 5, 20), 11)))
    certificate = Certificate(
        number=f"CERT{worker.id:06d}", worker_id=worker.id, course_id=v1.id,
        course_code=code, title={"en": "Underground safety certificate",
                                 "zh_CN": "井下安全合格证"},
        job_category=worker.job_category, issued_on=date(LAST_YEAR, 5, 21),
        expires_on=date(LAST_YEAR + 6, 5, 21), review_due_on=date(LAST_YEAR + 3, 5, 21),
        status="valid", status_index=500000 + worker.id, issuer="Shanxi Training Centre")
    db.add(certificate)
    db.flush()
    for kind, day, reason in (("issued", date(LAST_YEAR, 5, 21), ""),
                              ("suspended", date(LAST_YEAR, 8, 1), "Under investigation"),
                              ("reinstated", date(LAST_YEAR, 9, 1), "Cleared")):
        db.add(CertificateEvent(certificate_id=certificate.id, kind=kind, at=_at(day),
                                reason=reason))
    # 90 online minutes last year; 45 online and 50 offline minutes this year.
    db.add_all([
        LedgerEntry(worker_id=worker.id, day=date(LAST_YEAR, 4, 1), course_id=v1.id,
                    mode="online", seconds=5400),
        LedgerEntry(worker_id=worker.id, day=date(THIS_YEAR, 2, 1), course_id=v2.id,
                    mode="online", seconds=2700),
        LedgerEntry(worker_id=worker.id, day=date(THIS_YEAR, 2, 2), course_id=None,
                    mode="offline", seconds=3000)])
    db.flush()
    return Record(worker=worker, v1=v1, v2=v2, certificate=certificate)


@dataclass
class World:
    record: Record
    other: Worker
    users: dict[str, User]


@pytest.fixture
def world(db: Session) -> World:
    ent_a = f.enterprise(db, region="140105", name="Alpha Shanxi Colliery")
    ent_b = f.enterprise(db, region="150602", name="Beta Ordos Mine")
    worker = f.worker(db, ent_a, full_name="王守矿", hired_on=date(LAST_YEAR, 3, 1))
    other = f.worker(db, ent_a, full_name="李同事")
    record = build_record(db, worker)
    users = {
        "admin": f.user(db, Role.ADMIN, username="root"),
        "a_admin": f.user(db, Role.ENTERPRISE_ADMIN, username="a.admin",
                          enterprise_id=ent_a.id),
        "b_admin": f.user(db, Role.ENTERPRISE_ADMIN, username="b.admin",
                          enterprise_id=ent_b.id),
        "reg_14": f.user(db, Role.REGULATOR, username="reg14", region_code="14"),
        "reg_15": f.user(db, Role.REGULATOR, username="reg15", region_code="15"),
        "worker": db.get(User, worker.user_id),
        "other": db.get(User, other.user_id),
    }
    db.commit()
    return World(record=record, other=other, users=users)


def _get(client, world: World, actor: str, suffix: str = "", headers=None):  # type: ignore[no-untyped-def]
    auth = f.token(client, world.users[actor].username)
    return client.get(f"/api/v1/workers/{world.record.worker.id}/transcript{suffix}",
                      headers={**auth, **(headers or EN)})


# --- content ------------------------------------------------------------------------------

def test_transcript_content(client, db, world):
    body = _get(client, world, "worker").json()
    assert set(body) == {"worker", "enrolments", "attempts", "practicals", "certificates",
                         "hours"}
    w = world.record.worker
    assert body["worker"]["full_name"] == "王守矿"
    assert body["worker"]["id_number"] == w.id_number
    assert body["worker"]["id_number_masked"] is False
    assert body["worker"]["job_category"] == "general.underground"
    assert body["worker"]["enterprise_name"] == "Alpha Shanxi Colliery"

    enrolments = {e["version"]: e for e in body["enrolments"]}
    assert set(enrolments) == {1, 2}
    assert enrolments[1]["course_code"] == enrolments[2]["course_code"] == "GU-SAFE"
    assert enrolments[1]["status"] == "completed"
    assert enrolments[1]["credited_minutes"] == 90 and enrolments[1]["required_minutes"] == 90
    assert enrolments[2]["status"] == "active"
    assert enrolments[2]["credited_minutes"] == 30
    assert enrolments[2]["deadline"] == f"{THIS_YEAR}-12-31"

    attempts = sorted(body["attempts"], key=lambda a: a["number"])
    assert [(a["number"], a["score"], a["passed"]) for a in attempts] == [
        (1, 55, False), (2, 92.5, True)]
    assert attempts[0]["pass_mark"] == 80 and attempts[0]["version"] == 1

    [practical] = body["practicals"]
    assert practical["status"] == "passed" and practical["score"] == 88
    assert practical["attendance"] == "present" and practical["test_centre"] == "大同实操考点"

    [cert] = body["certificates"]
    assert cert["number"] == world.record.certificate.number
    assert cert["status"] == "valid"
    assert [e["kind"] for e in cert["history"]] == ["issued", "suspended", "reinstated"]
    assert cert["history"][1]["reason"] == "Under investigation"

    hours = {h["year"]: h for h in body["hours"]}
    assert list(hours) == [LAST_YEAR, THIS_YEAR]
    # Hired last year: last year owes the initial hours, this year the annual ones.
    assert hours[LAST_YEAR]["requirement"] == "initial"
    assert hours[THIS_YEAR]["requirement"] == "annual"
    assert hours[LAST_YEAR]["required_hours"] == 72
    assert hours[THIS_YEAR]["required_hours"] == 20
    # 90 online minutes last year, at the profile's online class-hour length.
    minutes = profiles.active_profile(db=db).data["class_hour_minutes"]
    assert hours[LAST_YEAR]["credited_hours"] == round(90 / minutes["online"], 2)
    assert hours[THIS_YEAR]["credited_hours"] == round(
        45 / minutes["online"] + 50 / minutes["offline"], 2)
    assert hours[LAST_YEAR]["met"] is False


def test_hours_agree_with_the_learning_summary(db, world):
    worker = organisations.get_worker_or_404(db=db, worker_id=world.record.worker.id)
    item = transcript.build(db=db, worker=worker, viewer=world.users["admin"])
    for line in item.hours:
        summary = learning.hours_summary(db=db, worker=worker, year=line.year)
        assert line.credited_hours == summary.class_hours
        assert line.online_seconds == summary.online_seconds
        assert line.offline_seconds == summary.offline_seconds
        expected = summary.required_initial if line.year == worker.hired_on.year \
            else summary.required_annual
        assert line.required_hours == expected


def test_years_run_from_the_first_ledger_entry_to_this_year(db):
    ent = f.enterprise(db)
    worker = f.worker(db, ent, hired_on=date(1998, 7, 1))
    db.add(LedgerEntry(worker_id=worker.id, day=date(THIS_YEAR - 3, 6, 1), mode="online",
                       seconds=2700))
    db.commit()
    worker = organisations.get_worker_or_404(db=db, worker_id=worker.id)
    item = transcript.build(db=db, worker=worker, viewer=db.get(User, worker.user_id))
    assert [h.year for h in item.hours] == list(range(THIS_YEAR - 3, THIS_YEAR + 1))
    assert all(h.requirement == "annual" for h in item.hours)
    minutes = profiles.active_profile(db=db).data["class_hour_minutes"]["online"]
    assert item.hours[0].credited_hours == round(45 / minutes, 2)
    assert [h.credited_hours for h in item.hours[1:]] == [0, 0, 0]


def test_a_new_hire_without_study_owes_the_initial_hours_this_year(db):
    ent = f.enterprise(db)
    worker = f.worker(db, ent, hired_on=date(THIS_YEAR, 1, 2))
    db.commit()
    worker = organisations.get_worker_or_404(db=db, worker_id=worker.id)
    item = transcript.build(db=db, worker=worker, viewer=db.get(User, worker.user_id))
    assert [(h.year, h.requirement, h.credited_hours) for h in item.hours] == [
        (THIS_YEAR, "initial", 0)]
    assert item.enrolments == item.attempts == item.practicals == item.certificates == []


def test_requirement_of_a_year():
    hired = date(2024, 9, 1)
    assert transcript.requirement_of(year=2023, hired_on=hired) == "none"
    assert transcript.requirement_of(year=2024, hired_on=hired) == "initial"
    assert transcript.requirement_of(year=2025, hired_on=hired) == "annual"


def test_statements_do_not_grow_with_the_record(db):
    ent = f.enterprise(db)
    f.user(db, Role.ADMIN, username="root")
    small = f.worker(db, ent, full_name="小记录", hired_on=date(LAST_YEAR, 3, 1))
    large = f.worker(db, ent, full_name="大记录", hired_on=date(LAST_YEAR, 3, 1))
    build_record(db, small, code="S")
    build_record(db, large, code="L", extra=19)
    db.commit()
    viewer = db.scalar(select(User).where(User.username == "root")
                       .options(selectinload(User.roles)))
    engine = app_db.get_engine()
    profiles.cached_profile(db=db)  # warm the per-process cache of the rule profile
    counts = []
    for worker_id in (small.id, large.id):
        statements: list[str] = []

        def count(conn, cursor, statement, *args, _seen=statements):  # type: ignore[no-untyped-def]
            _seen.append(statement)

        worker = organisations.get_worker_or_404(db=db, worker_id=worker_id)
        event.listen(engine, "before_cursor_execute", count)
        try:
            item = transcript.build(db=db, worker=worker, viewer=viewer)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        counts.append(len(statements))
        assert len(item.enrolments) in (2, 21)
    assert counts[0] == counts[1] <= 7, counts


# --- jurisdiction -------------------------------------------------------------------------

@pytest.mark.parametrize("actor", ["b_admin", "reg_15", "other"])
@pytest.mark.parametrize("suffix", ["", ".pdf", ".xlsx"])
def test_outsiders_get_404(client, world, actor, suffix):
    response = _get(client, world, actor, suffix)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert "王守矿" not in response.text


@pytest.mark.parametrize("actor", ["worker", "a_admin", "reg_14", "admin"])
def test_insiders_get_the_transcript(client, world, actor):
    response = _get(client, world, actor)
    assert response.status_code == 200
    assert response.json()["worker"]["full_name"] == "王守矿"


def test_id_number_is_masked_except_for_the_worker_and_admins(client, world):
    full = world.record.worker.id_number
    for actor, masked in (("worker", False), ("admin", False), ("a_admin", True),
                          ("reg_14", True)):
        worker = _get(client, world, actor).json()["worker"]
        assert worker["id_number_masked"] is masked, actor
        if masked:
            assert worker["id_number"] == full[:6] + "*" * 8 + full[-4:]
        else:
            assert worker["id_number"] == full


def test_missing_worker_answers_like_a_foreign_one(client, world):
    auth = f.token(client, "reg15")
    foreign = client.get(f"/api/v1/workers/{world.record.worker.id}/transcript", headers=auth)
    missing = client.get("/api/v1/workers/99999999/transcript", headers=auth)
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json() == missing.json()


# --- page ---------------------------------------------------------------------------------

def test_page_in_both_languages(client, world):
    f.login(client, "reg14")
    url = f"/workers/{world.record.worker.id}/transcript"
    english = client.get(url, headers=EN)
    assert english.status_code == 200
    assert "Training transcript" in english.text and "Underground safety" in english.text
    assert "Under investigation" in english.text
    assert f"/api/v1/workers/{world.record.worker.id}/transcript.pdf" in english.text
    assert f"/api/v1/workers/{world.record.worker.id}/transcript.xlsx" in english.text
    assert world.record.worker.id_number not in english.text  # masked for a regulator
    chinese = client.get(url, headers=ZH)
    assert "培训档案" in chinese.text and "Underground safety（中文）" in chinese.text
    assert "初训" in chinese.text and "年度复训" in chinese.text


def test_page_refuses_outsiders_with_404(client, world):
    f.login(client, "b.admin")
    response = client.get(f"/workers/{world.record.worker.id}/transcript")
    assert response.status_code == 404
    assert "王守矿" not in response.text


def test_my_transcript_and_the_links(client, world):
    worker = world.record.worker
    f.login(client, world.users["worker"].username)
    response = client.get("/transcript", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/workers/{worker.id}/transcript"
    assert 'href="/transcript"' in client.get("/learn/hours").text
    page = client.get(f"/workers/{worker.id}", headers=EN).text
    assert f'href="/workers/{worker.id}/transcript"' in page
    own = client.get(f"/workers/{worker.id}/transcript").text
    assert worker.id_number in own  # the worker sees its own number whole


def test_my_transcript_without_a_worker_profile_is_404(client, world):
    f.login(client, "reg14")
    assert client.get("/transcript").status_code == 404


# --- downloads ----------------------------------------------------------------------------

def _pdf_text(data: bytes) -> tuple[str, int]:
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages), len(reader.pages)


def test_pdf_in_english(client, world):
    response = _get(client, world, "a_admin", ".pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["cache-control"] == "private, no-store"
    assert "attachment" in response.headers["content-disposition"]
    text, _pages = _pdf_text(response.content)
    assert "\x00" not in text
    box = PdfReader(io.BytesIO(response.content)).pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4 portrait
    for expected in ("Training transcript", "Pithead mine safety training platform", "王守矿",
                     "Underground safety", "Underground safety 2", "92.5", "55",
                     world.record.certificate.number, "Suspended", "Reinstated",
                     "Under investigation", "大同实操考点", "Initial training",
                     "Annual refresher", str(LAST_YEAR), str(THIS_YEAR)):
        assert expected in text, expected
    full = world.record.worker.id_number
    assert full not in text and full[:6] + "*" * 8 + full[-4:] in text


def test_pdf_in_chinese_breaks_tables_across_pages(client, db, world):
    worker = db.get(Worker, world.record.worker.id)
    for n in range(40):
        course, exam = _course(db, f"MORE-{n}", 1, f"附加课程{n}")
        enrolment = Enrolment(course_id=course.id, worker_id=worker.id, status="active")
        db.add(enrolment)
        db.flush()
        _attempt(db, worker, exam, enrolment, 1, date(THIS_YEAR, 2, 1), 81)
    db.commit()
    response = _get(client, world, "worker", ".pdf", headers=ZH)
    assert response.status_code == 200
    text, pages = _pdf_text(response.content)
    assert pages >= 3
    assert "\x00" not in text
    for expected in ("培训档案", "王守矿", "附加课程0", "附加课程39",
                     "Underground safety（中文）", world.record.worker.id_number, "初训"):
        assert expected in text, expected
    reader = PdfReader(io.BytesIO(response.content))
    for page in reader.pages:  # the running header on every page
        assert "Pithead 矿山安全培训平台" in page.extract_text()


def test_xlsx_sheets_and_headers(client, world):
    response = _get(client, world, "reg_14", ".xlsx", headers=ZH)
    assert response.status_code == 200
    assert "spreadsheetml" in response.headers["content-type"]
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["基本信息", "报名记录", "理论考试次数", "实操考试", "证书",
                               "证书历史", "学时"]
    profile = {row[0]: row[1] for row in book["基本信息"].iter_rows(min_row=2, values_only=True)}
    assert profile["姓名"] == "王守矿"
    assert "*" in profile["身份证号"]
    enrolments = list(book["报名记录"].iter_rows(values_only=True))
    assert enrolments[0][0] == "课程"
    assert {row[2] for row in enrolments[1:]} == {1, 2}
    attempts = list(book["理论考试次数"].iter_rows(min_row=2, values_only=True))
    assert sorted(row[6] for row in attempts) == [55, 92.5]
    history = list(book["证书历史"].iter_rows(min_row=2, values_only=True))
    assert [row[2] for row in history] == ["已发证", "已暂扣", "已恢复"]
    hours = list(book["学时"].iter_rows(min_row=2, values_only=True))
    assert [row[0] for row in hours] == [LAST_YEAR, THIS_YEAR]


def test_xlsx_neutralises_formulas(client, db, world):
    course, _exam = _course(db, "EVIL", 1, "=HYPERLINK(\"http://x\")")
    db.add(Enrolment(course_id=course.id, worker_id=world.record.worker.id, status="active"))
    db.commit()
    response = _get(client, world, "admin", ".xlsx")
    book = load_workbook(io.BytesIO(response.content))
    titles = [row[0] for row in book["Enrolments"].iter_rows(min_row=2, values_only=True)]
    assert "'=HYPERLINK(\"http://x\")" in titles
    assert book["Profile"]["B3"].value == world.record.worker.id_number  # whole for an admin


def test_a_malformed_worker_id_is_a_422(client, world):
    auth = f.token(client, "root")
    for path in ("/api/v1/workers/abc/transcript", "/api/v1/workers/abc/transcript.pdf",
                 "/api/v1/workers/99999999999999999999/transcript"):
        response = client.get(path, headers=auth)
        assert response.status_code == 422, path
        assert response.json()["code"] == "validation_error"
