"""Pure: what `reconciler pull` brought into git, as text, as markdown (the body of the drift
pull request: who changed what and when) or as JSON, and the unified diff of its files."""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Sequence
from typing import assert_never

from reconciler.model import JsonValue, Op
from reconciler.pulling import Conflict, Deletion, FieldPull, ObjectPull, Pulled
from reconciler.render import Styled, html_escaped, marker, table_cell

FORMAT_VERSION = 1
BODY_LIMIT = 65_536
"""The most characters GitHub takes in a pull request's body."""


def value(item: JsonValue) -> str:
    """A value as the file means it; a reference reads `{"ref": "tags/summer"}`."""
    return json.dumps(item, ensure_ascii=False, sort_keys=True)


def field_line(field: FieldPull) -> str:
    match field.op:
        case Op.ADD:
            return f"+ {field.path}: {value(field.live)}"
        case Op.REPLACE:
            return f"~ {field.path}: {value(field.git)} -> {value(field.live)}"
        case Op.REMOVE:
            return f"- {field.path}: {value(field.git)}"
        case Op.TEST:
            raise ValueError("a pull has no test operations")
        case _:
            assert_never(field.op)


def conflict_line(conflict: Conflict) -> str:
    return (
        f"! {conflict.path}: git {value(conflict.git)}, outside git {value(conflict.live)} "
        f"(last applied {value(conflict.applied)})"
    )


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _headline(item: ObjectPull) -> str:
    return (
        f'~ {item.kind.value} {item.key} "{item.name}" ({item.path}) changed outside git '
        f"by {item.by} at {item.at}"
    )


def _deleted_line(item: Deletion, done: Pulled) -> str:
    head = f'- {item.kind.value} {item.key} "{item.name}" deleted outside git ({item.id})'
    if item.protected:
        return (
            f"{head}: kept, protected (a plan refuses to re-create it: restore it in Adobe, or "
            "lift the protection or `reconciler state rm` it to let it go)"
        )
    if item.referenced_by:
        return (
            f"{head}: kept, still referenced by {', '.join(item.referenced_by)} (remove the "
            "references, then pull again)"
        )
    if item.key in done.forgotten:
        verb = "would delete" if done.dry_run else "deleted"
        where = f"{item.path} and its state entry" if item.path else "its state entry"
        return f"{head}: {verb} {where}"
    if item.path is None:
        return f"{head}: no file in git (`--deletions` forgets its state entry)"
    return f"{head}: {item.path} kept (`--deletions` deletes it)"


def _state_name(done: Pulled) -> str:
    return f"state/{done.pull.sandbox}.json"


def pull_text(done: Pulled) -> list[Styled]:
    """The summary: each object pulled with its fields, who changed it and when; deletions and
    conflicts; what was written."""
    pull = done.pull
    if not pull.has_drift:
        lines = [
            Styled(
                f"Nothing to pull: the {pull.checked} managed objects in sandbox "
                f"{pull.sandbox!r} are as git last applied them.",
                "green",
                True,
            )
        ]
        return lines + _unapplied(done)
    edits = pull.edits
    verb = "Would pull" if done.dry_run else "Pulled"
    lines = [
        Styled(
            f"{verb} {_plural(len(edits), 'object')} from sandbox {pull.sandbox!r} into offers/:",
            None,
            True,
        )
    ]
    for item in edits:
        lines += [Styled(""), Styled(f"  {_headline(item)}", "yellow", True)]
        lines += [Styled(f"      {field_line(field)}") for field in item.fields]
    for deleted in pull.deleted:
        lines += [Styled(""), Styled(f"  {_deleted_line(deleted, done)}", "red", True)]
    for item in pull.conflicts:
        lines += [
            Styled(""),
            Styled(
                f'  ! {item.kind.value} {item.key} "{item.name}" changed in git and outside '
                f"git (by {item.by} at {item.at}): git's values kept, the next apply reverts "
                "the edits outside git",
                "red",
                True,
            ),
        ]
        lines += [Styled(f"      {conflict_line(conflict)}") for conflict in item.conflicts]
    lines.append(Styled(""))
    if done.dry_run:
        lines.append(Styled("Dry run: nothing written.", None, True))
    elif edits or done.forgotten:
        recorded = len(edits) + len(done.forgotten)
        lines.append(
            Styled(
                f"Recorded {_plural(recorded, 'object')} in {_state_name(done)}. Review the "
                "files with `git diff`, then commit offers/.",
                None,
                True,
            )
        )
    return lines + _unapplied(done)


def _unapplied(done: Pulled) -> list[Styled]:
    count = done.pull.unapplied
    if not count:
        return []
    return [
        Styled(
            f"{_plural(count, 'managed object')} not checked: state has no last-applied body "
            "for them yet (imported after state was lost); `reconciler apply` records it.",
            "yellow",
        )
    ]


def unified_diff(done: Pulled) -> str:
    """The files' changes as `git apply` reads them (a deleted file against /dev/null)."""
    out: list[str] = []
    for change in done.files:
        after = change.after
        out += difflib.unified_diff(
            change.before.splitlines(keepends=True),
            after.splitlines(keepends=True) if after is not None else [],
            f"a/{change.path}",
            f"b/{change.path}" if after is not None else "/dev/null",
        )
    return "".join(line if line.endswith("\n") else line + "\n" for line in out)


def pull_markdown(done: Pulled, *, limit: int = BODY_LIMIT) -> str:
    """The body of the drift pull request: who changed what and when, and what merging it or
    closing it does."""
    pull = done.pull
    head = [marker("pull", pull.sandbox), f"### reconciler pull: sandbox `{pull.sandbox}`", ""]
    if not pull.has_drift:
        head.append(
            f"**Nothing to pull.** The {pull.checked} managed objects match what git last applied."
        )
        return "\n".join(head) + "\n"
    edits = pull.edits
    taken = []
    if edits:
        taken.append(
            f"Edits made outside git to {_plural(len(edits), 'object')}, written into `offers/`"
        )
    if done.forgotten:
        taken.append(f"{_plural(len(done.forgotten), 'object')} deleted outside git, files deleted")
    if taken:
        head.append(
            f"**{'; '.join(taken)}.** Merge this pull request to accept them; close it to reject "
            "them (the next apply then reverts them, as the plan of any pull request shows)."
        )
    else:
        head.append(
            "**Nothing written:** the drift below is left for a person to settle (or for the "
            "next apply to revert)."
        )
    if edits:
        head += ["", "| Object | Kind | Fields | Who | When |", "|---|---|---|---|---|"]
        for item in edits:
            fields = ", ".join(f"`{field.path}`" for field in item.fields)
            head.append(
                f"| `{item.key}` | {item.kind.value} | {table_cell(fields)} | {table_cell(item.by)} | "
                f"{table_cell(item.at)} |"
            )
    tail: list[str] = []
    if pull.deleted:
        tail += ["**Deleted outside git:**", ""]
        tail += [f"- {table_cell(_deleted_line(item, done)[2:])}" for item in pull.deleted]
        tail.append("")
    if pull.conflicts:
        tail += [
            "**Not pulled: changed in git too** (git's values stay; the next apply reverts "
            "these edits unless git takes them):",
            "",
        ]
        for item in pull.conflicts:
            lines = [conflict_line(conflict) for conflict in item.conflicts]
            tail += [f"- `{item.key}` by {table_cell(item.by)} at {table_cell(item.at)}", ""]
            tail += [*_fenced("diff", lines), ""]
    sections = [
        "\n".join(
            [
                f"<details><summary><code>{html_escaped(item.key)}</code> ({html_escaped(item.path)}): "
                f"{_plural(len(item.fields), 'field')}</summary>",
                "",
                *_fenced("diff", [field_line(field) for field in item.fields]),
                "",
                "</details>",
            ]
        )
        for item in edits
    ]
    return _fit("\n".join(head), sections, "\n".join(tail).strip(), limit, pull.sandbox)


def pull_json(done: Pulled) -> str:
    pull = done.pull
    document = {
        "format_version": FORMAT_VERSION,
        "sandbox": pull.sandbox,
        "checked": pull.checked,
        "drift": pull.has_drift,
        "dry_run": done.dry_run,
        "objects": [
            {
                "key": item.key,
                "kind": item.kind.value,
                "name": item.name,
                "path": item.path,
                "by": item.by,
                "at": item.at,
                "fields": [
                    {"op": f.op.value, "path": f.path, "git": f.git, "live": f.live}
                    for f in item.fields
                ],
                "conflicts": [
                    {"path": c.path, "git": c.git, "applied": c.applied, "live": c.live}
                    for c in item.conflicts
                ],
            }
            for item in pull.objects
        ],
        "deleted": [
            {
                "key": item.key,
                "kind": item.kind.value,
                "id": item.id,
                "name": item.name,
                "path": item.path,
                "referenced_by": list(item.referenced_by),
                "forgotten": item.key in done.forgotten,
            }
            for item in pull.deleted
        ],
        "files": [{"path": change.path, "deleted": change.after is None} for change in done.files],
    }
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


# --- markdown helpers -----------------------------------------------------------------------


def _fit(head: str, sections: Sequence[str], tail: str, limit: int, sandbox: str) -> str:
    """head, as many sections as fit under limit (a note says how many are left out), tail."""
    for count in range(len(sections), -1, -1):
        hidden = len(sections) - count
        note = (
            f"*Details of {_plural(hidden, 'more object')} are not shown: a pull request body "
            f"holds at most {limit:,} characters. `reconciler pull --sandbox {sandbox} --dry-run` "
            "shows them all.*"
            if hidden
            else ""
        )
        text = "\n\n".join(part for part in (head, *sections[:count], tail, note) if part) + "\n"
        if len(text) <= limit:
            return text
    return text[: limit - 1] + "\n"


def _fenced(language: str, lines: Sequence[str]) -> list[str]:
    """A fenced code block whose fence no line of the content can close."""
    longest = max((len(run) for line in lines for run in re.findall(r"`{3,}", line)), default=2)
    fence = "`" * (longest + 1)
    return [f"{fence}{language}", *lines, fence]
