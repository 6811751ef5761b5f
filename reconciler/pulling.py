"""Pure: the UI edits `reconciler pull` brings into git: for each managed object that drifted,
the fields git owns whose live values to write into its file, the new baseline state records,
and the objects deleted outside git.

A field git owns is a place of its definition (threeway.fields: objects member by member, lists
and values whole), ignore rules left out. A place is pulled when live differs there from the
last-applied body (the UI changed it) while git still says what was applied (git did not change
it since the apply). Where git changed it too, git's value is kept and the place is a conflict:
the next apply reverts the UI's edit, as its plan shows. Everything is compared as the planner
compares it: the sandbox's body (its `overrides:` merged in), references resolved to ids, the
sandbox's catalog id filled in, a stringified `uiModel` structured, a case the server folds
aligned to git's text. Values are written as a definition holds them: an id of a managed object
at a reference field as `{ref: key}`, the catalog id left out where the file leaves it to
reconciler.yaml, a `uiModel` as YAML; a field the sandbox's override sets (or removes) is written
in that override (a removal as `null` where the body written for every sandbox has the field), any
other field in the body written for every sandbox.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from reconciler import diff, graph, kinds, overrides, threeway, wire
from reconciler.live import Live, attribution, name_of, payload
from reconciler.model import (
    Desired,
    Entry,
    Etag,
    JsonObject,
    JsonValue,
    Key,
    Kind,
    ObjectId,
    Op,
    Ref,
    State,
    etag_of,
)
from reconciler.roundtrip import Edit

IgnoreRules = Mapping[Kind, tuple[str, ...]]


@dataclass(frozen=True, slots=True)
class FieldPull:
    """One change to a file, as a reviewer reads it: git's value and the live one (file form:
    references as `{"ref": key}`)."""

    op: Op
    path: str
    git: JsonValue
    live: JsonValue


@dataclass(frozen=True, slots=True)
class Conflict:
    """A place both git and the UI changed since the last apply: git's value is kept."""

    path: str
    git: JsonValue
    applied: JsonValue
    live: JsonValue


@dataclass(frozen=True, slots=True)
class ObjectPull:
    """One drifted object: the edits of its file, the fields they change, the baseline and
    etag state records for it, and who changed it when.

    With a conflict the etag stays the recorded one: drift keeps showing the conflicting edit
    until git or the UI gives way.
    """

    key: Key
    kind: Kind
    name: str
    path: str
    fields: tuple[FieldPull, ...]
    edits: tuple[Edit, ...]
    applied: JsonObject
    etag: Etag | None
    by: str
    at: str
    conflicts: tuple[Conflict, ...] = ()


@dataclass(frozen=True, slots=True)
class Deletion:
    """A managed object deleted outside git: its file (None when git has none any more), and
    the objects whose definitions still refer to it (its file is kept while any does)."""

    key: Key
    kind: Kind
    id: ObjectId
    name: str
    path: str | None
    referenced_by: tuple[Key, ...] = ()
    protected: bool = False
    """Protected (its file, state, or a glob): its file is never deleted by pull."""


@dataclass(frozen=True, slots=True)
class Pull:
    """What a pull brings into git from one sandbox."""

    sandbox: str
    objects: tuple[ObjectPull, ...]
    deleted: tuple[Deletion, ...]
    checked: int
    unapplied: int = 0

    @property
    def edits(self) -> tuple[ObjectPull, ...]:
        """The objects whose files change."""
        return tuple(item for item in self.objects if item.edits)

    @property
    def conflicts(self) -> tuple[ObjectPull, ...]:
        return tuple(item for item in self.objects if item.conflicts)

    @property
    def has_drift(self) -> bool:
        return bool(self.objects or self.deleted)


@dataclass(frozen=True, slots=True)
class FileChange:
    """A definition file a pull rewrites (`after` None: deletes), with both texts."""

    path: str
    before: str
    after: str | None


@dataclass(frozen=True, slots=True)
class Pulled:
    """What `reconciler pull` did with a pull: the files it rewrites or deletes (with both
    texts), and the objects deleted outside git whose files it deletes and whose entries it
    forgets; on a dry run, what it would do, nothing written."""

    pull: Pull
    files: tuple[FileChange, ...]
    forgotten: tuple[Key, ...]
    dry_run: bool


@dataclass(frozen=True, slots=True)
class Context:
    """What every object's pull needs: the sandbox, its ids, ignore rules and catalog."""

    sandbox: str
    ids: Mapping[Key, str]
    keys: Mapping[str, Key]
    ignore: IgnoreRules
    catalog: str | None


def selects(globs: Sequence[str], key: str) -> bool:
    """KEY arguments: keys or globs; none selects every key."""
    return not globs or any(fnmatch.fnmatchcase(key, glob) for glob in globs)


def pull(
    files: Sequence[Desired],
    localized: Sequence[Desired],
    state: State,
    live_objects: Mapping[Kind, Sequence[JsonObject]],
    *,
    ignore: IgnoreRules,
    catalog: str | None,
    keys: Sequence[str] = (),
) -> Pull:
    """The edits that bring the selected objects' UI edits into git (see the module doc).

    `files` are the definitions as documents.load gives them, `localized` the same as the
    sandbox gets them (commands.localized: its overrides merged in, its catalog id filled in).
    """
    live = Live(live_objects)
    defined = {item.key: item for item in files}
    local = {item.key: item for item in localized}
    ids = {key: entry.id for key, entry in state.objects.items() if entry.id is not None}
    context = Context(state.sandbox, ids, {oid: key for key, oid in ids.items()}, ignore, catalog)
    objects: list[ObjectPull] = []
    gone: list[Key] = []
    checked = unapplied = 0
    for key in sorted(state.objects):
        entry = state.objects[key]
        if entry.id is None or not selects(keys, key):
            continue
        found = live.get(entry.kind, entry.id)
        if found is None:
            gone.append(key)
            continue
        if key not in defined or defined[key].kind is not entry.kind:
            continue  # no file to write into: an orphan (or a kind change the plan refuses)
        if entry.applied is None:
            unapplied += 1
            continue
        checked += 1
        if etag_of(found.get("etag")) == entry.etag:
            continue  # our own last write is still the live revision
        pulled = pull_object(defined[key], local[key], entry, found, context)
        if pulled is not None:
            objects.append(pulled)
    written = {item.key: item for item in objects}
    deleted = tuple(_deletion(key, state.objects[key], defined, written, gone) for key in gone)
    return Pull(state.sandbox, tuple(objects), deleted, checked, unapplied)


def pull_object(
    item: Desired, local: Desired, entry: Entry, found: JsonObject, context: Context
) -> ObjectPull | None:
    """The pull of one managed object, or None when live holds git's fields as applied."""
    kind = item.kind
    rules = context.ignore.get(kind, ())
    current = payload(found)
    git = wire.align(kind, graph.resolve(kind, local.body, context.ids), current)
    applied = wire.align(kind, dict(entry.applied or {}), git)
    seen = wire.align(kind, wire.structure(kind, current), git)
    fixed = kinds.spec(kind).fixed
    changed: list[tuple[str, ...]] = []
    agreed: list[str] = []  # git and the UI made the same change: only state learns it
    conflicts: list[Conflict] = []
    for place in threeway.fields(git, rules):
        segments = diff.parse_pointer(place)
        if segments[0] in fixed:
            continue  # what tells the kind apart: a live object that changed it is another kind
        mine, then, now = (diff.lookup(doc, segments) for doc in (git, applied, seen))
        if _same(then, now):
            continue
        if _same(mine, now):
            agreed.append(place)
            continue
        if not _same(mine, then):
            conflicts.append(Conflict(place, _shown(mine), _shown(then), _shown(now)))
            continue
        changed.append(segments)
    if not changed and not conflicts and not agreed:
        return None  # (git and the UI agreeing still moves the baseline: state records it)
    places = _removals_grouped(changed, seen, threeway.fields(git, rules), item, context.sandbox)
    new_git, new_applied = dict(git), dict(applied)
    for segments in places:
        new_git = diff.copy_field(new_git, seen, diff.pointer(segments))
        new_applied = diff.copy_field(new_applied, seen, diff.pointer(segments))
    for pointer in agreed:
        new_applied = diff.copy_field(new_applied, seen, pointer)
    for pointer in rules:
        present, parent = diff.lookup(new_applied, diff.parse_pointer(pointer)[:-1])
        if present and isinstance(parent, dict):
            new_applied = diff.copy_field(new_applied, seen, pointer)  # as apply records it
    edits = _edits(item, local, new_git, places, context)
    who = attribution(found)
    return ObjectPull(
        key=item.key,
        kind=kind,
        name=name_of(kind, git, item.key),
        path=item.source.path or f"offers/{item.key}.yaml",
        fields=_fields(_written(item), edits),
        edits=edits,
        applied=new_applied,
        etag=entry.etag if conflicts else etag_of(found.get("etag")),
        by=who.by,
        at=who.at,
        conflicts=tuple(conflicts),
    )


def _same(one: tuple[bool, JsonValue], other: tuple[bool, JsonValue]) -> bool:
    return one[0] == other[0] and (not one[0] or diff.json_equal(one[1], other[1]))


def _shown(found: tuple[bool, JsonValue]) -> JsonValue:
    return _file_json(found[1]) if found[0] else None


def _removals_grouped(
    changed: list[tuple[str, ...]],
    seen: JsonObject,
    owned: Sequence[str],
    item: Desired,
    sandbox: str,
) -> list[tuple[str, ...]]:
    """The changed places, where a place live lacks is removed with the outermost member live
    lacks too, when every place git owns under that member is removed, and written in the body
    for every sandbox: git's `rank: {priority: 5}` goes whole when the UI removed `rank`,
    leaving no `rank: {}` behind."""
    removed = {
        place
        for place in changed
        if not diff.lookup(seen, place)[0]
        and overrides.source(item, sandbox, diff.pointer(place)) == "base"
    }
    under = [diff.parse_pointer(pointer) for pointer in owned]
    out: list[tuple[str, ...]] = []
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


def _edits(
    item: Desired,
    local: Desired,
    new_git: JsonObject,
    places: list[tuple[str, ...]],
    context: Context,
) -> tuple[Edit, ...]:
    """The places as the file writes them: ids of managed objects as references, the catalog
    id left out where the file leaves it to reconciler.yaml."""
    resolved = overrides.resolve(item, context.sandbox)
    fills_catalog = not diff.json_equal(dict(resolved.body), dict(local.body))
    written = kinds.authored(item.kind, new_git, context.catalog if fills_catalog else None)
    written = graph.unresolve(item.kind, written, context.keys)
    edits: list[Edit] = []
    for segments in places:
        present, value = diff.lookup(written, segments)
        pointer = diff.pointer(segments)
        if overrides.source(item, context.sandbox, pointer) == "override":
            where = (overrides.FIELD, context.sandbox, *segments)
            if present:
                edits.append(Edit(where, value))
            elif diff.lookup(item.body, segments)[0]:
                edits.append(Edit(where, None))  # the override removes what the body has
            else:
                edits.append(Edit(where, removed=True))
        elif present:
            edits.append(Edit(segments, value))
        elif diff.lookup(item.body, segments)[0]:
            edits.append(Edit(segments, removed=True))
    return tuple(edits)


def _written(item: Desired) -> JsonObject:
    """A definition's fields as its file writes them (`overrides:` included, `kind` not)."""
    out: JsonObject = _file_json(dict(item.body))  # type: ignore[assignment]
    if item.overrides:
        out[overrides.FIELD] = {name: dict(patch) for name, patch in item.overrides.items()}
    return out


def _fields(written: JsonObject, edits: Sequence[Edit]) -> tuple[FieldPull, ...]:
    """The edits as field changes: the smallest JSON Patch from the file's fields to the edited
    ones, each operation with git's value and the live one (paths as in the file: a field
    written in an override is under /overrides/<sandbox>)."""
    before, after = written, _after(written, edits)
    out: list[FieldPull] = []
    for op in diff.json_patch(before, after):
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


def _after(written: JsonObject, edits: Sequence[Edit]) -> JsonObject:
    """A file's fields (as `_written` gives them) with the edits made."""
    out = dict(written)
    for edit in edits:
        pointer = diff.pointer(edit.path)
        if edit.removed:
            out = diff.drop(out, pointer)
        else:
            out = diff.put(out, pointer, _file_json(edit.value))
    return out


def _file_json(value: JsonValue) -> JsonValue:
    """A value with references as the file writes them (`{"ref": key}`)."""
    if isinstance(value, Ref):
        return dict(value.to_json())
    if isinstance(value, dict):
        return {name: _file_json(item) for name, item in value.items()}
    if isinstance(value, list):
        return [_file_json(item) for item in value]
    return value


def _deletion(
    key: Key,
    entry: Entry,
    defined: Mapping[Key, Desired],
    written: Mapping[Key, ObjectPull],
    gone: Sequence[Key],
) -> Deletion:
    """An object deleted outside git, with the definitions (as pulled) that still refer to it,
    in the body written for every sandbox or in any sandbox's override."""
    item = defined.get(key)
    referrers: list[Key] = []
    for other in sorted(defined):
        if other == key or other in gone:
            continue
        pulled = written.get(other)
        fields = _after(_written(defined[other]), pulled.edits if pulled is not None else ())
        patches = fields.pop(overrides.FIELD, None)
        bodies = [fields]
        if isinstance(patches, dict):
            bodies += [overrides.merge(fields, patch) for patch in patches.values()]
        kind = defined[other].kind
        if any(key in graph.dependencies(kind, graph.typed(kind, body)) for body in bodies):
            referrers.append(other)
    assert entry.id is not None
    return Deletion(
        key=key,
        kind=entry.kind,
        id=entry.id,
        name=name_of(entry.kind, entry.applied or {}, key),
        path=item.source.path if item is not None and item.kind is entry.kind else None,
        referenced_by=tuple(referrers),
    )
