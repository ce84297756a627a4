"""The oversight dashboard and a compliance list on a 390 px phone in Chinese: charts and
tables render, the drill-down works, and the page never scrolls sideways."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from app.accounts.models import Role
from app.oversight import generator
from tests import factories as f

pytestmark = pytest.mark.browser


def fits_the_screen(page) -> bool:  # type: ignore[no-untyped-def]
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def test_a_regulator_drills_down_on_a_phone_in_chinese(live_server, browser, db):  # type: ignore[no-untyped-def]
    ent = f.enterprise(db, region="140105", name="山西晋安煤业集团有限责任公司第二综采工作面")
    other = f.enterprise(db, region="140202", name="大同塔山煤矿")
    generator.generate(db=db, workers=80, seed=4, enterprise_ids=[ent.id, other.id])
    f.user(db, Role.REGULATOR, username="reg14", region_code="14")
    db.commit()

    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN",
                                  extra_http_headers={"Accept-Language": "zh-CN"})
    page = context.new_page()
    try:
        page.goto(live_server + "/login")
        page.locator("input[name=username]").fill("reg14")
        page.locator("input[name=password]").fill(f.PASSWORD)
        page.locator("input[name=password]").press("Enter")
        page.wait_for_url(live_server + "/")
        page.get_by_role("button", name="监管看板").click()
        page.wait_for_url(re.compile(r"/oversight"))
        expect(page.get_by_role("heading", name=re.compile("监管看板"))).to_be_visible()
        charts = page.locator("svg.chart[role=img]")
        expect(charts.first).to_be_visible()
        assert charts.count() >= 3
        assert fits_the_screen(page)

        page.get_by_role("link", name=ent.name).click()
        page.wait_for_url(re.compile(rf"/enterprises/{ent.id}/compliance\?year="))
        expect(page.get_by_role("heading", name=re.compile("合规情况"))).to_be_visible()
        assert fits_the_screen(page)
        page.locator(".oversight-stats a").nth(2).click()  # a status count filters the list
        page.wait_for_url(re.compile(r"status="))
        assert fits_the_screen(page)
        expect(page.get_by_role("button", name="下载 Excel")).to_have_attribute(
            "href", re.compile(r"compliance\.xlsx\?.*status="))
    finally:
        context.close()
