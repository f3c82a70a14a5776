"""What a run shows on the terminal besides the report: one neutralised line on stderr (`say`), whether
the report has colour and how wide a table may be."""

from __future__ import annotations

import os
import shutil
import sys

from auditor.text import inert_line, safe


def say(message: str) -> None:
    """One line on stderr, neutralised: it may name files and policy text, and it may start with them
    (auditor.text.inert_line: never a CI workflow command)."""
    sys.stderr.write(inert_line(safe(message)) + "\n")
    sys.stderr.flush()


def color(output: str | None) -> bool:
    """Colour on a terminal; NO_COLOR (set, not empty) turns it off, FORCE_COLOR (set, not empty) on
    where stdout is not a terminal (CI logs). A report written with --output never has colour."""
    if output is not None or os.environ.get("NO_COLOR"):
        return False
    return bool(os.environ.get("FORCE_COLOR")) or sys.stdout.isatty()


def width() -> int:
    """The terminal's width (or COLUMNS), at least 60; 120 when neither says."""
    return max(60, shutil.get_terminal_size((120, 24)).columns)
