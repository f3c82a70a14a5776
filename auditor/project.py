"""Read a Jets app (--project PATH) to choose the prefix, the Jets version and the features, saying
where each came from.

Reads, without running any Ruby: the project name (config/application.rb `config.project_name` for
Jets 3-5, config/jets/project.rb `config.name` for Jets 6); the Jets version from Gemfile.lock (the
resolved `jets (X.Y.Z)` spec), or else the version constraint of `gem "jets"` in the Gemfile; domain,
vpc_config, resource tags and managed IAM policies in config/; event DSL calls (dynamodb_event,
s3_event, ...) and managed_iam_policy in app/; Config rules in app/rules; files in public/; `ssm:`
values in .env files. Comment lines are ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

NAME_PATTERNS = (
    ("config/application.rb", re.compile(r"""config\.project_name\s*=\s*["']([A-Za-z0-9_-]+)["']""")),
    ("config/jets/project.rb", re.compile(r"""config\.name\s*=\s*["']([A-Za-z0-9_-]+)["']""")),
)
# (feature, directory to scan, pattern)
CODE_FEATURES = (
    ("custom-domain", "config", re.compile(r"config\.domain\.(hosted_zone_name|hosted_zone_id|name|cert_arn|route53)\b")),
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
LOCKED_JETS = re.compile(r"^    jets \(([0-9][0-9A-Za-z.]*)(?:-[^)]*)?\)\s*$")  # a spec line under GEM/GIT/PATH specs:
GEM_JETS = re.compile(r"""^\s*gem\s*\(?\s*["']jets["']\s*(.*)$""")
REQUIREMENT = re.compile(r"""^\s*,\s*["']\s*((?:~>|>=|<=|!=|=|>|<)?\s*[0-9][0-9A-Za-z.]*)\s*["']""")
OPERATOR = re.compile(r"^(~>|>=|<=|!=|=|>|<)?\s*(.*)$")
SSM_VALUE = re.compile(r"^\s*(export\s+)?[A-Za-z_][A-Za-z0-9_]*\s*=\s*['\"]?(ssm:|SSM['\"]?\s*$)")
MAX_FILES = 5000


class ProjectError(Exception):
    pass


@dataclass(frozen=True)
class Project:
    path: str
    name: str | None
    name_from: str | None
    features: tuple[tuple[str, str], ...]  # (feature, "file:line" that shows it is used)
    jets_version: str | None = None  # the release Gemfile.lock resolved
    jets_requirement: tuple[str, ...] = ()  # without a lock file: the Gemfile's constraint, e.g. ("~> 5.0",)
    jets_version_from: str | None = None  # "Gemfile.lock:87" or "Gemfile:12"

    @property
    def feature_ids(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(f for f, _ in self.features))


def _lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []


def _code_lines(path: Path):
    for number, line in enumerate(_lines(path), 1):
        if not line.lstrip().startswith("#"):
            yield number, line


def _files(root: Path, sub: str, suffix: str | None) -> list[Path]:
    base = root / sub
    if not base.is_dir():
        return []
    out: list[Path] = []
    for path in sorted(base.rglob("*")):
        if len(out) >= MAX_FILES:
            break
        if path.is_file() and not path.is_symlink() and (suffix is None or path.suffix == suffix):
            out.append(path)
    return out


def jets_version(root: Path) -> tuple[str | None, tuple[str, ...], str | None]:
    """(release, constraint, "file:line"): the release Gemfile.lock resolved, or else the version
    constraint `gem "jets"` carries in the Gemfile; (None, (), None) when neither says."""
    lock = root / "Gemfile.lock"
    for number, line in enumerate(_lines(lock), 1):
        m = LOCKED_JETS.match(line)
        if m:
            return m.group(1), (), f"Gemfile.lock:{number}"
    for number, line in _code_lines(root / "Gemfile"):
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

    def rel(p: Path, line: int | None = None) -> str:
        text = str(p.relative_to(root))
        return f"{text}:{line}" if line else text

    name = name_from = None
    for file_name, pattern in NAME_PATTERNS:
        for number, line in _code_lines(root / file_name):
            m = pattern.search(line)
            if m:
                name, name_from = m.group(1), rel(root / file_name, number)
                break
        if name:
            break

    found: list[tuple[str, str]] = []
    for feature, sub, pattern in CODE_FEATURES:
        for file in _files(root, sub, ".rb"):
            hit = next((n for n, line in _code_lines(file) if pattern.search(line)), None)
            if hit:
                found.append((feature, rel(file, hit)))
                break
    rules = _files(root, "app/rules", ".rb")
    if rules:
        found.append(("config-rules", rel(rules[0])))
    public = [p for p in _files(root, "public", None) if not p.name.startswith(".")]
    if public:
        found.append(("public-assets", rel(public[0])))
    for env_file in sorted(root.glob(".env*")):
        if env_file.is_file():
            hit = next((n for n, line in enumerate(_lines(env_file), 1)
                        if not line.lstrip().startswith("#") and SSM_VALUE.match(line)), None)
            if hit:
                found.append(("ssm-dotenv", rel(env_file, hit)))
                break
    version, requirement, version_from = jets_version(root)
    return Project(str(root), name, name_from, tuple(found), version, requirement, version_from)
