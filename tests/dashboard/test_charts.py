"""Chart builders are pure: small DataFrames in, Plotly figures out; one colour per queue
kind everywhere; an empty frame gives a figure that says so."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import pytest

from dashboard import charts, theme

QUEUES = pd.DataFrame(
    {
        "queue": ["A", "B", "P"],
        "name": ["综合受理", "税务", "出件"],
        "kind": ["无差别综合", "分领域", "出件"],
        "waiting": [12, 3, 0],
        "alert_waiting": [10, 30, 30],
        "longest_wait_s": [1900.0, 300.0, 0.0],
        "estimated_wait_s": [900.0, 120.0, 0.0],
        "alert_wait_min": [30, 30, 30],
        "avg_wait_s": [600.0, 200.0, None],
        "p90_wait_s": [1500.0, 400.0, None],
    }
)


def bar_colors(fig: go.Figure) -> list[str]:
    return list(
        next(
            t for t in fig.data if t.type == "bar" and t.x is not None and None not in list(t.x)
        ).marker.color
    )


def test_one_colour_per_kind_on_every_queue_chart() -> None:
    want = [theme.KIND_COLORS[k] for k in QUEUES["kind"]]
    for fig in (charts.queue_waiting(QUEUES), charts.queue_longest_wait(QUEUES)):
        assert bar_colors(fig) == want[::-1]  # horizontal: first queue on top
    waits = charts.queue_waits(QUEUES)
    assert list(waits.data[0].marker.color) == want[:2][::-1]  # the queue without waits is left out
    legend = {t.name for t in charts.queue_waiting(QUEUES).data if t.showlegend}
    assert {"无差别综合", "分领域", "出件"} <= legend and "专窗" not in legend


def test_kind_colours_are_distinct_and_complete() -> None:
    assert set(theme.KIND_COLORS) == set(theme.KIND_ORDER) == {"无差别综合", "分领域", "专窗", "出件", "咨询"}
    assert len(set(theme.KIND_COLORS.values())) == 5


def test_waiting_chart_values_and_threshold() -> None:
    fig = charts.queue_waiting(QUEUES)
    bars = fig.data[0]
    assert list(bars.x) == [0, 3, 12] and list(bars.y) == ["出件", "税务", "综合受理"]
    assert list(fig.data[1].x) == [30, 30, 10]  # the alert thresholds


def test_window_status_tiles() -> None:
    df = pd.DataFrame(
        {
            "number": [1, 2, 3, 4],
            "status": ["serving", "idle", "paused", "closed"],
            "staff_name": ["林晓燕", "陈伟", "张敏", ""],
            "ticket": ["A001", None, None, None],
            "pause_reason": ["", "", "业务培训", ""],
        }
    )
    fig = charts.window_status(df)
    by_name = {t.name: t for t in fig.data}
    assert set(by_name) == {"服务中", "空闲", "暂停", "关闭"}
    assert by_name["服务中"].marker.color == theme.WINDOW_STATUS_COLORS["serving"]
    assert "A001" in by_name["服务中"].text[0] and "业务培训" in by_name["暂停"].text[0]


def test_time_split_stacks_hours() -> None:
    df = pd.DataFrame(
        {
            "label": ["1号", "2号"],
            "busy_s": [3600.0, 7200.0],
            "idle_s": [1800.0, 0.0],
            "paused_s": [0.0, 900.0],
        }
    )
    fig = charts.time_split(df, "label", "t")
    assert [t.name for t in fig.data] == ["服务", "空闲", "暂停"]
    assert list(fig.data[0].x) == [2.0, 1.0]  # hours, first row on top
    assert fig.layout.barmode == "stack"


def test_long_bar_charts_keep_the_largest_rows() -> None:
    df = pd.DataFrame(
        {
            "label": [f"{i}号" for i in range(100)],
            "served": list(range(100)),
            "avg_service_s": [300.0] * 100,
            "kind": ["分领域"] * 100,
        }
    )
    fig = charts.served_bars(df, "label", "各窗口")
    assert (
        len(fig.data[0].y) == charts.MAX_ROWS
        and "99号" in list(fig.data[0].y)
        and "0号" not in list(fig.data[0].y)
    )


def test_heatmap_by_day_and_by_weekday() -> None:
    df = pd.DataFrame(
        {
            "service_date": pd.to_datetime(["2026-11-16"] * 2 + ["2026-11-23"] * 2).date,
            "hour": [9, 10, 9, 10],
            "arrivals": [20, 10, 40, 10],
            "open_windows": [4.0, 2.0, 4.0, 0.0],
        }
    )
    fig = charts.arrivals_heatmap(df)
    arrivals, per_window = fig.data
    assert list(arrivals.y) == ["11-16", "11-23"] and list(arrivals.x) == ["9时", "10时"]
    assert arrivals.z[1][0] == 40 and per_window.z[0][0] == 5.0
    assert per_window.z[1][1] != per_window.z[1][1]  # no window open: no ratio (NaN), not infinity
    weekly = charts.arrivals_heatmap(df, by_weekday=True)
    assert list(weekly.data[0].y) == ["周一"] and weekly.data[0].z[0][0] == 30  # mean of two Mondays


def test_case_flow_sankey() -> None:
    flows = pd.DataFrame(
        {
            "source": ["收件", "收件", "受理"],
            "target": ["受理", "不予受理", "办结·准予"],
            "value": [90, 10, 60],
        }
    )
    fig = charts.case_flow(flows)
    node = fig.data[0].node
    assert node.label[0] == "收件 100" and "受理 90" in node.label
    assert list(fig.data[0].link.value) == [90, 10, 60]


def test_goal_gauge_colours_against_the_goal() -> None:
    above = charts.goal_gauge(0.8, title="一窗受理率", goal=0.7)
    below = charts.goal_gauge(0.6, title="一窗受理率", goal=0.7)
    assert above.data[0].value == pytest.approx(80.0)
    assert above.data[0].gauge.bar.color == theme.GOOD and below.data[0].gauge.bar.color == theme.BAD
    assert above.data[0].gauge.threshold.value == pytest.approx(70.0)


def test_rating_charts() -> None:
    dist = pd.DataFrame({"score": [5, 4, 3, 2, 1], "ratings": [60, 20, 10, 6, 4]})
    fig = charts.rating_distribution(dist)
    assert list(fig.data[0].marker.color) == [theme.RATING_COLORS[s] for s in (1, 2, 3, 4, 5)]
    rates = pd.DataFrame({"k": ["县税务局", "县公安局"], "rated": [10, 20], "good": [9, 10], "bad": [1, 5]})
    fig = charts.rating_rates(rates, "k", "t")
    assert [t.name for t in fig.data] == ["好评", "基本满意", "差评"]
    good = dict(zip(fig.data[0].y, fig.data[0].x, strict=True))
    assert good["县税务局"] == pytest.approx(90.0) and good["县公安局"] == pytest.approx(50.0)


@pytest.mark.parametrize(
    "build",
    [
        lambda: charts.queue_waiting(QUEUES.iloc[0:0]),
        lambda: charts.daily_trend(pd.DataFrame(columns=["service_date", "issued", "served", "avg_wait_s"])),
        lambda: charts.arrivals_heatmap(
            pd.DataFrame(columns=["service_date", "hour", "arrivals", "open_windows"])
        ),
        lambda: charts.case_flow(pd.DataFrame(columns=["source", "target", "value"])),
        lambda: charts.goal_gauge(None, title="按时办结率"),
        lambda: charts.rating_distribution(pd.DataFrame({"score": [5, 4, 3, 2, 1], "ratings": [0] * 5})),
    ],
)
def test_empty_input_gives_a_figure_that_says_so(build) -> None:
    fig = build()
    assert isinstance(fig, go.Figure) and not fig.data
    assert any("没有数据" in a.text or "暂无数据" in a.text for a in fig.layout.annotations)


def test_daily_trend_one_label_per_day() -> None:
    df = pd.DataFrame(
        {
            "service_date": pd.to_datetime(["2026-11-18", "2026-11-19", "2026-11-20"]).date,
            "issued": [400, 380, 150],
            "served": [390, 350, 120],
            "avg_wait_s": [600.0, 2400.0, 300.0],
        }
    )
    fig = charts.daily_trend(df)
    assert list(fig.data[0].x) == ["11-18", "11-19", "11-20"] and fig.layout.xaxis.type == "category"
    assert list(fig.data[2].y) == [10.0, 40.0, 5.0]  # minutes, on the right axis
