"""The matter catalogue: the shipped data and the loader's checks."""

from __future__ import annotations

from collections import Counter
from dataclasses import fields
from pathlib import Path

import pytest

from queue_server.matters import (
    COLUMNS,
    DEFAULT_PATH,
    FIELDS,
    POOL_FIELD,
    CaseType,
    Matter,
    WindowKind,
    load_matters,
)

QUEUE_OF_FIELD = {
    POOL_FIELD: "A",
    "税务": "B",
    "公安": "C",
    "社保": "D",
    "医保": "E",
    "不动产登记": "F",
    "市政公用": "G",
    "婚姻登记": "H",
    "商事登记": "J",
}

MATTERS = load_matters()

# --------------------------------------------------------------------------- shipped data


def test_default_path_is_the_repo_catalogue() -> None:
    assert Path(__file__).resolve().parent.parent / "data" / "matters" / "matters.csv" == DEFAULT_PATH
    assert (DEFAULT_PATH.parent / "README.md").is_file()


def test_size_and_unique_codes() -> None:
    assert 55 <= len(MATTERS) <= 75  # with the component matters of the 一件事 bundles
    codes = Counter(m.code for m in MATTERS)
    assert [c for c, n in codes.items() if n > 1] == []
    names = Counter(m.name for m in MATTERS)
    assert [c for c, n in names.items() if n > 1] == []


def test_every_field_present() -> None:
    for matter in MATTERS:
        for f in fields(Matter):
            value = getattr(matter, f.name)
            assert value is not None and value != "", (matter.code, f.name)


def test_time_limits() -> None:
    for m in MATTERS:
        assert 0 <= m.promised_working_days <= m.statutory_working_days, m.code
        assert (m.case_type is CaseType.INSTANT) == (m.promised_working_days == 0), m.code
        assert m.is_instant == (m.case_type is CaseType.INSTANT)


def test_all_fields_and_the_pool_are_covered() -> None:
    present = Counter(m.field for m in MATTERS)
    for field in FIELDS:
        assert present[field] >= 3, field
    assert present[POOL_FIELD] >= 10
    pool_departments = {m.department for m in MATTERS if m.field == POOL_FIELD}
    assert len(pool_departments) >= 8


def test_queues_of_the_demo_hall() -> None:
    for m in MATTERS:
        if m.window_kind is WindowKind.SPECIAL:
            assert m.queue == "M", m.code  # 一件事一次办·跨省通办
        else:
            assert m.queue == QUEUE_OF_FIELD[m.field], m.code
        if m.window_kind is WindowKind.GENERAL:
            assert m.queue == "A", m.code


def test_one_window_ratio_meets_the_goal() -> None:
    assert sum(m.one_window for m in MATTERS) / len(MATTERS) >= 0.70
    for m in MATTERS:
        assert m.one_window == (m.window_kind is not WindowKind.SPECIAL), m.code


def test_instant_and_promised_matters_both_exist() -> None:
    kinds = Counter(m.case_type for m in MATTERS)
    assert kinds[CaseType.INSTANT] >= 15 and kinds[CaseType.PROMISED] >= 15


# --------------------------------------------------------------------------- loader

HEADER = ",".join(COLUMNS)
GOOD = "SS-001,个体工商户设立登记,市场监管局,商事登记,分领域,即办件,0,3,yes,J"


def write(tmp_path: Path, *lines: str, bom: bool = False) -> Path:
    path = tmp_path / "matters.csv"
    text = "\n".join(lines) + "\n"
    path.write_bytes(("\ufeff" if bom else "").encode() + text.encode("utf-8"))
    return path


def test_loads_a_good_file_with_bom(tmp_path: Path) -> None:
    [matter] = load_matters(write(tmp_path, HEADER, GOOD, bom=True))
    assert matter == Matter(
        code="SS-001",
        name="个体工商户设立登记",
        department="市场监管局",
        field="商事登记",
        window_kind=WindowKind.FIELD,
        case_type=CaseType.INSTANT,
        promised_working_days=0,
        statutory_working_days=3,
        one_window=True,
        queue="J",
    )


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("SS-002,公司变更登记,市场监管局,商事登记,分领域,承诺件,5,3,yes,J", "exceed the statutory"),
        ("SS-002,公司变更登记,市场监管局,商事登记,分领域,即办件,1,3,yes,J", "即办件 is promised 0"),
        (
            "SS-002,公司变更登记,市场监管局,商事登记,分领域,承诺件,0,3,yes,J",
            "承诺件 is promised at least 1",
        ),
        ("SS-002,公司变更登记,市场监管局,商事登记,分领域,即办,0,3,yes,J", "case_type '即办'"),
        ("SS-002,公司变更登记,市场监管局,商事,分领域,即办件,0,3,yes,J", "field '商事'"),
        ("SS-002,公司变更登记,市场监管局,商事登记,综合,即办件,0,3,yes,J", "window_kind '综合'"),
        (
            "SS-002,公司变更登记,市场监管局,商事登记,无差别,即办件,0,3,yes,A",
            "无差别 goes with field",
        ),
        ("SS-002,公司变更登记,市场监管局,商事登记,分领域,即办件,0,-3,yes,J", "whole number"),
        ("SS-002,公司变更登记,市场监管局,商事登记,分领域,即办件,0,3,maybe,J", "yes or no"),
        ("SS-002,公司变更登记,市场监管局,商事登记,分领域,即办件,0,3,yes,jj", "one capital letter"),
        ("ss2,公司变更登记,市场监管局,商事登记,分领域,即办件,0,3,yes,J", "must look like SW-001"),
        ("SS-002,,市场监管局,商事登记,分领域,即办件,0,3,yes,J", "column 'name' is empty"),
        ("SS-002,公司变更登记,市场监管局,商事登记,分领域,即办件,0,3,yes,J,extra", "more cells"),
        (GOOD, "code SS-001 already used on line 2"),
    ],
)
def test_bad_rows_are_reported_with_their_line(tmp_path: Path, row: str, message: str) -> None:
    path = write(tmp_path, HEADER, GOOD, row)
    with pytest.raises(ValueError, match=message) as err:
        load_matters(path)
    assert f"{path}:3:" in str(err.value)


def test_every_bad_row_is_reported(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        HEADER,
        "SS-002,公司变更登记,市场监管局,商事登记,分领域,承诺件,5,3,yes,J",
        "SS-003,公司注销登记,市场监管局,商事登记,分领域,即办件,2,3,yes,J",
    )
    with pytest.raises(ValueError) as err:
        load_matters(path)
    assert f"{path}:2:" in str(err.value) and f"{path}:3:" in str(err.value)


def test_header_must_have_the_columns(tmp_path: Path) -> None:
    header = HEADER.replace(",queue", ",queue_code")
    with pytest.raises(ValueError, match="missing: queue; unknown: queue_code"):
        load_matters(write(tmp_path, header, GOOD))


def test_empty_or_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no rows"):
        load_matters(write(tmp_path, HEADER))
    with pytest.raises(ValueError, match="cannot read"):
        load_matters(tmp_path / "nope.csv")
