"""JSON pointers to lines and columns in a policy's text, found on demand (`SourceMap`): only the
containers on a pointer's path are read, and each only as far as the pointer needs. A text that is not
valid JSON is read by one token scan instead, so a finding about a broken file still gets a line."""

from __future__ import annotations

import json
import re
from functools import cached_property
from json.scanner import make_scanner

from auditor.model import pointer_unescape

_WS = re.compile(r"[ \t\n\r]*")
_MEMBER = re.compile(r'[ \t\n\r]*("(?:[^"\\]|\\.)*")[ \t\n\r]*:[ \t\n\r]*')  # "key" : (up to its value)
_NEXT = re.compile(r"[ \t\n\r]*(?:,[ \t\n\r]*)?")  # after a value: the comma, if any
# (value, end) at an offset; the C scanner when built
_SCAN = make_scanner(json.JSONDecoder())  # type: ignore[arg-type]  # typeshed wants a make_scanner as context; json passes its decoder


def _skip(pattern: re.Pattern[str], text: str, at: int) -> int:
    """Where `pattern` (which matches the empty string: whitespace, an optional comma) ends from `at`."""
    found = pattern.match(text, at)
    assert found is not None  # every pattern passed here matches the empty string
    return found.end()
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]:,]|[^\s{}\[\]:,"]+')


def _child(children: dict | list | None, part: str):
    """The member a pointer token names in an object's or an array's children, or None."""
    key = pointer_unescape(part)
    if isinstance(children, dict):
        return children.get(key)
    if isinstance(children, list) and key.isdigit() and int(key) < len(children):
        return children[int(key)]
    return None


class _Reading:
    """An object or array of the document, read as far as the pointers asked so far needed."""

    __slots__ = ("children", "at", "done")

    def __init__(self, children: dict[str, int] | list[int], at: int) -> None:
        self.children = children  # key or index → offset of its value, for the members read so far
        self.at = at  # where the next member starts
        self.done = False


class SourceMap:
    """Maps RFC 6901 pointers to 1-based line numbers, on demand: only the containers on a pointer's
    path are read, as far as the pointer needs (valid JSON), or one token scan of the whole text
    (anything else)."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._containers: dict[int, _Reading] = {}  # offset of a container → how far it has been read
        self._paths: dict[str, list[int]] = {}  # pointer → its _path
        self._lines: dict[int, int] = {}  # offset of an element already asked about → its line
        self._last = (0, 1)  # the (offset, line) found last

    @cached_property
    def _root(self) -> tuple[int, object] | None:
        """The document as a tree of (offset, children): a dict of key → node for an object, a list of
        nodes for an array, None for a scalar. One pass over the tokens; keys keep their first value."""
        roots: list[tuple[int, object]] = []
        stack: list[list] = []  # open containers: [kind, children, current key]
        expecting_key = False
        for m in _TOKEN.finditer(self._text):
            tok = m.group()
            first = tok[0]
            if first == ",":
                expecting_key = bool(stack) and stack[-1][0] == "o"
                continue
            if first == ":":
                continue
            if first in "}]":
                if stack:
                    stack.pop()
                expecting_key = False
                continue
            top = stack[-1] if stack else None
            if expecting_key and top is not None:
                key = tok[1:-1] if first == '"' else tok
                if "\\" in tok:
                    try:
                        key = json.loads(tok)
                    except ValueError:
                        key = tok
                top[2] = key
                expecting_key = False
                continue
            children: object = {} if first == "{" else [] if first == "[" else None
            node = (m.start(), children)
            if top is None:
                roots.append(node)
            elif top[0] == "a":
                top[1].append(node)
            else:
                top[1].setdefault(top[2], node)
            if first == "{":
                stack.append(["o", children, None])
                expecting_key = True
            elif first == "[":
                stack.append(["a", children, None])
        return roots[0] if roots else None

    def line(self, ptr: str) -> int | None:
        """The line of the element at `ptr`, or of its nearest ancestor that has one."""
        try:
            path = self._path(ptr)
        except (ValueError, IndexError, StopIteration, RecursionError):  # not JSON: the token scan copes with it
            offset = self.scanned_offset(ptr)
            return None if offset is None else self._text.count("\n", 0, offset) + 1
        # newlines are counted from the parent's start (whose line is known from its own parent), or
        # from the last element asked about when that lies between: checks ask in document order
        at, line = 0, 1
        for offset in path:
            known = self._lines.get(offset)
            if known is None:
                last, last_line = self._last
                if at < last < offset:
                    at, line = last, last_line
                known = self._lines[offset] = line + self._text.count("\n", at, offset)
                self._last = offset, known
            at, line = offset, known
        return line if path else None

    def column(self, ptr: str) -> int | None:
        """The 1-based column where the element at `ptr` (or its nearest ancestor found) starts."""
        try:
            offset = self.offset(ptr)
        except (ValueError, IndexError, StopIteration, RecursionError):
            offset = self.scanned_offset(ptr)
        return None if offset is None else offset - self._text.rfind("\n", 0, offset)

    def offset(self, ptr: str) -> int | None:
        """The offset in the text of the element at `ptr` (or of its nearest ancestor found), reading only
        the containers on its path; raises ValueError (or IndexError, StopIteration) on text that is no JSON."""
        path = self._path(ptr)
        return path[-1] if path else None

    def _path(self, ptr: str) -> list[int]:
        """The offsets of the root and of each value on the pointer's path down to its element (or
        its nearest ancestor); a pointer's parent path is worked out once for all its children.
        Only the containers on the path are read, and each only as far as the member asked for;
        json's scanner (C) skips the sibling values before it."""
        path = self._paths.get(ptr)
        if path is not None:
            return path
        if not ptr.startswith("/"):  # "" (RFC 6901: any other pointer starts with "/")
            at = _skip(_WS, self._text, 0)
            path = [at] if at < len(self._text) else []
        else:
            parent, _, part = ptr.rpartition("/")
            path = self._path(parent)
            if len(path) == parent.count("/") + 1:  # the parent itself was found
                found = self._member(path[-1], pointer_unescape(part))
                if found is not None:
                    path = [*path, found]
        self._paths[ptr] = path
        return path

    def _member(self, start: int, key: str) -> int | None:
        """The offset of the value `key` names in the object or array at `start` (an object's keys
        keep their first value), reading on from where the last question stopped."""
        opener = self._text[start]
        if opener not in "[{":
            return None
        reading = self._containers.get(start)
        if reading is None:
            reading = self._containers[start] = _Reading({} if opener == "{" else [], _skip(_WS, self._text, start + 1))
        children = reading.children
        # `reading.at` moves past a member only once it is read whole, as a failed read leaves it for the
        # token scan
        text, at = self._text, reading.at
        try:
            if isinstance(children, dict):
                while key not in children and not reading.done:
                    if text[at] == "}":
                        reading.done = True
                        break
                    member = _MEMBER.match(text, at)
                    if member is None:
                        raise ValueError("expected a member")
                    name = member.group(1)
                    value = member.end()
                    children.setdefault(json.loads(name) if "\\" in name else name[1:-1], value)
                    at = _skip(_NEXT, text, _SCAN(text, value)[1])
                return children.get(key)
            if not key.isdigit():
                return None
            index = int(key)
            while len(children) <= index and not reading.done:
                if text[at] == "]":
                    reading.done = True
                    break
                children.append(at)
                at = _skip(_NEXT, text, _SCAN(text, at)[1])
            return children[index] if index < len(children) else None
        finally:
            reading.at = at

    def scanned_offset(self, ptr: str) -> int | None:
        """What offset() gives, from one token scan of the whole text: it copes with text that is no JSON."""
        node = self._root
        if node is None:
            return None
        for part in ptr.split("/")[1:] if ptr else ():
            found = _child(node[1], part)  # type: ignore[arg-type]
            if found is None:
                break
            node = found
        return node[0]
