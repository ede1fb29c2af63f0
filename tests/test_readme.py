"""The README opens with the two commands, and CI runs the second one exactly."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```bash\n(.*?)```", text, flags=re.S)
    return [b.strip() for b in blocks[:2]]


def test_readme_starts_with_two_commands():
    install_and_run, install_and_test = readme_commands()
    assert "python3 -m venv .venv" in install_and_run
    assert install_and_run.endswith(".venv/bin/hallops demo")
    assert "python3 -m venv .venv" in install_and_test
    assert ".venv/bin/pytest" in install_and_test
    assert "chromium" in install_and_test


def test_lint_format_and_types_run_before_the_tests():
    _, install_and_test = readme_commands()
    steps = [s.strip() for s in install_and_test.split("&&")]
    checks = [".venv/bin/ruff check .", ".venv/bin/ruff format --check .", ".venv/bin/mypy"]
    assert steps[-4:] == [*checks, ".venv/bin/pytest"]


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    _, install_and_test = readme_commands()
    assert install_and_test in ci.splitlines()
