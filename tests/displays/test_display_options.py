"""Display options: a wall for one zone, halls that require display tokens."""

from __future__ import annotations

from playwright.sync_api import expect


def test_zone_wall_shows_only_its_zone(hall, manager, new_page):
    wall = new_page(1920, 1080)
    wall.goto(hall.base + "/display/wall?zone=" + "A区")
    expect(wall.locator("#zone")).to_have_text("A区")
    # Zone A区: windows 1, 2, 5 and their queues A and B; P (window 9, C区) is not shown.
    expect(wall.locator("#queue-body .qrow")).to_have_count(2)
    expect(wall.locator('#queue-body .qrow[data-queue="P"]')).to_have_count(0)
    manager.ok("issue_ticket", queue="P")
    manager.ok("issue_ticket", queue="A")
    manager.ok("open_window", window=9)
    manager.ok("open_window", window=1)
    manager.ok("call_next", window=9)
    manager.ok("call_next", window=1)
    expect(wall.locator("#now-ticket")).to_have_text("A001")
    wall.wait_for_timeout(300)
    assert wall.evaluate("window.__spoken") == ["请 A 零 零 一 号 到 1 号窗口 办理"] * 2
    assert "P001" not in wall.locator("body").inner_text()


def test_displays_with_a_required_display_token(make_hall, new_page):
    h = make_hall(require_display_token=True)
    wall = new_page(1920, 1080)
    wall.goto(h.base + "/display/wall")
    expect(wall.locator("#hc-notice")).to_be_visible()
    expect(wall.locator("#hc-notice")).to_contain_text("本大厅要求显示屏令牌")
    expect(wall.locator("#hc-notice")).to_contain_text("hallops token --role display")

    token = h.mint_token("display", name="wall-1")
    wall.goto(h.base + f"/display/wall?token={token}")
    expect(wall.locator("#hc-notice")).to_be_hidden()
    assert "token" not in wall.url
    expect(wall.locator("#queue-body .qrow")).to_have_count(3)
    # The same browser keeps the token for its window display too.
    win = wall.context.new_page()
    win.goto(h.base + "/display/window/2")
    expect(win.locator("#wd-name")).to_have_text("2号窗口")
    expect(win.locator("#wd-status")).to_have_text("未开放")
