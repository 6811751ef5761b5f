"""Pure: the definitions of one sandbox as a simulation reads them, indexed once.

Offers by tag and collections' members are worked out once per estate, not once per profile:
simulating every decision test of a 10,000-offer estate looks each offer up, never scans.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.model import ITEM_NAME, Desired, JsonValue, Key, Kind, Ref, name_of


@dataclass(frozen=True, slots=True)
class Member:
    """An object a collection selects; `unknown` names the construct when membership is unknown."""

    key: Key
    unknown: str | None = None


@dataclass(frozen=True, slots=True)
class Estate:
    """The sandbox's resolved definitions, and what each collection selects."""

    objects: Mapping[Key, Desired]
    members: Mapping[Key, tuple[Member, ...]]

    def kind(self, key: Key) -> Kind | None:
        found = self.objects.get(key)
        return found.kind if found is not None else None

    def body(self, key: Key) -> Mapping[str, JsonValue]:
        return self.objects[key].body

    def label(self, key: Key) -> str:
        """How a reason names an object: its name in quotes, else its key."""
        found = self.objects.get(key)
        name = name_of(found.kind, found.body) if found is not None else None
        return f'"{name}"' if name else key


def index(objects: Iterable[Desired]) -> Estate:
    """The estate of these (resolved) definitions."""
    by_key = {item.key: item for item in objects}
    tagged: dict[Key, list[Key]] = defaultdict(list)
    items: list[Desired] = []
    for item in sorted(by_key.values(), key=lambda d: d.key):
        if item.kind is Kind.PERSONALIZED_OFFER:
            for tag in _list(item.body.get("tags")):
                if isinstance(tag, Ref):
                    tagged[tag.key].append(item.key)
        elif item.kind is Kind.DECISION_ITEM:
            items.append(item)
    members: dict[Key, tuple[Member, ...]] = {}
    for item in by_key.values():
        if item.kind is Kind.COLLECTION:
            members[item.key] = _legacy_members(item.body, tagged, by_key)
        elif item.kind is Kind.ITEM_COLLECTION:
            members[item.key] = _item_members(item.body, items)
    return Estate(objects=by_key, members=members)


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _legacy_members(
    body: Mapping[str, JsonValue], tagged: Mapping[Key, list[Key]], by_key: Mapping[Key, Desired]
) -> tuple[Member, ...]:
    """A legacy collection's offers: listed ones in their order; by tags, sorted by key."""
    refs = [ref.key for ref in _list(body.get("ids")) if isinstance(ref, Ref)]
    match body.get("filterType"):
        case "offers":
            listed = dict.fromkeys(
                key for key in refs if key in by_key and by_key[key].kind is Kind.PERSONALIZED_OFFER
            )
            return tuple(Member(key) for key in listed)
        case "any-tags":
            found = {offer for tag in refs for offer in tagged.get(tag, ())}
            return tuple(Member(key) for key in sorted(found))
        case "all-tags":
            if not refs:
                return ()
            common = set(tagged.get(refs[0], ()))
            for tag in refs[1:]:
                common &= set(tagged.get(tag, ()))
            return tuple(Member(key) for key in sorted(common))
        case _:
            return ()


def _item_members(body: Mapping[str, JsonValue], items: list[Desired]) -> tuple[Member, ...]:
    """The decision items an item collection's constraints select, sorted by key."""
    constraints = [c for c in _list(body.get("constraints")) if isinstance(c, dict)]
    found: list[Member] = []
    for item in items:
        verdicts = [_ui_match(c.get("uiModel"), item.body) for c in constraints]
        unknown = next((v for v in verdicts if isinstance(v, str)), None)
        if unknown is not None:
            found.append(Member(item.key, unknown))
        elif constraints and all(v is True for v in verdicts):
            found.append(Member(item.key))
    return tuple(found)


_COMPARE = {
    "equals": lambda left, right: left == right,
    "notEquals": lambda left, right: left != right,
}


def _ui_match(model: object, item: Mapping[str, JsonValue]) -> bool | str:
    """Whether an item meets a collection's uiModel constraint; a text names what is unknown.

    The documented form (Adobe's item-collection example) is `{operator: equals, value: {left:
    <attribute path>, right: <value>}}`; `notEquals` and `and`/`or` over a list are read too.
    """
    if not isinstance(model, dict):
        return "a uiModel that is not a mapping"
    operator, value = model.get("operator"), model.get("value")
    if operator in ("and", "or") and isinstance(value, list):
        verdicts = [_ui_match(part, item) for part in value]
        unknown = next((v for v in verdicts if isinstance(v, str)), None)
        if unknown is not None:
            return unknown
        return all(verdicts) if operator == "and" else any(verdicts)
    compare = _COMPARE.get(operator) if isinstance(operator, str) else None
    if compare is None or not isinstance(value, dict) or not isinstance(value.get("left"), str):
        return f"the uiModel operator {operator!r}"
    return bool(compare(attribute(item, str(value["left"])), value.get("right")))


def attribute(body: Mapping[str, JsonValue], dotted: str) -> JsonValue:
    """The value at a dotted path of a body, or None."""
    node: object = body
    for step in dotted.split("."):
        node = node.get(step) if isinstance(node, Mapping) else None
    return node  # type: ignore[return-value]


def plain(value: JsonValue) -> JsonValue:
    """A body as PQL reads it: each reference is the referenced object's key."""
    if isinstance(value, Ref):
        return value.key
    if isinstance(value, dict):
        return {name: plain(item) for name, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def item_fields(body: Mapping[str, JsonValue]) -> dict[str, JsonValue]:
    """A decision item as a ranking formula reads it (`offer.<field>`): its body, with the
    decisionitem fields (itemName, itemPriority, ...) also at the top, as the Decisioning UI
    lists them."""
    plain_body = plain(dict(body))
    assert isinstance(plain_body, dict)
    item = attribute(body, ".".join(ITEM_NAME[:-1]))
    lifted = plain(item) if isinstance(item, dict) else {}
    assert isinstance(lifted, dict)
    return {**lifted, **plain_body}


def moment(value: object) -> datetime.datetime | None:
    """A date-time field as an aware datetime (UTC when it names no zone), or None."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.UTC)
