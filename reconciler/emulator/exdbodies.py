"""The Decisioning kinds' bodies as the emulator accepts them: strict, unknown fields refused.

Shaped on the create and read examples of Adobe's Decisioning API pages
(`help/using/experience-decisioning/api-reference/`, reference §3.8, §3.9), like the legacy
models of `bodies`; server-owned fields (`KindSpec.derived`) are removed before these run. A
decision item's custom attributes (the top-level `_<tenant>` object) are not modelled: the
catalog decides their key, so `exdrules` checks them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Annotated, Literal

from pydantic import AfterValidator, BeforeValidator, Field

from reconciler.emulator.bodies import (
    Channel,
    Condition,
    DateTime,
    DefinedOn,
    FrequencyCap,
    Id,
    Name,
    OptionSelection,
    Priority,
    ProfileConstraint,
    ProfileConstraintType,
    SegmentIdentity,
    Strict,
)
from reconciler.model import Kind

RETURN_TYPES = ("integer", "number", "boolean", "string")


def _return_type(value: str) -> str:
    if value.lower() not in RETURN_TYPES:
        raise ValueError(f"must be one of {', '.join(RETURN_TYPES)} (any case), not {value!r}")
    return value


def _stringified(value: object) -> object:
    if isinstance(value, dict | list):
        raise ValueError(
            "must be a string holding a JSON object (the API keeps uiModel stringified), not a "
            "structured value: send it through JSON.stringify / json.dumps"
        )
    return value


def _json_object(value: str) -> str:
    try:
        parsed = json.loads(value)
    except ValueError as error:
        raise ValueError(f"must hold a JSON object, but it is not JSON ({error})") from None
    if not isinstance(parsed, dict):
        raise ValueError("must hold a JSON object, not another JSON value")
    return value


class ReturnType(Strict):
    type: Annotated[str, AfterValidator(_return_type)]


class RankingFormula(Strict):
    name: Name
    description: str | None = None
    exdFunction: bool | None = None
    returnType: ReturnType
    expression: Condition
    definedOn: dict[str, DefinedOn] | None = None
    isPure: bool | None = None


class EligibilityRule(Strict):
    name: Name
    description: str | None = None
    exdRule: Literal[True]
    condition: Condition
    definedOn: dict[str, DefinedOn] | None = None


class Calendar(Strict):
    startDate: DateTime | None = None
    endDate: DateTime | None = None


class ItemConstraints(Strict):
    profileConstraintType: ProfileConstraintType
    eligibilityRule: Id | None = None
    segmentIdentities: list[SegmentIdentity] | None = None


class ItemBody(Strict):
    itemName: Name
    itemDescription: str | None = None
    itemPriority: Priority
    itemCalendarConstraints: Calendar | None = None
    itemCatalogID: Id
    itemConstraints: ItemConstraints | None = None
    itemTags: list[Id] | None = None
    itemLabels: list[str] | None = None


class OfferItem(Strict):
    lifecycleStatus: Literal["draft", "approved", "archived"]
    # The only documented DPS capping shape is the legacy offer's; the examples show `[]`.
    frequencyCappingConstraints: list[FrequencyCap] | None = None


class ItemDecisioning(Strict):
    offeritem: OfferItem
    decisionitem: ItemBody


class ItemExperience(Strict):
    decisioning: ItemDecisioning


class DecisionItem(Strict):
    experience: ItemExperience = Field(alias="_experience")


class CollectionConstraint(Strict):
    itemCatalogId: Id
    uiModel: Annotated[str, BeforeValidator(_stringified), AfterValidator(_json_object)]


class ItemCollection(Strict):
    name: Name
    description: str | None = None
    constraints: Annotated[list[CollectionConstraint], Field(min_length=1)]
    tags: list[Id] | None = None  # reads show `tags: []` (server_defaults adds it)


class StrategyOrder(Strict):
    orderEvaluationType: Literal["static", "scoringFunction", "ranking-strategy"]
    function: Id | None = None
    rankingStrategy: Id | None = None


class StrategyRank(Strict):
    priority: Priority
    order: StrategyOrder | None = None


class SelectionStrategy(Strict):
    name: Name
    description: str | None = None
    rank: StrategyRank | None = None
    profileConstraint: ProfileConstraint | None = None
    optionSelection: OptionSelection


class ExdPlacement(Strict):
    name: Name
    description: str | None = None
    channel: Channel
    channelConfiguration: Id | None = None
    tags: list[Id] | None = None
    status: Literal["active", "archived"] | None = None


MODELS: Mapping[Kind, type[Strict]] = {
    Kind.RANKING_FORMULA: RankingFormula,
    Kind.ELIGIBILITY_RULE: EligibilityRule,
    Kind.DECISION_ITEM: DecisionItem,
    Kind.ITEM_COLLECTION: ItemCollection,
    Kind.SELECTION_STRATEGY: SelectionStrategy,
    Kind.EXD_PLACEMENT: ExdPlacement,
}
