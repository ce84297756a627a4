"""Organisation pages: the enterprise list by jurisdiction, the roster page (search, job
category filter, pagination, htmx partial), the import flow with its preview and confirmation,
the .xlsx export (formula injection neutralised) and setting a worker's password."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from app import db as app_db
from app.accounts.models import AuditEvent, Role, User
from app.organisations.models import RosterUpload, Worker
from app.organisations.validators import make_resident_id
from tests import factories as f

ID1 = make_resident_id(region="140105", birth=date(1980, 1, 1), sequence=11)
ID2 = make_resident_id(region="140105", birth=date(1985, 6, 15), sequence=22)
GOOD_CSV = ("id_number,full_name,phone,job_category,hired_on\n"
            f"{ID1},张三,13800138001,general.underground,2020-03-01\n"
            f"{ID2},李四,13800138002,coal.gas_inspection,2019-07-15\n").encode()
BAD_CSV = ("id_number,full_name,phone,job_category,hired_on\n"
           f"{ID1},张三,13800138001,general.underground,2020-03-01\n"
           f"{ID2[:17]}{'0' if ID2[17] != '0' else '1'},李四,13800138002,coal.unicorn,2019-07-15\n"
           ).encode()
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _counts() -> tuple[int, int, int]:
    """(workers, users, pending uploads) as the database has them now."""
    with app_db.open_session(write=False) as s:
        return tuple(s.scalar(select(func.count()).select_from(model)) or 0  # type: ignore[return-value]
                     for model in (Worker, User, RosterUpload))


def _roster_rows(html: str) -> list[str]:
    """The worker names in the roster table, in order."""
    return re.findall(r'<td><a href="/workers/\d+">([^<]+)</a></td>', html)


@pytest.fixture
def world(db):
    """Enterprise A (Taiyuan), B (Datong, same province), C (Ordos) and their staff."""
    a = f.enterprise(db, region="140105", name="Alpha Taiyuan Mine")
    b = f.enterprise(db, region="140202", name="Bravo Datong Mine")
    c = f.enterprise(db, region="150602", name="Charlie Ordos Mine")
    f.user(db, Role.ADMIN, username="root")
    f.user(db, Role.ENTERPRISE_ADMIN, username="a.admin", enterprise_id=a.id)
    f.user(db, Role.ENTERPRISE_ADMIN, username="a.admin2", enterprise_id=a.id)
    f.user(db, Role.ENTERPRISE_ADMIN, username="c.admin", enterprise_id=c.id)
    for region in ("14", "1401", "15"):
        f.user(db, Role.REGULATOR, username=f"reg{region}", region_code=region)
    db.commit()
    return {"a": a, "b": b, "c": c}


# --- /enterprises -----------------------------------------------------------------------

@pytest.mark.parametrize(("viewer", "expected"), [
    ("root", ["Alpha Taiyuan Mine", "Bravo Datong Mine", "Charlie Ordos Mine"]),
    ("reg14", ["Alpha Taiyuan Mine", "Bravo Datong Mine"]),
    ("reg1401", ["Alpha Taiyuan Mine"]),
    ("reg15", ["Charlie Ordos Mine"]),
])
def test_enterprise_list_shows_the_jurisdiction_only(client, world, viewer, expected):
    f.login(client, viewer)
    page = client.get("/enterprises")
    assert page.status_code == 200
    shown = re.findall(r'<a href="/enterprises/\d+">([^<]+)</a>', page.text)
    assert shown == expected
    assert f"{len(expected)} enterprise" in page.text


def test_enterprise_admin_goes_straight_to_its_enterprise(client, world):
    f.login(client, "a.admin")
    response = client.get("/enterprises", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/enterprises/{world['a'].id}"


# --- the roster page ----------------------------------------------------------------------

@pytest.fixture
def thirty(db, world):
    """30 workers in A, named Worker 00..29; every third one a gas inspector."""
    workers = [f.worker(db, world["a"], full_name=f"Worker {n:02d}",
                        birth=date(1970 + n, 1 + n % 12, 1 + n % 28),
                        job_category="coal.gas_inspection" if n % 3 == 0 else
                        "general.underground")
               for n in range(30)]
    db.commit()
    return workers


def test_roster_pages_through_thirty_workers(client, world, thirty):
    f.login(client, "a.admin")
    url = f"/enterprises/{world['a'].id}"
    pages = [client.get(url, params={"page": p, "page_size": 10}) for p in (1, 2, 3)]
    assert [p.status_code for p in pages] == [200, 200, 200]
    assert [_roster_rows(p.text) for p in pages] == [
        [f"Worker {n:02d}" for n in range(k * 10, k * 10 + 10)] for k in range(3)]
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} of 3" in page.text
        assert "30 workers" in page.text
    first, middle, last = (p.text for p in pages)
    assert 'href="?page=2&amp;page_size=10" rel="next"' in first and 'rel="prev"' not in first
    assert 'href="?page=1&amp;page_size=10" rel="prev"' in middle
    assert 'href="?page=3&amp;page_size=10" rel="next"' in middle
    assert 'href="?page=2&amp;page_size=10" rel="prev"' in last and 'rel="next"' not in last
    # The enterprise's own administrator sees full ID numbers.
    assert thirty[0].id_number in first


def test_roster_search_and_filter_keep_their_parameters_in_page_links(client, world, thirty):
    f.login(client, "reg14")
    url = f"/enterprises/{world['a'].id}"
    by_name = client.get(url, params={"q": "Worker 1"})
    assert _roster_rows(by_name.text) == [f"Worker {n}" for n in range(10, 20)]
    target = thirty[7]
    by_id = client.get(url, params={"q": target.id_number[:14]})
    assert _roster_rows(by_id.text) == ["Worker 07"]
    # A regulator sees masked ID numbers only.
    assert target.id_number not in by_id.text
    assert target.id_number[:6] + "********" + target.id_number[-4:] in by_id.text
    gas = client.get(url, params={"job_category": "coal.gas_inspection", "page_size": 4})
    assert _roster_rows(gas.text) == ["Worker 00", "Worker 03", "Worker 06", "Worker 09"]
    assert "10 workers" in gas.text and "Page 1 of 3" in gas.text
    assert ('href="?job_category=coal.gas_inspection&amp;page=2&amp;page_size=4" rel="next"'
            in gas.text)
    both = client.get(url, params={"q": "Worker 2", "job_category": "coal.gas_inspection"})
    assert _roster_rows(both.text) == ["Worker 21", "Worker 24", "Worker 27"]
    none = client.get(url, params={"q": "Nobody"})
    assert _roster_rows(none.text) == [] and "No workers match." in none.text


def test_htmx_search_gets_only_the_roster_partial(client, world, thirty):
    f.login(client, "a.admin")
    url = f"/enterprises/{world['a'].id}"
    partial = client.get(url, params={"q": "Worker 0", "page_size": 5},
                         headers={"HX-Request": "true", "HX-Target": "roster"})
    assert partial.status_code == 200
    assert "<html" not in partial.text and "<!doctype" not in partial.text.lower()
    assert 'id="roster"' not in partial.text and "<form" not in partial.text
    assert _roster_rows(partial.text) == [f"Worker 0{n}" for n in range(5)]
    assert "10 workers" in partial.text and "Page 1 of 2" in partial.text
    full = client.get(url, params={"q": "Worker 0", "page_size": 5})
    assert full.text.lower().startswith("<!doctype html>")
    assert 'id="roster"' in full.text and 'hx-target="#roster"' in full.text


# --- import: upload, preview, confirm or cancel -------------------------------------------

def _upload(client, world, data: bytes, csrf: str, filename: str = "roster.csv"):
    return client.post(f"/enterprises/{world['a'].id}/import", data={"csrf_token": csrf},
                       files={"file": (filename, data, "text/csv")})


def _token(preview_html: str, enterprise_id: int) -> str:
    match = re.search(rf'action="/enterprises/{enterprise_id}/import/([A-Za-z0-9_\-]+)"',
                      preview_html)
    assert match, "no confirm form on the preview page"
    return match.group(1)


def test_import_page_lists_every_bad_row_and_writes_nothing(client, world):
    csrf = f.login(client, "a.admin")
    form = client.get(f"/enterprises/{world['a'].id}/import")
    assert form.status_code == 200 and 'enctype="multipart/form-data"' in form.text
    counts = _counts()
    page = _upload(client, world, BAD_CSV, csrf)
    assert page.status_code == 422
    assert "1 rows of the file have errors; nothing was imported." in page.text
    cells = re.findall(r"<tr><td>(\d+)</td><td><code>([a-z_]*)</code></td><td>([^<]*)</td></tr>",
                       page.text)
    assert cells == [
        ("3", "id_number", f"check digit should be {ID2[17]}"),
        ("3", "job_category", "Unknown job category coal.unicorn; use a code such as "
                              "general.underground or coal.gas_inspection."),
    ]
    assert _counts() == counts


def test_import_preview_then_confirm(client, world):
    csrf = f.login(client, "a.admin")
    counts = _counts()
    preview = _upload(client, world, GOOD_CSV, csrf)
    assert preview.status_code == 200
    assert "The file roster.csv is valid. Nothing has been imported yet." in preview.text
    stats = re.findall(r'<div class="stat"><strong>(\d+)</strong><span>([^<]+)</span>',
                       preview.text)
    assert stats == [("2", "new workers"), ("0", "updated"), ("0", "unchanged")]
    assert ID1 in preview.text and "Import 2 rows" in preview.text
    assert _counts() == (counts[0], counts[1], counts[2] + 1)  # only the pending upload
    token = _token(preview.text, world["a"].id)
    done = client.post(f"/enterprises/{world['a'].id}/import/{token}",
                       data={"csrf_token": csrf, "action": "import"}, follow_redirects=False)
    assert done.status_code == 303
    assert done.headers["location"] == f"/enterprises/{world['a'].id}"
    page = client.get(done.headers["location"])
    assert "Roster imported: 2 added, 0 updated, 0 unchanged." in page.text
    assert sorted(_roster_rows(page.text)) == sorted(["张三", "李四"])
    assert _counts() == (counts[0] + 2, counts[1] + 2, counts[2])
    with app_db.open_session(write=False) as s:
        assert s.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "roster.imported")) == 1
    # The token is spent.
    again = client.post(f"/enterprises/{world['a'].id}/import/{token}",
                        data={"csrf_token": csrf, "action": "import"}, follow_redirects=False)
    assert again.status_code == 404


def test_import_cancel_writes_nothing(client, world):
    csrf = f.login(client, "a.admin")
    counts = _counts()
    token = _token(_upload(client, world, GOOD_CSV, csrf).text, world["a"].id)
    cancelled = client.post(f"/enterprises/{world['a'].id}/import/{token}",
                            data={"csrf_token": csrf, "action": "cancel"},
                            follow_redirects=False)
    assert cancelled.status_code == 303
    assert "Import cancelled; nothing changed." in client.get(cancelled.headers["location"]).text
    assert _counts() == counts
    confirm = client.post(f"/enterprises/{world['a'].id}/import/{token}",
                          data={"csrf_token": csrf, "action": "import"}, follow_redirects=False)
    assert confirm.status_code == 404
    assert _counts() == counts


@pytest.mark.parametrize("other", ["a.admin2", "root", "c.admin", "reg14"])
def test_nobody_else_can_confirm_an_upload(client, make_client, world, other):
    csrf = f.login(client, "a.admin")
    token = _token(_upload(client, world, GOOD_CSV, csrf).text, world["a"].id)
    counts = _counts()
    browser = make_client()
    other_csrf = f.login(browser, other)
    response = browser.post(f"/enterprises/{world['a'].id}/import/{token}",
                            data={"csrf_token": other_csrf, "action": "import"},
                            follow_redirects=False)
    assert response.status_code == (403 if other == "reg14" else 404)
    assert _counts() == counts
    # Still there for its owner.
    owner = client.post(f"/enterprises/{world['a'].id}/import/{token}",
                        data={"csrf_token": csrf, "action": "import"}, follow_redirects=False)
    assert owner.status_code == 303


def test_confirm_needs_the_csrf_token(client, world):
    csrf = f.login(client, "a.admin")
    token = _token(_upload(client, world, GOOD_CSV, csrf).text, world["a"].id)
    counts = _counts()
    forged = client.post(f"/enterprises/{world['a'].id}/import/{token}",
                         data={"csrf_token": "0" * 64, "action": "import"},
                         follow_redirects=False)
    assert forged.status_code == 403
    assert _counts() == counts


# --- export ---------------------------------------------------------------------------------

DANGEROUS_NAMES = ['=HYPERLINK("http://x")', "+1", "-2", "@SUM(A1)"]


def test_export_is_an_xlsx_with_the_import_columns_and_no_formulas(client, db, world):
    for n, name in enumerate(DANGEROUS_NAMES):
        f.worker(db, world["a"], full_name=name, birth=date(1980 + n, 2, 2))
    plain = f.worker(db, world["a"], full_name="张三", birth=date(1990, 1, 1))
    db.commit()
    f.login(client, "a.admin")
    response = client.get(f"/enterprises/{world['a'].id}/roster.xlsx")
    assert response.status_code == 200
    assert response.headers["content-type"] == XLSX
    assert response.headers["content-disposition"] == (
        f'attachment; filename="roster-{world["a"].credit_code}.xlsx"')
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    rows = list(sheet.iter_rows())
    assert [c.value for c in rows[0]] == ["id_number", "full_name", "phone", "job_category",
                                          "hired_on", "education_level", "team"]
    assert all(cell.data_type != "f" for row in rows for cell in row)
    names = sorted(row[1].value for row in rows[1:])
    assert names == sorted(["'" + name for name in DANGEROUS_NAMES] + ["张三"])
    line = next(row for row in rows[1:] if row[1].value == "张三")
    assert line[0].value == plain.id_number and line[0].data_type == "s"
    assert (line[2].value, line[3].value, line[4].value.date()) == (
        "13800138000", "general.underground", date(2020, 3, 1))


def test_exported_roster_imports_back_unchanged(client, db, world):
    # Names starting with = + - @ are exported behind the formula guard "'"; importing the
    # export must read the guard back off (issue 9 item 20: it came back as part of the name).
    names = [f"Worker {n}" for n in range(3)] + DANGEROUS_NAMES
    teams = ["综采一队", None, "=掘进二队"]  # a team too may need the formula guard
    for n, name in enumerate(names):
        worker = f.worker(db, world["a"], full_name=name, birth=date(1980 + n, 2, 2))
        worker.team = teams[n % len(teams)]
    db.commit()

    def roster() -> list[tuple[object, ...]]:
        with app_db.open_session(write=False) as s:
            return [(w.id_number, w.full_name, w.phone, w.job_category, w.hired_on,
                     w.education_level, w.team)
                    for w in s.scalars(select(Worker).order_by(Worker.id))]

    before = roster()
    f.login(client, "a.admin")
    data = client.get(f"/enterprises/{world['a'].id}/roster.xlsx").content
    for _ in range(2):  # and the export of the re-imported roster is the same again
        response = client.post(f"/api/v1/enterprises/{world['a'].id}/workers/import",
                               files={"file": ("roster.xlsx", data, XLSX)},
                               headers=f.token(client, "a.admin"))
        assert response.status_code == 200, response.text
        assert response.json() == {"created": 0, "updated": 0, "unchanged": len(names),
                                   "dry_run": False, "errors": []}
        assert roster() == before
        data = client.get(f"/enterprises/{world['a'].id}/roster.xlsx").content


@pytest.mark.parametrize(("viewer", "status"), [("c.admin", 404), ("reg15", 404),
                                                ("reg14", 403)])
def test_export_by_others_is_refused(client, db, world, viewer, status):
    f.worker(db, world["a"], full_name="张三")
    db.commit()
    f.login(client, viewer)
    response = client.get(f"/enterprises/{world['a'].id}/roster.xlsx")
    assert response.status_code == status
    assert response.headers["content-type"].startswith("text/html")
    assert "张三" not in response.text


# --- a worker's page: setting the password ------------------------------------------------

def test_worker_page_sets_the_password(client, db, world):
    worker = f.worker(db, world["a"], full_name="张三")
    db.commit()
    csrf = f.login(client, "a.admin")
    page = client.get(f"/workers/{worker.id}")
    assert page.status_code == 200 and worker.id_number in page.text
    short = client.post(f"/workers/{worker.id}/password",
                        data={"csrf_token": csrf, "password": "short"}, follow_redirects=False)
    assert short.status_code == 400
    assert "The password must have at least 8 characters." in short.text
    done = client.post(f"/workers/{worker.id}/password",
                       data={"csrf_token": csrf, "password": "pit-head-2026"},
                       follow_redirects=False)
    assert done.status_code == 303
    assert "Password set. 张三 signs in with the ID number." in client.get(
        done.headers["location"]).text
    assert client.post("/api/v1/auth/token", data={
        "username": worker.id_number, "password": "pit-head-2026"}).status_code == 200


def test_confirm_checks_the_file_again(client, db, world):
    """The roster may change between preview and confirmation: the import is re-checked."""
    csrf = f.login(client, "a.admin")
    token = _token(_upload(client, world, GOOD_CSV, csrf).text, world["a"].id)
    login = f.user(db, Role.WORKER, username=ID2, enterprise_id=world["c"].id)
    db.add(Worker(user_id=login.id, enterprise_id=world["c"].id, id_number=ID2,
                  full_name="李四", phone="", job_category="general.underground",
                  hired_on=date(2019, 7, 15)))
    db.commit()
    counts = _counts()
    response = client.post(f"/enterprises/{world['a'].id}/import/{token}",
                           data={"csrf_token": csrf, "action": "import"}, follow_redirects=False)
    assert response.status_code == 422
    assert "1 rows of the file have errors; nothing was imported." in response.text
    assert "This person is on another enterprise&#39;s roster" in response.text
    assert _counts() == counts


# --- teams: the worker page and the roster filter -------------------------------------------

def test_worker_page_shows_and_edits_the_team(client, db, world):
    worker = f.worker(db, world["a"], full_name="张三")
    mate = f.worker(db, world["a"], full_name="李四", birth=date(1985, 5, 5))
    mate.team = "掘进二队"
    db.commit()
    csrf = f.login(client, "a.admin")
    page = client.get(f"/workers/{worker.id}")
    assert '<option value="掘进二队">' in page.text  # the enterprise's teams to pick from
    too_long = client.post(f"/workers/{worker.id}/team",
                           data={"csrf_token": csrf, "team": "队" * 61}, follow_redirects=False)
    assert too_long.status_code == 400
    assert "The team name is longer than 60 characters." in too_long.text
    done = client.post(f"/workers/{worker.id}/team",
                       data={"csrf_token": csrf, "team": "综采一队"}, follow_redirects=False)
    assert done.status_code == 303
    shown = client.get(done.headers["location"]).text
    assert "Team saved." in shown and "<dd>综采一队</dd>" in shown
    roster = client.get(f"/enterprises/{world['a'].id}", params={"team": "综采一队"}).text
    assert _roster_rows(roster) == ["张三"]
    assert '<option value="综采一队" selected>' in roster
    client.post(f"/workers/{worker.id}/team", data={"csrf_token": csrf, "team": ""})
    with app_db.open_session(write=False) as s:
        assert s.get(Worker, worker.id).team is None  # type: ignore[union-attr]


def test_a_regulator_sees_the_team_but_cannot_change_it(client, db, world):
    worker = f.worker(db, world["a"], full_name="张三")
    worker.team = "通风队"
    db.commit()
    csrf = f.login(client, "reg14")
    page = client.get(f"/workers/{worker.id}")
    assert "<dd>通风队</dd>" in page.text and 'name="team"' not in page.text
    refused = client.post(f"/workers/{worker.id}/team",
                          data={"csrf_token": csrf, "team": "机电队"}, follow_redirects=False)
    assert refused.status_code in (403, 404)
    with app_db.open_session(write=False) as s:
        assert s.get(Worker, worker.id).team == "通风队"  # type: ignore[union-attr]


def test_import_preview_shows_teams_only_for_a_file_with_the_team_column(client, world):
    csrf = f.login(client, "a.admin")
    assert "<code>team</code>" in client.get(f"/enterprises/{world['a'].id}/import").text
    plain = _upload(client, world, GOOD_CSV, csrf)
    assert plain.status_code == 200 and "<th>Team</th>" not in plain.text
    with_team = GOOD_CSV.replace(b"hired_on\n", b"hired_on,team\n", 1).replace(
        b"2020-03-01\n", "2020-03-01,综采一队\n".encode()).replace(b"2019-07-15\n",
                                                                  b"2019-07-15,\n")
    preview = _upload(client, world, with_team, csrf)
    assert preview.status_code == 200, preview.text
    assert "<th>Team</th>" in preview.text and "<td>综采一队</td>" in preview.text
