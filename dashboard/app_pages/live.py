"""实时: the hall now. Redraws itself every few seconds (one fragment)."""

from __future__ import annotations

import streamlit as st

from dashboard import charts, theme, ui
from dashboard import queries as q

ctx = ui.context()
st.header("实时运行")


@st.fragment(run_every=ui.LIVE_REFRESH_S)
def live_panel() -> None:
    ctx.wh.maybe_refresh(1.0)
    now = ctx.fresh_now()
    today = now.date()
    scope = q.Scope(start=today, end=today, queues=ctx.scope.queues, windows=ctx.scope.windows)

    queues = q.live_queues(ctx.wh, today, now.timestamp(), scope)
    queues = q.add_estimates(ctx.wh, ctx.config, queues, today, now)
    summary = q.day_summary(ctx.wh, today, scope)
    windows = q.live_windows(ctx.wh, today, scope)
    counts = q.window_counts(windows)

    st.caption(f"营业日 {today:%Y-%m-%d}(大厅时间 {now:%H:%M:%S}),每 {ui.LIVE_REFRESH_S} 秒自动刷新")

    alerts = queues[queues["alert_count"] | queues["alert_wait"]]
    if len(alerts):
        lines = []
        for r in alerts.itertuples(index=False):
            reasons = []
            if r.alert_count:
                reasons.append(f"等候 {r.waiting} 人(预警线 {r.alert_waiting} 人)")
            if r.alert_wait:
                reasons.append(f"最长已等 {r.longest_wait_s / 60:.0f} 分钟(预警线 {r.alert_wait_min} 分钟)")
            lines.append(f"- **{r.name}**({r.queue}):" + ";".join(reasons))
        st.error(f"**{len(alerts)} 个队列超过预警线**\n" + "\n".join(lines), icon=":material/warning:")

    c = st.columns(6)
    c[0].metric("当前等候", theme.fmt_int(summary.waiting))
    c[1].metric("今日取号", theme.fmt_int(summary.issued))
    c[2].metric("今日办结", theme.fmt_int(summary.served))
    c[3].metric(f"今日{theme.FINAL_NO_SHOW}", theme.fmt_int(summary.no_show), help=theme.FINAL_NO_SHOW_HELP)
    c[4].metric("今日平均等候", theme.fmt_minutes(summary.avg_wait_s))
    c[5].metric("今日等候90%分位", theme.fmt_minutes(summary.p90_wait_s))

    w = st.columns(6)
    w[0].metric("开放窗口", counts["open"], help="开放中的窗口(服务中 + 空闲),不含暂停")
    w[1].metric("服务中", counts["serving"])
    w[2].metric("空闲", counts["idle"])
    w[3].metric("暂停", counts["paused"])
    w[4].metric("关闭", counts["closed"])
    w[5].metric("预警队列", len(alerts))

    left, right = st.columns(2)
    left.plotly_chart(charts.queue_waiting(queues), key="live_waiting")
    right.plotly_chart(charts.queue_longest_wait(queues), key="live_longest")

    st.subheader("各队列")
    table = queues.assign(
        longest_min=ui.minutes(queues["longest_wait_s"]),
        estimated_min=ui.minutes(queues["estimated_wait_s"]),
        avg_min=ui.minutes(queues["avg_wait_s"]),
        p90_min=ui.minutes(queues["p90_wait_s"]),
        alert=[
            "⚠ 预警" if a or b else ""
            for a, b in zip(queues["alert_count"], queues["alert_wait"], strict=False)
        ],
    )
    ui.show_table(
        table,
        {
            "queue": "代码",
            "name": "队列",
            "kind": "类别",
            "waiting": "等候人数",
            "longest_min": "最长等候(分)",
            "estimated_min": "预计等候(分)",
            "issued": "今日取号",
            "served": "办结",
            "no_show": theme.FINAL_NO_SHOW,
            "avg_min": "平均等候(分)",
            "p90_min": "90%分位(分)",
            "alert": "预警",
        },
        key="live_queue_table",
    )

    st.subheader("窗口")
    st.plotly_chart(charts.window_status(windows), key="live_windows")
    wt = windows.assign(
        status_label=windows["status"].map(theme.WINDOW_STATUS_LABELS),
        since=[ui.clock(t, ctx.config.timezone) for t in windows["state_since_ts"]],
        ticket=windows["ticket"].fillna(""),
    )
    ui.show_table(
        wt,
        {
            "number": "窗口",
            "name": "名称",
            "kind": "类别",
            "status_label": "状态",
            "staff_name": "工作人员",
            "ticket": "当前号",
            "pause_reason": "暂停原因",
            "since": "状态起始",
        },
        key="live_window_table",
    )


live_panel()
