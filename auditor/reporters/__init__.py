"""Reporters turn a Report into a string; the CLI decides where it goes."""

from __future__ import annotations

from collections.abc import Callable

from auditor.report import Report

Reporter = Callable[..., str]


def get(fmt: str) -> Reporter:
    """The reporter for a --format value, imported only when used (rich only for tables)."""
    if fmt == "json":
        from auditor.reporters import json

        return json.render
    if fmt == "table":
        from auditor.reporters import table

        return table.render
    raise KeyError(fmt)


FORMATS = ("table", "json")

__all__ = ["FORMATS", "Report", "get"]
