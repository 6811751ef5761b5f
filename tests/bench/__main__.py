"""`make bench`: every figure measured side by side in one run, ours against a baseline.

    python -m tests.bench [--quick]

--quick uses 2,000 offers instead of 10,000 and 200 updates instead of 1,000 (for a smoke run).
"""

from __future__ import annotations

import sys
import time

from tests.bench import apply_bench, patch_size, plan_bench, rate_bench, simulation_bench


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    started = time.perf_counter()
    sections = [
        ("Plan", lambda: plan_bench.run(2_000 if quick else 10_000)),
        ("Apply", lambda: apply_bench.run(200 if quick else 1_000)),
        ("Patch size", patch_size.run),
        ("Patch speed", lambda: patch_size.timing(2_000 if quick else 10_000)),
        ("Patch engine at the guardrails", patch_size.guardrails),
        ("Decision tests", lambda: simulation_bench.run(2_000 if quick else 10_000)),
        ("Rate limit", lambda: rate_bench.run(100 if quick else rate_bench.CHANGES)),
    ]
    for title, section in sections:
        print(f"== {title} ==", flush=True)
        for line in section():
            print(line, flush=True)
        print(flush=True)
    print(f"make bench took {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
