"""Reporters turn a Report into a string; the CLI decides where it goes."""

from __future__ import annotations

import importlib
from collections.abc import Callable

Reporter = Callable[..., str]

FORMATS = ("table", "concise", "json", "sarif", "markdown", "github")


def get(fmt: str) -> Reporter:
    """The reporter for a --format value, imported only when used (rich only for tables)."""
    if fmt not in FORMATS:
        raise KeyError(fmt)
    return importlib.import_module(f"auditor.reporters.{fmt}").render
