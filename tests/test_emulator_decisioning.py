"""The Decisioning kinds in the emulator: shapes, the two rule kinds, x-schema-id, updates, limits.

Every call goes over HTTP (httpx's ASGI transport) to a fresh in-memory emulator.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from emulator_support import (
    ID,
    SANDBOX_ID,
    STAMP,
    Session,
    collection,
    decision,
    fallback,
    offer,
    placement,
    rule,
    session,
)

from reconciler.emulator.app import create_app
from reconciler.emulator.faults import WriteFault
from reconciler.emulator.settings import (
    DEFAULT_LIMITS,
    EMBEDDED_CATALOG,
    EMBEDDED_SCHEMA,
    EMBEDDED_TENANT,
    Catalog,
    EmulatorSettings,
)

pytestmark = pytest.mark.anyio

Ids = dict[str, str]
NS = "https://ns.adobe.com/experience/offer-management/"
EMAIL = "https://ns.adobe.com/xdm/channel-types/email"
ITEM = "/_experience/decisioning/decisionitem"
SCHEMA = {"x-schema-id": EMBEDDED_SCHEMA}
BY = "tester@techacct.adobe.com"
RECEIPT_KEYS = {
    "etag",
    "createdBy",
    "lastModifiedBy",
    "id",
    "sandboxId",
    "createdDate",
    "lastModifiedDate",
    "createdByClientId",
    "lastModifiedByClientId",
}
PQL = {"type": "PQL", "format": "pql/text"}
UI_MODEL = '{"operator":"equals","value":{"left":"_reconciler.category","right":"apparel"}}'


# --- bodies, as Adobe's Decisioning create examples shape them ------------------------------


def formula(name: str = "Margin first", **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "description": "Higher margin first",
        "exdFunction": True,
        "returnType": {"type": "integer"},
        "expression": {**PQL, "value": "offer.rank.priority * 2"},
        **extra,
    }


def eligibility(name: str = "Winter shoppers", **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "description": "Bought a coat",
        "exdRule": True,
        "condition": {**PQL, "value": 'homeAddress.city.equals("Oslo", false)'},
        **extra,
    }


def item(
    rule_id: str | None = None, name: str = "Winter coat", **attributes: Any
) -> dict[str, Any]:
    constraints = (
        {"profileConstraintType": "eligibilityRule", "eligibilityRule": rule_id}
        if rule_id
        else {"profileConstraintType": "none"}
    )
    return {
        "_experience": {
            "decisioning": {
                "offeritem": {"lifecycleStatus": "approved"},
                "decisionitem": {
                    "itemName": name,
                    "itemDescription": "A warm coat",
                    "itemPriority": 10,
                    "itemCatalogID": EMBEDDED_CATALOG,
                    "itemCalendarConstraints": {
                        "startDate": "2026-11-01T00:00:00.000Z",
                        "endDate": "2027-03-01T00:00:00.000Z",
                    },
                    "itemConstraints": constraints,
                },
            }
        },
        EMBEDDED_TENANT: attributes or {"category": "apparel"},
    }


def item_collection(name: str = "Winter apparel", **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "description": "Apparel items",
        "constraints": [{"itemCatalogId": EMBEDDED_CATALOG, "uiModel": UI_MODEL}],
        **extra,
    }


def strategy(
    collection_id: str,
    rule_id: str | None = None,
    formula_id: str | None = None,
    name: str = "Apparel by margin",
) -> dict[str, Any]:
    order: dict[str, Any] = (
        {"orderEvaluationType": "scoringFunction", "function": formula_id}
        if formula_id
        else {"orderEvaluationType": "static"}
    )
    profile: dict[str, Any] = (
        {"profileConstraintType": "eligibilityRule", "eligibilityRule": rule_id}
        if rule_id
        else {"profileConstraintType": "none"}
    )
    return {
        "name": name,
        "description": "Apparel",
        "rank": {"priority": 1, "order": order},
        "profileConstraint": profile,
        "optionSelection": {"filter": collection_id},
    }


def exd_placement(name: str = "Home hero", **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "description": "The hero slot",
        "channel": EMAIL,
        "channelConfiguration": "530b76f9-dcd6-4fd5-8c52-38e29b04a60a",
        "tags": ["3d75b849-b344-402b-9d9e-5d750bd46884"],
        "status": "active",
        **extra,
    }


async def _decisioning(emu: Session) -> Ids:
    """One object of each kind a Decisioning strategy needs."""
    ids: Ids = {}
    ids["rule"] = await emu.create("/offer-rules", eligibility())
    ids["formula"] = await emu.create("/ranking-formulas", formula())
    ids["item"] = await _create_item(emu, item(ids["rule"]))
    ids["collection"] = await emu.create("/item-collections", item_collection())
    ids["strategy"] = await emu.create(
        "/selection-strategies", strategy(ids["collection"], ids["rule"], ids["formula"])
    )
    return ids


async def _create_item(emu: Session, body: dict[str, Any]) -> str:
    response = await emu.call("POST", "/offer-items", json=body, headers=SCHEMA)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _detail(response: Any) -> tuple[int, str]:
    assert response.headers["content-type"] == "application/problem+json", response.text
    return response.status_code, str(response.json()["detail"])


# --- one object of each kind through its whole life ----------------------------------------


def _edited(path: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """The payload after the lifecycle's edit: a new description at `path`."""

    def edit(payload: dict[str, Any]) -> dict[str, Any]:
        changed = copy.deepcopy(payload)
        node = changed
        *parents, last = path.strip("/").split("/")
        for step in parents:
            node = node[step]
        node[last] = "Edited"
        return changed

    return edit


@dataclass(frozen=True)
class Life:
    path: str
    segment: str
    schema: str | None
    body: Callable[[Ids], dict[str, Any]]
    read: Callable[[Ids, str], dict[str, Any]]
    update: str
    """PATCH (a JSON Patch of the description) or PUT (exd placements: a partial body)."""
    edited: Callable[[dict[str, Any]], dict[str, Any]]


def _item_read(ids: Ids, me: str, name: str) -> dict[str, Any]:
    expected = item(ids["rule"], name)
    decisioning = expected["_experience"]["decisioning"]
    decisioning["decisionitem"].update(itemID=me, itemLabels=[], itemTags=[])
    decisioning["offeritem"]["fCapConstraintsLastIndex"] = 0
    return expected


LIVES = {
    "ranking-formula": Life(
        "/ranking-formulas",
        "ranking-function",
        NS + "ranking-function",
        lambda ids: formula("Second formula"),
        lambda ids, me: {**formula("Second formula"), "returnType": {"type": "INTEGER"}},
        "PATCH",
        _edited("/description"),
    ),
    "eligibility-rule": Life(
        "/offer-rules",
        "eligibility-rule",
        NS + "eligibility-rule",
        lambda ids: eligibility("Second rule"),
        lambda ids, me: eligibility("Second rule"),
        "PATCH",
        _edited("/description"),
    ),
    "decision-item": Life(
        "/offer-items",
        "offer-item",
        None,
        lambda ids: item(ids["rule"], "Second item"),
        lambda ids, me: _item_read(ids, me, "Second item"),
        "PATCH",
        _edited(ITEM + "/itemDescription"),
    ),
    "item-collection": Life(
        "/item-collections",
        "item-collection",
        "https://ns.adobe.com/experience/decisioning/item-collection;version=1.2",
        lambda ids: item_collection("Second collection"),
        lambda ids, me: item_collection("Second collection"),
        "PATCH",
        _edited("/description"),
    ),
    "selection-strategy": Life(
        "/selection-strategies",
        "selection-strategy",
        NS + "selection-strategy;version=0.2",
        lambda ids: strategy(ids["collection"], ids["rule"], ids["formula"], "Second strategy"),
        lambda ids, me: strategy(ids["collection"], ids["rule"], ids["formula"], "Second strategy"),
        "PATCH",
        _edited("/description"),
    ),
    "exd-placement": Life(
        "/exd-placements",
        "exd-placement",
        "exd-placement",
        lambda ids: exd_placement("Second placement"),
        lambda ids, me: exd_placement("Second placement"),
        "PUT",
        lambda payload: {**payload, "description": "Edited", "status": "archived"},
    ),
}


@pytest.mark.parametrize("kind", LIVES)
async def test_each_kind_creates_reads_lists_updates_and_deletes(kind: str) -> None:
    life = LIVES[kind]
    async with session() as emu:
        ids = await _decisioning(emu)
        emu.extra = dict(SCHEMA) if life.path == "/offer-items" else {}
        created = await emu.call("POST", life.path, json=life.body(ids))
        assert created.status_code == 201, created.text
        receipt = created.json()
        me = receipt["id"]
        assert ID.match(me)
        assert me.startswith(f"dps:{life.segment}:")
        assert SANDBOX_ID.match(receipt["sandboxId"])
        assert set(receipt) == RECEIPT_KEYS
        assert (receipt["etag"], receipt["createdDate"]) == (1, STAMP)
        assert created.headers["location"] == f"{life.path}/{me}"
        envelope: dict[str, Any] = {
            "created": STAMP,
            "modified": STAMP,
            "etag": 1,
            **({"schemas": [life.schema]} if life.schema is not None else {}),
            "createdBy": BY,
            "lastModifiedBy": BY,
            "id": me,
        }
        payload = life.read(ids, me)
        read = await emu.get(f"{life.path}/{me}")
        assert read == {**envelope, **payload}
        assert list(read)[: len(envelope)] == list(envelope)
        listed = await emu.get(life.path)
        assert set(listed) == {"results", "count", "total", "_links"}
        assert read in listed["results"]
        assert listed["_links"]["self"]["href"] == f"{life.path}?orderby=-modified&limit=50"
        if life.update == "PATCH":
            where = ITEM + "/itemDescription" if kind == "decision-item" else "/description"
            document: Any = [{"op": "replace", "path": where, "value": "Edited"}]
        else:
            document = {"id": me, "description": "Edited", "status": "archived"}
        updated = await emu.call(life.update, f"{life.path}/{me}", json=document)
        assert (updated.status_code, set(updated.json()), updated.json()["etag"]) == (
            200,
            RECEIPT_KEYS,
            2,
        )
        after = await emu.get(f"{life.path}/{me}")
        assert after == {**envelope, "etag": 2, **life.edited(payload)}
        deleted = await emu.call("DELETE", f"{life.path}/{me}")
        assert (deleted.status_code, deleted.content) == (200, b"")
        assert (await emu.call("GET", f"{life.path}/{me}")).status_code == 404


# --- /offer-rules holds both rule kinds -----------------------------------------------------


async def test_offer_rules_tell_the_two_rule_kinds_apart_by_exd_rule() -> None:
    async with session() as emu:
        legacy = await emu.create("/offer-rules", rule("Gold members"))
        explicit = await emu.create("/offer-rules", {**rule("Silver members"), "exdRule": False})
        exd = await emu.create("/offer-rules", eligibility())
        assert all(i.startswith("dps:eligibility-rule:") for i in (legacy, explicit, exd))
        assert (await emu.get(f"/offer-rules/{legacy}"))["schemas"] == [
            NS + "eligibility-rule;version=0.3"
        ]
        assert (await emu.get(f"/offer-rules/{exd}"))["schemas"] == [NS + "eligibility-rule"]

        async def names(*expressions: str) -> list[str]:
            query = "&".join(f"property={e}" for e in expressions)
            listed = await emu.get(f"/offer-rules?orderby=name&{query}")
            assert listed["count"] == listed["total"]
            return [entry["name"] for entry in listed["results"]]

        assert await names() == ["Gold members", "Silver members", "Winter shoppers"]
        assert await names("exdRule%3D%3Dtrue") == ["Winter shoppers"]
        assert await names("exdRule==true") == ["Winter shoppers"]
        # != holds where the field is absent: legacy rules that never sent exdRule match.
        assert await names("exdRule!=true") == ["Gold members", "Silver members"]
        assert await names("exdRule==false") == ["Silver members"]
        assert await names("!exdRule") == ["Gold members"]
        # A legacy decision rule and an eligibility rule may share a name: names are per kind.
        assert (
            await emu.call("POST", "/offer-rules", json=eligibility("Gold members"))
        ).status_code == 201


@pytest.mark.parametrize(
    ("which", "patch", "detail"),
    [
        (
            "legacy",
            [{"op": "add", "path": "/exdRule", "value": True}],
            "/exdRule: the kind of a rule is fixed: this decision-rule cannot become an "
            "eligibility-rule; create a new rule instead",
        ),
        (
            "exd",
            [{"op": "replace", "path": "/exdRule", "value": False}],
            "/exdRule: the kind of a rule is fixed: this eligibility-rule cannot become a "
            "decision-rule; create a new rule instead",
        ),
        (
            "exd",
            [{"op": "remove", "path": "/exdRule"}],
            "/exdRule: the kind of a rule is fixed: this eligibility-rule cannot become a "
            "decision-rule; create a new rule instead",
        ),
        (
            "exd",
            {**eligibility(), "exdRule": False},
            "/exdRule: the kind of a rule is fixed: this eligibility-rule cannot become a "
            "decision-rule; create a new rule instead",
        ),
    ],
)
async def test_a_write_never_changes_a_rules_kind(which: str, patch: Any, detail: str) -> None:
    async with session() as emu:
        ids = {
            "legacy": await emu.create("/offer-rules", rule()),
            "exd": await emu.create("/offer-rules", eligibility()),
        }
        before = await emu.get(f"/offer-rules/{ids[which]}")
        response = await emu.call("PATCH", f"/offer-rules/{ids[which]}", json=patch)
        assert _detail(response) == (422, detail)
        assert await emu.get(f"/offer-rules/{ids[which]}") == before


async def test_references_to_a_rule_name_the_rule_kind_they_need() -> None:
    async with session() as emu:
        legacy = await emu.create("/offer-rules", rule())
        exd = await emu.create("/offer-rules", eligibility())
        placement_id = await emu.create("/placements", placement())
        constrained = offer(
            placement_id,
            selectionConstraint={
                "profileConstraintType": "eligibilityRule",
                "eligibilityRule": exd,
            },
        )
        response = await emu.call("POST", "/offers?offer-type=personalized", json=constrained)
        assert _detail(response) == (
            422,
            f"invalid personalized-offer: /selectionConstraint/eligibilityRule: no decision-rule {exd} exists in this sandbox",
        )
        response = await emu.call("POST", "/offer-items", json=item(legacy), headers=SCHEMA)
        assert _detail(response) == (
            422,
            f"invalid decision-item: {ITEM}/itemConstraints/eligibilityRule: no eligibility-rule {legacy} exists in this sandbox",
        )


# --- x-schema-id on /offer-items --------------------------------------------------------------


async def test_every_call_on_offer_items_needs_the_catalogs_x_schema_id() -> None:
    async with session() as emu:
        rule_id = await emu.create("/offer-rules", eligibility())
        item_id = await _create_item(emu, item(rule_id))
        calls: list[tuple[str, str, Any]] = [
            ("POST", "/offer-items", item(rule_id, "Other")),
            ("GET", "/offer-items", None),
            ("GET", f"/offer-items/{item_id}", None),
            (
                "PATCH",
                f"/offer-items/{item_id}",
                [{"op": "replace", "path": ITEM + "/itemPriority", "value": 3}],
            ),
            ("DELETE", f"/offer-items/{item_id}", None),
        ]
        for method, path, body in calls:
            missing = await emu.call(method, path, json=body)
            assert _detail(missing) == (
                400,
                "the x-schema-id header is required on /offer-items: send the schema id of the "
                f"item catalog ({EMBEDDED_SCHEMA})",
            ), method
            unknown = await emu.call(
                method, path, json=body, headers={"x-schema-id": "{SCHEMA_ID}"}
            )
            assert _detail(unknown) == (
                400,
                "x-schema-id '{SCHEMA_ID}' is not the schema of an item catalog of this sandbox: "
                f"use {EMBEDDED_SCHEMA}",
            ), method
        assert (await emu.call("GET", f"/offer-items/{item_id}", headers=SCHEMA)).status_code == 200
        # Other kinds never need it.
        assert (await emu.call("GET", "/item-collections")).status_code == 200


async def test_an_item_belongs_to_the_catalog_its_x_schema_id_names() -> None:
    other = Catalog(
        "dps:offer-catalog:0000000000000002", "https://ns.adobe.com/acme/schemas/items", "_acme"
    )
    settings = EmulatorSettings(catalogs=(*EmulatorSettings().catalogs, other))
    async with session(settings=settings) as emu:
        mine = await _create_item(emu, item())
        theirs = item(name="Acme item")
        theirs["_experience"]["decisioning"]["decisionitem"]["itemCatalogID"] = other.id
        theirs["_acme"] = theirs.pop(EMBEDDED_TENANT)
        wrong = await emu.call("POST", "/offer-items", json=theirs, headers=SCHEMA)
        assert _detail(wrong) == (
            400,
            f"x-schema-id {EMBEDDED_SCHEMA} is the schema of catalog {EMBEDDED_CATALOG}, but the "
            f"item's itemCatalogID is {other.id}: send x-schema-id {other.schema}",
        )
        acme = {"x-schema-id": other.schema}
        created = await emu.call("POST", "/offer-items", json=theirs, headers=acme)
        assert created.status_code == 201, created.text
        listed = (await emu.call("GET", "/offer-items", headers=acme)).json()
        assert [entry["id"] for entry in listed["results"]] == [created.json()["id"]]
        assert "property" not in listed["_links"]["self"]["href"]  # the scope is not a filter
        elsewhere = await emu.call("GET", f"/offer-items/{mine}", headers=acme)
        assert _detail(elsewhere) == (
            404,
            f"no decision-item {mine} in catalog {other.id} (x-schema-id {other.schema}) of sandbox prod",
        )
        # The tenant namespace is the catalog's: another key is not a custom-attributes object.
        stray = item(name="Stray")
        stray["_acme"] = {"x": 1}
        response = await emu.call("POST", "/offer-items", json=stray, headers=SCHEMA)
        assert _detail(response) == (
            422,
            "invalid decision-item: /_acme: is not a known field: custom attributes go in one "
            f"object under {EMBEDDED_TENANT}, the tenant namespace of catalog {EMBEDDED_CATALOG}",
        )


async def test_catalog_ids_must_name_a_catalog_of_the_sandbox() -> None:
    async with session() as emu:
        body = item()
        body["_experience"]["decisioning"]["decisionitem"]["itemCatalogID"] = "itemCatalong1234"
        response = await emu.call("POST", "/offer-items", json=body, headers=SCHEMA)
        assert _detail(response) == (
            422,
            f"invalid decision-item: {ITEM}/itemCatalogID: 'itemCatalong1234' is not an item "
            f"catalog of this sandbox (known: {EMBEDDED_CATALOG})",
        )
        body = item_collection()
        body["constraints"][0]["itemCatalogId"] = "itemCatalog1234"
        response = await emu.call("POST", "/item-collections", json=body)
        assert _detail(response) == (
            422,
            "invalid item-collection: /constraints/0/itemCatalogId: 'itemCatalog1234' is not an "
            f"item catalog of this sandbox (known: {EMBEDDED_CATALOG})",
        )


# --- server-owned fields -----------------------------------------------------------------------


async def test_an_items_server_fields_are_ignored_on_create_and_refused_on_patch() -> None:
    async with session() as emu:
        emu.extra = dict(SCHEMA)
        sent = item()
        sent["_experience"]["decisioning"]["decisionitem"]["itemID"] = "mine"
        sent["_experience"]["decisioning"]["offeritem"]["fCapConstraintsLastIndex"] = 7
        item_id = await emu.create("/offer-items", sent)
        read = await emu.get(f"/offer-items/{item_id}")
        decisioning = read["_experience"]["decisioning"]
        assert (decisioning["decisionitem"]["itemID"], decisioning["offeritem"]) == (
            item_id,
            {"lifecycleStatus": "approved", "fCapConstraintsLastIndex": 0},
        )
        for path in (
            ITEM + "/itemID",
            "/_experience/decisioning/offeritem/fCapConstraintsLastIndex",
        ):
            response = await emu.call(
                "PATCH",
                f"/offer-items/{item_id}",
                json=[{"op": "replace", "path": path, "value": 1}],
            )
            assert _detail(response) == (
                422,
                f"{path} is managed by the server and cannot be patched: leave it out",
            )
        # Replacing the parent object: the stored value is kept when left out, refused when changed.
        whole = copy.deepcopy(decisioning["decisionitem"])
        del whole["itemID"]
        whole["itemPriority"] = 11
        replaced = [{"op": "replace", "path": ITEM, "value": whole}]
        assert (
            await emu.call("PATCH", f"/offer-items/{item_id}", json=replaced)
        ).status_code == 200
        after = (await emu.get(f"/offer-items/{item_id}"))["_experience"]["decisioning"]
        assert (after["decisionitem"]["itemID"], after["decisionitem"]["itemPriority"]) == (
            item_id,
            11,
        )
        replaced[0]["value"] = {**whole, "itemID": "dps:offer-item:0000000000000000"}
        response = await emu.call("PATCH", f"/offer-items/{item_id}", json=replaced)
        assert _detail(response) == (
            422,
            f"{ITEM}/itemID is managed by the server and cannot be changed: keep the value you "
            "read, or leave it out",
        )


async def test_server_defaults_add_what_adobes_reads_show_on_some_objects() -> None:
    async with session(settings=EmulatorSettings(server_defaults=True)) as emu:
        ids = await _decisioning(emu)
        read_item = await emu.call("GET", f"/offer-items/{ids['item']}", headers=SCHEMA)
        assert read_item.json()["_experience"]["decisioning"]["offeritem"] == {
            "lifecycleStatus": "approved",
            "fCapConstraintsLastIndex": 0,
            "frequencyCappingConstraints": [],
        }
        assert (await emu.get(f"/item-collections/{ids['collection']}"))["tags"] == []
        described = [{"op": "replace", "path": "/description", "value": "Coats"}]
        patched = await emu.call("PATCH", f"/item-collections/{ids['collection']}", json=described)
        assert patched.status_code == 200, patched.text  # the default is a field the model knows
        rule_read = await emu.get(f"/offer-rules/{ids['rule']}")
        model = rule_read["segmentModel"]
        assert list(model) == [
            "lifecycleState",
            "expression",
            "isMissingAnsibleModel",
            "relationalExpression",
            "deprecated",
            "description",
            "evaluationInfo",
            "labels",
            "tags",
            "canHaveFolder",
            "mergePolicyId",
            "name",
            "namespace",
        ]
        assert (model["name"], model["expression"]) == (
            "Winter shoppers",
            eligibility()["condition"],
        )
        # Derived from the rule on every write; never written by a client.
        renamed = [{"op": "replace", "path": "/name", "value": "Cold shoppers"}]
        assert (
            await emu.call("PATCH", f"/offer-rules/{ids['rule']}", json=renamed)
        ).status_code == 200
        assert (await emu.get(f"/offer-rules/{ids['rule']}"))["segmentModel"][
            "name"
        ] == "Cold shoppers"
        written = [{"op": "replace", "path": "/segmentModel/name", "value": "x"}]
        response = await emu.call("PATCH", f"/offer-rules/{ids['rule']}", json=written)
        assert _detail(response) == (
            422,
            "/segmentModel is managed by the server and cannot be patched: leave it out",
        )


async def test_a_ranking_formulas_return_type_is_any_case_and_read_upper_case() -> None:
    async with session() as emu:
        formula_id = await emu.create("/ranking-formulas", formula(returnType={"type": "Number"}))
        assert (await emu.get(f"/ranking-formulas/{formula_id}"))["returnType"] == {
            "type": "NUMBER"
        }
        response = await emu.call(
            "POST", "/ranking-formulas", json=formula("F", returnType={"type": "float"})
        )
        assert _detail(response) == (
            422,
            "invalid ranking-formula: /returnType/type: must be one of integer, number, boolean, "
            "string (any case), not 'float'",
        )


# --- validation of the new kinds ----------------------------------------------------------------


def _item_with(**changes: Any) -> Callable[[Ids], dict[str, Any]]:
    def build(ids: Ids) -> dict[str, Any]:
        body = item()
        body["_experience"]["decisioning"]["decisionitem"].update(changes)
        return body

    return build


REFUSED: list[tuple[str, Callable[[Ids], dict[str, Any]], str]] = [
    (
        "/ranking-formulas",
        lambda ids: formula(color="red"),
        "invalid ranking-formula: /color: is not a known field",
    ),
    (
        "/ranking-formulas",
        lambda ids: formula(expression={"type": "SQL", "format": "pql/text", "value": "1"}),
        "invalid ranking-formula: /expression/type: input should be 'PQL'",
    ),
    (
        "/offer-rules",
        lambda ids: eligibility(labels=["core/C1"]),
        "invalid eligibility-rule: /labels: is not a known field",
    ),
    (
        "/offer-rules",
        lambda ids: eligibility(segmentModel={"name": "x"}, color="red"),
        "invalid eligibility-rule: /color: is not a known field",
    ),
    (
        "/offer-items",
        _item_with(itemPriority=-1),
        f"invalid decision-item: {ITEM}/itemPriority: input should be greater than or equal to 0",
    ),
    (
        "/offer-items",
        _item_with(itemConstraints={"profileConstraintType": "eligibilityRule"}),
        f"invalid decision-item: {ITEM}/itemConstraints/eligibilityRule: is required when profileConstraintType is eligibilityRule",
    ),
    (
        "/offer-items",
        _item_with(
            itemCalendarConstraints={
                "startDate": "2027-01-01T00:00:00Z",
                "endDate": "2026-01-01T00:00:00Z",
            }
        ),
        f"invalid decision-item: {ITEM}/itemCalendarConstraints/endDate: must be after {ITEM}/itemCalendarConstraints/startDate",
    ),
    (
        "/offer-items",
        lambda ids: {**item(), "YOUR_CUSTOM_ATTRIBUTES": {"some_field": "some value"}},
        "invalid decision-item: /YOUR_CUSTOM_ATTRIBUTES: is not a known field: custom attributes "
        f"go in one object under {EMBEDDED_TENANT}, the tenant namespace of catalog {EMBEDDED_CATALOG}",
    ),
    (
        "/offer-items",
        lambda ids: {**item(), EMBEDDED_TENANT: "apparel"},
        f"invalid decision-item: /{EMBEDDED_TENANT}: must be an object of custom attributes",
    ),
    (
        "/item-collections",
        lambda ids: item_collection(
            constraints=[{"itemCatalogId": EMBEDDED_CATALOG, "uiModel": {"operator": "equals"}}]
        ),
        "invalid item-collection: /constraints/0/uiModel: must be a string holding a JSON object "
        "(the API keeps uiModel stringified), not a structured value: send it through "
        "JSON.stringify / json.dumps",
    ),
    (
        "/item-collections",
        lambda ids: item_collection(
            constraints=[{"itemCatalogId": EMBEDDED_CATALOG, "uiModel": "[1]"}]
        ),
        "invalid item-collection: /constraints/0/uiModel: must hold a JSON object, not another JSON value",
    ),
    (
        "/item-collections",
        lambda ids: item_collection(constraints=[]),
        "invalid item-collection: /constraints: list should have at least 1 item after validation, not 0",
    ),
    (
        "/selection-strategies",
        lambda ids: {
            **strategy(ids["collection"]),
            "rank": {"priority": 1, "order": {"orderEvaluationType": "scoringFunction"}},
        },
        "invalid selection-strategy: /rank/order/function: is required when orderEvaluationType is scoringFunction",
    ),
    (
        "/selection-strategies",
        lambda ids: {
            **strategy(ids["collection"]),
            "rank": {
                "priority": 1,
                "order": {"orderEvaluationType": "static", "function": ids["formula"]},
            },
        },
        "invalid selection-strategy: /rank/order/function: only allowed when orderEvaluationType is scoringFunction",
    ),
    (
        "/selection-strategies",
        lambda ids: strategy(ids["rule"]),
        "invalid selection-strategy: /optionSelection/filter: "
        "{rule!r} is not the id of an item-collection",
    ),
    (
        "/exd-placements",
        lambda ids: exd_placement(status="live"),
        "invalid exd-placement: /status: input should be 'active' or 'archived'",
    ),
    (
        "/exd-placements",
        lambda ids: exd_placement(channel="email"),
        "invalid exd-placement: /channel: must be a channel URI like https://ns.adobe.com/xdm/channel-types/web",
    ),
]


@pytest.mark.parametrize(("path", "body", "detail"), REFUSED)
async def test_decisioning_bodies_are_checked_strictly(
    path: str, body: Callable[[Ids], dict[str, Any]], detail: str
) -> None:
    async with session() as emu:
        ids = await _decisioning(emu)
        response = await emu.call("POST", path, json=body(ids), headers=SCHEMA)
        assert _detail(response) == (422, detail.replace("{rule!r}", repr(ids["rule"])))


async def test_names_are_unique_per_kind_decision_items_by_item_name() -> None:
    async with session() as emu:
        ids = await _decisioning(emu)
        cases = [
            ("/offer-items", item(name="Winter coat"), "decision-item", ids["item"]),
            ("/offer-rules", eligibility(), "eligibility-rule", ids["rule"]),
            ("/ranking-formulas", formula(), "ranking-formula", ids["formula"]),
            ("/item-collections", item_collection(), "item-collection", ids["collection"]),
        ]
        for path, body, kind, holder in cases:
            response = await emu.call("POST", path, json=body, headers=SCHEMA)
            name = body.get("name", "Winter coat")
            assert _detail(response) == (409, f"the {kind} named {name!r} already exists: {holder}")
        # A list filter on the name path uses the name index (itemName for items).
        listed = await emu.call(
            "GET",
            "/offer-items?property=_experience.decisioning.decisionitem.itemName==Winter%20coat",
            headers=SCHEMA,
        )
        assert [entry["id"] for entry in listed.json()["results"]] == [ids["item"]]
        nameless = await emu.call(
            "GET", "/offer-items?property=name==Winter%20coat", headers=SCHEMA
        )
        assert nameless.json()["results"] == []


# --- referential integrity ----------------------------------------------------------------------


async def test_a_referenced_decisioning_object_cannot_be_deleted() -> None:
    async with session() as emu:
        ids = await _decisioning(emu)
        for name, path, users in [
            ("rule", "/offer-rules", ["item", "strategy"]),
            ("formula", "/ranking-formulas", ["strategy"]),
            ("collection", "/item-collections", ["strategy"]),
        ]:
            response = await emu.call("DELETE", f"{path}/{ids[name]}")
            kind = {"rule": "eligibility-rule", "formula": "ranking-formula"}.get(
                name, "item-collection"
            )
            referrers = ", ".join(sorted(ids[user] for user in users))
            assert _detail(response) == (
                409,
                f"{kind} {ids[name]} is still used by {referrers}: remove those references first",
            )
        order = [
            ("strategy", "/selection-strategies"),
            ("collection", "/item-collections"),
            ("formula", "/ranking-formulas"),
            ("item", "/offer-items"),
            ("rule", "/offer-rules"),
        ]
        for name, path in order:
            response = await emu.call("DELETE", f"{path}/{ids[name]}", headers=SCHEMA)
            assert response.status_code == 200, name


async def test_a_legacy_decision_ranks_by_a_ranking_formula_it_keeps_alive() -> None:
    async with session() as emu:
        formula_id = await emu.create("/ranking-formulas", formula())
        placement_id = await emu.create("/placements", placement())
        offer_id = await emu.create("/offers?offer-type=personalized", offer(placement_id))
        fallback_id = await emu.create("/offers?offer-type=fallback", fallback(placement_id))
        collection_id = await emu.create("/offer-collections", collection([offer_id]))
        body = decision(fallback_id, placement_id, collection_id)
        body["criteria"][0]["rank"] = {
            "priority": 0,
            "order": {"orderEvaluationType": "scoringFunction", "function": formula_id},
        }
        decision_id = await emu.create("/offer-decisions", body)
        response = await emu.call("DELETE", f"/ranking-formulas/{formula_id}")
        assert _detail(response) == (
            409,
            f"ranking-formula {formula_id} is still used by {decision_id}: remove those references first",
        )


# --- guardrails ---------------------------------------------------------------------------------


async def test_pql_sizes_are_guardrails_in_utf8_bytes() -> None:
    async with session() as emu:
        formula_pql = "é" * (4 * 1024) + "1"  # 8K + 1 bytes
        response = await emu.call(
            "POST", "/ranking-formulas", json=formula(expression={**PQL, "value": formula_pql})
        )
        assert _detail(response) == (
            422,
            "invalid ranking-formula: /expression/value: at most 8192 bytes of PQL (guardrail, "
            "limits.ranking_formula_pql_bytes), not 8193",
        )
        rule_pql = "x" * (15 * 1024 + 1)
        response = await emu.call(
            "POST", "/offer-rules", json=eligibility(condition={**PQL, "value": rule_pql})
        )
        assert _detail(response) == (
            422,
            "invalid eligibility-rule: /condition/value: at most 15360 bytes of PQL (guardrail, "
            "limits.pql_bytes), not 15361",
        )
        assert (
            await emu.call(
                "POST", "/offer-rules", json=eligibility(condition={**PQL, "value": rule_pql[1:]})
            )
        ).status_code == 201


async def test_sandbox_counts_are_guardrails_rules_and_formulas_together() -> None:
    limits = {
        **DEFAULT_LIMITS,
        "rules_and_formulas": 2,
        "decision_items": 1,
        "item_collections": 1,
        "exd_placements": 1,
    }
    async with session(settings=EmulatorSettings(limits=limits)) as emu:
        emu.extra = dict(SCHEMA)
        await emu.create("/offer-rules", rule())
        await emu.create("/ranking-formulas", formula())
        await _create_item(emu, item())
        await emu.create("/item-collections", item_collection())
        await emu.create("/exd-placements", exd_placement())
        refused = [
            (
                "/offer-rules",
                eligibility(),
                "a sandbox holds at most 2 decision-rule and eligibility-rule and ranking-formula objects (limits.rules_and_formulas)",
            ),
            (
                "/ranking-formulas",
                formula("Other"),
                "a sandbox holds at most 2 decision-rule and eligibility-rule and ranking-formula objects (limits.rules_and_formulas)",
            ),
            (
                "/offer-items",
                item(name="Other"),
                "a sandbox holds at most 1 decision-item objects (limits.decision_items)",
            ),
            (
                "/item-collections",
                item_collection("Other"),
                "a sandbox holds at most 1 item-collection objects (limits.item_collections)",
            ),
            (
                "/exd-placements",
                exd_placement("Other"),
                "a sandbox holds at most 1 exd-placement objects (limits.exd_placements)",
            ),
        ]
        for path, body, detail in refused:
            response = await emu.call("POST", path, json=body)
            assert (_detail(response), response.json()["type"]) == (
                (422, detail),
                "/problems/limit-exceeded",
            )


async def test_capping_rules_and_custom_attributes_per_item_are_guardrails() -> None:
    async with session() as emu:
        cap = {"limit": 1, "scope": "global", "entity": "offer"}
        capped = item()
        capped["_experience"]["decisioning"]["offeritem"]["frequencyCappingConstraints"] = [
            cap
        ] * 11
        response = await emu.call("POST", "/offer-items", json=capped, headers=SCHEMA)
        assert _detail(response) == (
            422,
            "invalid decision-item: /_experience/decisioning/offeritem/frequencyCappingConstraints: "
            "at most 10 capping rules (guardrail, limits.caps_per_item), not 11",
        )
        wide = item(**{f"a{n}": n for n in range(98)}, nested={"x": 1, "y": {}})
        assert (
            await emu.call("POST", "/offer-items", json=wide, headers=SCHEMA)
        ).status_code == 201
        wider = item(name="Wider", **{f"a{n}": n for n in range(100)}, nested={"x": 1})
        response = await emu.call("POST", "/offer-items", json=wider, headers=SCHEMA)
        assert _detail(response) == (
            422,
            f"invalid decision-item: /{EMBEDDED_TENANT}: at most 100 custom attributes "
            "(guardrail, limits.custom_attributes), not 101",
        )


# --- updates: PUT, PATCH with an object, JSON Patch -----------------------------------------------


async def test_put_on_an_exd_placement_merges_top_level_fields() -> None:
    async with session() as emu:
        placement_id = await emu.create("/exd-placements", exd_placement())
        url = f"/exd-placements/{placement_id}"
        documented = {
            "id": placement_id,
            "description": "Keyboard application",
            "status": "archived",
        }
        response = await emu.call("PUT", url, json=documented, headers={"If-Match": '"1"'})
        assert (response.status_code, response.headers["etag"]) == (200, '"2"')
        read = await emu.get(url)
        assert {
            k: v
            for k, v in read.items()
            if k
            not in ("created", "modified", "etag", "schemas", "createdBy", "lastModifiedBy", "id")
        } == {
            **exd_placement(),
            "description": "Keyboard application",
            "status": "archived",
        }
        # null removes a field; what the body leaves out is kept; a read sent back is accepted.
        assert (
            await emu.call("PUT", url, json={"tags": None, "channelConfiguration": None})
        ).status_code == 200
        read = await emu.get(url)
        assert ("tags" in read, "channelConfiguration" in read, read["name"]) == (
            False,
            False,
            "Home hero",
        )
        assert (await emu.call("PUT", url, json={**read, "name": "Hero"})).status_code == 200
        assert (await emu.get(url))["name"] == "Hero"
        # A stale If-Match, another id, a JSON Patch: refused, nothing changed.
        stale = await emu.call("PUT", url, json={"status": "active"}, headers={"If-Match": '"1"'})
        assert stale.status_code == 409
        other = await emu.call("PUT", url, json={"id": "dps:exd-placement:0000000000000000"})
        assert _detail(other) == (
            400,
            "the body's id 'dps:exd-placement:0000000000000000' is not the id in the path "
            f"({placement_id}): leave it out or send the object's own id",
        )
        patched = await emu.call(
            "PATCH", url, json=[{"op": "replace", "path": "/status", "value": "active"}]
        )
        assert (_detail(patched), patched.headers["allow"]) == (
            (405, f"PATCH is not allowed on /data/core/dps/exd-placements/{placement_id}"),
            "GET, PUT, DELETE",
        )
        removed = await emu.call("PUT", url, json={"channel": None})
        assert _detail(removed) == (422, "invalid exd-placement: /channel: is required")
        assert (await emu.get(url))["etag"] == 4


@pytest.mark.parametrize(
    ("path", "body", "edited"),
    [
        ("/offer-rules", eligibility, {"name": "[UPDATED] Winter shoppers"}),
        ("/ranking-formulas", formula, {"name": "[UPDATED] Margin first", "isPure": True}),
    ],
)
@pytest.mark.parametrize("method", ["PUT", "PATCH"])
async def test_rules_and_formulas_are_replaced_whole_by_put_or_by_patch_with_an_object(
    path: str, body: Callable[..., dict[str, Any]], edited: dict[str, Any], method: str
) -> None:
    async with session() as emu:
        object_id = await emu.create(path, body())
        whole = {**body(), **edited}
        del whole["description"]  # left out of a replacement: gone
        response = await emu.call(
            method, f"{path}/{object_id}", json=whole, headers={"If-Match": "1"}
        )
        assert (response.status_code, response.json()["etag"]) == (200, 2)
        read = await emu.get(f"{path}/{object_id}")
        expected = {
            **whole,
            **({"returnType": {"type": "INTEGER"}} if "returnType" in whole else {}),
        }
        assert {k: v for k, v in read.items() if k in {*whole, "description"}} == expected
        # JSON Patch still works on them.
        patch = [{"op": "add", "path": "/description", "value": "Back"}]
        assert (await emu.call("PATCH", f"{path}/{object_id}", json=patch)).status_code == 200
        stale = await emu.call(method, f"{path}/{object_id}", json=whole, headers={"If-Match": "1"})
        assert stale.status_code == 409


async def test_legacy_rules_take_json_patch_only() -> None:
    async with session() as emu:
        rule_id = await emu.create("/offer-rules", rule())
        put = await emu.call("PUT", f"/offer-rules/{rule_id}", json=rule())
        assert (_detail(put), put.headers["allow"]) == (
            (
                405,
                "PUT is not allowed on a decision-rule: it is patched with JSON Patch (the "
                "methods Adobe documents)",
            ),
            "GET, PATCH, DELETE",
        )
        whole = await emu.call("PATCH", f"/offer-rules/{rule_id}", json=rule("Renamed"))
        assert _detail(whole) == (
            400,
            "a decision-rule is patched with a JSON Patch document: send a JSON array of operations",
        )
        put = await emu.call("PUT", "/tags/dps:tag:0000000000000000", json={"name": "x"})
        assert put.status_code == 405


async def test_move_is_refused_and_the_legacy_xcore_patch_type_is_accepted() -> None:
    async with session() as emu:
        formula_id = await emu.create("/ranking-formulas", formula())
        move = [{"op": "move", "from": "/description", "path": "/name"}]
        response = await emu.call("PATCH", f"/ranking-formulas/{formula_id}", json=move)
        assert _detail(response) == (
            400,
            "operation 0: move is not supported: the DPS API documents add, replace, remove, "
            "copy and test; send a remove and an add instead of a move",
        )
        tag_id = await emu.create("/tags", {"name": "Sneakers"})
        xcore = (
            "application/vnd.adobe.platform.xcore.patch.hal+json; version=1; "
            'schema="https://ns.adobe.com/experience/offer-management/personalized-offer;version=0.5"'
        )
        patch = b'[{"op": "add", "path": "/description", "value": "Shoes"}]'
        response = await emu.call(
            "PATCH", f"/tags/{tag_id}", content=patch, headers={"Content-Type": xcore}
        )
        assert response.status_code == 200, response.text
        assert (await emu.get(f"/tags/{tag_id}"))["description"] == "Shoes"
        odd = await emu.call(
            "PATCH", f"/tags/{tag_id}", content=patch, headers={"Content-Type": "text/plain"}
        )
        assert _detail(odd) == (400, "A valid content-type must be specified")


async def test_race_hooks_and_write_faults_apply_to_put_and_to_decision_items() -> None:
    async with session(settings=EmulatorSettings(race_write=1.0, seed=1)) as emu:
        placement_id = await emu.create("/exd-placements", exd_placement())
        response = await emu.call(
            "PUT",
            f"/exd-placements/{placement_id}",
            json={"status": "archived"},
            headers={"If-Match": '"1"'},
        )
        assert response.status_code == 409  # the UI's edit landed first
        read = await emu.get(f"/exd-placements/{placement_id}")
        assert (read["description"], read["lastModifiedBy"]) == (
            "Edited in the UI (revision 2)",
            "ui-racer@techacct.adobe.com",
        )
        item_id = await _create_item(emu, item())
        patch = [{"op": "replace", "path": ITEM + "/itemPriority", "value": 3}]
        response = await emu.call("PATCH", f"/offer-items/{item_id}", json=patch, headers=SCHEMA)
        assert response.status_code == 200
        read_item = (await emu.call("GET", f"/offer-items/{item_id}", headers=SCHEMA)).json()
        decided = read_item["_experience"]["decisioning"]["decisionitem"]
        assert (decided["itemDescription"], decided["itemPriority"], read_item["etag"]) == (
            "Edited in the UI (revision 2)",
            3,
            3,
        )
    async with session() as emu:
        rule_id = await emu.create("/offer-rules", eligibility())
        emu.app.state.runtime.faults.script([WriteFault.NO_ETAG_THEN_UI_EDIT])
        response = await emu.call("PUT", f"/offer-rules/{rule_id}", json=eligibility())
        assert (response.status_code, "etag" in response.json()) == (200, False)
        assert (await emu.get(f"/offer-rules/{rule_id}"))["etag"] == 3


async def test_a_journaled_sandbox_keeps_decisioning_objects_and_their_name_index(
    tmp_path: Path,
) -> None:
    data = tmp_path / "sandbox.jsonl"
    async with session(create_app(data_file=data)) as emu:
        ids = await _decisioning(emu)
    async with session(create_app(data_file=data)) as emu:
        emu.extra = dict(SCHEMA)
        read = await emu.get(f"/offer-items/{ids['item']}")
        assert read["_experience"]["decisioning"]["decisionitem"]["itemID"] == ids["item"]
        again = await emu.call("POST", "/offer-items", json=item())
        assert _detail(again) == (
            409,
            f"the decision-item named 'Winter coat' already exists: {ids['item']}",
        )
        rules = await emu.get("/offer-rules?property=exdRule==true")
        assert [entry["id"] for entry in rules["results"]] == [ids["rule"]]
