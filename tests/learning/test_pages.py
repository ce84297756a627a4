"""Catalogue, enrolment from the roster, the lesson player and enterprise lists, as pages."""

from datetime import date, timedelta

from sqlalchemy import select

from app.accounts.models import Role
from app.learning.models import Enrolment
from tests import factories as f


def test_catalogue_filters_and_worker_self_enrols(client, db, course):
    worker = f.worker(db, f.enterprise(db))
    db.commit()
    csrf = f.login(client, worker.id_number)
    page = client.get("/courses?job_category=general.underground&kind=general")
    assert "Mini course" in page.text
    assert "Mini course" not in client.get("/courses?kind=initial").text
    outline = client.get(f"/courses/{course.id}")
    assert "Enrol in this course" in outline.text and "Introduction" in outline.text
    done = client.post(f"/courses/{course.id}/enrol", data={"csrf_token": csrf},
                       follow_redirects=False)
    assert done.status_code == 303
    enrolment = db.scalar(select(Enrolment).where(Enrolment.worker_id == worker.id))
    assert done.headers["location"] == f"/learn/{enrolment.id}"
    mine = client.get("/learn")
    assert "Mini course" in mine.text and "0 of 4 lessons" in mine.text


def test_chinese_interface_shows_chinese_course_and_lesson(client, db, enrolled):
    worker, enrolment, lessons = enrolled
    db.commit()
    f.login(client, worker.id_number)
    headers = {"Accept-Language": "zh-CN"}
    outline = client.get(f"/learn/{enrolment.id}", headers=headers)
    assert "迷你课程" in outline.text and "介绍" in outline.text
    lesson = client.get(f"/learn/{enrolment.id}/lessons/{lessons['text'].id}", headers=headers)
    assert "注意安全。" in lesson.text


def test_lesson_player_renders_every_kind_and_sanitizes(client, db, enrolled):
    worker, enrolment, lessons = enrolled
    db.commit()
    f.login(client, worker.id_number)
    base = f"/learn/{enrolment.id}/lessons/"
    text = client.get(base + str(lessons["text"].id))
    assert text.status_code == 200
    assert "<script>alert(1)</script>" not in text.text and "&lt;script&gt;" in text.text
    beat_url = f"/api/v1/enrolments/{enrolment.id}/lessons/{lessons['text'].id}/heartbeat"
    assert f'data-beat-url="{beat_url}"' in text.text
    assert '<img src="/media/' in text.text
    video = client.get(base + str(lessons["video"].id))
    assert '<video id="lesson-video"' in video.text
    document = client.get(base + str(lessons["document"].id))
    assert '<iframe class="document-frame" src="/media/' in document.text
    panorama = client.get(base + str(lessons["panorama"].id))
    assert 'id="panorama"' in panorama.text


def test_media_is_served_with_byte_ranges_to_signed_in_users_only(client, db, enrolled):
    worker, _enrolment, lessons = enrolled
    db.commit()
    url = "/media/" + lessons["video"].media_key
    assert client.get(url, follow_redirects=False).status_code == 303
    f.login(client, worker.id_number)
    whole = client.get(url)
    assert whole.status_code == 200 and whole.headers["content-type"] == "video/mp4"
    part = client.get(url, headers={"Range": "bytes=4-11"})
    assert part.status_code == 206 and part.content == b"ftypisom"
    assert client.get("/media/../../etc/passwd").status_code == 404
    assert client.get("/media/" + "0" * 40 + ".mp4").status_code == 404


def test_enterprise_admin_enrols_a_job_category_with_a_deadline(client, db, course):
    ent = f.enterprise(db)
    miners = [f.worker(db, ent, job_category="general.underground") for _ in range(3)]
    f.worker(db, ent, job_category="coal.blasting")
    f.user(db, Role.ENTERPRISE_ADMIN, username="boss", enterprise_id=ent.id)
    db.commit()
    csrf = f.login(client, "boss")
    roster = client.get(f"/enterprises/{ent.id}?enrol={course.id}")
    assert "Enrol staff in a course" in roster.text
    deadline = (date.today() + timedelta(days=30)).isoformat()
    done = client.post(f"/enterprises/{ent.id}/enrol", data={
        "csrf_token": csrf, "course_id": course.id, "job_category": "general.underground",
        "deadline": deadline}, follow_redirects=False)
    assert done.status_code == 303
    rows = db.execute(select(Enrolment.worker_id, Enrolment.deadline)).all()
    assert sorted(w for w, _d in rows) == sorted(w.id for w in miners)
    assert {str(d) for _w, d in rows} == {deadline}
    listing = client.get(f"/enterprises/{ent.id}/enrolments")
    assert "3 enrolments" in listing.text and "Mini course" in listing.text


def test_enterprise_admin_enrols_ticked_workers_and_not_foreign_ones(client, db, course):
    ent, other = f.enterprise(db), f.enterprise(db, region="150602")
    mine, foreign = f.worker(db, ent), f.worker(db, other)
    f.user(db, Role.ENTERPRISE_ADMIN, username="boss", enterprise_id=ent.id)
    db.commit()
    ent_id, other_id, mine_id, foreign_id, course_id = ent.id, other.id, mine.id, foreign.id, \
        course.id
    csrf = f.login(client, "boss")
    client.post(f"/enterprises/{ent_id}/enrol", data={
        "csrf_token": csrf, "course_id": course_id, "worker_ids": [mine_id, foreign_id]})
    assert db.scalar(select(Enrolment.id)) is None  # one foreign id refuses the whole request
    db.rollback()  # end the read snapshot before looking again
    client.post(f"/enterprises/{ent_id}/enrol", data={
        "csrf_token": csrf, "course_id": course_id, "worker_ids": [mine_id]})
    assert db.scalars(select(Enrolment.worker_id)).all() == [mine_id]
    assert client.post(f"/enterprises/{other_id}/enrol", data={
        "csrf_token": csrf, "course_id": course_id, "worker_ids": [foreign_id]},
        follow_redirects=False).status_code == 404


def test_rule_profile_page_for_admins(client, db):
    f.user(db, Role.ADMIN, username="root")
    f.user(db, Role.TRAINER, username="teacher")
    db.commit()
    f.login(client, "teacher")
    assert client.get("/admin/profiles").status_code == 403
    client.cookies.clear()
    f.login(client, "root")
    page = client.get("/admin/profiles")
    assert "China — mines (default)" in page.text and "United States — MSHA" in page.text
