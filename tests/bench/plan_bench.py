"""Plan of N personalized offers against the embedded sandbox, against two baselines:
parsing the YAML with ruamel's fastest loader, and a naive planner (one GET per object,
DeepDiff on every pair) run in the same process on the same sandbox."""

from __future__ import annotations

import asyncio
import gc
import math
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from deepdiff import DeepDiff
from ruamel.yaml import YAML

from reconciler import commands, documents, graph, kinds, planner, statefile
from reconciler.emulator.embedded import embedded_app
from reconciler.model import JsonObject, Kind
from tests.bench import estate_gen


def run(count: int = 10_000) -> list[str]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "repo"
        files = estate_gen.write(root, count)
        app = embedded_app(root)  # persisted in .reconciler/, so a CLI process can plan too
        ws = commands.workspace(root, commands.Dependencies(env={}, app=app))
        sandbox = ws.config.sandbox(None)

        started = time.perf_counter()
        first = commands.plan(ws, None)
        report = commands.apply(ws, sandbox, first, parallelism=8)
        setup = time.perf_counter() - started
        assert report.succeeded, "the benchmark estate did not apply"

        parse = _parse_baseline(root)
        ours = _ours(ws)
        assert ours["changes"] == 0, f"a fresh apply should plan nothing, got {ours['changes']}"
        memory = _peak_memory(ws)
        cli = _cli_plan(root)
        naive = _naive(ws)

        changed = files[: max(1, count // 100)]
        estate_gen.bump_priority(changed, 1, 2)
        ours_changed = _ours(ws)
        assert ours_changed["changes"] == len(changed)
        naive_changed = _naive(ws)
        assert naive_changed["changes"] == len(changed)

    live_total = count + 11
    pages = sum(
        max(1, math.ceil(n / sandbox.page_size))
        for n in (count, 1, 10, 0, 0, 0, 0)  # offers, placements, tags, other kinds empty
    )
    after_load = ours["refresh"] + ours["diff"]
    after_load_changed = ours_changed["refresh"] + ours_changed["diff"]
    return [
        f"Estate: {count:,} personalized offers + 1 placement + 10 tags ({live_total:,} objects); "
        f"set-up apply of {live_total:,} creates took {setup:.1f} s",
        f"Baseline: parse the {live_total:,} files with ruamel YAML(typ='safe', pure=False): "
        f"{parse:.2f} s ({parse / live_total * 1e3:.2f} ms a file)",
        "",
        f"{'':34}{'no changes':>14}{'1% changed':>14}",
        _row("load + validate YAML", ours["load"], ours_changed["load"]),
        _row("refresh (list pages)", ours["refresh"], ours_changed["refresh"]),
        _row("diff (three-way + patches)", ours["diff"], ours_changed["diff"]),
        _row("whole plan", ours["total"], ours_changed["total"]),
        _row("whole plan / YAML parse", ours["total"] / parse, ours_changed["total"] / parse, "x"),
        _row("naive refresh + diff", naive["total"], naive_changed["total"]),
        _row("ours refresh + diff", after_load, after_load_changed),
        _row(
            "naive / ours (after loading)",
            naive["total"] / after_load,
            naive_changed["total"] / after_load_changed,
            "x",
        ),
        "",
        f"Goal: whole plan within 3x of the YAML parse: {ours['total'] / parse:.2f}x / "
        f"{ours_changed['total'] / parse:.2f}x ({_verdict(ours['total'] / parse <= 3)}); "
        f"after loading at least 10x faster than naive: {naive['total'] / after_load:.0f}x / "
        f"{naive_changed['total'] / after_load_changed:.0f}x ({_verdict(naive_changed['total'] / after_load_changed >= 10)})",
        f"Requests per plan: ours {ours['requests']} (minimum {pages}: one per page of {sandbox.page_size} "
        f"per kind); naive {naive['requests']:,} (one GET per object)",
        f"Peak memory during a plan: {memory['traced'] / 2**20:.0f} MiB allocated by Python "
        "(tracemalloc, in this process, the emulator's stored objects excluded)",
        f"`reconciler plan` as a command: {cli['seconds']:.1f} s, peak RSS {cli['rss'] / 2**10:.0f} MiB "
        "(a fresh process that also replays the embedded sandbox's journal of "
        f"{live_total:,} objects)",
    ]


def _row(label: str, a: float, b: float, unit: str = "s") -> str:
    return f"  {label:<32}{a:>12.2f} {unit}{b:>12.2f} {unit}"


def _verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def _parse_baseline(root: Path) -> float:
    yaml = YAML(typ="safe", pure=False)
    paths = sorted((root / "offers").rglob("*.yaml"))
    gc.collect()
    started = time.perf_counter()
    for path in paths:
        yaml.load(path.read_bytes())
    return time.perf_counter() - started


def _ours(ws: commands.Workspace) -> dict[str, float]:
    """The phases of `commands.plan`, timed one by one."""
    sandbox = ws.config.sandbox(None)
    gc.collect()
    t0 = time.perf_counter()
    desired = documents.load(ws.root)
    t1 = time.perf_counter()
    state = statefile.read(ws.state_path(sandbox))

    async def refresh() -> tuple[dict[Kind, list[JsonObject]], int]:
        async with commands.client_for(ws, sandbox) as client:
            live = await commands.refresh(client, sandbox.page_size)
            return live, client.counters.total

    live, requests = asyncio.run(refresh())
    t2 = time.perf_counter()
    plan = planner.plan(
        desired,
        state,
        live,
        target=planner.Target(sandbox.key, sandbox.org, sandbox.endpoint),
        ignore=ws.config.ignore,
        prune=False,
    )
    t3 = time.perf_counter()
    return {
        "load": t1 - t0,
        "refresh": t2 - t1,
        "diff": t3 - t2,
        "total": t3 - t0,
        "requests": requests,
        "changes": len(plan.changes),
    }


def _peak_memory(ws: commands.Workspace) -> dict[str, float]:
    gc.collect()
    tracemalloc.start()
    commands.plan(ws, None)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"traced": peak}


_MEASURED = """
import sys
from reconciler.cli import main
try:
    main()
except SystemExit as done:
    code = done.code
status = open("/proc/self/status").read().split("VmHWM:")[1].split()[0]
print(status, file=sys.stderr)
sys.exit(code)
"""


def _cli_plan(root: Path) -> dict[str, float]:
    """The real command in a fresh process: its wall time and its peak resident memory (VmHWM)."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _MEASURED, "-C", str(root), "plan", "--detailed-exitcode"],
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    assert done.returncode == 0, done.stdout + done.stderr
    return {"seconds": seconds, "rss": int(done.stderr.split()[-1])}


def _naive(ws: commands.Workspace) -> dict[str, float]:
    """One GET per managed object and DeepDiff on every pair: what a first version would do."""
    sandbox = ws.config.sandbox(None)
    desired = documents.load(ws.root)
    state = statefile.read(ws.state_path(sandbox))
    assert state is not None
    ids = {key: entry.id for key, entry in state.objects.items() if entry.id is not None}
    gc.collect()
    started = time.perf_counter()

    async def fetch() -> tuple[list[tuple[JsonObject, JsonObject]], int]:
        async with commands.client_for(ws, sandbox) as client:
            pairs = []
            for item in desired:
                live = await client.get(item.kind, ids[item.key])
                body = {k: v for k, v in live.items() if k not in kinds.SERVER_MANAGED}
                pairs.append((body, graph.resolve(item.kind, item.body, ids)))
            return pairs, client.counters.total

    pairs, requests = asyncio.run(fetch())
    changes = sum(1 for live, wanted in pairs if DeepDiff(live, wanted, threshold_to_diff_deeper=0))
    return {"total": time.perf_counter() - started, "requests": requests, "changes": changes}
