"""docs/rules.md: every rule names at least one test, and every test it names exists."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEXT = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
RULE = re.compile(r"^### (R\d+) ", re.MULTILINE)
TEST = re.compile(r"^- Test: `([^`:]+)::([A-Za-z_0-9]+)`", re.MULTILINE)


def rules() -> dict[str, str]:
    parts = RULE.split(TEXT)[1:]
    return dict(zip(parts[0::2], parts[1::2], strict=True))


def test_rules_are_numbered_in_order() -> None:
    names = list(rules())
    assert len(names) >= 15
    assert names == [f"R{i}" for i in range(1, len(names) + 1)]


def test_every_rule_names_a_source_and_a_test() -> None:
    for name, body in rules().items():
        assert TEST.search(body), f"{name} names no test"
        assert ">" in body or "(" in body, f"{name} gives no source"


def test_every_named_test_exists() -> None:
    for name, body in rules().items():
        for path, func in TEST.findall(body):
            file = ROOT / path
            assert file.is_file(), f"{name}: no file {path}"
            tree = ast.parse(file.read_text(encoding="utf-8"))
            defined = {
                n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
            }
            assert func in defined, f"{name}: {path} has no {func}"
