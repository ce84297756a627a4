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
    enrolment = learning.enrol(db=db, course=course, workers=[worker], by=admin)[0]
    db.execute(update(Enrolment).where(Enrolment.id == enrolment.id).values(status="completed"))
    db.commit()
    auth = f.token(client, worker.id_number)
    attempt = client.post(f"/api/v1/exams/{exam.id}/attempts", headers=auth).json()
    from app.exams.models import Attempt

    paper = db.get(Attempt, attempt["id"]).paper
    db.commit()
    for item in paper:
        client.put(f"/api/v1/attempts/{attempt['id']}/answers/{item['question_id']}",
                   json={"option_ids": [o["id"] for o in item["options"] if o["right"]]},
                   headers=auth)
    result = client.post(f"/api/v1/attempts/{attempt['id']}/submit", headers=auth).json()
    assert result["passed"] is True
    return {"worker": worker, "enterprise": ent, "auth": auth}
