"""No import cycle in ``queue_server/server/`` (nor ``store/``): every import counts, also
those under ``if TYPE_CHECKING:`` and inside functions."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "queue_server"


def module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    """Modules of queue_server that ``path`` imports (``from . import x`` counts as ``.x``)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            out.add(target)
            out.update(f"{target}.{a.name}" for a in node.names)
    return {m for m in out if m.startswith("queue_server")}


def graph(folder: str) -> dict[str, set[str]]:
    files = sorted((PACKAGE / folder).rglob("*.py"))
    names = {module_name(f) for f in files}
    return {module_name(f): {m for m in imports_of(f) if m in names} - {module_name(f)} for f in files}


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    found: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(n: str) -> None:
        state[n] = 1
        stack.append(n)
        for m in sorted(g.get(n, ())):
            if state.get(m) == 1:
                found.append([*stack[stack.index(m) :], m])
            elif m not in state:
                visit(m)
        stack.pop()
        state[n] = 2

    for n in sorted(g):
        if n not in state:
            visit(n)
    return found


def test_the_walker_sees_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_walker_reads_relative_imports():
    g = graph("server")
    assert "queue_server.server.registry" in g["queue_server.server.app"]
    assert "queue_server.server.writer" in g["queue_server.server.context"]


@pytest.mark.parametrize("folder", ["server", "store"])
def test_no_import_cycle(folder: str):
    assert cycles(graph(folder)) == []


def test_http_does_not_import_the_app():
    assert "queue_server.server.app" not in graph("server")["queue_server.server.http"]
