"""The real wall page (displays/, hallclient.js) in Debian's Chromium, served by display
gateways behind a load balancer (a plain TCP balancer in the test: first backend that accepts).
Its gateway is killed while the hall calls: the page reconnects through the balancer to the
other gateway, resyncs, and applies every later call exactly once."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal

from city_support import HALL, desk, gateway, hall_server, healthz
from playwright.async_api import async_playwright, expect

CHROMIUM = os.environ.get("HALLOPS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--autoplay-policy=no-user-gesture-required",
]

# speechSynthesis replaced as in tests/displays: a zh-CN voice, each utterance ends at once
FAKE_SPEECH = """
(() => {
  window.__spoken = [];
  const voice = {lang: 'zh-CN', name: 'Fake Mandarin', localService: true, default: true, voiceURI: 'fake'};
  const synth = window.speechSynthesis;
  synth.getVoices = () => [voice];
  synth.speak = (u) => { window.__spoken.push(u.text); setTimeout(() => { if (u.onend) u.onend(new Event('end')); }, 10); };
  synth.cancel = () => {};
  window.HALLOPS_ANNOUNCER = {chimeMs: 30, gapMs: 10};
})();
"""

# Record every event the page's HallState applies (hallclient.js assigns window.HallState once).
RECORD_CALLS = """
window.__calls = [];
(function () {
  var HS;
  Object.defineProperty(window, 'HallState', {configurable: true, get: function () { return HS; },
    set: function (v) {
      HS = v;
      var apply = v.prototype.apply;
      v.prototype.apply = function (ev) {
        if (ev.type === 'ticket_called') window.__calls.push(ev.ticket);
        return apply.call(this, ev);
      };
    }});
})();
"""


class Balancer:
    """TCP to the first backend that accepts the connection (what a load balancer does)."""

    def __init__(self, backends: list[int]) -> None:
        self.backends = backends
        self.server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._conn, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _conn(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for port in self.backends:
            try:
                up_r, up_w = await asyncio.open_connection("127.0.0.1", port)
                break
            except OSError:
                continue
        else:
            writer.close()
            return

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, ConnectionError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.close()

        await asyncio.gather(pipe(reader, up_w), pipe(up_r, writer))

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()


async def test_the_wall_page_moves_to_another_gateway_and_shows_every_call_once(tmp_path, nats_url):
    with (
        gateway(nats_url, tmp_path / "gw1.log") as (gw1, port1),
        gateway(nats_url, tmp_path / "gw2.log") as (_, port2),
    ):
        lb = Balancer([port1, port2])
        await lb.start()
        async with hall_server(tmp_path, nats_url) as server, desk(server) as staff, async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                page = await (
                    await browser.new_context(
                        viewport={"width": 1920, "height": 1080}, locale="zh-CN", timezone_id="Asia/Shanghai"
                    )
                ).new_page()
                await page.add_init_script(FAKE_SPEECH)
                await page.add_init_script(RECORD_CALLS)
                await page.goto(f"http://127.0.0.1:{lb.port}/display/wall?hall={HALL}")
                await expect(page.locator("#hc-conn")).to_be_hidden(timeout=15_000)
                for _ in range(3):
                    await staff.call_one()
                await expect(page.locator("#now-ticket")).to_have_text(staff.called[-1][-4:])
                assert await page.evaluate("window.__calls") == staff.called

                os.kill(gw1.pid, signal.SIGKILL)
                await expect(page.locator("#hc-conn")).to_be_visible()
                for _ in range(2):  # while the page is away
                    await staff.call_one()
                await expect(page.locator("#hc-conn")).to_be_hidden(timeout=15_000)
                await expect(page.locator("#now-ticket")).to_have_text(staff.called[-1][-4:])
                for _ in range(3):
                    await staff.call_one()
                    await expect(page.locator("#now-ticket")).to_have_text(staff.called[-1][-4:])
                calls = await page.evaluate("window.__calls")
                assert len(calls) == len(set(calls)), f"a call applied twice: {calls}"
                assert calls[:3] == staff.called[:3] and calls[-3:] == staff.called[-3:]
                assert set(calls) <= set(staff.called)
                assert await page.evaluate("hallClient.seq") is not None
                assert healthz(port2)["halls"][HALL]["subscribers"] == 1, "the page is on gateway 2 now"
            finally:
                await browser.close()
        await lb.stop()
