"""The Offer Library client against the emulator, over real httpx transports (in-process ASGI)."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import make_repo, served_config, served_emulator
from emulator_support import session

from reconciler import api, commands
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
    """Records the back-off delays and moves a shared clock instead of waiting them out.

    Requests sleeping at the same time wake at the same moment: the clock moves to the end of
    each sleep (not by its length), after letting the other tasks run up to their own sleeps.
    """

    def __init__(self) -> None:
        self.delays: list[float] = []
        self.now = 1_800_000_000.0

    def clock(self) -> float:
        return self.now

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        wake = self.now + seconds
        await asyncio.sleep(0)
        self.now = max(self.now, wake)


def run(
    body: Callable[[api.Client], Awaitable[Any]],
    *,
    app: Any = None,
    creds: Credentials = CREDS,
    log: list[str] | None = None,
    sleep: Sleeps | None = None,
    **options: Any,
) -> Any:
    sleeps = sleep or Sleeps()

    async def main() -> Any:
        client = api.Client(
            ENDPOINT,
            creds,
            transport=api.asgi_transport(app or create_app()),
            log=log.append if log is not None else None,
            sleep=sleeps,
            clock=sleeps.clock,
            seed=1,
            **options,
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
        "GET /data/core/dps/tags?orderby=created&limit=100 -> 401",
        "POST /ims/token/v3 -> 200",
        "GET /data/core/dps/tags?orderby=created&limit=100 -> 200",
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
        "(and ADOBE_SCOPES), or ADOBE_ACCESS_TOKEN and ADOBE_API_KEY"
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


# --- listing while others edit --------------------------------------------------------------


class Ticking:
    """The emulator's clock: a millisecond later at every reading, so each object gets its own
    `created`; a test sets `now` back to stamp an object in the past."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        self.now += 0.001
        return self.now


class BeforeSecondPage:
    """The real emulator app, which runs `action` (a real call on it) before it serves the
    second page of a listing, `times` times."""

    def __init__(self, app: Any, times: int = 1) -> None:
        self.app = app
        self.times = times
        self.action: Callable[[], Awaitable[None]] | None = None
        self._first_page_served = False

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            is_next_page = b"start=" in scope["query_string"]
            if is_next_page and self._first_page_served and self.times and self.action:
                self.times -= 1
                await self.action()
            self._first_page_served = not is_next_page
        await self.app(scope, receive, send)


def ui_client(app: Any) -> api.Client:
    """A marketer editing in the UI: another API client on the same emulator."""
    return api.Client(
        ENDPOINT,
        Credentials(client_id="marketer-ui", client_secret="ui-secret"),
        transport=api.asgi_transport(app),
    )


def tag_names(found: list[dict[str, Any]]) -> list[str]:
    return sorted(str(item["name"]) for item in found)


TAGS = [f"T{n:02d}" for n in range(25)]


def test_an_object_edited_between_two_pages_is_still_listed_once() -> None:
    app = create_app(clock=Ticking())
    gateway = BeforeSecondPage(app)

    async def body(client: api.Client) -> list[str]:
        ids = [(await client.create(Kind.TAG, {"name": n}, name=n)).id for n in TAGS]
        async with ui_client(app) as ui:

            async def rename() -> None:  # not on the first page in either sort order
                edit = [{"op": "replace", "path": "/name", "value": "T12 renamed"}]
                await ui.patch(Kind.TAG, ids[12], edit, if_match=None)

            gateway.action = rename
            return tag_names(await client.list_all(Kind.TAG, page_size=10))

    assert run(body, app=gateway) == [*TAGS[:12], "T12 renamed", *TAGS[13:]]


def test_an_object_created_behind_the_cursor_makes_the_list_read_again() -> None:
    clock = Ticking()
    app = create_app(clock=clock)
    gateway = BeforeSecondPage(app)
    log: list[str] = []

    async def body(client: api.Client) -> list[str]:
        for name in TAGS:
            await client.create(Kind.TAG, {"name": name}, name=name)
        async with ui_client(app) as ui:

            async def create_backdated() -> None:  # a server clock behind the others
                now, clock.now = clock.now, 1_700_000_000.0
                await ui.create(Kind.TAG, {"name": "Late"}, name="Late")
                clock.now = now

            gateway.action = create_backdated
            return tag_names(await client.list_all(Kind.TAG, page_size=10))

    assert run(body, app=gateway, log=log) == sorted([*TAGS, "Late"])
    assert [line for line in log if " -> " not in line] == [
        "list tag: saw 25 of 26 objects; listing again"
    ]


def test_a_list_that_never_settles_is_one_clear_line() -> None:
    clock = Ticking()
    app = create_app(clock=clock)
    gateway = BeforeSecondPage(app, times=1_000)

    async def body(client: api.Client) -> None:
        for name in TAGS:
            await client.create(Kind.TAG, {"name": name}, name=name)
        async with ui_client(app) as ui:
            late = iter(range(1_000))

            async def create_backdated() -> None:
                now, clock.now = clock.now, 1_700_000_000.0
                name = f"Late {next(late)}"
                await ui.create(Kind.TAG, {"name": name}, name=name)
                clock.now = now

            gateway.action = create_backdated
            await client.list_all(Kind.TAG, page_size=10)

    with pytest.raises(api.Unsettled) as raised:
        run(body, app=gateway)
    assert str(raised.value) == (
        "list tag: 3 passes each saw fewer objects than the total (the last 27 of 28): "
        "objects are being created or deleted meanwhile; run the command again"
    )


def test_writes_under_a_sustained_rate_limit_all_succeed() -> None:
    """Far more 429s than the 8 attempts a 5xx gets; every write lands, exactly once."""
    sleeps = Sleeps()
    app = create_app(EmulatorSettings(rate_limit=2.0), clock=sleeps.clock)
    names = [f"T{n:03d}" for n in range(120)]

    async def body(client: api.Client) -> tuple[list[str], api.Counters]:
        await asyncio.gather(*(client.create(Kind.TAG, {"name": n}, name=n) for n in names))
        app.state.settings = EmulatorSettings()
        return tag_names(await client.list_all(Kind.TAG, page_size=1000)), client.counters

    found, counters = run(body, app=app, sleep=sleeps, max_in_flight=8)
    assert found == names
    assert (counters.by_method["POST"] - counters.throttled, counters.min_limit) == (120, 1)


def test_a_request_throttled_longer_than_its_budget_is_one_clear_line() -> None:
    sleeps = Sleeps()
    app = create_app(EmulatorSettings(rate_limit=0.001), clock=sleeps.clock)

    async def body(client: api.Client) -> None:
        await client.create(Kind.TAG, {"name": "A"}, name="A")  # spends the only token
        await client.create(Kind.TAG, {"name": "B"}, name="B")

    with pytest.raises(api.RateLimited) as raised:
        run(body, app=app, sleep=sleeps, retry=api.RetryPolicy(throttled_budget=300.0))
    assert str(raised.value) == (
        "create tag 'B': HTTP 429: too many requests: at most 0.001 per second per client; "
        "retry after 700 s (still refused after 300 s of retries: try again later)"
    )


# --- credentials ----------------------------------------------------------------------------


async def token_of(app: Any, client_id: str) -> str:
    """An access token IMS issued to `client_id`, as a CI secret would hold it."""
    async with session(app) as ims:
        await ims.login(client_id)
        return ims.token


@pytest.mark.parametrize(
    "key",
    [
        pytest.param(Credentials(api_key="ci-bot"), id="ADOBE_API_KEY"),
        pytest.param(Credentials(client_id="ci-bot"), id="ADOBE_CLIENT_ID"),
        pytest.param(Credentials(client_id="other", api_key="ci-bot"), id="ADOBE_API_KEY wins"),
    ],
)
def test_an_access_token_needs_no_client_secret(key: Credentials) -> None:
    app = create_app()
    token = asyncio.run(token_of(app, "ci-bot"))
    creds = dataclasses.replace(key, access_token=token)

    async def body(client: api.Client) -> tuple[str | None, str]:
        receipt = await client.create(Kind.TAG, {"name": "Sale"}, name="Sale")
        return receipt.modified_by, tag_names(await client.list_all(Kind.TAG))[0]

    assert run(body, app=app, creds=creds) == ("ci-bot@techacct.adobe.com", "Sale")


def test_an_access_token_without_an_api_key_is_one_clear_line() -> None:
    with pytest.raises(api.AuthFailed) as raised:
        run(lambda c: c.list_all(Kind.TAG), creds=Credentials(access_token="a-ready-token"))
    assert str(raised.value) == (
        "authenticate: no response: no API key for the x-api-key header: set ADOBE_API_KEY "
        "(or ADOBE_CLIENT_ID) to the credential's client id"
    )


def test_ims_answering_404_names_the_ims_url() -> None:
    wrong = dataclasses.replace(ENDPOINT, ims_url="http://emulator/ims/token/v2")

    async def main() -> None:
        async with api.Client(wrong, CREDS, transport=api.asgi_transport(create_app())) as client:
            await client.list_all(Kind.TAG)

    with pytest.raises(api.AuthFailed) as raised:
        asyncio.run(main())
    assert str(raised.value) == (
        "authenticate: HTTP 404: no IMS token endpoint at http://emulator/ims/token/v2: "
        "check ims: in reconciler.yaml (for example https://ims-na1.adobelogin.com/ims/token/v3)"
    )


def test_refused_credentials_are_sent_to_ims_once_however_many_calls_wait() -> None:
    app = create_app(EmulatorSettings(client_id="ci-bot", client_secret="the-real-secret"))
    log: list[str] = []

    async def body(client: api.Client) -> list[str]:
        calls = [client.list_all(kind) for kind in Kind]
        outcomes = await asyncio.gather(*calls, return_exceptions=True)
        return sorted({str(outcome) for outcome in outcomes})

    assert run(body, app=app, log=log) == [
        "authenticate: HTTP 401: IMS refused the client credentials: check ADOBE_CLIENT_ID/SECRET/SCOPES"
    ]
    assert [line.split(" (")[0] for line in log] == ["POST /ims/token/v3 -> 401"]


def test_a_failed_refresh_leaves_no_list_running() -> None:
    """One kind's list fails: the others are cancelled and finished before refresh returns."""
    sleeps = Sleeps()
    app = create_app(EmulatorSettings(rate_limit=1.0), clock=sleeps.clock)  # one call answered

    async def body(client: api.Client) -> list[str]:
        with pytest.raises(api.RateLimited):
            await commands.refresh(client, page_size=100)
        running = asyncio.all_tasks() - {asyncio.current_task()}
        return sorted(repr(task.get_coro()).split(" at ")[0] for task in running)

    no_patience = api.RetryPolicy(throttled_budget=0.0)
    assert run(body, app=app, sleep=sleeps, retry=no_patience) == []


def test_an_auth_failure_in_the_cli_is_one_line_without_warnings(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", estate=False)
    environ = {name: value for name, value in os.environ.items() if not name.startswith("ADOBE_")}
    env = {**environ, "ADOBE_CLIENT_ID": "ci-bot", "ADOBE_CLIENT_SECRET": "wrong-secret"}
    with served_emulator("--client-id", "x", "--client-secret", "y") as base:
        (repo / "reconciler.yaml").write_text(served_config(base))
        done = subprocess.run(
            [sys.executable, "-m", "reconciler.cli", "-C", str(repo), "plan"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
    assert (done.returncode, done.stdout, done.stderr) == (
        1,
        "",
        "Error: authenticate: HTTP 401: IMS refused the client credentials: "
        "check ADOBE_CLIENT_ID/SECRET/SCOPES\n",
    )
