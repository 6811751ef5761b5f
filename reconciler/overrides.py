"""Pure: per-sandbox values, the `overrides:` block of a definition.

A definition may say, per sandbox of reconciler.yaml, how its body differs there:

    status: approved
    overrides:
      dev: {status: draft}
      stage: {rank: {priority: 1}}

Each sandbox's value is a JSON Merge Patch (RFC 7386) of the body: a mapping merges into the
mapping it names, null removes a field (the only place a definition may hold null), and anything
else, a list included, replaces the value whole. `overrides` is reconciler's own, like `kind` and
`protect`: never sent to Adobe, never diffed. A sandbox without an override gets the body as
written.

- `merge(target, patch)`: RFC 7386 MergePatch, without changing either argument.
- `check(parsed, sandboxes, issues_of)`: what documents.load uses. The overrides of one parsed
  file (an unknown sandbox name, a value that is not a mapping, `kind:` in an override are each
  an issue), and the issues of every sandbox's resolved body, each said once: an issue every
  sandbox has reads as it always did; one only some sandboxes have starts with `in sandbox dev:`
  and is placed at the override when the override wrote the value (`located`), else at the
  value the file writes for every sandbox.
- `per_sandbox(base, runs, sandboxes)`: the same grouping for any hashable problems (documents
  uses it for the checks across files: names and references, per sandbox).
- `resolve(desired, sandbox)`: the object as that sandbox gets it (the body that plan, apply,
  drift, import and pull work on), its `overrides` emptied, and the fields its override removes
  (`removed`: null, "absent in this sandbox, on purpose") kept as `absent`: git owns their
  absence, so plan removes a value the UI puts back there, and drift and pull report it.
- `source(desired, sandbox, pointer)`: for the desired object as loaded (not resolved) and a
  JSON Pointer into its resolved body, "override" when that field's value comes from the
  sandbox's override (so `reconciler pull` writes a live value there), else "base". A field the
  override removed (null) is the override's; a field not in the resolved body is the override's
  when the mapping it would go into exists only in the override.

`sandboxes` is the sandbox names of reconciler.yaml; None (no reconciler.yaml) leaves the names
unchecked, and "every sandbox without an override" then stands for the ones not named.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection, Hashable, Iterable, Mapping, Sequence
from typing import Any, Literal, TypeVar

from reconciler import diff, graph, kinds, wire
from reconciler.model import Desired, JsonObject, JsonValue, Ref
from reconciler.rules import Anchor, Issue, Location, dotted
from reconciler.schema import got

FIELD = "overrides"
SAME_EVERYWHERE = ("kind", "protect", FIELD)
"""Fields an override may not set: they are the same in every sandbox."""
_OTHERS = "*"  # not a sandbox name (those start with a letter or digit)

T = TypeVar("T", bound=Hashable)


# --- RFC 7386 -------------------------------------------------------------------------------


def merge(target: Any, patch: Any) -> Any:
    """MergePatch(target, patch) of RFC 7386 section 2, as a new value."""
    if not isinstance(patch, dict):
        return _copy(patch)
    out = dict(target) if isinstance(target, dict) else {}
    for name, value in patch.items():
        if value is None:
            out.pop(name, None)
        else:
            out[name] = merge(out.get(name), value)
    return out


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {name: _copy(item) for name, item in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    return value


# --- validation -----------------------------------------------------------------------------


def check(
    parsed: Mapping[str, Any],
    sandboxes: Collection[str] | None,
    issues_of: Callable[[Mapping[str, Any]], Iterable[Issue]],
) -> tuple[dict[str, JsonObject], list[Issue]]:
    """A parsed file's usable overrides by sandbox, and every issue of the file: those of its
    `overrides:` block and, through `issues_of`, those of each sandbox's resolved body."""
    if FIELD not in parsed:
        return {}, list(issues_of(parsed))
    base = {name: value for name, value in parsed.items() if name != FIELD}
    if _cycle(base, ()) is not None:
        return {}, list(issues_of(base))  # its one problem; no body of it can be merged
    patches, issues = _patches(parsed[FIELD], sandboxes)
    uses_base = sandboxes is None or any(name not in patches for name in sandboxes)
    base_issues = list(issues_of(base)) if uses_base else []
    runs = {
        name: [_relocated(base, patch, name, issue) for issue in issues_of(merge(base, patch))]
        for name, patch in patches.items()
    }
    for issue, label in per_sandbox(base_issues, runs, sandboxes):
        issues.append(dataclasses.replace(issue, message=labeled(issue.message, label)))
    return patches, issues


def _relocated(base: Mapping[str, Any], patch: JsonObject, sandbox: str, issue: Issue) -> Issue:
    location, anchor = located(base, patch, sandbox, issue.location, issue.anchor)
    return dataclasses.replace(issue, location=location, anchor=anchor)


def _patches(
    written: object, sandboxes: Collection[str] | None
) -> tuple[dict[str, JsonObject], list[Issue]]:
    """The overrides a file writes, by sandbox, and what is wrong with the block itself."""
    if not isinstance(written, dict):
        return {}, [
            Issue(
                (FIELD,),
                f"{FIELD}: expected a mapping of sandbox names to the fields that differ there, "
                f"such as {FIELD}: {{dev: {{status: draft}}}} (got {got(written)})",
            )
        ]
    patches: dict[str, JsonObject] = {}
    issues: list[Issue] = []
    for name, patch in written.items():
        where: Location = (FIELD, str(name))
        if sandboxes is not None and name not in sandboxes:
            known = ", ".join(sorted(sandboxes))
            issues.append(
                Issue(
                    where,
                    f"{FIELD}.{name}: reconciler.yaml has no sandbox named {got(name)}: use one "
                    f"of {known}, or add it under sandboxes:",
                    Anchor.KEY,
                )
            )
            continue
        if not isinstance(patch, dict):
            issues.append(
                Issue(
                    where,
                    f"{FIELD}.{name}: expected a mapping of the fields whose values differ in "
                    f"sandbox {name}, such as {{status: draft}} (got {got(patch)})",
                )
            )
            continue
        cycle = _cycle(patch, where)
        if cycle is not None:
            issues.append(
                Issue(cycle, f"{dotted(cycle)}: an alias that contains itself: write the value out")
            )
            continue
        fixed = [field for field in SAME_EVERYWHERE if field in patch]
        for field in fixed:
            issues.append(
                Issue(
                    (*where, field),
                    f"{FIELD}.{name}.{field}: {field} is the same in every sandbox, so an "
                    "override cannot set it: remove it here",
                    Anchor.KEY,
                )
            )
        if not fixed:
            patches[str(name)] = patch
    return patches, issues


def _cycle(value: object, here: Location, active: set[int] | None = None) -> Location | None:
    """Where a value contains itself (a YAML alias inside its own anchor), or None."""
    if not isinstance(value, dict | list):
        return None
    active = set() if active is None else active
    if id(value) in active:
        return here
    active.add(id(value))
    pairs = value.items() if isinstance(value, dict) else enumerate(value)
    for step, item in pairs:
        found = _cycle(item, (*here, step if isinstance(step, str | int) else str(step)), active)
        if found is not None:
            return found
    active.discard(id(value))
    return None


def per_sandbox(
    base: Sequence[T], runs: Mapping[str, Sequence[T]], sandboxes: Collection[str] | None
) -> list[tuple[T, str | None]]:
    """Each problem once, with the sandboxes that have it (None when every sandbox has it).

    `runs` holds the problems of each sandbox an override names; every other sandbox has those
    of `base`, the bodies as written.
    """
    everyone = list(sandboxes) if sandboxes is not None else [*runs, _OTHERS]
    holders: dict[T, list[str]] = {}
    for name in everyone:
        for problem in runs.get(name, base):
            found = holders.setdefault(problem, [])
            if name not in found:
                found.append(name)
    return [
        (problem, None if len(found) == len(everyone) else _label(found))
        for problem, found in holders.items()
    ]


def _label(names: Sequence[str]) -> str:
    named = sorted(name for name in names if name != _OTHERS)
    parts = [f"sandbox{'es' if len(named) > 1 else ''} {', '.join(named)}"] if named else []
    if _OTHERS in names:
        parts.append("every sandbox without an override")
    return "in " + " and ".join(parts)


def labeled(message: str, label: str | None) -> str:
    """A problem's message, naming the sandboxes it is found in when not all have it."""
    return message if label is None else f"{label}: {message}"


def located(
    base: Mapping[str, Any],
    patch: Mapping[str, Any],
    sandbox: str,
    location: Location,
    anchor: Anchor,
) -> tuple[Location, Anchor]:
    """Where in the file an issue of the sandbox's resolved body is: in its override when the
    override wrote the value (or removed it), else where the body is written for every sandbox."""
    if not _overridden(base, patch, location):
        return location, anchor
    if anchor is Anchor.PARENT and diff.lookup(patch, location)[0]:
        anchor = Anchor.KEY  # a required field the override removed: its `field: null`
    return (FIELD, sandbox, *location), anchor


def _overridden(base: Any, patch: Any, steps: Sequence[str | int]) -> bool:
    """Whether the value at steps in the merged body comes from the patch."""
    for depth, step in enumerate(steps):
        if not isinstance(patch, dict):
            return True  # the patch's value (a list, a text...) replaced the base's whole
        if step not in patch:
            # Not patched here: the base's, unless the mapping it is in exists only in the patch.
            return depth > 0 and not isinstance(base, dict)
        patch = patch[step]
        base = base.get(step) if isinstance(base, dict) else None
    return True


# --- per sandbox ----------------------------------------------------------------------------


def resolve(desired: Desired, sandbox: str) -> Desired:
    """The object as the sandbox gets it: its override merged into its body, `overrides` empty."""
    if not desired.overrides:
        return desired
    patch = desired.overrides.get(sandbox)
    if not patch:
        return dataclasses.replace(desired, overrides={})
    merged = merge(_plain(desired.body), patch)
    spec = kinds.spec(desired.kind)
    body = graph.typed(desired.kind, wire.structure(desired.kind, {**spec.fixed, **merged}))
    return dataclasses.replace(desired, body=body, overrides={}, absent=removed(patch))


def removed(patch: Mapping[str, Any], at: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The JSON Pointers of the fields a merge patch removes (its nulls; a list is a value, so
    none inside one), in the order written."""
    out: list[str] = []
    for name, value in patch.items():
        if value is None:
            out.append(diff.pointer((*at, name)))
        elif isinstance(value, dict):
            out.extend(removed(value, (*at, name)))
    return tuple(out)


def _plain(value: JsonValue | Mapping[str, JsonValue]) -> Any:
    """A body as the file wrote it: each Ref back to its `{ref: key}` mapping."""
    if isinstance(value, Ref):
        return value.to_json()
    if isinstance(value, Mapping):
        return {name: _plain(item) for name, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def source(desired: Desired, sandbox: str, pointer: str) -> Literal["base", "override"]:
    """Whether the field at a JSON Pointer of the sandbox's resolved body comes from the
    sandbox's override or from the body written for every sandbox. `desired` is the object as
    documents.load gives it (before `resolve`). The whole document ("") is "base"."""
    patch = desired.overrides.get(sandbox)
    steps = diff.parse_pointer(pointer)
    if patch is None or not steps:
        return "base"
    return "override" if _overridden(_plain(desired.body), patch, steps) else "base"
