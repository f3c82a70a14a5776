"""Reporters write a report as the run streams it: the head (settings, targets), one part per target
(its findings, coverage and ignored findings) as soon as it is audited, then the tail (findings about
config files, counts, exit code). Each format's module has a `Writer` class; `render` gives a whole
Report as a string (the in-process API and the tests). The CLI decides where the output goes."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Protocol, TextIO, cast

from auditor.choices import FORMATS, Details
from auditor.report import Head, Part, Report, Tail
from auditor.text import CommandGuard


class Writer(Protocol):
    def head(self, head: Head) -> None: ...

    def part(self, part: Part) -> None: ...

    def tail(self, tail: Tail) -> None: ...


class Lines:
    """A writer of line formats (concise, github): nothing before the first target; subclasses write
    each part's lines and the tail's."""

    def __init__(self, out: TextIO, **_: object) -> None:
        self.out = out

    def head(self, head: Head) -> None:
        pass


class Nothing:
    """The writer of --quiet without --output: the run is audited and counted, nothing is written."""

    def head(self, head: Head) -> None:
        pass

    def part(self, part: Part) -> None:
        pass

    def tail(self, tail: Tail) -> None:
        pass


class Guarded:
    """A format's writer behind a CommandGuard (auditor.text): no line it writes starts with a CI
    workflow command made of input; the guard's unfinished last line is passed on after the tail."""

    def __init__(self, inner: Writer, guard: CommandGuard) -> None:
        self.inner, self.guard = inner, guard

    def head(self, head: Head) -> None:
        self.inner.head(head)

    def part(self, part: Part) -> None:
        self.inner.part(part)

    def tail(self, tail: Tail) -> None:
        self.inner.tail(tail)
        self.guard.end()


def writer(fmt: str, out: TextIO, *, color: bool = False, width: int = 120, details: Details = "failing") -> Writer:
    """The writer for a --format value, writing to `out`; imported only when used (rich only for tables).
    Every format but github (which writes workflow commands and guards the rest itself) writes through
    a CommandGuard."""
    if fmt not in FORMATS:
        raise KeyError(fmt)
    module = importlib.import_module(f"auditor.reporters.{fmt}")
    if fmt == "github":
        return module.Writer(out, color=color, width=width, details=details)
    guard = CommandGuard(out, json=fmt in ("json", "sarif"))
    return Guarded(module.Writer(cast(TextIO, guard), color=color, width=width, details=details), guard)


class Tee:
    """Several writers fed the same run (the --format report and each --also-write one)."""

    def __init__(self, *writers: Writer) -> None:
        self.writers = writers

    def head(self, head: Head) -> None:
        for w in self.writers:
            w.head(head)

    def part(self, part: Part) -> None:
        for w in self.writers:
            w.part(part)

    def tail(self, tail: Tail) -> None:
        for w in self.writers:
            w.tail(tail)


def feed(target: Writer, report: Report) -> None:
    """A whole Report, to a writer, as a run would stream it."""
    head, parts, tail = report.stream()
    target.head(head)
    for part in parts:
        target.part(part)
    target.tail(tail)


def render(fmt: str, report: Report, *, color: bool = False, width: int = 120, details: Details = "failing", **_: object) -> str:
    import io

    buf = io.StringIO()
    feed(writer(fmt, buf, color=color, width=width, details=details), report)
    return buf.getvalue()


def get(fmt: str) -> Callable[..., str]:
    """report → text for a --format value (KeyError for an unknown one)."""
    if fmt not in FORMATS:
        raise KeyError(fmt)
    return lambda report, **options: render(fmt, report, **options)
