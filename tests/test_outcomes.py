"""`reconciler outcomes`: what each decision test's profile sees before and after a change, the
plan comment's section *Outcomes that change*, with the decisions the change reaches."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from conftest import make_repo

from reconciler.cli import cli


def outcomes(before: Path, after: Path, fmt: str) -> str:
    result = CliRunner().invoke(
        cli, ["-C", str(after), "outcomes", "--before", str(before), "--format", fmt]
    )
    assert result.exit_code == 0, result.output
    return result.stdout


def edit(root: Path, name: str, old: str, new: str) -> None:
    path = root / "offers" / name
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def test_a_rule_change_shows_the_placements_it_moves_and_the_path_to_the_rule(
    tmp_path: Path,
) -> None:
    before = make_repo(tmp_path / "base")
    after = make_repo(tmp_path / "head")
    edit(after, "rules/gold-members.yaml", '"gold"', '"platinum"')
    assert outcomes(before, after, "markdown") == (
        "### Outcomes that change\n"
        "\n"
        "What each decision test's profile sees before and after this pull request "
        "(sandbox `local`):\n"
        "\n"
        "| decision test | placement | before | after |\n"
        "|---|---|---|---|\n"
        "| tests/gold-member-summer | placements/web-banner | [summer/sale-60] | "
        "[summer/free-shipping] |\n"
        "| tests/gold-member-summer | placements/app-card | [summer/free-shipping] | nothing |\n"
        "\n"
        "Decisions the changed objects reach (decisions/home-page), changed objects "
        "highlighted:\n"
        "\n"
        "```mermaid\n"
        "flowchart LR\n"
        '  n0["decisions/home-page<br/><small>decision</small>"]\n'
        '  n1["summer/collection<br/><small>collection</small>"]\n'
        '  n2["summer/sale-60<br/><small>personalized-offer</small>"]\n'
        '  n3["rules/gold-members<br/><small>decision-rule</small>"]\n'
        "  n0 --> n1\n"
        "  n1 --> n2\n"
        "  n2 --> n3\n"
        "  classDef changed fill:#ffe8cc,stroke:#e8590c,stroke-width:2px\n"
        "  class n3 changed\n"
        "```\n"
    )


def test_a_priority_change_moves_the_winner_as_a_reviewer_expects(tmp_path: Path) -> None:
    before = make_repo(tmp_path / "base")
    after = make_repo(tmp_path / "head")
    edit(after, "summer/free-shipping.yaml", "priority: 20", "priority: 70")
    found = json.loads(outcomes(before, after, "json"))
    assert found["shifts"] == [
        {
            "test": "tests/gold-member-summer",
            "decision": "decisions/home-page",
            "placement": "placements/web-banner",
            "before": "[summer/sale-60]",
            "after": "[summer/free-shipping]",
        },
        {
            "test": "tests/gold-member-summer",
            "decision": "decisions/home-page",
            "placement": "placements/email-body",
            "before": "[fallback/default] (fallback)",
            "after": "[summer/sale-60]",
        },
        {
            "test": "tests/gold-member-summer",
            "decision": "decisions/home-page",
            "placement": "placements/app-card",
            "before": "[summer/free-shipping]",
            "after": "nothing",
        },
    ]
    assert found["changed"] == ["summer/free-shipping"]
    assert found["reached"] == ["decisions/home-page"]
    assert found["tests"] == 5


def test_a_change_no_test_sees_says_none_and_still_draws_what_it_reaches(tmp_path: Path) -> None:
    before = make_repo(tmp_path / "base")
    after = make_repo(tmp_path / "head")
    edit(after, "decisioning/items/gift-card.yaml", "itemPriority: 10", "itemPriority: 15")
    text = outcomes(before, after, "markdown")
    assert text.startswith(
        "### Outcomes that change\n\nNone: the 5 decision tests see the same offers before and "
        "after this pull request (sandbox `local`).\n"
    )
    # gift cards are in no collection of a strategy: nothing is reached, no diagram
    assert "mermaid" not in text


def test_no_change_and_no_tests(tmp_path: Path) -> None:
    before = make_repo(tmp_path / "base", estate=False)
    after = make_repo(tmp_path / "head", estate=False)
    assert outcomes(before, after, "markdown") == (
        "### Outcomes that change\n\nNo decision tests in `offers/` (`kind: decision-test`): "
        "add some to see here what customers would see change.\n"
    )


def test_a_base_without_offers_is_one_line_and_exit_1(tmp_path: Path) -> None:
    after = make_repo(tmp_path / "head")
    result = CliRunner().invoke(
        cli, ["-C", str(after), "outcomes", "--before", str(tmp_path / "nowhere")]
    )
    assert result.exit_code == 1
    assert result.output == (
        f"Error: --before {tmp_path / 'nowhere'}: no offers/ folder there: check out the base "
        "branch into it\n"
    )


def test_a_test_added_by_the_change_shows_what_its_profile_saw_before(tmp_path: Path) -> None:
    """The head's tests run on both sides: a new decision shows as new."""
    before = make_repo(tmp_path / "base")
    after = make_repo(tmp_path / "head")
    (before / "offers" / "decisioning" / "strategies" / "apparel-by-priority.yaml").unlink()
    for name in ("winter-apparel", "winter-apparel-south"):  # added with the strategy
        (before / "offers" / "tests" / f"{name}.yaml").unlink()
    found = json.loads(outcomes(before, after, "json"))
    assert found["shifts"] == [
        {
            "test": "tests/winter-apparel",
            "decision": "decisioning/strategies/apparel-by-priority",
            "placement": "decisioning/strategies/apparel-by-priority",
            "before": "(no such decision)",
            "after": "[decisioning/items/winter-coat, decisioning/items/wool-scarf]",
        },
        {
            "test": "tests/winter-apparel-south",
            "decision": "decisioning/strategies/apparel-by-priority",
            "placement": "decisioning/strategies/apparel-by-priority",
            "before": "(no such decision)",
            "after": "nothing",
        },
    ]
