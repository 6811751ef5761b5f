"""pydantic models of each kind's YAML (unknown fields forbidden at every depth) and its JSON Schema.

The models mirror the Offer Library API's own field names, so an Adobe example body pastes in
as it is. A field that holds another object's id takes a literal id or `{ref: <key>}`. The rules
that span several fields (date order, one representation per placement) are `semantic_problems`.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, TypeAdapter, WithJsonSchema

from reconciler.model import JsonValue, Kind

Path = tuple[str | int, ...]

_REF_SCHEMA: dict[str, Any] = {
    "oneOf": [
        {"type": "string", "minLength": 1, "description": "A literal Adobe id (dps:...)"},
        {
            "type": "object",
            "properties": {"ref": {"type": "string", "minLength": 1}},
            "required": ["ref"],
            "additionalProperties": False,
            "description": "The key of another object in offers/ (its path without .yaml)",
        },
    ]
}


def _reference(value: object) -> object:
    if isinstance(value, str) and value:
        return value
    if isinstance(value, dict) and set(value) == {"ref"}:
        key = value["ref"]
        if isinstance(key, str) and key:
            return value
    raise ValueError("expected an Adobe id (a string) or {ref: <key of another file>}")


Ref = Annotated[object, PlainValidator(_reference), WithJsonSchema(_REF_SCHEMA)]


def _date_time(value: object) -> object:
    if not isinstance(value, str) or _instant(value) is None:
        raise ValueError(
            'expected an RFC 3339 date-time in quotes, such as "2027-06-01T00:00:00.000Z"'
        )
    return value


DateTime = Annotated[
    object, PlainValidator(_date_time), WithJsonSchema({"type": "string", "format": "date-time"})
]
Text = Annotated[str, Field(min_length=1)]
Count = Annotated[int, Field(ge=1)]
Channel = Annotated[str, Field(pattern=r"^https?://\S+$")]
MediaType = Annotated[str, Field(pattern=r"^\w+/[-.\w]+(?:\+[-.\w]+)?$")]
ProfileConstraintType = Literal["none", "eligibilityRule", "anySegments", "allSegments"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class _Kinded(_Strict):
    name: Text
    description: str | None = None


class Tag(_Kinded):
    kind: Literal["tag"]


class ReturnMetaData(_Strict):
    decisionName: bool | None = None
    offerName: bool | None = None
    offerAttributes: bool | None = None
    offerPriority: bool | None = None
    placementName: bool | None = None
    channelType: bool | None = None
    contentType: bool | None = None


class Placement(_Kinded):
    kind: Literal["placement"]
    # The UI's content types: Text, HTML, Image Link, JSON (reference §3.3).
    componentType: Literal["html", "text", "imagelink", "json"]
    channel: Channel
    itemCount: Annotated[int, Field(ge=1, le=30)] | None = None
    allowDuplicatePlacements: bool | None = None
    returnContent: bool | None = None
    returnMetaData: ReturnMetaData | None = None
    labels: list[str] | None = None


class Condition(_Strict):
    type: Literal["PQL"]
    format: Literal["pql/text"]
    value: Annotated[str, Field(min_length=1, max_length=15 * 1024)]


class SchemaReference(_Strict):
    ref: str | None = None
    altId: str | None = None
    version: str | None = None


class DefinedOn(_Strict):
    schema_: SchemaReference = Field(alias="schema")
    referencePaths: list[str] | None = None


class DecisionRule(_Kinded):
    kind: Literal["decision-rule"]
    condition: Condition
    definedOn: dict[str, DefinedOn] | None = None
    exdRule: bool | None = None
    labels: list[str] | None = None


class Component(_Strict):
    # DPS short names seen in Adobe's examples (reference §4): html, text, imagelink, json,
    # component-text.
    type: Literal["html", "text", "imagelink", "json", "component-text"]
    format: MediaType
    language: list[Text] | None = None
    content: str | None = None
    deliveryURL: str | None = None
    linkURL: str | None = None
    repoId: str | None = None
    repoName: str | None = None
    resolveURL: str | None = None


class Representation(_Strict):
    channel: Channel
    placement: Ref
    components: Annotated[list[Component], Field(min_length=1)]


class Namespace(_Strict):
    code: Text


class SegmentIdentity(_Strict):
    id_: Text = Field(alias="_id")
    namespace: Namespace


class SelectionConstraint(_Strict):
    startDate: DateTime | None = None
    endDate: DateTime | None = None
    profileConstraintType: ProfileConstraintType
    eligibilityRule: Ref | None = None
    segmentIdentities: list[SegmentIdentity] | None = None


class OfferRank(_Strict):
    priority: Annotated[int, Field(ge=0)]


class CappingConstraint(_Strict):
    globalCap: Count | None = None
    profileCap: Count | None = None


class Repeat(_Strict):
    enabled: bool | None = None
    unit: Literal["day", "week", "month"] | None = None
    unitCount: Count | None = None


class FrequencyCap(_Strict):
    enabled: bool | None = None
    limit: Count
    startDate: DateTime | None = None
    endDate: DateTime | None = None
    scope: Literal["global", "profile"]
    entity: Literal["offer", "placement"]
    placement: Ref | None = None
    repeat: Repeat | None = None
    duration: Count | None = None


class PersonalizedOffer(_Kinded):
    kind: Literal["personalized-offer"]
    status: Literal["draft", "approved", "archived"]
    representations: Annotated[list[Representation], Field(min_length=1)]
    selectionConstraint: SelectionConstraint
    rank: OfferRank | None = None
    cappingConstraint: CappingConstraint | None = None
    frequencyCappingConstraints: Annotated[list[FrequencyCap], Field(max_length=10)] | None = None
    characteristics: Annotated[dict[str, str], Field(max_length=30)] | None = None
    tags: Annotated[list[Ref], Field(max_length=20)] | None = None
    labels: list[str] | None = None


class FallbackOffer(_Kinded):
    """Fallback offers have no constraints and no ranking (reference §3.2): none are accepted."""

    kind: Literal["fallback-offer"]
    status: Literal["draft", "approved", "archived"]
    representations: Annotated[list[Representation], Field(min_length=1)]
    tags: Annotated[list[Ref], Field(max_length=20)] | None = None
    labels: list[str] | None = None


class Collection(_Kinded):
    kind: Literal["collection"]
    filterType: Literal["offers", "any-tags", "all-tags"]
    ids: Annotated[list[Ref], Field(max_length=500)]
    labels: list[str] | None = None


class Order(_Strict):
    orderEvaluationType: Literal["static", "ranking-strategy", "scoringFunction"]
    rankingStrategy: str | None = None
    function: str | None = None


class CriterionRank(_Strict):
    priority: Annotated[int, Field(ge=0)]
    order: Order | None = None


class ProfileConstraint(_Strict):
    profileConstraintType: ProfileConstraintType
    eligibilityRule: Ref | None = None
    segmentIdentities: list[SegmentIdentity] | None = None


class OptionSelection(_Strict):
    filter: Ref


class Criterion(_Strict):
    placements: Annotated[list[Ref], Field(min_length=1, max_length=30)]
    rank: CriterionRank | None = None
    profileConstraint: ProfileConstraint | None = None
    optionSelection: OptionSelection


class Decision(_Kinded):
    kind: Literal["decision"]
    status: Literal["draft", "live", "archived"]
    startDate: DateTime | None = None
    endDate: DateTime | None = None
    fallback: Ref
    criteria: Annotated[list[Criterion], Field(min_length=1)]
    labels: list[str] | None = None


MODELS: Mapping[Kind, type[_Kinded]] = {
    Kind.TAG: Tag,
    Kind.PLACEMENT: Placement,
    Kind.DECISION_RULE: DecisionRule,
    Kind.PERSONALIZED_OFFER: PersonalizedOffer,
    Kind.FALLBACK_OFFER: FallbackOffer,
    Kind.COLLECTION: Collection,
    Kind.DECISION: Decision,
}


def json_schema(kind: Kind | None) -> dict[str, Any]:
    """The JSON Schema of one kind's file, or of any file of offers/ (kind=None)."""
    if kind is not None:
        document = MODELS[kind].model_json_schema()
    else:
        union = Annotated[
            Tag
            | Placement
            | DecisionRule
            | PersonalizedOffer
            | FallbackOffer
            | Collection
            | Decision,
            Field(discriminator="kind"),
        ]
        document = TypeAdapter(union).json_schema()
        document["title"] = "reconciler offers/ definition"
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **document}


def semantic_problems(kind: Kind, body: Mapping[str, JsonValue]) -> Iterator[tuple[Path, str]]:
    """The rules across fields of a structurally valid body, each at the path it concerns."""
    yield from _date_order(body, ())
    constraint = body.get("selectionConstraint")
    if isinstance(constraint, dict):
        yield from _date_order(constraint, ("selectionConstraint",))
    caps = body.get("frequencyCappingConstraints")
    if isinstance(caps, list):
        for index, cap in enumerate(caps):
            if isinstance(cap, dict):
                yield from _date_order(cap, ("frequencyCappingConstraints", index))
    representations = body.get("representations")
    if isinstance(representations, list):
        seen: dict[str, int] = {}
        for index, item in enumerate(representations):
            if not isinstance(item, dict):
                continue
            placement = item.get("placement")
            name = placement if isinstance(placement, str) else repr(placement)
            if name in seen:
                yield (
                    ("representations", index, "placement"),
                    f"a second representation for the same placement (the first is "
                    f"representations[{seen[name]}]): an offer has one representation per placement",
                )
            else:
                seen[name] = index


def _date_order(body: Mapping[str, JsonValue], path: Path) -> Iterator[tuple[Path, str]]:
    start, end = body.get("startDate"), body.get("endDate")
    if isinstance(start, str) and isinstance(end, str):
        begins, ends = _instant(start), _instant(end)
        if begins is not None and ends is not None and ends <= begins:
            yield (*path, "endDate"), f"endDate {end} is not after startDate {start}"


def _instant(text: str) -> datetime.datetime | None:
    try:
        moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None or "T" not in text:
        return None
    return moment
