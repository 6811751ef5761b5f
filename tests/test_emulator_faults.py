"""Fault injection in-process: rate limits, injected 5xx, dropped responses, latency, live switches."""

from __future__ import annotations

import dataclasses
import time

import pytest
from emulator_support import Clock, session

from reconciler.emulator.settings import EmulatorSettings

pytestmark = pytest.mark.anyio


async def test_over_the_rate_limit_a_client_gets_429_with_retry_after() -> None:
    clock = Clock()
    async with session(settings=EmulatorSettings(rate_limit=2), clock=clock) as emu:
        assert [(await emu.call("GET", "/tags")).status_code for _ in range(2)] == [200, 200]
        refused = await emu.call("GET", "/tags")
        assert refused.status_code == 429
        assert refused.headers["retry-after"] == "1"
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json() == {
            "type": "/problems/rate-limited",
            "title": "TooManyRequestsError",
            "status": 429,
            "detail": "too many requests: at most 2 per second per client; retry after 1 s",
        }
        await emu.login("another-client")  # every client has its own budget
        assert (await emu.call("GET", "/tags")).status_code == 200
        await emu.login()
        clock.now += 0.5  # half a second refills one request at 2 per second
        assert [(await emu.call("GET", "/tags")).status_code for _ in range(2)] == [200, 429]


async def test_a_slow_rate_limit_asks_for_a_longer_wait() -> None:
    async with session(settings=EmulatorSettings(rate_limit=0.25)) as emu:
        assert (await emu.call("GET", "/tags")).status_code == 200
        refused = await emu.call("GET", "/tags")
        assert (refused.status_code, refused.headers["retry-after"]) == (429, "4")


async def test_settings_replaced_live_start_and_stop_a_429_storm() -> None:
    async with session() as emu:
        assert (await emu.call("GET", "/tags")).status_code == 200
        emu.app.state.settings = dataclasses.replace(emu.app.state.settings, rate_limit=0.001)
        statuses = [(await emu.call("GET", "/tags")).status_code for _ in range(5)]
        assert statuses == [200, 429, 429, 429, 429]  # a fresh bucket holds one request
        emu.app.state.settings = EmulatorSettings()
        assert (await emu.call("GET", "/tags")).status_code == 200


async def test_injected_errors_are_5xx_before_any_data_is_touched() -> None:
    async with session(settings=EmulatorSettings(error_rate=1.0, seed=3)) as emu:
        answers = [await emu.call("POST", "/tags", json={"name": f"t{i}"}) for i in range(12)]
        assert {answer.status_code for answer in answers} == {500, 502, 503}
        assert {answer.json()["detail"] for answer in answers} == {
            "injected failure: nothing was done"
        }
        emu.app.state.settings = EmulatorSettings()
        assert (await emu.get("/tags"))["total"] == 0


async def test_the_same_seed_gives_the_same_faults() -> None:
    outcomes = []
    for _ in range(2):
        async with session(settings=EmulatorSettings(error_rate=0.5, seed=42)) as emu:
            outcomes.append([(await emu.call("GET", "/tags")).status_code for _ in range(30)])
    assert outcomes[0] == outcomes[1]
    assert 200 in outcomes[0]
    assert set(outcomes[0]) - {200}


async def test_dropped_answers_are_truncated_and_sometimes_the_write_landed() -> None:
    async with session(settings=EmulatorSettings(drop_rate=1.0, seed=5)) as emu:
        answers = [await emu.call("POST", "/tags", json={"name": f"t{i:02d}"}) for i in range(20)]
        for answer in answers:
            assert answer.status_code == 201
            assert int(answer.headers["content-length"]) > len(answer.content)
        emu.app.state.settings = EmulatorSettings()
        landed = (await emu.get("/tags", limit="100"))["results"]
        assert 0 < len(landed) < 20
        emu.app.state.settings = EmulatorSettings(drop_rate=1.0, seed=5)
        for tag in landed:
            deleted = await emu.call("DELETE", f"/tags/{tag['id']}")
            assert (deleted.status_code, deleted.headers["content-length"], deleted.content) == (
                200,
                "1",
                b"",
            )
        emu.app.state.settings = EmulatorSettings()
        assert 0 < (await emu.get("/tags"))["total"] < len(landed)


async def test_latency_delays_data_calls() -> None:
    async with session(settings=EmulatorSettings(latency_ms=60)) as emu:
        started = time.perf_counter()
        await emu.call("GET", "/tags")
        assert time.perf_counter() - started >= 0.06
