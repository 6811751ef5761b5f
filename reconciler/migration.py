"""Pure: legacy Offer Decisioning definitions -> Decisioning definitions, and what became of each field.

`migrate` applies the mapping table (`migration_table.ROWS`: for every field a legacy file may
hold, the Decisioning kind and field it becomes, or why it is not migrated, with the Adobe page
that justifies it) to the loaded estate: each legacy object becomes new definitions under one
folder (placements, rules, formulas, items, collections, strategies), references rewritten to
the new keys; the legacy files are never touched. Every field present in a migrated object is
accounted for in the result (`Migrated.migrated` / `.not_migrated`), so nothing is dropped
silently: a field no row covers is reported too. With KEYs, it migrates those objects and the
legacy objects their definitions refer to.

Where the rest lives: the values in `migration_model`, keys and names in `migration_naming`,
one converter (and its rows of the table) per target family in `migration_components`,
`migration_items`, `migration_collections` and `migration_strategies`.

Choices (documented in the README, "Migrating to Decisioning"):
- keys: `<out>/<folder>/<legacy key with / as ->`, a decision's strategies `...-<criterion>`;
- names: the legacy name, unless another definition of the target kind that this run does not
  write (hand-written ones under the output folder too), or an earlier migrated one, has it:
  then `<name> (Decisioning)`, `(Decisioning 2)`...; keys and names are computed over the whole
  legacy estate, so a KEY selection gives the same ones;
- an offer's characteristics go to `_<tenant>.migratedofferattributes` (Adobe's Migration API
  name) and the names of its tags to `_<tenant>.migratedtags`, which item collections select on;
- a collection listing offers selects the migrated items by name (ids are not known before
  apply and uiModel holds no references); a tag collection selects on `migratedtags`.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence

from reconciler.migration_body import at, criteria, has_tags, listed, ref, tag_keys
from reconciler.migration_collections import convert_collection
from reconciler.migration_components import convert_formula, convert_placement, convert_rule
from reconciler.migration_context import Context
from reconciler.migration_items import convert_offer, convert_tag
from reconciler.migration_model import (
    FOLDERS,
    LEGACY,
    TARGETS,
    FileStatus,
    Migrated,
    Migration,
    MigrationError,
    is_legacy,
)
from reconciler.migration_naming import plan_targets, rename_notes
from reconciler.migration_row import INFERRED
from reconciler.migration_strategies import convert_decision
from reconciler.migration_table import ROWS, covers, fates, field_paths, mapping_markdown, row_for
from reconciler.model import Desired, Key, Kind

__all__ = [  # migrate, and the names callers know from before the split, where they live now
    "FOLDERS",
    "INFERRED",
    "LEGACY",
    "ROWS",
    "TARGETS",
    "FileStatus",
    "Migration",
    "MigrationError",
    "covers",
    "field_paths",
    "is_legacy",
    "mapping_markdown",
    "migrate",
    "row_for",
]

_TRANSFORMS = {
    Kind.TAG: convert_tag,
    Kind.PLACEMENT: convert_placement,
    Kind.DECISION_RULE: convert_rule,
    Kind.RANKING_FORMULA: convert_formula,
    Kind.PERSONALIZED_OFFER: convert_offer,
    Kind.FALLBACK_OFFER: convert_offer,
    Kind.COLLECTION: convert_collection,
    Kind.DECISION: convert_decision,
}


def migrate(
    estate: Sequence[Desired], *, prefix: str, tenant: str, keys: Sequence[Key] = ()
) -> Migration:
    """The Decisioning definitions of the legacy objects (all of them, or those KEYs and what
    they need), under `prefix` (a key prefix such as `decisioning-migrated`)."""
    by_key = {item.key: item for item in estate}
    keys = tuple(dict.fromkeys(keys))  # each once, in the order given
    for key in keys:
        _check_chosen(key, by_key)
    targets = plan_targets(estate, prefix)
    context = Context(by_key, targets, tenant)
    chosen, needed_by = _closure(keys, estate, by_key)
    objects: list[Migrated] = []
    for key in sorted(chosen):
        item = by_key[key]
        outputs, notes = _TRANSFORMS[item.kind](item, context)
        notes = [*rename_notes(targets.get(key, ())), *notes]
        migrated, not_migrated = fates(item, tenant)
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


def _needs(item: Desired, estate: Sequence[Desired], by_key: Mapping[Key, Desired]) -> list[Key]:
    """The legacy objects whose definitions the object's definitions refer to."""
    found: list[Key | None] = []
    match item.kind:
        case Kind.PERSONALIZED_OFFER:
            found.append(ref(at(item.body, "selectionConstraint", "eligibilityRule")))
        case Kind.COLLECTION:
            wanted = [key for key in map(ref, listed(item.body.get("ids"))) if key is not None]
            if item.body.get("filterType") == "offers":
                found += wanted
            else:
                match_all = item.body.get("filterType") == "all-tags"
                for offer in estate:
                    if offer.kind is Kind.PERSONALIZED_OFFER and has_tags(
                        tag_keys(offer), wanted, match_all=match_all
                    ):
                        found.append(offer.key)
        case Kind.DECISION:
            found.append(ref(item.body.get("fallback")))
            for criterion in criteria(item):
                found.append(ref(at(criterion, "optionSelection", "filter")))
                found.append(ref(at(criterion, "profileConstraint", "eligibilityRule")))
                found.append(ref(at(criterion, "rank", "order", "function")))
        case _:
            pass
    return [key for key in found if key is not None and key in by_key and is_legacy(by_key[key])]


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
