"""The whole chain for a whole workforce, in one database: 54 workers of three enterprises in two
provinces are enrolled by their own enterprise admins, study (credited by the heartbeat service
with an explicit clock), sit the theory exam (some fail and retake), are booked onto practical
sessions, examined, certified, verified by anyone, and suspended or revoked by the regulator of
their own region only.

Most tests create one worker; this one exists because the second certificate of an installation
once answered 500 (a status-list index allocated twice) and nothing noticed."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from app.accounts.models import Role
from app.certificates import credentials
from app.certificates.models import Certificate
from app.courses import service as courses
from app.courses.package import load_package
from app.db import utcnow
from app.exams.models import Attempt, Exam
from app.learning import service as learning
from app.learning.models import Enrolment, LedgerEntry
from app.practicals.models import PracticalSession
from tests import factories as f
from tests import packages
from tests.certificates.test_credentials import assert_conforms

WORKERS_PER_ENTERPRISE = 18
ENTERPRISES = (("140105", "Taiyuan Colliery"), ("1402", "Datong Colliery"),
               ("150602", "Ordos Mining"))
# Workers (index within their enterprise) who fail the first theory attempt, and who fail the
# practical test: neither kind gets a certificate in this run.
FAIL_THEORY_ONCE = {3, 11}
FAIL_PRACTICAL = {5}
T0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)  # 09:00 in Beijing


def _course(db, tmp_path):
    """A special-operations style course: two text lessons, 4 minutes of study, a theory exam
    of 3 questions, a practical test, and a certificate."""
    data = packages.course_yaml(
        code="WF-GAS", title={"en": "Gas inspection (workforce)", "zh_CN": "瓦斯检查（全员）"},
        practical_required=True,
        certificate={"title": {"en": "Special operations certificate: gas inspection",
                               "zh_CN": "特种作业操作证：瓦斯检查"},
                     "validity_years": 6, "review_years": 3},
        modules=[{"title": {"en": "Gas", "zh_CN": "瓦斯"}, "lessons": [
            {"kind": "text", "file": "lessons/01-intro.md", "minutes": 2},
            {"kind": "text", "file": "lessons/01-intro.md", "minutes": 2,
             "title": {"en": "Again", "zh_CN": "再读"}}]}])
    outcome = courses.import_package(db=db, package=load_package(
        packages.write_package(tmp_path / "wf", data=data)), by=None)
    course = courses.get_course_or_404(db=db, course_id=outcome.course_id, structure=True)
    exam = db.scalar(select(Exam).where(Exam.course_id == course.id))
    return course, exam


def _study(db, enrolment_id: int, lessons, start: datetime) -> None:
    """Study every lesson, one beat a minute with input, as the lesson page would."""
    enrolment = learning.get_enrolment_or_404(db=db, enrolment_id=enrolment_id)
    moment = start
    for lesson in lessons:
        for _ in range(lesson.minutes + 1):
            learning.heartbeat(db=db, enrolment=enrolment, lesson=lesson, visible=True,
                               interacted=True, now=moment)
            moment += timedelta(seconds=60)
    db.commit()


def _sit(client, db, exam_id: int, auth, *, right: bool) -> dict:
    attempt = client.post(f"/api/v1/exams/{exam_id}/attempts", headers=auth)
    assert attempt.status_code == 201, attempt.text
    attempt_id = attempt.json()["id"]
    paper = db.get(Attempt, attempt_id).paper
    db.commit()
    for item in paper:
        if right:
            chosen = [o["id"] for o in item["options"] if o["right"]]
        else:
            chosen = [next(o["id"] for o in item["options"] if not o["right"])]
        saved = client.put(f"/api/v1/attempts/{attempt_id}/answers/{item['question_id']}",
                           json={"option_ids": chosen}, headers=auth)
        assert saved.status_code == 200, saved.text
    result = client.post(f"/api/v1/attempts/{attempt_id}/submit", headers=auth)
    assert result.status_code == 200, result.text
    return result.json()


@pytest.fixture
def workforce(db, tmp_path, client):
    course, exam = _course(db, tmp_path)
    lessons = [lesson for module in course.modules for lesson in module.lessons]
    f.user(db, Role.ADMIN, username="root")
    examiner = f.user(db, Role.EXAMINER, username="examiner.wf")
    regulators = {"14": f.user(db, Role.REGULATOR, username="reg.14", region_code="14"),
                  "15": f.user(db, Role.REGULATOR, username="reg.15", region_code="15")}
    enterprises = []
    for region, name in ENTERPRISES:
        ent = f.enterprise(db, region=region, name=name)
        admin = f.user(db, Role.ENTERPRISE_ADMIN, username=f"admin.{region}",
                       enterprise_id=ent.id)
        staff = [f.worker(db, ent, full_name=f"{name[:2]}工{i:02d}",
                          job_category="coal.gas_inspection")
                 for i in range(WORKERS_PER_ENTERPRISE)]
        enterprises.append({"enterprise": ent, "admin": admin, "staff": staff})
    db.commit()
    return {"course": course, "exam": exam, "lessons": lessons, "examiner": examiner,
            "regulators": regulators, "enterprises": enterprises}


def test_the_chain_certifies_a_workforce_of_three_enterprises(db, client, workforce):
    course, exam = workforce["course"], workforce["exam"]
    root = f.token(client, "root")
    examiner = f.token(client, "examiner.wf")

    # Enrolment: each enterprise admin enrols its own staff, and cannot enrol another's.
    enrolment_ids = {}
    for n, group in enumerate(workforce["enterprises"]):
        auth = f.token(client, group["admin"].username)
        other = workforce["enterprises"][(n + 1) % 3]["staff"][0]
        refused = client.post("/api/v1/enrolments", headers=auth,
                              json={"course_id": course.id, "worker_ids": [other.id]})
        assert refused.status_code in (403, 404), refused.text
        response = client.post("/api/v1/enrolments", headers=auth, json={
            "course_id": course.id, "worker_ids": [w.id for w in group["staff"]]})
        assert response.status_code == 201, response.text
        assert len(response.json()) == WORKERS_PER_ENTERPRISE
        enrolment_ids.update({row["worker_id"]: row["id"] for row in response.json()})
        group["auth"] = auth
    assert len(set(enrolment_ids.values())) == 3 * WORKERS_PER_ENTERPRISE

    # Study: every worker completes the course; the ledger holds exactly the credited time.
    for k, enrolment_id in enumerate(enrolment_ids.values()):
        _study(db, enrolment_id, workforce["lessons"], T0 + timedelta(hours=k))
    statuses = db.scalars(select(Enrolment.status).where(
        Enrolment.id.in_(enrolment_ids.values()))).all()
    assert Counter(statuses) == {"completed": 3 * WORKERS_PER_ENTERPRISE}
    credited = sum(db.scalars(select(Enrolment.credited_seconds)).all())
    assert credited == sum(db.scalars(select(LedgerEntry.seconds)).all()) > 0
    db.commit()

    # Theory: everyone sits the exam; some fail once and pass the retake.
    tokens = {}
    for group in workforce["enterprises"]:
        for i, worker in enumerate(group["staff"]):
            auth = tokens[worker.id] = f.token(client, worker.id_number)
            if i in FAIL_THEORY_ONCE:
                assert _sit(client, db, exam.id, auth, right=False)["passed"] is False
            assert _sit(client, db, exam.id, auth, right=True)["passed"] is True

    # Practical: the examiner opens three sessions; each enterprise admin books its staff.
    centre = client.post("/api/v1/test-centres", headers=root, json={
        "name": "Taiyuan practical base", "region_code": "1401", "address": "1 Mine Road",
        "kinds": ["practical_test"]}).json()
    start = utcnow().replace(microsecond=0) + timedelta(days=3)
    sessions = []
    for n in range(3):
        created = client.post("/api/v1/practical-sessions", headers=examiner, json={
            "test_centre_id": centre["id"], "course_id": course.id,
            "starts_at": (start + timedelta(days=n)).isoformat(),
            "ends_at": (start + timedelta(days=n, hours=4)).isoformat(),
            "capacity": WORKERS_PER_ENTERPRISE, "examiner_id": workforce["examiner"].id})
        assert created.status_code == 201, created.text
        sessions.append(created.json()["id"])
    bookings = {}
    for n, group in enumerate(workforce["enterprises"]):
        for worker in group["staff"]:
            booked = client.post(f"/api/v1/practical-sessions/{sessions[n]}/bookings",
                                 headers=group["auth"], json={"worker_id": worker.id})
            assert booked.status_code == 201, booked.text
            assert booked.json()["status"] == "booked"
            bookings[worker.id] = booked.json()["id"]
    some_booking = next(iter(bookings.values()))
    early = client.post(f"/api/v1/bookings/{some_booking}/result", headers=examiner,
                        json={"passed": True, "score": 90})
    assert early.status_code == 409 and early.json()["code"] == "session_not_started"
    assert db.scalar(select(Certificate.id)) is None

    # The sessions take place (time passes), and the examiner records every result.
    db.execute(update(PracticalSession).where(PracticalSession.id.in_(sessions)).values(
        starts_at=utcnow() - timedelta(hours=5), ends_at=utcnow() - timedelta(hours=1)))
    db.commit()
    expected_holders = set()
    for group in workforce["enterprises"]:
        for i, worker in enumerate(group["staff"]):
            passed = i not in FAIL_PRACTICAL
            result = client.post(f"/api/v1/bookings/{bookings[worker.id]}/result",
                                 headers=examiner,
                                 json={"passed": passed, "score": 90 if passed else 40})
            assert result.status_code == 200, result.text
            assert result.json()["status"] == ("passed" if passed else "failed")
            if passed:
                expected_holders.add(worker.id)

    # Certificates: exactly one per passing worker, distinct numbers and status-list entries.
    certificates = db.execute(select(Certificate.worker_id, Certificate.number,
                                     Certificate.status_index)).all()
    assert {row.worker_id for row in certificates} == expected_holders
    assert len(certificates) == len(expected_holders) >= 50
    assert len({row.number for row in certificates}) == len(certificates)
    assert len({row.status_index for row in certificates}) == len(certificates)
    number_of = {row.worker_id: row.number for row in certificates}
    db.commit()

    # Anyone verifies; the holder, its enterprise and its regulator list it, others do not.
    for worker_id in list(expected_holders)[:10]:
        public = client.get(f"/api/v1/certificates/{number_of[worker_id]}/verification")
        assert public.status_code == 200 and public.json()["status"] == "valid"
    taiyuan, datong, ordos = workforce["enterprises"]
    holder = taiyuan["staff"][0]
    listed = client.get(f"/api/v1/workers/{holder.id}/certificates", headers=taiyuan["auth"])
    assert [c["number"] for c in listed.json()["items"]] == [number_of[holder.id]]
    reg14 = f.token(client, "reg.14")
    reg15 = f.token(client, "reg.15")
    assert client.get(f"/api/v1/workers/{holder.id}/certificates",
                      headers=datong["auth"]).status_code == 404
    assert client.get(f"/api/v1/workers/{holder.id}/certificates",
                      headers=reg15).status_code == 404
    assert client.get(f"/api/v1/workers/{holder.id}/certificates",
                      headers=reg14).status_code == 200

    # Decisions: each regulator acts in its own region only.
    suspended = number_of[taiyuan["staff"][1].id]
    revoked = number_of[datong["staff"][2].id]
    mongolian = number_of[ordos["staff"][4].id]
    decision = {"reason": "Worked without a gas detector"}
    assert client.post(f"/api/v1/certificates/{suspended}/suspend", headers=reg14,
                       json=decision).json()["status"] == "suspended"
    assert client.post(f"/api/v1/certificates/{revoked}/revoke", headers=reg14,
                       json=decision).json()["status"] == "revoked"
    assert client.post(f"/api/v1/certificates/{mongolian}/suspend", headers=reg14,
                       json=decision).status_code == 404
    assert client.post(f"/api/v1/certificates/{mongolian}/revoke", headers=reg15,
                       json=decision).json()["status"] == "revoked"
    assert client.post(f"/api/v1/certificates/{revoked}/reinstate", headers=reg14,
                       json=decision).status_code == 409

    answers = {number: client.get(f"/api/v1/certificates/{number}/verification").json()
               for number in number_of.values()}
    assert Counter(a["status"] for a in answers.values()) == {
        "valid": len(number_of) - 3, "suspended": 1, "revoked": 2}
    assert answers[suspended]["status"] == "suspended"
    assert answers[revoked]["status"] == answers[mongolian]["status"] == "revoked"

    # Credentials: each holder's Open Badges credential conforms to 1EdTech's schema, and a
    # verifier with only the JWKS and the signed status list tells the decisions apart.
    jwks = client.get("/.well-known/jwks.json").json()
    status_url = None
    verdicts = {}
    for worker_id in [taiyuan["staff"][0].id, taiyuan["staff"][1].id, datong["staff"][2].id,
                      ordos["staff"][4].id, ordos["staff"][7].id]:
        worker = next(w for g in workforce["enterprises"] for w in g["staff"] if w.id == worker_id)
        token = client.get(f"/api/v1/certificates/{number_of[worker_id]}/credential",
                           headers=tokens[worker_id])
        assert token.status_code == 200, token.text
        payload = assert_conforms(token.text)
        assert worker.id_number not in token.text
        status_url = payload["credentialStatus"]["statusListCredential"]
        signed_list = client.get(status_url.replace("http://testserver", ""))
        assert signed_list.status_code == 200 and signed_list.text.count(".") == 2
        verdicts[worker_id] = credentials.verify_credential(token.text, jwks, [signed_list.text])
    assert verdicts[taiyuan["staff"][0].id].valid and verdicts[ordos["staff"][7].id].valid
    assert "suspended" in verdicts[taiyuan["staff"][1].id].reasons
    assert "revoked" in verdicts[datong["staff"][2].id].reasons
    assert "revoked" in verdicts[ordos["staff"][4].id].reasons
