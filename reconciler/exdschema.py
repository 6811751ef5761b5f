"""pydantic models of the Decisioning kinds' YAML, and the rules across their fields.

Decisioning (`help/using/experience-decisioning/`) keeps its objects on the same Offer Library
host as the legacy model: ranking formulas (shared by both models), eligibility rules, decision
items, item collections, selection strategies and exd placements. The models follow the create
bodies of Adobe's API reference pages (`api-reference/*/create.md`), so those bodies paste in as
they are. Three things differ from a pasted body, each said where it is checked:
- a decision item's and an item collection's catalog id may be left out: it differs per sandbox,
  so it comes from `reconciler.yaml` (`sandboxes.<s>.decisioning.catalog`);
- an item collection's `uiModel` is written as structured YAML (a stringified JSON, as the API
  holds it, is accepted too);
- an eligibility rule's `exdRule: true` may be left out: it is what makes it one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field

from reconciler.fields import (
    Channel,
    Condition,
    DateTime,
    DefinedOn,
    Definition,
    FrequencyCap,
    Name,
    Object,
    OfferStatus,
    Priority,
    ProfileConstraintType,
    Reference,
    SegmentIdentity,
    Strict,
    Text,
    limit,
)
from reconciler.model import Kind
from reconciler.rules import Anchor, Issue, date_order, dotted, profile

# --- guardrails (decisioning-guardrails.md) --------------------------------------------------

MAX_RULE_PQL_BYTES = 15 * 1024  # "Max size of pql rule: 15K (UTF-8)"
MAX_FORMULA_PQL_BYTES = 8 * 1024  # "Max size of ranking formula PQL: 8K (UTF-8)"
MAX_CUSTOM_ATTRIBUTES = 100  # "Number of custom attributes per Offers catalog schema"
MAX_ITEM_CAPS = 10  # "Frequency rules - Max number of capping rules per offer"
GUARDRAILS_PAGE = "decisioning-guardrails.md"

TENANT = re.compile(r"_[A-Za-z0-9][A-Za-z0-9_]*")
"""A tenant namespace key (`_acme`): where a catalog's custom attributes live."""
EXPERIENCE = "_experience"


# --- ranking formulas and eligibility rules --------------------------------------------------


class ReturnType(Strict):
    # Adobe's create example sends it lower-case and its reads show it upper-case: either.
    type: Literal[
        "integer", "number", "boolean", "string", "INTEGER", "NUMBER", "BOOLEAN", "STRING"
    ]


class RankingFormula(Object):
    """A ranking formula: a PQL expression that scores offers or items (both models)."""

    kind: Literal["ranking-formula"]
    exdFunction: bool | None = None
    returnType: ReturnType
    expression: Condition
    definedOn: dict[str, DefinedOn] | None = None
    isPure: bool | None = None


class EligibilityRule(Object):
    """A Decisioning eligibility rule: a PQL condition (an `/offer-rules` object with exdRule)."""

    kind: Literal["eligibility-rule"]
    exdRule: Literal[True] | None = None
    condition: Condition
    definedOn: dict[str, DefinedOn] | None = None


# --- decision items ----------------------------------------------------------------------------


class Calendar(Strict):
    startDate: DateTime | None = None
    endDate: DateTime | None = None


class ItemConstraints(Strict):
    profileConstraintType: ProfileConstraintType
    eligibilityRule: Reference | None = None
    segmentIdentities: list[SegmentIdentity] | None = None


class ItemBody(Strict):
    itemName: Name
    itemDescription: str | None = None
    itemPriority: Priority
    itemCalendarConstraints: Calendar | None = None
    itemCatalogID: Text | None = Field(
        default=None,
        description="Left out, it is the sandbox's catalog from reconciler.yaml.",
    )
    itemConstraints: ItemConstraints | None = None
    itemTags: list[Text] | None = None
    itemLabels: list[str] | None = None


class OfferItem(Strict):
    lifecycleStatus: OfferStatus
    # Adobe documents no capping shape for items; the legacy offer's is the only one documented.
    frequencyCappingConstraints: (
        Annotated[list[FrequencyCap], limit("maxItems", MAX_ITEM_CAPS)] | None
    ) = None


class ItemDecisioning(Strict):
    offeritem: OfferItem
    decisionitem: ItemBody


class ItemExperience(Strict):
    decisioning: ItemDecisioning


class DecisionItem(Definition):
    """A decision item of the sandbox's catalog; custom attributes under `_<tenant>`."""

    model_config = ConfigDict(
        extra="allow",  # the tenant namespace: its name is the org's; checked by `issues`
        json_schema_extra={
            "patternProperties": {TENANT.pattern: {"type": "object"}},
            "additionalProperties": False,
        },
    )

    kind: Literal["decision-item"]
    experience: ItemExperience = Field(alias="_experience")


# --- item collections, selection strategies, exd placements -----------------------------------


class CollectionConstraint(Strict):
    itemCatalogId: Text | None = Field(
        default=None,
        description="Left out, it is the sandbox's catalog from reconciler.yaml.",
    )
    uiModel: dict[str, Any] | str = Field(
        description="The rule that selects items, as structured YAML (sent as stringified JSON)."
    )


class ItemCollection(Object):
    """An item collection: the catalog's items that a rule on their attributes selects."""

    kind: Literal["item-collection"]
    constraints: Annotated[list[CollectionConstraint], Field(min_length=1)]
    tags: list[Text] | None = None  # unified tag ids; Adobe's reads show `tags: []`


class StrategyOrder(Strict):
    orderEvaluationType: Literal["static", "scoringFunction", "ranking-strategy"]
    function: Reference | None = None
    rankingStrategy: Text | None = None


class StrategyRank(Strict):
    priority: Priority
    order: StrategyOrder | None = None


class StrategyConstraint(Strict):
    profileConstraintType: ProfileConstraintType
    eligibilityRule: Reference | None = None
    segmentIdentities: list[SegmentIdentity] | None = None


class StrategySelection(Strict):
    filter: Reference


class SelectionStrategy(Object):
    """A selection strategy: an item collection, who is eligible, and how items are ranked."""

    kind: Literal["selection-strategy"]
    rank: StrategyRank | None = None
    profileConstraint: StrategyConstraint | None = None
    optionSelection: StrategySelection


class ExdPlacement(Object):
    """A Decisioning placement: a channel and, optionally, its channel configuration."""

    kind: Literal["exd-placement"]
    channel: Channel
    channelConfiguration: Text | None = None
    tags: list[Text] | None = None
    status: Literal["active", "archived"] | None = None


MODELS: Mapping[Kind, type[Strict]] = {
    Kind.RANKING_FORMULA: RankingFormula,
    Kind.ELIGIBILITY_RULE: EligibilityRule,
    Kind.DECISION_ITEM: DecisionItem,
    Kind.ITEM_COLLECTION: ItemCollection,
    Kind.SELECTION_STRATEGY: SelectionStrategy,
    Kind.EXD_PLACEMENT: ExdPlacement,
}


# --- rules across fields ------------------------------------------------------------------------


def issues(kind: Kind, body: Mapping[Any, Any]) -> Iterator[Issue]:
    """What the Decisioning models alone cannot say; each rule looks only at well-shaped values."""
    match kind:
        case Kind.RANKING_FORMULA:
            yield from _pql_size(body, "expression", MAX_FORMULA_PQL_BYTES, "ranking formula")
        case Kind.ELIGIBILITY_RULE:
            yield from _pql_size(body, "condition", MAX_RULE_PQL_BYTES, "rule")
        case Kind.DECISION_ITEM:
            yield from _item(body)
        case Kind.ITEM_COLLECTION:
            yield from _ui_models(body)
        case Kind.SELECTION_STRATEGY:
            yield from _strategy(body)
        case _:
            return


def _pql_size(body: Mapping[Any, Any], field: str, most: int, noun: str) -> Iterator[Issue]:
    holder = body.get(field)
    value = holder.get("value") if isinstance(holder, dict) else None
    if isinstance(value, str) and len(value.encode("utf-8")) > most:
        size = len(value.encode("utf-8"))
        yield Issue(
            (field, "value"),
            f"{field}.value: a {noun} holds at most {most} bytes of PQL ({GUARDRAILS_PAGE}), "
            f"found {size}: shorten it",
        )


def _item(body: Mapping[Any, Any]) -> Iterator[Issue]:
    namespaces = [key for key in body if key not in ("kind", "protect", EXPERIENCE)]
    for key in namespaces:
        if not isinstance(key, str) or not TENANT.fullmatch(key):
            yield Issue(
                (key,),
                f"{key}: unknown field: a decision item holds kind, {EXPERIENCE} and its custom "
                "attributes under the org's tenant namespace (such as _acme): remove it or "
                "fix its spelling",
                Anchor.KEY,
            )
        elif not isinstance(body[key], dict):
            yield Issue((key,), f"{key}: the custom attributes must be a mapping of fields")
    tenants = [key for key in namespaces if isinstance(key, str) and TENANT.fullmatch(key)]
    if len(tenants) > 1:
        yield Issue(
            (tenants[1],),
            f"{tenants[1]}: a second tenant namespace ({tenants[0]} is the first): a catalog "
            "has one; move the attributes under one of them",
            Anchor.KEY,
        )
    count = sum(_leaves(body[key]) for key in tenants if isinstance(body[key], dict))
    if count > MAX_CUSTOM_ATTRIBUTES:
        yield Issue(
            (tenants[0],),
            f"{tenants[0]}: at most {MAX_CUSTOM_ATTRIBUTES} custom attributes per catalog "
            f"({GUARDRAILS_PAGE}), found {count}: remove {count - MAX_CUSTOM_ATTRIBUTES}",
            Anchor.KEY,
        )
    caps_at = (EXPERIENCE, "decisioning", "offeritem", "frequencyCappingConstraints")
    caps = _at(body, caps_at)
    if isinstance(caps, list) and len(caps) > MAX_ITEM_CAPS:
        location = (*caps_at, MAX_ITEM_CAPS)
        yield Issue(
            location,
            f"{dotted(caps_at)}: at most {MAX_ITEM_CAPS} capping rules per item "
            f"({GUARDRAILS_PAGE}), found {len(caps)}: remove {len(caps) - MAX_ITEM_CAPS}",
        )
    item = _at(body, (EXPERIENCE, "decisioning", "decisionitem"))
    if isinstance(item, dict):
        where = (EXPERIENCE, "decisioning", "decisionitem")
        calendar = item.get("itemCalendarConstraints")
        if isinstance(calendar, dict):
            yield from date_order(calendar, (*where, "itemCalendarConstraints"))
        constraints = item.get("itemConstraints")
        if isinstance(constraints, dict):
            yield from profile(constraints, (*where, "itemConstraints"))


def _leaves(value: object) -> int:
    if isinstance(value, dict):
        return sum(_leaves(child) for child in value.values()) if value else 1
    return 1


def _ui_models(body: Mapping[Any, Any]) -> Iterator[Issue]:
    constraints = body.get("constraints")
    if not isinstance(constraints, list):
        return
    for index, constraint in enumerate(constraints):
        ui_model = constraint.get("uiModel") if isinstance(constraint, dict) else None
        if isinstance(ui_model, str):
            try:
                parsed = json.loads(ui_model)
            except ValueError as error:
                parsed, reason = None, f"is not JSON ({error})"
            else:
                reason = "holds JSON that is not a mapping"
            if not isinstance(parsed, dict):
                location = ("constraints", index, "uiModel")
                yield Issue(
                    location,
                    f"{dotted(location)}: {reason}: write the rule as a YAML mapping, such as "
                    "{operator: equals, value: {left: _experience.decisioning.decisionitem."
                    "itemName, right: My item}}",
                )


def _strategy(body: Mapping[Any, Any]) -> Iterator[Issue]:
    constraint = body.get("profileConstraint")
    if isinstance(constraint, dict):
        yield from profile(constraint, ("profileConstraint",))
    order = _at(body, ("rank", "order"))
    if not isinstance(order, dict):
        return
    chosen, function = order.get("orderEvaluationType"), order.get("function")
    if chosen == "ranking-strategy" and order.get("rankingStrategy") is None:
        yield Issue(
            ("rank", "order", "rankingStrategy"),
            "rank.order.rankingStrategy: required when orderEvaluationType is ranking-strategy: "
            "add the id of the AI ranking model",
            Anchor.PARENT,
        )
    location = ("rank", "order", "function")
    if chosen == "scoringFunction" and function is None:
        yield Issue(
            location,
            f"{dotted(location)}: required when orderEvaluationType is scoringFunction: add "
            "{ref: <ranking formula key>} or a formula id",
            Anchor.PARENT,
        )
    elif chosen != "scoringFunction" and function is not None:
        yield Issue(
            location,
            f"{dotted(location)}: only used when orderEvaluationType is scoringFunction: "
            "remove it or set orderEvaluationType: scoringFunction",
        )


def _at(body: Mapping[Any, Any], path: tuple[str, ...]) -> object:
    node: object = body
    for step in path:
        node = node.get(step) if isinstance(node, dict) else None
    return node
