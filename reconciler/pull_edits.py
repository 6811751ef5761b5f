"""Pure: where `reconciler pull` writes the places it pulls in a definition file, and how those
edits read as field changes.

A place the sandbox's override sets (or removes) is written in that override, any other place
in the body written for every sandbox. A place live lacks is removed with the outermost member
live lacks too, when every place git owns under that member is gone: in the body that removes
the member's key; in an override it is the RFC 7386 merge patch's `member: null` where the body
written for every sandbox has the member (a `rank: {priority: null}` would leave an empty,
invalid `rank: {}` in the sandbox), else the override's own key goes. Values are written as a
definition holds them: an id of a managed object at a reference field as `{ref: key}`, the
catalog id left out where the file leaves it to reconciler.yaml.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from reconciler import diff, graph, kinds, overrides
from reconciler.model import Desired, JsonObject, JsonValue, Key, Op, Ref
from reconciler.roundtrip import Edit

Segments = tuple[str, ...]


@dataclass(frozen=True, slots=True)
class FieldPull:
    """One change to a file, as a reviewer reads it: git's value and the live one (file form:
    references as `{"ref": key}`)."""

    op: Op
    path: str
    git: JsonValue
    live: JsonValue


def grouped(changed: Sequence[Segments], seen: JsonObject, owned: Sequence[str]) -> list[Segments]:
    """The changed places, where a place live lacks is removed with the outermost member live
    lacks too, when every place git owns under that member is removed: git's
    `rank: {priority: 5}` goes whole when the UI removed `rank`, leaving no `rank: {}` behind
    (in the sandbox's override or in the body written for every sandbox: `edits` says which)."""
    removed = {place for place in changed if not diff.lookup(seen, place)[0]}
    under = [diff.parse_pointer(pointer) for pointer in owned]
    out: list[Segments] = []
    for place in changed:
        if place not in removed:
            out.append(place)
            continue
        outermost = next(
            place[:depth]
            for depth in range(1, len(place) + 1)
            if not diff.lookup(seen, place[:depth])[0]
        )
        inside = [p for p in under if p[: len(outermost)] == outermost]
        group = outermost if all(p in removed for p in inside) else place
        if group not in out:
            out.append(group)
    return out


def edits(
    item: Desired,
    local: Desired,
    new_git: JsonObject,
    places: Sequence[Segments],
    *,
    sandbox: str,
    keys: Mapping[str, Key],
    catalog: str | None,
) -> tuple[Edit, ...]:
    """The places as the file writes them: in the sandbox's override or the body (module doc),
    ids of managed objects as references, the catalog id left out where the file leaves it to
    reconciler.yaml."""
    resolved = overrides.resolve(item, sandbox)
    fills_catalog = not diff.json_equal(dict(resolved.body), dict(local.body))
    body = kinds.authored(item.kind, new_git, catalog if fills_catalog else None)
    body = graph.unresolve(item.kind, body, keys)
    out: list[Edit] = []
    for segments in places:
        present, value = diff.lookup(body, segments)
        in_base = diff.lookup(item.body, segments)[0]
        if overrides.source(item, sandbox, diff.pointer(segments)) == "override":
            where = (overrides.FIELD, sandbox, *segments)
            if present:
                out.append(Edit(where, value))
            elif in_base:
                out.append(Edit(where, None))  # the override removes what the body has
            else:
                out.append(Edit(where, removed=True))
        elif present:
            out.append(Edit(segments, value))
        elif in_base:
            out.append(Edit(segments, removed=True))
    return tuple(out)


def written(item: Desired) -> JsonObject:
    """A definition's fields as its file writes them (`overrides:` included, `kind` not)."""
    out: JsonObject = file_json(dict(item.body))  # type: ignore[assignment]
    if item.overrides:
        out[overrides.FIELD] = {name: dict(patch) for name, patch in item.overrides.items()}
    return out


def fields(before: JsonObject, made: Sequence[Edit]) -> tuple[FieldPull, ...]:
    """The edits as field changes: the smallest JSON Patch from the file's fields (as `written`
    gives them) to the edited ones, each operation with git's value and the live one (paths as
    in the file: a field written in an override is under /overrides/<sandbox>)."""
    after_edits = after(before, made)
    out: list[FieldPull] = []
    for op in diff.json_patch(before, after_edits):
        path = str(op["path"])
        _, old = diff.lookup(before, path)
        verb = Op(str(op["op"]))
        out.append(
            FieldPull(
                verb,
                path,
                None if verb is Op.ADD else old,
                None if verb is Op.REMOVE else op.get("value"),
            )
        )
    return tuple(out)


def after(before: JsonObject, made: Sequence[Edit]) -> JsonObject:
    """A file's fields (as `written` gives them) with the edits made."""
    out = dict(before)
    for edit in made:
        pointer = diff.pointer(edit.path)
        if edit.removed:
            out = diff.drop(out, pointer)
        else:
            out = diff.put(out, pointer, file_json(edit.value))
    return out


def file_json(value: JsonValue) -> JsonValue:
    """A value with references as the file writes them (`{"ref": key}`)."""
    if isinstance(value, Ref):
        return dict(value.to_json())
    if isinstance(value, dict):
        return {name: file_json(item) for name, item in value.items()}
    if isinstance(value, list):
        return [file_json(item) for item in value]
    return value
