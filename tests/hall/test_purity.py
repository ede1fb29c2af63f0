"""The hall core stays pure: no I/O, no clock, no randomness, no asyncio (queue_server/hall/).

Every module of the package is read as text and parsed with ``ast``; the checker itself is
tested on a module that breaks every rule, so a blind checker cannot pass.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

import queue_server.hall

HALL_DIR = Path(queue_server.hall.__file__).resolve().parent
MODULES = sorted(HALL_DIR.rglob("*.py"))

FORBIDDEN_IMPORTS = frozenset(
    {
        "asyncio",
        "websockets",
        "aiosqlite",
        "sqlite3",
        "socket",
        "os",
        "pathlib",
        "io",
        "time",
        "random",
        "subprocess",
        "urllib",
        "http",
        "requests",
    }
)

# calls that read a clock or the file system, looked for in the source text
FORBIDDEN_CALLS = {
    "datetime.now": re.compile(r"\bdatetime\s*\.\s*(now|utcnow|today)\s*\("),
    "date.today": re.compile(r"\bdate\s*\.\s*today\s*\("),
    "time.time": re.compile(r"\btime\s*\.\s*(time|time_ns|monotonic|perf_counter)\s*\("),
    "open(": re.compile(r"(?<![\w.])open\s*\("),
}


def problems(source: str, name: str = "<module>") -> list[str]:
    found = []
    tree = ast.parse(source, filename=name)
    for node in ast.walk(tree):
        mods: list[str] = []
        if isinstance(node, ast.Import):
            mods = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            mods = [node.module]
        for mod in mods:
            if mod.split(".")[0] in FORBIDDEN_IMPORTS:
                found.append(f"{name}:{node.lineno}: imports {mod}")
        if isinstance(node, ast.Call):
            f = node.func
            if isinstance(f, ast.Name) and f.id in ("open", "__import__"):
                found.append(f"{name}:{node.lineno}: calls {f.id}()")
            if (
                isinstance(f, ast.Attribute)
                and f.attr in ("now", "utcnow", "today")
                and isinstance(f.value, ast.Name)
                and f.value.id in ("datetime", "date")
            ):
                found.append(f"{name}:{node.lineno}: calls {f.value.id}.{f.attr}()")
            if isinstance(f, ast.Attribute) and f.attr == "import_module":
                found.append(f"{name}:{node.lineno}: imports dynamically")
    for label, pattern in FORBIDDEN_CALLS.items():
        for m in pattern.finditer(source):
            line = source.count("\n", 0, m.start()) + 1
            found.append(f"{name}:{line}: source text calls {label}")
    return found


def test_the_package_has_the_core_modules():
    names = {p.stem for p in MODULES} | {p.parent.name for p in MODULES if p.stem == "__init__"}
    assert {
        "commands",
        "events",
        "hall",
        "scheduling",
        "estimate",
        "states",
        "model",
        "config",
        "masking",
    } <= names


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_module_is_pure(path):
    assert problems(path.read_text(encoding="utf-8"), path.name) == []


def test_the_checker_catches_every_kind_of_impurity():
    bad = "\n".join(
        [
            "import asyncio",
            "import os.path",
            "from pathlib import Path",
            "from time import sleep",
            "import random as rnd",
            "from urllib.request import urlopen",
            "import http.client, requests, websockets, aiosqlite, sqlite3, socket, io, subprocess",
            "from datetime import datetime, date",
            "x = datetime.now()",
            "y = date.today()",
            "z = time.time()",
            "f = open('x')",
        ]
    )
    found = "\n".join(problems(bad))
    for mod in FORBIDDEN_IMPORTS:
        assert f"imports {mod}" in found, mod
    for label in ("datetime.now", "date.today", "time.time", "open("):
        assert f"source text calls {label}" in found, label


def test_the_checker_lets_pure_code_through():
    ok = "\n".join(
        [
            "from datetime import datetime, timedelta",
            "from zoneinfo import ZoneInfo",
            "def _open(h): return h.is_open(1) or _queue_open(2)",
            "def f(now: datetime): return now + timedelta(minutes=1)",
        ]
    )
    assert problems(ok) == []


def test_importing_the_core_loads_no_io_framework():
    code = (
        "import sys, pkgutil, importlib, queue_server.hall as h\n"
        "for m in pkgutil.iter_modules(h.__path__): importlib.import_module('queue_server.hall.' + m.name)\n"
        "print(' '.join(sorted(n for n in ('asyncio', 'websockets', 'aiosqlite', 'sqlite3', 'requests')"
        " if n in sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=HALL_DIR.parents[1]
    )
    assert out.stdout.strip() == ""
