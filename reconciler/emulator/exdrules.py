"""Rules across the fields of Decisioning bodies, the guardrails of decisioning-guardrails.md,
and the sandbox's item catalogs.

Each rule yields `pointer: message` problems; `validation.check` answers them 422. A decision
item's top-level keys other than `_experience` are its custom attributes: they must be the one
object under the tenant namespace of the item's catalog (`_<imsOrg>` in Adobe's examples;
`YOUR_CUSTOM_ATTRIBUTES` in one of them is read as a placeholder, not a key the API accepts).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

from pydantic import BaseModel

from reconciler.emulator import exdbodies
from reconciler.emulator.bodies import ProfileConstraint
from reconciler.emulator.fieldrules import order_members, profile, window
from reconciler.emulator.settings import Catalog
from reconciler.model import JsonObject, JsonValue

EXPERIENCE = "_experience"


def split_item(body: Mapping[str, JsonValue]) -> tuple[JsonObject, JsonObject]:
    """A decision item's modelled part (`_experience`) and its other top-level keys."""
    modelled = {name: value for name, value in body.items() if name == EXPERIENCE}
    rest = {name: value for name, value in body.items() if name != EXPERIENCE}
    return modelled, rest


def semantics(
    model: BaseModel,
    extra: Mapping[str, JsonValue],
    limits: Mapping[str, int],
    catalogs: Sequence[Catalog],
) -> Iterator[str]:
    """Problems the Decisioning models alone do not express (`extra`: an item's other keys)."""
    if isinstance(model, exdbodies.RankingFormula):
        yield from _pql(model.expression.value, "/expression/value", limits, "ranking_formula")
    elif isinstance(model, exdbodies.EligibilityRule):
        yield from _pql(model.condition.value, "/condition/value", limits, "")
    elif isinstance(model, exdbodies.DecisionItem):
        yield from _item(model, extra, limits, catalogs)
    elif isinstance(model, exdbodies.ItemCollection):
        for index, constraint in enumerate(model.constraints):
            yield from _catalog(
                constraint.itemCatalogId, f"/constraints/{index}/itemCatalogId", catalogs
            )
    elif isinstance(model, exdbodies.SelectionStrategy):
        yield from _strategy(model)


def catalog_of(catalog_id: str, catalogs: Sequence[Catalog]) -> Catalog | None:
    return next((catalog for catalog in catalogs if catalog.id == catalog_id), None)


def _pql(value: str, where: str, limits: Mapping[str, int], prefix: str) -> Iterator[str]:
    name = f"{prefix}_pql_bytes" if prefix else "pql_bytes"
    size = len(value.encode("utf-8"))
    if size > limits[name]:
        yield f"{where}: at most {limits[name]} bytes of PQL (guardrail, limits.{name}), not {size}"


def _catalog(catalog_id: str, where: str, catalogs: Sequence[Catalog]) -> Iterator[str]:
    if catalog_of(catalog_id, catalogs) is None:
        known = ", ".join(catalog.id for catalog in catalogs) or "none"
        yield f"{where}: {catalog_id!r} is not an item catalog of this sandbox (known: {known})"


def _item(
    model: exdbodies.DecisionItem,
    extra: Mapping[str, JsonValue],
    limits: Mapping[str, int],
    catalogs: Sequence[Catalog],
) -> Iterator[str]:
    item = model.experience.decisioning.decisionitem
    where = "/_experience/decisioning"
    calendar = item.itemCalendarConstraints
    if calendar is not None:
        yield from window(
            calendar.startDate, calendar.endDate, f"{where}/decisionitem/itemCalendarConstraints"
        )
    constraints = item.itemConstraints
    if constraints is not None:
        yield from profile(
            constraints.profileConstraintType,
            constraints.eligibilityRule,
            constraints.segmentIdentities,
            f"{where}/decisionitem/itemConstraints",
        )
    caps = model.experience.decisioning.offeritem.frequencyCappingConstraints or []
    caps_where = f"{where}/offeritem/frequencyCappingConstraints"
    if len(caps) > limits["caps_per_item"]:
        yield f"{caps_where}: at most {limits['caps_per_item']} capping rules (guardrail, limits.caps_per_item), not {len(caps)}"
    for index, cap in enumerate(caps):
        yield from window(cap.startDate, cap.endDate, f"{caps_where}/{index}")
    catalog = catalog_of(item.itemCatalogID, catalogs)
    if catalog is None:
        yield from _catalog(item.itemCatalogID, f"{where}/decisionitem/itemCatalogID", catalogs)
        return
    for key, value in extra.items():
        if key != catalog.tenant:
            yield (
                f"/{key}: is not a known field: custom attributes go in one object under "
                f"{catalog.tenant}, the tenant namespace of catalog {catalog.id}"
            )
        elif not isinstance(value, dict):
            yield f"/{key}: must be an object of custom attributes"
        elif (count := _attributes(value)) > limits["custom_attributes"]:
            yield f"/{key}: at most {limits['custom_attributes']} custom attributes (guardrail, limits.custom_attributes), not {count}"


def _attributes(value: JsonValue) -> int:
    """Leaf attributes of a custom-attributes object (an empty object counts as one)."""
    if isinstance(value, dict):
        return sum(_attributes(child) for child in value.values()) if value else 1
    return 1


def _strategy(model: exdbodies.SelectionStrategy) -> Iterator[str]:
    constraint: ProfileConstraint | None = model.profileConstraint
    if constraint is not None:
        yield from profile(
            constraint.profileConstraintType,
            constraint.eligibilityRule,
            constraint.segmentIdentities,
            "/profileConstraint",
        )
    order = model.rank.order if model.rank is not None else None
    if order is not None:
        yield from order_members(
            order.orderEvaluationType, order.function, order.rankingStrategy, "/rank/order"
        )
