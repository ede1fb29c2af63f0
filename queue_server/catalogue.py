"""The matters' materials (材料清单) and the 一件事 bundles of the catalogue.

``data/matters/materials.csv``: what each matter requires (one row per material);
``data/matters/bundles.csv``: the component matters of each 一件事 bundle, their share of the
bundle's promised days and their order. ``queue_server.matters.load_matters`` reads both when
they sit next to ``matters.csv`` and attaches them to the ``Matter`` values; every problem of
the three files is reported in its one ``ValueError``, with its file and line.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "BUNDLE_COLUMNS",
    "FORMS",
    "MATERIAL_COLUMNS",
    "BundlePart",
    "Material",
    "bundle_materials",
    "materials_version",
    "read_bundles",
    "read_materials",
]

MATERIAL_COLUMNS = ("matter", "material", "form", "copies", "deferrable", "stand_in")
BUNDLE_COLUMNS = ("bundle", "part", "share_working_days", "after")
FORMS = ("原件", "复印件", "原件及复印件", "电子证照")
_YES_NO = {"yes": True, "no": False}
_FORMS_OF_PARTS = (
    "申请表",
    "申请书",
    "登记表",
    "备案表",
    "申报表",
)  # a part's own form: the bundle's 一表 replaces it


@dataclass(frozen=True, kw_only=True)
class Material:
    name: str  # e.g. 营业执照
    form: str  # one of FORMS
    copies: int  # at least 1
    deferrable: bool  # 容缺: may be accepted now and supplied later on a written promise
    stand_in: str = ""  # a matter whose result stands in for it (e.g. SS-003 makes the 营业执照)


@dataclass(frozen=True, kw_only=True)
class BundlePart:
    matter: str  # the component matter's code
    share_working_days: int  # its share of the bundle's promise, from the day it may start
    after: tuple[str, ...] = ()  # parts whose results are its inputs (empty: starts at once)


def materials_version(materials: tuple[Material, ...]) -> str:
    """A short fingerprint of a material list: a 补正 notice is tied to it (一次告知)."""
    text = "\n".join(f"{m.name}|{m.form}|{m.copies}|{int(m.deferrable)}|{m.stand_in}" for m in materials)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def _rows(path: Path, columns: tuple[str, ...], what: str) -> list[tuple[int, dict[str, str]]]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            header = tuple(reader.fieldnames or ())
            missing = [c for c in columns if c not in header]
            extra = [c for c in header if c not in columns]
            if missing or extra:
                raise ValueError(
                    f"{path}: columns must be {', '.join(columns)}"
                    + (f"; missing: {', '.join(missing)}" if missing else "")
                    + (f"; unknown: {', '.join(extra)}" if extra else "")
                )
            rows = []
            for row in reader:
                if None in row:
                    rows.append((reader.line_num, {"__extra__": "1"}))
                    continue
                rows.append((reader.line_num, {c: (row.get(c) or "").strip() for c in columns}))
            return rows
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: cannot read the {what}: {exc}") from exc


def read_materials(path: Path, codes: set[str], problems: list[str]) -> dict[str, tuple[Material, ...]]:
    """Each matter's materials, in file order. Problems are appended as ``file:line: text``."""
    out: dict[str, list[Material]] = {}
    seen: dict[tuple[str, str], int] = {}
    for line, row in _rows(path, MATERIAL_COLUMNS, "materials list"):
        where = f"{path}:{line}"
        if "__extra__" in row:
            problems.append(f"{where}: more cells than columns")
            continue
        bad = [
            f"column '{c}' is empty"
            for c in ("matter", "material", "form", "copies", "deferrable")
            if not row[c]
        ]
        if bad:
            problems += [f"{where}: {b}" for b in bad]
            continue
        code, name = row["matter"], row["material"]
        if code not in codes:
            problems.append(f"{where}: matter {code} is not in the catalogue")
        if row["form"] not in FORMS:
            problems.append(f"{where}: form {row['form']!r} is not one of {', '.join(FORMS)}")
        copies = row["copies"]
        if not (copies.isascii() and copies.isdigit() and int(copies) >= 1):
            problems.append(f"{where}: copies {copies!r} must be a whole number, at least 1")
        deferrable = _YES_NO.get(row["deferrable"].lower())
        if deferrable is None:
            problems.append(f"{where}: deferrable {row['deferrable']!r} must be yes or no")
        stand_in = row["stand_in"]
        if stand_in and stand_in not in codes:
            problems.append(f"{where}: stand_in {stand_in} is not a matter of the catalogue")
        if stand_in == code:
            problems.append(f"{where}: a matter's own result cannot stand in for its material")
        if (code, name) in seen:
            problems.append(f"{where}: material {name} of {code} already listed on line {seen[(code, name)]}")
            continue
        seen[(code, name)] = line
        if deferrable is not None and copies.isdigit() and int(copies) >= 1 and row["form"] in FORMS:
            out.setdefault(code, []).append(
                Material(
                    name=name, form=row["form"], copies=int(copies), deferrable=deferrable, stand_in=stand_in
                )
            )
    missing = sorted(codes - set(out))
    if missing:
        problems.append(f"{path}: no materials listed for {', '.join(missing)} (every matter has its list)")
    return {k: tuple(v) for k, v in out.items()}


def read_bundles(
    path: Path, promised: Mapping[str, int], special: set[str], problems: list[str]
) -> dict[str, tuple[BundlePart, ...]]:
    """Each bundle's parts. ``promised``: every matter's promised days; ``special``: the
    专窗 matters (a bundle is one of them)."""
    out: dict[str, list[BundlePart]] = {}
    lines: dict[str, int] = {}
    for line, row in _rows(path, BUNDLE_COLUMNS, "bundle list"):
        where = f"{path}:{line}"
        if "__extra__" in row:
            problems.append(f"{where}: more cells than columns")
            continue
        bad = [f"column '{c}' is empty" for c in ("bundle", "part", "share_working_days") if not row[c]]
        if bad:
            problems += [f"{where}: {b}" for b in bad]
            continue
        bundle, part, share = row["bundle"], row["part"], row["share_working_days"]
        lines.setdefault(bundle, line)
        ok = True
        if bundle not in special:
            problems.append(f"{where}: bundle {bundle} must be a 专窗 matter of the catalogue")
            ok = False
        if part not in promised:
            problems.append(f"{where}: part {part} is not in the catalogue")
            ok = False
        if part == bundle:
            problems.append(f"{where}: bundle {bundle} cannot be its own part")
            ok = False
        if not (share.isascii() and share.isdigit()):
            problems.append(f"{where}: share_working_days {share!r} must be a whole number (0 or more)")
            ok = False
        after = tuple(a.strip() for a in row["after"].split(";") if a.strip())
        if any(p.matter == part for p in out.get(bundle, [])):
            problems.append(f"{where}: part {part} is listed twice in bundle {bundle}")
            ok = False
        if ok:
            out.setdefault(bundle, []).append(
                BundlePart(matter=part, share_working_days=int(share), after=after)
            )
    for bundle, parts in out.items():
        where = f"{path}:{lines[bundle]}"
        codes = {p.matter for p in parts}
        if set(out) & codes:
            problems.append(f"{where}: bundle {bundle} has a bundle among its parts")
        for p in parts:
            for a in p.after:
                if a not in codes:
                    problems.append(
                        f"{where}: part {p.matter} of {bundle} comes after {a}, which is not a part of it"
                    )
        path_days = _longest_path(parts, problems, where, bundle)
        own = promised.get(bundle, 0)
        if path_days is not None and path_days > own:
            problems.append(
                f"{where}: the parts of {bundle} need {path_days} working days in order, "
                f"more than its promised {own}"
            )
        total = sum(promised.get(p.matter, 0) for p in parts)
        if own > total:
            problems.append(
                f"{where}: bundle {bundle} promises {own} working days, more than its parts' "
                f"sum {total} (一件事 is never slower than the matters one by one)"
            )
    return {k: tuple(v) for k, v in out.items()}


def _longest_path(parts: list[BundlePart], problems: list[str], where: str, bundle: str) -> int | None:
    """The working days the chain of shares needs (the longest path); None on a cycle."""
    by = {p.matter: p for p in parts}
    done: dict[str, int] = {}
    visiting: set[str] = set()

    def days(code: str) -> int | None:
        if code in done:
            return done[code]
        if code in visiting:
            return None
        visiting.add(code)
        before = 0
        for a in by[code].after:
            if a in by:
                d = days(a)
                if d is None:
                    return None
                before = max(before, d)
        visiting.discard(code)
        done[code] = before + by[code].share_working_days
        return done[code]

    best = 0
    for code in by:
        d = days(code)
        if d is None:
            problems.append(f"{where}: the order of the parts of {bundle} has a cycle")
            return None
        best = max(best, d)
    return best


def bundle_materials(
    own: tuple[Material, ...], parts: list[tuple[str, tuple[Material, ...]]]
) -> tuple[Material, ...]:
    """一表申请: the bundle's own materials and its parts', each asked once (by name), leaving
    out what a part of the bundle produces (its result stands in) and the parts' own application
    forms (the bundle's one form replaces them)."""
    inside = {code for code, _ in parts}
    out: dict[str, Material] = {m.name: m for m in own}
    for _, materials in parts:
        for m in materials:
            if m.stand_in in inside or m.name in out or m.name.endswith(_FORMS_OF_PARTS):
                continue
            out[m.name] = m
    return tuple(out.values())
