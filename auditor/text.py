"""Policy text is data: helpers that make it inert wherever it is shown.

`safe` is the one neutraliser for text that came from the input (policy strings, file names, config
values, server answers) on its way to a terminal, a CI log or a pull-request comment. Reporters that
write a structured format (JSON, SARIF) escape by that format's rules instead.

A CI log is read by its runner too: GitHub Actions executes a line that starts, after its leading
spaces, with `::` (`::error ...::`, `::add-mask::`, `::stop-commands::`) and, in its older syntax, a line
that holds `##[` anywhere (`##[add-mask]...`). `safe` shows `##[` as `##\\x5b`, and `inert_line` makes a
line that would start with `::` start with `\\x3a:` instead; `CommandGuard` applies it to every line a
reporter writes (the GitHub format writes its own commands and guards the rest itself).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from typing import Protocol

MAX_SUGGESTED = 128  # a word longer than this gets no "did you mean": no name it could mean is that long
# Unicode categories shown as escapes: controls (C0, DEL, C1), format characters (bidi embeddings,
# overrides, isolates and marks, zero-width space/joiners, word joiner, BOM, soft hyphen, tag
# characters U+E0000..E007F, interlinear annotations), line and paragraph separators, lone surrogates
# (a file name that was not valid UTF-8), private use and unassigned code points.
HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"})
COMMAND = "::"  # a GitHub Actions workflow command starts a line with it (after spaces)
OLD_COMMAND = "##["  # the runner's older syntax: a command anywhere in a line


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
        return text.replace(OLD_COMMAND, "##\\x5b") if OLD_COMMAND in text else text
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
    text = "".join(out)
    return text.replace(OLD_COMMAND, "##\\x5b") if OLD_COMMAND in text else text


def inert_line(line: str) -> str:
    """One line of output that no CI runner reads as a workflow command: a line that starts with `::`
    after its spaces starts with `\\x3a:` instead, and `##[` is shown as `##\\x5b` (as `safe` shows it)."""
    if OLD_COMMAND in line:
        line = line.replace(OLD_COMMAND, "##\\x5b")
    rest = line.lstrip()
    if rest.startswith(COMMAND):
        at = len(line) - len(rest)
        return line[:at] + "\\x3a" + line[at + 1:]
    return line


class _Stream(Protocol):
    def write(self, text: str, /) -> object: ...

    def flush(self) -> None: ...


class CommandGuard:
    """A text stream in front of another that passes every line through `inert_line` (`json`: through
    `##[` → `##\\u005b` alone, the same character in JSON, where no line starts with input and `#` is only
    ever inside a string). A line is passed on when it ends; `end()` passes on an unfinished last one."""

    def __init__(self, out: _Stream, json: bool = False) -> None:
        self.out, self.json = out, json
        self._pending = ""

    def write(self, text: str) -> int:
        chunk = self._pending + text
        if self.json:
            cut = len(chunk.rstrip("#"))  # "##" and "[" may arrive in two writes
            cut = max(cut, len(chunk) - 2)
            self._pending = chunk[cut:]
            self.out.write(chunk[:cut].replace(OLD_COMMAND, "##\\u005b"))
            return len(text)
        cut = chunk.rfind("\n") + 1
        self._pending = chunk[cut:]
        if cut:
            lines = chunk[:cut]
            if COMMAND in lines or OLD_COMMAND in lines:  # else no line of them needs a change
                lines = "".join(inert_line(line) for line in lines.splitlines(keepends=True))
            self.out.write(lines)
        return len(text)

    def end(self) -> None:
        if self._pending:
            rest = self._pending
            self._pending = ""
            self.out.write(rest.replace(OLD_COMMAND, "##\\u005b") if self.json else inert_line(rest))

    def flush(self) -> None:
        self.out.flush()

    def __getattr__(self, name: str) -> object:  # isatty, fileno, encoding...: the stream's
        return getattr(self.out, name)


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
