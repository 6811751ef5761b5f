"""Pure: legacy decisions -> one selection strategy per criterion: their rows of the mapping
table and their converter (placements, dates and the fallback belong to the decision policy)."""

from __future__ import annotations

from reconciler.migration_body import at, criteria, listed, ref
from reconciler.migration_context import (
    Context,
    Result,
    copied,
    described,
    no_audiences,
    rule_reference,
)
from reconciler.migration_model import Output, is_legacy
from reconciler.migration_row import ENTITY_MAPPING, LABELS, NO_AUDIENCES, POLICY, Row
from reconciler.model import Desired, JsonValue, Kind, Ref

_STRATEGY_API = "api-reference/selection-strategies/create.md"
_POLICY_OWNS = "the Offer Library API does not manage decision policies"


def _criterion(path: str) -> str:
    return f"criteria[].{path}"


_STRATEGY = Kind.SELECTION_STRATEGY

ROWS: tuple[Row, ...] = (
    # decisions: one selection strategy per criterion
    Row(
        Kind.DECISION,
        "name",
        _STRATEGY,
        "name",
        "'<name> (criterion <n>)': one selection strategy per criterion",
        ENTITY_MAPPING,
    ),
    Row(
        Kind.DECISION,
        "description",
        _STRATEGY,
        "description",
        "copied to each strategy",
        _STRATEGY_API,
    ),
    Row(
        Kind.DECISION,
        "status",
        None,
        None,
        f"a decision goes live with the decision policy of a campaign or journey; {_POLICY_OWNS}",
        POLICY,
    ),
    Row(
        Kind.DECISION,
        "startDate",
        None,
        None,
        f"the campaign or journey holding the decision policy is scheduled; {_POLICY_OWNS}",
        POLICY,
    ),
    Row(
        Kind.DECISION,
        "endDate",
        None,
        None,
        f"the campaign or journey holding the decision policy is scheduled; {_POLICY_OWNS}",
        POLICY,
    ),
    Row(
        Kind.DECISION,
        "fallback",
        None,
        None,
        "the decision policy chooses its fallback item (the fallback offer is migrated to an "
        f"item to choose there); {_POLICY_OWNS}",
        POLICY,
    ),
    Row(
        Kind.DECISION,
        _criterion("placements"),
        None,
        None,
        "a decision policy is added to a message's content (a code-based experience surface, or "
        f"an email component with a placement assigned); {_POLICY_OWNS}",
        POLICY,
    ),
    Row(
        Kind.DECISION,
        _criterion("rank.priority"),
        _STRATEGY,
        "rank.priority",
        "copied (0 when the criterion has no rank)",
        _STRATEGY_API,
    ),
    Row(
        Kind.DECISION,
        _criterion("rank.order.orderEvaluationType"),
        _STRATEGY,
        "rank.order.orderEvaluationType",
        "static and scoringFunction copied (static when the criterion has no order); "
        "ranking-strategy becomes static (see rankingStrategy)",
        _STRATEGY_API,
    ),
    Row(
        Kind.DECISION,
        _criterion("rank.order.function"),
        _STRATEGY,
        "rank.order.function",
        "a reference to the migrated ranking formula (or to the formula itself when it is "
        "Decisioning's already)",
        _STRATEGY_API,
    ),
    Row(
        Kind.DECISION,
        _criterion("rank.order.rankingStrategy"),
        None,
        None,
        "a legacy AI ranking strategy is not a Decisioning AI model: select a model on the "
        "strategy in the UI (it ranks by priority meanwhile)",
        "ranking/ai-models.md",
    ),
    Row(
        Kind.DECISION,
        _criterion("profileConstraint.profileConstraintType"),
        _STRATEGY,
        "profileConstraint.profileConstraintType",
        "copied (none when the criterion has no profile constraint)",
        _STRATEGY_API,
    ),
    Row(
        Kind.DECISION,
        _criterion("profileConstraint.eligibilityRule"),
        _STRATEGY,
        "profileConstraint.eligibilityRule",
        "a reference to the migrated eligibility rule",
        _STRATEGY_API,
    ),
    Row(
        Kind.DECISION,
        _criterion("profileConstraint.segmentIdentities"),
        None,
        None,
        NO_AUDIENCES,
        _STRATEGY_API,
    ),
    Row(
        Kind.DECISION,
        _criterion("optionSelection.filter"),
        _STRATEGY,
        "optionSelection.filter",
        "a reference to the migrated item collection",
        _STRATEGY_API,
    ),
    Row(Kind.DECISION, "labels", None, None, LABELS, _STRATEGY_API),
)


def convert_decision(item: Desired, context: Context) -> Result:
    outputs: list[Output] = []
    targets = context.targets[item.key]
    sequence: list[str] = []
    for index, (criterion, target) in enumerate(zip(criteria(item), targets, strict=True)):
        where = f"criteria[{index}]"
        rank = criterion.get("rank")
        priority = at(rank, "priority")
        order_type = at(rank, "order", "orderEvaluationType")
        order: dict[str, JsonValue] = {
            "orderEvaluationType": "scoringFunction"
            if order_type == "scoringFunction"
            else "static"
        }
        if order_type == "scoringFunction":
            function = at(rank, "order", "function")
            key = ref(function)
            if key is None:
                context.problem(
                    item,
                    f"{where}.rank.order.function",
                    f"the literal id {function!r} names a ranking formula this repository does "
                    "not define: define it here ({ref: <key>}) or import it first",
                )
            else:
                formula = context.by_key[key]
                order["function"] = Ref(context.target(key).key if is_legacy(formula) else key)
        rank_out: dict[str, JsonValue] = {
            "priority": priority if isinstance(priority, int) else 0,
            "order": order,
        }
        constraint = criterion.get("profileConstraint")
        profile: dict[str, JsonValue] = {"profileConstraintType": "none"}
        if isinstance(constraint, dict):
            if no_audiences(item, f"{where}.profileConstraint", constraint, context):
                profile["profileConstraintType"] = copied(constraint.get("profileConstraintType"))
            if "eligibilityRule" in constraint:
                rule = rule_reference(
                    item,
                    f"{where}.profileConstraint.eligibilityRule",
                    constraint["eligibilityRule"],
                    context,
                )
                if rule is not None:
                    profile["eligibilityRule"] = rule
        selection: dict[str, JsonValue] = {}
        filter_value = at(criterion, "optionSelection", "filter")
        collection = ref(filter_value)
        if collection is None:
            context.problem(
                item,
                f"{where}.optionSelection.filter",
                f"the literal id {filter_value!r} names a collection this repository does not "
                "define: define it here ({ref: <key>}) or import it first",
            )
        else:
            selection["filter"] = Ref(context.target(collection).key)
        body = {
            **described(target, item.body),
            "rank": rank_out,
            "profileConstraint": profile,
            "optionSelection": selection,
        }
        outputs.append(Output(target.key, target.kind, target.name, body))
        placements = ", ".join(
            _label(value, context) for value in listed(criterion.get("placements"))
        )
        sequence.append(f"{target.name} (placements: {placements})")
        if order_type == "ranking-strategy":
            sequence[-1] += ", ranked by priority until you select an AI model"
    fallback = item.body.get("fallback")
    notes = [
        "next step: a decision policy in the campaign or journey that shows these placements "
        f"evaluates the selection strategies in this order: {'; '.join(sequence)}; its fallback "
        f"item is {_item_label(fallback, context)} ({POLICY})"
    ]
    return outputs, notes


def _label(value: JsonValue, context: Context) -> str:
    key = ref(value)
    return repr(context.name(key)) if key is not None and key in context.by_key else str(value)


def _item_label(value: JsonValue, context: Context) -> str:
    key = ref(value)
    if key is None or key not in context.targets:
        return f"the item of {value} (not defined in this repository)"
    return repr(context.target(key).name)
