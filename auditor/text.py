"""Policy text is data: helpers that make it inert wherever it is shown.

`safe` is the one neutraliser for text that came from the input (policy strings, file names, config
values, server answers) on its way to a terminal, a CI log or a pull-request comment. Reporters that
write a structured format (JSON, SARIF) escape by that format's rules instead.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

MAX_SUGGESTED = 128  # a word longer than this gets no "did you mean": no name it could mean is that long
# Unicode categories shown as escapes: controls (C0, DEL, C1), format characters (bidi embeddings,
# overrides, isolates and marks, zero-width space/joiners, word joiner, BOM, soft hyphen, tag
# characters U+E0000..E007F, interlinear annotations), line and paragraph separators, lone surrogates
# (a file name that was not valid UTF-8), private use and unassigned code points.
HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"})


def _escape(ch: str) -> str:
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def safe(value: object, keep: str = "") -> str:
    """The text with every character that could act on a terminal or hide itself made visible: controls
    (terminal escapes included), bidi controls, zero-width and tag characters, separators and lone
    surrogates become escapes such as \\x1b or \\u202e. Newlines and tabs become spaces, so one value
    stays on one line, unless `keep` names them."""
    text = str(value)
    if text.isascii() and text.isprintable():  # printable ASCII (" " to "~"): nothing to do
        return text
    out = []
    for ch in text:
        if " " <= ch <= "~" or ch in keep:
            out.append(ch)
        elif ch in "\n\t\r":
            out.append(" ")
        elif unicodedata.category(ch) in HIDDEN_CATEGORIES:
            out.append(_escape(ch))
        else:
            out.append(ch)
    return "".join(out)


def safe_lines(text: str) -> str:
    """`safe` for multi-line text (a diff): each line neutralised; its tabs, its newline and a carriage
    return before it kept."""
    lines = text.split("\n")
    out = [safe(line[:-1], keep="\t") + "\r" if line.endswith("\r") else safe(line, keep="\t") for line in lines]
    return "\n".join(out)


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """'; did you mean "x"?' for the closest of `choices` (difflib), or "" when none is close. Bounded:
    a word longer than MAX_SUGGESTED characters gets none (difflib's work grows with the product of the
    lengths, and no choice is that long)."""
    if len(word) > MAX_SUGGESTED:
        return ""
    import difflib

    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""
