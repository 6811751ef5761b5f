"""Apply of N offer changes against the served emulator limited to R calls per second: the real
`reconciler apply --auto-approve --parallelism P` command, timed as a command, while the
client's adaptive limit (AIMD) finds the rate the sandbox allows.

    python -m tests.bench.rate_bench [--changes N] [--rate R] [--parallelism P]

Defaults: N=500 offers, R=20 calls/s, P=8: about a minute in all. The issue's figure is
N=10,000: `--changes 10000`, or RATE_BENCH_CHANGES=10000 under `make bench` (about 20 minutes,
most of it the 10,000 updates at 20/s). The estate is created and updated once on an unlimited
emulator, then every offer is edited again in git and applied with the emulator restarted on
the same data and port under `--rate-limit R`. Each line says the changes, the seconds, the
writes/s and the calls/s accepted (against the R allowed; a 429 is not accepted), the 429s the
command saw (from its -v log), how low its adaptive in-flight limit went, and its failures
(which must be 0).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tests.bench import estate_gen
from tests.emulator_support import free_port, served

CHANGES = int(os.environ.get("RATE_BENCH_CHANGES", "500"))
RATE = 20.0
"""Below what the served emulator sustains unlimited (about 40 writes/s here), or it never
answers 429: the `update, no limit` line shows that ceiling on the machine at hand."""
PARALLELISM = 8

CONFIG = """\
default: remote
sandboxes:
  remote:
    endpoint: {base}/data/core/dps
    ims: {base}/ims/token/v3
    org: 1234ABCD@AdobeOrg
    name: prod
"""
_CALL = re.compile(r"^(GET|POST|PATCH|DELETE) \S+ -> (\d{3}|no response) ")
_LOWER = re.compile(r"^throttled \(429\): at most (\d+) requests in flight now")


@dataclass(frozen=True, slots=True)
class Measured:
    """One timed `reconciler apply`, read from its JSON report and its -v request log."""

    changes: int
    seconds: float
    writes: int
    calls: int
    throttled: int
    lowest_limit: int | None
    failures: int

    def line(self, what: str, rate: float | None) -> str:
        seconds = self.seconds
        accepted = (self.calls - self.throttled) / seconds
        allowed = "" if rate is None else f" of {rate:g} allowed ({accepted / rate:.0%})"
        lowest = (
            "" if self.lowest_limit is None else f", in-flight limit down to {self.lowest_limit}"
        )
        return (
            f"  {what:<26} {self.changes:>6,} changes in {seconds:6.1f} s: "
            f"{self.writes / seconds:6.1f} writes/s, {accepted:6.1f} calls/s accepted{allowed}; "
            f"{self.throttled:,} x 429{lowest}; {self.failures} failures"
        )


def run(count: int = CHANGES, rate: float = RATE, parallelism: int = PARALLELISM) -> list[str]:
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        root, data, port = tmp / "repo", tmp / "emulator.journal", free_port()
        files = estate_gen.write(root, count)
        (root / "reconciler.yaml").write_text(CONFIG.format(base=f"http://127.0.0.1:{port}"))
        with served("--data", str(data), log=tmp / "emulator.log", port=port):
            created = _apply(root, parallelism, tmp)
            estate_gen.bump_priority(files, 1, 2)
            free = _apply(root, parallelism, tmp)
        estate_gen.bump_priority(files, 2, 3)
        with served(
            "--data", str(data), "--rate-limit", f"{rate:g}", log=tmp / "emulator.log", port=port
        ):
            limited = _apply(root, parallelism, tmp)
    return [
        f"{count:,} offers, `reconciler apply --auto-approve --parallelism {parallelism}` "
        f"(in-flight ceiling {max(parallelism * 2, 4)}) against the served emulator",
        created.line("create, no limit:", None),
        free.line("update, no limit:", None),
        limited.line(f"update, {rate:g} calls/s limit:", rate),
        f"  under the limit: {limited.writes / limited.seconds / rate:.0%} of the allowed rate "
        f"as writes, {limited.seconds / free.seconds:.1f}x the unlimited time, "
        f"{limited.failures} failures",
    ]


def _apply(root: Path, parallelism: int, tmp: Path) -> Measured:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("ADOBE_")},
        "ADOBE_CLIENT_ID": "bench-bot",
        "ADOBE_CLIENT_SECRET": "bench-secret",
    }
    command = [sys.executable, "-m", "reconciler.cli", "-v", "-C", str(root), "apply"]
    command += ["--auto-approve", "--parallelism", str(parallelism), "--format", "json"]
    log = tmp / "apply.log"
    with open(log, "w") as stderr:
        started = time.perf_counter()
        done = subprocess.run(command, env=env, stdout=subprocess.PIPE, stderr=stderr, text=True)
        seconds = time.perf_counter() - started
    report = json.loads(done.stdout) if done.stdout.startswith("{") else {"results": []}
    results = report["results"]
    calls = writes = throttled = 0
    lowest: int | None = None
    for line in log.read_text().splitlines():
        if lowered := _LOWER.match(line):
            lowest = int(lowered[1]) if lowest is None else min(lowest, int(lowered[1]))
        elif call := _CALL.match(line):
            calls += 1
            throttled += call[2] == "429"
            writes += call[1] != "GET" and call[2].startswith("2")
    failures = sum(1 for result in results if result["outcome"] != "applied")
    if done.returncode != 0 and not failures:
        failures = 1  # the command failed before reporting: its last line says why
        print(log.read_text().splitlines()[-1], file=sys.stderr)
    return Measured(len(results), seconds, writes, calls, throttled, lowest, failures)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.rate_bench")
    parser.add_argument("--changes", type=int, default=CHANGES)
    parser.add_argument("--rate", type=float, default=RATE)
    parser.add_argument("--parallelism", type=int, default=PARALLELISM)
    args = parser.parse_args(argv)
    for line in run(args.changes, args.rate, args.parallelism):
        print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
