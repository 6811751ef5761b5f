"""Pure: the report of `reconciler migrate` as text, markdown (a pull-request comment) or JSON.

Deterministic: objects in key order, fields in the order of the mapping table, no clock.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from reconciler.migration_model import Fate, FileStatus, Migrated, Migration, Output
from reconciler.migration_row import INFERRED, link_definitions, markdown_cell, source_link
from reconciler.model import JsonValue, Key

FORMAT_VERSION = 1


def _file(key: Key) -> str:
    return f"offers/{key}.yaml"


def _status(statuses: Mapping[Key, FileStatus], output: Output) -> FileStatus:
    return statuses.get(output.key, FileStatus.CREATE)


def _counts(migration: Migration, statuses: Mapping[Key, FileStatus]) -> dict[str, int]:
    counts = {status.value: 0 for status in FileStatus}
    for output in migration.outputs:
        counts[_status(statuses, output).value] += 1
    return counts


def _source(source: str) -> str:
    return "inferred" if source == INFERRED else source


def _pulled(item: Migrated) -> str:
    return f", pulled in by {', '.join(item.pulled_in_by)}" if item.pulled_in_by else ""


def _heading(migration: Migration) -> str:
    objects = len(migration.objects)
    outputs = len(migration.outputs)
    scope = (
        "the whole estate"
        if migration.selected is None
        else f"{', '.join(migration.selected)} and what "
        f"{'it needs' if len(migration.selected) == 1 else 'they need'}"
    )
    return (
        f"Migration to Decisioning of {scope}: {objects} legacy object{'s' if objects != 1 else ''} "
        f"-> {outputs} definition{'s' if outputs != 1 else ''} under offers/{migration.prefix}/ "
        f"(custom attributes under {migration.tenant})"
    )


def _summary(
    migration: Migration, statuses: Mapping[Key, FileStatus], stale: Sequence[str]
) -> list[str]:
    counts = _counts(migration, statuses)
    lines = [
        f"Files: {counts['create']} to create, {counts['unchanged']} unchanged, "
        f"{counts['overwrite']} to overwrite, {counts['conflict']} that differ "
        "(refused without --force)."
    ]
    dropped = sum(len(item.not_migrated) for item in migration.objects)
    holding = sum(1 for item in migration.objects if item.not_migrated)
    lines.append(
        f"Not migrated: {dropped} field{'s' if dropped != 1 else ''} of {holding} "
        f"object{'s' if holding != 1 else ''}, each listed with the reason."
    )
    pulled = [item.key for item in migration.objects if item.pulled_in_by]
    if pulled:
        lines.append(f"Pulled in: {', '.join(pulled)}.")
    if stale:
        lines.append(
            f"Migrated by an earlier run from legacy objects that are gone, still under "
            f"offers/{migration.prefix}/: {', '.join(stale)} (delete them unless they are to stay)."
        )
    if migration.selected is None and not migration.objects:
        lines.append(
            "Nothing is left to migrate: no legacy definition remains, and the Decisioning "
            "definitions stand alone."
        )
    return lines


# --- text ---------------------------------------------------------------------------------------


def migration_text(
    migration: Migration, statuses: Mapping[Key, FileStatus], stale: Sequence[str] = ()
) -> str:
    """The report for a terminal: each legacy object, what it becomes, what is not migrated."""
    lines = [_heading(migration), ""]
    reasons: dict[tuple[str, str], int] = {}  # each reason once, numbered as first given
    for item in migration.objects:
        lines.append(f"{item.key} ({item.kind.value}, {item.file}{_pulled(item)})")
        for output in item.outputs:
            status = _status(statuses, output)
            name = json.dumps(output.name, ensure_ascii=False)
            lines.append(
                f"  {status.glyph} {output.key}  {output.kind.value} {name}  {status.value}"
            )
        if not item.outputs:
            lines.append("  (no definition of its own)")
        if item.not_migrated:
            fields = []
            for fate in item.not_migrated:
                number = reasons.setdefault((fate.reason, fate.source), len(reasons) + 1)
                fields.append(f"{fate.path} [{number}]")
            lines.append(f"  not migrated: {', '.join(fields)}")
        for note in item.notes:
            lines.append(f"  note: {note}")
        lines.append("")
    if reasons:
        lines.append("Why not migrated:")
        lines += [
            f"  [{number}] {reason} ({_source(source)})"
            for (reason, source), number in reasons.items()
        ]
        lines.append("")
    lines += _summary(migration, statuses, stale)
    return "\n".join(lines) + "\n"


# --- markdown -----------------------------------------------------------------------------------


MARKDOWN_LIMIT = 60_000
"""Under GitHub's 65,536 characters per comment, with room for a wrapper."""
_FULL = "`reconciler migrate --to decisioning --dry-run --format json` lists everything"


def migration_markdown(
    migration: Migration, statuses: Mapping[Key, FileStatus], stale: Sequence[str] = ()
) -> str:
    """The report as a pull-request comment: the summary, a table of objects, the details
    (rows are left out, and said so, past MARKDOWN_LIMIT characters)."""
    head = [
        "### reconciler migrate --to decisioning",
        "",
        f"**{_heading(migration)}.**",
        "",
        *(f"- {line}" for line in _summary(migration, statuses, stale)),
        "",
        "| Legacy object | Kind | Becomes | Status |",
        "|---|---|---|---|",
    ]
    objects = []
    for item in migration.objects:
        becomes = (
            "<br>".join(f"`{output.key}` ({output.kind.value})" for output in item.outputs)
            or "no definition of its own"
        )
        status = "<br>".join(_status(statuses, output).value for output in item.outputs) or "—"
        pulled = f" (pulled in by {', '.join(f'`{key}`' for key in item.pulled_in_by)})"
        objects.append(
            f"| `{item.key}`{pulled if item.pulled_in_by else ''} | {item.kind.value} | "
            f"{becomes} | {status} |"
        )
    dropped = [(item, fate) for item in migration.objects for fate in item.not_migrated]
    rows = [
        f"| `{item.key}` | `{fate.path}` | {markdown_cell(fate.reason)} | "
        f"{source_link(fate.source)} |"
        for item, fate in dropped
    ]
    notes = [
        f"- `{item.key}`: {markdown_cell(note)}"
        for item in migration.objects
        for note in item.notes
    ]
    links = link_definitions(fate.source for _, fate in dropped)

    def document(objects: list[str], rows: list[str], notes: list[str]) -> str:
        lines = [*head, *objects]
        if dropped:
            lines += [
                "",
                f"<details><summary>Not migrated: {len(dropped)} fields</summary>",
                "",
                "| Legacy object | Field | Why | Source |",
                "|---|---|---|---|",
                *rows,
                "",
                *links,
                "",
                "</details>",
            ]
        if notes:
            lines += ["", f"<details><summary>Notes: {len(notes)}</summary>", "", *notes]
            lines += ["", "</details>"]
        return "\n".join(lines) + "\n"

    for part in (notes, rows, objects):  # the least needed first
        full, keep = list(part), len(part)
        while keep > 0 and len(document(objects, rows, notes)) > MARKDOWN_LIMIT:
            keep //= 2
            part[:] = [*full[:keep], f"\n{len(full) - keep} more left out of this comment: {_FULL}"]
    return document(objects, rows, notes)


# --- JSON ---------------------------------------------------------------------------------------


def _fate_json(fate: Fate) -> dict[str, JsonValue]:
    out: dict[str, JsonValue] = {"field": fate.path}
    if fate.target_kind is not None:
        out["to"] = fate.target_kind.value
        out["path"] = fate.target_path
        out["how"] = fate.reason
    else:
        out["reason"] = fate.reason
    out["source"] = fate.source
    return out


def object_json(item: Migrated, statuses: Mapping[Key, FileStatus]) -> dict[str, JsonValue]:
    """One legacy object as the JSON report holds it."""
    return {
        "key": item.key,
        "kind": item.kind.value,
        "file": item.file,
        "pulled_in_by": list(item.pulled_in_by),
        "targets": [
            {
                "key": output.key,
                "kind": output.kind.value,
                "name": output.name,
                "file": _file(output.key),
                "status": _status(statuses, output).value,
            }
            for output in item.outputs
        ],
        "migrated": [_fate_json(fate) for fate in item.migrated],
        "not_migrated": [_fate_json(fate) for fate in item.not_migrated],
        "notes": list(item.notes),
    }


def migration_json(
    migration: Migration, statuses: Mapping[Key, FileStatus], stale: Sequence[str] = ()
) -> str:
    """The versioned report for machines: sorted keys, 2-space indent, trailing newline."""
    counts = _counts(migration, statuses)
    document: dict[str, JsonValue] = {
        "format_version": FORMAT_VERSION,
        "to": "decisioning",
        "out": f"offers/{migration.prefix}",
        "tenant": migration.tenant,
        "selected": None if migration.selected is None else list(migration.selected),
        "objects": [object_json(item, statuses) for item in migration.objects],
        "stale": list(stale),
        "summary": {
            "objects": len(migration.objects),
            "pulled_in": sum(1 for item in migration.objects if item.pulled_in_by),
            "definitions": len(migration.outputs),
            **counts,
            "not_migrated": sum(len(item.not_migrated) for item in migration.objects),
        },
    }
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
