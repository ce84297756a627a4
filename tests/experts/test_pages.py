"""The expert pool's pages: search with cards, an expert's page, add and edit forms that come
back with 400 and messages on bad input, jurisdiction, workers refused, Chinese labels."""

from __future__ import annotations

from sqlalchemy import select

from app.experts.models import Expert
from tests import factories as f
from tests.experts.conftest import make_expert

FORM = {"full_name": "孙提升", "organisation": "太原矿机厂", "region_code": "140105",
        "specialities": ["hoisting", "electrical"], "roles": ["examiner"],
        "qualifications": "高级工程师\n提升机 20 年", "available": "on", "user_id": ""}


def _experts(db) -> list[Expert]:  # type: ignore[no-untyped-def]
    db.commit()
    db.expire_all()
    return list(db.scalars(select(Expert).order_by(Expert.id)))


def test_the_list_shows_cards_and_filters(client, db, people):
    admin = people["admin"]
    make_expert(db, admin, full_name="周瓦斯", specialities=["gas"], region_code="140105")
    make_expert(db, admin, full_name="吴排水", specialities=["water"], region_code="150602",
                available=False)
    f.login(client, "trainer")
    page = client.get("/experts")
    assert page.status_code == 200
    assert page.text.count('class="expert-card"') == 2
    assert "周瓦斯" in page.text and "吴排水" in page.text
    assert "Taiyuan" in page.text  # the region's names, not only its code
    assert 'href="/experts/new"' not in page.text  # trainers only read
    filtered = client.get("/experts?speciality=gas")
    assert "周瓦斯" in filtered.text and "吴排水" not in filtered.text
    by_region = client.get("/experts?region=15&available=no")
    assert "吴排水" in by_region.text and "周瓦斯" not in by_region.text
    none = client.get("/experts?q=nobody")
    assert "No experts match." in none.text


def test_a_bad_search_is_a_400_with_the_message(client, db, people):
    f.login(client, "reg14")
    page = client.get("/experts?region=1499")
    assert page.status_code == 400
    assert "There is no region with code 149900" in page.text
    assert client.get("/experts?speciality=astrology").status_code == 400


def test_the_list_pages(client, db, people):
    for n in range(4):
        make_expert(db, people["admin"], full_name=f"Expert {n}")
    f.login(client, "root")
    first = client.get("/experts?page_size=3&speciality=ventilation")
    assert first.text.count('class="expert-card"') == 3
    assert "page=2" in first.text and "speciality=ventilation" in first.text
    second = client.get("/experts?page_size=3&page=2&speciality=ventilation")
    assert second.text.count('class="expert-card"') == 1


def test_a_worker_is_refused_and_sees_no_link(client, db, people):
    expert = make_expert(db, people["admin"])
    f.login(client, people["worker"].username)
    assert 'href="/experts"' not in client.get("/").text
    for url in ("/experts", f"/experts/{expert.id}", "/experts/new"):
        response = client.get(url)
        assert response.status_code == 403, url
        assert "张通风" not in response.text


def test_a_regulator_adds_an_expert_through_the_form(client, db, people):
    csrf = f.login(client, "reg14")
    assert 'href="/experts"' in client.get("/").text
    form_page = client.get("/experts/new")
    assert form_page.status_code == 200
    assert 'value="14"' in form_page.text  # the regulator's region as the default
    assert "李培训 (trainer)" in form_page.text and "王工人" not in form_page.text
    response = client.post("/experts/new", data={**FORM, "csrf_token": csrf},
                           follow_redirects=False)
    assert response.status_code == 303, response.text
    [expert] = _experts(db)
    assert response.headers["location"] == f"/experts/{expert.id}"
    assert expert.available is True and expert.region_code == "140105"
    detail = client.get(f"/experts/{expert.id}")
    assert "孙提升" in detail.text and "Hoisting" in detail.text and "Examiner" in detail.text
    assert "Not linked" in detail.text
    assert f'href="/experts/{expert.id}/edit"' in detail.text


def test_bad_input_comes_back_with_400_and_messages(client, db, people):
    csrf = f.login(client, "reg14")
    cases = [
        ({**FORM, "specialities": []}, "Choose at least one."),
        ({**FORM, "region_code": "149999"}, "There is no region with code 149999"),
        ({**FORM, "region_code": "150602"}, "You may only add or edit experts of your own region."),
        ({**FORM, "full_name": ""}, "This field is required."),
        ({**FORM, "user_id": str(people["worker"].id)}, "Only a trainer&#39;s or an examiner"),
        ({**FORM, "roles": ["chef"]}, "Unknown code(s): chef."),
    ]
    for data, message in cases:
        data = {k: v for k, v in data.items() if v != []}
        response = client.post("/experts/new", data={**data, "csrf_token": csrf})
        assert response.status_code == 400, (data, response.text[:200])
        assert message in response.text, message
        assert "Please correct the marked fields." in response.text
        assert 'value="孙提升"' in response.text or not data["full_name"]  # input kept
    assert _experts(db) == []


def test_the_form_needs_the_csrf_token(client, db, people):
    f.login(client, "root")
    response = client.post("/experts/new", data=FORM)
    assert response.status_code == 403
    assert _experts(db) == []


def test_editing_and_linking_a_login(client, db, people):
    expert = make_expert(db, people["reg14"])
    csrf = f.login(client, "reg14")
    edit = client.get(f"/experts/{expert.id}/edit")
    assert edit.status_code == 200 and 'value="张通风"' in edit.text
    assert "<h1>Edit expert</h1>" in edit.text and "<title>Edit expert" in edit.text
    data = {**FORM, "full_name": "张通风", "user_id": str(people["examiner"].id),
            "csrf_token": csrf}
    data.pop("available")  # unchecked
    response = client.post(f"/experts/{expert.id}/edit", data=data, follow_redirects=False)
    assert response.status_code == 303, response.text
    [stored] = _experts(db)
    assert stored.available is False and stored.user_id == people["examiner"].id
    detail = client.get(f"/experts/{expert.id}")
    assert "赵考评" in detail.text and "examiner" in detail.text


def test_edit_is_for_the_region_and_admins_only(client, db, people):
    expert = make_expert(db, people["admin"], region_code="150602")
    csrf = f.login(client, "reg14")
    assert client.get(f"/experts/{expert.id}").status_code == 200  # staff read everything
    assert f'/experts/{expert.id}/edit' not in client.get(f"/experts/{expert.id}").text
    assert client.get(f"/experts/{expert.id}/edit").status_code == 404
    response = client.post(f"/experts/{expert.id}/edit", data={**FORM, "csrf_token": csrf})
    assert response.status_code == 404
    assert _experts(db)[0].full_name == "张通风"


def test_a_regulator_without_a_region_gets_no_form(client, db, people):
    f.login(client, "regnone")
    assert 'href="/experts/new"' not in client.get("/experts").text
    assert client.get("/experts/new").status_code == 403


def test_the_pages_speak_chinese(client, db, people):
    make_expert(db, people["admin"], specialities=["gas", "accident_analysis"],
                roles=["accident_investigator"])
    client.cookies.set("pithead_lang", "zh_CN")
    f.login(client, "root")
    page = client.get("/experts")
    for text in ("专家", "瓦斯防治", "事故分析", "事故调查"):
        assert text in page.text, text
    assert "Gas prevention" not in page.text
