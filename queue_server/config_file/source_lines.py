"""Find the line of a place in a TOML text: tomllib gives no positions, so a small scanner finds
where each table and key starts (the N-th ``[[windows]]`` header, a key inside it, the M-th
element of an array value) and each problem gets a best-effort line number."""

from __future__ import annotations

import bisect
import contextlib
import re
import tomllib
from collections.abc import Sequence

from .schema import ConfigPath, PathPart

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


class SourceIndex:
    """Where tables, keys and array elements start in a (valid) TOML text.

    A small scanner, enough to map a document path like ("windows", 3, "queues", 1) to a line:
    headers ``[x]``/``[[x]]`` (counting array-of-tables elements), ``key = value`` lines
    (dotted keys too), and elements of array and inline-table values. Best effort: any
    surprise ends the scan and later paths fall back to the nearest known ancestor.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self._line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
        # path -> ("header" | "key" | "value", offset)
        self._entries: dict[ConfigPath, tuple[str, int]] = {}
        with contextlib.suppress(ValueError, IndexError, tomllib.TOMLDecodeError):
            self._scan()  # a surprise ends the scan; what was found so far stays

    def locate(self, path: ConfigPath) -> int | None:
        try:
            for k in range(len(path), 0, -1):
                entry = self._entries.get(path[:k])
                if entry is None:
                    continue
                kind, offset = entry
                if kind == "value" and k < len(path):
                    offset = self._descend(offset, path[k:])
                return self._line(offset)
        except (ValueError, IndexError, tomllib.TOMLDecodeError):
            return None
        return None

    def _line(self, offset: int) -> int:
        return bisect.bisect_right(self._line_starts, offset)

    # -- document level --

    def _scan(self) -> None:
        t = self.text
        table: ConfigPath = ()
        counts: dict[ConfigPath, int] = {}  # array-of-tables path -> elements so far

        def resolve(parts: Sequence[str]) -> list[PathPart]:
            out: list[PathPart] = []
            for p in parts:
                out.append(p)
                if tuple(out) in counts:
                    out.append(counts[tuple(out)] - 1)
            return out

        i = 0
        while True:
            i = self._skip_ws(i)
            if i >= len(t):
                return
            if t[i] == "[":
                start = i
                is_array = t.startswith("[[", i)
                parts, i = self._key(i + (2 if is_array else 1))
                end = t.find("\n", i)
                i = len(t) if end < 0 else end
                if is_array:
                    key = tuple(resolve(parts[:-1]) + [parts[-1]])
                    counts[key] = counts.get(key, 0) + 1
                    self._entries.setdefault(key, ("header", start))
                    table = key + (counts[key] - 1,)
                else:
                    table = tuple(resolve(parts))
                self._entries.setdefault(table, ("header", start))
            else:
                start = i
                parts, i = self._key(i)
                i = self._skip_spaces(i)
                if t[i] != "=":
                    raise ValueError("expected '='")
                value = self._skip_spaces(i + 1)
                for k in range(1, len(parts)):
                    self._entries.setdefault(table + tuple(parts[:k]), ("key", start))
                self._entries.setdefault(table + tuple(parts), ("value", value))
                i = self._skip_value(value)

    # -- values --

    def _descend(self, offset: int, rest: ConfigPath) -> int:
        """Offset of the element ``rest`` inside the value starting at ``offset`` (or nearest)."""
        t = self.text
        for part in rest:
            offset = self._skip_ws(offset)
            if isinstance(part, int) and t.startswith("[", offset):
                elements, _ = self._array(offset)
                if part >= len(elements):
                    return offset
                offset = elements[part]
            elif isinstance(part, str) and t.startswith("{", offset):
                pairs, _ = self._inline_table(offset)
                found = next((p for p in pairs if p[0][0] == part), None)
                if found is None:
                    return offset
                keys, key_offset, value_offset = found
                if len(keys) > 1:
                    return key_offset
                offset = value_offset
            else:
                return offset
        return offset

    def _skip_spaces(self, i: int) -> int:
        t = self.text
        while i < len(t) and t[i] in " \t":
            i += 1
        return i

    def _skip_ws(self, i: int) -> int:
        """Skip spaces, newlines and comments."""
        t = self.text
        while i < len(t):
            if t[i] in " \t\r\n":
                i += 1
            elif t[i] == "#":
                end = t.find("\n", i)
                i = len(t) if end < 0 else end
            else:
                break
        return i

    def _key(self, i: int) -> tuple[list[str], int]:
        t = self.text
        parts: list[str] = []
        while True:
            i = self._skip_spaces(i)
            if t[i] in "\"'":
                end = self._skip_value(i)
                parts.append(tomllib.loads(f"k = {t[i:end]}")["k"])
                i = end
            else:
                match = _BARE_KEY.match(t, i)
                if not match:
                    raise ValueError("expected a key")
                parts.append(match.group())
                i = match.end()
            i = self._skip_spaces(i)
            if i < len(t) and t[i] == ".":
                i += 1
                continue
            return parts, i

    def _skip_value(self, i: int) -> int:
        t = self.text
        for quote in ('"""', "'''"):
            if t.startswith(quote, i):
                j = i + 3
                while True:
                    if quote == '"""' and t[j] == "\\":
                        j += 2
                    elif t.startswith(quote, j):
                        j += 3
                        extra = 0
                        while extra < 2 and j < len(t) and t[j] == quote[0]:
                            j, extra = j + 1, extra + 1
                        return j
                    else:
                        j += 1
        if t[i] == '"':
            j = i + 1
            while t[j] != '"':
                j += 2 if t[j] == "\\" else 1
            return j + 1
        if t[i] == "'":
            return t.index("'", i + 1) + 1
        if t[i] == "[":
            return self._array(i)[1]
        if t[i] == "{":
            return self._inline_table(i)[1]
        j = i
        while j < len(t) and t[j] not in ",]}\n#":
            j += 1
        return j

    def _array(self, i: int) -> tuple[list[int], int]:
        """Start offsets of the elements of the array at ``i``, and the offset after it."""
        t = self.text
        elements: list[int] = []
        j = i + 1
        while True:
            j = self._skip_ws(j)
            if t[j] == "]":
                return elements, j + 1
            elements.append(j)
            j = self._skip_ws(self._skip_value(j))
            if t[j] == ",":
                j += 1

    def _inline_table(self, i: int) -> tuple[list[tuple[list[str], int, int]], int]:
        """(key parts, key offset, value offset) of each pair, and the offset after it."""
        t = self.text
        pairs: list[tuple[list[str], int, int]] = []
        j = i + 1
        while True:
            j = self._skip_ws(j)
            if t[j] == "}":
                return pairs, j + 1
            key_offset = j
            parts, j = self._key(j)
            j = self._skip_spaces(j)
            if t[j] != "=":
                raise ValueError("expected '='")
            value = self._skip_spaces(j + 1)
            pairs.append((parts, key_offset, value))
            j = self._skip_ws(self._skip_value(value))
            if t[j] == ",":
                j += 1
