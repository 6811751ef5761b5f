"""The body of each kind as the emulator accepts it: strict pydantic models, unknown fields refused.

Independent of the client's own models on purpose: this is the oracle the client is tested
against. Field names and enums follow the reference (§3, §4); JSON null is refused before
these models run, so `X | None = None` here only means "may be absent".
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from reconciler.model import Kind


def _name(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


def _date_time(value: str) -> str:
    try:
        moment = datetime.datetime.fromisoformat(value) if "T" in value else None
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise ValueError(
            "must be an ISO-8601 date-time with a time zone (2027-06-01T00:00:00.000Z)"
        )
    return value


def _pattern(regex: str, what: str) -> AfterValidator:
    compiled = re.compile(regex)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise ValueError(f"must be {what}")
        return value

    return AfterValidator(check)


Name = Annotated[str, AfterValidator(_name)]
Id = Annotated[str, Field(min_length=1)]
DateTime = Annotated[str, AfterValidator(_date_time)]
Count = Annotated[int, Field(ge=1)]
Priority = Annotated[int, Field(ge=0)]
Channel = Annotated[
    str,
    _pattern(
        r"https://ns\.adobe\.com/xdm/channel-types/[a-z][a-z-]*",
        "a channel URI like https://ns.adobe.com/xdm/channel-types/web",
    ),
]
MediaType = Annotated[str, _pattern(r"\w+/[-.\w]+(?:\+[-.\w]+)?", "a media type like text/html")]
ProfileConstraintType = Literal["none", "eligibilityRule", "anySegments", "allSegments"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=False)


class Tag(Strict):
    name: Name
    description: str | None = None


class ReturnMetaData(Strict):
    decisionName: bool | None = None
    offerName: bool | None = None
    offerAttributes: bool | None = None
    offerPriority: bool | None = None
    placementName: bool | None = None
    channelType: bool | None = None
    contentType: bool | None = None


class Placement(Strict):
    name: Name
    description: str | None = None
    componentType: Literal["html", "text", "imagelink", "json"]
    channel: Channel
    itemCount: Annotated[int, Field(ge=1, le=30)] | None = None
    allowDuplicatePlacements: bool | None = None
    returnContent: bool | None = None
    returnMetaData: ReturnMetaData | None = None
    labels: list[str] | None = None


class Condition(Strict):
    type: Literal["PQL"]
    format: Literal["pql/text"]
    value: Annotated[str, AfterValidator(_name)]


class SchemaReference(Strict):
    ref: str | None = None
    altId: str | None = None
    version: str | None = None


class DefinedOn(Strict):
    schema_: SchemaReference = Field(alias="schema")
    referencePaths: list[str] | None = None


class DecisionRule(Strict):
    name: Name
    description: str | None = None
    condition: Condition
    definedOn: dict[str, DefinedOn] | None = None
    # `exdRule: true` makes an /offer-rules body an eligibility rule (exdbodies).
    exdRule: Literal[False] | None = None
    labels: list[str] | None = None


class Component(Strict):
    type: Literal["html", "text", "imagelink", "json", "component-text"]
    format: MediaType
    language: list[Annotated[str, Field(min_length=1)]] | None = None
    content: str | None = None
    deliveryURL: str | None = None
    linkURL: str | None = None
    repoId: str | None = None
    repoName: str | None = None
    resolveURL: str | None = None


class Representation(Strict):
    channel: Channel
    placement: Id
    components: Annotated[list[Component], Field(min_length=1)]


class Namespace(Strict):
    code: Annotated[str, Field(min_length=1)]


class SegmentIdentity(Strict):
    id_: Annotated[str, Field(min_length=1)] = Field(alias="_id")
    namespace: Namespace


class SelectionConstraint(Strict):
    startDate: DateTime | None = None
    endDate: DateTime | None = None
    profileConstraintType: ProfileConstraintType
    eligibilityRule: Id | None = None
    segmentIdentities: list[SegmentIdentity] | None = None


class OfferRank(Strict):
    priority: Priority


class CappingConstraint(Strict):
    globalCap: Count | None = None
    profileCap: Count | None = None


class Repeat(Strict):
    enabled: bool | None = None
    unit: Literal["day", "week", "month"] | None = None
    unitCount: Count | None = None


class FrequencyCap(Strict):
    enabled: bool | None = None
    limit: Count
    startDate: DateTime | None = None
    endDate: DateTime | None = None
    scope: Literal["global", "profile"]
    entity: Literal["offer", "placement"]
    placement: Id | None = None
    repeat: Repeat | None = None
    duration: Count | None = None


class PersonalizedOffer(Strict):
    name: Name
    description: str | None = None
    status: Literal["draft", "approved", "archived"]
    representations: Annotated[list[Representation], Field(min_length=1)]
    selectionConstraint: SelectionConstraint
    rank: OfferRank | None = None
    cappingConstraint: CappingConstraint | None = None
    frequencyCappingConstraints: list[FrequencyCap] | None = None
    characteristics: dict[str, str] | None = None
    tags: list[Id] | None = None
    labels: list[str] | None = None


class FallbackOffer(Strict):
    name: Name
    description: str | None = None
    status: Literal["draft", "approved", "archived"]
    representations: Annotated[list[Representation], Field(min_length=1)]
    # Adobe's fallback create example sends these although fallbacks are never constrained.
    selectionConstraint: SelectionConstraint | None = None
    rank: OfferRank | None = None
    tags: list[Id] | None = None
    labels: list[str] | None = None


class Collection(Strict):
    name: Name
    description: str | None = None
    filterType: Literal["offers", "any-tags", "all-tags"]
    ids: list[Id]
    labels: list[str] | None = None


class Order(Strict):
    orderEvaluationType: Literal["static", "ranking-strategy", "scoringFunction"]
    rankingStrategy: Id | None = None
    function: Id | None = None


class CriterionRank(Strict):
    priority: Priority
    order: Order | None = None


class ProfileConstraint(Strict):
    profileConstraintType: ProfileConstraintType
    eligibilityRule: Id | None = None
    segmentIdentities: list[SegmentIdentity] | None = None


class OptionSelection(Strict):
    filter: Id


class Criterion(Strict):
    placements: Annotated[list[Id], Field(min_length=1)]
    rank: CriterionRank | None = None
    profileConstraint: ProfileConstraint | None = None
    optionSelection: OptionSelection


class Decision(Strict):
    name: Name
    description: str | None = None
    status: Literal["draft", "live", "archived"]
    startDate: DateTime | None = None
    endDate: DateTime | None = None
    fallback: Id
    criteria: Annotated[list[Criterion], Field(min_length=1)]
    labels: list[str] | None = None


MODELS: Mapping[Kind, type[Strict]] = {
    Kind.TAG: Tag,
    Kind.PLACEMENT: Placement,
    Kind.DECISION_RULE: DecisionRule,
    Kind.PERSONALIZED_OFFER: PersonalizedOffer,
    Kind.FALLBACK_OFFER: FallbackOffer,
    Kind.COLLECTION: Collection,
    Kind.DECISION: Decision,
}
