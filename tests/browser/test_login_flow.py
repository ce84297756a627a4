import pytest

from app.accounts.models import Role
from tests import factories as f

pytestmark = pytest.mark.browser


def test_worker_logs_in_through_the_real_page_and_sees_home(live_server, page, db):
    ent = f.enterprise(db, name="Shanxi Test Coal")
    worker = f.worker(db, ent, full_name="王小明")
    db.commit()
    page.goto(live_server + "/")
    page.get_by_role("link", name="Sign in").first.click()
    page.get_by_label("Username or ID number").fill(worker.id_number.lower())
    page.get_by_label("Password").fill(f.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(live_server + "/")
    assert page.get_by_role("heading", name="Hello, 王小明").is_visible()
    assert page.get_by_text("Shanxi Test Coal").is_visible()


def test_enterprise_admin_in_chinese_sees_roster(live_server, browser, db):
    ent = f.enterprise(db, name="晋安煤业")
    f.user(db, Role.ENTERPRISE_ADMIN, username="boss", enterprise_id=ent.id, full_name="主管")
    f.worker(db, ent, full_name="李四")
    db.commit()
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN",
                                  extra_http_headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    page = context.new_page()
    page.goto(live_server + "/login")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    page.locator("#username").fill("boss")
    page.locator("#password").fill(f.PASSWORD)
    page.locator("form[action='/login'] button[type=submit]").click()
    page.wait_for_url(live_server + "/")
    page.goto(live_server + f"/enterprises/{ent.id}")
    assert page.get_by_text("李四").is_visible()
    context.close()
