"""The city dashboard over a real PostgreSQL with two halls (docs/city.md): each hall's copy,
read through ADBC, gives the same figures as the same simulated day read from SQLite; every
page has the hall picker; the city page puts the halls side by side."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.city_data import PostgresHallWarehouse, city_halls, hall_figures
from dashboard.data import TABLES, HallWarehouse
from queue_server.calendar_data import load_calendar
from queue_server.config_file import load_hall_config
from queue_server.hall.config import HallConfig
from queue_server.sim.behaviour.profile import default_profile
from queue_server.sim.engine import simulate
from queue_server.sim.plan import DEFAULT_PLAN
from queue_server.store.base import Batch, LoadedState
from queue_server.store.postgres import PostgresStore
from queue_server.store.sqlite import SqliteStore

from _backends import fresh_database

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "dashboard" / "streamlit_app.py"
HALLS = [ROOT / "data" / "halls" / "town-east.toml", ROOT / "data" / "halls" / "district-north.toml"]
MONDAY = date(2026, 11, 23)
NOW = datetime.fromisoformat("2026-11-23T17:00:00+08:00")


class BothStores:
    """The simulator's store: every batch to SQLite and to the city's PostgreSQL."""

    def __init__(self, sqlite: SqliteStore, pg: PostgresStore) -> None:
        self.sqlite, self.pg = sqlite, pg

    async def load(self) -> LoadedState:
        return await self.sqlite.load()

    async def commit(self, batch: Batch) -> list[int]:
        await self.pg.commit(batch)
        return await self.sqlite.commit(batch)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.sqlite, name)


async def _record(config: HallConfig, url: str, sqlite_path: Path, seed: int) -> None:
    sqlite, pg = SqliteStore(sqlite_path, synchronous="OFF"), PostgresStore(url, hall=config.code)
    await sqlite.open()
    await pg.open()
    try:
        await simulate(
            config,
            BothStores(sqlite, pg),
            start=MONDAY,
            days=1,
            seed=seed,  # type: ignore[arg-type]
            profile=default_profile(config),
            plan=DEFAULT_PLAN,  # type: ignore[arg-type]
            calendar=load_calendar(),
            batch_minutes=5,
        )
    finally:
        await pg.close()
        await sqlite.close()


@pytest.fixture(scope="module")
def city(pg_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, Path]]]:
    """A city database with two halls, each simulated for a day (and the same day in SQLite)."""
    folder = tmp_path_factory.mktemp("city")
    with fresh_database(pg_server) as url:
        files = {}
        for seed, path in enumerate(HALLS, start=5):
            config = load_hall_config(path)
            files[config.code] = folder / f"{config.code}.db"
            asyncio.run(_record(config, url, files[config.code], seed))
        yield url, files


def test_city_halls_lists_the_halls_with_rows(city) -> None:
    url, files = city
    assert city_halls(url) == sorted(files)


@pytest.mark.parametrize("path", HALLS, ids=lambda p: p.stem)
def test_a_halls_copy_from_postgresql_equals_its_copy_from_sqlite(city, path: Path) -> None:
    url, files = city
    config = load_hall_config(path)
    pg = PostgresHallWarehouse(url, config.code, config).load()
    lite = HallWarehouse(files[config.code], config).load()
    for name in (*TABLES, "first_calls", "calls"):
        assert pg.count(name) == lite.count(name), name
        # event ids count across the city's halls in PostgreSQL: everything else is equal
        select = "* EXCLUDE (id)" if name in ("events", "first_calls", "calls") else "*"
        order = ", ".join(f'"{c}"' for c in pg.query(f'SELECT {select} FROM "{name}" LIMIT 0').columns)
        sql = f'SELECT {select} FROM "{name}" ORDER BY {order}'
        assert pg.query(sql).equals(lite.query(sql)), name
    assert pg.count("tickets") > 50 and pg.count("ratings") > 0
    assert hall_figures(pg, config, MONDAY, MONDAY, NOW) == hall_figures(lite, config, MONDAY, MONDAY, NOW)
    assert pg.last_event_id > 0 and pg.refresh().events == 0  # nothing new: nothing re-read


@pytest.fixture
def city_env(city, monkeypatch: pytest.MonkeyPatch) -> tuple[str, dict[str, Path]]:
    url, _ = city
    monkeypatch.setenv("HALLOPS_DB", url)
    monkeypatch.setenv("HALLOPS_CONFIG", os.pathsep.join(str(p) for p in HALLS))
    monkeypatch.setenv("HALLOPS_NOW", NOW.isoformat())
    return city


def test_every_page_has_the_hall_picker_and_follows_it(city_env) -> None:
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    picker = at.sidebar.selectbox(key="city_hall")
    assert picker.options == ["东关镇便民服务中心", "北城区政务服务中心"]
    assert any("东关镇便民服务中心" in m.value for m in at.sidebar.markdown)
    picker.select("district-north").run()
    assert not at.exception, at.exception
    assert any("北城区政务服务中心" in m.value for m in at.sidebar.markdown)
    for page in ("app_pages/cases.py", "app_pages/ratings.py", "app_pages/windows.py", "app_pages/report.py"):
        at.switch_page(page).run()
        assert not at.exception, (page, at.exception)
        assert at.sidebar.selectbox(key="city_hall").value == "district-north", page


def test_the_city_page_puts_the_halls_side_by_side(city_env) -> None:
    url, _ = city_env
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.run()
    at.switch_page("app_pages/city.py").run()
    assert not at.exception, at.exception
    table = at.dataframe[0].value
    assert list(table["编号"]) == ["town-east", "district-north"]
    for path in HALLS:
        config = load_hall_config(path)
        f = hall_figures(PostgresHallWarehouse(url, config.code, config).load(), config, MONDAY, MONDAY, NOW)
        row = table[table["编号"] == config.code].iloc[0]
        assert row["取号量"] == f.summary.issued > 0
        assert row["平均等候(分)"] == pytest.approx(round(f.summary.avg_wait_s / 60, 1))
        assert row["评价数"] == f.ratings.rated
        assert row["超期办件"] == f.cases.overdue
    assert any("最多跑一次" in c.value for c in at.caption)
