"""queue_server.passwords: scrypt hashes for staff accounts, and ``hallops hash-password``."""

from __future__ import annotations

import argparse
import base64
import io

import pytest

from queue_server import passwords
from queue_server.passwords import hash_password, is_valid_hash, verify_password

HASH = hash_password("correct horse")  # one scrypt run shared by the read-only tests


def test_round_trip() -> None:
    assert verify_password("correct horse", HASH)


def test_wrong_password_is_rejected() -> None:
    assert not verify_password("correct horse ", HASH)
    assert not verify_password("", HASH)


def test_format() -> None:
    scheme, n, r, p, salt, digest = HASH.split("$")
    assert (scheme, n, r, p) == ("scrypt", "16384", "8", "1")
    assert len(base64.b64decode(salt, validate=True)) == 16
    assert len(base64.b64decode(digest, validate=True)) == 32
    assert is_valid_hash(HASH)


def test_fresh_salt_each_time() -> None:
    other = hash_password("correct horse")
    assert other != HASH
    assert verify_password("correct horse", other)


def test_given_salt_is_deterministic() -> None:
    salt = bytes(range(16))
    assert hash_password("x", salt=salt) == hash_password("x", salt=salt)
    assert hash_password("x", salt=salt).split("$")[4] == base64.b64encode(salt).decode()


def test_non_ascii_password() -> None:
    stored = hash_password("政务服务中心2026")
    assert verify_password("政务服务中心2026", stored)
    assert not verify_password("政务服务中心2027", stored)


def _with(index: int, value: str) -> str:
    parts = HASH.split("$")
    parts[index] = value
    return "$".join(parts)


@pytest.mark.parametrize(
    "stored",
    [
        "",
        "correct horse",  # plain text
        "scrypt",
        "scrypt$16384$8$1$abc",  # too few fields
        HASH + "$extra",
        _with(0, "bcrypt"),
        _with(1, "16385"),  # n not a power of two
        _with(1, "+16384"),
        _with(1, " 16384"),
        _with(1, str(2**30)),  # would need gigabytes
        _with(1, "512"),  # too weak
        _with(2, "0"),
        _with(2, "1000"),
        _with(3, "0"),
        _with(3, "99"),
        _with(4, "not base64!"),
        _with(4, base64.b64encode(b"short").decode()),  # salt under 8 bytes
        _with(5, "???"),
        _with(5, base64.b64encode(b"x" * 8).decode()),  # digest too short
    ],
)
def test_malformed_hashes_are_invalid_and_never_verify(stored: str) -> None:
    assert not is_valid_hash(stored)
    assert verify_password("correct horse", stored) is False


@pytest.mark.parametrize("stored", [None, 42, b"scrypt$16384$8$1$a$b", ["scrypt"]])
def test_non_strings_are_invalid(stored: object) -> None:
    assert not is_valid_hash(stored)
    assert verify_password("x", stored) is False  # type: ignore[arg-type]


def test_other_in_bounds_parameters_still_verify() -> None:
    """Parameters travel with the hash, so a cheaper or dearer setting keeps working."""
    import hashlib

    salt = b"0123456789abcdef"
    digest = hashlib.scrypt(b"pw", salt=salt, n=2**12, r=8, p=1, dklen=32)
    stored = "scrypt$4096$8$1$" + base64.b64encode(salt).decode() + "$"
    stored += base64.b64encode(digest).decode()
    assert is_valid_hash(stored)
    assert verify_password("pw", stored)
    assert not verify_password("pw2", stored)


# --- hallops hash-password ---------------------------------------------------------------------


def test_cli_reads_stdin_when_not_a_tty() -> None:
    out, err = io.StringIO(), io.StringIO()
    code = passwords.hash_password_main(stdin=io.StringIO("s3cret\n"), stdout=out, stderr=err)
    assert code == 0
    printed = out.getvalue()
    assert printed.count("\n") == 1  # only the hash
    assert "s3cret" not in printed
    assert verify_password("s3cret", printed.strip())
    assert err.getvalue() == ""


def test_cli_keeps_inner_spaces_and_strips_only_the_newline() -> None:
    out = io.StringIO()
    passwords.hash_password_main(stdin=io.StringIO(" a b \r\n"), stdout=out, stderr=io.StringIO())
    assert verify_password(" a b ", out.getvalue().strip())


def test_cli_rejects_empty_password() -> None:
    out, err = io.StringIO(), io.StringIO()
    assert passwords.hash_password_main(stdin=io.StringIO(""), stdout=out, stderr=err) == 1
    assert out.getvalue() == ""
    assert "empty" in err.getvalue()


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_cli_prompts_twice_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    answers = iter(["pw-1", "pw-1"])
    monkeypatch.setattr(passwords.getpass, "getpass", lambda prompt="": next(answers))
    out = io.StringIO()
    assert passwords.hash_password_main(stdin=_Tty(), stdout=out, stderr=io.StringIO()) == 0
    assert verify_password("pw-1", out.getvalue().strip())


def test_cli_mismatched_prompts_fail(monkeypatch: pytest.MonkeyPatch) -> None:
    answers = iter(["pw-1", "pw-2"])
    monkeypatch.setattr(passwords.getpass, "getpass", lambda prompt="": next(answers))
    out, err = io.StringIO(), io.StringIO()
    assert passwords.hash_password_main(stdin=_Tty(), stdout=out, stderr=err) == 1
    assert out.getvalue() == ""
    assert "do not match" in err.getvalue()


def test_add_parser_registers_hash_password(monkeypatch: pytest.MonkeyPatch) -> None:
    parser = argparse.ArgumentParser(prog="hallops")
    passwords.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["hash-password"])
    monkeypatch.setattr("sys.stdin", io.StringIO("from-stdin\n"))
    out = io.StringIO()
    monkeypatch.setattr("sys.stdout", out)
    assert args.func(args) == 0
    assert verify_password("from-stdin", out.getvalue().strip())
