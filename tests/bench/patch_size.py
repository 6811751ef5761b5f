"""Patch size and speed of reconciler.diff on realistic personalized-offer edits.

`corpus()` is the edit corpus (tests/test_diff.py asserts its exact patches); `run()` sizes
our patches against `jsonpatch.make_patch` and against replacing every top-level field that
differs; `timing()` times json_patch, jsonpatch and DeepDiff side by side. Both return lines:

    python -c 'from tests.bench.patch_size import run; print("\\n".join(run()))'
"""

from __future__ import annotations

import copy
import gc
import json
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

import jsonpatch
from deepdiff import DeepDiff

from reconciler.diff import OPERATIONS, json_patch, patch_size, pointer, prove

Offer = dict[str, Any]
Patch = list[dict[str, Any]]

NEW_TAG = "xcore:tag:00000000000000ff"
NEW_LANGUAGE = "fr-fr"
DESCRIPTION = "Sixty percent off the whole summer range for loyal customers."


def offer(seed: int = 0) -> Offer:
    """A personalized offer shaped like Adobe's example, with tags, characteristics, 3
    representations and 4 frequency capping rules; seed varies a few values."""
    return {
        "name": f"Summer sale 60 #{seed}",
        "status": "approved",
        "representations": [
            _representation(
                "web",
                "1a2b3c4d5e6f7a8b",
                _component(
                    "html", "text/html", "<p>Hello! You qualify for our discount of 60%</p>"
                ),
                _component("imagelink", "image/png", "https://cdn.example.com/summer-60.png"),
            ),
            _representation(
                "mobile",
                "2b3c4d5e6f7a8b9c",
                _component(
                    "json",
                    "application/json",
                    '{"title": "Summer sale", "discount": 60}',
                    ["en-us", "es-us"],
                ),
            ),
            _representation(
                "email",
                "3c4d5e6f7a8b9c0d",
                _component("text", "text/plain", f"Summer sale: 60% off everything ({seed})"),
            ),
        ],
        "selectionConstraint": {
            "startDate": "2022-07-27T05:00:00.000+00:00",
            "endDate": "2023-07-29T05:00:00.000+00:00",
            "profileConstraintType": "eligibilityRule",
            "eligibilityRule": "dps:eligibility-rule:1f2e3d4c5b6a7980",
        },
        "rank": {"priority": 1 + seed % 5},
        "cappingConstraint": {},
        "frequencyCappingConstraints": [capping_rule(i) for i in range(4)],
        "tags": [f"xcore:tag:{i:016x}" for i in (0x1A2B, 0x3C4D, 0x5E6F, 0x7A8B, 0x9C0D)],
        "characteristics": {"season": "summer", "discount": "60", "segment": "loyal"},
    }


def capping_rule(i: int) -> Offer:
    """Capping rule i: enabled when i is even, limit i + 1."""
    return {
        "enabled": i % 2 == 0,
        "limit": i + 1,
        "startDate": "2023-05-15T14:25:49.622+00:00",
        "endDate": "2023-05-25T14:25:49.622+00:00",
        "scope": "global" if i % 2 == 0 else "profile",
        "entity": "offer",
        "repeat": {"enabled": False, "unit": "month", "unitCount": i + 1},
        "eventQuery": {"type": "decisioning-proposition-display", "tag": f"rule-{i}"},
    }


NEW_RULE = capping_rule(7)


def _component(kind: str, media: str, content: str, language: Sequence[str] = ("en-us",)) -> Offer:
    return {"type": kind, "format": media, "language": list(language), "content": content}


def _representation(channel: str, placement: str, *components: Offer) -> Offer:
    return {
        "channel": f"https://ns.adobe.com/xdm/channel-types/{channel}",
        "placement": f"dps:offer-placement:{placement}",
        "components": list(components),
    }


def _edit(change: Callable[[Offer], None]) -> Callable[[Offer], tuple[Offer, Offer]]:
    def pair(base: Offer) -> tuple[Offer, Offer]:
        after = copy.deepcopy(base)
        change(after)
        return base, after

    return pair


def _with_description(base: Offer) -> Offer:
    return {**base, "description": DESCRIPTION}


def _set(path: tuple[str | int, ...], value: Any) -> Callable[[Offer], None]:
    def change(doc: Offer) -> None:
        node: Any = doc
        for segment in path[:-1]:
            node = node[segment]
        node[path[-1]] = value

    return change


def _several(*changes: Callable[[Offer], None]) -> Callable[[Offer], None]:
    def change(doc: Offer) -> None:
        for one in changes:
            one(doc)

    return change


def _caps(doc: Offer) -> list[Offer]:
    caps: list[Offer] = doc["frequencyCappingConstraints"]
    return caps


EDITS: list[tuple[str, Callable[[Offer], tuple[Offer, Offer]]]] = [
    (
        "leaf deep in representations[1]",
        _edit(_set(("representations", 1, "components", 0, "content"), "60% off!")),
    ),
    ("rank.priority changed", _edit(_set(("rank", "priority"), 3))),
    ("tag appended", _edit(lambda d: d["tags"].append(NEW_TAG))),
    ("tag inserted in front", _edit(lambda d: d["tags"].insert(0, NEW_TAG))),
    ("first capping rule removed", _edit(lambda d: _caps(d).pop(0))),
    ("capping rule inserted in front", _edit(lambda d: _caps(d).insert(0, NEW_RULE))),
    (
        "first capping rule removed, one appended",
        _edit(_several(lambda d: _caps(d).pop(0), lambda d: _caps(d).append(NEW_RULE))),
    ),
    ("representations reversed", _edit(lambda d: d["representations"].reverse())),
    (
        "status, name and a nested limit",
        _edit(
            _several(
                _set(("status",), "draft"),
                _set(("name",), "Summer sale 65"),
                _set(("frequencyCappingConstraints", 1, "limit"), 5),
            )
        ),
    ),
    ("description added", lambda base: (base, _with_description(base))),
    ("description removed", lambda base: (_with_description(base), base)),
    ("characteristic added", _edit(_set(("characteristics", "audience"), "members"))),
    (
        "language added",
        _edit(_set(("representations", 0, "components", 0, "language"), ["en-us", NEW_LANGUAGE])),
    ),
    (
        "capping rule enabled toggled",
        _edit(_set(("frequencyCappingConstraints", 0, "enabled"), False)),
    ),
    ("priority 1 -> true", _edit(_set(("rank", "priority"), True))),
]


def corpus() -> list[tuple[str, Offer, Offer]]:
    """(name, before, after) for each realistic edit of offer(0)."""
    return [(name, *make(offer(0))) for name, make in EDITS]


def replace_fields(before: Offer, after: Offer) -> Patch:
    """The patch that replaces, adds or removes every top-level field that differs."""
    ops: Patch = []
    for key in sorted(before.keys() | after.keys()):
        path = pointer([key])
        if key not in after:
            ops.append({"op": "remove", "path": path})
        elif key not in before:
            ops.append({"op": "add", "path": path, "value": after[key]})
        elif json.dumps(before[key], sort_keys=True) != json.dumps(after[key], sort_keys=True):
            ops.append({"op": "replace", "path": path, "value": after[key]})
    return ops


def run() -> list[str]:
    """Per edit: operations/bytes of ours, jsonpatch.make_patch and field replacement; totals."""
    rows = []
    totals = {"ours": [0, 0], "jsonpatch": [0, 0], "fields": [0, 0]}
    losses = 0
    moved = 0
    for name, before, after in corpus():
        patches = {
            "ours": json_patch(before, after),
            "jsonpatch": jsonpatch.make_patch(before, after).patch,
            "fields": replace_fields(before, after),
        }
        sizes = {tool: patch_size(patch) for tool, patch in patches.items()}
        for tool, (ops, size) in sizes.items():
            totals[tool][0] += ops
            totals[tool][1] += size
        uses_move = any(op["op"] not in OPERATIONS for op in patches["jsonpatch"])
        moved += uses_move
        notes = []
        for tool in ("jsonpatch", "fields"):
            prove(before, patches[tool], after)
            (ours_ops, ours_bytes), (ops, size) = sizes["ours"], sizes[tool]
            label = f"{tool} (uses move)" if tool == "jsonpatch" and uses_move else tool
            if ours_ops > ops:
                notes.append(f"MORE OPS than {label}")
            if ours_bytes > size:
                notes.append(f"more bytes than {label}, which has {ops} ops to our {ours_ops}")
        losses += bool(notes)
        cells = "".join(f"{ops:>4} {size:>6}" for ops, size in sizes.values())
        rows.append(f"{name:<42}{cells}  {'; '.join(notes) or 'ok'}")
    head = f"{'edit':<42}{'ours':>11}{'jsonpatch':>11}{'fields':>11}  verdict"
    sub = f"{'':<42}" + " ops  bytes" * 3
    total = "".join(f"{ops:>4} {size:>6}" for ops, size in totals.values())
    ours_ops, ours_bytes = totals["ours"]
    ratios = [
        f"ours / {tool}: {ours_ops / ops:.2f}x operations, {ours_bytes / size:.2f}x bytes"
        for tool, (ops, size) in totals.items()
        if tool != "ours"
    ]
    return [
        "Patch size on the realistic offer edit corpus (bytes: compact UTF-8 JSON)",
        head,
        sub,
        *rows,
        f"{'total':<42}{total}",
        *ratios,
        f"jsonpatch used move in {moved} of {len(rows)} edits (not an operation we may send);",
        f"verdict 'never more ops, never more bytes than either' fails on {losses} edits",
    ]


def timing(n: int = 10_000) -> list[str]:
    """µs per document for json_patch, jsonpatch.make_patch and DeepDiff on the same pairs:
    n identical pairs, and n pairs of which 1% carry a corpus edit."""
    dd_n = min(n, 500)
    identical = [_identical_pair(i) for i in range(n)]
    changed = [
        EDITS[(i // 100) % len(EDITS)][1](offer(i)) if i % 100 == 0 else identical[i]
        for i in range(n)
    ]
    lines = [
        f"Timing: {n} offer pairs (after = before rebuilt with reversed key order); "
        f"DeepDiff on the first {dd_n} pairs only (it takes about 2.7 ms per offer); "
        "median of 5 runs for json_patch, 1 run for the others"
    ]
    for label, pairs in (("identical", identical), ("1% changed", changed)):
        ours = _per_doc(json_patch, pairs, runs=5)
        made = _per_doc(jsonpatch.make_patch, pairs, runs=1)
        deep = _per_doc(DeepDiff, pairs[:dd_n], runs=1)
        lines += [
            f"  {label:<11} json_patch {ours:9.1f} µs/doc   jsonpatch.make_patch {made:9.1f} µs/doc "
            f"({made / ours:.0f}x ours)   DeepDiff {deep:9.1f} µs/doc ({deep / ours:.0f}x ours)",
        ]
    return lines


def _identical_pair(seed: int) -> tuple[Offer, Offer]:
    before = offer(seed)
    after = json.loads(json.dumps(before), object_pairs_hook=lambda pairs: dict(reversed(pairs)))
    return before, after


def _per_doc(
    tool: Callable[[Any, Any], object], pairs: Sequence[tuple[Offer, Offer]], runs: int
) -> float:
    """Median over runs of the µs per pair."""
    times = []
    for _ in range(runs):
        gc.collect()
        started = time.perf_counter()
        for before, after in pairs:
            tool(before, after)
        times.append(time.perf_counter() - started)
    return statistics.median(times) / len(pairs) * 1e6


# --- the engine at Adobe's guardrails ----------------------------------------------------------


def _decision(criteria: int = 30, placements: int = 30) -> Offer:
    """A decision at the guardrails: 30 criteria of 30 placements each (reference §6.4)."""
    return {
        "name": "Home page",
        "status": "live",
        "criteria": [
            {
                "placements": [f"dps:offer-placement:{c:04x}{p:012x}" for p in range(placements)],
                "rank": {"order": {"orderEvaluationType": "static"}},
                "profileConstraint": {
                    "profileConstraintType": "eligibilityRule",
                    "eligibilityRule": f"dps:eligibility-rule:{c:016x}",
                },
                "optionSelection": {"filter": f"dps:offer-filter:{c:016x}"},
            }
            for c in range(criteria)
        ],
    }


def _collection(size: int = 500) -> Offer:
    """A collection at the guardrail of 500 offers."""
    return {
        "name": "Everything",
        "filterType": "offers",
        "ids": [f"dps:personalized-offer:{i:016x}" for i in range(size)],
    }


def _lists(count: int = 40, items: int = 40) -> Offer:
    """40 lists of 40 capping-rule-like items (the issue's counter-example)."""
    return {f"list{i}": [capping_rule(j) for j in range(items)] for i in range(count)}


def _guardrail_pairs() -> list[tuple[str, Offer, Offer]]:
    import random

    rng = random.Random(7)
    pairs: list[tuple[str, Offer, Offer]] = []

    def edited(name: str, base: Offer, change: Callable[[Offer], None]) -> None:
        after = copy.deepcopy(base)
        change(after)
        pairs.append((name, base, after))

    decision, collection, lists = _decision(), _collection(), _lists()
    edited("decision: criteria reversed", decision, lambda d: d["criteria"].reverse())
    edited(
        "decision: every criterion's placements shuffled",
        decision,
        lambda d: [rng.shuffle(c["placements"]) for c in d["criteria"]],
    )
    edited(
        "decision: criteria shuffled, placements reversed",
        decision,
        lambda d: (rng.shuffle(d["criteria"]), [c["placements"].reverse() for c in d["criteria"]]),
    )
    edited("collection: 500 ids reversed", collection, lambda d: d["ids"].reverse())
    edited("collection: 500 ids shuffled", collection, lambda d: rng.shuffle(d["ids"]))
    edited(
        "40 lists of 40: one insert in each, first and last items edited",
        lists,
        lambda d: [
            (v.insert(20, NEW_RULE), v[0].update(limit=99), v[-1].update(limit=98))
            for v in d.values()
        ],
    )
    edited(
        "40 lists of 40: every list reversed",
        lists,
        lambda d: [v.reverse() for v in d.values()],
    )
    return pairs


def guardrails() -> list[str]:
    """Seconds per pair for json_patch and jsonpatch.make_patch on guardrail-sized documents."""
    lines = [
        "Patch engine on documents at Adobe's guardrails (seconds per pair, best of 3; "
        "jsonpatch.make_patch as the reference library, which may use move)"
    ]
    worst = 0.0
    for name, before, after in _guardrail_pairs():
        ours = min(_seconds(json_patch, before, after) for _ in range(3))
        made = min(_seconds(jsonpatch.make_patch, before, after) for _ in range(3))
        worst = max(worst, ours)
        size = patch_size(json_patch(before, after))
        lines.append(
            f"  {name:<58} ours {ours:7.3f} s ({size[0]:>4} ops, {size[1]:>7,} bytes)   "
            f"jsonpatch {made:7.3f} s"
        )
    lines.append(f"  worst case: {worst:.3f} s (goal: well under a second)")
    return lines


def _seconds(tool: Callable[[Any, Any], object], before: Offer, after: Offer) -> float:
    started = time.perf_counter()
    tool(before, after)
    return time.perf_counter() - started
