"""queue_server.config_file.schema: the keys of the format, all documented."""

from __future__ import annotations

import dataclasses
import re

from queue_server import config_file
from queue_server.hall.config import Rules

from config_samples import ROOT


def test_every_key_is_documented() -> None:
    doc = (ROOT / "docs" / "config.md").read_text(encoding="utf-8")
    keys = [
        *config_file.TOP_KEYS,
        *config_file.HALL_KEYS,
        *config_file.QUEUE_KEYS,
        *config_file.WINDOW_KEYS,
        *config_file.WINDOW_QUEUE_KEYS,
        *config_file.STAFF_KEYS,
        *(f.name for f in dataclasses.fields(Rules)),
    ]
    code_spans = " ".join(re.findall(r"`[^`\n]+`", doc))
    missing = [key for key in keys if not re.search(rf"\b{key}\b", code_spans)]
    assert not missing, f"undocumented config keys: {missing}"
