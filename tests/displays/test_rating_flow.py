"""好差评 in the browser: a 差评 on a window's rating pad (/rate/3) appears in the back
office's rectification list (/backoffice) with the right contact and rectification due
times, computed here with the calendar from the rating's instant. Also the citizen status
page's rating offer, and a case in the back office's list."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from queue_server.calendar_data import load_calendar
from queue_server.config_file import load_hall_config
from queue_server.hall.config import HallConfig, StaffAccount, StaffRole
from queue_server.passwords import hash_password

ROOT = Path(__file__).resolve().parents[2]
SMALL_HALL = ROOT / "tests" / "fixtures" / "halls" / "small.toml"
PASSWORD = "test-pass"
APPLICANT = {"name": "张三丰", "phone": "13812345678", "id_number": "110101199003071234"}


def config() -> HallConfig:
    cfg = load_hall_config(SMALL_HALL)
    bo = StaffAccount(
        username="bo-tax",
        name="何俊",
        role=StaffRole.BACKOFFICE,
        password_hash=hash_password(PASSWORD),
        department="县税务局",
    )
    return dataclasses.replace(cfg, staff=(*cfg.staff, bo))


@pytest.fixture
def hall(threaded_hall, tmp_path: Path):
    h = threaded_hall(config(), tmp_path / "hall.db")
    h.start()
    try:
        yield h
    finally:
        h.close()


def serve_and_finish(hall, *, matter: str | None = "SW-003") -> dict:
    """Window 3 (税务, 县税务局) serves a B ticket, accepts a case, finishes. The ticket."""
    w3 = hall.client()
    try:
        w3.ok("login", username="w3", password=PASSWORD, window=3)
        if hall.server.hall.windows[3].state.value != "open":
            w3.ok("open_window", window=3)
        ticket = w3.ok("issue_ticket", queue="B", applicant=APPLICANT)["ticket"]
        w3.ok("call_next", window=3)
        w3.ok("start_service", window=3)
        if matter:
            w3.ok("accept_case", window=3, matter=matter)
        w3.ok("finish_service", window=3)
        return ticket
    finally:
        w3.close()


def local(iso: str, tz: str) -> str:
    return datetime.fromisoformat(iso).astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")


def test_a_bad_rating_on_the_pad_reaches_the_back_office_with_its_due_times(hall, new_page, shot) -> None:
    cfg = hall.config
    pad_token = hall.mint_token("rating_pad", window=3, name="pad-3")
    pad = new_page(800, 480, speech=False)
    pad.goto(f"{hall.base}/rate/3?token={pad_token}")
    pad.wait_for_selector("#idle:not([hidden])")
    assert "token=" not in pad.url  # the token went to localStorage

    ticket = serve_and_finish(hall)
    pad.wait_for_selector("#ask:not([hidden])")
    assert pad.inner_text("#svc-number") == ticket["number"]
    assert pad.inner_text("#svc-staff") == "窗口三"
    assert pad.inner_text("#svc-matter").startswith("增值税专用发票")
    shot(pad, "rating-pad-ask")
    pad.click('.rt-score[data-score="1"]')
    pad.wait_for_selector("#reasons:not([hidden])")
    pad.click("#reason-submit")  # nothing picked: the pad asks for a reason first
    assert "原因" in pad.inner_text("#error")
    pad.check('#picks input[value="办理时间过长"]')  # 审批时限: the department's (docs/rules.md R5)
    pad.fill("#reason-text", "等了一个多小时")
    pad.click("#reason-submit")
    pad.wait_for_selector("#thanks:not([hidden])")
    shot(pad, "rating-pad-thanks")

    # the expected due instants, from the rating's instant and the calendar
    manager = hall.client().login_manager()
    try:
        [loop] = manager.ok("list_rectifications")["rectifications"]
    finally:
        manager.close()
    opened = datetime.fromisoformat(loop["opened_at"])
    calendar = load_calendar()
    tz = ZoneInfo(cfg.timezone)
    contact_due = calendar.deadline(opened, cfg.rules.contact_due_working_days, cfg.close_of_business, tz).at
    rectify_due = calendar.deadline(opened, cfg.rules.rectify_due_working_days, cfg.close_of_business, tz).at
    assert contact_due.strftime("%H:%M") == rectify_due.strftime("%H:%M") == "17:30"
    assert contact_due.date() < rectify_due.date()

    bo = new_page(1400, 900, speech=False)
    bo.goto(f"{hall.base}/backoffice")
    bo.fill("#username", "bo-tax")
    bo.fill("#password", PASSWORD)
    bo.click("#login-submit")
    bo.wait_for_selector("#main:not([hidden])")
    bo.click("#tab-rects")
    row = bo.locator(f'tr[data-rect="{loop["id"]}"]')
    row.wait_for()
    assert row.locator(".contact-due").inner_text() == contact_due.strftime("%Y-%m-%d %H:%M")
    assert row.locator(".rectify-due").inner_text() == rectify_due.strftime("%Y-%m-%d %H:%M")
    assert datetime.fromisoformat(row.locator(".contact-due").get_attribute("data-due")) == contact_due
    assert datetime.fromisoformat(row.locator(".rectify-due").get_attribute("data-due")) == rectify_due
    text = row.inner_text()
    assert "非常不满意" in text and "窗口三" in text and "等了一个多小时" in text and "待联系" in text
    shot(bo, "backoffice-rectifications")

    # the loop from the page: contact, then the row moves on (live, through the staff events)
    row.locator("button", has_text="已联系").click()
    bo.fill('#form-fields textarea[name="note"]', "已电话联系群众")
    bo.click("#form-submit")
    bo.wait_for_function(
        f"document.querySelector('tr[data-rect=\"{loop['id']}\"] .state').textContent.includes('已联系待整改')"
    )

    # the case accepted in that service is on the 办件 tab, due at close of business
    bo.click("#tab-cases")
    case_row = bo.locator("tr[data-receipt]").first
    case_row.wait_for()
    assert "增值税专用发票" in case_row.inner_text() and "张*丰" in case_row.inner_text()
    due_iso = case_row.locator(".due[data-due]").get_attribute("data-due")
    assert local(due_iso, cfg.timezone).endswith("17:30")
    case_row.locator("button", has_text="开始审查").click()
    bo.wait_for_function("document.querySelector('tr[data-receipt] .state').textContent.includes('审查中')")
    shot(bo, "backoffice-cases")


def test_a_pad_of_another_window_shows_nothing_to_rate(hall, new_page) -> None:
    pad2 = new_page(800, 480, speech=False)
    pad2.goto(f"{hall.base}/rate/2?token={hall.mint_token('rating_pad', window=2, name='pad-2')}")
    pad2.wait_for_selector("#idle:not([hidden])")
    serve_and_finish(hall, matter=None)  # at window 3
    pad2.wait_for_timeout(500)
    assert pad2.is_hidden("#ask")


def test_the_status_page_offers_the_rating_of_its_own_ticket(hall, new_page) -> None:
    ticket = serve_and_finish(hall, matter=None)
    page = new_page(420, 860, speech=False, mobile=True)
    page.goto(f"{hall.base}/t/{ticket['status_token']}")
    page.wait_for_selector("#st-rating:not([hidden]) .sr-score")
    page.click('.sr-score[data-score="5"]')
    page.wait_for_function("document.getElementById('sr-done').textContent.includes('非常满意')")
    assert page.is_hidden("#sr-scores")
    assert hall.server.hall.rating_of_ticket(ticket["id"]).channel == "status_page"
