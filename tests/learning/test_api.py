"""Enrolment, heartbeat and offline-class API, with ownership across enterprises."""

from datetime import date

from sqlalchemy import func, select

from app.accounts.models import Role
from app.learning.models import Enrolment, LedgerEntry
from tests import factories as f


def test_enterprise_admin_enrols_own_staff_and_existing_are_returned(client, db, course):
    ent = f.enterprise(db)
    other = f.enterprise(db, region="150602")
    w1, w2 = f.worker(db, ent, full_name="甲"), f.worker(db, ent, full_name="乙")
    outsider = f.worker(db, other)
    f.user(db, Role.ENTERPRISE_ADMIN, username="boss", enterprise_id=ent.id)
    db.commit()
    auth = f.token(client, "boss")
    first = client.post("/api/v1/enrolments", json={"course_id": course.id,
                                                    "worker_ids": [w1.id, w2.id]}, headers=auth)
    assert first.status_code == 201
    assert [(e["worker_id"], e["status"]) for e in first.json()] == [(w1.id, "active"),
                                                                    (w2.id, "active")]
    again = client.post("/api/v1/enrolments", json={"course_id": course.id,
                                                    "worker_ids": [w1.id]}, headers=auth)
    assert again.status_code == 201 and again.json()[0]["id"] == first.json()[0]["id"]
    assert db.scalar(select(func.count()).select_from(Enrolment)) == 2
    foreign = client.post("/api/v1/enrolments", json={"course_id": course.id,
                                                      "worker_ids": [outsider.id]}, headers=auth)
    assert foreign.status_code == 404
    assert db.scalar(select(func.count()).select_from(Enrolment)) == 2


def test_worker_enrols_itself_and_reads_its_progress(client, db, course):
    ent = f.enterprise(db)
    worker = f.worker(db, ent)
    db.commit()
    auth = f.token(client, worker.id_number)
    created = client.post("/api/v1/enrolments", json={"course_id": course.id}, headers=auth)
    assert created.status_code == 201
    enrolment_id = created.json()[0]["id"]
    body = client.get(f"/api/v1/enrolments/{enrolment_id}", headers=auth).json()
    assert body == {"id": enrolment_id, "course_id": course.id, "worker_id": worker.id,
                    "status": "active", "deadline": None, "credited_minutes": 0.0,
                    "required_minutes": 4, "lessons_completed": 0, "lessons_total": 4,
                    "credited_seconds": 0}


def test_heartbeat_only_by_the_learner_and_cross_enterprise_gets_404(client, db, enrolled):
    worker, enrolment, lessons = enrolled
    other_ent = f.enterprise(db, region="150602")
    stranger = f.worker(db, other_ent)
    f.user(db, Role.ENTERPRISE_ADMIN, username="own-admin", enterprise_id=worker.enterprise_id)
    f.user(db, Role.ENTERPRISE_ADMIN, username="other-admin", enterprise_id=other_ent.id)
    db.commit()
    url = f"/api/v1/enrolments/{enrolment.id}/lessons/{lessons['text'].id}/heartbeat"
    mine = client.post(url, json={"visible": True}, headers=f.token(client, worker.id_number))
    assert mine.status_code == 200 and mine.json()["credited_seconds"] == 0
    for username in (stranger.id_number, "other-admin"):
        refused = client.post(url, json={"visible": True}, headers=f.token(client, username))
        assert refused.status_code == 404
        assert client.get(f"/api/v1/enrolments/{enrolment.id}",
                          headers=f.token(client, username)).status_code == 404
    own_admin = f.token(client, "own-admin")
    assert client.get(f"/api/v1/enrolments/{enrolment.id}", headers=own_admin).status_code == 200
    assert client.post(url, json={"visible": True}, headers=own_admin).status_code == 404
    other_course_lesson = f"/api/v1/enrolments/{enrolment.id}/lessons/999999/heartbeat"
    assert client.post(other_course_lesson, json={"visible": True},
                       headers=f.token(client, worker.id_number)).status_code == 404


def test_cookie_heartbeat_needs_the_csrf_header(client, db, enrolled):
    worker, enrolment, lessons = enrolled
    db.commit()
    csrf = f.login(client, worker.id_number)
    url = f"/api/v1/enrolments/{enrolment.id}/lessons/{lessons['text'].id}/heartbeat"
    assert client.post(url, json={"visible": True}).status_code == 403
    assert client.post(url, json={"visible": True},
                       headers={"X-CSRF-Token": csrf}).status_code == 200


def test_offline_class_credits_attendees_at_45_minutes_per_class_hour(client, db):
    ent = f.enterprise(db)
    a, b = f.worker(db, ent), f.worker(db, ent)
    f.user(db, Role.TRAINER, username="teacher")
    f.user(db, Role.ENTERPRISE_ADMIN, username="boss", enterprise_id=ent.id)
    db.commit()
    body = {"title": "Self-rescuer drill", "held_on": date.today().isoformat(),
            "class_hours": 2, "location": "Taiyuan training base", "worker_ids": [a.id, b.id]}
    assert client.post("/api/v1/offline-classes", json=body,
                       headers=f.token(client, "boss")).status_code == 403
    created = client.post("/api/v1/offline-classes", json=body, headers=f.token(client, "teacher"))
    assert created.status_code == 201
    assert created.json()["credited_minutes_each"] == 90.0
    rows = db.execute(select(LedgerEntry.worker_id, LedgerEntry.mode, LedgerEntry.seconds)
                      .order_by(LedgerEntry.worker_id)).all()
    assert [tuple(r) for r in rows] == [(a.id, "offline", 5400), (b.id, "offline", 5400)]
    bad = client.post("/api/v1/offline-classes", json={**body, "worker_ids": [a.id, 987654]},
                      headers=f.token(client, "teacher"))
    assert bad.status_code == 404
    assert db.scalar(select(func.count()).select_from(LedgerEntry)) == 2


def test_offline_class_page_flow_and_hours_page(client, db):
    ent = f.enterprise(db, name="晋安")
    worker = f.worker(db, ent, full_name="王五")
    f.user(db, Role.TRAINER, username="teacher")
    db.commit()
    csrf = f.login(client, "teacher")
    form = client.get(f"/classes/new?enterprise_id={ent.id}")
    assert "王五" in form.text
    missing = client.post("/classes/new", data={"csrf_token": csrf, "title": "", "held_on": "",
                                                "class_hours": "x"})
    assert missing.status_code == 400
    for message in ("Enter what the class was about.", "Enter the date of the class.",
                    "Enter the class hours as a number", "Choose at least one attendee."):
        assert message in missing.text
    done = client.post("/classes/new", data={
        "csrf_token": csrf, "title": "Roof support", "held_on": date.today().isoformat(),
        "class_hours": "4", "enterprise_id": str(ent.id), "worker_ids": str(worker.id)},
        follow_redirects=False)
    assert done.status_code == 303
    assert "王五" in client.get(done.headers["location"]).text
    client.post("/logout", data={"csrf_token": csrf})
    f.login(client, worker.id_number)
    hours = client.get("/learn/hours")
    assert hours.status_code == 200
    assert "4.0 class hours this year" in hours.text and "of 20 required" in hours.text
