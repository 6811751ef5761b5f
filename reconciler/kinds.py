"""The catalog of object kinds of both models: API path, id prefix, references, order, wire quirks."""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from reconciler.model import JsonValue, Kind

SERVER_MANAGED: frozenset[str] = frozenset(
    {
        "id",
        "etag",
        "created",
        "modified",
        "createdBy",
        "lastModifiedBy",
        "schemas",
        "sandboxId",
        "createdDate",
        "lastModifiedDate",
        "createdByClientId",
        "lastModifiedByClientId",
        "datasetId",
        "_links",
    }
)
"""Top-level fields the server owns (reference §2.9): never sent, never diffed."""

ANY = "*"
"""A path segment that stands for every item of a list."""


@dataclass(frozen=True, slots=True)
class RefField:
    """A field holding another object's id. `when` narrows the targets by a sibling enum field."""

    path: tuple[str, ...]
    targets: frozenset[Kind]
    when: tuple[str, Mapping[str, frozenset[Kind]]] | None = None


@dataclass(frozen=True, slots=True)
class Reference:
    """One reference found in a body: its concrete location, value and the kinds it may name."""

    path: tuple[str | int, ...]
    value: JsonValue
    targets: frozenset[Kind]

    @property
    def pointer(self) -> str:
        return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in self.path)


class Update(enum.Enum):
    """How an existing object is changed: RFC 6902 PATCH, or PUT of the body (exd placements)."""

    PATCH = "patch"
    PUT = "put"


@dataclass(frozen=True, slots=True)
class Flag:
    """A boolean field telling apart two kinds that share one collection (`exdRule` on
    /offer-rules): the kind's objects have it `true` (`value`) or not true (absent or false)."""

    field: str
    value: bool

    def holds(self, body: Mapping[str, JsonValue]) -> bool:
        return (body.get(self.field) is True) is self.value


@dataclass(frozen=True, slots=True)
class KindSpec:
    """How one kind is reached through the API and how it relates to the others.

    `flag` tells the kind apart from another kind of the same collection; `fixed` fields are
    part of every body of the kind (a file may leave them out); `schema_header` means every
    call carries the sandbox's `x-schema-id`; `catalog` are the fields holding the sandbox's
    item catalog id (filled from reconciler.yaml when a file leaves them out); `encoded` are
    fields the API holds as stringified JSON (structured everywhere else); `derived` are fields
    the server writes into the payload itself.
    """

    kind: Kind
    collection: str
    id_segment: str
    schema: str
    order: int
    offer_type: str | None = None
    refs: tuple[RefField, ...] = field(default=())
    update: Update = Update.PATCH
    flag: Flag | None = None
    fixed: Mapping[str, JsonValue] = field(default_factory=dict)
    schema_header: bool = False
    catalog: tuple[tuple[str, ...], ...] = ()
    encoded: tuple[tuple[str, ...], ...] = ()
    derived: tuple[tuple[str, ...], ...] = ()
    """Fields below the top level that the server derives (reference §2.9): never written."""

    @property
    def query(self) -> dict[str, str]:
        """Query parameters every call on this kind carries (offers need offer-type)."""
        return {"offer-type": self.offer_type} if self.offer_type else {}

    def holds(self, body: Mapping[str, JsonValue]) -> bool:
        """Whether a listed object of this kind's collection is of this kind."""
        return self.flag is None or self.flag.holds(body)


_NS = "https://ns.adobe.com/experience/offer-management/"
_ITEM = ("_experience", "decisioning", "decisionitem")
_EXD_RULE = Flag("exdRule", True)
_OFFER_REFS = (
    RefField(("representations", ANY, "placement"), frozenset({Kind.PLACEMENT})),
    RefField(("selectionConstraint", "eligibilityRule"), frozenset({Kind.DECISION_RULE})),
    RefField(("tags", ANY), frozenset({Kind.TAG})),
    RefField(("frequencyCappingConstraints", ANY, "placement"), frozenset({Kind.PLACEMENT})),
)

SPECS: Mapping[Kind, KindSpec] = {
    spec.kind: spec
    for spec in (
        KindSpec(Kind.TAG, "/tags", "tag", _NS + "tag;version=0.1", 0),
        KindSpec(
            Kind.PLACEMENT, "/placements", "offer-placement", _NS + "offer-placement;version=0.5", 1
        ),
        KindSpec(
            Kind.DECISION_RULE,
            "/offer-rules",
            "eligibility-rule",
            _NS + "eligibility-rule;version=0.3",
            2,
            flag=Flag("exdRule", False),
        ),
        KindSpec(
            Kind.PERSONALIZED_OFFER,
            "/offers",
            "personalized-offer",
            _NS + "personalized-offer;version=0.15",
            3,
            offer_type="personalized",
            refs=_OFFER_REFS,
        ),
        KindSpec(
            Kind.FALLBACK_OFFER,
            "/offers",
            "fallback-offer",
            _NS + "fallback-offer;version=0.8",
            3,
            offer_type="fallback",
            refs=_OFFER_REFS,
        ),
        KindSpec(
            Kind.COLLECTION,
            "/offer-collections",
            "offer-filter",
            _NS + "offer-filter;version=0.4",
            4,
            refs=(
                RefField(
                    ("ids", ANY),
                    frozenset({Kind.TAG, Kind.PERSONALIZED_OFFER}),
                    when=(
                        "filterType",
                        {
                            "offers": frozenset({Kind.PERSONALIZED_OFFER}),
                            "any-tags": frozenset({Kind.TAG}),
                            "all-tags": frozenset({Kind.TAG}),
                        },
                    ),
                ),
            ),
        ),
        KindSpec(
            Kind.DECISION,
            "/offer-decisions",
            "offer-activity",
            _NS + "offer-activity;version=0.8",
            5,
            refs=(
                RefField(("fallback",), frozenset({Kind.FALLBACK_OFFER})),
                RefField(("criteria", ANY, "placements", ANY), frozenset({Kind.PLACEMENT})),
                RefField(
                    ("criteria", ANY, "profileConstraint", "eligibilityRule"),
                    frozenset({Kind.DECISION_RULE}),
                ),
                RefField(
                    ("criteria", ANY, "optionSelection", "filter"), frozenset({Kind.COLLECTION})
                ),
                RefField(
                    ("criteria", ANY, "rank", "order", "function"),
                    frozenset({Kind.RANKING_FORMULA}),
                ),
            ),
        ),
        KindSpec(
            Kind.RANKING_FORMULA,
            "/ranking-formulas",
            "ranking-function",
            _NS + "ranking-function",
            2,
        ),
        KindSpec(
            Kind.ELIGIBILITY_RULE,
            "/offer-rules",
            "eligibility-rule",
            _NS + "eligibility-rule",
            2,
            flag=_EXD_RULE,
            fixed=MappingProxyType({"exdRule": True}),
            derived=(("segmentModel",),),
        ),
        KindSpec(
            Kind.EXD_PLACEMENT,
            "/exd-placements",
            "exd-placement",
            "exd-placement",
            1,
            update=Update.PUT,
        ),
        KindSpec(
            Kind.DECISION_ITEM,
            "/offer-items",
            "offer-item",
            "",  # decision items carry no `schemas` (reference §2.3)
            3,
            refs=(
                RefField(
                    (*_ITEM, "itemConstraints", "eligibilityRule"),
                    frozenset({Kind.ELIGIBILITY_RULE}),
                ),
            ),
            schema_header=True,
            catalog=((*_ITEM, "itemCatalogID"),),
            derived=(
                (*_ITEM, "itemID"),
                ("_experience", "decisioning", "offeritem", "fCapConstraintsLastIndex"),
            ),
        ),
        KindSpec(
            Kind.ITEM_COLLECTION,
            "/item-collections",
            "item-collection",
            "https://ns.adobe.com/experience/decisioning/item-collection;version=1.2",
            4,
            catalog=(("constraints", ANY, "itemCatalogId"),),
            encoded=(("constraints", ANY, "uiModel"),),
        ),
        KindSpec(
            Kind.SELECTION_STRATEGY,
            "/selection-strategies",
            "selection-strategy",
            _NS + "selection-strategy;version=0.2",
            5,
            refs=(
                RefField(("optionSelection", "filter"), frozenset({Kind.ITEM_COLLECTION})),
                RefField(
                    ("profileConstraint", "eligibilityRule"), frozenset({Kind.ELIGIBILITY_RULE})
                ),
                RefField(("rank", "order", "function"), frozenset({Kind.RANKING_FORMULA})),
            ),
        ),
    )
}

ORDERED: tuple[Kind, ...] = tuple(sorted(SPECS, key=lambda k: (SPECS[k].order, k.value)))
"""Kinds in create order: tags and placements, rules and formulas, offers and items,
collections, decisions and selection strategies."""


def spec(kind: Kind) -> KindSpec:
    return SPECS[kind]


def kinds_of_id(object_id: str) -> tuple[Kind, ...]:
    """The kinds an id may name by its middle segment (`dps:offer-placement:…`); empty if the
    segment is not recognisable. Legacy decision rules and eligibility rules share a segment."""
    parts = object_id.split(":")
    if len(parts) != 3:
        return ()
    return tuple(candidate for candidate in ORDERED if SPECS[candidate].id_segment == parts[1])


def sharing(kind: Kind) -> tuple[Kind, ...]:
    """The kinds listed by the same request path as this one (itself included)."""
    here = SPECS[kind]
    return tuple(
        other
        for other in ORDERED
        if SPECS[other].collection == here.collection and SPECS[other].offer_type == here.offer_type
    )


def with_catalog(kind: Kind, body: Mapping[str, JsonValue], catalog: str) -> dict[str, JsonValue]:
    """The body with the sandbox's item catalog id where the kind holds one and the file left
    it out (decision items: itemCatalogID; item collections: each constraint's itemCatalogId)."""
    out = dict(body)
    for path in SPECS[kind].catalog:
        out = _fill(out, path, catalog)  # type: ignore[assignment]
    return out


def authored(
    kind: Kind, body: Mapping[str, JsonValue], catalog: str | None
) -> dict[str, JsonValue]:
    """A live payload as a definition writes it: without the fields the server derives, and
    without the catalog id where it is the sandbox's own (a file leaves it to reconciler.yaml)."""
    spec = SPECS[kind]
    out = dict(body)
    for path in spec.derived:
        out = _drop(out, path, None)  # type: ignore[assignment]
    if catalog is not None:
        for path in spec.catalog:
            out = _drop(out, path, catalog)  # type: ignore[assignment]
    return out


def _drop(node: JsonValue, path: tuple[str, ...], only: str | None) -> JsonValue:
    """The node without the field at path (only where it holds `only`, when given)."""
    head, rest = path[0], path[1:]
    if head == ANY:
        return [_drop(item, rest, only) for item in node] if isinstance(node, list) else node
    if not isinstance(node, dict) or head not in node:
        return node
    if not rest:
        if only is not None and node[head] != only:
            return node
        return {name: value for name, value in node.items() if name != head}
    return {**node, head: _drop(node[head], rest, only)}


def _fill(node: JsonValue, path: tuple[str, ...], value: str) -> JsonValue:
    head, rest = path[0], path[1:]
    if head == ANY:
        return [_fill(item, rest, value) for item in node] if isinstance(node, list) else node
    if not isinstance(node, dict):
        return node
    if not rest:
        return node if head in node else {**node, head: value}
    if head not in node:
        return node
    return {**node, head: _fill(node[head], rest, value)}


def references(kind: Kind, body: Mapping[str, JsonValue]) -> Iterator[Reference]:
    """Every reference a body holds, in document order, with the kinds each may name."""
    for ref_field in SPECS[kind].refs:
        targets = ref_field.targets
        if ref_field.when is not None:
            discriminator, table = ref_field.when
            chosen = body.get(discriminator)
            if isinstance(chosen, str) and chosen in table:
                targets = table[chosen]
        yield from _walk(body, ref_field.path, (), targets)


def _walk(
    node: JsonValue | Mapping[str, JsonValue],
    rest: tuple[str, ...],
    here: tuple[str | int, ...],
    targets: frozenset[Kind],
) -> Iterator[Reference]:
    if not rest:
        if node is not None:
            yield Reference(here, node, targets)  # type: ignore[arg-type]
        return
    head, tail = rest[0], rest[1:]
    if head == ANY:
        if isinstance(node, list):
            for index, item in enumerate(node):
                yield from _walk(item, tail, (*here, index), targets)
    elif isinstance(node, Mapping) and head in node:
        yield from _walk(node[head], tail, (*here, head), targets)
