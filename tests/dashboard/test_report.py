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
    value = dict(zip(month_report.summary["指标"], month_report.summary["数值"]))
    d = ex.day_figures(sql, date(2026, 11, 1), date(2026, 11, 30))
    assert value["取号量"] == d["issued"] and value["过号量"] == d["no_show"]
    assert value["等候时长90%分位"] == pytest.approx(d["p90_wait_s"] / 60, abs=0.051)
    c = ex.case_figures(sql, date(2026, 11, 1), date(2026, 11, 30), NOW, demo_config.rules.due_soon_hours)
    assert value["收件量"] == c["received"]
    assert value["一窗受理率"] == pytest.approx(c["one_window_rate"] * 100, abs=0.051)
    r = ex.rating_figures(sql, date(2026, 11, 1), date(2026, 11, 30), NOW)
    assert value["好评率"] == pytest.approx(r["good_rate"] * 100, abs=0.051)
    titles = [t for t, _ in month_report.sections]
    assert titles == ["分队列", "分窗口", "分人员", "每日", "办件分部门", "好差评分部门", "好差评分窗口", "好差评分人员"]
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
    value = dict(zip(month_report.summary["指标"], month_report.summary["数值"]))
    assert rows["取号量"] == value["取号量"] and rows["好评率"] == value["好评率"]


def test_csv_has_hall_period_and_sections(month_report) -> None:
    data = rpt.to_csv(month_report)
    assert data.startswith("\ufeff".encode())  # Excel reads the Chinese right
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert "示范县政务服务中心" in rows[0][0] and "2026年11月01日 至 2026年11月30日" in rows[2][0]
    titles = [r[0] for r in rows if r and r[0].startswith("【")]
    assert titles[0] == "【总体指标】" and "【好差评分人员】" in titles
    summary = {r[0]: r[1] for r in rows if len(r) == 4}
    assert summary["取号量"] == str(dict(zip(month_report.summary["指标"], month_report.summary["数值"]))["取号量"])
