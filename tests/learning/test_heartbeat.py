"""Credited study time: the rules of the heartbeat (service level, with explicit clocks)."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from app.learning import service
from app.learning.models import LedgerEntry, LessonProgress

T0 = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)  # 10:00 in Beijing


def beat(db, enrolment, lesson, at, **kwargs):
    kwargs.setdefault("visible", True)
    return service.heartbeat(db=db, enrolment=enrolment, lesson=lesson, now=at, **kwargs)


def ledger_seconds(db, worker):
    return db.scalar(select(func.coalesce(func.sum(LedgerEntry.seconds), 0))
                     .where(LedgerEntry.worker_id == worker.id))


def test_first_beat_credits_nothing_then_wall_time_between_beats(db, enrolled):
    worker, enrolment, lessons = enrolled
    text = lessons["text"]
    assert beat(db, enrolment, text, T0).credited_now == 0
    assert beat(db, enrolment, text, T0 + timedelta(seconds=30)).credited_now == 30
    result = beat(db, enrolment, text, T0 + timedelta(seconds=45))
    assert (result.credited_now, result.credited_seconds) == (15, 45)
    assert ledger_seconds(db, worker) == 45 == enrolment.credited_seconds


def test_fast_beats_never_exceed_wall_time(db, enrolled):
    worker, enrolment, lessons = enrolled
    for second in range(0, 61):  # 61 beats in 60 seconds
        beat(db, enrolment, lessons["text"], T0 + timedelta(seconds=second))
    assert enrolment.credited_seconds == 60
    assert ledger_seconds(db, worker) == 60


def test_a_beat_credits_at_most_sixty_seconds(db, enrolled):
    _worker, enrolment, lessons = enrolled
    beat(db, enrolment, lessons["text"], T0)
    result = beat(db, enrolment, lessons["text"], T0 + timedelta(minutes=4), interacted=True)
    assert result.credited_now == 60


def test_hidden_time_is_never_credited_even_later(db, enrolled):
    _worker, enrolment, lessons = enrolled
    text = lessons["text"]
    beat(db, enrolment, text, T0)
    assert beat(db, enrolment, text, T0 + timedelta(seconds=20), visible=False).credited_now == 0
    # Back after 50 s hidden: the first visible beat restarts the clock, credits nothing.
    assert beat(db, enrolment, text, T0 + timedelta(seconds=70)).credited_now == 0
    assert beat(db, enrolment, text, T0 + timedelta(seconds=100)).credited_now == 30
    assert enrolment.credited_seconds == 30


def test_idle_learner_is_asked_for_attention_and_earns_nothing_until_answering(db, enrolled):
    _worker, enrolment, lessons = enrolled
    text = lessons["text"]
    beat(db, enrolment, text, T0, interacted=True)
    t = T0
    for _ in range(10):  # 5 minutes of beats without any input
        t += timedelta(seconds=30)
        last = beat(db, enrolment, text, t)
    assert last.attention_required is False and enrolment.credited_seconds == 300
    idle = beat(db, enrolment, text, t + timedelta(seconds=30))
    assert idle.attention_required is True and idle.credited_now == 0
    assert beat(db, enrolment, text, t + timedelta(seconds=60)).credited_now == 0
    answered = beat(db, enrolment, text, t + timedelta(seconds=90), interacted=True)
    assert answered.attention_required is False and answered.credited_now == 0  # restarts
    assert beat(db, enrolment, text, t + timedelta(seconds=120)).credited_now == 30


def test_two_lessons_open_at_once_share_one_clock(db, enrolled):
    _worker, enrolment, lessons = enrolled
    text, document = lessons["text"], lessons["document"]
    beat(db, enrolment, text, T0)
    beat(db, enrolment, document, T0 + timedelta(seconds=15))
    beat(db, enrolment, text, T0 + timedelta(seconds=30))
    beat(db, enrolment, document, T0 + timedelta(seconds=45))
    assert enrolment.credited_seconds == 45  # the wall time, not twice it


def test_text_lesson_completes_at_its_minutes_and_course_when_all_done(db, enrolled, course):
    worker, enrolment, lessons = enrolled
    text = lessons["text"]  # 2 minutes
    t = T0
    beat(db, enrolment, text, t)
    for _ in range(3):
        t += timedelta(seconds=30)
        assert beat(db, enrolment, text, t, interacted=True).lesson_completed is False
    t += timedelta(seconds=30)
    assert beat(db, enrolment, text, t, interacted=True).lesson_completed is True
    assert enrolment.lessons_completed == 1 and enrolment.status == "active"


def test_video_completes_at_ninety_percent_watched_and_seeking_does_not_count(db, enrolled):
    _worker, enrolment, lessons = enrolled
    video = lessons["video"]  # 60 s long
    beat(db, enrolment, video, T0, position=0)
    jumped = beat(db, enrolment, video, T0 + timedelta(seconds=10), position=50)
    assert jumped.watched_seconds == 0  # 50 s of video in 10 s of time: a seek
    beat(db, enrolment, video, T0 + timedelta(seconds=11), position=0)
    t, position = T0 + timedelta(seconds=11), 0.0
    for _ in range(5):
        t += timedelta(seconds=10)
        position += 10
        result = beat(db, enrolment, video, t, position=position, interacted=True)
    assert result.watched_seconds == 50 and result.lesson_completed is False
    result = beat(db, enrolment, video, t + timedelta(seconds=5), position=position + 5)
    assert result.watched_seconds == 55 and result.lesson_completed is True
    assert result.position_seconds == 55


def test_panorama_completes_when_every_hazard_is_found(db, enrolled):
    _worker, enrolment, lessons = enrolled
    scene = lessons["panorama"]
    _progress, done, _course = service.found_hotspot(db=db, enrolment=enrolment, lesson=scene,
                                                      index=2)  # the refuge: not a hazard
    assert done is False
    service.found_hotspot(db=db, enrolment=enrolment, lesson=scene, index=0)
    progress, done, _course = service.found_hotspot(db=db, enrolment=enrolment, lesson=scene,
                                                     index=1)
    assert done is True and progress.found_hotspots == [0, 1, 2]


def test_course_completes_when_all_lessons_done_and_minutes_reached(db, enrolled):
    _worker, enrolment, lessons = enrolled
    t = T0
    beat(db, enrolment, lessons["text"], t)
    for _ in range(8):  # 4 minutes on the text lesson: text done, required 4 min reached
        t += timedelta(seconds=30)
        beat(db, enrolment, lessons["text"], t, interacted=True)
    for index in (0, 1):
        service.found_hotspot(db=db, enrolment=enrolment, lesson=lessons["panorama"],
                              index=index)
    beat(db, enrolment, lessons["document"], t + timedelta(seconds=1))
    for _ in range(2):
        t += timedelta(seconds=30)
        result = beat(db, enrolment, lessons["document"], t, interacted=True)
    assert result.lesson_completed is True and enrolment.status == "active"  # video not done
    video = lessons["video"]
    position = 0.0
    beat(db, enrolment, video, t + timedelta(seconds=1), position=0)
    t += timedelta(seconds=1)
    for _ in range(6):
        t += timedelta(seconds=10)
        position += 10
        result = beat(db, enrolment, video, t, position=position, interacted=True)
    assert result.course_completed is True
    assert enrolment.status == "completed" and enrolment.completed_at == t
    progress_total = db.scalar(select(func.sum(LessonProgress.credited_seconds))
                               .where(LessonProgress.enrolment_id == enrolment.id))
    assert progress_total == enrolment.credited_seconds


def test_ledger_rows_are_per_beijing_day(db, enrolled):
    worker, enrolment, lessons = enrolled
    late = datetime(2026, 11, 28, 15, 59, 30, tzinfo=UTC)  # 23:59:30 in Beijing
    beat(db, enrolment, lessons["text"], late)
    beat(db, enrolment, lessons["text"], late + timedelta(seconds=20))
    beat(db, enrolment, lessons["text"], late + timedelta(seconds=50))
    days = dict(db.execute(select(LedgerEntry.day, LedgerEntry.seconds)
                           .where(LedgerEntry.worker_id == worker.id)).all())
    assert {str(d): s for d, s in days.items()} == {"2026-11-28": 20, "2026-11-29": 30}
