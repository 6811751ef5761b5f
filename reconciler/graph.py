"""Pure: references between objects, as a dependency graph, and the orders it implies."""

from __future__ import annotations

import graphlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from reconciler import kinds
from reconciler.model import JsonValue, Key, Kind, Ref


def ref_key(value: JsonValue) -> Key | None:
    """The key a reference names, or None for a literal id (or anything else)."""
    return value.key if isinstance(value, Ref) else None


def typed(kind: Kind, body: Mapping[str, JsonValue]) -> dict[str, JsonValue]:
    """A copy of body where each `{ref: key}` mapping at one of the kind's reference fields is a
    Ref. Such a mapping anywhere else stays plain data (and is sent as it is)."""

    def to_ref(value: JsonValue) -> JsonValue:
        if isinstance(value, dict) and len(value) == 1 and isinstance(value.get("ref"), str):
            return Ref(Key(str(value["ref"])))
        return value

    return _substitute(kind, body, to_ref)


def resolve_refs(value: JsonValue, ids: Mapping[Key, str]) -> tuple[JsonValue, frozenset[Key]]:
    """value with every Ref replaced by its id, and the keys whose ids are not known yet.

    Refs exist only at reference fields (see `typed`), so this resolves exactly those.
    """
    missing: set[Key] = set()

    def walk(node: JsonValue) -> JsonValue:
        if isinstance(node, Ref):
            if node.key in ids:
                return ids[node.key]
            missing.add(node.key)
            return node
        if isinstance(node, dict):
            return {name: walk(item) for name, item in node.items()}
        if isinstance(node, list):
            return [walk(item) for item in node]
        return node

    return walk(value), frozenset(missing)


def dependencies(kind: Kind, body: Mapping[str, JsonValue]) -> frozenset[Key]:
    """The keys of the managed objects a body refers to."""
    found = (ref_key(ref.value) for ref in kinds.references(kind, body))
    return frozenset(key for key in found if key is not None)


def find_cycle(edges: Mapping[Key, Iterable[Key]]) -> tuple[Key, ...] | None:
    """A reference cycle (first key repeated at the end), or None when the graph is acyclic."""
    sorter = graphlib.TopologicalSorter({key: sorted(deps) for key, deps in sorted(edges.items())})
    try:
        sorter.prepare()
    except graphlib.CycleError as error:
        cycle: list[Key] = list(error.args[1])
        return tuple(cycle)
    return None


def ordered(
    keys: Iterable[Key], edges: Mapping[Key, Iterable[Key]], kind_of: Mapping[Key, Kind]
) -> tuple[Key, ...]:
    """Keys with every dependency first; ties broken by kind order, then key (deterministic).

    Edges to keys outside `keys` are ignored: they are satisfied already.
    """
    chosen = set(keys)
    rank = {kind: index for index, kind in enumerate(kinds.ORDERED)}
    sorter: graphlib.TopologicalSorter[Key] = graphlib.TopologicalSorter()
    for key in chosen:
        sorter.add(key, *(dep for dep in edges.get(key, ()) if dep in chosen))
    sorter.prepare()
    out: list[Key] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready(), key=lambda k: (rank[kind_of[k]], k))
        out.extend(ready)
        sorter.done(*ready)
    return tuple(out)


def resolve(
    kind: Kind, body: Mapping[str, JsonValue], ids: Mapping[Key, str]
) -> dict[str, JsonValue]:
    """A copy of body with each {ref: key} replaced by the key's id where the id is known."""
    return _substitute(kind, body, lambda value: _id_for(value, ids))


def unresolve(
    kind: Kind, body: Mapping[str, JsonValue], keys: Mapping[str, Key]
) -> dict[str, JsonValue]:
    """A copy of body with each literal id of a managed object replaced by {ref: key}."""

    def to_ref(value: JsonValue) -> JsonValue:
        if isinstance(value, str) and value in keys:
            return Ref(keys[value])
        return value

    return _substitute(kind, body, to_ref)


def _id_for(value: JsonValue, ids: Mapping[Key, str]) -> JsonValue:
    key = ref_key(value)
    if key is not None and key in ids:
        return ids[key]
    return value


def _substitute(
    kind: Kind, body: Mapping[str, JsonValue], swap: Callable[[JsonValue], JsonValue]
) -> dict[str, JsonValue]:
    out: dict[str, JsonValue] = dict(body)
    for reference in kinds.references(kind, body):
        replacement = swap(reference.value)
        if replacement is reference.value:
            continue
        parent: Any = out
        for step in reference.path[:-1]:
            child = parent[step]
            parent[step] = child = dict(child) if isinstance(child, dict) else list(child)
            parent = child
        parent[reference.path[-1]] = replacement
    return out
