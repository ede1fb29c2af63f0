"""The terminal's 补正 from the matter's 材料清单 (checkboxes, no free text) and the printed
一次性告知书 (80 mm and A4), in headless Chromium against a real server."""

from __future__ import annotations

import sqlite3

from playwright.sync_api import expect
from test_terminal_cases import _serve_one


def test_a_notice_from_the_checked_materials_prints_once(hall, manager, new_page, shot):
    term = _serve_one(hall, manager, new_page)
    term.fill("#case-search", "SW-003")
    term.click('.tm-case-mode[data-mode="materials"]')
    boxes = term.locator("#case-materials input[type=checkbox]")
    expect(boxes).to_have_count(6)  # SW-003's list in data/matters/materials.csv
    term.click("#case-submit")  # nothing checked: refused on the terminal, nothing sent
    expect(term.locator("#banner-text")).to_contain_text("一次性告知")
    term.locator("#case-materials label", has_text="营业执照副本").locator("input").check()
    term.locator("#case-materials label", has_text="税务登记表").locator("input").check()
    with term.context.expect_page() as popup:
        term.click("#case-submit")
    notice = popup.value
    notice.wait_for_load_state()
    receipt = term.locator("#case-no").inner_text()
    expect(term.locator("#case-state")).to_have_text("待补正")
    expect(notice.locator("#receipt")).to_have_text(receipt)
    expect(notice.locator("#items li")).to_have_count(2)
    expect(notice.locator("#items")).to_contain_text("营业执照副本(复印件)")
    expect(notice.locator("#lead")).to_contain_text("共 2 项")
    shot(notice, "notice-a4")
    notice.emulate_media(media="print")
    a4 = notice.locator("#sheet").bounding_box()
    notice.emulate_media(media="screen")
    notice.click("#paper-80")
    notice.emulate_media(media="print")
    narrow = notice.locator("#sheet").bounding_box()
    assert a4 is not None and narrow is not None
    assert abs(a4["width"] - 210 * 96 / 25.4) < 2 and abs(narrow["width"] - 80 * 96 / 25.4) < 2
    expect(notice.locator(".nt-tools")).to_be_hidden()  # not on paper
    shot(notice, "notice-80mm")
    con = sqlite3.connect(hall.db_path)
    try:
        rows = con.execute(
            "SELECT missing_materials, notices FROM cases WHERE receipt_no = ?", (receipt,)
        ).fetchall()
    finally:
        con.close()
    assert rows == [('["营业执照副本", "税务登记表"]', 1)]
