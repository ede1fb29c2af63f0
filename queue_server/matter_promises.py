"""The catalogue's promises (``data/matters/promises.csv``): per 政务服务事项, whether it is
hosted in the hall (进驻), can be done online (网上可办) and how many visits it promises
(最多跑一次 / 零跑动) — the figures of seeds 000, 002, 003, 004.

One row per matter of the 事项目录: the hall's matters (``matters.csv``) and the ones it does
not host (``in_hall = no``: 涉密, 场地特殊 ...), so 进驻比例 has its denominator. A bad file
raises one ``ValueError`` listing every problem with its line.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "data" / "matters" / "promises.csv"
COLUMNS = ("code", "name", "in_hall", "online", "visit_promise")
VISIT_PROMISES = {"最多跑一次": 1, "零跑动": 0}  # the visits allowed; "" no promise
_CODE = re.compile(r"^[A-Z]{2,4}-\d{3}$")
_YES_NO = {"yes": True, "no": False}


@dataclass(frozen=True, kw_only=True)
class MatterPromise:
    code: str
    name: str
    in_hall: bool  # 进驻综合性实体政务大厅
    online: bool  # 网上可办
    visit_promise: str  # 最多跑一次 / 零跑动 / ""

    @property
    def max_visits(self) -> int | None:
        """Visits to the hall a case may take within the promise. A 零跑动 matter is promised
        no visit when done online; a case the citizen brought to the hall is held to one."""
        if not self.visit_promise:
            return None
        return max(VISIT_PROMISES[self.visit_promise], 1)


def load_promises(
    path: Path | None = None, *, hall_codes: Iterable[str] | None = None
) -> list[MatterPromise]:
    """Read and check the file; with ``hall_codes`` (the codes of ``matters.csv``) also check
    every hall matter has its row and is ``in_hall = yes``."""
    path = Path(path) if path is not None else DEFAULT_PATH
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            header = tuple(reader.fieldnames or ())
            if sorted(header) != sorted(COLUMNS):
                raise ValueError(f"{path}: columns must be {', '.join(COLUMNS)} (got {', '.join(header)})")
            rows = [(reader.line_num, row) for row in reader]
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: cannot read the promises: {exc}") from exc
    out: list[MatterPromise] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for line, row in rows:
        if None in row:
            problems.append(f"{path}:{line}: more cells than columns")
            continue
        cell = {c: (row.get(c) or "").strip() for c in COLUMNS}
        bad = []
        if not _CODE.match(cell["code"]):
            bad.append(f"code {cell['code']!r} must look like SW-001")
        elif cell["code"] in seen:
            bad.append(f"code {cell['code']} already used on line {seen[cell['code']]}")
        else:
            seen[cell["code"]] = line
        if not cell["name"]:
            bad.append("column 'name' is empty")
        for col in ("in_hall", "online"):
            if cell[col].lower() not in _YES_NO:
                bad.append(f"{col} {cell[col]!r} must be yes or no")
        if cell["visit_promise"] and cell["visit_promise"] not in VISIT_PROMISES:
            bad.append(
                f"visit_promise {cell['visit_promise']!r} is not one of {', '.join(VISIT_PROMISES)} or empty"
            )
        if bad:
            problems += [f"{path}:{line}: {p}" for p in bad]
            continue
        out.append(
            MatterPromise(
                code=cell["code"],
                name=cell["name"],
                in_hall=_YES_NO[cell["in_hall"].lower()],
                online=_YES_NO[cell["online"].lower()],
                visit_promise=cell["visit_promise"],
            )
        )
    if hall_codes is not None:
        by_code = {p.code: p for p in out}
        for code in hall_codes:
            if code not in seen:
                problems.append(f"{path}: hall matter {code} (matters.csv) has no row")
            elif code in by_code and not by_code[code].in_hall:
                problems.append(
                    f"{path}:{seen[code]}: {code} is a hall matter (matters.csv): in_hall must be yes"
                )
    if problems:
        raise ValueError("invalid matter promises:\n  " + "\n  ".join(problems))
    return out
