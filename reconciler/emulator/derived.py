"""Fields the server owns inside a payload: what it adds on a write, what a write may not touch.

Top-level envelope fields (reference §2.9, `kinds.SERVER_MANAGED`) are never stored in a body.
Some kinds also carry server-owned fields inside their payload, stored with it and returned in
every read, as Adobe's examples show them:

- decision items, always: `_experience.decisioning.decisionitem.itemID` (the item's id),
  `itemLabels: []` and `itemTags: []` when the sender left them out, and
  `_experience.decisioning.offeritem.fCapConstraintsLastIndex: 0` (every read example shows
  them, whatever the create sent);
- ranking formulas, always: `returnType.type` upper-case (sent "integer", read "INTEGER");
- with `server_defaults` only (the examples show them on some reads, not all): a create fills
  in the legacy kinds' UI defaults, `tags: []` on item collections and
  `offeritem.frequencyCappingConstraints: []` on decision items; every write of an eligibility
  rule derives its `segmentModel` (a stand-in for the audience model Adobe derives from the
  PQL: the keys of Adobe's example, the condition as its expression).

`itemID`, `fCapConstraintsLastIndex` and `segmentModel` are managed: a create or replacement
body that holds them has them ignored (as envelope fields are); a JSON Patch operation whose
path or from reaches them is refused 422; a patch that replaces a parent object without them
keeps the stored values, one that gives them another value is refused 422.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Mapping, Sequence

from reconciler.emulator import quirks
from reconciler.emulator.problems import invalid
from reconciler.emulator.records import Partition
from reconciler.kinds import SERVER_MANAGED
from reconciler.model import JsonObject, JsonValue, Kind

ITEM = ("_experience", "decisioning", "decisionitem")
OFFER_ITEM = ("_experience", "decisioning", "offeritem")
CATALOG_ID = (*ITEM, "itemCatalogID")


def managed(kind: Kind) -> tuple[tuple[str, ...], ...]:
    """Server-owned paths inside the payload: an item's itemID and fCapConstraintsLastIndex,
    an eligibility rule's segmentModel."""
    return quirks.DERIVED.get(kind, ())


_ALL_METADATA: dict[str, JsonValue] = dict.fromkeys(
    (
        "decisionName",
        "offerName",
        "offerAttributes",
        "offerPriority",
        "placementName",
        "channelType",
        "contentType",
    ),
    True,
)
SERVER_DEFAULTS: Mapping[Kind, Mapping[str, JsonValue]] = {
    Kind.PLACEMENT: {
        "itemCount": 1,
        "allowDuplicatePlacements": False,
        "returnContent": True,
        "returnMetaData": _ALL_METADATA,
        "labels": [],
    },
    Kind.PERSONALIZED_OFFER: {"cappingConstraint": {}, "labels": [], "characteristics": {}},
    Kind.FALLBACK_OFFER: {"labels": []},
    Kind.COLLECTION: {"labels": []},
    Kind.DECISION_RULE: {"exdRule": False, "labels": []},
    Kind.DECISION: {"labels": []},
    Kind.ITEM_COLLECTION: {"tags": []},
}
"""What `server_defaults` fills in at the top level on create when the sender left it out."""


def pointer(path: Sequence[str]) -> str:
    return "".join("/" + step.replace("~", "~0").replace("/", "~1") for step in path)


def at(body: Mapping[str, JsonValue], path: Sequence[str]) -> JsonValue:
    """The value at a path of nested objects, None when absent."""
    node: JsonValue | Mapping[str, JsonValue] = body
    for step in path:
        if not isinstance(node, Mapping) or step not in node:
            return None
        node = node[step]
    return node  # type: ignore[return-value]


def client_fields(kind: Kind, body: Mapping[str, JsonValue]) -> JsonObject:
    """A sent body without what the server owns (envelope and managed fields), which it ignores."""
    kept = copy.deepcopy(
        {name: value for name, value in body.items() if name not in SERVER_MANAGED}
    )
    for path in managed(kind):
        _drop(kept, path)
    return kept


def refuse_managed_operations(kind: Kind, touched: Sequence[str]) -> None:
    """422 when a JSON Patch operation reaches a managed field (`touched`: its paths and froms)."""
    for path in managed(kind):
        owned = pointer(path)
        for reached in touched:
            if reached == owned or reached.startswith(owned + "/"):
                raise invalid(
                    f"{owned} is managed by the server and cannot be patched: leave it out"
                )


def keep_managed(kind: Kind, old: Mapping[str, JsonValue], patched: JsonObject) -> JsonObject:
    """The client fields of a patched body whose managed values are still the stored ones.

    A value changed by an operation on a parent object is refused 422; one left out is kept.
    """
    for path in managed(kind):
        if _has(patched, path) and at(patched, path) != at(old, path):
            raise invalid(
                f"{pointer(path)} is managed by the server and cannot be changed: keep the value "
                "you read, or leave it out"
            )
    return client_fields(kind, patched)


def complete(
    kind: Kind,
    body: Mapping[str, JsonValue],
    object_id: str,
    partition: Partition,
    *,
    created: bool,
    defaults: bool,
) -> JsonObject:
    """The body as stored: the validated client fields plus what the server adds to them."""
    stored = copy.deepcopy(dict(body))
    if created and defaults:
        stored = {**copy.deepcopy(dict(SERVER_DEFAULTS.get(kind, {}))), **stored}
    if kind is Kind.DECISION_ITEM:
        item, offer_item = _object(stored, ITEM), _object(stored, OFFER_ITEM)
        item["itemID"] = object_id
        item.setdefault("itemLabels", [])
        item.setdefault("itemTags", [])
        offer_item["fCapConstraintsLastIndex"] = 0
        if created and defaults:
            offer_item.setdefault("frequencyCappingConstraints", [])
    elif kind is Kind.RANKING_FORMULA:
        return_type = stored.get("returnType")
        if isinstance(return_type, dict) and isinstance(return_type.get("type"), str):
            return_type["type"] = str(return_type["type"]).upper()
    elif kind is Kind.ELIGIBILITY_RULE and defaults:
        stored["segmentModel"] = _segment_model(stored, partition)
    return stored


def _segment_model(rule: Mapping[str, JsonValue], partition: Partition) -> JsonObject:
    description = rule.get("description")
    return {
        "lifecycleState": "published",
        "expression": copy.deepcopy(rule.get("condition")),
        "isMissingAnsibleModel": False,
        "relationalExpression": False,
        "deprecated": {"status": False, "reason": ""},
        "description": description if isinstance(description, str) else "",
        "evaluationInfo": {
            "batch": {"enabled": True},
            "continuous": {"enabled": False},
            "synchronous": {"enabled": False},
        },
        "labels": [],
        "tags": [],
        "canHaveFolder": True,
        "mergePolicyId": str(uuid.uuid5(uuid.NAMESPACE_URL, f"merge-policy://{partition[0]}")),
        "name": rule.get("name"),
        "namespace": "ups",
    }


def _object(body: JsonObject, path: Sequence[str]) -> JsonObject:
    """The object at a path of a validated body (every step exists and is an object)."""
    node: JsonValue = body
    for step in path:
        assert isinstance(node, dict)
        node = node[step]
    assert isinstance(node, dict)
    return node


def _has(body: Mapping[str, JsonValue], path: Sequence[str]) -> bool:
    parent = at(body, path[:-1])
    return isinstance(parent, dict) and path[-1] in parent


def _drop(body: JsonObject, path: Sequence[str]) -> None:
    parent = at(body, path[:-1])
    if isinstance(parent, dict):
        parent.pop(path[-1], None)
