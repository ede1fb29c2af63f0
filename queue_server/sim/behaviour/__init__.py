"""How citizens and staff behave in the simulator: the parameters (``profile``)."""
