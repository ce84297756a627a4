"""The oversight dashboard and the compliance page: content, links, filters, languages."""

from __future__ import annotations

import io
import re

import pytest
from openpyxl import load_workbook

from app.accounts.models import Role
from app.oversight import generator
from tests import factories as f


@pytest.fixture
def world(db):
    ent_a = f.enterprise(db, region="140105", name="Alpha Colliery")
    ent_b = f.enterprise(db, region="150602", name="Beta Ordos Mine")
    worker = f.worker(db, ent_a, full_name="王守矿")
    generator.generate(db=db, workers=60, seed=9, enterprise_ids=[ent_a.id, ent_b.id])
    f.user(db, Role.ADMIN, username="root")
    f.user(db, Role.REGULATOR, username="reg14", region_code="14")
    f.user(db, Role.REGULATOR, username="reg15", region_code="15")
    f.user(db, Role.ENTERPRISE_ADMIN, username="a.admin", enterprise_id=ent_a.id)
    db.commit()
    return {"a": ent_a.id, "b": ent_b.id, "worker": worker}


def test_dashboard_shows_charts_tables_and_drill_down(client, world):
    f.login(client, "reg14")
    page = client.get("/oversight")
    assert page.status_code == 200
    html = page.text
    assert "Alpha Colliery" in html and "Beta Ordos" not in html
    assert html.count('role="img"') >= 3 and "<title id=\"chart-" in html and "<desc" in html
    assert f"/enterprises/{world['a']}/compliance?year=" in html
    assert "/api/v1/oversight.xlsx?region=14" in html
    sub = client.get("/oversight", params={"region": "1401"})
    assert sub.status_code == 200 and "Alpha Colliery" in sub.text
    assert client.get("/oversight", params={"region": "15"}).status_code == 404
    # the page's download link works with the session cookie
    link = re.search(r'href="(/api/v1/oversight\.xlsx\?[^"]+)"', html).group(1)
    book = client.get(link.replace("&amp;", "&"))
    assert book.status_code == 200
    names = [r[1] for r in load_workbook(io.BytesIO(book.content)).worksheets[0]
             .iter_rows(min_row=2, values_only=True)]
    assert names == ["Alpha Colliery"]


def test_dashboard_in_chinese(client, world):
    f.login(client, "root")
    page = client.get("/oversight", headers={"Accept-Language": "zh-CN"})
    assert page.status_code == 200
    assert "监管" in page.text and "Beta Ordos Mine" in page.text


@pytest.mark.parametrize("username", ["a.admin", None])
def test_dashboard_refuses_non_regulators(client, world, username):
    f.login(client, username or world["worker"].id_number)
    assert client.get("/oversight").status_code == 403


def test_compliance_page_filters_sorts_and_exports_what_it_shows(client, world):
    f.login(client, "a.admin")
    url = f"/enterprises/{world['a']}/compliance"
    page = client.get(url, params={"sort": "name", "page_size": 200})
    assert page.status_code == 200
    shown = re.findall(r'<th scope="row"><a href="[^"]+">([^<]+)</a>', page.text)
    assert shown == sorted(shown) and "王守矿" in shown
    assert f'href="/workers/{world["worker"].id}' in page.text \
        or f'href="/workers/{world["worker"].id}/transcript' in page.text
    short = client.get(url, params={"status": "short_of_hours", "sort": "-credited_hours"})
    link = re.search(r'href="(/api/v1/enterprises/\d+/compliance\.xlsx\?[^"]+)"', short.text)
    assert link and "status=short_of_hours" in link.group(1)
    book = load_workbook(io.BytesIO(client.get(link.group(1).replace("&amp;", "&")).content))
    rows = list(book.worksheets[0].iter_rows(min_row=2, values_only=True))
    assert all(r[-1] == "short_of_hours" for r in rows)
    shown = re.findall(r'<th scope="row"><a href="[^"]+">([^<]+)</a>', short.text)
    assert [r[1] for r in rows][:len(shown)] == shown
    assert client.get(url, params={"status": "nonsense"}).status_code in (400, 422)
    # the filter form sends empty fields for "any"
    assert client.get(url, params={"year": "2026", "status": "", "job_category": "",
                                   "sort": "status"}).status_code == 200


def test_compliance_page_jurisdiction(client, world):
    f.login(client, "reg15")
    assert client.get(f"/enterprises/{world['a']}/compliance").status_code == 404
    assert client.get(f"/enterprises/{world['b']}/compliance").status_code == 200


def test_home_pages_link_the_dashboard_and_the_compliance_list(client, world, make_client):
    f.login(client, "reg14")
    assert "/oversight" in client.get("/").text
    other = make_client()
    f.login(other, "a.admin")
    assert f"/enterprises/{world['a']}/compliance" in other.get("/").text
