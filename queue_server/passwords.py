"""Password hashing for staff accounts (hashlib.scrypt, standard library only).

Stored form, one string, safe to keep in a TOML file::

    scrypt$16384$8$1$<salt, base64>$<hash, base64>

The cost parameters travel with the hash, so they can be raised later without breaking old
hashes. ``verify_password`` only accepts parameters within sane bounds, so a hostile config
file cannot make a login allocate gigabytes.

``hallops hash-password`` prints a hash for a config file's ``password_hash`` key.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import getpass
import hashlib
import hmac
import os
import sys
from typing import TextIO

SCHEME = "scrypt"
N = 2**14
R = 8
P = 1
SALT_BYTES = 16
HASH_BYTES = 32

# Bounds accepted when reading a stored hash (memory used is about 128 * n * r bytes).
_MIN_N, _MAX_N = 2**10, 2**17
_MAX_R = 16
_MAX_P = 4
_MAX_MEM = 64 * 1024 * 1024
_MIN_SALT_BYTES = 8
_MIN_HASH_BYTES = 16


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """Hash ``password`` with scrypt (n=2**14, r=8, p=1) and a fresh 16-byte salt.

    ``salt`` is for tests only; real callers let it be random.
    """
    if salt is None:
        salt = os.urandom(SALT_BYTES)
    digest = _scrypt(password, salt, N, R, P, HASH_BYTES)
    return "$".join((SCHEME, str(N), str(R), str(P), _b64(salt), _b64(digest)))


def verify_password(password: str, stored: str) -> bool:
    """True when ``password`` matches ``stored``. False (never an exception) when malformed."""
    parsed = _parse(stored)
    if parsed is None:
        return False
    n, r, p, salt, expected = parsed
    try:
        actual = _scrypt(password, salt, n, r, p, len(expected))
    except (ValueError, MemoryError):  # pragma: no cover - bounds are checked in _parse
        return False
    return hmac.compare_digest(actual, expected)


def is_valid_hash(stored: object) -> bool:
    """True when ``stored`` has the form written by ``hash_password`` (parameters in bounds)."""
    return _parse(stored) is not None


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, dklen: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=2 * _MAX_MEM, dklen=dklen
    )


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _parse(stored: object) -> tuple[int, int, int, bytes, bytes] | None:
    if not isinstance(stored, str):
        return None
    parts = stored.split("$")
    if len(parts) != 6 or parts[0] != SCHEME:
        return None
    try:
        if not all(x.isascii() and x.isdigit() for x in parts[1:4]):  # no signs, spaces, _
            return None
        n, r, p = (int(x) for x in parts[1:4])
        salt = base64.b64decode(parts[4], validate=True)
        digest = base64.b64decode(parts[5], validate=True)
    except (ValueError, binascii.Error):
        return None
    if not (_MIN_N <= n <= _MAX_N) or n & (n - 1):
        return None
    if not (1 <= r <= _MAX_R and 1 <= p <= _MAX_P) or 128 * n * r > _MAX_MEM:
        return None
    if len(salt) < _MIN_SALT_BYTES or not (_MIN_HASH_BYTES <= len(digest) <= 64):
        return None
    return n, r, p, salt, digest


# --- command line ---------------------------------------------------------------------------


def hash_password_main(
    *, stdin: TextIO | None = None, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    """Read a password (prompt twice on a terminal, else one line of stdin); print its hash."""
    stdin = sys.stdin if stdin is None else stdin
    stdout = sys.stdout if stdout is None else stdout
    stderr = sys.stderr if stderr is None else stderr
    if stdin.isatty():
        try:
            password = getpass.getpass("Password: ")
            again = getpass.getpass("Repeat password: ")
        except (EOFError, KeyboardInterrupt):
            print("hash-password: cancelled", file=stderr)
            return 1
        if password != again:
            print("hash-password: the passwords do not match", file=stderr)
            return 1
    else:
        password = stdin.readline().removesuffix("\n").removesuffix("\r")
    if not password:
        print("hash-password: empty password", file=stderr)
        return 1
    print(hash_password(password), file=stdout)
    return 0


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``hash-password`` on the main CLI's subparsers."""
    parser = subparsers.add_parser(
        "hash-password",
        help="print a scrypt hash for a staff account's password_hash",
        description=(
            "Print a scrypt hash to paste into a hall config file as password_hash. "
            "On a terminal the password is asked twice without echo; otherwise the first "
            "line of standard input is used (e.g. `echo -n secret | hallops hash-password`)."
        ),
    )
    parser.set_defaults(func=lambda args: hash_password_main())
    return parser
