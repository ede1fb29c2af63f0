"""``hallops check-config FILE``: list every problem of a hall config file."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

from .loading import read_config


def check_config_main(path: Path | str, *, stdout: TextIO | None = None) -> int:
    """``hallops check-config FILE``: print every problem and a summary; 0 when valid."""
    out = sys.stdout if stdout is None else stdout
    path = Path(path)
    config, problems = read_config(path)
    for problem in problems:
        print(problem, file=out)
    if config is not None:
        print(
            f"{path}: OK — {len(config.windows)} windows, {len(config.queues)} queues, "
            f"{len(config.staff)} staff",
            file=out,
        )
        return 0
    file_level = len(problems) == 1 and not problems[0].path and problems[0].line is None
    if not file_level:  # "x.toml: file not found" needs no summary
        n = len(problems)
        print(f"{path}: {n} problem{'' if n == 1 else 's'}", file=out)
    return 1


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``check-config FILE`` on the main CLI's subparsers."""
    parser = subparsers.add_parser(
        "check-config",
        help="check a hall config file and list every problem",
        description=(
            "Check a hall config file (TOML, see docs/config.md). Prints each problem as "
            "FILE:LINE: PATH: MESSAGE and a summary; exit status 0 when the file is valid."
        ),
    )
    parser.add_argument("file", type=Path, help="hall config file, e.g. data/halls/demo.toml")
    parser.set_defaults(func=lambda args: check_config_main(args.file))
    return parser
