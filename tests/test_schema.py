"""schema.py: the models of each kind, the rules across fields, and the JSON Schema editors use."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from reconciler import rules, schema
from reconciler.model import Kind
from reconciler.schema import Anchor, Issue

ROOT = Path(__file__).resolve().parent.parent
WEB = "https://ns.adobe.com/xdm/channel-types/web"
KINDS = (
    "tag, placement, decision-rule, personalized-offer, fallback-offer, collection, decision, "
    "ranking-formula, eligibility-rule, decision-item, item-collection, selection-strategy, "
    "exd-placement"
)


def representation(placement: object = "offerPlacement1234") -> dict[str, Any]:
    return {
        "channel": WEB,
        "placement": placement,
        "components": [{"type": "html", "format": "text/html", "content": "<p>Hi</p>"}],
    }


def offer(**fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "personalized-offer",
        "name": "Offer",
        "status": "approved",
        "representations": [representation()],
        "selectionConstraint": {"profileConstraintType": "none"},
    }
    return {**body, **fields}


def fallback(**fields: Any) -> dict[str, Any]:
    body = {k: v for k, v in offer().items() if k != "selectionConstraint"}
    return {**body, "kind": "fallback-offer", **fields}


def decision(**fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "decision",
        "name": "Decision",
        "status": "live",
        "fallback": "fallbackOffer1234",
        "criteria": [
            {"placements": ["offerPlacement1234"], "optionSelection": {"filter": "coll1"}}
        ],
    }
    return {**body, **fields}


MINIMAL: dict[Kind, dict[str, Any]] = {
    Kind.TAG: {"kind": "tag", "name": "Black Friday"},
    Kind.PLACEMENT: {"kind": "placement", "name": "P", "componentType": "html", "channel": WEB},
    Kind.DECISION_RULE: {
        "kind": "decision-rule",
        "name": "R",
        "condition": {"type": "PQL", "format": "pql/text", "value": "true"},
    },
    Kind.PERSONALIZED_OFFER: offer(),
    Kind.FALLBACK_OFFER: fallback(),
    Kind.COLLECTION: {"kind": "collection", "name": "C", "filterType": "any-tags", "ids": []},
    Kind.DECISION: decision(),
    Kind.RANKING_FORMULA: {
        "kind": "ranking-formula",
        "name": "F",
        "returnType": {"type": "integer"},
        "expression": {"type": "PQL", "format": "pql/text", "value": "1"},
    },
    Kind.ELIGIBILITY_RULE: {
        "kind": "eligibility-rule",
        "name": "E",
        "condition": {"type": "PQL", "format": "pql/text", "value": "true"},
    },
    Kind.DECISION_ITEM: {
        "kind": "decision-item",
        "_experience": {
            "decisioning": {
                "offeritem": {"lifecycleStatus": "draft"},
                "decisionitem": {"itemName": "I", "itemPriority": 0},
            }
        },
    },
    Kind.ITEM_COLLECTION: {
        "kind": "item-collection",
        "name": "IC",
        "constraints": [{"uiModel": {"operator": "exists", "value": {"left": "x"}}}],
    },
    Kind.SELECTION_STRATEGY: {
        "kind": "selection-strategy",
        "name": "S",
        "optionSelection": {"filter": {"ref": "collections/ic"}},
    },
    Kind.EXD_PLACEMENT: {"kind": "exd-placement", "name": "X", "channel": WEB},
}


@pytest.mark.parametrize("kind", list(Kind))
def test_a_minimal_body_of_every_kind_is_valid(kind: Kind) -> None:
    assert schema.check(kind, MINIMAL[kind]) == ()


@pytest.mark.parametrize(
    ("kind", "field", "location"),
    [
        (Kind.TAG, "name", ("name",)),
        (Kind.PLACEMENT, "componentType", ("componentType",)),
        (Kind.PLACEMENT, "channel", ("channel",)),
        (Kind.DECISION_RULE, "condition", ("condition",)),
        (Kind.PERSONALIZED_OFFER, "status", ("status",)),
        (Kind.PERSONALIZED_OFFER, "representations", ("representations",)),
        (Kind.PERSONALIZED_OFFER, "selectionConstraint", ("selectionConstraint",)),
        (Kind.FALLBACK_OFFER, "status", ("status",)),
        (Kind.FALLBACK_OFFER, "representations", ("representations",)),
        (Kind.COLLECTION, "filterType", ("filterType",)),
        (Kind.COLLECTION, "ids", ("ids",)),
        (Kind.DECISION, "status", ("status",)),
        (Kind.DECISION, "fallback", ("fallback",)),
        (Kind.DECISION, "criteria", ("criteria",)),
    ],
)
def test_a_missing_required_field_points_at_its_mapping(
    kind: Kind, field: str, location: tuple[str, ...]
) -> None:
    body = {name: value for name, value in MINIMAL[kind].items() if name != field}
    assert schema.check(kind, body) == (
        Issue(location, f"{field}: required field is missing: add it", Anchor.PARENT),
    )


@pytest.mark.parametrize(
    ("kind", "body", "expected"),
    [
        (
            Kind.PERSONALIZED_OFFER,
            offer(status="aproved"),
            Issue(
                ("status",), 'status: expected one of: draft, approved, archived (got "aproved")'
            ),
        ),
        (
            Kind.DECISION,
            decision(status="approved"),
            Issue(("status",), 'status: expected one of: draft, live, archived (got "approved")'),
        ),
        (
            Kind.COLLECTION,
            {**MINIMAL[Kind.COLLECTION], "filterType": "anyTags"},
            Issue(
                ("filterType",),
                'filterType: expected one of: offers, any-tags, all-tags (got "anyTags")',
            ),
        ),
        (
            Kind.PERSONALIZED_OFFER,
            offer(selectionConstraint={"profileConstraintType": "rules"}),
            Issue(
                ("selectionConstraint", "profileConstraintType"),
                "selectionConstraint.profileConstraintType: expected one of: none, "
                'eligibilityRule, anySegments, allSegments (got "rules")',
            ),
        ),
        (
            Kind.PERSONALIZED_OFFER,
            offer(frequencyCappingConstraints=[{"limit": 1, "scope": "user", "entity": "offer"}]),
            Issue(
                ("frequencyCappingConstraints", 0, "scope"),
                'frequencyCappingConstraints[0].scope: expected one of: global, profile (got "user")',
            ),
        ),
        (
            Kind.PERSONALIZED_OFFER,
            offer(frequencyCappingConstraints=[{"limit": 1, "scope": "global", "entity": "tag"}]),
            Issue(
                ("frequencyCappingConstraints", 0, "entity"),
                'frequencyCappingConstraints[0].entity: expected one of: offer, placement (got "tag")',
            ),
        ),
        (
            Kind.PERSONALIZED_OFFER,
            offer(
                frequencyCappingConstraints=[
                    {"limit": 1, "scope": "global", "entity": "offer", "repeat": {"unit": "year"}}
                ]
            ),
            Issue(
                ("frequencyCappingConstraints", 0, "repeat", "unit"),
                "frequencyCappingConstraints[0].repeat.unit: expected one of: day, week, month "
                '(got "year")',
            ),
        ),
        (
            Kind.PLACEMENT,
            {**MINIMAL[Kind.PLACEMENT], "componentType": "image"},
            Issue(
                ("componentType",),
                'componentType: expected one of: html, text, imagelink, json (got "image")',
            ),
        ),
        (
            Kind.PERSONALIZED_OFFER,
            offer(
                representations=[
                    {
                        "channel": WEB,
                        "placement": "p1",
                        "components": [{"type": "xml", "format": "text/xml"}],
                    }
                ]
            ),
            Issue(
                ("representations", 0, "components", 0, "type"),
                "representations[0].components[0].type: expected one of: html, text, imagelink, "
                'json, component-text (got "xml")',
            ),
        ),
    ],
)
def test_an_enum_value_lists_the_values_allowed(
    kind: Kind, body: dict[str, Any], expected: Issue
) -> None:
    assert schema.check(kind, body) == (expected,)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (True, "rank.priority: expected a whole number without quotes (got true)"),
        ("1", 'rank.priority: expected a whole number without quotes (got "1")'),
        (1.0, "rank.priority: expected a whole number without quotes (got 1.0)"),
        (-1, "rank.priority: expected a number >= 0 (got -1)"),
        ([1], "rank.priority: expected a whole number without quotes (got a list)"),
    ],
)
def test_rank_priority_is_a_strict_whole_number(value: object, message: str) -> None:
    assert schema.check(Kind.PERSONALIZED_OFFER, offer(rank={"priority": value})) == (
        Issue(("rank", "priority"), message),
    )


@pytest.mark.parametrize(
    ("kind", "body", "expected"),
    [
        (
            Kind.PLACEMENT,
            {**MINIMAL[Kind.PLACEMENT], "returnContent": "yes"},
            Issue(("returnContent",), 'returnContent: expected true or false (got "yes")'),
        ),
        (
            Kind.PLACEMENT,
            {**MINIMAL[Kind.PLACEMENT], "itemCount": 0},
            Issue(("itemCount",), "itemCount: expected a number >= 1 (got 0)"),
        ),
        (
            Kind.PLACEMENT,
            {**MINIMAL[Kind.PLACEMENT], "itemCount": 31},
            Issue(
                ("itemCount",),
                "itemCount: expected a number <= 30 (got 31): a decision scope returns at most "
                "30 offers (decision-management-guardrails.md)",
            ),
        ),
        (
            Kind.PLACEMENT,
            {**MINIMAL[Kind.PLACEMENT], "channel": "web"},
            Issue(
                ("channel",),
                "channel: expected a channel URI such as https://ns.adobe.com/xdm/channel-types/web "
                '(got "web")',
            ),
        ),
        (
            Kind.TAG,
            {"kind": "tag", "name": "  "},
            Issue(("name",), 'name: must not be blank (got "  ")'),
        ),
        (
            Kind.TAG,
            {"kind": "tag", "name": ""},
            Issue(("name",), 'name: must not be empty (got "")'),
        ),
        (
            Kind.TAG,
            {"kind": "tag", "name": 2027},
            Issue(("name",), "name: expected text: put the value in quotes (got 2027)"),
        ),
        (
            Kind.TAG,
            {"kind": "tag", "name": {"en": "x"}},
            Issue(("name",), "name: expected text (got a mapping)"),
        ),
        (
            Kind.PERSONALIZED_OFFER,
            offer(characteristics={"sku": 7}),
            Issue(
                ("characteristics", "sku"),
                "characteristics.sku: expected text: put the value in quotes (got 7)",
            ),
        ),
        (
            Kind.PERSONALIZED_OFFER,
            offer(characteristics={1: "x"}),
            Issue(
                ("characteristics", 1),
                "characteristics: the key 1 must be text: put it in quotes",
                Anchor.KEY,
            ),
        ),
        (
            Kind.PERSONALIZED_OFFER,
            offer(labels="core/C1"),
            Issue(("labels",), 'labels: expected a list (got "core/C1")'),
        ),
        (
            Kind.PERSONALIZED_OFFER,
            offer(rank=[0]),
            Issue(("rank",), "rank: expected a mapping of fields (got a list)"),
        ),
        (
            Kind.PERSONALIZED_OFFER,
            offer(representations=[]),
            Issue(("representations",), "representations: needs at least 1 item, found 0: add one"),
        ),
        (
            Kind.PERSONALIZED_OFFER,
            offer(
                representations=[
                    {**representation(), "components": [{"type": "html", "format": "html"}]}
                ]
            ),
            Issue(
                ("representations", 0, "components", 0, "format"),
                "representations[0].components[0].format: expected a media type such as "
                'text/html, text/plain or image/png (got "html")',
            ),
        ),
        (
            Kind.PERSONALIZED_OFFER,
            offer(frequencyCappingConstraints=[{"limit": 0, "scope": "global", "entity": "offer"}]),
            Issue(
                ("frequencyCappingConstraints", 0, "limit"),
                "frequencyCappingConstraints[0].limit: expected a number >= 1 (got 0)",
            ),
        ),
        (
            Kind.DECISION_RULE,
            {**MINIMAL[Kind.DECISION_RULE], "condition": {"type": "PQL", "format": "pql/text"}},
            Issue(
                ("condition", "value"),
                "condition.value: required field is missing: add it",
                Anchor.PARENT,
            ),
        ),
    ],
)
def test_a_wrong_value_names_the_field_and_what_is_expected(
    kind: Kind, body: dict[str, Any], expected: Issue
) -> None:
    assert schema.check(kind, body) == (expected,)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2027-06-01T00:00:00Z", ()),
        ("2027-06-01T00:00:00.000+00:00", ()),
        ("2027-06-01T00:00:00.123456789-05:30", ()),
        (
            "2027-06-01",
            'expected an RFC 3339 date-time with a time zone, such as "2027-06-01T00:00:00.000Z" (got "2027-06-01")',
        ),
        (
            "2027-06-01T00:00:00",
            'expected an RFC 3339 date-time with a time zone, such as "2027-06-01T00:00:00.000Z" (got "2027-06-01T00:00:00")',
        ),
        (
            "2027-02-30T00:00:00Z",
            'expected an RFC 3339 date-time with a time zone, such as "2027-06-01T00:00:00.000Z" (got "2027-02-30T00:00:00Z")',
        ),
        (
            "tomorrow",
            'expected an RFC 3339 date-time with a time zone, such as "2027-06-01T00:00:00.000Z" (got "tomorrow")',
        ),
    ],
)
def test_dates_are_rfc_3339_date_times_kept_as_text(value: str, expected: object) -> None:
    issues = schema.check(Kind.DECISION, decision(startDate=value))
    if expected == ():
        assert issues == ()
    else:
        assert issues == (Issue(("startDate",), f"startDate: {expected}"),)


@pytest.mark.parametrize(
    ("start", "end", "valid"),
    [
        ("2027-06-01T00:00:00Z", "2027-06-02T00:00:00Z", True),
        ("2027-06-01T00:00:00Z", "2027-06-01T00:00:00Z", False),
        ("2027-06-02T00:00:00Z", "2027-06-01T00:00:00Z", False),
        # Compared as instants, not as text: 02:00+02:00 is midnight UTC.
        ("2027-06-01T02:00:00+02:00", "2027-06-01T00:30:00Z", True),
        ("2027-06-01T00:30:00Z", "2027-06-01T02:00:00+02:00", False),
    ],
)
def test_end_date_comes_after_start_date_everywhere(start: str, end: str, valid: bool) -> None:
    window = {"startDate": start, "endDate": end}
    cases = [
        (Kind.DECISION, decision(**window), ("endDate",)),
        (
            Kind.PERSONALIZED_OFFER,
            offer(selectionConstraint={**window, "profileConstraintType": "none"}),
            ("selectionConstraint", "endDate"),
        ),
        (
            Kind.PERSONALIZED_OFFER,
            offer(
                frequencyCappingConstraints=[
                    {**window, "limit": 1, "scope": "global", "entity": "offer"}
                ]
            ),
            ("frequencyCappingConstraints", 0, "endDate"),
        ),
    ]
    for kind, body, location in cases:
        expected = (
            ()
            if valid
            else (
                Issue(
                    location,
                    f"{rules.dotted(location)}: {end} is not after startDate {start}: "
                    "the end must come after the start",
                ),
            )
        )
        assert schema.check(kind, body) == expected


def test_one_representation_per_placement_reported_at_the_second() -> None:
    body = offer(
        representations=[
            representation({"ref": "web"}),
            representation("offerPlacement1"),
            representation({"ref": "web"}),
        ]
    )
    assert schema.check(Kind.PERSONALIZED_OFFER, body) == (
        Issue(
            ("representations", 2, "placement"),
            "representations[2].placement: a second representation for the placement of "
            "representations[0]: an offer has one representation per placement: merge them",
        ),
    )


def cap(index: int) -> dict[str, Any]:
    return {"limit": index + 1, "scope": "profile", "entity": "offer"}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (offer(frequencyCappingConstraints=[cap(i) for i in range(10)]), ()),
        (
            offer(frequencyCappingConstraints=[cap(i) for i in range(12)]),
            (
                Issue(
                    ("frequencyCappingConstraints", 10),
                    "frequencyCappingConstraints: at most 10 frequency caps are allowed "
                    "(decision-management-guardrails.md), found 12: "
                    "remove 2",
                ),
            ),
        ),
        (offer(tags=[f"tag{i}" for i in range(20)]), ()),
        (
            offer(tags=[f"tag{i}" for i in range(21)]),
            (
                Issue(
                    ("tags", 20),
                    "tags: at most 20 tags are allowed (decision-management-guardrails.md), "
                    "found 21: remove 1",
                ),
            ),
        ),
        (
            offer(tags=["tag1", {"ref": "tags/a"}, "tag1", {"ref": "tags/a"}]),
            (
                Issue(("tags", 2), "tags[2]: the same tag as tags[0]: list it once"),
                Issue(("tags", 3), "tags[3]: the same tag as tags[1]: list it once"),
            ),
        ),
        (offer(characteristics={f"k{i}": "v" for i in range(30)}), ()),
        (
            offer(characteristics={f"k{i}": "v" for i in range(31)}),
            (
                Issue(
                    ("characteristics", "k30"),
                    "characteristics: at most 30 characteristics are allowed "
                    "(decision-management-guardrails.md), found 31: remove 1",
                    Anchor.KEY,
                ),
            ),
        ),
    ],
)
def test_guardrails_of_an_offer(body: dict[str, Any], expected: tuple[Issue, ...]) -> None:
    assert schema.check(Kind.PERSONALIZED_OFFER, body) == expected


def test_every_item_is_checked_even_past_a_guardrail() -> None:
    caps = [{**cap(i), "limit": 0} if i in (3, 11) else cap(i) for i in range(12)]
    assert schema.check(Kind.PERSONALIZED_OFFER, offer(frequencyCappingConstraints=caps)) == (
        Issue(
            ("frequencyCappingConstraints", 3, "limit"),
            "frequencyCappingConstraints[3].limit: expected a number >= 1 (got 0)",
        ),
        Issue(
            ("frequencyCappingConstraints", 11, "limit"),
            "frequencyCappingConstraints[11].limit: expected a number >= 1 (got 0)",
        ),
        Issue(
            ("frequencyCappingConstraints", 10),
            "frequencyCappingConstraints: at most 10 frequency caps are allowed "
            "(decision-management-guardrails.md), found 12: remove 2",
        ),
    )


@pytest.mark.parametrize(
    ("constraint", "expected"),
    [
        ({"profileConstraintType": "eligibilityRule", "eligibilityRule": {"ref": "rules/a"}}, ()),
        (
            {"profileConstraintType": "eligibilityRule"},
            (
                Issue(
                    ("selectionConstraint", "eligibilityRule"),
                    "selectionConstraint.eligibilityRule: required when profileConstraintType is "
                    "eligibilityRule: add {ref: <rule key>} or a rule id",
                    Anchor.PARENT,
                ),
            ),
        ),
        (
            {"profileConstraintType": "none", "eligibilityRule": "offerRule1234"},
            (
                Issue(
                    ("selectionConstraint", "eligibilityRule"),
                    "selectionConstraint.eligibilityRule: only used when profileConstraintType is "
                    "eligibilityRule (it is none): remove it or change profileConstraintType",
                    Anchor.KEY,
                ),
            ),
        ),
        (
            {"profileConstraintType": "anySegments"},
            (
                Issue(
                    ("selectionConstraint", "segmentIdentities"),
                    "selectionConstraint.segmentIdentities: required when profileConstraintType is "
                    "anySegments: list the audiences as {_id: ..., namespace: {code: ...}}",
                    Anchor.PARENT,
                ),
            ),
        ),
        (
            {
                "profileConstraintType": "allSegments",
                "segmentIdentities": [{"_id": "849807b6", "namespace": {"code": "ups"}}],
            },
            (),
        ),
    ],
)
def test_the_profile_constraint_type_decides_what_goes_with_it(
    constraint: dict[str, Any], expected: tuple[Issue, ...]
) -> None:
    assert schema.check(Kind.PERSONALIZED_OFFER, offer(selectionConstraint=constraint)) == expected


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ("selectionConstraint", "selection constraint (dates and eligibility)"),
        ("rank", "rank"),
        ("cappingConstraint", "capping"),
        ("frequencyCappingConstraints", "frequency capping"),
    ],
)
def test_a_fallback_offer_refuses_constraints_and_says_why(field: str, message: str) -> None:
    body = fallback(
        **{
            field: offer(
                rank={"priority": 1}, cappingConstraint={}, frequencyCappingConstraints=[]
            ).get(field)
        }
    )
    assert schema.check(Kind.FALLBACK_OFFER, body) == (
        Issue(
            (field,),
            f"{field}: a fallback offer has no {message}: remove it (Adobe's fallback example "
            "sends one, but fallback offers are never constrained)",
            Anchor.KEY,
        ),
    )


def test_rules_of_a_decision() -> None:
    body = decision(
        criteria=[
            {
                "placements": [{"ref": "p/web"}, "offerPlacement1", {"ref": "p/web"}],
                "rank": {"priority": 1, "order": {"orderEvaluationType": "scoringFunction"}},
                "profileConstraint": {"profileConstraintType": "eligibilityRule"},
                "optionSelection": {"filter": {"ref": "c/summer"}},
            },
        ]
    )
    assert schema.check(Kind.DECISION, body) == (
        Issue(
            ("criteria", 0, "placements", 2),
            "criteria[0].placements[2]: the same placement as criteria[0].placements[0]: "
            "list it once",
        ),
        Issue(
            ("criteria", 0, "profileConstraint", "eligibilityRule"),
            "criteria[0].profileConstraint.eligibilityRule: required when profileConstraintType "
            "is eligibilityRule: add {ref: <rule key>} or a rule id",
            Anchor.PARENT,
        ),
        Issue(
            ("criteria", 0, "rank", "order", "function"),
            "criteria[0].rank.order.function: required when orderEvaluationType is "
            "scoringFunction: add it",
            Anchor.PARENT,
        ),
    )


def test_a_decision_uses_at_most_30_placements_and_30_collections() -> None:
    criteria = [
        {"placements": [f"p{i}", f"p{i + 100}"], "optionSelection": {"filter": f"c{i}"}}
        for i in range(31)
    ]
    assert schema.check(Kind.DECISION, decision(criteria=criteria)) == (
        Issue(
            ("criteria", 15, "placements", 0),
            "criteria[15].placements[0]: a decision uses at most 30 placements "
            "(decision-management-guardrails.md), found 62: "
            "split the decision",
        ),
        Issue(
            ("criteria", 30, "optionSelection", "filter"),
            "criteria[30].optionSelection.filter: a decision uses at most 30 collections "
            "(decision-management-guardrails.md), "
            "found 31: split the decision",
        ),
    )


def test_a_collection_of_tags_holds_at_most_20_and_lists_each_once() -> None:
    body = {**MINIMAL[Kind.COLLECTION], "ids": [f"tag{i}" for i in range(21)] + ["tag0"]}
    assert schema.check(Kind.COLLECTION, body) == (
        Issue(("ids", 21), "ids[21]: the same as ids[0]: list it once"),
        Issue(
            ("ids", 20),
            "ids: at most 20 tags are allowed (decision-management-guardrails.md), found 22: "
            "remove 2",
        ),
    )
    offers = {**body, "filterType": "offers", "ids": [f"o{i}" for i in range(25)]}
    assert schema.check(Kind.COLLECTION, offers) == ()


def test_a_rule_holds_at_most_15k_bytes_of_pql() -> None:
    text = 'name = "' + "é" * 7995 + '"'  # valid PQL: a too long rule is said once, not twice
    condition = {"type": "PQL", "format": "pql/text", "value": text}
    assert schema.check(
        Kind.DECISION_RULE, {**MINIMAL[Kind.DECISION_RULE], "condition": condition}
    ) == (
        Issue(
            ("condition", "value"),
            "condition.value: at most 15360 bytes of PQL are allowed "
            "(decision-management-guardrails.md), found 15999: shorten the rule",
        ),
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("offerPlacement1234", ()),
        ("dps:offer-placement:19af09a9ae45a8d3", ()),
        ({"ref": "placements/web"}, ()),
        (
            "",
            (
                Issue(
                    ("representations", 0, "placement"),
                    'representations[0].placement: must not be empty (got "")',
                ),
            ),
        ),
        (
            5,
            (
                Issue(
                    ("representations", 0, "placement"),
                    "representations[0].placement: expected an Adobe id (a string) or "
                    "{ref: <key of a file in offers/>} (got 5)",
                ),
            ),
        ),
        (
            {"ref": "web", "kind": "placement"},
            (
                Issue(
                    ("representations", 0, "placement", "kind"),
                    "representations[0].placement.kind: unknown field: remove it or fix its "
                    "spelling (fields here: ref)",
                    Anchor.KEY,
                ),
            ),
        ),
        (
            {"key": "web"},
            (
                Issue(
                    ("representations", 0, "placement", "ref"),
                    "representations[0].placement.ref: required field is missing: add it",
                    Anchor.PARENT,
                ),
                Issue(
                    ("representations", 0, "placement", "key"),
                    "representations[0].placement.key: unknown field: remove it or fix its "
                    "spelling (fields here: ref)",
                    Anchor.KEY,
                ),
            ),
        ),
        (
            {"ref": 7},
            (
                Issue(
                    ("representations", 0, "placement", "ref"),
                    "representations[0].placement.ref: expected text: put the value in quotes "
                    "(got 7)",
                ),
            ),
        ),
    ],
)
def test_a_reference_is_a_literal_id_or_a_ref_mapping(
    value: object, expected: tuple[Issue, ...]
) -> None:
    body = offer(representations=[representation(value)])
    assert schema.check(Kind.PERSONALIZED_OFFER, body) == expected


@pytest.mark.parametrize(
    ("kind", "body", "location", "hint"),
    [
        (Kind.TAG, {"kind": "tag", "name": "a", "nmae": "b"}, ("nmae",), "did you mean name?"),
        (
            Kind.PLACEMENT,
            {**MINIMAL[Kind.PLACEMENT], "returnMetaData": {"offerNames": True}},
            ("returnMetaData", "offerNames"),
            "did you mean offerName?",
        ),
        (
            Kind.PERSONALIZED_OFFER,
            offer(
                representations=[
                    representation(),
                    {
                        **representation("p2"),
                        "components": [{"type": "html", "format": "text/html", "formt": "x"}],
                    },
                ]
            ),
            ("representations", 1, "components", 0, "formt"),
            "did you mean format?",
        ),
        (
            Kind.PERSONALIZED_OFFER,
            offer(
                frequencyCappingConstraints=[
                    {**cap(0), "repeat": {"enabled": True, "every": 2}},
                ]
            ),
            ("frequencyCappingConstraints", 0, "repeat", "every"),
            "fields here: enabled, unit, unitCount",
        ),
        (
            Kind.PERSONALIZED_OFFER,
            offer(
                selectionConstraint={
                    "profileConstraintType": "anySegments",
                    "segmentIdentities": [{"_id": "s1", "namespace": {"code": "ups", "id": 1}}],
                }
            ),
            ("selectionConstraint", "segmentIdentities", 0, "namespace", "id"),
            "fields here: code",
        ),
        (
            Kind.DECISION_RULE,
            {
                **MINIMAL[Kind.DECISION_RULE],
                "definedOn": {"profile": {"schema": {"ref": "x", "versoin": "1"}}},
            },
            ("definedOn", "profile", "schema", "versoin"),
            "did you mean version?",
        ),
        (
            Kind.DECISION,
            decision(
                criteria=[
                    {
                        "placements": ["p"],
                        "optionSelection": {"filter": "c", "collection": "c"},
                    }
                ]
            ),
            ("criteria", 0, "optionSelection", "collection"),
            "fields here: filter",
        ),
        (
            Kind.TAG,
            {"kind": "tag", "name": "a", "id": "tag1234"},
            ("id",),
            "fields here: description, kind, name, overrides, protect",
        ),
    ],
)
def test_an_unknown_field_at_any_depth_is_refused_at_its_key(
    kind: Kind, body: dict[str, Any], location: tuple[str | int, ...], hint: str
) -> None:
    assert schema.check(kind, body) == (
        Issue(
            location,
            f"{rules.dotted(location)}: unknown field: remove it or fix its spelling ({hint})",
            Anchor.KEY,
        ),
    )


def test_null_is_never_a_value_and_is_reported_once() -> None:
    body = offer(description=None, labels=[None], rank=None, tags=[{"ref": None}], nmae=None)
    assert sorted(schema.check(Kind.PERSONALIZED_OFFER, body), key=lambda i: i.message) == [
        Issue(("description",), "description: null is not a value: give one or remove the line"),
        Issue(("labels", 0), "labels[0]: null is not a value: give one or remove the line"),
        Issue(
            ("nmae",),
            "nmae: unknown field: remove it or fix its spelling (did you mean name?)",
            Anchor.KEY,
        ),
        Issue(("rank",), "rank: null is not a value: give one or remove the line"),
        Issue(("tags", 0, "ref"), "tags[0].ref: null is not a value: give one or remove the line"),
    ]


def test_an_alias_that_contains_itself_is_one_issue() -> None:
    looping: list[Any] = []
    looping.append(looping)
    assert schema.check(Kind.TAG, {"kind": "tag", "name": "a", "description": looping}) == (
        Issue(
            ("description", 0),
            "description[0]: an alias that contains itself: write the value out",
        ),
    )


@pytest.mark.parametrize(
    ("location", "text"),
    [
        ((), "the top level"),
        (("name",), "name"),
        (("representations", 0, "components", 1, "type"), "representations[0].components[1].type"),
        (("criteria", 2, "placements", 0), "criteria[2].placements[0]"),
    ],
)
def test_dotted_paths(location: tuple[str | int, ...], text: str) -> None:
    assert rules.dotted(location) == text


# --- JSON Schema ----------------------------------------------------------------------------


def test_the_committed_schema_is_the_generated_one() -> None:
    committed = json.loads((ROOT / "reconciler" / "offers.schema.json").read_text())
    # Regenerate with: .venv/bin/reconciler schema > reconciler/offers.schema.json
    assert committed == schema.json_schema(None)


def test_the_schema_picks_the_kind_by_its_kind_field() -> None:
    document = schema.json_schema(None)
    assert document["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert document["discriminator"]["propertyName"] == "kind"
    assert sorted(document["discriminator"]["mapping"]) == sorted(
        [*(kind.value for kind in Kind), "profile", "decision-test"]
    )


def _objects(node: object) -> list[dict[str, Any]]:
    if isinstance(node, dict):
        found = [node] if node.get("type") == "object" and "properties" in node else []
        return found + [o for value in node.values() for o in _objects(value)]
    if isinstance(node, list):
        return [o for value in node for o in _objects(value)]
    return []


def test_the_schema_closes_every_object_and_never_allows_null() -> None:
    document = schema.json_schema(None)
    objects = _objects(document)
    assert (
        len(objects) == 48
    )  # 26 legacy models, 18 Decisioning ones, 4 of profile (its identity) and decision-test
    assert all(o.get("additionalProperties") is False for o in objects)
    assert '"null"' not in json.dumps(document)


@pytest.mark.parametrize(
    ("kind", "required"),
    [
        (Kind.TAG, ["name", "kind"]),
        (Kind.PLACEMENT, ["name", "kind", "componentType", "channel"]),
        (Kind.DECISION_RULE, ["name", "kind", "condition"]),
        (
            Kind.PERSONALIZED_OFFER,
            ["name", "kind", "status", "representations", "selectionConstraint"],
        ),
        (Kind.FALLBACK_OFFER, ["name", "kind", "status", "representations"]),
        (Kind.COLLECTION, ["name", "kind", "filterType", "ids"]),
        (Kind.DECISION, ["name", "kind", "status", "fallback", "criteria"]),
        (Kind.RANKING_FORMULA, ["name", "kind", "returnType", "expression"]),
        (Kind.ELIGIBILITY_RULE, ["name", "kind", "condition"]),
        (Kind.DECISION_ITEM, ["kind", "_experience"]),
        (Kind.ITEM_COLLECTION, ["name", "kind", "constraints"]),
        (Kind.SELECTION_STRATEGY, ["name", "kind", "optionSelection"]),
        (Kind.EXD_PLACEMENT, ["name", "kind", "channel"]),
    ],
)
def test_the_schema_of_one_kind(kind: Kind, required: list[str]) -> None:
    document = schema.json_schema(kind)
    assert (document["properties"]["kind"], document["required"]) == (
        {"const": kind.value, "type": "string"},
        required,
    )


def test_the_schema_carries_the_guardrails_for_editors() -> None:
    offer_schema = schema.json_schema(Kind.PERSONALIZED_OFFER)["properties"]
    assert (
        offer_schema["frequencyCappingConstraints"]["maxItems"],
        offer_schema["tags"]["maxItems"],
        offer_schema["characteristics"]["maxProperties"],
        offer_schema["characteristics"]["additionalProperties"],
        offer_schema["rank"]["$ref"],
    ) == (10, 20, 30, {"type": "string"}, "#/$defs/OfferRank")
