"""`reconciler emulator serve` in a subprocess: Adobe's curl examples, dropped connections, options."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from emulator_support import ID, SANDBOX_ID, TIMESTAMP, placement, served, session

from reconciler.emulator.app import create_app

DOCS = Path("/work/shared/reference/adobe-docs")

# The request bodies of Adobe's "Create a personalized offer" and "Update a personalized offer"
# pages, verbatim (checked against the pages below when they are at hand).
CREATE_EXAMPLE: dict[str, Any] = {
    "name": "Test personalized offer with frequency constraint",
    "status": "draft",
    "representations": [
        {
            "channel": "https://ns.adobe.com/xdm/channel-types/web",
            "placement": "offerPlacement1234",
            "components": [
                {
                    "type": "html",
                    "format": "text/html",
                    "language": ["en-us"],
                    "content": "Hello You qualify for our Discount of 60%",
                }
            ],
        }
    ],
    "selectionConstraint": {
        "startDate": "2022-07-27T05:00:00.000+00:00",
        "endDate": "2023-07-29T05:00:00.000+00:00",
        "profileConstraintType": "none",
    },
    "rank": {"priority": 0},
    "cappingConstraint": {},
    "frequencyCappingConstraints": [
        {
            "enabled": False,
            "limit": 1,
            "startDate": "2023-05-15T14:25:49.622+00:00",
            "endDate": "2023-05-25T14:25:49.622+00:00",
            "scope": "global",
            "entity": "offer",
            "repeat": {"enabled": False, "unit": "month", "unitCount": 1},
        }
    ],
}
UPDATE_EXAMPLE: list[dict[str, Any]] = [
    {"op": "replace", "path": "/name", "value": "Updated personalized offer"},
    {"op": "replace", "path": "/description", "value": "Updated personalized offer description"},
]


def _curl_body(page: str) -> Any:
    text = (DOCS / page).read_text()
    found = re.search(r"-d '(.*?)'\n```", text, re.S)
    assert found is not None, page
    return json.loads(found.group(1))


@pytest.mark.skipif(not DOCS.exists(), reason="Adobe's pages are not at hand")
def test_the_examples_are_adobes_verbatim() -> None:
    assert _curl_body("create-personalized-offer.md") == CREATE_EXAMPLE
    assert _curl_body("update-personalized-offer.md") == UPDATE_EXAMPLE


def _headers(token: str, client_id: str) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {token}",
        "x-api-key": client_id,
        "x-gw-ims-org-id": "1234ABCD@AdobeOrg",
        "x-sandbox-name": "prod",
        "Content-Type": "application/json",
    }


def _login(
    http: httpx.Client, client_id: str = "curl-user", secret: str = "curl-secret"
) -> dict[str, str]:
    response = http.post(
        "/ims/token/v3",
        content=f"client_id={client_id}&client_secret={secret}&grant_type=client_credentials&scope=openid,AdobeID",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["token_type"] == "bearer"
    return _headers(response.json()["access_token"], client_id)


def _check_receipt(body: dict[str, Any], etag: int) -> None:
    assert ID.match(body["id"])
    assert SANDBOX_ID.match(body["sandboxId"])
    assert TIMESTAMP.match(body["createdDate"])
    assert TIMESTAMP.match(body["lastModifiedDate"])
    assert body == {
        "etag": etag,
        "createdBy": "curl-user@techacct.adobe.com",
        "lastModifiedBy": "curl-user@techacct.adobe.com",
        "id": body["id"],
        "sandboxId": body["sandboxId"],
        "createdDate": body["createdDate"],
        "lastModifiedDate": body["lastModifiedDate"],
        "createdByClientId": "curl-user",
        "lastModifiedByClientId": "curl-user",
    }


def test_adobes_create_and_update_examples_against_the_served_emulator(tmp_path: Path) -> None:
    with served(log=tmp_path / "server.log") as base, httpx.Client(base_url=base) as http:
        headers = _login(http)
        dps = "/data/core/dps"
        made = http.post(f"{dps}/placements", headers=headers, json=placement("Web banner"))
        assert made.status_code == 201
        body = json.loads(json.dumps(CREATE_EXAMPLE))
        body["representations"][0]["placement"] = made.json()["id"]
        body["description"] = "Personalized offer description"  # replace needs its target
        created = http.post(f"{dps}/offers?offer-type=personalized", headers=headers, json=body)
        assert created.status_code == 201, created.text
        _check_receipt(created.json(), 1)
        offer_id = created.json()["id"]
        assert created.headers["location"] == f"/offers/{offer_id}?offer-type=personalized"
        updated = http.patch(
            f"{dps}/offers/{offer_id}?offer-type=personalized", headers=headers, json=UPDATE_EXAMPLE
        )
        assert updated.status_code == 200, updated.text
        _check_receipt(updated.json(), 2)
        assert updated.json()["createdDate"] == created.json()["createdDate"]
        read = http.get(
            f"{dps}/offers/{offer_id}?offer-type=personalized",
            headers={**headers, "Accept": "*,application/json"},
        )
        assert read.status_code == 200
        assert read.json() == {
            "created": created.json()["createdDate"],
            "modified": updated.json()["lastModifiedDate"],
            "etag": 2,
            "schemas": [
                "https://ns.adobe.com/experience/offer-management/personalized-offer;version=0.15"
            ],
            "createdBy": "curl-user@techacct.adobe.com",
            "lastModifiedBy": "curl-user@techacct.adobe.com",
            "id": offer_id,
            **body,
            "name": "Updated personalized offer",
            "description": "Updated personalized offer description",
        }
        deleted = http.delete(f"{dps}/offers/{offer_id}?offer-type=personalized", headers=headers)
        assert (deleted.status_code, deleted.content) == (200, b"")
        assert (
            http.get(
                f"{dps}/offers/{offer_id}?offer-type=personalized", headers=headers
            ).status_code
            == 404
        )


def test_dropped_connections_are_protocol_errors_and_some_writes_land(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    with (
        served("--drop-rate", "0.6", "--seed", "11", log=log) as base,
        httpx.Client(base_url=base) as http,
    ):
        headers = _login(http)
        answered, dropped = 0, 0
        for index in range(30):
            try:
                response = http.post(
                    "/data/core/dps/tags", headers=headers, json={"name": f"t{index:02d}"}
                )
            except httpx.RemoteProtocolError:
                dropped += 1
                continue
            assert response.status_code == 201
            answered += 1
        assert dropped > 0
        assert answered > 0
        total = None
        for _ in range(50):  # the list itself may be dropped: read until an answer arrives whole
            try:
                page = http.get("/data/core/dps/tags", headers=headers, params={"limit": "100"})
            except httpx.RemoteProtocolError:
                continue
            total = page.json()["total"]
            break
        assert total is not None
        assert answered < total < 30  # some dropped writes landed, some never happened
    assert "Traceback" not in log.read_text()


@pytest.mark.anyio
async def test_a_served_emulator_and_an_in_process_app_share_a_data_file(tmp_path: Path) -> None:
    data = tmp_path / "shared.jsonl"
    with (
        served("--data", str(data), log=tmp_path / "server.log") as base,
        httpx.Client(base_url=base) as http,
    ):
        headers = _login(http)
        remote = http.post(
            "/data/core/dps/tags", headers=headers, json={"name": "from the server"}
        ).json()["id"]
        async with session(create_app(data_file=data)) as local:
            assert (await local.get(f"/tags/{remote}"))["name"] == "from the server"
            mine = await local.create("/tags", {"name": "from the test"})
            seen = http.get(f"/data/core/dps/tags/{mine}", headers=headers)
            assert (seen.status_code, seen.json()["name"]) == (200, "from the test")
            clash = http.post(
                "/data/core/dps/tags", headers=headers, json={"name": "from the test"}
            )
            assert clash.status_code == 409


def test_serve_options_pin_credentials_and_ignore_if_match(tmp_path: Path) -> None:
    options = (
        "--client-id",
        "ci-bot",
        "--client-secret",
        "right",
        "--ignore-if-match",
        "--token-ttl",
        "120",
    )
    with served(*options, log=tmp_path / "server.log") as base, httpx.Client(base_url=base) as http:
        form = {"grant_type": "client_credentials", "client_id": "ci-bot", "client_secret": "wrong"}
        refused = http.post("/ims/token/v3", data=form)
        assert (refused.status_code, refused.json()["error"]) == (401, "invalid_client")
        token = http.post("/ims/token/v3", data={**form, "client_secret": "right"}).json()
        assert token["expires_in"] == 120
        headers = _headers(token["access_token"], "ci-bot")
        tag = http.post("/data/core/dps/tags", headers=headers, json={"name": "x"}).json()["id"]
        patch = [{"op": "replace", "path": "/name", "value": "y"}]
        stale = http.patch(
            f"/data/core/dps/tags/{tag}", headers={**headers, "If-Match": '"9"'}, json=patch
        )
        assert stale.status_code == 200


def test_serve_race_options_make_ui_edits_that_the_data_file_records(tmp_path: Path) -> None:
    data = tmp_path / "chaos.jsonl"
    options = ("--data", str(data), "--race-write", "1", "--race-client-id", "marketer")
    with served(*options, log=tmp_path / "server.log") as base, httpx.Client(base_url=base) as http:
        headers = _login(http)
        tag = http.post("/data/core/dps/tags", headers=headers, json={"name": "x"}).json()["id"]
        patch = [{"op": "replace", "path": "/name", "value": "y"}]
        stale = http.patch(
            f"/data/core/dps/tags/{tag}", headers={**headers, "If-Match": '"1"'}, json=patch
        )
        assert (stale.status_code, stale.json()["type"]) == (409, "/problems/etag-mismatch")
    lines = [json.loads(line) for line in data.read_bytes().splitlines()]
    assert [
        (line["op"], line["object"]["etag"], line["object"]["lastModifiedByClientId"])
        for line in lines
    ] == [("create", 1, "curl-user"), ("patch", 2, "marketer")]
    assert lines[1]["object"]["body"] == {
        "name": "x",
        "description": "Edited in the UI (revision 2)",
    }
