"""Pure: desired objects + state + live objects -> Plan, computed three-way.

Three-way, as `kubectl apply` does: a field present in git must equal live (add or replace); a
field that was in the last-applied body but is gone from git is removed; a field only the server
or the UI ever set, and git never had, is left alone, so server defaults never cause a diff.
Git is the source of truth: a field changed outside git is planned back to its git value, and the
operation says whose edit it reverts. Ignore rules cede fields to the UI.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from reconciler import diff, graph, kinds
from reconciler.errors import ReconcilerError
from reconciler.live import Live, attribution, copy_field, name_of, payload
from reconciler.model import (
    Action,
    Attribution,
    Change,
    Desired,
    Entry,
    Ignored,
    JsonObject,
    JsonValue,
    Key,
    Kind,
    ObjectId,
    Op,
    Orphan,
    PatchOp,
    Plan,
    Reason,
    State,
    etag_of,
)

IgnoreRules = Mapping[Kind, tuple[str, ...]]


class PlanError(ReconcilerError):
    """The plan cannot be computed safely (for example, it would create a duplicate)."""


@dataclass(frozen=True, slots=True)
class Target:
    """The sandbox a plan is for."""

    sandbox: str
    org: str
    endpoint: str


@dataclass(frozen=True, slots=True)
class Selection:
    """--only / --exclude globs on keys."""

    only: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    def selects(self, key: str) -> bool:
        if self.only and not any(fnmatch.fnmatchcase(key, glob) for glob in self.only):
            return False
        return not any(fnmatch.fnmatchcase(key, glob) for glob in self.exclude)


def plan(
    desired: Sequence[Desired],
    state: State | None,
    live_objects: Mapping[Kind, Sequence[JsonObject]],
    *,
    target: Target,
    ignore: IgnoreRules,
    prune: bool,
    selection: Selection = Selection(),
) -> Plan:
    """The changes that make the sandbox match git."""
    live = Live(live_objects)
    entries: Mapping[Key, Entry] = state.objects if state is not None else {}
    wanted = {item.key: item for item in desired if selection.selects(item.key)}
    managed_ids: set[str] = {entry.id for entry in entries.values() if entry.id is not None}

    ids: dict[Key, str] = {key: entry.id for key, entry in entries.items() if entry.id is not None}
    changes: dict[Key, Change] = {}
    ignored: list[Ignored] = []
    unchanged = 0

    # Objects that will be (re)created get new ids: references to them are unknown until apply.
    found_live = {
        key: _find_live(item, entries.get(key), live, managed_ids) for key, item in wanted.items()
    }
    for key, found in found_live.items():
        if found is None:
            ids.pop(key, None)
        else:
            ids[key] = str(found["id"])

    for key in sorted(wanted):
        item = wanted[key]
        entry = entries.get(key)
        body = graph.resolve(item.kind, item.body, ids)
        found = found_live[key]
        if found is None:
            _refuse_duplicate(item, live, managed_ids)
            missing = entry is not None and entry.id is not None
            changes[key] = Change(
                key=key,
                kind=item.kind,
                action=Action.CREATE,
                reasons=(Reason.MISSING_REMOTELY,) if missing else (Reason.NEW,),
                name=item.name,
                id=entry.id if missing and entry is not None else None,
                body=dict(item.body),
                source=item.source.path,
                depends_on=tuple(sorted(graph.dependencies(item.kind, body))),
            )
            continue
        adopted = entry is None or entry.id is None
        last = None if adopted or entry is None else entry.applied
        live_etag = etag_of(found.get("etag"))
        if (
            not adopted
            and entry is not None
            and last is not None
            and live_etag == entry.etag
            and diff.json_equal(body, last)
        ):
            unchanged += 1  # same etag as our last write and git unchanged: nothing to look at
            continue
        current = payload(found)
        goal, hidden = _goal(item, body, last, current, ignore.get(item.kind, ()))
        ignored.extend(hidden)
        patch = diff.json_patch(current, goal)
        if not patch and not adopted:
            unchanged += 1
            continue
        who = attribution(found)
        ops = tuple(_annotate(op, current, last, who) for op in patch)
        reasons: list[Reason] = []
        if adopted:
            reasons.append(Reason.ADOPTED)
        elif last is None or not diff.json_equal(body, last):
            reasons.append(Reason.CHANGED_IN_GIT)
        if any(op.reverts is not None for op in ops):
            reasons.append(Reason.DRIFTED)
        if not reasons:
            reasons.append(Reason.CHANGED_IN_GIT)
        changes[key] = Change(
            key=key,
            kind=item.kind,
            action=Action.UPDATE,
            reasons=tuple(reasons),
            name=item.name,
            id=ObjectId(str(found["id"])),
            etag=live_etag,
            ops=ops,
            body=dict(item.body),
            drift=who if Reason.DRIFTED in reasons else None,
            source=item.source.path,
            depends_on=tuple(sorted(graph.dependencies(item.kind, goal))),
        )

    kind_of = {key: change.kind for key, change in changes.items()}
    edges = {key: change.depends_on for key, change in changes.items()}
    ordered = [changes[key] for key in graph.ordered(changes, edges, kind_of)]

    defined = {item.key for item in desired}
    gone = [key for key in sorted(entries) if key not in defined and selection.selects(key)]
    orphans: list[Orphan] = []
    deletes: list[Change] = []
    if prune:
        deletes = _deletes(gone, entries, live)
    else:
        orphans = [Orphan(key=key, kind=entries[key].kind, id=entries[key].id) for key in gone]

    return Plan(
        sandbox=target.sandbox,
        org=target.org,
        endpoint=target.endpoint,
        lineage=state.lineage if state is not None else None,
        serial=state.serial if state is not None else 0,
        changes=(*ordered, *deletes),
        orphans=tuple(orphans),
        ignored=tuple(sorted(ignored, key=lambda i: (i.key, i.path))),
        unchanged=unchanged,
        prune=prune,
    )


def merge3(
    desired: Mapping[str, JsonValue],
    last: Mapping[str, JsonValue] | None,
    live: Mapping[str, JsonValue],
) -> JsonObject:
    """Live, with git's fields set and the fields git dropped since the last apply removed."""
    out: JsonObject = dict(live)
    if last is not None:
        for name in last:
            if name not in desired:
                out.pop(name, None)
    for name, value in desired.items():
        current = live.get(name)
        if isinstance(value, dict) and isinstance(current, dict):
            before = last.get(name) if last is not None else None
            out[name] = merge3(value, before if isinstance(before, dict) else None, current)
        else:
            out[name] = value
    return out


# --- helpers --------------------------------------------------------------------------------


def _find_live(
    item: Desired, entry: Entry | None, live: Live, managed_ids: set[str]
) -> JsonObject | None:
    """The live object a key manages, or an interrupted create of it found by name."""
    if entry is not None and entry.id is not None:
        return live.get(item.kind, entry.id)
    if entry is not None and entry.pending is not None:
        candidates = [
            obj
            for name in {entry.pending.name, item.name}
            for obj in live.named(item.kind, name)
            if obj.get("id") not in managed_ids
        ]
        if len(candidates) > 1:
            ids = ", ".join(sorted(str(c.get("id")) for c in candidates))
            raise PlanError(
                f"{item.key}: an interrupted create left several {item.kind.value} objects named "
                f"{item.name!r} ({ids}): delete the extra ones, then plan again"
            )
        return candidates[0] if candidates else None
    return None


def _refuse_duplicate(item: Desired, live: Live, managed_ids: set[str]) -> None:
    """Never create a second object with a name that already exists unmanaged in the sandbox."""
    clashes = [obj for obj in live.named(item.kind, item.name) if obj.get("id") not in managed_ids]
    if clashes:
        object_id = clashes[0].get("id")
        raise PlanError(
            f"{item.source.path or item.key}: a {item.kind.value} named {item.name!r} already exists "
            f"in the sandbox ({object_id}) and is not managed: adopt it with "
            f"`reconciler import {item.key} {object_id}` or give this one another name"
        )


def _goal(
    item: Desired,
    body: Mapping[str, JsonValue],
    last: Mapping[str, JsonValue] | None,
    current: JsonObject,
    rules: Iterable[str],
) -> tuple[JsonObject, list[Ignored]]:
    goal = merge3(body, last, current)
    hidden: list[Ignored] = []
    for pointer in rules:
        wanted_present, wanted = diff.lookup(body, pointer)
        live_present, live_value = diff.lookup(current, pointer)
        if wanted_present and (not live_present or not diff.json_equal(wanted, live_value)):
            hidden.append(Ignored(item.key, item.kind, pointer, wanted, live_value, live_present))
        goal = copy_field(goal, current, pointer)
    return goal, hidden


def _annotate(
    raw: Mapping[str, JsonValue],
    current: Mapping[str, JsonValue],
    last: Mapping[str, JsonValue] | None,
    who: Attribution,
) -> PatchOp:
    op = Op(str(raw["op"]))
    path = str(raw["path"])
    live_present, live_value = diff.lookup(current, path)
    reverts = None
    if last is not None:
        last_present, last_value = diff.lookup(last, path)
        if live_present != last_present or (
            live_present and not diff.json_equal(live_value, last_value)
        ):
            reverts = who
    return PatchOp(
        op=op,
        path=path,
        value=raw.get("value"),
        old=live_value if live_present else None,
        reverts=reverts,
    )


def _deletes(gone: Sequence[Key], entries: Mapping[Key, Entry], live: Live) -> list[Change]:
    keys_by_id: dict[str, Key] = {
        entry.id: key for key, entry in entries.items() if entry.id is not None
    }
    edges: dict[Key, tuple[Key, ...]] = {}
    for key in gone:
        entry = entries[key]
        referenced = (
            keys_by_id.get(str(ref.value))
            for ref in kinds.references(entry.kind, entry.applied or {})
        )
        edges[key] = tuple(k for k in referenced if k is not None)
    kind_of = {key: entries[key].kind for key in gone}
    # A delete waits for the deletes of whatever refers to it: reverse dependency order.
    order = list(reversed(graph.ordered(gone, edges, kind_of)))
    out: list[Change] = []
    for key in order:
        entry = entries[key]
        current = live.get(entry.kind, entry.id)
        out.append(
            Change(
                key=key,
                kind=entry.kind,
                action=Action.DELETE,
                reasons=(Reason.REMOVED_FROM_GIT,),
                name=name_of(entry.applied or {}, key),
                id=entry.id,
                etag=etag_of(current.get("etag")) if current is not None else None,
                drift=attribution(current) if current is not None else None,
            )
        )
    return out
