"""Apply of N updates against the emulator with 20 ms of added latency, side by side in one run:
`test` preconditions (one guarded PATCH per update) at parallelism 1 and 8, and `if-match`
preconditions (a read, then a PATCH) at parallelism 8; requests per change in both modes."""

from __future__ import annotations

import dataclasses
import tempfile
import time
from pathlib import Path

from reconciler import commands
from reconciler.emulator.app import create_app
from reconciler.model import Preconditions
from tests.bench import estate_gen

LATENCY_MS = 20.0


def run(count: int = 1_000) -> list[str]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "repo"
        files = estate_gen.write(root, count)
        app = create_app()
        ws = commands.workspace(root, commands.Dependencies(env={}, app=app))
        sandbox = ws.config.sandbox(None)
        assert commands.apply(ws, sandbox, commands.plan(ws, None), parallelism=8).succeeded

        measured: dict[tuple[Preconditions, int], tuple[float, int]] = {}
        priority = 1
        for mode, parallelism in (
            (Preconditions.TEST, 1),
            (Preconditions.TEST, 8),
            (Preconditions.IF_MATCH, 8),
        ):
            estate_gen.bump_priority(files, priority, priority + 1)
            priority += 1
            plan = dataclasses.replace(commands.plan(ws, None), preconditions=mode)
            assert len(plan.changes) == count
            quiet = app.state.settings
            app.state.settings = dataclasses.replace(quiet, latency_ms=LATENCY_MS)
            try:
                started = time.perf_counter()
                report = commands.apply(ws, sandbox, plan, parallelism=parallelism)
                elapsed = time.perf_counter() - started
            finally:
                app.state.settings = quiet
            assert report.succeeded
            measured[mode, parallelism] = (elapsed, report.requests - 1)  # -1: the IMS token
    serial, _ = measured[Preconditions.TEST, 1]
    parallel, parallel_requests = measured[Preconditions.TEST, 8]
    read_first, read_first_requests = measured[Preconditions.IF_MATCH, 8]
    return [
        f"{count:,} updates, {LATENCY_MS:.0f} ms added latency per request (in-process emulator)",
        f"  test preconditions, parallelism 1: {serial:6.1f} s  ({count / serial:6.1f} updates/s)",
        f"  test preconditions, parallelism 8: {parallel:6.1f} s  ({count / parallel:6.1f} updates/s)",
        f"  speed-up: {serial / parallel:.1f}x (goal: at least 6x: {'met' if serial / parallel >= 6 else 'NOT met'})",
        f"  if-match preconditions, parallelism 8: {read_first:6.1f} s  ({count / read_first:6.1f} updates/s)",
        f"Requests per change: test {parallel_requests / count:.2f} (one guarded PATCH), "
        f"if-match {read_first_requests / count:.2f} (a read, then a PATCH): "
        f"{read_first_requests / parallel_requests:.2f}x the requests and "
        f"{read_first / parallel:.2f}x the time of test preconditions",
    ]
