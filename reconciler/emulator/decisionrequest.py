"""The Decisioning API's request (`POST /data/core/ods/decisions`): its headers and body, checked.

Adobe's page (journey-optimizer.en, offers/api-reference/offer-delivery-api/decisioning-api.md)
defines the headers and every property; the emulator refuses what it does not define (400, as
its response-code table says for a request "the server cannot understand"):
- `Content-Type` must be the decision-request XDM media type, `Accept` the decision-response one
  (the required-headers table lists both);
- the body's properties are the page's table, each with its type: `xdm:propositionRequests`
  (activity and placement ids, and `xdm:itemCount` 1..30, which the table lists next to them),
  exactly one profile in `xdm:profiles` ("for an API request this will contain one profile")
  with an `xdm:identityMap` of namespace codes to `{xdm:id, primary}`, and the optional
  `xdm:allowDuplicatePropositions`, `xdm:responseFormat`, `xdm:enrichedAudience` and
  `xdm:mergePolicy`. Metadata names are the table's: activity `name`; option `name`,
  `characteristics`; placement `name`, `channel`, `componentType`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from reconciler.emulator.problems import Problem, bad_request
from reconciler.model import JsonValue

XDM = "application/vnd.adobe.xdm+json"
REQUEST_SCHEMA = "https://ns.adobe.com/experience/offer-management/decision-request;version=1.0"
RESPONSE_SCHEMA = "https://ns.adobe.com/experience/offer-management/decision-response;version=1.0"
REQUEST_TYPE = f'{XDM}; schema="{REQUEST_SCHEMA}"'
RESPONSE_TYPE = f'{XDM}; schema="{RESPONSE_SCHEMA}"'


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


Id = Annotated[str, Field(min_length=1)]


class PropositionRequest(_Model):
    activity_id: Id = Field(alias="xdm:activityId")
    placement_id: Id = Field(alias="xdm:placementId")
    item_count: int | None = Field(default=None, alias="xdm:itemCount", ge=1, le=30)


class IdentityValue(_Model):
    id: Id = Field(alias="xdm:id")
    primary: bool = False


class ProfileRequest(_Model):
    identity_map: dict[str, Annotated[list[IdentityValue], Field(min_length=1)]] = Field(
        alias="xdm:identityMap", min_length=1
    )
    decision_request_id: Id | None = Field(default=None, alias="xdm:decisionRequestId")


class Duplicates(_Model):
    across_activities: bool = Field(default=True, alias="xdm:acrossActivities")
    across_placements: bool = Field(default=True, alias="xdm:acrossPlacements")


class Metadata(_Model):
    activity: list[Literal["name"]] = Field(default_factory=list, alias="xdm:activity")
    option: list[Literal["name", "characteristics"]] = Field(
        default_factory=list, alias="xdm:option"
    )
    placement: list[Literal["name", "channel", "componentType"]] = Field(
        default_factory=list, alias="xdm:placement"
    )


class ResponseFormat(_Model):
    include_content: bool = Field(default=False, alias="xdm:includeContent")
    include_metadata: Metadata | None = Field(default=None, alias="xdm:includeMetadata")


class MergePolicy(_Model):
    id: Id = Field(alias="xdm:id")


class DecisionRequest(_Model):
    propositions: list[PropositionRequest] = Field(alias="xdm:propositionRequests", min_length=1)
    profiles: list[ProfileRequest] = Field(alias="xdm:profiles", min_length=1, max_length=1)
    duplicates: Duplicates | None = Field(default=None, alias="xdm:allowDuplicatePropositions")
    response_format: ResponseFormat | None = Field(default=None, alias="xdm:responseFormat")
    enriched_audience: bool | None = Field(default=None, alias="xdm:enrichedAudience")
    merge_policy: MergePolicy | None = Field(default=None, alias="xdm:mergePolicy")

    @property
    def profile(self) -> ProfileRequest:
        return self.profiles[0]

    def identities(self) -> list[tuple[str, str]]:
        """(namespace, id) of every identity sent: the primary ones first, then in order."""
        sent = [
            (value.primary, namespace, value.id)
            for namespace, values in self.profile.identity_map.items()
            for value in values
        ]
        return [(namespace, id_) for _, namespace, id_ in sorted(sent, key=lambda s: not s[0])]


def check_headers(headers: Mapping[str, str]) -> None:
    """The two media types of the required-headers table, each with its schema parameter."""
    for name, schema in (("content-type", REQUEST_SCHEMA), ("accept", RESPONSE_SCHEMA)):
        if _media(headers.get(name, "")) != (XDM, schema):
            expected = REQUEST_TYPE if name == "content-type" else RESPONSE_TYPE
            label = "Content-Type" if name == "content-type" else "Accept"
            raise bad_request(f"{label} must be {expected}")


def _media(value: str) -> tuple[str, str | None]:
    """The media type and its `schema` parameter (quoted, it holds a `;` of its own)."""
    kind, _, rest = value.partition(";")
    found = _SCHEMA.search(rest)
    schema = (found.group(1) if found.group(1) is not None else found.group(2)) if found else None
    return kind.strip().lower(), schema


_SCHEMA = re.compile(r'(?i)\bschema\s*=\s*(?:"([^"]*)"|([^;\s]+))')


def parse(body: JsonValue) -> DecisionRequest:
    """The request, or a 400 naming the first property that is not as the page defines it."""
    if not isinstance(body, dict):
        raise bad_request("the body of a decision request must be a JSON object")
    try:
        return DecisionRequest.model_validate(body)
    except ValidationError as error:
        raise _problem(error.errors()) from None


def _problem(errors: Sequence[Mapping[str, object]]) -> Problem:
    first = errors[0]
    location = first.get("loc")
    pointer = "".join(f"/{step}" for step in location) if isinstance(location, tuple) else ""
    message = str(first.get("msg", "invalid"))
    if first.get("type") == "extra_forbidden":
        message = "is not a property of a decision request (Adobe's page does not define it)"
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return bad_request(f"{pointer or '/'}: {message}{more}")
