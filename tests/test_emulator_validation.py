"""What the emulator refuses, with which status and which field named: one row per rule."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from emulator_support import (
    WEB,
    Session,
    collection,
    decision,
    fallback,
    offer,
    placement,
    rule,
    session,
)

from reconciler.emulator.settings import DEFAULT_LIMITS, EmulatorSettings
from reconciler.errors import UsageError

Ids = dict[str, str]
Body = Callable[[Ids], dict[str, Any]]
NOWHERE = "dps:offer-placement:0000000000000000"
OFFERS = "/offers?offer-type=personalized"
FALLBACKS = "/offers?offer-type=fallback"


async def _estate(emu: Session) -> Ids:
    ids: Ids = {}
    ids["tag"] = await emu.create("/tags", {"name": "Summer"})
    ids["placement"] = await emu.create("/placements", placement())
    ids["email"] = await emu.create("/placements", placement("Email"))
    ids["rule"] = await emu.create("/offer-rules", rule())
    ids["offer"] = await emu.create(OFFERS, offer(ids["placement"]))
    ids["fallback"] = await emu.create(FALLBACKS, fallback(ids["placement"]))
    ids["collection"] = await emu.create("/offer-collections", collection([ids["offer"]]))
    return ids


def _offer(**changes: Any) -> Body:
    return lambda ids: {**offer(ids["placement"]), **changes}


def _constraint(**fields: Any) -> Body:
    return _offer(selectionConstraint={"profileConstraintType": "none", **fields})


def _component(**fields: Any) -> Body:
    def build(ids: Ids) -> dict[str, Any]:
        body = offer(ids["placement"])
        body["representations"][0]["components"] = [
            {"type": "html", "format": "text/html", **fields}
        ]
        return body

    return build


def _cap(**fields: Any) -> Body:
    return _offer(
        frequencyCappingConstraints=[{"limit": 1, "scope": "global", "entity": "offer", **fields}]
    )


def _decision(**changes: Any) -> Body:
    return lambda ids: {**decision(ids["fallback"], ids["placement"], ids["collection"]), **changes}


def _criteria(*criteria: dict[str, Any]) -> Body:
    return _decision(criteria=list(criteria))


ROWS: list[tuple[str, str, Body, str]] = [
    # placements
    (
        "/placements",
        "missing name",
        lambda ids: {"componentType": "html", "channel": WEB},
        "invalid placement: /name: is required",
    ),
    (
        "/placements",
        "blank name",
        lambda ids: placement("  "),
        "invalid placement: /name: must not be blank",
    ),
    (
        "/placements",
        "missing channel and type",
        lambda ids: {"name": "x"},
        "invalid placement: /componentType: is required; /channel: is required",
    ),
    (
        "/placements",
        "component type",
        lambda ids: placement(componentType="video"),
        "invalid placement: /componentType: input should be 'html', 'text', 'imagelink' or 'json'",
    ),
    (
        "/placements",
        "channel",
        lambda ids: placement(channel="web"),
        "invalid placement: /channel: must be a channel URI like https://ns.adobe.com/xdm/channel-types/web",
    ),
    (
        "/placements",
        "bool item count",
        lambda ids: placement(itemCount=True),
        "invalid placement: /itemCount: input should be a valid integer",
    ),
    (
        "/placements",
        "zero item count",
        lambda ids: placement(itemCount=0),
        "invalid placement: /itemCount: input should be greater than or equal to 1",
    ),
    (
        "/placements",
        "unknown field",
        lambda ids: placement(colour="red"),
        "invalid placement: /colour: is not a known field",
    ),
    (
        "/placements",
        "null",
        lambda ids: placement(description=None),
        "invalid placement: /description: null is not accepted; leave the field out",
    ),
    (
        "/placements",
        "metadata flag",
        lambda ids: placement(returnMetaData={"offerName": "yes"}),
        "invalid placement: /returnMetaData/offerName: input should be a valid boolean",
    ),
    # decision rules
    (
        "/offer-rules",
        "missing condition",
        lambda ids: {"name": "r"},
        "invalid decision-rule: /condition: is required",
    ),
    (
        "/offer-rules",
        "condition language",
        lambda ids: {"name": "r", "condition": {"type": "SQL", "format": "pql/text", "value": "x"}},
        "invalid decision-rule: /condition/type: input should be 'PQL'",
    ),
    (
        "/offer-rules",
        "PQL size",
        lambda ids: {
            "name": "r",
            "condition": {"type": "PQL", "format": "pql/text", "value": "x" * 16_000},
        },
        "invalid decision-rule: /condition/value: at most 15360 bytes of PQL (guardrail), not 16000",
    ),
    # offers
    (
        "/offers?offer-type=personalized",
        "missing status",
        lambda ids: {k: v for k, v in offer(ids["placement"]).items() if k != "status"},
        "invalid personalized-offer: /status: is required",
    ),
    (
        OFFERS,
        "decision status on an offer",
        _offer(status="live"),
        "invalid personalized-offer: /status: input should be 'draft', 'approved' or 'archived'",
    ),
    (
        OFFERS,
        "no representation",
        _offer(representations=[]),
        "invalid personalized-offer: /representations: list should have at least 1 item after validation, not 0",
    ),
    (
        OFFERS,
        "no selection constraint",
        lambda ids: {
            k: v for k, v in offer(ids["placement"]).items() if k != "selectionConstraint"
        },
        "invalid personalized-offer: /selectionConstraint: is required",
    ),
    (
        OFFERS,
        "negative priority",
        _offer(rank={"priority": -1}),
        "invalid personalized-offer: /rank/priority: input should be greater than or equal to 0",
    ),
    (
        OFFERS,
        "boolean priority",
        _offer(rank={"priority": True}),
        "invalid personalized-offer: /rank/priority: input should be a valid integer",
    ),
    (
        OFFERS,
        "fractional priority",
        _offer(rank={"priority": 1.5}),
        "invalid personalized-offer: /rank/priority: input should be a valid integer",
    ),
    (
        OFFERS,
        "string priority",
        _offer(rank={"priority": "1"}),
        "invalid personalized-offer: /rank/priority: input should be a valid integer",
    ),
    (
        OFFERS,
        "cap limit",
        _cap(limit=0),
        "invalid personalized-offer: /frequencyCappingConstraints/0/limit: input should be greater than or equal to 1",
    ),
    (
        OFFERS,
        "cap scope",
        _cap(scope="world"),
        "invalid personalized-offer: /frequencyCappingConstraints/0/scope: input should be 'global' or 'profile'",
    ),
    (
        OFFERS,
        "cap entity",
        _cap(entity="decision"),
        "invalid personalized-offer: /frequencyCappingConstraints/0/entity: input should be 'offer' or 'placement'",
    ),
    (
        OFFERS,
        "cap repeat unit",
        _cap(repeat={"enabled": True, "unit": "year", "unitCount": 1}),
        "invalid personalized-offer: /frequencyCappingConstraints/0/repeat/unit: input should be 'day', 'week' or 'month'",
    ),
    (
        OFFERS,
        "cap dates",
        _cap(startDate="2027-02-01T00:00:00Z", endDate="2027-01-01T00:00:00Z"),
        "invalid personalized-offer: /frequencyCappingConstraints/0/endDate: must be after /frequencyCappingConstraints/0/startDate",
    ),
    (
        OFFERS,
        "eleven caps",
        _offer(
            frequencyCappingConstraints=[{"limit": 1, "scope": "global", "entity": "offer"}] * 11
        ),
        "invalid personalized-offer: /frequencyCappingConstraints: at most 10 caps (guardrail), not 11",
    ),
    (
        OFFERS,
        "end before start",
        _constraint(startDate="2027-06-01T00:00:00.000Z", endDate="2027-05-31T23:59:59.999Z"),
        "invalid personalized-offer: /selectionConstraint/endDate: must be after /selectionConstraint/startDate",
    ),
    (
        OFFERS,
        "end at start",
        _constraint(startDate="2027-06-01T02:00:00+02:00", endDate="2027-06-01T00:00:00Z"),
        "invalid personalized-offer: /selectionConstraint/endDate: must be after /selectionConstraint/startDate",
    ),
    (
        OFFERS,
        "not a date",
        _constraint(startDate="tomorrow"),
        "invalid personalized-offer: /selectionConstraint/startDate: must be an ISO-8601 date-time with a time zone (2027-06-01T00:00:00.000Z)",
    ),
    (
        OFFERS,
        "date without zone",
        _constraint(startDate="2027-06-01T00:00:00"),
        "invalid personalized-offer: /selectionConstraint/startDate: must be an ISO-8601 date-time with a time zone (2027-06-01T00:00:00.000Z)",
    ),
    (
        OFFERS,
        "profile constraint type",
        _constraint(profileConstraintType="rules"),
        "invalid personalized-offer: /selectionConstraint/profileConstraintType: input should be 'none', 'eligibilityRule', 'anySegments' or 'allSegments'",
    ),
    (
        OFFERS,
        "rule without its type",
        lambda ids: {
            **offer(ids["placement"]),
            "selectionConstraint": {
                "profileConstraintType": "none",
                "eligibilityRule": ids["rule"],
            },
        },
        "invalid personalized-offer: /selectionConstraint/eligibilityRule: only allowed when profileConstraintType is eligibilityRule",
    ),
    (
        OFFERS,
        "type without its rule",
        _constraint(profileConstraintType="eligibilityRule"),
        "invalid personalized-offer: /selectionConstraint/eligibilityRule: is required when profileConstraintType is eligibilityRule",
    ),
    (
        OFFERS,
        "numeric characteristic",
        _offer(characteristics={"code": 200}),
        "invalid personalized-offer: /characteristics/code: input should be a valid string",
    ),
    (
        OFFERS,
        "31 characteristics",
        _offer(characteristics={f"k{i}": "v" for i in range(31)}),
        "invalid personalized-offer: /characteristics: at most 30 attributes (guardrail), not 31",
    ),
    (
        OFFERS,
        "21 tags",
        _offer(tags=[f"dps:tag:{i:016x}" for i in range(21)]),
        "invalid personalized-offer: /tags: at most 20 tags (guardrail), not 21",
    ),
    (
        OFFERS,
        "a tag twice",
        lambda ids: {**offer(ids["placement"]), "tags": [ids["tag"], ids["tag"]]},
        "invalid personalized-offer: /tags/1: {tag} is listed twice",
    ),
    (
        OFFERS,
        "two representations on one placement",
        lambda ids: {
            **offer(ids["placement"]),
            "representations": offer(ids["placement"])["representations"] * 2,
        },
        "invalid personalized-offer: /representations/1/placement: one representation per placement",
    ),
    (
        OFFERS,
        "component type",
        _component(type="video"),
        "invalid personalized-offer: /representations/0/components/0/type: input should be 'html', 'text', 'imagelink', 'json' or 'component-text'",
    ),
    (
        OFFERS,
        "component format",
        _component(format="html"),
        "invalid personalized-offer: /representations/0/components/0/format: must be a media type like text/html",
    ),
    (
        OFFERS,
        "component field",
        _component(colour="red"),
        "invalid personalized-offer: /representations/0/components/0/colour: is not a known field",
    ),
    (
        OFFERS,
        "dangling placement",
        lambda ids: offer(NOWHERE),
        f"invalid personalized-offer: /representations/0/placement: no placement {NOWHERE} exists in this sandbox",
    ),
    (
        OFFERS,
        "placement id of another form",
        lambda ids: offer("offerPlacement1234"),
        "invalid personalized-offer: /representations/0/placement: 'offerPlacement1234' is not the id of a placement",
    ),
    (
        OFFERS,
        "a tag as placement",
        lambda ids: offer(ids["tag"]),
        "invalid personalized-offer: /representations/0/placement: '{tag}' is not the id of a placement",
    ),
    (
        OFFERS,
        "dangling rule",
        _constraint(
            profileConstraintType="eligibilityRule",
            eligibilityRule="dps:eligibility-rule:0000000000000000",
        ),
        "invalid personalized-offer: /selectionConstraint/eligibilityRule: no decision-rule dps:eligibility-rule:0000000000000000 exists in this sandbox",
    ),
    (
        OFFERS,
        "dangling capping placement",
        _cap(entity="placement", placement=NOWHERE),
        f"invalid personalized-offer: /frequencyCappingConstraints/0/placement: no placement {NOWHERE} exists in this sandbox",
    ),
    (
        FALLBACKS,
        "fallback without representation",
        lambda ids: {"name": "f", "status": "draft", "representations": []},
        "invalid fallback-offer: /representations: list should have at least 1 item after validation, not 0",
    ),
    (
        FALLBACKS,
        "fallback field",
        lambda ids: fallback(ids["placement"], characteristics={"a": "b"}),
        "invalid fallback-offer: /characteristics: is not a known field",
    ),
    # collections
    (
        "/offer-collections",
        "filter type",
        lambda ids: collection([ids["tag"]], filter_type="anyTags"),
        "invalid collection: /filterType: input should be 'offers', 'any-tags' or 'all-tags'",
    ),
    (
        "/offer-collections",
        "missing ids",
        lambda ids: {"name": "c", "filterType": "offers"},
        "invalid collection: /ids: is required",
    ),
    (
        "/offer-collections",
        "a tag in an offers filter",
        lambda ids: collection([ids["tag"]]),
        "invalid collection: /ids/0: '{tag}' is not the id of a personalized-offer",
    ),
    (
        "/offer-collections",
        "a fallback in an offers filter",
        lambda ids: collection([ids["fallback"]]),
        "invalid collection: /ids/0: '{fallback}' is not the id of a personalized-offer",
    ),
    (
        "/offer-collections",
        "an offer in a tag filter",
        lambda ids: collection([ids["offer"]], filter_type="all-tags"),
        "invalid collection: /ids/0: '{offer}' is not the id of a tag",
    ),
    (
        "/offer-collections",
        "21 tags",
        lambda ids: collection([f"dps:tag:{i:016x}" for i in range(21)], filter_type="any-tags"),
        "invalid collection: /ids: at most 20 tags (guardrail), not 21",
    ),
    (
        "/offer-collections",
        "501 offers",
        lambda ids: collection([f"dps:personalized-offer:{i:016x}" for i in range(501)]),
        "invalid collection: /ids: at most 500 offers (guardrail), not 501",
    ),
    # decisions
    (
        "/offer-decisions",
        "offer status on a decision",
        _decision(status="approved"),
        "invalid decision: /status: input should be 'draft', 'live' or 'archived'",
    ),
    (
        "/offer-decisions",
        "no criteria",
        _decision(criteria=[]),
        "invalid decision: /criteria: list should have at least 1 item after validation, not 0",
    ),
    (
        "/offer-decisions",
        "missing fallback",
        lambda ids: {
            k: v
            for k, v in decision(ids["fallback"], ids["placement"], ids["collection"]).items()
            if k != "fallback"
        },
        "invalid decision: /fallback: is required",
    ),
    (
        "/offer-decisions",
        "personalized fallback",
        _decision(fallback="{offer}"),
        "invalid decision: /fallback: '{offer}' is not the id of a fallback-offer",
    ),
    (
        "/offer-decisions",
        "dangling placement",
        lambda ids: decision(ids["fallback"], NOWHERE, ids["collection"]),
        f"invalid decision: /criteria/0/placements/0: no placement {NOWHERE} exists in this sandbox",
    ),
    (
        "/offer-decisions",
        "end before start",
        _decision(startDate="2027-02-01T00:00:00Z", endDate="2027-01-01T00:00:00Z"),
        "invalid decision: /endDate: must be after /startDate",
    ),
    (
        "/offer-decisions",
        "31 placements",
        _criteria(
            {
                "placements": [f"dps:offer-placement:{i:016x}" for i in range(31)],
                "optionSelection": {"filter": "x"},
            }
        ),
        "invalid decision: /criteria: at most 30 placements per decision (guardrail), not 31",
    ),
    (
        "/offer-decisions",
        "31 collections",
        _criteria(
            *(
                {
                    "placements": [NOWHERE],
                    "optionSelection": {"filter": f"dps:offer-filter:{i:016x}"},
                }
                for i in range(31)
            )
        ),
        "invalid decision: /criteria: at most 30 collections per decision (guardrail), not 31",
    ),
    (
        "/offer-decisions",
        "ranking strategy without its id",
        _criteria(
            {
                "placements": [NOWHERE],
                "rank": {"priority": 0, "order": {"orderEvaluationType": "ranking-strategy"}},
                "optionSelection": {"filter": "x"},
            }
        ),
        "invalid decision: /criteria/0/rank/order/rankingStrategy: is required when orderEvaluationType is ranking-strategy",
    ),
]


@pytest.mark.anyio
@pytest.mark.parametrize(("path", "case", "body", "detail"), ROWS, ids=[row[1] for row in ROWS])
async def test_invalid_bodies_are_422_naming_the_field(
    path: str, case: str, body: Body, detail: str
) -> None:
    async with session() as emu:
        ids = await _estate(emu)
        sent = body(ids)
        if isinstance(sent.get("fallback"), str):
            sent["fallback"] = sent["fallback"].format(**ids)
        response = await emu.call("POST", path, json=sent)
        assert response.status_code == 422, response.text
        assert response.json() == {
            "type": "/problems/invalid-content",
            "title": "UnprocessableEntityError",
            "status": 422,
            "detail": detail.format(**ids),
        }


@pytest.mark.anyio
async def test_the_documented_example_bodies_are_accepted() -> None:
    async with session() as emu:
        ids = await _estate(emu)
        decided = decision(ids["fallback"], ids["placement"], ids["collection"])
        decided["criteria"][0]["rank"] = {
            "priority": 0,
            "order": {"orderEvaluationType": "ranking-strategy", "rankingStrategy": "123456789123"},
        }
        decided["criteria"][0]["profileConstraint"] = {"profileConstraintType": "none"}
        bodies = [
            ("/offer-decisions", decided),
            (
                "/offer-collections",
                {
                    **collection([ids["tag"]], filter_type="any-tags"),
                    "labels": ["core/C5", "custom/myLabel"],
                },
            ),
            ("/tags", {"name": "Black Friday", "description": "Tag for black friday"}),
            (
                FALLBACKS,
                {
                    **fallback(ids["placement"], "Test Fallback Offer DPS"),
                    "selectionConstraint": {
                        "startDate": "2022-06-10T00:30:00.000+00:00",
                        "endDate": "2032-06-06T23:29:21.402+00:00",
                        "profileConstraintType": "none",
                    },
                    "rank": {"priority": 1},
                },
            ),
            (
                "/offer-rules",
                {
                    **rule("Sales rule"),
                    "definedOn": {
                        "profile": {
                            "schema": {
                                "ref": "https://ns.adobe.com/xdm/context/profile_union",
                                "version": "1",
                            },
                            "referencePaths": ["person.name.firstName"],
                        }
                    },
                },
            ),
            (
                "/placements",
                placement(
                    "New placement",
                    itemCount=1,
                    allowDuplicatePlacements=False,
                    returnContent=True,
                    returnMetaData={
                        "decisionName": False,
                        "offerName": False,
                        "offerAttributes": False,
                        "offerPriority": False,
                        "placementName": False,
                        "channelType": False,
                        "contentType": False,
                    },
                ),
            ),
        ]
        for path, body in bodies:
            response = await emu.call("POST", path, json=body)
            assert response.status_code == 201, (path, response.text)


@pytest.mark.anyio
async def test_tag_names_are_unique_409() -> None:
    async with session() as emu:
        summer = await emu.create("/tags", {"name": "Summer"})
        again = await emu.call("POST", "/tags", json={"name": "Summer"})
        assert (again.status_code, again.json()) == (
            409,
            {
                "type": "/problems/duplicate-name",
                "title": "ConflictError",
                "status": 409,
                "detail": f"the tag named 'Summer' already exists: {summer}",
            },
        )
        winter = await emu.create("/tags", {"name": "Winter"})
        renamed = await emu.call(
            "PATCH", f"/tags/{winter}", json=[{"op": "replace", "path": "/name", "value": "Summer"}]
        )
        assert renamed.status_code == 409
        same = await emu.call(
            "PATCH", f"/tags/{summer}", json=[{"op": "replace", "path": "/name", "value": "Summer"}]
        )
        assert same.status_code == 200
        assert (await emu.call("POST", "/tags", json={"name": "summer"})).status_code == 201


@pytest.mark.anyio
async def test_sandbox_guardrail_counts_are_configurable_limits() -> None:
    limits = {**DEFAULT_LIMITS, "tags": 2, "live_decisions": 1}
    async with session(settings=EmulatorSettings(limits=limits)) as emu:
        await emu.create("/tags", {"name": "a"})
        await emu.create("/tags", {"name": "b"})
        third = await emu.call("POST", "/tags", json={"name": "c"})
        assert (third.status_code, third.json()["type"], third.json()["detail"]) == (
            422,
            "/problems/limit-exceeded",
            "a sandbox holds at most 2 tag objects (limits.tags)",
        )
        ids = await _estate_without_tags(emu)
        await emu.create(
            "/offer-decisions",
            {**decision(ids["fallback"], ids["placement"], ids["collection"]), "status": "live"},
        )
        second = decision(ids["fallback"], ids["placement"], ids["collection"])
        draft = await emu.create("/offer-decisions", second)
        live = await emu.call(
            "PATCH",
            f"/offer-decisions/{draft}",
            json=[{"op": "replace", "path": "/status", "value": "live"}],
        )
        assert (live.status_code, live.json()["detail"]) == (
            422,
            "a sandbox holds at most 1 live decisions (limits.live_decisions)",
        )


async def _estate_without_tags(emu: Session) -> Ids:
    ids: Ids = {"placement": await emu.create("/placements", placement())}
    ids["offer"] = await emu.create(OFFERS, offer(ids["placement"]))
    ids["fallback"] = await emu.create(FALLBACKS, fallback(ids["placement"]))
    ids["collection"] = await emu.create("/offer-collections", collection([ids["offer"]]))
    return ids


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (
            {"limits": {"widgets": 3}},
            "emulator limits: unknown widgets; known: offers, fallback_offers, tags, placements, decision_rules, collections, decisions, live_decisions, offers_per_collection, tags_per_object, placements_per_decision, collections_per_decision, caps_per_offer, attributes_per_offer, pql_bytes, ranking_formula_pql_bytes, rules_and_formulas, decision_items, item_collections, exd_placements, caps_per_item, custom_attributes",
        ),
        ({"limits": {"tags": -1}}, "emulator limits: tags must be a whole number >= 0"),
        ({"error_rate": 1.5}, "emulator error_rate must be between 0 and 1, not 1.5"),
        ({"rate_limit": 0}, "emulator rate_limit must be > 0 requests per second (or unset)"),
        ({"client_id": "a"}, "emulator: pin both client_id and client_secret, or neither"),
        ({"token_ttl": 0}, "emulator token_ttl must be at least 1 second"),
    ],
)
def test_settings_are_checked(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(UsageError) as refused:
        EmulatorSettings(**settings)
    assert str(refused.value) == message
