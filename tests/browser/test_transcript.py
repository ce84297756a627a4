"""The worker transcript on a phone (390 px) in Chinese: a worker opens its own transcript from
the hours ledger, every section is there (enrolments, attempts and practicals as cards, the
hours as a narrow table), the page never scrolls sideways, and the PDF and Excel downloads work
from the page."""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import expect

from tests import factories as f
from tests.oversight.test_transcript import LAST_YEAR, build_record

pytestmark = pytest.mark.browser


def fits_the_screen(page) -> bool:  # type: ignore[no-untyped-def]
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def test_a_worker_reads_its_transcript_on_a_phone_in_chinese(live_server, browser, db):  # type: ignore[no-untyped-def]
    ent = f.enterprise(db, region="140105", name="山西示范煤业有限责任公司")
    worker = f.worker(db, ent, full_name="王守矿", hired_on=date(LAST_YEAR, 3, 1))
    long_title = "井下作业人员安全生产知识与管理能力综合培训课程（含事故案例警示教育）"
    build_record(db, worker, title=long_title)
    db.commit()

    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN",
                                  accept_downloads=True)
    page = context.new_page()
    try:
        page.goto(live_server + "/login")
        page.locator("input[name=username]").fill(worker.id_number)
        page.locator("input[name=password]").fill(f.PASSWORD)
        page.get_by_role("button", name="登录").click()
        page.wait_for_url(live_server + "/")
        page.goto(live_server + "/learn/hours")
        page.get_by_role("link", name="我的培训档案").click()
        page.wait_for_url(f"{live_server}/workers/{worker.id}/transcript")
        expect(page.get_by_role("heading", name="培训档案")).to_be_visible()
        for section in ("学时", "报名记录", "理论考试次数", "实操考试", "证书"):
            expect(page.get_by_role("heading", name=section, exact=True)).to_be_visible()
        expect(page.locator("#attempts article")).to_have_count(2)
        expect(page.locator("#hours")).to_contain_text("初训")
        page.locator("#certificates summary").click()
        expect(page.locator("#certificates")).to_contain_text("已暂扣")
        assert fits_the_screen(page)
        # The wide tables do not fit 390 px: they scroll inside their own region instead.
        page.screenshot(path="/tmp/h11_transcript.png", full_page=True)

        with page.expect_download() as pdf:
            page.get_by_role("button", name="下载 PDF").click()
        assert pdf.value.suggested_filename.endswith(".pdf")
        with page.expect_download() as xlsx:
            page.get_by_role("button", name="下载 Excel").click()
        assert xlsx.value.suggested_filename.endswith(".xlsx")
    finally:
        context.close()
