"""办件: the flow from 受理 to 出件, 按时办结率, overdue and due-soon cases, 即办件 share and
一窗受理率 against the 70% goal."""

from __future__ import annotations

import streamlit as st

from dashboard import charts, theme, ui
from dashboard import queries as q

ONE_WINDOW_GOAL = 0.70  # seed 000 item 5: 一窗 share >= 70%

ctx = ui.context()
scope = ctx.scope
rules = ctx.config.rules
st.header("办件")
st.caption(f"{scope.start:%Y-%m-%d} 至 {scope.end:%Y-%m-%d};超期与即将到期为当前时点")

if not ctx.wh.has("cases"):
    st.info("数据库中还没有办件表(需要数据库迁移 2)。")
    st.stop()

s = q.case_summary(ctx.wh, scope, ctx.now, rules.due_soon_hours)
c = st.columns(8)
c[0].metric("收件", theme.fmt_int(s.received))
c[1].metric("受理", theme.fmt_int(s.accepted))
c[2].metric("办结", theme.fmt_int(s.decided))
c[3].metric(
    "按时办结率",
    theme.fmt_pct(s.on_time_rate),
    help=f"= 期间内按时办结 {s.decided_on_time} ÷ (期间内办结 {s.decided} + 仍在办且已超期 {s.open_late})。"
    "仍在办、已过承诺时限的办件按超期计入,不被隐藏",
)
c[4].metric("超期件", theme.fmt_int(s.overdue), help="在办(已受理、审核中)且已过承诺时限;中止期间不计")
c[5].metric("即将到期", theme.fmt_int(s.due_soon), help=f"{rules.due_soon_hours} 小时内到期的在办件")
c[6].metric("即办件占比", theme.fmt_pct(s.instant_share), help="= 期间内受理的即办件 ÷ 期间内受理的办件")
c[7].metric(
    "一窗受理率(按办件量)",
    theme.fmt_pct(s.one_window_rate),
    delta=None if s.one_window_rate is None else f"较目标 {(s.one_window_rate - ONE_WINDOW_GOAL) * 100:+.1f}",
    help="按办件量:= 期间内受理的“一窗”事项办件 ÷ 期间内受理的办件。"
    "种子文件的目标(50%、70%)按事项计,见“最多跑一次与事项”页",
)

left, right = st.columns([2, 1])
left.plotly_chart(charts.case_flow(q.case_flow(ctx.wh, scope)), key="case_flow")
with right:
    st.plotly_chart(
        charts.goal_gauge(s.one_window_rate, title="一窗受理率", goal=ONE_WINDOW_GOAL), key="one_window"
    )
    st.plotly_chart(charts.goal_gauge(s.on_time_rate, title="按时办结率"), key="on_time")

overdue, soon = q.case_lists(ctx.wh, scope, ctx.now_ts, rules.due_soon_hours, tz=ctx.config.timezone)
names = {s.username: s.name for s in ctx.config.staff}  # owners are usernames: show the name
for frame in (overdue, soon):
    frame["owner"] = frame["owner"].map(lambda u: names.get(u, u))
tz = ctx.config.timezone
st.subheader(f"超期办件({len(overdue)})")
if overdue.empty:
    st.success("当前没有超期办件。")
else:
    view = overdue.assign(
        due=[ui.clock_full(t, tz) for t in overdue["due_ts"]],
        state_label=overdue["state"].map(q.CASE_STATE_LABELS),
    )
    ui.show_table(
        view,
        {
            "receipt_no": "受理编号",
            "matter_name": "事项",
            "department": "部门",
            "owner": "责任人",
            "case_type": "类型",
            "state_label": "状态",
            "due": "承诺办结时限",
            "working_days_over": "超期(工作日)",
        },
        key="overdue_table",
    )

st.subheader(f"即将到期({len(soon)})")
if soon.empty:
    st.info(f"{rules.due_soon_hours} 小时内没有到期的在办件。")
else:
    view = soon.assign(
        due=[ui.clock_full(t, tz) for t in soon["due_ts"]], state_label=soon["state"].map(q.CASE_STATE_LABELS)
    )
    ui.show_table(
        view,
        {
            "receipt_no": "受理编号",
            "matter_name": "事项",
            "department": "部门",
            "owner": "责任人",
            "case_type": "类型",
            "state_label": "状态",
            "due": "承诺办结时限",
            "hours_left": "剩余(小时)",
        },
        key="due_soon_table",
    )

st.subheader("分部门")
dept = q.cases_by_department(ctx.wh, scope, ctx.now_ts)
left, right = st.columns(2)
left.plotly_chart(
    charts.department_rates(
        dept, label="department", rate="on_time_rate", count="decided", title="各部门按时办结率"
    ),
    key="dept_on_time",
)
right.plotly_chart(
    charts.department_rates(
        dept,
        label="department",
        rate="one_window_rate",
        count="accepted",
        title="各部门一窗受理率",
        goal=ONE_WINDOW_GOAL,
    ),
    key="dept_one_window",
)
view = dept.assign(
    on_time_pct=(dept["on_time_rate"] * 100).round(1),
    instant_pct=(dept["instant_share"] * 100).round(1),
    one_window_pct=(dept["one_window_rate"] * 100).round(1),
)
ui.show_table(
    view,
    {
        "department": "部门",
        "received": "收件",
        "accepted": "受理",
        "decided": "办结",
        "on_time_pct": "按时办结率(%)",
        "instant_pct": "即办件占比(%)",
        "one_window_pct": "一窗受理率(%)",
        "overdue": "超期(当前)",
    },
    key="dept_table",
)
