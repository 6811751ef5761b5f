"""The shell of `check`: ask the live sandbox's Decisioning API what each decision test's profile
is served, and compare it with the simulation of offers/ (reconciler.served decides).

Per decision test of a live legacy decision whose profile has an identity: one
`POST /data/core/ods/decisions` with every placement of the decision (ids from state/, read
only), the answer read back as keys through state/, the same profile simulated at the answer's
own moment (`ode:createDate`) on the sandbox's resolved definitions. The embedded sandbox has
no Profile service: each test profile with an identity is seeded into its emulator first.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Mapping

from reconciler import api, commands, served, simulating, trials
from reconciler.cases import DecisionTest
from reconciler.eligibility import Identity, Profile
from reconciler.emulator.embedded import embedded_app
from reconciler.estate import Estate
from reconciler.model import Entry, Etag, Key, ObjectId
from reconciler.simulation import simulate


@dataclasses.dataclass(frozen=True, slots=True)
class _Ask:
    """A test to ask live: its profile, identity and the ids of its decision and placements."""

    test: DecisionTest
    profile: Profile
    identity: Identity
    decision: ObjectId
    placements: tuple[ObjectId, ...]


def check(ws: commands.Workspace, sandbox_key: str | None) -> served.Checked:
    """Every decision test of offers/, checked against the sandbox (skipped ones say why)."""
    sandbox = ws.config.sandbox(sandbox_key)
    loaded = simulating.load(ws.root, sandbox.key)
    tests = sorted(loaded.definitions.tests, key=lambda t: t.key)
    probes: dict[Key, served.Probe] = {}
    wanted: list[tuple[DecisionTest, Profile]] = []
    for test in tests:
        profile = trials.profile_for(test, loaded.definitions.profiles)
        reason = served.skip_reason(test, profile, loaded.estate)
        if reason is not None:
            probes[test.key] = served.skipped(test, reason)
        else:
            wanted.append((test, profile))
    state = commands.state_show(ws, sandbox.key) if wanted else None
    objects = state.objects if state is not None else {}
    asks, unapplied = _asks(wanted, loaded.estate, objects, ws.state_path(sandbox).name)
    probes |= {probe.test: probe for probe in unapplied}
    if sandbox.is_embedded and ws.deps.app is None:
        # One app for the whole check: the profiles seeded live in its memory only.
        ws = dataclasses.replace(ws, deps=dataclasses.replace(ws.deps, app=embedded_app(ws.root)))
    seeds = served.seeds(wanted) if sandbox.is_embedded else None
    keys = {str(entry.id): key for key, entry in objects.items() if entry.id}
    applied: dict[Key, Etag | None] = {key: entry.etag for key, entry in objects.items()}

    async def run() -> list[served.Probe | served.Answer]:
        async with commands.client_for(ws, sandbox) as client:
            for profile in seeds or ():
                assert profile.identity is not None
                await client.seed_profile(
                    _pair(profile.identity), profile.attributes, sorted(profile.audiences)
                )
            return await commands.every(_ask(client, ask, keys) for ask in asks)

    for ask, outcome in zip(asks, asyncio.run(run()) if asks or seeds else [], strict=True):
        if isinstance(outcome, served.Probe):
            probes[ask.test.key] = outcome
            continue
        simulation = simulate(
            loaded.estate, ask.test.decision, ask.profile, outcome.at, ask.test.item_count
        )
        probes[ask.test.key] = served.compare(ask.test, outcome, simulation, applied)
    return served.Checked(
        sandbox.key,
        tuple(probes[test.key] for test in tests),
        len(seeds) if seeds is not None else None,
    )


def _asks(
    wanted: list[tuple[DecisionTest, Profile]],
    estate: Estate,
    objects: Mapping[Key, Entry],
    state_name: str,
) -> tuple[list[_Ask], list[served.Probe]]:
    """The tests to ask, with their ids; and the failures of tests whose decision or placements
    were never applied."""
    ids = {key: entry.id for key, entry in objects.items() if entry.id}
    asks: list[_Ask] = []
    unapplied: list[served.Probe] = []
    for test, profile in wanted:
        placements = served.placements_of(estate, test.decision)
        missing = [key for key in (test.decision, *placements) if key not in ids]
        if missing:
            unapplied.append(served.unapplied(test, missing, state_name))
            continue
        assert profile.identity is not None  # skip_reason skipped the others
        asks.append(
            _Ask(
                test,
                profile,
                profile.identity,
                ids[test.decision],
                tuple(ids[placement] for placement in placements),
            )
        )
    return asks, unapplied


async def _ask(client: api.Client, ask: _Ask, keys: dict[str, Key]) -> served.Probe | served.Answer:
    """The live answer, or the failed probe of a test the API refused (422: not served)."""
    try:
        body = await client.decide(ask.decision, ask.placements, _pair(ask.identity))
    except (api.Invalid, api.NotFound) as refused:
        return served.failed(ask.test, f"the Decisioning API refused it: {refused}")
    return served.read_answer(body, keys)


def _pair(identity: Identity) -> tuple[str, str]:
    return identity.namespace, identity.id
