import pytest
from sqlalchemy import update

from app.accounts.models import Role
from app.courses import service as courses
from app.courses.package import load_package
from app.exams.models import Exam
from app.learning import service as learning
from app.learning.models import Enrolment
from tests import factories as f
from tests import packages

CERTIFICATE = {"title": {"en": "Special operations certificate: test work",
                         "zh_CN": "特种作业操作证：测试作业"},
               "validity_years": 6, "review_years": 3}


@pytest.fixture
def certified(db, tmp_path, client):
    """A worker of a Shanxi enterprise who passed the theory exam of a course whose certificate
    needs no practical test: the certificate is issued by the submit."""
    data = packages.course_yaml(certificate=CERTIFICATE)
    outcome = courses.import_package(db=db, package=load_package(
        packages.write_package(tmp_path / "cert", data=data)), by=None)
    course = courses.get_course_or_404(db=db, course_id=outcome.course_id)
    exam = db.query(Exam).filter_by(course_id=course.id).one()
    ent = f.enterprise(db, region="140105", name="Alpha Colliery")
    worker = f.worker(db, ent, full_name="张三丰")
    admin = f.user(db, Role.ADMIN, username="root")
    auth = pass_theory(db, client, course=course, exam=exam, worker=worker, admin=admin)
    return {"worker": worker, "enterprise": ent, "auth": auth, "course": course, "exam": exam,
            "admin": admin}


def pass_theory(db, client, *, course, exam, worker, admin) -> dict[str, str]:
    """Enrol the worker, complete the course and pass its exam through the API (the submit
    issues the certificate); returns the worker's auth headers."""
    from app.exams.models import Attempt

    enrolment = learning.enrol(db=db, course=course, workers=[worker], by=admin)[0]
    db.execute(update(Enrolment).where(Enrolment.id == enrolment.id).values(status="completed"))
    db.commit()
    auth = f.token(client, worker.id_number)
    attempt = client.post(f"/api/v1/exams/{exam.id}/attempts", headers=auth).json()
    paper = db.get(Attempt, attempt["id"]).paper
    db.commit()
    for item in paper:
        client.put(f"/api/v1/attempts/{attempt['id']}/answers/{item['question_id']}",
                   json={"option_ids": [o["id"] for o in item["options"] if o["right"]]},
                   headers=auth)
    response = client.post(f"/api/v1/attempts/{attempt['id']}/submit", headers=auth)
    assert response.status_code == 200, response.text
    assert response.json()["passed"] is True
    return auth
