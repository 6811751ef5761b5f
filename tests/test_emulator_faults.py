"""Fault injection in-process: rate limits, injected 5xx, dropped responses, latency, live switches."""

from __future__ import annotations

import dataclasses
import itertools
import json
import time
from pathlib import Path

import pytest
from emulator_support import STAMP, Clock, offer, placement, session

from reconciler.emulator.app import create_app
from reconciler.emulator.settings import EmulatorSettings
from reconciler.errors import UsageError

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


# --- the UI racer -----------------------------------------------------------------------------

_PATCH = [{"op": "replace", "path": "/description", "value": "from git"}]
_RACED = "Edited in the UI (revision 2)"


async def test_race_write_edits_the_target_first_so_a_stale_if_match_is_a_conflict() -> None:
    clock = Clock()
    async with session(settings=EmulatorSettings(race_write=1.0, seed=1), clock=clock) as emu:
        tag = await emu.create("/tags", {"name": "Summer", "description": "as created"})
        clock.now += 1
        stale = await emu.call("PATCH", f"/tags/{tag}", json=_PATCH, headers={"If-Match": '"1"'})
        assert (stale.status_code, stale.json()["type"]) == (409, "/problems/etag-mismatch")
        assert await emu.get(f"/tags/{tag}") == {
            "created": STAMP,
            "modified": "2027-01-15T08:00:01.000Z",
            "etag": 2,
            "schemas": ["https://ns.adobe.com/experience/offer-management/tag;version=0.1"],
            "createdBy": "tester@techacct.adobe.com",
            "lastModifiedBy": "ui-racer@techacct.adobe.com",
            "id": tag,
            "name": "Summer",
            "description": _RACED,
        }
        deleted = await emu.call("DELETE", f"/tags/{tag}", headers={"If-Match": '"2"'})
        assert deleted.status_code == 409  # raced again: now at etag 3
        assert emu.app.state.runtime.racer.edits == 2


async def test_race_write_under_ignore_if_match_lands_the_write_on_top_of_the_edit() -> None:
    settings = EmulatorSettings(race_write=1.0, ignore_if_match=True, race_client_id="marketer")
    async with session(settings=settings) as emu:
        tag = await emu.create("/tags", {"name": "Summer"})
        written = await emu.call("PATCH", f"/tags/{tag}", json=_PATCH, headers={"If-Match": '"1"'})
        assert (written.status_code, written.json()["etag"]) == (200, 3)
        emu.app.state.settings = EmulatorSettings()
        read = await emu.get(f"/tags/{tag}")
        assert (read["etag"], read["description"], read["lastModifiedBy"]) == (
            3,
            "from git",
            "tester@techacct.adobe.com",
        )


async def test_race_list_edits_one_object_of_the_kind_before_the_page_is_cut() -> None:
    clock = Clock()
    async with session(clock=clock) as emu:
        tags = [await emu.create("/tags", {"name": f"t{n}"}) for n in range(3)]
        web = await emu.create("/placements", placement())
        emu.app.state.settings = EmulatorSettings(race_list=1.0, seed=4)
        clock.now += 1
        page = await emu.get("/tags", limit="2")
        emu.app.state.settings = EmulatorSettings()
        edited = [tag for tag in (await emu.get("/tags"))["results"] if tag["etag"] == 2]
        assert [(tag["lastModifiedBy"], tag["description"]) for tag in edited] == [
            ("ui-racer@techacct.adobe.com", _RACED)
        ]
        assert edited[0]["id"] in tags
        assert page["results"][0] == edited[0]  # edited now: first in -modified order
        assert page["total"] == 3
        assert (await emu.get(f"/placements/{web}"))["etag"] == 1  # other kinds untouched
        assert emu.app.state.runtime.racer.edits == 1


async def _raced_names(seed: int) -> list[tuple[str, int]]:
    async with session() as emu:
        for n in range(5):
            await emu.create("/tags", {"name": f"t{n}"})
        emu.app.state.settings = EmulatorSettings(race_list=0.5, seed=seed)
        for _ in range(12):
            await emu.call("GET", "/tags")
        emu.app.state.settings = EmulatorSettings()
        return sorted(
            (tag["name"], tag["etag"])
            for tag in (await emu.get("/tags"))["results"]
            if tag["etag"] > 1
        )


async def test_the_same_seed_races_the_same_objects() -> None:
    first = await _raced_names(8)
    assert first == await _raced_names(8)
    assert 0 < sum(etag - 1 for _, etag in first) < 12


async def test_race_edits_of_an_offer_change_its_description_or_rank_never_name_or_references(
    tmp_path: Path,
) -> None:
    data = tmp_path / "sandbox.jsonl"
    async with session(create_app(data_file=data)) as emu:
        web = await emu.create("/placements", placement())
        sale = await emu.create("/offers?offer-type=personalized", offer(web, rank={"priority": 5}))
        emu.app.state.settings = EmulatorSettings(race_write=1.0, seed=2)
        for _ in range(8):
            answer = await emu.call(
                "PATCH", f"/offers/{sale}?offer-type=personalized", json=[], headers={}
            )
            assert answer.status_code == 200
    lines = [json.loads(line) for line in data.read_bytes().splitlines()]
    revisions = [line["object"] for line in lines if line["object"]["id"] == sale]
    assert [(r["etag"], r["lastModifiedByClientId"]) for r in revisions] == [
        (1, "tester"),
        *((etag, "ui-racer" if etag % 2 == 0 else "tester") for etag in range(2, 18)),
    ]
    changed = set()
    for before, after in itertools.pairwise(revisions):
        fields = {
            name
            for name in {*before["body"], *after["body"]}
            if before["body"].get(name) != after["body"].get(name)
        }
        changed |= fields
        assert fields <= {"description", "rank"}
    assert changed == {"description", "rank"}
    assert {r["body"]["name"] for r in revisions} == {"Summer sale"}
    assert {r["body"]["representations"][0]["placement"] for r in revisions} == {web}


def test_race_shares_are_checked() -> None:
    with pytest.raises(UsageError) as raised:
        EmulatorSettings(race_list=1.5)
    assert str(raised.value) == "emulator race_list must be between 0 and 1, not 1.5"
    with pytest.raises(UsageError) as raised:
        EmulatorSettings(race_client_id=" ")
    assert str(raised.value) == "emulator race_client_id must not be blank"
