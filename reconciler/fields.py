"""Field types the YAML models of both object models share: formats, references, PQL.

Strict pydantic building blocks (`Strict` refuses unknown fields and coerces nothing); `Reference`
takes a literal Adobe id or `{ref: <key>}`. The kinds' models are in `schema` (legacy Offer
Decisioning) and `exdschema` (Decisioning).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Discriminator, Field
from pydantic import Tag as Branch

from reconciler.rules import instant

# --- formats --------------------------------------------------------------------------------

CHANNEL = r"^https://ns\.adobe\.com/xdm/channel-types/[a-z][a-z-]*$"
MEDIA_TYPE = r"^\w+/[-.\w]+(?:\+[-.\w]+)?$"  # XDM content-component dc:format
NOT_BLANK = r"\S"
PATTERN_HINTS = {
    CHANNEL: "expected a channel URI such as https://ns.adobe.com/xdm/channel-types/web",
    MEDIA_TYPE: "expected a media type such as text/html, text/plain or image/png",
    NOT_BLANK: "must not be blank",
}


def _date_time(value: str) -> str:
    if instant(value) is None:
        raise ValueError(
            'expected an RFC 3339 date-time with a time zone, such as "2027-06-01T00:00:00.000Z"'
        )
    return value  # kept as written: the API stores and echoes the text it was sent


Name = Annotated[str, Field(min_length=1, pattern=NOT_BLANK)]
Text = Annotated[str, Field(min_length=1)]
DateTime = Annotated[
    str,
    AfterValidator(_date_time),
    Field(json_schema_extra={"format": "date-time"}),
]
Count = Annotated[int, Field(ge=1)]
Priority = Annotated[int, Field(ge=0, description="A whole number >= 0; higher wins.")]
Channel = Annotated[str, Field(pattern=CHANNEL)]
MediaType = Annotated[str, Field(pattern=MEDIA_TYPE)]
ProfileConstraintType = Literal["none", "eligibilityRule", "anySegments", "allSegments"]
OfferStatus = Literal["draft", "approved", "archived"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


def limit(keyword: str, count: int) -> Any:
    """A guardrail count, for editors only: the rules check it, so the items are checked too."""
    return Field(json_schema_extra={keyword: count})


# --- references -----------------------------------------------------------------------------


class Ref(Strict):
    """Another object of this repository, by its key: its path under offers/ without the suffix."""

    ref: Annotated[str, Field(min_length=1, pattern=NOT_BLANK)]


# Branch names of the reference union: pydantic puts them in error locations; `check` drops them.
LITERAL_ID, REF, INLINE = "<literal id>", "<{ref: key}>", "<inline>"
BRANCHES = frozenset({LITERAL_ID, REF, INLINE})
REFERENCE_HELP = "expected an Adobe id (a string) or {ref: <key of a file in offers/>}"


def _branch(value: object) -> str | None:
    if isinstance(value, str):
        return LITERAL_ID
    if isinstance(value, dict | Ref):
        return REF
    return None


Reference = Annotated[
    Annotated[Text, Branch(LITERAL_ID)] | Annotated[Ref, Branch(REF)],
    Discriminator(_branch, custom_error_type="reference", custom_error_message=REFERENCE_HELP),
    Field(description="A literal Adobe id, or {ref: <key>} naming another file of offers/."),
]


# --- shared by the kinds -------------------------------------------------------------------


class Definition(Strict):
    """What every kind's file may say besides the API's fields (and `kind`): never sent."""

    protect: bool | None = Field(
        default=None,
        description=(
            "reconciler's own, never sent to Adobe: true makes any plan that would delete or "
            "re-create this object fail (see README: Protection)."
        ),
    )
    overrides: dict[str, dict[str, Any]] | None = Field(
        default=None,
        description=(
            "reconciler's own, never sent to Adobe: per sandbox of reconciler.yaml, a JSON Merge "
            "Patch (RFC 7386) of this body in that sandbox only: a mapping merges, null removes "
            "a field, a list replaces the whole list (see README: Per-sandbox values)."
        ),
    )


class Object(Definition):
    name: Name
    description: str | None = None


class Condition(Strict):
    type: Literal["PQL"]
    format: Literal["pql/text"]
    value: Name


class SchemaReference(Strict):
    ref: str | None = None
    altId: str | None = None
    version: str | None = None


class DefinedOn(Strict):
    schema_: SchemaReference = Field(alias="schema")
    referencePaths: list[str] | None = None


class Repeat(Strict):
    enabled: bool | None = None
    # The UI's daily, weekly, monthly (reference §4.3); Adobe's example shows "month".
    unit: Literal["day", "week", "month"] | None = None
    unitCount: Count | None = None


class FrequencyCap(Strict):
    enabled: bool | None = None
    limit: Count
    startDate: DateTime | None = None
    endDate: DateTime | None = None
    scope: Literal["global", "profile"]
    entity: Literal["offer", "placement"]
    placement: Reference | None = None
    repeat: Repeat | None = None
    duration: Count | None = None


class Namespace(Strict):
    code: Text


class SegmentIdentity(Strict):
    id_: Text = Field(alias="_id")
    namespace: Namespace
