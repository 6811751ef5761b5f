"""The shell of `simulate` and `test`: read offers/ for one sandbox, run the pure simulator.

Offline: no credentials, no network. The sandbox only chooses which `overrides:` apply.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path

from reconciler import cases, caseschema, commands, config, documents, overrides, schema, trials
from reconciler import outcomes as outcome_values
from reconciler.eligibility import Profile
from reconciler.errors import InvalidDocuments, UsageError
from reconciler.estate import Estate, index, moment
from reconciler.model import Key, Problem
from reconciler.simulation import Simulation, simulate


@dataclass(frozen=True, slots=True)
class Loaded:
    """One sandbox's view of offers/: its estate, and the profiles and tests offers/ holds."""

    sandbox: str
    estate: Estate
    definitions: documents.Definitions


def sandbox_key(root: Path, chosen: str | None) -> str:
    """The sandbox to resolve overrides for: the one chosen, else reconciler.yaml's default
    (read offline, without credentials); without reconciler.yaml, the name `default`."""
    path = root / config.FILE_NAME
    if not path.is_file():
        if chosen is not None:
            raise UsageError(
                f"--sandbox {chosen}: there is no {config.FILE_NAME} to define it: "
                "leave --sandbox out, or add the sandbox to reconciler.yaml"
            )
        return "default"
    data, locate = documents.read_mapping(path, display=config.FILE_NAME)
    settings = config.parse(data, locate, {"ADOBE_ORG_ID": commands.OFFLINE_ORG})
    return settings.sandbox(chosen).key


def load(root: Path, chosen: str | None) -> Loaded:
    """offers/ as the sandbox gets it; InvalidDocuments when a definition has problems."""
    sandbox = sandbox_key(root, chosen)
    definitions = documents.load_all(root, commands.sandbox_names(root))
    estate = index(overrides.resolve(item, sandbox) for item in definitions.objects)
    return Loaded(sandbox, estate, definitions)


def read_profile(path: Path, display: str) -> Profile:
    """A profile file (YAML or JSON; `kind: profile` optional), each problem at file:line:col."""
    if not path.is_file():
        raise UsageError(f"--profile {display}: no such file: give a YAML or JSON profile file")
    data, _ = documents.read_mapping(path, display=display)
    data = {name: value for name, value in data.items() if name != "kind"}
    issues = schema.check_model(cases.ProfileFields, data)
    if issues:
        places = documents.positions(
            path.parent, path.name, ((i.location, i.anchor) for i in issues)
        )
        raise InvalidDocuments(
            tuple(Problem(display, *at, i.message) for i, at in zip(issues, places, strict=True))
        )
    return cases.profile_of(data)


def parse_at(text: str | None, now: datetime.datetime) -> datetime.datetime:
    """--at as an aware datetime (UTC when it names no zone); the clock when left out."""
    if text is None:
        return now
    found = moment(text)
    if found is None:
        raise UsageError(f"--at {text}: not a date-time: write one such as 2027-07-15T12:00:00Z")
    if not caseschema.FIRST_YEAR <= found.year <= caseschema.LAST_YEAR:
        raise UsageError(
            f"--at {text}: give a moment between the years {caseschema.FIRST_YEAR} and "
            f"{caseschema.LAST_YEAR}"
        )
    return found.astimezone(datetime.UTC)


def simulate_one(
    loaded: Loaded, decision: str, profile: Profile, at: datetime.datetime, item_count: int
) -> Simulation:
    return simulate(loaded.estate, Key(decision.removesuffix(".yaml")), profile, at, item_count)


def run_tests(loaded: Loaded) -> tuple[trials.Trial, ...]:
    return trials.run(loaded.estate, loaded.definitions.tests, loaded.definitions.profiles)


def outcomes(root: Path, before: Path, chosen: str | None) -> outcome_values.Outcomes:
    """The outcomes a change moves: offers/ at `before` (the base branch's checkout) against
    offers/ at root, for root's decision tests, in one sandbox's resolved definitions."""
    after = load(root, chosen)
    if not (before / "offers").is_dir():
        raise UsageError(
            f"--before {before}: no offers/ folder there: check out the base branch into it"
        )
    try:
        base = documents.load(before, commands.sandbox_names(before))
    except InvalidDocuments as invalid:
        raise UsageError(
            f"--before {before}: its offers/ does not load ({invalid}): outcomes not compared"
        ) from None
    base_estate = index(overrides.resolve(item, after.sandbox) for item in base)
    return outcome_values.compare(
        base_estate, after.estate, after.definitions.tests, after.definitions.profiles
    )
