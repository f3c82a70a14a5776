"""Policy text is data: helpers that make it inert wherever it is shown."""

from __future__ import annotations

import re

_PLAIN = re.compile(r"[\x20-\x7e]*")  # printable ASCII: nothing to do
_INVISIBLE = frozenset("\u2028\u2029\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def safe(value: object) -> str:
    """Control characters (terminal escapes included) and bidi overrides become visible escapes;
    newlines and tabs become spaces, so one value stays on one line."""
    text = str(value)
    if _PLAIN.fullmatch(text):
        return text
    out = []
    for ch in text:
        code = ord(ch)
        if ch in "\n\t":
            out.append(" ")
        elif code < 0x20 or 0x7F <= code < 0xA0 or ch in _INVISIBLE:
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(ch)
    return "".join(out)


def did_you_mean(word: str, choices) -> str:
    """'; did you mean "x"?' for the closest of `choices` (difflib), or "" when none is close."""
    import difflib

    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""
