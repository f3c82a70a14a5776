"""JSON text as `json.dumps(value, indent=2)` writes it, byte for byte, but item by item and faster.

json's indenting encoder is pure Python and collects the whole document before it is written; the
reporters write a document one finding at a time instead: `dumps(value, level)` is one value indented
as it would be at that depth of the document, strings escaped by json's own C function
(`encode_basestring_ascii`, as `ensure_ascii=True` does). `tests/test_streaming.py` compares it with
json.dumps on every report of the fixtures and the corpus.
"""

from __future__ import annotations

import json
from collections.abc import Hashable, Iterable
from itertools import islice
from json.encoder import encode_basestring_ascii
from typing import Generic, TypeVar

TEXTS_JOINED = 64  # members ArrayWriter.texts joins into one write (few: each is held until written)
_V = TypeVar("_V")
_PADS = tuple("\n" + "  " * i for i in range(64))


def _pad(level: int) -> str:
    return _PADS[level] if level < 64 else "\n" + "  " * level


def dumps(value: object, level: int = 0) -> str:
    """`value` as json.dumps(value, indent=2) writes it when it sits `level` containers deep."""
    kind = type(value)
    if kind is dict or kind is list or kind is tuple:
        return _container(value, level)
    return scalar(value, level)


def _container(value, level: int) -> str:
    if not value:
        return "{}" if type(value) is dict else "[]"
    enc = encode_basestring_ascii
    inner = _pad(level + 1)
    parts = []
    keyed = type(value) is dict
    for item in (value.items() if keyed else value):
        if keyed:
            key, item = item
            head = f"{inner}{enc(str(key))}: "
        else:
            head = inner
        kind = type(item)
        if kind is str:
            parts.append(head + enc(item))
        elif item is None:
            parts.append(head + "null")
        elif kind is dict or kind is list or kind is tuple:
            parts.append(head + _container(item, level + 1))
        else:
            parts.append(head + scalar(item, level + 1))
    return ("{" if keyed else "[") + ",".join(parts) + _pad(level) + ("}" if keyed else "]")


def scalar(value: object, level: int) -> str:
    """A value that is not a dict, list or tuple (those too, but dumps is for them) as dumps writes it."""
    kind = type(value)
    if kind is str:
        return encode_basestring_ascii(value)  # type: ignore[arg-type]  # str: `kind is str`, faster than isinstance
    if value is None:
        return "null"
    if kind is int:
        return int.__repr__(value)
    if value is True:
        return "true"
    if value is False:
        return "false"
    if kind is dict or kind is list or kind is tuple:
        return _container(value, level)
    return json.dumps(value, indent=2).replace("\n", _pad(level))  # floats, subclasses: json's own rules


class Kept(Generic[_V]):
    """Texts kept for reuse, per key, for keys seen before: most keys a run meets once it never meets
    again, and their texts would only hold memory. Bounded (cleared when full), like every cache here:
    `kept` holds at most `size` values, `seen` the hashes of at most `seen_size` keys."""

    __slots__ = ("kept", "seen", "size", "seen_size")

    def __init__(self, size: int, seen_size: int) -> None:
        self.kept: dict[Hashable, _V] = {}
        self.seen: set[int] = set()
        self.size, self.seen_size = size, seen_size

    def put(self, key: Hashable, value: _V) -> None:
        """Keep `value` for `key` if the key was put before (only its hash is noted the first time)."""
        h = hash(key)
        if h not in self.seen:
            if len(self.seen) >= self.seen_size:
                self.seen.clear()
            self.seen.add(h)
        else:
            if len(self.kept) >= self.size:
                self.kept.clear()
            self.kept[key] = value


class ObjectWriter:
    """One JSON object written member by member, as json.dumps(obj, indent=2) writes it at `level`:
    `member` writes a whole value, `array` opens an array whose members come later."""

    def __init__(self, out, level: int = 0) -> None:
        self._out, self._level = out, level
        self._count = 0

    def _key(self, key: str) -> None:
        self._out.write(("{" if self._count == 0 else ",") + _pad(self._level + 1) + encode_basestring_ascii(key) + ": ")
        self._count += 1

    def member(self, key: str, value: object) -> None:
        self._key(key)
        self._out.write(dumps(value, self._level + 1))

    def array(self, key: str) -> ArrayWriter:
        self._key(key)
        self._out.write("[")
        return ArrayWriter(self._out, self._level + 1)

    def spooled(self, key: str, spool, fix=None) -> None:
        """An array an ArrayWriter wrote (and closed) into `spool` (auditor.reporters.spool.Spool),
        each line through `fix` when given."""
        self._key(key)
        self._out.write("[")
        spool.copy_to(self._out, fix)

    def close(self) -> None:
        self._out.write("{}" if self._count == 0 else _pad(self._level) + "}")


class ArrayWriter:
    """The members of an array, after its "[", written as they come; `close` ends it (`[]` when empty)."""

    def __init__(self, out, level: int) -> None:
        self._out, self._level = out, level
        self._count = 0

    def item(self, value: object) -> None:
        self.text(dumps(value, self._level + 1))

    def object(self) -> ObjectWriter:
        """A member object written member by member (close it before the next member)."""
        self._out.write(("" if self._count == 0 else ",") + _pad(self._level + 1))
        self._count += 1
        return ObjectWriter(self._out, self._level + 1)

    def text(self, member: str) -> None:
        """A member already written as dumps(value, level + 1) writes it."""
        self._out.write(("" if self._count == 0 else ",") + _pad(self._level + 1) + member)
        self._count += 1

    def texts(self, members: Iterable[str]) -> None:
        """Members already written as dumps(value, level + 1) writes them, in one write per TEXTS_JOINED
        (joined, as `text` would write them one by one)."""
        pad = _pad(self._level + 1)
        sep = "," + pad
        items = iter(members)
        chunk = list(islice(items, TEXTS_JOINED))
        while chunk:
            self._out.write(("" if self._count == 0 else ",") + pad + sep.join(chunk))
            self._count += len(chunk)
            chunk = list(islice(items, TEXTS_JOINED)) if len(chunk) == TEXTS_JOINED else []

    def close(self) -> None:
        self._out.write(_pad(self._level) + "]" if self._count else "]")
