"""``hallops dashboard``: registered in the CLI, refuses a missing database, and runs
Streamlit headless without usage statistics."""

from __future__ import annotations

from pathlib import Path

from dashboard import cli_dashboard
from queue_server.cli import build_parser, main


def test_registered_with_its_options() -> None:
    args = build_parser().parse_args(["dashboard", "--db", "x.db", "--port", "8600", "--config", "c.toml"])
    assert args.func is cli_dashboard.cmd_dashboard
    assert (args.db, args.port, args.config, args.host) == ("x.db", 8600, ["c.toml"], "127.0.0.1")


def test_missing_database(tmp_path: Path, capsys) -> None:
    assert main(["dashboard", "--db", str(tmp_path / "none.db")]) == 1
    assert "database not found" in capsys.readouterr().err


def test_streamlit_command_line() -> None:
    argv = cli_dashboard.streamlit_argv(cli_dashboard.APP, host="127.0.0.1", port=8600)
    joined = " ".join(argv)
    assert argv[1:4] == ["-m", "streamlit", "run"] and argv[4].endswith("dashboard/streamlit_app.py")
    assert "--server.headless true" in joined and "--browser.gatherUsageStats false" in joined
    assert "--server.port 8600" in joined and "--server.address 127.0.0.1" in joined


def test_cli_module_stays_light() -> None:
    """``hallops --help`` must not pay for Streamlit, DuckDB or pandas."""
    import subprocess
    import sys

    code = (
        "import sys, dashboard.cli_dashboard; "
        "print(sorted(m for m in ('streamlit', 'duckdb', 'pandas') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
