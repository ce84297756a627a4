"""Region codes are checked against the complete shipped GB/T 2260 list wherever they are
entered (API 422, pages 400), in short or long form; the pages' region pickers look divisions
up by code or name instead of listing all ~3,200."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app import db as app_db
from app.accounts.models import Role
from app.organisations.models import Enterprise
from app.organisations.validators import make_credit_code
from tests import factories as f


def _enterprises() -> int:
    with app_db.open_session(write=False) as s:
        return s.scalar(select(func.count()).select_from(Enterprise)) or 0


def _body(region: str) -> dict[str, object]:
    return {"name": "Xishan Coal Power", "credit_code": make_credit_code(region="14", org_seq=9),
            "region_code": region, "mine_type": "coal", "above_designated_size": True}


@pytest.fixture
def root(client, db) -> dict[str, str]:
    f.user(db, Role.ADMIN, username="root")
    db.commit()
    return f.token(client, "root")


@pytest.mark.parametrize(("region", "message"), [
    ("149999", "There is no region with code 149999 in GB/T 2260."),
    ("1499", "There is no region with code 149900 in GB/T 2260."),
    ("140199", "There is no region with code 140199 in GB/T 2260."),
    ("99", "There is no province with code 99."),
])
def test_the_api_refuses_codes_that_name_no_division(client, root, region, message):
    response = client.post("/api/v1/enterprises", json=_body(region), headers=root)
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert [(e["loc"][-1], e["msg"]) for e in errors] == [("region_code", message)]
    assert _enterprises() == 0


@pytest.mark.parametrize(("region", "stored"), [
    ("140100", "1401"), ("1401", "1401"), ("140105", "140105"), ("14", "14"),
    ("659001", "659001"),  # a county-level city directly under Xinjiang (no prefecture)
])
def test_the_api_accepts_listed_divisions_long_or_short(client, root, region, stored):
    response = client.post("/api/v1/enterprises", json=_body(region), headers=root)
    assert response.status_code == 201, response.text
    assert response.json()["region_code"] == stored


def test_the_registration_page_refuses_an_unknown_code_with_400(client, db):
    f.user(db, Role.ADMIN, username="root")
    db.commit()
    f.login(client, "root")
    form = client.get("/enterprises/new")
    assert form.status_code == 200
    # A text field with a short datalist, not a 3,200-option <select>.
    assert 'list="l-region_code"' in form.text
    assert form.text.count("<option") < 500
    data = {**_body("149999"), "above_designated_size": "on",
            "csrf_token": f.csrf_from(form.text)}
    response = client.post("/enterprises/new", data=data, follow_redirects=False)
    assert response.status_code == 400
    assert "There is no region with code 149999 in GB/T 2260." in response.text
    assert 'value="149999"' in response.text
    assert _enterprises() == 0
    data["region_code"] = "140105"
    assert client.post("/enterprises/new", data=data, follow_redirects=False).status_code == 303
    assert _enterprises() == 1


def test_the_region_lookup_offers_matching_divisions(client, db):
    f.user(db, Role.ADMIN, username="root")
    db.commit()
    f.login(client, "root")
    by_code = client.get("/regions/options", params={"region_code": "140100"})
    assert by_code.status_code == 200
    assert '<option value="1401">' in by_code.text
    assert '<option value="140105">' in by_code.text
    assert "140213" not in by_code.text  # Datong's, not Taiyuan's
    by_name = client.get("/regions/options", params={"field": "region_code",
                                                    "region_code": "小店"})
    assert by_name.text.count("<option") == 1 and "140105" in by_name.text
    assert client.get("/regions/options", params={"region_code": "149999"}).text.strip() == ""
    assert client.get("/regions/options", params={"region_code": "区"}).text.count(
        "<option") == 20
    # The user form's regulator region uses the same picker.
    user_form = client.get("/admin/users/new")
    assert 'list="l-region_code"' in user_form.text
    assert 'hx-get="/regions/options"' in user_form.text


def test_the_region_lookup_needs_a_signed_in_user(client):
    response = client.get("/regions/options", params={"region_code": "14"},
                          follow_redirects=False)
    assert response.status_code in (303, 401)
