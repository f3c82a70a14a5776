"""A run streamed: targets audited one at a time (engine.Audit), each target's part handed to a
reporter's Writer (auditor.reporters) as soon as it is ready, the head first and the tail (counts, exit
code) last. A run holds one target's findings and coverage at a time, whatever the number of targets."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from auditor import __version__, awsdata
from auditor.catalogue import Catalogue
from auditor.config import Config
from auditor.engine import NO_CONFIG, Audit, notes_for
from auditor.report import Head, Settings, Tail, Tally, Target, config_files


def stream(targets: Sequence[Target], settings: Settings, catalogue: Catalogue, writer, config: Config = NO_CONFIG,
           review=None, sieve=None, advance=None) -> Tail:
    """Audit the targets one by one and hand each target's part to `writer` (auditor.reporters.Writer)
    as soon as it is ready: the head first, the tail (counts, exit code) last. `sieve`
    (auditor.baseline.Sieve or Recorder) takes out the findings a baseline records; `advance` is called
    after each target (a progress bar). Holds one target's findings and coverage at a time."""
    tally = Tally(settings.fail_on)
    audit = Audit(settings, catalogue, config, review)
    writer.head(Head(__version__, awsdata.data_version(), settings, tuple(targets), notes_for(targets, settings, catalogue),
                     review is not None))
    for target in targets:
        part = audit.part(target)
        if sieve is not None:
            part = replace(part, findings=sieve.kept(part.findings, (part.target,)))
        tally.add(part.findings, part.coverage, len(part.ignored))
        writer.part(part)
        if advance is not None:
            advance()
    rest = audit.finish()
    if sieve is not None:
        rest = sieve.kept(rest, ())
    tally.add(rest)
    tail = Tail(rest, tally, review.summary() if review is not None else None,
                sieve.outcome() if sieve is not None else None, config_files(targets))
    writer.tail(tail)
    return tail
