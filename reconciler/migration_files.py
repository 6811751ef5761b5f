"""The files of `reconciler migrate`: the folder --out names, the comment that marks a file as
migrated, what writing each definition does to its file, and the writes themselves (each file
replaced atomically, none before all are known to be writable)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from reconciler import offerfiles
from reconciler.migration_model import FOLDERS, FileStatus, Migration, MigrationError, is_legacy
from reconciler.model import Desired, Key

DEFAULT_OUT = "offers/decisioning-migrated"
_PROVENANCE = "Written by reconciler migrate --to decisioning, from the legacy "


def provenance(legacy: Key) -> str:
    """The comment migrate writes in each file (after the schema comment): it tells a file
    migrate wrote from a hand-written one, and names the legacy object it came from."""
    return f"{_PROVENANCE}{legacy}"


def _migrated_from(root: Path, item: Desired) -> Key | None:
    """The legacy key a file's provenance comment names, or None for a file migrate did not
    write (the comment is among the comment lines at the top)."""
    path = root / (item.source.path or f"offers/{item.key}.yaml")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    for line in lines:
        if not line.startswith("#"):
            break
        if line.startswith(f"# {_PROVENANCE}"):
            return Key(line.removeprefix(f"# {_PROVENANCE}").strip())
    return None


def out_prefix(root: Path, out: str) -> str:
    """The key prefix of the output folder (`decisioning-migrated`): --out is a folder under
    offers/ (relative to the repository root), not offers/ itself, not a file, not reached
    through a link that leads out of offers/."""
    offers = Path(os.path.abspath(root / "offers"))
    given = Path(out)
    folder = Path(os.path.normpath(given if given.is_absolute() else os.path.abspath(root / given)))
    hint = f"choose a folder under offers/, such as {DEFAULT_OUT}"
    if not offerfiles.within(str(folder), str(offers)) or folder == offers:
        raise MigrationError(f"--out {out}: not a folder under offers/: {hint}")
    prefix = folder.relative_to(offers).as_posix()
    problem = offerfiles.key_problem(prefix)
    if problem is not None:
        raise MigrationError(f"--out {out}: {problem}: {hint}")
    here = folder
    while not here.exists():
        here = here.parent
    if not here.is_dir():
        shown = f"offers/{here.relative_to(offers).as_posix()}"
        raise MigrationError(f"--out {out}: {shown} is a file, not a folder: {hint}")
    if not offerfiles.within(os.path.realpath(here), os.path.realpath(offers)):
        raise MigrationError(f"--out {out}: a symlink that leads out of offers/: {hint}")
    return prefix


def inspect_outputs(
    root: Path,
    migration: Migration,
    texts: Mapping[Key, str],
    estate: Sequence[Desired],
    *,
    force: bool,
) -> tuple[dict[Key, FileStatus], tuple[str, ...]]:
    """What writing each definition does to its file, and the files under the output folder
    that migrate wrote earlier from legacy objects that are gone (only when it migrates the
    whole estate, and while some legacy object is left: once the legacy files are pruned, the
    migrated ones stand alone)."""
    defined = {item.key: item for item in estate}
    statuses: dict[Key, FileStatus] = {}
    for output in migration.outputs:
        path = root / "offers" / f"{output.key}.yaml"
        display = f"offers/{output.key}.yaml"
        twin = path.with_suffix(".yml")
        if twin.exists():
            raise MigrationError(
                f"offers/{output.key}.yml defines the key {output.key}, which migrate writes as "
                f"{display}: rename or delete it, or choose another --out"
            )
        existing = defined.get(output.key)
        if existing is not None and (existing.kind is not output.kind or is_legacy(existing)):
            raise MigrationError(
                f"{display} defines a {existing.kind.value}"
                f"{' (a legacy one)' if is_legacy(existing) else ''}, where migrate writes the "
                f"{output.kind.value} {output.name!r}: choose another --out"
            )
        if not path.exists():
            statuses[output.key] = FileStatus.CREATE
        elif not path.is_file():
            raise MigrationError(f"{display} is not a file: remove it or choose another --out")
        elif path.read_bytes() == texts[output.key].encode("utf-8"):
            statuses[output.key] = FileStatus.UNCHANGED
        else:
            statuses[output.key] = FileStatus.OVERWRITE if force else FileStatus.CONFLICT
    stale: tuple[str, ...] = ()
    legacy = {item.key for item in migration.objects}
    if migration.selected is None and legacy:
        written = {output.key for output in migration.outputs}
        inside = migration.prefix + "/"
        stale = tuple(
            item.source.path or f"offers/{item.key}.yaml"
            for item in estate
            if item.key.startswith(inside)
            and item.kind in FOLDERS
            and item.key not in written
            and _migrated_from(root, item) not in (None, *legacy)
        )
    return statuses, stale


def write_outputs(root: Path, texts: Mapping[Key, str], statuses: Mapping[Key, FileStatus]) -> int:
    """Write every definition to create or overwrite, each atomically; the count written."""
    count = 0
    for key in sorted(texts):
        if statuses[key] not in (FileStatus.CREATE, FileStatus.OVERWRITE):
            continue
        _replace(root / "offers" / f"{key}.yaml", texts[key])
        count += 1
    return count


def _replace(path: Path, text: str) -> None:
    """Write a file so that a reader (or a crash) sees the old file or the new one, never half:
    a temporary file in the same folder (not a .yaml: the loader never reads it), fsynced, then
    renamed over the target."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
