"""Pure: legacy offers (personalized and fallback) and tags -> decision items: their rows of the
mapping table and their converters (a tag becomes no object: its name lives on, on the items)."""

from __future__ import annotations

from reconciler.migration_body import at, listed, ref
from reconciler.migration_context import Context, Result, copied, no_audiences, rule_reference
from reconciler.migration_model import ATTRIBUTES, TAGS, TENANT_PLACEHOLDER, Output
from reconciler.migration_row import ENTITY_MAPPING, LABELS, NO_AUDIENCES, Row
from reconciler.model import Desired, JsonValue, Kind

_OUT_OF_SCOPE = "decisioning-migration-api.md: Out-of-Scope"
_ATTRIBUTES_PAGE = "decisioning-migration-api.md: Additional Attributes"
_ITEM_API = "api-reference/decisions-items/create.md"
_CAPPING = "items.md: Set capping rules"
_ITEM = "_experience.decisioning.decisionitem."

_CONTENT = (
    "an item holds no content: in Decisioning the content belongs to the message (code-based "
    "experience, email, push) or to a content fragment the decision policy renders; Adobe's "
    "Migration API turns JSON and text content into fragments and migrates no other content"
)
_NO_CAPPING = (
    "Decisioning capping rules have another shape (capping event, scope, in total or per "
    "profile, reset frequency) that the Offer Library API reference does not document (an "
    "item's lookup shows only fCapConstraintsLastIndex): recreate them on the item in the UI"
)


def _offer_rows(kind: Kind) -> tuple[Row, ...]:
    item = Kind.DECISION_ITEM
    shared = (
        Row(kind, "name", item, _ITEM + "itemName", "copied", _ITEM_API),
        Row(kind, "description", item, _ITEM + "itemDescription", "copied", _ITEM_API),
        Row(
            kind,
            "status",
            item,
            "_experience.decisioning.offeritem.lifecycleStatus",
            "copied (draft, approved, archived in both models)",
            _ITEM_API,
        ),
        Row(kind, "representations", None, None, _CONTENT, _OUT_OF_SCOPE),
        Row(
            kind,
            "tags",
            item,
            f"{TENANT_PLACEHOLDER}.{TAGS}",
            "the names of the offer's tags, which item collections select on (Adobe's Migration "
            "API makes Unified Tags, which the Offer Library API does not manage)",
            "collections.md",
        ),
        Row(kind, "labels", None, None, LABELS, _ITEM_API),
    )
    if kind is Kind.FALLBACK_OFFER:
        return shared
    return (
        *shared[:4],
        Row(
            kind,
            "selectionConstraint.startDate",
            item,
            _ITEM + "itemCalendarConstraints.startDate",
            "copied",
            _ITEM_API,
        ),
        Row(
            kind,
            "selectionConstraint.endDate",
            item,
            _ITEM + "itemCalendarConstraints.endDate",
            "copied",
            _ITEM_API,
        ),
        Row(
            kind,
            "selectionConstraint.profileConstraintType",
            item,
            _ITEM + "itemConstraints.profileConstraintType",
            "copied",
            _ITEM_API,
        ),
        Row(
            kind,
            "selectionConstraint.eligibilityRule",
            item,
            _ITEM + "itemConstraints.eligibilityRule",
            "a reference to the migrated eligibility rule",
            _ITEM_API,
        ),
        Row(kind, "selectionConstraint.segmentIdentities", None, None, NO_AUDIENCES, _ITEM_API),
        Row(
            kind,
            "rank.priority",
            item,
            _ITEM + "itemPriority",
            "copied (0 when the offer has no rank)",
            _ITEM_API,
        ),
        Row(kind, "cappingConstraint", None, None, _NO_CAPPING, _CAPPING),
        Row(kind, "frequencyCappingConstraints", None, None, _NO_CAPPING, _CAPPING),
        Row(
            kind,
            "characteristics",
            item,
            f"{TENANT_PLACEHOLDER}.{ATTRIBUTES}",
            "copied as a custom attribute of the item, where Adobe's Migration API keeps them",
            _ATTRIBUTES_PAGE,
        ),
        *shared[4:],
    )


TAG_ROWS: tuple[Row, ...] = (
    # tags (collection qualifiers): no object of their own
    Row(
        Kind.TAG,
        "name",
        Kind.DECISION_ITEM,
        f"{TENANT_PLACEHOLDER}.{TAGS}[]",
        "the name is written on every item migrated from an offer with the tag, and item "
        "collections that filtered on the tag select on it",
        "collections.md",
    ),
    Row(
        Kind.TAG,
        "description",
        None,
        None,
        "Unified Tags replace collection qualifiers and are managed in Experience Platform, not "
        "by the Offer Library API: only the tag's name lives on, on the items",
        ENTITY_MAPPING,
    ),
)

OFFER_ROWS: tuple[Row, ...] = (
    *_offer_rows(Kind.PERSONALIZED_OFFER),
    *_offer_rows(Kind.FALLBACK_OFFER),
)


def convert_tag(item: Desired, context: Context) -> Result:
    return [], ["a tag becomes no object: its name is written on the items of the offers it tags"]


def convert_offer(item: Desired, context: Context) -> Result:
    target = context.target(item.key)
    body = item.body
    decision_item: dict[str, JsonValue] = {"itemName": target.name}
    if "description" in body:
        decision_item["itemDescription"] = copied(body["description"])
    priority = at(body, "rank", "priority")
    decision_item["itemPriority"] = priority if isinstance(priority, int) else 0
    constraint = body.get("selectionConstraint")
    constraints: dict[str, JsonValue] = {"profileConstraintType": "none"}
    if isinstance(constraint, dict):
        calendar: dict[str, JsonValue] = {
            name: copied(constraint[name])
            for name in ("startDate", "endDate")
            if name in constraint
        }
        if calendar:
            decision_item["itemCalendarConstraints"] = calendar
        if no_audiences(item, "selectionConstraint", constraint, context):
            constraints["profileConstraintType"] = copied(constraint.get("profileConstraintType"))
        if "eligibilityRule" in constraint:
            rule = rule_reference(
                item, "selectionConstraint.eligibilityRule", constraint["eligibilityRule"], context
            )
            if rule is not None:
                constraints["eligibilityRule"] = rule
    decision_item["itemConstraints"] = constraints
    out: dict[str, JsonValue] = {
        "_experience": {
            "decisioning": {
                "offeritem": {"lifecycleStatus": copied(body.get("status"))},
                "decisionitem": decision_item,
            }
        }
    }
    attributes: dict[str, JsonValue] = {}
    if "characteristics" in body:
        attributes[ATTRIBUTES] = copied(body["characteristics"])
    if "tags" in body:
        names: list[JsonValue] = []
        for index, value in enumerate(listed(body["tags"])):
            key = ref(value)
            if key is None:
                context.problem(
                    item,
                    f"tags[{index}]",
                    f"the literal id {value!r} names a tag this repository does not define, so "
                    "its name is unknown: define the tag here ({ref: <key>}) or import it first",
                )
            else:
                names.append(context.name(key))
        attributes[TAGS] = names
    if attributes:
        out[context.tenant] = attributes
    return [Output(target.key, target.kind, target.name, out)], []
