"""The matter catalogue (政务服务事项): ``data/matters/matters.csv``.

One row per matter a hall accepts; the columns are described in ``data/matters/README.md``.
``load_matters`` reads the file (UTF-8, with or without BOM) and checks every row; a bad file
raises one ``ValueError`` listing each problem with its line number. The materials and the
一件事 bundles (``materials.csv``, ``bundles.csv`` next to it, ``queue_server.catalogue``) are
read with it and attached to the matters.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import TypeVar

from .catalogue import BundlePart, Material, bundle_materials, materials_version, read_bundles, read_materials

__all__ = [
    "COLUMNS",
    "DEFAULT_PATH",
    "FIELDS",
    "POOL_FIELD",
    "CaseType",
    "Matter",
    "WindowKind",
    "load_matters",
]

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "data" / "matters" / "matters.csv"

COLUMNS = (
    "code",
    "name",
    "department",
    "field",
    "window_kind",
    "case_type",
    "promised_working_days",
    "statutory_working_days",
    "one_window",
    "queue",
)

# The 8 fields of 分领域综合受理 (seed 001), and the field of the 无差别综合受理 pool.
FIELDS = ("税务", "公安", "社保", "医保", "不动产登记", "市政公用", "婚姻登记", "商事登记")
POOL_FIELD = "无差别综合"

_CODE = re.compile(r"^[A-Z]{2,4}-\d{3}$")
_QUEUE = re.compile(r"^[A-Z]$")
_YES_NO = {"yes": True, "no": False}
_E = TypeVar("_E", bound=StrEnum)


class WindowKind(StrEnum):
    """Which kind of window accepts the matter (seed 001)."""

    GENERAL = "无差别"  # 无差别综合受理窗口
    FIELD = "分领域"  # 分领域综合受理窗口
    SPECIAL = "专窗"  # a dedicated window outside 一窗


class CaseType(StrEnum):
    INSTANT = "即办件"  # done on the spot, due the same day
    PROMISED = "承诺件"  # due within the promised working days


@dataclass(frozen=True, kw_only=True)
class Matter:
    code: str  # e.g. "SW-001"
    name: str  # as the hall names it, e.g. 个体工商户设立登记
    department: str
    field: str  # one of FIELDS, or POOL_FIELD
    window_kind: WindowKind
    case_type: CaseType
    promised_working_days: int  # 承诺时限; 0 for 即办件
    statutory_working_days: int  # 法定时限
    one_window: bool  # accepted through 一窗 (counts towards the ≥ 70% goal)
    queue: str  # the demo hall's queue code, e.g. "A"
    materials: tuple[Material, ...] = ()  # 材料清单 (a bundle: its parts' too, each once: 一表申请)
    parts: tuple[BundlePart, ...] = ()  # a 一件事 bundle's component matters; empty otherwise

    @property
    def is_instant(self) -> bool:
        return self.case_type is CaseType.INSTANT

    @property
    def is_bundle(self) -> bool:
        return bool(self.parts)

    @property
    def materials_version(self) -> str:
        """The fingerprint of the material list a 补正 notice was written against."""
        return materials_version(self.materials)


def load_matters(path: Path | None = None) -> list[Matter]:
    """Read and check the catalogue (default ``data/matters/matters.csv``), in file order."""
    path = Path(path) if path is not None else DEFAULT_PATH
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            header = tuple(reader.fieldnames or ())
            missing = [c for c in COLUMNS if c not in header]
            extra = [c for c in header if c not in COLUMNS]
            if missing or extra:
                raise ValueError(
                    f"{path}: columns must be {', '.join(COLUMNS)}"
                    + (f"; missing: {', '.join(missing)}" if missing else "")
                    + (f"; unknown: {', '.join(extra)}" if extra else "")
                )
            rows = [(reader.line_num, row) for row in reader]
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: cannot read the matter catalogue: {exc}") from exc

    matters: list[Matter] = []
    problems: list[str] = []
    first_line: dict[str, int] = {}
    for line, row in rows:
        matter, row_problems = _parse_row(row)
        problems += [f"{path}:{line}: {p}" for p in row_problems]
        if matter is None:
            continue
        if matter.code in first_line:
            problems.append(
                f"{path}:{line}: code {matter.code} already used on line {first_line[matter.code]}"
            )
            continue
        first_line[matter.code] = line
        matters.append(matter)
    matters = _attach(path.parent, matters, problems)
    if problems:
        raise ValueError("invalid matter catalogue:\n  " + "\n  ".join(problems))
    if not matters:
        raise ValueError(f"{path}: the matter catalogue has no rows")
    return matters


def _attach(folder: Path, matters: list[Matter], problems: list[str]) -> list[Matter]:
    """The matters with their materials and (bundles) parts, from the files next to them."""
    codes = {m.code for m in matters}
    materials: dict[str, tuple[Material, ...]] = {}
    parts: dict[str, tuple[BundlePart, ...]] = {}
    if (folder / "materials.csv").exists():
        materials = read_materials(folder / "materials.csv", codes, problems)
    if (folder / "bundles.csv").exists():
        special = {m.code for m in matters if m.window_kind is WindowKind.SPECIAL}
        promised = {m.code: m.promised_working_days for m in matters}
        parts = read_bundles(folder / "bundles.csv", promised, special, problems)
    out = []
    for m in matters:
        own = materials.get(m.code, ())
        if m.code in parts:
            own = bundle_materials(own, [(p.matter, materials.get(p.matter, ())) for p in parts[m.code]])
        out.append(replace(m, materials=own, parts=parts.get(m.code, ())))
    return out


def _parse_row(row: dict[str, str | None]) -> tuple[Matter | None, list[str]]:
    problems: list[str] = []
    if None in row:  # more cells than columns
        return None, ["more cells than columns"]
    cell = {c: (row.get(c) or "").strip() for c in COLUMNS}
    for column in COLUMNS:
        if not cell[column]:
            problems.append(f"column '{column}' is empty")
    if problems:
        return None, problems

    code = cell["code"]
    if not _CODE.match(code):
        problems.append(f"code {code!r} must look like SW-001 (letters, '-', 3 digits)")
    field = cell["field"]
    if field not in FIELDS and field != POOL_FIELD:
        problems.append(f"field {field!r} is not one of {', '.join((*FIELDS, POOL_FIELD))}")
    window_kind = _enum(WindowKind, cell["window_kind"], "window_kind", problems)
    case_type = _enum(CaseType, cell["case_type"], "case_type", problems)
    promised = _days(cell["promised_working_days"], "promised_working_days", problems)
    statutory = _days(cell["statutory_working_days"], "statutory_working_days", problems)
    one_window = _YES_NO.get(cell["one_window"].lower())
    if one_window is None:
        problems.append(f"one_window {cell['one_window']!r} must be yes or no")
    queue = cell["queue"]
    if not _QUEUE.match(queue):
        problems.append(f"queue {queue!r} must be one capital letter")

    if promised is not None and statutory is not None and promised > statutory:
        problems.append(
            f"promised {promised} working days exceed the statutory {statutory} (承诺时限 ≤ 法定时限)"
        )
    if case_type is not None and promised is not None:
        if case_type is CaseType.INSTANT and promised != 0:
            problems.append(f"a 即办件 is promised 0 working days, not {promised}")
        if case_type is CaseType.PROMISED and promised == 0:
            problems.append("a 承诺件 is promised at least 1 working day (0 days means 即办件)")
    if window_kind is not None and (window_kind is WindowKind.GENERAL) != (field == POOL_FIELD):
        problems.append(
            f"window_kind 无差别 goes with field {POOL_FIELD} and only with it "
            f"(got {window_kind.value} / {field})"
        )
    if problems:
        return None, problems
    assert window_kind and case_type and promised is not None and statutory is not None
    assert one_window is not None
    return (
        Matter(
            code=code,
            name=cell["name"],
            department=cell["department"],
            field=field,
            window_kind=window_kind,
            case_type=case_type,
            promised_working_days=promised,
            statutory_working_days=statutory,
            one_window=one_window,
            queue=queue,
        ),
        [],
    )


def _enum(kind: type[_E], text: str, column: str, problems: list[str]) -> _E | None:
    try:
        return kind(text)
    except ValueError:
        problems.append(f"{column} {text!r} is not one of {', '.join(k.value for k in kind)}")
        return None


def _days(text: str, column: str, problems: list[str]) -> int | None:
    if not (text.isascii() and text.isdigit()):
        problems.append(f"{column} {text!r} must be a whole number of working days (0 or more)")
        return None
    return int(text)
