"""Pure JSON diffing: strict JSON equality and minimal, proven RFC 6902 patches.

`json_patch(before, after)` gives the add/replace/remove operations (the ones the Offer Library
documents) that turn `before` into `after`, and proves them by applying them before returning.

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

import enum
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TypeAlias, assert_never, cast

import jsonpatch

from reconciler.errors import PatchBug, ReconcilerError
from reconciler.model import JsonObject, JsonValue

Operation: TypeAlias = dict[str, JsonValue]
"""One RFC 6902 operation as JSON: {"op": "add" | "replace" | "remove", "path": ..., "value": ...}."""

Document: TypeAlias = "JsonValue | Mapping[str, JsonValue]"
"""A JSON value as callers hold it: any Mapping (a ruamel CommentedMap, say) is an object."""

OPERATIONS = frozenset({"add", "replace", "remove"})
"""The only operations a patch may use."""

MAX_ALIGNMENT_CELLS = 200 * 200
"""Beyond this many item pairs, arrays are paired by position instead of aligned optimally."""

_BYTE = 1 << 16  # cost = bytes * _BYTE + operations: ints that compare as (bytes, operations)
_SCALARS = frozenset({str, int, float, bool, type(None)})
_BAD_ESCAPE = re.compile(r"~(?![01])")
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False).encode


def json_equal(a: Document, b: Document) -> bool:
    """Whether a and b are the same JSON: True is not 1, 1 is 1.0, key order does not count."""
    # Python's == (in C) rejects most differences at once but says True == 1; the walk
    # afterwards only has to find a bool facing a number.
    return bool(a == b) and _same_kinds(a, b)


def json_patch(before: Document, after: Document) -> list[Operation]:
    """The smallest add/replace/remove patch turning before into after, proven before returned.

    Smallest means fewest bytes as compact UTF-8 JSON, then fewest operations, so a patch says
    only what changed: object members missing from `after` are removed, new ones added, and
    each member that differs is either replaced or edited inside, whichever is smaller. A
    change deep inside a list item is one operation at that path; array items are aligned by a
    Levenshtein table (common ends trimmed first) whose substitution cost is the size of the
    item's own patch and whose indices run as the patch applies, so inserting an item in front
    is one `add` at index 0; above MAX_ALIGNMENT_CELLS item pairs, items are paired by position.
    The document itself is replaced (path "") only when before and after are not both objects
    or both arrays.

    Two more candidates are sized, and the smallest patch wins, ties going to ours:
    `jsonpatch.make_patch(before, after)` when it uses only add/replace/remove and round-trips,
    and replacing every top-level member that differs. So the result is never more bytes than
    either; it may have more operations than a whole-field replacement when several small
    operations are fewer bytes than one large one.

    Equal documents cost one `json_equal` (about 15 µs for an offer). Every other patch is
    applied to `before` with jsonpatch and compared to `after` (`prove`): PatchBug if it does
    not reproduce `after`, so an unproven patch is never returned.
    """
    if json_equal(before, after):
        return []
    old, new = _plain(before), _plain(after)
    best = min(_candidates(old, new), key=_rank)
    prove(old, best, new)
    return best


def prove(before: Document, patch: Sequence[Mapping[str, JsonValue]], after: Document) -> None:
    """Raise PatchBug unless applying patch to before gives after under strict JSON equality."""
    result = apply(before, patch)
    if not json_equal(result, after):
        first = _patch(_plain(result), _plain(after))[0]["path"]
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


def _rank(patch: Sequence[Mapping[str, JsonValue]]) -> tuple[int, int]:
    """Patches are ranked by bytes, then operations: precise operations on what changed."""
    operations, size = patch_size(patch)
    return size, operations


def pointer(segments: Iterable[str | int]) -> str:
    """The JSON Pointer of a path: ("a/b", 0) -> "/a~1b/0"; () -> "" (the whole document)."""
    return "".join(f"/{_escape(str(segment))}" for segment in segments)


def parse_pointer(text: str) -> tuple[str, ...]:
    """The unescaped segments of a JSON Pointer: "/a~1b/0" -> ("a/b", "0")."""
    if text and (not text.startswith("/") or _BAD_ESCAPE.search(text)):
        raise ValueError(f"{text!r} is not a JSON Pointer such as /rank/priority")
    return tuple(s.replace("~1", "/").replace("~0", "~") for s in text.split("/")[1:])


def lookup(doc: Document, path: str) -> tuple[bool, JsonValue]:
    """(True, value) at a JSON Pointer, or (False, None) when nothing is there."""
    node: object = doc
    for segment in parse_pointer(path):
        if isinstance(node, Mapping) and segment in node:
            node = node[segment]
        elif isinstance(node, list) and (index := _index(segment, len(node))) is not None:
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
    """A fresh copy made of dicts and lists, so patches share nothing with the caller's data."""
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


# --- patches -----------------------------------------------------------------------------


def _candidates(old: JsonValue, new: JsonValue) -> Iterator[list[Operation]]:
    yield _patch(old, new)
    made = _jsonpatch_patch(old, new)
    if made is not None:
        yield made
    if isinstance(old, dict) and isinstance(new, dict):
        yield _members(old, new, "", whole=True)


def _patch(old: JsonValue, new: JsonValue) -> list[Operation]:
    """Ours, for documents that differ."""
    if isinstance(old, dict) and isinstance(new, dict):
        return _members(old, new, "", whole=False)
    if isinstance(old, list) and isinstance(new, list):
        return _items(old, new, "")
    return [{"op": "replace", "path": "", "value": new}]


def _jsonpatch_patch(old: JsonValue, new: JsonValue) -> list[Operation] | None:
    """jsonpatch's patch, when it uses only our operations and reproduces new."""
    made: list[Operation] = jsonpatch.make_patch(old, new).patch
    if any(op["op"] not in OPERATIONS for op in made):
        return None  # move and copy are not operations the Offer Library documents
    try:
        prove(old, made, new)
    except PatchBug:
        return None  # jsonpatch has a history of invalid patches (performance-notes §2.1)
    return made


def _members(old: JsonObject, new: JsonObject, path: str, *, whole: bool) -> list[Operation]:
    """Members removed, added, and the ones that differ edited (whole=True: replaced outright)."""
    ops: list[Operation] = []
    for key in sorted(old.keys() | new.keys()):
        here = f"{path}/{_escape(key)}"
        if key not in new:
            ops.append({"op": "remove", "path": here})
        elif key not in old:
            ops.append({"op": "add", "path": here, "value": new[key]})
        elif not json_equal(old[key], new[key]):
            if whole:
                ops.append({"op": "replace", "path": here, "value": new[key]})
            else:
                ops.extend(_edit(old[key], new[key], here)[0])
    return ops


def _edit(old: JsonValue, new: JsonValue, path: str) -> tuple[list[Operation], int]:
    """The cheapest operations at or below path turning old (!= new) into new, and their cost.

    Either one replace of the value at path, or the operations inside it (members edited,
    array items aligned), whichever costs less: fewer bytes, then fewer operations.
    """
    replace: list[Operation] = [{"op": "replace", "path": path, "value": new}]
    best = (replace, _cost(replace))
    inner: list[Operation] | None = None
    if isinstance(old, dict) and isinstance(new, dict):
        inner = _members(old, new, path, whole=False)
    elif isinstance(old, list) and isinstance(new, list):
        inner = _items(old, new, path)
    if inner is not None:
        cost = _cost(inner)
        if cost <= best[1]:  # ties go to the deeper, more precise operations
            best = (inner, cost)
    return best


class _Step(enum.Enum):
    KEEP = "keep"  # the old item becomes the new one (patched when they differ)
    DELETE = "delete"
    INSERT = "insert"


def _items(old: list[JsonValue], new: list[JsonValue], path: str) -> list[Operation]:
    """Operations turning the array old into new: ends trimmed, the middle aligned."""
    start, old_end, new_end = _trim(old, new)
    a, b = old[start:old_end], new[start:new_end]
    edits: dict[tuple[int, int], list[Operation]] = {}
    if len(a) * len(b) <= MAX_ALIGNMENT_CELLS:
        steps = _align(a, b, path, start, edits)
    else:
        paired = min(len(a), len(b))
        steps = [(_Step.KEEP, i, i) for i in range(paired)]
        steps += [(_Step.DELETE, i, paired) for i in range(paired, len(a))]
        steps += [(_Step.INSERT, len(a), j) for j in range(paired, len(b))]
    ops: list[Operation] = []
    # j counts the new items already in place, so the item at hand sits at index start + j.
    for step, i, j in steps:
        here = f"{path}/{start + j}"
        match step:
            case _Step.KEEP:
                if (i, j) in edits:
                    ops.extend(edits[i, j])
                elif not json_equal(a[i], b[j]):
                    ops.extend(_edit(a[i], b[j], here)[0])
            case _Step.DELETE:
                ops.append({"op": "remove", "path": here})
            case _Step.INSERT:
                ops.append({"op": "add", "path": here, "value": b[j]})
            case _:
                assert_never(step)
    return ops


def _align(
    a: list[JsonValue],
    b: list[JsonValue],
    path: str,
    start: int,
    edits: dict[tuple[int, int], list[Operation]],
) -> list[tuple[_Step, int, int]]:
    """Cheapest steps from a to b (a Levenshtein table); fills edits with the KEEP patches used."""
    # An index's digits add exactly their count to the bytes of an operation at path/<index>.
    remove = _cost([{"op": "remove", "path": f"{path}/"}])
    adds = [_cost([{"op": "add", "path": f"{path}/", "value": item}]) for item in b]

    def digits(j: int) -> int:
        return len(str(start + j)) * _BYTE

    def keep(i: int, j: int) -> int:
        if json_equal(a[i], b[j]):
            return 0
        edits[i, j], cost = _edit(a[i], b[j], f"{path}/{start + j}")
        return cost

    n, m = len(a), len(b)
    cost = [[0] * (m + 1) for _ in range(n + 1)]
    came = [[_Step.KEEP] * (m + 1) for _ in range(n + 1)]
    for j in range(1, m + 1):
        cost[0][j], came[0][j] = cost[0][j - 1] + digits(j - 1) + adds[j - 1], _Step.INSERT
    for i in range(1, n + 1):
        cost[i][0], came[i][0] = cost[i - 1][0] + digits(0) + remove, _Step.DELETE
        for j in range(1, m + 1):
            best, how = cost[i - 1][j - 1] + keep(i - 1, j - 1), _Step.KEEP
            if (delete := cost[i - 1][j] + digits(j) + remove) < best:
                best, how = delete, _Step.DELETE
            if (insert := cost[i][j - 1] + digits(j - 1) + adds[j - 1]) < best:
                best, how = insert, _Step.INSERT
            cost[i][j], came[i][j] = best, how
    steps: list[tuple[_Step, int, int]] = []
    i, j = n, m
    while i or j:
        how = came[i][j]
        match how:
            case _Step.KEEP:
                i, j = i - 1, j - 1
                steps.append((how, i, j))
            case _Step.DELETE:
                i -= 1
                steps.append((how, i, j))
            case _Step.INSERT:
                j -= 1
                steps.append((how, i, j))
            case _:
                assert_never(how)
    return steps[::-1]


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


def _cost(ops: Sequence[Operation]) -> int:
    """Bytes of the operations as compact JSON, then their count: one int that orders both."""
    size = sum(len(_encode(op).encode()) + 1 for op in ops)  # +1: the comma between operations
    return size * _BYTE + len(ops)


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
