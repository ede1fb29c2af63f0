"""The back office's complaints tab in the browser: a manager records a complaint by phone
with a category, it goes to the matter's department; that department's back office sees the
complainant in full and takes the next step."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from queue_server.config_file import load_hall_config
from queue_server.hall.config import HallConfig, StaffAccount, StaffRole
from queue_server.passwords import hash_password

ROOT = Path(__file__).resolve().parents[2]
SMALL_HALL = ROOT / "tests" / "fixtures" / "halls" / "small.toml"
PASSWORD = "test-pass"


def config() -> HallConfig:
    cfg = load_hall_config(SMALL_HALL)
    bo = StaffAccount(
        username="bo-tax",
        name="何俊",
        role=StaffRole.BACKOFFICE,
        password_hash=hash_password(PASSWORD),
        department="税务局",
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


def login(page, base: str, username: str) -> None:
    page.goto(f"{base}/backoffice")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_selector("#main:not([hidden])")
    page.click("#tab-complaints")
    page.wait_for_selector("#panel-complaints:not([hidden])")


def test_a_complaint_recorded_by_a_manager_reaches_the_departments_back_office(hall, new_page, shot) -> None:
    mgr = new_page(1400, 900, speech=False)
    login(mgr, hall.base, "manager")
    mgr.wait_for_function("document.querySelector('#complaint-form') && window.__backofficeComplaints")
    mgr.click("#complaint-new")
    mgr.select_option('#complaint-form-fields select[name="channel"]', "phone")
    mgr.select_option('#complaint-form-fields select[name="category"]', "办理时间过长")
    mgr.fill('#complaint-form-fields textarea[name="content"]', "发票限额审批超过承诺时限")
    mgr.fill('#complaint-form-fields input[name="matter_code"]', "SW-003")
    mgr.fill('#complaint-form-fields input[name="name"]', "张三丰")
    mgr.fill('#complaint-form-fields input[name="phone"]', "13800001111")
    mgr.click("#complaint-form-submit")
    row = mgr.locator('tr[data-complaint-row="1"]')
    row.wait_for()
    assert row.locator(".owner").inner_text() == "税务局"
    assert (
        "已分办待处理" in row.inner_text() and "13800001111" in row.inner_text()
    )  # a manager sees it in full
    shot(mgr, "backoffice-complaints-manager")

    bo = new_page(1400, 900, speech=False)
    login(bo, hall.base, "bo-tax")
    mine = bo.locator('tr[data-complaint-row="1"]')
    mine.wait_for()
    assert "张三丰" in mine.inner_text()
    assert mine.locator('button[data-step="reassign"]').count() == 0  # only the management reassigns
    mine.locator('button[data-step="handle"]').click()
    bo.fill('#complaint-form-fields textarea[name="handling"]', "已加急审批")
    bo.click("#complaint-form-submit")
    bo.wait_for_function(
        "document.querySelector('tr[data-complaint-row=\"1\"] .state').textContent.includes('已处理待回复')"
    )
    shot(bo, "backoffice-complaints-department")
