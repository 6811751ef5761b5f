"""The append-only JSON-lines file the store persists to, shared safely between processes.

One line per committed write. Writers hold `lock` (a filelock.FileLock beside the file), so
under the lock any line without its newline is a torn write from a crashed process: it is cut
off before appending. Readers never take the lock: they read complete lines from the offset
they stopped at and leave a trailing partial line for the next read. A file replaced by
`rewrite` (another inode) or shorter than the offset is read again from the start.

A complete line (newline included) that is not an entry cannot come from a crash: the file was
damaged, so reading it raises CorruptJournal (a ReconcilerError: the CLI shows its one line,
also when the embedded sandbox replays inside a request of the in-process app).
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

from filelock import FileLock

from reconciler.errors import ReconcilerError
from reconciler.model import JsonObject

LOCK_TIMEOUT = 30.0

T = TypeVar("T")


class CorruptJournal(ReconcilerError):
    """A complete line of the journal is not an entry: the file was damaged, not torn by a crash."""

    def __init__(self, path: Path, line: int, reason: str) -> None:
        self.path = path
        self.line = line
        super().__init__(
            f"{path}:{line}: corrupt sandbox journal line ({reason}): restore the file from a "
            "backup, or delete it to reset this sandbox to empty"
        )


@dataclass(frozen=True, slots=True)
class Batch(Generic[T]):
    """Entries read since the last read; `reset` means forget everything and replay these."""

    reset: bool
    entries: tuple[T, ...]

    @property
    def lines(self) -> int:
        return len(self.entries)


class Journal:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = FileLock(str(path.with_name(path.name + ".lock")), timeout=LOCK_TIMEOUT)
        self._offset = 0
        self._line = 0  # complete lines before _offset, to name a corrupt line by its number
        self._identity: tuple[int, int] | None = None

    def read_new(self, decode: Callable[[JsonObject], T]) -> Batch[T]:
        """Complete lines appended since the last call (by anyone), each parsed and `decode`d.

        `decode` raises ValueError for an entry it does not understand. Any bad line raises
        CorruptJournal and nothing of the batch counts as read, so the next call raises again.
        """
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            reset = self._identity is not None
            self._identity, self._offset, self._line = None, 0, 0
            return Batch(reset, ())
        with os.fdopen(fd, "rb") as handle:
            status = os.fstat(handle.fileno())
            identity = (status.st_dev, status.st_ino)
            reset = identity != self._identity or status.st_size < self._offset
            offset, line = (0, 0) if reset else (self._offset, self._line)
            chunk = b""
            if status.st_size > offset:
                handle.seek(offset)
                chunk = handle.read(status.st_size - offset)
        complete = chunk[: chunk.rfind(b"\n") + 1]
        lines = complete.split(b"\n")[:-1]
        entries = tuple(
            self._decode(raw, number, decode) for number, raw in enumerate(lines, start=line + 1)
        )
        self._identity, self._offset, self._line = (
            identity,
            offset + len(complete),
            line + len(lines),
        )
        return Batch(reset, entries)

    def append(self, entry: JsonObject) -> None:
        """Append one entry durably. The caller holds `lock` and has read everything first."""
        line = json.dumps(entry, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "ab") as handle:
            status = os.fstat(handle.fileno())
            if self._identity != (status.st_dev, status.st_ino):
                # Created just now (or unseen): nothing in it has been read, so nothing is torn.
                self._identity, self._offset = (status.st_dev, status.st_ino), status.st_size
                self._line = _count_lines(self.path, status.st_size)
            elif status.st_size > self._offset:
                os.ftruncate(handle.fileno(), self._offset)  # a torn line from a crashed writer
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())
        self._offset += len(line)
        self._line += 1

    def rewrite(self, entries: Iterable[JsonObject]) -> None:
        """Replace the whole file atomically (temp file, fsync, os.replace). The caller holds `lock`."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=self.path.name + ".", dir=self.path.parent)
        try:
            count = 0
            with os.fdopen(fd, "wb") as handle:
                for entry in entries:
                    count += 1
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
        self._line = count

    def _decode(self, raw: bytes, number: int, decode: Callable[[JsonObject], T]) -> T:
        try:
            entry = json.loads(raw)
        except ValueError:  # JSONDecodeError and UnicodeDecodeError alike
            raise CorruptJournal(self.path, number, "not valid JSON") from None
        if not isinstance(entry, dict):
            raise CorruptJournal(self.path, number, "not a JSON object")
        try:
            return decode(entry)
        except ValueError as error:
            raise CorruptJournal(self.path, number, str(error)) from None


def _count_lines(path: Path, size: int) -> int:
    with open(path, "rb") as handle:
        return handle.read(size).count(b"\n")


def _fsync_directory(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
