"""Pure: what a change does to customers. Each decision test's profile is simulated on the
estate before a pull request and after it; the placements whose offers differ are the
outcomes that change. Also: which decisions the changed objects reach, as a Mermaid graph.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from reconciler import graph
from reconciler.cases import DecisionTest
from reconciler.eligibility import Profile
from reconciler.estate import Estate
from reconciler.model import Key
from reconciler.simulation import SIMULATED, Simulation, SimulationError, simulate
from reconciler.trials import outcome_line, profile_for

MAX_NODES = 60
"""A diagram larger than this is cut (GitHub renders a few dozen nodes legibly)."""


@dataclass(frozen=True, slots=True)
class Shift:
    """One placement whose outcome a change moves, for one decision test's profile."""

    test: Key
    decision: Key
    placement: Key
    before: str
    after: str


@dataclass(frozen=True, slots=True)
class Outcomes:
    shifts: tuple[Shift, ...]
    tests: int  # decision tests simulated on both sides
    changed: tuple[Key, ...]  # objects added, removed or changed
    reached: tuple[Key, ...]  # decisions (and strategies) the changed objects reach
    diagram: str  # Mermaid flowchart source, empty when nothing is reached


def compare(
    before: Estate, after: Estate, tests: Sequence[DecisionTest], profiles: Mapping[Key, Profile]
) -> Outcomes:
    """The outcomes the change from `before` to `after` moves, for the head's decision tests."""
    shifts: list[Shift] = []
    for test in sorted(tests, key=lambda t: t.key):
        profile = profile_for(test, profiles)
        old = _simulated(before, test, profile)
        new = _simulated(after, test, profile)
        placements = dict.fromkeys(
            [p.placement for p in old.placements] if old else []
        ) | dict.fromkeys([p.placement for p in new.placements] if new else [])
        for placement in placements:
            was, now = _line(old, placement), _line(new, placement)
            if was != now:
                shifts.append(Shift(test.key, test.decision, placement, was, now))
    changed = _changed(before, after)
    reached, edges, reaching = _reached(before, after, frozenset(changed))
    return Outcomes(
        shifts=tuple(shifts),
        tests=len(tests),
        changed=tuple(changed),
        reached=reached,
        diagram=_diagram(reached, edges, reaching, frozenset(changed), after, before),
    )


def _simulated(estate: Estate, test: DecisionTest, profile: Profile) -> Simulation | None:
    try:
        return simulate(estate, test.decision, profile, test.at, test.item_count)
    except SimulationError:
        return None


def _line(simulation: Simulation | None, placement: Key) -> str:
    if simulation is None:
        return "(no such decision)"
    placed = simulation.placed(placement)
    if placed is None:
        return "(not a placement of the decision)"
    return outcome_line(placed) + (" (uncertain)" if placed.unknown else "")


def _changed(before: Estate, after: Estate) -> list[Key]:
    keys = sorted(set(before.objects) | set(after.objects))
    return [
        key
        for key in keys
        if key not in before.objects
        or key not in after.objects
        or before.objects[key].body != after.objects[key].body
        or before.objects[key].kind is not after.objects[key].kind
    ]


def edges_of(estate: Estate) -> dict[Key, set[Key]]:
    """What each object depends on: its references, and a collection's members."""
    edges: dict[Key, set[Key]] = {}
    for key, item in estate.objects.items():
        found = set(graph.dependencies(item.kind, item.body))
        found |= {member.key for member in estate.members.get(key, ())}
        edges[key] = found
    return edges


def _reached(
    before: Estate, after: Estate, changed: frozenset[Key]
) -> tuple[tuple[Key, ...], dict[Key, set[Key]], set[Key]]:
    """The decisions whose dependencies (on either side of the change) hold a changed object,
    the union of both sides' edges, and every key that reaches a changed object."""
    edges = edges_of(before)
    for key, targets in edges_of(after).items():
        edges.setdefault(key, set()).update(targets)
    kinds = {key: item.kind for key, item in {**before.objects, **after.objects}.items()}
    reaching = _reaching(edges, changed)
    reached = tuple(
        sorted(key for key, kind in kinds.items() if kind in SIMULATED and key in reaching)
    )
    return reached, edges, reaching


def _reaching(edges: Mapping[Key, Iterable[Key]], targets: frozenset[Key]) -> set[Key]:
    """Every key from which a target can be reached (the targets included)."""
    parents: dict[Key, set[Key]] = {}
    for source, found in edges.items():
        for target in found:
            parents.setdefault(target, set()).add(source)
    seen = set(targets)
    pending = list(targets)
    while pending:
        for parent in parents.get(pending.pop(), ()):
            if parent not in seen:
                seen.add(parent)
                pending.append(parent)
    return seen


def _diagram(
    reached: Sequence[Key],
    edges: Mapping[Key, set[Key]],
    reaching: set[Key],
    changed: frozenset[Key],
    after: Estate,
    before: Estate,
) -> str:
    """A Mermaid flowchart: each reached decision and the paths to the changed objects."""
    if not reached:
        return ""
    nodes: list[Key] = []
    arrows: list[tuple[Key, Key]] = []
    pending = list(reached)
    seen = set(reached)
    while pending:
        source = pending.pop(0)
        nodes.append(source)
        for target in sorted(edges.get(source, ())):
            if target in reaching:
                arrows.append((source, target))
                if target not in seen:
                    seen.add(target)
                    pending.append(target)
    cut = len(nodes) > MAX_NODES
    shown = set(nodes[:MAX_NODES])
    ids = {key: f"n{index}" for index, key in enumerate(nodes[:MAX_NODES])}
    lines = ["flowchart LR"]
    for key in nodes[:MAX_NODES]:
        item = after.objects.get(key) or before.objects.get(key)
        kind = item.kind.value if item is not None else "?"
        lines.append(f'  {ids[key]}["{_label(key)}<br/><small>{kind}</small>"]')
    lines += [f"  {ids[a]} --> {ids[b]}" for a, b in arrows if a in shown and b in shown]
    marked = [ids[key] for key in nodes[:MAX_NODES] if key in changed]
    lines.append("  classDef changed fill:#ffe8cc,stroke:#e8590c,stroke-width:2px")
    if marked:
        lines.append(f"  class {','.join(marked)} changed")
    if cut:
        lines.append(f'  more["… {len(nodes) - MAX_NODES} more objects not drawn"]')
    return "\n".join(lines)


def _label(key: Key) -> str:
    """A key as a Mermaid label: quotes and markup characters as entities."""
    return (
        key.replace("&", "#amp;").replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")
    )
