"""The finding filters of a run, in one place and in this order, target by target:

1. the second opinion (--parliament): its findings are merged into ours where they repeat them, or added;
2. AWS managed policies: the findings inside one, which nobody can edit, are folded into one
   aws-managed-policy finding per policy (the folded ones are shown with --show-ignored);
3. the config's ignores: a finding an ignore matches is left out with the ignore's reason;
4. a baseline: --baseline leaves out the findings it records, --write-baseline records every one.

When the run ends, the findings about the config files themselves (untrusted-setting, unused-ignore)
go through the baseline too. Between targets the filters keep, per config, only the ignores used and
the names of the files audited: never a target's findings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Protocol

from auditor.checks import aws_managed_policy, internal_error, untrusted_setting, unused_ignore
from auditor.config import Config
from auditor.model import Location
from auditor.report import BaselineOutcome, Finding, SecondOpinion, Target, finding_order
from auditor.stamp import line_stamper, stamp


class Reviewer(Protocol):
    """A second opinion (auditor.second_opinion.Reviewer): its findings for a target, merged into ours."""

    def review(self, target: Target, findings: Sequence[Finding], stamp: Callable[[Location], Location]) -> list[Finding]: ...

    def summary(self) -> SecondOpinion: ...


class Sieve(Protocol):
    """A baseline over a run (auditor.baseline.Sieve or Recorder): the findings it leaves in, target by target."""

    def kept(self, findings: Sequence[Finding], targets: Iterable[Target]) -> tuple[Finding, ...]: ...

    def outcome(self) -> BaselineOutcome: ...


class Filters:
    """The filters of one run: `apply` for each target's findings, `finish` once every target is done."""

    def __init__(self, review: Reviewer | None = None, sieve: Sieve | None = None) -> None:
        self.review, self.sieve = review, sieve
        self._configs: dict[int, tuple[Config, set[int], list[str]]] = {}  # id → (config, ignores used, files audited)

    def apply(self, target: Target, found: Sequence[Finding], config: Config,
              needed: Mapping[str, str]) -> tuple[list[Finding], list[tuple[Finding, str]]]:
        """A target's findings (sorted: finding_order) and those left out with the reason (folded into an
        aws-managed-policy finding, or ignored by `config`). `needed`: the actions the requirements need,
        lower-cased to their canonical spelling (an aws-managed-policy finding names those a policy grants)."""
        _, used, audited = self._configs.setdefault(id(config), (config, set(), []))
        audited.extend(config.relative(source, target.kind == "file") for source in target.sources)
        findings = list(found)
        left_out: list[tuple[Finding, str]] = []
        if self.review is not None:
            findings = self.review.review(target, findings, line_stamper(target.policies, target.defined_at))
        if any(p.aws_managed for p in target.policies):  # after the second opinion: its findings there fold too
            findings, folded = _fold_managed(target, findings, config, needed)
            left_out += folded
        kept: list[Finding] = []
        for finding in findings:
            ignore = None if finding.rule_id == internal_error.RULE_ID else config.ignore_for(finding)
            if ignore is None:
                kept.append(finding)
            else:
                used.add(ignore.number)
                left_out.append((finding, ignore.reason))
        kept.sort(key=finding_order)
        if self.sieve is not None:
            kept = list(self.sieve.kept(kept, (target,)))
        return kept, left_out

    def finish(self) -> tuple[Finding, ...]:
        """The findings about the run's config files (sorted): code settings a found config may not set
        (untrusted-setting), ignores that silenced nothing (unused-ignore)."""
        findings: list[Finding] = []
        for config, used, audited in self._configs.values():
            findings.extend(stamp(untrusted_setting, config.rule(untrusted_setting.RULE_ID), hit)
                            for hit in untrusted_setting.settings(config))
            rule = config.rule(unused_ignore.RULE_ID)
            if config.ignores and rule.enabled:
                findings.extend(stamp(unused_ignore, rule, hit) for hit in unused_ignore.unused(config, used, audited))
        findings.sort(key=finding_order)
        return self.sieve.kept(findings, ()) if self.sieve is not None else tuple(findings)

    def second_opinion(self) -> SecondOpinion | None:
        return self.review.summary() if self.review is not None else None

    def baseline(self) -> BaselineOutcome | None:
        """What the baseline did (--write-baseline: the file is written now)."""
        return self.sieve.outcome() if self.sieve is not None else None


def _fold_managed(target: Target, findings: list[Finding], config: Config,
                  needed: Mapping[str, str]) -> tuple[list[Finding], list[tuple[Finding, str]]]:
    """Findings inside AWS managed policies, which nobody can edit, become one aws-managed-policy finding
    per policy; they are kept as folded (shown with --show-ignored)."""
    managed = {p.source: p for p in target.policies if p.aws_managed}
    at = line_stamper(target.policies, target.defined_at)
    kept: list[Finding] = []
    inside: dict[str, list[Finding]] = {}
    for f in findings:
        source = (f.in_policy or f.location).source
        if source in managed and f.rule_id not in aws_managed_policy.KEPT:
            inside.setdefault(source, []).append(f)
        else:
            kept.append(f)
    rule = config.rule(aws_managed_policy.RULE_ID)
    folded: list[tuple[Finding, str]] = []
    for source, policy in managed.items():
        found = inside.get(source, [])
        folded += [(f, f"in the AWS managed policy {source}, which cannot be edited (see its aws-managed-policy finding)")
                   for f in found]
        if not rule.enabled:  # aws-managed-policy is disabled: the findings stay folded, nothing sums them up
            continue
        hit = aws_managed_policy.summary(policy, found, needed, f"{target.kind} {target.name}")
        if hit is not None:
            kept.append(stamp(aws_managed_policy, rule, hit, at(hit.location), target=target.name))
    return kept, folded
