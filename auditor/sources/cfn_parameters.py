"""Values for CloudFormation template parameters: `--parameter KEY=VALUE` (repeatable) and
`--parameter-file FILE`, over the templates' Defaults (cfn_resolve.py applies them).

A parameter file is JSON in one of the shapes `aws cloudformation deploy --parameter-overrides
file://FILE` reads (aws-cli 2, awscli/customizations/cloudformation/deploy.py, since PR #5443):
- `["Key1=Value1", "Key2=Value2"]`;
- CloudFormation's `[{"ParameterKey": "Key1", "ParameterValue": "Value1"}, ...]` (create-stack's
  --parameters; an entry with `UsePreviousValue` has no value here and is left out);
- CodePipeline's template configuration `{"Parameters": {"Key1": "Value1"}, "Tags": {...}}`.
The file is read through the capped, non-blocking reader of policy files. `--parameter` wins over the
file. Every problem is a ParameterError with one line (exit 2).
"""

from __future__ import annotations

import json
from collections.abc import Iterable

MAX_PARAMETERS = 1_000  # CloudFormation allows 200 parameters per template


class ParameterError(Exception):
    """A --parameter or --parameter-file that cannot be used: one line for the user."""


def _pair(text: str, where: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ParameterError(f"{where}: {text[:80]!r} is not KEY=VALUE")
    return key, value


def from_file(path: str) -> dict[str, str]:
    from auditor.model import decode_text
    from auditor.sources.file import MAX_BYTES, SourceError, read_bytes

    try:
        raw = read_bytes(path)
    except SourceError as exc:
        raise ParameterError(f"--parameter-file {exc}") from exc
    if len(raw) > MAX_BYTES:
        raise ParameterError(f"--parameter-file {path}: larger than {MAX_BYTES // (1024 * 1024)} MiB; refused")
    text, error = decode_text(raw)
    if text is None:
        raise ParameterError(f"--parameter-file {path}: {error}")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ParameterError(f"--parameter-file {path}: not JSON ({str(exc)[:120]})") from exc
    where = f"--parameter-file {path}"
    out: dict[str, str] = {}
    if isinstance(data, dict) and isinstance(data.get("Parameters"), dict):
        items: Iterable[tuple[object, object]] = data["Parameters"].items()
    elif isinstance(data, list):
        items = []
        for entry in data:
            if isinstance(entry, str):
                items.append(_pair(entry, where))
            elif isinstance(entry, dict) and "ParameterKey" in entry:
                if "ParameterValue" in entry:
                    items.append((entry["ParameterKey"], entry["ParameterValue"]))
            else:
                raise ParameterError(f"{where}: an entry is neither \"KEY=VALUE\" nor {{\"ParameterKey\": ..., "
                                     "\"ParameterValue\": ...}")
    else:
        raise ParameterError(f"{where}: not a parameter file (a JSON list of \"KEY=VALUE\" or of {{\"ParameterKey\", "
                             "\"ParameterValue\"}, or {\"Parameters\": {...}})")
    for key, value in items:
        if not isinstance(key, str) or not isinstance(value, (str, int, float, bool)) or isinstance(value, bool):
            raise ParameterError(f"{where}: parameter {str(key)[:80]!r} has a value that is not a string or a number")
        out[key] = value if isinstance(value, str) else json.dumps(value)
    if len(out) > MAX_PARAMETERS:
        raise ParameterError(f"{where}: more than {MAX_PARAMETERS:,} parameters")
    return out


def parameters(pairs: Iterable[str] | None, files: Iterable[str] | None) -> dict[str, str]:
    """The parameter values of the run: the files' in order, then each --parameter (a later one wins)."""
    out: dict[str, str] = {}
    for path in files or ():
        out.update(from_file(path))
    for text in pairs or ():
        key, value = _pair(text, "--parameter")
        out[key] = value
    return out
