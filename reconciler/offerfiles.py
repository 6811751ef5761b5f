"""The files under offers/ that hold definitions: a walk that follows symlinks inside the
repository, reads no folder twice, and turns whatever it cannot take into a located problem."""

from __future__ import annotations

import errno
import os
import re
from pathlib import Path

from reconciler.model import Problem

SUFFIXES = (".yaml", ".yml")


def within(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def definition_files(folder: Path, problems: list[Problem]) -> list[Path]:
    """The .yaml and .yml files under folder, sorted, symlinks followed.

    Whatever the walk cannot take as a definition is a problem, never skipped in silence: a
    file that is not seen is an object `apply --prune` deletes. So a symlink that leads nowhere
    or back into its own folder, a folder that cannot be listed, a `.YAML` file and a special
    file named `.yaml` each add a problem.
    """
    found: list[Path] = []
    inside = os.path.realpath(folder.parent)  # the repository: links may not lead out of it
    seen = {_identity(folder)}  # every folder read, so none is read twice through links
    pending = [(folder, frozenset({_identity(folder)}))]
    while pending:
        directory, ancestors = pending.pop()
        try:
            with os.scandir(directory) as listing:
                entries = sorted(listing, key=lambda entry: entry.name)  # the same order anywhere
        except OSError as error:
            problems.append(_problem_at(folder, directory, unreadable(directory, error)))
            continue
        for entry in entries:
            path = Path(entry.path)
            try:
                is_dir, is_file = entry.is_dir(), entry.is_file()
                identity = _identity(path) if is_dir else None
                if entry.is_symlink() and not (is_dir or is_file):
                    os.stat(path)  # a link that leads nowhere raises here; else a special file
            except OSError as error:
                problems.append(_problem_at(folder, path, unreadable(path, error)))
                continue
            suffix = path.suffix
            if entry.is_symlink() and not within(os.path.realpath(path), inside):
                problems.append(
                    _problem_at(
                        folder,
                        path,
                        f"a symlink to {_target(path)}, outside the repository: a link must stay "
                        "inside it (copy the file in, or delete the link)",
                    )
                )
                continue
            if identity is not None:
                if identity in seen and identity not in ancestors:
                    problems.append(
                        _problem_at(
                            folder,
                            path,
                            f"a symlink to {_target(path)}, a folder read already through "
                            "another path: its files would have two keys: delete the link",
                        )
                    )
                elif identity in ancestors:
                    problems.append(
                        _problem_at(
                            folder,
                            path,
                            f"a symlink to {_target(path)}, a folder that holds the link: "
                            "following it would never end: delete the link",
                        )
                    )
                else:
                    seen.add(identity)
                    pending.append((path, ancestors | {identity}))
            elif suffix in SUFFIXES and is_file:
                found.append(path)
            elif suffix in SUFFIXES:
                problems.append(
                    _problem_at(
                        folder,
                        path,
                        "not a regular file (a pipe, socket or device): replace it with a "
                        "definition file or remove it from offers/",
                    )
                )
            elif suffix.lower() in SUFFIXES and is_file:
                problems.append(
                    _problem_at(
                        folder,
                        path,
                        f"rename it to {path.stem}{suffix.lower()}: keys come from file names "
                        "and only .yaml/.yml files are read",
                    )
                )
            elif is_file and entry.name.strip().lower().endswith(SUFFIXES):
                problems.append(
                    _problem_at(
                        folder,
                        path,
                        f"{entry.name!r} is not read: a definition file is named <key>.yaml, "
                        "with no spaces around it and no dot in front: rename it",
                    )
                )
    return sorted(found)


def slug(text: str) -> str:
    """A file-name-safe form of a text, for a key: `Summer Sale 60%` -> `summer-sale-60`,
    `summer/sale-60` -> `summer-sale-60`."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60].strip("-") or "object"


def key_problem(key: str) -> str | None:
    """Why a key (a path under offers/ without the suffix) cannot name a definition file."""
    segments = key.split("/")
    if key.endswith((".yaml", ".yml")):
        return "a key has no suffix (summer/sale-60, not summer/sale-60.yaml)"
    if any(not s or s != s.strip() or s.startswith(".") for s in segments):
        return (
            "a key is a path under offers/ such as summer/sale-60: no empty part, no leading "
            "slash, no part starting with a dot, no spaces around a part"
        )
    return None


def _identity(path: Path) -> tuple[int, int]:
    """A folder's identity whatever path leads to it (links followed): its device and inode."""
    status = os.stat(path)
    return status.st_dev, status.st_ino


def unreadable(path: Path, error: OSError) -> str:
    """Why a path under offers/ cannot be read, and what to do about it."""
    if path.is_symlink() and error.errno in (errno.ENOENT, errno.ENOTDIR):
        return f"a symlink to {_target(path)}, which does not exist: fix the link or delete it"
    if error.errno == errno.ELOOP:
        return (
            f"a symlink to {_target(path)}, whose links lead back to themselves: fix the "
            "link or delete it"
        )
    return f"cannot be read ({error.strerror}): make it readable or remove it from offers/"


def _target(path: Path) -> str:
    try:
        return os.readlink(path)
    except OSError:  # not a link after all (a bind mount), or gone since
        return str(path)


def _problem_at(folder: Path, path: Path, message: str) -> Problem:
    relative = path.relative_to(folder).as_posix()
    return Problem("offers/" if relative == "." else f"offers/{relative}", 1, 1, message)
