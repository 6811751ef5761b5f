"""state/<sandbox>.json: ids, etags and last-applied bodies; locked, journaled, atomic, deterministic.

Layout, per sandbox:
- `<sandbox>.json`     the compacted state (sorted keys, 2-space indent, trailing newline);
- `<sandbox>.journal`  JSON lines appended (and fsynced) after every write during an apply,
                       folded into the JSON file when the run ends; replayed after a crash;
- `<sandbox>.json.bak` the previous compacted state;
- `<sandbox>.lock`     held by the one process allowed to write.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import MappingProxyType
from typing import IO, Any, TypeVar

import filelock

from reconciler.errors import StateError
from reconciler.model import Entry, Etag, JsonValue, Key, Kind, ObjectId, Pending, State

FORMAT_VERSION = 1
READ_ATTEMPTS = 20
"""Reads of a state file that a writer keeps replacing, before giving up (about a second)."""

_T = TypeVar("_T")


def path_for(root: Path, sandbox: str) -> Path:
    return root / "state" / f"{sandbox}.json"


def new(sandbox: str, org: str, endpoint: str) -> State:
    return State(
        lineage=str(uuid.uuid4()), serial=0, sandbox=sandbox, org=org, endpoint=endpoint, objects={}
    )


def read(path: Path) -> State | None:
    """The current state (the JSON file plus any journal of a running or interrupted apply), or None.

    Takes no lock, so a writer may be compacting meanwhile: it replaces the JSON file and then
    unlinks the journal. Each attempt keeps the JSON file it read open while it reads the journal,
    then checks that the path still names that file; if not, the pair it read may mix two
    compactions (an old file without the journal just folded into the new one), so it reads again.
    """
    for attempt in range(READ_ATTEMPTS):
        with _open_or_none(path) as handle:
            text = handle.read() if handle is not None else None
            journal = _read_journal(_journal_path(path))
            if _still_names(path, handle):
                if text is None and journal is None:
                    return None
                state = _parse_file(path, text) if text is not None else None
                return _replay(path, state, journal)
        time.sleep(min(0.0005 * 2**attempt, 0.05))
    raise StateError(
        f"{_display(path)} was replaced {READ_ATTEMPTS} times while being read: another "
        "reconciler run is writing it; try again when it is done"
    )


def check_binding(state: State, path: Path, *, sandbox: str, org: str, endpoint: str) -> None:
    """Refuse a state file that belongs to another sandbox, org or endpoint."""
    for what, have, want in (
        ("sandbox", state.sandbox, sandbox),
        ("org", state.org, org),
        ("endpoint", state.endpoint, endpoint),
    ):
        if have != want:
            raise StateError(
                f"{_display(path)} belongs to {what} {have!r}, not {want!r}: "
                "check reconciler.yaml or use the state file of that sandbox"
            )


def dumps(state: State) -> str:
    """Deterministic JSON text of a state (what goes into git)."""
    document = {
        "format_version": FORMAT_VERSION,
        "lineage": state.lineage,
        "serial": state.serial,
        "sandbox": state.sandbox,
        "org": state.org,
        "endpoint": state.endpoint,
        "objects": {key: _entry_json(entry) for key, entry in state.objects.items()},
    }
    if state.last_plan is not None:
        document["last_plan"] = state.last_plan
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


class Writer:
    """The single writer of one state file, used while its lock is held.

    It keeps the entries in a dict it updates in place (a write costs the same with 10 or 10,000
    entries), with an index of ids; `state` is a snapshot, for when a whole value is needed.
    """

    def __init__(self, path: Path, state: State) -> None:
        self.path = path
        self._base = state
        self._objects: dict[Key, Entry] = dict(state.objects)
        self._serial = state.serial
        self._ids: dict[Key, ObjectId] = {
            key: entry.id for key, entry in state.objects.items() if entry.id is not None
        }
        self._managers: dict[str, Key] = {object_id: key for key, object_id in self._ids.items()}
        self._journal: IO[str] | None = None

    @property
    def state(self) -> State:
        """The state as recorded so far (a copy)."""
        return dataclasses.replace(self._base, serial=self._serial, objects=dict(self._objects))

    @property
    def serial(self) -> int:
        return self._serial

    @property
    def ids(self) -> Mapping[Key, ObjectId]:
        """Each key's id, as recorded so far (a read-only view that follows every record)."""
        return MappingProxyType(self._ids)

    def entry(self, key: Key) -> Entry | None:
        return self._objects.get(key)

    def manager(self, object_id: str) -> Key | None:
        """The key that manages an id, if any."""
        return self._managers.get(object_id)

    def record(self, key: Key, entry: Entry | None) -> None:
        """Durably record one entry (None removes it) before anything else happens.

        An id is managed by one key at most: recording it under a second key is refused (a bug
        in the caller), nothing is written.
        """
        self._write(key, entry, None)

    def move(self, old: Key, new: Key) -> None:
        """Durably move an entry to another key, in one journal line (a renamed file)."""
        entry = self._objects.get(old)
        if entry is None:
            raise StateError(f"{old}: not in {_display(self.path)}: nothing to move")
        self._write(new, entry, old)

    def _write(self, key: Key, entry: Entry | None, moved_from: Key | None) -> None:
        if entry is not None and entry.id is not None:
            holder = self._managers.get(entry.id)
            if holder is not None and holder not in (key, moved_from):
                raise StateError(
                    f"{_display(self.path)}: {entry.id} is managed by {holder} already; not "
                    f"recording it for {key} too (a bug in reconciler: please report it)"
                )
        self._serial += 1
        record: dict[str, JsonValue] = {
            "lineage": self._base.lineage,
            "serial": self._serial,
            "key": key,
            "entry": None if entry is None else _entry_json(entry),
        }
        if moved_from is not None:
            record["moved_from"] = moved_from
        line = json.dumps(record, sort_keys=True, ensure_ascii=False)
        if self._journal is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._journal = open(_journal_path(self.path), "a", encoding="utf-8")  # noqa: SIM115
        self._journal.write(line + "\n")
        self._journal.flush()
        os.fsync(self._journal.fileno())
        for gone in (moved_from, key):
            if gone is None:
                continue
            old = self._ids.pop(gone, None)
            if old is not None and self._managers.get(old) == gone:
                del self._managers[old]
            if gone == moved_from:
                self._objects.pop(gone, None)
        if entry is None:
            self._objects.pop(key, None)
        else:
            self._objects[key] = entry
            if entry.id is not None:
                self._ids[key] = entry.id
                self._managers[entry.id] = key

    def record_plan(self, digest: str) -> None:
        """Durably mark a saved plan as started (a plan is applied once), before any write.

        The serial moves too: a plan computed afterwards differs from this one even when
        nothing else was written (the run was stopped before its first write), so it is never
        mistaken for the plan already applied.
        """
        self._base = dataclasses.replace(self._base, last_plan=digest)
        self._serial += 1
        self.compact()

    def compact(self) -> None:
        """Fold the journal into the JSON file atomically, keep a .bak, then drop the journal."""
        if self._journal is not None:
            self._journal.close()
            self._journal = None
        _atomic_write(self.path, dumps(self.state))
        journal = _journal_path(self.path)
        if journal.exists():
            journal.unlink()
            _fsync_dir(self.path.parent)


@contextmanager
def locked(
    path: Path, *, sandbox: str, org: str, endpoint: str, timeout: float = 5.0
) -> Iterator[Writer]:
    """Hold the state's lock, load (or create) it, and compact whatever the run recorded."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = filelock.FileLock(str(path.with_suffix(".lock")), timeout=timeout)
    try:
        lock.acquire()
    except filelock.Timeout:
        raise StateError(
            f"{_display(path)} is locked by another reconciler run: wait for it to finish "
            f"(or delete {_display(path.with_suffix('.lock'))} if that run is gone)"
        ) from None
    try:
        state = read(path) or new(sandbox, org, endpoint)
        check_binding(state, path, sandbox=sandbox, org=org, endpoint=endpoint)
        writer = Writer(path, state)
        if not path.exists() or _journal_path(path).exists():
            # The JSON file exists before any journal line: a crash can always be replayed.
            writer.compact()
        try:
            yield writer
        finally:
            if writer.serial != state.serial or _journal_path(path).exists():
                writer.compact()
    finally:
        lock.release()


@contextmanager
def _open_or_none(path: Path) -> Iterator[IO[bytes] | None]:
    try:
        handle = open(path, "rb")  # noqa: SIM115
    except FileNotFoundError:
        yield None
        return
    except OSError as error:
        raise StateError(
            f"{_display(path)} cannot be read ({error.strerror}): it was not modified"
        ) from None
    with handle:
        yield handle


def _read_journal(journal: Path) -> bytes | None:
    """The journal's bytes, or None when there is none (or it was just folded in and unlinked)."""
    try:
        with open(journal, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None
    except OSError as error:
        raise StateError(f"{_display(journal)} cannot be read ({error.strerror})") from None


def _still_names(path: Path, handle: IO[bytes] | None) -> bool:
    """Whether `path` still names the file `handle` has open (or still names nothing)."""
    try:
        now = os.stat(path)
    except FileNotFoundError:
        return handle is None
    if handle is None:
        return False
    held = os.fstat(handle.fileno())
    return (now.st_dev, now.st_ino) == (held.st_dev, held.st_ino)


def _parse_file(path: Path, data: bytes) -> State:
    try:
        document = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise StateError(
            f"{_display(path)} is not UTF-8 text ({error.reason} at byte {error.start}): restore "
            f"it from git or {path.name}.bak; reconciler will not overwrite it"
        ) from None
    except json.JSONDecodeError as error:
        raise StateError(
            f"{_display(path)}:{error.lineno}:{error.colno}: not valid JSON ({error.msg}): restore it "
            f"from git or {path.name}.bak; reconciler will not overwrite it"
        ) from None
    if not isinstance(document, dict) or document.get("format_version") != FORMAT_VERSION:
        version = document.get("format_version") if isinstance(document, dict) else None
        raise StateError(
            f"{_display(path)}: unknown state format_version {version!r} (this reconciler reads "
            f"{FORMAT_VERSION}): upgrade reconciler; the file was not modified"
        )
    try:
        return _state(document)
    except _Malformed as error:
        raise StateError(
            f"{_display(path)}: malformed state: {error}: restore it from git or {path.name}.bak"
        ) from None


def _replay(path: Path, state: State | None, journal: bytes | None) -> State | None:
    """`state` with the journal's records applied; a torn last line (no newline) is ignored."""
    if journal is None:
        return state
    where = _display(_journal_path(path))
    remedy = f"fix that line, or delete {_journal_path(path).name} to forget the writes it recorded"
    lines = journal.decode("utf-8", errors="replace").split("\n")
    torn = lines.pop()  # "" when the journal ends with a newline, as every complete write does
    objects = dict(state.objects) if state is not None else {}
    serial = state.serial if state is not None else 0
    for number, line in enumerate([*lines, torn], start=1):
        is_torn = number > len(lines)
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            if is_torn:
                break  # a crashed writer: the write this line describes never completed
            raise StateError(
                f"{where}:{number}: corrupt journal line (not JSON): {remedy}"
            ) from None
        if state is None:
            raise StateError(f"{where} exists without {path.name}: restore state/ from git")
        try:
            lineage, written, key, entry, moved_from = _record(record)
        except _Malformed as error:
            raise StateError(
                f"{where}:{number}: malformed journal line: {error}: {remedy}"
            ) from None
        if lineage != state.lineage:
            raise StateError(
                f"{where} belongs to another state lineage: remove it or restore state/"
            )
        if written <= serial:
            continue  # already folded into the JSON file by a compaction this reader overlapped
        if written != serial + 1:
            raise StateError(
                f"{where}:{number}: journal line has serial {written} but {serial + 1} comes "
                f"next: {remedy}"
            )
        serial = written
        if moved_from is not None:
            objects.pop(moved_from, None)
        if entry is None:
            objects.pop(key, None)
        else:
            objects[key] = entry
    if state is None:
        return None
    return dataclasses.replace(state, serial=serial, objects=objects)


def _entry_json(entry: Entry) -> dict[str, JsonValue]:
    out: dict[str, JsonValue] = {"kind": entry.kind.value}
    if entry.id is not None:
        out["id"] = entry.id
    if entry.etag is not None:
        out["etag"] = entry.etag
    if entry.applied is not None:
        out["applied"] = dict(entry.applied)
    if entry.applied_at is not None:
        out["applied_at"] = entry.applied_at
    if entry.pending is not None:
        out["pending_create"] = {"name": entry.pending.name, "since": entry.pending.since}
    if entry.protect:
        out["protect"] = True  # written only when true: files without it stay as they were
    return out


class _Malformed(ValueError):
    """A value of the wrong shape; the message names it by its path in the document."""


_ENTRY_FIELDS = frozenset(
    {"kind", "id", "etag", "applied", "applied_at", "pending_create", "protect"}
)
_STATE_FIELDS = frozenset(
    {"format_version", "lineage", "serial", "sandbox", "org", "endpoint", "objects", "last_plan"}
)
_RECORD_FIELDS = frozenset({"lineage", "serial", "key", "entry", "moved_from"})


def _state(document: Mapping[str, Any]) -> State:
    _known(document, _STATE_FIELDS, "")
    lineage = _field(document, "lineage", str, "a string", "")
    serial = _field(document, "serial", int, "an integer", "")
    sandbox = _field(document, "sandbox", str, "a string", "")
    org = _field(document, "org", str, "a string", "")
    endpoint = _field(document, "endpoint", str, "a string", "")
    objects = _field(document, "objects", dict, "an object", "")
    entries = {Key(key): _entry(value, key) for key, value in sorted(objects.items())}
    holders: dict[str, Key] = {}
    for key, entry in entries.items():
        if entry.id is not None:
            if entry.id in holders:
                raise _Malformed(
                    f"objects[{json.dumps(holders[entry.id])}] and objects[{json.dumps(key)}] "
                    f"both manage {entry.id} (an object has one key; `--prune` would delete it "
                    "for the other)"
                )
            holders[entry.id] = key
    return State(
        lineage=lineage,
        serial=serial,
        sandbox=sandbox,
        org=org,
        endpoint=endpoint,
        objects=entries,
        last_plan=_optional(document, "last_plan", str, "a string", ""),
    )


def _record(record: Any) -> tuple[str, int, Key, Entry | None, Key | None]:
    """A journal line's (lineage, serial, key, entry, the key the entry moved from)."""
    if not isinstance(record, dict):
        raise _Malformed(f"the line must be a JSON object, not {_shown(record)}")
    _known(record, _RECORD_FIELDS, "")
    key = _field(record, "key", str, "a string", "")
    if "entry" not in record:
        raise _Malformed("entry is missing")
    entry = record["entry"]
    moved_from = _optional(record, "moved_from", str, "a string", "")
    return (
        _field(record, "lineage", str, "a string", ""),
        _field(record, "serial", int, "an integer", ""),
        Key(key),
        None if entry is None else _entry(entry, key),
        Key(moved_from) if moved_from is not None else None,
    )


def _entry(value: Any, key: str) -> Entry:
    """One object entry, every field's type checked; absent fields are left out, never null."""
    where = f"objects[{json.dumps(key, ensure_ascii=False)}]"
    if not isinstance(value, dict):
        raise _Malformed(f"{where} must be an object, not {_shown(value)}")
    _known(value, _ENTRY_FIELDS, f"{where}.")
    kind = _field(value, "kind", str, "a string", f"{where}.")
    if kind not in _KINDS:
        raise _Malformed(f"{where}.kind must be one of {', '.join(_KINDS)}, not {_shown(kind)}")
    pending: Pending | None = None
    started = _optional(value, "pending_create", dict, "an object", f"{where}.")
    if started is not None:
        _known(started, frozenset({"name", "since"}), f"{where}.pending_create.")
        pending = Pending(
            name=_field(started, "name", str, "a string", f"{where}.pending_create."),
            since=_field(started, "since", str, "a string", f"{where}.pending_create."),
        )
    object_id = _optional(value, "id", str, "a string", f"{where}.")
    return Entry(
        kind=Kind(kind),
        id=ObjectId(object_id) if object_id is not None else None,
        etag=_etag(value, f"{where}."),
        applied=_optional(value, "applied", dict, "an object", f"{where}."),
        applied_at=_optional(value, "applied_at", str, "a string", f"{where}."),
        pending=pending,
        protect=_optional(value, "protect", bool, "a boolean", f"{where}.") is True,
    )


_KINDS = tuple(kind.value for kind in Kind)


def _etag(value: Mapping[str, Any], where: str) -> Etag | None:
    """The etag's text. A JSON integer is taken as its text: it is what the API itself sends."""
    if "etag" not in value:
        return None
    etag = value["etag"]
    if isinstance(etag, int) and not isinstance(etag, bool):
        return Etag(str(etag))
    if not isinstance(etag, str) or not etag:
        raise _Malformed(f"{where}etag must be a non-empty string, not {_shown(etag)}")
    return Etag(etag)


def _known(value: Mapping[str, Any], fields: frozenset[str], where: str) -> None:
    unknown = sorted(set(value) - fields)
    if unknown:
        raise _Malformed(f"{where}{unknown[0]} is not a known field")


def _field(value: Mapping[str, Any], name: str, kind: type[_T], what: str, where: str) -> _T:
    found = _optional(value, name, kind, what, where)
    if found is None:
        raise _Malformed(f"{where}{name} is missing")
    return found


def _optional(
    value: Mapping[str, Any], name: str, kind: type[_T], what: str, where: str
) -> _T | None:
    """The field if present; null is refused too, since the writer leaves absent fields out."""
    if name not in value:
        return None
    found = value[name]
    if not isinstance(found, kind) or isinstance(found, bool) is not (kind is bool):
        raise _Malformed(f"{where}{name} must be {what}, not {_shown(found)}")
    return found


def _shown(value: Any) -> str:
    """A value as an error message shows it: scalars as JSON (short), structures by type."""
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 40 else text[:37] + "..."


def _journal_path(path: Path) -> Path:
    return path.with_suffix(".journal")


def _atomic_write(path: Path, text: str) -> None:
    """Write a whole file so that a crash leaves either the old or the new version, never a mix."""
    if path.exists():
        _replace_with(path.with_name(path.name + ".bak"), path.read_bytes())
    _replace_with(path, text.encode("utf-8"))


def _replace_with(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _display(path: Path) -> str:
    parts = path.parts
    return "/".join(parts[-2:]) if len(parts) >= 2 else str(path)
