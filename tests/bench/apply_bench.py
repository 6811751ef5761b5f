"""Apply of N updates against the emulator with 20 ms of added latency: parallelism 8 against 1
in the same run, and the requests sent against the minimum."""

from __future__ import annotations

import dataclasses
import tempfile
import time
from pathlib import Path

from reconciler import commands
from reconciler.emulator.app import create_app
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

        measured: dict[int, tuple[float, int]] = {}
        priority = 1
        for parallelism in (1, 8):
            estate_gen.bump_priority(files, priority, priority + 1)
            priority += 1
            plan = commands.plan(ws, None)
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
            measured[parallelism] = (elapsed, report.requests)
    (serial, serial_requests), (parallel, parallel_requests) = measured[1], measured[8]
    minimum = 2 * count
    return [
        f"{count:,} updates, {LATENCY_MS:.0f} ms added latency per request (in-process emulator)",
        f"  parallelism 1: {serial:6.1f} s  ({count / serial:6.1f} updates/s, {serial_requests:,} requests)",
        f"  parallelism 8: {parallel:6.1f} s  ({count / parallel:6.1f} updates/s, {parallel_requests:,} requests)",
        f"  speed-up: {serial / parallel:.1f}x (goal: at least 6x: {'met' if serial / parallel >= 6 else 'NOT met'})",
        f"Requests per apply: {parallel_requests:,} against a minimum of {minimum:,} "
        f"(one PATCH per change plus one etag confirmation each; +1 for the IMS token)",
    ]
