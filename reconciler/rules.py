"""Pure: the rules across fields of one body, what the models alone cannot say, as Issues.

Date order, one representation per placement, guardrail counts (reference §6.4), eligibility
rules only with their profile constraint type, each id listed once: each rule looks only at
values of the right shape, so it runs even on a body the models refused.
"""

from __future__ import annotations

import datetime
import enum
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from reconciler import pql
from reconciler.model import Kind

Location = tuple[str | int, ...]


class Anchor(enum.Enum):
    """What in the file an issue points at."""

    KEY = "key"  # the field's name: an unknown field
    VALUE = "value"  # the field's value, or the list item: a wrong value
    PARENT = "parent"  # the mapping the field belongs in: a missing field


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem in one body: where it is and what to do about it."""

    location: Location
    message: str
    anchor: Anchor = Anchor.VALUE
    within: int | None = None  # a character offset inside the text value (a PQL syntax error)


# --- guardrails (reference §6.4) -------------------------------------------------------------

GUARDRAILS_PAGE = "decision-management-guardrails.md"
"""Adobe's page of Decision Management limits (reference §6.4): every message of one names it."""
OFFER_PAGE = "creating-personalized-offers.md"
MAX_TAGS = 20  # collection qualifiers per offer or collection
MAX_CAPS = 10  # capping rules per offer
MAX_ATTRIBUTES = 30  # characteristics per offer
MAX_OFFERS_PER_COLLECTION = 500
MAX_PER_DECISION = 30  # placements per decision, collections per decision
MAX_PQL_BYTES = 15 * 1024
MAX_ITEM_COUNT = 30  # offers returned per decision scope
MAX_DEPTH = 16  # no kind nests deeper than 6 levels; deeper YAML is a mistake
MAX_OFFER_BYTES = 300 * 1024
"""An offer with all its representations, as JSON. The guardrail table says 1 KB ("max size of
offers including attributes", "max offer representation size"), the offer page 300 KB; reference
§10 notes the contradiction. 1 KB would refuse the example estate's summer/sale-60 (1,172 bytes)
and any offer with real HTML, so the offline check holds the limit both readings agree on and
leaves the rest to Adobe."""

_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})")


def instant(text: str) -> datetime.datetime | None:
    """The moment an RFC 3339 date-time names, or None when it is not one."""
    if not _RFC3339.fullmatch(text):
        return None
    try:
        return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def dotted(location: Location) -> str:
    """A location as the messages name it: `representations[0].components[1].type`."""
    out = ""
    for step in location:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else str(step))
    return out or "the top level"


# --- rules across fields --------------------------------------------------------------------


def rules(kind: Kind, body: Mapping[Any, Any]) -> Iterator[Issue]:
    """What the models alone cannot say; each rule looks only at values of the right shape."""
    yield from date_order(body, ())
    constraint = body.get("selectionConstraint")
    if isinstance(constraint, dict):
        yield from date_order(constraint, ("selectionConstraint",))
        yield from profile(constraint, ("selectionConstraint",))
    caps = _list(body, "frequencyCappingConstraints")
    for index, cap in enumerate(caps):
        if isinstance(cap, dict):
            yield from date_order(cap, ("frequencyCappingConstraints", index))
    yield from at_most(body, "frequencyCappingConstraints", MAX_CAPS, "frequency caps")
    yield from at_most(body, "characteristics", MAX_ATTRIBUTES, "characteristics")
    yield from at_most(body, "tags", MAX_TAGS, "tags")
    if kind in (Kind.PERSONALIZED_OFFER, Kind.FALLBACK_OFFER):
        yield from _offer_size(body)
    representations = _list(body, "representations")
    placements = [
        item.get("placement") if isinstance(item, dict) else None for item in representations
    ]
    yield from _once(
        placements,
        lambda i: ("representations", i, "placement"),
        "a second representation for the placement of representations[{first}]: "
        "an offer has one representation per placement: merge them",
    )
    yield from _once(
        _list(body, "tags"), lambda i: ("tags", i), "the same tag as tags[{first}]: list it once"
    )
    if kind is Kind.COLLECTION:
        ids = _list(body, "ids")
        yield from _once(ids, lambda i: ("ids", i), "the same as ids[{first}]: list it once")
        if body.get("filterType") in ("any-tags", "all-tags"):
            yield from at_most(body, "ids", MAX_TAGS, "tags")
        else:
            yield from at_most(body, "ids", MAX_OFFERS_PER_COLLECTION, "offers")
    if kind is Kind.DECISION_RULE:
        condition = body.get("condition")
        value = condition.get("value") if isinstance(condition, dict) else None
        if isinstance(value, str) and len(value.encode("utf-8")) > MAX_PQL_BYTES:
            size = len(value.encode("utf-8"))
            yield Issue(
                ("condition", "value"),
                f"condition.value: at most {MAX_PQL_BYTES} bytes of PQL are allowed "
                f"({GUARDRAILS_PAGE}), found {size}: shorten the rule",
            )
    if kind is Kind.DECISION:
        yield from _criteria(_list(body, "criteria"))
    yield from pql_syntax(kind, body)


PQL_FIELDS: Mapping[Kind, str] = {
    Kind.DECISION_RULE: "condition",
    Kind.ELIGIBILITY_RULE: "condition",
    Kind.RANKING_FORMULA: "expression",
}


def pql_syntax(kind: Kind, body: Mapping[Any, Any]) -> Iterator[Issue]:
    """A rule's or formula's PQL that does not parse, at the character where it stops."""
    field = PQL_FIELDS.get(kind)
    holder = body.get(field) if field else None
    text = holder.get("value") if isinstance(holder, dict) else None
    if field is None or not isinstance(text, str) or not text.strip():
        return
    try:
        pql.parse(text)
    except pql.PqlSyntaxError as error:
        where = f"line {error.line}, " if "\n" in text else ""
        yield Issue(
            (field, "value"),
            f"{field}.value: PQL syntax error at {where}column {error.column} of the "
            f"{'rule' if field == 'condition' else 'formula'}: {error.message}",
            within=error.offset,
        )


def at_most(body: Mapping[Any, Any], name: str, limit: int, noun: str) -> Iterator[Issue]:
    """A guardrail of reference §6.4, reported at the first item over it."""
    values = body.get(name)
    if isinstance(values, list | dict) and len(values) > limit:
        first = list(values)[limit] if isinstance(values, dict) else limit
        yield Issue(
            (name, first),
            f"{name}: at most {limit} {noun} are allowed ({GUARDRAILS_PAGE}), found "
            f"{len(values)}: remove {len(values) - limit}",
            Anchor.KEY if isinstance(values, dict) else Anchor.VALUE,
        )


def _offer_size(body: Mapping[Any, Any]) -> Iterator[Issue]:
    """An offer with its representations, as the JSON sent, within MAX_OFFER_BYTES."""
    fields = {name: value for name, value in body.items() if name not in ("kind", "protect")}
    try:
        text = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError):  # keys that are not text: the schema reports them
        return
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_OFFER_BYTES:
        where = "representations" if "representations" in body else "kind"
        yield Issue(
            (where,),
            f"{where}: an offer with all its representations holds at most {MAX_OFFER_BYTES} "
            f"bytes of JSON (300 KB, {OFFER_PAGE}; the 1 KB of {GUARDRAILS_PAGE} contradicts "
            f"it and is left to Adobe), found {size}: move content out, behind a deliveryURL",
            Anchor.KEY,
        )


def _list(body: Mapping[Any, Any], name: str) -> list[Any]:
    value = body.get(name)
    return value if isinstance(value, list) else []


def _identity(value: object) -> str | None:
    """What a reference names, comparable across its two spellings; None when malformed."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("ref"), str) and len(value) == 1:
        return f"{{ref: {value['ref']}}}"
    return None


def _once(values: list[Any], where: Any, message: str) -> Iterator[Issue]:
    seen: dict[str, int] = {}
    for index, value in enumerate(values):
        identity = _identity(value)
        if identity is None:
            continue
        if identity in seen:
            location = where(index)
            yield Issue(location, f"{dotted(location)}: {message.format(first=seen[identity])}")
        else:
            seen[identity] = index


def date_order(body: Mapping[Any, Any], path: Location) -> Iterator[Issue]:
    start, end = body.get("startDate"), body.get("endDate")
    if isinstance(start, str) and isinstance(end, str):
        begins, ends = instant(start), instant(end)
        if begins is not None and ends is not None and ends <= begins:
            location = (*path, "endDate")
            yield Issue(
                location,
                f"{dotted(location)}: {end} is not after startDate {start}: "
                "the end must come after the start",
            )


def profile(constraint: Mapping[Any, Any], path: Location) -> Iterator[Issue]:
    chosen = constraint.get("profileConstraintType")
    if not isinstance(chosen, str):
        return
    rule = constraint.get("eligibilityRule")
    if chosen == "eligibilityRule" and rule is None:
        yield Issue(
            (*path, "eligibilityRule"),
            f"{dotted((*path, 'eligibilityRule'))}: required when profileConstraintType is "
            "eligibilityRule: add {ref: <rule key>} or a rule id",
            Anchor.PARENT,
        )
    elif chosen != "eligibilityRule" and rule is not None:
        yield Issue(
            (*path, "eligibilityRule"),
            f"{dotted((*path, 'eligibilityRule'))}: only used when profileConstraintType is "
            f"eligibilityRule (it is {chosen}): remove it or change profileConstraintType",
            Anchor.KEY,
        )
    if chosen in ("anySegments", "allSegments") and not constraint.get("segmentIdentities"):
        yield Issue(
            (*path, "segmentIdentities"),
            f"{dotted((*path, 'segmentIdentities'))}: required when profileConstraintType is "
            f"{chosen}: list the audiences as {{_id: ..., namespace: {{code: ...}}}}",
            Anchor.PARENT,
        )


def _criteria(criteria: list[Any]) -> Iterator[Issue]:
    placements: dict[str, Location] = {}
    collections: dict[str, Location] = {}
    for index, criterion in enumerate(criteria):
        if not isinstance(criterion, dict):
            continue
        here: Location = ("criteria", index)
        listed = _list(criterion, "placements")
        yield from _once(
            listed,
            lambda i, here=here: (*here, "placements", i),
            f"the same placement as criteria[{index}].placements[{{first}}]: list it once",
        )
        for position, placement in enumerate(listed):
            identity = _identity(placement)
            if identity is not None:
                placements.setdefault(identity, (*here, "placements", position))
        selection = criterion.get("optionSelection")
        chosen = _identity(selection.get("filter")) if isinstance(selection, dict) else None
        if chosen is not None:
            collections.setdefault(chosen, (*here, "optionSelection", "filter"))
        constraint = criterion.get("profileConstraint")
        if isinstance(constraint, dict):
            yield from profile(constraint, (*here, "profileConstraint"))
        rank = criterion.get("rank")
        order = rank.get("order") if isinstance(rank, dict) else None
        if isinstance(order, dict):
            needed = {"ranking-strategy": "rankingStrategy", "scoringFunction": "function"}
            member = needed.get(order.get("orderEvaluationType"))  # type: ignore[arg-type]
            if member is not None and member not in order:
                location = (*here, "rank", "order", member)
                yield Issue(
                    location,
                    f"{dotted(location)}: required when orderEvaluationType is "
                    f"{order['orderEvaluationType']}: add it",
                    Anchor.PARENT,
                )
    for found, noun in ((placements, "placements"), (collections, "collections")):
        if len(found) > MAX_PER_DECISION:
            location = list(found.values())[MAX_PER_DECISION]
            yield Issue(
                location,
                f"{dotted(location)}: a decision uses at most {MAX_PER_DECISION} {noun} "
                f"({GUARDRAILS_PAGE}), found {len(found)}: split the decision",
            )


# --- JSON Schema ----------------------------------------------------------------------------
