"""The back office (/backoffice) shows a 一件事 with its parts, departments and states, and each
part with its bundle: headless Chromium against a real server."""

from __future__ import annotations

from playwright.sync_api import expect

PASSWORD = "test-pass"


def test_the_back_office_shows_a_bundle_and_its_parts(hall, manager, new_page, shot):
    manager.ok("open_window", window=1)
    manager.ok(
        "issue_ticket", queue="A", channel="staff", applicant={"name": "李企业", "phone": "", "id_number": ""}
    )
    manager.ok("call_next", window=1)
    manager.ok("start_service", window=1)
    bundle = manager.ok("accept_case", window=1, matter="SS-008")["case"]
    parts = {p["matter_code"]: p["receipt_no"] for p in bundle["parts"]}

    bo = new_page(1400, 900, speech=False)
    bo.goto(f"{hall.base}/backoffice")
    bo.fill("#username", "manager")
    bo.fill("#password", PASSWORD)
    bo.click("#login-submit")
    bo.wait_for_selector("#main:not([hidden])")
    row = bo.locator(f'tr[data-receipt="{bundle["receipt_no"]}"]')
    expect(row).to_contain_text("一件事·各部门办理中")
    for dept in ("市场监管局", "公安局（治安）", "税务局", "人社局（社保中心）"):
        expect(row).to_contain_text(dept)
    expect(row.locator("button")).to_have_count(0)  # the bundle is decided by its parts
    first = bo.locator(f'tr[data-receipt="{parts["SS-003"]}"]')
    expect(first).to_contain_text(f"一件事 {bundle['receipt_no']} 的分项")
    expect(first.locator("button", has_text="开始审查")).to_be_visible()
    waiting = bo.locator(f'tr[data-receipt="{parts["SS-007"]}"]')
    expect(waiting).to_contain_text("等待前序事项")
    shot(bo, "backoffice-bundle")
