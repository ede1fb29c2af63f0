"""A running dashboard (``hallops dashboard`` in a subprocess) in headless Chromium: every page
renders without an error, nothing is fetched from outside the dashboard, and a screenshot of
each page is kept in test-artifacts/screenshots/dashboard-<page>.png (git-ignored)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from dashboard_drive import DEMO_HALL, NOW, ROOT

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = ROOT / "test-artifacts" / "screenshots"
# page -> (its link in the sidebar, its heading)
PAGES = {
    "live": ("实时", "实时运行"),
    "cases": ("办件", "办件"),
    "ratings": ("好差评", "好差评"),
    "windows": ("窗口与人员", "窗口与人员"),
    "report": ("报表", "月度报表"),
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def dashboard_url(hall_db: Path) -> Iterator[str]:
    port = _free_port()
    hallops = Path(sys.executable).with_name("hallops")
    env = {**os.environ, "HALLOPS_NOW": NOW.isoformat()}
    proc = subprocess.Popen(
        [str(hallops), "dashboard", "--db", str(hall_db), "--config", str(DEMO_HALL), "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                out = proc.stdout.read() if proc.stdout else ""
                pytest.fail(f"hallops dashboard did not start:\n{out}")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_every_page_renders(dashboard_url: str) -> None:
    from playwright.sync_api import sync_playwright

    # fail, never skip: CI installs Debian's chromium (README), and a skipped browser test hides a broken page
    assert CHROMIUM.exists(), "needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    outside: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 1000}, locale="zh-CN")
            page.on(
                "request",
                lambda r: (
                    outside.append(r.url) if not r.url.startswith((dashboard_url, "data:", "blob:")) else None
                ),
            )
            page.goto(dashboard_url)
            for name, (link, heading) in PAGES.items():
                page.set_viewport_size({"width": 1500, "height": 1000})
                if name != "live":  # move like a manager does: the sidebar, no reload
                    page.locator('[data-testid="stSidebarNav"] a', has_text=link).first.click()
                page.wait_for_selector(f'h2:has-text("{heading}")', timeout=60_000)
                page.wait_for_selector(
                    '[data-testid="stMetric"], [data-testid="stDataFrame"]', timeout=60_000
                )
                page.wait_for_selector(".js-plotly-plot", timeout=60_000)
                page.wait_for_timeout(1000)  # the rest of the charts finish drawing
                assert page.locator('[data-testid="stException"]').count() == 0, name
                assert "示范县政务服务中心" in page.locator('[data-testid="stSidebar"]').inner_text()
                # the app scrolls inside its main area: grow the window to the page to catch all of it
                height = page.evaluate(
                    "() => Math.max(document.querySelector('[data-testid=\"stMain\"]')?.scrollHeight || 0,"
                    " document.body.scrollHeight)"
                )
                page.set_viewport_size({"width": 1500, "height": min(int(height) + 40, 9000)})
                page.wait_for_timeout(800)
                shot = ARTIFACTS / f"dashboard-{name}.png"
                page.screenshot(path=str(shot), full_page=True)
                assert shot.stat().st_size > 20_000, name  # a page, not a blank
        finally:
            browser.close()
    assert outside == [], f"requests outside the dashboard: {outside}"
