"""Pure: decision tests run against the simulator: passed, failed or unknown, and why.

A test passes when every placement it names proposes exactly the offers it expects, in that
order (or, with `fallback: true`, when every placement falls back). A test whose outcome depends
on PQL outside the simulated subset is unknown, which fails `reconciler test` too: a guess
would let a broken rule through.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from reconciler.cases import DecisionTest
from reconciler.eligibility import Profile
from reconciler.estate import Estate
from reconciler.model import Key
from reconciler.simulation import Placed, Simulation, SimulationError, simulate
from reconciler.verdicts import listed, phrase


class Status(enum.Enum):
    PASSED = "passed"
    FAILED = "failed"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Trial:
    """One decision test's result: what it expected that did not come out, with the simulation."""

    test: DecisionTest
    status: Status
    mismatches: tuple[str, ...]
    simulation: Simulation | None

    @property
    def passed(self) -> bool:
        return self.status is Status.PASSED


def run(
    estate: Estate, tests: Sequence[DecisionTest], profiles: Mapping[Key, Profile]
) -> tuple[Trial, ...]:
    """Every test, in key order."""
    return tuple(trial(estate, test, profiles) for test in sorted(tests, key=lambda t: t.key))


def profile_for(test: DecisionTest, profiles: Mapping[Key, Profile]) -> Profile:
    return test.profile if isinstance(test.profile, Profile) else profiles[test.profile]


def trial(estate: Estate, test: DecisionTest, profiles: Mapping[Key, Profile]) -> Trial:
    try:
        outcome = simulate(
            estate, test.decision, profile_for(test, profiles), test.at, test.item_count
        )
    except SimulationError as error:
        return Trial(test, Status.FAILED, (str(error),), None)
    return judged(test, outcome)


def judged(test: DecisionTest, outcome: Simulation) -> Trial:
    """The test's verdict on a simulation of its decision."""
    expected = _expected(test, outcome)
    if not expected:  # a test that checks nothing passes whatever happens: it fails instead
        return Trial(test, Status.FAILED, ("the decision simulates no placement",), outcome)
    mismatches: list[str] = []
    doubts: list[str] = []
    for placement, offers in expected.items():
        placed = outcome.placed(placement)
        got: tuple[Key, ...] = placed.offers if placed is not None else ()
        if test.fallback and placed is not None and not placed.fallback:
            mismatches.append(f"{placement}: expected the fallback, got {listed(got)}")
        elif not test.fallback and got != offers:
            mismatches.append(f"{placement}: expected {listed(offers)}, got {listed(got)}")
        if placed is not None and placed.unknown:
            doubts.append(f"{placement}: uncertain: {'; '.join(placed.unknown)}")
    if mismatches:
        return Trial(test, Status.FAILED, tuple(mismatches + doubts), outcome)
    if doubts:
        return Trial(test, Status.UNKNOWN, tuple(doubts), outcome)
    return Trial(test, Status.PASSED, (), outcome)


def _expected(test: DecisionTest, outcome: Simulation) -> dict[Key, tuple[Key, ...]]:
    if test.expect is not None:
        return dict(test.expect)
    return {placed.placement: () for placed in outcome.placements}


def outcome_line(placed: Placed) -> str:
    """A placement's outcome in one phrase: `[a, b]`, `[fallback/x] (fallback)` or `nothing`."""
    return phrase(placed.offers, placed.fallback)
