"""The append-only JSON-lines file the store persists to, shared safely between processes.

One line per committed write. Writers hold `lock` (a filelock.FileLock beside the file), so
under the lock any line without its newline is a torn write from a crashed process: it is cut
off before appending. Readers never take the lock: they read complete lines from the offset
they stopped at and leave a trailing partial line for the next read. A file replaced by
`rewrite` (another inode) or shorter than the offset is read again from the start.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock

from reconciler.model import JsonObject

LOCK_TIMEOUT = 30.0


@dataclass(frozen=True, slots=True)
class Batch:
    """Entries read since the last read; `reset` means forget everything and replay these."""

    reset: bool
    entries: tuple[JsonObject, ...]
    lines: int


class Journal:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = FileLock(str(path.with_name(path.name + ".lock")), timeout=LOCK_TIMEOUT)
        self._offset = 0
        self._identity: tuple[int, int] | None = None

    def read_new(self) -> Batch:
        """Complete lines appended since the last call (by anyone), parsed; bad lines skipped."""
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            reset = self._identity is not None
            self._identity, self._offset = None, 0
            return Batch(reset, (), 0)
        with os.fdopen(fd, "rb") as handle:
            status = os.fstat(handle.fileno())
            identity = (status.st_dev, status.st_ino)
            reset = identity != self._identity or status.st_size < self._offset
            if reset:
                self._identity, self._offset = identity, 0
            if status.st_size == self._offset:
                return Batch(reset, (), 0)
            handle.seek(self._offset)
            chunk = handle.read(status.st_size - self._offset)
        complete = chunk[: chunk.rfind(b"\n") + 1]
        self._offset += len(complete)
        lines = complete.split(b"\n")[:-1]
        return Batch(reset, tuple(_parse(lines)), len(lines))

    def append(self, entry: JsonObject) -> None:
        """Append one entry durably. The caller holds `lock` and has read everything first."""
        line = json.dumps(entry, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "ab") as handle:
            status = os.fstat(handle.fileno())
            if self._identity != (status.st_dev, status.st_ino):
                # Created just now (or unseen): nothing in it has been read, so nothing is torn.
                self._identity, self._offset = (status.st_dev, status.st_ino), status.st_size
            elif status.st_size > self._offset:
                os.ftruncate(handle.fileno(), self._offset)  # a torn line from a crashed writer
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())
        self._offset += len(line)

    def rewrite(self, entries: Iterable[JsonObject]) -> None:
        """Replace the whole file atomically (temp file, fsync, os.replace). The caller holds `lock`."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=self.path.name + ".", dir=self.path.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                for entry in entries:
                    handle.write(
                        json.dumps(entry, ensure_ascii=False, separators=(",", ":")).encode()
                    )
                    handle.write(b"\n")
                handle.flush()
                os.fsync(handle.fileno())
                status = os.fstat(handle.fileno())
            os.replace(temp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise
        _fsync_directory(self.path.parent)
        self._identity, self._offset = (status.st_dev, status.st_ino), status.st_size


def _parse(lines: list[bytes]) -> Iterator[JsonObject]:
    for raw in lines:
        try:
            entry = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            continue  # a corrupt line in the middle: skip it, as a torn tail would have been
        if isinstance(entry, dict):
            yield entry


def _fsync_directory(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
