"""Benchmark jets-iam-audit against parliament, side by side in one run (ratios, not absolute times).

    python benchmarks/run.py [--runs 9] [--corpus-runs 5] [--corpus ../shared/iam-policy-corpus]
                             [--output docs/benchmarks.md] [--cold-only]

1. cold start: one small policy, a fresh process each time, the two tools interleaved, median of --runs;
   also our CLI with --parliament (parliament imported and run as a second opinion) on the same policy;
2. corpus: every policy of the corpus in one process (our engine vs parliament's analyze_policy_string),
   --corpus-runs times each in adjacent pairs; the median pair ratio is reported, and every pair;
3. peak memory (max RSS) of those corpus processes;
4. how our cost grows with the number of statements in one policy;
5. live mode: a group with --live-policies attached policies read from moto (started here, on
   127.0.0.1; never AWS), on one thread and on the tool's default, with the IAM API calls made.
6. end to end, as users run it (--end-to-end, or --e2e-only for this part alone): the corpus through
   `jets-iam-audit file` in one process for each output format (stdout to /dev/null: not a terminal),
   time and peak RSS, each run paired with parliament's API loop over the same files; then growth with
   the number of files (1 to 5,000: the corpus repeated under new names) and with the number of
   statements in one policy (1 to 3,000), through the command with --format json.
It prints a Markdown table and writes it to --output when given. It asserts nothing. --cold-only
measures the cold start alone (a minute, where the whole run takes a quarter of an hour).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SMALL = ROOT / "fixtures" / "docs" / "least-privilege-2021-05.json"

OURS_CORPUS = """
import sys, time
from pathlib import Path
t = time.perf_counter()
from auditor import catalogue, engine
from auditor.report import Settings, Target
from auditor.sources.file import read_policy
cat = catalogue.load()
settings = Settings("*", False, None, ("dev",), "5", ("core", "prewarm"))
for path in sorted(Path(sys.argv[1]).glob("*.json")):
    engine.run([Target("file", str(path), (read_policy(str(path)),))], settings, cat)
print(time.perf_counter() - t)
"""
PARLIAMENT_CORPUS = """
import sys, time
from pathlib import Path
t = time.perf_counter()
from parliament import analyze_policy_string
for path in sorted(Path(sys.argv[1]).glob("*.json")):
    try:
        analyze_policy_string(path.read_text(), filepath=str(path))
    except Exception:
        pass  # parliament raises on two of AWS's policies
print(time.perf_counter() - t)
"""


# The children run with bytecode caching on (as after `pip install`), whatever this shell says.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def _run(cmd: list[str], stdin: Path | None = None) -> tuple[float, int]:
    """Wall time and peak RSS (KiB) of one child process."""
    with open(stdin or os.devnull, "rb") as feed:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdin=feed, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT, env=ENV)
        _, _, usage = os.wait4(proc.pid, 0)
    return time.perf_counter() - start, usage.ru_maxrss


def _run_output(cmd: list[str]) -> tuple[str, int]:
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=ROOT, text=True, env=ENV)
    out = proc.stdout.read()  # type: ignore[union-attr]
    _, _, usage = os.wait4(proc.pid, 0)
    return out, usage.ru_maxrss


def _script(name: str) -> str:
    """A console script installed next to this Python (as a user runs it)."""
    path = Path(sys.executable).parent / name
    if not path.exists():
        sys.exit(f"{name} is not installed in this environment: pip install '.[test]'")
    return str(path)


def cold(runs: int) -> dict[str, float]:
    """Both console scripts on the same small policy, and ours with --parliament. parliament reads it
    from stdin: its --file refuses to run when stdin is not a terminal, and stdin here is a file.
    (parliament's CLI also writes /tmp/parliament.log; ours writes nothing.) One untimed run each
    first, so that all start from their bytecode caches."""
    ours = [_script("jets-iam-audit"), "file", str(SMALL), "--format", "json"]
    commands = {"ours": (ours, None), "parliament": ([_script("parliament")], SMALL),
                "ours --parliament": ([*ours, "--parliament"], None)}
    for cmd, feed in commands.values():
        _run(cmd, feed)
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, (cmd, feed) in commands.items():
            times[name].append(_run(cmd, feed)[0])
    return {k: statistics.median(v) for k, v in times.items()}


def corpus(path: Path, runs: int) -> dict[str, object]:
    """Both tools over the whole corpus, `runs` times, in adjacent pairs (the order alternating). This
    machine's speed drifts by up to 1.5x within minutes, for both tools alike, so each pair's ratio
    is taken while the two ran side by side, and the median pair is reported."""
    times: dict[str, list[float]] = {"ours": [], "parliament": []}
    rss: dict[str, int] = {"ours": 0, "parliament": 0}
    order = [("ours", OURS_CORPUS), ("parliament", PARLIAMENT_CORPUS)]
    for i in range(runs):
        for name, script in order if i % 2 == 0 else order[::-1]:
            text, peak = _run_output([sys.executable, "-c", script, str(path)])
            times[name].append(float(text.strip().splitlines()[-1]))
            rss[name] = max(rss[name], peak)
    ratios = [a / b for a, b in zip(times["ours"], times["parliament"], strict=True)]
    return {"times": times, "rss": rss, "ratios": ratios}


def growth() -> list[tuple[int, float]]:
    from auditor import catalogue, engine
    from auditor.model import parse_policy
    from auditor.report import Settings, Target

    cat = catalogue.load()
    settings = Settings("demo", False, None, ("dev",), "5", ("core", "prewarm"))
    rows = []
    for n in (1, 10, 100, 1000):
        statements = [{"Sid": f"S{i}", "Effect": "Allow", "Action": ["lambda:GetFunction", "s3:GetObject"],
                       "Resource": [f"arn:aws:lambda:*:*:function:demo-{i}-*", f"arn:aws:s3:::demo-{i}/*"]} for i in range(n)]
        policy = parse_policy(json.dumps({"Version": "2012-10-17", "Statement": statements}), "synthetic.json")
        start = time.perf_counter()
        engine.run([Target("file", "synthetic.json", (policy,))], settings, cat)
        rows.append((n, time.perf_counter() - start))
    return rows


E2E_FORMATS = (("json", ["--format", "json"]), ("table", []), ("sarif", ["--format", "sarif"]),
               ("markdown", ["--format", "markdown"]), ("github", ["--format", "github"]),
               ("concise", ["--format", "concise"]), ("--combine json", ["--combine", "--format", "json"]),
               ("--combine table", ["--combine"]))


def _e2e_command(files: list[str], options: list[str]) -> list[str]:
    return [_script("jets-iam-audit"), "file", *files, "--prefix", "demo", *options]


def end_to_end(path: Path, runs: int) -> dict[str, dict[str, list[float]]]:
    """Each format: our command over every corpus file in one process, and parliament's API loop over
    the same files, `runs` adjacent pairs (the order alternating). Seconds and peak RSS (KiB) of each."""
    files = [str(p) for p in sorted(path.glob("*.json"))]
    out: dict[str, dict[str, list[float]]] = {}
    for label, options in E2E_FORMATS:
        row: dict[str, list[float]] = {"ours": [], "parliament": [], "ours_rss": [], "parliament_rss": []}
        order = [("ours", _e2e_command(files, options)), ("parliament", [sys.executable, "-c", PARLIAMENT_CORPUS, str(path)])]
        for i in range(runs):
            for name, cmd in order if i % 2 == 0 else order[::-1]:
                seconds, rss = _run(cmd)
                row[name].append(seconds)
                row[f"{name}_rss"].append(rss)
        out[label] = row
    return out


def file_growth(path: Path, counts: tuple[int, ...], work: Path) -> list[tuple[int, float, int]]:
    """`file --format json` over 1 to 5,000 policy files (the corpus repeated under new names):
    (files, seconds, peak RSS KiB)."""
    corpus = sorted(path.glob("*.json"))
    work.mkdir(parents=True, exist_ok=True)
    names = []
    for i in range(max(counts)):
        target = work / f"{i:05d}-{corpus[i % len(corpus)].name}"
        if not target.exists():
            target.write_bytes(corpus[i % len(corpus)].read_bytes())
        names.append(str(target))
    rows = []
    for n in counts:
        seconds, rss = _run(_e2e_command(names[:n], ["--format", "json"]))
        rows.append((n, seconds, rss))
    return rows


def synthetic_policy(n: int) -> str:
    """n statements, a third of them holding wildcards (what redundant-action indexes), each on its own
    function and bucket."""
    statements = []
    for i in range(n):
        actions = ["lambda:GetFunction", "s3:GetObject"] + (["s3:Get*", "logs:Put*"] if i % 3 == 0 else [])
        statements.append({"Sid": f"S{i}", "Effect": "Allow", "Action": actions,
                           "Resource": [f"arn:aws:lambda:*:*:function:demo-{i}-*", f"arn:aws:s3:::demo-{i}/*"]})
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, indent=2)


def statement_growth(counts: tuple[int, ...], work: Path) -> list[tuple[int, float, int]]:
    """`file --format json` on one policy of 1 to 3,000 statements: (statements, seconds, peak RSS KiB)."""
    work.mkdir(parents=True, exist_ok=True)
    rows = []
    for n in counts:
        policy = work / f"statements-{n}.json"
        policy.write_text(synthetic_policy(n))
        seconds, rss = _run(_e2e_command([str(policy)], ["--format", "json"]))
        rows.append((n, seconds, rss))
    return rows


def e2e_lines(path: Path, runs: int) -> list[str]:
    import tempfile

    med = statistics.median
    e2e = end_to_end(path, runs)
    with tempfile.TemporaryDirectory(prefix="jets-iam-audit-bench-") as tmp:
        files = file_growth(path, (1, 10, 100, 1000, 5000), Path(tmp) / "files")
        stmts = statement_growth((1, 10, 100, 1000, 2000, 3000), Path(tmp) / "statements")
    n_files = len(list(path.glob("*.json")))

    def ratio(label: str) -> float:  # median of the adjacent pairs' ratios
        row = e2e[label]
        return med(a / b for a, b in zip(row["ours"], row["parliament"], strict=True))

    json_ratio = ratio("json")
    targets = {"json": "≤ 0.5x", "table": "≤ 2x json", "sarif": "≤ 1.2x json", "markdown": "≤ 1.2x json",
               "github": "≤ 1.2x json"}
    lines = [
        f"End to end {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, Python {sys.version.split()[0]}, "
        f"{os.cpu_count()} cores; `python benchmarks/run.py --e2e-only --e2e-runs {runs}`", "",
        f"The corpus ({n_files} AWS managed policies) through `jets-iam-audit file CORPUS/*.json --prefix demo [options]` "
        "in one process, stdout to /dev/null, each run paired with parliament's API loop "
        f"(`analyze_policy_string` over the same files); median of {runs} adjacent pairs, peak RSS the highest run:", "",
        "| output | ours | parliament | time vs parliament | vs json | peak memory (ours / parliament) | target |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, _ in E2E_FORMATS:
        row = e2e[label]
        r = ratio(label)
        rss, prss = max(row["ours_rss"]), max(row["parliament_rss"])
        target = targets.get(label, "-")
        if label == "json":
            target += " time, ≤ 1.0x memory"
        lines.append(f"| {label} | {med(row['ours']):.2f} s | {med(row['parliament']):.2f} s | {r:.2f}x | "
                     f"{r / json_ratio:.2f}x | {rss / 1024:.0f} / {prss / 1024:.0f} MiB ({rss / prss:.2f}x) | {target} |")
    by_files = {n: (t, m) for n, t, m in files}
    by_stmts = {n: (t, m) for n, t, m in stmts}
    lines += [
        "", "Growth with the number of files (`file --format json`, the corpus repeated under new names; one run each):", "",
        "| files | seconds | ms a file | peak memory |", "|---|---|---|---|",
        *[f"| {n} | {t:.2f} | {1000 * t / n:.1f} | {m / 1024:.0f} MiB |" for n, t, m in files],
        "",
        f"5,000 files against 1,000: {by_files[5000][0] / by_files[1000][0]:.2f}x the time (target ≤ 5.5x), "
        f"{by_files[5000][1] / by_files[1000][1]:.2f}x the memory (target ≤ 1.5x).",
        "", "Growth with the number of statements in one policy (`file --format json`, a third of the statements "
        "holding wildcards; one run each, the process's start included):", "",
        "| statements | seconds | peak memory |", "|---|---|---|",
        *[f"| {n} | {t:.2f} | {m / 1024:.0f} MiB |" for n, t, m in stmts],
        "",
        f"3,000 statements against 1,000: {by_stmts[3000][0] / by_stmts[1000][0]:.2f}x the time (target ≤ 3.5x).",
        "",
        "Every run, in order (ours / parliament seconds): " + "; ".join(
            f"{label}: " + ", ".join(f"{a:.2f}/{b:.2f}" for a, b in zip(e2e[label]["ours"], e2e[label]["parliament"], strict=True))
            for label, _ in E2E_FORMATS),
        "",
    ]
    return lines


def _moto() -> tuple[subprocess.Popen, str]:
    """moto as a real HTTP server on 127.0.0.1 (never AWS), started for this measurement."""
    import socket
    import urllib.request

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(url + "/moto-api/", timeout=1)
            return proc, url
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                sys.exit("moto server did not start")
            time.sleep(0.2)


def live(n_policies: int) -> list[tuple[int, int, int, float]]:
    """A group with `n_policies` attached managed policies, read by `live` from moto: (workers, API calls,
    policies read, seconds), one thread and the tool's default."""
    import boto3

    from auditor.sources import aws

    os.environ.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"})
    proc, url = _moto()
    try:
        iam = boto3.client("iam", endpoint_url=url, region_name="us-east-1")
        iam.create_group(GroupName="Jets")
        document = SMALL.read_text()
        for i in range(n_policies):
            arn = iam.create_policy(PolicyName=f"jets-{i}", PolicyDocument=document)["Policy"]["Arn"]
            iam.attach_group_policy(GroupName="Jets", PolicyArn=arn)
        calls = [0]
        make_client = aws._client

        def counting_client(*args, **kwargs):
            client = make_client(*args, **kwargs)
            client.meta.events.register("before-call", lambda **_: calls.__setitem__(0, calls[0] + 1))
            return client

        default = aws.WORKERS
        aws._client = counting_client
        rows = []
        try:
            for workers in (1, default):
                aws.WORKERS = workers
                calls[0] = 0
                start = time.perf_counter()
                principal = aws.fetch_live("group", "Jets", endpoint_url=url)
                rows.append((workers, calls[0], len(principal.policies), time.perf_counter() - start))
        finally:
            aws.WORKERS, aws._client = default, make_client
        return rows
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9, help="cold-start runs of each tool")
    parser.add_argument("--corpus-runs", type=int, default=5, help="corpus runs of each tool, in adjacent pairs")
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "iam-policy-corpus")
    parser.add_argument("--output", type=Path)
    parser.add_argument("--live-policies", type=int, default=1000, help="attached policies of the live-mode group")
    parser.add_argument("--cold-only", action="store_true", help="measure the cold start only")
    parser.add_argument("--end-to-end", action="store_true", help="also measure the command end to end (section 6)")
    parser.add_argument("--e2e-only", action="store_true", help="measure the command end to end only")
    parser.add_argument("--e2e-runs", type=int, default=3, help="end-to-end runs of each format, in adjacent pairs")
    args = parser.parse_args()

    if args.e2e_only:
        text = "\n".join(e2e_lines(args.corpus, args.e2e_runs))
        print(text)
        if args.output:
            args.output.parent.mkdir(parents=True, exist_ok=True)
            args.output.write_text(text)
        return

    c = cold(args.runs)
    cold_rows = [
        f"| cold start, one small policy (median of {args.runs}, fresh process) | {c['ours']:.3f} s | {c['parliament']:.3f} s | "
        f"{c['ours'] / c['parliament']:.2f}x | ≤ 0.6x |",
        f"| cold start with `--parliament` (ours, running parliament too; same policy) | {c['ours --parliament']:.3f} s | "
        f"{c['parliament']:.3f} s | {c['ours --parliament'] / c['parliament']:.2f}x | - |",
    ]
    if args.cold_only:
        text = "\n".join([
            f"Cold start {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, Python {sys.version.split()[0]}, "
            f"{os.cpu_count()} cores; `python benchmarks/run.py --runs {args.runs} --cold-only`", "",
            "| measure | jets-iam-audit | parliament | ratio (ours / parliament) | target |", "|---|---|---|---|---|",
            *cold_rows, ""])
        print(text)
        if args.output:
            args.output.parent.mkdir(parents=True, exist_ok=True)
            args.output.write_text(text)
        return
    k = corpus(args.corpus, args.corpus_runs)
    kt, kr = k["times"], k["rss"]  # type: ignore[index]
    ratios = sorted(k["ratios"])  # type: ignore[call-overload]
    g = growth()
    lv = live(args.live_policies)
    n_files = len(list(args.corpus.glob("*.json")))
    lines = [
        f"Benchmark run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, Python {sys.version.split()[0]}, "
        f"{os.cpu_count()} cores; `python benchmarks/run.py --runs {args.runs} --corpus-runs {args.corpus_runs}`",
        "",
        "| measure | jets-iam-audit | parliament | ratio (ours / parliament) | target |",
        "|---|---|---|---|---|",
        *cold_rows,
        f"| corpus, {n_files} AWS managed policies, one process (median of {args.corpus_runs} adjacent pairs) | "
        f"{statistics.median(kt['ours']):.2f} s | {statistics.median(kt['parliament']):.2f} s | "
        f"{statistics.median(ratios):.2f}x | ≤ 0.5x |",
        f"| peak memory of the corpus run (highest of the runs) | {kr['ours'] / 1024:.0f} MiB | "
        f"{kr['parliament'] / 1024:.0f} MiB | {kr['ours'] / kr['parliament']:.2f}x | ≤ 1.0x |",
        "",
        "Corpus runs, in order (ours / parliament, seconds, ratio): "
        + "; ".join(f"{a:.2f} / {b:.2f} = {a / b:.2f}x" for a, b in zip(kt["ours"], kt["parliament"], strict=True)),
        "",
        "Growth with the number of statements in one policy (our engine, in process):",
        "",
        "| statements | seconds |",
        "|---|---|",
        *[f"| {n} | {t:.3f} |" for n, t in g],
        "",
        f"Live mode: a group with {args.live_policies} attached managed policies, read from moto on 127.0.0.1 "
        "(`fetch_live`, no audit):",
        "",
        "| threads | IAM API calls | policies read | seconds |",
        "|---|---|---|---|",
        *[f"| {w} | {n} | {p} | {t:.2f} |" for w, n, p, t in lv],
        "",
        *(e2e_lines(args.corpus, args.e2e_runs) if args.end_to_end else []),
    ]
    text = "\n".join(lines)
    print(text)
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text)


if __name__ == "__main__":
    main()
