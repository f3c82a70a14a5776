"""Read a Jets app (--project PATH) to choose the prefix, the Jets version and the features, saying
where each came from.

Reads, without running any Ruby: the project name (config/application.rb `config.project_name` for
Jets 3-5, config/jets/project.rb `config.name` for Jets 6); the Jets version from Gemfile.lock (the
resolved `jets (X.Y.Z)` spec), or else the version constraint of `gem "jets"` in the Gemfile; domain,
vpc_config, resource tags and managed IAM policies in config/; event DSL calls (dynamodb_event,
s3_event, ...) and managed_iam_policy in app/; Config rules in app/rules; files in public/; `ssm:`
values in .env files. Comment lines are ignored.

Bounded: only regular files are read (a FIFO, a device, or a link to one is skipped with a note), each up
to MAX_FILE_BYTES (a larger one is skipped with a note), and each directory walk looks at no more than
MAX_FILES entries (then it stops, with a note).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from auditor.report import Project
from auditor.sources.file import not_regular

NAME_PATTERNS = (
    ("config/application.rb", re.compile(r"""config\.project_name\s*=\s*["']([A-Za-z0-9_-]+)["']""")),
    ("config/jets/project.rb", re.compile(r"""config\.name\s*=\s*["']([A-Za-z0-9_-]+)["']""")),
)
# (feature, directory to scan, pattern)
CODE_FEATURES = (
    ("custom-domain", "config", re.compile(r"config\.domain\.(hosted_zone_name|hosted_zone_id|name|cert_arn|route53)\b")),
    ("edge-domain", "config", re.compile(r"""config\.domain\.endpoint_type\s*=\s*\[?\s*["']EDGE["']""")),
    ("vpc", "config", re.compile(r"\bvpc_config\b")),
    ("resource-tags", "config", re.compile(r"\bresource_tags\b")),
    ("managed-iam-policies", "config", re.compile(r"\b(class_)?managed_iam_polic(y|ies)\b")),
    ("managed-iam-policies", "app", re.compile(r"^\s*(class_)?managed_iam_policy\b")),
    ("dynamodb-events", "app", re.compile(r"^\s*dynamodb_event\b")),
    ("s3-events", "app", re.compile(r"^\s*s3_event\b")),
    ("sqs-events", "app", re.compile(r"^\s*sqs_event\b")),
    ("sns-events", "app", re.compile(r"^\s*sns_event\b")),
    ("kinesis-events", "app", re.compile(r"^\s*kinesis_event\b")),
    ("iot-events", "app", re.compile(r"^\s*iot_event\b")),
    ("log-events", "app", re.compile(r"^\s*log_event\b")),
)
# Every feature the scan can find: a default among them (public-assets) is dropped when the app does not use it.
DETECTED = frozenset({feature for feature, _, _ in CODE_FEATURES} | {"config-rules", "public-assets", "ssm-dotenv"})
LOCKED_JETS = re.compile(r"^    jets \(([0-9][0-9A-Za-z.]*)(?:-[^)]*)?\)\s*$")  # a spec line under GEM/GIT/PATH specs:
GEM_JETS = re.compile(r"""^\s*gem\s*\(?\s*["']jets["']\s*(.*)$""")
REQUIREMENT = re.compile(r"""^\s*,\s*["']\s*((?:~>|>=|<=|!=|=|>|<)?\s*[0-9][0-9A-Za-z.]*)\s*["']""")
OPERATOR = re.compile(r"^(~>|>=|<=|!=|=|>|<)?\s*(.*)$")
SSM_VALUE = re.compile(r"^\s*(export\s+)?[A-Za-z_][A-Za-z0-9_]*\s*=\s*['\"]?(ssm:|SSM['\"]?\s*$)")
MAX_FILES = 5000  # entries one walk (config/, app/, app/rules, public/) looks at
MAX_FILE_BYTES = 1024 * 1024  # a Ruby file, a Gemfile.lock, an .env file: far smaller in any real app


class ProjectError(Exception):
    pass


@dataclass
class _Reader:
    """Reads the project's files within the caps, noting what it skipped."""

    root: Path
    skipped: list[str] = field(default_factory=list)

    def lines(self, path: Path) -> list[str]:
        """The file's lines; [] for a missing file, and (with a note) for one that is not a regular file or
        is larger than MAX_FILE_BYTES."""
        from auditor.sources.file import SourceError, read_bytes

        if not os.path.lexists(path):
            return []
        try:
            raw = read_bytes(str(path), MAX_FILE_BYTES)
        except SourceError as exc:
            self.skipped.append(f"--project: skipped {exc}")
            return []
        if len(raw) > MAX_FILE_BYTES:
            self.skipped.append(f"--project: skipped {path}: larger than {MAX_FILE_BYTES // 1024} KiB")
            return []
        return raw.decode("utf-8", errors="replace").splitlines()

    def code_lines(self, path: Path) -> Iterator[tuple[int, str]]:
        for number, line in enumerate(self.lines(path), 1):
            if not line.lstrip().startswith("#"):
                yield number, line

    def files(self, sub: str, suffix: str | None) -> list[Path]:
        """The regular files (not links) under root/sub, sorted, ending with `suffix`; at most MAX_FILES
        entries are looked at."""
        base = self.root / sub
        if not base.is_dir() or base.is_symlink():
            return []
        out: list[Path] = []
        seen = 0
        for directory, dirs, names in os.walk(base, followlinks=False):
            dirs.sort()
            seen += len(dirs) + len(names)
            if seen > MAX_FILES:
                self.skipped.append(f"--project: stopped looking in {base} after {MAX_FILES:,} entries")
                break
            for name in sorted(names):
                path = Path(directory, name)
                if suffix is not None and path.suffix != suffix or path.is_symlink():
                    continue
                kind = not_regular(path.lstat().st_mode)
                if kind:
                    self.skipped.append(f"--project: skipped {path}: not a regular file ({kind})")
                else:
                    out.append(path)
        return sorted(out)


def jets_version(root: Path, reader: _Reader | None = None) -> tuple[str | None, tuple[str, ...], str | None]:
    """(release, constraint, "file:line"): the release Gemfile.lock resolved, or else the version
    constraint `gem "jets"` carries in the Gemfile; (None, (), None) when neither says."""
    reader = reader or _Reader(root)
    lock = root / "Gemfile.lock"
    for number, line in enumerate(reader.lines(lock), 1):
        m = LOCKED_JETS.match(line)
        if m:
            return m.group(1), (), f"Gemfile.lock:{number}"
    for number, line in reader.code_lines(root / "Gemfile"):
        m = GEM_JETS.match(line)
        if m:
            rest, found = m.group(1), list[str]()
            while (r := REQUIREMENT.match(rest)) is not None:
                parts = OPERATOR.match(r.group(1))
                assert parts is not None  # the operator is optional and the rest is anything: it always matches
                op, version = parts.groups()
                found.append(f"{op} {version}" if op else version)
                rest = rest[r.end():]
            if found:
                return None, tuple(found), f"Gemfile:{number}"
    return None, (), None


def scan(path: str) -> Project:
    root = Path(path)
    if not root.is_dir():
        raise ProjectError(f"--project {path}: not a directory")
    if not (root / "config").is_dir() and not (root / "app").is_dir():
        raise ProjectError(f"--project {path}: not a Jets app (no config/ or app/ directory)")

    reader = _Reader(root)

    def rel(p: Path, line: int | None = None) -> str:
        text = str(p.relative_to(root))
        return f"{text}:{line}" if line else text

    name = name_from = None
    for file_name, pattern in NAME_PATTERNS:
        for number, line in reader.code_lines(root / file_name):
            m = pattern.search(line)
            if m:
                name, name_from = m.group(1), rel(root / file_name, number)
                break
        if name:
            break

    found: list[tuple[str, str]] = []
    for feature, sub, pattern in CODE_FEATURES:
        for file in reader.files(sub, ".rb"):
            hit = next((n for n, line in reader.code_lines(file) if pattern.search(line)), None)
            if hit:
                found.append((feature, rel(file, hit)))
                break
    rules = reader.files("app/rules", ".rb")
    if rules:
        found.append(("config-rules", rel(rules[0])))
    public = [p for p in reader.files("public", None) if not p.name.startswith(".")]
    if public:
        found.append(("public-assets", rel(public[0])))
    env_files = sorted(root / name for name in os.listdir(root) if name.startswith(".env"))
    for env_file in env_files:
        if not env_file.is_dir():
            hit = next((n for n, line in enumerate(reader.lines(env_file), 1)
                        if not line.lstrip().startswith("#") and SSM_VALUE.match(line)), None)
            if hit:
                found.append(("ssm-dotenv", rel(env_file, hit)))
                break
    version, requirement, version_from = jets_version(root, reader)
    return Project(str(root), name, name_from, tuple(found), version, requirement, version_from,
                   tuple(dict.fromkeys(reader.skipped)))
