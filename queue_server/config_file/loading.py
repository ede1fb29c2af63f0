"""Read a hall config file into a ``HallConfig``: file, encoding and TOML syntax problems here,
the document's own problems from ``validation``."""

from __future__ import annotations

import dataclasses
import re
import tomllib
from pathlib import Path

from queue_server.hall.config import HallConfig

from .problems import ConfigError, ConfigProblem
from .validation import parse_hall_config


def load_hall_config(path: Path | str) -> HallConfig:
    """Read and check a hall config file; raise ``ConfigError`` listing every problem."""
    config, problems = read_config(Path(path))
    if config is None:
        raise ConfigError(problems)
    return config


def read_config(path: Path) -> tuple[HallConfig | None, list[ConfigProblem]]:
    """The config in the file at ``path`` (None on any problem) and every problem, with the file
    name set on each."""
    name = str(path)

    def fail(message: str, line: int | None = None) -> tuple[None, list[ConfigProblem]]:
        return None, [ConfigProblem(path="", line=line, message=message, file=name)]

    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return fail("file not found")
    except IsADirectoryError:
        return fail("is a directory, not a config file")
    except OSError as exc:
        return fail(f"cannot read the file: {exc.strerror or exc}")
    try:
        text = raw.decode("utf-8-sig")  # tolerate the BOM some Windows editors add
    except UnicodeDecodeError as exc:
        return fail("the file is not valid UTF-8", raw[: exc.start].count(b"\n") + 1)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        match = re.search(r"\s*\(at line (\d+), column (\d+)\)\s*$", message)
        if match:
            message = f"TOML syntax error: {message[: match.start()]} (column {match[2]})"
            return fail(message, int(match[1]))
        return fail(f"TOML syntax error: {message}", text.count("\n") + 1)
    config, problems = parse_hall_config(data, source_text=text)
    return config, [dataclasses.replace(p, file=name) for p in problems]
