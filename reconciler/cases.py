"""Pure: reconciler's own kinds under offers/, never sent to Adobe: `profile` and `decision-test`.

A profile is who a simulation is for (XDM attributes, audience ids, request context); a decision
test names a decision (or selection strategy), a profile, a moment, and what must come out.
The YAML models are here; documents checks them with schema.check_model and locates problems.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reconciler import caseschema
from reconciler.eligibility import Identity, Profile
from reconciler.estate import moment
from reconciler.model import JsonValue, Key, Kind
from reconciler.model import Ref as ModelRef
from reconciler.rules import Anchor, Issue

PROFILE = caseschema.PROFILE
DECISION_TEST = caseschema.DECISION_TEST
KINDS = (PROFILE, DECISION_TEST)
"""reconciler's own kinds: checked with every definition, never planned, sent or diffed."""
MODELS = caseschema.MODELS
ProfileFields = caseschema.ProfileFields


@dataclass(frozen=True, slots=True)
class DecisionTest:
    key: Key
    source: str  # offers/... path, for messages
    decision: Key
    profile: Key | Profile  # a profile file's key, or the profile written inline
    at: datetime.datetime
    item_count: int
    expect: Mapping[Key, tuple[Key, ...]] | None
    fallback: bool


def profile_of(data: Mapping[str, Any]) -> Profile:
    """A checked profile mapping (ProfileFields) as a Profile value."""
    return Profile(
        attributes=dict(data.get("attributes") or {}),
        audiences=frozenset(str(a) for a in data.get("audiences") or ()),
        context=dict(data.get("context") or {}),
        identity=_identity_of(data.get("identity")),
    )


def _identity_of(data: object) -> Identity | None:
    if not isinstance(data, Mapping):
        return None
    return Identity(namespace=str(data["namespace"]), id=str(data["id"]))


def test_of(key: Key, source: str, data: Mapping[str, Any]) -> DecisionTest:
    """A checked decision-test mapping as a DecisionTest value."""
    profile = data["profile"]
    at = moment(data["at"])
    assert at is not None  # checked: DateTime
    expect = data.get("expect")
    return DecisionTest(
        key=key,
        source=source,
        decision=Key(str(data["decision"]["ref"])),
        profile=Key(str(profile["ref"])) if "ref" in profile else profile_of(profile),
        at=at,
        item_count=int(data.get("itemCount") or 1),
        expect=(
            {Key(p): tuple(Key(o) for o in offers) for p, offers in expect.items()}
            if isinstance(expect, dict)
            else None
        ),
        fallback=data.get("fallback") is True,
    )


def shape_issue(data: Mapping[str, JsonValue]) -> str | None:
    """What a decision test lacks that the model cannot say: exactly one of expect, fallback."""
    has_expect, has_fallback = data.get("expect") is not None, data.get("fallback") is not None
    if has_expect == has_fallback:
        return (
            "a decision test needs exactly one of expect: {<placement key>: [<offer keys>]} "
            "or fallback: true"
        )
    return None


_OFFERS = (Kind.PERSONALIZED_OFFER, Kind.FALLBACK_OFFER, Kind.DECISION_ITEM)


def reference_issues(
    data: Mapping[str, Any],
    kinds_of: Mapping[Key, Kind],
    bodies: Mapping[Key, Mapping[str, JsonValue]],
    profiles: frozenset[Key],
    files: frozenset[Key],
) -> list[Issue]:
    """What a checked decision test names that offers/ does not hold, or holds as another kind.

    A key whose file is too broken to load is not reported again here (its file's problem is)."""
    issues: list[Issue] = []
    decision = Key(str(data["decision"]["ref"]))
    kind = kinds_of.get(decision)
    if kind not in (Kind.DECISION, Kind.SELECTION_STRATEGY):
        if decision not in files:
            issues.append(Issue(("decision",), f"decision: no file defines {decision}: {_FIX}"))
        elif kind is not None:
            issues.append(
                Issue(
                    ("decision",), f"decision: {decision} is a {kind.value}, not a decision: {_FIX}"
                )
            )
        return issues
    profile = data["profile"]
    if "ref" in profile and Key(str(profile["ref"])) not in profiles:
        named = Key(str(profile["ref"]))
        what = "is not a kind: profile file" if named in files else "has no file"
        issues.append(
            Issue(
                ("profile",),
                f"profile: {named} {what}: refer to a kind: profile file, or write the profile "
                "inline (attributes:, audiences:, context:)",
            )
        )
    places = _placements(decision, kind, bodies.get(decision, {}))
    for placement, offers in (data.get("expect") or {}).items():
        if placement not in places:
            listed = ", ".join(sorted(places))
            issues.append(
                Issue(
                    ("expect", placement),
                    f"expect.{placement}: not a placement of {decision}: use one of {listed}",
                    Anchor.KEY,
                )
            )
        for index, offer in enumerate(offers):
            if (
                kinds_of.get(Key(offer)) not in _OFFERS
                and Key(offer) not in files - kinds_of.keys()
            ):
                issues.append(
                    Issue(
                        ("expect", placement, index),
                        f"expect.{placement}[{index}]: {offer} is not an offer or decision item of "
                        "offers/: write the key of one (its path under offers/ without .yaml)",
                    )
                )
    return issues


_FIX = "name a decision or selection-strategy key (its path under offers/ without .yaml)"


def _placements(decision: Key, kind: Kind, body: Mapping[str, JsonValue]) -> frozenset[str]:
    """The placement keys a test may expect: a decision's criteria's, a strategy's own key."""
    if kind is Kind.SELECTION_STRATEGY:
        return frozenset({decision})
    criteria = body.get("criteria")
    return frozenset(
        ref.key
        for criterion in (criteria if isinstance(criteria, list) else [])
        if isinstance(criterion, dict)
        for ref in _listed(criterion.get("placements"))
        if isinstance(ref, ModelRef)
    )


def _listed(value: object) -> list[object]:
    return value if isinstance(value, list) else []
