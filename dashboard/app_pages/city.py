"""全市对比: every hall of the city side by side over the same dates (waits, service times,
好差评, overdue cases and rectifications, 一窗受理率). Shown when the dashboard runs on a
city's PostgreSQL database (docs/city.md)."""

from __future__ import annotations

import streamlit as st

from dashboard import city_data, city_ui, hall_clock, ui

ctx = ui.context()
url = city_ui.city_url()
st.header("全市对比")
if url is None:
    st.info("全市对比需要全市数据库:hallops dashboard --db postgresql://…")
    st.stop()
start, end = ctx.scope.start, ctx.scope.end
st.caption(f"{start:%Y-%m-%d} 至 {end:%Y-%m-%d};超期办件、超期未整改为当前时点")

present = set(city_ui.halls_with_rows(url))
figures = []
for code, config in city_ui.configs().items():
    if code not in present:
        continue
    wh = city_ui.hall_warehouse(url, code, config)
    wh.maybe_refresh(ui.REFRESH_MAX_AGE_S)
    now = hall_clock.hall_now(config.timezone, wh.meta(hall_clock.META_KEY))
    figures.append(city_data.hall_figures(wh, config, start, end, now))
if not figures:
    st.info("全市数据库中还没有大厅数据。")
    st.stop()
table = city_data.city_comparison(figures)
st.dataframe(table, hide_index=True, width="stretch", key="city_table", height="content")
st.caption("最多跑一次:现有数据不记录群众为同一事项往返大厅的次数(不保存申请人标识),无法计算,暂不显示。")
