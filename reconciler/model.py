"""Pure value types shared by every layer: JSON, keys, ids, etags, desired objects, plans."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import NewType, TypeAlias

JsonValue: TypeAlias = (
    "bool | int | float | str | list[JsonValue] | dict[str, JsonValue] | Ref | None"
)
"""A JSON value; a desired body may also hold a Ref where the catalog has a reference field."""
JsonObject: TypeAlias = "dict[str, JsonValue]"

Key = NewType("Key", str)
"""An object's identity in git: its path under offers/ without the suffix (`summer/sale-60`)."""


@dataclass(frozen=True, slots=True)
class Ref:
    """A reference to another managed object (`{ref: key}` in YAML), at a reference field only.

    Created only where the kinds catalog declares a reference field, resolved to the object's id
    only there (graph.resolve); anywhere else a `{ref: ...}` mapping is plain data.
    """

    key: Key

    def to_json(self) -> dict[str, str]:
        return {"ref": self.key}


def json_default(value: object) -> object:
    """`default=` for json.dumps: a Ref is written as {"ref": key}; anything else is not JSON."""
    if isinstance(value, Ref):
        return value.to_json()
    raise TypeError(f"{type(value).__name__} is not JSON")


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
    """The object kinds of both models, named as the YAML `kind:` field names them.

    Legacy Offer Decisioning: tag ... decision. Decisioning: eligibility-rule ... exd-placement.
    A ranking formula serves both.
    """

    TAG = "tag"
    PLACEMENT = "placement"
    DECISION_RULE = "decision-rule"
    PERSONALIZED_OFFER = "personalized-offer"
    FALLBACK_OFFER = "fallback-offer"
    COLLECTION = "collection"
    DECISION = "decision"
    RANKING_FORMULA = "ranking-formula"
    ELIGIBILITY_RULE = "eligibility-rule"
    DECISION_ITEM = "decision-item"
    ITEM_COLLECTION = "item-collection"
    SELECTION_STRATEGY = "selection-strategy"
    EXD_PLACEMENT = "exd-placement"


ITEM_NAME: tuple[str, ...] = ("_experience", "decisioning", "decisionitem", "itemName")
"""Where a decision item keeps its name: its XDM body has no top-level `name`."""


def name_path(kind: Kind) -> tuple[str, ...]:
    """The path of the field that names an object of this kind (unique per kind and sandbox)."""
    return ITEM_NAME if kind is Kind.DECISION_ITEM else ("name",)


def name_of(kind: Kind, body: Mapping[str, JsonValue]) -> str | None:
    """The name a body gives its object, if it has one."""
    node: object = body
    for step in name_path(kind):
        node = node.get(step) if isinstance(node, Mapping) else None
    return node if isinstance(node, str) else None


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
    """What a plan does to one object.

    create: POST a new object. update: PATCH a managed one. delete: DELETE one removed from git
    (with pruning). adopt: take over a live object found by kind and name that state does not
    know (lost or stale state, an interrupted create): no POST, its state entry, and the
    operations, if any, that make it match git. refresh: state only, no API call: live already
    matches git but the state's record of it is behind (a lost answer, a crash after the write,
    the same edit made in the UI).
    """

    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    ADOPT = "adopt"
    REFRESH = "refresh"

    @property
    def glyph(self) -> str:
        return {"create": "+", "update": "~", "delete": "-", "adopt": "=", "refresh": "*"}[
            self.value
        ]


class Reason(enum.Enum):
    """Why a change is planned. For display only: no code branches on it."""

    NEW = "new"
    CHANGED_IN_GIT = "changed in git"
    DRIFTED = "drifted"
    MISSING_REMOTELY = "missing remotely"
    INTERRUPTED_CREATE = "interrupted create found by name"
    FOUND_BY_NAME = "not in state, found by name"
    REMOVED_FROM_GIT = "removed from git"
    STATE_BEHIND = "live already matches git, state is behind"
    RENAMED = "file renamed: state moves it to the new key"
    PROTECTION_CHANGED = "protect changed in git: state records it"


class Op(enum.Enum):
    """The RFC 6902 operations reconciler sends: the ones Adobe documents (test guards the rest)."""

    ADD = "add"
    REPLACE = "replace"
    REMOVE = "remove"
    TEST = "test"


@dataclass(frozen=True, slots=True)
class Attribution:
    """Who last changed an object outside git, and when (from lastModifiedBy / modified)."""

    by: str
    at: str


@dataclass(frozen=True, slots=True)
class PatchOp:
    """One RFC 6902 operation. `value` is meaningful unless op is remove (for test: the value
    asserted); `old` is what a replace or remove finds there as the plan saw it; `reverts` says
    whose outside edit the operation undoes."""

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
    """One object as git defines it: API fields; a reference field holds a Ref or a literal id."""

    key: Key
    kind: Kind
    body: Mapping[str, JsonValue]
    source: Source = field(default_factory=lambda: Source(""))
    protect: bool = False
    """`protect: true` in its file, or (once protection.applied folded them in) a `protect:` glob
    of reconciler.yaml: never sent, never diffed; apply records it in the object's state entry
    (see reconciler.protection)."""
    overrides: Mapping[str, JsonObject] = field(default_factory=dict)
    """Its file's `overrides:`, a JSON Merge Patch of body per sandbox: never sent; plans use
    the body overrides.resolve gives for their sandbox (see reconciler.overrides)."""
    absent: tuple[str, ...] = ()
    """JSON Pointers of the fields its sandbox's override removes (`null`), set by
    overrides.resolve: git owns their absence, so a value the UI puts there is planned away."""
    protect_file: bool | None = None
    """Whether its file says `protect: true`, kept when protection.applied folds the globs into
    `protect`; None until then, when `protect` is the file's own."""

    @property
    def protected_in_file(self) -> bool:
        return self.protect if self.protect_file is None else self.protect_file

    @property
    def name(self) -> str:
        name = name_of(self.kind, self.body)
        return name if name is not None else str(self.key)


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
    protect: bool = False
    """Whether it was protected when last applied (`protect: true` in its file or a `protect:`
    glob of reconciler.yaml): a removed file still protects."""


@dataclass(frozen=True, slots=True)
class State:
    """The state of one sandbox: identity map, etags and last-applied bodies, serial and lineage."""

    lineage: str
    serial: int
    sandbox: str
    org: str
    endpoint: str
    objects: Mapping[Key, Entry]
    last_plan: str | None = None
    """The digest of the last saved plan apply started on (a plan is applied once)."""


@dataclass(frozen=True, slots=True)
class Change:
    """One planned action on one object, with the documents it was derived from.

    `desired` is git's body (ids of managed objects filled in where known, a Ref where the
    object is created by the same apply); `live` is the live payload the plan saw, `etag` its
    etag and `seen` who last modified it and when; `last` is the last-applied body from state.
    For an update or an adoption, `goal`, `ops`, `tests` and `unguarded` are derived from those
    documents by threeway.derive (ops with the values they replace and their revert marks;
    tests the preconditions sent before them in `test` mode). Apply re-checks all of it.
    """

    key: Key
    kind: Kind
    action: Action
    reasons: tuple[Reason, ...]
    name: str
    id: ObjectId | None = None
    etag: Etag | None = None
    desired: Mapping[str, JsonValue] | None = None
    live: Mapping[str, JsonValue] | None = None
    last: Mapping[str, JsonValue] | None = None
    ignore: tuple[str, ...] = ()
    goal: Mapping[str, JsonValue] | None = None
    ops: tuple[PatchOp, ...] = ()
    tests: tuple[PatchOp, ...] = ()
    unguarded: tuple[str, ...] = ()
    seen: Attribution | None = None
    source: str | None = None
    depends_on: tuple[Key, ...] = ()
    moved_from: Key | None = None
    """An adoption of the object another key managed until its file was renamed."""
    protect: bool = False
    """Git's protection (`protect: true` in its file or a `protect:` glob), which apply records
    in the object's state entry."""
    absent: tuple[str, ...] = ()
    """The fields git's override removes in this sandbox (Desired.absent): the goal lacks them."""

    @property
    def writes(self) -> bool:
        """Whether apply sends anything for this change (adopt and refresh may only record)."""
        return self.action in (Action.CREATE, Action.DELETE) or bool(self.ops)

    @property
    def drift(self) -> Attribution | None:
        """Who made the outside edits this change reverts, when any operation reverts one."""
        return next((op.reverts for op in self.ops if op.reverts is not None), None)

    def sent(self, preconditions: Preconditions) -> tuple[PatchOp, ...]:
        """The operations apply sends: none without operations (adopt and refresh may only
        record), else the tests then the operations in `test` mode, the operations alone in
        `if-match` mode."""
        if not self.ops:
            return ()
        if preconditions is Preconditions.TEST:
            return (*self.tests, *self.ops)
        return self.ops


@dataclass(frozen=True, slots=True)
class Orphan:
    """A key in state whose file is gone from git, kept because pruning is off."""

    key: Key
    kind: Kind
    id: ObjectId | None
    protected: bool = False
    """Protected (by its last applied file or a glob): pruning would refuse to delete it."""


@dataclass(frozen=True, slots=True)
class Ignored:
    """A difference an ignore rule hides, listed so nothing vanishes silently."""

    key: Key
    kind: Kind
    path: str
    desired: JsonValue
    live: JsonValue
    live_present: bool


class Preconditions(enum.Enum):
    """How apply makes sure an update never overwrites an edit its plan did not show.

    test: every PATCH starts with `test` operations asserting the fields git owns as the plan
    saw them (a compare-and-swap that needs nothing from the server but RFC 6902), plus If-Match.
    if-match: read the object right before writing and compare its etag, then PATCH with
    If-Match; only as safe as the server's If-Match support.
    """

    TEST = "test"
    IF_MATCH = "if-match"


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
    preconditions: Preconditions = Preconditions.TEST
    hidden: int = 0
    """Changes left out by --only/--exclude."""

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
    unapplied: int = 0
    """Managed objects with no last-applied body yet (imported after state loss): not checked."""

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
    throttled: int = 0
    """429 answers the sandbox gave (each retried; apply lowered its concurrency meanwhile)."""
    lowest_limit: int = 0
    """The fewest requests apply kept in flight while throttled."""
    interrupted: bool = False
    """SIGINT stopped it: in-flight writes finished, nothing new started."""

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
    api_key: str | None = None
    """The x-api-key header (ADOBE_API_KEY); the client id when unset."""

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every value that must never appear in any output."""
        return tuple(s for s in (self.client_secret, self.access_token) if s)
