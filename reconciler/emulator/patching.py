"""RFC 6902 JSON Patch, applied strictly and atomically with the `jsonpatch` library.

The structure of the patch document is checked first (so a malformed document is told apart
from one that does not fit the target), then `jsonpatch` applies it to a deep copy: a failing
operation leaves the original untouched.

Only the operations Adobe's DPS update pages list are accepted: add, replace, remove, copy and
test. `move`, which no DPS page lists, is refused 400 naming it (the strictest reading; the
legacy xcore pages list even fewer).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence

import jsonpatch
import jsonpointer

from reconciler.model import JsonValue

OPERATIONS = frozenset({"add", "remove", "replace", "copy", "test"})
REFUSED = frozenset({"move"})
"""RFC 6902 operations DPS does not document: refused with their own message."""
_NEEDS_VALUE = frozenset({"add", "replace", "test"})
_NEEDS_FROM = frozenset({"copy"})
_POINTER = re.compile(r"^(/([^~/]|~[01])*)*$")


class PatchError(Exception):
    """A patch that cannot be applied; `status` is the HTTP status the emulator answers."""

    status = 422


class MalformedPatch(PatchError):
    """The document is not an RFC 6902 patch (not a list, unknown op, missing member, bad pointer)."""

    status = 400


class PatchTestFailed(PatchError):
    """A `test` operation did not hold: the target is not in the state the patch expects."""

    status = 409


class PatchConflict(PatchError):
    """The patch is well formed but does not fit the target (a path that does not exist...)."""

    status = 422


def check(operations: JsonValue) -> Sequence[dict[str, JsonValue]]:
    """The operations of a well-formed patch document; raises MalformedPatch."""
    if not isinstance(operations, list):
        raise MalformedPatch("a JSON Patch document must be a JSON array of operations")
    for index, operation in enumerate(operations):
        where = f"operation {index}"
        if not isinstance(operation, dict):
            raise MalformedPatch(f"{where}: must be a JSON object")
        op = operation.get("op")
        if op in REFUSED:
            raise MalformedPatch(
                f"{where}: {op} is not supported: the DPS API documents add, replace, remove, "
                f"copy and test; send a remove and an add instead of a {op}"
            )
        if not isinstance(op, str) or op not in OPERATIONS:
            raise MalformedPatch(
                f"{where}: op must be one of {', '.join(sorted(OPERATIONS))}, not {op!r}"
            )
        for member in ("path", *(("from",) if op in _NEEDS_FROM else ())):
            pointer = operation.get(member)
            if not isinstance(pointer, str):
                raise MalformedPatch(f"{where} ({op}): '{member}' must be a JSON Pointer string")
            if not _POINTER.match(pointer):
                raise MalformedPatch(
                    f"{where} ({op}): '{member}' is not a JSON Pointer: {pointer!r}"
                )
        if op in _NEEDS_VALUE and "value" not in operation:
            raise MalformedPatch(f"{where} ({op}): 'value' is required")
    return operations  # type: ignore[return-value]


def pointers(operations: Sequence[dict[str, JsonValue]]) -> list[str]:
    """Every JSON Pointer the operations write or read (their `path` and `from`)."""
    return [
        pointer
        for operation in operations
        for name in ("path", "from")
        if isinstance(pointer := operation.get(name), str)
    ]


def touched(operations: Sequence[dict[str, JsonValue]]) -> list[str]:
    """The top-level members each operation reads or writes ('' for the whole document)."""
    members = []
    for operation in operations:
        for name in ("path", "from"):
            pointer = operation.get(name)
            if isinstance(pointer, str):
                members.append(
                    pointer.split("/")[1].replace("~1", "/").replace("~0", "~") if pointer else ""
                )
    return members


def apply_patch(document: JsonValue, operations: JsonValue) -> JsonValue:
    """The document after the patch; the input is never modified. Raises a PatchError subclass.

    The operations apply one by one to a deep copy, so an error names the operation it came from.
    """
    checked = check(operations)
    try:
        result: JsonValue = copy.deepcopy(document)
    except RecursionError:
        raise PatchConflict("the document is nested too deeply") from None
    for index, operation in enumerate(checked):
        where = f"operation {index} ({operation['op']} {operation['path']})"
        try:
            result = jsonpatch.JsonPatch([operation]).apply(result, in_place=True)
        except jsonpatch.JsonPatchTestFailed:
            # Never the value: the tested one may be long or private, and the sender has it.
            raise PatchTestFailed(
                f"{where}: the test failed: the document does not hold the tested value there"
            ) from None
        except jsonpatch.InvalidJsonPatch as malformed:
            raise MalformedPatch(f"{where}: {malformed}") from None
        except (
            jsonpatch.JsonPatchException,
            jsonpointer.JsonPointerException,
            KeyError,
            IndexError,
            TypeError,
        ) as conflict:
            raise PatchConflict(f"{where}: {_reason(conflict)}") from None
        except RecursionError:
            raise PatchConflict(f"{where}: the document is nested too deeply") from None
    return result


def _reason(error: Exception) -> str:
    """A short reason that never quotes the document (jsonpointer's messages may)."""
    text = str(error)
    if "does not support indexing" in text:
        return "the path goes through a value that is neither an object nor an array"
    if " not found in " in text or isinstance(error, KeyError) or _QUOTED.fullmatch(text):
        return "the path does not exist in the document"
    return text[:200]


_QUOTED = re.compile(r"'[^']*'")
