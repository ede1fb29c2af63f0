"""一件事 与 帮办代办 (集成服务, issue 16): bundles accepted and delivered, 减时间 against the sum
of their parts' promises, chains in operation against the 10/20 targets of seed 002, notices
per case (一次告知 kept?), 帮办 and 代办 cases, visits per bundle (减跑动)."""

from __future__ import annotations

import streamlit as st

from dashboard import integrated_queries as iq
from dashboard import theme, ui

STATE_LABELS = {
    "in_parts": "并联办理中",
    "decided": "待统一出件",
    "completed": "已出件",
    "accepted": "已受理",
    "materials_requested": "待补正",
}

ctx = ui.context()
scope = ctx.scope
st.header("一件事与帮办代办")
st.caption(f"{scope.start:%Y-%m-%d} 至 {scope.end:%Y-%m-%d} 受理的办件")

f = iq.integrated(ctx.wh.path, scope.start, scope.end)
if not f.available:
    st.info("数据库中还没有一件事的办件字段(需要数据库迁移 3)。")
    st.stop()

c = st.columns(5)
c[0].metric("一件事受理", theme.fmt_int(f.bundles_accepted))
c[1].metric("一件事出件", theme.fmt_int(f.bundles_delivered), help="统一出件:所有分项办结后一次出件")
c[2].metric(
    "承诺减时", theme.fmt_pct(f.time_saved), help="1 − 一件事承诺时限合计 / 各分项事项承诺时限合计(工作日)"
)
c[3].metric(
    "一件事平均用时(天)",
    "—" if f.avg_decided_days is None else f"{f.avg_decided_days:.1f}",
    help="已办结的一件事从受理到全部分项办结的自然日",
)
target = iq.CHAIN_TARGETS[0] if f.chains < iq.CHAIN_TARGETS[0] else iq.CHAIN_TARGETS[1]
c[4].metric(
    "运行中的一链办理",
    theme.fmt_int(f.chains),
    delta=f"目标 {target} 条",
    help="期间内有受理的一件事事项数;目标先 10 条、再 20 条高频事项(一链办理)",
)

c = st.columns(5)
c[0].metric(
    "一次告知达成率",
    theme.fmt_pct(f.one_notice_rate),
    help="收到补正或容缺书面告知的办件中,只收到一次告知的比例",
)
c[1].metric("每件告知次数", "—" if not f.noticed_cases else f"{f.notices / f.noticed_cases:.2f}")
c[2].metric("帮办件", theme.fmt_int(f.assisted), help="有帮办员全程陪同的办件(一件事计一次)")
c[3].metric("代办件", theme.fmt_int(f.by_agent), help="代办员代为提交、群众零跑动的办件")
c[4].metric(
    "一件事平均跑动",
    "—" if f.bundle_visits is None else f"{f.bundle_visits:.1f}",
    delta=None if f.separate_visits is None else f"分项办理需 {f.separate_visits:.1f} 次",
    delta_color="off",
    help="已出件的一件事:受理与出件的到厅次数;分项办理:承诺件 2 次、即办件 1 次",
)

st.subheader("一件事办件")
table = iq.bundle_table(ctx.wh.path, scope.start, scope.end)
if table.empty:
    st.info("期间内没有受理一件事。")
else:
    table["state"] = table["state"].map(lambda s: STATE_LABELS.get(s, s))
    ui.show_table(
        table,
        {
            "receipt_no": "受理编号",
            "matter_name": "一件事",
            "state": "状态",
            "due_at": "承诺时限",
            "parts": "分项(部门:状态)",
            "agent": "代办员",
            "assisted_by_name": "帮办员",
        },
        key="bundle_table",
    )
