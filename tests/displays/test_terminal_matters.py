"""The terminal's matter list holds only the matters its window's queues accept."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from queue_server.config_file import load_hall_config

ROOT = Path(__file__).resolve().parents[2]
DEMO_HALL = ROOT / "data" / "halls" / "demo.toml"
DEMO_PASSWORD = "hallops-demo"


@pytest.fixture(scope="module")
def demo_hall(tmp_path_factory, threaded_hall) -> Iterator:
    h = threaded_hall(load_hall_config(DEMO_HALL), tmp_path_factory.mktemp("matters") / "demo.db")
    h.start()
    try:
        yield h
    finally:
        h.close()


def _expected(hall, window: int) -> tuple[set[str], int]:
    c = hall.client()
    try:
        c.ok("login", username="manager", password=DEMO_PASSWORD)
        matters = c.ok("list_matters")["matters"]
    finally:
        c.close()
    win = next(w for w in hall.config.windows if w.number == window)
    queues = {wq.queue for wq in win.queues}
    return {m["code"] for m in matters if queues & set(m["queues"])}, len(matters)


@pytest.mark.parametrize(("username", "window"), [("w05", 5), ("w01", 1), ("w19", 19)])
def test_matter_list_is_filtered_by_the_window(demo_hall, new_page, username, window):
    """5 税务 and 1 无差别 accept some of the catalogue; 19 (出件) accepts no matter at all:
    it must not fall back to the whole catalogue."""
    expected, total = _expected(demo_hall, window)
    assert len(expected) < total  # the demo catalogue links matters to queues
    page = new_page(1366, 768)
    page.goto(demo_hall.base + "/terminal")
    page.fill("#login-user", username)
    page.fill("#login-pass", DEMO_PASSWORD)
    page.select_option("#login-window", str(window))
    page.click("#login-submit")
    expect(page.locator("#desk")).to_be_visible()
    options = page.locator("#case-matter option")
    if expected:
        expect(options).to_have_count(len(expected))
        assert set(options.evaluate_all("os => os.map(o => o.value)")) == expected
    else:
        expect(options).to_have_count(1)
        expect(options.first).to_have_text("(本窗口的业务没有可受理的事项)")
        assert options.first.get_attribute("value") == ""
