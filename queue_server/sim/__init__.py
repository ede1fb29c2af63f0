"""The hall simulator: arrivals, citizen and staff behaviour, and a discrete-event loop that
drives the real hall core (``Hall.handle`` → ``recorder.batch_for`` → ``SqliteStore.commit``),
so a simulated day is stored exactly like a real one.

- ``behaviour.profile``: every model parameter, defaults derived from the hall config;
- ``arrivals``: who arrives when (non-homogeneous Poisson process per queue), with what;
- ``plan``: which window is staffed when, serving what (the config's, or a what-if plan);
- ``engine``: the model of the hall's people and the drivers (in-process and live);
- ``stats``: wait figures from the events;
- ``live``: the websocket client side of ``hallops demo``;
- ``cli_simulate``: ``hallops simulate`` and ``hallops demo``.

Model and parameters: docs/simulator.md.
"""
