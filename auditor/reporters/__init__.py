"""Reporters turn a Report into a string; the CLI decides where it goes."""

from __future__ import annotations

import importlib
from collections.abc import Callable

from auditor.choices import FORMATS

Reporter = Callable[..., str]


def get(fmt: str) -> Reporter:
    """The reporter for a --format value, imported only when used (rich only for tables)."""
    if fmt not in FORMATS:
        raise KeyError(fmt)
    return importlib.import_module(f"auditor.reporters.{fmt}").render
