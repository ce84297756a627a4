import pytest

from app.courses import service as courses
from app.courses.package import load_package
from app.learning import service as learning
from tests import factories as f
from tests import packages


@pytest.fixture
def course(db, tmp_path):
    """The mini course of tests/packages.py, imported and published."""
    outcome = courses.import_package(db=db, package=load_package(
        packages.write_package(tmp_path / "mini")), by=None)
    return courses.get_course_or_404(db=db, course_id=outcome.course_id, structure=True)


@pytest.fixture
def enrolled(db, course):
    """(worker, enrolment, lessons by kind) for a worker of a Shanxi enterprise."""
    ent = f.enterprise(db, region="140105")
    worker = f.worker(db, ent)
    enrolment = learning.enrol(db=db, course=course, workers=[worker],
                               by=f.user(db, f.Role.ADMIN))[0]
    lessons = {lesson.kind: lesson for m in course.modules for lesson in m.lessons}
    db.flush()
    enrolment = learning.get_enrolment_or_404(db=db, enrolment_id=enrolment.id)
    return worker, enrolment, lessons
