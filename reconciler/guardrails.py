"""Pure: Adobe's guardrails that only the whole estate can break, as Issues located in one file.

A definition's own limits (tags per offer, PQL sizes, capping rules per offer...) are checked
with its other rules (reconciler.rules, reconciler.exdschema). These are the sandbox-wide ones of
Adobe's two limits pages: `decision-management-guardrails.md` (reference §6.4) for the legacy
kinds and `decisioning-guardrails.md` for the Decisioning kinds. Each is counted over the
definitions in key order and reported once, at the place where the count first passes the limit,
naming the total, the limit, its page and its row. A sandbox may hold objects git does not
manage, so passing these checks does not prove Adobe will take the estate; failing them proves
it will not.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from reconciler.exdschema import EXPERIENCE, TENANT
from reconciler.exdschema import GUARDRAILS_PAGE as DECISIONING_PAGE
from reconciler.model import Key, Kind
from reconciler.rules import GUARDRAILS_PAGE as LEGACY_PAGE
from reconciler.rules import Issue, Location, dotted

Unit = tuple[Location, int, Hashable | None]
"""One thing a guardrail counts: where it is, how much it counts, and, for a count of distinct
things, what it is (counted once however many definitions hold it)."""


@dataclass(frozen=True, slots=True)
class Guardrail:
    """One sandbox-wide limit: what it counts in which kinds, and where Adobe states it."""

    name: str
    kinds: frozenset[Kind]
    noun: str
    source: str  # the page, then the row of its table, in Adobe's words
    units: Callable[[Kind, Mapping[str, Any]], Iterator[Unit]]
    alone: bool = False
    """A definition over the limit on its own is reported by its own rules (reconciler.exdschema):
    then the estate is not reported again."""


def _each(kind: Kind, body: Mapping[str, Any]) -> Iterator[Unit]:
    yield ("kind",), 1, None


def _live(kind: Kind, body: Mapping[str, Any]) -> Iterator[Unit]:
    if body.get("status") == "live":
        yield ("status",), 1, None


def _offer_configurations(kind: Kind, body: Mapping[str, Any]) -> Iterator[Unit]:
    """Capping rules times the placements each applies to: a rule on `entity: placement` with no
    `placement` applies to every placement of the offer (reference §4.3), so it counts once per
    placement of its representations."""
    caps = body.get("frequencyCappingConstraints")
    if not isinstance(caps, list):
        return
    representations = body.get("representations")
    placements = {
        repr(item.get("placement"))
        for item in (representations if isinstance(representations, list) else [])
        if isinstance(item, Mapping)
    }
    for index, cap in enumerate(caps):
        every = isinstance(cap, Mapping) and cap.get("entity") == "placement"
        weight = max(len(placements), 1) if every and cap.get("placement") is None else 1
        yield ("frequencyCappingConstraints", index), weight, None


_ITEM_CAPS = (EXPERIENCE, "decisioning", "offeritem", "frequencyCappingConstraints")


def _item_configurations(kind: Kind, body: Mapping[str, Any]) -> Iterator[Unit]:
    node: object = body
    for step in _ITEM_CAPS:
        node = node.get(step) if isinstance(node, Mapping) else None
    if isinstance(node, list):
        for index in range(len(node)):
            yield (*_ITEM_CAPS, index), 1, None


def _attributes(kind: Kind, body: Mapping[str, Any]) -> Iterator[Unit]:
    """Each custom attribute (a leaf under the tenant namespace), counted once per catalog
    schema however many items set it."""
    for name, value in body.items():
        tenant = isinstance(name, str) and TENANT.fullmatch(name) and name != EXPERIENCE
        if tenant and isinstance(value, Mapping):
            for path in _leaves(value, (name,)):
                yield path, 1, path


def _leaves(value: object, at: Location) -> Iterator[Location]:
    if isinstance(value, Mapping) and value:
        for name, child in value.items():
            yield from _leaves(child, (*at, str(name)))
    else:
        yield at


def _kinds(*kinds: Kind) -> frozenset[Kind]:
    return frozenset(kinds)


GUARDRAILS: tuple[Guardrail, ...] = (
    Guardrail(
        "decisions", _kinds(Kind.DECISION), "decisions", f"{LEGACY_PAGE}: Total decisions", _each
    ),
    Guardrail(
        "live_decisions",
        _kinds(Kind.DECISION),
        "live decisions",
        f"{LEGACY_PAGE}: Live decisions",
        _live,
    ),
    Guardrail(
        "collections", _kinds(Kind.COLLECTION), "collections", f"{LEGACY_PAGE}: Collections", _each
    ),
    Guardrail(
        "tags",
        _kinds(Kind.TAG),
        "collection qualifiers (tags)",
        f"{LEGACY_PAGE}: Total collection qualifiers",
        _each,
    ),
    Guardrail(
        "offers",
        _kinds(Kind.PERSONALIZED_OFFER),
        "personalized offers",
        f"{LEGACY_PAGE}: Total offers",
        _each,
    ),
    Guardrail(
        "placements", _kinds(Kind.PLACEMENT), "placements", f"{LEGACY_PAGE}: Placements", _each
    ),
    Guardrail(
        "configurations",
        _kinds(Kind.PERSONALIZED_OFFER),
        "capping configurations (capping rules times the placements each applies to)",
        f"{LEGACY_PAGE}: Configurations",
        _offer_configurations,
    ),
    Guardrail(
        "rules_and_formulas",
        _kinds(Kind.DECISION_RULE, Kind.ELIGIBILITY_RULE, Kind.RANKING_FORMULA),
        "decision rules, eligibility rules and ranking formulas together",
        f"{LEGACY_PAGE} and {DECISIONING_PAGE}: Total decision rules and ranking formulas",
        _each,
    ),
    Guardrail(
        "decision_items",
        _kinds(Kind.DECISION_ITEM),
        "decision items",
        f"{DECISIONING_PAGE}: Total Offer Items",
        _each,
    ),
    Guardrail(
        "item_collections",
        _kinds(Kind.ITEM_COLLECTION),
        "item collections",
        f"{DECISIONING_PAGE}: Items collections",
        _each,
    ),
    Guardrail(
        "exd_placements",
        _kinds(Kind.EXD_PLACEMENT),
        "exd placements",
        f"{DECISIONING_PAGE}: Total Placements",
        _each,
    ),
    Guardrail(
        "item_configurations",
        _kinds(Kind.DECISION_ITEM),
        "capping rules of decision items",
        f"{DECISIONING_PAGE}: Configurations",
        _item_configurations,
    ),
    Guardrail(
        "custom_attributes",
        _kinds(Kind.DECISION_ITEM),
        "distinct custom attributes across the decision items (one catalog schema)",
        f"{DECISIONING_PAGE}: Number of custom attributes per Offers catalog schema",
        _attributes,
        alone=True,
    ),
)

LIMITS: Mapping[str, int] = MappingProxyType(
    {
        "decisions": 10_000,
        "live_decisions": 1_000,
        "collections": 10_000,
        "tags": 1_000,
        "offers": 10_000,
        "placements": 1_000,
        "configurations": 20_000,
        "rules_and_formulas": 10_000,
        "decision_items": 10_000,
        "item_collections": 10_000,
        "exd_placements": 1_000,
        "item_configurations": 20_000,
        "custom_attributes": 100,
    }
)
"""Each guardrail's limit, by name (the emulator's names where it enforces the same one)."""


def estate(
    objects: Iterable[tuple[Key, Kind, Mapping[str, Any]]],
    limits: Mapping[str, int] = LIMITS,
) -> list[tuple[Key, Issue]]:
    """Each sandbox-wide guardrail the definitions break, once, at the key and place where the
    count passes the limit in key order."""
    ordered = sorted(objects, key=lambda item: item[0])
    found: list[tuple[Key, Issue]] = []
    for guardrail in GUARDRAILS:
        limit = limits[guardrail.name]
        total, first, seen, single = 0, None, set(), 0
        for key, kind, body in ordered:
            if kind not in guardrail.kinds:
                continue
            units = list(guardrail.units(kind, body))
            single = max(single, sum(weight for _, weight, _ in units))
            for location, weight, identity in units:
                if identity is not None:
                    if identity in seen:
                        continue
                    seen.add(identity)
                total += weight
                if total > limit and first is None:
                    first = (key, location)
        if first is not None and not (guardrail.alone and single > limit):
            key, location = first
            found.append((key, Issue(location, _message(guardrail, location, total, limit))))
    return found


def _message(guardrail: Guardrail, location: Location, total: int, limit: int) -> str:
    return (
        f"{dotted(location)}: offers/ defines {total:,} {guardrail.noun}, more than the "
        f"{limit:,} a sandbox holds ({guardrail.source}); the count passes the limit here, in key "
        f"order: remove {total - limit:,}"
    )
