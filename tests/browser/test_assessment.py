"""The plan assessment on a phone-sized screen (390 px): an admin picks Shanxi, sets a target (a
mistake first), freezes the final snapshot and sees it as columns; the wide table scrolls inside
its own box while the page itself never scrolls sideways."""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import expect

from app.accounts.models import Role
from tests import factories as f
from tests.oversight import conftest as h

pytestmark = pytest.mark.browser


def fits_the_screen(page) -> bool:  # type: ignore[no-untyped-def]
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def test_an_admin_assesses_a_region_on_a_phone(live_server, page, db):  # type: ignore[no-untyped-def]
    ent = f.enterprise(db, region="140105", name="Alpha Colliery")
    h.study(db, f.worker(db, ent, full_name="王守矿"), date(2025, 2, 1), 20 * 1800)
    f.user(db, Role.ADMIN, username="root")
    db.commit()

    page.goto(live_server + "/login")
    page.get_by_label("Username or ID number").fill("root")
    page.get_by_label("Password").fill(f.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(live_server + "/")
    page.get_by_role("button", name="Plan assessment").click()
    expect(page.get_by_role("heading", name="Plan assessment")).to_be_visible()
    page.locator("#a-region").fill("14")
    page.get_by_label("Year").select_option("2025")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("heading", name="Plan assessment · 2025")).to_be_visible()
    assert fits_the_screen(page)

    page.locator("#f-target_theory_pass_rate").fill("120")
    page.get_by_role("button", name="Save targets").click()
    expect(page.locator("#e-target_theory_pass_rate")).to_contain_text("at most 100")
    assert fits_the_screen(page)
    page.locator("#f-target_theory_pass_rate").fill("")
    page.locator("#f-target_workers_trained_annual").fill("1")
    page.get_by_role("button", name="Save targets").click()
    expect(page.get_by_text("Targets saved.")).to_be_visible()
    row = page.locator("tr", has_text="Workers who completed annual training hours").first
    expect(row.locator(".met")).to_have_text("Met")

    page.locator("#f-label").fill("final")
    page.locator("#f-as_of").fill("2025-12-31")
    page.get_by_role("button", name="Freeze snapshot").click()
    expect(page.get_by_text("Snapshot final frozen as of 2025-12-31.")).to_be_visible()
    expect(page.locator("th.snapshot-head")).to_contain_text("final")
    assert fits_the_screen(page)
    box = page.locator(".assessment-table")
    assert box.evaluate("el => el.scrollWidth > el.clientWidth")  # the table scrolls in its box
    assert box.evaluate("el => getComputedStyle(el).overflowX") == "auto"
    download = page.get_by_role("button", name="Download as Excel")
    assert "snapshots=" in (download.get_attribute("href") or "")
