"""Jets releases: version strings, release ranges and the release lines the catalogue covers.

A release is "5.0.14" (or "5.0.0.beta1"); `--jets-version` also takes a line ("5") or a minor ("5.0"),
which stands for every release in it. A requirement's release range is written the way a Gemfile
writes one, ">= 3.2.1, < 6": it applies to a version when the two share a release. rules/releases.toml
lists the release lines and every release reviewed in each (the [[line]] tables); its [[resource]] and
[[call]] tables (what each release deploys and calls) are read by the tests that join them to the
catalogue (tests/test_releases.py), not at run time.
"""

from __future__ import annotations

import re
import tomli
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

VERSION = re.compile(r"^(\d+)(?:\.(\d+)(?:\.(\d+)(?:\.([A-Za-z]+\d*))?)?)?$")  # 5, 5.0, 5.0.14, 5.0.0.beta1
_OPERATORS = (">=", "<=", ">", "<", "=")

Key = tuple[int, int, int, int, str]  # major, minor, patch, 0 for a pre-release (beta) else 1, its label


class ReleaseError(ValueError):
    """A version or range that cannot be read: the message names it."""


def key(text: str) -> Key:
    """The sort key of a full release: 5.0.0.beta1 < 5.0.0 < 5.0.1 < 5.0.14."""
    m = VERSION.match(text.strip())
    if not m or m.group(2) is None or m.group(3) is None:
        raise ReleaseError(f"{text!r} is not a Jets release such as 5.0.14")
    pre = m.group(4) or ""
    return int(m.group(1)), int(m.group(2)), int(m.group(3)), 0 if pre else 1, pre


def key_or_none(text: str) -> Key | None:
    try:
        return key(text)
    except ReleaseError:
        return None


def _floor(text: str) -> Key:
    """The lowest release a possibly partial version ("5", "5.0") stands for, pre-releases included."""
    m = VERSION.match(text.strip())
    if not m:
        raise ReleaseError(f"{text!r} is not a Jets version such as 5 or 5.0.14")
    major, minor, patch, pre = m.groups()
    if patch is not None:
        return key(text)
    return int(major), int(minor or 0), 0, 0, ""


@dataclass(frozen=True)
class ReleaseRange:
    """A half-open set of releases [low, high), written as in a Gemfile: ">= 3.2.1, < 6"."""

    text: str
    low: Key
    high: Key | None  # None: no upper bound

    def overlaps(self, low: Key, high: Key | None) -> bool:
        return (high is None or self.low < high) and (self.high is None or low < self.high)


def _next(k: Key) -> Key:
    """The smallest key above `k` (for "<=" and ">")."""
    major, minor, patch, final, pre = k
    return (major, minor, patch, final, pre + "\x7f") if final == 0 else (major, minor, patch + 1, 0, "")


@lru_cache(maxsize=256)
def parse_range(text: str) -> ReleaseRange:
    """">= 3.2.1, < 6", "= 4.0.9", ">= 6": every part an operator and a version; parts are and-ed."""
    low: Key = (0, 0, 0, 0, "")
    high: Key | None = None
    parts = [p.strip() for p in text.split(",")]
    if not text.strip() or not all(parts):
        raise ReleaseError(f"release range {text!r} is empty")
    for part in parts:
        op = next((o for o in _OPERATORS if part.startswith(o)), None)
        if op is None:
            raise ReleaseError(f"release range {text!r}: {part!r} has no operator (>=, >, <, <=, =)")
        version = part[len(op):].strip()
        at = _floor(version)
        if op == ">=":
            low = max(low, at)
        elif op == ">":
            low = max(low, _ceiling(version))
        elif op == "<":
            high = at if high is None else min(high, at)
        elif op == "<=":
            top = _ceiling(version)
            high = top if high is None else min(high, top)
        else:  # "="
            low, high = max(low, at), _ceiling(version) if high is None else min(high, _ceiling(version))
    if high is not None and high <= low:
        raise ReleaseError(f"release range {text!r} contains no release")
    return ReleaseRange(", ".join(parts), low, high)


def _ceiling(text: str) -> Key:
    """The smallest key above every release `text` stands for: 5 -> 6, 5.0 -> 5.1, 5.0.14 -> 5.0.15."""
    m = VERSION.match(text.strip())
    if not m:
        raise ReleaseError(f"{text!r} is not a Jets version such as 5 or 5.0.14")
    major, minor, patch, _ = m.groups()
    if minor is None:
        return int(major) + 1, 0, 0, 0, ""
    if patch is None:
        return int(major), int(minor) + 1, 0, 0, ""
    return _next(key(text))


@dataclass(frozen=True)
class Line:
    """One release line (a major): the releases reviewed in it and how it deploys."""

    major: str
    releases: tuple[str, ...]  # oldest first
    deploy: str
    evidence: str
    remote: bool = False  # Jets 6: the app is deployed from CodeBuild, not by the local principal


@dataclass(frozen=True)
class JetsVersion:
    """What --jets-version selects: one release, every release of a line or minor, or every reviewed
    release a Gemfile constraint admits ("~> 4.0", ">= 5.0.3": `constraint`, possibly over several lines)."""

    text: str
    low: Key
    high: Key  # exclusive
    line: Line  # the (newest) line it selects releases of
    lines: tuple[Line, ...] = ()  # every line it selects releases of, oldest first (empty: `line` alone)
    constraint: bool = False

    @property
    def major(self) -> str:
        return self.line.major

    @property
    def remote(self) -> bool:
        """Does it select a release that deploys from CodeBuild (Jets 6)?"""
        return any(line.remote for line in self.lines or (self.line,))

    @property
    def is_release(self) -> bool:
        return not self.constraint and self.text.count(".") >= 2

    def selects(self, releases: ReleaseRange) -> bool:
        return releases.overlaps(self.low, self.high)

    @property
    def unreviewed(self) -> bool:
        """A release newer than the last one reviewed in its line (the newest entries apply)."""
        return self.is_release and self.low > key(self.line.releases[-1])


@dataclass(frozen=True)
class Releases:
    lines: tuple[Line, ...]

    def line(self, major: str) -> Line | None:
        return next((line for line in self.lines if line.major == major), None)

    def all(self) -> tuple[str, ...]:
        return tuple(r for line in self.lines for r in line.releases)

    def admitted(self, requirements: tuple[str, ...]) -> tuple[str, ...]:
        """Every reviewed release a Gemfile constraint allows ("~> 5.0", ">= 4", "5.0.14", ...), oldest first:
        what `bundle install` may pick without a lock file. Pre-releases only when a requirement names one."""
        pre = any((k := key_or_none(r.split()[-1])) is not None and k[3] == 0 for r in requirements)
        return tuple(r for r in self.all() if (pre or key(r)[3] == 1) and all(_satisfies(key(r), q) for q in requirements))

    def constrained(self, text: str) -> JetsVersion:
        """A Gemfile constraint ("~> 4.0", ">= 4.0.9, < 5") as a version: every reviewed release it admits."""
        requirements = tuple(part.strip() for part in text.split(",") if part.strip())
        admitted = self.admitted(requirements)
        if not admitted:
            covered = ", ".join(f"{line.major}.x" for line in self.lines)
            raise ReleaseError(f"jets {text} allows no release this catalogue covers ({covered})")
        majors = list(dict.fromkeys(r.split(".", 1)[0] for r in admitted))
        lines = tuple(line for line in self.lines if line.major in majors)
        return JetsVersion(", ".join(requirements), key(admitted[0]), _next(key(admitted[-1])), lines[-1], lines, True)

    def version(self, text: str) -> JetsVersion:
        """Read --jets-version: a line (5), a minor (5.0) or a release (5.0.14), or a Gemfile constraint
        (~> 4.0: every reviewed release it admits). A release newer than the last reviewed one of a
        covered line is accepted (see JetsVersion.unreviewed); a release the line never had, or one
        before it, is an error."""
        text = str(text).strip()
        if text and text[0] in "~<>=!":
            return self.constrained(text)
        m = VERSION.match(text)
        if not m:
            raise ReleaseError(f"--jets-version {text!r} is not a Jets version such as 5 or 5.0.14")
        line = self.line(m.group(1))
        covered = ", ".join(f"{ln.major}.x ({ln.releases[0]}-{ln.releases[-1]})" for ln in self.lines)
        if line is None:
            raise ReleaseError(f"--jets-version {text}: this catalogue covers Jets {covered}")
        low, high = _floor(text), _ceiling(text)
        reviewed = [key(r) for r in line.releases]
        if m.group(3) is not None and low not in reviewed and low < reviewed[-1]:
            raise ReleaseError(f"--jets-version {text} is not a Jets {line.major}.x release "
                               f"(reviewed: {', '.join(line.releases)})")
        if m.group(3) is None and not any(low <= r < high for r in reviewed):
            raise ReleaseError(f"--jets-version {text}: no Jets release in it; this catalogue covers Jets {covered}")
        return JetsVersion(text, low, high, line)


def _satisfies(release: Key, requirement: str) -> bool:
    """A RubyGems requirement: "~> 5.0" (>= 5.0, < 6), "~> 5.0.14" (>= 5.0.14, < 5.1), ">= 4", "!= 5.0.3",
    "= 5.0.14" or a bare "5.0.14"."""
    op, _, version = requirement.strip().rpartition(" ")
    op = op.strip() or "="
    m = VERSION.match(version)
    if not m or op not in ("~>", ">=", "<=", "!=", "=", ">", "<"):
        raise ReleaseError(f"{requirement!r} is not a gem version requirement such as ~> 5.0")
    at = _floor(version)
    if op == "~>":
        parts = [p for p in m.groups()[:3] if p is not None]
        bump = parts[:-1] if len(parts) > 1 else parts
        upper = ".".join(bump[:-1] + [str(int(bump[-1]) + 1)])
        return at <= release < _floor(upper)
    if op in ("=", "!="):
        same = _floor(version) <= release < _ceiling(version) if m.group(3) is None else release == key(version)
        return same if op == "=" else not same
    return {">=": release >= at, ">": release >= _ceiling(version), "<": release < at,
            "<=": release < _ceiling(version)}[op]


def resolve(lines: Releases, given: str | None, configured: tuple[str, str] | None,
            project) -> tuple[str, str, str | None]:
    """(version, where it came from, note) for a run: --jets-version, then the config file's
    (value, path), then the project's Gemfile.lock, then every reviewed release its Gemfile's
    constraint allows (the constraint itself, as a version: `Releases.constrained`), then 5.
    ReleaseError, naming the source, when the version is not covered."""
    if given is not None:
        text, source = given, "--jets-version"
    elif configured is not None:
        text, source = configured
    elif project is not None and project.jets_version:
        text, source = project.jets_version, project.jets_version_from
    elif project is not None and project.jets_requirement:
        wanted = ", ".join(q if q[0] in "~<>=!" else f"= {q}" for q in project.jets_requirement)
        try:
            admitted = lines.admitted(tuple(wanted.split(", ")))
        except ReleaseError as exc:
            raise ReleaseError(f"{project.jets_version_from}: {exc}") from exc
        if not admitted:
            covered = ", ".join(f"{line.major}.x" for line in lines.lines)
            raise ReleaseError(f"{project.jets_version_from}: jets {', '.join(project.jets_requirement)} allows no release "
                               f"this catalogue covers ({covered}); pass --jets-version")
        span = admitted[0] if len(admitted) == 1 else f"{admitted[0]} to {admitted[-1]}"
        text, source = wanted, (f"{project.jets_version_from} (jets {', '.join(project.jets_requirement)}: every reviewed "
                                f"release it allows, {span})")
    else:
        text, source = "5", "default"
    try:
        version = lines.version(text)
    except ReleaseError as exc:
        raise ReleaseError(f"{exc} (from {source})" if source != "--jets-version" else str(exc)) from exc
    note = None
    if version.unreviewed:
        note = (f"Jets {text} is newer than the last {version.major}.x release reviewed here "
                f"({version.line.releases[-1]}): checked against that release's requirements")
    return text, source, note


def load(path: Path) -> Releases:
    """The [[line]] tables of rules/releases.toml."""
    try:
        data = tomli.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomli.TOMLDecodeError) as exc:
        raise ReleaseError(f"rules/releases.toml: {exc}") from exc
    lines = []
    for n, entry in enumerate(data.get("line", []), 1):
        try:
            releases = tuple(entry["releases"])
            for release in releases:
                key(release)
            if list(releases) != sorted(releases, key=key):
                raise ReleaseError(f"rules/releases.toml line #{n}: releases are not in order")
            lines.append(Line(str(entry["major"]), releases, str(entry["deploy"]), str(entry["evidence"]),
                              bool(entry.get("remote", False))))
        except KeyError as exc:
            raise ReleaseError(f"rules/releases.toml line #{n}: missing {exc}") from exc
    if not lines:
        raise ReleaseError("rules/releases.toml: no [[line]]")
    return Releases(tuple(lines))
