"""Definition files edited in place: the values `pull` changes, and nothing else.

With documents.py, the only module that imports ruamel.yaml: documents reads definitions (fast,
safe loader), this module writes them. An edit is a round trip, not a re-dump: the file is
loaded in ruamel's round-trip mode, only the changed values are touched (a scalar keeps its
quoting style, `{ref: key}` stays a flow mapping, in a flow list too, a list item changed in the
middle is edited where it is, a new one takes the style of the item beside it, a new field goes
at the end of its mapping), and the dump is merged line by line
into the original text, so every line the edit does not change stays exactly as it was written
(comments, blank lines, spacing, anchors, quoting that ruamel would normalise). A removed field
takes the full-line comments directly above it along; the comments and blank lines under it
belong to what follows and stay. The result is read back and must hold exactly the edited
values; otherwise the edit is refused, naming the file.
"""

from __future__ import annotations

import difflib
import io
import json
import os
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import RoundTripConstructor
from ruamel.yaml.error import YAMLError
from ruamel.yaml.nodes import ScalarNode
from ruamel.yaml.representer import RoundTripRepresenter
from ruamel.yaml.scalarstring import (
    DoubleQuotedScalarString,
    FoldedScalarString,
    LiteralScalarString,
    SingleQuotedScalarString,
)

from reconciler import linemerge
from reconciler.errors import ReconcilerError
from reconciler.model import JsonValue, Ref

_YAML11_BOOL = re.compile(r"y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF")
_WIDTH = 4096  # never fold a long line: a folded line is a changed line


class EditError(ReconcilerError):
    """A definition file cannot be edited in place (it is not the file that was loaded, or an
    edit would need a change the file's structure does not allow)."""


@dataclass(frozen=True, slots=True)
class Edit:
    """One field of a definition set to a value (a Ref is written `{ref: key}`), or removed.

    `path` names mapping keys from the top of the file; a field pull owns never lies inside a
    list (lists are owned whole), so no step is an index.
    """

    path: tuple[str, ...]
    value: JsonValue = None
    removed: bool = False


# --- styles of new values -------------------------------------------------------------------


def styled(value: JsonValue) -> Any:
    """A value as a definition file writes it: `{ref: key}` as a flow mapping, text with line
    breaks as a literal block, YAML 1.1 booleans quoted (text in YAML 1.2, booleans to older
    readers), the rest in block style."""
    if isinstance(value, Ref):
        flow = CommentedMap(value.to_json())
        flow.fa.set_flow_style()
        return flow
    if isinstance(value, dict):
        block = CommentedMap()
        for name, item in value.items():
            block[styled(name)] = styled(item)
        return block
    if isinstance(value, list):
        return CommentedSeq(styled(item) for item in value)
    if isinstance(value, str):
        if any(mark in value for mark in "\x85\u2028\u2029"):
            # Line breaks to YAML: only escapes in double quotes keep them (ruamel folds them).
            return DoubleQuotedScalarString(value)
        if "\n" in value and _literal_safe(value):
            return LiteralScalarString(value)
        if _YAML11_BOOL.fullmatch(value):
            return SingleQuotedScalarString(value)
    return value


def _literal_safe(text: str) -> bool:
    """A literal block keeps printable text exactly, unless lines end or start in spaces."""
    lines = text.split("\n")
    return all(line.isprintable() and line == line.rstrip(" ") for line in lines) and not (
        text.startswith((" ", "\n"))
    )


# --- the round trip -------------------------------------------------------------------------


def _keep_text(constructor: RoundTripConstructor, node: ScalarNode) -> str:
    return str(constructor.construct_scalar(node))


class _Constructor(RoundTripConstructor):
    """Dates stay the text written, as documents.py reads them."""


_Constructor.add_constructor("tag:yaml.org,2002:timestamp", _keep_text)


def _null(representer: RoundTripRepresenter, _: None) -> Any:
    return representer.represent_scalar("tag:yaml.org,2002:null", "null")


class _Representer(RoundTripRepresenter):
    """`null` written out: an override's null removes a field, so it says so (not `field:`)."""


_Representer.add_representer(type(None), _null)


def _yaml(text: str) -> YAML:
    """A round-trip loader and dumper set to the file's own indentation."""
    yaml = YAML(typ="rt")  # YAML 1.2, ruamel's default (set, it would write a %YAML line)
    yaml.Constructor = _Constructor
    yaml.preserve_quotes = True
    yaml.width = _WIDTH
    mapping, sequence, offset = _indentation(text)
    yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
    yaml.Representer = _Representer
    # `[{ref: a}, {ref: b}]` stays so: ruamel would write a one-member mapping in a flow list
    # without its braces (`[ref: a, ref: b]`), restyling the line of every such list it edits.
    yaml.brace_single_entry_mapping_in_flow_sequence = True
    return yaml


def _indentation(text: str) -> tuple[int, int, int]:
    """(mapping indent, sequence indent, dash offset) as the file writes them (2, 4, 2 when it
    does not show): the first nested mapping, and the first block sequence under a key."""
    mapping: int | None = None
    sequence: tuple[int, int] | None = None
    key_indent: int | None = None
    for line in text.splitlines():
        content = line.lstrip(" ")
        if not content or content.startswith("#"):
            continue
        column = len(line) - len(content)
        key = content
        while key.startswith("- "):  # the key of a list item's mapping is after its dash
            key = key[1:].lstrip(" ")
        if key_indent is not None and sequence is None and content.startswith("- "):
            sequence = (column + len(content) - len(key) - key_indent, column - key_indent)
        elif key_indent is not None and mapping is None and column > key_indent:
            mapping = column - key_indent
        if mapping is not None and sequence is not None:
            break
        key_indent = column + len(content) - len(key) if key.rstrip().endswith(":") else None
    sequence_indent, offset = sequence if sequence is not None else (4, 2)
    return mapping or 2, sequence_indent, offset


def _dump(yaml: YAML, document: Any) -> str:
    out = io.StringIO()
    yaml.dump(document, out)
    return out.getvalue()


def edited(text: str, edits: Sequence[Edit], *, display: str) -> str:
    """The file's text with the edits made, every other line as it was (see the module doc)."""
    if not edits:
        return text
    bom, text = text.startswith("\ufeff"), text.removeprefix("\ufeff")
    newline = "\r\n" if "\r\n" in text else "\n"
    result = _edited(text.replace("\r\n", "\n"), edits, display)
    return ("\ufeff" if bom else "") + result.replace("\n", newline)


def _edited(text: str, edits: Sequence[Edit], display: str) -> str:
    yaml = _yaml(text)
    try:
        document = yaml.load(text)
    except YAMLError as error:
        raise EditError(f"{display}: cannot be read back for editing ({error})") from None
    if not isinstance(document, CommentedMap):
        raise EditError(f"{display}: the top level is not a mapping: it changed since it was read")
    before = _dump(yaml, document)
    shared = _shared(document)
    for edit in edits:
        _apply(document, edit, shared, display)
    after = _dump(yaml, document)
    expected = _plain(document)
    merged = linemerge.merge(text, before, linemerge.own_comments(before, after))
    for candidate in (merged, after):
        if _holds(candidate, expected, edits):
            return candidate
    raise EditError(
        f"{display}: the edit cannot be written without changing other values (a field "
        "inherited through a merge key `<<`, say): edit the file by hand"
    )


def _holds(text: str, expected: Any, edits: Sequence[Edit]) -> bool:
    """Whether a text reads as the edited document, with each edit's value at its place."""
    yaml = YAML(typ="rt")
    yaml.Constructor = _Constructor
    try:
        read = _plain(yaml.load(text))
    except YAMLError:
        return False
    if _key(read) != _key(expected):
        return False
    for edit in edits:
        node: Any = read
        for step in edit.path:
            node = node.get(step, _ABSENT) if isinstance(node, dict) else _ABSENT
        if (node is _ABSENT) != edit.removed:
            return False
        if not edit.removed and _key(node) != _key(_json(edit.value)):
            return False
    return True


_ABSENT = object()


# --- edits on the node tree -----------------------------------------------------------------


def _apply(document: CommentedMap, edit: Edit, shared: set[int], display: str) -> None:
    parent: Any = document
    for step in edit.path[:-1]:
        child = parent.get(step)
        if not isinstance(child, CommentedMap):
            if edit.removed:
                return  # nothing there to remove
            child = CommentedMap()
            parent[step] = child
        elif id(child) in shared:
            child = _unshared(child)
            parent[step] = child
        parent = child
    name = edit.path[-1]
    if edit.removed:
        if name in parent:
            try:
                del parent[name]
            except KeyError:
                raise EditError(
                    f"{display}: {'.'.join(edit.path)} comes from a merge key `<<`: remove it "
                    "there by hand"
                ) from None
        return
    if name not in parent:
        parent[name] = styled(edit.value)  # at the end of its mapping
        return
    current = parent[name]
    if id(current) in shared:
        current = _unshared(current)
    replacement = _changed(current, edit.value, shared)
    if replacement is not parent[name]:
        parent[name] = replacement


def _unshared(node: Any) -> Any:
    """A copy of a node an alias repeats, to edit in one place only; the original keeps its
    anchor even where no alias is left to use it."""
    anchor = getattr(node, "anchor", None)
    if anchor is not None and anchor.value is not None:
        node.yaml_set_anchor(anchor.value, always_dump=True)
    return _copy(node)


def _changed(current: Any, value: JsonValue, shared: set[int]) -> Any:
    """current, edited in place to hold value where it can be (mappings member by member,
    lists item by item); otherwise the node to put in its place."""
    if _key(_plain(current)) == _key(_json(value)):
        return current
    wanted = value.to_json() if isinstance(value, Ref) else value
    if isinstance(current, CommentedMap) and isinstance(wanted, dict) and id(current) not in shared:
        for name in [name for name in current if name not in wanted]:
            del current[name]
        for name, item in wanted.items():
            if name in current:
                replacement = _changed(current[name], item, shared)
                if replacement is not current[name]:
                    current[name] = replacement
            else:
                current[name] = styled(item)
        return current
    if isinstance(current, CommentedSeq) and isinstance(wanted, list) and id(current) not in shared:
        _change_items(current, wanted, shared)
        return current
    return _scalar(current, value)


def _change_items(current: CommentedSeq, wanted: list[JsonValue], shared: set[int]) -> None:
    """Equal items stay; an item changed in place is edited where it is; the rest inserted or
    removed (from the end backwards, so indices stay right)."""
    matcher = difflib.SequenceMatcher(
        None,
        [_key(_plain(item)) for item in current],
        [_key(_json(item)) for item in wanted],
        autojunk=False,
    )
    for tag, i1, i2, j1, j2 in reversed(matcher.get_opcodes()):
        if tag == "equal":
            continue
        paired = min(i2 - i1, j2 - j1) if tag == "replace" else 0
        for index in range(i1 + paired, i2)[::-1]:
            del current[index]
        neighbour = current[i1 + paired - 1] if i1 + paired > 0 else None
        if neighbour is None and i1 + paired < len(current):
            neighbour = current[i1 + paired]
        for offset, item in enumerate(wanted[j1 + paired : j2]):
            current.insert(i1 + paired + offset, _styled_like(item, neighbour))
        for offset in range(paired):
            replacement = _changed(current[i1 + offset], wanted[j1 + offset], shared)
            if replacement is not current[i1 + offset]:
                current[i1 + offset] = replacement


def _styled_like(value: JsonValue, neighbour: Any) -> Any:
    """A new list item, styled as the item beside it where both are mappings (or lists): a
    `- {type: html, ...}` list gets a flow mapping, not a block one."""
    node = styled(value)
    for kind in (CommentedMap, CommentedSeq):
        if isinstance(node, kind) and isinstance(neighbour, kind) and neighbour.fa.flow_style():
            node.fa.set_flow_style()
    return node


def _scalar(current: Any, value: JsonValue) -> Any:
    """The new value, in the quoting style of the one it replaces where that style holds it."""
    if isinstance(value, str):
        if isinstance(current, DoubleQuotedScalarString):
            return DoubleQuotedScalarString(value)
        if isinstance(current, SingleQuotedScalarString) and "\n" not in value:
            return SingleQuotedScalarString(value)
        block = isinstance(current, LiteralScalarString | FoldedScalarString)
        if block and "\n" in value and _literal_safe(value):
            return LiteralScalarString(value)
    return styled(value)


# --- values ---------------------------------------------------------------------------------


def _plain(node: Any) -> Any:
    """A node as plain JSON (ruamel's scalar types as str, int, float, bool)."""
    if isinstance(node, dict):
        return {str(name): _plain(item) for name, item in node.items()}
    if isinstance(node, list):
        return [_plain(item) for item in node]
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    return str(node)


def _json(value: JsonValue) -> Any:
    if isinstance(value, Ref):
        return value.to_json()
    if isinstance(value, dict):
        return {name: _json(item) for name, item in value.items()}
    if isinstance(value, list):
        return [_json(item) for item in value]
    return value


def _key(value: Any) -> str:
    """One text per JSON value: 1, 1.0 and true differ, key order does not."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _shared(document: Any) -> set[int]:
    """The ids of nodes an alias repeats: an edit through one of them must not change the
    others, so it edits a copy."""
    seen: set[int] = set()
    shared: set[int] = set()
    pending = [document]
    while pending:
        node = pending.pop()
        if not isinstance(node, dict | list):
            continue
        if id(node) in seen:
            shared.add(id(node))
            continue
        seen.add(id(node))
        pending += list(node.values()) if isinstance(node, dict) else list(node)
    return shared


def _copy(node: Any) -> Any:
    if isinstance(node, dict):
        block = CommentedMap()
        for name, item in node.items():
            block[name] = _copy(item)
        return block
    if isinstance(node, list):
        return CommentedSeq(_copy(item) for item in node)
    return node


# --- files ----------------------------------------------------------------------------------


def replace(path: Path, text: str) -> None:
    """Write a file so that a reader (or a crash) sees the old file or the new one, never half:
    a temporary file in the same folder (not a .yaml: the loader never reads it), fsynced, then
    renamed over the target, keeping the target's permissions. A symlinked definition (loading
    keeps links inside the repository) is written through: its target changes, the link stays."""
    path = Path(os.path.realpath(path))
    mode = path.stat().st_mode & 0o777 if path.exists() else None
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    _fsync_folder(path.parent)


def remove(path: Path) -> None:
    """Delete a file durably."""
    path.unlink()
    _fsync_folder(path.parent)


def _fsync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
