"""Colours, labels and number formats shared by every page and chart.

One colour per queue kind (the five kinds of seed 001) on every page, so a manager learns
"blue is 无差别综合" once. The palette is Okabe-Ito (readable with colour-vision deficiency).
"""

from __future__ import annotations

import math

from queue_server.hall.config import QueueKind

KIND_ORDER: tuple[str, ...] = tuple(k.value for k in QueueKind)  # 无差别综合, 分领域, 专窗, 出件, 咨询

KIND_COLORS: dict[str, str] = {
    QueueKind.GENERAL.value: "#0072B2",  # blue
    QueueKind.FIELD.value: "#E69F00",  # orange
    QueueKind.SPECIAL.value: "#009E73",  # green
    QueueKind.PICKUP.value: "#CC79A7",  # purple
    QueueKind.CONSULT.value: "#56B4E9",  # sky
}
OTHER_COLOR = "#999999"

# window status as the live page shows it
WINDOW_STATUS_LABELS: dict[str, str] = {
    "serving": "服务中",
    "idle": "空闲",
    "paused": "暂停",
    "closed": "关闭",
}
WINDOW_STATUS_COLORS: dict[str, str] = {
    "serving": "#0072B2",
    "idle": "#009E73",
    "paused": "#E69F00",
    "closed": "#BBBBBB",
}

TICKET_STATE_LABELS: dict[str, str] = {
    "waiting": "等候中",
    "called": "已叫号",
    "serving": "办理中",
    "done": "已办结",
    "no_show": "过号",
    "cancelled": "已取消",
}

# The two no-show counts, never shown without their label and its formula
FINAL_NO_SHOW = "最终过号"
FINAL_NO_SHOW_HELP = "号票最终状态为过号的张数:叫号未到,之后也没有重新激活办理(按号票计)"
NO_SHOW_EVENTS = "过号次数"
NO_SHOW_EVENTS_HELP = "窗口标记过号的次数:同一号票过号后重新激活、再次过号的,每次都计(按事件计)"

# 好差评 levels (国办发〔2019〕51号): 5 非常满意 … 1 非常不满意; 1-2 are 差评
RATING_LABELS: dict[int, str] = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}
RATING_COLORS: dict[int, str] = {5: "#1A9850", 4: "#91CF60", 3: "#D9D9D9", 2: "#FC8D59", 1: "#D73027"}

GOOD = "#1A9850"
BAD = "#D73027"
WARN = "#E69F00"
NEUTRAL = "#4D4D4D"

FONT_FAMILY = '"Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC", sans-serif'


def kind_color(kind: str | None) -> str:
    return KIND_COLORS.get(kind or "", OTHER_COLOR)


# ---------------------------------------------------------------------- number formats


def _missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def fmt_int(value: float | None) -> str:
    return "—" if _missing(value) else f"{round(value):,}"  # type: ignore[arg-type]


def fmt_minutes(seconds: float | None) -> str:
    """Seconds shown as minutes with one decimal: ``8.5 分钟``."""
    return "—" if _missing(seconds) else f"{seconds / 60:.1f} 分钟"  # type: ignore[operator]


def fmt_pct(ratio: float | None) -> str:
    """A ratio 0..1 shown as a percentage with one decimal: ``92.3%``."""
    return "—" if _missing(ratio) else f"{ratio * 100:.1f}%"  # type: ignore[operator]


def fmt_hours(seconds: float | None) -> str:
    return "—" if _missing(seconds) else f"{seconds / 3600:.1f} 小时"  # type: ignore[operator]


def parse_number(text: str) -> float | None:
    """The number in a formatted figure (tests read metrics back with this)."""
    cleaned = text.replace(",", "").replace("分钟", "").replace("小时", "").replace("%", "").strip()
    if cleaned in ("", "—"):
        return None
    return float(cleaned.split()[0])
