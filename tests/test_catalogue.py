"""The materials (材料清单) and the 一件事 bundles of the catalogue: the shipped files and the
loader's checks (one error listing every problem with its file and line)."""

from __future__ import annotations

from pathlib import Path

import pytest

from queue_server.catalogue import FORMS
from queue_server.matters import WindowKind, load_matters

MATTERS = {m.code: m for m in load_matters()}
HEADER = (
    "code,name,department,field,window_kind,case_type,promised_working_days,"
    "statutory_working_days,one_window,queue"
)
ROWS = (
    "SS-003,有限责任公司设立登记,市场监管局,商事登记,分领域,承诺件,1,3,yes,J",
    "SS-007,公章刻制备案,公安局（治安）,商事登记,分领域,即办件,0,1,yes,J",
    "SW-001,新办纳税人套餐式服务,税务局,税务,分领域,即办件,0,1,yes,B",
    "SS-008,企业开办一件事,市场监管局,商事登记,专窗,承诺件,1,3,no,M",
)
MATERIALS = (
    "matter,material,form,copies,deferrable,stand_in",
    "SS-003,公司章程,原件,1,no,",
    "SS-003,住所使用证明,复印件,1,yes,",
    "SS-007,营业执照,复印件,1,no,SS-003",
    "SS-007,公章刻制备案表,原件,1,no,",
    "SW-001,营业执照,复印件,1,no,SS-003",
    "SW-001,法定代表人身份证件,原件,1,no,",
    "SS-008,企业开办一件事申请表,原件,1,no,",
)
BUNDLES = (
    "bundle,part,share_working_days,after",
    "SS-008,SS-003,1,",
    "SS-008,SS-007,0,SS-003",
    "SS-008,SW-001,0,SS-003",
)


def folder(
    tmp_path: Path, materials: tuple[str, ...] = MATERIALS, bundles: tuple[str, ...] = BUNDLES
) -> Path:
    (tmp_path / "matters.csv").write_text("\n".join((HEADER, *ROWS)) + "\n", encoding="utf-8")
    (tmp_path / "materials.csv").write_text("\n".join(materials) + "\n", encoding="utf-8")
    (tmp_path / "bundles.csv").write_text("\n".join(bundles) + "\n", encoding="utf-8")
    return tmp_path / "matters.csv"


def test_every_shipped_matter_lists_its_materials() -> None:
    for m in MATTERS.values():
        assert m.materials, m.code
        assert all(x.form in FORMS and x.copies >= 1 for x in m.materials), m.code
        assert len(m.materials_version) == 12


def test_the_shipped_bundles_are_the_four_of_the_catalogue() -> None:
    bundles = {code for code, m in MATTERS.items() if m.is_bundle}
    assert bundles == {"GA-008", "SB-006", "BDC-008", "SS-008"}
    assert all(MATTERS[b].window_kind is WindowKind.SPECIAL for b in bundles)
    for b in bundles:
        for p in MATTERS[b].parts:
            assert not MATTERS[p.matter].is_bundle and set(p.after) <= {q.matter for q in MATTERS[b].parts}


def test_a_good_folder_loads_with_the_bundle_list_merged(tmp_path: Path) -> None:
    matters = {m.code: m for m in load_matters(folder(tmp_path))}
    bundle = matters["SS-008"]
    assert [(p.matter, p.share_working_days, p.after) for p in bundle.parts] == [
        ("SS-003", 1, ()),
        ("SS-007", 0, ("SS-003",)),
        ("SW-001", 0, ("SS-003",)),
    ]
    # 一表申请: once each, no 营业执照 (SS-003 makes it), no part's own form
    assert [m.name for m in bundle.materials] == [
        "企业开办一件事申请表",
        "公司章程",
        "住所使用证明",
        "法定代表人身份证件",
    ]
    assert matters["SS-003"].materials[1].deferrable is True


def test_a_changed_list_changes_the_version(tmp_path: Path) -> None:
    before = {m.code: m.materials_version for m in load_matters(folder(tmp_path))}
    after = {
        m.code: m.materials_version
        for m in load_matters(
            folder(tmp_path, MATERIALS[:2] + ("SS-003,住所使用证明,原件,1,yes,",) + MATERIALS[3:])
        )
    }
    assert before["SS-003"] != after["SS-003"] and before["SW-001"] == after["SW-001"]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("XX-001,表,原件,1,no,", "matter XX-001 is not in the catalogue"),
        ("SS-003,表,扫描件,1,no,", "form '扫描件' is not one of"),
        ("SS-003,表,原件,0,no,", "copies '0' must be a whole number, at least 1"),
        ("SS-003,表,原件,1,maybe,", "deferrable 'maybe' must be yes or no"),
        ("SS-003,表,原件,1,no,XX-009", "stand_in XX-009 is not a matter of the catalogue"),
        ("SS-003,表,原件,1,no,SS-003", "a matter's own result cannot stand in"),
        ("SS-003,公司章程,原件,1,no,", "material 公司章程 of SS-003 already listed on line 2"),
        ("SS-003,,原件,1,no,", "column 'material' is empty"),
    ],
)
def test_bad_material_rows_are_reported_with_their_line(tmp_path: Path, line: str, message: str) -> None:
    with pytest.raises(ValueError) as info:
        load_matters(folder(tmp_path, (*MATERIALS, line)))
    assert f"materials.csv:{len(MATERIALS) + 1}: {message}" in str(info.value)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("SS-003,SW-001,0,", "bundle SS-003 must be a 专窗 matter"),
        ("SS-008,XX-001,0,", "part XX-001 is not in the catalogue"),
        ("SS-008,SS-008,0,", "bundle SS-008 cannot be its own part"),
        ("SS-008,SS-003,1,", "part SS-003 is listed twice in bundle SS-008"),
    ],
)
def test_bad_bundle_rows_are_reported_with_their_line(tmp_path: Path, line: str, message: str) -> None:
    with pytest.raises(ValueError) as info:
        load_matters(folder(tmp_path, bundles=(*BUNDLES, line)))
    assert f"bundles.csv:{len(BUNDLES) + 1}: {message}" in str(info.value)


@pytest.mark.parametrize(
    ("bundles", "message"),
    [
        (
            ("SS-008,SS-003,2,", "SS-008,SS-007,0,SS-003"),
            "need 2 working days in order, more than its promised 1",
        ),
        (("SS-008,SS-003,0,SS-007", "SS-008,SS-007,0,SS-003"), "has a cycle"),
        (("SS-008,SS-003,1,", "SS-008,SS-007,0,SW-001"), "comes after SW-001, which is not a part of it"),
        (("SS-008,SS-007,0,", "SS-008,SW-001,1,"), "promises 1 working days, more than its parts' sum 0"),
    ],
)
def test_a_bundle_that_cannot_keep_its_promise_is_refused(
    tmp_path: Path, bundles: tuple[str, ...], message: str
) -> None:
    with pytest.raises(
        ValueError, match="bundles.csv:2: .*" + message.replace("(", r"\(").replace(")", r"\)")
    ):
        load_matters(folder(tmp_path, bundles=(BUNDLES[0], *bundles)))


def test_every_problem_of_the_three_files_in_one_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError) as info:
        load_matters(
            folder(
                tmp_path,
                (*MATERIALS, "XX-001,表,原件,1,no,", "SS-003,表,扫描件,1,no,"),
                (*BUNDLES, "SS-008,XX-001,0,"),
            )
        )
    text = str(info.value)
    assert (
        text.count("\n  ") == 3
        and "materials.csv:9" in text
        and "materials.csv:10" in text
        and "bundles.csv:5" in text
    )


def test_a_matter_without_materials_is_named(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no materials listed for SS-008"):
        load_matters(folder(tmp_path, MATERIALS[:-1]))
