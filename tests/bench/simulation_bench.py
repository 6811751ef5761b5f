"""Every decision test of a generated 10,000-offer legacy estate, simulated offline, against a
naive simulator run in the same process on a sample of the same tests.

    python -m tests.bench.simulation_bench [--offers N] [--tests T] [--sample S]

The estate is written (seed SEED) as YAML under offers/ of a temporary repository, as a user
writes it: tags, four placements, collections by any tag, by all tags and by listed ids,
decision rules in the PQL forms of the example estate (`equals` on profile fields, `and`/`or`,
`not`, `inSegment`, comparisons, `context.`), ranking formulas, decisions of 3 to 6 criteria
with a fallback, profiles, and decision tests (a profile file or one written inline). Each
test's expectation is recorded from a first, untimed run of the simulator, as a user who checked
the outcome would write it down; the naive simulator then has to agree with it.

Timed, as `reconciler test` runs them (reconciler.simulating): `documents.load_all` (for
context), `overrides.resolve` + `estate.index`, and `trials.run` of every test (PQL's parse
cache cleared first, as in a fresh process). The naive
baseline (`naive_simulate`, below) scans every offer at each collection lookup and parses and
evaluates each rule again for every candidate (`pql.parse.__wrapped__`: lark without the
cache); it runs a sample of the tests, and the simulator runs the same sample for the ratio.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import json
import random
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler import cases, commands, documents, overrides, pql, pql_eval, trials
from reconciler.eligibility import Profile
from reconciler.estate import Estate, index, moment
from reconciler.model import Desired, Key, Kind, Ref
from reconciler.simulation import Simulation, simulate

SEED = 20270715
OFFERS = 10_000
TESTS = 200
SAMPLE = 12
"""Tests the naive simulator runs, spread over all of them (about 0.3 s each at 10,000 offers)."""

SANDBOX = "local"
CONFIG = f"default: {SANDBOX}\nsandboxes:\n  {SANDBOX}:\n    endpoint: embedded\n"
TAGS = 24
COLLECTIONS = (16, 8, 16)  # by any tag, by all tags, listing offers
RULES = 40
DECISIONS = 25
PROFILES = 30
SEGMENTS = [f"seg-{n:02d}" for n in range(12)]
TIERS = ["gold", "silver", "platinum", "bronze"]
REGIONS = ["north", "south", "east", "west"]
STATES = ["CA", "NY", "TX", "WA", "FL", "IL"]
CAMPAIGNS = ["spring", "summer", "clearance", "loyalty", "welcome"]
YEAR_START = datetime.datetime(2027, 1, 1, tzinfo=datetime.UTC)

# (key, name, channel, componentType, itemCount, allowDuplicatePlacements)
PLACEMENTS = (
    ("web-banner", "Web hero banner", "web", "html", 1, False),
    ("web-sidebar", "Web sidebar", "web", "html", 3, True),
    ("email-body", "Newsletter body", "email", "text", 2, True),
    ("app-card", "Mobile app card", "mobile", "json", 1, True),
)
_FORMAT = {"html": "text/html", "text": "text/plain", "json": "application/json"}
_CHANNEL = "https://ns.adobe.com/xdm/channel-types/{}"

FORMULAS = (
    ("loyalty-boost", "if(loyalty.tier.isNotNull(), offer.rank.priority * 2, offer.rank.priority)"),
    ("segment-boost", 'if(inSegment("seg-03"), offer.rank.priority + 50, offer.rank.priority)'),
    (
        "clearance-first",
        'if(offer.characteristics.campaign.equals("clearance", false), '
        "offer.rank.priority * 3, offer.rank.priority)",
    ),
)


# --- the estate, as YAML under offers/ --------------------------------------------------------


def _rule(rng: random.Random) -> str:
    seg, seg2 = rng.sample(SEGMENTS, 2)
    age, points = rng.randrange(20, 60), rng.randrange(100, 3000, 100)
    forms = [
        f'loyalty.tier.equals("{rng.choice(TIERS)}", false)',
        f'homeAddress.region.equals("{rng.choice(REGIONS)}", false) and inSegment("{seg}")',
        f"age >= {age} or loyalty.points > {points}",
        '(loyalty.tier.equals("gold", false) or loyalty.tier.equals("platinum", false)) '
        f'and homeAddress.stateProvince.equals("{rng.choice(STATES)}", false)',
        f'inSegment("{seg}") or inSegment("{seg2}")',
        f"loyalty.points >= {points} and age < {age}",
        f'context.channel.equals("{rng.choice(["web", "app"])}", false) and not inSegment("{seg}")',
    ]
    return rng.choice(forms)


def _constraint(rng: random.Random, indent: str, rule_share: float) -> str:
    roll = rng.random()
    if roll < rule_share:
        rule = rng.randrange(RULES)
        return (
            f"{indent}profileConstraintType: eligibilityRule\n"
            f"{indent}eligibilityRule: {{ref: rules/r{rule:02d}}}\n"
        )
    if roll < rule_share + 0.1:
        segments = "".join(
            f"{indent}  - {{_id: {s}, namespace: {{code: ups}}}}\n"
            for s in rng.sample(SEGMENTS, rng.randint(1, 3))
        )
        return f"{indent}profileConstraintType: anySegments\n{indent}segmentIdentities:\n{segments}"
    return f"{indent}profileConstraintType: none\n"


def _date(day: int) -> str:
    return (YEAR_START + datetime.timedelta(days=day)).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _representation(placement: tuple[str, str, str, str, int, bool], text: str) -> str:
    key, _, channel, component, _, _ = placement
    content = {
        "html": f'"<div class=offer><p>{text}</p></div>"',
        "text": f'"{text}"',
        "json": f'\'{{"title": "{text}"}}\'',
    }[component]
    return (
        f"  - channel: {_CHANNEL.format(channel)}\n"
        f"    placement: {{ref: placements/{key}}}\n"
        "    components:\n"
        f"      - type: {component}\n"
        f"        format: {_FORMAT[component]}\n"
        "        language: [en-us]\n"
        f"        content: {content}\n"
    )


def _offer_key(n: int) -> str:
    return f"catalog/c{n // 500:02d}/offer-{n:05d}"


def _offer(rng: random.Random, n: int) -> str:
    placements = rng.sample(PLACEMENTS, rng.choices((1, 2, 3), (5, 3, 2))[0])
    start = rng.randrange(0, 300)
    end = min(start + rng.randrange(30, 200), 364)
    tags = "".join(
        f"  - {{ref: tags/t{t:02d}}}\n" for t in rng.sample(range(TAGS), rng.randint(1, 3))
    )
    capped = rng.random() < 0.2
    return (
        "kind: personalized-offer\n"
        f"name: Catalog offer {n:05d}\n"
        f"description: Generated offer {n} of the simulation benchmark\n"
        f"status: {'approved' if rng.random() < 0.92 else 'draft'}\n"
        "representations:\n"
        + "".join(_representation(p, f"Offer {n}: {rng.randrange(5, 70)}% off") for p in placements)
        + "selectionConstraint:\n"
        f'  startDate: "{_date(start)}"\n'
        f'  endDate: "{_date(end)}"\n'
        + _constraint(rng, "  ", 0.4)
        + f"rank:\n  priority: {rng.randrange(0, 101)}\n"
        + f"tags:\n{tags}"
        + "characteristics:\n"
        f"  campaign: {rng.choice(CAMPAIGNS)}\n"
        f'  sku: "SKU-{n:05d}"\n'
        + (
            "frequencyCappingConstraints:\n"
            "  - enabled: true\n"
            "    limit: 3\n"
            f'    startDate: "{_date(start)}"\n'
            f'    endDate: "{_date(end)}"\n'
            "    scope: profile\n"
            "    entity: offer\n"
            if capped
            else ""
        )
    )


def _collections(rng: random.Random, offers: int) -> dict[str, str]:
    found: dict[str, str] = {}
    by_any, by_all, listed = COLLECTIONS
    for n in range(by_any):
        tags = "".join(
            f"  - {{ref: tags/t{t:02d}}}\n" for t in rng.sample(range(TAGS), rng.randint(1, 2))
        )
        found[f"any-{n:02d}"] = (
            f"kind: collection\nname: Any tag {n}\nfilterType: any-tags\nids:\n{tags}"
        )
    for n in range(by_all):
        tags = "".join(f"  - {{ref: tags/t{t:02d}}}\n" for t in rng.sample(range(TAGS), 2))
        found[f"all-{n:02d}"] = (
            f"kind: collection\nname: All tags {n}\nfilterType: all-tags\nids:\n{tags}"
        )
    for n in range(listed):
        ids = "".join(
            f"  - {{ref: {_offer_key(o)}}}\n"
            for o in rng.sample(range(offers), rng.randint(20, 200))
        )
        found[f"listed-{n:02d}"] = (
            f"kind: collection\nname: Listed {n}\nfilterType: offers\nids:\n{ids}"
        )
    return found


def _decision(rng: random.Random, n: int, collections: Sequence[str]) -> str:
    criteria = ""
    for _ in range(rng.randint(3, 6)):
        placements = "".join(
            f"      - {{ref: placements/{p[0]}}}\n"
            for p in rng.sample(PLACEMENTS, rng.choices((1, 2), (3, 2))[0])
        )
        order = ""
        if rng.random() < 0.4:
            formula = rng.choice(FORMULAS)[0]
            order = (
                "      order:\n"
                "        orderEvaluationType: scoringFunction\n"
                f"        function: {{ref: formulas/{formula}}}\n"
            )
        criteria += (
            f"  - placements:\n{placements}"
            f"    rank:\n      priority: {rng.choice((0, 0, 1, 2))}\n{order}"
            f"    profileConstraint:\n{_constraint(rng, '      ', 0.35)}"
            f"    optionSelection:\n      filter: {{ref: collections/{rng.choice(collections)}}}\n"
        )
    fallback = rng.choice(("default", "everywhere"))
    return (
        "kind: decision\n"
        f"name: Decision {n:02d}\n"
        "status: live\n"
        f'startDate: "{_date(0)}"\n'
        f'endDate: "{_date(364)}"\n'
        f"fallback: {{ref: fallback/{fallback}}}\n"
        f"criteria:\n{criteria}"
    )


def _profile(rng: random.Random) -> dict[str, Any]:
    attributes: dict[str, Any] = {"age": rng.randrange(18, 80)}
    if rng.random() < 0.7:
        attributes["loyalty"] = {"tier": rng.choice(TIERS), "points": rng.randrange(0, 4000)}
    attributes["homeAddress"] = {"region": rng.choice(REGIONS), "stateProvince": rng.choice(STATES)}
    return {
        "attributes": attributes,
        "audiences": rng.sample(SEGMENTS, rng.randint(0, 4)),
        "context": {"channel": rng.choice(["web", "app"])},
    }


def _yaml(fields: Mapping[str, Any], indent: str) -> str:
    """A profile's fields in YAML (one flow mapping a field: JSON is YAML)."""
    return "".join(f"{indent}{name}: {json.dumps(value)}\n" for name, value in fields.items())


@dataclass(frozen=True, slots=True)
class Planned:
    """A decision test before its expectation is known: its file, and what it simulates."""

    key: str
    text: str
    decision: Key
    profile: Profile  # the file's, when the test refers to one
    at: datetime.datetime


def write(root: Path, offers: int, tests: int) -> list[Planned]:
    """The estate under root/offers, without its decision tests: `record` writes those."""
    rng = random.Random(SEED)
    folder = root / "offers"
    (root / "state").mkdir(parents=True, exist_ok=True)
    (root / "reconciler.yaml").write_text(CONFIG)
    files: dict[str, str] = {}
    for n in range(TAGS):
        files[f"tags/t{n:02d}"] = f"kind: tag\nname: Tag {n}\n"
    for key, name, channel, component, count, duplicates in PLACEMENTS:
        files[f"placements/{key}"] = (
            f"kind: placement\nname: {name}\ncomponentType: {component}\n"
            f"channel: {_CHANNEL.format(channel)}\nitemCount: {count}\n"
            f"allowDuplicatePlacements: {str(duplicates).lower()}\n"
        )
    for n in range(RULES):
        files[f"rules/r{n:02d}"] = (
            f"kind: decision-rule\nname: Rule {n}\ncondition:\n  type: PQL\n"
            f"  format: pql/text\n  value: '{_rule(rng)}'\n"
        )
    for key, expression in FORMULAS:
        files[f"formulas/{key}"] = (
            f"kind: ranking-formula\nname: {key}\nexdFunction: false\nreturnType:\n"
            f"  type: integer\nexpression:\n  type: PQL\n  format: pql/text\n"
            f"  value: '{expression}'\n"
        )
    for n in range(offers):
        files[_offer_key(n)] = _offer(rng, n)
    for name, covered in (("default", PLACEMENTS[:3]), ("everywhere", PLACEMENTS)):
        files[f"fallback/{name}"] = (
            f"kind: fallback-offer\nname: Fallback {name}\nstatus: approved\nrepresentations:\n"
            + "".join(_representation(p, "Free returns on every order") for p in covered)
        )
    collections = _collections(rng, offers)
    for key, text in collections.items():
        files[f"collections/{key}"] = text
    for n in range(DECISIONS):
        files[f"decisions/d{n:02d}"] = _decision(rng, n, list(collections))
    profiles = {Key(f"profiles/p{n:02d}"): _profile(rng) for n in range(PROFILES)}
    for key, fields in profiles.items():
        files[key] = "kind: profile\n" + _yaml(fields, "")
    for key, text in files.items():
        path = folder / f"{key}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    planned = []
    for n in range(tests):
        at = YEAR_START + datetime.timedelta(days=rng.randrange(0, 365), hours=rng.randrange(24))
        decision = Key(f"decisions/d{rng.randrange(DECISIONS):02d}")
        if rng.random() < 0.8:
            named = rng.choice(list(profiles))
            fields, written = profiles[named], f"profile: {{ref: {named}}}\n"
        else:
            fields = _profile(rng)
            written = "profile:\n" + _yaml(fields, "  ")
        text = (
            "kind: decision-test\n"
            f"description: Generated decision test {n}\n"
            f"decision: {{ref: {decision}}}\n"
            f"{written}"
            f'at: "{at.strftime("%Y-%m-%dT%H:%M:%SZ")}"\n'
        )
        planned.append(Planned(f"tests/t{n:03d}", text, decision, cases.profile_of(fields), at))
    return planned


def record(root: Path, planned: Sequence[Planned], estate: Estate) -> int:
    """Write each test, with the outcome the simulator gives now as its expectation; returns
    how many expect the fallback in every placement."""
    fallbacks = 0
    for test in planned:
        outcome = simulate(estate, test.decision, test.profile, test.at)
        if all(p.fallback for p in outcome.placements):
            fallbacks += 1
            expectation = "fallback: true\n"
        else:
            expectation = "expect:\n" + "".join(
                f"  {p.placement}: [{', '.join(p.offers)}]\n" for p in outcome.placements
            )
        path = root / "offers" / f"{test.key}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(test.text + expectation)
    return fallbacks


# --- the naive baseline -----------------------------------------------------------------------

Outcome = tuple[tuple[Key, tuple[Key, ...], bool], ...]
"""Per placement, in order: the offers proposed, and whether they are the fallback."""

Body = Any  # the naive simulator reads bodies as the generator wrote them, unchecked
_PARSE = pql.parse.__wrapped__  # lark every time: no lru_cache


def naive_simulate(
    objects: Sequence[Desired], decision: Key, profile: Profile, at: datetime.datetime
) -> Outcome:
    """A legacy decision's outcome, the obvious way: every collection lookup scans every offer,
    every candidate's rules are parsed and evaluated again. No unknowns allowed."""
    bodies: dict[Key, Body] = {item.key: item.body for item in objects}
    body = bodies[decision]
    criteria = body["criteria"]
    placements = list(dict.fromkeys(r.key for c in criteria for r in c["placements"]))
    unique = any(bodies[p].get("allowDuplicatePlacements") is False for p in placements)
    fallback = body["fallback"].key
    taken: set[Key] = set()
    outcome = []
    for placement in placements:
        ranked: list[Key] = []
        here = [c for c in criteria if placement in [r.key for r in c["placements"]]]
        for priority in sorted({c["rank"]["priority"] for c in here}, reverse=True):
            best: dict[Key, float] = {}
            for criterion in (c for c in here if c["rank"]["priority"] == priority):
                gate = _met(bodies, criterion.get("profileConstraint"), profile, at)
                for key in _members(objects, bodies[criterion["optionSelection"]["filter"].key]):
                    if key in ranked or key in taken or not gate:
                        continue
                    offer = bodies[key]
                    if not _eligible(bodies, offer, placement, profile, at):
                        continue
                    score = _score(bodies, offer, criterion, profile, at)
                    best[key] = max(score, best.get(key, score))
            ranked += sorted(best, key=lambda key: (-best[key], key))
        chosen = tuple(ranked[: bodies[placement].get("itemCount") or 1])
        if chosen:
            outcome.append((placement, chosen, False))
            taken |= set(chosen) if unique else set()
        elif _represents(bodies[fallback], placement):
            outcome.append((placement, (fallback,), True))
        else:
            outcome.append((placement, (), False))
    return tuple(outcome)


def _members(objects: Sequence[Desired], collection: Body) -> list[Key]:
    """A collection's offers, from a scan of every object."""
    wanted = [ref.key for ref in collection["ids"]]
    offers = [o for o in objects if o.kind is Kind.PERSONALIZED_OFFER]
    if collection["filterType"] == "offers":
        listed = set(wanted)
        present = {o.key for o in offers if o.key in listed}
        return [key for key in dict.fromkeys(wanted) if key in present]
    test = all if collection["filterType"] == "all-tags" else any
    return sorted(o.key for o in offers if test(t in _tags(o.body) for t in wanted))


def _tags(body: Body) -> list[Key]:
    return [ref.key for ref in body.get("tags", [])]


def _eligible(
    bodies: Mapping[Key, Body], offer: Body, placement: Key, profile: Profile, at: datetime.datetime
) -> bool:
    constraint = offer["selectionConstraint"]
    start, end = moment(constraint.get("startDate")), moment(constraint.get("endDate"))
    return (
        offer["status"] == "approved"
        and (start is None or start <= at)
        and (end is None or at <= end)
        and _represents(offer, placement)
        and _met(bodies, constraint, profile, at)
    )


def _represents(offer: Body, placement: Key) -> bool:
    return any(r["placement"].key == placement for r in offer["representations"])


def _met(
    bodies: Mapping[Key, Body], constraint: Body, profile: Profile, at: datetime.datetime
) -> bool:
    match (constraint or {}).get("profileConstraintType"):
        case "eligibilityRule":
            rule = bodies[constraint["eligibilityRule"].key]["condition"]["value"]
            value = _evaluate(rule, profile, at, None)
            assert value is None or isinstance(value, bool), value
            return value is True
        case "anySegments":
            return any(s["_id"] in profile.audiences for s in constraint["segmentIdentities"])
        case "allSegments":
            return all(s["_id"] in profile.audiences for s in constraint["segmentIdentities"])
        case _:
            return True


def _score(
    bodies: Mapping[Key, Body],
    offer: Body,
    criterion: Body,
    profile: Profile,
    at: datetime.datetime,
) -> float:
    order = criterion["rank"].get("order") or {}
    if order.get("orderEvaluationType") == "scoringFunction":
        formula = bodies[order["function"].key]["expression"]["value"]
        value = _evaluate(formula, profile, at, _plain(offer))
        assert isinstance(value, int | float), value
        assert not isinstance(value, bool), value
        return float(value)
    return float(offer["rank"]["priority"])


def _evaluate(text: str, profile: Profile, at: datetime.datetime, offer: Body) -> pql_eval.Value:
    scope = pql_eval.Scope(
        profile=profile.attributes,
        offer=offer,
        audiences=profile.audiences,
        now=at,
        context=profile.context,
    )
    result = pql_eval.evaluate(_PARSE(text), scope)
    assert result.unknown is None, result.unknown
    return result.value


def _plain(value: Body) -> Body:
    """A body as PQL reads it: each reference is the referenced object's key."""
    if isinstance(value, Ref):
        return value.key
    if isinstance(value, dict):
        return {name: _plain(item) for name, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def outcome_of(simulation: Simulation) -> Outcome:
    assert all(not p.unknown for p in simulation.placements), simulation
    return tuple((p.placement, p.offers, p.fallback) for p in simulation.placements)


# --- the run ----------------------------------------------------------------------------------


def run(offers: int = OFFERS, tests: int = TESTS, sample: int = SAMPLE) -> list[str]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "repo"
        started = time.perf_counter()
        planned = write(root, offers, tests)
        first = documents.load_all(root, commands.sandbox_names(root)).objects
        fallbacks = record(root, planned, index(first))
        del first
        setup = time.perf_counter() - started

        gc.collect()
        t0 = time.perf_counter()
        definitions = documents.load_all(root, commands.sandbox_names(root))
        t1 = time.perf_counter()
        estate = index(overrides.resolve(item, SANDBOX) for item in definitions.objects)
        t2 = time.perf_counter()
        pql.parse.cache_clear()
        results = trials.run(estate, definitions.tests, definitions.profiles)
        t3 = time.perf_counter()

    load, indexing, testing = t1 - t0, t2 - t1, t3 - t2
    statuses = {s: sum(1 for r in results if r.status is s) for s in trials.Status}
    assert statuses[trials.Status.PASSED] == len(results) == tests, statuses
    verdicts = sum(len(p.why) for r in results if r.simulation for p in r.simulation.placements)
    proposed = sum(len(p.offers) for r in results if r.simulation for p in r.simulation.placements)

    chosen = list(definitions.tests)[:: max(1, len(definitions.tests) // sample)][:sample]
    pql.parse.cache_clear()
    gc.collect()
    s0 = time.perf_counter()
    ours = [
        outcome_of(simulate(estate, t.decision, trials.profile_for(t, definitions.profiles), t.at))
        for t in chosen
    ]
    s1 = time.perf_counter()
    naive = [
        naive_simulate(
            definitions.objects, t.decision, trials.profile_for(t, definitions.profiles), t.at
        )
        for t in chosen
    ]
    s2 = time.perf_counter()
    for test, mine, theirs in zip(chosen, ours, naive, strict=True):
        assert mine == theirs, f"{test.key}: the simulator says {mine}, the naive one {theirs}"
    ours_sample, naive_sample = s1 - s0, s2 - s1

    counts = _counts(definitions.objects)
    return [
        f"Estate: {counts[Kind.PERSONALIZED_OFFER]:,} personalized offers, "
        f"{counts[Kind.FALLBACK_OFFER]} fallback offers, {counts[Kind.TAG]} tags, "
        f"{counts[Kind.PLACEMENT]} placements, {counts[Kind.COLLECTION]} collections "
        f"({COLLECTIONS[0]} by any tag, {COLLECTIONS[1]} by all tags, {COLLECTIONS[2]} listing "
        f"20-200 offers), {counts[Kind.DECISION_RULE]} PQL rules, "
        f"{counts[Kind.RANKING_FORMULA]} ranking formulas, {counts[Kind.DECISION]} decisions "
        f"(3-6 criteria), {len(definitions.profiles)} profiles, {len(results)} decision tests "
        f"({fallbacks} expecting the fallback everywhere); written, and the expectations "
        f"recorded from a first run, in {setup:.1f} s",
        _row("load + validate offers/ (documents.load_all)", load),
        _row("index the estate (overrides + estate.index)", indexing),
        _row(
            "run every decision test (trials.run)",
            testing,
            f": {len(results) / testing:,.0f} tests/s, {testing / len(results) * 1e3:.0f} ms a test",
        ),
        f"  per test on average: {verdicts / len(results):,.0f} offer verdicts "
        f"(chosen, outranked or dropped), {proposed / len(results):.1f} offers proposed; "
        f"{statuses[trials.Status.PASSED]} of {len(results)} passed",
        "",
        f"Naive simulator on {len(chosen)} of the tests (every collection lookup scans every "
        "offer; every rule and formula parsed and evaluated again for every candidate):",
        _row("naive", naive_sample, f": {len(chosen) / naive_sample:,.1f} tests/s"),
        _row(
            "ours (simulation.simulate, cold parse cache)",
            ours_sample,
            f": {len(chosen) / ours_sample:,.1f} tests/s",
        ),
        _row(
            "naive / ours",
            naive_sample / ours_sample,
            f" (outcomes identical on all {len(chosen)}: asserted)",
            "x",
        ),
        f"  all {len(results)} tests the naive way: about "
        f"{naive_sample / len(chosen) * len(results):,.0f} s",
        "",
        f"Goal: every decision test of a {offers:,}-offer estate in seconds, not minutes: "
        f"{testing:.1f} s ({'met' if testing < 60 else 'NOT met'})",
    ]


def _row(label: str, value: float, after: str = "", unit: str = "s") -> str:
    return f"  {label:<46}{value:>8.2f} {unit}{after}"


def _counts(objects: Sequence[Desired]) -> dict[Kind, int]:
    counts = dict.fromkeys(Kind, 0)
    for item in objects:
        counts[item.kind] += 1
    return counts


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.simulation_bench")
    parser.add_argument("--offers", type=int, default=OFFERS)
    parser.add_argument("--tests", type=int, default=TESTS)
    parser.add_argument("--sample", type=int, default=SAMPLE)
    args = parser.parse_args(argv)
    for line in run(args.offers, args.tests, args.sample):
        print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
