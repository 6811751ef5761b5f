"""Pure value types shared by every layer: JSON, keys, ids, etags, desired objects, plans."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import NewType, TypeAlias

JsonValue: TypeAlias = "bool | int | float | str | list[JsonValue] | dict[str, JsonValue] | None"
JsonObject: TypeAlias = "dict[str, JsonValue]"

Key = NewType("Key", str)
"""An object's identity in git: its path under offers/ without the suffix (`summer/sale-60`)."""

ObjectId = NewType("ObjectId", str)
"""The server-assigned Adobe id (`dps:personalized-offer:19af09a9ae45a8d3`)."""

Etag = NewType("Etag", str)
"""The server's revision counter, kept as the text of the integer (`"3"`)."""


def etag_of(value: object) -> Etag | None:
    """Normalise an etag as the API returns it (int, string, quoted string) to its text."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Etag(str(value))
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("W/"):
            text = text[2:]
        return Etag(text.strip('"')) if text.strip('"') else None
    return None


class Kind(enum.Enum):
    """The Decision Management object kinds, named as the YAML `kind:` field names them."""

    TAG = "tag"
    PLACEMENT = "placement"
    DECISION_RULE = "decision-rule"
    PERSONALIZED_OFFER = "personalized-offer"
    FALLBACK_OFFER = "fallback-offer"
    COLLECTION = "collection"
    DECISION = "decision"


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with the input, located at file:line:column (1-based)."""

    path: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}: {self.message}"


@dataclass(frozen=True, slots=True)
class Source:
    """Where a desired object was defined."""

    path: str
    line: int = 1


class Action(enum.Enum):
    """What a plan does to one object."""

    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"

    @property
    def glyph(self) -> str:
        return {"create": "+", "update": "~", "delete": "-"}[self.value]


class Reason(enum.Enum):
    """Why a change is planned. For display only: no code branches on it."""

    NEW = "new"
    CHANGED_IN_GIT = "changed in git"
    DRIFTED = "drifted"
    MISSING_REMOTELY = "missing remotely"
    REMOVED_FROM_GIT = "removed from git"


class Op(enum.Enum):
    """The RFC 6902 operations reconciler emits (the ones Adobe documents)."""

    ADD = "add"
    REPLACE = "replace"
    REMOVE = "remove"


@dataclass(frozen=True, slots=True)
class Attribution:
    """Who last changed an object outside git, and when (from lastModifiedBy / modified)."""

    by: str
    at: str


@dataclass(frozen=True, slots=True)
class PatchOp:
    """One RFC 6902 operation. `value` is meaningful unless op is remove; `old` unless op is add."""

    op: Op
    path: str
    value: JsonValue = None
    old: JsonValue = None
    reverts: Attribution | None = None

    def to_json(self) -> JsonObject:
        out: JsonObject = {"op": self.op.value, "path": self.path}
        if self.op is not Op.REMOVE:
            out["value"] = self.value
        return out


@dataclass(frozen=True, slots=True)
class Desired:
    """One object as git defines it: API fields, with references as {"ref": key} or literal ids."""

    key: Key
    kind: Kind
    body: Mapping[str, JsonValue]
    source: Source = field(default_factory=lambda: Source(""))

    @property
    def name(self) -> str:
        name = self.body.get("name")
        return name if isinstance(name, str) else str(self.key)
