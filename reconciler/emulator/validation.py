"""What a real sandbox checks before it stores a body: shape, dates, references, names, guardrails.

Shape errors, broken references and guardrails answer 422 naming the field as a JSON Pointer;
a duplicate tag name answers 409.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ValidationError

from reconciler import kinds
from reconciler.emulator import bodies
from reconciler.emulator.problems import Problem, conflict, invalid
from reconciler.emulator.records import Partition, Record
from reconciler.emulator.store import Store
from reconciler.model import JsonValue, Kind

COUNT_LIMITS: Mapping[Kind, str] = {
    Kind.PERSONALIZED_OFFER: "offers",
    Kind.FALLBACK_OFFER: "fallback_offers",
    Kind.TAG: "tags",
    Kind.PLACEMENT: "placements",
    Kind.DECISION_RULE: "decision_rules",
    Kind.COLLECTION: "collections",
    Kind.DECISION: "decisions",
}


@dataclass(frozen=True, slots=True)
class Context:
    """Where a body is being written: the store, the sandbox, and the guardrails in force."""

    store: Store
    partition: Partition
    limits: Mapping[str, int]


def check(
    kind: Kind, body: Mapping[str, JsonValue], context: Context, *, old: Record | None
) -> None:
    """Raise a Problem unless `body` may be stored as a `kind` (`old` is the version it replaces)."""
    label = kind.value
    for pointer in _nulls(dict(body), ""):
        raise invalid(f"invalid {label}: {pointer}: null is not accepted; leave the field out")
    try:
        model = bodies.MODELS[kind].model_validate(dict(body))
    except ValidationError as error:
        raise invalid(f"invalid {label}: {_describe(error)}") from None
    problems = list(_semantics(model, context.limits))
    if problems:
        raise invalid(f"invalid {label}: {'; '.join(problems)}")
    _check_references(kind, body, context)
    if kind is Kind.TAG:
        _check_unique_name(body, context, old)
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


def _instant(value: str | None) -> datetime.datetime | None:
    return datetime.datetime.fromisoformat(value) if value is not None else None


def _window(start: str | None, end: str | None, where: str) -> Iterator[str]:
    begins, ends = _instant(start), _instant(end)
    if begins is not None and ends is not None and ends <= begins:
        yield f"{where}/endDate: must be after {where}/startDate"


def _unique(values: Sequence[str], where: str) -> Iterator[str]:
    seen: set[str] = set()
    for index, value in enumerate(values):
        if value in seen:
            yield f"{where}/{index}: {value} is listed twice"
        seen.add(value)


def _at_most(values: Sequence[object], limit: int, where: str, what: str) -> Iterator[str]:
    if len(values) > limit:
        yield f"{where}: at most {limit} {what} (guardrail), not {len(values)}"


def _profile(
    kind: str, rule: str | None, segments: Sequence[object] | None, where: str
) -> Iterator[str]:
    if kind == "eligibilityRule" and rule is None:
        yield f"{where}/eligibilityRule: is required when profileConstraintType is eligibilityRule"
    if kind != "eligibilityRule" and rule is not None:
        yield f"{where}/eligibilityRule: only allowed when profileConstraintType is eligibilityRule"
    if kind in ("anySegments", "allSegments") and not segments:
        yield f"{where}/segmentIdentities: is required when profileConstraintType is {kind}"


def _semantics(model: BaseModel, limits: Mapping[str, int]) -> Iterator[str]:
    """Rules across fields that the models alone do not express."""
    if isinstance(model, bodies.PersonalizedOffer | bodies.FallbackOffer):
        placements = [representation.placement for representation in model.representations]
        for index, placement in enumerate(placements):
            if placement in placements[:index]:
                yield f"/representations/{index}/placement: one representation per placement"
        constraint = model.selectionConstraint
        if constraint is not None:
            yield from _window(constraint.startDate, constraint.endDate, "/selectionConstraint")
            yield from _profile(
                constraint.profileConstraintType,
                constraint.eligibilityRule,
                constraint.segmentIdentities,
                "/selectionConstraint",
            )
        tags = model.tags or []
        yield from _unique(tags, "/tags")
        yield from _at_most(tags, limits["tags_per_object"], "/tags", "tags")
    if isinstance(model, bodies.PersonalizedOffer):
        caps = model.frequencyCappingConstraints or []
        yield from _at_most(caps, limits["caps_per_offer"], "/frequencyCappingConstraints", "caps")
        for index, cap in enumerate(caps):
            yield from _window(cap.startDate, cap.endDate, f"/frequencyCappingConstraints/{index}")
        attributes = list(model.characteristics or {})
        yield from _at_most(
            attributes, limits["attributes_per_offer"], "/characteristics", "attributes"
        )
    elif isinstance(model, bodies.Collection):
        yield from _unique(model.ids, "/ids")
        if model.filterType == "offers":
            yield from _at_most(model.ids, limits["offers_per_collection"], "/ids", "offers")
        else:
            yield from _at_most(model.ids, limits["tags_per_object"], "/ids", "tags")
    elif isinstance(model, bodies.DecisionRule):
        size = len(model.condition.value.encode("utf-8"))
        if size > limits["pql_bytes"]:
            yield f"/condition/value: at most {limits['pql_bytes']} bytes of PQL (guardrail), not {size}"
    elif isinstance(model, bodies.Decision):
        yield from _decision(model, limits)


def _decision(model: bodies.Decision, limits: Mapping[str, int]) -> Iterator[str]:
    yield from _window(model.startDate, model.endDate, "")
    placements: set[str] = set()
    collections: set[str] = set()
    for index, criterion in enumerate(model.criteria):
        where = f"/criteria/{index}"
        yield from _unique(criterion.placements, f"{where}/placements")
        placements.update(criterion.placements)
        collections.add(criterion.optionSelection.filter)
        profile = criterion.profileConstraint
        if profile is not None:
            yield from _profile(
                profile.profileConstraintType,
                profile.eligibilityRule,
                profile.segmentIdentities,
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
                f"invalid {kind.value}: {reference.pointer}: {value!r} is not the id of a {names}"
            )
        target = context.store.get(context.partition, str(value))
        if target is None or target.kind not in reference.targets:
            raise invalid(
                f"invalid {kind.value}: {reference.pointer}: no {names} {value} exists in this sandbox"
            )


def _check_unique_name(body: Mapping[str, JsonValue], context: Context, old: Record | None) -> None:
    name = body.get("name")
    for record in context.store.objects(context.partition, Kind.TAG).values():
        if record.body.get("name") == name and (old is None or record.id != old.id):
            raise conflict(f"a tag named {name!r} already exists: {record.id}", "duplicate-name")


def _check_counts(
    kind: Kind, body: Mapping[str, JsonValue], context: Context, old: Record | None
) -> None:
    limits, store, partition = context.limits, context.store, context.partition
    if old is None and store.count(partition, kind) >= limits[COUNT_LIMITS[kind]]:
        name = COUNT_LIMITS[kind]
        raise _limit(f"a sandbox holds at most {limits[name]} {kind.value} objects (limits.{name})")
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
