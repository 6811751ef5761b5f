"""Pure: the values of a migration to Decisioning: what each legacy kind becomes, where its
files go, the definitions written and what became of each field, and the file statuses."""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass

from reconciler.errors import UsageError
from reconciler.model import Desired, JsonValue, Key, Kind

TENANT_PLACEHOLDER = "_<tenant>"
DEFAULT_TENANT = "_reconciler"
ATTRIBUTES = "migratedofferattributes"
"""The custom attribute (under the tenant) holding an offer's characteristics, as Adobe's
Migration API names it."""
TAGS = "migratedtags"
"""The custom attribute (under the tenant) holding the names of an offer's legacy tags."""
ITEM_NAME_ATTRIBUTE = "_experience.decisioning.decisionitem.itemName"
TENANT = re.compile(r"_[A-Za-z0-9][A-Za-z0-9_]*")

LEGACY: tuple[Kind, ...] = (
    Kind.TAG,
    Kind.PLACEMENT,
    Kind.DECISION_RULE,
    Kind.RANKING_FORMULA,
    Kind.PERSONALIZED_OFFER,
    Kind.FALLBACK_OFFER,
    Kind.COLLECTION,
    Kind.DECISION,
)
"""The kinds migrate reads (a ranking formula is legacy unless `exdFunction: true`)."""

TARGETS: Mapping[Kind, Kind | None] = {
    Kind.TAG: None,
    Kind.PLACEMENT: Kind.EXD_PLACEMENT,
    Kind.DECISION_RULE: Kind.ELIGIBILITY_RULE,
    Kind.RANKING_FORMULA: Kind.RANKING_FORMULA,
    Kind.PERSONALIZED_OFFER: Kind.DECISION_ITEM,
    Kind.FALLBACK_OFFER: Kind.DECISION_ITEM,
    Kind.COLLECTION: Kind.ITEM_COLLECTION,
    Kind.DECISION: Kind.SELECTION_STRATEGY,
}
"""What each legacy kind becomes (a tag becomes no object: its name lives on, on the items)."""

FOLDERS: Mapping[Kind, str] = {
    Kind.EXD_PLACEMENT: "placements",
    Kind.ELIGIBILITY_RULE: "rules",
    Kind.RANKING_FORMULA: "formulas",
    Kind.DECISION_ITEM: "items",
    Kind.ITEM_COLLECTION: "collections",
    Kind.SELECTION_STRATEGY: "strategies",
}
"""The folder of each target kind under the output folder."""


class MigrationError(UsageError):
    """A KEY that is not a legacy object, or an object that cannot be migrated faithfully."""


@dataclass(frozen=True, slots=True)
class Output:
    """One new definition: offers/<key>.yaml holds `kind:` and `body`."""

    key: Key
    kind: Kind
    name: str
    body: Mapping[str, JsonValue]


@dataclass(frozen=True, slots=True)
class Fate:
    """What became of one field of a legacy object (a row, its target path with the tenant)."""

    path: str
    target_kind: Kind | None
    target_path: str | None
    reason: str
    source: str


@dataclass(frozen=True, slots=True)
class Migrated:
    """One legacy object: the definitions it became and what became of each of its fields."""

    key: Key
    kind: Kind
    file: str
    outputs: tuple[Output, ...]
    migrated: tuple[Fate, ...]
    not_migrated: tuple[Fate, ...]
    notes: tuple[str, ...] = ()
    pulled_in_by: tuple[Key, ...] = ()
    """Empty when chosen (a KEY, or the whole estate); else the objects that need it."""


class FileStatus(enum.Enum):
    """What writing one definition does to its file."""

    CREATE = "create"
    UNCHANGED = "unchanged"
    OVERWRITE = "overwrite"
    """It differs from what migrate writes, and --force overwrites it."""
    CONFLICT = "conflict"
    """It differs from what migrate writes: refused without --force."""

    @property
    def glyph(self) -> str:
        return {"create": "+", "unchanged": "=", "overwrite": "~", "conflict": "!"}[self.value]


@dataclass(frozen=True, slots=True)
class Migration:
    """The whole result: `selected` is None for the whole estate, else the KEYs given."""

    prefix: str
    tenant: str
    objects: tuple[Migrated, ...]
    selected: tuple[Key, ...] | None = None

    @property
    def outputs(self) -> tuple[Output, ...]:
        return tuple(output for item in self.objects for output in item.outputs)


def tenant_key(text: str) -> str:
    """The tenant namespace key (`_acme`), written as the org's attributes are: with its `_`."""
    key = text
    if not TENANT.fullmatch(key) or key == "_experience":
        raise MigrationError(
            f"--tenant {text!r} is not a tenant namespace: give the org's tenant key, such as "
            "_acme (_ then letters, digits and _; not _experience, which Adobe's fields use)"
        )
    return key


def is_legacy(item: Desired) -> bool:
    """A legacy Offer Decisioning object (a ranking formula unless it is Decisioning's)."""
    if item.kind is Kind.RANKING_FORMULA:
        return item.body.get("exdFunction") is not True
    return item.kind in LEGACY
