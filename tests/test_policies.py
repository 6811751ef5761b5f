"""Team policies of reconciler.yaml and Adobe's estate-wide guardrails: each check passing and
failing, severities, kinds and key globs, exact located messages in every format, config errors."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from reconciler import config, documents, guardrails, schema
from reconciler.cli import cli
from reconciler.errors import ConfigError, InvalidDocuments
from reconciler.model import Key, Kind

CONFIG = """\
default: local
sandboxes:
  local:
    endpoint: embedded
"""

WEB = (
    "kind: placement\nname: Web\ncomponentType: html\n"
    "channel: https://ns.adobe.com/xdm/channel-types/web\n"
)
APP = (
    "kind: placement\nname: App\ncomponentType: json\n"
    "channel: https://ns.adobe.com/xdm/channel-types/mobile\n"
)
OFFER = """\
kind: personalized-offer
name: Summer sale
description: Sixty percent off
status: approved
representations:
  - channel: https://ns.adobe.com/xdm/channel-types/web
    placement: {ref: placements/web}
    components:
      - {type: html, format: text/html, content: "<p>60%</p>"}
selectionConstraint:
  startDate: "2027-06-01T00:00:00.000Z"
  endDate: "2027-08-31T23:59:59.000Z"
  profileConstraintType: none
rank: {priority: 50}
characteristics: {discount: "60"}
"""
FALLBACK = """\
kind: fallback-offer
name: Free returns
status: approved
representations:
  - channel: https://ns.adobe.com/xdm/channel-types/web
    placement: {ref: placements/web}
    components:
      - {type: html, format: text/html, content: "<p>Free returns</p>"}
  - channel: https://ns.adobe.com/xdm/channel-types/mobile
    placement: {ref: placements/app}
    components:
      - {type: json, format: application/json, content: "{}"}
"""
COLLECTION = "kind: collection\nname: Summer\nfilterType: offers\nids: [{ref: summer/sale}]\n"
DECISION = """\
kind: decision
name: Home page
status: live
startDate: "2027-06-01T00:00:00.000Z"
endDate: "2027-07-01T00:00:00.000Z"
fallback: {ref: fallback/default}
criteria:
  - placements: [{ref: placements/web}, {ref: placements/app}]
    optionSelection: {filter: {ref: summer/collection}}
"""
ITEM = """\
kind: decision-item
_experience:
  decisioning:
    offeritem:
      lifecycleStatus: approved
    decisionitem:
      itemName: Coat
      itemPriority: 1
      itemCalendarConstraints:
        startDate: "2027-11-01T00:00:00.000Z"
        endDate: "2027-12-01T00:00:00.000Z"
"""
ESTATE = {
    "placements/web.yaml": WEB,
    "placements/app.yaml": APP,
    "summer/sale.yaml": OFFER,
    "summer/collection.yaml": COLLECTION,
    "fallback/default.yaml": FALLBACK,
    "decisions/home.yaml": DECISION,
    "items/coat.yaml": ITEM,
}
OBJECTS = len(ESTATE)


def repo(
    root: Path,
    policies: str | None,
    edits: dict[str, tuple[str, str]] | None = None,
    extra: dict[str, str] | None = None,
) -> Path:
    """ESTATE under root/offers, each edit (old, new) made once, and reconciler.yaml with the
    policies (a YAML list) when given."""
    files = dict(ESTATE)
    for name, (old, new) in (edits or {}).items():
        assert files[name].count(old) == 1, (name, old)
        files[name] = files[name].replace(old, new)
    files.update(extra or {})
    for name, text in files.items():
        path = root / "offers" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    if policies is not None:
        (root / "reconciler.yaml").write_text(CONFIG + "policies:\n" + policies)
    return root


def run(root: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["-C", str(root), *args])


def policy(check: str, severity: str = "error", name: str = "p", more: str = "") -> str:
    return f"  - {{name: {name}, severity: {severity}, {more}check: {check}}}\n"


# --- each check, passing and failing ----------------------------------------------------------

SALE = "offers/summer/sale.yaml"
DATES_FAR = ('endDate: "2027-08-31T23:59:59.000Z"', 'endDate: "2027-09-01T00:00:00.001Z"')


@pytest.mark.parametrize(
    ("check", "more", "edits", "expected"),
    [
        ("{required: description}", "kinds: [personalized-offer], ", {}, []),
        (
            "{required: description}",
            "kinds: [personalized-offer], ",
            {"summer/sale.yaml": ("description: Sixty percent off\n", "")},
            [f"{SALE}:1:1: description: required: add it (policy p)"],
        ),
        (
            "{required: description}",
            "kinds: [personalized-offer], ",
            {"summer/sale.yaml": ("description: Sixty percent off", 'description: ""')},
            [f"{SALE}:3:14: description: required, and empty: give it a value (policy p)"],
        ),
        (
            "{required: rank.priority}",
            "kinds: [personalized-offer], ",
            {"summer/sale.yaml": ("rank: {priority: 50}\n", "")},
            [f"{SALE}:1:1: rank.priority: required: add it (policy p)"],
        ),
        (
            '{matches: {field: "representations[*].channel", regex: "/(web|mobile)$"}}',
            "kinds: [personalized-offer, fallback-offer], ",
            {},
            [],
        ),
        (
            '{matches: {field: "representations[*].channel", regex: "/web$"}}',
            "kinds: [personalized-offer, fallback-offer], ",
            {},
            [
                "offers/fallback/default.yaml:9:14: representations[1].channel: "
                '"https://ns.adobe.com/xdm/channel-types/mobile" does not match /web$ (policy p)'
            ],
        ),
        (
            '{matches: {field: "representations[0].placement", regex: "^placements/"}}',
            "kinds: [personalized-offer], ",
            {},
            [],
        ),
        ("{range: {field: rank.priority, min: 0, max: 50}}", "", {}, []),
        (
            "{range: {field: rank.priority, max: 40}}",
            "",
            {},
            [f"{SALE}:14:18: rank.priority: 50 is above the maximum 40 (policy p)"],
        ),
        (
            "{range: {field: rank.priority, min: 60.5}}",
            "",
            {},
            [f"{SALE}:14:18: rank.priority: 50 is below the minimum 60.5 (policy p)"],
        ),
        (
            "{range: {field: characteristics.discount, max: 70}}",
            "",
            {},
            [f'{SALE}:15:29: characteristics.discount: "60" is not a number (policy p)'],
        ),
        ("{end-date: {within-days: 92}}", "", {}, []),
        (
            "{end-date: {within-days: 92}}",
            "kinds: [personalized-offer], ",
            {"summer/sale.yaml": DATES_FAR},
            [
                f"{SALE}:12:12: selectionConstraint.endDate: 2027-09-01T00:00:00.001Z is more "
                "than 92 days after selectionConstraint.startDate 2027-06-01T00:00:00.000Z: end it "
                "by 2027-09-01T00:00:00.000Z at the latest (policy p)"
            ],
        ),
        (
            "{end-date: {within-days: 92}}",
            "",
            {"summer/sale.yaml": ('  endDate: "2027-08-31T23:59:59.000Z"\n', "")},
            [
                f"{SALE}:11:3: selectionConstraint.endDate: required, within 92 days of "
                "selectionConstraint.startDate: add it (policy p)"
            ],
        ),
        (
            "{end-date: {within-days: 92}}",
            "",
            {"decisions/home.yaml": ('startDate: "2027-06-01T00:00:00.000Z"\n', "")},
            [
                "offers/decisions/home.yaml:1:1: startDate: required, to count the 92 days to "
                "endDate from: add it (policy p)"
            ],
        ),
        (
            "{end-date: {within-days: 7}}",
            "kinds: [decision-item], ",
            {},
            [
                "offers/items/coat.yaml:11:18: _experience.decisioning.decisionitem."
                "itemCalendarConstraints.endDate: 2027-12-01T00:00:00.000Z is more than 7 days "
                "after _experience.decisioning.decisionitem.itemCalendarConstraints.startDate "
                "2027-11-01T00:00:00.000Z: end it by 2027-11-08T00:00:00.000Z at the latest "
                "(policy p)"
            ],
        ),
        ("{fallback: true}", "", {}, []),
        (
            "{fallback: true}",
            "",
            {
                "fallback/default.yaml": (
                    '  - channel: https://ns.adobe.com/xdm/channel-types/mobile\n    placement: {ref: placements/app}\n    components:\n      - {type: json, format: application/json, content: "{}"}\n',
                    "",
                )
            },
            [
                "offers/decisions/home.yaml:8:41: criteria[0].placements[1]: the fallback "
                "fallback/default has no representation for {ref: placements/app}: a fallback "
                "offer holds every placement its decisions use (creating-fallback-offers.md): add "
                "one to it (policy p)"
            ],
        ),
        (
            "{fallback: true}",
            "",
            {
                "decisions/home.yaml": (
                    "fallback: {ref: fallback/default}",
                    "fallback: dps:fallback-offer:1",
                )
            },
            [],
        ),
        ('{name-matches: "^[A-Z][a-z]+( [a-z]+)*$"}', "", {}, []),
        (
            '{name-matches: "^[a-z]"}',
            "kinds: [decision-item], ",
            {},
            [
                'offers/items/coat.yaml:7:17: _experience.decisioning.decisionitem.itemName: "Coat" '
                "does not match ^[a-z] (policy p)"
            ],
        ),
        # Key globs: fnmatch on keys, `*` matching `/` as --only does.
        ("{required: tags}", 'kinds: [personalized-offer], keys: ["winter/*"], ', {}, []),
        (
            "{required: tags}",
            'kinds: [personalized-offer], keys: ["winter/*", "*/sale"], ',
            {},
            [f"{SALE}:1:1: tags: required: add it (policy p)"],
        ),
        # Kinds: only those listed.
        (
            "{required: description}",
            "kinds: [fallback-offer], ",
            {},
            ["offers/fallback/default.yaml:1:1: description: required: add it (policy p)"],
        ),
    ],
)
def test_each_check_passes_or_fails_with_a_located_message(
    tmp_path: Path,
    check: str,
    more: str,
    edits: dict[str, tuple[str, str]],
    expected: list[str],
) -> None:
    done = run(repo(tmp_path, policy(check, more=more), edits), "validate")
    assert done.stdout.splitlines() == (expected or [f"Valid: {OBJECTS} objects in offers/."])
    assert done.exit_code == (1 if expected else 0), done.stderr


def test_warnings_are_reported_and_do_not_fail(tmp_path: Path) -> None:
    policies = policy("{required: tags}", "warning", "tagged", "kinds: [personalized-offer], ")
    done = run(repo(tmp_path, policies), "validate")
    assert (done.exit_code, done.stdout, done.stderr) == (
        0,
        f"{SALE}:1:1: warning: tags: required: add it (policy tagged)\n"
        f"Valid: {OBJECTS} objects in offers/ (1 policy warning).\n",
        "",
    )


TWO = policy("{required: tags}", "warning", "tagged", "kinds: [personalized-offer], ") + policy(
    "{range: {field: rank.priority, max: 40}}", "error", "low-priority"
)


@pytest.mark.parametrize(
    ("fmt", "stdout", "stderr"),
    [
        (
            "text",
            f"{SALE}:1:1: warning: tags: required: add it (policy tagged)\n"
            f"{SALE}:14:18: rank.priority: 50 is above the maximum 40 (policy low-priority)\n",
            "1 policy error, and 1 policy warning: fix the lines above and run validate again.\n",
        ),
        (
            "github",
            f"::warning file={SALE},line=1,col=1::tags: required: add it (policy tagged)\n"
            f"::error file={SALE},line=14,col=18::rank.priority: 50 is above the maximum 40 "
            "(policy low-priority)\n",
            "1 policy error, and 1 policy warning: fix the lines above and run validate again.\n",
        ),
        (
            "json",
            json.dumps(
                [
                    {
                        "column": 1,
                        "line": 1,
                        "message": "tags: required: add it (policy tagged)",
                        "path": SALE,
                        "policy": "tagged",
                        "severity": "warning",
                    },
                    {
                        "column": 18,
                        "line": 14,
                        "message": "rank.priority: 50 is above the maximum 40 (policy low-priority)",
                        "path": SALE,
                        "policy": "low-priority",
                        "severity": "error",
                    },
                ],
                indent=2,
                sort_keys=True,
            )
            + "\n",
            "",
        ),
    ],
)
def test_findings_in_each_format(tmp_path: Path, fmt: str, stdout: str, stderr: str) -> None:
    done = run(repo(tmp_path, TWO), "validate", "--format", fmt)
    assert (done.exit_code, done.stdout, done.stderr) == (1, stdout, stderr)


def test_a_warning_alone_in_github_and_json_exits_0(tmp_path: Path) -> None:
    root = repo(
        tmp_path, policy("{required: tags}", "warning", more="kinds: [personalized-offer], ")
    )
    github = run(root, "validate", "--format", "github")
    assert (github.exit_code, github.stdout, github.stderr) == (
        0,
        f"::warning file={SALE},line=1,col=1::tags: required: add it (policy p)\n",
        f"Valid: {OBJECTS} objects in offers/ (1 policy warning).\n",
    )
    as_json = run(root, "validate", "--format", "json")
    assert as_json.exit_code == 0
    assert [row["severity"] for row in json.loads(as_json.stdout)] == ["warning"]


def test_the_fork_comment_fails_on_policy_errors_only(tmp_path: Path) -> None:
    root = repo(tmp_path, TWO)
    done = run(root, "validate", "--format", "markdown")
    assert done.exit_code == 1
    assert (
        f"{SALE}:14:18: rank.priority: 50 is above the maximum 40 (policy low-priority)"
        in done.stdout
    )
    assert "tags: required" not in done.stdout


def test_without_reconciler_yaml_validate_checks_no_policy(tmp_path: Path) -> None:
    done = run(repo(tmp_path, None), "validate")
    assert (done.exit_code, done.stdout) == (0, f"Valid: {OBJECTS} objects in offers/.\n")


def test_policies_run_on_a_valid_estate_only(tmp_path: Path) -> None:
    root = repo(tmp_path, TWO, {"summer/sale.yaml": ("status: approved", "status: nope")})
    done = run(root, "validate")
    assert done.exit_code == 1
    assert done.stdout == (
        f'{SALE}:4:9: status: expected one of: draft, approved, archived (got "nope")\n'
    )


# --- reconciler policies ----------------------------------------------------------------------

LISTED = (
    policy("{required: description}", "warning", "described", "kinds: [personalized-offer], ")
    + policy('{matches: {field: "representations[*].channel", regex: "/web$"}}', name="web")
    + policy("{range: {field: rank.priority, min: 0}}", name="priority", more='keys: ["s/*", x], ')
    + policy("{end-date: {within-days: 92}}", name="quarter")
    + policy("{fallback: true}", name="fallback")
    + policy('{name-matches: "^[A-Z]"}', "warning", "capitalised")
)


def test_policies_lists_each_policy(tmp_path: Path) -> None:
    root = repo(tmp_path, LISTED)
    done = run(root, "policies")
    assert (done.exit_code, done.stdout) == (
        0,
        "described\twarning\tpersonalized-offer\t*\trequired: description\n"
        "web\terror\t*\t*\tmatches: representations[*].channel ~ /web$\n"
        "priority\terror\t*\ts/*,x\trange: rank.priority >= 0\n"
        "quarter\terror\tpersonalized-offer,decision,decision-item\t*\tend-date: set, within 92 "
        "days of the start date\n"
        "fallback\terror\tdecision\t*\tfallback: set, with a representation for every placement\n"
        "capitalised\twarning\t*\t*\tname-matches: ^[A-Z]\n",
    )
    listed = json.loads(run(root, "policies", "--format", "json").stdout)
    assert listed[2] == {
        "name": "priority",
        "severity": "error",
        "kinds": [kind.value for kind in Kind],
        "keys": ["s/*", "x"],
        "check": {"range": {"field": "rank.priority", "min": 0}},
    }
    assert [row["check"] for row in listed[3:5]] == [
        {"end-date": {"within-days": 92}},
        {"fallback": True},
    ]


def test_no_policies(tmp_path: Path) -> None:
    (tmp_path / "reconciler.yaml").write_text(CONFIG)
    done = run(tmp_path, "policies")
    assert (done.exit_code, done.stdout, done.stderr) == (
        0,
        "",
        "No policies: add them under policies: in reconciler.yaml.\n",
    )
    assert run(tmp_path, "policies", "--format", "json").stdout == "[]\n"


# --- reconciler.yaml: every mistake located ---------------------------------------------------


def parse(tmp_path: Path, policies: str) -> config.Config:
    path = tmp_path / config.FILE_NAME
    path.write_text(CONFIG + "policies:\n" + policies)
    data, locate = documents.read_mapping(path, display=config.FILE_NAME)
    return config.parse(data, locate, {})


@pytest.mark.parametrize(
    ("policies", "message"),
    [
        (
            "  - {name: p, check: {required: description}}\n",
            "reconciler.yaml:6:5: policies.0.severity: required: add it",
        ),
        (
            "  - {name: p, severity: fatal, check: {required: description}}\n",
            'reconciler.yaml:6:25: policies.0.severity: expected error or warning (got "fatal")',
        ),
        (
            "  - {name: p, severity: error, check: {required: x}, when: always}\n",
            "reconciler.yaml:6:60: policies.0.when: unknown field: remove it or fix its spelling",
        ),
        (
            "  - {name: p, severity: error, check: {require: x}}\n",
            "reconciler.yaml:6:49: policies.0.check.require: unknown field: remove it or fix its "
            "spelling",
        ),
        (
            "  - {name: p, severity: error, check: {}}\n",
            "reconciler.yaml:6:39: policies.0.check: a policy has exactly one check of required, "
            "matches, range, end-date, fallback, name-matches: it sets none",
        ),
        (
            "  - {name: p, severity: error, check: {required: x, fallback: true}}\n",
            "reconciler.yaml:6:39: policies.0.check: a policy has exactly one check of required, "
            "matches, range, end-date, fallback, name-matches: it sets required, fallback",
        ),
        (
            "  - {name: p, severity: error, check: {matches: {field: name, regex: '(unclosed'}}}\n",
            "reconciler.yaml:6:70: policies.0.check.matches.regex: '(unclosed' is not a regular "
            "expression: missing ), unterminated subpattern at position 0",
        ),
        (
            "  - {name: p, severity: error, check: {required: 'rank..priority'}}\n",
            "reconciler.yaml:6:50: policies.0.check.required: 'rank..priority' is not a field: write "
            "a dotted path such as rank.priority or representations[*].channel ([n] for one item "
            "of a list, [*] for every item)",
        ),
        (
            "  - {name: p, severity: error, check: {range: {field: rank.priority}}}\n",
            "reconciler.yaml:6:47: policies.0.check.range: a range needs min:, max: or both",
        ),
        (
            "  - {name: p, severity: error, check: {range: {field: x, min: 5, max: 1}}}\n",
            "reconciler.yaml:6:71: policies.0.check.range.max: max (1) is below min (5)",
        ),
        (
            "  - {name: p, severity: error, check: {range: {field: x, min: true}}}\n",
            "reconciler.yaml:6:63: policies.0.check.range.min: expected a number, such as 0 "
            "(got true)",
        ),
        (
            "  - {name: p, severity: error, check: {end-date: {within-days: 0}}}\n",
            "reconciler.yaml:6:64: policies.0.check.end-date.within-days: expected a whole number "
            "of days from 1, such as 120 (got 0)",
        ),
        (
            "  - {name: p, severity: error, kinds: [offer], check: {required: x}}\n",
            "reconciler.yaml:6:40: policies.0.kinds.0: 'offer' is not a kind: use one of "
            + ", ".join(kind.value for kind in Kind),
        ),
        (
            "  - {name: p, severity: error, kinds: [decision, tag], check: {fallback: true}}\n",
            "reconciler.yaml:6:50: policies.0.kinds.1: fallback does not apply to tag: it applies "
            "to decision",
        ),
        (
            "  - {name: p, severity: error, kinds: [placement], check: {end-date: {within-days: 9}}}\n",
            "reconciler.yaml:6:40: policies.0.kinds.0: end-date does not apply to placement: it "
            "applies to personalized-offer, decision, decision-item",
        ),
        (
            "  - {name: p, severity: error, keys: [offers/a.yaml], check: {required: x}}\n",
            "reconciler.yaml:6:39: policies.0.keys.0: 'offers/a.yaml' never matches a key: a key "
            "is the path under offers/ without the suffix, so write 'a'",
        ),
        (
            "  - {name: p, severity: error, keys: [], check: {required: x}}\n",
            "reconciler.yaml:6:38: policies.0.keys: list at least one key glob, such as '*'",
        ),
        (
            "  - {name: p, severity: error, check: {required: x}}\n"
            "  - {name: p, severity: warning, check: {required: y}}\n",
            "reconciler.yaml:7:12: policies.1.name: 'p' is also the name of policies.0: messages "
            "name policies, so give each its own",
        ),
        (
            "  - {name: ' ', severity: error, check: {required: x}}\n",
            "reconciler.yaml:6:12: policies.0.name: a name is one line of text, such as offers-end",
        ),
        (
            "  - {name: p, severity: error, check: {fallback: false}}\n",
            "reconciler.yaml:6:50: policies.0.check.fallback: expected true, its only value: "
            "remove the check to turn it off (got false)",
        ),
    ],
)
def test_a_wrong_policy_is_a_located_config_error(
    tmp_path: Path, policies: str, message: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        parse(tmp_path, policies)
    assert str(raised.value) == message


def test_a_wrong_policy_fails_validate_with_its_location(tmp_path: Path) -> None:
    done = run(repo(tmp_path, "  - {name: p, severity: error, check: {}}\n"), "validate")
    assert done.exit_code == 1
    assert done.stderr.startswith("Error: reconciler.yaml:6:39: policies.0.check: ")


# --- Adobe's estate-wide guardrails ----------------------------------------------------------

LEGACY = "decision-management-guardrails.md"
DECISIONING = "decisioning-guardrails.md"


def item(attributes: dict[str, Any] | None = None, caps: int = 0) -> dict[str, Any]:
    offeritem: dict[str, Any] = {"lifecycleStatus": "approved"}
    if caps:
        offeritem["frequencyCappingConstraints"] = [{"limit": 1}] * caps
    return {
        "_experience": {"decisioning": {"offeritem": offeritem, "decisionitem": {"itemName": "I"}}},
        **({"_acme": attributes} if attributes is not None else {}),
    }


def offer(caps: list[dict[str, Any]], placements: int = 1) -> dict[str, Any]:
    representations = [{"placement": {"ref": f"placements/{n}"}} for n in range(placements)]
    return {"representations": representations, "frequencyCappingConstraints": caps}


EVERY = {"entity": "placement"}  # a capping rule on every placement of its offer
ONE = {"entity": "offer"}


@pytest.mark.parametrize(
    ("name", "objects", "key", "message"),
    [
        (
            "tags",
            [(f"tags/{n}", Kind.TAG, {}) for n in range(4)],
            "tags/2",
            f"kind: offers/ defines 4 collection qualifiers (tags), more than the 2 a sandbox "
            f"holds ({LEGACY}: Total collection qualifiers); the count passes the limit here, in "
            "key order: remove 2",
        ),
        (
            "live_decisions",
            [
                ("d/a", Kind.DECISION, {"status": "live"}),
                ("d/b", Kind.DECISION, {"status": "draft"}),
                ("d/c", Kind.DECISION, {"status": "live"}),
                ("d/d", Kind.DECISION, {"status": "live"}),
            ],
            "d/d",
            f"status: offers/ defines 3 live decisions, more than the 2 a sandbox holds ({LEGACY}: "
            "Live decisions); the count passes the limit here, in key order: remove 1",
        ),
        (
            "rules_and_formulas",
            [
                ("r/a", Kind.DECISION_RULE, {}),
                ("r/b", Kind.RANKING_FORMULA, {}),
                ("r/c", Kind.ELIGIBILITY_RULE, {}),
            ],
            "r/c",
            "kind: offers/ defines 3 decision rules, eligibility rules and ranking formulas "
            f"together, more than the 2 a sandbox holds ({LEGACY} and {DECISIONING}: Total "
            "decision rules and ranking formulas); the count passes the limit here, in key order: "
            "remove 1",
        ),
        (
            "configurations",
            [
                ("o/a", Kind.PERSONALIZED_OFFER, offer([ONE], placements=3)),
                ("o/b", Kind.PERSONALIZED_OFFER, offer([ONE, EVERY], placements=3)),
            ],
            "o/b",
            "frequencyCappingConstraints[1]: offers/ defines 5 capping configurations (capping "
            "rules times the placements each applies to), more than the 2 a sandbox holds "
            f"({LEGACY}: Configurations); the count passes the limit here, in key order: remove 3",
        ),
        (
            "item_configurations",
            [("i/a", Kind.DECISION_ITEM, item(caps=2)), ("i/b", Kind.DECISION_ITEM, item(caps=1))],
            "i/b",
            "_experience.decisioning.offeritem.frequencyCappingConstraints[0]: offers/ defines 3 "
            "capping rules of decision items, more than the 2 a sandbox holds "
            f"({DECISIONING}: Configurations); the count passes the limit here, in key order: "
            "remove 1",
        ),
        (
            "custom_attributes",
            [
                ("i/a", Kind.DECISION_ITEM, item({"a": 1, "b": {"c": 2}})),
                ("i/b", Kind.DECISION_ITEM, item({"a": 3, "d": 4})),
            ],
            "i/b",
            "_acme.d: offers/ defines 3 distinct custom attributes across the decision items (one "
            f"catalog schema), more than the 2 a sandbox holds ({DECISIONING}: Number of custom "
            "attributes per Offers catalog schema); the count passes the limit here, in key "
            "order: remove 1",
        ),
        (
            "exd_placements",
            [(f"p/{n}", Kind.EXD_PLACEMENT, {}) for n in (3, 1, 2)],
            "p/3",
            f"kind: offers/ defines 3 exd placements, more than the 2 a sandbox holds "
            f"({DECISIONING}: Total Placements); the count passes the limit here, in key order: "
            "remove 1",
        ),
    ],
)
def test_an_estate_guardrail_is_reported_once_where_the_count_passes_it(
    name: str, objects: list[tuple[str, Kind, dict[str, Any]]], key: str, message: str
) -> None:
    limits = {**guardrails.LIMITS, name: 2}
    found = guardrails.estate([(Key(k), kind, body) for k, kind, body in objects], limits)
    assert [(found_key, issue.message) for found_key, issue in found] == [(key, message)]


@pytest.mark.parametrize("name", sorted(guardrails.LIMITS))
def test_every_guardrail_holds_at_its_limit_and_names_its_page(name: str) -> None:
    rail = next(rail for rail in guardrails.GUARDRAILS if rail.name == name)
    kind = sorted(rail.kinds, key=lambda k: k.value)[0]
    body = (
        item({"a": 1}, caps=1)
        if kind is Kind.DECISION_ITEM
        else {"status": "live", **offer([EVERY])}
    )
    limits = {**guardrails.LIMITS, name: 1}
    distinct = name == "custom_attributes"  # two items with the same attribute count it once
    bodies = [item({"a": 1}), item({"b": 1})] if distinct else [body, body]
    objects = [(Key(f"k/{n}"), kind, b) for n, b in enumerate(bodies)]
    assert guardrails.estate(objects[:1], limits) == []
    (found,) = guardrails.estate(objects, limits)
    assert LEGACY in found[1].message or DECISIONING in found[1].message


def test_one_item_over_the_attribute_limit_alone_is_reported_by_its_own_rule() -> None:
    limits = {**guardrails.LIMITS, "custom_attributes": 2}
    one = [(Key("i/a"), Kind.DECISION_ITEM, item({"a": 1, "b": 2, "c": 3}))]
    assert guardrails.estate(one, limits) == []


def test_a_real_limit_end_to_end_1001_tags(tmp_path: Path) -> None:
    started = time.monotonic()
    folder = tmp_path / "offers" / "tags"
    folder.mkdir(parents=True)
    for n in range(1001):
        (folder / f"t{n:04}.yaml").write_text(f"kind: tag\nname: T{n}\n")
    with pytest.raises(InvalidDocuments) as raised:
        documents.load(tmp_path)
    assert [str(problem) for problem in raised.value.problems] == [
        "offers/tags/t1000.yaml:1:7: kind: offers/ defines 1,001 collection qualifiers (tags), "
        f"more than the 1,000 a sandbox holds ({LEGACY}: Total collection qualifiers); the count "
        "passes the limit here, in key order: remove 1"
    ]
    (folder / "t1000.yaml").unlink()
    assert len(documents.load(tmp_path)) == 1000
    assert time.monotonic() - started < 2


# --- per-definition guardrails name their page ------------------------------------------------


def test_an_offer_over_300_kb_is_refused_with_both_pages() -> None:
    body = {
        "kind": "fallback-offer",
        "name": "Big",
        "status": "approved",
        "representations": [
            {
                "channel": "https://ns.adobe.com/xdm/channel-types/web",
                "placement": "dps:placement:1",
                "components": [{"type": "html", "format": "text/html", "content": "x" * 310_000}],
            }
        ],
    }
    (issue,) = schema.check(Kind.FALLBACK_OFFER, body)
    assert issue.location == ("representations",)
    assert issue.message.startswith(
        "representations: an offer with all its representations holds at most 307200 bytes of "
        f"JSON (300 KB, creating-personalized-offers.md; the 1 KB of {LEGACY} contradicts it and "
        "is left to Adobe), found 310"
    )


def test_a_decision_item_holds_at_most_10_capping_rules() -> None:
    cap = {"limit": 1, "scope": "global", "entity": "offer"}
    body = {"kind": "decision-item", **item()}
    body["_experience"]["decisioning"]["decisionitem"] = {"itemName": "I", "itemPriority": 0}
    body["_experience"]["decisioning"]["offeritem"]["frequencyCappingConstraints"] = [cap] * 11
    (issue,) = schema.check(Kind.DECISION_ITEM, body)
    assert issue.message == (
        "_experience.decisioning.offeritem.frequencyCappingConstraints: at most 10 capping rules "
        f"per item ({DECISIONING}), found 11: remove 1"
    )


def test_validate_reads_only_the_policies_so_it_needs_no_environment(tmp_path: Path) -> None:
    root = repo(tmp_path, None)
    (root / "reconciler.yaml").write_text(
        "default: prod\nsandboxes:\n  prod:\n"
        "    endpoint: https://platform.adobe.io/data/core/dps\n"
        "    ims: https://ims-na1.adobelogin.com/ims/token/v3\n"  # org: from ADOBE_ORG_ID
        "policies:\n" + policy("{range: {field: rank.priority, max: 40}}")
    )
    done = CliRunner().invoke(cli, ["-C", str(root), "validate"], env={"ADOBE_ORG_ID": None})
    assert (done.exit_code, done.stdout) == (
        1,
        f"{SALE}:14:18: rank.priority: 50 is above the maximum 40 (policy p)\n",
    )
    assert [line.split("\t")[0] for line in run(root, "policies").stdout.splitlines()] == ["p"]


def test_policies_that_are_not_a_list_fail_validate_located(tmp_path: Path) -> None:
    root = repo(tmp_path, None)
    (root / "reconciler.yaml").write_text(CONFIG + "policies: {name: p}\n")
    done = run(root, "validate")
    assert (done.exit_code, done.stderr) == (
        1,
        "Error: reconciler.yaml:5:11: policies: expected a list of policies, each a mapping such "
        "as {name: offers-end, severity: error, check: {end-date: {within-days: 120}}} "
        "(got a mapping)\n",
    )


def test_a_policy_holds_in_every_sandbox_s_body_overrides_included(tmp_path: Path) -> None:
    """Found by the hostile test: an override could carry a value past a policy."""
    root = tmp_path / "repo"
    (root / "offers" / "tags").mkdir(parents=True)
    (root / "reconciler.yaml").write_text(
        "default: dev\nsandboxes:\n  dev:\n    endpoint: embedded\n  prod:\n    endpoint: embedded\n"
        "policies:\n  - name: short-names\n    severity: error\n    kinds: [tag]\n"
        "    check: {name-matches: '^.{1,5}$'}\n"
    )
    (root / "offers" / "tags" / "t.yaml").write_text(
        "kind: tag\nname: Tag\noverrides:\n  prod: {name: A much longer name}\n"
    )
    done = CliRunner().invoke(cli, ["-C", str(root), "validate"])
    assert (done.exit_code, done.output.splitlines()[0]) == (
        1,
        'offers/tags/t.yaml:2:7: in sandbox prod: name: "A much longer name" does not match '
        "^.{1,5}$ (policy short-names)",
    )


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (
            "protect: decisions/*\n",
            "Error: reconciler.yaml:8:10: protect: expected a list of key globs, such as "
            '[decisions/*, placements/web-banner] (got "decisions/*")',
        ),
        (
            "promotion: [qa]\n",
            "Error: reconciler.yaml:8:13: promotion: 'qa' is not one of the sandboxes (dev, prod): "
            "fix its spelling or add it under sandboxes:",
        ),
    ],
)
def test_validate_checks_the_whole_config_offline(
    tmp_path: Path, extra: str, expected: str
) -> None:
    """Found by the hostile test: a broken protect: or promotion: passed validate and failed
    only the apply after the merge. No org id is needed to check the file."""
    root = tmp_path / "repo"
    (root / "offers").mkdir(parents=True)
    (root / "reconciler.yaml").write_text(
        "default: dev\nsandboxes:\n  dev:\n    endpoint: embedded\n"
        "  prod:\n    endpoint: https://platform.adobe.io/data/core/dps\n"
        "    ims: https://ims-na1.adobelogin.com/ims/token/v3\n" + extra
    )
    (root / "offers" / "t.yaml").write_text("kind: tag\nname: T\n")
    done = CliRunner().invoke(cli, ["-C", str(root), "validate"], env={"ADOBE_ORG_ID": ""})
    assert (done.exit_code, done.output.strip().splitlines()[-1]) == (1, expected)
