"""Decisioning definitions: Adobe's create bodies paste in; mistakes are located and explained."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from test_documents import problems, write

from reconciler import documents
from reconciler.model import Key, Kind, Ref

EXAMPLES = Path(__file__).resolve().parent / "adobe-examples"  # vendored from conformance/
CREATE_PAGES = {
    Kind.RANKING_FORMULA: "ranking-formulas-create.json",
    Kind.ELIGIBILITY_RULE: "eligibility-rules-create.json",
    Kind.DECISION_ITEM: "decisions-items-create.json",
    Kind.ITEM_COLLECTION: "items-collections-create.json",
    Kind.SELECTION_STRATEGY: "selection-strategies-create.json",
    Kind.EXD_PLACEMENT: "exd-placements-create.json",
}


def adobe_body(kind: Kind) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(
        (EXAMPLES / "decisioning" / CREATE_PAGES[kind]).read_text(encoding="utf-8")
    )["body"]
    if kind is Kind.DECISION_ITEM:  # the page's placeholder, substituted as the page says
        body["_acme"] = body.pop("_<imsOrg>")
    return body


def yaml_of(kind: Kind, body: dict[str, Any]) -> str:
    # The page's JSON as it is, with kind: in front (JSON is YAML).
    return json.dumps({"kind": kind.value, **body}, indent=2) + "\n"


@pytest.mark.parametrize("kind", list(CREATE_PAGES))
def test_every_create_body_of_adobe_s_decisioning_pages_pastes_in(
    kind: Kind, tmp_path: Path
) -> None:
    loaded = documents.load(write(tmp_path, {"pasted.yaml": yaml_of(kind, adobe_body(kind))}))
    assert [(item.key, item.kind) for item in loaded] == [(Key("pasted"), kind)]


def test_a_pasted_ui_model_text_becomes_structure_and_exd_rule_is_implied(tmp_path: Path) -> None:
    files = {
        "c.yaml": yaml_of(Kind.ITEM_COLLECTION, adobe_body(Kind.ITEM_COLLECTION)),
        "r.yaml": "kind: eligibility-rule\nname: R\ncondition: {type: PQL, format: pql/text, value: 'true'}\n",
    }
    loaded = {item.key: item.body for item in documents.load(write(tmp_path, files))}
    assert loaded[Key("c")]["constraints"] == [
        {
            "itemCatalogId": "itemCatalog1234",
            "uiModel": {
                "operator": "equals",
                "value": {
                    "left": "_experience.decisioning.decisionitem.itemName",
                    "right": "Some offer item",
                },
            },
        }
    ]
    assert loaded[Key("r")] == {
        "exdRule": True,
        "name": "R",
        "condition": {"type": "PQL", "format": "pql/text", "value": "true"},
    }


ITEM = """\
kind: decision-item
_experience:
  decisioning:
    offeritem:
      lifecycleStatus: approved
    decisionitem:
      itemName: Coat
      itemPriority: 1
      itemConstraints:
        profileConstraintType: eligibilityRule
        eligibilityRule: {ref: rules/winter}
"""


def test_references_of_decisioning_kinds_are_typed_and_checked(tmp_path: Path) -> None:
    rule = (
        "kind: eligibility-rule\nname: W\ncondition: {type: PQL, format: pql/text, value: 'true'}\n"
    )
    loaded = {
        item.key: item.body
        for item in documents.load(
            write(tmp_path, {"items/coat.yaml": ITEM, "rules/winter.yaml": rule})
        )
    }
    constraints = loaded[Key("items/coat")]["_experience"]["decisioning"]["decisionitem"]  # type: ignore[index]
    assert constraints["itemConstraints"] == {  # type: ignore[index]
        "profileConstraintType": "eligibilityRule",
        "eligibilityRule": Ref(Key("rules/winter")),
    }
    legacy = (
        "kind: decision-rule\nname: W\ncondition: {type: PQL, format: pql/text, value: 'true'}\n"
    )
    assert problems(tmp_path / "wrong", {"items/coat.yaml": ITEM, "rules/winter.yaml": legacy}) == [
        "offers/items/coat.yaml:11:26: _experience.decisioning.decisionitem.itemConstraints"
        ".eligibilityRule: rules/winter is a decision-rule, but this field takes an "
        "eligibility-rule: reference an eligibility-rule"
    ]


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (
            {
                "i.yaml": ITEM.replace("      itemPriority: 1\n", "")
                + "_acme: {a: 1}\n_beta: {b: 2}\n"
            },
            [
                "offers/i.yaml:7:7: _experience.decisioning.decisionitem.itemPriority: required "
                "field is missing: add it",
                "offers/i.yaml:10:26: _experience.decisioning.decisionitem.itemConstraints"
                ".eligibilityRule: no file defines the key rules/winter: fix the key or add "
                "offers/rules/winter.yaml",
                "offers/i.yaml:12:1: _beta: a second tenant namespace (_acme is the first): a "
                "catalog has one; move the attributes under one of them",
            ],
        ),
        (
            {
                "s.yaml": "kind: selection-strategy\nname: S\nrank:\n  order:\n    orderEvaluationType: scoringFunction\noptionSelection: {filter: x}\n"
            },
            [
                "offers/s.yaml:4:3: rank.priority: required field is missing: add it",
                "offers/s.yaml:5:5: rank.order.function: required when orderEvaluationType is "
                "scoringFunction: add {ref: <ranking formula key>} or a formula id",
            ],
        ),
        (
            {"c.yaml": "kind: item-collection\nname: C\nconstraints:\n  - uiModel: '[1'\n"},
            [
                "offers/c.yaml:4:14: constraints[0].uiModel: is not JSON (Expecting ',' delimiter: "
                "line 1 column 3 (char 2)): write the rule as a YAML mapping, such as {operator: "
                "equals, value: {left: _experience.decisioning.decisionitem.itemName, right: My item}}"
            ],
        ),
        (
            {
                "f.yaml": "kind: ranking-formula\nname: F\nreturnType: {type: Integer}\nexpression: {type: PQL, format: pql/text, value: '"
                + "1+" * 4200
                + "1'}\n"
            },
            [
                "offers/f.yaml:3:20: returnType.type: expected one of: integer, number, boolean, "
                'string, INTEGER, NUMBER, BOOLEAN, STRING (got "Integer")',
                "offers/f.yaml:4:50: expression.value: a ranking formula holds at most 8192 bytes of "
                "PQL (decisioning-guardrails.md), found 8401: shorten it",
            ],
        ),
        (
            {
                "r.yaml": "kind: eligibility-rule\nexdRule: false\nname: R\ncondition: {type: PQL, format: pql/text, value: x}\n"
            },
            ["offers/r.yaml:2:10: exdRule: expected one of: True (got false)"],
        ),
    ],
)
def test_decisioning_mistakes_are_located_and_say_what_to_do(
    files: dict[str, str], expected: list[str], tmp_path: Path
) -> None:
    assert problems(tmp_path, files) == expected


def test_a_catalog_holds_at_most_100_custom_attributes(tmp_path: Path) -> None:
    attributes = "".join(f"  a{n}: {n}\n" for n in range(101))
    # The item without its rule reference, with 101 attributes.
    files = {"i.yaml": ITEM.split("      itemConstraints:")[0] + "_acme:\n" + attributes}
    assert problems(tmp_path, files) == [
        "offers/i.yaml:9:1: _acme: at most 100 custom attributes per catalog "
        "(decisioning-guardrails.md), found 101: remove 1"
    ]


@pytest.mark.parametrize(
    ("attributes", "expected"),
    [
        (
            "{1: a, b: 2}",
            "offers/i.yaml:6:9: _acme: the key 1 must be text: put it in quotes",
        ),
        (
            "{b: .nan}",
            "offers/i.yaml:6:12: _acme.b: nan is not a number JSON can hold: give a finite one",
        ),
        (
            "{b: 1e400}",
            "offers/i.yaml:6:12: _acme.b: inf is not a number JSON can hold: give a finite one",
        ),
    ],
)
def test_free_form_values_still_hold_only_what_json_can(
    attributes: str, expected: str, tmp_path: Path
) -> None:
    item = (
        "kind: decision-item\n_experience:\n  decisioning:\n    offeritem: {lifecycleStatus: draft}\n"
        "    decisionitem: {itemName: I, itemPriority: 1}\n"
    )
    assert problems(tmp_path, {"i.yaml": item + f"_acme: {attributes}\n"}) == [expected]


def test_a_key_json_cannot_hold_does_not_hide_the_file_s_other_problems(tmp_path: Path) -> None:
    """Found in the second review: the first such key stopped every other check."""
    assert problems(tmp_path, {"t.yaml": "kind: tag\nname: 5\n1: x\n"}) == [
        "offers/t.yaml:2:7: name: expected text: put the value in quotes (got 5)",
        "offers/t.yaml:3:1: the top level: the key 1 must be text: put it in quotes",
    ]
