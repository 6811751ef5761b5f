"""Pure: the key and name of every definition a migration writes (`<out>/<folder>/<slug of the
legacy key>`, the legacy name made unique per kind), computed over the whole estate."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from reconciler.migration_body import criteria
from reconciler.migration_model import FOLDERS, TARGETS, is_legacy
from reconciler.model import Desired, Key, Kind, name_of
from reconciler.offerfiles import slug


@dataclass(frozen=True, slots=True)
class Target:
    """One definition to write: its key, kind and name (and, when the legacy name was taken,
    that name and the file or object that holds it)."""

    key: Key
    kind: Kind
    name: str
    renamed_from: str | None = None
    taken_by: str | None = None


def plan_targets(estate: Sequence[Desired], prefix: str) -> dict[Key, tuple[Target, ...]]:
    """Keys and names of every legacy object's definitions, over the whole estate (so a KEY
    selection names them as a whole migration would).

    A name is unique per kind among all the definitions there will be after the run: every file
    migrate does not (re)write holds its name, hand-written ones under the output folder too.
    """
    wanted = _wanted(estate, prefix)
    written = {target.key for targets in wanted.values() for target in targets}
    taken: dict[tuple[Kind, str], str] = {}
    for item in estate:
        if item.kind in FOLDERS and item.key not in written:
            name = name_of(item.kind, item.body)
            if name is not None:
                taken.setdefault((item.kind, name), item.source.path or f"offers/{item.key}.yaml")
    planned: dict[Key, tuple[Target, ...]] = {}
    for legacy, targets in wanted.items():
        found: list[Target] = []
        for target in targets:
            kind, name = target.kind, target.name
            final, counter = name, 1
            while (kind, final) in taken:
                final = (
                    f"{name} (Decisioning)" if counter == 1 else f"{name} (Decisioning {counter})"
                )
                counter += 1
            holder = taken.get((kind, name)) if final != name else None
            taken[(kind, final)] = f"the {kind.value} migrated from {legacy}"
            found.append(Target(target.key, kind, final, name if final != name else None, holder))
        planned[legacy] = tuple(found)
    return planned


def _wanted(estate: Sequence[Desired], prefix: str) -> dict[Key, tuple[Target, ...]]:
    """The definitions of every legacy object, in key order: their keys, and the names they
    want (the legacy name, or `<name> (criterion <n>)`) before names are made unique."""
    used_keys: set[Key] = set()
    wanted: dict[Key, tuple[Target, ...]] = {}
    for item in sorted(estate, key=lambda d: d.key):
        kind = TARGETS.get(item.kind)
        if kind is None or not is_legacy(item):
            continue
        names: list[tuple[str, str]] = []
        if item.kind is Kind.DECISION:
            names = [
                (f"{slug(item.key)}-{n}", f"{item.name} (criterion {n})")
                for n in range(1, len(criteria(item)) + 1)
            ]
        else:
            names = [(slug(item.key), item.name)]
        found: list[Target] = []
        for base, name in names:
            key = Key(f"{prefix}/{FOLDERS[kind]}/{base}")
            counter = 2
            while key in used_keys:
                key = Key(f"{prefix}/{FOLDERS[kind]}/{base}-{counter}")
                counter += 1
            used_keys.add(key)
            found.append(Target(key, kind, name))
        wanted[item.key] = tuple(found)
    return wanted


def rename_notes(targets: Sequence[Target]) -> list[str]:
    return [
        f"{target.key} is named {target.name!r}: {target.renamed_from!r} is the name of "
        f"{target.taken_by} (names are unique per kind)"
        for target in targets
        if target.renamed_from is not None
    ]
