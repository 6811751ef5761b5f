"""Pure: desired objects + state + live objects -> Plan.

For each object git defines, the planner finds the live object it manages (by the id in state,
or, when state does not know it, by kind and name), then hands git's body, the last-applied body
and the live one to threeway.derive, which gives the goal, the operations, their preconditions
and revert marks. Git is the source of truth: a field changed outside git is planned back to its
git value and the operation says whose edit it reverts. Nothing is ever created while a live
object of the same kind and name exists: it is adopted instead (shown, never silent). When live
already matches git but state is behind, the plan records it (a state-only refresh).
"""

from __future__ import annotations

import dataclasses
import fnmatch
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from reconciler import diff, graph, kinds, protection, threeway, wire
from reconciler.errors import ReconcilerError
from reconciler.live import Live, attribution, name_of, payload
from reconciler.model import (
    Action,
    Change,
    Desired,
    Entry,
    Ignored,
    JsonObject,
    JsonValue,
    Key,
    Kind,
    ObjectId,
    Orphan,
    Plan,
    Preconditions,
    Reason,
    State,
    etag_of,
    name_path,
)
from reconciler.model import name_of as model_name_of

IgnoreRules = Mapping[Kind, tuple[str, ...]]


class PlanError(ReconcilerError):
    """The plan cannot be computed safely (for example, which live object to adopt is unclear)."""


@dataclass(frozen=True, slots=True)
class Target:
    """The sandbox a plan is for."""

    sandbox: str
    org: str
    endpoint: str
    preconditions: Preconditions = Preconditions.TEST


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
    protect: Sequence[str] = (),
) -> Plan:
    """The changes that make the sandbox match git (only the selected ones; the rest counted).

    `protect` holds the key globs of reconciler.yaml: a plan that would delete or re-create a
    protected object is refused (PlanError); see reconciler.protection.
    """
    live = Live(live_objects)
    entries: Mapping[Key, Entry] = state.objects if state is not None else {}
    wanted = {item.key: item for item in desired}
    _refuse_kind_changes(wanted, entries)
    managed: dict[str, Key] = {
        entry.id: key for key, entry in entries.items() if entry.id is not None
    }

    # Objects whose key is gone from git may be claimed by name: the file was renamed.
    movable = {oid: key for oid, key in managed.items() if key not in wanted}
    matches = {
        key: _match(item, entries.get(key), live, managed, movable) for key, item in wanted.items()
    }
    _refuse_double_adoption(matches, wanted)
    moved = {
        key: movable[str(found["id"])]
        for key, (found, reason) in matches.items()
        if found is not None and reason is Reason.RENAMED
    }
    ids: dict[Key, str] = {key: entry.id for key, entry in entries.items() if entry.id is not None}
    for key, (found, _) in matches.items():
        if found is None:
            ids.pop(key, None)  # created by this apply: references to it are known after
        else:
            ids[key] = str(found["id"])

    changes: dict[Key, Change] = {}
    ignored: list[Ignored] = []
    unchanged = 0
    for key in sorted(wanted):
        item, entry = wanted[key], entries.get(key)
        found, reason = matches[key]
        body = graph.resolve(item.kind, item.body, ids)
        if found is None:
            missing = entry is not None and entry.id is not None
            changes[key] = Change(
                key=key,
                kind=item.kind,
                action=Action.CREATE,
                reasons=(Reason.MISSING_REMOTELY,) if missing else (Reason.NEW,),
                name=item.name,
                id=entry.id if missing and entry is not None else None,
                desired=body,
                source=item.source.path,
                depends_on=tuple(sorted(graph.dependencies(item.kind, body))),
                protect=item.protect,
            )
            continue
        rules = ignore.get(item.kind, ())
        current = payload(found)
        ignored.extend(_hidden(item, body, current, rules))
        renamed_from = moved.get(key)
        if renamed_from is not None:
            entry = entries[renamed_from]  # its last-applied body: a rename is a state mv
        change = _update(item, entry, body, found, current, reason, rules, renamed_from)
        if change is None:
            unchanged += 1
        else:
            changes[key] = change

    _wait_for_names(changes)
    selected = {key: change for key, change in changes.items() if selection.selects(key)}
    hidden = len(changes) - len(selected)
    kind_of = {key: change.kind for key, change in selected.items()}
    edges = {key: change.depends_on for key, change in selected.items()}
    ordered = [selected[key] for key in graph.ordered(selected, edges, kind_of)]

    renamed = set(moved.values())
    gone = [key for key in sorted(entries) if key not in wanted and key not in renamed]
    orphans: list[Orphan] = []
    deletes: list[Change] = []
    if prune:
        every = _deletes(gone, entries, live)
        deletes = [change for change in every if selection.selects(change.key)]
        hidden += len(every) - len(deletes)
    else:
        orphans = [
            Orphan(
                key=key,
                kind=entries[key].kind,
                id=entries[key].id,
                protected=protection.of_entry(key, entries[key], protect) is not None,
            )
            for key in gone
            if selection.selects(key)
        ]
    refused = protection.refusal(
        protection.refusals([*ordered, *deletes], wanted, entries, protect)
    )
    if refused is not None:
        raise PlanError(refused)

    return Plan(
        sandbox=target.sandbox,
        org=target.org,
        endpoint=target.endpoint,
        lineage=state.lineage if state is not None else None,
        serial=state.serial if state is not None else 0,
        changes=(*ordered, *deletes),
        orphans=tuple(orphans),
        ignored=tuple(sorted((i for i in ignored if selection.selects(i.key)), key=_by_place)),
        unchanged=unchanged,
        prune=prune,
        preconditions=target.preconditions,
        hidden=hidden,
    )


# --- matching live objects ------------------------------------------------------------------


def _match(
    item: Desired,
    entry: Entry | None,
    live: Live,
    managed: Mapping[str, Key],
    movable: Mapping[str, Key],
) -> tuple[JsonObject | None, Reason | None]:
    """The live object a key manages, and why it is adopted when state did not name it.

    By the id state records; otherwise (no entry, an interrupted create, or the recorded object
    is gone) by kind and name among the live objects no other key manages, or that a key gone
    from git managed (its file was renamed).
    """
    if entry is not None and entry.id is not None:
        found = live.get(item.kind, entry.id)
        if found is not None:
            return found, None
        reason = Reason.MISSING_REMOTELY
    elif entry is not None and entry.pending is not None:
        reason = Reason.INTERRUPTED_CREATE
    else:
        reason = Reason.FOUND_BY_NAME
    names = {item.name} | ({entry.pending.name} if entry and entry.pending else set())
    candidates = [
        obj
        for name in sorted(names)
        for obj in live.named(item.kind, name)
        if str(obj.get("id")) not in managed or str(obj.get("id")) in movable
    ]
    if len(candidates) == 1 and str(candidates[0].get("id")) in movable:
        reason = Reason.RENAMED
    if len(candidates) > 1:
        ids = ", ".join(sorted(str(c.get("id")) for c in candidates))
        raise PlanError(
            f"{item.source.path or item.key}: {len(candidates)} unmanaged {item.kind.value} "
            f"objects are named {item.name!r} ({ids}): choose the one this file manages with "
            f"`reconciler import {item.key} <id>`, or rename one of them"
        )
    return (candidates[0], reason) if candidates else (None, None)


def _refuse_kind_changes(wanted: Mapping[Key, Desired], entries: Mapping[Key, Entry]) -> None:
    """An object never changes kind: a file whose kind changed names another object."""
    for key in sorted(wanted):
        entry, item = entries.get(key), wanted[key]
        if entry is not None and entry.kind is not item.kind:
            raise PlanError(
                f"{item.source.path or key}: its kind changed from {entry.kind.value} to "
                f"{item.kind.value}, but an object cannot change kind: give the file another "
                f"name (a new key: the {entry.kind.value} is then removed from git and the "
                f"{item.kind.value} created), or forget the {entry.kind.value} first with "
                f"`reconciler state rm {key}`"
            )


def _wait_for_names(changes: dict[Key, Change]) -> None:
    """A create waits for the update that renames away the live object holding its name, so
    the two never exist under one name (if that rename fails, the create is not attempted)."""
    renamed: dict[tuple[Kind, str], Key] = {}
    for key, change in changes.items():
        naming = "/" + "/".join(name_path(change.kind))
        touches = (naming == op.path or naming.startswith(op.path + "/") for op in change.ops)
        if change.live is not None and any(touches):
            old = model_name_of(change.kind, change.live)
            if old is not None:
                renamed[(change.kind, old)] = key
    for key, change in list(changes.items()):
        holder = renamed.get((change.kind, change.name))
        if change.action is Action.CREATE and holder is not None and holder != key:
            changes[key] = dataclasses.replace(
                change, depends_on=tuple(sorted({*change.depends_on, holder}))
            )


def _refuse_double_adoption(
    matches: Mapping[Key, tuple[JsonObject | None, Reason | None]],
    wanted: Mapping[Key, Desired],
) -> None:
    """Two keys must never adopt the same live object."""
    claimed: dict[str, Key] = {}
    for key in sorted(matches):
        found, reason = matches[key]
        if found is None or reason is None:
            continue
        object_id = str(found["id"])
        if object_id in claimed:
            raise PlanError(
                f"{wanted[key].source.path or key}: {claimed[object_id]} and {key} both match "
                f"{object_id} by name: give them different names"
            )
        claimed[object_id] = key


# --- one object -----------------------------------------------------------------------------


def _update(
    item: Desired,
    entry: Entry | None,
    body: JsonObject,
    found: JsonObject,
    current: JsonObject,
    reason: Reason | None,
    rules: tuple[str, ...],
    moved_from: Key | None,
) -> Change | None:
    """The change for a live object this key manages or adopts, or None when there is none."""
    adopted = reason is not None
    renamed = moved_from is not None
    last = None if (adopted and not renamed) or entry is None else entry.applied
    # What differs from live only by a case the server folds is live's text (wire.align).
    body = wire.align(item.kind, body, current)
    last = wire.align(item.kind, last, current) if last is not None else None
    live_etag = etag_of(found.get("etag"))
    if (
        not adopted
        and entry is not None
        and last is not None
        and live_etag is not None
        and live_etag == entry.etag
        and diff.json_equal(threeway.recorded(body, last, rules), last)
        and entry.protect == item.protect
        and not any(diff.lookup(current, pointer)[0] for pointer in item.absent)
    ):
        return None  # our own last write is still the live revision, and git did not move
    who = attribution(found)
    derived = threeway.derive(body, last, current, ignore=rules, who=who, absent=item.absent)
    reasons: list[Reason] = []
    if adopted:
        assert reason is not None
        action = Action.ADOPT
        reasons.append(reason)
    elif derived.ops:
        action = Action.UPDATE
        if last is None or not diff.json_equal(threeway.recorded(body, last, rules), last):
            reasons.append(Reason.CHANGED_IN_GIT)
    elif (
        entry is None
        or entry.etag is None
        or last is None
        or not diff.json_equal(threeway.recorded(body, last, rules), last)
    ):
        action = Action.REFRESH
        reasons.append(Reason.STATE_BEHIND)
    elif entry.protect != item.protect:
        action = Action.REFRESH  # state records protection, so a removed file still has it
        reasons.append(Reason.PROTECTION_CHANGED)
    else:
        return None  # only fields git does not own (or cedes) changed
    if any(op.reverts is not None for op in derived.ops):
        reasons.append(Reason.DRIFTED)
    if not reasons:
        reasons.append(Reason.CHANGED_IN_GIT)
    return Change(
        key=item.key,
        kind=item.kind,
        action=action,
        reasons=tuple(reasons),
        name=item.name,
        id=ObjectId(str(found["id"])),
        etag=live_etag,
        desired=body,
        live=current,
        last=last,
        ignore=rules,
        goal=derived.goal,
        ops=derived.ops,
        tests=derived.tests,
        unguarded=derived.unguarded,
        seen=who,
        source=item.source.path,
        depends_on=tuple(sorted(graph.dependencies(item.kind, derived.goal))),
        moved_from=moved_from,
        protect=item.protect,
        absent=item.absent,
    )


def _hidden(
    item: Desired, body: Mapping[str, JsonValue], current: JsonObject, rules: tuple[str, ...]
) -> list[Ignored]:
    """The differences ignore rules hide for one object, listed so nothing vanishes silently."""
    hidden: list[Ignored] = []
    for pointer in rules:
        wanted_present, wanted = diff.lookup(body, pointer)
        live_present, live_value = diff.lookup(current, pointer)
        if wanted_present and (not live_present or not diff.json_equal(wanted, live_value)):
            hidden.append(Ignored(item.key, item.kind, pointer, wanted, live_value, live_present))
    return hidden


def _by_place(item: Ignored) -> tuple[str, str]:
    return item.key, item.path


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
                name=name_of(entry.kind, entry.applied or {}, key),
                id=entry.id,
                etag=etag_of(current.get("etag")) if current is not None else None,
                live=payload(current) if current is not None else None,
                last=entry.applied,
                seen=attribution(current) if current is not None else None,
            )
        )
    return out
