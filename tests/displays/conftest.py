"""Fixtures for the browser tests of the screens in displays/.

The queue server runs in a background thread with its own asyncio loop, so the tests can
drive Chromium with Playwright's sync API in the main thread, stop the server and start a
new one on the same port and database file (restart test), and send protocol requests
with the suite's shared client (``_support.SyncClient``).

Chromium is Debian's (/usr/bin/chromium); no browser is downloaded.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import os
import shutil
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from queue_server.config_file import load_hall_config
from queue_server.hall.config import HallConfig, QueueKind, WindowConfig, WindowQueue
from queue_server.server import app as app_module
from queue_server.server.app import HallServer
from queue_server.server.auth import hash_token, new_token
from queue_server.store import SqliteStore
from queue_server.store.base import DeviceToken

from _support import SyncClient

ROOT = Path(__file__).resolve().parents[2]
SMALL_HALL = ROOT / "tests" / "fixtures" / "halls" / "small.toml"
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = os.environ.get("HALLOPS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--autoplay-policy=no-user-gesture-required",  # wall displays run like this: the chime may play
]
PASSWORD = "test-pass"
OPEN_TIMEOUT_S = 1.5


def display_config() -> HallConfig:
    """small.toml plus window 5 (queue A), so five windows can call at the same moment."""
    cfg = load_hall_config(SMALL_HALL)
    extra = WindowConfig(
        number=5, name="5号窗口", kind=QueueKind.GENERAL, zone="A区", queues=(WindowQueue(queue="A"),)
    )
    return dataclasses.replace(cfg, windows=(*cfg.windows, extra))


class ThreadedHall:
    """A real HallServer (real SQLite file) served from a background thread."""

    def __init__(self, config: HallConfig, db_path: Path) -> None:
        self.config = config
        self.db_path = db_path
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="hallops-test-server", daemon=True)
        self.thread.start()
        self.server: HallServer | None = None
        self.port = 0

    def run(self, coro: Any, timeout: float = 10.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def start(self) -> None:
        async def _start() -> HallServer:
            srv = HallServer(self.config, SqliteStore(self.db_path), host="127.0.0.1", port=self.port)
            # Chromium opens spare TCP connections that never send a request; on stop() the
            # server waits for them until websockets' open_timeout (10 s by default). A
            # shorter handshake timeout keeps the restart test quick (see the report).
            real_serve = app_module.serve
            app_module.serve = functools.partial(real_serve, open_timeout=OPEN_TIMEOUT_S)
            try:
                await srv.start()
            finally:
                app_module.serve = real_serve
            return srv

        self.server = self.run(_start())
        self.port = self.server.port

    def stop(self) -> None:
        if self.server is not None:
            self.run(self.server.stop(), timeout=20)
            self.server = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def close(self) -> None:
        self.stop()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def mint_token(self, role: str, window: int | None = None, name: str = "test-device") -> str:
        assert self.server is not None
        token = new_token()
        now = datetime.now(ZoneInfo(self.config.timezone)).isoformat()
        self.run(
            self.server.store.add_token(
                hash_token(token), DeviceToken(role=role, window=window, name=name), now
            )
        )
        return token

    def client(self) -> SyncClient:
        return SyncClient(self.ws_url, open_timeout=5)


@pytest.fixture(scope="session")
def threaded_hall() -> type[ThreadedHall]:
    """The ThreadedHall class, for modules that set up a hall of their own."""
    return ThreadedHall


@pytest.fixture
def hall(tmp_path: Path) -> Iterator[ThreadedHall]:
    h = ThreadedHall(display_config(), tmp_path / "hall.db")
    h.start()
    try:
        yield h
    finally:
        h.close()


@pytest.fixture
def make_hall(tmp_path: Path):
    """make_hall(**config_changes) -> a started ThreadedHall on a variant of the test hall."""
    halls: list[ThreadedHall] = []

    def _make(**changes: Any) -> ThreadedHall:
        h = ThreadedHall(dataclasses.replace(display_config(), **changes), tmp_path / f"hall-{len(halls)}.db")
        halls.append(h)
        h.start()
        return h

    yield _make
    for h in halls:
        h.close()


@pytest.fixture
def manager(hall: ThreadedHall) -> Iterator[SyncClient]:
    c = hall.client().login_manager()
    try:
        yield c
    finally:
        c.close()


@pytest.fixture(scope="module")  # per module: sync Playwright's loop must not outlive it (async tests follow)
def browser():
    if not Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is None:
        pytest.fail(
            f"no Chromium at {CHROMIUM}: the browser tests need it (apt-get install chromium fonts-noto-cjk)"
        )
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    try:
        yield b
    finally:
        b.close()
        pw.stop()


# Replaces speechSynthesis so the announcements are captured deterministically: a zh-CN
# voice exists, speak() records the text and ends the utterance shortly after.
FAKE_SPEECH = """
(() => {
  window.__spoken = [];
  window.__overlap = 0;
  let speaking = false;
  const voice = {lang: 'zh-CN', name: 'Fake Mandarin', localService: true, default: true, voiceURI: 'fake'};
  const synth = window.speechSynthesis;
  synth.getVoices = () => [voice];
  synth.speak = (u) => {
    if (speaking) window.__overlap += 1;
    speaking = true;
    window.__spoken.push(u.text);
    setTimeout(() => { speaking = false; if (u.onend) u.onend(new Event('end')); }, 20);
  };
  synth.cancel = () => {};
  window.HALLOPS_ANNOUNCER = {chimeMs: 60, gapMs: 20};
})();
"""


@pytest.fixture
def new_page(browser):
    """new_page(width, height, speech=True) -> a Page in its own context; closed after the test."""
    contexts = []

    def _new(width: int = 1280, height: int = 800, *, speech: bool = True, mobile: bool = False):
        ctx = browser.new_context(
            viewport={"width": width, "height": height},
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
            is_mobile=mobile,
            has_touch=mobile,
            device_scale_factor=1,
        )
        contexts.append(ctx)
        if speech:
            ctx.add_init_script(FAKE_SPEECH)
        page = ctx.new_page()
        page.set_default_timeout(10_000)
        return page

    yield _new
    for ctx in contexts:
        ctx.close()


@pytest.fixture
def shot():
    """shot(page, name) saves test-artifacts/screenshots/<name>.png."""

    def _shot(page, name: str, **kwargs: Any) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), **kwargs)
        return path

    return _shot
