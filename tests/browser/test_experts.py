"""The expert pool on a phone-sized screen (390 px): a regulator searches by speciality, opens
an expert, adds one through the form (a mistake first), and nothing overflows sideways."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.accounts.models import Role
from app.experts import service
from app.experts.models import Expert
from tests import factories as f

pytestmark = pytest.mark.browser


def fits_the_screen(page) -> bool:  # type: ignore[no-untyped-def]
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def test_a_regulator_uses_the_pool_on_a_phone(live_server, page, db):  # type: ignore[no-untyped-def]
    admin = f.user(db, Role.ADMIN, username="root")
    f.user(db, Role.REGULATOR, username="reg14", region_code="14")
    long_org = "山西省煤矿安全技术研究与应急救援指导中心通风瓦斯防治研究所第三研究室" * 2
    for name, specialities, region in (("周瓦斯", ["gas"], "140105"),
                                       ("吴排水", ["water"], "150602")):
        service.create(db=db, data={"full_name": name, "organisation": long_org,
                                    "region_code": region, "specialities": specialities},
                       by=admin)
    db.commit()

    page.goto(live_server + "/login")
    page.get_by_label("Username or ID number").fill("reg14")
    page.get_by_label("Password").fill(f.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(live_server + "/")
    page.goto(live_server + "/experts")
    expect(page.locator(".expert-card")).to_have_count(2)
    assert fits_the_screen(page)

    page.get_by_label("Speciality").select_option("gas")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url(re.compile(r"/experts\?.*speciality=gas"))
    expect(page.locator(".expert-card")).to_have_count(1)
    expect(page.locator(".expert-card")).to_contain_text("Gas prevention")
    assert fits_the_screen(page)
    page.get_by_role("link", name="周瓦斯").click()
    expect(page.get_by_role("heading", name="周瓦斯")).to_be_visible()
    assert fits_the_screen(page)

    page.goto(live_server + "/experts")
    page.get_by_role("button", name="Add an expert").click()
    page.get_by_label("Name", exact=True).fill("孙提升")
    page.get_by_label("Organisation", exact=True).fill("太原矿机厂")
    page.locator("#f-region_code").fill("150602")
    page.get_by_label("Hoisting").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text("Please correct the marked fields.")
    expect(page.locator("#e-region_code")).to_contain_text("your own region")
    assert fits_the_screen(page)
    page.locator("#f-region_code").fill("1401")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="孙提升")).to_be_visible()
    assert fits_the_screen(page)
    db.commit()
    stored = db.scalar(select(Expert).where(Expert.full_name == "孙提升"))
    assert stored is not None and stored.region_code == "1401"
