"""state/<sandbox>.json: ids, etags and last-applied bodies; locked, journaled, atomic, deterministic.

Layout, per sandbox:
- `<sandbox>.json`     the compacted state (sorted keys, 2-space indent, trailing newline);
- `<sandbox>.journal`  JSON lines appended (and fsynced) after every write during an apply,
                       folded into the JSON file when the run ends; replayed after a crash;
- `<sandbox>.json.bak` the previous compacted state;
- `<sandbox>.lock`     held by the one process allowed to write.
"""

from __future__ import annotations

import json
import os
import tempfile
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import filelock

from reconciler.errors import StateError
from reconciler.model import Entry, Etag, JsonValue, Key, Kind, ObjectId, Pending, State

FORMAT_VERSION = 1


def path_for(root: Path, sandbox: str) -> Path:
    return root / "state" / f"{sandbox}.json"


def new(sandbox: str, org: str, endpoint: str) -> State:
    return State(
        lineage=str(uuid.uuid4()), serial=0, sandbox=sandbox, org=org, endpoint=endpoint, objects={}
    )


def read(path: Path) -> State | None:
    """The current state (the JSON file plus any journal left by an interrupted run), or None."""
    journal = _journal_path(path)
    if not path.exists() and not journal.exists():
        return None
    state = _read_file(path) if path.exists() else None
    return _replay(path, state)


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
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


class Writer:
    """The single writer of one state file, used while its lock is held."""

    def __init__(self, path: Path, state: State) -> None:
        self.path = path
        self.state = state
        self._journal: IO[str] | None = None

    def record(self, key: Key, entry: Entry | None) -> State:
        """Durably record one entry (None removes it) before anything else happens."""
        self.state = self.state.with_entry(key, entry)
        line = json.dumps(
            {
                "lineage": self.state.lineage,
                "serial": self.state.serial,
                "key": key,
                "entry": None if entry is None else _entry_json(entry),
            },
            sort_keys=True,
            ensure_ascii=False,
        )
        if self._journal is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._journal = open(_journal_path(self.path), "a", encoding="utf-8")  # noqa: SIM115
        self._journal.write(line + "\n")
        self._journal.flush()
        os.fsync(self._journal.fileno())
        return self.state

    def replace(self, state: State) -> None:
        """Swap the whole state (state mv/rm/import); written at compaction."""
        self.state = state
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
            if writer.state.serial != state.serial or _journal_path(path).exists():
                writer.compact()
    finally:
        lock.release()


def _read_file(path: Path) -> State:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise StateError(
            f"{_display(path)} cannot be read ({error}): it was not modified"
        ) from None
    try:
        document = json.loads(text)
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
        return State(
            lineage=_text(document, "lineage"),
            serial=_int(document, "serial"),
            sandbox=_text(document, "sandbox"),
            org=_text(document, "org"),
            endpoint=_text(document, "endpoint"),
            objects={
                Key(key): _entry(value) for key, value in sorted(_dict(document, "objects").items())
            },
        )
    except (KeyError, TypeError, ValueError) as error:
        raise StateError(
            f"{_display(path)}: malformed state ({error}): restore it from git or {path.name}.bak"
        ) from None


def _replay(path: Path, state: State | None) -> State:
    journal = _journal_path(path)
    if not journal.exists():
        assert state is not None
        return state
    lines = journal.read_text(encoding="utf-8", errors="replace").splitlines()
    for number, line in enumerate(lines, start=1):
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            if number == len(lines):
                break  # a torn last line: the write it describes never completed
            raise StateError(
                f"{_display(journal)}:{number}: corrupt journal line: restore state/ from git"
            ) from None
        if state is None:
            raise StateError(
                f"{_display(journal)} exists without {path.name}: restore state/ from git"
            )
        if record["lineage"] != state.lineage:
            raise StateError(
                f"{_display(journal)} belongs to another state lineage: remove it or restore state/"
            )
        if record["serial"] <= state.serial:
            continue
        entry = None if record["entry"] is None else _entry(record["entry"])
        state = state.with_entry(Key(record["key"]), entry)
    assert state is not None
    return state


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
    return out


def _entry(value: Any) -> Entry:
    if not isinstance(value, dict):
        raise TypeError("an object entry is not a mapping")
    pending = value.get("pending_create")
    return Entry(
        kind=Kind(value["kind"]),
        id=ObjectId(value["id"]) if value.get("id") is not None else None,
        etag=Etag(str(value["etag"])) if value.get("etag") is not None else None,
        applied=value.get("applied"),
        applied_at=value.get("applied_at"),
        pending=Pending(name=pending["name"], since=pending["since"]) if pending else None,
    )


def _text(document: Mapping[str, Any], name: str) -> str:
    value = document[name]
    if not isinstance(value, str):
        raise TypeError(f"{name} is not a string")
    return value


def _int(document: Mapping[str, Any], name: str) -> int:
    value = document[name]
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} is not an integer")
    return value


def _dict(document: Mapping[str, Any], name: str) -> dict[str, Any]:
    value = document[name]
    if not isinstance(value, dict):
        raise TypeError(f"{name} is not a mapping")
    return value


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
