"""Pure: a body as the API holds it (the wire form) and as the reconciler works with it.

Two Decisioning fields differ on the wire:
- an item collection's `constraints[].uiModel` is stringified JSON in the API
  (`api-reference/items-collections/create.md`); everywhere else it is structured, so it is
  written as YAML and diffed field by field. A live string is decoded only when encoding the
  decoded value gives the same text back: a string written otherwise (by the UI, spaced or
  escaped differently) stays a string, so a `test` of it asserts the exact text the server holds;
- a ranking formula's `returnType.type` is sent lower-case (`"integer"`, as Adobe's create example
  sends it) and read back upper-case (`"INTEGER"`, as its lookup example shows): `align` gives a
  document the case live has wherever the two agree but for case, so nothing is planned for it
  and a `test` asserts the text the server holds.

A JSON Patch cannot reach inside a string, so an update that changes anything under an encoded
field's top-level field (`/constraints`) is sent as one `test` and one write of that whole field,
encoded; the plan still shows the field-by-field change.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from reconciler import kinds
from reconciler.kinds import ANY
from reconciler.model import JsonObject, JsonValue, Kind

_FOLDED: Mapping[Kind, tuple[tuple[str, ...], ...]] = {
    Kind.RANKING_FORMULA: (("returnType", "type"),)
}
"""Enum fields the API echoes in another case than it was sent."""


def encoding(value: JsonValue) -> str:
    """The one text of a structured value: compact, keys sorted (Adobe's example is): the same
    text whatever order a document went through (a saved plan sorts its keys)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def decode(kind: Kind, body: Mapping[str, JsonValue]) -> JsonObject:
    """A body read from the API, in the form the reconciler works with: an encoded field's
    text is structured only when it is the text `encoding` gives (else it stays text)."""
    return _parsed(kind, body, exact=True)


def align(
    kind: Kind, document: Mapping[str, JsonValue], reference: Mapping[str, JsonValue] | None
) -> JsonObject:
    """The document with the reference's text at each case-folded field where the two differ
    only by case (`"integer"` in git, `"INTEGER"` live): the same value, as the server holds it."""
    folded = _FOLDED.get(kind, ())
    if not folded or reference is None:
        return dict(document)
    out: Any = _copy(document)
    for path in folded:
        theirs = _at(reference, path)
        for holder, name in _places(out, path):
            mine = holder[name]
            if isinstance(mine, str) and isinstance(theirs, str) and mine.lower() == theirs.lower():
                holder[name] = theirs
    return dict(out)


def _at(body: Mapping[str, JsonValue], path: tuple[str, ...]) -> JsonValue:
    node: JsonValue = dict(body)
    for step in path:
        node = node.get(step) if isinstance(node, dict) else None
    return node


def structure(kind: Kind, body: Mapping[str, JsonValue]) -> JsonObject:
    """A definition's body with every encoded field structured, however its text was spaced
    (a body pasted from Adobe's pages holds the text; validation has checked it is JSON)."""
    return _parsed(kind, body, exact=False)


def _parsed(kind: Kind, body: Mapping[str, JsonValue], *, exact: bool) -> JsonObject:
    encoded = kinds.spec(kind).encoded
    if not encoded:
        return dict(body)
    out: Any = _copy(body)
    for path in encoded:
        for holder, name in _places(out, path):
            text = holder[name]
            if not isinstance(text, str):
                continue
            try:
                parsed = json.loads(text)
            except ValueError:
                continue
            if isinstance(parsed, dict | list) and (not exact or encoding(parsed) == text):
                holder[name] = parsed
    return dict(out)


def encode(kind: Kind, body: Mapping[str, JsonValue]) -> JsonObject:
    """A body in the form the API takes: structured encoded fields become their text."""
    encoded = kinds.spec(kind).encoded
    if not encoded:
        return dict(body)
    out: Any = _copy(body)
    for path in encoded:
        for holder, name in _places(out, path):
            if not isinstance(holder[name], str):
                holder[name] = encoding(holder[name])
    return dict(out)


def encode_patch(
    kind: Kind,
    operations: Sequence[Mapping[str, JsonValue]],
    live: Mapping[str, JsonValue],
    goal: Mapping[str, JsonValue],
) -> list[JsonObject]:
    """RFC 6902 operations as the API can take them.

    Operations on or under the top-level field of an encoded field are replaced by at most one
    `test` of the whole field as `live` holds it (where the first such test was) and one write
    of the whole field as `goal` holds it (where the first such operation was), encoded.
    """
    roots = {"/" + path[0] for path in kinds.spec(kind).encoded}
    if not roots:
        return [dict(op) for op in operations]
    out: list[JsonObject] = []
    tested: set[str] = set()
    written: set[str] = set()
    for op in operations:
        root = _root(op, roots)
        if root is None:
            out.append(dict(op))
            continue
        name = root[1:]
        if op.get("op") == "test":
            if root not in tested and name in live:
                tested.add(root)
                out.append({"op": "test", "path": root, "value": _field(kind, live, name)})
            continue
        if root in written:
            continue
        written.add(root)
        if name in goal:
            verb = "replace" if name in live else "add"
            out.append({"op": verb, "path": root, "value": _field(kind, goal, name)})
        elif name in live:
            out.append({"op": "remove", "path": root})
    return out


def _field(kind: Kind, body: Mapping[str, JsonValue], name: str) -> JsonValue:
    return encode(kind, {name: body[name]})[name]


def _root(op: Mapping[str, JsonValue], roots: set[str]) -> str | None:
    for pointer in (op.get("path"), op.get("from")):
        if isinstance(pointer, str):
            for root in roots:
                if pointer == root or pointer.startswith(root + "/"):
                    return root
    return None


def _places(node: Any, path: tuple[str, ...]) -> Iterator[tuple[Any, Any]]:
    """Each (container, key) a path with `*` steps reaches in a body."""
    head, rest = path[0], path[1:]
    if head == ANY:
        steps: Sequence[Any] = range(len(node)) if isinstance(node, list) else ()
    else:
        steps = (head,) if isinstance(node, dict) and head in node else ()
    for step in steps:
        if rest:
            yield from _places(node[step], rest)
        else:
            yield node, step


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _copy(child) for key, child in value.items()}
    if isinstance(value, list):
        return [_copy(child) for child in value]
    return value
