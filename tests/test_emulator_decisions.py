"""The Decisioning API in the emulator (`POST /data/core/ods/decisions`): Adobe's request and
response shapes, decided by the simulator at the server's clock, the seeded profile store, the
duplicate flags, and the errors.

Every call goes over HTTP (httpx's ASGI transport) to a fresh in-memory emulator whose clock is
2027-01-15T08:00:00Z.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from emulator_support import EPOCH, WEB, Session, collection, fallback, offer, placement, session

from reconciler.emulator.settings import EmulatorSettings

pytestmark = pytest.mark.anyio

ODS = "/data/core/ods/decisions"
XDM = "application/vnd.adobe.xdm+json"
NS = "https://ns.adobe.com/experience/offer-management/"
REQUEST_TYPE = f'{XDM}; schema="{NS}decision-request;version=1.0"'
RESPONSE_TYPE = f'{XDM}; schema="{NS}decision-response;version=1.0"'
HTML = "https://ns.adobe.com/experience/decisioning/content-component-html-template"
MILLIS = int(EPOCH * 1000)
GOLD = {"loyalty": {"tier": "gold"}}


@dataclass
class Estate:
    """A live decision over two placements: `sale` (priority 50, gold members only, both
    placements), `shipping` (priority 20, the banner only), `returns` (priority 5, both), and a
    fallback on the banner only."""

    emu: Session
    banner: str
    side: str
    sale: str
    shipping: str
    returns: str
    fallback: str
    collection: str
    decision: str

    async def ask(self, body: dict[str, Any], **headers: str) -> tuple[int, Any]:
        sent = {**self.emu.headers, "Content-Type": REQUEST_TYPE, "Accept": RESPONSE_TYPE}
        response = await self.emu.http.post(
            ODS, headers={**sent, **headers}, content=json.dumps(body).encode()
        )
        document = response.json()
        if response.status_code == 200:
            assert response.headers["content-type"] == RESPONSE_TYPE
            document["xdm:propositionId"] = "<uuid>"  # random, as Adobe's
        return response.status_code, document

    async def seed(self, email: str, attributes: dict[str, Any]) -> None:
        response = await self.emu.http.put(
            f"/_emulator/profiles/Email/{email}",
            headers=self.emu.headers,
            json={"attributes": attributes, "audiences": []},
        )
        assert response.status_code == 200, response.text

    def request(
        self, *placements: str, email: str = "gold@example.com", **extra: Any
    ) -> dict[str, Any]:
        return {
            "xdm:propositionRequests": [
                {"xdm:activityId": self.decision, "xdm:placementId": p}
                for p in (placements or (self.banner, self.side))
            ],
            "xdm:profiles": [{"xdm:identityMap": {"Email": [{"xdm:id": email, "primary": True}]}}],
            **extra,
        }

    def named(self, object_id: str, etag: int = 1) -> dict[str, Any]:
        return {"xdm:id": object_id, "repo:etag": etag}

    def proposition(self, where: str, *options: str, fallback: bool = False) -> dict[str, Any]:
        served = [self.named(option) for option in options]
        chosen = {"xdm:fallback": served[0]} if fallback else {"xdm:options": served}
        named = {"xdm:activity": self.named(self.decision), "xdm:placement": self.named(where)}
        return named | chosen


def answer(*propositions: dict[str, Any]) -> dict[str, Any]:
    return {
        "xdm:propositionId": "<uuid>",
        "xdm:propositions": list(propositions),
        "ode:createDate": MILLIS,
    }


def _representation(placement_id: str, text: str) -> dict[str, Any]:
    return {
        "channel": WEB,
        "placement": placement_id,
        "components": [{"type": "html", "format": "text/html", "content": text}],
    }


async def _estate(
    emu: Session, *, side: dict[str, Any] | None = None, seeded: bool = True
) -> Estate:
    banner = await emu.create("/placements", placement("Banner"))
    side_id = await emu.create("/placements", placement("Side", **(side or {})))
    rule_id = await emu.create(
        "/offer-rules",
        {
            "name": "Gold",
            "condition": {
                "type": "PQL",
                "format": "pql/text",
                "value": 'loyalty.tier.equals("gold", false)',
            },
        },
    )

    async def personalized(name: str, priority: int, *where: str, **extra: Any) -> str:
        body = offer(
            banner,
            name,
            status="approved",
            rank={"priority": priority},
            representations=[_representation(p, f"<p>{name}</p>") for p in where],
            **extra,
        )
        return await emu.create("/offers?offer-type=personalized", body)

    gold = {"profileConstraintType": "eligibilityRule", "eligibilityRule": rule_id}
    sale = await personalized("Sale", 50, banner, side_id, selectionConstraint=gold)
    shipping = await personalized("Shipping", 20, banner)
    returns = await personalized("Returns", 5, banner, side_id)
    fallback_id = await emu.create(
        "/offers?offer-type=fallback", fallback(banner, "Default", status="approved")
    )
    collection_id = await emu.create("/offer-collections", collection([sale, shipping, returns]))
    decision_id = await emu.create(
        "/offer-decisions",
        {
            "name": "Home",
            "status": "live",
            "fallback": fallback_id,
            "criteria": [
                {"placements": [banner, side_id], "optionSelection": {"filter": collection_id}}
            ],
        },
    )
    estate = Estate(
        emu, banner, side_id, sale, shipping, returns, fallback_id, collection_id, decision_id
    )
    if seeded:
        await estate.seed("gold@example.com", GOLD)
        await estate.seed("silver@example.com", {"loyalty": {"tier": "silver"}})
    return estate


async def test_a_known_profile_is_served_what_the_simulator_decides() -> None:
    async with session() as emu:
        estate = await _estate(emu)
        assert await estate.ask(estate.request()) == (
            200,
            answer(
                estate.proposition(estate.banner, estate.sale),
                estate.proposition(estate.side, estate.sale),
            ),
        )
        silver = await estate.ask(estate.request(email="silver@example.com"))
        assert silver == (
            200,
            answer(
                estate.proposition(estate.banner, estate.shipping),
                estate.proposition(estate.side, estate.returns),
            ),
        )


async def test_content_is_the_representations_first_component_with_adobes_type() -> None:
    async with session() as emu:
        estate = await _estate(emu)
        body = estate.request(estate.banner, **{"xdm:responseFormat": {"xdm:includeContent": True}})
        option = {
            **estate.named(estate.sale),
            "@type": HTML,
            "xdm:content": "<p>Sale</p>",
            "dc:format": "text/html",
        }
        proposition = {
            "xdm:activity": estate.named(estate.decision),
            "xdm:placement": estate.named(estate.banner),
            "xdm:options": [option],
        }
        assert await estate.ask(body) == (200, answer(proposition))


async def test_an_image_link_is_served_as_adobes_imagelink_component() -> None:
    async with session() as emu:
        image = await emu.create(
            "/placements", {"name": "Image", "componentType": "imagelink", "channel": WEB}
        )
        component = {
            "type": "imagelink",
            "format": "image/png",
            "deliveryURL": "https://cdn.example.com/free.png",
            "linkURL": "https://www.example.com/free",
        }
        body = fallback(image, "Default", status="approved")
        body["representations"][0]["components"] = [component]
        fallback_id = await emu.create("/offers?offer-type=fallback", body)
        collection_id = await emu.create("/offer-collections", collection([]))
        decision_id = await emu.create(
            "/offer-decisions",
            {
                "name": "Images",
                "status": "live",
                "fallback": fallback_id,
                "criteria": [{"placements": [image], "optionSelection": {"filter": collection_id}}],
            },
        )
        estate = Estate(emu, image, image, "", "", "", fallback_id, collection_id, decision_id)
        format_ = {"xdm:responseFormat": {"xdm:includeContent": True}}
        _, document = await estate.ask(estate.request(image, email="anyone@example.com", **format_))
        assert document["xdm:propositions"][0]["xdm:fallback"] == {
            **estate.named(fallback_id),
            "@type": "https://ns.adobe.com/experience/decisioning/content-component-imagelink",
            "xdm:content": "https://www.example.com/free",
            "xdm:deliveryURL": "https://cdn.example.com/free.png",
            "dc:format": "image/png",
        }


async def test_an_unknown_identity_gets_only_the_fallback_where_it_has_a_representation() -> None:
    async with session() as emu:
        estate = await _estate(emu)
        # The fallback represents the banner only: the side placement gets no proposition.
        assert await estate.ask(estate.request(email="stranger@example.com")) == (
            200,
            answer(estate.proposition(estate.banner, estate.fallback, fallback=True)),
        )


async def test_a_profile_is_seeded_per_sandbox() -> None:
    async with session() as emu:
        await _estate(emu)  # seeds gold@example.com in sandbox prod
        emu.sandbox = "dev"
        dev = await _estate(emu, seeded=False)
        assert await dev.ask(dev.request()) == (
            200,
            answer(dev.proposition(dev.banner, dev.fallback, fallback=True)),
        )


async def test_identities_are_looked_up_primary_first() -> None:
    async with session() as emu:
        estate = await _estate(emu)
        body = estate.request()
        body["xdm:profiles"] = [
            {
                "xdm:identityMap": {
                    "Email": [{"xdm:id": "silver@example.com"}],
                    "CRMID": [{"xdm:id": "nobody"}, {"xdm:id": "gold@example.com"}],
                }
            }
        ]
        _, first_known = await estate.ask(body)
        assert first_known["xdm:propositions"][0]["xdm:options"] == [estate.named(estate.shipping)]
        body["xdm:profiles"][0]["xdm:identityMap"]["Email"].insert(
            0, {"xdm:id": "gold@example.com", "primary": True}
        )
        _, primary = await estate.ask(body)
        assert primary["xdm:propositions"][0]["xdm:options"] == [estate.named(estate.sale)]


@pytest.mark.parametrize(
    ("flags", "side"),
    [
        (None, "sale"),
        ({"xdm:acrossPlacements": True, "xdm:acrossActivities": True}, "sale"),
        ({"xdm:acrossPlacements": False}, "returns"),
    ],
)
async def test_across_placements_false_deduplicates_the_requested_placements(
    flags: dict[str, bool] | None, side: str
) -> None:
    async with session() as emu:
        estate = await _estate(emu)
        extra = {"xdm:allowDuplicatePropositions": flags} if flags is not None else {}
        _, document = await estate.ask(estate.request(**extra))
        served = [p["xdm:options"][0]["xdm:id"] for p in document["xdm:propositions"]]
        assert served == [estate.sale, getattr(estate, side)]


async def test_a_placement_that_disallows_duplicates_wins_over_the_request_flag() -> None:
    async with session() as emu:
        estate = await _estate(emu, side={"allowDuplicatePlacements": False})
        flags = {"xdm:acrossPlacements": True}
        _, document = await estate.ask(estate.request(**{"xdm:allowDuplicatePropositions": flags}))
        served = [p["xdm:options"][0]["xdm:id"] for p in document["xdm:propositions"]]
        assert served == [estate.sale, estate.returns]


async def test_only_the_requested_placements_are_served() -> None:
    async with session() as emu:
        estate = await _estate(emu, side={"allowDuplicatePlacements": False})
        # The side placement alone: the banner, not requested, takes nothing from it.
        _, document = await estate.ask(estate.request(estate.side))
        assert document["xdm:propositions"] == [estate.proposition(estate.side, estate.sale)]


async def test_across_activities_false_keeps_an_option_to_the_first_activity() -> None:
    async with session() as emu:
        estate = await _estate(emu)
        second = await emu.create(
            "/offer-decisions",
            {
                "name": "Second",
                "status": "live",
                "fallback": estate.fallback,
                "criteria": [
                    {
                        "placements": [estate.banner],
                        "optionSelection": {"filter": estate.collection},
                    }
                ],
            },
        )
        requests = [
            {"xdm:activityId": estate.decision, "xdm:placementId": estate.banner},
            {"xdm:activityId": second, "xdm:placementId": estate.banner},
        ]
        served = []
        for across in (True, False):
            body = estate.request(
                **{"xdm:allowDuplicatePropositions": {"xdm:acrossActivities": across}}
            )
            body["xdm:propositionRequests"] = requests
            _, document = await estate.ask(body)
            served.append([p["xdm:options"][0]["xdm:id"] for p in document["xdm:propositions"]])
        assert served == [[estate.sale, estate.sale], [estate.sale, estate.shipping]]


async def test_item_count_replaces_the_placements_own() -> None:
    async with session() as emu:
        estate = await _estate(emu)
        body = estate.request()
        body["xdm:propositionRequests"][0]["xdm:itemCount"] = 3
        _, document = await estate.ask(body)
        options = document["xdm:propositions"][0]["xdm:options"]
        assert [o["xdm:id"] for o in options] == [estate.sale, estate.shipping, estate.returns]


async def test_the_answer_is_made_at_the_servers_clock() -> None:
    async with session() as emu:
        estate = await _estate(emu)
        later = {"startDate": "2027-02-01T00:00:00.000Z", "profileConstraintType": "none"}
        patched = await emu.call(
            "PATCH",
            f"/offers/{estate.shipping}?offer-type=personalized",
            json=[{"op": "replace", "path": "/selectionConstraint", "value": later}],
        )
        assert patched.status_code == 200, patched.text
        # 2027-01-15 on the server's clock: shipping has not started, returns is served instead.
        _, document = await estate.ask(estate.request(email="silver@example.com"))
        options = [p["xdm:options"][0] for p in document["xdm:propositions"]]
        assert options == [estate.named(estate.returns), estate.named(estate.returns)]
        assert document["ode:createDate"] == MILLIS


async def test_the_request_id_and_decision_request_id_are_echoed() -> None:
    async with session() as emu:
        estate = await _estate(emu)
        body = estate.request(estate.banner)
        body["xdm:profiles"][0]["xdm:decisionRequestId"] = "0AA00002"
        sent = {**emu.headers, "Content-Type": REQUEST_TYPE, "Accept": RESPONSE_TYPE}
        response = await emu.http.post(
            ODS, headers={**sent, "x-request-id": "r-1"}, content=json.dumps(body).encode()
        )
        assert (response.headers["x-request-id"], response.json()["xdm:decisionRequestId"]) == (
            "r-1",
            "0AA00002",
        )


BAD_REQUESTS: list[tuple[str, Any, dict[str, str], int, str]] = [
    (
        "Content-Type is not the decision-request type",
        "request",
        {"Content-Type": "application/json"},
        400,
        f"Content-Type must be {REQUEST_TYPE}",
    ),
    (
        "Accept is not the decision-response type",
        "request",
        {"Accept": "application/json"},
        400,
        f"Accept must be {RESPONSE_TYPE}",
    ),
    (
        "the schema of the media type is another",
        "request",
        {"Content-Type": f'{XDM}; schema="{NS}decision-response;version=1.0"'},
        400,
        f"Content-Type must be {REQUEST_TYPE}",
    ),
    (
        "not JSON",
        b"{",
        {},
        400,
        "the request body is not valid JSON: Expecting property name enclosed in double quotes "
        "(line 1, column 2)",
    ),
    ("not an object", [], {}, 400, "the body of a decision request must be a JSON object"),
    (
        "a property the page does not define",
        {"xdm:context": {}},
        {},
        400,
        "/xdm:context: is not a property of a decision request (Adobe's page does not define it)",
    ),
    (
        "no proposition requests",
        {"xdm:propositionRequests": []},
        {},
        400,
        "/xdm:propositionRequests: List should have at least 1 item after validation, not 0",
    ),
    (
        "two profiles",
        {"xdm:profiles": [{"xdm:identityMap": {"Email": [{"xdm:id": "a"}]}}] * 2},
        {},
        400,
        "/xdm:profiles: List should have at most 1 item after validation, not 2",
    ),
    (
        "no identity map",
        {"xdm:profiles": [{}]},
        {},
        400,
        "/xdm:profiles/0/xdm:identityMap: Field required",
    ),
    (
        "an identity without an id",
        {"xdm:profiles": [{"xdm:identityMap": {"Email": [{"primary": True}]}}]},
        {},
        400,
        "/xdm:profiles/0/xdm:identityMap/Email/0/xdm:id: Field required",
    ),
    (
        "metadata the page does not list",
        {"xdm:responseFormat": {"xdm:includeMetadata": {"xdm:option": ["priority"]}}},
        {},
        400,
        "/xdm:responseFormat/xdm:includeMetadata/xdm:option/0: Input should be 'name' or "
        "'characteristics'",
    ),
    (
        "an item count over 30",
        {
            "xdm:propositionRequests": [
                {"xdm:activityId": "a", "xdm:placementId": "p", "xdm:itemCount": 31}
            ]
        },
        {},
        400,
        "/xdm:propositionRequests/0/xdm:itemCount: Input should be less than or equal to 30",
    ),
]


@pytest.mark.parametrize(
    ("body", "headers", "status", "detail"),
    [row[1:] for row in BAD_REQUESTS],
    ids=[row[0] for row in BAD_REQUESTS],
)
async def test_a_request_the_page_does_not_define_is_refused(
    body: Any, headers: dict[str, str], status: int, detail: str
) -> None:
    async with session() as emu:
        estate = await _estate(emu)
        if body == "request":
            sent: Any = estate.request()
        elif isinstance(body, dict):
            sent = {**estate.request(), **body}
        else:
            sent = body
        content = sent if isinstance(sent, bytes) else json.dumps(sent).encode()
        base = {**emu.headers, "Content-Type": REQUEST_TYPE, "Accept": RESPONSE_TYPE}
        response = await emu.http.post(ODS, headers={**base, **headers}, content=content)
        problem = response.json()
        assert (response.status_code, response.headers["content-type"], problem["title"]) == (
            status,
            "application/problem+json",
            "BadRequestError",
        )
        assert problem["detail"] == detail


async def test_ids_the_sandbox_does_not_serve_are_unprocessable() -> None:
    async with session() as emu:
        estate = await _estate(emu)
        draft = await emu.create(
            "/offer-decisions",
            {
                "name": "Draft",
                "status": "draft",
                "fallback": estate.fallback,
                "criteria": [
                    {
                        "placements": [estate.banner],
                        "optionSelection": {"filter": estate.collection},
                    }
                ],
            },
        )
        other = await emu.create("/placements", placement("Other"))
        where = "/xdm:propositionRequests/0"
        rows = [
            (
                {"xdm:activityId": estate.sale, "xdm:placementId": estate.banner},
                f"{where}/xdm:activityId: no decision {estate.sale} in sandbox prod",
            ),
            (
                {"xdm:activityId": estate.decision, "xdm:placementId": estate.sale},
                f"{where}/xdm:placementId: no placement {estate.sale} in sandbox prod",
            ),
            (
                {"xdm:activityId": estate.decision, "xdm:placementId": other},
                f"{where}/xdm:placementId: the decision {estate.decision} has no criterion for "
                f"placement {other}",
            ),
            (
                {"xdm:activityId": draft, "xdm:placementId": estate.banner},
                f"{where}/xdm:activityId: the decision {draft} is draft: only live decisions "
                "are served",
            ),
        ]
        answers = []
        for proposition, _ in rows:
            body = {**estate.request(), "xdm:propositionRequests": [proposition]}
            status, document = await estate.ask(body)
            answers.append((status, document["detail"]))
        assert answers == [(422, detail) for _, detail in rows]


async def test_the_gateway_and_the_fault_injector_stand_in_front_of_it() -> None:
    async with session(settings=EmulatorSettings(error_rate=1.0)) as emu:
        response = await emu.http.post(ODS, content=b"{}")
        assert (response.status_code, response.json()) == (
            401,
            {"error_code": "403010", "message": "Oauth token is missing."},
        )
        sent = {**emu.headers, "Content-Type": REQUEST_TYPE, "Accept": RESPONSE_TYPE}
        injected = await emu.http.post(ODS, headers=sent, content=b"{}")
        assert injected.status_code in (500, 502, 503)


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (
            {"attributes": [], "audiences": []},
            "/attributes: must be a JSON object of XDM attributes",
        ),
        ({"audiences": [1]}, "/audiences: must be a list of audience ids"),
        ({"context": {}}, 'a profile is {"attributes": {...}, "audiences": ["<audience id>"]}'),
    ],
)
async def test_a_seeded_profile_is_attributes_and_audiences(body: Any, detail: str) -> None:
    async with session() as emu:
        response = await emu.http.put(
            "/_emulator/profiles/Email/a@example.com", headers=emu.headers, json=body
        )
        assert (response.status_code, response.json()["detail"]) == (400, detail)


async def test_a_seeded_profile_is_answered_back() -> None:
    async with session() as emu:
        response = await emu.http.put(
            "/_emulator/profiles/ECID/0123%2F456",
            headers=emu.headers,
            json={"attributes": GOLD, "audiences": ["b", "a"]},
        )
        assert (response.status_code, response.json()) == (
            200,
            {"namespace": "ECID", "id": "0123/456", "attributes": GOLD, "audiences": ["a", "b"]},
        )
