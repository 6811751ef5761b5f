"""The emulator's own reading of what sets the Decisioning kinds apart on the wire.

Kept apart from the client's catalog (`reconciler.kinds`) on purpose, so that the emulator stays
an independent oracle: a test checks that the two readings agree, and a mistake in one is caught
instead of mirrored.
- exd placements are updated by PUT (`api-reference/exd-placements/update.md`; no JSON Patch);
- `/offer-rules` holds legacy decision rules and Decisioning eligibility rules, told apart by
  `exdRule: true` (`api-reference/eligibility-rules/create.md` sends it; legacy rules lack it);
- the server writes some fields into the payload itself: a decision item's `itemID` and
  `fCapConstraintsLastIndex` (`decisions-items/decision-items-list.md`), an eligibility rule's
  `segmentModel` (`eligibility-rules/eligibility-rules-list.md`).
"""

from __future__ import annotations

from collections.abc import Mapping

from reconciler.model import JsonValue, Kind

PUT_KINDS = frozenset({Kind.EXD_PLACEMENT})
"""Kinds whose objects are updated by PUT only."""

RULE_FLAG = "exdRule"
"""The field that makes an `/offer-rules` object an eligibility rule when it is true."""

DERIVED: Mapping[Kind, tuple[tuple[str, ...], ...]] = {
    Kind.DECISION_ITEM: (
        ("_experience", "decisioning", "decisionitem", "itemID"),
        ("_experience", "decisioning", "offeritem", "fCapConstraintsLastIndex"),
    ),
    Kind.ELIGIBILITY_RULE: (("segmentModel",),),
}
"""Server-owned paths inside the payload, per kind."""


def rule_kind(body: Mapping[str, JsonValue]) -> Kind:
    """The kind an `/offer-rules` body makes."""
    return Kind.ELIGIBILITY_RULE if body.get(RULE_FLAG) is True else Kind.DECISION_RULE


def holds(kind: Kind, body: Mapping[str, JsonValue]) -> bool:
    """Whether a body is one of this kind (only rules share a collection)."""
    if kind in (Kind.DECISION_RULE, Kind.ELIGIBILITY_RULE):
        return rule_kind(body) is kind
    return True
