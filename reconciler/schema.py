"""pydantic models of each kind's YAML: where parsed text becomes checked data, and its JSON Schema.

The models mirror the Offer Library API's own field names (reference §3, §4), so an Adobe example
body pastes in as it is. Unknown fields are refused at every depth and types are strict (`true`
is not an integer, `"1"` is not a number). A field holding another object's id takes a literal
id or `{ref: <key>}`. `check` returns every problem of one body as an `Issue`: a path into the
body, what the path points at, and a message that names the field and says what to do.
"""

from __future__ import annotations

import difflib
import json
import math
import types
from collections.abc import Mapping
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import (
    AfterValidator,
    BaseModel,
    Field,
    TypeAdapter,
    ValidationError,
)
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import ErrorDetails, core_schema

from reconciler import caseschema, exdschema
from reconciler.fields import (
    BRANCHES,
    PATTERN_HINTS,
    REFERENCE_HELP,
    Channel,
    Condition,
    Count,
    DateTime,
    DefinedOn,
    FrequencyCap,
    MediaType,
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
from reconciler.rules import (
    GUARDRAILS_PAGE,
    MAX_ATTRIBUTES,
    MAX_CAPS,
    MAX_DEPTH,
    MAX_ITEM_COUNT,
    MAX_OFFERS_PER_COLLECTION,
    MAX_TAGS,
    Anchor,
    Issue,
    Location,
    dotted,
    rules,
)

# --- the kinds ------------------------------------------------------------------------------


class Tag(Object):
    """A collection qualifier (tag): offers and collections refer to it."""

    kind: Literal["tag"]


class ReturnMetaData(Strict):
    decisionName: bool | None = None
    offerName: bool | None = None
    offerAttributes: bool | None = None
    offerPriority: bool | None = None
    placementName: bool | None = None
    channelType: bool | None = None
    contentType: bool | None = None


class Placement(Object):
    """Where offers appear: a channel and the type of content it takes."""

    kind: Literal["placement"]
    # The UI's four content types, "Text, HTML, Image Link, or JSON" (reference §3.3).
    componentType: Literal["html", "text", "imagelink", "json"]
    channel: Channel
    itemCount: Annotated[int, Field(ge=1, le=MAX_ITEM_COUNT)] | None = None
    allowDuplicatePlacements: bool | None = None
    returnContent: bool | None = None
    returnMetaData: ReturnMetaData | None = None
    labels: list[str] | None = None


def _not_exd(value: bool) -> bool:
    if value:
        raise ValueError(
            "true makes it a Decisioning eligibility rule: write kind: eligibility-rule (for an "
            "object already applied, under a new key, or after `reconciler state rm` of this one)"
        )
    return value


class DecisionRule(Object):
    """An eligibility rule: a PQL condition on the profile and context."""

    kind: Literal["decision-rule"]
    condition: Condition
    definedOn: dict[str, DefinedOn] | None = None
    exdRule: Annotated[bool, AfterValidator(_not_exd)] | None = None
    labels: list[str] | None = None


class Component(Strict):
    # The DPS short names of Adobe's examples (reference §4): html, text, imagelink, json, and
    # component-text (the email fallback example). The xcore URIs are not accepted by DPS.
    type: Literal["html", "text", "imagelink", "json", "component-text"]
    format: MediaType
    language: list[Text] | None = None
    content: str | None = None
    deliveryURL: str | None = None
    linkURL: str | None = None
    repoId: str | None = None
    repoName: str | None = None
    resolveURL: str | None = None


class Representation(Strict):
    channel: Channel
    placement: Reference
    components: Annotated[list[Component], Field(min_length=1)]


class SelectionConstraint(Strict):
    startDate: DateTime | None = None
    endDate: DateTime | None = None
    profileConstraintType: ProfileConstraintType
    eligibilityRule: Reference | None = None
    segmentIdentities: list[SegmentIdentity] | None = None


class OfferRank(Strict):
    priority: Priority


class CappingConstraint(Strict):
    globalCap: Count | None = None
    profileCap: Count | None = None


class PersonalizedOffer(Object):
    """A personalized offer: representations per placement, eligibility, rank and capping."""

    kind: Literal["personalized-offer"]
    status: OfferStatus
    representations: Annotated[list[Representation], Field(min_length=1)]
    selectionConstraint: SelectionConstraint
    rank: OfferRank | None = None
    cappingConstraint: CappingConstraint | None = None
    frequencyCappingConstraints: (
        Annotated[list[FrequencyCap], limit("maxItems", MAX_CAPS)] | None
    ) = None
    characteristics: Annotated[dict[str, str], limit("maxProperties", MAX_ATTRIBUTES)] | None = None
    tags: Annotated[list[Reference], limit("maxItems", MAX_TAGS)] | None = None
    labels: list[str] | None = None


class FallbackOffer(Object):
    """A fallback offer: shown when no personalized offer qualifies; never constrained or ranked."""

    kind: Literal["fallback-offer"]
    status: OfferStatus
    representations: Annotated[list[Representation], Field(min_length=1)]
    tags: Annotated[list[Reference], limit("maxItems", MAX_TAGS)] | None = None
    labels: list[str] | None = None


# What a fallback offer does not have, although Adobe's fallback create example sends some.
_NOT_ON_FALLBACK = {
    "selectionConstraint": "selection constraint (dates and eligibility)",
    "rank": "rank",
    "cappingConstraint": "capping",
    "frequencyCappingConstraints": "frequency capping",
}


class Collection(Object):
    """A collection: the offers listed by id, or the offers carrying any or all of some tags."""

    kind: Literal["collection"]
    filterType: Literal["offers", "any-tags", "all-tags"]
    ids: Annotated[list[Reference], limit("maxItems", MAX_OFFERS_PER_COLLECTION)]
    labels: list[str] | None = None


class Order(Strict):
    orderEvaluationType: Literal["static", "ranking-strategy", "scoringFunction"]
    rankingStrategy: Text | None = None
    function: Reference | None = None


class CriterionRank(Strict):
    priority: Priority
    order: Order | None = None


class ProfileConstraint(Strict):
    profileConstraintType: ProfileConstraintType
    eligibilityRule: Reference | None = None
    segmentIdentities: list[SegmentIdentity] | None = None


class OptionSelection(Strict):
    filter: Reference


class Criterion(Strict):
    placements: Annotated[list[Reference], Field(min_length=1)]
    rank: CriterionRank | None = None
    profileConstraint: ProfileConstraint | None = None
    optionSelection: OptionSelection


class Decision(Object):
    """A decision (activity): per group of placements, a collection to pick from; and a fallback."""

    kind: Literal["decision"]
    status: Literal["draft", "live", "archived"]
    startDate: DateTime | None = None
    endDate: DateTime | None = None
    fallback: Reference
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
    **exdschema.MODELS,
}


# --- checking -------------------------------------------------------------------------------


def check(kind: Kind, data: Mapping[Any, Any]) -> tuple[Issue, ...]:
    """Every problem of one parsed file (kind: included), in no particular order."""
    issues, stopped = _checked(MODELS[kind], data, kind)
    if stopped:
        return issues
    return (*issues, *rules(kind, data), *exdschema.issues(kind, data))


def check_model(model: type[BaseModel], data: Mapping[Any, Any]) -> tuple[Issue, ...]:
    """The problems a model of reconciler's own kinds (reconciler.cases) finds in one parsed
    file, in the words of `check`."""
    return _checked(model, data, None)[0]


def _checked(
    model: type[BaseModel], data: Mapping[Any, Any], kind: Kind | None
) -> tuple[tuple[Issue, ...], bool]:
    """The model's problems, and whether one of them stopped every other check."""
    nulls: list[Location] = []
    strays: list[Issue] = []  # keys that are not text, numbers JSON cannot hold
    stop = _scan(data, nulls, strays, (), set())
    if stop is not None:
        return (stop,), True
    issues: list[Issue] = list(strays)
    failed: set[Location] = {stray.location for stray in strays}
    null_set = set(nulls)
    try:
        model.model_validate(data)
    except ValidationError as invalid:
        strayed = {stray.location for stray in strays}
        for error in invalid.errors(include_url=False):
            location = tuple(step for step in error["loc"] if step not in BRANCHES)
            if location in strayed or location[:-1] in strayed:
                continue  # said already, in JSON's terms (the scan above)
            failed.add(location)
            if location[-1:] == ("[key]",):  # a mapping key that is not text: `1: x`
                location = location[:-1]
                issues.append(
                    Issue(
                        location,
                        f"{dotted(location[:-1])}: the key {got(location[-1])} must be text: "
                        "put it in quotes",
                        Anchor.KEY,
                    )
                )
            elif location in null_set and error["type"] not in ("extra_forbidden", "invalid_key"):
                issues.append(_null(location))
            else:
                issues.append(_issue(model, kind, location, error))
    # A null the model accepts as "absent" (`X | None`) is still refused: null is never sent.
    for location in nulls:
        if not any(location[:depth] in failed for depth in range(len(location) + 1)):
            issues.append(_null(location))
    return tuple(issues), False


def _null(location: Location) -> Issue:
    return Issue(location, f"{dotted(location)}: null is not a value: give one or remove the line")


def _scan(
    value: object, nulls: list[Location], strays: list[Issue], here: Location, active: set[int]
) -> Issue | None:
    """Collect the locations of nulls, and the values JSON cannot hold at any depth (a number
    that is not finite, a mapping key that is not text: also where no model looks, in custom
    attributes or a uiModel); or return the one problem that stops all checks of a body: an
    alias that makes a value contain itself, or nesting deeper than any kind has."""
    if value is None:
        nulls.append(here)
    elif isinstance(value, float) and not math.isfinite(value):
        strays.append(
            Issue(here, f"{dotted(here)}: {value} is not a number JSON can hold: give a finite one")
        )
    elif isinstance(value, dict | list):
        if len(here) > MAX_DEPTH:
            return Issue(
                here,
                f"{dotted(here)}: nested deeper than any field of any kind ({MAX_DEPTH} levels): "
                "remove the extra levels",
            )
        if id(value) in active:
            return Issue(
                here, f"{dotted(here)}: an alias that contains itself: write the value out"
            )
        active.add(id(value))
        if isinstance(value, dict):
            for key in value:
                if not isinstance(key, str):
                    step = key if isinstance(key, int) and not isinstance(key, bool) else str(key)
                    strays.append(
                        Issue(
                            (*here, step),
                            f"{dotted(here)}: the key {got(key)} must be text: put it in quotes",
                            Anchor.KEY,
                        )
                    )
        pairs = value.items() if isinstance(value, dict) else enumerate(value)
        for step, item in pairs:
            if isinstance(item, dict | list | float) or item is None:
                step = step if isinstance(step, str | int) else str(step)
                found = _scan(item, nulls, strays, (*here, step), active)
                if found is not None:
                    return found
        active.discard(id(value))
    return None


def _issue(
    model: type[BaseModel], kind: Kind | None, location: Location, error: ErrorDetails
) -> Issue:
    """A pydantic error as a message that names the field and says what to do."""
    where = dotted(location)
    kind_of_error = error["type"]
    context = error.get("ctx") or {}
    given = error.get("input")
    match kind_of_error:
        case "missing":
            return Issue(location, f"{where}: required field is missing: add it", Anchor.PARENT)
        case "extra_forbidden" | "invalid_key":
            return Issue(location, _unknown_field(model, kind, location), Anchor.KEY)
        case "literal_error":
            expected = str(context["expected"]).replace("'", "").replace(" or ", ", ")
            what = f"expected one of: {expected}"
        case "reference":
            what = REFERENCE_HELP
        case "int_type" | "int_parsing" | "int_from_float":
            what = "expected a whole number without quotes"
        case "bool_type" | "bool_parsing":
            what = "expected true or false"
        case "string_type":
            scalar = isinstance(given, int | float | bool)
            what = "expected text" + (": put the value in quotes" if scalar else "")
        case "list_type":
            what = "expected a list"
        case "dict_type" | "model_type" | "model_attributes_type":
            what = "expected a mapping of fields"
        case "too_short":
            count = context["min_length"]
            return Issue(
                location,
                f"{where}: needs at least {count} item{'s' if count != 1 else ''}, "
                f"found {context['actual_length']}: add one",
            )
        case "greater_than_equal":
            what = f"expected a number >= {context['ge']}"
        case "less_than_equal":
            what = f"expected a number <= {context['le']}"
            if location == ("itemCount",):  # the one guardrail the models hold as a bound
                return Issue(
                    location,
                    f"{where}: {what} (got {got(given)}): a decision scope returns at most "
                    f"{context['le']} offers ({GUARDRAILS_PAGE})",
                )
        case "string_too_short":
            what = "must not be empty"
        case "string_pattern_mismatch":
            what = PATTERN_HINTS.get(str(context["pattern"]), f"must match {context['pattern']}")
        case "value_error":
            what = str(context["error"])
        case _:
            message = str(error["msg"])
            what = message[:1].lower() + message[1:]
    return Issue(location, f"{where}: {what} (got {got(given)})")


def got(value: object) -> str:
    """A value as the message shows it: strings quoted, numbers as numbers, containers by name."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
        return text if len(text) <= 60 else text[:56] + '..."'
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return "null" if value is None else type(value).__name__


def _unknown_field(model: type[BaseModel], kind: Kind | None, location: Location) -> str:
    parent = dotted(location[:-1]) + "." if location[:-1] else ""
    where = f"{parent}{location[-1]}"  # the last step is a name here, even a number: `1: x`
    if kind is Kind.FALLBACK_OFFER and len(location) == 1 and location[0] in _NOT_ON_FALLBACK:
        return (
            f"{where}: a fallback offer has no {_NOT_ON_FALLBACK[str(location[0])]}: remove it "
            "(Adobe's fallback example sends one, but fallback offers are never constrained)"
        )
    fields = _fields_at(model, location[:-1])
    close = difflib.get_close_matches(str(location[-1]), fields, n=1, cutoff=0.75)
    hint = f"did you mean {close[0]}?" if close else f"fields here: {', '.join(fields)}"
    return f"{where}: unknown field: remove it or fix its spelling ({hint})"


def _fields_at(model: type[BaseModel], location: Location) -> list[str]:
    """The field names the model accepts at a place in a body (for spelling hints)."""
    current: type[BaseModel] | None = model
    skip_key = False
    for step in location:
        if isinstance(step, int) or current is None:
            continue
        if skip_key:  # a key of a mapping of models (definedOn: {profile: ...})
            skip_key = False
            continue
        fields = {info.alias or name: info for name, info in current.model_fields.items()}
        info = fields.get(step)
        if info is None:
            return []
        current, skip_key = _model_in(info.annotation)
    if current is None:
        return []
    return sorted(info.alias or name for name, info in current.model_fields.items())


def _model_in(annotation: object) -> tuple[type[BaseModel] | None, bool]:
    """The model a field annotation holds (through lists, unions, Annotated), and via a dict?"""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    origin = get_origin(annotation)
    arguments = get_args(annotation)
    if origin is dict:
        model, _ = _model_in(arguments[1])
        return model, model is not None
    if origin in (list, Union, types.UnionType, Annotated):
        for argument in arguments[:1] if origin is Annotated else arguments:
            model, via_dict = _model_in(argument)
            if model is not None:
                return model, via_dict
    return None, False


class _Generator(GenerateJsonSchema):
    """JSON Schema for editors: `X | None = None` means "may be left out", never null."""

    def nullable_schema(self, schema: core_schema.NullableSchema) -> JsonSchemaValue:
        return self.generate_inner(schema["schema"])

    def default_schema(self, schema: core_schema.WithDefaultSchema) -> JsonSchemaValue:
        if schema.get("default") is None:
            return self.generate_inner(schema["schema"])
        return super().default_schema(schema)

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False


def json_schema(kind: Kind | None) -> dict[str, Any]:
    """The JSON Schema of one kind's file, or of any file of offers/ (kind=None)."""
    if kind is not None:
        document = MODELS[kind].model_json_schema(schema_generator=_Generator)
    else:
        any_kind = Annotated[
            Tag
            | Placement
            | DecisionRule
            | PersonalizedOffer
            | FallbackOffer
            | Collection
            | Decision
            | exdschema.RankingFormula
            | exdschema.EligibilityRule
            | exdschema.DecisionItem
            | exdschema.ItemCollection
            | exdschema.SelectionStrategy
            | exdschema.ExdPlacement
            | caseschema.ProfileFile
            | caseschema.DecisionTestFile,
            Field(discriminator="kind"),
        ]
        document = TypeAdapter(any_kind).json_schema(schema_generator=_Generator)
        document["title"] = "reconciler offers/ definition"
        document["description"] = (
            "One Offer Library object per file (legacy Offer Decisioning or Decisioning): kind, "
            "then the API's own fields; or one of reconciler's own kinds, never sent to Adobe "
            "(profile, decision-test). "
            "Generated by `reconciler schema`."
        )
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **document}
