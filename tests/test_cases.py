"""`validate` on what simulation reads: PQL syntax at file:line:column inside the rule's text,
and the profile and decision-test files (reconciler.cases), each problem located."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import make_repo

from reconciler.cli import cli


def problems(root: Path) -> list[str]:
    result = CliRunner().invoke(cli, ["-C", str(root), "validate"])
    assert result.exit_code == 1, result.output
    return [line for line in result.stdout.splitlines() if line]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (  # plain scalar: the column of the character in the file
            "kind: decision-rule\nname: a\ncondition:\n  type: PQL\n  format: pql/text\n"
            '  value: loyalty.tier.equals("gold", false) and (x >\n',
            "offers/r/x.yaml:6:53: condition.value: PQL syntax error at column 44 of the rule: "
            "unexpected end; expected a value",
        ),
        (  # double-quoted: one more for the quote
            "kind: ranking-formula\nname: c\nreturnType: {type: integer}\nexpression:\n"
            '  type: PQL\n  format: pql/text\n  value: "if(offer.rank.priority > 3, 1,"\n',
            "offers/r/x.yaml:7:41: expression.value: PQL syntax error at column 31 of the "
            "formula: unexpected end; expected a value",
        ),
        (  # literal block: the line and column inside the block
            "kind: eligibility-rule\nname: b\ncondition:\n  type: PQL\n  format: pql/text\n"
            '  value: |\n    loyalty.tier = "gold"\n      and ) x\n',
            "offers/r/x.yaml:8:11: condition.value: PQL syntax error at line 2, column 7 of the "
            'rule: unexpected ")"; expected a value',
        ),
    ],
)
def test_a_pql_syntax_error_is_located_inside_the_rule_s_text(
    tmp_path: Path, text: str, expected: str
) -> None:
    root = make_repo(tmp_path / "repo", estate=False)
    (root / "offers" / "r").mkdir()
    (root / "offers" / "r" / "x.yaml").write_text(text)
    assert problems(root) == [expected]


def test_every_rule_and_formula_of_the_example_estate_parses(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo")
    result = CliRunner().invoke(cli, ["-C", str(root), "validate"])
    assert (result.exit_code, result.stdout) == (0, "Valid: 30 objects in offers/.\n")


TEST_HEAD = "kind: decision-test\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            TEST_HEAD + "decision: {ref: decisions/home-page}\nprofile: {ref: profiles/newcomer}\n"
            'at: "2027-07-15T12:00:00Z"\n',
            "offers/tests/x.yaml:1:1: a decision test needs exactly one of expect: "
            "{<placement key>: [<offer keys>]} or fallback: true",
        ),
        (
            TEST_HEAD + "decision: {ref: placements/web-banner}\n"
            'profile: {ref: profiles/newcomer}\nat: "2027-07-15T12:00:00Z"\nfallback: true\n',
            "offers/tests/x.yaml:2:11: decision: placements/web-banner is a placement, not a "
            "decision: name a decision or selection-strategy key (its path under offers/ "
            "without .yaml)",
        ),
        (
            TEST_HEAD + "decision: {ref: decisions/gone}\n"
            'profile: {ref: profiles/newcomer}\nat: "2027-07-15T12:00:00Z"\nfallback: true\n',
            "offers/tests/x.yaml:2:11: decision: no file defines decisions/gone: name a decision "
            "or selection-strategy key (its path under offers/ without .yaml)",
        ),
        (
            TEST_HEAD + "decision: {ref: decisions/home-page}\n"
            'profile: {ref: summer/sale-60}\nat: "2027-07-15T12:00:00Z"\nfallback: true\n',
            "offers/tests/x.yaml:3:10: profile: summer/sale-60 is not a kind: profile file: "
            "refer to a kind: profile file, or write the profile inline (attributes:, "
            "audiences:, context:)",
        ),
        (
            TEST_HEAD + "decision: {ref: decisions/home-page}\nprofile: {ref: profiles/newcomer}\n"
            'at: "2027-07-15T12:00:00Z"\nexpect:\n  placements/nope: [summer/sale-60]\n',
            "offers/tests/x.yaml:6:3: expect.placements/nope: not a placement of "
            "decisions/home-page: use one of placements/app-card, placements/email-body, "
            "placements/web-banner",
        ),
        (
            TEST_HEAD + "decision: {ref: decisions/home-page}\nprofile: {ref: profiles/newcomer}\n"
            'at: "2027-07-15T12:00:00Z"\nexpect:\n  placements/web-banner: [tags/summer]\n',
            "offers/tests/x.yaml:6:27: expect.placements/web-banner[0]: tags/summer is not an "
            "offer or decision item of offers/: write the key of one (its path under offers/ "
            "without .yaml)",
        ),
        (
            TEST_HEAD + "decision: {ref: decisions/home-page}\nprofile: {attributes: {}}\n"
            "at: tomorrow\nfallback: true\n",
            "offers/tests/x.yaml:4:5: at: expected an RFC 3339 date-time with a time zone, such "
            'as "2027-06-01T00:00:00.000Z" (got "tomorrow")',
        ),
        (
            TEST_HEAD + "decision: {ref: decisions/home-page}\n"
            "profile: {attributes: {}, audience: [x]}\n"
            'at: "2027-07-15T12:00:00Z"\nfallback: true\n',
            "offers/tests/x.yaml:3:27: profile.audience: unknown field: remove it or fix its "
            "spelling (did you mean audiences?)",
        ),
    ],
)
def test_a_bad_decision_test_is_one_located_problem(
    tmp_path: Path, text: str, expected: str
) -> None:
    root = make_repo(tmp_path / "repo")
    (root / "offers" / "tests" / "x.yaml").write_text(text)
    assert problems(root) == [expected]


def test_a_test_of_a_decision_that_is_gone_fails_validate_at_the_test(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo")
    (root / "offers" / "decisioning" / "strategies" / "apparel-by-priority.yaml").unlink()
    found = problems(root)
    assert found == [
        f"offers/tests/{name}.yaml:4:11: decision: no file defines "
        "decisioning/strategies/apparel-by-priority: name a decision or selection-strategy key "
        "(its path under offers/ without .yaml)"
        for name in ("winter-apparel-south", "winter-apparel")
    ]
