"""``GET /metrics``: scraped from a real server while real clients load it; the histograms
move, the live figures match the connections, and it is for loopback only."""

from __future__ import annotations

import asyncio
import urllib.error
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from queue_server.server.app import HallServer
from queue_server.server.auth import hash_token, new_token
from queue_server.store.base import DeviceToken

from _support import Client


def scrape(port: int, headers: dict[str, str] | None = None) -> dict[tuple[str, tuple], float]:
    """Every sample of /metrics: (name, sorted labels) -> value."""
    req = urllib.request.Request(f"http://127.0.0.1:{port}/metrics", headers=headers or {})
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert resp.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        text = resp.read().decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def mint(server: HallServer, role: str, window: int | None = None) -> str:
    token = new_token()
    await server.store.add_token(
        hash_token(token),
        DeviceToken(role=role, window=window, name=f"{role}-{window}"),
        server.now().isoformat(),
    )
    return token


def count(m: dict, name: str, **labels: str) -> float:
    return m.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_metrics_move_under_load(server: HallServer):
    url = f"ws://127.0.0.1:{server.port}/ws"
    before = await asyncio.to_thread(scrape, server.port)
    kiosk_token, window_token = await mint(server, "kiosk"), await mint(server, "window", 1)
    async with (
        Client.connect(url) as kiosk,
        Client.connect(url) as window,
        Client.connect(url) as wall_1,
        Client.connect(url) as wall_2,
    ):
        assert (await kiosk.request("auth", token=kiosk_token))["type"] == "ok"
        assert (await window.request("auth", token=window_token))["type"] == "ok"
        for wall in (wall_1, wall_2):
            assert (await wall.request("subscribe"))["type"] == "ok"
        assert (await window.request("open_window", window=1))["type"] == "ok"

        async def load() -> None:
            rids = [await kiosk.send("issue_ticket", queue="A") for _ in range(30)]
            for rid in rids:
                assert (await kiosk.reply(rid))["type"] == "ok"
            for _ in range(5):
                for command in ("call_next", "start_service", "finish_service"):
                    assert (await window.request(command, window=1))["type"] == "ok"

        task = asyncio.create_task(load())
        during = await asyncio.to_thread(scrape, server.port)  # while the load runs
        await task
        await asyncio.sleep(0.2)  # a few ticks of the loop-lag probe
        after = await asyncio.to_thread(scrape, server.port)
    assert during  # the scrape answered while commands were being served

    issued = count(after, "hallops_command_seconds_count", type="issue_ticket")
    assert issued - count(before, "hallops_command_seconds_count", type="issue_ticket") == 30
    assert count(after, "hallops_command_seconds_count", type="call_next") == 5
    assert count(after, "hallops_command_seconds_sum", type="issue_ticket") > 0
    # every bucket count is cumulative; the +Inf bucket holds them all
    assert count(after, "hallops_command_seconds_bucket", type="issue_ticket", le="+Inf") == issued
    commits = count(after, "hallops_db_commit_seconds_count") - count(
        before, "hallops_db_commit_seconds_count"
    )
    assert 1 <= commits <= 30 + 15 + 1  # batched: at most one per command
    assert count(after, "hallops_db_commit_seconds_sum") > count(before, "hallops_db_commit_seconds_sum")
    assert count(after, "hallops_event_loop_lag_seconds_count") > count(
        before, "hallops_event_loop_lag_seconds_count"
    )
    assert count(after, "hallops_fanout_publish_seconds_count") >= 30 + 15
    # live figures: the four connections of the test were open at the second scrape
    assert count(during, "hallops_connections", role="kiosk") == 1
    assert count(during, "hallops_connections", role="window") == 1
    assert count(during, "hallops_subscribers") == 2
    # each event reached both walls through the frame-once writer
    frames = count(after, "hallops_fanout_frames_total") - count(before, "hallops_fanout_frames_total")
    assert frames >= 2 * (30 + 15)
    assert count(after, "hallops_fanout_slow_screens_total") == 0
    assert count(after, "hallops_fanout_pending_events") == 0


async def test_metrics_are_for_loopback_only(server: HallServer):
    def forwarded() -> int:
        try:
            scrape(server.port, {"X-Forwarded-For": "10.1.2.3"})
        except urllib.error.HTTPError as exc:
            return exc.code
        return 200

    assert await asyncio.to_thread(forwarded) == 403  # a request a proxy forwards from elsewhere
