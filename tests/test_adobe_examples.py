"""Every request example of Adobe's Offer Library pages, replayed against the emulator.

The examples are data (`conformance/adobe-examples`, see its SOURCE.md): method, path, query,
headers, body and the documented answer. Each replay starts a fresh emulator, creates the
objects the example names by placeholder (`tag1234`, `offerItem1234`, `rule1234`...) and puts
their real ids in its place, sends the request as documented, and compares the answer with the
documented one: the status when the page gives one (else 201 for a create, 200 otherwise), the
keys of a receipt or a read, the envelope keys of a list. A lookup's object is created from the
documented read itself, so the read must come back with the same keys: the envelope the
emulator adds and the fields the server owns.

Where a page contradicts itself (the file's `notes`), READINGS says which reading the emulator
takes and the replay asserts it, sometimes with a further request.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from emulator_support import ORG, SANDBOX, Session, session

from reconciler.emulator.settings import (
    EMBEDDED_CATALOG,
    EMBEDDED_SCHEMA,
    EMBEDDED_TENANT,
    EmulatorSettings,
)

pytestmark = pytest.mark.anyio

EXAMPLES = Path(__file__).resolve().parent / "adobe-examples"  # vendored from conformance/
FILES = sorted(
    path.relative_to(EXAMPLES).with_suffix("").as_posix() for path in EXAMPLES.glob("*/*.json")
)
BASE = "/data/core/dps"
ENVELOPE = ("created", "modified", "etag", "schemas", "createdBy", "lastModifiedBy", "id")
WEB = "https://ns.adobe.com/xdm/channel-types/web"
PQL = {"type": "PQL", "format": "pql/text"}
EXD_PLACEMENT_IDS = ("dps:exd-placement:19c5fa7448c6fcab", "dps:exd-placement:19aca09b0a456e57")
CATALOG_PLACEHOLDERS = ("itemCatalong1234", "itemCatalog1234")
TENANT_PLACEHOLDERS = ("_<imsOrg>", "YOUR_CUSTOM_ATTRIBUTES")


# --- the objects examples name by placeholder ---------------------------------------------------

Fixture = tuple[str, dict[str, Any]]
"""Where an object is created (collection path and query) and its body (placeholders allowed)."""

LEGACY: dict[str, Fixture] = {
    "tag1234": ("/tags", {"name": "Sneakers", "description": "Shoes"}),
    "offerPlacement1234": (
        "/placements",
        {"name": "Web banner", "description": "Top", "componentType": "html", "channel": WEB},
    ),
    "offerPlacement5678": (
        "/placements",
        {"name": "Web side", "description": "Side", "componentType": "imagelink", "channel": WEB},
    ),
    "offerRule1234": (
        "/offer-rules",
        {
            "name": "Gold members",
            "description": "Gold tier",
            "condition": {**PQL, "value": 'profile.loyalty.tier.equals("gold", false)'},
        },
    ),
    "personalizedOffer1234": (
        "/offers?offer-type=personalized",
        {
            "name": "Summer sale",
            "description": "60% off",
            "status": "draft",
            "representations": [
                {
                    "channel": WEB,
                    "placement": "offerPlacement1234",
                    "components": [
                        {"type": "html", "format": "text/html", "content": "<p>60%</p>"}
                    ],
                }
            ],
            "selectionConstraint": {"profileConstraintType": "none"},
        },
    ),
    "fallbackOffer1234": (
        "/offers?offer-type=fallback",
        {
            "name": "Free shipping",
            "description": "Always",
            "status": "approved",
            "representations": [
                {
                    "channel": WEB,
                    "placement": "offerPlacement1234",
                    "components": [
                        {"type": "html", "format": "text/html", "content": "<p>Free</p>"}
                    ],
                }
            ],
        },
    ),
    "offerCollection1234": (
        "/offer-collections",
        {
            "name": "Summer offers",
            "description": "Summer",
            "filterType": "offers",
            "ids": ["personalizedOffer1234"],
        },
    ),
    "offerDecision1234": (
        "/offer-decisions",
        {
            "name": "Home page",
            "description": "Home",
            "status": "draft",
            "fallback": "fallbackOffer1234",
            "criteria": [
                {
                    "placements": ["offerPlacement1234"],
                    "optionSelection": {"filter": "offerCollection1234"},
                }
            ],
        },
    ),
}

DECISIONING: dict[str, Fixture] = {
    "rule1234": (
        "/offer-rules",
        {
            "name": "Winter shoppers",
            "description": "Bought a coat",
            "exdRule": True,
            "condition": {**PQL, "value": 'homeAddress.city.equals("Oslo", false)'},
        },
    ),
    "rankingFormula1234": (
        "/ranking-formulas",
        {
            "name": "Margin first",
            "description": "Higher margin first",
            "exdFunction": True,
            "returnType": {"type": "integer"},
            "expression": {**PQL, "value": "offer.rank.priority * 2"},
        },
    ),
    "offerItem1234": (
        "/offer-items",
        {
            "_experience": {
                "decisioning": {
                    "offeritem": {"lifecycleStatus": "draft"},
                    "decisionitem": {
                        "itemName": "Winter coat",
                        "itemDescription": "A warm coat",
                        "itemPriority": 10,
                        "itemCatalogID": "itemCatalong1234",
                    },
                }
            },
            "_<imsOrg>": {"category": "apparel"},
        },
    ),
    "itemCollection1234": (
        "/item-collections",
        {
            "name": "Winter apparel",
            "description": "Apparel",
            "constraints": [
                {
                    "itemCatalogId": "itemCatalog1234",
                    "uiModel": '{"operator":"equals","value":{"left":"_reconciler.category","right":"apparel"}}',
                }
            ],
        },
    ),
    "selectionStrategy1234": (
        "/selection-strategies",
        {
            "name": "Apparel first",
            "description": "Apparel",
            "rank": {"priority": 1, "order": {"orderEvaluationType": "static"}},
            "optionSelection": {"filter": "itemCollection1234"},
        },
    ),
    **{
        placeholder: (
            "/exd-placements",
            {
                "name": f"Home hero {index}",
                "description": "The hero slot",
                "channel": "https://ns.adobe.com/xdm/channel-types/email",
                "status": "active",
            },
        )
        for index, placeholder in enumerate(EXD_PLACEMENT_IDS)
    },
}
ACTIVITY = "dps:offer-activity:15ded04b1786ea27"
PLACEMENT = "dps:offer-placement:15d9bc01d35e1238"
RUNTIME: dict[str, Fixture] = {
    PLACEMENT: LEGACY["offerPlacement1234"],
    "runtimeRule1234": LEGACY["offerRule1234"],
    "runtimeOffer1234": (
        "/offers?offer-type=personalized",
        {
            **LEGACY["personalizedOffer1234"][1],
            "status": "approved",
            "representations": [
                {
                    "channel": WEB,
                    "placement": PLACEMENT,
                    "components": [
                        {"type": "html", "format": "text/html", "content": "<html>some html</html>"}
                    ],
                }
            ],
            "selectionConstraint": {
                "profileConstraintType": "eligibilityRule",
                "eligibilityRule": "runtimeRule1234",
            },
        },
    ),
    "runtimeFallback1234": (
        "/offers?offer-type=fallback",
        {
            **LEGACY["fallbackOffer1234"][1],
            "representations": [
                {
                    "channel": WEB,
                    "placement": PLACEMENT,
                    "components": [
                        {"type": "html", "format": "text/html", "content": "<p>Free</p>"}
                    ],
                }
            ],
        },
    ),
    "runtimeCollection1234": (
        "/offer-collections",
        {"name": "Runtime offers", "filterType": "offers", "ids": ["runtimeOffer1234"]},
    ),
    ACTIVITY: (
        "/offer-decisions",
        {
            "name": "Home page",
            "status": "live",
            "fallback": "runtimeFallback1234",
            "criteria": [
                {"placements": [PLACEMENT], "optionSelection": {"filter": "runtimeCollection1234"}}
            ],
        },
    ),
}
"""The Decisioning API example's estate: its activity and placement ids stand for a live
decision of a placement, whose offer only a gold member is eligible for."""
EXAMPLE_PROFILE = ("Email", "example@adobe.com", {"loyalty": {"tier": "gold"}})
"""The example's identity, seeded into the emulator's profile store before the request."""

ALIASES = {"itemCollections1234": "itemCollection1234", "offerRule1234": "rule1234"}
"""Decisioning pages' other names for their objects (in a Decisioning page, offerRule1234 is
an eligibility rule: a selection strategy references it)."""


@dataclass
class Estate:
    """The objects one replay needs, created on first mention; placeholders become their ids."""

    emu: Session
    fixtures: dict[str, Fixture]
    aliases: dict[str, str]
    ids: dict[str, str] = field(default_factory=dict)

    @property
    def pattern(self) -> re.Pattern[str]:
        names = sorted(
            {*self.fixtures, *self.aliases, *CATALOG_PLACEHOLDERS}, key=len, reverse=True
        )
        return re.compile(r"\b(" + "|".join(re.escape(name) for name in names) + r")\b")

    async def id_of(self, placeholder: str, body: dict[str, Any] | None = None) -> str:
        """The real id of a placeholder; creates its object (from `body` if given) if needed."""
        if placeholder in CATALOG_PLACEHOLDERS:
            return EMBEDDED_CATALOG
        name = self.aliases.get(placeholder, placeholder)
        if name not in self.ids:
            path, default = self.fixtures[name]
            sent = await self.substitute(body if body is not None else default)
            response = await self.emu.call("POST", path, json=sent, headers=headers_for(path))
            assert response.status_code == 201, f"{name}: {response.text}"
            self.ids[name] = str(response.json()["id"])
        return self.ids[name]

    async def substitute(self, value: Any) -> Any:
        """The value with every placeholder id and tenant key replaced by a real one."""
        if isinstance(value, str):
            for placeholder in set(self.pattern.findall(value)):
                value = re.sub(
                    rf"\b{re.escape(placeholder)}\b", await self.id_of(placeholder), value
                )
            return value.replace("{SCHEMA_ID}", EMBEDDED_SCHEMA)
        if isinstance(value, list):
            return [await self.substitute(item) for item in value]
        if isinstance(value, dict):
            return {
                (EMBEDDED_TENANT if key in TENANT_PLACEHOLDERS else key): await self.substitute(
                    item
                )
                for key, item in value.items()
            }
        return value


def headers_for(path: str) -> dict[str, str]:
    return {"x-schema-id": EMBEDDED_SCHEMA} if path.startswith("/offer-items") else {}


# --- the readings of the pages' contradictions ---------------------------------------------------


@dataclass(frozen=True)
class Replay:
    """One example replayed: what was sent and answered, with the estate it ran on."""

    example: dict[str, Any]
    path: str
    response: httpx.Response
    emu: Session
    estate: Estate

    async def send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return await self.emu.call(method, path, **kwargs)


Check = Callable[[Replay], Awaitable[None]]


@dataclass(frozen=True)
class Reading:
    """How the emulator reads a page that contradicts itself, and how the replay asserts it."""

    why: str
    status: int | None = None
    """The status the emulator answers, when not the documented (or default) one."""
    receipt: tuple[frozenset[str], frozenset[str]] = (frozenset(), frozenset())
    """Receipt keys the emulator adds, and documented ones it leaves out."""
    etag: int | None = None
    """The receipt's etag, when the page shows another."""
    settings: EmulatorSettings | None = None
    fixture: dict[str, Any] = field(default_factory=dict)
    """Fields a lookup's documented read gets before its object is created from it."""
    check: Check | None = None


async def _decision_on_the_dps_path(replay: Replay) -> None:
    body = await replay.estate.substitute(replay.example["body"])
    answer = await replay.send("POST", "/offer-decisions", json=body)
    assert answer.status_code == 201, answer.text
    assert set(answer.json()) == set(replay.example["response"]["body"])


async def _also_put(replay: Replay) -> None:
    collection = "/" + replay.path.split("/")[1]
    body = await replay.estate.substitute(replay.example["body"])
    answer = await replay.send("PUT", replay.path, json=body)
    assert (answer.status_code, answer.json()["etag"]) == (200, 3)
    read = await replay.emu.get(replay.path)
    assert read["name"] == body["name"]
    if collection == "/ranking-formulas":
        assert (read["returnType"], read["isPure"]) == ({"type": "INTEGER"}, True)


async def _put_merges(replay: Replay) -> None:
    read = await replay.emu.get(replay.path)
    assert (read["name"], read["description"], read["status"]) == (
        "Home hero 1",
        "Keyboard application",
        "archived",
    )
    patched = await replay.send("PATCH", replay.path, json=[{"op": "remove", "path": "/status"}])
    assert patched.status_code == 405


async def _placeholder_key_is_not_a_tenant(replay: Replay) -> None:
    path, body = DECISIONING["offerItem1234"]
    sent = await replay.estate.substitute(body)
    sent["YOUR_CUSTOM_ATTRIBUTES"] = sent.pop(EMBEDDED_TENANT)
    answer = await replay.send("POST", path, json=sent, headers=headers_for(path))
    assert answer.status_code == 422
    assert "/YOUR_CUSTOM_ATTRIBUTES: is not a known field" in answer.json()["detail"]


async def _links_keep_the_filter(replay: Replay) -> None:
    links = replay.response.json()["_links"]
    assert "property=exdRule%3D%3Dtrue" in links["self"]["href"]


async def _links_keep_the_formula_filter(replay: Replay) -> None:
    assert "property=exdFunction%3D%3Dtrue" in replay.response.json()["_links"]["self"]["href"]


async def _api_format_path_is_not_served(replay: Replay) -> None:
    path, body = DECISIONING["rule1234"]
    rule_id = (await replay.send("POST", path, json={**body, "name": "Other"})).json()["id"]
    answer = await replay.send("DELETE", f"/eligibility-rules/{rule_id}")
    assert answer.status_code == 404
    assert (await replay.send("DELETE", f"/offer-rules/{rule_id}")).status_code == 200


async def _list_body_is_ignored(replay: Replay) -> None:
    assert replay.response.json()["count"] == 1


async def _offer_type_in_any_case(replay: Replay) -> None:
    listed = await replay.emu.get("/offers?offer-type=PERSONALIZED&limit=2")
    assert listed["total"] == 1
    assert listed["_links"]["self"]["href"].endswith("&offer-type=PERSONALIZED")


async def _one_proposition_as_asked(replay: Replay) -> None:
    [proposition] = replay.response.json()["xdm:propositions"]
    ids = (proposition["xdm:activity"]["xdm:id"], proposition["xdm:placement"]["xdm:id"])
    assert ids == (await replay.estate.id_of(ACTIVITY), await replay.estate.id_of(PLACEMENT))
    offer = await replay.estate.id_of("runtimeOffer1234")
    assert [option["xdm:id"] for option in proposition["xdm:options"]] == [offer]


LISTED_PATH = "the `_links` hrefs keep every filter sent (following `next` must not drop it)"
READINGS: dict[str, Reading] = {
    "runtime/decisions-deliver": Reading(
        "The answer shows two propositions, with other activity and placement ids, for one "
        "proposition request: the emulator answers one proposition per request, with the ids "
        "asked. The curl's `Bearer {ACCESS_TOKEN}....` is read as the token and an ellipsis. "
        "The request asks for names as metadata and the documented answer shows none: names "
        "are checked, not shown.",
        check=_one_proposition_as_asked,
    ),
    "legacy/activities-create": Reading(
        "The curl posts to /data/core/offer-decisions (no /dps): not an endpoint (404); the "
        "same request on the documented /data/core/dps path creates the decision.",
        status=404,
        check=_decision_on_the_dps_path,
    ),
    "legacy/fallback-offers-create": Reading(
        "The receipt shows etag 2 on a create: a create's etag is 1 (§10.3).", etag=1
    ),
    "legacy/fallback-offers-update": Reading(
        "The receipt adds `datasetId`: the emulator's receipts are §2.2's, without it (§10.16).",
        receipt=(frozenset(), frozenset({"datasetId"})),
    ),
    "decisioning/exd-placements-create": Reading(
        "The receipt lacks createdByClientId and shows etag 2: the emulator answers §2.2's "
        "receipt with etag 1 (§10.3, §10.16).",
        receipt=(frozenset({"createdByClientId"}), frozenset()),
        etag=1,
    ),
    "decisioning/exd-placements-update": Reading(
        "PUT with a partial body (`--X` read as the body): its top-level fields replace, the "
        "others are kept; exd placements take no JSON Patch (405).",
        check=_put_merges,
    ),
    "decisioning/exd-placements-list": Reading(
        "A GET list with a body: the body is ignored.", check=_list_body_is_ignored
    ),
    "decisioning/eligibility-rules-update": Reading(
        "Text says PUT, curl sends PATCH, both with a full object: both replace the rule whole.",
        check=_also_put,
    ),
    "decisioning/ranking-formulas-update": Reading(
        "Text says PUT, curl sends PATCH, both with a full object: both replace the formula "
        "whole; returnType is read upper-case.",
        check=_also_put,
    ),
    "decisioning/eligibility-rules-delete": Reading(
        "API format says /eligibility-rules/{ID}, curl says /offer-rules: /offer-rules is the "
        "collection; /eligibility-rules is no endpoint.",
        check=_api_format_path_is_not_served,
    ),
    "decisioning/eligibility-rules-list": Reading(
        "The documented self href drops the property filter: " + LISTED_PATH + ".",
        check=_links_keep_the_filter,
    ),
    "decisioning/ranking-formulas-list": Reading(
        "The documented self href drops the property filter: " + LISTED_PATH + ".",
        check=_links_keep_the_formula_filter,
    ),
    "legacy/personalized-offers-list": Reading(
        "offer-type is sent lower-case, shown upper-case in the paging examples: any case is "
        "accepted, links echo it upper-case.",
        check=_offer_type_in_any_case,
    ),
    "decisioning/eligibility-rules-lookup": Reading(
        "Reads of eligibility rules show a server-derived segmentModel: the emulator derives "
        "one with server_defaults. The lookup shows `exdRule: false` for the rule the list page "
        "shows with `exdRule: true` (same id): true is read, it is what makes an eligibility "
        "rule (with false it would be a legacy decision rule, which has no segmentModel).",
        settings=EmulatorSettings(server_defaults=True),
        fixture={"exdRule": True},
    ),
    "decisioning/decisions-items-list": Reading(
        "Custom attributes under `_<imsOrg>` (text) or `YOUR_CUSTOM_ATTRIBUTES` (a result): "
        "both are placeholders of the catalog's tenant key; a literal YOUR_CUSTOM_ATTRIBUTES "
        "key is refused.",
        check=_placeholder_key_is_not_a_tenant,
    ),
}
"""The files whose contradictions need more than the generic checks. The other notes are
answered by those: a read returns the id asked for (whatever id the page's answer shows) and no
`@id` or container ids; a list whose paging table says `orderBy` is replayed with `orderBy` too
(both spellings sort); the rest is wording (a page naming another kind, a rule's name its PQL
does not match, a curl's host or quoting) that no request can check."""


# --- the replay -----------------------------------------------------------------------------------


def _load(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EXAMPLES / f"{name}.json").read_text())
    return loaded


def test_all_65_examples_are_replayed() -> None:
    assert EXAMPLES.is_dir(), (
        f"{EXAMPLES}: Adobe's examples are missing (see conformance/adobe-examples)"
    )
    assert len(FILES) == 65
    assert set(READINGS) <= set(FILES)


@pytest.mark.parametrize("name", FILES)
async def test_an_adobe_example_replays_as_documented(name: str) -> None:
    example = _load(name)
    reading = READINGS.get(name, Reading(""))
    async with session(settings=reading.settings) as emu:
        decisioning, runtime = name.startswith("decisioning/"), name.startswith("runtime/")
        estate = Estate(
            emu,
            RUNTIME if runtime else {**LEGACY, **DECISIONING} if decisioning else LEGACY,
            ALIASES if decisioning else {},
        )
        if runtime:
            namespace, identity, attributes = EXAMPLE_PROFILE
            seeded = await emu.http.put(
                f"/_emulator/profiles/{namespace}/{identity}",
                headers=emu.headers,
                json={"attributes": attributes},
            )
            assert seeded.status_code == 200, seeded.text
        documented = example["response"]["body"]
        method, path = example["method"], example["path"].removeprefix(BASE)
        if method == "GET" and not _is_list(documented):
            # A lookup's object is the documented read itself, less its envelope.
            payload = {k: v for k, v in documented.items() if k not in ENVELOPE} | reading.fixture
            await estate.id_of(path.rsplit("/", 1)[-1], payload)
        elif method == "GET":
            await estate.id_of(_LISTED[(path, example["query"].get("offer-type"))])
        response = await _send(emu, estate, example)
        path = await estate.substitute(path)
        expected = (
            reading.status or example["response"]["status"] or (201 if method == "POST" else 200)
        )
        assert response.status_code == expected, response.text
        if expected < 300 and runtime:
            _compare_propositions(response, documented)
        elif expected < 300:
            _compare(method, path, response, documented, reading)
        if any("`orderBy`" in note for note in example["notes"]):
            query = "".join(f"&{key}={value}" for key, value in example["query"].items())
            url = f"{path}?orderBy=-modified{query}"
            again = await emu.call("GET", url, headers=headers_for(path))
            assert (again.status_code, again.json()["total"]) == (200, response.json()["total"])
        if reading.check is not None:
            await reading.check(Replay(example, path, response, emu, estate))


def _is_list(body: Any) -> bool:
    return isinstance(body, dict) and "results" in body


_LISTED = {
    ("/tags", None): "tag1234",
    ("/placements", None): "offerPlacement1234",
    ("/offer-rules", None): "offerRule1234",
    ("/offers", "personalized"): "personalizedOffer1234",
    ("/offers", "fallback"): "fallbackOffer1234",
    ("/offer-collections", None): "offerCollection1234",
    ("/offer-decisions", None): "offerDecision1234",
    ("/ranking-formulas", None): "rankingFormula1234",
    ("/offer-items", None): "offerItem1234",
    ("/item-collections", None): "itemCollection1234",
    ("/selection-strategies", None): "selectionStrategy1234",
    ("/exd-placements", None): EXD_PLACEMENT_IDS[0],
}
"""The object each list example is given to list."""


async def _send(emu: Session, estate: Estate, example: dict[str, Any]) -> httpx.Response:
    """The documented request: its headers (credentials filled in), query as written, body."""
    credentials = {
        "{ACCESS_TOKEN}....": emu.token,
        "{ACCESS_TOKEN}": emu.token,
        "{API_KEY}": emu.client_id,
        "{IMS_ORG}": ORG,
        "{SANDBOX_NAME}": SANDBOX,
    }
    headers = {}
    for header, value in example["headers"].items():
        for placeholder, real in credentials.items():
            value = value.replace(placeholder, real)
        headers[header] = await estate.substitute(value)
    pairs = [f"{key}={await estate.substitute(value)}" for key, value in example["query"].items()]
    query = "&".join(pairs)
    body = example["body"]
    content = None if body is None else json.dumps(await estate.substitute(body)).encode()
    url = await estate.substitute(example["path"]) + (f"?{query}" if query else "")
    return await emu.http.request(example["method"], url, headers=headers, content=content)


def _compare(
    method: str, path: str, response: httpx.Response, documented: Any, reading: Reading
) -> None:
    if documented is None:
        assert response.content == b""
        return
    answer = response.json()
    if method in ("POST", "PATCH", "PUT"):
        added, dropped = reading.receipt
        assert set(answer) == (set(documented) | added) - dropped
        assert answer["etag"] == (reading.etag or documented["etag"])
    elif _is_list(documented):
        assert set(answer) == set(documented)
        assert answer["count"] == len(answer["results"]) >= 1
    else:
        assert set(answer) == {_tenant(key) for key in documented}
        assert answer["id"] == path.rsplit("/", 1)[-1]  # the id asked for, whatever the page shows


def _compare_propositions(response: httpx.Response, documented: Any) -> None:
    """A Decisioning API answer: the documented keys, each proposition's objects named by id
    and etag, each option (or fallback) with keys the documented ones have."""
    answer = response.json()
    assert set(answer) == set(documented)
    shown = documented["xdm:propositions"]
    served = [o for p in shown for o in (*p.get("xdm:options", ()), p.get("xdm:fallback")) if o]
    option_keys = {key for option in served for key in option}
    assert answer["xdm:propositions"]
    for proposition in answer["xdm:propositions"]:
        assert set(proposition) in ({*shown[0]}, {*shown[1]})
        for name in ("xdm:activity", "xdm:placement"):
            assert set(proposition[name]) == set(shown[0][name])
        options = proposition.get("xdm:options") or [proposition["xdm:fallback"]]
        assert all({"xdm:id", "repo:etag"} <= set(o) <= option_keys for o in options)


def _tenant(key: str) -> str:
    return EMBEDDED_TENANT if key in TENANT_PLACEHOLDERS else key
