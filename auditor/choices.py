"""Every closed set of option values, defined once: the CLI's options, config validation, the
reporters and the generator read these (a Literal for the types, its values as a tuple for checks
and messages). Imported by cli.py at start: nothing here may import more than `typing`."""

from __future__ import annotations

from typing import Literal, get_args

Format = Literal["table", "concise", "json", "sarif", "markdown", "github"]  # file, live: --format; config "format"
FORMATS: tuple[Format, ...] = get_args(Format)

Severity = Literal["info", "low", "medium", "high", "critical"]  # --fail-on; config "fail-on" and rules.*.severity
SEVERITIES: tuple[Severity, ...] = get_args(Severity)

CatalogueFormat = Literal["table", "json"]  # catalogue --format
CATALOGUE_FORMATS: tuple[CatalogueFormat, ...] = get_args(CatalogueFormat)

GenerateFormat = Literal["json", "terraform", "cloudformation"]  # generate --format
GENERATE_FORMATS: tuple[GenerateFormat, ...] = get_args(GenerateFormat)

Attach = Literal["managed", "group-inline", "user-inline", "role-inline"]  # generate --attach
ATTACHES: tuple[Attach, ...] = get_args(Attach)

PrincipalKind = Literal["group", "user", "role"]  # live and --auth-details: --group, --user, --role
PRINCIPAL_KINDS: tuple[PrincipalKind, ...] = get_args(PrincipalKind)
