"""Pure: one object's three-way walk: the goal, the operations that reach it, the values they
replace, the `test` preconditions that guard them, and which of them revert an outside edit.

Three-way, as `kubectl apply` does: a field present in git must equal live (add or replace); a
field that was in the last-applied body but is gone from git is removed; a field only the server
or the UI ever set, and git never had, is left alone, unless git says it is absent (`absent`: an
override's `null`, "not in this sandbox, on purpose"), which makes it git's: it is removed. Ignore
rules cede fields to the UI (an ignored field stays as live has it, absent or not).

The preconditions assert, in the patch itself, the live value of every field git owns as the
plan saw it, which includes what each operation assumes: the value it replaces or removes, the
array it inserts into, the object it adds a member to. A UI edit of any of those that lands
before the write makes the whole PATCH fail (RFC 6902 §5: a failed test applies nothing), so an
update is a compare-and-swap that does not depend on If-Match, and the etag its receipt returns
names a revision whose git-owned fields are exactly the goal. One assumption JSON Patch cannot
state: that a top-level member is absent (`test` needs a value, and the parent of a top-level
member is the whole object, envelope included). Such members are listed as `unguarded`; apply
reads the object first for them and relies on If-Match.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

from reconciler import diff
from reconciler.model import Attribution, JsonObject, JsonValue, Op, PatchOp

Segments = diff.Segments


@dataclass(frozen=True, slots=True)
class Derivation:
    """What a change does to one live object, derived from its three documents."""

    goal: JsonObject
    ops: tuple[PatchOp, ...]
    tests: tuple[PatchOp, ...]
    unguarded: tuple[str, ...]

    @property
    def patch(self) -> list[dict[str, JsonValue]]:
        """The request body in `test` mode: the preconditions, then the operations."""
        return [op.to_json() for op in (*self.tests, *self.ops)]


def merge3(
    desired: Mapping[str, JsonValue],
    last: Mapping[str, JsonValue] | None,
    live: Mapping[str, JsonValue],
) -> JsonObject:
    """Live, with git's fields set and the fields git dropped since the last apply removed."""
    out: JsonObject = dict(live)
    if last is not None:
        for name in last:
            if name not in desired:
                out.pop(name, None)
    for name, value in desired.items():
        current = live.get(name)
        if isinstance(value, dict) and isinstance(current, dict):
            before = last.get(name) if last is not None else None
            out[name] = merge3(value, before if isinstance(before, dict) else None, current)
        else:
            out[name] = value
    return out


def goal(
    desired: Mapping[str, JsonValue],
    last: Mapping[str, JsonValue] | None,
    live: Mapping[str, JsonValue],
    ignore: Iterable[str] = (),
    absent: Iterable[str] = (),
) -> JsonObject:
    """The document apply aims for: the three-way merge without the fields git says are absent,
    with ignored fields left as live has them.

    An ignored field lives inside an object; where git makes that object something else (a
    number, an array), git's value stands and the rule has nothing to keep.
    """
    merged = merge3(desired, last, live)
    for pointer in absent:
        merged = diff.drop(merged, pointer)
    for pointer in ignore:
        segments = diff.parse_pointer(pointer)
        present, parent = diff.lookup(merged, segments[:-1])
        if present and isinstance(parent, dict):
            merged = diff.copy_field(merged, live, pointer)
    return merged


def derive(
    desired: Mapping[str, JsonValue],
    last: Mapping[str, JsonValue] | None,
    live: Mapping[str, JsonValue],
    *,
    ignore: Collection[str] = (),
    who: Attribution | None = None,
    absent: Collection[str] = (),
) -> Derivation:
    """The goal, operations (with old values and revert marks) and preconditions, in one walk.

    An operation reverts an outside edit when what it replaces or removes differs from the
    last-applied document at the same place (array items are matched between the two by value,
    so an insertion in front does not shift the comparison), or when it puts back something the
    last-applied document had and live lost. Without a last-applied document (an adopted object)
    nothing is marked. Raises PatchBug if the operations, after the preconditions, do not turn
    live into the goal.
    """
    target = goal(desired, last, live, ignore, absent)
    steps = diff.edit(live, target)
    matcher = _Counterparts()
    ops = tuple(
        PatchOp(
            op=Op(step.op),
            path=step.path,
            value=step.value,
            old=step.old,
            reverts=who if last is not None and matcher.reverts(step, live, last) else None,
        )
        for step in steps
    )
    ignored = frozenset(diff.parse_pointer(pointer) for pointer in ignore)
    wanted: set[Segments] = set()
    _project(desired, last, live, (), ignored, wanted)
    unguarded: list[str] = []
    for step in steps:
        if step.op != "add":
            wanted.add(step.origin)
        elif step.into_list or len(step.origin) > 1:
            wanted.add(step.origin[:-1])
        else:
            unguarded.append(step.path)
    tests = tuple(
        PatchOp(op=Op.TEST, path=diff.pointer(at), value=diff.lookup(live, at)[1])
        for at in _outermost(wanted)
    )
    diff.prove(live, [op.to_json() for op in (*tests, *ops)], target)
    return Derivation(target, ops, tests, tuple(sorted(unguarded)))


def recorded(
    desired: Mapping[str, JsonValue], goal: Mapping[str, JsonValue], ignore: Iterable[str] = ()
) -> JsonObject:
    """What state records as last applied: git's body, with each ignored field as the goal (that
    is, live) has it, because apply never wrote those. A later plan then still sees git's value
    of an ignored field as a change to make once the ignore rule is dropped."""
    out = dict(desired)
    for pointer in ignore:
        present, parent = diff.lookup(out, diff.parse_pointer(pointer)[:-1])
        if present and isinstance(parent, dict):
            out = diff.copy_field(out, goal, pointer)
    return out


def agree(
    doc: Mapping[str, JsonValue], other: Mapping[str, JsonValue], places: Iterable[str]
) -> bool:
    """Whether two documents hold the same JSON (or both nothing) at every place.

    Apply uses the places a derivation guards (its tests' paths and its unguarded members):
    after an unclear answer, the object read back agrees with the goal there when the write
    landed, and with the live document the plan saw when nothing did.
    """
    for place in places:
        here, there = diff.lookup(doc, place), diff.lookup(other, place)
        if here[0] != there[0] or not diff.json_equal(here[1], there[1]):
            return False
    return True


def fields(desired: Mapping[str, JsonValue], ignore: Collection[str] = ()) -> tuple[str, ...]:
    """The places git owns in a body of its own (objects member by member, arrays and values
    whole), as JSON Pointers: how a create tells that an object found by name is the one sent."""
    ignored = frozenset(diff.parse_pointer(pointer) for pointer in ignore)
    wanted: set[Segments] = set()
    _project(desired, None, desired, (), ignored, wanted)
    return tuple(diff.pointer(at) for at in _outermost(wanted))


# --- preconditions ----------------------------------------------------------------------------


def _project(
    desired: Mapping[str, JsonValue],
    last: Mapping[str, JsonValue] | None,
    live: Mapping[str, JsonValue],
    at: Segments,
    ignored: frozenset[tuple[str, ...]],
    wanted: set[Segments],
) -> None:
    """Adds to wanted the places whose live values the preconditions assert.

    Ignore pointers never cross an array (config refuses them), so arrays are asserted whole.
    """
    dropped = [name for name in (last or {}) if name not in desired]
    for name in (*desired, *dropped):
        here = (*at, name)
        if _text(here) in ignored:
            continue
        if name not in live:
            if name in desired and at:
                # The member is added: assert its absence by asserting the whole parent.
                wanted.add(at)
                return
            continue
        want, value = desired.get(name), live[name]
        if isinstance(want, dict) and isinstance(value, dict):
            before = (last or {}).get(name)
            inner: set[Segments] = set()
            _project(
                want, before if isinstance(before, dict) else None, value, here, ignored, inner
            )
            # Git's {} (or an object whose members are all ignored) still says the member is
            # there: assert it whole when nothing below it was asserted.
            wanted.update(inner if inner or want else {here})
        else:
            wanted.add(here)


def _text(at: Segments) -> tuple[str, ...]:
    return tuple(str(segment) for segment in at)


def _outermost(places: set[Segments]) -> list[Segments]:
    """The places no other place contains, in document order (array indices numerically)."""
    ordered = sorted(places, key=lambda at: (len(at), _order(at)))
    kept: set[Segments] = set()
    for at in ordered:
        if not any(at[:depth] in kept for depth in range(len(at) + 1)):
            kept.add(at)
    return sorted(kept, key=_order)


def _order(at: Segments) -> tuple[tuple[int, str], ...]:
    return tuple((1, f"{s:012d}") if isinstance(s, int) else (0, s) for s in at)


# --- revert marks ------------------------------------------------------------------------------


class _Counterparts:
    """Matches live array items to last-applied ones (equal items first, then by position)."""

    def __init__(self) -> None:
        self._cache: dict[tuple[int, int], tuple[dict[int, int], list[JsonValue]]] = {}

    def reverts(
        self, step: diff.Step, live: Mapping[str, JsonValue], last: Mapping[str, JsonValue]
    ) -> bool:
        here: JsonValue | Mapping[str, JsonValue] = live
        then: JsonValue | Mapping[str, JsonValue] = last
        for depth, segment in enumerate(step.origin):
            final = depth == len(step.origin) - 1
            if diff.json_equal(here, then):
                return False  # nothing at or below this place changed outside git
            if isinstance(here, Mapping):
                if not isinstance(then, Mapping):
                    return True
                name = str(segment)
                if final:
                    if step.op == "add":
                        return name in then  # the UI removed what git still has
                    return name not in then or not diff.json_equal(here[name], then[name])
                if name not in then:
                    return True
                here, then = here[name], then[name]
            elif isinstance(here, list):
                if not isinstance(then, list):
                    return True
                mapping, lost = self._match(here, then)
                index = int(segment)
                if final and step.op == "add":
                    return any(diff.json_equal(step.value, item) for item in lost)
                if index not in mapping:
                    return True  # the UI inserted this item
                if final:
                    return not diff.json_equal(here[index], then[mapping[index]])
                here, then = here[index], then[mapping[index]]
            else:
                return True
        return not diff.json_equal(here, then)

    def _match(
        self, here: list[JsonValue], then: list[JsonValue]
    ) -> tuple[dict[int, int], list[JsonValue]]:
        """live index -> last index, and the last items no live item matches."""
        cache_key = (id(here), id(then))
        if cache_key not in self._cache:
            matcher = difflib.SequenceMatcher(
                None,
                [diff.item_key(x) for x in here],
                [diff.item_key(x) for x in then],
                autojunk=False,
            )
            mapping: dict[int, int] = {}
            matched: set[int] = set()
            for tag, i1, i2, j1, j2 in matcher.get_opcodes():
                if tag == "equal":
                    for k in range(i2 - i1):
                        mapping[i1 + k] = j1 + k
                        matched.add(j1 + k)
                elif tag == "replace":
                    for k in range(min(i2 - i1, j2 - j1)):
                        mapping[i1 + k] = j1 + k
            lost = [item for j, item in enumerate(then) if j not in matched]
            self._cache[cache_key] = (mapping, lost)
        return self._cache[cache_key]
