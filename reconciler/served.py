"""Pure: what a live sandbox served a decision test's profile, compared with the simulation.

`reconciler check` asks Adobe's Decisioning API (`POST /data/core/ods/decisions`) for each
decision test's profile, by its identity, and simulates the same profile at the moment of the
answer (its `ode:createDate`) on the definitions of offers/. A probe matches when every placement
proposes the same offers in the same order (or both fall back), and every object served carries
the etag state/ recorded when it was applied: a later etag means an edit made outside git is
what customers see. Tests the live API cannot answer are skipped, saying why.
"""

from __future__ import annotations

import datetime
import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from reconciler.cases import DecisionTest
from reconciler.eligibility import Identity, Profile
from reconciler.errors import ReconcilerError, UsageError
from reconciler.estate import Estate
from reconciler.model import Etag, JsonValue, Key, Kind, Ref, etag_of
from reconciler.simulation import Simulation
from reconciler.verdicts import phrase


class UnreadableAnswer(ReconcilerError):
    """The Decisioning API answered 200 with a document that is not its documented shape."""


class Verdict(enum.Enum):
    MATCHED = "matched"
    MISMATCHED = "mismatched"
    UNCERTAIN = "uncertain"  # differs where the simulation said it could not know: no failure
    SKIPPED = "skipped"


@dataclass(frozen=True, slots=True)
class Proposed:
    """One placement's live proposition, in keys (an id state does not know stays an id)."""

    placement: Key
    offers: tuple[Key, ...]
    fallback: bool


@dataclass(frozen=True, slots=True)
class Answer:
    """A live answer: when it was made, what it proposed, and the etag of each object served."""

    at: datetime.datetime
    proposed: tuple[Proposed, ...]
    etags: tuple[tuple[Key, Etag], ...]


@dataclass(frozen=True, slots=True)
class Compared:
    """One placement: what the live sandbox proposed and what the simulation proposes."""

    placement: Key
    live: str
    simulated: str

    @property
    def matches(self) -> bool:
        return self.live == self.simulated


@dataclass(frozen=True, slots=True)
class Probe:
    """One decision test checked live: its verdict, and each mismatch (or why it was skipped)."""

    test: Key
    source: str
    decision: Key
    verdict: Verdict
    lines: tuple[str, ...]
    at: datetime.datetime | None = None
    placements: tuple[Compared, ...] = ()


@dataclass(frozen=True, slots=True)
class Checked:
    """Every decision test of a sandbox, checked; `seeded` counts the profiles stored into the
    embedded sandbox's emulator first (None on a real sandbox, which has its own profiles)."""

    sandbox: str
    probes: tuple[Probe, ...]
    seeded: int | None = None

    @property
    def healthy(self) -> bool:
        return all(probe.verdict is not Verdict.MISMATCHED for probe in self.probes)


def skip_reason(test: DecisionTest, profile: Profile, estate: Estate) -> str | None:
    """Why a decision test cannot be asked of the live Decisioning API, or None."""
    kind = estate.kind(test.decision)
    if kind is Kind.SELECTION_STRATEGY:
        return (
            "a selection strategy: Adobe's Decisioning API (/data/core/ods/decisions) serves "
            "legacy decisions only"
        )
    if kind is not Kind.DECISION:
        return f"{test.decision} is not a decision of offers/ (`reconciler test` says why)"
    status = estate.body(test.decision).get("status")
    if status != "live":
        return f"the decision is {status} in offers/: Adobe serves only live decisions"
    if profile.identity is None:
        return (
            "its profile has no identity: add identity: {namespace: Email, id: <someone's "
            "email>} to the profile to check it live"
        )
    if profile.context:
        return "its profile has context:, which a Decisioning API request cannot carry"
    return None


def skipped(test: DecisionTest, reason: str) -> Probe:
    return Probe(test.key, test.source, test.decision, Verdict.SKIPPED, (reason,))


def failed(test: DecisionTest, line: str) -> Probe:
    """A test whose check could not be made for a reason that is itself a health failure."""
    return Probe(test.key, test.source, test.decision, Verdict.MISMATCHED, (line,))


def placements_of(estate: Estate, decision: Key) -> tuple[Key, ...]:
    """A decision's placements, in the order its criteria first name them (as it serves them)."""
    criteria = estate.body(decision).get("criteria")
    return tuple(
        dict.fromkeys(
            ref.key
            for criterion in (criteria if isinstance(criteria, list) else [])
            if isinstance(criterion, dict)
            for ref in _list(criterion.get("placements"))
            if isinstance(ref, Ref)
        )
    )


def unapplied(test: DecisionTest, missing: Sequence[Key], state_name: str) -> Probe:
    listed = ", ".join(missing)
    return failed(
        test,
        f"{listed} not in {state_name}: never applied to this sandbox; `reconciler apply`, "
        "then check again",
    )


def seeds(tests: Iterable[tuple[DecisionTest, Profile]]) -> tuple[Profile, ...]:
    """The profiles to store into the embedded emulator, one per identity, by identity."""
    found: dict[Identity, tuple[Key, Profile]] = {}
    for test, profile in tests:
        if profile.identity is None:
            continue
        seen = found.setdefault(profile.identity, (test.key, profile))
        if seen[1] != profile:
            raise UsageError(
                f"{seen[0]} and {test.key} use two profiles with the identity "
                f"{profile.identity.namespace} {profile.identity.id}: give each profile its own"
            )
    return tuple(
        found[identity][1] for identity in sorted(found, key=lambda i: (i.namespace, i.id))
    )


# --- the live answer ----------------------------------------------------------------------------


def read_answer(body: Mapping[str, JsonValue], keys: Mapping[str, Key]) -> Answer:
    """A Decisioning API answer, each id read back as the key state/ knows it by."""
    created = body.get("ode:createDate")
    if isinstance(created, bool) or not isinstance(created, int):
        raise UnreadableAnswer("the Decisioning API's answer has no ode:createDate (epoch ms)")
    at = datetime.datetime.fromtimestamp(created / 1000, datetime.UTC)
    propositions = body.get("xdm:propositions")
    if not isinstance(propositions, list):
        raise UnreadableAnswer("the Decisioning API's answer has no xdm:propositions list")
    proposed: dict[Key, Proposed] = {}
    etags: dict[Key, Etag] = {}
    for item in propositions:
        if not isinstance(item, dict):
            raise UnreadableAnswer("a proposition of the Decisioning API's answer is no object")
        named = [_named(item.get("xdm:activity"), keys), _named(item.get("xdm:placement"), keys)]
        options = item.get("xdm:options")
        fallback = item.get("xdm:fallback")
        served = [_named(o, keys) for o in (options if isinstance(options, list) else [fallback])]
        for key, etag in (*named, *served):
            if etag is not None:
                etags.setdefault(key, etag)
        placement = named[1][0]
        offers = tuple(key for key, _ in served)
        proposed.setdefault(placement, Proposed(placement, offers, not isinstance(options, list)))
    return Answer(at, tuple(proposed.values()), tuple(etags.items()))


def _named(value: object, keys: Mapping[str, Key]) -> tuple[Key, Etag | None]:
    found = value.get("xdm:id") if isinstance(value, dict) else None
    if not isinstance(found, str):
        raise UnreadableAnswer("an object of the Decisioning API's answer has no xdm:id")
    etag = value.get("repo:etag") if isinstance(value, dict) else None
    return keys.get(found, Key(found)), etag_of(etag)


# --- the comparison -----------------------------------------------------------------------------


def compare(
    test: DecisionTest,
    answer: Answer,
    simulation: Simulation,
    applied: Mapping[Key, Etag | None],
) -> Probe:
    """The probe of one test: each placement live against simulated, each served etag against
    the one applied."""
    lines: list[str] = []
    doubtful: list[str] = []
    capping = [note for note in simulation.notes if note.startswith("capping")]
    rows: list[Compared] = []
    live = {proposed.placement: proposed for proposed in answer.proposed}
    for placed in simulation.placements:
        got = live.pop(placed.placement, Proposed(placed.placement, (), False))
        row = Compared(
            placed.placement,
            phrase(got.offers, got.fallback),
            phrase(placed.offers, placed.fallback),
        )
        rows.append(row)
        if not row.matches:
            capped = [o for o in placed.offers if any(o in note for note in capping)]
            if placed.unknown or capped:
                why = (
                    "; ".join(placed.unknown) or f"capping of {', '.join(capped)} is not simulated"
                )
                doubtful.append(
                    f"{row.placement}: live {row.live}, simulated {row.simulated} "
                    f"(the simulation is uncertain: {why})"
                )
            else:
                lines.append(f"{row.placement}: live {row.live}, simulated {row.simulated}")
    for extra in live.values():
        lines.append(
            f"{extra.placement}: live {phrase(extra.offers, extra.fallback)}, but the decision "
            "has no such placement in offers/"
        )
    for key, served in answer.etags:
        recorded = applied.get(key)
        if key in applied and recorded != served:
            lines.append(
                f"{key}: served etag {served}, applied etag {recorded}: edited outside git "
                "since the apply (`reconciler drift` says who and what)"
            )
    verdict = Verdict.MISMATCHED if lines else Verdict.UNCERTAIN if doubtful else Verdict.MATCHED
    return Probe(
        test.key,
        test.source,
        test.decision,
        verdict,
        (*lines, *doubtful),
        answer.at,
        tuple(rows),
    )


def _list(value: object) -> list[JsonValue]:
    return value if isinstance(value, list) else []
