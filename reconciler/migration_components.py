"""Pure: legacy placements, decision rules and ranking formulas -> exd placements, eligibility
rules and Decisioning ranking formulas: their rows of the mapping table and their converters."""

from __future__ import annotations

import re

from reconciler.migration_body import at
from reconciler.migration_context import Context, Result, copied, described
from reconciler.migration_model import Output
from reconciler.migration_row import ENTITY_MAPPING, INFERRED, LABELS, POLICY, Row
from reconciler.model import Desired, JsonValue, Kind

_EDGE = "decisioning-migration-api.md: Request and response model"
_RULE_API = "api-reference/eligibility-rules/create.md"
_FORMULA_API = "api-reference/ranking-formulas/create.md"
_PLACEMENT_API = "api-reference/exd-placements/create.md"

ROWS: tuple[Row, ...] = (
    # placements
    Row(Kind.PLACEMENT, "name", Kind.EXD_PLACEMENT, "name", "copied", _PLACEMENT_API),
    Row(Kind.PLACEMENT, "description", Kind.EXD_PLACEMENT, "description", "copied", _PLACEMENT_API),
    Row(Kind.PLACEMENT, "channel", Kind.EXD_PLACEMENT, "channel", "copied", _PLACEMENT_API),
    Row(
        Kind.PLACEMENT,
        "componentType",
        None,
        None,
        "a Decisioning placement has no content type: the format of the content comes from the "
        "message or fragment the decision policy fills",
        _PLACEMENT_API,
    ),
    Row(
        Kind.PLACEMENT,
        "itemCount",
        None,
        None,
        "the number of items returned is the decision policy's Number of items",
        POLICY,
    ),
    Row(
        Kind.PLACEMENT,
        "allowDuplicatePlacements",
        None,
        None,
        "duplicates are chosen per Edge request in Decisioning "
        "(data.__adobe.ajo.allowDuplicateDecisionItems)",
        _EDGE,
    ),
    Row(
        Kind.PLACEMENT,
        "returnContent",
        None,
        None,
        "what a response carries is chosen per Edge request in Decisioning "
        "(query.personalization.schemas)",
        _EDGE,
    ),
    Row(
        Kind.PLACEMENT,
        "returnMetaData",
        None,
        None,
        "a Decisioning response carries its own fixed metadata (scopeDetails, items): there is "
        "no choice per placement",
        _EDGE,
    ),
    Row(Kind.PLACEMENT, "labels", None, None, LABELS, _PLACEMENT_API),
    # decision rules
    Row(Kind.DECISION_RULE, "name", Kind.ELIGIBILITY_RULE, "name", "copied", ENTITY_MAPPING),
    Row(
        Kind.DECISION_RULE, "description", Kind.ELIGIBILITY_RULE, "description", "copied", _RULE_API
    ),
    Row(
        Kind.DECISION_RULE,
        "condition",
        Kind.ELIGIBILITY_RULE,
        "condition",
        "copied (the same PQL condition)",
        _RULE_API,
    ),
    Row(Kind.DECISION_RULE, "definedOn", Kind.ELIGIBILITY_RULE, "definedOn", "copied", INFERRED),
    Row(
        Kind.DECISION_RULE,
        "exdRule",
        Kind.ELIGIBILITY_RULE,
        "exdRule",
        "written true: it is what makes an /offer-rules object a Decisioning rule",
        _RULE_API,
    ),
    Row(Kind.DECISION_RULE, "labels", None, None, LABELS, _RULE_API),
    # ranking formulas (legacy: exdFunction not true)
    Row(
        Kind.RANKING_FORMULA,
        "name",
        Kind.RANKING_FORMULA,
        "name",
        "copied, and since the legacy formula keeps its name until it is pruned, the copy is "
        "named '<name> (Decisioning)'",
        ENTITY_MAPPING,
    ),
    Row(
        Kind.RANKING_FORMULA,
        "description",
        Kind.RANKING_FORMULA,
        "description",
        "copied",
        _FORMULA_API,
    ),
    Row(
        Kind.RANKING_FORMULA,
        "exdFunction",
        Kind.RANKING_FORMULA,
        "exdFunction",
        "written true: it is what makes a formula Decisioning's",
        _FORMULA_API,
    ),
    Row(
        Kind.RANKING_FORMULA,
        "returnType",
        Kind.RANKING_FORMULA,
        "returnType",
        "copied",
        _FORMULA_API,
    ),
    Row(
        Kind.RANKING_FORMULA,
        "expression",
        Kind.RANKING_FORMULA,
        "expression",
        "copied as written (the report notes legacy offer attributes it reads)",
        _FORMULA_API,
    ),
    Row(
        Kind.RANKING_FORMULA, "definedOn", Kind.RANKING_FORMULA, "definedOn", "copied", _FORMULA_API
    ),
    Row(Kind.RANKING_FORMULA, "isPure", Kind.RANKING_FORMULA, "isPure", "copied", INFERRED),
)


_EMAIL = "https://ns.adobe.com/xdm/channel-types/email"


def convert_placement(item: Desired, context: Context) -> Result:
    target = context.target(item.key)
    body = {
        **described(target, item.body),
        "channel": copied(item.body.get("channel")),
        "status": "active",
    }
    notes = []
    if item.body.get("channel") != _EMAIL:
        notes.append(
            "Decisioning placements are documented for the email channel only (placements.md); a "
            "code-based experience reaches this location through a channel configuration, which "
            "Adobe's Migration API creates per placement: check you need this placement"
        )
    return [Output(target.key, target.kind, target.name, body)], notes


def convert_rule(item: Desired, context: Context) -> Result:
    target = context.target(item.key)
    body: dict[str, JsonValue] = {**described(target, item.body), "exdRule": True}
    body["condition"] = copied(item.body.get("condition"))
    if "definedOn" in item.body:
        body["definedOn"] = copied(item.body["definedOn"])
    return [Output(target.key, target.kind, target.name, body)], []


_LEGACY_ATTRIBUTE = re.compile(
    r"\boffer\.(characteristics|rank|tags|selectionConstraint|name|description|status|"
    r"representations)\b"
)


def convert_formula(item: Desired, context: Context) -> Result:
    target = context.target(item.key)
    body: dict[str, JsonValue] = {**described(target, item.body), "exdFunction": True}
    for name in ("returnType", "expression", "definedOn", "isPure"):
        if name in item.body:
            body[name] = copied(item.body[name])
    notes = []
    expression = at(item.body, "expression", "value")
    if isinstance(expression, str):
        read = sorted({f"offer.{m.group(1)}" for m in _LEGACY_ATTRIBUTE.finditer(expression)})
        if read:
            notes.append(
                f"the expression reads legacy offer attributes ({', '.join(read)}): a decision "
                "item's are its standard and custom attributes (ranking/ranking-formulas.md, "
                "Define criteria using the code editor): rewrite them before merging"
            )
    return [Output(target.key, target.kind, target.name, body)], notes
