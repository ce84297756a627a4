"""Item statistics: facility and discrimination per question, exact on a small example worked
out by hand, with a bounded number of queries."""

import math

from sqlalchemy import event, select, update

from app.accounts.models import Role
from app.courses.models import Course
from app.exams import service as exams
from app.exams import statistics as stats
from app.exams.models import Exam, Question
from app.learning import service as learning
from app.learning.models import Enrolment
from app.organisations.models import Enterprise
from tests import factories as f

# Four takers of the mini exam (B-1 true/false, B-2 single, B-3 multiple); True = right.
PATTERN = [
    {"B-1": True, "B-2": True, "B-3": False},
    {"B-1": True, "B-2": True, "B-3": False},
    {"B-1": True, "B-2": False, "B-3": False},
    {"B-1": False, "B-2": False, "B-3": True},
]


def _take(db, exam, worker, admin, marks):
    """An attempt answered right or wrong question by question, submitted."""
    attempt = exams.start_attempt(db=db, exam=exam, worker=worker, by=admin)
    for item in attempt.paper:
        options = item["options"]
        external_id = db.get(Question, item["question_id"]).external_id
        if marks[external_id]:
            chosen = [o["id"] for o in options if o["right"]]
        else:  # one wrong option: a wrong single, False for true, only the cigarettes
            chosen = [next(o["id"] for o in options if not o["right"])]
        exams.save_answer(db=db, attempt_id=attempt.id, paper=attempt.paper,
                          question_id=item["question_id"], option_ids=chosen)
    exams.submit(db=db, attempt_id=attempt.id, by=admin)
    return attempt


def _world(db, exam_world, takers=PATTERN, open_attempt=True):
    exam = db.get(Exam, exam_world["exam_id"])
    course = db.get(Course, exam.course_id)
    enterprise = db.get(Enterprise, exam_world["enterprise_id"])
    admin = f.user(db, Role.ADMIN, username="stats-admin")
    workers = [f.worker(db, enterprise) for _ in range(len(takers) + 1)]
    for enrolment in learning.enrol(db=db, course=course, workers=workers, by=admin):
        db.execute(update(Enrolment).where(Enrolment.id == enrolment.id)
                   .values(status="completed"))
    for worker, marks in zip(workers, takers, strict=False):
        _take(db, exam, worker, admin, marks)
    if open_attempt:  # in progress: not counted
        exams.start_attempt(db=db, exam=exam, worker=workers[-1], by=admin)
    db.commit()
    return exam


def test_facility_and_discrimination_on_a_hand_computed_example(db, exam_world):
    exam = _world(db, exam_world)
    result = stats.statistics(db=db, exam_id=exam.id)
    assert result.attempts == 4
    assert result.mean_score == 50.0  # (66.67 + 66.67 + 33.33 + 33.33) / 4
    by_id = {item.external_id: item for item in result.items}
    # Hardest first.
    assert [item.external_id for item in result.items] == ["B-3", "B-2", "B-1"]
    # B-1: right by takers 1-3. Item [1,1,1,0]; rest (share of the other two right)
    # [.5,.5,0,.5]: cov = .375/4 - .75*.375 = -.046875... r = -1/3 exactly.
    b1 = by_id["B-1"]
    assert (b1.takers, b1.right, b1.facility) == (4, 3, 0.75)
    assert math.isclose(b1.discrimination, -1 / 3, abs_tol=1e-12)
    assert b1.flags == ["low_discrimination"]
    # B-2: item [1,1,0,0]; rest [.5,.5,.5,.5] has no variance: undefined.
    b2 = by_id["B-2"]
    assert (b2.takers, b2.right, b2.facility, b2.discrimination, b2.flags) == (
        4, 2, 0.5, None, [])
    # B-3: item [0,0,0,1]; rest [1,1,.5,0]: r = -5/sqrt(33).
    b3 = by_id["B-3"]
    assert (b3.takers, b3.right, b3.facility) == (4, 1, 0.25)
    assert math.isclose(b3.discrimination, -5 / math.sqrt(33), abs_tol=1e-12)
    assert b3.flags == ["hard", "low_discrimination"]
    # The bank view covers every exam of the bank: the same here.
    assert [i.as_dict() for i in stats.statistics(db=db, bank="TEST-MINI").items] == \
        [i.as_dict() for i in result.items]


def test_a_good_item_has_high_discrimination():
    # Item right exactly for the two best takers: r = 1 with a rest score that separates.
    assert math.isclose(stats.point_biserial([1, 1, 0, 0], [1.0, 0.5, 0.5, 0.0]),
                        math.sqrt(2) / 2, abs_tol=1e-12)
    assert stats.point_biserial([1, 1, 1], [0.0, 0.5, 1.0]) is None
    assert stats.point_biserial([1], [1.0]) is None


def _statements(db, run):
    """The SQL statements (other than transaction control) that `run` sends."""
    sent = []

    def note(conn, cursor, statement, *args):
        if not statement.strip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK")):
            sent.append(statement)

    engine = db.get_bind()
    event.listen(engine, "before_cursor_execute", note)
    try:
        run()
    finally:
        event.remove(engine, "before_cursor_execute", note)
    db.commit()
    return sent


def test_query_count_does_not_grow_with_attempts(db, exam_world):
    exam = _world(db, exam_world, takers=PATTERN)
    small = _statements(db, lambda: stats.statistics(db=db, exam_id=exam.id))
    small_bank = _statements(db, lambda: stats.statistics(db=db, bank="TEST-MINI"))
    admin = f.user(db, Role.ADMIN, username="more-admin")
    enterprise = db.get(Enterprise, exam_world["enterprise_id"])
    course = db.get(Course, exam.course_id)
    more = [f.worker(db, enterprise) for _ in range(6)]
    for enrolment in learning.enrol(db=db, course=course, workers=more, by=admin):
        db.execute(update(Enrolment).where(Enrolment.id == enrolment.id)
                   .values(status="completed"))
    for worker, marks in zip(more, PATTERN + PATTERN[:2], strict=True):
        _take(db, exam, worker, admin, marks)
    db.commit()
    large = _statements(db, lambda: stats.statistics(db=db, exam_id=exam.id))
    assert stats.statistics(db=db, exam_id=exam.id).attempts == 10
    # attempts (papers), their answers, the questions; the bank adds its exams.
    assert len(small) == len(large) == 3
    assert len(small_bank) == 4


def test_statistics_api_and_page(client, db, exam_world):
    exam = _world(db, exam_world)
    trainer = f.user(db, Role.TRAINER, username="stats-trainer")
    db.commit()
    auth = f.token(client, trainer.username)
    body = client.get(f"/api/v1/exams/{exam.id}/statistics", headers=auth).json()
    assert body["attempts"] == 4 and body["discrimination"] == "point_biserial_rest"
    assert [(i["external_id"], i["facility"], i["discrimination"], i["flags"])
            for i in body["items"]] == [
        ("B-3", 0.25, round(-5 / math.sqrt(33), 4), ["hard", "low_discrimination"]),
        ("B-2", 0.5, None, []),
        ("B-1", 0.75, -0.3333, ["low_discrimination"])]
    assert client.get("/api/v1/banks/TEST-MINI/statistics", headers=auth).json() == body
    f.login(client, trainer.username)
    page = client.get(f"/exams/{exam.id}/statistics")
    assert page.status_code == 200
    assert page.text.index("B-3") < page.text.index("B-2") < page.text.index("B-1")
    assert "Most get it wrong" in page.text and "-0.87" in page.text
    assert client.get("/bank/TEST-MINI/statistics").status_code == 200
    worker_auth = f.token(client, exam_world["username"])
    assert client.get(f"/api/v1/exams/{exam.id}/statistics",
                      headers=worker_auth).status_code == 403
    b3 = db.scalar(select(Question.id).where(Question.external_id == "B-3"))
    db.commit()
    assert f"/bank/TEST-MINI/questions/{b3}/regrade" in page.text  # hard: check the key
