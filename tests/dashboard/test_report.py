"""The monthly report: every figure for the month; .xlsx and .csv carry the hall's name and
the period in their content and their file names."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from openpyxl import load_workbook

from dashboard import report as rpt
from dashboard.data import HallWarehouse

import dashboard_expected as ex
from dashboard_drive import NOW


@pytest.fixture(scope="module")
def month_report(hall_db, demo_config) -> rpt.Report:
    wh = HallWarehouse(hall_db, demo_config).load()
    return rpt.build_month_report(wh, demo_config, "2026-11", NOW)


def test_figures_of_the_month(month_report, sql, demo_config) -> None:
    value = dict(zip(month_report.summary["指标"], month_report.summary["数值"], strict=True))
    d = ex.day_figures(sql, date(2026, 11, 1), date(2026, 11, 30))
    assert value["取号量"] == d["issued"] and value["最终过号"] == d["no_show"]
    assert value["等候时长90%分位"] == pytest.approx(d["p90_wait_s"] / 60, abs=0.051)
    c = ex.case_figures(sql, date(2026, 11, 1), date(2026, 11, 30), NOW, demo_config.rules.due_soon_hours)
    assert value["收件量"] == c["received"]
    assert value["一窗受理率"] == pytest.approx(c["one_window_rate"] * 100, abs=0.051)
    r = ex.rating_figures(sql, date(2026, 11, 1), date(2026, 11, 30), NOW)
    assert value["好评率"] == pytest.approx(r["good_rate"] * 100, abs=0.051)
    titles = [t for t, _ in month_report.sections]
    assert titles == [
        "分队列",
        "分窗口",
        "分人员",
        "每日",
        "办件分部门",
        "好差评分部门",
        "好差评分窗口",
        "好差评分人员",
    ]
    daily = dict(month_report.sections)["每日"]
    assert list(daily["日期"]) == ["2026-11-18", "2026-11-19", "2026-11-20"]


def test_file_names(month_report) -> None:
    assert month_report.file_name("xlsx") == "示范县政务服务中心_月度报表_2026-11.xlsx"
    assert month_report.file_name("csv") == "示范县政务服务中心_月度报表_2026-11.csv"


def test_xlsx_has_hall_and_period_on_every_sheet(month_report) -> None:
    wb = load_workbook(io.BytesIO(rpt.to_xlsx(month_report)))
    assert wb.sheetnames[0] == "总体指标" and len(wb.sheetnames) == 1 + len(month_report.sections)
    for ws in wb.worksheets:
        head = " ".join(str(ws.cell(row=i, column=1).value) for i in range(1, 5))
        assert "示范县政务服务中心" in head
        assert "2026年11月01日 至 2026年11月30日" in head and "2026-11" in head
    ws = wb["总体指标"]
    rows = {ws.cell(row=i, column=1).value: ws.cell(row=i, column=2).value for i in range(1, ws.max_row + 1)}
    value = dict(zip(month_report.summary["指标"], month_report.summary["数值"], strict=True))
    assert rows["取号量"] == value["取号量"] and rows["好评率"] == value["好评率"]


def test_csv_has_hall_period_and_sections(month_report) -> None:
    data = rpt.to_csv(month_report)
    assert data.startswith("\ufeff".encode())  # Excel reads the Chinese right
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert "示范县政务服务中心" in rows[0][0] and "2026年11月01日 至 2026年11月30日" in rows[2][0]
    titles = [r[0] for r in rows if r and r[0].startswith("【")]
    assert titles[0] == "【总体指标】" and "【好差评分人员】" in titles
    summary = {r[0]: r[1] for r in rows if len(r) == 4}
    assert summary["取号量"] == str(
        int(dict(zip(month_report.summary["指标"], month_report.summary["数值"], strict=True))["取号量"])
    )


def test_csv_writes_counts_as_integers(month_report, sql) -> None:
    """Issue 12 point 8: counts are written 970, not 970.0 (the summary's 数值 column also
    holds rates, so it is a float column)."""
    rows = list(csv.reader(io.StringIO(rpt.to_csv(month_report).decode("utf-8-sig"))))
    summary = {r[0]: r for r in rows if len(r) == 4}
    d = ex.day_figures(sql, date(2026, 11, 1), date(2026, 11, 30))
    assert summary["取号量"][1] == str(d["issued"])
    counts = [r for r in summary.values() if r[2] in rpt.COUNT_UNITS]
    assert len(counts) >= 10 and all(r[1].isdigit() for r in counts), counts
    assert summary["平均等候时长"][1] == str(round(d["avg_wait_s"] / 60, 1))  # not a count: keeps its decimal
    # in the tables: every column of counts (no unit in its header) holds whole numbers only
    header = None
    for r in rows:
        if len(r) > 1 and header is None and r[0] in ("队列", "窗口", "姓名", "日期", "部门", "人员"):
            header = r
            continue
        if not r:
            header = None
            continue
        if header is not None:
            for title, cell in zip(header, r, strict=True):
                if title in (
                    "取号",
                    "办结",
                    "最终过号",
                    "过号次数",
                    "评价数",
                    "差评数",
                    "收件",
                    "受理",
                    "超期未整改",
                ):
                    assert cell == "" or cell.isdigit(), (title, cell)
    wb = load_workbook(io.BytesIO(rpt.to_xlsx(month_report)))
    ws = wb["总体指标"]
    cells = {ws.cell(row=i, column=1).value: ws.cell(row=i, column=2).value for i in range(1, ws.max_row + 1)}
    assert isinstance(cells["取号量"], int) and cells["取号量"] == d["issued"]


def test_both_no_show_counts_are_labelled(month_report, sql) -> None:
    """Issue 12 point 8: final no-shows (tickets) and no-show events are two figures, each
    under its own label with its formula."""
    by_label = {r[0]: r for r in month_report.summary.itertuples(index=False)}
    final = sql.execute(
        "SELECT COUNT(*) FROM tickets WHERE state = 'no_show'"
        " AND service_date BETWEEN '2026-11-01' AND '2026-11-30'"
    ).fetchone()[0]
    events = sql.execute(
        "SELECT COUNT(*) FROM events WHERE type = 'ticket_no_show'"
        " AND service_date BETWEEN '2026-11-01' AND '2026-11-30'"
    ).fetchone()[0]
    assert final > 0 and events >= final
    assert by_label["最终过号"][1] == final and "最终状态为过号" in by_label["最终过号"][3]
    assert by_label["过号次数"][1] == events and "每次都计" in by_label["过号次数"][3]
    assert "过号量" not in by_label
    sections = dict(month_report.sections)
    assert "最终过号" in sections["分队列"].columns and "最终过号" in sections["每日"].columns
    assert "过号次数" in sections["分窗口"].columns
    assert sections["分窗口"]["过号次数"].sum() == events
