"""Pure: reading a legacy definition's body: references, nested values, lists, criteria, tags."""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.model import Desired, JsonValue, Key, Ref


def ref(value: object) -> Key | None:
    return value.key if isinstance(value, Ref) else None


def at(node: object, *path: str) -> object:
    for step in path:
        node = node.get(step) if isinstance(node, dict) else None
    return node


def listed(node: object) -> list[JsonValue]:
    return node if isinstance(node, list) else []


def criteria(item: Desired) -> list[dict[str, JsonValue]]:
    return [c for c in listed(item.body.get("criteria")) if isinstance(c, dict)]


def tag_keys(item: Desired) -> list[Key]:
    return [key for key in map(ref, listed(item.body.get("tags"))) if key is not None]


def has_tags(carried: Sequence[Key], wanted: Sequence[Key], *, match_all: bool) -> bool:
    if not wanted:
        return False
    if match_all:
        return all(tag in carried for tag in wanted)
    return any(tag in carried for tag in wanted)
