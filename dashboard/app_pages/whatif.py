"""排班模拟: the same citizens against the hall's window plan and a what-if plan.

Both runs go through the hall core in memory (``queue_server.sim.whatif``); nothing is
written to the hall's database. Plans are the TOML files of ``data/plans/``
(format: docs/simulator.md).
"""

from __future__ import annotations

import asyncio
import tomllib
from pathlib import Path

import pandas as pd
import streamlit as st

from dashboard import charts, ui
from queue_server.calendar_data import load_calendar
from queue_server.sim.plan import PlanError, load_plan
from queue_server.sim.whatif import compare_plans

PLANS_DIR = Path(__file__).resolve().parents[2] / "data" / "plans"


def plan_title(path: Path) -> str:
    try:
        return str(tomllib.loads(path.read_text(encoding="utf-8")).get("name") or path.stem)
    except (OSError, tomllib.TOMLDecodeError):
        return path.stem


ctx = ui.context()
st.header("排班模拟")
st.caption(
    "用同一批办事群众(相同随机种子)分别模拟现行窗口安排与备选方案,比较等候时长。"
    "仅为模拟,不写入大厅数据库;方案文件见 data/plans/。"
)

plans = sorted(PLANS_DIR.glob("*.toml"))
if not plans:
    st.info(f"没有备选方案:在 {PLANS_DIR} 放入方案文件(格式见 docs/simulator.md)。")
    st.stop()
calendar = load_calendar()
first = ctx.today
while not calendar.is_working_day(first):
    first = calendar.next_working_day(first)

c = st.columns([3, 2, 1, 1])
chosen = c[0].selectbox("备选方案", plans, format_func=plan_title, key="whatif_plan")
start = c[1].date_input("起始日", value=first, key="whatif_start")
days = int(c[2].number_input("工作日数", min_value=1, max_value=10, value=1, key="whatif_days"))
seed = int(c[3].number_input("随机种子", min_value=0, max_value=999_999, value=1, key="whatif_seed"))
run_key = (str(chosen), str(start), days, seed)

if st.button("运行模拟", type="primary", key="whatif_run"):
    try:
        plan = load_plan(chosen, ctx.config)
    except PlanError as err:
        st.error(f"方案文件有误:{err}")
        st.stop()
    with st.spinner("模拟中…(每个工作日约数秒)"):
        result = asyncio.run(
            compare_plans(ctx.config, plan, start=start, days=days, seed=seed, calendar=calendar)
        )
    st.session_state["whatif_result"] = (run_key, pd.DataFrame(result.rows()))

stored = st.session_state.get("whatif_result")
if stored is None or stored[0] != run_key:
    st.info("选择方案和天数,点击“运行模拟”。")
    st.stop()

table = stored[1]
total = table[table["queue"] == "all"].iloc[0]
m = st.columns(3)
m[0].metric(
    "平均等候(备选)",
    f"{total['mean_wait_min_plan']:.1f} 分钟",
    delta=f"{total['mean_wait_min_plan'] - total['mean_wait_min_base']:+.1f} 分钟",
    delta_color="inverse",
)
m[1].metric(
    "90%分位等候(备选)",
    f"{total['p90_wait_min_plan']:.1f} 分钟",
    delta=f"{total['p90_wait_min_plan'] - total['p90_wait_min_base']:+.1f} 分钟",
    delta_color="inverse",
)
m[2].metric(
    "办结件数(备选)",
    f"{int(total['served_plan'])}",
    delta=f"{int(total['served_plan'] - total['served_base']):+d}",
)
st.plotly_chart(charts.whatif_waits(table), key="whatif_chart")
ui.show_table(
    table.replace({"queue": {"all": "全厅"}}),
    {
        "queue": "队列",
        "served_base": "办结(现行)",
        "served_plan": "办结(备选)",
        "mean_wait_min_base": "平均等候(现行,分)",
        "mean_wait_min_plan": "平均等候(备选,分)",
        "p90_wait_min_base": "90%分位(现行,分)",
        "p90_wait_min_plan": "90%分位(备选,分)",
        "max_waiting_base": "最多排队(现行)",
        "max_waiting_plan": "最多排队(备选)",
    },
    key="whatif_table",
)
