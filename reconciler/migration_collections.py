"""Pure: legacy collections -> item collections (a rule on the items' names or on their tags):
their rows of the mapping table and their converter."""

from __future__ import annotations

from reconciler.migration_body import has_tags, listed, ref, tag_keys
from reconciler.migration_context import Context, Result, described
from reconciler.migration_model import ITEM_NAME_ATTRIBUTE, TAGS, TENANT_PLACEHOLDER, Output
from reconciler.migration_row import ENTITY_MAPPING, LABELS, Row
from reconciler.model import Desired, JsonValue, Kind

_COLLECTION_API = "api-reference/items-collections/create.md"

ROWS: tuple[Row, ...] = (
    # collections
    Row(Kind.COLLECTION, "name", Kind.ITEM_COLLECTION, "name", "copied", ENTITY_MAPPING),
    Row(
        Kind.COLLECTION,
        "description",
        Kind.ITEM_COLLECTION,
        "description",
        "copied",
        _COLLECTION_API,
    ),
    Row(
        Kind.COLLECTION,
        "filterType",
        Kind.ITEM_COLLECTION,
        "constraints[].uiModel",
        "offers: one contains rule on the items' names; any-tags: one contains rule on "
        f"{TENANT_PLACEHOLDER}.{TAGS}; all-tags: one such rule per tag, combined with and",
        "collections.md",
    ),
    Row(
        Kind.COLLECTION,
        "ids",
        Kind.ITEM_COLLECTION,
        "constraints[].uiModel",
        "the names of the migrated items, or of the tags, as the rule's values",
        "collections.md",
    ),
    Row(Kind.COLLECTION, "labels", None, None, LABELS, _COLLECTION_API),
)


def convert_collection(item: Desired, context: Context) -> Result:
    target = context.target(item.key)
    filter_type = item.body.get("filterType")
    values: list[JsonValue] = []
    for index, value in enumerate(listed(item.body.get("ids"))):
        key = ref(value)
        if key is None:
            what = "offer" if filter_type == "offers" else "tag"
            context.problem(
                item,
                f"ids[{index}]",
                f"the literal id {value!r} names an {what} this repository does not define, so "
                f"its name is unknown: define the {what} here ({{ref: <key>}}) or import it first",
            )
        elif filter_type == "offers":
            values.append(context.target(key).name)
        else:
            values.append(context.name(key))
    ui_model: dict[str, JsonValue]
    if filter_type == "offers":
        ui_model = _contains(ITEM_NAME_ATTRIBUTE, values)
    elif filter_type == "all-tags" and len(values) > 1:
        left = f"{context.tenant}.{TAGS}"
        ui_model = {"operator": "and", "value": [_contains(left, [value]) for value in values]}
    else:
        ui_model = _contains(f"{context.tenant}.{TAGS}", values)
    body: dict[str, JsonValue] = {
        **described(target, item.body),
        "constraints": [{"uiModel": ui_model}],
    }
    notes = []
    if filter_type != "offers":
        wanted = [key for key in map(ref, listed(item.body.get("ids"))) if key is not None]
        fallbacks = sorted(
            other.key
            for other in context.by_key.values()
            if other.kind is Kind.FALLBACK_OFFER
            and has_tags(tag_keys(other), wanted, match_all=filter_type == "all-tags")
        )
        if fallbacks:
            notes.append(
                f"the fallback offers {', '.join(fallbacks)} carry these tags: their migrated items "
                "are in this item collection too (a legacy collection never held fallback offers)"
            )
    return [Output(target.key, target.kind, target.name, body)], notes


def _contains(left: str, right: list[JsonValue]) -> dict[str, JsonValue]:
    return {"operator": "contains", "value": {"left": left, "right": right}}
