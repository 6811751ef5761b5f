"""Persistence: the JSON-lines journal, restarts, torn lines, shared files, compaction, embedding."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import make_repo
from emulator_support import EPOCH, STAMP, Clock, session

from reconciler.emulator.app import create_app
from reconciler.emulator.embedded import embedded_app
from reconciler.emulator.journal import CorruptJournal
from reconciler.emulator.store import Store

pytestmark = pytest.mark.anyio


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_bytes().splitlines()]


async def test_writes_survive_a_restart(tmp_path: Path) -> None:
    data = tmp_path / "nested" / "sandbox.jsonl"
    clock = Clock()
    async with session(create_app(data_file=data, clock=clock)) as emu:
        kept = await emu.create("/tags", {"name": "Kept"})
        gone = await emu.create("/tags", {"name": "Gone"})
        clock.now = EPOCH + 1
        await emu.call(
            "PATCH", f"/tags/{kept}", json=[{"op": "add", "path": "/description", "value": "d"}]
        )
        await emu.call("DELETE", f"/tags/{gone}")
        before = await emu.get(f"/tags/{kept}")
    assert [line["op"] for line in _lines(data)] == ["create", "create", "patch", "delete"]
    assert _lines(data)[0] == {
        "op": "create",
        "org": "1234ABCD@AdobeOrg",
        "sandbox": "prod",
        "object": {
            "kind": "tag",
            "id": kept,
            "etag": 1,
            "created": STAMP,
            "modified": STAMP,
            "createdBy": "tester@techacct.adobe.com",
            "lastModifiedBy": "tester@techacct.adobe.com",
            "createdByClientId": "tester",
            "lastModifiedByClientId": "tester",
            "body": {"name": "Kept"},
        },
    }
    assert _lines(data)[3] == {
        "op": "delete",
        "org": "1234ABCD@AdobeOrg",
        "sandbox": "prod",
        "kind": "tag",
        "id": gone,
        "etag": 1,
        "deleted": "2027-01-15T08:00:01.000Z",
        "deletedByClientId": "tester",
    }
    async with session(create_app(data_file=data)) as emu:
        assert await emu.get(f"/tags/{kept}") == before
        assert (before["etag"], before["modified"]) == (2, "2027-01-15T08:00:01.000Z")
        assert (await emu.call("GET", f"/tags/{gone}")).status_code == 404


async def test_a_torn_last_line_is_skipped_then_cut_off_by_the_next_write(tmp_path: Path) -> None:
    data = tmp_path / "sandbox.jsonl"
    async with session(create_app(data_file=data)) as emu:
        kept = await emu.create("/tags", {"name": "Kept"})
    with open(data, "ab") as journal:
        journal.write(b'{"op":"create","org":"1234ABCD@AdobeOrg","sand')
    async with session(create_app(data_file=data)) as emu:
        assert (await emu.get("/tags"))["total"] == 1
        assert (await emu.get(f"/tags/{kept}"))["name"] == "Kept"
        later = await emu.create("/tags", {"name": "Later"})
    assert [line["object"]["id"] for line in _lines(data)] == [kept, later]


_FIX = "restore the file from a backup, or delete it to reset this sandbox to empty"


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b"not json", "not valid JSON"),
        (b"\xff\xfe", "not valid JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"op": "create", "org": "o"}', "no org and sandbox"),
        (b'{"op": "create", "org": "o", "sandbox": "s"}', "a create without its object"),
        (
            b'{"op": "patch", "org": "o", "sandbox": "s", "object": {"kind": "tag"}}',
            "the object of a patch is not a stored object",
        ),
        (b'{"op": "delete", "org": "o", "sandbox": "s"}', "a delete without an id"),
        (b'{"op": "rename", "org": "o", "sandbox": "s"}', 'unknown op "rename"'),
    ],
)
async def test_a_corrupt_complete_line_is_an_error_naming_its_line(
    tmp_path: Path, line: bytes, reason: str
) -> None:
    """Only a last line without its newline can come from a crash; any other bad line is damage."""
    data = tmp_path / "sandbox.jsonl"
    async with session(create_app(data_file=data)) as emu:
        await emu.create("/tags", {"name": "First"})
        await emu.create("/tags", {"name": "Second"})
    first, second = data.read_bytes().splitlines(keepends=True)
    data.write_bytes(first + line + b"\n" + second)
    with pytest.raises(CorruptJournal) as raised:
        create_app(data_file=data)
    assert str(raised.value) == f"{data}:2: corrupt sandbox journal line ({reason}): {_FIX}"


async def test_a_corrupt_line_written_while_serving_fails_every_later_request(
    tmp_path: Path,
) -> None:
    """Replayed inside a request, the error reaches the in-process caller, every time."""
    data = tmp_path / "sandbox.jsonl"
    async with session(create_app(data_file=data)) as emu:
        await emu.create("/tags", {"name": "First"})
        with open(data, "ab") as journal:
            journal.write(b"not json\n")
        for _ in range(2):
            with pytest.raises(CorruptJournal) as raised:
                await emu.call("GET", "/tags")
            assert (
                str(raised.value)
                == f"{data}:2: corrupt sandbox journal line (not valid JSON): {_FIX}"
            )
        with pytest.raises(CorruptJournal):
            await emu.call("POST", "/tags", json={"name": "Second"})
    assert len(data.read_bytes().splitlines()) == 2  # nothing was written past the damage


async def test_the_cli_shows_a_corrupt_embedded_sandbox_as_one_line(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", estate=False)
    async with session(embedded_app(repo)) as emu:
        await emu.create("/tags", {"name": "First"})
        await emu.create("/tags", {"name": "Second"})
    data = repo / ".reconciler" / "sandbox.jsonl"
    first, second = data.read_bytes().splitlines(keepends=True)
    data.write_bytes(first + b'{"op": "create", "org"\n' + second)
    done = subprocess.run(
        [sys.executable, "-m", "reconciler.cli", "-C", str(repo), "plan"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (done.returncode, done.stdout, done.stderr) == (
        1,
        "",
        f"Error: {data}:2: corrupt sandbox journal line (not valid JSON): {_FIX}\n",
    )


async def test_two_apps_on_one_file_see_each_others_writes(tmp_path: Path) -> None:
    data = tmp_path / "sandbox.jsonl"
    async with (
        session(create_app(data_file=data)) as one,
        session(create_app(data_file=data)) as two,
    ):
        tag = await one.create("/tags", {"name": "Shared"})
        assert (await two.get(f"/tags/{tag}"))["name"] == "Shared"
        patch = [{"op": "replace", "path": "/name", "value": "Renamed"}]
        assert (
            await two.call("PATCH", f"/tags/{tag}", json=patch, headers={"If-Match": '"1"'})
        ).status_code == 200
        stale = await one.call("PATCH", f"/tags/{tag}", json=patch, headers={"If-Match": '"1"'})
        assert (stale.status_code, stale.json()["type"]) == (409, "/problems/etag-mismatch")
        assert (await one.call("POST", "/tags", json={"name": "Renamed"})).status_code == 409
        assert (await one.get("/tags"))["results"][0]["etag"] == 2
        await one.call("DELETE", f"/tags/{tag}")
        assert (await two.call("GET", f"/tags/{tag}")).status_code == 404


async def test_compaction_keeps_one_line_per_live_object(tmp_path: Path) -> None:
    data = tmp_path / "sandbox.jsonl"
    app = create_app(data_file=data)
    other = create_app(data_file=data)
    async with session(app) as emu, session(other) as watcher:
        ids = [await emu.create("/tags", {"name": f"t{i}"}) for i in range(5)]
        for tag in ids:
            for n in range(3):
                await emu.call(
                    "PATCH",
                    f"/tags/{tag}",
                    json=[{"op": "add", "path": "/description", "value": str(n)}],
                )
        for tag in ids[:2]:
            await emu.call("DELETE", f"/tags/{tag}")
        snapshot = await emu.get("/tags")
        assert len(_lines(data)) == 22
        store: Store = app.state.runtime.store
        store.compact()
        assert [line["object"]["id"] for line in _lines(data)] == ids[2:]
        assert await watcher.get("/tags") == snapshot  # the other app re-reads the new file
        late = await watcher.create("/tags", {"name": "late"})
        assert (await emu.get(f"/tags/{late}"))["name"] == "late"
    async with session(create_app(data_file=data)) as emu:
        assert (await emu.get("/tags"))["total"] == 4


async def test_a_long_journal_is_compacted_when_opened(tmp_path: Path) -> None:
    data = tmp_path / "sandbox.jsonl"
    async with session(create_app(data_file=data)) as emu:
        tag = await emu.create("/tags", {"name": "busy"})
    (created,) = _lines(data)
    with open(data, "a") as journal:  # 1010 later versions, as a busy sandbox would write them
        for etag in range(2, 1012):
            obj = {
                **created["object"],
                "etag": etag,
                "body": {"name": "busy", "description": str(etag)},
            }
            journal.write(json.dumps({**created, "op": "patch", "object": obj}) + "\n")
    async with session(create_app(data_file=data)) as emu:
        read = await emu.get(f"/tags/{tag}")
        assert (read["etag"], read["description"]) == (1011, "1011")
    assert len(_lines(data)) == 1


async def test_the_embedded_sandbox_persists_under_dot_reconciler(tmp_path: Path) -> None:
    async with session(embedded_app(tmp_path)) as emu:
        tag = await emu.create("/tags", {"name": "Embedded"})
    assert (tmp_path / ".reconciler" / "sandbox.jsonl").exists()
    async with session(embedded_app(tmp_path)) as emu:
        assert (await emu.get(f"/tags/{tag}"))["name"] == "Embedded"
