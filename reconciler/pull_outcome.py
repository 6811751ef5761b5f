"""Pure: what `reconciler pull` did, as its reports say it: the objects it could not write,
the other sandboxes each field pulled into the body written for every sandbox reaches, whether
drift is left unwritten, the changes field by field, and their digest.

A change is said field by field: a mapping whose every member changed (which the smallest patch
writes as one operation) is listed member by member; lists and other values stay whole, as git
owns them. The digest is of those fields and values (not who changed them or when, nor the base
commit), so the same UI edits give the same digest after `main` moved.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from reconciler import diff
from reconciler.model import Desired, JsonObject, JsonValue, Key, Op
from reconciler.pulling import FieldPull, Pulled

OVERRIDES = "/overrides/"


@dataclass(frozen=True, slots=True)
class Refused:
    """An object whose file pull could not edit in place, or that `validate` would refuse once
    edited: nothing of it is written or recorded, so drift keeps showing its edits (and the next
    apply reverts them)."""

    key: Key
    path: str
    reason: str


@dataclass(frozen=True, slots=True)
class Shared:
    """A field pulled into the body written for every sandbox: merging changes it in these other
    sandboxes of reconciler.yaml too (those whose override does not set it)."""

    key: Key
    path: str
    sandboxes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What `reconciler pull` did, the objects it could not write, and where else merging its
    edits lands."""

    done: Pulled
    refused: tuple[Refused, ...] = ()
    shared: tuple[Shared, ...] = ()

    @property
    def has_drift(self) -> bool:
        return self.done.pull.has_drift or bool(self.refused)


def outcome_of(report: Pulled | Outcome) -> Outcome:
    """A pull as its reports take it (a bare Pulled: nothing refused, no other sandbox)."""
    return report if isinstance(report, Outcome) else Outcome(report)


def leaves(fields: Sequence[FieldPull]) -> tuple[FieldPull, ...]:
    """The fields member by member: a mapping added, removed or replaced by another mapping is
    said as its members (lists and other values stay whole, as git owns them)."""
    out: list[FieldPull] = []
    for item in fields:
        out += _leaves(item)
    return tuple(out)


def _leaves(item: FieldPull) -> list[FieldPull]:
    git, live = item.git, item.live
    pairs: list[tuple[str, Op, JsonValue, JsonValue]]
    match item.op:
        case Op.ADD if isinstance(live, dict) and live:
            pairs = [(name, Op.ADD, None, member) for name, member in live.items()]
        case Op.REMOVE if isinstance(git, dict) and git:
            pairs = [(name, Op.REMOVE, member, None) for name, member in git.items()]
        case Op.REPLACE if isinstance(git, dict) and isinstance(live, dict):
            pairs = [
                (name, Op.REPLACE, git[name], live[name])
                if name in git and name in live
                else (name, Op.REMOVE, git[name], None)
                if name in git
                else (name, Op.ADD, None, live[name])
                for name in [*git, *(name for name in live if name not in git)]
                if not (name in git and name in live and diff.json_equal(git[name], live[name]))
            ]
        case _:
            return [item]
    out: list[FieldPull] = []
    for name, op, before, after in pairs:
        out += _leaves(FieldPull(op, f"{item.path}{diff.pointer([name])}", before, after))
    return out


def shared(
    done: Pulled, files: Sequence[Desired], sandboxes: Collection[str]
) -> tuple[Shared, ...]:
    """Per field of each edited object pulled into the body written for every sandbox (not into
    the pulled sandbox's override), the other sandboxes whose override does not set it: merging
    changes it there too. `files` are the definitions as documents.load gives them."""
    defined = {item.key: item for item in files}
    out: list[Shared] = []
    for item in done.pull.edits:
        definition = defined.get(item.key)
        patches = definition.overrides if definition is not None else {}
        for pulled in leaves(item.fields):
            if pulled.path.startswith(OVERRIDES):
                continue
            others = tuple(
                name
                for name in sorted(sandboxes)
                if name != done.pull.sandbox and not _sets(patches.get(name), pulled.path)
            )
            if others:
                out.append(Shared(item.key, pulled.path, others))
    return tuple(out)


def _sets(patch: JsonObject | None, path: str) -> bool:
    """Whether a sandbox's override sets the field at path (or a value around it, whole)."""
    if patch is None:
        return False
    node: JsonValue = patch
    for step in diff.parse_pointer(path):
        if not isinstance(node, dict):
            return True  # the override replaces a value around the field whole (a list, say)
        if step not in node:
            return False
        node = node[step]
    return True


def has_left(report: Pulled | Outcome) -> bool:
    """Whether pull left drift it could not write: conflicts, deletions whose files it kept,
    files it could not edit, orphans that changed."""
    found = outcome_of(report)
    done = found.done
    kept = [item for item in done.pull.deleted if item.key not in done.forgotten]
    return bool(done.pull.conflicts or kept or found.refused or done.pull.orphans)


def digest(done: Pulled) -> str | None:
    """A digest of the changes the pull writes into git, field by field (not who or when), or
    None when it writes none: the same UI edits give the same digest on any base commit."""
    if not done.pull.edits and not done.forgotten:
        return None
    document = {
        "sandbox": done.pull.sandbox,
        "objects": [
            {
                "key": item.key,
                "path": item.path,
                "fields": [[f.op.value, f.path, f.git, f.live] for f in leaves(item.fields)],
            }
            for item in done.pull.edits
        ],
        "forgotten": sorted(done.forgotten),
    }
    text = json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()
