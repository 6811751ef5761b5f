"""Pure: the UI edits `reconciler pull` brings into git: for each managed object that drifted,
the fields git owns whose live values to write into its file, the new baseline state records,
and the objects deleted outside git.

A field git owns is a place of its definition (threeway.fields: objects member by member, lists
and values whole), and a field the sandbox's override removes (`null`: git owns its absence),
ignore rules left out. A place is pulled when live differs there from the last-applied body (the
UI changed it) while git still says what was applied (git did not change it since the apply).
Where git changed it too, git's value is kept and the place is a conflict: the next apply
reverts the UI's edit, as its plan shows. Everything is compared as the planner compares it: the
sandbox's body (its `overrides:` merged in), references resolved to ids, the sandbox's catalog id
filled in, a stringified `uiModel` structured, a case the server folds aligned to git's text.
Where each place is written (the override or the body) and how: reconciler.pull_edits.

What a pull leaves in place is reported too: conflicts, objects deleted outside git, and
orphans (objects changed outside git whose file is gone from git: nothing to write into).
"""

from __future__ import annotations

import dataclasses
import fnmatch
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from reconciler import diff, graph, kinds, overrides, pull_edits, threeway, wire
from reconciler.drift import drift as drift_of
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
    State,
    etag_of,
)
from reconciler.pull_edits import FieldPull as FieldPull
from reconciler.roundtrip import Edit

IgnoreRules = Mapping[Kind, tuple[str, ...]]


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
class DriftedOrphan:
    """A managed object changed outside git whose file is gone from git (an orphan): nothing to
    write into, so it is reported, not pulled; `fields` as drift reports them (`git`: the
    last-applied value)."""

    key: Key
    kind: Kind
    id: ObjectId
    name: str
    fields: tuple[FieldPull, ...]
    by: str
    at: str


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
    orphans: tuple[DriftedOrphan, ...] = ()

    @property
    def edits(self) -> tuple[ObjectPull, ...]:
        """The objects whose files change."""
        return tuple(item for item in self.objects if item.edits)

    @property
    def conflicts(self) -> tuple[ObjectPull, ...]:
        return tuple(item for item in self.objects if item.conflicts)

    @property
    def has_drift(self) -> bool:
        return bool(self.objects or self.deleted or self.orphans)


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
    orphans: dict[Key, Entry] = {}
    checked = unapplied = 0
    for key in sorted(state.objects):
        entry = state.objects[key]
        if entry.id is None or not selects(keys, key):
            continue
        found = live.get(entry.kind, entry.id)
        if found is None:
            gone.append(key)
            continue
        if key not in defined:
            orphans[key] = entry  # no file to write into: reported when it drifted
            continue
        if defined[key].kind is not entry.kind:
            continue  # a kind change, which the plan refuses
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
    return Pull(
        state.sandbox,
        tuple(objects),
        deleted,
        checked,
        unapplied,
        _orphans(dataclasses.replace(state, objects=orphans), live_objects, ignore),
    )


def _orphans(
    state: State, live_objects: Mapping[Kind, Sequence[JsonObject]], ignore: IgnoreRules
) -> tuple[DriftedOrphan, ...]:
    """The orphans that changed outside git, with their fields as drift reports them."""
    if not state.objects:
        return ()
    found = drift_of(state, live_objects, sandbox=state.sandbox, ignore=ignore, unmanaged=False)
    return tuple(
        DriftedOrphan(
            key=item.key,
            kind=item.kind,
            id=item.id,
            name=item.name,
            fields=tuple(FieldPull(f.op, f.path, f.applied, f.live) for f in item.fields),
            by=item.by or "",
            at=item.at or "",
        )
        for item in found.objects
        if item.key is not None and item.fields
    )


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
    owned = threeway.fields(git, rules)
    changed: list[tuple[str, ...]] = []
    agreed: list[str] = []  # git and the UI made the same change: only state learns it
    conflicts: list[Conflict] = []
    for place in (*owned, *_absent(local.absent, owned, rules)):
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
    places = pull_edits.grouped(changed, seen, owned)
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
    edits = pull_edits.edits(
        item,
        local,
        new_git,
        places,
        sandbox=context.sandbox,
        keys=context.keys,
        catalog=context.catalog,
    )
    who = attribution(found)
    return ObjectPull(
        key=item.key,
        kind=kind,
        name=name_of(kind, git, item.key),
        path=item.source.path or f"offers/{item.key}.yaml",
        fields=pull_edits.fields(pull_edits.written(item), edits),
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
    return pull_edits.file_json(found[1]) if found[0] else None


def _absent(absent: Sequence[str], owned: Sequence[str], rules: Sequence[str]) -> list[str]:
    """The places the sandbox's override removes that git owns as absent: not under an ignore
    rule (the UI owns those, absent or not) nor already a place of the body."""
    return [
        pointer
        for pointer in absent
        if pointer not in owned
        and not any(pointer == rule or pointer.startswith(rule + "/") for rule in rules)
    ]


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
        fields = pull_edits.after(
            pull_edits.written(defined[other]), pulled.edits if pulled is not None else ()
        )
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
