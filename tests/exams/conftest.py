import pytest
from sqlalchemy import update

from app.courses import service as courses
from app.courses.package import load_package
from app.exams.models import Exam
from app.learning import service as learning
from app.learning.models import Enrolment
from tests import factories as f
from tests import packages


@pytest.fixture
def exam_world(db, tmp_path):
    """The mini course with its 3-question exam; a worker of a Shanxi enterprise enrolled and
    (unless a test changes it) done with the course."""
    outcome = courses.import_package(db=db, package=load_package(
        packages.write_package(tmp_path / "mini")), by=None)
    course = courses.get_course_or_404(db=db, course_id=outcome.course_id)
    exam = db.query(Exam).filter_by(course_id=course.id).one()
    ent = f.enterprise(db)
    worker = f.worker(db, ent)
    admin = f.user(db, f.Role.ADMIN, username="root")
    enrolment = learning.enrol(db=db, course=course, workers=[worker], by=admin)[0]
    db.execute(update(Enrolment).where(Enrolment.id == enrolment.id).values(status="completed"))
    db.commit()
    return {"exam_id": exam.id, "worker_id": worker.id, "username": worker.id_number,
            "enrolment_id": enrolment.id, "enterprise_id": ent.id}
