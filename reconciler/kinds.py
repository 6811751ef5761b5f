"""The catalog of Decision Management object kinds: API path, id prefix, references, order."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

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


@dataclass(frozen=True, slots=True)
class KindSpec:
    """How one kind is reached through the API and how it relates to the others."""

    kind: Kind
    collection: str
    id_segment: str
    schema: str
    order: int
    offer_type: str | None = None
    refs: tuple[RefField, ...] = field(default=())

    @property
    def query(self) -> dict[str, str]:
        """Query parameters every call on this kind carries (offers need offer-type)."""
        return {"offer-type": self.offer_type} if self.offer_type else {}


_NS = "https://ns.adobe.com/experience/offer-management/"
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
            ),
        ),
    )
}

ORDERED: tuple[Kind, ...] = tuple(sorted(SPECS, key=lambda k: (SPECS[k].order, k.value)))
"""Kinds in create order: tags, placements, rules, offers and fallback offers, collections, decisions."""


def spec(kind: Kind) -> KindSpec:
    return SPECS[kind]


def kind_of_id(object_id: str) -> Kind | None:
    """The kind an id names by its middle segment (`dps:offer-placement:…`), if recognisable."""
    parts = object_id.split(":")
    if len(parts) != 3:
        return None
    segment = parts[1]
    for candidate in ORDERED:
        if SPECS[candidate].id_segment == segment:
            return candidate
    return None


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
