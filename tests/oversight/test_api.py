"""The compliance and oversight API: contract, jurisdiction, bad input, JSON = workbook."""

from __future__ import annotations

import io
from datetime import date

import pytest
from openpyxl import load_workbook

from app.accounts.models import Role
from app.oversight import compliance, generator
from tests import factories as f

TOTALS = {"workers", "compliant", "short_of_hours", "overdue_initial",
          "certificates_expiring_90d", "certificates_expired_or_suspended"}
REGION_TOTALS = TOTALS | {"enterprises", "theory_pass_rate", "practical_pass_rate",
                          "certificates_issued", "certificates_revoked",
                          "certificates_suspended", "hours_credited"}


@pytest.fixture
def world(db):
    ent_a = f.enterprise(db, region="140105", name="Alpha Colliery")
    ent_a2 = f.enterprise(db, region="140202", name="Datong Colliery")
    ent_b = f.enterprise(db, region="150602", name="Beta Ordos Mine")
    worker = f.worker(db, ent_a, full_name="王守矿")
    generator.generate(db=db, workers=90, seed=5, enterprise_ids=[ent_a.id, ent_a2.id, ent_b.id])
    f.user(db, Role.ADMIN, username="root")
    f.user(db, Role.REGULATOR, username="reg14", region_code="14")
    f.user(db, Role.REGULATOR, username="reg15", region_code="15")
    f.user(db, Role.REGULATOR, username="reg1401", region_code="1401")
    f.user(db, Role.ENTERPRISE_ADMIN, username="a.admin", enterprise_id=ent_a.id)
    f.user(db, Role.TRAINER, username="trainer")
    db.commit()
    return {"a": ent_a.id, "a2": ent_a2.id, "b": ent_b.id, "worker": worker.id_number}


def _get(client, username, url, **params):
    return client.get(url, params=params, headers=f.token(client, username))


def test_compliance_contract(client, world):
    response = _get(client, "a.admin", f"/api/v1/enterprises/{world['a']}/compliance")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["year"] == compliance.today().year and body["enterprise_id"] == world["a"]
    assert set(body["totals"]) == TOTALS
    assert body["totals"]["workers"] == 31 == sum(v for k, v in body["totals"].items()
                                                  if k != "workers")
    item = body["items"][0]
    assert {"worker_id", "full_name", "job_category", "required_hours", "credited_hours",
            "status", "theory_pass_valid_until", "certificates", "shortfall_hours"} <= set(item)
    assert item["status"] in {s.value for s in compliance.ComplianceStatus}
    past = _get(client, "a.admin", f"/api/v1/enterprises/{world['a']}/compliance", year=2024)
    assert past.status_code == 200 and past.json()["year"] == 2024
    assert past.json()["as_of"] == "2024-12-31"


def test_every_page_together_is_the_workbook(client, world):
    url = f"/api/v1/enterprises/{world['a']}/compliance"
    auth = f.token(client, "reg14")
    items, page = [], 1
    while True:
        body = client.get(url, params={"sort": "-credited_hours", "page": page,
                                       "page_size": 7}, headers=auth).json()
        items += body["items"]
        if len(items) >= body["total"]:
            break
        page += 1
    workbook = client.get(url.replace("compliance", "compliance.xlsx"),
                          params={"sort": "-credited_hours"}, headers=auth)
    assert workbook.status_code == 200
    assert workbook.headers["content-type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(workbook.content))
    rows = list(book.worksheets[0].iter_rows(min_row=2, values_only=True))
    assert [(r[0], r[7], r[-1]) for r in rows] == \
        [(i["worker_id"], i["credited_hours"], i["status"]) for i in items]
    totals = dict(book.worksheets[1].iter_rows(min_row=2, values_only=True))
    assert {k: totals[k] for k in TOTALS} == body["totals"]
    # filtered: only the rows shown
    short = client.get(url, params={"status": "short_of_hours", "page_size": 200},
                       headers=auth).json()
    book = load_workbook(io.BytesIO(client.get(
        url.replace("compliance", "compliance.xlsx"), params={"status": "short_of_hours"},
        headers=auth).content))
    ids = [r[0] for r in book.worksheets[0].iter_rows(min_row=2, values_only=True)]
    assert ids == [i["worker_id"] for i in short["items"]]
    assert len(ids) == short["total"] == short["totals"]["short_of_hours"]


@pytest.mark.parametrize(("username", "status"), [
    ("reg15", 404), ("reg1401", 200), ("trainer", 404), ("root", 200)])
def test_compliance_jurisdiction(client, world, username, status):
    response = _get(client, username, f"/api/v1/enterprises/{world['a']}/compliance")
    assert response.status_code == status
    if status == 404:
        assert "Alpha" not in response.text


def test_a_worker_sees_no_compliance_list(client, world):
    response = _get(client, world["worker"], f"/api/v1/enterprises/{world['a']}/compliance")
    assert response.status_code == 404


@pytest.mark.parametrize("params", [
    {"year": "1800"}, {"year": "abc"}, {"status": "bogus"}, {"job_category": "coal.nothing"},
    {"sort": "password"}, {"sort": "--name"}, {"page_size": "1000"}])
def test_compliance_bad_input(client, world, params):
    response = _get(client, "a.admin", f"/api/v1/enterprises/{world['a']}/compliance",
                    **params)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "validation_error"


def test_oversight_contract_and_sums(client, world):
    response = _get(client, "reg14", "/api/v1/oversight")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["region"] == "14" and body["year"] == date.today().year
    assert REGION_TOTALS <= set(body["totals"])
    assert {e["enterprise_id"] for e in body["enterprises"]} == {world["a"], world["a2"]}
    assert body["totals"]["enterprises"] == 2
    for key in TOTALS | {"certificates_issued", "certificates_revoked", "certificates_suspended"}:
        assert body["totals"][key] == sum(e["totals"][key] for e in body["enterprises"])
    assert body["totals"]["hours_credited"] == round(
        sum(e["totals"]["hours_credited"] for e in body["enterprises"]), 2)
    sub = _get(client, "reg14", "/api/v1/oversight", region="140100").json()
    assert sub["region"] == "1401"
    assert [e["enterprise_id"] for e in sub["enterprises"]] == [world["a"]]
    everything = _get(client, "root", "/api/v1/oversight").json()
    assert everything["region"] is None and everything["totals"]["enterprises"] >= 3
    assert everything["totals"]["workers"] == body["totals"]["workers"] + _get(
        client, "reg15", "/api/v1/oversight").json()["totals"]["workers"]


@pytest.mark.parametrize(("username", "params", "status"), [
    ("reg14", {"region": "15"}, 404), ("reg1401", {"region": "14"}, 404),
    ("reg1401", {"region": "1402"}, 404), ("a.admin", {}, 403), ("trainer", {}, 403),
    ("reg14", {"region": "99"}, 422), ("reg14", {"region": "14x"}, 422),
    ("reg14", {"year": "3000"}, 422)])
def test_oversight_refusals(client, world, username, params, status):
    response = _get(client, username, "/api/v1/oversight", **params)
    assert response.status_code == status, response.text
    assert "Alpha" not in response.text
    xlsx = _get(client, username, "/api/v1/oversight.xlsx", **params)
    assert xlsx.status_code == status
    assert "spreadsheetml" not in xlsx.headers.get("content-type", "")


def test_oversight_workbook_is_the_json(client, world):
    body = _get(client, "reg14", "/api/v1/oversight").json()
    response = _get(client, "reg14", "/api/v1/oversight.xlsx")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    sheet = book.worksheets[0]
    header = [c.value for c in next(sheet.iter_rows(max_row=1))]
    lines = [dict(zip(header, row, strict=True))
             for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert [line["enterprise_id"] for line in lines] == \
        [e["enterprise_id"] for e in body["enterprises"]]
    for line, item in zip(lines, body["enterprises"], strict=True):
        for key, value in item["totals"].items():
            assert line[key] == value, key
    totals = dict(book.worksheets[1].iter_rows(min_row=2, values_only=True))
    for key, value in body["totals"].items():
        assert totals[key] == value
