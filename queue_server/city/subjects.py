"""The NATS subjects of a hall, and what travels on them (docs/city.md).

- ``hallops.<hall>.events``: every committed public event, published by the hall server after
  commit, as ``{"src": <server run id>, "n": <1, 2, 3 ... per run>, "event": <event as screens
  see it>}``. ``src`` changes when another server (a standby, a restart) takes the hall.
- ``hallops.<hall>.snapshot`` (request/reply): ``{"src", "n", "state"}``, the hall's public
  state after event ``n`` of run ``src``.
- ``hallops.<hall>.config`` (request/reply): the hall's public config (``/config.json``) and
  its ``require_display_token``.
- ``hallops.<hall>.auth`` (request/reply): ``{"token_hash"}`` → ``{"role": "display", "name"}``
  for a valid display token of the hall, else ``{"role": null}``. Only the hash travels.
"""

from __future__ import annotations

import re

_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def check_hall(hall: str) -> str:
    if not _TOKEN.match(hall):
        raise ValueError(f"hall id {hall!r} cannot name a NATS subject: use letters, digits, '-' and '_'")
    return hall


def events(hall: str) -> str:
    return f"hallops.{check_hall(hall)}.events"


def snapshot(hall: str) -> str:
    return f"hallops.{check_hall(hall)}.snapshot"


def config(hall: str) -> str:
    return f"hallops.{check_hall(hall)}.config"


def auth(hall: str) -> str:
    return f"hallops.{check_hall(hall)}.auth"
