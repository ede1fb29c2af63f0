"""窗口与人员: workload, service time, idle and paused time per window and staff member;
arrivals against open windows by hour."""

from __future__ import annotations

import streamlit as st

from dashboard import charts, theme, ui
from dashboard import queries as q

ctx = ui.context()
scope = ctx.scope
st.header("窗口与人员")
st.caption(f"{scope.start:%Y-%m-%d} 至 {scope.end:%Y-%m-%d}")

act = q.activity(ctx.wh, scope, ctx.now_ts)  # once, for both views
win = q.window_activity(ctx.wh, scope, ctx.now_ts, base=act)
staff = q.staff_activity(ctx.wh, scope, ctx.now_ts, base=act)
served = int(act["served"].sum())

open_s = float(win["open_s"].sum())
c = st.columns(5)
c[0].metric("办结件数", theme.fmt_int(served))
c[1].metric("平均办理时长", theme.fmt_minutes(act["service_s"].sum() / served if served else None))
c[2].metric("窗口开放时长", theme.fmt_hours(open_s))
c[3].metric(
    "空闲占比",
    theme.fmt_pct(win["idle_s"].sum() / open_s if open_s else None),
    help="空闲时长 ÷ 开放时长;空闲 = 开放且柜台无人(叫号到办结、过号、转出之间为服务)",
)
c[4].metric("暂停时长", theme.fmt_hours(win["paused_s"].sum()))

st.subheader("按窗口")
left, right = st.columns(2)
label = win.assign(label=win["window"].astype(str) + "号")
left.plotly_chart(charts.served_bars(label, "label", "各窗口办结件数"), key="win_served")
right.plotly_chart(charts.time_split(label, "label", "各窗口服务 / 空闲 / 暂停(小时)"), key="win_time")
table = win.assign(
    avg_min=ui.minutes(win["avg_service_s"]),
    open_h=ui.hours(win["open_s"]),
    busy_h=ui.hours(win["busy_s"]),
    idle_h=ui.hours(win["idle_s"]),
    paused_h=ui.hours(win["paused_s"]),
)
ui.show_table(
    table,
    {
        "window": "窗口",
        "name": "名称",
        "kind": "类别",
        "department": "部门",
        "served": "办结",
        "no_show": theme.NO_SHOW_EVENTS,
        "avg_min": "平均办理(分)",
        "open_h": "开放(时)",
        "busy_h": "服务(时)",
        "idle_h": "空闲(时)",
        "paused_h": "暂停(时)",
    },
    key="win_table",
)
st.caption(f"{theme.NO_SHOW_EVENTS}:{theme.NO_SHOW_EVENTS_HELP}。")

st.subheader("按人员")
left, right = st.columns(2)
left.plotly_chart(charts.served_bars(staff, "staff_name", "各工作人员办结件数"), key="staff_served")
right.plotly_chart(
    charts.time_split(staff, "staff_name", "各工作人员服务 / 空闲 / 暂停(小时)"), key="staff_time"
)
table = staff.assign(
    avg_min=ui.minutes(staff["avg_service_s"]),
    open_h=ui.hours(staff["open_s"]),
    busy_h=ui.hours(staff["busy_s"]),
    idle_h=ui.hours(staff["idle_s"]),
    paused_h=ui.hours(staff["paused_s"]),
)
ui.show_table(
    table,
    {
        "staff_name": "姓名",
        "staff": "账号",
        "windows": "窗口",
        "served": "办结",
        "avg_min": "平均办理(分)",
        "open_h": "开放(时)",
        "busy_h": "服务(时)",
        "idle_h": "空闲(时)",
        "paused_h": "暂停(时)",
    },
    key="staff_table",
)

st.subheader("到达与开放窗口")
heat = q.arrivals_by_hour(ctx.wh, scope, ctx.now_ts)
long_range = (scope.end - scope.start).days > 31
if long_range:
    st.caption("日期范围超过31天:按星期几取日均值。")
st.plotly_chart(charts.arrivals_heatmap(heat, by_weekday=long_range), key="heatmap")
