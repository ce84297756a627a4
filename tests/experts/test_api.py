"""The experts API: contract shapes, staff-only access, jurisdiction across regions 14 and 15,
validation, search and paging (SQLite and PostgreSQL)."""

from __future__ import annotations

from sqlalchemy import select

from app.accounts.models import AuditEvent
from app.experts.models import Expert
from tests import factories as f
from tests.experts.conftest import make_expert

NEW = {"full_name": "刘瓦斯", "organisation": "大同煤矿集团", "region_code": "140200",
       "specialities": ["gas", "accident_analysis"], "roles": ["accident_investigator"],
       "available": True}


def _count(db) -> int:  # type: ignore[no-untyped-def]
    db.commit()
    return len(db.scalars(select(Expert.id)).all())


def test_a_regulator_adds_an_expert_of_its_region(client, db, people):
    auth = f.token(client, "reg14")
    response = client.post("/api/v1/experts", json=NEW, headers=auth)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["id"] > 0
    assert body["region_code"] == "1402"  # stored in the short form
    assert body["specialities"] == ["accident_analysis", "gas"]
    assert body["roles"] == ["accident_investigator"]
    assert body["available"] is True and body["user_id"] is None and body["user"] is None
    got = client.get(f"/api/v1/experts/{body['id']}", headers=auth)
    assert got.status_code == 200 and got.json() == body
    db.commit()
    event = db.scalar(select(AuditEvent).where(AuditEvent.action == "expert.created"))
    assert event is not None and event.object_id == str(body["id"])
    assert event.actor_name == "reg14" and event.region_code == "1402"


def test_a_regulator_cannot_add_into_another_region(client, db, people):
    auth = f.token(client, "reg15")
    response = client.post("/api/v1/experts", json=NEW, headers=auth)
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "outside_jurisdiction"
    assert _count(db) == 0
    # A prefecture regulator (1402) may add into 1402 but not into 1401.
    auth = f.token(client, "reg1402")
    assert client.post("/api/v1/experts", json=NEW, headers=auth).status_code == 201
    other = client.post("/api/v1/experts", json={**NEW, "region_code": "1401"}, headers=auth)
    assert other.status_code == 403
    assert _count(db) == 1


def test_a_regulator_without_a_region_adds_nothing(client, db, people):
    response = client.post("/api/v1/experts", json=NEW, headers=f.token(client, "regnone"))
    assert response.status_code == 403
    assert _count(db) == 0


def test_admin_adds_anywhere(client, db, people):
    auth = f.token(client, "root")
    for region in ("150602", "14"):
        assert client.post("/api/v1/experts", json={**NEW, "region_code": region},
                           headers=auth).status_code == 201
    assert _count(db) == 2


def test_only_admins_and_regulators_write(client, db, people):
    expert = make_expert(db, people["admin"])
    for username in ("entadmin", "trainer", "examiner"):
        auth = f.token(client, username)
        assert client.post("/api/v1/experts", json=NEW, headers=auth).status_code == 403
        assert client.patch(f"/api/v1/experts/{expert.id}", json={"available": False},
                            headers=auth).status_code == 403
    assert _count(db) == 1


def test_staff_read_and_a_worker_is_refused(client, db, people):
    expert = make_expert(db, people["admin"])
    for username in ("root", "reg14", "reg15", "entadmin", "trainer", "examiner"):
        auth = f.token(client, username)
        listed = client.get("/api/v1/experts", headers=auth)
        assert listed.status_code == 200
        assert [e["id"] for e in listed.json()["items"]] == [expert.id]
        assert client.get(f"/api/v1/experts/{expert.id}", headers=auth).status_code == 200
    worker = f.token(client, people["worker"].username)
    for url in ("/api/v1/experts", f"/api/v1/experts/{expert.id}", "/api/v1/experts/999999"):
        response = client.get(url, headers=worker)
        assert response.status_code == 403, url
        assert "张通风" not in response.text
    assert client.get("/api/v1/experts").status_code == 401


def test_patch_changes_only_what_is_sent_and_is_audited(client, db, people):
    expert = make_expert(db, people["reg14"], roles=["trainer"])
    auth = f.token(client, "reg14")
    response = client.patch(f"/api/v1/experts/{expert.id}",
                            json={"available": False, "specialities": ["water", "ventilation"]},
                            headers=auth)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["available"] is False
    assert body["specialities"] == ["ventilation", "water"]
    assert body["roles"] == ["trainer"] and body["full_name"] == "张通风"
    db.commit()
    event = db.scalar(select(AuditEvent).where(AuditEvent.action == "expert.updated"))
    assert event is not None
    assert event.detail["changes"] == {"available": [True, False],
                                       "specialities": [["ventilation"],
                                                        ["ventilation", "water"]]}


def test_patch_of_another_regions_expert_is_404_and_changes_nothing(client, db, people):
    expert = make_expert(db, people["admin"], region_code="140105")
    for username in ("reg15", "reg1402"):
        response = client.patch(f"/api/v1/experts/{expert.id}", json={"available": False},
                                headers=f.token(client, username))
        assert response.status_code == 404, username
        assert response.json() == client.patch(
            "/api/v1/experts/999999", json={"available": False},
            headers=f.token(client, username)).json()
    db.commit()
    db.expire_all()
    assert db.get(Expert, expert.id).available is True


def test_moving_an_expert_out_of_the_region_is_refused(client, db, people):
    expert = make_expert(db, people["reg14"])
    auth = f.token(client, "reg14")
    response = client.patch(f"/api/v1/experts/{expert.id}", json={"region_code": "150602",
                                                                   "available": False},
                            headers=auth)
    assert response.status_code == 403
    assert response.json()["code"] == "outside_jurisdiction"
    db.commit()
    db.expire_all()
    stored = db.get(Expert, expert.id)
    assert (stored.region_code, stored.available) == ("140105", True)
    # Within the province is fine.
    moved = client.patch(f"/api/v1/experts/{expert.id}", json={"region_code": "1402"},
                         headers=auth)
    assert moved.status_code == 200 and moved.json()["region_code"] == "1402"


def test_validation_errors_are_located_and_change_nothing(client, db, people):
    auth = f.token(client, "root")
    cases = [
        ({**NEW, "specialities": ["gas", "astrology"]}, ["specialities"]),
        ({**NEW, "specialities": []}, ["body", "specialities"]),
        ({**NEW, "roles": ["chef"]}, ["roles"]),
        ({**NEW, "region_code": "149999"}, ["region_code"]),
        ({**NEW, "region_code": "14x"}, ["region_code"]),
        ({**NEW, "full_name": "   "}, ["full_name"]),
        ({**NEW, "surprise": 1}, ["body", "surprise"]),
        ({k: v for k, v in NEW.items() if k != "organisation"}, ["body", "organisation"]),
        ({**NEW, "user_id": 2**40}, ["body", "user_id"]),
    ]
    for body, loc in cases:
        response = client.post("/api/v1/experts", json=body, headers=auth)
        assert response.status_code == 422, (body, response.text)
        problem = response.json()
        assert problem["code"] == "validation_error"
        assert loc in [e["loc"] for e in problem["errors"]], (loc, problem)
    assert _count(db) == 0


def test_patch_refuses_nulls_and_unknown_fields(client, db, people):
    expert = make_expert(db, people["admin"])
    auth = f.token(client, "root")
    for body in ({"full_name": None}, {"specialities": None}, {"available": None},
                 {"specialities": ["nope"]}, {"id": 5}):
        response = client.patch(f"/api/v1/experts/{expert.id}", json=body, headers=auth)
        assert response.status_code == 422, (body, response.text)
    db.commit()
    db.expire_all()
    assert db.get(Expert, expert.id).full_name == "张通风"


def test_linking_a_login(client, db, people):
    expert = make_expert(db, people["admin"])
    other = make_expert(db, people["admin"], full_name="另一位")
    auth = f.token(client, "root")
    url = f"/api/v1/experts/{expert.id}"
    worker = client.patch(url, json={"user_id": people["worker"].id}, headers=auth)
    assert worker.status_code == 422
    assert worker.json()["errors"][0]["loc"] == ["user_id"]
    assert client.patch(url, json={"user_id": 999999}, headers=auth).status_code == 422
    linked = client.patch(url, json={"user_id": people["trainer"].id}, headers=auth)
    assert linked.status_code == 200
    assert linked.json()["user"] == {"id": people["trainer"].id, "username": "trainer",
                                     "full_name": "李培训"}
    taken = client.patch(f"/api/v1/experts/{other.id}", json={"user_id": people["trainer"].id},
                         headers=auth)
    assert taken.status_code == 409 and taken.json()["code"] == "user_already_linked"
    unlinked = client.patch(url, json={"user_id": None}, headers=auth)
    assert unlinked.status_code == 200 and unlinked.json()["user"] is None
    created = client.post("/api/v1/experts", json={**NEW, "user_id": people["examiner"].id},
                          headers=auth)
    assert created.status_code == 201 and created.json()["user"]["username"] == "examiner"


def test_search_by_speciality_region_role_and_text(client, db, people):
    admin = people["admin"]
    a = make_expert(db, admin, full_name="甲", specialities=["gas"], region_code="140105",
                    roles=["trainer"])
    b = make_expert(db, admin, full_name="乙", specialities=["gas", "water"],
                    region_code="150602", available=False)
    c = make_expert(db, admin, full_name="丙", specialities=["hoisting"], region_code="1402",
                    organisation="Datong Hoisting Works", qualifications="Senior engineer")
    auth = f.token(client, "reg15")

    def ids(query: str) -> list[int]:
        response = client.get(f"/api/v1/experts?{query}", headers=auth)
        assert response.status_code == 200, response.text
        return [e["id"] for e in response.json()["items"]]

    assert ids("speciality=gas") == [b.id, a.id]  # by name: 乙 (U+4E59) before 甲 (U+7532)
    assert ids("region=14") == [c.id, a.id]
    assert ids("region=140000") == [c.id, a.id]
    assert ids("region=1401") == [a.id]
    assert ids("speciality=gas&region=15") == [b.id]
    assert ids("role=trainer") == [a.id]
    assert ids("available=false") == [b.id]
    assert ids("q=hoisting") == [c.id]
    assert ids("q=SENIOR") == [c.id]
    assert ids("q=%E4%B9%99") == [b.id]  # 乙


def test_search_parameters_are_checked(client, db, people):
    auth = f.token(client, "trainer")
    for query, loc in (("speciality=astrology", ["query", "speciality"]),
                       ("role=chef", ["query", "role"]),
                       ("region=14x", ["query", "region"]),
                       ("region=1499", ["query", "region"]),
                       ("available=maybe", ["query", "available"]),
                       ("page=0", ["query", "page"]),
                       ("page_size=201", ["query", "page_size"])):
        response = client.get(f"/api/v1/experts?{query}", headers=auth)
        assert response.status_code == 422, query
        assert loc in [e["loc"] for e in response.json()["errors"]], (query, response.text)


def test_like_wildcards_match_literally(client, db, people):
    admin = people["admin"]
    plain = make_expert(db, admin, full_name="Plain Person", organisation="Org A")
    percent = make_expert(db, admin, full_name="Hundred Percent", organisation="100% Safety")
    under = make_expert(db, admin, full_name="Under Score", organisation="Mine_Rescue Team")
    auth = f.token(client, "root")

    def ids(q: str) -> set[int]:
        response = client.get("/api/v1/experts", params={"q": q}, headers=auth)
        return {e["id"] for e in response.json()["items"]}

    assert ids("%") == {percent.id}
    assert ids("_") == {under.id}
    assert ids("e_R") == {under.id}
    assert ids("!") == set()
    assert ids("") == {plain.id, percent.id, under.id}


def test_pagination(client, db, people):
    admin = people["admin"]
    made = [make_expert(db, admin, full_name=f"Expert {n:02d}") for n in range(7)]
    auth = f.token(client, "root")
    first = client.get("/api/v1/experts?page_size=3", headers=auth).json()
    third = client.get("/api/v1/experts?page_size=3&page=3", headers=auth).json()
    beyond = client.get("/api/v1/experts?page_size=3&page=4", headers=auth).json()
    assert first["total"] == third["total"] == beyond["total"] == 7
    assert [e["id"] for e in first["items"]] == [e.id for e in made[:3]]
    assert [e["id"] for e in third["items"]] == [made[6].id]
    assert beyond["items"] == []


def test_a_missing_expert_is_404(client, db, people):
    response = client.get("/api/v1/experts/424242", headers=f.token(client, "trainer"))
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
