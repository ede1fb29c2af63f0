"""Chart builders: pure functions, a DataFrame in (columns as ``queries.py`` returns them),
a Plotly figure out. No Streamlit, no database; tests call them with small frames.

Colours come from ``theme``: one colour per queue kind on every page.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from . import theme

_EMPTY_TEXT = "所选范围内没有数据"


MAX_ROWS = 40  # bar charts with more rows show the first MAX_ROWS (tables show all)


def _layout(fig: go.Figure, *, height: int = 360, title: str | None = None) -> go.Figure:
    """Shared look: title top left, the legend in a row of its own under the title."""
    entries = [
        t
        for t in fig.data
        if t.type not in ("heatmap", "sankey", "indicator") and t.showlegend is not False and t.name
    ]
    legend = len(entries) >= 2 or any(t.showlegend is True for t in entries)
    top = (34 if title else 10) + (44 if legend else 0) + (24 if fig.layout.annotations else 0)
    fig.update_layout(
        height=height + top,
        margin={"l": 10, "r": 10, "t": top, "b": 10},
        font={"family": theme.FONT_FAMILY, "size": 13},
        legend={
            "orientation": "h",
            "yanchor": "bottom",
            "y": 1.0,
            "xanchor": "left",
            "x": 0,
            "traceorder": "normal",
        },
        title={
            "text": title,
            "x": 0.005,
            "xanchor": "left",
            "y": 1.0,
            "yref": "container",
            "yanchor": "top",
            "pad": {"t": 8},
        }
        if title
        else None,
        hoverlabel={"font_family": theme.FONT_FAMILY},
    )
    return fig


def _cap(df: pd.DataFrame, by: str) -> pd.DataFrame:
    """At most MAX_ROWS rows, the largest ``by`` first kept (order preserved)."""
    if len(df) <= MAX_ROWS:
        return df
    keep = df[by].fillna(0).nlargest(MAX_ROWS).index
    return df.loc[df.index.isin(keep)]


def empty(title: str | None = None, text: str = _EMPTY_TEXT, height: int = 260) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(
        text=text,
        x=0.5,
        y=0.5,
        xref="paper",
        yref="paper",
        showarrow=False,
        font={"size": 15, "color": theme.NEUTRAL},
    )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return _layout(fig, height=height, title=title)


def _kind_legend(fig: go.Figure, kinds: list[str]) -> None:
    """One legend entry per queue kind present (bars are coloured per row)."""
    for kind in theme.KIND_ORDER:
        if kind in kinds:
            fig.add_trace(
                go.Bar(
                    x=[None],
                    y=[None],
                    name=kind,
                    marker_color=theme.kind_color(kind),
                    showlegend=True,
                    hoverinfo="skip",
                )
            )


# ---------------------------------------------------------------------- live


def queue_waiting(df: pd.DataFrame) -> go.Figure:
    """Waiting now per queue (bar, colour = queue kind), the alert threshold as a tick.
    Columns: name, kind, waiting, alert_waiting."""
    title = "各队列当前等候人数"
    if df.empty:
        return empty(title)
    d = df.iloc[::-1]  # first queue on top
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            y=d["name"],
            x=d["waiting"],
            orientation="h",
            showlegend=False,
            marker_color=[theme.kind_color(k) for k in d["kind"]],
            text=d["waiting"],
            textposition="outside",
            cliponaxis=False,
            hovertemplate="%{y}: %{x} 人等候<extra></extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            y=d["name"],
            x=d["alert_waiting"],
            mode="markers",
            name="预警线",
            marker={"symbol": "line-ns", "size": 18, "line": {"width": 3, "color": theme.BAD}},
            hovertemplate="%{y} 预警线: %{x} 人<extra></extra>",
        )
    )
    _kind_legend(fig, list(d["kind"]))
    fig.update_xaxes(title_text="人", rangemode="tozero")
    return _layout(fig, height=max(220, 34 * len(d) + 90), title=title)


def queue_longest_wait(df: pd.DataFrame) -> go.Figure:
    """Longest wait now and the estimate for a new ticket, in minutes, per queue, with the
    alert threshold. Columns: name, kind, longest_wait_s, estimated_wait_s, alert_wait_min."""
    title = "最长等候与预计等候(分钟)"
    if df.empty:
        return empty(title)
    d = df.iloc[::-1]
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            y=d["name"],
            x=d["longest_wait_s"] / 60,
            orientation="h",
            name="最长等候",
            showlegend=False,
            marker_color=[theme.kind_color(k) for k in d["kind"]],
            hovertemplate="%{y} 最长等候 %{x:.1f} 分钟<extra></extra>",
        )
    )
    if "estimated_wait_s" in d:
        fig.add_trace(
            go.Scatter(
                y=d["name"],
                x=d["estimated_wait_s"] / 60,
                mode="markers",
                name="新取号预计等候",
                marker={"symbol": "diamond", "size": 11, "color": theme.NEUTRAL},
                hovertemplate="%{y} 预计等候 %{x:.1f} 分钟<extra></extra>",
            )
        )
    fig.add_trace(
        go.Scatter(
            y=d["name"],
            x=d["alert_wait_min"],
            mode="markers",
            name="预警线",
            marker={"symbol": "line-ns", "size": 18, "line": {"width": 3, "color": theme.BAD}},
            hovertemplate="%{y} 预警线 %{x} 分钟<extra></extra>",
        )
    )  # bar colours: the queue kinds, as in the legend of the waiting chart next to it
    fig.update_xaxes(title_text="分钟(条:最长已等)", rangemode="tozero")
    return _layout(fig, height=max(220, 34 * len(d) + 90), title=title)


def window_status(df: pd.DataFrame) -> go.Figure:
    """Windows as tiles coloured by status (服务中 / 空闲 / 暂停 / 关闭), with who is there.
    Columns: number, status, staff_name, ticket, pause_reason."""
    title = "窗口状态"
    if df.empty:
        return empty(title)
    per_row = 10
    d = df.reset_index(drop=True)
    xs = [i % per_row for i in range(len(d))]
    ys = [-(i // per_row) for i in range(len(d))]
    labels, hovers = [], []
    for r in d.itertuples(index=False):
        who = r.staff_name or "—"
        extra = (
            (r.ticket or "")
            if r.status == "serving"
            else (r.pause_reason or "")
            if r.status == "paused"
            else ""
        )
        labels.append(f"<b>{r.number}</b><br>{who}<br>{extra}")
        hovers.append(f"{r.number}号 {theme.WINDOW_STATUS_LABELS[r.status]}<br>{who} {extra}")
    fig = go.Figure()
    for status, label in theme.WINDOW_STATUS_LABELS.items():
        idx = [i for i, s in enumerate(d["status"]) if s == status]
        if not idx:
            continue
        fig.add_trace(
            go.Scatter(
                x=[xs[i] for i in idx],
                y=[ys[i] for i in idx],
                mode="markers+text",
                name=label,
                marker={"symbol": "square", "size": 64, "color": theme.WINDOW_STATUS_COLORS[status]},
                text=[labels[i] for i in idx],
                textfont={"size": 11, "color": "white" if status != "closed" else "#333"},
                hovertext=[hovers[i] for i in idx],
                hoverinfo="text",
            )
        )
    rows = (len(d) - 1) // per_row + 1
    fig.update_xaxes(visible=False, range=[-0.6, per_row - 0.4])
    fig.update_yaxes(visible=False, range=[-rows + 0.4, 0.6])
    return _layout(fig, height=90 * rows + 80, title=title)


# ---------------------------------------------------------------------- periods


def daily_trend(df: pd.DataFrame) -> go.Figure:
    """Per day: issued and served (bars), average wait (line, right axis).
    Columns: service_date, issued, served, avg_wait_s."""
    title = "每日取号、办结与平均等候"
    if df.empty:
        return empty(title)
    days = pd.to_datetime(df["service_date"]).dt.strftime("%m-%d")  # one label per service day
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(go.Bar(x=days, y=df["issued"], name="取号", marker_color="#9ECAE1"))
    fig.add_trace(go.Bar(x=days, y=df["served"], name="办结", marker_color="#0072B2"))
    fig.add_trace(
        go.Scatter(
            x=days,
            y=df["avg_wait_s"] / 60,
            name="平均等候(分钟)",
            mode="lines+markers",
            line={"color": theme.WARN, "width": 3},
        ),
        secondary_y=True,
    )
    fig.update_layout(barmode="group")
    fig.update_yaxes(secondary_y=False, rangemode="tozero")
    fig.update_yaxes(
        secondary_y=True, rangemode="tozero", showgrid=False, tickmode="auto", nticks=5, ticksuffix=" 分"
    )
    fig.update_xaxes(type="category")
    return _layout(fig, height=340, title=title)


def queue_waits(df: pd.DataFrame) -> go.Figure:
    """Average and 90th-percentile wait per queue (minutes), colour = kind, first queue on top.
    Columns: name, kind, avg_wait_s, p90_wait_s."""
    title = "各队列平均等候与90%分位(分钟)"
    d = df.dropna(subset=["avg_wait_s"]) if not df.empty else df
    if d.empty:
        return empty(title)
    d = d.iloc[::-1]
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            y=d["name"],
            x=d["avg_wait_s"] / 60,
            name="平均等候",
            orientation="h",
            marker_color=[theme.kind_color(k) for k in d["kind"]],
            showlegend=False,
            hovertemplate="%{y} 平均 %{x:.1f} 分钟<extra></extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            y=d["name"],
            x=d["p90_wait_s"] / 60,
            mode="markers",
            name="90%分位",
            marker={"symbol": "line-ns", "size": 18, "line": {"width": 3, "color": theme.NEUTRAL}},
            hovertemplate="%{y} 90%分位 %{x:.1f} 分钟<extra></extra>",
        )
    )
    _kind_legend(fig, list(d["kind"]))
    fig.update_xaxes(title_text="分钟", rangemode="tozero")
    return _layout(fig, height=max(260, 26 * len(d) + 60), title=title)


def time_split(df: pd.DataFrame, label: str, title: str) -> go.Figure:
    """Stacked hours per row: serving (busy), idle and paused.
    Columns: ``label`` (row name), busy_s, idle_s, paused_s."""
    if df.empty:
        return empty(title)
    d = _cap(df.assign(_total=df["busy_s"] + df["idle_s"] + df["paused_s"]), "_total").iloc[::-1]
    if len(d) < len(df):
        title += f"(前 {len(d)} 个)"
    fig = go.Figure()
    for col, name, color in (
        ("busy_s", "服务", theme.WINDOW_STATUS_COLORS["serving"]),
        ("idle_s", "空闲", theme.WINDOW_STATUS_COLORS["idle"]),
        ("paused_s", "暂停", theme.WINDOW_STATUS_COLORS["paused"]),
    ):
        fig.add_trace(
            go.Bar(
                y=d[label].astype(str),
                x=d[col] / 3600,
                name=name,
                orientation="h",
                marker_color=color,
                hovertemplate="%{y} " + name + " %{x:.1f} 小时<extra></extra>",
            )
        )
    fig.update_layout(barmode="stack")
    fig.update_xaxes(title_text="小时")
    return _layout(fig, height=max(260, 26 * len(d) + 100), title=title)


def served_bars(df: pd.DataFrame, label: str, title: str) -> go.Figure:
    """Tickets served per row (window or staff), average service time as hover and text.
    Columns: ``label``, served, avg_service_s, optional kind (colour)."""
    if df.empty:
        return empty(title)
    d = _cap(df, "served").iloc[::-1]
    if len(d) < len(df):
        title += f"(前 {len(d)} 个)"
    colors = [theme.kind_color(k) for k in d["kind"]] if "kind" in d else theme.KIND_COLORS["无差别综合"]
    fig = go.Figure(
        go.Bar(
            y=d[label].astype(str),
            x=d["served"],
            orientation="h",
            marker_color=colors,
            text=[
                f"{s} 件 · 均 {a / 60:.1f} 分" if pd.notna(a) else f"{s} 件"
                for s, a in zip(d["served"], d["avg_service_s"], strict=False)
            ],
            textposition="auto",
            hovertemplate="%{y}: %{x} 件<extra></extra>",
            showlegend=False,
        )
    )
    if "kind" in d:
        _kind_legend(fig, list(d["kind"]))
    fig.update_xaxes(title_text="办结件数", rangemode="tozero")
    return _layout(fig, height=max(260, 26 * len(d) + 100), title=title)


def arrivals_heatmap(df: pd.DataFrame, *, by_weekday: bool = False) -> go.Figure:
    """Hour-by-day heat maps: arrivals (tickets issued) and arrivals per open window.
    Columns: service_date, hour, arrivals, open_windows. ``by_weekday`` averages days of the
    same weekday (for long ranges)."""
    if df.empty or df["arrivals"].sum() == 0:
        return empty("到达人数与窗口负荷")
    d = df.copy()
    if by_weekday:
        names = ["周一", "周二", "周三", "周四", "周五", "周六", "周日"]
        d["row"] = pd.to_datetime(d["service_date"]).dt.day_of_week
        days = d.groupby("row")["service_date"].nunique()
        d = d.groupby(["row", "hour"], as_index=False)[["arrivals", "open_windows"]].sum()
        d["arrivals"] = d["arrivals"] / d["row"].map(days)
        d["open_windows"] = d["open_windows"] / d["row"].map(days)
        d["row"] = d["row"].map(lambda i: names[i])
        order = [n for n in names if n in set(d["row"])]
    else:
        d["row"] = pd.to_datetime(d["service_date"]).dt.strftime("%m-%d")
        order = sorted(set(d["row"]))
    active = d[(d["arrivals"] > 0) | (d["open_windows"] > 0)]
    hours = list(range(int(active["hour"].min()), int(active["hour"].max()) + 1))
    arr = d.pivot_table(index="row", columns="hour", values="arrivals", aggfunc="sum").reindex(
        index=order, columns=hours
    )
    opn = d.pivot_table(index="row", columns="hour", values="open_windows", aggfunc="sum").reindex(
        index=order, columns=hours
    )
    per = arr / opn.where(opn > 0.05)
    xlab = [f"{h}时" for h in hours]
    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=("到达人数(取号)", "每个开放窗口的到达人数"),
        horizontal_spacing=0.1,
        shared_yaxes=True,
    )
    fig.add_trace(
        go.Heatmap(
            z=arr.fillna(0).values,
            x=xlab,
            y=order,
            colorscale="Blues",
            colorbar={"x": 0.44, "thickness": 10},
            customdata=opn.fillna(0).round(1).values,
            hovertemplate="%{y} %{x}<br>到达 %{z:.0f} 人<br>平均开放窗口 %{customdata} 个<extra></extra>",
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Heatmap(
            z=per.values,
            x=xlab,
            y=order,
            colorscale="OrRd",
            colorbar={"thickness": 10},
            customdata=opn.fillna(0).round(1).values,
            hovertemplate="%{y} %{x}<br>每窗口 %{z:.1f} 人<br>平均开放窗口 %{customdata} 个<extra></extra>",
        ),
        row=1,
        col=2,
    )
    fig.update_yaxes(autorange="reversed", type="category")
    return _layout(fig, height=max(300, 22 * len(order) + 120))  # the subplot titles say it all


# ---------------------------------------------------------------------- cases


_STAGE_COLORS = {
    "收件": "#4D4D4D",
    "受理": "#0072B2",
    "待补正": theme.WARN,
    "不予受理": theme.BAD,
    "办理中": "#56B4E9",
    "中止(特别程序)": "#999999",
    "办结·准予": theme.GOOD,
    "办结·不予许可": "#CC79A7",
    "已出件": "#009E73",
    "待出件": "#F0E442",
}


def case_flow(flows: pd.DataFrame) -> go.Figure:
    """Sankey from 收件 to 出件. Columns: source, target, value."""
    title = "办件流转:收件 → 受理 → 办结 → 出件"
    if flows.empty or flows["value"].sum() == 0:
        return empty(title)
    nodes = list(dict.fromkeys([*flows["source"], *flows["target"]]))
    index = {n: i for i, n in enumerate(nodes)}
    totals = {n: 0 for n in nodes}
    for _, t, v in flows.itertuples(index=False):
        totals[t] += v
    for n in nodes:  # a source-only node (收件) shows its outflow
        if totals[n] == 0:
            totals[n] = int(flows.loc[flows["source"] == n, "value"].sum())
    fig = go.Figure(
        go.Sankey(
            arrangement="snap",
            node={
                "label": [f"{n} {totals[n]:,}" for n in nodes],
                "pad": 18,
                "thickness": 16,
                "color": [_STAGE_COLORS.get(n, theme.OTHER_COLOR) for n in nodes],
            },
            link={
                "source": [index[s] for s in flows["source"]],
                "target": [index[t] for t in flows["target"]],
                "value": list(flows["value"]),
                "color": "rgba(150,150,150,0.25)",
                "hovertemplate": "%{source.label} → %{target.label}: %{value} 件<extra></extra>",
            },
        )
    )
    return _layout(fig, height=380, title=title)


def goal_gauge(
    value: float | None, *, title: str, goal: float | None = None, good_above: bool = True
) -> go.Figure:
    """A percentage gauge (0-100%) with an optional goal line (e.g. 一窗受理率 >= 70%)."""
    if value is None:
        return empty(title, "暂无数据", height=230)
    pct = value * 100
    ok = goal is None or (pct >= goal * 100 if good_above else pct <= goal * 100)
    gauge = {
        "axis": {"range": [0, 100], "ticksuffix": "%"},
        "bar": {"color": theme.GOOD if ok else theme.BAD, "thickness": 0.6},
        "bgcolor": "#F2F2F2",
        "borderwidth": 0,
    }
    if goal is not None:
        gauge["threshold"] = {
            "line": {"color": theme.NEUTRAL, "width": 4},
            "thickness": 0.9,
            "value": goal * 100,
        }
    fig = go.Figure(
        go.Indicator(
            mode="gauge+number" + ("+delta" if goal is not None else ""),
            value=pct,
            number={"suffix": "%", "valueformat": ".1f"},
            delta={
                "reference": goal * 100,
                "valueformat": "+.1f",
                "suffix": " 个百分点",
                "increasing": {"color": theme.GOOD if good_above else theme.BAD},
                "decreasing": {"color": theme.BAD if good_above else theme.GOOD},
            }
            if goal is not None
            else None,
            gauge=gauge,
            title={
                "text": title
                + (
                    f"<br><span style='font-size:12px'>目标 {'≥' if good_above else '≤'} {goal * 100:.0f}%</span>"
                    if goal is not None
                    else ""
                ),
                "font": {"size": 15},
            },
            domain={"x": [0, 1], "y": [0, 0.78]},
        )
    )
    return _layout(fig, height=250)


def department_rates(
    df: pd.DataFrame, *, label: str, rate: str, count: str, title: str, goal: float | None = None
) -> go.Figure:
    """A rate per department (horizontal bars, %), the count as text; an optional goal line.
    Columns: ``label``, ``rate`` (0..1), ``count``."""
    d = df.dropna(subset=[rate]) if not df.empty else df
    if d.empty:
        return empty(title)
    d = _cap(d, count).sort_values(rate, ascending=False)  # the lowest on top
    colors = [theme.GOOD if goal is None or v >= goal else theme.BAD for v in d[rate]]
    fig = go.Figure(
        go.Bar(
            y=d[label],
            x=d[rate] * 100,
            orientation="h",
            marker_color=colors,
            text=[f"{v * 100:.1f}%({n})" for v, n in zip(d[rate], d[count], strict=False)],
            textposition="auto",
            hovertemplate="%{y}: %{x:.1f}%<extra></extra>",
            showlegend=False,
        )
    )
    if goal is not None:
        fig.add_vline(
            x=goal * 100,
            line={"color": theme.NEUTRAL, "dash": "dash", "width": 2},
            annotation_text=f"目标 {goal * 100:.0f}%",
            annotation_position="top",
        )
    fig.update_xaxes(range=[0, 105], ticksuffix="%")
    return _layout(fig, height=max(260, 24 * len(d) + 90), title=title)


# ---------------------------------------------------------------------- 好差评


def rating_distribution(df: pd.DataFrame) -> go.Figure:
    """Ratings per level, 非常满意 on top, coloured green to red. Columns: score, ratings."""
    title = "评价等级分布"
    if df.empty or df["ratings"].sum() == 0:
        return empty(title)
    total = df["ratings"].sum()
    d = df.sort_values("score")
    fig = go.Figure(
        go.Bar(
            y=[f"{theme.RATING_LABELS[int(s)]}({int(s)})" for s in d["score"]],
            x=d["ratings"],
            orientation="h",
            marker_color=[theme.RATING_COLORS[int(s)] for s in d["score"]],
            text=[f"{n:,}({n / total * 100:.1f}%)" for n in d["ratings"]],
            textposition="auto",
            hovertemplate="%{y}: %{x} 次<extra></extra>",
            showlegend=False,
        )
    )
    fig.update_xaxes(title_text="评价次数", rangemode="tozero")
    return _layout(fig, height=300, title=title)


def rating_rates(df: pd.DataFrame, label: str, title: str) -> go.Figure:
    """好评率 and 差评率 per row (department, window or staff), stacked to 100% with the rest.
    Columns: ``label``, rated, good, bad."""
    d = df[df["rated"] > 0] if not df.empty else df
    if d.empty:
        return empty(title)
    d = _cap(d, "rated")
    d = d.assign(mid=d["rated"] - d["good"] - d["bad"]).sort_values(
        "good", key=lambda s: s / d["rated"], ascending=False
    )  # the lowest on top
    fig = go.Figure()
    for col, name, color in (
        ("good", "好评", theme.GOOD),
        ("mid", "基本满意", "#D9D9D9"),
        ("bad", "差评", theme.BAD),
    ):
        share = d[col] / d["rated"] * 100
        fig.add_trace(
            go.Bar(
                y=d[label].astype(str),
                x=share,
                name=name,
                orientation="h",
                marker_color=color,
                customdata=d[col],
                text=[f"{v:.0f}%" if v >= 6 else "" for v in share],
                textposition="inside",
                hovertemplate="%{y} " + name + " %{x:.1f}%(%{customdata} 次)<extra></extra>",
            )
        )
    fig.update_layout(barmode="stack")
    fig.update_xaxes(range=[0, 100], ticksuffix="%")
    return _layout(fig, height=max(260, 24 * len(d) + 100), title=title)


def whatif_waits(df: pd.DataFrame) -> go.Figure:
    """Mean wait per queue, the hall's plan against the what-if plan (minutes).
    Columns: queue, mean_wait_min_base, mean_wait_min_plan (the "all" row is left out)."""
    title = "各队列平均等候:现行安排 vs 备选方案(分钟)"
    d = df[df["queue"] != "all"] if not df.empty else df
    if d.empty:
        return empty(title)
    d = d.iloc[::-1]
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            y=d["queue"],
            x=d["mean_wait_min_base"],
            name="现行安排",
            orientation="h",
            marker_color=theme.NEUTRAL,
            hovertemplate="%{y} 现行 %{x:.1f} 分钟<extra></extra>",
        )
    )
    fig.add_trace(
        go.Bar(
            y=d["queue"],
            x=d["mean_wait_min_plan"],
            name="备选方案",
            orientation="h",
            marker_color=theme.KIND_COLORS["无差别综合"],
            hovertemplate="%{y} 备选 %{x:.1f} 分钟<extra></extra>",
        )
    )
    fig.update_layout(barmode="group")
    fig.update_xaxes(title_text="分钟", rangemode="tozero")
    return _layout(fig, height=max(260, 40 * len(d) + 80), title=title)
