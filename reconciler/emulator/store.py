"""The emulator's data: objects per (org, sandbox), in memory, optionally journaled to a file.

Every write happens inside `writing()`: it takes the journal's file lock and first replays what
other processes appended, so checks (etags, references, names, limits) see the latest data.
Reads call `refresh()` to pick up other processes' writes without taking the lock.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from reconciler import kinds
from reconciler.emulator.journal import Journal
from reconciler.emulator.records import Partition, Record
from reconciler.model import JsonObject, Kind, name_of

COMPACT_SLACK = 1_000
"""On open, a journal with more than 4 lines per live object plus this many is compacted."""


@dataclass
class _Sandbox:
    objects: dict[str, Record] = field(default_factory=dict)
    by_kind: dict[Kind, dict[str, Record]] = field(default_factory=dict)
    referrers: dict[str, set[str]] = field(default_factory=dict)
    versions: dict[Kind, int] = field(default_factory=dict)
    names: dict[tuple[Kind, str], set[str]] = field(default_factory=dict)


class Store:
    """All sandboxes' objects. Not thread-safe: one event loop drives it."""

    def __init__(self, path: Path | None = None) -> None:
        self._journal = Journal(path) if path is not None else None
        self._sandboxes: dict[Partition, _Sandbox] = {}
        self._epoch = 0
        self._writing = False
        if self._journal is not None:
            with self._journal.lock:
                lines = self._replay()
                live = sum(len(s.objects) for s in self._sandboxes.values())
                if lines > 4 * live + COMPACT_SLACK:
                    self._rewrite()

    # --- reads ------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Replay lines other processes appended since this process last read the file."""
        if self._journal is not None and not self._writing:
            self._replay()

    def get(self, partition: Partition, object_id: str) -> Record | None:
        sandbox = self._sandboxes.get(partition)
        return sandbox.objects.get(object_id) if sandbox else None

    def objects(self, partition: Partition, kind: Kind) -> Mapping[str, Record]:
        sandbox = self._sandboxes.get(partition)
        return sandbox.by_kind.get(kind, {}) if sandbox else {}

    def named(self, partition: Partition, kind: Kind, name: str) -> list[Record]:
        """The objects of a kind with exactly this name (`model.name_of`: a decision item's is
        its itemName), from an index: name lookups cost no scan."""
        sandbox = self._sandboxes.get(partition)
        if sandbox is None:
            return []
        return [sandbox.objects[i] for i in sorted(sandbox.names.get((kind, name), ()))]

    def count(self, partition: Partition, kind: Kind) -> int:
        return len(self.objects(partition, kind))

    def version(self, partition: Partition, kind: Kind) -> tuple[int, int]:
        """Changes whenever an object of this kind in this sandbox changes (for list caches)."""
        sandbox = self._sandboxes.get(partition)
        return self._epoch, sandbox.versions.get(kind, 0) if sandbox else 0

    def referrers(self, partition: Partition, object_id: str) -> tuple[str, ...]:
        """Ids of the objects whose bodies hold this id in a reference field, sorted."""
        sandbox = self._sandboxes.get(partition)
        return tuple(sorted(sandbox.referrers.get(object_id, ()))) if sandbox else ()

    def exists(self, object_id: str) -> bool:
        """Whether any sandbox holds this id (new ids are unique across the whole store)."""
        return any(object_id in sandbox.objects for sandbox in self._sandboxes.values())

    # --- writes -----------------------------------------------------------------------------

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        """Hold the file lock with the latest data loaded, for one check-then-write."""
        if self._journal is None or self._writing:
            yield
            return
        with self._journal.lock:
            self._replay()
            self._writing = True
            try:
                yield
            finally:
                self._writing = False

    def put(self, partition: Partition, record: Record, *, created: bool) -> None:
        self._commit({"op": "create" if created else "patch", **_where(partition)}, record)
        self._put(partition, record)

    def remove(self, partition: Partition, record: Record, *, client_id: str, at: str) -> None:
        """Delete; the journal line says who deleted which revision when, for revision histories."""
        entry: JsonObject = {
            "op": "delete",
            **_where(partition),
            "kind": record.kind.value,
            "id": record.id,
            "etag": record.etag,
            "deleted": at,
            "deletedByClientId": client_id,
        }
        self._commit(entry, None)
        self._remove(partition, record.id)

    def compact(self) -> None:
        """Rewrite the journal as one line per live object, atomically."""
        if self._journal is None:
            return
        with self._journal.lock:
            self._replay()
            self._rewrite()

    # --- internals --------------------------------------------------------------------------

    def _commit(self, entry: JsonObject, record: Record | None) -> None:
        if self._journal is None:
            return
        if not self._writing:
            raise RuntimeError("store writes must happen inside Store.writing()")
        if record is not None:
            entry["object"] = record.to_json()
        self._journal.append(entry)

    def _rewrite(self) -> None:
        assert self._journal is not None
        self._journal.rewrite(
            {"op": "create", **_where(partition), "object": record.to_json()}
            for partition, sandbox in sorted(self._sandboxes.items())
            for record in sandbox.objects.values()
        )

    def _replay(self) -> int:
        assert self._journal is not None
        batch = self._journal.read_new(_decode)
        if batch.reset:
            self._sandboxes.clear()
            self._epoch += 1
        for change in batch.entries:
            if change.record is not None:
                self._put(change.partition, change.record)
            else:
                self._remove(change.partition, change.object_id)
        return batch.lines

    def _put(self, partition: Partition, record: Record) -> None:
        sandbox = self._sandboxes.setdefault(partition, _Sandbox())
        old = sandbox.objects.get(record.id)
        if old is not None:
            self._unindex(sandbox, old)
            if old.kind is not record.kind:
                sandbox.by_kind.get(old.kind, {}).pop(old.id, None)
                _bump(sandbox, old.kind)
        sandbox.objects[record.id] = record
        sandbox.by_kind.setdefault(record.kind, {})[record.id] = record
        for reference in kinds.references(record.kind, record.body):
            if isinstance(reference.value, str):
                sandbox.referrers.setdefault(reference.value, set()).add(record.id)
        name = name_of(record.kind, record.body)
        if name is not None:
            sandbox.names.setdefault((record.kind, name), set()).add(record.id)
        _bump(sandbox, record.kind)

    def _remove(self, partition: Partition, object_id: str) -> None:
        sandbox = self._sandboxes.get(partition)
        old = sandbox.objects.pop(object_id, None) if sandbox else None
        if sandbox is None or old is None:
            return
        self._unindex(sandbox, old)
        sandbox.by_kind.get(old.kind, {}).pop(object_id, None)
        _bump(sandbox, old.kind)

    @staticmethod
    def _unindex(sandbox: _Sandbox, record: Record) -> None:
        for reference in kinds.references(record.kind, record.body):
            holders = (
                sandbox.referrers.get(reference.value) if isinstance(reference.value, str) else None
            )
            if holders is not None:
                holders.discard(record.id)
                if not holders:
                    del sandbox.referrers[str(reference.value)]
        name = name_of(record.kind, record.body)
        named = sandbox.names.get((record.kind, name)) if name is not None else None
        if named is not None:
            named.discard(record.id)
            if not named:
                del sandbox.names[(record.kind, str(name))]


@dataclass(frozen=True, slots=True)
class _Change:
    """One journal entry, understood: the record a create or patch stored, or a deleted id."""

    partition: Partition
    object_id: str
    record: Record | None


def _decode(entry: JsonObject) -> _Change:
    """The change a journal entry records; ValueError (its reason) for one this version cannot read."""
    org, name, op = entry.get("org"), entry.get("sandbox"), entry.get("op")
    if not isinstance(org, str) or not isinstance(name, str):
        raise ValueError("no org and sandbox")
    if op in ("create", "patch"):
        stored = entry.get("object")
        if not isinstance(stored, dict):
            raise ValueError(f"a {op} without its object")
        try:
            record = Record.from_json(stored)
        except (KeyError, ValueError, TypeError):
            raise ValueError(f"the object of a {op} is not a stored object") from None
        return _Change((org, name), record.id, record)
    if op == "delete":
        object_id = entry.get("id")
        if not isinstance(object_id, str):
            raise ValueError("a delete without an id")
        return _Change((org, name), object_id, None)
    raise ValueError(f"unknown op {json.dumps(op)}")


def _where(partition: Partition) -> JsonObject:
    return {"org": partition[0], "sandbox": partition[1]}


def _bump(sandbox: _Sandbox, kind: Kind) -> None:
    sandbox.versions[kind] = sandbox.versions.get(kind, 0) + 1
