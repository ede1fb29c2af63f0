"""报表: pick a month; every figure for that month, downloadable as .xlsx and .csv."""

from __future__ import annotations

import streamlit as st

from dashboard import charts, theme, ui
from dashboard import queries as q
from dashboard import report as rpt

ctx = ui.context()
st.header("月度报表")

months = q.months_with_data(ctx.wh)
if not months:
    st.info("数据库中还没有数据。")
    st.stop()
month = st.columns([1, 3])[0].selectbox(
    "月份", months, key="report_month", format_func=lambda m: f"{m[:4]}年{m[5:]}月"
)
report = rpt.build_month_report(ctx.wh, ctx.config, month, ctx.now)
st.caption(f"{report.title} · 统计期间 {report.period} · 超期、即将到期为生成时的时点数")
st.caption(
    f"{theme.FINAL_NO_SHOW}:{theme.FINAL_NO_SHOW_HELP}。{theme.NO_SHOW_EVENTS}:{theme.NO_SHOW_EVENTS_HELP}。"
)

c = st.columns([1, 1, 4])
# the files are made when clicked (deferred), not on every run of the page
c[0].download_button(
    "下载 Excel(.xlsx)",
    data=lambda: rpt.to_xlsx(report),
    file_name=report.file_name("xlsx"),
    mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    icon=":material/download:",
    key="dl_xlsx",
    on_click="ignore",
)
c[1].download_button(
    "下载 CSV",
    data=lambda: rpt.to_csv(report),
    file_name=report.file_name("csv"),
    mime="text/csv",
    icon=":material/download:",
    key="dl_csv",
    on_click="ignore",
)

left, right = st.columns(2)
left.plotly_chart(charts.daily_trend(report.frames["daily"]), key="report_daily")
right.plotly_chart(charts.queue_waits(report.frames["queues"]), key="report_waits")

st.subheader("总体指标")
st.dataframe(report.summary, hide_index=True, width="stretch", key="report_summary", height="content")
for title, df in report.sections:
    st.subheader(title)
    st.dataframe(
        df,
        hide_index=True,
        width="stretch",
        key=f"report_{title}",
        height="content" if len(df) <= ui.CONTENT_ROWS else "auto",
    )
