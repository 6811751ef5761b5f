"""Pure: what `reconciler pull` brought into git, as text, as markdown (the body of the drift
pull request: who changed what and when, what merging it changes in other sandboxes, and what
pull could not write) or as JSON, and the unified diff of its files (what they say comes from
reconciler.pull_outcome: fields one by one, the sandboxes reached, the digest).

Live text (who, names, values) is made inert in markdown: values sit in fenced blocks, other text
in code spans unless it is plain (an email address, a timestamp), so no tag, link or @mention of
the UI's renders.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import re
from collections.abc import Callable, Sequence
from typing import assert_never

from reconciler.model import JsonValue, Key, Op
from reconciler.pull_outcome import Outcome, digest, has_left, leaves, outcome_of
from reconciler.pulling import Conflict, Deletion, DriftedOrphan, FieldPull, ObjectPull, Pulled
from reconciler.render import Styled, code_span, html_escaped, marker, table_cell

FORMAT_VERSION = 1
BODY_LIMIT = 65_536
"""The most characters GitHub takes in a pull request's body."""
LEFT = "<!-- reconciler:pull-left -->"
"""In a body whose drift pull could not all write: the drift workflow reports it in the drift
issue when no pull request carries it."""
DIGEST = re.compile(r"<!-- reconciler:pull-digest:([0-9a-f]{64}) -->")
"""The hidden digest of the changes a body proposes: the drift workflow does not propose again
the changes of a pull request closed without merging."""


# --- fields ---------------------------------------------------------------------------------


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


def digest_comment(hexdigest: str) -> str:
    return f"<!-- reconciler:pull-digest:{hexdigest} -->"


def _groups(outcome: Outcome, key: Key) -> list[tuple[tuple[str, ...], list[str]]]:
    """An object's shared fields, grouped by the sandboxes they land in."""
    groups: dict[tuple[str, ...], list[str]] = {}
    for item in outcome.shared:
        if item.key == key:
            groups.setdefault(item.sandboxes, []).append(item.path)
    return list(groups.items())


# --- text -----------------------------------------------------------------------------------


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _headline(item: ObjectPull) -> str:
    return (
        f'~ {item.kind.value} {item.key} "{item.name}" ({item.path}) changed outside git '
        f"by {item.by} at {item.at}"
    )


def _deleted_line(item: Deletion, done: Pulled) -> str:
    head = f'- {item.kind.value} {item.key} "{item.name}" deleted outside git ({item.id})'
    return f"{head}: {_fate(item, done, lambda text: f'`{text}`', lambda text: text)}"


def _fate(
    item: Deletion, done: Pulled, command: Callable[[str], str], name: Callable[[str], str]
) -> str:
    """What pull did with an object deleted outside git; `command` and `name` set a command and
    a key or path apart (in text: a command in backticks; in markdown: both as code spans)."""
    if item.protected:
        return (
            "kept, protected (a plan refuses to re-create it: restore it in Adobe, or lift the "
            f"protection or {command('reconciler state rm')} it to let it go)"
        )
    if item.referenced_by:
        return (
            f"kept, still referenced by {', '.join(name(key) for key in item.referenced_by)} "
            "(remove the references, then pull again)"
        )
    if item.key in done.forgotten:
        verb = "would delete" if done.dry_run else "deleted"
        where = f"{name(item.path)} and its state entry" if item.path else "its state entry"
        return f"{verb} {where}"
    if item.path is None:
        return f"no file in git ({command('--deletions')} forgets its state entry)"
    return f"{name(item.path)} kept ({command('--deletions')} deletes it)"


def _orphan_line(item: DriftedOrphan, command: Callable[[str], str]) -> str:
    """An orphan that changed, after its glyph; `command` sets a command apart (see `_fate`)."""
    return (
        f'{item.kind.value} {item.key} "{item.name}" changed outside git by {item.by} at '
        f"{item.at}, not pulled: no file in git defines it (restore offers/{item.key}.yaml and "
        f"pull again, or stop managing it with {command(f'reconciler state rm {item.key}')})"
    )


def _state_name(done: Pulled) -> str:
    return f"state/{done.pull.sandbox}.json"


def pull_text(report: Pulled | Outcome) -> list[Styled]:
    """The summary: each object pulled with its fields, who changed it and when, and where else
    merging it lands; deletions, conflicts and files not written; what was written."""
    outcome = outcome_of(report)
    done = outcome.done
    pull = done.pull
    if not outcome.has_drift:
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
    head = f"{verb} {_plural(len(edits), 'object')} from sandbox {pull.sandbox!r} into offers/:"
    if not edits and not done.forgotten:  # drift all the same: each item below says why it stays
        head = f"Nothing pulled from sandbox {pull.sandbox!r} into offers/:"
    lines = [Styled(head, None, True)]
    for item in edits:
        lines += [Styled(""), Styled(f"  {_headline(item)}", "yellow", True)]
        lines += [Styled(f"      {field_line(field)}") for field in leaves(item.fields)]
        for sandboxes, paths in _groups(outcome, item.key):
            lines.append(
                Styled(
                    f"      merging also changes {', '.join(paths)} in "
                    f"{_sandboxes(sandboxes)} (no override there)",
                    "yellow",
                )
            )
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
    for refused in outcome.refused:
        lines += [
            Styled(""),
            Styled(
                f"  ! {refused.key} ({refused.path}) not written, nor recorded: {refused.reason}",
                "red",
                True,
            ),
        ]
    for orphan in pull.orphans:
        line = _orphan_line(orphan, lambda text: f"`{text}`")
        lines += [Styled(""), Styled(f"  ~ {line}", "red", True)]
        lines += [Styled(f"      {field_line(field)}") for field in leaves(orphan.fields)]
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


def _sandboxes(names: Sequence[str]) -> str:
    return f"sandbox{'es' if len(names) > 1 else ''} {', '.join(names)}"


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


def unified_diff(done: Pulled | Outcome) -> str:
    """The files' changes as `git apply` reads them (a deleted file against /dev/null)."""
    out: list[str] = []
    for change in outcome_of(done).done.files:
        after = change.after
        out += difflib.unified_diff(
            change.before.splitlines(keepends=True),
            after.splitlines(keepends=True) if after is not None else [],
            f"a/{change.path}",
            f"b/{change.path}" if after is not None else "/dev/null",
        )
    return "".join(line if line.endswith("\n") else line + "\n" for line in out)


# --- markdown -------------------------------------------------------------------------------

_PLAIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+:-]*(?:@[A-Za-z0-9.-]+)?")
"""Live text that means nothing to markdown, HTML or GitHub: an email address, a timestamp."""


def _inert(text: str) -> str:
    """Live text in a table cell or a line: as it is when plain, else a code span."""
    return text if _PLAIN.fullmatch(text) else table_cell(code_span(text))


def pull_markdown(report: Pulled | Outcome, *, limit: int = BODY_LIMIT) -> str:
    """The body of the drift pull request: who changed what and when, where else merging it
    lands, what pull could not write, and what merging it or closing it does."""
    outcome = outcome_of(report)
    done = outcome.done
    pull = done.pull
    head = [marker("pull", pull.sandbox), f"### reconciler pull: sandbox `{pull.sandbox}`", ""]
    if not outcome.has_drift:
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
            fields = ", ".join(code_span(field.path) for field in leaves(item.fields))
            head.append(
                f"| {code_span(item.key)} | {item.kind.value} | {table_cell(fields)} | "
                f"{_inert(item.by)} | {_inert(item.at)} |"
            )
    if outcome.shared:
        head += [
            "",
            ":warning: **Merging also changes other sandboxes.** These fields are pulled into "
            "the body written for every sandbox, so each sandbox whose `overrides:` does not set "
            "them gets the new values at its next apply:",
            "",
            "| Object | Fields | Also changes |",
            "|---|---|---|",
        ]
        for item in edits:
            for sandboxes, paths in _groups(outcome, item.key):
                head.append(
                    f"| {code_span(item.key)} | {table_cell(', '.join(map(code_span, paths)))} | "
                    f"{', '.join(map(code_span, sandboxes))} |"
                )
    tail = _left_markdown(outcome)
    sections = [
        "\n".join(
            [
                f"<details><summary><code>{html_escaped(item.key)}</code> "
                f"({html_escaped(item.path)}): {_plural(len(leaves(item.fields)), 'field')}"
                "</summary>",
                "",
                *_fenced("diff", [field_line(field) for field in leaves(item.fields)]),
                "",
                "</details>",
            ]
        )
        for item in edits
    ]
    hidden = [LEFT] if has_left(outcome) else []
    hexdigest = digest(done)
    if hexdigest is not None:
        hidden.append(digest_comment(hexdigest))
    return _fit("\n".join(head), sections, tail, "\n".join(hidden), limit, pull.sandbox)


def _left_markdown(outcome: Outcome) -> str:
    """What pull could not write: deletions, conflicts, files it could not edit."""
    done = outcome.done
    pull = done.pull
    tail: list[str] = []
    if pull.deleted:
        tail += ["**Deleted outside git:**", ""]
        for item in pull.deleted:
            tail.append(
                f"- {item.kind.value} {code_span(item.key)} {_inert(item.name)} deleted outside "
                f"git ({code_span(item.id)}): {table_cell(_fate(item, done, code_span, code_span))}"
            )
        tail.append("")
    if pull.conflicts:
        tail += [
            "**Not pulled: changed in git too** (git's values stay; the next apply reverts "
            "these edits unless git takes them):",
            "",
        ]
        for pulled in pull.conflicts:
            lines = [conflict_line(conflict) for conflict in pulled.conflicts]
            tail += [f"- {code_span(pulled.key)} by {_inert(pulled.by)} at {_inert(pulled.at)}", ""]
            tail += [*_fenced("diff", lines), ""]
    if outcome.refused:
        tail += [
            "**Not written: the file cannot be edited in place** (edit it by hand to keep these "
            "edits; the next apply reverts them otherwise):",
            "",
        ]
        tail += [
            f"- {code_span(item.key)} ({code_span(item.path)}): {code_span(item.reason)}"
            for item in outcome.refused
        ]
        tail.append("")
    if pull.orphans:
        tail += [
            "**Not pulled: no file in git defines these objects** (orphans; the drift stays):",
            "",
        ]
        for orphan in pull.orphans:
            tail += [
                f"- {code_span(orphan.key)} by {_inert(orphan.by)} at {_inert(orphan.at)}: "
                f"restore {code_span(f'offers/{orphan.key}.yaml')} and pull again, or "
                f"{code_span(f'reconciler state rm {orphan.key}')}",
                "",
            ]
            tail += [*_fenced("diff", [field_line(f) for f in leaves(orphan.fields)]), ""]
    return "\n".join(tail).strip()


# --- json -----------------------------------------------------------------------------------


def pull_json(report: Pulled | Outcome) -> str:
    outcome = outcome_of(report)
    done = outcome.done
    pull = done.pull
    document = {
        "format_version": FORMAT_VERSION,
        "sandbox": pull.sandbox,
        "checked": pull.checked,
        "drift": outcome.has_drift,
        "dry_run": done.dry_run,
        "digest": digest(done),
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
                    for f in leaves(item.fields)
                ],
                "conflicts": [
                    {"path": c.path, "git": c.git, "applied": c.applied, "live": c.live}
                    for c in item.conflicts
                ],
                "shared": {s.path: list(s.sandboxes) for s in outcome.shared if s.key == item.key},
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
        "refused": [dataclasses.asdict(item) for item in outcome.refused],
        "orphans": [
            {
                "key": item.key,
                "kind": item.kind.value,
                "id": item.id,
                "name": item.name,
                "by": item.by,
                "at": item.at,
                "fields": [
                    {"op": f.op.value, "path": f.path, "git": f.git, "live": f.live}
                    for f in leaves(item.fields)
                ],
            }
            for item in pull.orphans
        ],
        "files": [{"path": change.path, "deleted": change.after is None} for change in done.files],
    }
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


# --- markdown helpers -----------------------------------------------------------------------


def _fit(
    head: str, sections: Sequence[str], tail: str, hidden: str, limit: int, sandbox: str
) -> str:
    """head, as many sections as fit under limit (a note says how many are left out), tail, and
    the hidden comments last, always."""
    room = limit - len(hidden) - 2 if hidden else limit
    for count in range(len(sections), -1, -1):
        left_out = len(sections) - count
        note = (
            f"*Details of {_plural(left_out, 'more object')} are not shown: a pull request body "
            f"holds at most {limit:,} characters. `reconciler pull --sandbox {sandbox} --dry-run` "
            "shows them all.*"
            if left_out
            else ""
        )
        text = "\n\n".join(part for part in (head, *sections[:count], tail, note) if part) + "\n"
        if len(text) <= room:
            return text + (f"\n{hidden}\n" if hidden else "")
    return text[: room - 1] + "\n" + (f"\n{hidden}\n" if hidden else "")


def _fenced(language: str, lines: Sequence[str]) -> list[str]:
    """A fenced code block whose fence no line of the content can close."""
    longest = max((len(run) for line in lines for run in re.findall(r"`{3,}", line)), default=2)
    fence = "`" * (longest + 1)
    return [f"{fence}{language}", *lines, fence]
