"""What a real sandbox checks before it stores a body: shape, dates, references, names, guardrails.

Shape errors, broken references, unknown item catalogs and guardrails answer 422 naming the
field as a JSON Pointer; a duplicate name answers 409 (tags, and every Decisioning kind: a
decision item by its itemName). The legacy kinds' models are in `bodies`, the Decisioning ones
in `exdbodies` (their cross-field rules in `exdrules`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ValidationError

from reconciler import kinds
from reconciler.emulator import bodies, exdbodies, exdrules
from reconciler.emulator.fieldrules import at_most, profile, unique, window
from reconciler.emulator.problems import Problem, conflict, invalid
from reconciler.emulator.records import Partition, Record
from reconciler.emulator.settings import Catalog
from reconciler.emulator.store import Store
from reconciler.model import JsonValue, Kind, name_of

MODELS: Mapping[Kind, type[bodies.Strict]] = {**bodies.MODELS, **exdbodies.MODELS}

_RULES_AND_FORMULAS = (Kind.DECISION_RULE, Kind.ELIGIBILITY_RULE, Kind.RANKING_FORMULA)
COUNT_LIMITS: Mapping[Kind, tuple[tuple[str, tuple[Kind, ...]], ...]] = {
    Kind.PERSONALIZED_OFFER: (("offers", (Kind.PERSONALIZED_OFFER,)),),
    Kind.FALLBACK_OFFER: (("fallback_offers", (Kind.FALLBACK_OFFER,)),),
    Kind.TAG: (("tags", (Kind.TAG,)),),
    Kind.PLACEMENT: (("placements", (Kind.PLACEMENT,)),),
    Kind.DECISION_RULE: (
        ("decision_rules", (Kind.DECISION_RULE,)),
        ("rules_and_formulas", _RULES_AND_FORMULAS),
    ),
    Kind.COLLECTION: (("collections", (Kind.COLLECTION,)),),
    Kind.DECISION: (("decisions", (Kind.DECISION,)),),
    Kind.RANKING_FORMULA: (("rules_and_formulas", _RULES_AND_FORMULAS),),
    Kind.ELIGIBILITY_RULE: (("rules_and_formulas", _RULES_AND_FORMULAS),),
    Kind.DECISION_ITEM: (("decision_items", (Kind.DECISION_ITEM,)),),
    Kind.ITEM_COLLECTION: (("item_collections", (Kind.ITEM_COLLECTION,)),),
    Kind.EXD_PLACEMENT: (("exd_placements", (Kind.EXD_PLACEMENT,)),),
}
"""The sandbox-wide guardrails a create of each kind counts against, and the kinds each counts
(selection strategies have none documented)."""

UNIQUE_NAMES = frozenset(
    {
        Kind.TAG,
        Kind.RANKING_FORMULA,
        Kind.ELIGIBILITY_RULE,
        Kind.DECISION_ITEM,
        Kind.ITEM_COLLECTION,
        Kind.SELECTION_STRATEGY,
        Kind.EXD_PLACEMENT,
    }
)
"""Kinds whose names are unique in a sandbox (`model.name_of`)."""


@dataclass(frozen=True, slots=True)
class Context:
    """Where a body is being written: the store, the sandbox, its guardrails and item catalogs."""

    store: Store
    partition: Partition
    limits: Mapping[str, int]
    catalogs: Sequence[Catalog] = ()


def check(
    kind: Kind, body: Mapping[str, JsonValue], context: Context, *, old: Record | None
) -> None:
    """Raise a Problem unless `body` may be stored as a `kind` (`old` is the version it replaces).

    `body` holds the client's fields only (derived.client_fields): no envelope, no managed field.
    """
    label = kind.value
    for pointer in _nulls(dict(body), ""):
        raise invalid(f"invalid {label}: {pointer}: null is not accepted; leave the field out")
    modelled, extra = exdrules.split_item(body) if kind is Kind.DECISION_ITEM else (dict(body), {})
    try:
        model = MODELS[kind].model_validate(modelled)
    except ValidationError as error:
        raise invalid(f"invalid {label}: {_describe(error)}") from None
    problems = [
        *_semantics(model, context.limits),
        *exdrules.semantics(model, extra, context.limits, context.catalogs),
    ]
    if problems:
        raise invalid(f"invalid {label}: {'; '.join(problems)}")
    _check_references(kind, body, context)
    if kind in UNIQUE_NAMES:
        _check_unique_name(kind, body, context, old)
    _check_counts(kind, body, context, old)


def _nulls(node: JsonValue, here: str) -> Iterator[str]:
    if node is None:
        yield here or "/"
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _nulls(value, f"{here}/{_escape(key)}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _nulls(value, f"{here}/{index}")


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _describe(error: ValidationError) -> str:
    messages = []
    for item in error.errors(include_url=False)[:5]:
        pointer = "".join(f"/{_escape(str(part))}" for part in item["loc"]) or "/"
        kind = item["type"]
        if kind == "missing":
            text = "is required"
        elif kind == "extra_forbidden":
            text = "is not a known field"
        else:
            text = str(item["msg"]).removeprefix("Value error, ")
            text = text[:1].lower() + text[1:]
        messages.append(f"{pointer}: {text}")
    more = error.error_count() - len(messages)
    return "; ".join(messages) + (f" (and {more} more)" if more > 0 else "")


def _semantics(model: BaseModel, limits: Mapping[str, int]) -> Iterator[str]:
    """Rules across fields that the models alone do not express."""
    if isinstance(model, bodies.PersonalizedOffer | bodies.FallbackOffer):
        placements = [representation.placement for representation in model.representations]
        for index, placement in enumerate(placements):
            if placement in placements[:index]:
                yield f"/representations/{index}/placement: one representation per placement"
        constraint = model.selectionConstraint
        if constraint is not None:
            yield from window(constraint.startDate, constraint.endDate, "/selectionConstraint")
            yield from profile(
                constraint.profileConstraintType,
                constraint.eligibilityRule,
                constraint.segmentIdentities,
                "/selectionConstraint",
            )
        tags = model.tags or []
        yield from unique(tags, "/tags")
        yield from at_most(tags, limits["tags_per_object"], "/tags", "tags")
    if isinstance(model, bodies.PersonalizedOffer):
        caps = model.frequencyCappingConstraints or []
        yield from at_most(caps, limits["caps_per_offer"], "/frequencyCappingConstraints", "caps")
        for index, cap in enumerate(caps):
            yield from window(cap.startDate, cap.endDate, f"/frequencyCappingConstraints/{index}")
        attributes = list(model.characteristics or {})
        yield from at_most(
            attributes, limits["attributes_per_offer"], "/characteristics", "attributes"
        )
    elif isinstance(model, bodies.Collection):
        yield from unique(model.ids, "/ids")
        if model.filterType == "offers":
            yield from at_most(model.ids, limits["offers_per_collection"], "/ids", "offers")
        else:
            yield from at_most(model.ids, limits["tags_per_object"], "/ids", "tags")
    elif isinstance(model, bodies.DecisionRule):
        size = len(model.condition.value.encode("utf-8"))
        if size > limits["pql_bytes"]:
            yield f"/condition/value: at most {limits['pql_bytes']} bytes of PQL (guardrail), not {size}"
    elif isinstance(model, bodies.Decision):
        yield from _decision(model, limits)


def _decision(model: bodies.Decision, limits: Mapping[str, int]) -> Iterator[str]:
    yield from window(model.startDate, model.endDate, "")
    placements: set[str] = set()
    collections: set[str] = set()
    for index, criterion in enumerate(model.criteria):
        where = f"/criteria/{index}"
        yield from unique(criterion.placements, f"{where}/placements")
        placements.update(criterion.placements)
        collections.add(criterion.optionSelection.filter)
        constraint = criterion.profileConstraint
        if constraint is not None:
            yield from profile(
                constraint.profileConstraintType,
                constraint.eligibilityRule,
                constraint.segmentIdentities,
                f"{where}/profileConstraint",
            )
        order = criterion.rank.order if criterion.rank is not None else None
        if order is not None:
            needed = {"ranking-strategy": "rankingStrategy", "scoringFunction": "function"}
            member = needed.get(order.orderEvaluationType)
            if member is not None and getattr(order, member) is None:
                yield f"{where}/rank/order/{member}: is required when orderEvaluationType is {order.orderEvaluationType}"
    if len(placements) > limits["placements_per_decision"]:
        yield f"/criteria: at most {limits['placements_per_decision']} placements per decision (guardrail), not {len(placements)}"
    if len(collections) > limits["collections_per_decision"]:
        yield f"/criteria: at most {limits['collections_per_decision']} collections per decision (guardrail), not {len(collections)}"


def _check_references(kind: Kind, body: Mapping[str, JsonValue], context: Context) -> None:
    for reference in kinds.references(kind, body):
        value = reference.value
        names = " or ".join(sorted(target.value for target in reference.targets))
        named = kinds.kinds_of_id(value) if isinstance(value, str) else ()
        if not set(named) & reference.targets:
            raise invalid(
                f"invalid {kind.value}: {reference.pointer}: {value!r} is not the id of "
                f"{'an' if names[:1] in 'aeiou' else 'a'} {names}"
            )
        target = context.store.get(context.partition, str(value))
        if target is None or target.kind not in reference.targets:
            raise invalid(
                f"invalid {kind.value}: {reference.pointer}: no {names} {value} exists in this sandbox"
            )


def _check_unique_name(
    kind: Kind, body: Mapping[str, JsonValue], context: Context, old: Record | None
) -> None:
    name = name_of(kind, body)
    if name is None:
        return
    for record in context.store.named(context.partition, kind, name):
        if old is None or record.id != old.id:
            raise conflict(
                f"the {kind.value} named {name!r} already exists: {record.id}", "duplicate-name"
            )


def _check_counts(
    kind: Kind, body: Mapping[str, JsonValue], context: Context, old: Record | None
) -> None:
    limits, store, partition = context.limits, context.store, context.partition
    for name, counted in COUNT_LIMITS.get(kind, ()) if old is None else ():
        if sum(store.count(partition, each) for each in counted) >= limits[name]:
            what = " and ".join(each.value for each in counted)
            raise _limit(f"a sandbox holds at most {limits[name]} {what} objects (limits.{name})")
    going_live = body.get("status") == "live" and (old is None or old.body.get("status") != "live")
    if kind is Kind.DECISION and going_live:
        live = sum(
            1 for r in store.objects(partition, kind).values() if r.body.get("status") == "live"
        )
        if live >= limits["live_decisions"]:
            raise _limit(
                f"a sandbox holds at most {limits['live_decisions']} live decisions (limits.live_decisions)"
            )


def _limit(detail: str) -> Problem:
    return Problem(422, "limit-exceeded", detail)
