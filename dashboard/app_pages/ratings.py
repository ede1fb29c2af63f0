"""好差评: rating distribution, 好评率 / 差评率 / 未评率, the 差评 rectification loop with its
due times (overdue ones highlighted), on-time rates, by department, window and staff."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import charts, theme, ui
from dashboard import queries as q

ctx = ui.context()
scope = ctx.scope
rules = ctx.config.rules
tz = ctx.config.timezone
st.header("好差评")
st.caption(
    f"{scope.start:%Y-%m-%d} 至 {scope.end:%Y-%m-%d};差评须 {rules.contact_due_working_days} 个工作日内联系评价人、"
    f"{rules.rectify_due_working_days} 个工作日内整改反馈"
)

if not ctx.wh.has("ratings"):
    st.info("数据库中还没有评价表(需要数据库迁移 2)。")
    st.stop()

s = q.rating_summary(ctx.wh, scope, ctx.now_ts)
c = st.columns(6)
c[0].metric("评价数", theme.fmt_int(s.rated), help="期间内的首次评价(追评、申诉成立的不计)")
c[1].metric("好评率", theme.fmt_pct(s.good_rate), help="满意、非常满意 ÷ 评价数(申诉成立的评价不计)")
c[2].metric("差评率", theme.fmt_pct(s.bad_rate), help="不满意、非常不满意 ÷ 评价数")
c[3].metric("未评率", theme.fmt_pct(s.unrated_rate), help="= 期间内办结且没有评价的服务 ÷ 期间内办结的服务")
c[4].metric("联系超期", theme.fmt_int(s.contact_overdue), help="当前仍未联系评价人且已过联系时限的差评")
c[5].metric("整改超期", theme.fmt_int(s.rectify_overdue), help="当前仍未整改且已过整改时限的差评")
c = st.columns(6)
c[0].metric("差评数", theme.fmt_int(s.rectifications), help="期间内产生的差评整改(申诉成立的不计)")
c[1].metric("差评回复率", theme.fmt_pct(s.reply_rate), help="= 已联系或已办结的差评 ÷ 差评数")
c[2].metric("回访整改率", theme.fmt_pct(s.revisit_rate), help="= 整改后已回访办结的差评 ÷ 差评数")
c[3].metric("回访整改满意率", theme.fmt_pct(s.satisfied_rate), help="= 回访满意度 ≥ 4 的 ÷ 已回访的差评")
c[4].metric(
    "按时联系率",
    theme.fmt_pct(s.contact_on_time_rate),
    help=f"= 按时联系 ÷ (已联系 + 未联系且已过联系时限 {s.contact_late_open});仍未联系、已超时的按超时计入",
)
c[5].metric(
    "按时整改率",
    theme.fmt_pct(s.rectify_on_time_rate),
    help=f"= 按时整改 ÷ (已整改 + 未整改且已过整改时限 {s.rectify_late_open});仍未整改、已超时的按超时计入",
)

left, right = st.columns(2)
left.plotly_chart(charts.rating_distribution(q.rating_distribution(ctx.wh, scope)), key="rating_dist")
by_dept = q.ratings_by(ctx.wh, scope, "department", ctx.now_ts)
right.plotly_chart(charts.rating_rates(by_dept, "k", "各部门好评 / 差评占比"), key="rating_dept")

st.subheader("差评整改")
rect = q.rectification_table(ctx.wh, scope, ctx.now_ts, rules.due_soon_hours)
if rect.empty:
    st.success("期间内没有差评,也没有未办结的整改。")
else:

    def mark(r: pd.Series) -> str:
        if r["contact_overdue"]:
            return "联系超期"
        if r["rectify_overdue"]:
            return "整改超期"
        if r["due_soon"]:
            return "即将到期"
        return ""

    view = pd.DataFrame(
        {
            "提示": [mark(r) for _, r in rect.iterrows()],
            "编号": rect["id"],
            "号票": rect["ticket_number"],
            "窗口": rect["win"],
            "责任部门": rect["owner_department"],
            "责任人": rect["owner_staff_name"],
            "评分": rect["score"],
            "事项": rect["matter_name"],
            "评价内容": rect["text"],
            "状态": [
                q.RECT_STATE_LABELS.get(s, s) if o is None or pd.isna(o) else q.RECT_OUTCOME_LABELS.get(o, o)
                for s, o in zip(rect["state"], rect["outcome"], strict=False)
            ],
            "评价时间": [ui.clock_full(t, tz) for t in rect["opened_ts"]],
            "联系时限": [ui.clock_full(t, tz) for t in rect["contact_due_ts"]],
            "联系时间": [ui.clock_full(t, tz) for t in rect["contacted_ts"]],
            "整改时限": [ui.clock_full(t, tz) for t in rect["rectify_due_ts"]],
            "整改时间": [ui.clock_full(t, tz) for t in rect["rectified_ts"]],
        }
    )

    def highlight(row: pd.Series) -> list[str]:
        if row["提示"] in ("联系超期", "整改超期"):
            return ["background-color: #F8D7DA; color: #842029"] * len(row)
        if row["提示"] == "即将到期":
            return ["background-color: #FFF3CD"] * len(row)
        return [""] * len(row)

    st.dataframe(
        view.style.apply(highlight, axis=1),
        hide_index=True,
        width="stretch",
        key="rect_table",
        height="content" if len(view) <= ui.CONTENT_ROWS else "auto",
    )

st.subheader("分部门、窗口、人员")
tabs = st.tabs(["按部门", "按窗口", "按人员"])
for tab, by, label in zip(tabs, ("department", "window", "staff"), ("部门", "窗口", "人员"), strict=False):
    with tab:
        rb = q.ratings_by(ctx.wh, scope, by, ctx.now_ts)
        rb = rb.assign(
            name=rb["staff_name"].fillna(rb["k"]) if by == "staff" else rb["k"],
            good_pct=(rb["good_rate"] * 100).round(1),
            bad_pct=(rb["bad_rate"] * 100).round(1),
            contact_pct=(rb["contact_on_time_rate"] * 100).round(1),
            rectify_pct=(rb["rectify_on_time_rate"] * 100).round(1),
            avg=rb["avg_score"].round(2),
        )
        ui.show_table(
            rb,
            {
                "name": label,
                "rated": "评价数",
                "avg": "平均分",
                "good_pct": "好评率(%)",
                "bad": "差评数",
                "bad_pct": "差评率(%)",
                "contact_pct": "按时联系率(%)",
                "rectify_pct": "按时整改率(%)",
                "overdue": "超期未整改",
            },
            key=f"ratings_by_{by}",
        )
