"""A JSON document written as `json.dumps(document, indent=2)` writes it, byte for byte, but member by
member, so a run writes each target's items as it is audited and never holds the whole document.

`encode` gives one value (a finding, a coverage row, a SARIF result) as the standard library indents
it at its depth in the document; ObjectWriter and ArrayWriter write the frame around the values: the
braces, brackets, separators and indentation json.dumps puts between members.

The values are encoded by orjson (its OPT_INDENT_2 layout is json.dumps's indent=2), in C: the
standard library's encoder runs in Python whenever it indents, which made the JSON run of the AWS corpus
1.6 times slower (docs/speed.md). Two differences are put right so the text stays the standard
library's: orjson writes characters outside printable ASCII as UTF-8 where json.dumps (ensure_ascii)
writes \\uXXXX escapes, which also keep terminal controls such as U+009B out of a log; and orjson
refuses what it cannot write as UTF-8 (a lone surrogate, from a file name read with surrogateescape),
integers beyond 64 bits and keys that are not strings, which the standard library writes. (A float
would be written in orjson's shortest form; the report holds none.)
tests/test_streaming.py compares the documents with json.dumps on the fixtures and the corpus.
"""

from __future__ import annotations

import json
import re

import orjson

from auditor.reporters.spool import Sink, Spool

INDENT = "  "  # json.dumps(indent=2)
_STANDARD = json.JSONEncoder(indent=2)
_NOT_PRINTABLE_ASCII = re.compile("[\x7f-\U0010ffff]")  # orjson escapes the control characters below 0x20 itself


def _newline(level: int) -> str:
    """A new line and the indentation of a member `level` containers deep."""
    return "\n" + INDENT * level


def _escaped(match: re.Match[str]) -> str:
    return json.encoder.encode_basestring_ascii(match.group())[1:-1]


def encode(value: object, level: int = 0) -> str:
    """`value` as json.dumps(value, indent=2) writes it where it sits `level` containers deep: its lines
    after the first indented by `level` steps. (With ensure_ascii, json.dumps writes a newline inside a
    string as \\n, so every newline of its text is one between members.)"""
    try:
        text = orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()
    except orjson.JSONEncodeError:  # what orjson does not write (see above): the standard library does
        text = _STANDARD.encode(value)
    else:
        if not text.isascii() or "\x7f" in text:
            text = _NOT_PRINTABLE_ASCII.sub(_escaped, text)
    return text.replace("\n", _newline(level))


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
