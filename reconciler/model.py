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
    ADOPTED = "interrupted create found by name"
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


@dataclass(frozen=True, slots=True)
class Pending:
    """A create that was started: recorded before the POST so a crash cannot lose or duplicate it."""

    name: str
    since: str


@dataclass(frozen=True, slots=True)
class Entry:
    """What the state file knows about one managed object."""

    kind: Kind
    id: ObjectId | None = None
    etag: Etag | None = None
    applied: Mapping[str, JsonValue] | None = None
    applied_at: str | None = None
    pending: Pending | None = None


@dataclass(frozen=True, slots=True)
class State:
    """The state of one sandbox: identity map, etags and last-applied bodies, serial and lineage."""

    lineage: str
    serial: int
    sandbox: str
    org: str
    endpoint: str
    objects: Mapping[Key, Entry]

    def with_entry(self, key: Key, entry: Entry | None) -> State:
        """A copy with one entry replaced (None removes it) and the serial bumped."""
        objects = dict(self.objects)
        if entry is None:
            objects.pop(key, None)
        else:
            objects[key] = entry
        return State(
            lineage=self.lineage,
            serial=self.serial + 1,
            sandbox=self.sandbox,
            org=self.org,
            endpoint=self.endpoint,
            objects=objects,
        )


@dataclass(frozen=True, slots=True)
class Change:
    """One planned action on one object, with everything apply needs to carry it out.

    `body` is the full desired body (references as {"ref": key} until their ids are known);
    `etag` is the live etag the plan saw, which apply re-checks before writing.
    """

    key: Key
    kind: Kind
    action: Action
    reasons: tuple[Reason, ...]
    name: str
    id: ObjectId | None = None
    etag: Etag | None = None
    ops: tuple[PatchOp, ...] = ()
    body: Mapping[str, JsonValue] | None = None
    drift: Attribution | None = None
    source: str | None = None
    depends_on: tuple[Key, ...] = ()


@dataclass(frozen=True, slots=True)
class Orphan:
    """A key in state whose file is gone from git, kept because pruning is off."""

    key: Key
    kind: Kind
    id: ObjectId | None


@dataclass(frozen=True, slots=True)
class Ignored:
    """A difference an ignore rule hides, listed so nothing vanishes silently."""

    key: Key
    kind: Kind
    path: str
    desired: JsonValue
    live: JsonValue
    live_present: bool


@dataclass(frozen=True, slots=True)
class Plan:
    """What apply would do to one sandbox, bound to the state it was computed against."""

    sandbox: str
    org: str
    endpoint: str
    lineage: str | None
    serial: int
    changes: tuple[Change, ...]
    orphans: tuple[Orphan, ...] = ()
    ignored: tuple[Ignored, ...] = ()
    unchanged: int = 0
    prune: bool = False

    @property
    def is_empty(self) -> bool:
        return not self.changes

    def count(self, action: Action) -> int:
        return sum(1 for change in self.changes if change.action is action)


class DriftStatus(enum.Enum):
    """How a live object differs from what git last applied."""

    CHANGED = "changed"
    DELETED = "deleted"
    UNMANAGED = "unmanaged"


@dataclass(frozen=True, slots=True)
class FieldDrift:
    """One field changed outside git: from the applied value to the live one."""

    op: Op
    path: str
    applied: JsonValue
    live: JsonValue


@dataclass(frozen=True, slots=True)
class ObjectDrift:
    key: Key | None
    kind: Kind
    id: ObjectId
    name: str
    status: DriftStatus
    fields: tuple[FieldDrift, ...] = ()
    by: str | None = None
    at: str | None = None


@dataclass(frozen=True, slots=True)
class Drift:
    """Everything that changed outside git in one sandbox."""

    sandbox: str
    objects: tuple[ObjectDrift, ...]
    checked: int
    ignored: tuple[Ignored, ...] = ()

    @property
    def has_drift(self) -> bool:
        return bool(self.objects)


class Outcome(enum.Enum):
    """What happened to one planned change during apply."""

    APPLIED = "applied"
    FAILED = "failed"
    CONFLICT = "conflict"
    NOT_ATTEMPTED = "not attempted"


@dataclass(frozen=True, slots=True)
class Result:
    key: Key
    kind: Kind
    action: Action
    outcome: Outcome
    id: ObjectId | None = None
    detail: str | None = None
    by: str | None = None
    at: str | None = None


@dataclass(frozen=True, slots=True)
class Report:
    """The account of one apply: every planned change and what became of it."""

    sandbox: str
    results: tuple[Result, ...]
    requests: int = 0

    @property
    def succeeded(self) -> bool:
        return all(result.outcome is Outcome.APPLIED for result in self.results)

    def count(self, outcome: Outcome) -> int:
        return sum(1 for result in self.results if result.outcome is outcome)


@dataclass(frozen=True, slots=True)
class Credentials:
    """Adobe IMS credentials, from the environment only. repr never shows a secret."""

    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    scopes: str | None = None
    access_token: str | None = field(default=None, repr=False)

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every value that must never appear in any output."""
        return tuple(s for s in (self.client_secret, self.access_token) if s)
