"""A JSON document written as `json.dumps(document, indent=2)` writes it, byte for byte, but member by
member, so a run writes each target's items as it is audited and never holds the whole document.

`encode` gives one value (a finding, a coverage row, a SARIF result) as the standard library indents
it at its depth in the document; ObjectWriter and ArrayWriter write the frame around the values: the
braces, brackets, separators and indentation json.dumps puts between members.
tests/test_streaming.py compares the documents with json.dumps on the fixtures and the corpus.
"""

from __future__ import annotations

import json

from auditor.reporters.spool import Sink, Spool

INDENT = "  "  # json.dumps(indent=2)
_ENCODER = json.JSONEncoder(indent=2)


def _newline(level: int) -> str:
    """A new line and the indentation of a member `level` containers deep."""
    return "\n" + INDENT * level


def encode(value: object, level: int = 0) -> str:
    """`value` as json.dumps(value, indent=2) writes it where it sits `level` containers deep: its lines
    after the first indented by `level` steps. (With ensure_ascii, json.dumps writes a newline inside a
    string as \\n, so every newline of its text is one between members.)"""
    return _ENCODER.encode(value).replace("\n", _newline(level))


class ObjectWriter:
    """One JSON object written member by member, as json.dumps(obj, indent=2) writes it `level`
    containers deep: `member` writes a whole value, `array` opens an array whose items come later."""

    def __init__(self, out: Sink, level: int = 0) -> None:
        self._out, self._level = out, level
        self._count = 0

    def _key(self, key: str) -> None:
        self._out.write(("{" if self._count == 0 else ",") + _newline(self._level + 1) + encode(key) + ": ")
        self._count += 1

    def member(self, key: str, value: object) -> None:
        self._key(key)
        self._out.write(encode(value, self._level + 1))

    def array(self, key: str) -> ArrayWriter:
        self._key(key)
        return ArrayWriter(self._out, self._level + 1)

    def spooled(self, key: str, spool: Spool) -> None:
        """A member whose value an ArrayWriter wrote (and closed) into `spool`."""
        self._key(key)
        spool.copy_to(self._out)

    def close(self) -> None:
        self._out.write("{}" if self._count == 0 else _newline(self._level) + "}")


class ArrayWriter:
    """The items of an array `level` containers deep, written as they come; `close` ends it (`[]` when
    empty)."""

    def __init__(self, out: Sink, level: int) -> None:
        self._out, self._level = out, level
        self._count = 0

    def item(self, value: object) -> None:
        self._out.write(("[" if self._count == 0 else ",") + _newline(self._level + 1) + encode(value, self._level + 1))
        self._count += 1

    def object(self) -> ObjectWriter:
        """An item that is an object written member by member (close it before the next item)."""
        self._out.write(("[" if self._count == 0 else ",") + _newline(self._level + 1))
        self._count += 1
        return ObjectWriter(self._out, self._level + 1)

    def close(self) -> None:
        self._out.write("[]" if self._count == 0 else _newline(self._level) + "]")
