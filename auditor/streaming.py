"""A run streamed: targets audited one at a time (engine.Audit), each target's part handed to a
reporter's Writer (auditor.reporters) as soon as it is ready, the head first and the tail (counts, exit
code) last. A run holds one target's findings and coverage at a time, whatever the number of targets:
a deferred target (a policy file listed but not kept) is read just before it is audited."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from auditor import __version__, awsdata
from auditor.catalogue import Catalogue
from auditor.engine import Audit, notes_for
from auditor.filters import Filters, Reviewer, Sieve
from auditor.report import Head, Tail, Tally, config_files
from auditor.reporters import Writer
from auditor.scopes import Scope
from auditor.sources.targets import loaded


def stream(scopes: Sequence[Scope], catalogue: Catalogue, writer: Writer, review: Reviewer | None = None,
           sieve: Sieve | None = None, advance: Callable[[], None] | None = None) -> Tail:
    """Audit the targets of every scope one by one, each with its scope's settings and config, and hand
    each target's part to `writer` as soon as it is ready: the head first (the first scope's settings
    are the run's), the tail (counts, exit code) last. `review` is the second opinion (--parliament),
    `sieve` the baseline (auditor/filters.py); `advance` is called after each target (a progress bar)."""
    settings = scopes[0].settings
    listed = [(replace(t, settings=scope.settings, config_file=scope.config.shown), scope.config)
              for scope in scopes for t in scope.targets]
    targets = tuple(t for t, _ in listed)
    tally = Tally(settings.fail_on)
    audit = Audit(settings, catalogue, filters=Filters(review, sieve))
    writer.head(Head(__version__, awsdata.data_version(), settings, targets, notes_for(targets, settings, catalogue),
                     review is not None))
    for target, config in listed:
        part = audit.part(loaded(target), config)
        tally.add(part.findings, part.coverage, len(part.ignored))
        writer.part(part)
        if advance is not None:
            advance()
    rest = audit.finish()
    tally.add(rest)
    tail = Tail(rest, tally, audit.filters.second_opinion(), audit.filters.baseline(), config_files(targets))
    writer.tail(tail)
    return tail
