"""Pure: whether a profile meets a constraint (a rule, audiences), and a formula's score.

Rules and formulas are PQL (reconciler.pql); a result outside the simulated subset is unknown,
named, never guessed. A rule's verdict depends on the profile alone, so it is worked out once
per simulation (`Judge` keeps them).
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from reconciler import pql, pql_eval
from reconciler.estate import Estate
from reconciler.model import JsonValue, Key, Ref
from reconciler.verdicts import reads, shown

EVERYONE = "everyone is eligible"
"""The reason of a constraint that holds for every profile (a chosen offer does not repeat it)."""


@dataclass(frozen=True, slots=True)
class Identity:
    """Who a profile is in a live sandbox: an identity namespace's code and an id in it."""

    namespace: str  # the namespace's integration code: Email, ECID, CRMID...
    id: str


@dataclass(frozen=True, slots=True)
class Profile:
    """Who the simulation is for: XDM attributes, audience ids, and request context.

    `identity` names the same profile in a live sandbox (`reconciler check` asks Adobe's
    Decisioning API for it); a simulation never reads it."""

    attributes: Mapping[str, JsonValue] = field(default_factory=dict)
    audiences: frozenset[str] = frozenset()
    context: Mapping[str, JsonValue] = field(default_factory=dict)
    identity: Identity | None = None


@dataclass(frozen=True, slots=True)
class Met:
    """A constraint's verdict: met (True/False), or unknown (None) with the construct named."""

    met: bool | None
    reason: str  # why, in words: `rule "Gold members" is false (profile.loyalty.tier = "silver")`


@dataclass(frozen=True, slots=True)
class Score:
    """A candidate's rank value, or None with the reason it is unknown."""

    value: float | None
    reason: str


def _text(estate: Estate, key: Key, field_name: str) -> str | None:
    holder = estate.body(key).get(field_name) if key in estate.objects else None
    value = holder.get("value") if isinstance(holder, dict) else None
    return value if isinstance(value, str) else None


class Judge:
    """Verdicts of one profile at one moment; each rule is evaluated once, then remembered."""

    def __init__(self, estate: Estate, profile: Profile, at: datetime.datetime) -> None:
        self.estate = estate
        self.profile = profile
        self.at = at
        self._rules: dict[Key, Met] = {}

    def scope(self, offer: Mapping[str, JsonValue] | None = None) -> pql_eval.Scope:
        return pql_eval.Scope(
            profile=self.profile.attributes,
            offer=offer,
            audiences=self.profile.audiences,
            now=self.at,
            context=self.profile.context,
        )

    def constraint(self, holder: Mapping[str, JsonValue] | None) -> Met:
        """A profile constraint (`profileConstraintType` and its rule or audiences)."""
        if not isinstance(holder, Mapping):
            return Met(True, EVERYONE)
        match holder.get("profileConstraintType"):
            case "none" | None:
                return Met(True, EVERYONE)
            case "eligibilityRule":
                rule = holder.get("eligibilityRule")
                if not isinstance(rule, Ref):
                    return Met(None, f"the eligibility rule {shown(rule)} is not in the repository")
                return self.rule(rule.key)
            case "anySegments" | "allSegments" as mode:
                return self._audiences(holder.get("segmentIdentities"), mode == "allSegments")
            case other:
                return Met(None, f"profileConstraintType {shown(other)}")

    def _audiences(self, identities: object, every: bool) -> Met:
        wanted = [
            str(item.get("_id"))
            for item in (identities if isinstance(identities, list) else [])
            if isinstance(item, dict)
        ]
        inside = [audience for audience in wanted if audience in self.profile.audiences]
        met = len(inside) == len(wanted) if every else bool(inside)
        which = "all of" if every else "one of"
        listed = ", ".join(wanted) or "(none listed)"
        return Met(met, f"{'in' if met else 'not in'} {which} the audiences {listed}")

    def rule(self, key: Key) -> Met:
        if key not in self._rules:
            self._rules[key] = self._rule(key)
        return self._rules[key]

    def _rule(self, key: Key) -> Met:
        label = f"rule {self.estate.label(key)}"
        result = self._evaluated(key, "condition", label, self.scope())
        if isinstance(result, str):
            return Met(None, result)
        truth = pql_eval.truth(result)
        if truth is None:
            return Met(None, f"{label} gives {shown(result.value)}, not true or false")
        return Met(truth, f"{label} is {'true' if truth else 'false'}{reads(result.reads)}")

    def formula(self, key: Key, offer: Mapping[str, JsonValue]) -> Score:
        label = f"formula {self.estate.label(key)}"
        result = self._evaluated(key, "expression", label, self.scope(offer))
        if isinstance(result, str):
            return Score(None, result)
        value = result.value
        if isinstance(value, bool) or not isinstance(value, int | float):
            return Score(None, f"{label} gives {shown(value)}, not a number")
        if isinstance(value, float) and not math.isfinite(value):
            return Score(None, f"{label} gives {value}, not a finite number")
        # an int stays an int: scores above 2**53 are ranked exactly, not as rounded floats
        return Score(value, f"{label} scores {_number(value)}")

    def _evaluated(
        self, key: Key, field_name: str, label: str, scope: pql_eval.Scope
    ) -> pql_eval.Evaluation | str:
        """The PQL of a rule's condition or a formula's expression, evaluated; or why not."""
        text = _text(self.estate, key, field_name)
        if text is None:
            return f"{label} has no PQL {field_name}"
        try:
            expression = pql.parse(text)
        except pql.PqlSyntaxError as error:
            return f"{label} does not parse: {error}"
        result = pql_eval.evaluate(expression, scope)
        if result.unknown is not None:
            return f"{label} uses {result.unknown}, which is not simulated"
        return result


def _number(value: float) -> str:
    if isinstance(value, int):
        return str(value)
    return str(int(value)) if value.is_integer() else f"{value:g}"
