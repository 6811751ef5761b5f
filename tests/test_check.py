"""`reconciler check` through the CLI: each decision test asked of the live sandbox's Decisioning
API and compared with the simulation; the pure comparison (reconciler.served) as tables.

The sandbox is the emulator in-process, applied to first; its clock is 2027-01-15T08:00:00Z,
so every answer (and the simulation made at its moment) is at that instant.
"""

from __future__ import annotations

import datetime
import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import Sandbox, make_repo
from emulator_support import Clock

from reconciler import commands, served
from reconciler.cases import DecisionTest
from reconciler.cli import cli
from reconciler.emulator.app import create_app
from reconciler.model import Etag, Key, Kind
from reconciler.simulation import Placed, Simulation

AT = "2027-01-15T08:00:00.000Z"
MOMENT = datetime.datetime(2027, 1, 15, 8, tzinfo=datetime.UTC)
SCHEMA = "# yaml-language-server: $schema=../../reconciler/offers.schema.json\n"
WEB = "https://ns.adobe.com/xdm/channel-types/web"


def _offer(name: str, priority: int, *placements: str) -> str:
    representations = "".join(
        f"""
          - channel: {WEB}
            placement: {{ref: placements/{placement}}}
            components:
              - {{type: html, format: text/html, content: "<p>{name}</p>"}}"""
        for placement in placements
    )
    return f"""\
        kind: personalized-offer
        name: {name}
        status: approved
        representations:{representations}
        selectionConstraint: {{profileConstraintType: none}}
        rank: {{priority: {priority}}}
        """


FILES = {
    "placements/banner": """\
        kind: placement
        name: Banner
        componentType: html
        channel: https://ns.adobe.com/xdm/channel-types/web
        """,
    "placements/side": """\
        kind: placement
        name: Side
        componentType: html
        channel: https://ns.adobe.com/xdm/channel-types/web
        """,
    "offers/sale": _offer("Sale", 10, "banner", "side"),
    "offers/shipping": _offer("Shipping", 5, "banner"),
    "fallback/default": """\
        kind: fallback-offer
        name: Default
        status: approved
        representations:
          - channel: https://ns.adobe.com/xdm/channel-types/web
            placement: {ref: placements/banner}
            components:
              - {type: html, format: text/html, content: "<p>Default</p>"}
        """,
    "offers/all": """\
        kind: collection
        name: All offers
        filterType: offers
        ids: [{ref: offers/sale}, {ref: offers/shipping}]
        """,
    "decisions/home": """\
        kind: decision
        name: Home
        status: live
        fallback: {ref: fallback/default}
        criteria:
          - placements: [{ref: placements/banner}, {ref: placements/side}]
            optionSelection: {filter: {ref: offers/all}}
        """,
    "profiles/someone": """\
        kind: profile
        identity: {namespace: Email, id: someone@example.com}
        attributes: {loyalty: {tier: gold}}
        """,
    "profiles/anonymous": """\
        kind: profile
        attributes: {loyalty: {tier: gold}}
        """,
    "tests/someone-home": """\
        kind: decision-test
        decision: {ref: decisions/home}
        profile: {ref: profiles/someone}
        at: "2027-01-15T08:00:00Z"
        expect:
          placements/banner: [offers/sale]
          placements/side: [offers/sale]
        """,
    "tests/anonymous-home": """\
        kind: decision-test
        decision: {ref: decisions/home}
        profile: {ref: profiles/anonymous}
        at: "2027-01-15T08:00:00Z"
        expect:
          placements/banner: [offers/sale]
        """,
}


def _repo(tmp_path: Path, files: dict[str, str] = FILES) -> Path:
    root = make_repo(tmp_path / "repo", estate=False)
    for key, text in files.items():
        path = root / "offers" / f"{key}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(SCHEMA + textwrap.dedent(text))
    return root


def _applied(root: Path) -> Sandbox:
    sandbox = Sandbox(app=create_app(clock=Clock()), root=root)
    done = sandbox.run("apply", "--auto-approve")
    assert done.exit_code == 0, done.output
    return sandbox


def _id(root: Path, key: str) -> str:
    return str(json.loads((root / "state" / "local.json").read_text())["objects"][key]["id"])


def _json(output: str) -> Any:
    return json.loads(output)


def _placements(*rows: tuple[str, str, str]) -> list[dict[str, Any]]:
    return [
        {"placement": p, "live": live, "simulated": sim, "matches": live == sim}
        for p, live, sim in rows
    ]


SKIPPED_ANONYMOUS = {
    "at": None,
    "decision": "decisions/home",
    "file": "offers/tests/anonymous-home.yaml",
    "lines": [
        "its profile has no identity: add identity: {namespace: Email, id: <someone's email>} "
        "to the profile to check it live"
    ],
    "placements": [],
    "test": "tests/anonymous-home",
    "verdict": "skipped",
}


def test_a_sandbox_that_serves_what_offers_simulates_is_healthy(tmp_path: Path) -> None:
    sandbox = _applied(_repo(tmp_path))
    done = sandbox.run("check", "--format", "json")
    assert (done.exit_code, _json(done.output)) == (
        0,
        {
            "healthy": True,
            "sandbox": "local",
            "seeded": 1,
            "summary": "2 decision tests: 1 matched, 0 mismatched, 1 skipped",
            "tests": [
                SKIPPED_ANONYMOUS,
                {
                    "at": AT,
                    "decision": "decisions/home",
                    "file": "offers/tests/someone-home.yaml",
                    "lines": [],
                    "placements": _placements(
                        ("placements/banner", "[offers/sale]", "[offers/sale]"),
                        ("placements/side", "[offers/sale]", "[offers/sale]"),
                    ),
                    "test": "tests/someone-home",
                    "verdict": "matched",
                },
            ],
        },
    )


def test_a_ui_edit_after_apply_is_a_mismatch_with_the_etag_served_and_applied(
    tmp_path: Path,
) -> None:
    sandbox = _applied(_repo(tmp_path))
    shipping = _id(sandbox.root, "offers/shipping")
    sandbox.call(
        lambda client: client.patch(
            Kind.PERSONALIZED_OFFER,
            shipping,
            [{"op": "replace", "path": "/rank/priority", "value": 50}],
            if_match=None,
        )
    )
    done = sandbox.run("check")
    assert (done.exit_code, done.output) == (
        1,
        textwrap.dedent(
            f"""\
            reconciler check: sandbox local
            seeded 1 profile into the embedded sandbox's emulator first (it has no Profile service)
            SKIPPED     tests/anonymous-home
                          its profile has no identity: add identity: {{namespace: Email, id: <someone's email>}} to the profile to check it live
            MISMATCHED  tests/someone-home at {AT}
                          placements/banner: live [offers/shipping], simulated [offers/sale]
                          offers/shipping: served etag 2, applied etag 1: edited outside git since the apply (`reconciler drift` says who and what)

            2 decision tests: 0 matched, 1 mismatched, 1 skipped
            """
        ),
    )
    markdown = sandbox.run("check", "--format", "markdown")
    assert (markdown.exit_code, markdown.output) == (
        1,
        textwrap.dedent(
            """\
            <!-- reconciler:check:local -->
            ### reconciler check: sandbox `local`

            :x: **Health failure:** the live sandbox serves something else than offers/ simulates for 1 decision test (2 decision tests: 0 matched, 1 mismatched, 1 skipped).

            _Seeded 1 profile into the embedded sandbox's emulator first (it has no Profile service)._

            | decision test | verdict | details |
            |---|---|---|
            | `tests/anonymous-home` | skipped | its profile has no identity: add identity: {namespace: Email, id: &lt;someone's email&gt;} to the profile to check it live |
            | `tests/someone-home` | mismatched | placements/banner: live [offers/shipping], simulated [offers/sale]<br>offers/shipping: served etag 2, applied etag 1: edited outside git since the apply (`reconciler drift` says who and what) |
            """
        ),
    )


def test_a_decision_set_to_draft_in_the_ui_is_refused_live_and_fails_the_check(
    tmp_path: Path,
) -> None:
    sandbox = _applied(_repo(tmp_path))
    home = _id(sandbox.root, "decisions/home")
    sandbox.call(
        lambda client: client.patch(
            Kind.DECISION,
            home,
            [{"op": "replace", "path": "/status", "value": "draft"}],
            if_match=None,
        )
    )
    done = sandbox.run("check", "--format", "json")
    [probe] = [t for t in _json(done.output)["tests"] if t["verdict"] != "skipped"]
    assert (done.exit_code, probe["lines"]) == (
        1,
        [
            f"the Decisioning API refused it: decide {home} for Email someone@example.com: "
            f"HTTP 422: /xdm:propositionRequests/0/xdm:activityId: the decision {home} is "
            "draft: only live decisions are served"
        ],
    )


DRAFT = "the decision is draft in offers/: Adobe serves only live decisions"
SKIPS = [
    (
        "a draft decision",
        {"decisions/home": FILES["decisions/home"].replace("status: live", "status: draft")},
        [[DRAFT], [DRAFT]],
    ),
    (
        "a profile with context",
        {"profiles/someone": FILES["profiles/someone"] + "context: {channel: web}\n"},
        [
            SKIPPED_ANONYMOUS["lines"],
            ["its profile has context:, which a Decisioning API request cannot carry"],
        ],
    ),
]


@pytest.mark.parametrize(
    ("changed", "reasons"), [row[1:] for row in SKIPS], ids=[row[0] for row in SKIPS]
)
def test_what_the_live_api_cannot_answer_is_skipped_and_does_not_fail(
    tmp_path: Path, changed: dict[str, str], reasons: list[list[str]]
) -> None:
    sandbox = _applied(_repo(tmp_path, {**FILES, **changed}))
    done = sandbox.run("check", "--format", "json")
    found = _json(done.output)
    assert (done.exit_code, found["seeded"], [t["lines"] for t in found["tests"]]) == (
        0,
        0,
        reasons,
    )


def test_the_example_estate_checks_clean_and_skips_its_selection_strategies(
    tmp_path: Path,
) -> None:
    sandbox = _applied(make_repo(tmp_path / "repo"))
    done = sandbox.run("check", "--format", "json")
    found = _json(done.output)
    strategy = (
        "a selection strategy: Adobe's Decisioning API (/data/core/ods/decisions) serves "
        "legacy decisions only"
    )
    assert (done.exit_code, found["summary"], found["seeded"]) == (
        0,
        "5 decision tests: 3 matched, 0 mismatched, 2 skipped",
        2,
    )
    assert [(t["test"], t["verdict"], t["lines"]) for t in found["tests"]] == [
        ("tests/gold-member-summer", "matched", []),
        ("tests/newcomer-clearance", "matched", []),
        ("tests/newcomer-summer", "matched", []),
        ("tests/winter-apparel", "skipped", [strategy]),
        ("tests/winter-apparel-south", "skipped", [strategy]),
    ]


def test_the_embedded_sandbox_is_seeded_in_the_same_emulator_the_check_asks(
    tmp_path: Path,
) -> None:
    root = _repo(tmp_path)
    deps = commands.Dependencies(env={})  # no injected app: the repository's .reconciler/
    runner = CliRunner()
    applied = runner.invoke(cli, ["-C", str(root), "apply", "--auto-approve"], obj=deps)
    assert applied.exit_code == 0, applied.output
    done = runner.invoke(cli, ["-C", str(root), "check", "--format", "json"], obj=deps)
    assert (done.exit_code, _json(done.output)["summary"]) == (
        0,
        "2 decision tests: 1 matched, 0 mismatched, 1 skipped",
    )


def test_a_check_before_any_apply_says_to_apply_first(tmp_path: Path) -> None:
    sandbox = Sandbox(app=create_app(clock=Clock()), root=_repo(tmp_path))
    done = sandbox.run("check")
    assert (done.exit_code, done.output) == (
        1,
        "Error: local.json does not exist yet: apply creates it\n",
    )


def test_a_decision_state_does_not_hold_is_a_failure_saying_to_apply(tmp_path: Path) -> None:
    sandbox = _applied(_repo(tmp_path))
    forgotten = sandbox.run("state", "rm", "placements/side")
    assert forgotten.exit_code == 0, forgotten.output
    done = sandbox.run("check", "--format", "json")
    [probe] = [t for t in _json(done.output)["tests"] if t["verdict"] != "skipped"]
    assert (done.exit_code, probe["verdict"], probe["lines"]) == (
        1,
        "mismatched",
        [
            "placements/side not in local.json: never applied to this sandbox; "
            "`reconciler apply`, then check again"
        ],
    )


def test_two_profiles_with_one_identity_are_refused(tmp_path: Path) -> None:
    twin = FILES["profiles/someone"].replace("tier: gold", "tier: silver")
    other_test = FILES["tests/someone-home"].replace("profiles/someone", "profiles/twin")
    sandbox = _applied(
        _repo(tmp_path, {**FILES, "profiles/twin": twin, "tests/twin-home": other_test})
    )
    done = sandbox.run("check")
    assert (done.exit_code, done.output) == (
        1,
        "Error: tests/someone-home and tests/twin-home use two profiles with the identity "
        "Email someone@example.com: give each profile its own\n",
    )


# --- the pure comparison ------------------------------------------------------------------------

TEST = DecisionTest(
    key=Key("tests/t"),
    source="offers/tests/t.yaml",
    decision=Key("decisions/home"),
    profile=Key("profiles/p"),
    at=MOMENT,
    item_count=1,
    expect=None,
    fallback=False,
)
KEYS = {"id-home": Key("decisions/home"), "id-banner": Key("placements/banner")}
KEYS |= {"id-sale": Key("offers/sale"), "id-default": Key("fallback/default")}


def _proposition(placement: str, *options: str, fallback: bool = False) -> dict[str, Any]:
    named = [{"xdm:id": option, "repo:etag": 1} for option in options]
    return {
        "xdm:activity": {"xdm:id": "id-home", "repo:etag": 1},
        "xdm:placement": {"xdm:id": placement, "repo:etag": 1},
        **({"xdm:fallback": named[0]} if fallback else {"xdm:options": named}),
    }


def _simulation(*placed: tuple[str, tuple[str, ...], bool]) -> Simulation:
    return Simulation(
        Key("decisions/home"),
        MOMENT,
        tuple(Placed(Key(p), tuple(Key(o) for o in offers), fb, ()) for p, offers, fb in placed),
    )


APPLIED: dict[Key, Etag | None] = {key: Etag("1") for key in KEYS.values()}

COMPARISONS = [
    (
        "the same offers match",
        [_proposition("id-banner", "id-sale")],
        _simulation(("placements/banner", ("offers/sale",), False)),
        APPLIED,
        (),
    ),
    (
        "a fallback against an offer",
        [_proposition("id-banner", "id-default", fallback=True)],
        _simulation(("placements/banner", ("offers/sale",), False)),
        APPLIED,
        ("placements/banner: live [fallback/default] (fallback), simulated [offers/sale]",),
    ),
    (
        "no proposition against an offer",
        [],
        _simulation(("placements/banner", ("offers/sale",), False)),
        APPLIED,
        ("placements/banner: live nothing, simulated [offers/sale]",),
    ),
    (
        "an offer no file manages",
        [_proposition("id-banner", "dps:personalized-offer:ui")],
        _simulation(("placements/banner", ("offers/sale",), False)),
        APPLIED,
        ("placements/banner: live [dps:personalized-offer:ui], simulated [offers/sale]",),
    ),
    (
        "the decision edited since the apply",
        [_proposition("id-banner", "id-sale")],
        _simulation(("placements/banner", ("offers/sale",), False)),
        {**APPLIED, Key("decisions/home"): Etag("0")},
        (
            "decisions/home: served etag 1, applied etag 0: edited outside git since the apply "
            "(`reconciler drift` says who and what)",
        ),
    ),
    (
        "an uncertain simulation says why",
        [_proposition("id-banner", "id-default", fallback=True)],
        Simulation(
            Key("decisions/home"),
            MOMENT,
            (
                Placed(
                    Key("placements/banner"),
                    (Key("offers/sale"),),
                    False,
                    (),
                    ('rule "Big spenders" uses xEvent, which is not simulated',),
                ),
            ),
        ),
        APPLIED,
        (
            "placements/banner: live [fallback/default] (fallback), simulated [offers/sale] "
            '(the simulation is uncertain: rule "Big spenders" uses xEvent, which is not '
            "simulated)",
        ),
    ),
    (
        "a capped offer the simulation cannot count",
        [_proposition("id-banner", "id-default", fallback=True)],
        Simulation(
            Key("decisions/home"),
            MOMENT,
            (Placed(Key("placements/banner"), (Key("offers/sale"),), False, ()),),
            (
                "capping is not simulated (Adobe keeps the counters): offers/sale may be capped "
                "for this profile",
            ),
        ),
        APPLIED,
        (
            "placements/banner: live [fallback/default] (fallback), simulated [offers/sale] "
            "(the simulation is uncertain: capping of offers/sale is not simulated)",
        ),
    ),
    (
        "a placement the decision does not have",
        [_proposition("id-other", "id-sale")],
        _simulation(),
        APPLIED,
        ("id-other: live [offers/sale], but the decision has no such placement in offers/",),
    ),
]


@pytest.mark.parametrize(
    ("propositions", "simulation", "applied", "lines"),
    [row[1:] for row in COMPARISONS],
    ids=[row[0] for row in COMPARISONS],
)
def test_a_live_answer_is_compared_placement_by_placement_and_etag_by_etag(
    propositions: list[dict[str, Any]],
    simulation: Simulation,
    applied: dict[Key, Etag | None],
    lines: tuple[str, ...],
) -> None:
    body = {"xdm:propositionId": "x", "xdm:propositions": propositions, "ode:createDate": 1}
    probe = served.compare(TEST, served.read_answer(body, KEYS), simulation, applied)
    if not lines:
        verdict = served.Verdict.MATCHED
    elif all("(the simulation is uncertain: " in line for line in lines):
        verdict = served.Verdict.UNCERTAIN  # not a health failure: the simulator said so
    else:
        verdict = served.Verdict.MISMATCHED
    assert (probe.verdict, probe.lines) == (verdict, lines)
    assert served.Checked("prod", (probe,)).healthy is (verdict is not served.Verdict.MISMATCHED)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"xdm:propositions": []}, "the Decisioning API's answer has no ode:createDate (epoch ms)"),
        ({"ode:createDate": 1}, "the Decisioning API's answer has no xdm:propositions list"),
        (
            {"ode:createDate": 1, "xdm:propositions": [{"xdm:placement": {"xdm:id": "p"}}]},
            "an object of the Decisioning API's answer has no xdm:id",
        ),
    ],
)
def test_an_answer_that_is_not_the_documented_shape_is_unreadable(
    body: dict[str, Any], message: str
) -> None:
    with pytest.raises(served.UnreadableAnswer) as raised:
        served.read_answer(body, KEYS)
    assert str(raised.value) == message
