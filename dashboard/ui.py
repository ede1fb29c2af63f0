"""Streamlit glue shared by the router and the pages: the cached warehouse and config, the
sidebar filters and the context a page reads. Everything that is not Streamlit lives in
``data``, ``queries``, ``charts`` and ``report``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from queue_server.hall.config import HallConfig

from . import city_ui as city
from . import hall_clock
from . import queries as q
from .data import HallWarehouse, default_cache_path
from .settings import config_path_from_env, db_path_from_env

LIVE_REFRESH_S = 5  # the live page redraws itself this often
REFRESH_MAX_AGE_S = 2.0  # a page run refreshes the warehouse unless it is fresher than this
DEFAULT_DAYS = 30
CONTENT_ROWS = 30  # tables up to this many rows show them all; longer ones scroll

# which sidebar filters each page uses (url path -> filters)
PAGE_FILTERS: dict[str, tuple[str, ...]] = {
    "live": ("department", "queue"),
    "cases": ("dates", "department"),
    "ratings": ("dates", "department"),
    "windows": ("dates", "department", "queue"),
    "report": (),
    "city": ("dates",),
    "visits": ("dates",),
    "complaints": ("dates",),
    "integrated": ("dates",),
}


@st.cache_resource(show_spinner=False)
def load_config(path: str) -> HallConfig:
    from queue_server.config_file import load_hall_config

    return load_hall_config(Path(path))


@st.cache_resource(show_spinner="正在载入大厅数据…")
def load_warehouse(db: str, config_path: str) -> HallWarehouse:
    """One warehouse per database for the whole server process, shared by every session;
    it is never replaced, only refreshed in place. It starts from the cache file next to
    the database when there is a valid one (docs/dashboard.md, "Data path")."""
    return HallWarehouse(db, load_config(config_path), cache=default_cache_path(db)).load()


@dataclass(frozen=True, kw_only=True)
class Context:
    config: HallConfig
    wh: HallWarehouse
    now: datetime  # hall local time of this run
    today: date
    scope: q.Scope  # sidebar choice (dates, departments, queues)
    departments: tuple[str, ...]
    queues: tuple[str, ...]

    @property
    def now_ts(self) -> float:
        return self.now.timestamp()

    def fresh_now(self) -> datetime:
        return now_of(self.wh, self.config)


def now_of(wh: HallWarehouse, config: HallConfig) -> datetime:
    """The hall's now (``hall_clock``: the server's clock in ``meta``, else the real one)."""
    return hall_clock.hall_now(config.timezone, wh.meta(hall_clock.META_KEY))


def context() -> Context:
    ctx = st.session_state.get("_hallops_ctx")
    if ctx is None:  # a page run on its own (should not happen behind the router)
        ctx = frame(None)
    return ctx


def frame(page_path: str | None) -> Context:
    """The shared frame: config and data, the hall's name, the sidebar filters of the page."""
    try:
        if city.city_url():  # a city: the hall picker, then that hall's rows (docs/city.md)
            config, wh = city.open_hall(city.city_url())  # type: ignore[arg-type]
        else:
            db = db_path_from_env()
            cfg_path = config_path_from_env()
            config = load_config(str(cfg_path))
            if not db.exists():
                raise FileNotFoundError(f"数据库文件不存在:{db}")
            wh = load_warehouse(str(db), str(cfg_path))
    except Exception as exc:
        st.error(f"无法打开大厅数据:{exc}")
        st.stop()
        raise
    wh.maybe_refresh(REFRESH_MAX_AGE_S)
    now = now_of(wh, config)
    today = now.date()
    filters = PAGE_FILTERS.get(page_path or "", ())

    with st.sidebar:
        st.markdown(f"### {config.name}")
        st.caption(f"{now:%Y-%m-%d %H:%M} · 数据截至事件 #{wh.last_event_id}")
        start, end = _date_filter(wh, today) if "dates" in filters else (today, today)
        departments: tuple[str, ...] = ()
        queues: tuple[str, ...] = ()
        if "department" in filters:
            if page_path == "cases":  # cases name the deciding department as the catalogue does
                depts = q.case_departments(wh)
            else:
                depts = sorted(
                    {
                        d
                        for d in (
                            *(x.department for x in config.queues),
                            *(w.department for w in config.windows),
                        )
                        if d
                    }
                )
            key = "f_case_departments" if page_path == "cases" else "f_departments"
            kept = [d for d in st.session_state.get(key, []) if d in depts]
            if kept != st.session_state.get(key, []):
                st.session_state[key] = kept
            departments = tuple(st.multiselect("部门", depts, key=key, placeholder="全部部门"))
        if "queue" in filters:
            options = [x.code for x in config.queues if not departments or x.department in departments]
            names = {x.code: f"{x.code} {x.name}" for x in config.queues}
            kept = [c for c in st.session_state.get("f_queues", []) if c in options]
            if kept != st.session_state.get("f_queues", []):
                st.session_state["f_queues"] = kept
            queues = tuple(
                st.multiselect(
                    "队列",
                    options,
                    key="f_queues",
                    format_func=lambda code: names.get(code, code),
                    placeholder="全部队列",
                )
            )
    scope = q.scope_for(config, start, end, departments=departments, queues=queues)
    ctx = Context(
        config=config, wh=wh, now=now, today=today, scope=scope, departments=departments, queues=queues
    )
    st.session_state["_hallops_ctx"] = ctx
    return ctx


def _date_filter(wh: HallWarehouse, today: date) -> tuple[date, date]:
    first, last = wh.data_range()
    last = min(last or today, today) if last else today
    first = first or last
    default = (max(first, last - timedelta(days=DEFAULT_DAYS - 1)), last)
    if "f_dates" not in st.session_state:
        st.session_state["f_dates"] = default
    picked = st.date_input(
        "日期范围",
        key="f_dates",
        min_value=min(first, today - timedelta(days=3650)),
        max_value=max(last, today),
        format="YYYY-MM-DD",
    )
    if isinstance(picked, (tuple, list)):
        if len(picked) == 2:
            return picked[0], picked[1]
        if len(picked) == 1:
            return picked[0], picked[0]
        return default
    return picked, picked


def show_table(
    df: pd.DataFrame,
    columns: dict[str, str],
    *,
    height: int | None = None,
    key: str | None = None,
    formats: dict[str, str] | None = None,
) -> None:
    """A DataFrame with Chinese headers: ``columns`` maps source column -> label, in order."""
    view = df[[c for c in columns if c in df.columns]].rename(columns=columns)
    config: dict[str, Any] = {}
    for src, fmt in (formats or {}).items():
        if src in columns:
            config[columns[src]] = st.column_config.NumberColumn(format=fmt)
    kwargs: dict[str, Any] = {
        "hide_index": True,
        "width": "stretch",
        "column_config": config,
        "height": height if height is not None else ("content" if len(view) <= CONTENT_ROWS else "auto"),
    }
    if key is not None:
        kwargs["key"] = key
    st.dataframe(view, **kwargs)


def minutes(series: pd.Series) -> pd.Series:
    return (series / 60).round(1)


def hours(series: pd.Series) -> pd.Series:
    return (series / 3600).round(1)


def clock(ts: float | None, tz: str) -> str:
    if ts is None or pd.isna(ts):
        return ""
    from zoneinfo import ZoneInfo

    return datetime.fromtimestamp(float(ts), ZoneInfo(tz)).strftime("%H:%M")


def clock_full(ts: float | None, tz: str) -> str:
    if ts is None or pd.isna(ts):
        return ""
    from zoneinfo import ZoneInfo

    return datetime.fromtimestamp(float(ts), ZoneInfo(tz)).strftime("%m-%d %H:%M")
