from __future__ import annotations

import json

import pytest

from auditor import catalogue, engine
from auditor.model import parse_policy
from auditor.report import Settings, Target


@pytest.fixture(scope="session")
def cat():
    return catalogue.load()


@pytest.fixture
def findings(cat):
    """findings(rule_id, *statements, prefix="demo", features=("core", "prewarm"), version="5") ->
    [(severity, subject, message, pointer)] of that rule on a policy of these statements."""

    def run(rule_id, *statements, prefix="demo", features=("core", "prewarm"), version="5", text=None):
        doc = text if text is not None else json.dumps({"Version": "2012-10-17", "Statement": list(statements)}, indent=2)
        policy = parse_policy(doc, "p.json")
        settings = Settings(prefix, False, None, ("dev",), version, tuple(features))
        report = engine.run([Target("file", "p.json", (policy,))], settings, cat)
        return [(f.severity, f.subject, f.message, f.location.pointer) for f in report.findings if f.rule_id == rule_id]

    return run


def allow(action, resource, **extra):
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action, resource, **extra):
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}
