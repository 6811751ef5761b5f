"""The YAML models of reconciler's own kinds, `profile` and `decision-test` (reconciler.cases)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import Field

from reconciler.fields import DateTime, Ref, Strict, Text

PROFILE = "profile"
DECISION_TEST = "decision-test"

KeyText = Annotated[str, Field(min_length=1, pattern=r"^[^\s/][^\s]*$")]


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


class ProfileFile(ProfileFields):
    kind: Literal["profile"]


class DecisionTestFile(Strict):
    """A decision test: `reconciler test` simulates it and compares the outcome."""

    kind: Literal["decision-test"]
    description: Text | None = None
    decision: Ref = Field(description="The decision (or selection strategy) to simulate.")
    profile: Ref | ProfileFields = Field(
        description="A profile: {ref: <key of a kind: profile file>}, or its fields inline."
    )
    at: DateTime = Field(description="The moment simulated (tests never depend on the clock).")
    itemCount: Annotated[int, Field(ge=1, le=30)] | None = Field(
        default=None, description="How many items a selection strategy proposes (default 1)."
    )
    expect: dict[KeyText, list[KeyText]] | None = Field(
        default=None,
        description="Per placement key (a strategy's own key), the offer keys in rank order.",
    )
    fallback: Literal[True] | None = Field(
        default=None, description="Every placement falls back to the decision's fallback."
    )


MODELS: Mapping[str, type[Strict]] = {PROFILE: ProfileFile, DECISION_TEST: DecisionTestFile}
