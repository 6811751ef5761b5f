"""Pure: which offers a decision proposes to one profile at one moment, and why.

The legacy walk follows Adobe's "Create decisions" page (journey-optimizer.en,
help/using/offers/offer-activities/create-offer-activities.md, "Evaluation criteria order"):
- the placements (decision scopes) are served in the order the criteria first name them;
- a placement's criteria are grouped by `rank.priority`, the highest group first; the offers of
  one group are ranked together (an offer in two criteria keeps its higher score); the next group
  only adds offers not ranked yet;
- a placement takes its `itemCount` best offers (1 when unset), else the decision's fallback;
- when any placement disallows duplicates, an offer proposed in one placement is not proposed
  again in a later one.
A candidate must be approved, within its dates, have a representation for the placement, and
meet its own constraint and its criterion's. Capping is never simulated (Adobe keeps the
counters): a chosen offer with capping says so. Ties are broken by key (Adobe picks at random).

A selection strategy (Decisioning) is the same walk over one group: its item collection's
items, its eligibility rule, its ranking (item priority or a formula), `item_count` items.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from reconciler import estate as estates
from reconciler.eligibility import EVERYONE, Judge, Met, Profile, Score
from reconciler.errors import ReconcilerError
from reconciler.estate import Estate, Member, moment
from reconciler.model import ITEM_NAME, JsonValue, Key, Kind, Ref
from reconciler.verdicts import Fate, Why, plural, shown

SIMULATED = (Kind.DECISION, Kind.SELECTION_STRATEGY)


class SimulationError(ReconcilerError):
    """The decision to simulate is not one: unknown key, or another kind."""


@dataclass(frozen=True, slots=True)
class Placed:
    """One placement's outcome: the offers in rank order (or the fallback), and every why.

    `unknown` names the constructs that could change this outcome: when it is not empty, the
    outcome is uncertain (a candidate that might rank among the chosen could not be judged)."""

    placement: Key
    offers: tuple[Key, ...]
    fallback: bool
    why: tuple[Why, ...]
    unknown: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Simulation:
    decision: Key
    at: datetime.datetime
    placements: tuple[Placed, ...]
    notes: tuple[str, ...] = ()

    def placed(self, key: Key) -> Placed | None:
        return next((p for p in self.placements if p.placement == key), None)


@dataclass(frozen=True, slots=True)
class _Ranked:
    key: Key
    score: float
    reason: str
    group: int


def simulate(
    estate: Estate, decision: Key, profile: Profile, at: datetime.datetime, item_count: int = 1
) -> Simulation:
    """The decision's (or selection strategy's) outcome for one profile at one moment."""
    kind = estate.kind(decision)
    judge = Judge(estate, profile, at)
    match kind:
        case Kind.DECISION:
            return _decision(estate, decision, judge)
        case Kind.SELECTION_STRATEGY:
            return _strategy(estate, decision, judge, item_count)
        case None:
            raise SimulationError(
                f"no decision {decision} in offers/: name a decision or selection-strategy key"
            )
        case _:
            raise SimulationError(
                f"{decision} is a {kind.value}: simulate a decision or a selection-strategy"
            )


# --- legacy decisions -----------------------------------------------------------------------


def _decision(estate: Estate, key: Key, judge: Judge) -> Simulation:
    body = estate.body(key)
    criteria = [c for c in _list(body.get("criteria")) if isinstance(c, dict)]
    notes = _decision_notes(body, judge.at)
    scopes = list(dict.fromkeys(ref.key for c in criteria for ref in _refs(c.get("placements"))))
    unique = any(
        estate.body(p).get("allowDuplicatePlacements") is False
        for p in scopes
        if p in estate.objects
    )
    written = body.get("fallback")
    fallback: Key | str | None = _ref(written) or (written if isinstance(written, str) else None)
    taken: dict[Key, Key] = {}
    results: list[Placed] = []
    uncertain: list[Key] = []
    for placement in scopes:
        here = [c for c in criteria if placement in {r.key for r in _refs(c.get("placements"))}]
        placed = _placement(estate, judge, placement, here, fallback, taken)
        if unique and uncertain:  # what an uncertain placement proposes, a later one may not
            listed = ", ".join(uncertain)
            doubt = f"{listed} before it is uncertain, and this decision allows no duplicates"
            placed = dataclasses.replace(placed, unknown=(*placed.unknown, doubt))
        results.append(placed)
        if placed.unknown:
            uncertain.append(placement)
        if unique:
            for offer in placed.offers:
                taken.setdefault(offer, placement)
    literal = sorted(
        {item for c in criteria for item in _list(c.get("placements")) if isinstance(item, str)}
    )
    for item in literal:
        doubt = f"the placement {_literal(item)}"
        results.append(Placed(Key(item), (), False, (), (doubt,)))
    capped = sorted(
        {w.offer for p in results for w in p.why if w.fate is Fate.CHOSEN and _capped(estate, w)}
    )
    if capped:
        notes.append(
            f"capping is not simulated (Adobe keeps the counters): {', '.join(capped)} "
            "may be capped for this profile"
        )
    return Simulation(key, judge.at, tuple(results), tuple(notes))


def _decision_notes(body: Mapping[str, JsonValue], at: datetime.datetime) -> list[str]:
    notes: list[str] = []
    status = body.get("status")
    if status != "live":
        notes.append(
            f"the decision is {status}: Adobe serves only live decisions; simulated as live"
        )
    start, end = moment(body.get("startDate")), moment(body.get("endDate"))
    if start is not None and at < start:
        notes.append(f"the decision starts {body.get('startDate')}, after the moment simulated")
    if end is not None and at > end:
        notes.append(f"the decision ended {body.get('endDate')}, before the moment simulated")
    return notes


def _placement(
    estate: Estate,
    judge: Judge,
    placement: Key,
    criteria: Sequence[Mapping[str, JsonValue]],
    fallback: Key | str | None,
    taken: Mapping[Key, Key],
) -> Placed:
    count = _item_count(estate, placement)
    priorities = sorted({_priority(c) for c in criteria}, reverse=True)
    ranked: list[_Ranked] = []
    done: set[Key] = set()  # ranked by a higher group: a lower one does not see it again
    dropped: dict[Key, Why] = {}
    unknown: dict[Key, str] = {}
    doubts: list[_Doubt] = []
    for group, priority in enumerate(priorities):
        scored: dict[Key, _Ranked] = {}
        for criterion in (c for c in criteria if _priority(c) == priority):
            gate = judge.constraint(_mapping(criterion.get("profileConstraint")))
            chosen_filter = _mapping(criterion.get("optionSelection")).get("filter")
            collection = _ref(chosen_filter)
            if collection is None:
                doubts.append(_Doubt(f"a criterion's collection {_literal(chosen_filter)}", group))
                continue
            for member in estate.members.get(collection, ()):
                if member.key in done:
                    continue
                # Each criterion judges the offer with its own eligibility and ranking: an offer
                # in two criteria of one group keeps the higher score of those that admit it.
                verdict = _candidate(estate, judge, member, placement, taken, gate)
                if verdict.met is False:
                    if member.key not in scored and member.key not in unknown:
                        dropped.setdefault(
                            member.key, Why(member.key, Fate.DROPPED, verdict.reason)
                        )
                    continue
                score = _score(estate, judge, member.key, criterion)
                if verdict.met is None or score.value is None:
                    reason = verdict.reason if verdict.met is None else score.reason
                    doubts.append(_Doubt(reason, group, score.value))
                    if member.key not in scored:
                        dropped.pop(member.key, None)
                        unknown.setdefault(member.key, reason)
                    continue
                dropped.pop(member.key, None)
                unknown.pop(member.key, None)
                reason = f"{verdict.reason}; {score.reason}" if verdict.reason else score.reason
                if member.key not in scored or score.value > scored[member.key].score:
                    scored[member.key] = _Ranked(member.key, score.value, reason, group)
        fresh = sorted(scored.values(), key=lambda r: (-r.score, r.key))
        ranked += fresh
        done.update(r.key for r in fresh)
    return _outcome(estate, placement, count, ranked, dropped, unknown, doubts, fallback)


@dataclass(frozen=True, slots=True)
class _Doubt:
    """Why a candidate could not be judged, where it would have ranked (group, score if known)."""

    reason: str
    group: int
    score: float | None = None


def _literal(value: object) -> str:
    return f"is the literal Adobe id {shown(value)}, not a key of offers/: not simulated"


def _outcome(
    estate: Estate,
    placement: Key,
    count: int,
    ranked: Sequence[_Ranked],
    dropped: Mapping[Key, Why],
    unknown: Mapping[Key, str],
    doubts: Sequence[_Doubt],
    fallback: Key | str | None,
) -> Placed:
    chosen, rest = ranked[:count], ranked[count:]
    why = [
        Why(r.key, Fate.CHOSEN, f"{r.reason}: rank {place}{_tie(r, ranked)}")
        for place, r in enumerate(chosen, 1)
    ]
    why += [Why(r.key, Fate.OUTRANKED, f"{r.reason}: outranked ({count} to show)") for r in rest]
    why += [Why(key, Fate.UNKNOWN, reason) for key, reason in sorted(unknown.items())]
    why += [dropped[key] for key in sorted(dropped)]
    matter = {d.reason for d in doubts if _matters(chosen, count, d.group, d.score)}
    if chosen:
        return Placed(placement, tuple(r.key for r in chosen), False, tuple(why), _sorted(matter))
    if isinstance(fallback, str) and fallback not in estate.objects:
        matter.add(f"the decision's fallback {_literal(fallback)}")
        return Placed(placement, (), False, tuple(why), _sorted(matter))
    if fallback is not None and _represents(estate, Key(fallback), placement):
        why.append(Why(Key(fallback), Fate.FALLBACK, "no offer qualified: the decision's fallback"))
        return Placed(placement, (Key(fallback),), True, tuple(why), _sorted(matter))
    if fallback is not None:
        reason = "no offer qualified, and the fallback has no representation for this placement"
        why.append(Why(Key(fallback), Fate.DROPPED, reason))
    return Placed(placement, (), False, tuple(why), _sorted(matter))


def _sorted(reasons: set[str]) -> tuple[str, ...]:
    return tuple(sorted(reasons))


def _matters(chosen: Sequence[_Ranked], count: int, group: int, score: float | None) -> bool:
    """Whether an unknown candidate could have been chosen instead of, or next to, the chosen."""
    if len(chosen) < count:
        return True
    last = chosen[-1]
    if group != last.group:
        return group < last.group
    return score is None or score >= last.score


def _tie(ranked: _Ranked, every: Sequence[_Ranked]) -> str:
    tied = [
        r.key
        for r in every
        if r.score == ranked.score and r.key != ranked.key and r.group == ranked.group
    ]
    return f" (tied with {', '.join(tied)}: broken by key, Adobe picks at random)" if tied else ""


def _candidate(
    estate: Estate,
    judge: Judge,
    member: Member,
    placement: Key,
    taken: Mapping[Key, Key],
    gate: Met,
) -> Met:
    """Whether an offer may be proposed in this placement; the first reason it may not."""
    if member.unknown is not None:
        return Met(None, f"collection membership uses {member.unknown}, which is not simulated")
    body = estate.body(member.key)
    if body.get("status") != "approved":
        return Met(False, f"status is {body.get('status')}: only approved offers are proposed")
    constraint = _mapping(body.get("selectionConstraint"))
    dated = _dates(constraint.get("startDate"), constraint.get("endDate"), judge.at)
    if dated is not None:
        return Met(False, dated)
    if not _represents(estate, member.key, placement):
        return Met(False, f"no representation for the placement {estate.label(placement)}")
    if member.key in taken:
        return Met(
            False,
            f"already proposed in {estate.label(taken[member.key])} "
            "(a placement of this decision does not allow duplicates)",
        )
    return _both(judge.constraint(constraint), gate)


def _both(own: Met, gate: Met) -> Met:
    if own.met is False:
        return own
    if gate.met is False:
        return Met(False, f"the criterion's eligibility: {gate.reason}")
    if own.met is None:
        return own
    if gate.met is None:
        return Met(None, f"the criterion's eligibility: {gate.reason}")
    said = [own.reason] if own.reason != EVERYONE else []
    said += [f"the criterion's eligibility: {gate.reason}"] if gate.reason != EVERYONE else []
    return Met(True, "; ".join(said))


def _dates(start_text: JsonValue, end_text: JsonValue, at: datetime.datetime) -> str | None:
    start, end = moment(start_text), moment(end_text)
    if start is not None and at < start:
        return f"starts {start_text}, after the moment simulated"
    if end is not None and at > end:
        return f"ended {end_text}, before the moment simulated"
    return None


def _score(estate: Estate, judge: Judge, offer: Key, criterion: Mapping[str, JsonValue]) -> Score:
    order = _mapping(_mapping(criterion.get("rank")).get("order"))
    body = estate.body(offer)
    match order.get("orderEvaluationType"):
        case "scoringFunction":
            function = _ref(order.get("function"))
            if function is None:
                return Score(None, "the ranking formula is not in the repository")
            fields = (
                estates.item_fields(body)
                if estate.kind(offer) is Kind.DECISION_ITEM
                else estates.plain(dict(body))
            )
            assert isinstance(fields, dict)
            return judge.formula(function, fields)
        case "ranking-strategy":
            return Score(None, "AI model ranking (Adobe trains it on live traffic)")
        case _:
            priority = _offer_priority(estate, offer)
            return Score(float(priority), f"priority {priority}")


def _offer_priority(estate: Estate, offer: Key) -> int:
    body = estate.body(offer)
    if estate.kind(offer) is Kind.DECISION_ITEM:
        value = estates.attribute(body, ".".join((*ITEM_NAME[:-1], "itemPriority")))
    else:
        value = _mapping(body.get("rank")).get("priority")
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _represents(estate: Estate, offer: Key, placement: Key) -> bool:
    return any(
        _ref(_mapping(r).get("placement")) == placement
        for r in _list(estate.body(offer).get("representations"))
    )


def _capped(estate: Estate, why: Why) -> bool:
    body = estate.body(why.offer)
    caps = _mapping(body.get("cappingConstraint"))
    frequency = [c for c in _list(body.get("frequencyCappingConstraints")) if isinstance(c, dict)]
    return bool(caps) or any(c.get("enabled") is not False for c in frequency)


def _item_count(estate: Estate, placement: Key) -> int:
    value = estate.body(placement).get("itemCount") if placement in estate.objects else None
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 1


def _priority(criterion: Mapping[str, JsonValue]) -> int:
    value = _mapping(criterion.get("rank")).get("priority")
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


# --- Decisioning selection strategies --------------------------------------------------------


def _strategy(estate: Estate, key: Key, judge: Judge, count: int) -> Simulation:
    body = estate.body(key)
    gate = judge.constraint(_mapping(body.get("profileConstraint")))
    members = estate.members.get(
        _ref(_mapping(body.get("optionSelection")).get("filter")) or Key(""), ()
    )
    scored: list[_Ranked] = []
    dropped: dict[Key, Why] = {}
    unknown: dict[Key, str] = {}
    doubts: list[_Doubt] = []
    chosen_filter = _mapping(body.get("optionSelection")).get("filter")
    if _ref(chosen_filter) is None:
        doubts.append(_Doubt(f"the strategy's item collection {_literal(chosen_filter)}", 0))
    for member in members:
        verdict = _item(estate, judge, member, gate)
        if verdict.met is False:
            dropped[member.key] = Why(member.key, Fate.DROPPED, verdict.reason)
            continue
        score = _score(estate, judge, member.key, body)
        if verdict.met is None or score.value is None:
            unknown[member.key] = verdict.reason if verdict.met is None else score.reason
            doubts.append(_Doubt(unknown[member.key], 0, score.value))
            continue
        reason = f"{verdict.reason}; {score.reason}" if verdict.reason else score.reason
        scored.append(_Ranked(member.key, score.value, reason, 0))
    ranked = sorted(scored, key=lambda r: (-r.score, r.key))
    placed = _outcome(estate, key, count, ranked, dropped, unknown, doubts, None)
    notes = [f"a selection strategy proposes up to {plural(count, 'item')} here (--item-count)"]
    return Simulation(key, judge.at, (placed,), tuple(notes))


def _item(estate: Estate, judge: Judge, member: Member, gate: Met) -> Met:
    if member.unknown is not None:
        return Met(None, f"collection membership uses {member.unknown}, which is not simulated")
    body = estate.body(member.key)
    status = estates.attribute(body, "_experience.decisioning.offeritem.lifecycleStatus")
    if status != "approved":
        return Met(False, f"status is {status}: only approved items are proposed")
    item = _mapping(estates.attribute(body, ".".join(ITEM_NAME[:-1])))
    calendar = _mapping(item.get("itemCalendarConstraints"))
    dated = _dates(calendar.get("startDate"), calendar.get("endDate"), judge.at)
    if dated is not None:
        return Met(False, dated)
    return _both(judge.constraint(_mapping(item.get("itemConstraints"))), gate)


# --- small readers ----------------------------------------------------------------------------


def _list(value: object) -> list[JsonValue]:
    return value if isinstance(value, list) else []


def _mapping(value: object) -> Mapping[str, JsonValue]:
    return value if isinstance(value, dict) else {}


def _ref(value: object) -> Key | None:
    return value.key if isinstance(value, Ref) else None


def _refs(value: object) -> list[Ref]:
    return [item for item in _list(value) if isinstance(item, Ref)]
