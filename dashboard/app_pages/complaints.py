"""投诉/纠纷: complaints by channel and owner, the on-time reply rate (open ones past their due
count as late), the overdue list. No personal data: the complainant stays in the back office."""

from __future__ import annotations

import streamlit as st

from dashboard import queries_rules as qr
from dashboard import theme, ui

ctx = ui.context()
scope = ctx.scope
st.header("投诉与纠纷")
st.caption(
    f"{scope.start:%Y-%m-%d} 至 {scope.end:%Y-%m-%d} 受理的投诉;超期为当前时点。"
    f"责任主体按内容确定:服务态度等由{ctx.config.management}牵头,业务咨询、审批时限、业务流程和业务审批由事项所属部门负责"
)

if not ctx.wh.has("complaints"):
    st.info("数据库中还没有投诉表(需要数据库迁移 3)。")
    st.stop()

s = qr.complaint_summary(ctx.wh, scope, ctx.now_ts)
c = st.columns(5)
c[0].metric("受理投诉", theme.fmt_int(s.received))
c[1].metric("已回复", theme.fmt_int(s.replied), help="已回复投诉人(12345:已反馈平台)")
c[2].metric(
    "按时回复率",
    theme.fmt_pct(s.on_time_rate),
    help=f"= 按时回复 {s.replied_on_time} ÷ (已回复 {s.replied} + 未回复且已超期 {s.open_late});"
    "未回复、已超期的按超期计入",
)
c[3].metric("超期未回复", theme.fmt_int(s.overdue), help="当前仍未回复且已过回复(反馈)时限的投诉")
c[4].metric("满意率", theme.fmt_pct(s.satisfied_rate), help="= 办结时满意度 ≥ 4 的 ÷ 已办结的投诉")

st.subheader("分渠道")
by = qr.complaints_by_channel(ctx.wh, scope)
ui.show_table(
    by.assign(channel=by["channel"].map(qr.CHANNEL_LABELS)),
    {
        "channel": "渠道",
        "received": "受理",
        "management": f"{ctx.config.management}负责",
        "department": "部门负责",
    },
    key="complaints_by_channel",
)

tz = ctx.config.timezone
table = qr.complaint_table(ctx.wh, scope, ctx.now_ts)
overdue = table[table["overdue"]]
st.subheader(f"超期未回复({len(overdue)})")
if overdue.empty:
    st.success("当前没有超期未回复的投诉。")


def _view(df):
    return df.assign(
        channel=df["channel"].map(qr.CHANNEL_LABELS),
        state=df["state"].map(qr.COMPLAINT_STATE_LABELS),
        owner=[
            ctx.config.management if r == "management" else d
            for r, d in zip(df["responsible"], df["owner_department"], strict=True)
        ],
        received=[ui.clock_full(t, tz) for t in df["received_ts"]],
        due=[ui.clock_full(t, tz) for t in df["due_ts"]],
    )


columns = {
    "id": "编号",
    "channel": "渠道",
    "category": "类别",
    "state": "状态",
    "owner": "责任主体",
    "received": "受理时间",
    "due": "回复时限",
    "hotline_ref": "12345工单",
    "reassignments": "改派",
    "reminders": "督办",
    "satisfaction": "满意度",
}
if not overdue.empty:
    ui.show_table(_view(overdue), columns, key="complaints_overdue")
st.subheader(f"全部({len(table)})")
if not table.empty:
    ui.show_table(_view(table), columns, key="complaints_all")
