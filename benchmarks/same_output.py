"""Dump what the audit says about every AWS managed policy, to show that a refactor changes nothing.

    python benchmarks/same_output.py OUT.json [--corpus ../shared/iam-policy-corpus]
    python benchmarks/same_output.py --time [--runs 5]      # in-process corpus seconds, default settings

Run it on two checkouts (PYTHONPATH=/path/to/checkout) and compare the two files byte for byte
(`cmp a.json b.json`). Each policy is audited on its own under several settings: Jets 5 and 6, the
default features and `--feature all`, with and without a project name, region and account (so the
region/account candidates of the evaluator are exercised too). The dump holds every finding and
every coverage row as the JSON report writes them (findings with locations and lines, coverage with
granted_by, denied_by and notes), one line per policy and setting. The docs fixtures are dumped too.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# (label, prefix, envs, jets version, features ("all" = every feature), region, account)
SETTINGS = (
    ("jets5", "*", ("dev",), "5", None, None, None),
    ("jets6", "*", ("dev",), "6", None, None, None),
    ("jets5-all", "*", ("dev",), "5", "all", None, None),
    ("jets6-all", "*", ("dev",), "6", "all", None, None),
    ("jets5-all-demo-pinned", "demo", ("dev", "prod"), "5", "all", "us-east-1", "123456789012"),
)


def _settings(cat, prefix, envs, version, features, region, account):
    from auditor.report import Settings

    chosen = cat.feature_ids if features == "all" else tuple(f.id for f in cat.features if f.default)
    return Settings(prefix=prefix, prefix_inferred=False, prefix_note=None, envs=envs, jets_version=version,
                    features=chosen, region=region, account=account)


def dump(out: Path, corpus: Path) -> None:
    from auditor import catalogue, engine
    from auditor.report import Target
    from auditor.sources.file import read_policy

    cat = catalogue.load()
    files = sorted(corpus.glob("*.json")) + sorted((ROOT / "fixtures" / "docs").glob("*.json"))
    policies = [(path.name if path.parent == corpus else f"docs/{path.name}", read_policy(str(path))) for path in files]
    with out.open("w", encoding="utf-8") as fh:
        for label, *options in SETTINGS:
            settings = _settings(cat, *options)
            for name, policy in policies:
                report = engine.run([Target("file", name, (policy,))], settings, cat)
                fh.write(json.dumps({"settings": label, "policy": name,
                                     "findings": [f.as_dict() for f in report.findings],
                                     "coverage": [row.as_dict() for row in report.coverage]}, sort_keys=True) + "\n")
    import auditor

    print(f"{out}: {len(SETTINGS)} settings x {len(policies)} policies, audited by {Path(auditor.__file__).parent}")


def timed(corpus: Path, runs: int) -> None:
    from auditor import catalogue, engine
    from auditor.report import Target
    from auditor.sources.file import read_policy

    cat = catalogue.load()
    settings = _settings(cat, "*", ("dev",), "5", None, None, None)
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        for path in sorted(corpus.glob("*.json")):
            engine.run([Target("file", str(path), (read_policy(str(path)),))], settings, cat)
        seconds.append(time.perf_counter() - started)
    print(" ".join(f"{s:.2f}" for s in seconds), f"median {statistics.median(seconds):.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", type=Path)
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "iam-policy-corpus")
    parser.add_argument("--time", action="store_true", help="time the corpus instead of dumping it")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if args.time:
        timed(args.corpus, args.runs)
    elif args.out is None:
        parser.error("give OUT.json, or --time")
    else:
        dump(args.out, args.corpus)


if __name__ == "__main__":
    sys.exit(main())
