"""最多跑一次与事项: visits per completed case against the catalogue's promise (seeds 000, 003,
004: 减跑动), and the catalogue figures of seed 002 — 一窗 by matters (against 50% and 70%) next
to 一窗 by case volume, 进驻比例 and 网上可办率."""

from __future__ import annotations

import streamlit as st

from dashboard import queries as q
from dashboard import queries_rules as qr
from dashboard import theme, ui
from queue_server.matter_promises import load_promises
from queue_server.matters import load_matters

ctx = ui.context()
scope = ctx.scope
st.header("最多跑一次与事项")
st.caption(
    f"{scope.start:%Y-%m-%d} 至 {scope.end:%Y-%m-%d} 出件的办件;事项数据来自事项目录"
    "(data/matters/matters.csv、promises.csv)"
)

matters = load_matters()
promises = load_promises(hall_codes=[m.code for m in matters])

st.subheader("事项目录(按事项计,种子文件的口径)")
mf = qr.matter_figures(matters, promises)
cases = (
    q.case_summary(ctx.wh, scope, ctx.now, ctx.config.rules.due_soon_hours) if ctx.wh.has("cases") else None
)
c = st.columns(4)
c[0].metric(
    "一窗受理率(按事项)",
    theme.fmt_pct(mf.one_window_rate),
    help=f"= 经综合窗口受理的事项 {mf.one_window} ÷ 本大厅事项 {mf.hall_matters}。目标:50%(第一阶段)、70%",
)
c[1].metric(
    "一窗受理率(按办件量)",
    theme.fmt_pct(cases.one_window_rate if cases else None),
    help="= 期间内受理的“一窗”事项办件 ÷ 期间内受理的办件(办件口径,供参考)",
)
c[2].metric(
    "进驻比例",
    theme.fmt_pct(mf.in_hall_rate),
    help=f"= 进驻大厅的事项 {mf.in_hall} ÷ 事项目录 {mf.catalogue};目标 ≥ 70%",
)
c[3].metric(
    "网上可办率",
    theme.fmt_pct(mf.online_rate),
    help=f"= 网上可办的事项 {mf.online} ÷ 事项目录 {mf.catalogue};目标 ≥ 70%",
)
goals = "、".join(f"{g:.0%}" for g in qr.ONE_WINDOW_GOALS)
st.caption(f"一窗受理的目标({goals})按事项计;按办件量的比例只作参考,两者口径不同。")

st.subheader("最多跑一次")
if not ctx.wh.has("cases"):
    st.info("数据库中还没有办件表(需要数据库迁移 2)。")
    st.stop()
vf = qr.visit_figures(qr.case_visits(ctx.wh, scope), promises)
c3 = st.columns(3)
c3[0].metric(
    "承诺事项出件数", theme.fmt_int(vf.promised), help="期间内出件、事项承诺“最多跑一次”或“零跑动”的办件"
)
c3[1].metric("兑现承诺", theme.fmt_int(vf.kept))
c3[2].metric(
    "承诺兑现率",
    theme.fmt_pct(vf.rate),
    help="= 跑动次数不超过承诺的办件 ÷ 承诺事项出件数。跑动次数 = 群众为该办件到大厅的不同日期数"
    "(受理、补正后受理、补交容缺材料、窗口领取结果;邮寄送达不算跑动)。"
    "零跑动事项若群众到厅办理,按最多跑一次计",
)
left, right = st.columns(2)
with left:
    st.markdown("**分事项**")
    ui.show_table(
        vf.by_matter.assign(pct=(vf.by_matter["rate"] * 100).round(1)),
        {
            "matter_code": "事项编码",
            "matter_name": "事项",
            "promise": "承诺",
            "promised": "出件",
            "kept": "兑现",
            "pct": "兑现率(%)",
        },
        key="visits_by_matter",
    )
with right:
    st.markdown("**分部门**")
    ui.show_table(
        vf.by_department.assign(pct=(vf.by_department["rate"] * 100).round(1)),
        {"department": "部门", "promised": "出件", "kept": "兑现", "pct": "兑现率(%)"},
        key="visits_by_department",
    )
st.markdown(f"**未兑现承诺的办件({len(vf.broken)})**")
if vf.broken.empty:
    st.success("期间内出件的承诺事项都在承诺跑动次数之内。")
else:
    ui.show_table(
        vf.broken,
        {
            "receipt_no": "受理编号",
            "matter_name": "事项",
            "department": "部门",
            "promise": "承诺",
            "visits": "跑动次数",
            "visit_days": "到厅日期",
        },
        key="visits_broken",
    )
