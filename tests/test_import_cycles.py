"""No import cycles in ``queue_server`` or ``dashboard``: every import counts, also the ones
inside functions and under ``if TYPE_CHECKING:`` (a cycle hidden there is still a cycle of the
design)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("queue_server", "dashboard")


def module_files() -> dict[str, Path]:
    """Dotted module name -> file, for every module of the packages."""
    out: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join(parts)] = path
    return out


def imported_modules(path: Path, module: str, modules: set[str]) -> set[str]:
    """The modules of the packages that the file imports, anywhere in it.

    ``from .x import y`` imports ``pkg.x.y`` when that is a module, else ``pkg.x``; relative
    imports are resolved against the file's package.
    """
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*parts, node.module] if node.module else parts)
            else:
                base = node.module or ""
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.add(sub if sub in modules else base)
    return found & modules


def import_graph() -> dict[str, set[str]]:
    """Module -> the modules of the packages it imports.

    Importing ``a.b.c`` runs ``a/__init__`` and ``a/b/__init__`` too, but those edges are
    left out: a package's ``__init__`` re-exporting its own modules is not a cycle of design.
    """
    files = module_files()
    return {module: imported_modules(path, module, set(files)) - {module} for module, path in files.items()}


def knots(graph: dict[str, set[str]]) -> list[set[str]]:
    """The groups of modules that import each other (strongly connected components with more
    than one module, by Tarjan's algorithm), ordered by their smallest module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                components.append(component)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(components, key=min)


def one_cycle(graph: dict[str, set[str]], component: set[str]) -> list[str]:
    """A cycle through the smallest module of the component: a shortest path back to it."""
    start = min(component)
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        nxt = []
        for v in frontier:
            for w in sorted(graph[v] & component):
                if w == start:
                    return [*paths[v], start]
                if w not in paths:
                    paths[w] = [*paths[v], w]
                    nxt.append(w)
        frontier = nxt
    raise AssertionError(f"no cycle in a strongly connected component {component}")


def test_the_walker_finds_modules_and_imports_inside_functions() -> None:
    graph = import_graph()
    assert "queue_server.config_file.validation" in graph
    assert "dashboard.streamlit_app" in graph
    # cli.py imports its subcommands inside functions; those edges must be seen
    assert "queue_server.passwords" in graph["queue_server.cli"]


def describe(graph: dict[str, set[str]], knot: set[str]) -> str:
    line = " -> ".join(one_cycle(graph, knot))
    if len(knot) > len(one_cycle(graph, knot)) - 1:
        line += f" (modules in this knot: {', '.join(sorted(knot))})"
    return line


def test_cycles_are_found_and_named() -> None:
    graph = {"a": {"b"}, "b": {"c", "x"}, "c": {"a"}, "d": {"a"}, "e": {"e2"}, "e2": {"e"}, "x": {"b"}}
    assert knots(graph) == [{"a", "b", "c", "x"}, {"e", "e2"}]
    assert [describe(graph, k) for k in knots(graph)] == [
        "a -> b -> c -> a (modules in this knot: a, b, c, x)",
        "e -> e2 -> e",
    ]
    assert knots({"a": {"b"}, "b": set(), "c": {"a", "b"}}) == []


def test_no_import_cycles() -> None:
    graph = import_graph()
    found = [describe(graph, k) for k in knots(graph)]
    assert not found, "import cycles:\n" + "\n".join(found)
