"""Pure: the mapping table, every row in order, and what it says of one legacy object's fields
(`ROWS`, `row_for`, `fates`); `mapping_markdown` is the README's copy of it."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from reconciler import (
    migration_collections,
    migration_components,
    migration_items,
    migration_strategies,
)
from reconciler.migration_model import LEGACY, TENANT_PLACEHOLDER, Fate
from reconciler.migration_row import INFERRED, Row, link_definitions, markdown_cell, source_link
from reconciler.model import Desired, JsonValue, Kind

ROWS: tuple[Row, ...] = (
    *migration_items.TAG_ROWS,
    *migration_components.ROWS,
    *migration_items.OFFER_ROWS,
    *migration_collections.ROWS,
    *migration_strategies.ROWS,
)
"""Every field a legacy file may hold, and what it becomes (tests/test_migrate.py proves the
table covers every field the legacy YAML models allow)."""

_BY_KIND: Mapping[Kind, tuple[Row, ...]] = {
    kind: tuple(row for row in ROWS if row.kind is kind) for kind in LEGACY
}


def covers(row: Row, path: str) -> bool:
    """Whether a row accounts for a field path (its own path, or one under it)."""
    base = row.legacy_path
    return path == base or path.startswith((base + ".", base + "["))


def row_for(kind: Kind, path: str) -> Row | None:
    """The most specific row of a kind that covers a field path."""
    found = [row for row in _BY_KIND.get(kind, ()) if covers(row, path)]
    return max(found, key=lambda row: len(row.legacy_path), default=None)


def field_paths(body: Mapping[str, JsonValue]) -> Iterator[str]:
    """The paths of the leaves of a body (`criteria[].rank.priority`); an empty list or mapping
    and a reference are leaves."""

    def walk(value: JsonValue, here: str) -> Iterator[str]:
        if isinstance(value, dict) and value:
            for name, item in value.items():
                yield from walk(item, f"{here}.{name}" if here else name)
        elif isinstance(value, list) and value:
            for item in value:
                yield from walk(item, here + "[]")
        else:
            yield here

    for name, value in body.items():
        yield from walk(value, name)


def fates(item: Desired, tenant: str) -> tuple[tuple[Fate, ...], tuple[Fate, ...]]:
    """What became of each field the object holds: one entry per row, in table order; a field
    no row covers is reported as not migrated."""
    hit: dict[str, Row] = {}
    unknown: list[str] = []
    for path in field_paths(item.body):
        row = row_for(item.kind, path)
        if row is None:
            if path not in unknown:
                unknown.append(path)
        else:
            hit.setdefault(row.legacy_path, row)
    ordered = [row for row in _BY_KIND[item.kind] if row.legacy_path in hit]
    migrated = tuple(
        Fate(
            row.legacy_path,
            row.target_kind,
            row.target_path.replace(TENANT_PLACEHOLDER, tenant) if row.target_path else None,
            row.reason,
            row.source,
        )
        for row in ordered
        if row.target_kind is not None
    )
    dropped = [
        Fate(row.legacy_path, None, None, row.reason, row.source)
        for row in ordered
        if row.target_kind is None
    ]
    dropped += [
        Fate(
            path,
            None,
            None,
            "no row of the mapping table covers this field, so it is not migrated: please "
            "report it",
            INFERRED,
        )
        for path in unknown
    ]
    return migrated, tuple(dropped)


def mapping_markdown() -> str:
    """The mapping table as markdown (the README's copy is this text, exactly)."""
    lines = [
        "| Legacy kind | Legacy field | Decisioning kind | Decisioning field | How, or why not | Source |",
        "|---|---|---|---|---|---|",
    ]
    for row in ROWS:
        target_kind = row.target_kind.value if row.target_kind else "—"
        target = f"`{row.target_path}`" if row.target_path else "**not migrated**"
        lines.append(
            f"| {row.kind.value} | `{row.legacy_path}` | {target_kind} | {target} | "
            f"{markdown_cell(row.reason)} | {source_link(row.source)} |"
        )
    lines += ["", *link_definitions(row.source for row in ROWS)]
    return "\n".join(lines) + "\n"
