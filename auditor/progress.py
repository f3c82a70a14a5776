"""A progress bar on stderr (rich.progress) for runs that take a while: many targets, or policies read
live from AWS. Only where a person watches: stderr is a terminal, `CI` is not set, --quiet is not
given, and the report is not being printed on that terminal meanwhile (the table's summary rows show
the progress there). Anything else gets a bar that draws nothing, and rich is not imported for it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

MANY_TARGETS = 50  # fewer than this audit in well under a second


def wanted(quiet: bool, report_on_terminal: bool) -> bool:
    """Whether a bar may be drawn at all (then each use decides whether its work is worth one)."""
    if quiet or report_on_terminal or "CI" in os.environ:
        return False
    stream = sys.stderr
    return stream is not None and hasattr(stream, "isatty") and stream.isatty()


@contextmanager
def bar(description: str, total: int | None, enabled: bool) -> Iterator[Callable[[], None]]:
    """A function to call once per item done; a bar on stderr while the block runs when `enabled`
    (it disappears at the end, leaving stderr as it was)."""
    if not enabled:
        yield _nothing
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    columns = [SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    if total is None:
        columns = [SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn()]  # a wait of unknown length
    with Progress(*columns, console=Console(file=sys.stderr), transient=True, redirect_stdout=False,
                  redirect_stderr=False) as progress:
        task = progress.add_task(description, total=total)

        def advance() -> None:
            progress.advance(task)

        yield advance


def _nothing() -> None:
    pass
