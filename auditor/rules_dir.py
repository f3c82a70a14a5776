"""Where the rules/ data is: the catalogue, the request context, the global condition keys and the
second opinion's table all read their files from this one folder."""

from __future__ import annotations

from pathlib import Path


def rules_dir() -> Path:
    """rules/ inside the wheel (auditor/_rules), else the source checkout's top-level rules/."""
    packaged = Path(__file__).parent / "_rules"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "rules"
