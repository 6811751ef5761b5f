"""The offline simulator (reconciler.simulation) through `reconciler simulate` and `test`:
Adobe's evaluation order, every reason a candidate is kept or dropped, unknowns, strategies."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from conftest import make_repo

from reconciler.cli import cli

WEB = "https://ns.adobe.com/xdm/channel-types/web"


def run(root: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["-C", str(root), *args])


def write(root: Path, key: str, text: str) -> None:
    path = root / "offers" / f"{key}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))


def placement(root: Path, key: str, *, count: int = 1, duplicates: bool = True) -> None:
    write(
        root,
        key,
        f"""\
        kind: placement
        name: {key}
        componentType: html
        channel: {WEB}
        itemCount: {count}
        allowDuplicatePlacements: {str(duplicates).lower()}
        """,
    )


def offer(
    root: Path,
    key: str,
    *,
    priority: int,
    places: tuple[str, ...] = ("p/one",),
    status: str = "approved",
    tags: tuple[str, ...] = ("t/all",),
    constraint: str = "profileConstraintType: none",
    dates: tuple[str, str] = ("2027-01-01T00:00:00Z", "2027-12-31T23:59:59Z"),
    extra: str = "",
) -> None:
    representations = "".join(
        f"""
          - channel: {WEB}
            placement: {{ref: {place}}}
            components:
              - {{type: html, format: text/html, content: "<p>{key}</p>"}}"""
        for place in places
    )
    tag_lines = "".join(f"\n          - {{ref: {tag}}}" for tag in tags)
    write(
        root,
        key,
        f"""\
        kind: personalized-offer
        name: {key}
        status: {status}
        representations:{representations}
        selectionConstraint:
          startDate: "{dates[0]}"
          endDate: "{dates[1]}"
          {constraint}
        rank:
          priority: {priority}
        tags:{tag_lines}
        {extra}
        """,
    )


def legacy(root: Path, criteria: str, *, fallback_places: tuple[str, ...] = ("p/one",)) -> None:
    """A decision `d/main` over the given criteria, with fallback `f/default`."""
    write(root, "t/all", "kind: tag\nname: all\n")
    write(root, "c/all", "kind: collection\nname: all\nfilterType: any-tags\nids: [{ref: t/all}]\n")
    representations = "".join(
        f"""
          - channel: {WEB}
            placement: {{ref: {place}}}
            components:
              - {{type: html, format: text/html, content: fallback}}"""
        for place in fallback_places
    )
    write(
        root,
        "f/default",
        f"""\
        kind: fallback-offer
        name: fallback
        status: approved
        representations:{representations}
        """,
    )
    write(
        root,
        "d/main",
        "kind: decision\nname: main\nstatus: live\nfallback: {ref: f/default}\ncriteria:\n"
        + textwrap.indent(textwrap.dedent(criteria), "  "),
    )


def profile_file(root: Path, text: str = "attributes: {}\n") -> Path:
    path = root / "someone.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def simulated(root: Path, *args: str) -> dict[str, object]:
    result = run(root, "simulate", "--format", "json", *args)
    assert result.exit_code == 0, result.output
    found = json.loads(result.output)
    assert isinstance(found, dict)
    return found


@pytest.fixture
def root(tmp_path: Path) -> Path:
    made = make_repo(tmp_path / "repo", estate=False)
    placement(made, "p/one")
    return made


ONE_CRITERION = """\
- placements: [{ref: p/one}]
  optionSelection: {filter: {ref: c/all}}
"""


def test_the_highest_priority_eligible_offer_is_chosen_and_every_candidate_says_why(
    root: Path,
) -> None:
    offer(root, "o/high", priority=50)
    offer(root, "o/low", priority=20)
    offer(root, "o/draft", priority=90, status="draft")
    offer(root, "o/later", priority=80, dates=("2027-09-01T00:00:00Z", "2027-12-31T00:00:00Z"))
    offer(root, "o/elsewhere", priority=70, places=("p/two",))
    placement(root, "p/two")
    legacy(root, ONE_CRITERION)
    found = simulated(
        root, "-d", "d/main", "-p", str(profile_file(root)), "--at", "2027-06-01T00:00:00Z"
    )
    assert found == {
        "decision": "d/main",
        "at": "2027-06-01T00:00:00Z",
        "notes": [],
        "placements": {
            "p/one": {
                "offers": ["o/high"],
                "fallback": False,
                "unknown": [],
                "why": [
                    {"offer": "o/high", "verdict": "chosen", "reason": "priority 50: rank 1"},
                    {
                        "offer": "o/low",
                        "verdict": "outranked",
                        "reason": "priority 20: outranked (1 to show)",
                    },
                    {
                        "offer": "o/draft",
                        "verdict": "dropped",
                        "reason": "status is draft: only approved offers are proposed",
                    },
                    {
                        "offer": "o/elsewhere",
                        "verdict": "dropped",
                        "reason": 'no representation for the placement "p/one"',
                    },
                    {
                        "offer": "o/later",
                        "verdict": "dropped",
                        "reason": "starts 2027-09-01T00:00:00Z, after the moment simulated",
                    },
                ],
            }
        },
    }


def test_nothing_eligible_gives_the_fallback_and_a_fallback_without_the_placement_gives_nothing(
    root: Path,
) -> None:
    offer(root, "o/draft", priority=1, status="draft")
    placement(root, "p/two")
    legacy(
        root,
        "- placements: [{ref: p/one}, {ref: p/two}]\n  optionSelection: {filter: {ref: c/all}}\n",
    )
    found = simulated(
        root, "-d", "d/main", "-p", str(profile_file(root)), "--at", "2027-06-01T00:00:00Z"
    )
    placements = found["placements"]
    assert isinstance(placements, dict)
    assert placements["p/one"]["offers"] == ["f/default"]
    assert placements["p/one"]["fallback"] is True
    assert placements["p/one"]["why"][-1] == {
        "offer": "f/default",
        "verdict": "fallback",
        "reason": "no offer qualified: the decision's fallback",
    }
    assert placements["p/two"]["offers"] == []
    assert placements["p/two"]["fallback"] is False
    assert placements["p/two"]["why"][-1] == {
        "offer": "f/default",
        "verdict": "dropped",
        "reason": "no offer qualified, and the fallback has no representation for this placement",
    }


def test_criteria_of_one_priority_rank_together_and_a_lower_group_only_fills_up(
    root: Path,
) -> None:
    """Adobe's "Evaluation criteria order": the highest-priority group first, ranked together;
    the next group adds offers not ranked yet."""
    placement(root, "p/one", count=3)
    for key, priority, tag in [("o/a", 10, "t/a"), ("o/b", 30, "t/b"), ("o/c", 20, "t/c")]:
        write(root, tag, f"kind: tag\nname: {tag}\n")
        offer(root, key, priority=priority, tags=(tag,))
    for collection, tag in [("c/a", "t/a"), ("c/b", "t/b"), ("c/c", "t/c")]:
        write(
            root,
            collection,
            f"kind: collection\nname: {collection}\nfilterType: any-tags\nids: [{{ref: {tag}}}]\n",
        )
    legacy(
        root,
        """\
        - placements: [{ref: p/one}]
          rank: {priority: 1}
          optionSelection: {filter: {ref: c/a}}
        - placements: [{ref: p/one}]
          rank: {priority: 0}
          optionSelection: {filter: {ref: c/b}}
        - placements: [{ref: p/one}]
          rank: {priority: 1}
          optionSelection: {filter: {ref: c/c}}
        """,
    )
    found = simulated(
        root, "-d", "d/main", "-p", str(profile_file(root)), "--at", "2027-06-01T00:00:00Z"
    )
    # Group priority 1 (c/a and c/c) ranked together: c (20) before a (10); then b (30).
    assert found["placements"]["p/one"]["offers"] == ["o/c", "o/a", "o/b"]  # type: ignore[index]


def test_a_placement_without_duplicates_skips_offers_proposed_in_an_earlier_one(
    root: Path,
) -> None:
    placement(root, "p/one", duplicates=False)
    placement(root, "p/two")
    offer(root, "o/both", priority=50, places=("p/one", "p/two"))
    offer(root, "o/second", priority=10, places=("p/one", "p/two"))
    legacy(
        root,
        "- placements: [{ref: p/one}, {ref: p/two}]\n  optionSelection: {filter: {ref: c/all}}\n",
    )
    found = simulated(
        root, "-d", "d/main", "-p", str(profile_file(root)), "--at", "2027-06-01T00:00:00Z"
    )
    two = found["placements"]["p/two"]  # type: ignore[index]
    assert two["offers"] == ["o/second"]
    assert two["why"][-1] == {
        "offer": "o/both",
        "verdict": "dropped",
        "reason": 'already proposed in "p/one" (a placement of this decision does not allow '
        "duplicates)",
    }


@pytest.mark.parametrize(
    ("constraint", "profile", "verdict", "reason"),
    [
        (
            "profileConstraintType: anySegments\n          segmentIdentities: "
            "[{_id: gold, namespace: {code: ups}}, {_id: vip, namespace: {code: ups}}]",
            "audiences: [vip]\n",
            "chosen",
            "in one of the audiences gold, vip; priority 5: rank 1",
        ),
        (
            "profileConstraintType: allSegments\n          segmentIdentities: "
            "[{_id: gold, namespace: {code: ups}}, {_id: vip, namespace: {code: ups}}]",
            "audiences: [vip]\n",
            "dropped",
            "not in all of the audiences gold, vip",
        ),
        (
            "profileConstraintType: eligibilityRule\n          eligibilityRule: {ref: r/gold}",
            "attributes: {loyalty: {tier: silver}}\n",
            "dropped",
            'rule "Gold" is false (profile.loyalty.tier = "silver")',
        ),
        (
            "profileConstraintType: eligibilityRule\n          eligibilityRule: {ref: r/gold}",
            "attributes: {loyalty: {tier: GOLD}}\n",
            "chosen",
            'rule "Gold" is true (profile.loyalty.tier = "GOLD"); priority 5: rank 1',
        ),
        (
            "profileConstraintType: eligibilityRule\n          eligibilityRule: {ref: r/events}",
            "attributes: {}\n",
            "unknown",
            None,
        ),
    ],
)
def test_an_offer_s_own_constraint(
    root: Path, constraint: str, profile: str, verdict: str, reason: str | None
) -> None:
    write(
        root,
        "r/gold",
        "kind: decision-rule\nname: Gold\ncondition: {type: PQL, format: pql/text, "
        "value: 'loyalty.tier.equals(\"gold\", false)'}\n",
    )
    write(
        root,
        "r/events",
        "kind: decision-rule\nname: Buyers\ncondition: {type: PQL, format: pql/text, value: "
        "'select e from xEvent where e.eventType.equals(\"purchase\", true)'}\n",
    )
    offer(root, "o/one", priority=5, constraint=constraint)
    legacy(root, ONE_CRITERION)
    found = simulated(
        root, "-d", "d/main", "-p", str(profile_file(root, profile)), "--at", "2027-06-01T00:00:00Z"
    )
    why = found["placements"]["p/one"]["why"][0]  # type: ignore[index]
    assert why["offer"] == "o/one"
    assert why["verdict"] == verdict
    if reason is not None:
        assert why["reason"] == reason
    else:
        assert why["reason"].startswith('rule "Buyers" uses ')
        assert why["reason"].endswith(", which is not simulated")


def test_an_unknown_candidate_that_could_rank_first_makes_the_outcome_uncertain(
    root: Path,
) -> None:
    write(
        root,
        "r/events",
        "kind: decision-rule\nname: Buyers\ncondition: {type: PQL, format: pql/text, value: "
        "'select e from xEvent where e.eventType.equals(\"purchase\", true)'}\n",
    )
    offer(
        root,
        "o/maybe",
        priority=90,
        constraint="profileConstraintType: eligibilityRule\n          eligibilityRule: {ref: r/events}",
    )
    offer(root, "o/sure", priority=10)
    legacy(root, ONE_CRITERION)
    found = simulated(
        root, "-d", "d/main", "-p", str(profile_file(root)), "--at", "2027-06-01T00:00:00Z"
    )
    one = found["placements"]["p/one"]  # type: ignore[index]
    assert one["offers"] == ["o/sure"]
    assert len(one["unknown"]) == 1
    assert one["unknown"][0].startswith('rule "Buyers" uses ')


def test_an_unknown_candidate_ranked_below_the_chosen_leaves_the_outcome_certain(
    root: Path,
) -> None:
    write(
        root,
        "r/events",
        "kind: decision-rule\nname: Buyers\ncondition: {type: PQL, format: pql/text, value: "
        "'select e from xEvent where e.eventType.equals(\"purchase\", true)'}\n",
    )
    offer(
        root,
        "o/maybe",
        priority=1,
        constraint="profileConstraintType: eligibilityRule\n          eligibilityRule: {ref: r/events}",
    )
    offer(root, "o/sure", priority=10)
    legacy(root, ONE_CRITERION)
    found = simulated(
        root, "-d", "d/main", "-p", str(profile_file(root)), "--at", "2027-06-01T00:00:00Z"
    )
    assert found["placements"]["p/one"]["unknown"] == []  # type: ignore[index]


def test_ties_are_broken_by_key_and_say_adobe_picks_at_random(root: Path) -> None:
    offer(root, "o/b", priority=5)
    offer(root, "o/a", priority=5)
    legacy(root, ONE_CRITERION)
    found = simulated(
        root, "-d", "d/main", "-p", str(profile_file(root)), "--at", "2027-06-01T00:00:00Z"
    )
    why = found["placements"]["p/one"]["why"][0]  # type: ignore[index]
    assert why == {
        "offer": "o/a",
        "verdict": "chosen",
        "reason": "priority 5: rank 1 (tied with o/b: broken by key, Adobe picks at random)",
    }


def test_capping_is_reported_as_not_simulated(root: Path) -> None:
    offer(root, "o/capped", priority=5, extra="cappingConstraint: {globalCap: 10}")
    legacy(root, ONE_CRITERION)
    found = simulated(
        root, "-d", "d/main", "-p", str(profile_file(root)), "--at", "2027-06-01T00:00:00Z"
    )
    assert found["notes"] == [
        "capping is not simulated (Adobe keeps the counters): o/capped may be capped for this "
        "profile"
    ]


def test_a_formula_ranks_by_its_score(root: Path) -> None:
    write(
        root,
        "r/boost",
        """\
        kind: ranking-formula
        name: Boost
        exdFunction: false
        returnType: {type: integer}
        expression:
          type: PQL
          format: pql/text
          value: if(offer.characteristics.boost = "yes", offer.rank.priority * 10, offer.rank.priority)
        """,
    )
    offer(root, "o/plain", priority=50)
    offer(root, "o/boosted", priority=10, extra="characteristics: {boost: 'yes'}")
    legacy(
        root,
        """\
        - placements: [{ref: p/one}]
          rank:
            priority: 0
            order: {orderEvaluationType: scoringFunction, function: {ref: r/boost}}
          optionSelection: {filter: {ref: c/all}}
        """,
    )
    found = simulated(
        root, "-d", "d/main", "-p", str(profile_file(root)), "--at", "2027-06-01T00:00:00Z"
    )
    assert found["placements"]["p/one"]["why"][:2] == [  # type: ignore[index]
        {"offer": "o/boosted", "verdict": "chosen", "reason": 'formula "Boost" scores 100: rank 1'},
        {
            "offer": "o/plain",
            "verdict": "outranked",
            "reason": 'formula "Boost" scores 50: outranked (1 to show)',
        },
    ]


# --- the example estate -------------------------------------------------------------------------


def test_the_example_estate_s_decision_tests_pass(tmp_path: Path) -> None:
    made = make_repo(tmp_path / "repo")
    result = run(made, "test")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "5 decision tests: 5 passed, 0 failed"


def test_a_priority_change_fails_the_test_that_expected_the_old_winner_with_the_why(
    tmp_path: Path,
) -> None:
    made = make_repo(tmp_path / "repo")
    path = made / "offers/summer/free-shipping.yaml"
    path.write_text(path.read_text().replace("priority: 20", "priority: 70"))
    result = run(made, "test")
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert "FAILED  tests/gold-member-summer" in lines
    assert (
        "        placements/web-banner: expected [summer/sale-60], got [summer/free-shipping]"
        in lines
    )
    assert lines[-1] == "5 decision tests: 4 passed, 1 failed"


def test_simulating_a_strategy_of_the_decisioning_model(tmp_path: Path) -> None:
    made = make_repo(tmp_path / "repo")
    profile = profile_file(made, "attributes: {homeAddress: {region: north}}\n")
    found = simulated(
        made,
        "-d",
        "decisioning/strategies/travel-by-margin",
        "-p",
        str(profile),
        "--at",
        "2027-12-01T00:00:00Z",
    )
    assert found["placements"] == {
        "decisioning/strategies/travel-by-margin": {
            "offers": ["decisioning/items/ski-weekend"],
            "fallback": False,
            "unknown": [],
            "why": [
                {
                    "offer": "decisioning/items/ski-weekend",
                    "verdict": "chosen",
                    "reason": 'rule "Winter shoppers" is true (profile.homeAddress.region = '
                    '"north"); formula "Margin first" scores 240: rank 1',
                }
            ],
        }
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("-d", "placements/web-banner"),
            "Error: placements/web-banner is a placement: simulate a decision or a "
            "selection-strategy",
        ),
        (
            ("-d", "decisions/nope"),
            "Error: no decision decisions/nope in offers/: name a decision or selection-strategy "
            "key",
        ),
        (
            ("-d", "decisions/home-page", "--at", "next tuesday"),
            "Error: --at next tuesday: not a date-time: write one such as 2027-07-15T12:00:00Z",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_1(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    made = make_repo(tmp_path / "repo")
    result = run(made, "simulate", "-p", str(profile_file(made)), *args)
    assert result.exit_code == 1
    assert result.output == message + "\n"


def test_a_bad_profile_file_is_located(tmp_path: Path) -> None:
    made = make_repo(tmp_path / "repo")
    profile = profile_file(made, "attributes: {}\naudience: [gold]\n")
    result = run(made, "simulate", "-d", "decisions/home-page", "-p", str(profile))
    assert result.exit_code == 1
    assert result.output.splitlines()[0].startswith(f"{profile}:2:1: audience: unknown field")


def test_failing_tests_annotate_their_files_for_github(tmp_path: Path) -> None:
    made = make_repo(tmp_path / "repo")
    path = made / "offers/summer/free-shipping.yaml"
    path.write_text(path.read_text().replace("priority: 20", "priority: 70"))
    result = run(made, "test", "--format", "github")
    assert result.exit_code == 1
    assert result.stdout == (
        "::error file=offers/tests/gold-member-summer.yaml::decision test "
        "tests/gold-member-summer failed: placements/web-banner: expected [summer/sale-60], got "
        "[summer/free-shipping]; placements/email-body: expected [fallback/default], got "
        "[summer/sale-60]; placements/app-card: expected [summer/free-shipping], got nothing\n"
        "::notice::5 decision tests: 4 passed, 1 failed\n"
    )


def test_an_uncertain_outcome_fails_the_test_as_unknown(root: Path) -> None:
    write(
        root,
        "r/events",
        "kind: decision-rule\nname: Buyers\ncondition: {type: PQL, format: pql/text, value: "
        "'select e from xEvent where e.eventType.equals(\"purchase\", true)'}\n",
    )
    offer(
        root,
        "o/maybe",
        priority=90,
        constraint="profileConstraintType: eligibilityRule\n          eligibilityRule: {ref: r/events}",
    )
    offer(root, "o/sure", priority=10)
    legacy(root, ONE_CRITERION)
    write(
        root,
        "tests/sure",
        """\
        kind: decision-test
        decision: {ref: d/main}
        profile: {attributes: {}}
        at: "2027-06-01T00:00:00Z"
        expect:
          p/one: [o/sure]
        """,
    )
    result = run(root, "test", "--format", "json")
    assert result.exit_code == 1
    found = json.loads(result.stdout)
    assert found["summary"] == "1 decision test: 0 passed, 0 failed, 1 unknown"
    (row,) = found["tests"]
    assert row["status"] == "unknown"
    assert len(row["mismatches"]) == 1
    assert row["mismatches"][0].startswith('p/one: uncertain: rule "Buyers" uses ')


def test_a_fallback_test_passes_only_when_every_placement_falls_back(root: Path) -> None:
    offer(root, "o/draft", priority=1, status="draft")
    legacy(root, ONE_CRITERION)
    write(
        root,
        "tests/falls-back",
        """\
        kind: decision-test
        decision: {ref: d/main}
        profile: {attributes: {}}
        at: "2027-06-01T00:00:00Z"
        fallback: true
        """,
    )
    assert run(root, "test").exit_code == 0
    offer(root, "o/draft", priority=1)  # approved now: no fallback
    result = run(root, "test")
    assert result.exit_code == 1
    assert "        p/one: expected the fallback, got [o/draft]" in result.stdout.splitlines()


# --- a hostile tester's findings, each kept ------------------------------------------------------

EVENTS_RULE = (
    "kind: decision-rule\nname: Buyers\ncondition: {type: PQL, format: pql/text, value: "
    "'select e from xEvent where e.eventType.equals(\"purchase\", true)'}\n"
)


def test_a_second_criterion_of_a_group_scores_an_offer_only_if_its_eligibility_holds(
    root: Path,
) -> None:
    write(
        root,
        "r/no",
        "kind: decision-rule\nname: No\ncondition: {type: PQL, format: pql/text, value: 'false'}\n",
    )
    write(
        root,
        "fm/f",
        "kind: ranking-formula\nname: F\nexdFunction: false\nreturnType: {type: integer}\n"
        "expression: {type: PQL, format: pql/text, value: '100'}\n",
    )
    offer(root, "o/a", priority=5)
    offer(root, "o/b", priority=10)
    write(root, "c/onlya", "kind: collection\nname: onlya\nfilterType: offers\nids: [{ref: o/a}]\n")
    for order in ("first", "second"):
        criteria = [
            "- placements: [{ref: p/one}]\n  optionSelection: {filter: {ref: c/all}}\n",
            "- placements: [{ref: p/one}]\n  rank:\n    priority: 0\n"
            "    order: {orderEvaluationType: scoringFunction, function: {ref: fm/f}}\n"
            "  profileConstraint: {profileConstraintType: eligibilityRule, eligibilityRule: "
            "{ref: r/no}}\n  optionSelection: {filter: {ref: c/onlya}}\n",
        ]
        legacy(root, "".join(criteria if order == "first" else criteria[::-1]))
        found = simulated(
            root, "-d", "d/main", "-p", str(profile_file(root)), "--at", "2027-06-01T00:00:00Z"
        )
        assert found["placements"]["p/one"]["offers"] == ["o/b"], order  # type: ignore[index]


def test_an_unknown_in_a_higher_group_stays_a_doubt_when_the_offer_qualifies_lower(
    root: Path,
) -> None:
    write(root, "r/ev", EVENTS_RULE)
    offer(root, "o/a", priority=5)
    offer(root, "o/b", priority=10)
    write(root, "c/onlya", "kind: collection\nname: onlya\nfilterType: offers\nids: [{ref: o/a}]\n")
    legacy(
        root,
        "- placements: [{ref: p/one}]\n  rank: {priority: 1}\n"
        "  profileConstraint: {profileConstraintType: eligibilityRule, eligibilityRule: "
        "{ref: r/ev}}\n  optionSelection: {filter: {ref: c/onlya}}\n"
        "- placements: [{ref: p/one}]\n  rank: {priority: 0}\n"
        "  optionSelection: {filter: {ref: c/all}}\n",
    )
    found = simulated(
        root, "-d", "d/main", "-p", str(profile_file(root)), "--at", "2027-06-01T00:00:00Z"
    )
    one = found["placements"]["p/one"]  # type: ignore[index]
    assert one["offers"] == ["o/b"]
    assert len(one["unknown"]) == 1


def test_without_duplicates_an_uncertain_placement_makes_the_later_ones_uncertain(
    root: Path,
) -> None:
    write(root, "r/ev", EVENTS_RULE)
    placement(root, "p/one", duplicates=False)
    placement(root, "p/two")
    offer(
        root,
        "o/u",
        priority=100,
        places=("p/one",),
        constraint="profileConstraintType: eligibilityRule\n          eligibilityRule: {ref: r/ev}",
    )
    offer(root, "o/b", priority=10, places=("p/one", "p/two"))
    offer(root, "o/c", priority=1, places=("p/two",))
    legacy(
        root,
        "- placements: [{ref: p/one}, {ref: p/two}]\n  optionSelection: {filter: {ref: c/all}}\n",
    )
    found = simulated(
        root, "-d", "d/main", "-p", str(profile_file(root)), "--at", "2027-06-01T00:00:00Z"
    )
    two = found["placements"]["p/two"]  # type: ignore[index]
    assert two["offers"] == ["o/c"]
    assert two["unknown"] == [
        "p/one before it is uncertain, and this decision allows no duplicates"
    ]


def test_literal_adobe_ids_are_unknown_never_simulated_as_empty(root: Path) -> None:
    offer(root, "o/a", priority=5)
    legacy(root, ONE_CRITERION)
    path = root / "offers" / "d" / "main.yaml"
    text = path.read_text().replace("{ref: c/all}", "dps:offer-collection:1234")
    path.write_text(text.replace("{ref: f/default}", "dps:fallback-offer:99"))
    found = simulated(
        root, "-d", "d/main", "-p", str(profile_file(root)), "--at", "2027-06-01T00:00:00Z"
    )
    assert found["placements"]["p/one"]["offers"] == []  # type: ignore[index]
    assert found["placements"]["p/one"]["unknown"] == [  # type: ignore[index]
        'a criterion\'s collection is the literal Adobe id "dps:offer-collection:1234", not a '
        "key of offers/: not simulated",
        'the decision\'s fallback is the literal Adobe id "dps:fallback-offer:99", not a key of '
        "offers/: not simulated",
    ]


def test_a_backtracking_regex_is_unknown_not_a_hang(root: Path) -> None:
    write(
        root,
        "r/re",
        "kind: decision-rule\nname: Re\ncondition: {type: PQL, format: pql/text, value: "
        "'s.matches(\"(a|aa)+$\")'}\n",
    )
    offer(
        root,
        "o/a",
        priority=5,
        constraint="profileConstraintType: eligibilityRule\n          eligibilityRule: {ref: r/re}",
    )
    legacy(root, ONE_CRITERION)
    profile = profile_file(root, "attributes: {s: " + "a" * 40 + "!}\n")
    found = simulated(root, "-d", "d/main", "-p", str(profile), "--at", "2027-06-01T00:00:00Z")
    why = found["placements"]["p/one"]["why"][0]  # type: ignore[index]
    assert why["verdict"] == "unknown"
    assert "too slow" in why["reason"]


@pytest.mark.parametrize(
    ("at", "message"),
    [
        (
            "0001-01-01T00:00:00+05:00",
            "Error: --at 0001-01-01T00:00:00+05:00: give a moment between the years 1900 and 9998",
        ),
        (
            "9999-12-31T23:59:59-05:00",
            "Error: --at 9999-12-31T23:59:59-05:00: give a moment between the years 1900 and 9998",
        ),
    ],
)
def test_moments_at_the_calendar_s_edges_are_refused(tmp_path: Path, at: str, message: str) -> None:
    made = make_repo(tmp_path / "repo")
    result = run(
        made, "simulate", "-d", "decisions/home-page", "-p", str(profile_file(made)), "--at", at
    )
    assert (result.exit_code, result.output) == (1, message + "\n")


def test_huge_numbers_are_located_problems_not_crashes(tmp_path: Path) -> None:
    made = make_repo(tmp_path / "repo")
    (made / "offers" / "profiles" / "big.yaml").write_text(
        "kind: profile\nattributes: {n: " + "9" * 5000 + "}\n"
    )
    rule = made / "offers" / "rules" / "gold-members.yaml"
    rule.write_text(
        rule.read_text().replace('loyalty.tier.equals("gold", false)', "9" * 4400 + " > 0")
    )
    result = run(made, "validate")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0] == (
        "offers/profiles/big.yaml:1:1: a number of thousands of digits, more than any field "
        "can hold: shorten it, or quote it as text"
    )
    assert lines[1].startswith("offers/rules/gold-members.yaml:")
    assert lines[1].endswith("a number of more than 1000 digits")


def test_an_empty_expect_is_refused(tmp_path: Path) -> None:
    made = make_repo(tmp_path / "repo")
    (made / "offers" / "tests" / "empty.yaml").write_text(
        "kind: decision-test\ndecision: {ref: decisions/home-page}\n"
        'profile: {attributes: {}}\nat: "2027-07-15T12:00:00Z"\nexpect: {}\n'
    )
    result = run(made, "validate")
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0].startswith(
        "offers/tests/empty.yaml:5:9: expect: needs at least 1 item"
    )
