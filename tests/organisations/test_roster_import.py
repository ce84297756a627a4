"""POST /api/v1/enterprises/{id}/workers/import: CSV (with or without BOM) and XLSX, all or
nothing, every bad row reported, dry_run, upsert by ID number, who may import, and the login
an imported worker gets."""

from __future__ import annotations

import io
import threading
import time
from datetime import date, datetime, timedelta

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app import db as app_db
from app.accounts.models import AuditEvent, Role, User
from app.organisations.models import Worker
from app.organisations.validators import make_resident_id
from tests import factories as f

HEADER = ["id_number", "full_name", "phone", "job_category", "hired_on"]
ID1 = make_resident_id(region="140105", birth=date(1980, 1, 1), sequence=11)
ID2 = make_resident_id(region="140105", birth=date(1985, 6, 15), sequence=22)
ID3 = make_resident_id(region="140202", birth=date(1992, 9, 30), sequence=33)
ROWS = [[ID1, "张三", "13800138001", "general.underground", "2020-03-01"],
        [ID2, "李四", "13800138002", "coal.gas_inspection", "2019-07-15"]]
OK_CREATED_2 = {"created": 2, "updated": 0, "unchanged": 0, "dry_run": False, "errors": []}


def csv_file(rows: list[list[str]], *, header: list[str] = HEADER, bom: bool = False,
             encoding: str = "utf-8") -> bytes:
    text = "\r\n".join(",".join(cells) for cells in [header, *rows]) + "\r\n"
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode(encoding)


def xlsx_file(rows: list[list[object]], *, header: list[str] = HEADER) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _counts() -> tuple[int, int, int]:
    """(workers, users, audit events) as the database has them now."""
    with app_db.open_session(write=False) as s:
        return tuple(s.scalar(select(func.count()).select_from(model)) or 0  # type: ignore[return-value]
                     for model in (Worker, User, AuditEvent))


def _workers() -> dict[str, Worker]:
    with app_db.open_session(write=False) as s:
        return {w.id_number: w for w in s.scalars(select(Worker))}


@pytest.fixture
def ent(client, db):
    """Enterprise A (Taiyuan) and its administrator's bearer token."""
    a = f.enterprise(db, region="140105", name="Alpha Mine")
    f.user(db, Role.ENTERPRISE_ADMIN, username="a.admin", enterprise_id=a.id)
    db.commit()
    return {"id": a.id, "auth": f.token(client, "a.admin")}


def upload(client, ent, data: bytes, *, filename: str = "roster.csv", dry_run: bool = False,
           auth: dict[str, str] | None = None):
    url = f"/api/v1/enterprises/{ent['id']}/workers/import"
    return client.post(url + ("?dry_run=true" if dry_run else ""),
                       files={"file": (filename, data, "application/octet-stream")},
                       headers=ent["auth"] if auth is None else auth)


# --- good files ---------------------------------------------------------------------------

@pytest.mark.parametrize("bom", [True, False], ids=["bom", "no-bom"])
def test_csv_utf8_imports_every_row(client, ent, bom):
    response = upload(client, ent, csv_file(ROWS, bom=bom))
    assert response.status_code == 200, response.text
    assert response.json() == OK_CREATED_2
    workers = _workers()
    assert set(workers) == {ID1, ID2}
    zhang = workers[ID1]
    assert (zhang.full_name, zhang.phone, zhang.job_category, zhang.hired_on,
            zhang.enterprise_id, zhang.education_level) == (
        "张三", "13800138001", "general.underground", date(2020, 3, 1), ent["id"], None)
    assert workers[ID2].job_category == "coal.gas_inspection"


def test_xlsx_imports_with_typed_cells(client, ent):
    # Excel keeps phones as numbers and dates as dates; the optional column may be there.
    data = xlsx_file([[ID1, "张三", 13800138001, "general.underground", datetime(2020, 3, 1)],
                      [ID2, "李四", None, "coal.gas_inspection", date(2019, 7, 15), "bachelor"]],
                     header=[*HEADER, "education_level"])
    response = upload(client, ent, data, filename="roster.xlsx")
    assert response.status_code == 200, response.text
    assert response.json() == OK_CREATED_2
    workers = _workers()
    assert (workers[ID1].phone, workers[ID1].hired_on) == ("13800138001", date(2020, 3, 1))
    assert (workers[ID2].phone, workers[ID2].education_level) == ("", "bachelor")


def test_reimporting_the_same_file_changes_nothing(client, ent):
    data = csv_file(ROWS)
    assert upload(client, ent, data).json() == OK_CREATED_2
    before = _workers()
    counts = _counts()
    again = upload(client, ent, data)
    assert again.status_code == 200
    assert again.json() == {"created": 0, "updated": 0, "unchanged": 2, "dry_run": False,
                            "errors": []}
    after = _workers()
    assert {k: (w.id, w.updated_at) for k, w in after.items()} == {
        k: (w.id, w.updated_at) for k, w in before.items()}
    assert _counts()[:2] == counts[:2]


def test_a_changed_phone_updates_that_worker_in_place(client, ent):
    assert upload(client, ent, csv_file(ROWS)).json() == OK_CREATED_2
    before = _workers()
    counts = _counts()
    changed = [[ID1, "张三", "13900139009", "general.underground", "2020-03-01"], ROWS[1],
               [ID3, "王五", "", "general.open_pit", "2021/5/6"]]
    response = upload(client, ent, csv_file(changed))
    assert response.json() == {"created": 1, "updated": 1, "unchanged": 1, "dry_run": False,
                               "errors": []}
    after = _workers()
    assert after[ID1].id == before[ID1].id and after[ID1].user_id == before[ID1].user_id
    assert after[ID1].phone == "13900139009"
    assert after[ID2].phone == "13800138002"
    assert after[ID3].hired_on == date(2021, 5, 6)
    assert _counts()[:2] == (counts[0] + 1, counts[1] + 1)


def test_import_is_audited(client, ent):
    upload(client, ent, csv_file(ROWS))
    with app_db.open_session(write=False) as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "roster.imported")).one()
    assert (event.object_type, event.object_id, event.enterprise_id) == (
        "enterprise", str(ent["id"]), ent["id"])
    assert event.detail == {"filename": "roster.csv", "created": 2, "updated": 0,
                            "unchanged": 0}


# --- bad files: every problem, nothing written ----------------------------------------------

def _errors(response) -> list[tuple[int, str, str]]:
    return [(e["row"], e["column"], e["message"]) for e in response.json()["errors"]]


def test_bad_rows_are_all_reported_with_row_and_column_and_nothing_is_written(client, ent):
    future = (date.today() + timedelta(days=30)).isoformat()
    wrong_check = ID2[:17] + ("0" if ID2[17] != "0" else "1")
    rows = [
        ROWS[0],                                                              # row 2: fine
        [wrong_check, "李四", "13800138002", "general.underground", "2019-07-15"],  # row 3
        [ID3, "王五", "13800138003", "coal.unicorn", "2019-07-15"],                # row 4
        [make_resident_id(birth=date(1970, 1, 1), sequence=5), "赵六", "", "general.underground",
         "2021-13-45"],                                                          # row 5
        [make_resident_id(birth=date(1971, 1, 1), sequence=6), "钱七", "", "general.underground",
         future],                                                                # row 6
        [ID1, "张三", "13800138001", "general.underground", "2020-03-01"],        # row 7
        [make_resident_id(birth=date(1972, 1, 1), sequence=8), "", "12345", "general.underground",
         "2020-01-01"],                                                          # row 8
    ]
    counts = _counts()
    response = upload(client, ent, csv_file(rows, bom=True))
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "roster_invalid"
    assert _errors(response) == [
        (3, "id_number", f"check digit should be {ID2[17]}"),
        (4, "job_category", "Unknown job category coal.unicorn; use a code such as "
                            "general.underground or coal.gas_inspection."),
        (5, "hired_on", "2021-13-45 is not a date; write it as 2024-03-05."),
        (6, "hired_on", f"The hiring date {future} is in the future."),
        (7, "id_number", "The ID number appears twice in the file (first in row 2)."),
        (8, "full_name", "The name is missing."),
        (8, "phone", "12345 is not a mobile number (11 digits starting with 1)."),
    ]
    assert response.json()["detail"] == "6 rows of the file have errors; nothing was imported."
    assert _counts() == counts
    # dry_run reports exactly the same.
    dry = upload(client, ent, csv_file(rows), dry_run=True)
    assert (dry.status_code, _errors(dry)) == (422, _errors(response))
    assert _counts() == counts


def test_bad_rows_in_xlsx_use_the_excel_row_numbers(client, ent):
    data = xlsx_file([ROWS[0], [None] * 5, [ID2, "李四", "13800138002", "nope", "2019-07-15"]])
    response = upload(client, ent, data, filename="roster.xlsx")
    assert response.status_code == 422
    assert [(row, column) for row, column, _m in _errors(response)] == [(4, "job_category")]
    assert _workers() == {}


def test_missing_column_is_reported_on_the_header_row(client, ent):
    counts = _counts()
    response = upload(client, ent, csv_file([row[:4] for row in ROWS], header=HEADER[:4]))
    assert response.status_code == 422
    assert _errors(response) == [(1, "hired_on", "Missing required columns: hired_on")]
    assert _counts() == counts


def test_gbk_csv_is_refused_with_advice(client, ent):
    counts = _counts()
    response = upload(client, ent, csv_file(ROWS, encoding="gbk"))
    assert response.status_code == 422
    (row, column, message), = _errors(response)
    assert (row, column) == (1, "")
    assert message == ('The file looks like it was saved in GBK/GB18030 encoding: in Excel '
                       'choose "Save As" > "CSV UTF-8 (Comma delimited)" and upload it again')
    assert _counts() == counts


def test_an_id_number_on_another_enterprises_roster_is_refused(client, db, ent):
    other = f.enterprise(db, region="150602", name="Bravo Mine")
    theirs = f.worker(db, other, full_name="周八")
    db.commit()
    counts = _counts()
    rows = [ROWS[0], [theirs.id_number, "周八改", "13800138009", "general.underground",
                      "2020-01-01"]]
    response = upload(client, ent, csv_file(rows))
    assert response.status_code == 422
    assert _errors(response) == [(3, "id_number", "This person is on another enterprise's "
                                                  "roster; ask an administrator to transfer them.")]
    assert _counts() == counts
    kept = _workers()[theirs.id_number]
    assert (kept.enterprise_id, kept.full_name) == (other.id, "周八")


# --- dry run --------------------------------------------------------------------------------

def test_dry_run_counts_but_writes_nothing(client, ent):
    counts = _counts()
    response = upload(client, ent, csv_file(ROWS), dry_run=True)
    assert response.status_code == 200
    assert response.json() == {**OK_CREATED_2, "dry_run": True}
    assert _counts() == counts
    assert upload(client, ent, csv_file(ROWS)).json() == OK_CREATED_2
    changed = [[ID1, "张三", "13900139009", "general.underground", "2020-03-01"], ROWS[1]]
    dry = upload(client, ent, csv_file(changed), dry_run=True)
    assert dry.json() == {"created": 0, "updated": 1, "unchanged": 1, "dry_run": True,
                          "errors": []}
    assert _workers()[ID1].phone == "13800138001"


# --- who may import -------------------------------------------------------------------------

@pytest.mark.parametrize(("who", "status"), [
    ("other enterprise_admin", 404), ("regulator 14", 403), ("regulator 140105", 403),
    ("regulator 1402", 404), ("regulator 15", 404), ("worker", 404)])
def test_only_admins_and_the_enterprise_admin_import(client, db, ent, who, status):
    other = f.enterprise(db, region="150602")
    users = {
        "other enterprise_admin": lambda: f.user(db, Role.ENTERPRISE_ADMIN, username="u",
                                                 enterprise_id=other.id),
        "regulator 14": lambda: f.user(db, Role.REGULATOR, username="u", region_code="14"),
        "regulator 140105": lambda: f.user(db, Role.REGULATOR, username="u",
                                           region_code="140105"),
        "regulator 1402": lambda: f.user(db, Role.REGULATOR, username="u", region_code="1402"),
        "regulator 15": lambda: f.user(db, Role.REGULATOR, username="u", region_code="15"),
        "worker": lambda: f.user(db, Role.WORKER, username="u", enterprise_id=ent["id"]),
    }
    users[who]()
    db.commit()
    counts = _counts()
    auth = f.token(client, "u")
    response = upload(client, ent, csv_file(ROWS), auth=auth)
    assert response.status_code == status, response.text
    assert "Alpha Mine" not in response.text
    assert _counts()[:2] == counts[:2]


def test_admin_imports_into_any_enterprise(client, db, ent):
    f.user(db, Role.ADMIN, username="root")
    db.commit()
    response = upload(client, ent, csv_file(ROWS), auth=f.token(client, "root"))
    assert response.json() == OK_CREATED_2


def test_anonymous_import_is_401(client, ent):
    response = upload(client, ent, csv_file(ROWS), auth={})
    assert response.status_code == 401
    assert _workers() == {}


# --- the imported worker's login ------------------------------------------------------------

def test_imported_worker_logs_in_with_the_id_number_once_a_password_is_set(client, ent):
    id_x = next(n for n in (make_resident_id(birth=date(1988, 8, 8), sequence=s)
                            for s in range(100)) if n.endswith("X"))
    rows = [[id_x, "孙九", "13800138010", "general.underground", "2020-03-01"]]
    assert upload(client, ent, csv_file(rows)).json()["created"] == 1
    with app_db.open_session(write=False) as s:
        user = s.scalars(select(User).where(User.username == id_x)
                         .options(selectinload(User.roles))).one()
        worker = s.scalars(select(Worker).where(Worker.id_number == id_x)).one()
    assert (user.role_names, user.password_hash, user.enterprise_id, user.full_name) == (
        ["worker"], None, ent["id"], "孙九")
    assert worker.user_id == user.id
    # No password yet: nothing gets in, not even an empty one.
    for password, status in (("", 422), ("anything-at-all", 401), (id_x, 401)):
        refused = client.post("/api/v1/auth/token", data={"username": id_x, "password": password})
        assert refused.status_code == status, (password, refused.text)
    assert client.put(f"/api/v1/workers/{worker.id}/password", json={"password": "pit-head-2026"},
                      headers=ent["auth"]).status_code == 204
    me = client.get("/api/v1/me", headers=f.token(client, id_x.lower(), "pit-head-2026")).json()
    assert me == {"id": user.id, "username": id_x, "full_name": "孙九", "roles": ["worker"],
                  "enterprise_id": ent["id"], "region_code": None}


@pytest.mark.parametrize("role", [Role.ADMIN, Role.REGULATOR, Role.ENTERPRISE_ADMIN])
def test_an_id_number_that_is_a_staff_login_is_not_taken_over(client, db, ent, role):
    """Importing a row must not attach a worker profile (whose password the enterprise admin
    may then set) to an existing staff account that happens to use the ID number as login."""
    staff = f.user(db, role, username=ID3, region_code="14" if role is Role.REGULATOR else None,
                   enterprise_id=ent["id"] if role is Role.ENTERPRISE_ADMIN else None)
    db.commit()
    counts = _counts()
    rows = [ROWS[0], [ID3, "王五", "13800138003", "general.underground", "2020-01-01"]]
    response = upload(client, ent, csv_file(rows))
    assert response.status_code == 422
    assert [(row, column) for row, column, _m in _errors(response)] == [(3, "id_number")]
    assert _counts() == counts
    with app_db.open_session(write=False) as s:
        kept = s.get(User, staff.id)
        assert (kept.enterprise_id, kept.password_hash) == (staff.enterprise_id,
                                                             staff.password_hash)


# --- a big file does not stall the server (issue 9 item 13) --------------------------------

def big_roster(rows: int) -> bytes:
    """A valid .xlsx roster of `rows` distinct workers, as Excel would hold it."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(HEADER)
    for n in range(rows):
        birth = date(1970, 1, 1) + timedelta(days=n // 1000)
        sheet.append([make_resident_id(region="140105", birth=birth, sequence=n % 1000),
                      f"工人{n}", 13800000000 + n, "general.underground", date(2015, 3, 1)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_big_import_is_parsed_off_the_event_loop_and_outside_the_write_lock(
        client, ent, monkeypatch):
    """While a 14,000-row workbook is parsed, a page and a write both answer at once: the
    parse runs in a worker thread, after the read transaction and before the write one."""
    from app.organisations import roster

    data = big_roster(14_000)
    parsing, parsed = threading.Event(), threading.Event()
    real_parse = roster.parse_roster

    def observed_parse(**kwargs):  # type: ignore[no-untyped-def]
        parsing.set()
        try:
            return real_parse(**kwargs)
        finally:
            parsed.set()

    monkeypatch.setattr(roster, "parse_roster", observed_parse)
    outcome: dict[str, object] = {}
    importer = threading.Thread(target=lambda: outcome.update(
        response=upload(client, ent, data, filename="big.xlsx")))
    importer.start()
    assert parsing.wait(30)
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        assert client.get("/healthz").status_code == 200
        timings.append(time.perf_counter() - started)
    started = time.perf_counter()
    # A write on the same database: signing in for an API token stores the token.
    f.token(client, "a.admin")
    write_time = time.perf_counter() - started
    during_parse = not parsed.is_set()
    importer.join(120)
    assert not importer.is_alive()
    response = outcome["response"]
    assert response.status_code == 200, response.text  # type: ignore[attr-defined]
    assert response.json()["created"] == 14_000  # type: ignore[attr-defined]
    assert during_parse, "the parse ended before the other requests: the file is too small"
    assert max(timings) < 1.0, timings
    assert write_time < 2.0, write_time
    assert _counts()[0] == 14_000


# --- the optional team column -------------------------------------------------------------

TEAM_HEADER = [*HEADER, "team"]


def _teams() -> dict[str, str | None]:
    return {number: w.team for number, w in _workers().items()}


def test_a_team_column_sets_teams_and_reimporting_it_changes_nothing(client, ent):
    rows = [[*ROWS[0], " 综采一队 "], [*ROWS[1], "掘进二队"]]
    assert upload(client, ent, csv_file(rows, header=TEAM_HEADER)).json() == OK_CREATED_2
    assert _teams() == {ID1: "综采一队", ID2: "掘进二队"}
    again = upload(client, ent, csv_file(rows, header=TEAM_HEADER))
    assert again.json()["unchanged"] == 2 and again.json()["updated"] == 0


def test_a_file_without_the_team_column_keeps_every_team(client, ent):
    upload(client, ent, csv_file([[*ROWS[0], "通风队"], [*ROWS[1], ""]], header=TEAM_HEADER))
    response = upload(client, ent, csv_file(ROWS))  # the contract's five columns only
    assert response.status_code == 200, response.text
    assert response.json()["unchanged"] == 2
    changed = upload(client, ent, csv_file([[ROWS[0][0], "张三丰", *ROWS[0][2:]], ROWS[1]]))
    assert (changed.json()["updated"], changed.json()["unchanged"]) == (1, 1)
    assert _teams() == {ID1: "通风队", ID2: None}
    assert _workers()[ID1].full_name == "张三丰"


def test_an_empty_team_cell_clears_the_team(client, ent):
    upload(client, ent, csv_file([[*ROWS[0], "机电队"], [*ROWS[1], "机电队"]],
                                 header=TEAM_HEADER))
    response = upload(client, ent, xlsx_file([[*ROWS[0], None], [*ROWS[1], "机电队"]],
                                             header=TEAM_HEADER), filename="roster.xlsx")
    assert (response.json()["updated"], response.json()["unchanged"]) == (1, 1)
    assert _teams() == {ID1: None, ID2: "机电队"}


def test_a_team_name_over_60_characters_is_refused_and_nothing_is_written(client, ent):
    before = _counts()
    response = upload(client, ent, csv_file([[*ROWS[0], "队" * 61], [*ROWS[1], "队" * 60]],
                                            header=TEAM_HEADER))
    assert response.status_code == 422
    assert _errors(response) == [(2, "team", "The team name is longer than 60 characters.")]
    assert _counts() == before


def test_the_roster_api_lists_filters_and_sets_teams(client, db, ent):
    upload(client, ent, csv_file([[*ROWS[0], "综采一队"], [*ROWS[1], "通风队"]],
                                 header=TEAM_HEADER))
    url = f"/api/v1/enterprises/{ent['id']}/workers"
    listed = client.get(url, params={"team": "通风队"}, headers=ent["auth"]).json()
    assert [(w["full_name"], w["team"]) for w in listed["items"]] == [("李四", "通风队")]
    assert listed["total"] == 1
    assert client.get(url, params={"team": "nobody"}, headers=ent["auth"]).json()["total"] == 0
    worker_id = _workers()[ID1].id
    moved = client.put(f"/api/v1/workers/{worker_id}/team", json={"team": "  机电队 "},
                       headers=ent["auth"])
    assert moved.status_code == 200, moved.text
    assert moved.json()["team"] == "机电队" and _teams()[ID1] == "机电队"
    too_long = client.put(f"/api/v1/workers/{worker_id}/team", json={"team": "x" * 61},
                          headers=ent["auth"])
    assert too_long.status_code == 422 and _teams()[ID1] == "机电队"
    cleared = client.put(f"/api/v1/workers/{worker_id}/team", json={"team": ""},
                         headers=ent["auth"])
    assert cleared.json()["team"] is None and _teams()[ID1] is None
    with app_db.open_session(write=False) as s:
        events = s.scalars(select(AuditEvent).where(
            AuditEvent.action == "worker.team_changed").order_by(AuditEvent.id)).all()
        assert [e.detail for e in events] == [{"from": "综采一队", "to": "机电队"},
                                              {"from": "机电队", "to": None}]
    other = f.enterprise(db, region="140105", name="Other Mine")
    f.user(db, Role.ENTERPRISE_ADMIN, username="o.admin", enterprise_id=other.id)
    db.commit()
    refused = client.put(f"/api/v1/workers/{worker_id}/team", json={"team": "x"},
                         headers=f.token(client, "o.admin"))
    assert refused.status_code in (403, 404) and _teams()[ID1] is None
