"""docs/security.md prints the visibility table as it is in the code, and names a test for
every finding of issue 11 that exists."""

from __future__ import annotations

import re
from pathlib import Path

from queue_server.server import visibility

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")


def test_the_table_in_the_docs_is_the_table_in_the_code() -> None:
    block = re.search(
        r"<!-- visibility table:.*?-->\n(.*?)\n<!-- end of visibility table -->", DOC, re.DOTALL
    )
    assert block, "docs/security.md lost its visibility table markers"
    assert block.group(1) == visibility.markdown_table()


def test_every_test_the_docs_name_exists() -> None:
    named = re.findall(r"`(tests/[\w/]+\.py)(?:::(\w+))?`", DOC)
    assert len(named) >= 7
    for path, test in named:
        source = (ROOT / path).read_text(encoding="utf-8")
        if test:
            assert f"def {test}(" in source, f"{path}::{test}"
    for test in re.findall(r"`::(\w+)`", DOC):
        assert any(f"def {test}(" in (ROOT / p).read_text(encoding="utf-8") for p, _ in named), test
