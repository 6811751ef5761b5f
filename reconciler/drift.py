"""Pure: live objects + state -> Drift: what changed outside git, who changed it and when.

Drift compares live with the last-applied body, field by field, on the fields git applied; and
it reports a field the UI put back where git's override says it is absent (`absent`, by key: an
override's `null`, which git owns), when the last-applied body lacks it too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from reconciler import diff, wire
from reconciler.live import Live, attribution, name_of, payload
from reconciler.model import (
    Drift,
    DriftStatus,
    FieldDrift,
    Ignored,
    JsonObject,
    JsonValue,
    Key,
    Kind,
    ObjectDrift,
    ObjectId,
    Op,
    State,
    etag_of,
)

IgnoreRules = Mapping[Kind, tuple[str, ...]]


def drift(
    state: State,
    live_objects: Mapping[Kind, Sequence[JsonObject]],
    *,
    sandbox: str,
    ignore: IgnoreRules,
    unmanaged: bool,
    absent: Mapping[Key, Sequence[str]] | None = None,
) -> Drift:
    """What changed outside git since the last apply, who changed it and when; `absent` holds,
    by key, the fields git's override removes in this sandbox (Desired.absent)."""
    live = Live(live_objects)
    found: list[ObjectDrift] = []
    hidden: list[Ignored] = []
    checked = 0
    unapplied = 0
    for key in sorted(state.objects):
        entry = state.objects[key]
        if entry.id is None:
            continue
        if entry.applied is None:
            unapplied += 1
            continue
        checked += 1
        name = name_of(entry.kind, entry.applied, key)
        current = live.get(entry.kind, entry.id)
        if current is None:
            found.append(ObjectDrift(key, entry.kind, entry.id, name, DriftStatus.DELETED))
            continue
        if etag_of(current.get("etag")) == entry.etag:
            continue  # our own last write is still the live revision
        observed = wire.align(entry.kind, _project(entry.applied, payload(current)), entry.applied)
        rules = ignore.get(entry.kind, ())
        for pointer in rules:
            present, value = diff.lookup(observed, pointer)
            was_present, was = diff.lookup(entry.applied, pointer)
            if present != was_present or (present and not diff.json_equal(value, was)):
                hidden.append(Ignored(key, entry.kind, pointer, was, value, present))
            observed = diff.copy_field(observed, entry.applied, pointer)
        fields = tuple(
            _field_drift(op, entry.applied) for op in diff.json_patch(dict(entry.applied), observed)
        ) + _put_back(entry.applied, payload(current), (absent or {}).get(key, ()), rules)
        if fields:
            who = attribution(current)
            found.append(
                ObjectDrift(
                    key, entry.kind, entry.id, name, DriftStatus.CHANGED, fields, who.by, who.at
                )
            )
    if unmanaged:
        managed = {entry.id for entry in state.objects.values() if entry.id is not None}
        for (kind, object_id), item in sorted(live.by_id.items(), key=lambda pair: pair[0][1]):
            if object_id not in managed:
                who = attribution(item)
                found.append(
                    ObjectDrift(
                        None,
                        kind,
                        ObjectId(object_id),
                        name_of(kind, item, object_id),
                        DriftStatus.UNMANAGED,
                        by=who.by,
                        at=who.at,
                    )
                )
    return Drift(
        sandbox=sandbox,
        objects=tuple(found),
        checked=checked,
        ignored=tuple(hidden),
        unapplied=unapplied,
    )


def _project(applied: Mapping[str, JsonValue], live: Mapping[str, JsonValue]) -> JsonObject:
    """Live restricted to the fields git applied (dicts recursively; lists whole)."""
    out: JsonObject = {}
    for name, value in applied.items():
        if name not in live:
            continue
        current = live[name]
        if isinstance(value, dict) and isinstance(current, dict):
            out[name] = _project(value, current)
        else:
            out[name] = current
    return out


def _put_back(
    applied: Mapping[str, JsonValue],
    live: Mapping[str, JsonValue],
    absent: Sequence[str],
    rules: Sequence[str],
) -> tuple[FieldDrift, ...]:
    """The fields git says are absent that live has and the last-applied body lacks: added
    outside git since the apply (an ignored field is the UI's, absent or not)."""
    out: list[FieldDrift] = []
    for pointer in absent:
        if any(pointer == rule or pointer.startswith(rule + "/") for rule in rules):
            continue
        present, value = diff.lookup(live, pointer)
        if present and not diff.lookup(applied, pointer)[0]:
            out.append(FieldDrift(op=Op.ADD, path=pointer, applied=None, live=value))
    return tuple(out)


def _field_drift(raw: Mapping[str, JsonValue], applied: Mapping[str, JsonValue]) -> FieldDrift:
    path = str(raw["path"])
    _, before = diff.lookup(applied, path)
    op = Op(str(raw["op"]))
    return FieldDrift(
        op=op,
        path=path,
        applied=None if op is Op.ADD else before,
        live=None if op is Op.REMOVE else raw.get("value"),
    )
