"""Pure: which objects a plan must never delete or re-create, and the message that says so.

An object is protected by `protect: true` in its file or by a key glob under `protect:` in
reconciler.yaml. A file that is gone still protects its object: state records `protect` (from
the file or a glob: `applied` folds the globs in before planning) with every entry apply writes,
so its last apply speaks for it, even once the glob is gone too. A plan that would delete a
protected object (its file removed, with pruning) or re-create one (deleted outside git) fails,
one line per object naming what protects it and how to lift that; without pruning, a removed
protected file is an orphan marked protected. `reconciler state rm KEY` always forgets an object
without deleting it.
"""

from __future__ import annotations

import dataclasses
import fnmatch
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from reconciler.model import Action, Change, Desired, Entry, Key

CONFIG = "reconciler.yaml"


def glob_problem(glob: str) -> str | None:
    """What is wrong with a `protect:` glob of reconciler.yaml, or None when it names keys."""
    if not glob.strip():
        return "a glob must not be empty: write a key or a key glob such as decisions/*"
    bare = glob.strip().removeprefix("/").removeprefix("offers/")
    for suffix in (".yaml", ".yml"):
        bare = bare.removesuffix(suffix)
    if bare != glob:
        return (
            f"{glob!r} never matches a key: a key is the path under offers/ without the suffix, "
            f"so write {bare!r}"
        )
    return None


def matching(key: Key, globs: Sequence[str]) -> str | None:
    """The first glob that matches a key (fnmatch: `*` matches `/` too, as --only does)."""
    return next((glob for glob in globs if fnmatch.fnmatchcase(key, glob)), None)


def applied(desired: Sequence[Desired], globs: Sequence[str]) -> tuple[Desired, ...]:
    """The definitions as a plan takes them: `protect` also true where a glob matches the key
    (what apply records in state), the file's own flag kept in `protect_file`."""
    return tuple(
        dataclasses.replace(item, protect=True, protect_file=item.protected_in_file)
        if not item.protect and matching(item.key, globs) is not None
        else item
        for item in desired
    )


@dataclass(frozen=True, slots=True)
class Guard:
    """Why one key is protected: its file (`protect: true`), a glob of reconciler.yaml, or both.

    `recorded` says the file is gone and `file` is what state recorded when it was last applied
    (its file's `protect: true` or a glob then)."""

    key: Key
    file: bool
    glob: str | None
    recorded: bool = False

    def by(self) -> str:
        reasons: list[str] = []
        if self.file and self.recorded:
            reasons.append("the protection state recorded at its last apply")
        elif self.file:
            reasons.append("protect: true in its file")
        if self.glob is not None:
            reasons.append(f"the glob {self.glob!r} under protect: in {CONFIG}")
        return " and ".join(reasons)

    def lift(self) -> str:
        steps: list[str] = []
        if self.glob is not None:
            steps.append(f"remove {self.glob!r} from protect: in {CONFIG}")
        if self.file:
            steps.append(
                "restore its file without protect: true, apply, then remove the file"
                if self.recorded
                else "remove protect: true from its file"
            )
        return ", and ".join(steps)


def guard(key: Key, *, file: bool, globs: Sequence[str], recorded: bool = False) -> Guard | None:
    """What protects a key (None when nothing does)."""
    glob = matching(key, globs)
    if not file and glob is None:
        return None
    return Guard(key, file, glob, recorded)


def of_entry(key: Key, entry: Entry, globs: Sequence[str]) -> Guard | None:
    """The protection of a key whose file is gone: the recorded `protect`, and the globs."""
    # Recorded protection may come from a glob since removed: only a restored file, applied
    # without it, lifts it.
    return guard(key, file=entry.protect, globs=globs, recorded=True)


def refusals(
    changes: Sequence[Change],
    wanted: Mapping[Key, Desired],
    entries: Mapping[Key, Entry],
    globs: Sequence[str],
) -> list[str]:
    """One line per change that deletes or re-creates a protected object, in plan order."""
    lines: list[str] = []
    for change in changes:
        if change.action is Action.DELETE and change.live is not None:
            # A delete of an object already gone (or never created) only forgets it.
            entry = entries.get(change.key)
            found = of_entry(change.key, entry, globs) if entry is not None else None
            if found is not None:
                lines.append(_deleting(change, found))
        elif change.action is Action.CREATE and change.id is not None:
            # A create that carries an id re-creates the object state recorded, deleted since.
            item = wanted.get(change.key)
            file = item is not None and item.protected_in_file
            found = guard(change.key, file=file, globs=globs)
            if found is not None:
                lines.append(_recreating(change, found))
    return lines


def refusal(lines: Sequence[str]) -> str | None:
    """The error of a plan refused for protected objects: one line, or one line per object."""
    if not lines:
        return None
    if len(lines) == 1:
        return lines[0]
    return f"the plan would delete or re-create {len(lines)} protected objects:\n" + "\n".join(
        f"  {line}" for line in lines
    )


def _deleting(change: Change, found: Guard) -> str:
    return (
        f"{change.key}: its file is gone from git and pruning would delete it "
        f"({change.kind.value} {change.id or 'never created'}), but it is protected by "
        f"{found.by()}: to delete it, {found.lift()}; to keep it in Adobe and stop managing it, run "
        f"`reconciler state rm {change.key}`"
    )


def _recreating(change: Change, found: Guard) -> str:
    where = change.source or change.key
    return (
        f"{where}: {change.key} ({change.kind.value} {change.id}) was deleted outside git and "
        f"the plan would re-create it as a new object with a new id, but it is protected by "
        f"{found.by()}: to re-create it, {found.lift()}; or forget the deleted object with "
        f"`reconciler state rm {change.key}` (the next plan creates it as new)"
    )
