"""The emulator's edge: IMS tokens, gateway header checks, content types, bodies, sandboxes."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
from emulator_support import BASE, Clock, placement, session

from reconciler.emulator.app import create_app
from reconciler.emulator.settings import EmulatorSettings

pytestmark = pytest.mark.anyio

GOOD = object()


@pytest.mark.parametrize(
    ("changes", "status", "body"),
    [
        (
            {"Authorization": None},
            401,
            {"error_code": "403010", "message": "Oauth token is missing."},
        ),
        (
            {"Authorization": "Bearer not-a-token"},
            401,
            {"error_code": "401013", "message": "Oauth token is not valid"},
        ),
        (
            {"Authorization": "Basic dGVzdGVyOnNlY3JldA=="},
            401,
            {"error_code": "401013", "message": "Oauth token is not valid"},
        ),
        ({"x-api-key": None}, 403, {"error_code": "403000", "message": "Api Key is required"}),
        (
            {"x-api-key": "someone-else"},
            403,
            {"error_code": "403003", "message": "Api Key is invalid"},
        ),
        ({"x-gw-ims-org-id": None}, 400, {"error_code": "400003", "message": "Missing header"}),
        ({"x-sandbox-name": None}, 400, {"error_code": "400003", "message": "Missing header"}),
    ],
)
async def test_every_gateway_refusal_has_its_documented_status_and_body(
    changes: dict[str, str | None], status: int, body: dict[str, str]
) -> None:
    async with session() as emu:
        headers = {k: v for k, v in {**emu.headers, **changes}.items() if v is not None}
        for method, path in (
            ("GET", "/placements"),
            ("POST", "/placements"),
            ("DELETE", "/tags/x"),
        ):
            response = await emu.http.request(method, BASE + path, headers=headers)
            assert (response.status_code, response.json()) == (status, body)


async def test_a_token_is_issued_in_the_oauth_server_to_server_shape() -> None:
    async with session() as emu:
        response = await emu.http.post(
            "/ims/token/v3",
            content=b"grant_type=client_credentials&client_id=ci-bot&client_secret=s3cret&scope=openid",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        body = response.json()
        assert response.status_code == 200
        assert body == {
            "access_token": body["access_token"],
            "token_type": "bearer",
            "expires_in": 86399,
        }
        again = (
            await emu.http.post(
                "/ims/token/v3",
                data={
                    "grant_type": "client_credentials",
                    "client_id": "ci-bot",
                    "client_secret": "s3cret",
                },
            )
        ).json()
        assert again["access_token"] != body["access_token"]
        assert "s3cret" not in body["access_token"]
        assert len(body["access_token"]) >= 40


async def test_token_parameters_may_come_in_the_query_string() -> None:
    async with session() as emu:
        response = await emu.http.post(
            "/ims/token/v3",
            params={"grant_type": "client_credentials", "client_id": "q", "client_secret": "s"},
        )
        assert response.status_code == 200
        emu.token, emu.client_id = response.json()["access_token"], "q"
        assert (await emu.call("GET", "/tags")).status_code == 200


@pytest.mark.parametrize(
    ("settings", "form", "status", "body"),
    [
        (
            EmulatorSettings(),
            {"grant_type": "password", "client_id": "a", "client_secret": "b"},
            400,
            {
                "error": "unsupported_grant_type",
                "error_description": "grant_type must be client_credentials",
            },
        ),
        (
            EmulatorSettings(),
            {"client_id": "a", "client_secret": "b"},
            400,
            {
                "error": "unsupported_grant_type",
                "error_description": "grant_type must be client_credentials",
            },
        ),
        (
            EmulatorSettings(),
            {"grant_type": "client_credentials", "client_id": "a"},
            400,
            {
                "error": "invalid_request",
                "error_description": "client_id and client_secret are required",
            },
        ),
        (
            EmulatorSettings(client_id="ci-bot", client_secret="right"),
            {"grant_type": "client_credentials", "client_id": "ci-bot", "client_secret": "wrong"},
            401,
            {"error": "invalid_client", "error_description": "invalid client_id or client_secret"},
        ),
        (
            EmulatorSettings(client_id="ci-bot", client_secret="right"),
            {"grant_type": "client_credentials", "client_id": "other", "client_secret": "right"},
            401,
            {"error": "invalid_client", "error_description": "invalid client_id or client_secret"},
        ),
    ],
)
async def test_ims_refuses_bad_token_requests(
    settings: EmulatorSettings, form: dict[str, str], status: int, body: dict[str, str]
) -> None:
    app = create_app(settings)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://e"
    ) as http:
        response = await http.post("/ims/token/v3", data=form)
        assert (response.status_code, response.json()) == (status, body)


async def test_pinned_credentials_are_accepted() -> None:
    app = create_app(EmulatorSettings(client_id="ci-bot", client_secret="right"))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://e"
    ) as http:
        form = {"grant_type": "client_credentials", "client_id": "ci-bot", "client_secret": "right"}
        assert (await http.post("/ims/token/v3", data=form)).status_code == 200


async def test_a_token_expires_after_its_ttl_and_is_then_refused() -> None:
    clock = Clock()
    async with session(settings=EmulatorSettings(token_ttl=60), clock=clock) as emu:
        assert (await emu.call("GET", "/tags")).status_code == 200
        clock.now += 59.9
        assert (await emu.call("GET", "/tags")).status_code == 200
        clock.now += 0.1
        response = await emu.call("GET", "/tags")
        assert (response.status_code, response.json()) == (
            401,
            {"error_code": "401013", "message": "Oauth token is not valid"},
        )
        await emu.login()
        assert (await emu.call("GET", "/tags")).status_code == 200


async def test_faults_never_touch_ims() -> None:
    settings = EmulatorSettings(error_rate=1.0, drop_rate=1.0, rate_limit=0.001, seed=1)
    async with session(settings=settings) as emu:  # logging in works despite every fault
        response = await emu.call("GET", "/tags")
        assert response.status_code in (429, 500, 502, 503)


@pytest.mark.parametrize(
    ("method", "path", "content_type", "content", "status"),
    [
        ("POST", "/tags", None, b'{"name": "a"}', 400),
        ("POST", "/tags", "text/plain", b'{"name": "a"}', 400),
        ("POST", "/tags", "application/json-patch+json", b'{"name": "a"}', 400),
        ("POST", "/tags", "application/x-www-form-urlencoded", b"name=a", 400),
        ("POST", "/tags", "application/json; charset=utf-8", b'{"name": "a"}', 201),
        ("POST", "/tags", "Application/JSON", b'{"name": "b"}', 201),
        ("PATCH", "/tags/{id}", None, b"[]", 400),
        ("PATCH", "/tags/{id}", "application/json-patch+json", b"[]", 200),
        ("PATCH", "/tags/{id}", "application/json;charset=UTF-8", b"[]", 200),
    ],
)
async def test_writes_need_a_json_content_type(
    method: str, path: str, content_type: str | None, content: bytes, status: int
) -> None:
    async with session() as emu:
        tag = await emu.create("/tags", {"name": "existing"})
        headers = {"Content-Type": content_type} if content_type else {}
        response = await emu.call(method, path.format(id=tag), content=content, headers=headers)
        assert response.status_code == status, response.text
        if status == 400:
            assert response.headers["content-type"] == "application/problem+json"
            assert response.json() == {
                "type": "/problems/bad-request",
                "title": "BadRequestError",
                "status": 400,
                "detail": "A valid content-type must be specified",
            }


@pytest.mark.parametrize(
    ("content", "detail"),
    [
        (b"", "the request body is empty: send a JSON document"),
        (
            b"{",
            "the request body is not valid JSON: Expecting property name enclosed in double quotes (line 1, column 2)",
        ),
        # The decoder's wording changes between Python versions; the position does not matter.
        (
            b'{"name": "a",}',
            re.compile(r"the request body is not valid JSON: .+ \(line 1, column 1[34]\)"),
        ),
        (b'{"name": NaN}', "the request body is not valid JSON: NaN is not JSON"),
        (b'"\xff"', "the request body is not UTF-8 text"),
        (b"[" * 100_000 + b"]" * 100_000, "the request body is nested deeper than 32 levels"),
        (b'{"a":' * 33 + b"1" + b"}" * 33, "the request body is nested deeper than 32 levels"),
        (b'{"name": "\\ud800"}', "the request body holds an unpaired UTF-16 surrogate escape"),
        (b"[]", "the body of a tag must be a JSON object"),
        (b'"tag"', "the body of a tag must be a JSON object"),
    ],
)
async def test_a_body_that_is_not_a_json_object_is_a_400_never_a_500(
    content: bytes, detail: str | re.Pattern[str]
) -> None:
    async with session() as emu:
        response = await emu.call(
            "POST", "/tags", content=content, headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 400
        if isinstance(detail, str):
            assert response.json()["detail"] == detail
        else:
            assert detail.fullmatch(response.json()["detail"])


async def test_a_request_id_is_echoed_on_every_data_answer() -> None:
    async with session() as emu:
        for extra in ({}, {"x-api-key": "wrong"}):
            response = await emu.call("GET", "/tags", headers={"x-request-id": "3f1c-req", **extra})
            assert response.headers["x-request-id"] == "3f1c-req"
        assert "x-request-id" not in (await emu.call("GET", "/tags")).headers


@pytest.mark.parametrize(
    ("org", "sandbox"), [("1234ABCD@AdobeOrg", "dev"), ("OTHER@AdobeOrg", "prod")]
)
async def test_data_is_partitioned_by_org_and_sandbox(org: str, sandbox: str) -> None:
    async with session() as emu:
        placement_id = await emu.create("/placements", placement())
        other = {"x-gw-ims-org-id": org, "x-sandbox-name": sandbox}
        response = await emu.call("GET", f"/placements/{placement_id}", headers=other)
        assert response.status_code == 404
        listed = (await emu.call("GET", "/placements", headers=other)).json()
        assert (listed["results"], listed["total"]) == ([], 0)
        assert (
            await emu.call("DELETE", f"/placements/{placement_id}", headers=other)
        ).status_code == 404
        assert (await emu.call("GET", f"/placements/{placement_id}")).status_code == 200


async def test_unknown_paths_and_methods_are_problems() -> None:
    async with session() as emu:
        cases: list[tuple[str, str, int, dict[str, Any]]] = [
            (
                "GET",
                "/offer-things",
                404,
                {"detail": "/data/core/dps/offer-things is not an Offer Library endpoint"},
            ),
            (
                "GET",
                "/tags/a/b",
                404,
                {"detail": "/data/core/dps/tags/a/b is not an Offer Library endpoint"},
            ),
            ("PUT", "/tags/x", 405, {"detail": "PUT is not allowed on /data/core/dps/tags/x"}),
            ("DELETE", "/tags", 405, {"detail": "DELETE is not allowed on /data/core/dps/tags"}),
        ]
        for method, path, status, expected in cases:
            response = await emu.call(method, path)
            assert response.status_code == status
            assert response.headers["content-type"] == "application/problem+json"
            assert json.loads(response.text)["detail"] == expected["detail"]
        outside = await emu.http.get("/elsewhere")
        assert (outside.status_code, outside.json()["detail"]) == (
            404,
            "/elsewhere is not an endpoint of the emulator",
        )
