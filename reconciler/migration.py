"""Pure: legacy Offer Decisioning definitions -> Decisioning definitions, and what became of each field.

`ROWS` is the mapping table: for every field a legacy file may hold, the Decisioning kind and
field it becomes, or why it is not migrated, with the Adobe page that justifies it (or
*inferred*). `migrate` applies it to the loaded estate: each legacy object becomes new
definitions under one folder (placements, rules, formulas, items, collections, strategies),
references rewritten to the new keys; the legacy files are never touched. Every field present
in a migrated object is accounted for in the result (`Migrated.migrated` / `.not_migrated`), so
nothing is dropped silently: a field no row covers is reported too.

Choices (documented in the README, "Migrating to Decisioning"):
- keys: `<out>/<folder>/<legacy key with / as ->`, a decision's strategies `...-<criterion>`;
- names: the legacy name, unless another object of the target kind outside the output folder
  (or an earlier migrated one) has it: then `<name> (Decisioning)`, `(Decisioning 2)`...; keys
  and names are computed over the whole legacy estate, so a KEY selection gives the same ones;
- an offer's characteristics go to `_<tenant>.migratedofferattributes` (Adobe's Migration API
  name) and the names of its tags to `_<tenant>.migratedtags`, which item collections select on;
- a collection listing offers selects the migrated items by name (ids are not known before
  apply and uiModel holds no references); a tag collection selects on `migratedtags`.
"""

from __future__ import annotations

import copy
import difflib
import enum
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from reconciler.errors import UsageError
from reconciler.model import Desired, JsonValue, Key, Kind, Ref, name_of

DOCS = (
    "https://github.com/AdobeDocs/journey-optimizer.en/blob/main/help/using/experience-decisioning/"
)
"""Where the pages the table cites live (AdobeDocs/journey-optimizer.en)."""
INFERRED = "inferred"
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


# --- the mapping table ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Row:
    """One legacy field: the target field it becomes (with how), or None and why not.

    A row covers its path and everything under it (`representations` covers every field of
    every representation). Paths are dotted; `[]` steps into the items of a list.
    """

    kind: Kind
    legacy_path: str
    target_kind: Kind | None
    target_path: str | None
    reason: str
    source: str


_MIGRATION = "decisioning-migration-api.md: Entity mapping reference"
_OUT_OF_SCOPE = "decisioning-migration-api.md: Out-of-Scope"
_ATTRIBUTES_PAGE = "decisioning-migration-api.md: Additional Attributes"
_EDGE = "decisioning-migration-api.md: Request and response model"
_ITEM_API = "api-reference/decisions-items/create.md"
_RULE_API = "api-reference/eligibility-rules/create.md"
_FORMULA_API = "api-reference/ranking-formulas/create.md"
_COLLECTION_API = "api-reference/items-collections/create.md"
_STRATEGY_API = "api-reference/selection-strategies/create.md"
_PLACEMENT_API = "api-reference/exd-placements/create.md"
_POLICY = "create-decision-policy.md"
_CAPPING = "items.md: Set capping rules"
_ITEM = "_experience.decisioning.decisionitem."

_LABELS = (
    "usage labels are not a field of the Decisioning create bodies (an item's lookup shows "
    "itemLabels, with no documented meaning): apply them in the UI"
)
_CONTENT = (
    "an item holds no content: in Decisioning the content belongs to the message (code-based "
    "experience, email, push) or to a content fragment the decision policy renders; Adobe's "
    "Migration API turns JSON and text content into fragments and migrates no other content"
)
_NO_CAPPING = (
    "Decisioning capping rules have another shape (capping event, scope, in total or per "
    "profile, reset frequency) that the Offer Library API reference does not document (an "
    "item's lookup shows only fCapConstraintsLastIndex): recreate them on the item in the UI"
)
_NO_AUDIENCES = (
    "the API reference documents no audience field for decision items or selection strategies: "
    "migrate stops at an object with audiences (write them as an eligibility rule with "
    "inSegment(), or use Adobe's Migration API, which maps audiences)"
)
_POLICY_OWNS = "the Offer Library API does not manage decision policies"


def _offer_rows(kind: Kind) -> tuple[Row, ...]:
    item = Kind.DECISION_ITEM
    shared = (
        Row(kind, "name", item, _ITEM + "itemName", "copied", _ITEM_API),
        Row(kind, "description", item, _ITEM + "itemDescription", "copied", _ITEM_API),
        Row(
            kind,
            "status",
            item,
            "_experience.decisioning.offeritem.lifecycleStatus",
            "copied (draft, approved, archived in both models)",
            _ITEM_API,
        ),
        Row(kind, "representations", None, None, _CONTENT, _OUT_OF_SCOPE),
        Row(
            kind,
            "tags",
            item,
            f"{TENANT_PLACEHOLDER}.{TAGS}",
            "the names of the offer's tags, which item collections select on (Adobe's Migration "
            "API makes Unified Tags, which the Offer Library API does not manage)",
            "collections.md",
        ),
        Row(kind, "labels", None, None, _LABELS, _ITEM_API),
    )
    if kind is Kind.FALLBACK_OFFER:
        return shared
    return (
        *shared[:4],
        Row(
            kind,
            "selectionConstraint.startDate",
            item,
            _ITEM + "itemCalendarConstraints.startDate",
            "copied",
            _ITEM_API,
        ),
        Row(
            kind,
            "selectionConstraint.endDate",
            item,
            _ITEM + "itemCalendarConstraints.endDate",
            "copied",
            _ITEM_API,
        ),
        Row(
            kind,
            "selectionConstraint.profileConstraintType",
            item,
            _ITEM + "itemConstraints.profileConstraintType",
            "copied",
            _ITEM_API,
        ),
        Row(
            kind,
            "selectionConstraint.eligibilityRule",
            item,
            _ITEM + "itemConstraints.eligibilityRule",
            "a reference to the migrated eligibility rule",
            _ITEM_API,
        ),
        Row(kind, "selectionConstraint.segmentIdentities", None, None, _NO_AUDIENCES, _ITEM_API),
        Row(
            kind,
            "rank.priority",
            item,
            _ITEM + "itemPriority",
            "copied (0 when the offer has no rank)",
            _ITEM_API,
        ),
        Row(kind, "cappingConstraint", None, None, _NO_CAPPING, _CAPPING),
        Row(kind, "frequencyCappingConstraints", None, None, _NO_CAPPING, _CAPPING),
        Row(
            kind,
            "characteristics",
            item,
            f"{TENANT_PLACEHOLDER}.{ATTRIBUTES}",
            "copied as a custom attribute of the item, where Adobe's Migration API keeps them",
            _ATTRIBUTES_PAGE,
        ),
        *shared[4:],
    )


def _criterion(path: str) -> str:
    return f"criteria[].{path}"


_STRATEGY = Kind.SELECTION_STRATEGY

ROWS: tuple[Row, ...] = (
    # tags (collection qualifiers): no object of their own
    Row(
        Kind.TAG,
        "name",
        Kind.DECISION_ITEM,
        f"{TENANT_PLACEHOLDER}.{TAGS}[]",
        "the name is written on every item migrated from an offer with the tag, and item "
        "collections that filtered on the tag select on it",
        "collections.md",
    ),
    Row(
        Kind.TAG,
        "description",
        None,
        None,
        "Unified Tags replace collection qualifiers and are managed in Experience Platform, not "
        "by the Offer Library API: only the tag's name lives on, on the items",
        _MIGRATION,
    ),
    # placements
    Row(Kind.PLACEMENT, "name", Kind.EXD_PLACEMENT, "name", "copied", _PLACEMENT_API),
    Row(Kind.PLACEMENT, "description", Kind.EXD_PLACEMENT, "description", "copied", _PLACEMENT_API),
    Row(Kind.PLACEMENT, "channel", Kind.EXD_PLACEMENT, "channel", "copied", _PLACEMENT_API),
    Row(
        Kind.PLACEMENT,
        "componentType",
        None,
        None,
        "a Decisioning placement has no content type: the format of the content comes from the "
        "message or fragment the decision policy fills",
        _PLACEMENT_API,
    ),
    Row(
        Kind.PLACEMENT,
        "itemCount",
        None,
        None,
        "the number of items returned is the decision policy's Number of items",
        _POLICY,
    ),
    Row(
        Kind.PLACEMENT,
        "allowDuplicatePlacements",
        None,
        None,
        "duplicates are chosen per Edge request in Decisioning "
        "(data.__adobe.ajo.allowDuplicateDecisionItems)",
        _EDGE,
    ),
    Row(
        Kind.PLACEMENT,
        "returnContent",
        None,
        None,
        "what a response carries is chosen per Edge request in Decisioning "
        "(query.personalization.schemas)",
        _EDGE,
    ),
    Row(
        Kind.PLACEMENT,
        "returnMetaData",
        None,
        None,
        "a Decisioning response carries its own fixed metadata (scopeDetails, items): there is "
        "no choice per placement",
        _EDGE,
    ),
    Row(Kind.PLACEMENT, "labels", None, None, _LABELS, _PLACEMENT_API),
    # decision rules
    Row(Kind.DECISION_RULE, "name", Kind.ELIGIBILITY_RULE, "name", "copied", _MIGRATION),
    Row(
        Kind.DECISION_RULE, "description", Kind.ELIGIBILITY_RULE, "description", "copied", _RULE_API
    ),
    Row(
        Kind.DECISION_RULE,
        "condition",
        Kind.ELIGIBILITY_RULE,
        "condition",
        "copied (the same PQL condition)",
        _RULE_API,
    ),
    Row(Kind.DECISION_RULE, "definedOn", Kind.ELIGIBILITY_RULE, "definedOn", "copied", INFERRED),
    Row(
        Kind.DECISION_RULE,
        "exdRule",
        Kind.ELIGIBILITY_RULE,
        "exdRule",
        "written true: it is what makes an /offer-rules object a Decisioning rule",
        _RULE_API,
    ),
    Row(Kind.DECISION_RULE, "labels", None, None, _LABELS, _RULE_API),
    # ranking formulas (legacy: exdFunction not true)
    Row(
        Kind.RANKING_FORMULA,
        "name",
        Kind.RANKING_FORMULA,
        "name",
        "copied, and since the legacy formula keeps its name until it is pruned, the copy is "
        "named '<name> (Decisioning)'",
        _MIGRATION,
    ),
    Row(
        Kind.RANKING_FORMULA,
        "description",
        Kind.RANKING_FORMULA,
        "description",
        "copied",
        _FORMULA_API,
    ),
    Row(
        Kind.RANKING_FORMULA,
        "exdFunction",
        Kind.RANKING_FORMULA,
        "exdFunction",
        "written true: it is what makes a formula Decisioning's",
        _FORMULA_API,
    ),
    Row(
        Kind.RANKING_FORMULA,
        "returnType",
        Kind.RANKING_FORMULA,
        "returnType",
        "copied",
        _FORMULA_API,
    ),
    Row(
        Kind.RANKING_FORMULA,
        "expression",
        Kind.RANKING_FORMULA,
        "expression",
        "copied as written (the report notes legacy offer attributes it reads)",
        _FORMULA_API,
    ),
    Row(
        Kind.RANKING_FORMULA, "definedOn", Kind.RANKING_FORMULA, "definedOn", "copied", _FORMULA_API
    ),
    Row(Kind.RANKING_FORMULA, "isPure", Kind.RANKING_FORMULA, "isPure", "copied", INFERRED),
    # offers
    *_offer_rows(Kind.PERSONALIZED_OFFER),
    *_offer_rows(Kind.FALLBACK_OFFER),
    # collections
    Row(Kind.COLLECTION, "name", Kind.ITEM_COLLECTION, "name", "copied", _MIGRATION),
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
    Row(Kind.COLLECTION, "labels", None, None, _LABELS, _COLLECTION_API),
    # decisions: one selection strategy per criterion
    Row(
        Kind.DECISION,
        "name",
        _STRATEGY,
        "name",
        "'<name> (criterion <n>)': one selection strategy per criterion",
        _MIGRATION,
    ),
    Row(
        Kind.DECISION,
        "description",
        _STRATEGY,
        "description",
        "copied to each strategy",
        _STRATEGY_API,
    ),
    Row(
        Kind.DECISION,
        "status",
        None,
        None,
        f"a decision goes live with the decision policy of a campaign or journey; {_POLICY_OWNS}",
        _POLICY,
    ),
    Row(
        Kind.DECISION,
        "startDate",
        None,
        None,
        f"the campaign or journey holding the decision policy is scheduled; {_POLICY_OWNS}",
        _POLICY,
    ),
    Row(
        Kind.DECISION,
        "endDate",
        None,
        None,
        f"the campaign or journey holding the decision policy is scheduled; {_POLICY_OWNS}",
        _POLICY,
    ),
    Row(
        Kind.DECISION,
        "fallback",
        None,
        None,
        "the decision policy chooses its fallback item (the fallback offer is migrated to an "
        f"item to choose there); {_POLICY_OWNS}",
        _POLICY,
    ),
    Row(
        Kind.DECISION,
        _criterion("placements"),
        None,
        None,
        "a decision policy is added to a message's content (a code-based experience surface, or "
        f"an email component with a placement assigned); {_POLICY_OWNS}",
        _POLICY,
    ),
    Row(
        Kind.DECISION,
        _criterion("rank.priority"),
        _STRATEGY,
        "rank.priority",
        "copied (0 when the criterion has no rank)",
        _STRATEGY_API,
    ),
    Row(
        Kind.DECISION,
        _criterion("rank.order.orderEvaluationType"),
        _STRATEGY,
        "rank.order.orderEvaluationType",
        "static and scoringFunction copied (static when the criterion has no order); "
        "ranking-strategy becomes static (see rankingStrategy)",
        _STRATEGY_API,
    ),
    Row(
        Kind.DECISION,
        _criterion("rank.order.function"),
        _STRATEGY,
        "rank.order.function",
        "a reference to the migrated ranking formula (or to the formula itself when it is "
        "Decisioning's already)",
        _STRATEGY_API,
    ),
    Row(
        Kind.DECISION,
        _criterion("rank.order.rankingStrategy"),
        None,
        None,
        "a legacy AI ranking strategy is not a Decisioning AI model: select a model on the "
        "strategy in the UI (it ranks by priority meanwhile)",
        "ranking/ai-models.md",
    ),
    Row(
        Kind.DECISION,
        _criterion("profileConstraint.profileConstraintType"),
        _STRATEGY,
        "profileConstraint.profileConstraintType",
        "copied (none when the criterion has no profile constraint)",
        _STRATEGY_API,
    ),
    Row(
        Kind.DECISION,
        _criterion("profileConstraint.eligibilityRule"),
        _STRATEGY,
        "profileConstraint.eligibilityRule",
        "a reference to the migrated eligibility rule",
        _STRATEGY_API,
    ),
    Row(
        Kind.DECISION,
        _criterion("profileConstraint.segmentIdentities"),
        None,
        None,
        _NO_AUDIENCES,
        _STRATEGY_API,
    ),
    Row(
        Kind.DECISION,
        _criterion("optionSelection.filter"),
        _STRATEGY,
        "optionSelection.filter",
        "a reference to the migrated item collection",
        _STRATEGY_API,
    ),
    Row(Kind.DECISION, "labels", None, None, _LABELS, _STRATEGY_API),
)
"""Every field a legacy file may hold, and what it becomes (tests/test_migrate.py proves the
table covers every field the legacy YAML models allow)."""

_BY_KIND: Mapping[Kind, tuple[Row, ...]] = {
    kind: tuple(row for row in ROWS if row.kind is kind) for kind in LEGACY
}


def covers(row: Row, path: str) -> bool:
    """Whether a row accounts for a field path (its own path, or one under it)."""
    base = row.legacy_path
    return path == base or path.startswith((base + ".", base + "["))


def row_for(kind: Kind, path: str) -> Row | None:
    """The most specific row of a kind that covers a field path."""
    found = [row for row in _BY_KIND.get(kind, ()) if covers(row, path)]
    return max(found, key=lambda row: len(row.legacy_path), default=None)


def field_paths(body: Mapping[str, JsonValue]) -> Iterator[str]:
    """The paths of the leaves of a body (`criteria[].rank.priority`); an empty list or mapping
    and a reference are leaves."""

    def walk(value: JsonValue, here: str) -> Iterator[str]:
        if isinstance(value, dict) and value:
            for name, item in value.items():
                yield from walk(item, f"{here}.{name}" if here else name)
        elif isinstance(value, list) and value:
            for item in value:
                yield from walk(item, here + "[]")
        else:
            yield here

    for name, value in body.items():
        yield from walk(value, name)


def _page(source: str) -> tuple[str, str]:
    page, _, section = source.partition(": ")
    return page, section


def source_link(source: str) -> str:
    """A row's source as markdown: a reference link to the Adobe page (see `link_definitions`),
    its section after it."""
    if source == INFERRED:
        return "*inferred*"
    page, section = _page(source)
    return f"[{page}]" + (f" ({section})" if section else "")


def link_definitions(sources: Iterable[str]) -> list[str]:
    """The markdown link definitions of the pages sources name, sorted."""
    pages = sorted({_page(source)[0] for source in sources if source != INFERRED})
    return [f"[{page}]: {DOCS}{page}" for page in pages]


def markdown_cell(text: str) -> str:
    """Text for a markdown table cell: no column break, no HTML tag (`<name>` stays visible)."""
    return text.replace("|", "\\|").replace("<", "&lt;").replace("\n", " ")


def mapping_markdown() -> str:
    """The mapping table as markdown (the README's copy is this text, exactly)."""
    lines = [
        "| Legacy kind | Legacy field | Decisioning kind | Decisioning field | How, or why not | Source |",
        "|---|---|---|---|---|---|",
    ]
    for row in ROWS:
        target_kind = row.target_kind.value if row.target_kind else "—"
        target = f"`{row.target_path}`" if row.target_path else "**not migrated**"
        lines.append(
            f"| {row.kind.value} | `{row.legacy_path}` | {target_kind} | {target} | "
            f"{markdown_cell(row.reason)} | {source_link(row.source)} |"
        )
    lines += ["", *link_definitions(row.source for row in ROWS)]
    return "\n".join(lines) + "\n"


# --- the result ---------------------------------------------------------------------------------


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


# --- migrating --------------------------------------------------------------------------------


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


def slug(text: str) -> str:
    """A file-name-safe form of a text, as documents.slug makes it (`summer/sale-60` ->
    `summer-sale-60`)."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60].strip("-") or "object"


@dataclass(frozen=True, slots=True)
class _Target:
    key: Key
    kind: Kind
    name: str
    renamed_from: str | None = None
    taken_by: str | None = None


@dataclass
class _Context:
    by_key: Mapping[Key, Desired]
    targets: Mapping[Key, tuple[_Target, ...]]
    tenant: str
    problems: list[str] = field(default_factory=list)

    def file(self, key: Key) -> str:
        item = self.by_key.get(key)
        return item.source.path if item is not None and item.source.path else f"offers/{key}.yaml"

    def problem(self, item: Desired, where: str, message: str) -> None:
        self.problems.append(f"{self.file(item.key)}: {where}: {message}")

    def name(self, key: Key) -> str:
        return self.by_key[key].name

    def target(self, key: Key) -> _Target:
        return self.targets[key][0]


def migrate(
    estate: Sequence[Desired], *, prefix: str, tenant: str, keys: Sequence[Key] = ()
) -> Migration:
    """The Decisioning definitions of the legacy objects (all of them, or those KEYs and what
    they need), under `prefix` (a key prefix such as `decisioning-migrated`)."""
    by_key = {item.key: item for item in estate}
    keys = tuple(dict.fromkeys(keys))  # each once, in the order given
    for key in keys:
        _check_chosen(key, by_key)
    targets = _plan_targets(estate, prefix)
    context = _Context(by_key, targets, tenant)
    chosen, needed_by = _closure(keys, estate, by_key)
    objects: list[Migrated] = []
    for key in sorted(chosen):
        item = by_key[key]
        outputs, notes = _TRANSFORMS[item.kind](item, context)
        notes = [*_rename_notes(targets.get(key, ())), *notes]
        migrated, not_migrated = _fields(item, tenant)
        objects.append(
            Migrated(
                key=key,
                kind=item.kind,
                file=context.file(key),
                outputs=tuple(outputs),
                migrated=migrated,
                not_migrated=not_migrated,
                notes=tuple(notes),
                pulled_in_by=tuple(sorted(needed_by.get(key, ()))) if key not in keys else (),
            )
        )
    if context.problems:
        count = len(context.problems)
        raise MigrationError(
            f"cannot migrate ({count} problem{'s' if count != 1 else ''}, nothing written): "
            + "; ".join(context.problems)
        )
    return Migration(
        prefix=prefix,
        tenant=tenant,
        objects=tuple(objects),
        selected=tuple(keys) if keys else None,
    )


def _check_chosen(key: Key, by_key: Mapping[Key, Desired]) -> None:
    item = by_key.get(key)
    if item is None:
        bare = key.removeprefix("offers/").removesuffix(".yaml").removesuffix(".yml")
        close = (
            [bare] if bare in by_key else difflib.get_close_matches(key, sorted(by_key), 1, 0.85)
        )
        hint = f": did you mean {close[0]}?" if close else ""
        raise MigrationError(
            f"{key}: no file defines this key{hint} (a key is the path under offers/ without .yaml)"
        )
    if not is_legacy(item):
        raise MigrationError(
            f"{key}: a {item.kind.value} of Decisioning, not a legacy object: migrate takes "
            f"{', '.join(kind.value for kind in LEGACY)} (a ranking formula without exdFunction: true)"
        )


def _plan_targets(estate: Sequence[Desired], prefix: str) -> dict[Key, tuple[_Target, ...]]:
    """Keys and names of every legacy object's definitions, over the whole estate (so a KEY
    selection names them as a whole migration would)."""
    inside = prefix + "/"
    taken: dict[tuple[Kind, str], str] = {}
    for item in estate:
        if item.kind in FOLDERS and not item.key.startswith(inside):
            name = name_of(item.kind, item.body)
            if name is not None:
                taken.setdefault((item.kind, name), item.source.path or f"offers/{item.key}.yaml")
    used_keys: set[Key] = set()
    planned: dict[Key, tuple[_Target, ...]] = {}
    for item in sorted(estate, key=lambda d: d.key):
        kind = TARGETS.get(item.kind)
        if kind is None or not is_legacy(item):
            continue
        wanted: list[tuple[str, str]] = []
        if item.kind is Kind.DECISION:
            wanted = [
                (f"{slug(item.key)}-{n}", f"{item.name} (criterion {n})")
                for n in range(1, len(_criteria(item)) + 1)
            ]
        else:
            wanted = [(slug(item.key), item.name)]
        found: list[_Target] = []
        for base, name in wanted:
            key = Key(f"{prefix}/{FOLDERS[kind]}/{base}")
            counter = 2
            while key in used_keys:
                key = Key(f"{prefix}/{FOLDERS[kind]}/{base}-{counter}")
                counter += 1
            used_keys.add(key)
            final, counter = name, 1
            while (kind, final) in taken:
                final = (
                    f"{name} (Decisioning)" if counter == 1 else f"{name} (Decisioning {counter})"
                )
                counter += 1
            holder = taken.get((kind, name)) if final != name else None
            taken[(kind, final)] = f"the {kind.value} migrated from {item.key}"
            found.append(_Target(key, kind, final, name if final != name else None, holder))
        planned[item.key] = tuple(found)
    return planned


def _rename_notes(targets: Sequence[_Target]) -> list[str]:
    return [
        f"{target.key} is named {target.name!r}: {target.renamed_from!r} is the name of "
        f"{target.taken_by} (names are unique per kind)"
        for target in targets
        if target.renamed_from is not None
    ]


# --- what each object needs (KEY selection) -----------------------------------------------------


def _ref(value: object) -> Key | None:
    return value.key if isinstance(value, Ref) else None


def _at(node: object, *path: str) -> object:
    for step in path:
        node = node.get(step) if isinstance(node, dict) else None
    return node


def _list(node: object) -> list[JsonValue]:
    return node if isinstance(node, list) else []


def _criteria(item: Desired) -> list[dict[str, JsonValue]]:
    return [c for c in _list(item.body.get("criteria")) if isinstance(c, dict)]


def _tag_keys(item: Desired) -> list[Key]:
    return [key for key in map(_ref, _list(item.body.get("tags"))) if key is not None]


def _needs(item: Desired, estate: Sequence[Desired], by_key: Mapping[Key, Desired]) -> list[Key]:
    """The legacy objects whose definitions the object's definitions refer to."""
    found: list[Key | None] = []
    match item.kind:
        case Kind.PERSONALIZED_OFFER:
            found.append(_ref(_at(item.body, "selectionConstraint", "eligibilityRule")))
        case Kind.COLLECTION:
            wanted = [key for key in map(_ref, _list(item.body.get("ids"))) if key is not None]
            if item.body.get("filterType") == "offers":
                found += wanted
            else:
                match_all = item.body.get("filterType") == "all-tags"
                for offer in estate:
                    if offer.kind is Kind.PERSONALIZED_OFFER and _has_tags(
                        _tag_keys(offer), wanted, match_all=match_all
                    ):
                        found.append(offer.key)
        case Kind.DECISION:
            found.append(_ref(item.body.get("fallback")))
            for criterion in _criteria(item):
                found.append(_ref(_at(criterion, "optionSelection", "filter")))
                found.append(_ref(_at(criterion, "profileConstraint", "eligibilityRule")))
                found.append(_ref(_at(criterion, "rank", "order", "function")))
        case _:
            pass
    return [key for key in found if key is not None and key in by_key and is_legacy(by_key[key])]


def _has_tags(carried: Sequence[Key], wanted: Sequence[Key], *, match_all: bool) -> bool:
    if not wanted:
        return False
    if match_all:
        return all(tag in carried for tag in wanted)
    return any(tag in carried for tag in wanted)


def _closure(
    keys: Sequence[Key], estate: Sequence[Desired], by_key: Mapping[Key, Desired]
) -> tuple[set[Key], dict[Key, set[Key]]]:
    if not keys:
        return {item.key for item in estate if is_legacy(item)}, {}
    chosen: set[Key] = set()
    needed_by: dict[Key, set[Key]] = {}
    pending = list(keys)
    while pending:
        key = pending.pop()
        if key in chosen:
            continue
        chosen.add(key)
        for needed in _needs(by_key[key], estate, by_key):
            needed_by.setdefault(needed, set()).add(key)
            pending.append(needed)
    return chosen, needed_by


# --- fields -------------------------------------------------------------------------------------


def _fields(item: Desired, tenant: str) -> tuple[tuple[Fate, ...], tuple[Fate, ...]]:
    """What became of each field the object holds: one entry per row, in table order; a field
    no row covers is reported as not migrated."""
    hit: dict[str, Row] = {}
    unknown: list[str] = []
    for path in field_paths(item.body):
        row = row_for(item.kind, path)
        if row is None:
            if path not in unknown:
                unknown.append(path)
        else:
            hit.setdefault(row.legacy_path, row)
    ordered = [row for row in _BY_KIND[item.kind] if row.legacy_path in hit]
    migrated = tuple(
        Fate(
            row.legacy_path,
            row.target_kind,
            row.target_path.replace(TENANT_PLACEHOLDER, tenant) if row.target_path else None,
            row.reason,
            row.source,
        )
        for row in ordered
        if row.target_kind is not None
    )
    dropped = [
        Fate(row.legacy_path, None, None, row.reason, row.source)
        for row in ordered
        if row.target_kind is None
    ]
    dropped += [
        Fate(
            path,
            None,
            None,
            "no row of the mapping table covers this field, so it is not migrated: please "
            "report it",
            INFERRED,
        )
        for path in unknown
    ]
    return migrated, tuple(dropped)


# --- the transforms -----------------------------------------------------------------------------

_Result = tuple[list[Output], list[str]]


def _copy(value: JsonValue) -> JsonValue:
    return copy.deepcopy(value)


def _described(target: _Target, body: Mapping[str, JsonValue]) -> dict[str, JsonValue]:
    out: dict[str, JsonValue] = {"name": target.name}
    if "description" in body:
        out["description"] = _copy(body["description"])
    return out


def _tag(item: Desired, context: _Context) -> _Result:
    return [], ["a tag becomes no object: its name is written on the items of the offers it tags"]


_EMAIL = "https://ns.adobe.com/xdm/channel-types/email"


def _placement(item: Desired, context: _Context) -> _Result:
    target = context.target(item.key)
    body = {
        **_described(target, item.body),
        "channel": _copy(item.body.get("channel")),
        "status": "active",
    }
    notes = []
    if item.body.get("channel") != _EMAIL:
        notes.append(
            "Decisioning placements are documented for the email channel only (placements.md); a "
            "code-based experience reaches this location through a channel configuration, which "
            "Adobe's Migration API creates per placement: check you need this placement"
        )
    return [Output(target.key, target.kind, target.name, body)], notes


def _rule(item: Desired, context: _Context) -> _Result:
    target = context.target(item.key)
    body: dict[str, JsonValue] = {**_described(target, item.body), "exdRule": True}
    body["condition"] = _copy(item.body.get("condition"))
    if "definedOn" in item.body:
        body["definedOn"] = _copy(item.body["definedOn"])
    return [Output(target.key, target.kind, target.name, body)], []


_LEGACY_ATTRIBUTE = re.compile(
    r"\boffer\.(characteristics|rank|tags|selectionConstraint|name|description|status|"
    r"representations)\b"
)


def _formula(item: Desired, context: _Context) -> _Result:
    target = context.target(item.key)
    body: dict[str, JsonValue] = {**_described(target, item.body), "exdFunction": True}
    for name in ("returnType", "expression", "definedOn", "isPure"):
        if name in item.body:
            body[name] = _copy(item.body[name])
    notes = []
    expression = _at(item.body, "expression", "value")
    if isinstance(expression, str):
        read = sorted({f"offer.{m.group(1)}" for m in _LEGACY_ATTRIBUTE.finditer(expression)})
        if read:
            notes.append(
                f"the expression reads legacy offer attributes ({', '.join(read)}): a decision "
                "item's are its standard and custom attributes (ranking/ranking-formulas.md, "
                "Define criteria using the code editor): rewrite them before merging"
            )
    return [Output(target.key, target.kind, target.name, body)], notes


def _rule_reference(item: Desired, where: str, value: JsonValue, context: _Context) -> Ref | None:
    key = _ref(value)
    if key is None:
        context.problem(
            item,
            where,
            f"the literal id {value!r} names a rule this repository does not define, so its "
            "migrated rule is unknown: define the rule here ({ref: <key>}) or import it first",
        )
        return None
    return Ref(context.target(key).key)


def _no_audiences(item: Desired, where: str, constraint: object, context: _Context) -> bool:
    chosen = _at(constraint, "profileConstraintType")
    if chosen in ("anySegments", "allSegments"):
        context.problem(item, where, f"profileConstraintType {chosen}: {_NO_AUDIENCES}")
        return False
    return True


def _offer(item: Desired, context: _Context) -> _Result:
    target = context.target(item.key)
    body = item.body
    decision_item: dict[str, JsonValue] = {"itemName": target.name}
    if "description" in body:
        decision_item["itemDescription"] = _copy(body["description"])
    priority = _at(body, "rank", "priority")
    decision_item["itemPriority"] = priority if isinstance(priority, int) else 0
    constraint = body.get("selectionConstraint")
    constraints: dict[str, JsonValue] = {"profileConstraintType": "none"}
    if isinstance(constraint, dict):
        calendar: dict[str, JsonValue] = {
            name: _copy(constraint[name]) for name in ("startDate", "endDate") if name in constraint
        }
        if calendar:
            decision_item["itemCalendarConstraints"] = calendar
        if _no_audiences(item, "selectionConstraint", constraint, context):
            constraints["profileConstraintType"] = _copy(constraint.get("profileConstraintType"))
        if "eligibilityRule" in constraint:
            rule = _rule_reference(
                item, "selectionConstraint.eligibilityRule", constraint["eligibilityRule"], context
            )
            if rule is not None:
                constraints["eligibilityRule"] = rule
    decision_item["itemConstraints"] = constraints
    out: dict[str, JsonValue] = {
        "_experience": {
            "decisioning": {
                "offeritem": {"lifecycleStatus": _copy(body.get("status"))},
                "decisionitem": decision_item,
            }
        }
    }
    attributes: dict[str, JsonValue] = {}
    if "characteristics" in body:
        attributes[ATTRIBUTES] = _copy(body["characteristics"])
    if "tags" in body:
        names: list[JsonValue] = []
        for index, value in enumerate(_list(body["tags"])):
            key = _ref(value)
            if key is None:
                context.problem(
                    item,
                    f"tags[{index}]",
                    f"the literal id {value!r} names a tag this repository does not define, so "
                    "its name is unknown: define the tag here ({ref: <key>}) or import it first",
                )
            else:
                names.append(context.name(key))
        attributes[TAGS] = names
    if attributes:
        out[context.tenant] = attributes
    return [Output(target.key, target.kind, target.name, out)], []


def _collection(item: Desired, context: _Context) -> _Result:
    target = context.target(item.key)
    filter_type = item.body.get("filterType")
    values: list[JsonValue] = []
    for index, value in enumerate(_list(item.body.get("ids"))):
        key = _ref(value)
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
        **_described(target, item.body),
        "constraints": [{"uiModel": ui_model}],
    }
    notes = []
    if filter_type != "offers":
        wanted = [key for key in map(_ref, _list(item.body.get("ids"))) if key is not None]
        fallbacks = sorted(
            other.key
            for other in context.by_key.values()
            if other.kind is Kind.FALLBACK_OFFER
            and _has_tags(_tag_keys(other), wanted, match_all=filter_type == "all-tags")
        )
        if fallbacks:
            notes.append(
                f"the fallback offers {', '.join(fallbacks)} carry these tags: their migrated items "
                "are in this item collection too (a legacy collection never held fallback offers)"
            )
    return [Output(target.key, target.kind, target.name, body)], notes


def _contains(left: str, right: list[JsonValue]) -> dict[str, JsonValue]:
    return {"operator": "contains", "value": {"left": left, "right": right}}


def _decision(item: Desired, context: _Context) -> _Result:
    outputs: list[Output] = []
    targets = context.targets[item.key]
    sequence: list[str] = []
    for index, (criterion, target) in enumerate(zip(_criteria(item), targets, strict=True)):
        where = f"criteria[{index}]"
        rank = criterion.get("rank")
        priority = _at(rank, "priority")
        order_type = _at(rank, "order", "orderEvaluationType")
        order: dict[str, JsonValue] = {
            "orderEvaluationType": "scoringFunction"
            if order_type == "scoringFunction"
            else "static"
        }
        if order_type == "scoringFunction":
            function = _at(rank, "order", "function")
            key = _ref(function)
            if key is None:
                context.problem(
                    item,
                    f"{where}.rank.order.function",
                    f"the literal id {function!r} names a ranking formula this repository does "
                    "not define: define it here ({ref: <key>}) or import it first",
                )
            else:
                formula = context.by_key[key]
                order["function"] = Ref(context.target(key).key if is_legacy(formula) else key)
        rank_out: dict[str, JsonValue] = {
            "priority": priority if isinstance(priority, int) else 0,
            "order": order,
        }
        constraint = criterion.get("profileConstraint")
        profile: dict[str, JsonValue] = {"profileConstraintType": "none"}
        if isinstance(constraint, dict):
            if _no_audiences(item, f"{where}.profileConstraint", constraint, context):
                profile["profileConstraintType"] = _copy(constraint.get("profileConstraintType"))
            if "eligibilityRule" in constraint:
                rule = _rule_reference(
                    item,
                    f"{where}.profileConstraint.eligibilityRule",
                    constraint["eligibilityRule"],
                    context,
                )
                if rule is not None:
                    profile["eligibilityRule"] = rule
        selection: dict[str, JsonValue] = {}
        filter_value = _at(criterion, "optionSelection", "filter")
        collection = _ref(filter_value)
        if collection is None:
            context.problem(
                item,
                f"{where}.optionSelection.filter",
                f"the literal id {filter_value!r} names a collection this repository does not "
                "define: define it here ({ref: <key>}) or import it first",
            )
        else:
            selection["filter"] = Ref(context.target(collection).key)
        body = {
            **_described(target, item.body),
            "rank": rank_out,
            "profileConstraint": profile,
            "optionSelection": selection,
        }
        outputs.append(Output(target.key, target.kind, target.name, body))
        placements = ", ".join(
            _label(value, context) for value in _list(criterion.get("placements"))
        )
        sequence.append(f"{target.name} (placements: {placements})")
        if order_type == "ranking-strategy":
            sequence[-1] += ", ranked by priority until you select an AI model"
    fallback = item.body.get("fallback")
    notes = [
        "next step: a decision policy in the campaign or journey that shows these placements "
        f"evaluates the selection strategies in this order: {'; '.join(sequence)}; its fallback "
        f"item is {_item_label(fallback, context)} ({_POLICY})"
    ]
    return outputs, notes


def _label(value: JsonValue, context: _Context) -> str:
    key = _ref(value)
    return repr(context.name(key)) if key is not None and key in context.by_key else str(value)


def _item_label(value: JsonValue, context: _Context) -> str:
    key = _ref(value)
    if key is None or key not in context.targets:
        return f"the item of {value} (not defined in this repository)"
    return repr(context.target(key).name)


_TRANSFORMS = {
    Kind.TAG: _tag,
    Kind.PLACEMENT: _placement,
    Kind.DECISION_RULE: _rule,
    Kind.RANKING_FORMULA: _formula,
    Kind.PERSONALIZED_OFFER: _offer,
    Kind.FALLBACK_OFFER: _offer,
    Kind.COLLECTION: _collection,
    Kind.DECISION: _decision,
}
