"""The YAML models of reconciler's own kinds, `profile` and `decision-test` (reconciler.cases)."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Discriminator, Field
from pydantic import Tag as Branch

from reconciler.fields import INLINE, REF, DateTime, Ref, Strict, Text

PROFILE = "profile"
DECISION_TEST = "decision-test"

KeyText = Annotated[str, Field(min_length=1, pattern=r"^[^\s/][^\s]*$")]


class ProfileIdentity(Strict):
    """The profile's identity in a live sandbox, for `reconciler check`."""

    namespace: Text = Field(description="The identity namespace's code: Email, ECID, CRMID...")
    id: Text = Field(description="The identity in that namespace: someone@example.com.")


class ProfileFields(Strict):
    """A profile's content, in a `kind: profile` file or inline in a decision test."""

    description: Text | None = None
    attributes: dict[str, Any] = Field(
        default_factory=dict,
        description="The profile's XDM attributes, as PQL reads them (loyalty.tier).",
    )
    audiences: list[Text] = Field(
        default_factory=list, description="The ids of the audiences (segments) it belongs to."
    )
    context: dict[str, Any] = Field(
        default_factory=dict, description="Request context data, read by PQL as context.x."
    )
    identity: ProfileIdentity | None = Field(
        default=None,
        description="Its identity in the live sandbox: reconciler check asks Adobe for it.",
    )


class ProfileFile(ProfileFields):
    kind: Literal["profile"]


FIRST_YEAR, LAST_YEAR = 1900, 9998
"""The moments a simulation takes: dates and `now` arithmetic stay inside Python's calendar."""


def _simulable(value: str) -> str:
    moment = datetime.datetime.fromisoformat(value)
    if not FIRST_YEAR <= moment.year <= LAST_YEAR:
        raise ValueError(f"expected a moment between the years {FIRST_YEAR} and {LAST_YEAR}")
    return value


def _profile_branch(value: object) -> str | None:
    if isinstance(value, dict):
        return REF if "ref" in value else INLINE
    return None


ProfileChoice = Annotated[
    # the inline branch first: an unknown field's spelling hint names the profile's fields
    Annotated[ProfileFields, Branch(INLINE)] | Annotated[Ref, Branch(REF)],
    Discriminator(
        _profile_branch,
        custom_error_type="profile",
        custom_error_message="expected {ref: <key of a kind: profile file>} or the profile's "
        "fields (attributes:, audiences:, context:)",
    ),
]


class DecisionTestFile(Strict):
    """A decision test: `reconciler test` simulates it and compares the outcome."""

    kind: Literal["decision-test"]
    description: Text | None = None
    decision: Ref = Field(description="The decision (or selection strategy) to simulate.")
    profile: ProfileChoice = Field(
        description="A profile: {ref: <key of a kind: profile file>}, or its fields inline."
    )
    at: Annotated[DateTime, AfterValidator(_simulable)] = Field(
        description="The moment simulated (tests never depend on the clock)."
    )
    itemCount: Annotated[int, Field(ge=1, le=30)] | None = Field(
        default=None, description="How many items a selection strategy proposes (default 1)."
    )
    expect: Annotated[dict[KeyText, list[KeyText]], Field(min_length=1)] | None = Field(
        default=None,
        description="Per placement key (a strategy's own key), the offer keys in rank order.",
    )
    fallback: Literal[True] | None = Field(
        default=None, description="Every placement falls back to the decision's fallback."
    )


MODELS: Mapping[str, type[Strict]] = {PROFILE: ProfileFile, DECISION_TEST: DecisionTestFile}
