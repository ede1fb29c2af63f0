"""Pictures of every screen and every dashboard page of a fresh demo, for the README.

    .venv/bin/python scripts/screenshots.py            # writes docs/screenshots/*.png

Starts ``hallops demo`` (fresh, in a temporary folder, one day of history, its dashboard on a
free port), waits for data, then drives Debian's Chromium (``/usr/bin/chromium``, no
browser download) with Playwright through the hall index, the wall, a window display, the
kiosk, the staff terminal (the demo's free window, logged in), a rating pad, the back
office, a citizen's status page and the six dashboard pages. Pictures are PNG, downscaled
to keep the folder small.
"""

from __future__ import annotations

import argparse
import io
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
DASHBOARD = {  # url path -> (sidebar link, file)
    "": ("实时", "dashboard-live"),
    "cases": ("办件", "dashboard-cases"),
    "ratings": ("好差评", "dashboard-ratings"),
    "windows": ("窗口与人员", "dashboard-windows"),
    "report": ("报表", "dashboard-report"),
    "whatif": ("排班模拟", "dashboard-whatif"),
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_demo(folder: Path, speed: float) -> tuple[subprocess.Popen[str], dict[str, str], dict[str, str]]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "queue_server.cli",
            "demo",
            "--fresh",
            "--db",
            str(folder / "demo.db"),
            "--port",
            "0",
            "--dashboard-port",
            str(free_port()),
            "--history",
            "1",
            "--speed",
            str(speed),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    urls: dict[str, str] = {}
    notes: dict[str, str] = {}
    for line in proc.stdout:  # type: ignore[union-attr]
        print(line, end="")
        m = re.match(r"\s+([a-z ]+?)\s{2,}(http://\S+)(?:\s+\((.*)\))?", line)
        if m:
            urls[m.group(1)] = m.group(2)
            notes[m.group(1)] = m.group(3) or ""
        if line.startswith("Ctrl-C"):
            return proc, urls, notes
    raise SystemExit("the demo stopped before printing its addresses")


def save(page: Any, name: str, scale: float = 0.6) -> None:
    """A PNG of the page, downscaled (PIL) to keep the README's pictures small."""
    import base64

    from PIL import Image

    # through the DevTools protocol: Playwright's own screenshot waits for a quiet page,
    # which a screen that refreshes itself (kiosk, dashboard) under load may never be
    cdp = page.context.new_cdp_session(page)
    try:
        raw = base64.b64decode(cdp.send("Page.captureScreenshot", {"format": "png"})["data"])
    except Exception as exc:
        print(f"  {name}: no picture ({str(exc).splitlines()[0]})")
        return
    finally:
        cdp.detach()
    img = Image.open(io.BytesIO(raw)).convert("RGB")
    img = img.resize((int(img.width * scale), int(img.height * scale)), Image.LANCZOS)
    img = img.quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    path = OUT / f"{name}.png"
    img.save(path, optimize=True)
    print(f"  {path.relative_to(ROOT)}  {path.stat().st_size // 1024} KB")


def shoot(urls: dict[str, str], notes: dict[str, str], db: Path) -> None:
    import sqlite3

    from playwright.sync_api import sync_playwright

    base = urls["health"].rsplit("/", 1)[0]
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)

        def page(width: int, height: int) -> Any:
            return browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN").new_page()

        p = page(1280, 900)
        p.goto(urls["hall index"])
        p.wait_for_selector("#demo:not([hidden])")
        save(p, "index")
        p = page(1920, 1080)
        p.goto(urls["wall display"])
        p.wait_for_timeout(6000)
        save(p, "wall", 0.5)
        p = page(1280, 360)
        p.goto(urls["window display"])
        p.wait_for_timeout(3000)
        save(p, "window", 0.5)
        p = page(1280, 800)
        p.goto(urls["kiosk"])
        p.wait_for_timeout(3000)
        save(p, "kiosk", 0.5)
        m = re.search(r"window (\d+) is yours: account (\S+), password (\S+)", notes["staff terminal"])
        assert m, notes["staff terminal"]
        p = page(1366, 768)
        p.goto(urls["staff terminal"])
        p.fill("#login-user", m.group(2))
        p.fill("#login-pass", m.group(3))
        p.select_option("#login-window", m.group(1))
        p.click("#login-submit")
        p.locator('[data-act="open_window"]').click()
        p.wait_for_timeout(1000)
        p.locator('[data-act="call_next"]').click()
        p.wait_for_timeout(2000)
        save(p, "terminal")
        p = page(1024, 600)
        p.goto(urls["rating pad"])
        p.wait_for_timeout(3000)
        save(p, "rating-pad")
        p = page(1366, 800)
        p.goto(urls["back office"])
        p.fill("#username", "manager")
        p.fill("#password", m.group(3))
        p.click("#login-submit")
        try:
            p.wait_for_selector("tbody tr", timeout=60_000)
        except Exception as exc:
            print(f"  backoffice: {str(exc).splitlines()[0]}")
        p.wait_for_timeout(1000)
        save(p, "backoffice")
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        token = con.execute(
            "SELECT status_token FROM tickets WHERE state = 'waiting' ORDER BY issued_at DESC LIMIT 1"
        ).fetchone()
        con.close()
        if token:
            p = page(390, 844)
            p.goto(f"{base}/t/{token[0]}")
            p.wait_for_timeout(3000)
            save(p, "status", 0.8)
        dash = urls["dashboard"]
        p = page(1500, 1000)
        p.goto(dash, timeout=180_000, wait_until="commit")
        for path, (link, name) in DASHBOARD.items():
            if path:
                p.locator('[data-testid="stSidebarNav"] a', has_text=link).first.click()
            try:
                p.wait_for_selector('[data-testid="stMetric"], [data-testid="stDataFrame"]', timeout=180_000)
            except Exception as exc:
                print(f"  {name}: {str(exc).splitlines()[0]}")
            p.wait_for_timeout(6000)
            save(p, name, 0.5)
        browser.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--speed", type=float, default=60.0)
    ap.add_argument("--wait", type=float, default=40.0, help="real seconds of live demo before the pictures")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        proc, urls, notes = start_demo(Path(tmp), args.speed)
        try:
            time.sleep(args.wait)
            shoot(urls, notes, Path(tmp) / "demo.db")
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
