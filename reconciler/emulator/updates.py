"""How an existing object is changed: the methods each kind takes, and what a write keeps.

Every kind takes RFC 6902 JSON Patch, except exd placements, which take only the PUT Adobe
documents for them (405 otherwise). Eligibility rules and ranking formulas are also replaced
whole by PUT, or by a PATCH whose body is a JSON object: their update pages say PUT with a full
body while their curl sends PATCH with it. An exd placement's PUT merges: the body's top-level
fields replace the stored ones, fields it leaves out are kept (Adobe's example sends only id,
description and status), a field given as JSON null is removed (inferred). A PUT or replacing
body may hold the envelope fields a read returns (ignored, as on create), but an `id` other
than the path's is refused 400. No write changes a rule's kind (`exdRule`, 422).
"""

from __future__ import annotations

from reconciler.emulator import derived, quirks
from reconciler.emulator.problems import Problem, bad_request, invalid
from reconciler.emulator.records import Record
from reconciler.emulator.settings import Catalog, EmulatorSettings
from reconciler.model import JsonObject, Kind

REPLACEABLE = frozenset({Kind.ELIGIBILITY_RULE, Kind.RANKING_FORMULA})
"""Kinds a PUT, or a PATCH with a JSON object, replaces whole."""


def methods(kind: Kind) -> tuple[str, ...]:
    """The methods an object of this kind answers at its own path."""
    if kind in quirks.PUT_KINDS:
        return ("GET", "PUT", "DELETE")
    if kind in REPLACEABLE:
        return ("GET", "PATCH", "PUT", "DELETE")
    return ("GET", "PATCH", "DELETE")


def not_allowed(method: str, kind: Kind, allowed: tuple[str, ...]) -> Problem:
    how = {
        "PUT": "is replaced with PUT",
        "PATCH": "is patched with JSON Patch",
    }
    ways = " and ".join(how[m] for m in ("PATCH", "PUT") if m in allowed)
    return Problem(
        405,
        "method-not-allowed",
        f"{method} is not allowed on a {kind.value}: it {ways} (the methods Adobe documents)",
        headers={"Allow": ", ".join(allowed)},
    )


def _check_body_id(body: JsonObject, old: Record) -> None:
    sent = body.get("id")
    if sent is not None and sent != old.id:
        raise bad_request(
            f"the body's id {sent!r} is not the id in the path ({old.id}): leave it out or send "
            "the object's own id"
        )


def replacement(old: Record, body: JsonObject) -> JsonObject:
    """A whole new body: its client fields replace the stored ones."""
    _check_body_id(body, old)
    return derived.client_fields(old.kind, body)


def merge(old: Record, body: JsonObject) -> JsonObject:
    """The stored client fields with the body's top-level fields over them (null removes one)."""
    _check_body_id(body, old)
    merged = derived.client_fields(old.kind, old.body)
    for name, value in derived.client_fields(old.kind, body).items():
        if value is None:
            merged.pop(name, None)
        else:
            merged[name] = value
    return merged


def check_flag(kind: Kind, body: JsonObject) -> None:
    """A write keeps the flag that tells a rule's kind (`exdRule`): a kind is fixed."""
    if not quirks.holds(kind, body):
        other = quirks.rule_kind(body).value
        article = "an" if other[:1] in "aeiou" else "a"
        raise invalid(
            f"/{quirks.RULE_FLAG}: the kind of a rule is fixed: this {kind.value} cannot become "
            f"{article} {other}; create a new rule instead"
        )


def check_scope(
    kind: Kind, body: JsonObject, catalog: Catalog | None, settings: EmulatorSettings
) -> None:
    """An item written through one catalog's x-schema-id must belong to that catalog."""
    if kind is not Kind.DECISION_ITEM or catalog is None:
        return
    named = settings.catalog(str(derived.at(body, derived.CATALOG_ID)))
    if named is not None and named != catalog:
        raise bad_request(
            f"x-schema-id {catalog.schema} is the schema of catalog {catalog.id}, "
            f"but the item's itemCatalogID is {named.id}: send x-schema-id {named.schema}"
        )
