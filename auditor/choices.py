"""Every closed set of option values, defined once: the CLI's options, config validation, the
reporters and the generator read these (a Literal for the types and typer's choices; its values as a
tuple where code checks a value or lists them). Imported by cli.py at start: nothing here may import more than `typing`."""

from __future__ import annotations

from typing import Literal, get_args

Format = Literal["table", "concise", "json", "sarif", "markdown", "github"]  # file, live: --format; config "format"
FORMATS: tuple[Format, ...] = get_args(Format)

Severity = Literal["info", "low", "medium", "high", "critical"]  # --fail-on; config "fail-on" and rules.*.severity
SEVERITIES: tuple[Severity, ...] = get_args(Severity)

Details = Literal["failing", "all"]  # file, live: --details (table: details for the targets failing --fail-on, or every one)

CatalogueFormat = Literal["table", "json"]  # catalogue --format
GenerateFormat = Literal["json", "terraform", "cloudformation"]  # generate --format
Attach = Literal["managed", "group-inline", "user-inline", "role-inline"]  # generate --attach (generate.QUOTAS)

PrincipalKind = Literal["group", "user", "role"]  # live and --auth-details: --group, --user, --role
PRINCIPAL_KINDS: tuple[PrincipalKind, ...] = get_args(PrincipalKind)
