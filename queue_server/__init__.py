"""HallOps queue server: tickets, windows, cases and ratings of a government service hall."""

__version__ = "0.1.0"
