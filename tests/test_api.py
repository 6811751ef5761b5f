"""The Offer Library client against the emulator, over real httpx transports (in-process ASGI)."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from reconciler import api
from reconciler.emulator.app import create_app
from reconciler.emulator.settings import EmulatorSettings
from reconciler.model import Credentials, Kind

BASE = "http://emulator/data/core/dps"
IMS = "http://emulator/ims/token/v3"
ENDPOINT = api.Endpoint(BASE, IMS, "1234ABCD@AdobeOrg", "prod")
SECRET = "top-secret-client-secret"
CREDS = Credentials(client_id="ci-bot", client_secret=SECRET)
PLACEMENT = {
    "name": "Web banner",
    "componentType": "html",
    "channel": "https://ns.adobe.com/xdm/channel-types/web",
}


class Sleeps:
    """Records the back-off delays and moves a shared clock instead of waiting them out."""

    def __init__(self) -> None:
        self.delays: list[float] = []
        self.now = 1_800_000_000.0

    def clock(self) -> float:
        return self.now

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        self.now += seconds


def run(
    body: Callable[[api.Client], Awaitable[Any]],
    *,
    app: Any = None,
    creds: Credentials = CREDS,
    log: list[str] | None = None,
    sleep: Sleeps | None = None,
) -> Any:
    async def main() -> Any:
        client = api.Client(
            ENDPOINT,
            creds,
            transport=api.asgi_transport(app or create_app()),
            log=log.append if log is not None else None,
            sleep=sleep or Sleeps(),
            seed=1,
        )
        async with client:
            return await body(client)

    return asyncio.run(main())


def test_list_follows_next_links_one_request_per_page() -> None:
    async def body(client: api.Client) -> tuple[list[str], int]:
        for n in range(25):
            await client.create(Kind.TAG, {"name": f"Tag {n:02d}"}, name=f"Tag {n:02d}")
        before = client.counters.by_method.get("GET", 0)
        found = await client.list_all(Kind.TAG, page_size=10)
        return sorted(str(t["name"]) for t in found), client.counters.by_method["GET"] - before

    names, pages = run(body)
    assert names == [f"Tag {n:02d}" for n in range(25)]
    assert pages == 3


def test_create_returns_the_receipt_and_get_the_object() -> None:
    async def body(client: api.Client) -> tuple[api.Receipt, dict[str, Any]]:
        receipt = await client.create(Kind.PLACEMENT, PLACEMENT, name="Web banner")
        return receipt, await client.get(Kind.PLACEMENT, receipt.id)

    receipt, live = run(body)
    assert (receipt.etag, receipt.modified_by) == ("1", "ci-bot@techacct.adobe.com")
    assert {k: live[k] for k in PLACEMENT} == PLACEMENT
    assert (live["id"], live["etag"], live["createdBy"]) == (
        receipt.id,
        1,
        "ci-bot@techacct.adobe.com",
    )


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda c: c.get(Kind.TAG, "dps:tag:0000000000000000"),
            api.NotFound,
            "read tag dps:tag:0000000000000000: HTTP 404: ",
        ),
        (
            lambda c: c.create(Kind.PLACEMENT, {"name": "No channel"}, name="No channel"),
            api.Invalid,
            "create placement 'No channel': HTTP 4",
        ),
    ],
)
def test_errors_are_typed_and_name_the_operation(
    call: Any, error: type[api.ApiError], message: str
) -> None:
    with pytest.raises(error) as raised:
        run(call)
    assert str(raised.value).startswith(message)
    assert "\n" not in str(raised.value)


def test_patch_with_a_stale_if_match_is_a_conflict() -> None:
    async def body(client: api.Client) -> None:
        receipt = await client.create(Kind.TAG, {"name": "Sale"}, name="Sale")
        await client.patch(
            Kind.TAG,
            receipt.id,
            [{"op": "replace", "path": "/name", "value": "Sale 2"}],
            if_match=receipt.etag,
        )
        await client.patch(
            Kind.TAG,
            receipt.id,
            [{"op": "replace", "path": "/name", "value": "Sale 3"}],
            if_match=receipt.etag,
        )

    with pytest.raises(api.Conflict) as raised:
        run(body)
    assert str(raised.value).startswith("update tag dps:tag:")
    assert raised.value.status == 409


def test_the_token_is_fetched_once_and_refreshed_once_on_a_401() -> None:
    app = create_app()
    log: list[str] = []

    async def body(client: api.Client) -> int:
        for n in range(3):
            await client.create(Kind.TAG, {"name": f"T{n}"}, name=f"T{n}")
        return client.counters.total

    run(body, app=app, log=log)
    assert [line.split(" -> ")[0] for line in log if "/ims/" in line] == ["POST /ims/token/v3"]
    stale = Credentials(
        client_id="ci-bot", client_secret=SECRET, access_token="expired-or-unknown-token"
    )
    log.clear()
    run(lambda c: c.list_all(Kind.TAG), app=app, creds=stale, log=log)
    assert [line.split(" (")[0] for line in log] == [
        "GET /data/core/dps/tags?limit=100 -> 401",
        "POST /ims/token/v3 -> 200",
        "GET /data/core/dps/tags?limit=100 -> 200",
    ]


def test_verbose_logs_never_show_a_secret_or_token() -> None:
    log: list[str] = []
    given = Credentials(client_id="ci-bot", client_secret=SECRET, access_token="given-token-abc")
    run(lambda c: c.list_all(Kind.TAG), creds=given, log=log)
    assert log
    assert all(SECRET not in line and "given-token-abc" not in line for line in log)
    assert all(" -> " in line and line.endswith(" ms)") for line in log)


def test_missing_credentials_are_one_clear_line() -> None:
    with pytest.raises(api.AuthFailed) as raised:
        run(lambda c: c.list_all(Kind.TAG), creds=Credentials())
    assert str(raised.value) == (
        "authenticate: no response: no credentials: set ADOBE_CLIENT_ID and ADOBE_CLIENT_SECRET "
        "(and ADOBE_SCOPES), or ADOBE_ACCESS_TOKEN"
    )


def test_429_answers_are_retried_honouring_retry_after() -> None:
    sleeps = Sleeps()
    app = create_app(EmulatorSettings(rate_limit=2.0), clock=sleeps.clock)

    async def body(client: api.Client) -> int:
        for n in range(6):
            await client.create(Kind.TAG, {"name": f"T{n}"}, name=f"T{n}")
        return len(await client.list_all(Kind.TAG))

    assert run(body, app=app, sleep=sleeps) == 6
    assert sleeps.delays  # it was throttled, and waited exactly as Retry-After said
    assert set(sleeps.delays) == {1.0}


def test_5xx_answers_are_retried_and_creates_never_duplicate() -> None:
    app = create_app(EmulatorSettings(error_rate=0.2, drop_rate=0.1, seed=3))

    async def body(client: api.Client) -> list[str]:
        for n in range(40):
            await client.create(Kind.TAG, {"name": f"T{n:02d}"}, name=f"T{n:02d}")
        app.state.settings = dataclasses.replace(app.state.settings, error_rate=0.0, drop_rate=0.0)
        return sorted(str(t["name"]) for t in await client.list_all(Kind.TAG))

    assert run(body, app=app) == [f"T{n:02d}" for n in range(40)]


def test_a_dropped_patch_is_never_resent_blindly() -> None:
    app = create_app()

    async def body(client: api.Client) -> tuple[str, Any]:
        receipt = await client.create(Kind.TAG, {"name": "Sale"}, name="Sale")
        app.state.settings = dataclasses.replace(app.state.settings, drop_rate=1.0, seed=5)
        try:
            await client.patch(
                Kind.TAG,
                receipt.id,
                [{"op": "replace", "path": "/name", "value": "Sale 2"}],
                if_match=receipt.etag,
            )
        except api.OutcomeUnknown as unknown:
            outcome = str(unknown)
        else:
            outcome = "no error"
        app.state.settings = dataclasses.replace(app.state.settings, drop_rate=0.0)
        live = await client.get(Kind.TAG, receipt.id)
        return outcome, live["etag"]

    outcome, etag = run(body, app=app)
    assert outcome.startswith("update tag dps:tag:")
    assert "may have been applied" in outcome
    assert etag in (1, 2)  # landed or not, but exactly once


def test_sparse_receipts_are_tolerated_etag_as_text_200_no_fields() -> None:
    app = create_app(EmulatorSettings(sparse_receipts=True))

    async def body(client: api.Client) -> tuple[api.Receipt, api.Receipt]:
        created = await client.create(Kind.PLACEMENT, PLACEMENT, name="Web banner")
        patched = await client.patch(
            Kind.PLACEMENT,
            created.id,
            [{"op": "add", "path": "/itemCount", "value": 2}],
            if_match=created.etag,
        )
        return created, patched

    created, patched = run(body, app=app)
    assert (created.etag, created.modified_by, patched.id, patched.etag) == (
        "1",
        None,
        created.id,
        "2",
    )
