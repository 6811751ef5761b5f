"""Pure JSON diffing: strict JSON equality and small, proven, bounded RFC 6902 edits.

`edit(before, after)` gives the add/replace/remove operations (the ones the Offer Library
documents) that turn `before` into `after`, each with where it acts in `before` and the value it
replaces or removes; `json_patch` is the same as plain RFC 6902 JSON. Every edit is proven by
applying it before it is returned.

This is the module where deepdiff may live, yet patches are not built from it (reference:
performance-notes §1.3). Its reports describe differences; they are not edit scripts. Lists of
scalars go through difflib on hashes, so `[False]` equals `[0]`; added items carry indices of the
new list while removed and changed ones carry indices of the old one, and for a list like
`tags` the reported items do not replay into the right list (deepdiff #438); lists of dicts
are compared by position, so one capping rule inserted in front changes every rule after it;
and it costs about 2.6 ms per offer whether or not anything changed, with no equality
short-circuit. Nothing here needs it, so it is not imported: tests/test_diff.py uses it as an
independent oracle instead.
"""

from __future__ import annotations

import difflib
import enum
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, TypeAlias, assert_never, cast

import jsonpatch

from reconciler.errors import PatchBug, ReconcilerError
from reconciler.model import JsonObject, JsonValue, Ref, json_default

Operation: TypeAlias = dict[str, JsonValue]
"""One RFC 6902 operation as JSON: {"op": "add" | "replace" | "remove", "path": ..., "value": ...}."""

Document: TypeAlias = "JsonValue | Mapping[str, JsonValue]"
"""A JSON value as callers hold it: any Mapping (a ruamel CommentedMap, say) is an object."""

Segments: TypeAlias = tuple[str | int, ...]
"""A location as path segments: member names and array indices."""

OPERATIONS = frozenset({"add", "replace", "remove"})
"""The only operations an edit may use."""

BLOCK_CELLS = 16 * 16
"""Array items that differ are aligned optimally (each pair sized by its own edit) only while a
block of them is at most this many pairs; larger blocks are paired by position."""

BUDGET_CELLS = 1_024
"""Optimal alignment of all blocks of one document together sizes at most this many item pairs;
after that every block is paired by position. This bounds the work on any pair of documents
(Adobe's guardrails allow, for example, 30 criteria per decision and 500 offers per collection)."""

_BYTE = 1 << 16  # cost = bytes * _BYTE + operations: ints that compare as (bytes, operations)
_SCALARS = frozenset({str, int, float, bool, type(None)})
_BAD_ESCAPE = re.compile(r"~(?![01])")


_encode = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), check_circular=False, default=json_default
).encode
_canonical = json.JSONEncoder(
    ensure_ascii=False,
    separators=(",", ":"),
    sort_keys=True,
    check_circular=False,
    default=lambda v: {"\x00ref": json_default(v)},
).encode


@dataclass(frozen=True, slots=True)
class Step:
    """One operation of an edit, and where it acts in the document it applies to.

    `path` is the RFC 6902 path as sent: array indices count the operations before it.
    `origin` is the same place in `before`: the member or item replaced or removed, or for an
    add, the member added or the index of the item it is inserted before. `old` is the value
    replaced or removed (None for add). `into_list` tells an array insertion from a new member.
    """

    op: Literal["add", "replace", "remove"]
    path: str
    value: JsonValue
    old: JsonValue
    origin: Segments
    into_list: bool = False

    def to_json(self) -> Operation:
        out: Operation = {"op": self.op, "path": self.path}
        if self.op != "remove":
            out["value"] = self.value
        return out


def json_equal(a: Document, b: Document) -> bool:
    """Whether a and b are the same JSON: True is not 1, 1 is 1.0, key order does not count."""
    # Python's == (in C) rejects most differences at once but says True == 1; the walk
    # afterwards only has to find a bool facing a number.
    return bool(a == b) and _same_kinds(a, b)


def json_patch(before: Document, after: Document) -> list[Operation]:
    """A small add/replace/remove patch turning before into after, proven before returned."""
    return [step.to_json() for step in edit(before, after)]


def edit(before: Document, after: Document) -> list[Step]:
    """The operations turning before into after, each with its origin and old value.

    Small means fewest bytes as compact UTF-8 JSON, then fewest operations, so a patch says
    only what changed: object members missing from `after` are removed, new ones added, and
    each member that differs is either replaced or edited inside, whichever is smaller. A
    change deep inside a list item is one operation at that path. Array items are aligned in
    three passes: equal ends are set aside; equal items in the middle are matched (difflib's
    matching blocks on canonical JSON); each block of items that differ is aligned by a
    Levenshtein table whose substitution cost is the size of the pair's own edit, while the
    block has at most BLOCK_CELLS pairs and the document's BUDGET_CELLS are not spent, and
    paired by position otherwise. So inserting an item in front is one `add` at index 0, and
    the work on any pair of documents is bounded. The document itself is replaced (path "")
    only when before and after are not both objects or both arrays.

    Equal documents cost one `json_equal` (about 15 µs for an offer). Every other edit is
    applied to `before` with jsonpatch and compared to `after` (`prove`): PatchBug if it does
    not reproduce `after`, so an unproven edit is never returned.
    """
    if json_equal(before, after):
        return []
    old, new = _plain(before), _plain(after)
    steps = _Differ().document(old, new)
    prove(old, [step.to_json() for step in steps], new)
    return steps


def prove(before: Document, patch: Sequence[Mapping[str, JsonValue]], after: Document) -> None:
    """Raise PatchBug unless applying patch to before gives after under strict JSON equality."""
    result = apply(before, patch)
    if not json_equal(result, after):
        first = _Differ().document(_plain(result), _plain(after))[0].path
        raise PatchBug(
            f"a generated patch of {len(patch)} operations gives a different document "
            f"(first difference at {first!r}): a bug in reconciler, nothing was sent"
        )


def apply(before: Document, patch: Sequence[Mapping[str, JsonValue]]) -> JsonValue:
    """before with patch applied, leaving before itself alone; PatchBug if it does not apply."""
    try:
        result: JsonValue = jsonpatch.apply_patch(before, list(patch), in_place=False)
    except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException) as error:
        raise PatchBug(
            f"a patch of {len(patch)} operations does not apply ({error}): "
            "a bug in reconciler, nothing was sent"
        ) from error
    return result


def patch_size(patch: Sequence[Mapping[str, JsonValue]]) -> tuple[int, int]:
    """(operations, bytes) of a patch, as compact UTF-8 JSON."""
    return len(patch), len(_encode([dict(op) for op in patch]).encode())


def encode(value: Document) -> str:
    """Compact JSON text of a value (references as {"ref": key})."""
    return _encode(value)


# --- pointers ------------------------------------------------------------------------------


def pointer(segments: Iterable[str | int]) -> str:
    """The JSON Pointer of a path: ("a/b", 0) -> "/a~1b/0"; () -> "" (the whole document)."""
    return "".join(f"/{_escape(str(segment))}" for segment in segments)


def parse_pointer(text: str) -> tuple[str, ...]:
    """The unescaped segments of a JSON Pointer: "/a~1b/0" -> ("a/b", "0")."""
    if text and (not text.startswith("/") or _BAD_ESCAPE.search(text)):
        raise ValueError(f"{text!r} is not a JSON Pointer such as /rank/priority")
    return tuple(s.replace("~1", "/").replace("~0", "~") for s in text.split("/")[1:])


def lookup(doc: Document, path: str | Segments) -> tuple[bool, JsonValue]:
    """(True, value) at a JSON Pointer (or segments), or (False, None) when nothing is there."""
    node: object = doc
    for segment in parse_pointer(path) if isinstance(path, str) else path:
        if isinstance(node, Mapping) and segment in node:
            node = node[segment]
        elif isinstance(node, list) and (index := _index(str(segment), len(node))) is not None:
            node = node[index]
        else:
            return False, None
    return True, cast("JsonValue", node)


def put(doc: JsonObject, path: str, value: JsonValue) -> JsonObject:
    """doc with value at path, copied along the path; missing objects on the way are created."""
    if not path:
        raise ValueError("put sets a member, not the whole document")
    return cast("JsonObject", _put(doc, parse_pointer(path), 0, value, path))


def drop(doc: JsonObject, path: str) -> JsonObject:
    """doc without whatever is at path (doc itself when nothing is), copied along the path."""
    return cast("JsonObject", _drop(doc, parse_pointer(path)))


def copy_field(target: JsonObject, source: Mapping[str, JsonValue], path: str) -> JsonObject:
    """target with the field at path made equal to source's (removed where source has none)."""
    present, value = lookup(source, path)
    if present:
        return put(target, path, value)
    return drop(target, path)


# --- equality ----------------------------------------------------------------------------


def _same_kinds(a: object, b: object) -> bool:
    """Given a == b: False when a bool in one faces a number in the other."""
    # Written for speed (about 15 µs for an offer): exact type checks before isinstance, and
    # one loop per container kind, since a shared generator of pairs doubles the time.
    if type(a) is dict or isinstance(a, Mapping):
        other_members = cast("Mapping[str, object]", b)
        for key, value in a.items():
            other = other_members[key]
            kind = type(value)
            # a str equal to something is facing a str
            if kind is str or (kind is type(other) and kind in _SCALARS):
                continue
            if not _same_kinds(value, other):
                return False
        return True
    if isinstance(a, list):
        for value, other in zip(a, cast("list[object]", b), strict=True):
            kind = type(value)
            if kind is str or (kind is type(other) and kind in _SCALARS):
                continue
            if not _same_kinds(value, other):
                return False
        return True
    return (type(a) is bool) == (type(b) is bool)


def _plain(value: Document) -> JsonValue:
    """A fresh copy made of dicts and lists, so edits share nothing with the caller's data."""
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def item_key(value: JsonValue) -> tuple[str, object]:
    """A hashable key equal for equal JSON (True and 1 apart) used to match array items."""
    kind = type(value)
    if kind is str:
        return ("s", value)
    if kind is bool:
        return ("b", value)
    if kind is int or kind is float:
        return ("n", value)
    if value is None:
        return ("z", None)
    if isinstance(value, Ref):
        return ("r", value.key)
    return ("j", _canonical(value))


# --- the differ ----------------------------------------------------------------------------


class _Align(enum.Enum):
    KEEP = "keep"  # the old item becomes the new one (edited inside when they differ)
    DELETE = "delete"
    INSERT = "insert"


_Pairs: TypeAlias = list[tuple[_Align, int, int]]


class _Differ:
    """One document's diff: the alignment budget it has left is shared by all its arrays."""

    def __init__(self) -> None:
        self.budget = BUDGET_CELLS

    def document(self, old: JsonValue, new: JsonValue) -> list[Step]:
        if isinstance(old, dict) and isinstance(new, dict):
            return self._members(old, new, "", ())
        if isinstance(old, list) and isinstance(new, list):
            return self._items(old, new, "", ())
        return [Step("replace", "", new, old, ())]

    def _members(self, old: JsonObject, new: JsonObject, path: str, at: Segments) -> list[Step]:
        """Members removed, added, and the ones that differ edited."""
        steps: list[Step] = []
        for key in sorted(old.keys() | new.keys()):
            here, origin = f"{path}/{_escape(key)}", (*at, key)
            if key not in new:
                steps.append(Step("remove", here, None, old[key], origin))
            elif key not in old:
                steps.append(Step("add", here, new[key], None, origin))
            elif not json_equal(old[key], new[key]):
                steps.extend(self._edit(old[key], new[key], here, origin)[0])
        return steps

    def _edit(
        self, old: JsonValue, new: JsonValue, path: str, at: Segments
    ) -> tuple[list[Step], int]:
        """The cheapest steps at or below path turning old (!= new) into new, and their cost.

        Either one replace of the value at path, or the steps inside it (members edited,
        array items aligned), whichever costs less: fewer bytes, then fewer operations.
        """
        replace = [Step("replace", path, new, old, at)]
        best = (replace, _cost(replace))
        inner: list[Step] | None = None
        if isinstance(old, dict) and isinstance(new, dict):
            inner = self._members(old, new, path, at)
        elif isinstance(old, list) and isinstance(new, list):
            inner = self._items(old, new, path, at)
        if inner is not None:
            cost = _cost(inner)
            if cost <= best[1]:  # ties go to the deeper, more precise operations
                best = (inner, cost)
        return best

    def _items(
        self, old: list[JsonValue], new: list[JsonValue], path: str, at: Segments
    ) -> list[Step]:
        """Steps turning the array old into new: ends trimmed, equal items matched, the rest
        aligned by cost (bounded) or by position."""
        start, old_end, new_end = _trim(old, new)
        a, b = old[start:old_end], new[start:new_end]
        pairs: _Pairs = []
        edits: dict[tuple[int, int], list[Step]] = {}
        whole = (0, len(a), 0, len(b))
        if len(a) * len(b) <= min(BLOCK_CELLS, self.budget):
            # Small enough to align optimally in one table (equal items cost nothing there).
            return self._steps(
                a, b, self._block(a, b, whole, path, start, at, edits), edits, path, start, at
            )
        matcher = difflib.SequenceMatcher(
            None, [item_key(x) for x in a], [item_key(x) for x in b], autojunk=False
        )
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag == "equal":
                pairs += [(_Align.KEEP, i1 + k, j1 + k) for k in range(i2 - i1)]
            elif tag == "delete":
                pairs += [(_Align.DELETE, i, j1) for i in range(i1, i2)]
            elif tag == "insert":
                pairs += [(_Align.INSERT, i1, j) for j in range(j1, j2)]
            else:
                pairs += self._block(a, b, (i1, i2, j1, j2), path, start, at, edits)
        steps = self._steps(a, b, pairs, edits, path, start, at)
        hows = {how for how, _, _ in pairs}
        if _Align.DELETE in hows and _Align.INSERT in hows:
            # Items both removed and inserted elsewhere (a reversal, say): editing the items in
            # place may be smaller than keeping the few that match. Both are sized (pair edits
            # already made are reused); the positional pairing is linear in the items.
            positional = self._steps(
                a,
                b,
                self._block(a, b, whole, path, start, at, edits, by_position=True),
                edits,
                path,
                start,
                at,
            )
            if _cost(positional) < _cost(steps):
                return positional
        return steps

    def _steps(
        self,
        a: list[JsonValue],
        b: list[JsonValue],
        pairs: _Pairs,
        edits: dict[tuple[int, int], list[Step]],
        path: str,
        start: int,
        at: Segments,
    ) -> list[Step]:
        steps: list[Step] = []
        # j counts the new items already in place, so the item at hand sits at index start + j.
        for how, i, j in pairs:
            here, origin = f"{path}/{start + j}", (*at, start + i)
            match how:
                case _Align.KEEP:
                    if (i, j) in edits:
                        steps.extend(edits[i, j])
                    elif not json_equal(a[i], b[j]):
                        edits[i, j] = self._edit(a[i], b[j], here, origin)[0]
                        steps.extend(edits[i, j])
                case _Align.DELETE:
                    steps.append(Step("remove", here, None, a[i], origin))
                case _Align.INSERT:
                    steps.append(Step("add", here, b[j], None, origin, into_list=True))
                case _:
                    assert_never(how)
        return steps

    def _block(
        self,
        a: list[JsonValue],
        b: list[JsonValue],
        block: tuple[int, int, int, int],
        path: str,
        start: int,
        at: Segments,
        edits: dict[tuple[int, int], list[Step]],
        *,
        by_position: bool = False,
    ) -> _Pairs:
        """Pairs for a block of items that all differ: by cost while affordable, else by position."""
        i1, i2, j1, j2 = block
        cells = (i2 - i1) * (j2 - j1)
        if by_position or cells > BLOCK_CELLS or cells > self.budget:
            paired = min(i2 - i1, j2 - j1)
            out: _Pairs = [(_Align.KEEP, i1 + k, j1 + k) for k in range(paired)]
            out += [(_Align.DELETE, i, j1 + paired) for i in range(i1 + paired, i2)]
            out += [(_Align.INSERT, i2, j) for j in range(j1 + paired, j2)]
            return out
        self.budget -= cells
        return self._align(a, b, block, path, start, at, edits)

    def _align(
        self,
        a: list[JsonValue],
        b: list[JsonValue],
        block: tuple[int, int, int, int],
        path: str,
        start: int,
        at: Segments,
        edits: dict[tuple[int, int], list[Step]],
    ) -> _Pairs:
        """Cheapest steps for a block (a Levenshtein table); fills edits with the KEEP steps used."""
        i1, i2, j1, j2 = block
        # An index's digits add exactly their count to the bytes of an operation at path/<index>.
        remove = _cost([Step("remove", f"{path}/", None, None, ())])
        adds = [_cost([Step("add", f"{path}/", b[j], None, ())]) for j in range(j1, j2)]

        def digits(j: int) -> int:
            return len(str(start + j)) * _BYTE

        def keep(i: int, j: int) -> int:
            if (i, j) not in edits:
                here, origin = f"{path}/{start + j}", (*at, start + i)
                same = json_equal(a[i], b[j])
                edits[i, j] = [] if same else self._edit(a[i], b[j], here, origin)[0]
            return _cost(edits[i, j])

        n, m = i2 - i1, j2 - j1
        cost = [[0] * (m + 1) for _ in range(n + 1)]
        came = [[_Align.KEEP] * (m + 1) for _ in range(n + 1)]
        for y in range(1, m + 1):
            cost[0][y] = cost[0][y - 1] + digits(j1 + y - 1) + adds[y - 1]
            came[0][y] = _Align.INSERT
        for x in range(1, n + 1):
            cost[x][0], came[x][0] = cost[x - 1][0] + digits(j1) + remove, _Align.DELETE
            for y in range(1, m + 1):
                best, how = cost[x - 1][y - 1] + keep(i1 + x - 1, j1 + y - 1), _Align.KEEP
                if (delete := cost[x - 1][y] + digits(j1 + y) + remove) < best:
                    best, how = delete, _Align.DELETE
                if (insert := cost[x][y - 1] + digits(j1 + y - 1) + adds[y - 1]) < best:
                    best, how = insert, _Align.INSERT
                cost[x][y], came[x][y] = best, how
        out: _Pairs = []
        x, y = n, m
        while x or y:
            how = came[x][y]
            match how:
                case _Align.KEEP:
                    x, y = x - 1, y - 1
                case _Align.DELETE:
                    x -= 1
                case _Align.INSERT:
                    y -= 1
                case _:
                    assert_never(how)
            out.append((how, i1 + x, j1 + y))
        return out[::-1]


def _trim(old: list[JsonValue], new: list[JsonValue]) -> tuple[int, int, int]:
    """(start, old end, new end) of the middle left once the equal ends are set aside."""
    shorter = min(len(old), len(new))
    start = 0
    while start < shorter and json_equal(old[start], new[start]):
        start += 1
    end = 0
    while end < shorter - start and json_equal(old[-1 - end], new[-1 - end]):
        end += 1
    return start, len(old) - end, len(new) - end


def _cost(steps: Sequence[Step]) -> int:
    """Bytes of the operations as compact JSON, then their count: one int that orders both."""
    size = sum(len(_encode(step.to_json()).encode()) + 1 for step in steps)  # +1: the comma
    return size * _BYTE + len(steps)


# --- pointers ----------------------------------------------------------------------------


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def _index(segment: str, length: int) -> int | None:
    """The array index a segment names (RFC 6901: no sign, no leading zero), if below length."""
    if not segment.isascii() or not segment.isdigit() or (segment[0] == "0" and segment != "0"):
        return None
    index = int(segment)
    return index if index < length else None


def _put(
    node: JsonValue, segments: tuple[str, ...], depth: int, value: JsonValue, path: str
) -> JsonValue:
    if depth == len(segments):
        return value
    segment = segments[depth]
    if isinstance(node, dict):
        out = dict(node)
        out[segment] = _put(node.get(segment, {}), segments, depth + 1, value, path)
        return out
    if isinstance(node, list):
        index = len(node) if segment == "-" else _index(segment, len(node) + 1)
        if index is None:
            raise ReconcilerError(
                f"cannot set {path}: the array at {pointer(segments[:depth])!r} "
                f"has {len(node)} items; point at a whole array instead"
            )
        items = list(node)
        child = items[index] if index < len(items) else {}
        items[index : index + 1] = [_put(child, segments, depth + 1, value, path)]
        return items
    raise ReconcilerError(
        f"cannot set {path}: {pointer(segments[:depth])!r} is not an object or array"
    )


def _drop(node: JsonValue, segments: tuple[str, ...]) -> JsonValue:
    if not segments:
        raise ValueError("drop removes a member, not the whole document")
    segment, rest = segments[0], segments[1:]
    if isinstance(node, dict) and segment in node:
        out = dict(node)
        if rest:
            out[segment] = _drop(node[segment], rest)
        else:
            del out[segment]
        return out
    if isinstance(node, list) and (index := _index(segment, len(node))) is not None:
        items = list(node)
        if rest:
            items[index] = _drop(node[index], rest)
        else:
            del items[index]
        return items
    return node
