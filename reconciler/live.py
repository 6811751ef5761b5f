"""Pure: live objects as the API returns them, indexed, and the parts of them git can own."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from reconciler import kinds
from reconciler.model import Attribution, JsonObject, JsonValue, Kind
from reconciler.model import name_of as model_name_of


class Live:
    """Live objects indexed by kind and id, with server-managed fields split off."""

    def __init__(self, objects: Mapping[Kind, Sequence[JsonObject]]) -> None:
        self.by_id: dict[tuple[Kind, str], JsonObject] = {}
        self.by_name: dict[tuple[Kind, str], list[JsonObject]] = {}
        for kind, items in objects.items():
            for item in items:
                object_id = item.get("id")
                if isinstance(object_id, str):
                    self.by_id[(kind, object_id)] = item
                name = model_name_of(kind, item)
                if name is not None:
                    self.by_name.setdefault((kind, name), []).append(item)

    def get(self, kind: Kind, object_id: str | None) -> JsonObject | None:
        return None if object_id is None else self.by_id.get((kind, object_id))

    def named(self, kind: Kind, name: str) -> list[JsonObject]:
        return self.by_name.get((kind, name), [])


def payload(live: Mapping[str, JsonValue]) -> JsonObject:
    """A live object without its server-managed envelope: what git can own."""
    return {k: v for k, v in live.items() if k not in kinds.SERVER_MANAGED}


def attribution(live: Mapping[str, JsonValue]) -> Attribution:
    by, at = live.get("lastModifiedBy"), live.get("modified")
    return Attribution(
        by=by if isinstance(by, str) else "unknown", at=at if isinstance(at, str) else "unknown"
    )


def name_of(kind: Kind, body: Mapping[str, JsonValue], fallback: str) -> str:
    name = model_name_of(kind, body)
    return name if name is not None else fallback
