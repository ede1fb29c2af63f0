"""The hall's clock as stored with the data: the ``meta`` row ``hall_clock``.

Written by the server (at start, every tick, after a jump of the demo's clock, and with
speed 0 when it stops) and by ``hallops simulate`` at its end; read by the dashboard
(``dashboard/hall_clock.py``) and by a resumed demo. The value is JSON::

    {"at": "2026-12-21T09:30:00+08:00", "speed": 60.0, "wall": 1796000000.0}

``at``: the hall's instant (with its offset) when written; ``wall``: the machine's Unix time
then; ``speed``: hall seconds per real second (1.0 real, the demo's ``--speed``, 0 stopped).
"""

from __future__ import annotations

import json
import time
from datetime import datetime

META_KEY = "hall_clock"


def clock_value(at: datetime, speed: float, wall: float | None = None) -> str:
    if at.tzinfo is None:
        raise ValueError("the hall clock is an instant with its offset")
    return json.dumps(
        {"at": at.isoformat(), "speed": float(speed), "wall": time.time() if wall is None else wall}
    )
