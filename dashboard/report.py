"""The monthly report (月度报表, seed 000: monthly 调度): every dashboard figure for one
month, as tables, exported to .xlsx (openpyxl) and .csv. The hall's name and the period are
in the content of both files and in their names. No Streamlit here."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime

import pandas as pd

from queue_server.hall.config import HallConfig

from . import queries as q
from . import theme
from .data import HallWarehouse

SUMMARY_COLUMNS = ["指标", "数值", "单位", "口径"]


@dataclass(kw_only=True)
class Report:
    hall_name: str
    hall_code: str
    month: str  # "2026-11"
    start: date
    end: date
    generated_at: datetime
    summary: pd.DataFrame  # SUMMARY_COLUMNS
    sections: list[tuple[str, pd.DataFrame]] = field(default_factory=list)  # (title, table)
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)  # query results, for the page's charts

    @property
    def title(self) -> str:
        return f"{self.hall_name} 月度运行报表"

    @property
    def period(self) -> str:
        return f"{self.start:%Y年%m月%d日} 至 {self.end:%Y年%m月%d日}"

    def file_name(self, ext: str) -> str:
        safe = re.sub(r'[\\/:*?"<>|\s]+', "_", self.hall_name)
        return f"{safe}_月度报表_{self.month}.{ext}"


def _r(v: float | None, digits: int = 1) -> float | None:
    return None if v is None or pd.isna(v) else round(float(v), digits)


def _pct(v: float | None) -> float | None:
    return None if v is None or pd.isna(v) else round(float(v) * 100, 1)


def build_month_report(wh: HallWarehouse, config: HallConfig, month: str, now: datetime) -> Report:
    start, end = q.month_bounds(month)
    scope = q.Scope(start=start, end=end)
    now_ts = now.timestamp()
    rows: list[list[object]] = []

    def add(label: str, value: object, unit: str, basis: str) -> None:
        rows.append([label, value, unit, basis])

    s = q.period_summary(wh, scope)
    add("取号量", s.issued, "张", "当月取号的号票数")
    add("办结量(叫号服务)", s.served, "张", "当月办结的号票数")
    add(theme.FINAL_NO_SHOW, s.no_show, "张", theme.FINAL_NO_SHOW_HELP)
    add(theme.NO_SHOW_EVENTS, s.no_show_events, "次", theme.NO_SHOW_EVENTS_HELP)
    add("平均等候时长", _r(s.avg_wait_s and s.avg_wait_s / 60), "分钟", "取号(或预约签到)至首次叫号")
    add("等候时长90%分位", _r(s.p90_wait_s and s.p90_wait_s / 60), "分钟", "同上,90%分位(线性插值)")
    add("平均办理时长", _r(s.avg_service_s and s.avg_service_s / 60), "分钟", "开始办理至办结")
    act = q.activity(wh, scope, now_ts)
    win = q.window_activity(wh, scope, now_ts, base=act)
    open_s = float(win["open_s"].sum())
    add("窗口开放时长", _r(open_s / 3600), "小时", "窗口处于开放状态的时长合计(不含暂停)")
    add(
        "窗口空闲占比",
        _pct(win["idle_s"].sum() / open_s if open_s else None),
        "%",
        "开放且柜台无人的时长 ÷ 开放时长",
    )
    add("窗口暂停时长", _r(float(win["paused_s"].sum()) / 3600), "小时", "窗口暂停时长合计")

    c = q.case_summary(wh, scope, now, config.rules.due_soon_hours)
    add("收件量", c.received, "件", "当月创建的办件(受理、不予受理、补正告知)")
    add("受理量", c.accepted, "件", "当月受理(含容缺受理)的办件")
    add("办结量(办件)", c.decided, "件", "当月作出决定的办件")
    add(
        "按时办结率", _pct(c.on_time_rate), "%", "按时办结 ÷ (当月办结 + 仍在办且已超期);超期未办结的计为超时"
    )
    add("即办件占比", _pct(c.instant_share), "%", "当月受理件中即办件的比例")
    add("一窗受理率", _pct(c.one_window_rate), "%", "当月受理件中经“一窗”受理事项的比例(目标 ≥ 70%)")
    add("超期件(报表生成时)", c.overdue, "件", "未办结、未中止且已过承诺时限的办件")
    add("即将到期件(报表生成时)", c.due_soon, "件", f"{config.rules.due_soon_hours} 小时内到期的在办件")

    r = q.rating_summary(wh, scope, now_ts)
    add("评价数", r.rated, "次", "当月首次评价(申诉成立的不计)")
    add("好评率", _pct(r.good_rate), "%", "满意、非常满意 ÷ 评价数")
    add("差评率", _pct(r.bad_rate), "%", "不满意、非常不满意 ÷ 评价数")
    add("未评率", _pct(r.unrated_rate), "%", "当月办结的服务中未评价的比例")
    add("差评回复率", _pct(r.reply_rate), "%", "已联系或已办结的差评 ÷ 差评(申诉成立的不计)")
    add("回访整改率", _pct(r.revisit_rate), "%", "整改并回访办结的差评 ÷ 差评")
    add("回访整改满意率", _pct(r.satisfied_rate), "%", "回访满意度 ≥ 4 ÷ 整改回访的差评")
    add("按时联系率", _pct(r.contact_on_time_rate), "%", "按时联系 ÷ (已联系 + 未联系且已超时限)")
    add("按时整改率", _pct(r.rectify_on_time_rate), "%", "按时整改 ÷ (已整改 + 未整改且已超时限)")

    summary = pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
    report = Report(
        hall_name=config.name,
        hall_code=config.code,
        month=month,
        start=start,
        end=end,
        generated_at=now,
        summary=summary,
    )

    qp = q.queue_period(wh, scope)
    report.frames["queues"] = qp
    report.sections.append(
        (
            "分队列",
            pd.DataFrame(
                {
                    "队列": qp["queue"],
                    "名称": qp["name"],
                    "类别": qp["kind"],
                    "部门": qp["department"],
                    "取号": qp["issued"],
                    "办结": qp["served"],
                    theme.FINAL_NO_SHOW: qp["no_show"],
                    "平均等候(分钟)": (qp["avg_wait_s"] / 60).round(1),
                    "等候90%分位(分钟)": (qp["p90_wait_s"] / 60).round(1),
                    "平均办理(分钟)": (qp["avg_service_s"] / 60).round(1),
                }
            ),
        )
    )
    report.sections.append(
        (
            "分窗口",
            pd.DataFrame(
                {
                    "窗口": win["window"],
                    "名称": win["name"],
                    "部门": win["department"],
                    "办结": win["served"],
                    theme.NO_SHOW_EVENTS: win["no_show"],
                    "平均办理(分钟)": (win["avg_service_s"] / 60).round(1),
                    "开放(小时)": (win["open_s"] / 3600).round(1),
                    "服务(小时)": (win["busy_s"] / 3600).round(1),
                    "空闲(小时)": (win["idle_s"] / 3600).round(1),
                    "暂停(小时)": (win["paused_s"] / 3600).round(1),
                }
            ),
        )
    )
    st = q.staff_activity(wh, scope, now_ts, base=act)
    report.sections.append(
        (
            "分人员",
            pd.DataFrame(
                {
                    "姓名": st["staff_name"],
                    "账号": st["staff"],
                    "窗口": st["windows"],
                    "办结": st["served"],
                    "平均办理(分钟)": (st["avg_service_s"] / 60).round(1),
                    "开放(小时)": (st["open_s"] / 3600).round(1),
                    "空闲(小时)": (st["idle_s"] / 3600).round(1),
                    "暂停(小时)": (st["paused_s"] / 3600).round(1),
                }
            ),
        )
    )
    daily = q.daily_flow(wh, scope)
    report.frames["daily"] = daily
    report.sections.append(
        (
            "每日",
            pd.DataFrame(
                {
                    "日期": pd.to_datetime(daily["service_date"]).dt.strftime("%Y-%m-%d"),
                    "取号": daily["issued"],
                    "办结": daily["served"],
                    theme.FINAL_NO_SHOW: daily["no_show"],
                    "平均等候(分钟)": (daily["avg_wait_s"] / 60).round(1),
                }
            ),
        )
    )
    cd = q.cases_by_department(wh, scope, now_ts)
    report.sections.append(
        (
            "办件分部门",
            pd.DataFrame(
                {
                    "部门": cd["department"],
                    "收件": cd["received"],
                    "受理": cd["accepted"],
                    "办结": cd["decided"],
                    "按时办结率(%)": (cd["on_time_rate"] * 100).round(1),
                    "即办件占比(%)": (cd["instant_share"] * 100).round(1),
                    "一窗受理率(%)": (cd["one_window_rate"] * 100).round(1),
                    "超期(当前)": cd["overdue"],
                }
            ),
        )
    )
    for by, title, key in (
        ("department", "好差评分部门", "部门"),
        ("window", "好差评分窗口", "窗口"),
        ("staff", "好差评分人员", "人员"),
    ):
        rb = q.ratings_by(wh, scope, by, now_ts)
        label = rb["staff_name"].fillna(rb["k"]) if by == "staff" else rb["k"]
        report.sections.append(
            (
                title,
                pd.DataFrame(
                    {
                        key: label,
                        "评价数": rb["rated"],
                        "好评率(%)": (rb["good_rate"] * 100).round(1),
                        "差评数": rb["bad"],
                        "差评率(%)": (rb["bad_rate"] * 100).round(1),
                        "按时联系率(%)": (rb["contact_on_time_rate"] * 100).round(1),
                        "按时整改率(%)": (rb["rectify_on_time_rate"] * 100).round(1),
                        "超期未整改": rb["overdue"],
                    }
                ),
            )
        )
    return report


# ---------------------------------------------------------------------- export


def _header_lines(report: Report) -> list[list[str]]:
    return [
        [report.title],
        [f"大厅:{report.hall_name}({report.hall_code})"],
        [f"统计期间:{report.period}({report.month})"],
        [f"生成时间:{report.generated_at:%Y-%m-%d %H:%M}"],
    ]


COUNT_UNITS = ("张", "件", "次")  # summary rows whose value is a count


def _cell(v: object, count: bool = False) -> object:
    """A value as a file cell: empty for missing, Python scalars, counts as integers (a
    count in a float column, e.g. the summary's 数值 next to rates, is written 10715, not
    10715.0)."""
    if v is None:
        return ""
    try:
        if pd.isna(v):
            return ""
    except (TypeError, ValueError):
        pass
    if hasattr(v, "item"):
        v = v.item()  # numpy scalar -> Python
    if count and isinstance(v, float) and v.is_integer():
        return int(v)
    return v


def _is_count(title: str, column: pd.Series) -> bool:
    """A column of counts: numbers, all whole, under a header without a unit (units are in
    parentheses: 平均等候(分钟), 好评率(%), 开放(小时))."""
    return (
        "(" not in title
        and pd.api.types.is_numeric_dtype(column)
        and bool(column.dropna().map(lambda x: float(x).is_integer()).all())
    )


def export_rows(df: pd.DataFrame) -> list[list[object]]:
    """The rows of a report table as written to the files."""
    if list(df.columns) == SUMMARY_COLUMNS:
        return [
            [label, _cell(value, count=unit in COUNT_UNITS), unit, basis]
            for label, value, unit, basis in df.itertuples(index=False)
        ]
    counts = [_is_count(str(c), df[c]) for c in df.columns]
    return [
        [_cell(v, count=k) for v, k in zip(row, counts, strict=False)] for row in df.itertuples(index=False)
    ]


def to_csv(report: Report) -> bytes:
    """One CSV: the header lines, then the summary and each section under its title.
    UTF-8 with BOM so Excel opens the Chinese correctly."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    for line in _header_lines(report):
        w.writerow(line)
    for title, df in [("总体指标", report.summary), *report.sections]:
        w.writerow([])
        w.writerow([f"【{title}】"])
        w.writerow(list(df.columns))
        w.writerows(export_rows(df))
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def to_xlsx(report: Report) -> bytes:
    """A workbook: sheet 总体指标 first, one sheet per section; every sheet starts with the
    hall name and the period."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    wb.remove(wb.active)
    head_fill = PatternFill("solid", fgColor="DDEBF7")
    for title, df in [("总体指标", report.summary), *report.sections]:
        ws = wb.create_sheet(title=title[:31])
        lines = _header_lines(report)
        for i, line in enumerate(lines, start=1):
            ws.cell(row=i, column=1, value=line[0]).font = Font(bold=(i == 1), size=14 if i == 1 else 11)
        top = len(lines) + 2
        for j, col in enumerate(df.columns, start=1):
            cell = ws.cell(row=top, column=j, value=str(col))
            cell.font = Font(bold=True)
            cell.fill = head_fill
            cell.alignment = Alignment(horizontal="center")
        for i, row in enumerate(export_rows(df), start=top + 1):
            for j, v in enumerate(row, start=1):
                ws.cell(row=i, column=j, value=v)
        for j, col in enumerate(df.columns, start=1):
            width = max([len(str(col))] + [len(str(_cell(v))) for v in df.iloc[:, j - 1]][:200])
            ws.column_dimensions[get_column_letter(j)].width = min(60, max(8, width * 1.8 + 2))
        ws.freeze_panes = ws.cell(row=top + 1, column=1)
    wb.properties.title = f"{report.title} {report.month}"
    wb.properties.creator = "HallOps"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
