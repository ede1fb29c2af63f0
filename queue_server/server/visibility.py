"""Who may read what: the one table of personal data per read request and push.

For every read request (and the two pushes, ``snapshot`` and ``event``) the table says which
*audiences* may send it and, for each, how the applicant's ``name``, ``phone`` and
``id_number`` appear in the answer: ``full``, ``masked`` (张*丰, 138****5678) or ``none``
(absent). An audience is a role narrowed by how the sender stands to the object read:

- a device token (``actor.kind == "device"``) never sees personal data beyond a masked name;
- a window sees a case's applicant in full only while it serves the case's ticket (or its
  delivery ticket), or when it accepted the case today; a ticket's applicant only while the
  ticket is at its counter;
- the back office sees cases of its own department in full, other departments masked;
- a manager (a staff login) sees a case's applicant in full, a ticket's masked.

The registry takes the roles of each read request from here (``roles_of``), the reply views
(``replies.ticket_detail``/``case_detail``) apply ``applicant_view``, and
tests/server/test_visibility.py runs every audience against every read and checks the
fields against this table. docs/security.md prints it (checked by a test).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from ..hall.masking import mask_id_number, mask_name, mask_phone
from .context import Viewer

FULL, MASKED, NONE = "full", "masked", "none"
APPLICANT_FIELDS = ("name", "phone", "id_number")

# audience -> its role; a request allowed to one audience of a role is allowed to all of them
AUDIENCES: dict[str, str] = {
    "anonymous": "anonymous",  # the citizen's status page, or any unauthenticated connection
    "display": "display",
    "kiosk": "kiosk",
    "rating_pad": "rating_pad",
    "window_device": "window",  # a window terminal by device token
    "window": "window",  # staff at a window, not serving the object read
    "window_serving": "window",  # staff at the window serving it (a case: or accepted it today)
    "backoffice": "backoffice",  # the back office of another department
    "backoffice_own": "backoffice",  # the back office of the object's department
    "manager_device": "manager",
    "manager": "manager",
}

Levels = tuple[str, str, str]  # name, phone, id_number
_NO_DATA: Levels = (NONE, NONE, NONE)
_MASKED_NAME: Levels = (MASKED, NONE, NONE)
_MASKED: Levels = (MASKED, MASKED, MASKED)
_FULL: Levels = (FULL, FULL, FULL)


def _every(levels: Levels, *roles: str) -> dict[str, Levels]:
    return {a: levels for a, role in AUDIENCES.items() if role in roles}


_AT_THE_WINDOW: dict[str, Levels] = {  # one ticket or case, by how the window stands to it
    "window_device": _MASKED_NAME,
    "window": _MASKED,
    "window_serving": _FULL,
    "manager_device": _MASKED_NAME,
}

# read request (or push) -> audience -> (name, phone, id_number); audiences absent: refused
TABLE: dict[str, dict[str, Levels]] = {
    "get_ticket": {**_AT_THE_WINDOW, "manager": _MASKED},
    "get_case": {**_AT_THE_WINDOW, "backoffice": _MASKED, "backoffice_own": _FULL, "manager": _FULL},
    "list_cases": _every(_MASKED_NAME, "backoffice", "manager"),
    "list_matters": _every(_NO_DATA, "window", "backoffice", "manager"),
    "get_rateable_service": _every(_NO_DATA, "rating_pad"),
    "get_rating": _every(_NO_DATA, "anonymous", "rating_pad"),
    "list_rectifications": _every(_NO_DATA, "backoffice", "manager"),
    # complaints carry the complainant's name and phone (no ID number); another department's
    # back office lists only its own and is refused one of another's (not_your_department)
    "list_complaints": {
        "backoffice": _NO_DATA,
        "backoffice_own": (FULL, FULL, NONE),
        "manager_device": (MASKED, MASKED, NONE),
        "manager": (FULL, FULL, NONE),
    },
    "get_complaint": {
        "backoffice": _NO_DATA,
        "backoffice_own": (FULL, FULL, NONE),
        "manager_device": (MASKED, MASKED, NONE),
        "manager": (FULL, FULL, NONE),
    },
    "snapshot": _every(_MASKED_NAME, *set(AUDIENCES.values())),
    "event": _every(_MASKED_NAME, *set(AUDIENCES.values())),
}
PUSHES = ("snapshot", "event")
READS = tuple(k for k in TABLE if k not in PUSHES)
# command replies that carry a ticket or a case follow the rules of these reads
REPLY_RULES = {"ticket": "get_ticket", "case": "get_case"}


def roles_of(read: str) -> frozenset[str]:
    """The roles that may send the read request ``read``."""
    return frozenset(AUDIENCES[a] for a in TABLE[read])


def audience(viewer: Viewer, *, serving: bool = False, own_department: bool = False) -> str:
    """The audience of ``viewer`` for one object: ``serving`` (the window serves it) and
    ``own_department`` (it belongs to the back office's department)."""
    role = viewer.role
    device = viewer.actor.kind != "staff"
    if role == "window":
        if device:
            return "window_device"
        return "window_serving" if serving and viewer.window is not None else "window"
    if role == "backoffice":
        return "backoffice_own" if own_department else "backoffice"
    if role == "manager":
        return "manager_device" if device else "manager"
    return role


def levels(read: str, aud: str) -> Levels:
    """The applicant levels of ``read`` for ``aud``; an audience not in the table sees nothing."""
    return TABLE[read].get(aud, _NO_DATA)


_MASKS = {"name": mask_name, "phone": mask_phone, "id_number": mask_id_number}


def applicant_view(read: str, aud: str, applicant: Mapping[str, str]) -> dict[str, str]:
    """The applicant (``name``, ``phone``, ``id_number``) as ``aud`` may see it in ``read``."""
    out: dict[str, str] = {}
    for key, level in zip(APPLICANT_FIELDS, levels(read, aud), strict=True):
        raw = applicant.get(key, "") or ""
        if level == FULL:
            out[key] = raw
        elif level == MASKED:
            out[key] = _MASKS[key](raw)
    return out


def accepted_today(accepted_at: datetime | None, now: datetime) -> bool:
    """True when a case was accepted on ``now``'s day (in the hall's zone, as ``now`` is)."""
    return accepted_at is not None and accepted_at.astimezone(now.tzinfo).date() == now.date()


def markdown_table() -> str:
    """The table as docs/security.md prints it."""
    heads = list(AUDIENCES)
    lines = ["| read | " + " | ".join(heads) + " |", "|---|" + "---|" * len(heads)]
    short = {FULL: "F", MASKED: "M", NONE: "-"}
    for read, row in TABLE.items():
        cells = ["".join(short[x] for x in row[a]) if a in row else "refused" for a in heads]
        lines.append(f"| `{read}` | " + " | ".join(cells) + " |")
    return "\n".join(lines)
