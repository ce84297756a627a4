"""Idempotent demonstration data: regions, two enterprises in two provinces, rosters, one login
per role. Loading twice changes nothing."""

from __future__ import annotations

import csv
import io
import random
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts import service as accounts
from app.accounts.models import Role, User
from app.accounts.security import hash_password, verify_password
from app.config import PROJECT_ROOT
from app.courses import service as courses
from app.courses.importer import import_path
from app.db import open_session, utcnow
from app.experts import service as experts
from app.experts.models import Expert
from app.i18n import LOCAL_TZ
from app.learning import service as learning
from app.organisations import roster
from app.organisations import service as organisations
from app.organisations.models import Enterprise, MineType, Worker
from app.organisations.validators import make_credit_code, make_resident_id
from app.oversight import generator as oversight_history
from app.practicals import service as practicals
from app.practicals.models import PracticalSession, SessionStatus, TestCentre

DEMO_PASSWORD = "pithead-demo"  # noqa: S105 - printed for the demo on purpose
COURSES_DIR = PROJECT_ROOT / "courses"
INDUCTION_CODE = "CN-GENERAL-UNDERGROUND-INDUCTION"
GAS_CODE = "CN-COAL-GAS-INSPECTION-INITIAL"
DEMO_BASE: dict[str, Any] = {
    "name": "太原矿山安全实操考试基地 (Taiyuan Mine Safety Practical Test Base)",
    "region_code": "1401",
    "address": "太原市小店区矿安路 1 号 (1 Kuang'an Road, Xiaodian District, Taiyuan)",
    "kinds": ["practical_test", "skills_training"],
    "stations": ["瓦斯检测仪操作台 Gas detector bench", "通风系统模拟 Ventilation simulator",
                 "自救器佩戴 Self-rescuer drill", "提升机模拟器 Hoist simulator"],
    "contact": "0351-7654321",
}

ENTERPRISES = [
    {"key": "jinan", "name": "晋安煤业有限公司 (Jin'an Coal Industry Co.)", "region": "140108",
     "mine_type": MineType.COAL, "above": True, "org_seq": 1101, "staff": 36},
    {"key": "hongtai", "name": "鄂尔多斯宏泰矿业有限公司 (Ordos Hongtai Mining Co.)",
     "region": "150602", "mine_type": MineType.COAL, "above": True, "org_seq": 2207, "staff": 18},
]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = "伟强磊军勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆帅旭宁龙林洋翔云峰建国志红海东亮晨"
TEAMS = ("综采一队", "综采二队", "掘进一队", "掘进二队", "通风队", "机电队")
CATEGORIES = ["general.underground"] * 6 + [
    "coal.gas_inspection", "coal.underground_electrician", "coal.blasting", "coal.hoist_operation",
    "coal.safety_inspection", "coal.shearer_operation", "general.safety_manager"]


def _credit_code(item: dict) -> str:
    return make_credit_code(region=item["region"], org_seq=item["org_seq"])


def _ensure_enterprise(db: Session, item: dict, admin: User) -> Enterprise:
    code = _credit_code(item)
    existing = db.scalar(select(Enterprise).where(Enterprise.credit_code == code))
    if existing is not None:
        return existing
    return organisations.create_enterprise(
        db=db, name=item["name"], credit_code=code, region_code=item["region"],
        mine_type=item["mine_type"].value, above_designated_size=item["above"], by=admin)


def _roster_csv(item: dict) -> bytes:
    rng = random.Random(item["key"])  # noqa: S311 - demo names, not secrets
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(roster.EXPORT_COLUMNS)
    # Teams from their own generator, so the names and dates stay what they were.
    teams = random.Random(f"{item['key']}:teams")  # noqa: S311 - demo data, not secrets
    for n in range(item["staff"]):
        birth = date(1970, 1, 1) + timedelta(days=rng.randrange(0, 365 * 30))
        id_number = make_resident_id(region=item["region"], birth=birth, sequence=100 + n)
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
        phone = "13" + "".join(str(rng.randrange(10)) for _ in range(9))
        hired = max(birth + timedelta(days=365 * 19), date(2005, 1, 1)) + timedelta(
            days=rng.randrange(0, 3000))
        hired = min(hired, date.today() - timedelta(days=30))
        writer.writerow([id_number, name, phone, rng.choice(CATEGORIES), hired.isoformat(),
                         rng.choice(["junior_middle", "high_school", "junior_college"]),
                         teams.choice(TEAMS)])
    return out.getvalue().encode("utf-8-sig")


def _ensure_user(db: Session, *, username: str, full_name: str, roles: list[Role],
                 enterprise_id: int | None = None, region_code: str | None = None,
                 by: User | None) -> User:
    user = accounts.get_by_username(db=db, username=username)
    if user is None:
        user = accounts.create_user(db=db, username=username, password=DEMO_PASSWORD,
                                    full_name=full_name, roles=[r.value for r in roles],
                                    enterprise_id=enterprise_id, region_code=region_code, by=by)
    return user


def _enrol_demo_staff(db: Session) -> None:
    """The demo worker studies every shipped course; Jin'an's underground staff have the
    induction course with a deadline, so the enterprise pages have something to show."""
    admin = accounts.get_by_username(db=db, username="admin")
    assert admin is not None
    published, _total = courses.list_courses(db=db, page_size=100)
    jinan = db.scalar(select(Enterprise).where(Enterprise.credit_code == _credit_code(
        ENTERPRISES[0])))
    assert jinan is not None
    staff = list(db.scalars(select(Worker).where(Worker.enterprise_id == jinan.id)
                            .order_by(Worker.id)))
    for course in published:
        if "worker" not in course.audience_roles:
            continue
        learning.enrol(db=db, course=course, workers=staff[:1], by=admin)
        if course.code == INDUCTION_CODE:
            underground = [w for w in staff if w.job_category == "general.underground"]
            learning.enrol(db=db, course=course, workers=underground, by=admin,
                           deadline=date.today() + timedelta(days=60))


# A supervisory agency ('11': a government organ, GB 32100) whose cadre is the demo regulator.
AGENCY_NAME = "山西省应急管理厅 矿山安全监督处"
AGENCY_CODE = make_credit_code(region="14", org_seq=14_000_001, authority="11")
CADRE_ID = make_resident_id(region="140105", birth=date(1980, 5, 17), sequence=318)


def _ensure_cadre(db: Session) -> None:
    """The Shanxi agency with the demo regulator as a cadre learner, enrolled in the shipped
    courses offered to supervisory cadres."""
    admin = accounts.get_by_username(db=db, username="admin")
    regulator = accounts.get_by_username(db=db, username="regulator")
    assert admin is not None and regulator is not None
    agency = db.scalar(select(Enterprise).where(Enterprise.credit_code == AGENCY_CODE))
    if agency is None:
        agency = organisations.create_agency(db=db, name=AGENCY_NAME, credit_code=AGENCY_CODE,
                                             region_code="14", by=admin)
    cadre = organisations.worker_of_user(db=db, user_id=regulator.id)
    if cadre is None:
        cadre = organisations.register_cadre(
            db=db, agency=agency, user_id=regulator.id, id_number=CADRE_ID,
            full_name="王监察", job_category="general.safety_manager", by=admin)
    published, _total = courses.list_courses(db=db, page_size=100, audience="regulator")
    for course in published:
        learning.enrol(db=db, course=course, workers=[cadre], by=admin)


def _ensure_practicals(db: Session) -> None:
    """A practical-test base in Taiyuan with a weekly series of gas-inspection sessions over
    the coming weeks (made again only when none is left in the future)."""
    admin = accounts.get_by_username(db=db, username="admin")
    examiner = accounts.get_by_username(db=db, username="examiner")
    assert admin is not None and examiner is not None
    centre = db.scalar(select(TestCentre).where(TestCentre.name == DEMO_BASE["name"]))
    if centre is None:
        centre = practicals.create_test_centre(
            db=db, name=DEMO_BASE["name"], region_code=DEMO_BASE["region_code"],
            address=DEMO_BASE["address"], kinds=DEMO_BASE["kinds"], by=admin,
            stations=DEMO_BASE["stations"], contact=DEMO_BASE["contact"])
    published, _total = courses.list_courses(db=db, code=GAS_CODE, page_size=1)
    if not published:
        return
    upcoming = db.scalar(select(PracticalSession.id).where(
        PracticalSession.test_centre_id == centre.id,
        PracticalSession.course_id == published[0].id,
        PracticalSession.status == SessionStatus.SCHEDULED.value,
        PracticalSession.starts_at > utcnow()).limit(1))
    if upcoming is not None:
        return
    today = utcnow().astimezone(LOCAL_TZ).date()
    tuesday = today + timedelta(days=(1 - today.weekday()) % 7 or 7)
    start = datetime.combine(tuesday, time(9), tzinfo=LOCAL_TZ).astimezone(UTC)
    practicals.create_sessions(db=db, centre=centre, course=published[0], starts_at=start,
                               ends_at=start + timedelta(hours=3), capacity=12,
                               examiner_id=examiner.id, by=admin, weeks=4)


DEMO_EXPERTS: list[dict[str, Any]] = [
    {"full_name": "王通风 Wang Tongfeng", "organisation": "山西省煤矿安全研究院 (Shanxi Coal Mine "
     "Safety Institute)", "region_code": "1401", "specialities": ["ventilation", "gas", "dust"],
     "roles": ["accident_investigator"], "qualifications": "正高级工程师；矿井通风 25 年",
     "available": True},
    {"full_name": "李培训 Trainer Li", "organisation": "太原矿山安全实操考试基地 (Taiyuan Mine "
     "Safety Practical Test Base)", "region_code": "140108", "specialities": ["gas", "electrical"],
     "roles": ["trainer"], "qualifications": "高级工程师；煤矿安全培训教师", "available": True,
     "login": "trainer"},
    {"full_name": "赵考评 Examiner Zhao", "organisation": "大同煤矿集团 (Datong Coal Mine Group)",
     "region_code": "1402", "specialities": ["hoisting", "transport"], "roles": ["examiner"],
     "qualifications": "提升机操作考评员", "available": True, "login": "examiner"},
    {"full_name": "张防治水 Zhang Fangzhishui", "organisation": "内蒙古自治区应急管理厅专家组 "
     "(Inner Mongolia Emergency Management Expert Group)", "region_code": "15",
     "specialities": ["water", "ground_control", "accident_analysis"],
     "roles": ["accident_investigator"], "qualifications": "水文地质高级工程师",
     "available": False},
    {"full_name": "刘爆破 Liu Baopo", "organisation": "鄂尔多斯宏泰矿业有限公司 (Ordos Hongtai "
     "Mining Co.)", "region_code": "150602", "specialities": ["blasting", "mine_rescue"],
     "roles": ["trainer"], "qualifications": "爆破工程技术人员；矿山救护中队长", "available": True},
]


def _ensure_experts(db: Session) -> None:
    """A few experts in Shanxi and Inner Mongolia, two linked to the demo trainer and examiner."""
    admin = accounts.get_by_username(db=db, username="admin")
    assert admin is not None
    for item in DEMO_EXPERTS:
        if db.scalar(select(Expert.id).where(Expert.full_name == item["full_name"])) is not None:
            continue
        data = {k: v for k, v in item.items() if k != "login"}
        login = accounts.get_by_username(db=db, username=item["login"]) if "login" in item \
            else None
        experts.create(db=db, data={**data, "user_id": login.id if login else None}, by=admin)


def load() -> list[tuple[str, str, str, str]]:
    """Create what is missing of the demo data; returns (role, username, password, note)."""
    with open_session(write=True) as db:
        admin = _ensure_user(db, username="admin", full_name="平台管理员 Platform Admin",
                             roles=[Role.ADMIN], by=None)
        enterprises = [_ensure_enterprise(db, item, admin) for item in ENTERPRISES]
        for item, enterprise in zip(ENTERPRISES, enterprises, strict=True):
            parsed = roster.parse_roster(data=_roster_csv(item), filename=f"demo-{item['key']}.csv")
            roster.import_roster(db=db, enterprise=enterprise, parsed=parsed, dry_run=False,
                                 by=admin)
        jinan, hongtai = enterprises
        _ensure_user(db, username="regulator", full_name="山西省监管员 Shanxi Regulator",
                     roles=[Role.REGULATOR], region_code="14", by=admin)
        _ensure_user(db, username="regulator.nm", full_name="内蒙古监管员 Inner Mongolia Regulator",
                     roles=[Role.REGULATOR], region_code="15", by=admin)
        _ensure_user(db, username="jinan.admin", full_name="晋安培训主管 Training Manager",
                     roles=[Role.ENTERPRISE_ADMIN], enterprise_id=jinan.id, by=admin)
        _ensure_user(db, username="hongtai.admin", full_name="宏泰培训主管 Training Manager",
                     roles=[Role.ENTERPRISE_ADMIN], enterprise_id=hongtai.id, by=admin)
        _ensure_user(db, username="trainer", full_name="李培训 Trainer Li", roles=[Role.TRAINER],
                     by=admin)
        _ensure_user(db, username="examiner", full_name="赵考评 Examiner Zhao",
                     roles=[Role.EXAMINER], by=admin)
        worker = db.scalar(select(Worker).where(Worker.enterprise_id == jinan.id)
                           .order_by(Worker.id).limit(1))
        assert worker is not None
        worker_user = db.get(User, worker.user_id)
        assert worker_user is not None
        if not verify_password(worker_user.password_hash, DEMO_PASSWORD):
            worker_user.password_hash = hash_password(DEMO_PASSWORD)
        db.commit()
    for line, _ok in import_path(COURSES_DIR):
        print(line)
    with open_session(write=True) as db:
        _enrol_demo_staff(db)
        _ensure_cadre(db)
        _ensure_practicals(db)
        _ensure_experts(db)
        # Histories (ledger, exams, practicals, certificates) so the oversight dashboard and the
        # compliance lists show something: generated workers in the demo enterprises, once.
        oversight_history.add_history(db=db, enterprise_ids=[jinan.id, hongtai.id])
        db.commit()
        return [
            ("admin", "admin", DEMO_PASSWORD, ""),
            ("regulator", "regulator", DEMO_PASSWORD,
             "Shanxi (14); also a supervisory cadre learner of " + AGENCY_NAME),
            ("regulator", "regulator.nm", DEMO_PASSWORD, "Inner Mongolia (15)"),
            ("enterprise_admin", "jinan.admin", DEMO_PASSWORD, jinan.name),
            ("enterprise_admin", "hongtai.admin", DEMO_PASSWORD, hongtai.name),
            ("trainer", "trainer", DEMO_PASSWORD, ""),
            ("examiner", "examiner", DEMO_PASSWORD, ""),
            ("worker", worker.id_number, DEMO_PASSWORD, f"{worker.full_name}, {jinan.name}"),
        ]
