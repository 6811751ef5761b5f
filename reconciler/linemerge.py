"""Pure: a document's new dump merged line by line into the text the document was read from.

A round-trip dumper (ruamel's) writes every line in its own style: spacing after a colon,
indentation, quotes it normalises. Given the original text and two dumps of its document, before
and after an edit, `merge` keeps every line of the original the edit did not change, and takes the
edit's lines where it did: lines equal in all three anchor the merge. `own_comments` first gives
a removed entry's comment lines to the right owner (ruamel keeps a comment with the entry above
it).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator


def _is_trivia(line: str) -> bool:
    stripped = line.strip()
    return not stripped or stripped.startswith("#")


def own_comments(before: str, after: str) -> str:
    """`after`, with the comments of removed entries fixed.

    ruamel keeps a comment with the entry above it: removing an entry drops the comments and
    blank lines that follow it (they introduce what comes next: put back) and keeps the
    full-line comments directly above it (they were its own: dropped).
    """
    old, new = before.splitlines(keepends=True), after.splitlines(keepends=True)
    out: list[str] = []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            out += old[i1:i2]
            continue
        out += new[j1:j2]
        if tag != "delete" or all(_is_trivia(line) for line in old[i1:i2]):
            continue
        own = len(out) - (j2 - j1)
        while own and out[own - 1].strip().startswith("#"):
            own -= 1  # the removed entry's own comment lines, directly above it
        del out[own : len(out) - (j2 - j1)]
        last = max(i for i in range(i1, i2) if not _is_trivia(old[i]))
        out += old[last + 1 : i2]  # the comments and blank lines that introduce what follows
    return "".join(out)


def merge(original: str, before: str, after: str) -> str:
    """The original text with the changes from `before` to `after` (two dumps of one document,
    before and after the edits): lines equal in all three anchor the merge, and between two
    anchors the original's lines stay unless the edit changed that stretch."""
    # A last line without its newline gets one: lines are compared whole, with their ends.
    ours = (original if original.endswith("\n") else original + "\n").splitlines(keepends=True)
    base = before.splitlines(keepends=True)
    theirs = after.splitlines(keepends=True)
    to_ours = dict(_matches(base, ours))
    to_theirs = dict(_matches(base, theirs))
    anchors = [
        (b, to_ours[b], to_theirs[b]) for b in range(len(base)) if b in to_ours and b in to_theirs
    ]
    out: list[str] = []
    previous = (-1, -1, -1)
    for anchor in [*anchors, (len(base), len(ours), len(theirs))]:
        b0, o0, t0 = (index + 1 for index in previous)
        b1, o1, t1 = anchor
        out += _stretch(base[b0:b1], ours[o0:o1], theirs[t0:t1])
        if b1 < len(base):
            out.append(ours[o1])
        previous = anchor
    return "".join(out)


def _stretch(base: list[str], ours: list[str], theirs: list[str]) -> list[str]:
    """One stretch between anchors: the original's lines where the edit left it alone; where
    the original differs from the dump only line for line (spacing ruamel normalises), the
    original's lines the edit did not change and the edit's lines; else the edit's lines."""
    if base == theirs:
        return ours
    if len(base) != len(ours):
        return theirs
    out: list[str] = []
    matcher = difflib.SequenceMatcher(None, base, theirs, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        out += ours[i1:i2] if tag == "equal" else theirs[j1:j2]
    return out


def _matches(first: list[str], second: list[str]) -> Iterator[tuple[int, int]]:
    matcher = difflib.SequenceMatcher(None, first, second, autojunk=False)
    for block in matcher.get_matching_blocks():
        for offset in range(block.size):
            yield block.a + offset, block.b + offset
