"""docs/protocol.md is the contract of the websocket protocol: every request type, push type,
error code and event type the server knows is documented there, in its own section, and
nothing is documented that the server does not know."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from queue_server.hall.events import EventType
from queue_server.server.protocol import ERROR_CODES, PUSH_TYPES
from queue_server.server.registry import REQUESTS

DOC = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"
TEXT = DOC.read_text(encoding="utf-8")
NAME = re.compile(r"`([a-z][a-z0-9_]*)`")


def section(title: str) -> str:
    """The text under ``## title`` up to the next ``## `` heading."""
    match = re.search(rf"^## {re.escape(title)}\s*$(.*?)(?=^## |\Z)", TEXT, re.MULTILINE | re.DOTALL)
    assert match, f"docs/protocol.md has no '## {title}' section"
    return match.group(1)


def headed(text: str) -> set[str]:
    """Names in backticks in the ``### `` headings of ``text``."""
    return {n for line in text.splitlines() if line.startswith("### ") for n in NAME.findall(line)}


def first_column(text: str) -> set[str]:
    """Names in backticks in the first cell of the table rows of ``text``."""
    return {
        n for line in text.splitlines() if line.startswith("| ") for n in NAME.findall(line.split("|")[1])
    }


REQUEST_DOCS = headed(section("Requests"))
PUSH_DOCS = headed(section("Push messages"))
ERROR_DOCS = first_column(section("Error codes"))
EVENT_DOCS = first_column(section("Push messages").split("Event types", 1)[-1])


def test_the_sections_were_found():
    # guards the parsing above: an empty set would make every test below vacuous
    assert {"ping", "issue_ticket", "call_next"} <= REQUEST_DOCS
    assert {"snapshot", "event"} <= PUSH_DOCS
    assert {"malformed_json", "queue_empty"} <= ERROR_DOCS
    assert {"ticket_issued", "window_paused", "staff_logged_out"} <= EVENT_DOCS


@pytest.mark.parametrize("name", sorted(REQUESTS))
def test_every_request_type_is_documented(name):
    assert name in REQUEST_DOCS, f"request type `{name}` has no '### `{name}`' heading under ## Requests"


@pytest.mark.parametrize("name", sorted(PUSH_TYPES))
def test_every_push_type_is_documented(name):
    assert name in PUSH_DOCS, f"push type `{name}` has no heading under ## Push messages"


@pytest.mark.parametrize("name", sorted(ERROR_CODES))
def test_every_error_code_is_documented(name):
    assert name in ERROR_DOCS, f"error code `{name}` is not a row of the ## Error codes table"


@pytest.mark.parametrize("name", sorted(e.value for e in EventType))
def test_every_event_type_is_documented(name):
    assert name in EVENT_DOCS, f"event type `{name}` is not a row of the event table"


def test_nothing_is_documented_that_the_server_does_not_know():
    assert sorted(REQUEST_DOCS - set(REQUESTS)) == []
    assert sorted(PUSH_DOCS - set(PUSH_TYPES)) == []
    assert sorted(ERROR_DOCS - set(ERROR_CODES)) == []
    assert sorted(EVENT_DOCS - {e.value for e in EventType}) == []
