"""The Offer Library verbs: create, read, patch, delete, etags, If-Match, referential integrity."""

from __future__ import annotations

from typing import Any

import pytest
from emulator_support import (
    EPOCH,
    ID,
    SANDBOX_ID,
    STAMP,
    Clock,
    Session,
    collection,
    decision,
    fallback,
    offer,
    placement,
    rule,
    session,
)

from reconciler.emulator.settings import EmulatorSettings
from reconciler.kinds import SERVER_MANAGED

pytestmark = pytest.mark.anyio

SCHEMA = "https://ns.adobe.com/experience/offer-management/"


def _receipt(
    object_id: str, etag: int, created: str, modified: str, by: str = "tester"
) -> dict[str, Any]:
    return {
        "etag": etag,
        "createdBy": "tester@techacct.adobe.com",
        "lastModifiedBy": f"{by}@techacct.adobe.com",
        "id": object_id,
        "sandboxId": "9cbb5a0c-2b4a-5c8e-a6b1-3c0b7a7f0c1e",
        "createdDate": created,
        "lastModifiedDate": modified,
        "createdByClientId": "tester",
        "lastModifiedByClientId": by,
    }


def _same_sandbox_id(body: dict[str, Any]) -> dict[str, Any]:
    assert SANDBOX_ID.match(body["sandboxId"]), body
    return {**body, "sandboxId": "9cbb5a0c-2b4a-5c8e-a6b1-3c0b7a7f0c1e"}


@pytest.mark.parametrize(
    ("path", "segment", "schema", "location_query"),
    [
        ("/tags", "tag", "tag;version=0.1", ""),
        ("/placements", "offer-placement", "offer-placement;version=0.5", ""),
        ("/offer-rules", "eligibility-rule", "eligibility-rule;version=0.3", ""),
    ],
)
async def test_create_answers_a_receipt_and_get_the_read_shape(
    path: str, segment: str, schema: str, location_query: str
) -> None:
    bodies = {"/tags": {"name": "Black Friday"}, "/placements": placement(), "/offer-rules": rule()}
    body = bodies[path]
    async with session() as emu:
        created = await emu.call("POST", path, json=body)
        object_id = created.json()["id"]
        assert created.status_code == 201
        assert ID.match(object_id)
        assert object_id.startswith(f"dps:{segment}:")
        assert _same_sandbox_id(created.json()) == _receipt(object_id, 1, STAMP, STAMP)
        assert created.headers["location"] == f"{path}/{object_id}{location_query}"
        assert created.headers["etag"] == '"1"'
        read = await emu.call("GET", f"{path}/{object_id}")
        expected = {
            "created": STAMP,
            "modified": STAMP,
            "etag": 1,
            "schemas": [SCHEMA + schema],
            "createdBy": "tester@techacct.adobe.com",
            "lastModifiedBy": "tester@techacct.adobe.com",
            "id": object_id,
            **body,
        }
        assert read.json() == expected
        assert list(read.json()) == list(expected)  # envelope first, then the payload
        assert read.headers["etag"] == '"1"'


async def test_the_payload_is_stored_exactly_as_sent() -> None:
    async with session() as emu:
        placement_id = await emu.create("/placements", placement())
        body = offer(
            placement_id,
            name="Été — 60 % ✓",
            selectionConstraint={
                "endDate": "2023-07-29T05:00:00.000+00:00",
                "startDate": "2022-07-27T05:00:00+02:00",
                "profileConstraintType": "none",
            },
            characteristics={"offer_code": "CHECK200", "region": "NA"},
        )
        offer_id = await emu.create("/offers?offer-type=personalized", body)
        read = await emu.get(f"/offers/{offer_id}", **{"offer-type": "personalized"})
        assert {k: v for k, v in read.items() if k not in SERVER_MANAGED} == body
        assert read["selectionConstraint"]["startDate"] == "2022-07-27T05:00:00+02:00"


async def test_server_managed_fields_in_a_create_body_are_ignored() -> None:
    async with session() as emu:
        sent = {
            "name": "Sneakers",
            "id": "dps:tag:0000000000000000",
            "etag": 41,
            "created": "2001-01-01T00:00:00.000Z",
            "schemas": ["x"],
            "createdBy": "mallory",
            "_links": {},
        }
        response = await emu.call("POST", "/tags", json=sent)
        tag_id = response.json()["id"]
        assert tag_id != "dps:tag:0000000000000000"
        read = await emu.get(f"/tags/{tag_id}")
        assert (read["name"], read["etag"], read["created"], read["createdBy"]) == (
            "Sneakers",
            1,
            STAMP,
            "tester@techacct.adobe.com",
        )
        assert "_links" not in read


async def test_offer_types_are_disjoint_namespaces() -> None:
    async with session() as emu:
        placement_id = await emu.create("/placements", placement())
        response = await emu.call(
            "POST", "/offers", params={"offer-type": "personalized"}, json=offer(placement_id)
        )
        offer_id = response.json()["id"]
        assert response.headers["location"] == f"/offers/{offer_id}?offer-type=personalized"
        fallback_id = await emu.create("/offers?offer-type=fallback", fallback(placement_id))
        assert fallback_id.startswith("dps:fallback-offer:")
        assert (await emu.call("GET", f"/offers/{offer_id}?offer-type=fallback")).status_code == 404
        assert (
            await emu.call("GET", f"/offers/{fallback_id}?offer-type=personalized")
        ).status_code == 404
        assert (
            await emu.call("DELETE", f"/offers/{offer_id}?offer-type=fallback")
        ).status_code == 404
        listed = await emu.get("/offers", **{"offer-type": "fallback"})
        assert [item["id"] for item in listed["results"]] == [fallback_id]
        for query in ("", "?offer-type=", "?offer-type=special"):
            answer = await emu.call("GET", f"/offers/{offer_id}{query}")
            assert answer.status_code == 400, query
        assert (
            await emu.call("GET", f"/offers/{offer_id}?offer-type=PERSONALIZED")
        ).status_code == 200


async def test_patch_bumps_the_etag_and_records_who_changed_it() -> None:
    clock = Clock()
    async with session(clock=clock) as emu:
        tag_id = await emu.create("/tags", {"name": "Sneakers"})
        clock.now = EPOCH + 61.25
        await emu.login("marketer-ui")
        patch = [{"op": "add", "path": "/description", "value": "Shoes"}]
        response = await emu.call("PATCH", f"/tags/{tag_id}", json=patch)
        assert response.status_code == 200
        later = "2027-01-15T08:01:01.250Z"
        assert _same_sandbox_id(response.json()) == _receipt(
            tag_id, 2, STAMP, later, by="marketer-ui"
        )
        assert response.headers["etag"] == '"2"'
        read = await emu.get(f"/tags/{tag_id}")
        assert (read["etag"], read["modified"], read["lastModifiedBy"], read["description"]) == (
            2,
            later,
            "marketer-ui@techacct.adobe.com",
            "Shoes",
        )


@pytest.mark.parametrize("path", ["/id", "/etag", "/modified", "/schemas", "/createdBy", "/_links"])
async def test_a_patch_touching_server_managed_fields_is_422_and_changes_nothing(path: str) -> None:
    async with session() as emu:
        tag_id = await emu.create("/tags", {"name": "Sneakers"})
        response = await emu.call(
            "PATCH", f"/tags/{tag_id}", json=[{"op": "replace", "path": path, "value": 9}]
        )
        assert (response.status_code, response.json()["detail"]) == (
            422,
            f"{path} is managed by the server and cannot be patched",
        )
        whole = [{"op": "replace", "path": "", "value": {"name": "x", "etag": 9}}]
        response = await emu.call("PATCH", f"/tags/{tag_id}", json=whole)
        assert (response.status_code, response.json()["detail"]) == (
            422,
            "/etag is managed by the server and cannot be patched",
        )
        assert (await emu.get(f"/tags/{tag_id}"))["etag"] == 1


async def test_delete_answers_200_with_an_empty_body_then_the_object_is_gone() -> None:
    async with session() as emu:
        tag_id = await emu.create("/tags", {"name": "Sneakers"})
        response = await emu.call("DELETE", f"/tags/{tag_id}")
        assert (response.status_code, response.content, response.headers["content-length"]) == (
            200,
            b"",
            "0",
        )
        gone = await emu.call("GET", f"/tags/{tag_id}")
        assert (gone.status_code, gone.json()) == (
            404,
            {
                "type": "/problems/not-found",
                "title": "NotFoundError",
                "status": 404,
                "detail": f"no tag {tag_id} in sandbox prod",
            },
        )
        assert (await emu.call("DELETE", f"/tags/{tag_id}")).status_code == 404
        assert (await emu.call("PATCH", f"/tags/{tag_id}", json=[])).status_code == 404


@pytest.mark.parametrize(
    ("if_match", "ignored", "status"),
    [
        ('"1"', False, 200),
        ("1", False, 200),
        ('W/"1"', False, 200),
        ("*", False, 200),
        ('"7", "1"', False, 200),
        ('"2"', False, 409),
        ("2", False, 409),
        ("garbage", False, 409),
        ('"2"', True, 200),
        ("garbage", True, 200),
    ],
)
async def test_if_match_guards_patch_and_delete(if_match: str, ignored: bool, status: int) -> None:
    async with session(settings=EmulatorSettings(ignore_if_match=ignored)) as emu:
        for method in ("PATCH", "DELETE"):
            tag_id = await emu.create("/tags", {"name": f"Sneakers {method}"})
            patch = (
                [{"op": "add", "path": "/description", "value": "x"}] if method == "PATCH" else None
            )
            response = await emu.call(
                method, f"/tags/{tag_id}", json=patch, headers={"If-Match": if_match}
            )
            assert response.status_code == status, response.text
            if status == 409:
                assert response.json() == {
                    "type": "/problems/etag-mismatch",
                    "title": "ConflictError",
                    "status": 409,
                    "detail": f"If-Match {if_match!r} does not match: the current etag of {tag_id} is 1; "
                    "read it again and retry",
                }
                assert (await emu.get(f"/tags/{tag_id}"))["etag"] == 1


async def _estate(emu: Session) -> dict[str, str]:
    ids: dict[str, str] = {}
    ids["tag"] = await emu.create("/tags", {"name": "Summer"})
    ids["placement"] = await emu.create("/placements", placement())
    ids["capped"] = await emu.create("/placements", placement("Email"))
    ids["rule"] = await emu.create("/offer-rules", rule())
    cap = {"limit": 1, "scope": "global", "entity": "placement", "placement": ids["capped"]}
    ids["offer"] = await emu.create(
        "/offers?offer-type=personalized",
        offer(
            ids["placement"],
            tags=[ids["tag"]],
            selectionConstraint={
                "profileConstraintType": "eligibilityRule",
                "eligibilityRule": ids["rule"],
            },
            frequencyCappingConstraints=[cap],
        ),
    )
    ids["fallback"] = await emu.create("/offers?offer-type=fallback", fallback(ids["placement"]))
    ids["by-offer"] = await emu.create("/offer-collections", collection([ids["offer"]]))
    ids["by-tag"] = await emu.create(
        "/offer-collections", collection([ids["tag"]], "Tagged", "any-tags")
    )
    ids["decision"] = await emu.create(
        "/offer-decisions", decision(ids["fallback"], ids["placement"], ids["by-offer"])
    )
    return ids


@pytest.mark.parametrize(
    ("target", "path", "kind", "users"),
    [
        ("tag", "/tags", "tag", ["offer", "by-tag"]),
        ("placement", "/placements", "placement", ["offer", "fallback", "decision"]),
        ("capped", "/placements", "placement", ["offer"]),
        ("rule", "/offer-rules", "decision-rule", ["offer"]),
        ("offer", "/offers?offer-type=personalized", "personalized-offer", ["by-offer"]),
        ("fallback", "/offers?offer-type=fallback", "fallback-offer", ["decision"]),
        ("by-offer", "/offer-collections", "collection", ["decision"]),
    ],
)
async def test_deleting_a_referenced_object_is_409_naming_its_referrers(
    target: str, path: str, kind: str, users: list[str]
) -> None:
    async with session() as emu:
        ids = await _estate(emu)
        collection_path, _, query = path.partition("?")
        response = await emu.call(
            "DELETE", f"{collection_path}/{ids[target]}" + (f"?{query}" if query else "")
        )
        referrers = ", ".join(sorted(ids[user] for user in users))
        assert (response.status_code, response.json()) == (
            409,
            {
                "type": "/problems/still-referenced",
                "title": "ConflictError",
                "status": 409,
                "detail": f"{kind} {ids[target]} is still used by {referrers}: remove those references first",
            },
        )


async def test_objects_delete_in_reverse_dependency_order() -> None:
    async with session() as emu:
        ids = await _estate(emu)
        order = [
            ("decision", "/offer-decisions"),
            ("by-offer", "/offer-collections"),
            ("by-tag", "/offer-collections"),
            ("offer", "/offers?offer-type=personalized"),
            ("fallback", "/offers?offer-type=fallback"),
            ("rule", "/offer-rules"),
            ("tag", "/tags"),
            ("capped", "/placements"),
            ("placement", "/placements"),
        ]
        for name, path in order:
            collection_path, _, query = path.partition("?")
            url = f"{collection_path}/{ids[name]}" + (f"?{query}" if query else "")
            assert (await emu.call("DELETE", url)).status_code == 200, name


async def test_a_patch_dropping_a_reference_frees_its_target() -> None:
    async with session() as emu:
        ids = await _estate(emu)
        patch = [{"op": "replace", "path": "/ids", "value": []}]
        assert (
            await emu.call("PATCH", f"/offer-collections/{ids['by-tag']}", json=patch)
        ).status_code == 200
        assert (
            await emu.call(
                "PATCH",
                f"/offers/{ids['offer']}?offer-type=personalized",
                json=[{"op": "remove", "path": "/tags"}],
            )
        ).status_code == 200
        assert (await emu.call("DELETE", f"/tags/{ids['tag']}")).status_code == 200
