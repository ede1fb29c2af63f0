"""Streamlit glue of the city dashboard (``hallops dashboard --db postgresql://…``): the halls'
configs, one cached warehouse per hall, and the hall picker at the top of every page's
sidebar. The data side is ``city_data``; the comparison page is ``app_pages/city.py``."""

from __future__ import annotations

import os
from pathlib import Path

import streamlit as st

from queue_server.hall.config import HallConfig

from .city_data import PostgresHallWarehouse, city_halls, is_city_db
from .data import HallWarehouse
from .settings import CONFIG_ENV, DB_ENV

HALL_KEY = "city_hall"


def city_url() -> str | None:
    """The city database's URL when the dashboard runs on one, else None (one SQLite hall)."""
    value = os.environ.get(DB_ENV)
    return value if is_city_db(value) else None


@st.cache_resource(show_spinner=False)
def city_configs(paths: str) -> dict[str, HallConfig]:
    """The halls' configs (``HALLOPS_CONFIG``: paths joined by ``os.pathsep``), by hall code."""
    from queue_server.config_file import load_hall_config

    configs = [load_hall_config(Path(p)) for p in paths.split(os.pathsep) if p]
    return {c.code: c for c in configs}


def configs() -> dict[str, HallConfig]:
    return city_configs(os.environ.get(CONFIG_ENV, ""))


@st.cache_resource(show_spinner="正在载入大厅数据…")
def hall_warehouse(url: str, hall: str, _config: HallConfig) -> PostgresHallWarehouse:
    """One warehouse per hall for the whole server process, refreshed in place."""
    return PostgresHallWarehouse(url, hall, _config).load()


@st.cache_data(ttl=30, show_spinner=False)
def halls_with_rows(url: str) -> list[str]:
    return city_halls(url)


def open_hall(url: str) -> tuple[HallConfig, HallWarehouse]:
    """The hall picker (sidebar, every page) and the chosen hall's config and warehouse."""
    known = configs()
    if not known:
        raise RuntimeError("没有大厅配置:hallops dashboard --db postgresql://… --config 各大厅的配置文件")
    present = set(halls_with_rows(url))
    codes = [c for c in known if c in present] or list(known)
    if st.session_state.get(HALL_KEY) not in codes:
        st.session_state[HALL_KEY] = codes[0]
    with st.sidebar:
        hall = st.selectbox("大厅", codes, key=HALL_KEY, format_func=lambda c: known[c].name)
    config = known[hall]
    return config, hall_warehouse(url, hall, config)
