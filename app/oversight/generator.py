"""Synthetic training histories at scale: enterprises across regions, workers with hiring
dates and job categories, enrolments, study-ledger days, exam attempts, practical results and
certificates (with suspensions and revocations). Used by `bench/generate.py` (200,000 workers),
the demo (`add_history`) and the oversight tests (a few hundred workers).

Rows are written in bulk (COPY on PostgreSQL, executemany on SQLite) with ids allocated here,
then PostgreSQL's sequences are moved past them. Deterministic for a seed. Nothing here is a
rule: hours owed still come from the rule profile when the numbers are computed.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Table, func, select, text
from sqlalchemy.orm import Session

from app.accounts.models import Role, User, UserRole
from app.certificates.models import Certificate, CertificateEvent
from app.courses.models import Course
from app.exams.models import Attempt, Exam
from app.i18n import LOCAL_TZ
from app.learning.models import Enrolment, LedgerEntry
from app.organisations import reference
from app.organisations.models import Enterprise, Worker
from app.organisations.validators import make_credit_code, make_resident_id
from app.practicals.models import Booking, PracticalSession, TestCentre

# Mining prefectures the generated enterprises are spread over (GB/T 2260, short form).
REGIONS = ("140105", "140202", "140402", "140502", "150602", "150202", "610802", "620402",
           "410302", "340402", "370802", "520202", "530302", "650202")
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = "伟强磊军勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆"
TEAMS = ("综采一队", "综采二队", "掘进一队", "掘进二队", "通风队", "机电队", "运输队")
GENERAL_MIX = (("general.underground", 70), ("general.open_pit", 10),
               ("general.principal", 2), ("general.safety_manager", 3))
_BATCH = 5000


@dataclass
class Generated:
    """What a run made (for the report of `bench/generate.py`)."""

    enterprises: int = 0
    workers: int = 0
    enrolments: int = 0
    ledger: int = 0
    attempts: int = 0
    bookings: int = 0
    certificates: int = 0
    events: int = 0
    worker_ids: list[int] = field(default_factory=list)
    enterprise_ids: list[int] = field(default_factory=list)


def _ids(db: Session, table: Table) -> int:
    """The next free id of `table` (ids are allocated here, in bulk)."""
    return int(db.scalar(select(func.coalesce(func.max(table.c.id), 0))) or 0) + 1


def _write(db: Session, table: Table, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Insert `rows` (tuples in `columns` order): COPY on PostgreSQL, executemany on SQLite."""
    rows = list(rows)
    if not rows:
        return 0
    connection = db.connection()
    if connection.dialect.name == "postgresql":
        import json

        raw = connection.connection.driver_connection
        assert raw is not None
        names = ", ".join(columns)
        json_columns = {i for i, c in enumerate(columns)
                        if table.c[c].type.__class__.__name__ == "JSON"}
        with raw.cursor().copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([json.dumps(v) if i in json_columns else v
                                for i, v in enumerate(row)])
    else:
        for start in range(0, len(rows), _BATCH):
            db.execute(table.insert(), [dict(zip(columns, row, strict=True))
                                        for row in rows[start:start + _BATCH]])
    return len(rows)


def _fix_sequences(db: Session, tables: Iterable[Table]) -> None:
    if db.get_bind().dialect.name != "postgresql":
        return
    for table in tables:  # table names come from our models, never from input
        statement = (f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "  # noqa: S608
                     f"(SELECT COALESCE(MAX(id), 1) FROM {table.name}))")
        db.execute(text(statement))


def _course(db: Session, code: str, job_category: str, kind: str, title: str,
            practical: bool) -> tuple[Course, Exam]:
    """A published course (with its exam) for the generated histories, made once."""
    course = db.scalar(select(Course).where(Course.code == code))
    if course is None:
        # Archived: the history refers to it, but no catalogue offers it to anyone.
        course = Course(code=code, version=1, status="archived", title={"en": title,
                        "zh_CN": title}, job_category=job_category, kind=kind, credit_hours=20,
                        required_minutes=600, practical_required=practical,
                        published_at=datetime.now(UTC))
        db.add(course)
        db.flush()
    exam = db.scalar(select(Exam).where(Exam.course_id == course.id))
    if exam is None:
        exam = Exam(course_id=course.id, bank=code, title={"en": title}, duration_minutes=120,
                    pass_mark=80, max_attempts=2, blueprint=[])
        db.add(exam)
        db.flush()
    return course, exam


def _weighted(rng: random.Random, mix: Sequence[tuple[str, int]]) -> str:
    return rng.choices([code for code, _w in mix], weights=[w for _c, w in mix])[0]


def _moment(day: date, rng: random.Random) -> datetime:
    return datetime.combine(day, time(rng.randint(8, 17), rng.randint(0, 59)),
                            tzinfo=LOCAL_TZ).astimezone(UTC)


def generate(*, db: Session, workers: int, enterprises: int | None = None,
             seed: int = 1, today: date | None = None, years: int = 3,
             regions: Sequence[str] = REGIONS, password_hash: str | None = None,
             enterprise_ids: Sequence[int] | None = None) -> Generated:
    """Make `workers` workers with `years` years of history, spread over `enterprises` new
    enterprises in `regions` (or over the existing `enterprise_ids`). Flushes, never commits."""
    rng = random.Random(seed)  # noqa: S311 - synthetic data, not secrets
    today = today or datetime.now(LOCAL_TZ).date()
    out = Generated()
    tables = {name: model.__table__ for name, model in (
        ("enterprises", Enterprise), ("users", User), ("user_roles", UserRole),
        ("workers", Worker), ("enrolments", Enrolment), ("study_ledger", LedgerEntry),
        ("attempts", Attempt), ("bookings", Booking), ("certificates", Certificate),
        ("certificate_events", CertificateEvent))}
    t: dict[str, Table] = tables  # type: ignore[assignment]

    special = sorted(reference.special_operation_codes())
    general_course, general_exam = _course(db, "GEN-ANNUAL", "general.underground", "general",
                                           "Annual safety refresher (generated)", False)
    special_courses = {code: _course(db, f"GEN-{code}", code, "special",
                                     f"Special operation {code} (generated)", True)
                       for code in special}
    examiner = db.scalar(select(User).where(User.username == "gen.examiner"))
    if examiner is None:
        examiner = User(username="gen.examiner", full_name="Generated examiner",
                        password_hash=None, roles=[UserRole(role=Role.EXAMINER.value)])
        db.add(examiner)
        db.flush()
    centre = db.scalar(select(TestCentre).where(TestCentre.name == "Generated test base"))
    if centre is None:
        centre = TestCentre(name="Generated test base", region_code="1401",
                            kinds=["practical_test"])
        db.add(centre)
        db.flush()
    sessions: dict[tuple[str, int, int], int] = {}

    def session_for(code: str, day: date) -> int:
        key = (code, day.year, day.month)
        if key not in sessions:
            starts = datetime.combine(date(day.year, day.month, 1), time(9), tzinfo=LOCAL_TZ)
            item = PracticalSession(test_centre_id=centre.id,
                                    course_id=special_courses[code][0].id,
                                    starts_at=starts, ends_at=starts + timedelta(hours=8),
                                    capacity=100000, examiner_id=examiner.id, status="completed")
            db.add(item)
            db.flush()
            sessions[key] = item.id
        return sessions[key]

    # enterprises
    if enterprise_ids is None:
        count = enterprises or max(1, workers // 500)
        next_id = _ids(db, t["enterprises"])
        seq_base = int(db.scalar(select(func.count()).select_from(Enterprise)) or 0) + 70000
        rows = []
        for n in range(count):
            region = regions[n % len(regions)]
            province = reference.region(region[:2]) or {"zh": region}
            mine = "coal" if n % 3 else "metal_nonmetal"
            rows.append((next_id + n, f"{province.get('zh', region)}第{seq_base + n}号矿",
                         make_credit_code(region=region, org_seq=seq_base + n), region, mine,
                         True, datetime.now(UTC)))
        out.enterprises = _write(db, t["enterprises"], ("id", "name", "credit_code",
                                                        "region_code", "mine_type",
                                                        "above_designated_size", "created_at"),
                                 rows)
        enterprise_list = [(row[0], row[3], row[4]) for row in rows]
    else:
        enterprise_list = [(e.id, e.region_code, e.mine_type) for e in db.scalars(
            select(Enterprise).where(Enterprise.id.in_(enterprise_ids)))]

    out.enterprise_ids = [item[0] for item in enterprise_list]

    # workers and their logins
    user_id, worker_id = _ids(db, t["users"]), _ids(db, t["workers"])
    base = int(db.scalar(select(func.count()).select_from(Worker)) or 0)
    users, roles, staff = [], [], []
    now = datetime.now(UTC)
    first_year = today.year - years + 1
    for n in range(workers):
        ent_id, region, mine = enterprise_list[n % len(enterprise_list)]
        index = base + n
        birth = date(1966, 1, 1) + timedelta(days=(index // 1000) * 7 + rng.randint(0, 6))
        id_number = make_resident_id(region=region.ljust(6, "0")[:6], birth=birth,
                                     sequence=index % 1000)
        name = rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if n % 2 else "")
        if rng.random() < 0.18:
            category = rng.choice([c for c in special
                                   if c.startswith("coal." if mine == "coal" else "metal.")])
        else:
            category = _weighted(rng, GENERAL_MIX)
        if rng.random() < 0.08:  # hired this year
            hired = today - timedelta(days=rng.randint(0, max(0, (today - date(today.year, 1, 1))
                                                              .days)))
        else:
            hired = date(today.year - rng.randint(1, 20), rng.randint(1, 12), rng.randint(1, 28))
        uid, wid = user_id + n, worker_id + n
        users.append((uid, id_number, name, password_hash, True, ent_id, now))
        roles.append((uid, Role.WORKER.value))
        # Teams cycle within each enterprise (no draw from rng: the histories stay as before).
        team = TEAMS[(n // len(enterprise_list)) % len(TEAMS)]
        staff.append((wid, uid, ent_id, id_number, name, "13800138000", category, hired, now,
                      now, team))
        out.worker_ids.append(wid)
    _write(db, t["users"], ("id", "username", "full_name", "password_hash", "is_active",
                            "enterprise_id", "created_at"), users)
    _write(db, t["user_roles"], ("user_id", "role"), roles)
    out.workers = _write(db, t["workers"], ("id", "user_id", "enterprise_id", "id_number",
                                            "full_name", "phone", "job_category", "hired_on",
                                            "created_at", "updated_at", "team"), staff)

    # histories
    enrol_id, attempt_id = _ids(db, t["enrolments"]), _ids(db, t["attempts"])
    cert_id, event_id = _ids(db, t["certificates"]), _ids(db, t["certificate_events"])
    status_index = int(db.scalar(select(func.coalesce(func.max(Certificate.status_index), 0)))
                       or 0) + 1
    enrolments, ledger, attempts, bookings, certificates, events = [], [], [], [], [], []
    for wid, _uid, _ent, _idn, _name, _phone, category, hired, _c, _u, _team in staff:
        is_special = category in special_courses
        course, exam = special_courses[category] if is_special else \
            (general_course, general_exam)
        diligence = rng.random()  # how keen this worker is
        for year in range(max(first_year, hired.year), today.year + 1):
            start = max(date(year, 1, 1), hired)
            end = today if year == today.year else date(year, 12, 31)
            if start > end:
                continue
            # one or two enrolments a year (the refresher, sometimes a second course)
            for extra in range(1 + (rng.random() < 0.8)):
                finished = year < today.year or diligence > 0.7 or extra == 1
                deadline = start + timedelta(days=30) if year == hired.year else date(year, 12, 31)
                enrolled_at = _moment(start, rng)
                enrolments.append((enrol_id, course.id if extra == 0 else general_course.id,
                                   wid, "completed" if finished else "active", enrolled_at,
                                   deadline, _moment(min(end, start + timedelta(days=60)), rng)
                                   if finished else None, 0, 10 if finished else 3, 10))
                enrol_id += 1
            # ledger: a handful of study days whose total scatters around the requirement
            target_hours = (72 if year == hired.year and category != "general.open_pit"
                            else 20) * (0.4 + diligence * 0.9)
            days = rng.randint(2, 6)
            span = max(1, (end - start).days)
            used: set[tuple[date, str]] = set()
            for _d in range(days):
                day = start + timedelta(days=rng.randint(0, span))
                mode = "offline" if rng.random() < 0.25 else "online"
                if (day, mode) in used:
                    continue
                used.add((day, mode))
                per_hour = 2700 if mode == "offline" else 1800
                seconds = int(target_hours / days * per_hour * rng.uniform(0.8, 1.2))
                ledger.append((wid, day, course.id if mode == "online" else None, mode,
                               seconds))
            # exams: special operations every few years, others now and then
            if (is_special and (year == hired.year or rng.random() < 0.35)) or \
                    (not is_special and rng.random() < 0.3):
                day = start + timedelta(days=rng.randint(0, span))
                at = _moment(day, rng)
                passed = rng.random() < 0.78
                attempts.append((attempt_id, exam.id, wid, enrol_id - 1, 1, "submitted", at,
                                 at + timedelta(hours=2), at + timedelta(minutes=50), "taker",
                                 rng.randint(80, 100) if passed else rng.randint(40, 79),
                                 passed, "[]"))
                attempt_id += 1
                if passed and is_special:
                    practical_day = min(end, day + timedelta(days=rng.randint(5, 40)))
                    result_at = _moment(practical_day, rng)
                    practical_passed = rng.random() < 0.85
                    bookings.append((session_for(category, practical_day), wid,
                                     "passed" if practical_passed else "failed", result_at,
                                     rng.randint(80, 100) if practical_passed
                                     else rng.randint(30, 79), result_at, ""))
                    if practical_passed:
                        status = "valid"
                        roll = rng.random()
                        if roll < 0.03:
                            status = "suspended"
                        elif roll < 0.05:
                            status = "revoked"
                        issued = practical_day
                        certificates.append((
                            cert_id, f"G{cert_id:09d}", wid, course.id, course.code,
                            course.title, category, issued,
                            date(issued.year + 6, issued.month, min(issued.day, 28)),
                            date(issued.year + 3, issued.month, min(issued.day, 28)), 3, status,
                            "generated" if status != "valid" else "", status_index,
                            "Generated issuer", "{}", result_at))
                        events.append((event_id, cert_id, result_at, "issued", "", None, "{}"))
                        event_id += 1
                        if status != "valid":
                            decided = result_at + timedelta(days=rng.randint(1, 200))
                            events.append((event_id, cert_id, min(decided, now), status,
                                           "generated", None, "{}"))
                            event_id += 1
                        cert_id += 1
                        status_index += 1
    out.enrolments = _write(db, t["enrolments"], (
        "id", "course_id", "worker_id", "status", "enrolled_at", "deadline", "completed_at",
        "credited_seconds", "lessons_completed", "lessons_total"), enrolments)
    out.ledger = _write(db, t["study_ledger"], ("worker_id", "day", "course_id", "mode",
                                                "seconds"), ledger)
    out.attempts = _write(db, t["attempts"], (
        "id", "exam_id", "worker_id", "enrolment_id", "number", "status", "started_at",
        "deadline", "submitted_at", "closed_by", "score", "passed", "paper"),
        [(*row[:-1], []) for row in attempts])
    out.bookings = _write(db, t["bookings"], (
        "session_id", "worker_id", "status", "created_at", "score", "result_at", "notes",
        "checklist"), [(*row, []) for row in bookings])
    out.certificates = _write(db, t["certificates"], (
        "id", "number", "worker_id", "course_id", "course_code", "title", "job_category",
        "issued_on", "expires_on", "review_due_on", "review_years", "status", "status_reason",
        "status_index", "issuer", "source", "created_at"),
        [(*row[:15], {}, row[16]) for row in certificates])
    out.events = _write(db, t["certificate_events"], (
        "id", "certificate_id", "at", "kind", "reason", "actor_id", "detail"),
        [(*row[:6], {}) for row in events])
    _fix_sequences(db, [t[name] for name in ("enterprises", "users", "workers", "enrolments",
                                               "study_ledger", "attempts", "bookings",
                                               "certificates", "certificate_events")])
    db.flush()
    return out


def add_history(*, db: Session, enterprise_ids: Sequence[int], workers: int = 120,
                seed: int = 7) -> Generated | None:
    """Demo: extra workers with histories in the demo enterprises, so the oversight dashboard
    means something right after `pithead demo load`. Idempotent (skips when already made)."""
    if db.scalar(select(Course.id).where(Course.code == "GEN-ANNUAL")) is not None:
        return None
    return generate(db=db, workers=workers, seed=seed, enterprise_ids=enterprise_ids)
