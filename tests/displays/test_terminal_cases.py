"""The terminal's 办件 panel: 受理 a case for the ticket being served, and a refused 不予受理."""

from __future__ import annotations

import sqlite3

from playwright.sync_api import expect

PASSWORD = "test-pass"


def login_terminal(page, base: str, username: str, window: int) -> None:
    page.goto(base + "/terminal")
    page.fill("#login-user", username)
    page.fill("#login-pass", PASSWORD)
    page.select_option("#login-window", str(window))
    page.click("#login-submit")
    expect(page.locator("#desk")).to_be_visible()


def _cases(hall) -> list[tuple[str, str]]:
    con = sqlite3.connect(hall.db_path)
    try:
        return con.execute("SELECT receipt_no, state FROM cases").fetchall()
    finally:
        con.close()


def _serve_one(hall, manager, new_page):
    manager.ok(
        "issue_ticket",
        queue="A",
        channel="staff",
        applicant={"name": "张三丰", "phone": "13812345678", "id_number": ""},
    )
    term = new_page(1366, 768)
    login_terminal(term, hall.base, "w1", 1)
    term.keyboard.press("o")
    expect(term.locator("#wstate")).to_have_text("服务中")
    term.keyboard.press("n")
    expect(term.locator("#cur-number")).to_have_text("A001")
    expect(term.locator("#case-submit")).to_be_disabled()  # not serving yet
    term.keyboard.press("s")
    expect(term.locator("#cur-state")).to_have_text("办理中")
    return term


def test_terminal_accepts_a_case(hall, manager, new_page, shot):
    term = _serve_one(hall, manager, new_page)
    term.fill("#case-search", "SW-003")
    expect(term.locator("#case-matter option")).to_have_count(1)
    expect(term.locator("#case-submit")).to_be_enabled()
    term.click("#case-submit")

    expect(term.locator("#case-result")).to_be_visible()
    receipt = term.locator("#case-no").inner_text()
    assert receipt.startswith("SL-")
    expect(term.locator("#case-state")).to_have_text("已受理")
    expect(term.locator("#case-due")).to_contain_text("办结时限")
    expect(term.locator("#banner")).to_contain_text(receipt)
    shot(term, "terminal-case-accepted")
    assert _cases(hall) == [(receipt, "accepted")]

    # The shortcuts still work after using the panel: finish the service.
    term.locator("#case-search").blur()
    term.keyboard.press("f")
    expect(term.locator("#cur-number")).to_have_text("—")


def test_reject_without_reason_is_refused(hall, manager, new_page):
    term = _serve_one(hall, manager, new_page)
    term.fill("#case-search", "SW-003")
    term.click('.tm-case-mode[data-mode="reject"]')
    expect(term.locator("#case-submit")).to_have_text("不予受理")
    term.click("#case-submit")
    expect(term.locator("#banner")).to_be_visible()
    expect(term.locator("#banner-text")).to_contain_text("原因")
    expect(term.locator("#case-result")).to_be_hidden()
    assert _cases(hall) == []

    # 续办 of an unknown receipt: the server's error in the banner, nothing written.
    term.fill("#case-receipt", "SL-20000101-0001")
    term.click("#case-resume")
    expect(term.locator("#banner-text")).to_contain_text("续办失败")
    assert _cases(hall) == []
