"""The imperative shell's own logic: what it reads before the pure planner runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from conftest import Sandbox, make_repo
from estate import write

from reconciler import commands, statefile
from reconciler.emulator.app import create_app
from reconciler.model import Kind


def test_objects_the_listing_did_not_show_are_read_one_by_one(tmp_path: Path) -> None:
    """A plan never re-creates an object a listing missed: each id state names that the listing
    did not return is read, and added when it exists (and left out when it is really gone)."""
    repo = make_repo(tmp_path / "repo", estate=False)
    write(repo)
    sandbox = Sandbox(app=create_app(), root=repo)
    assert sandbox.run("apply", "--auto-approve").exit_code == 0
    state = statefile.read(repo / "state" / "local.json")
    assert state is not None
    tag = state.objects["tags/summer"].id  # type: ignore[index]
    placement = state.objects["placements/web"].id  # type: ignore[index]

    async def main(client: Any) -> dict[Kind, list[dict[str, Any]]]:
        live = {kind: await client.list_all(kind) for kind in Kind}
        live[Kind.TAG] = []  # as if the listing had missed it
        live[Kind.PLACEMENT] = []
        await commands.confirm_missing(client, state, live)
        return live

    found = sandbox.call(main)
    assert [item["id"] for item in found[Kind.TAG]] == [tag]
    assert [item["id"] for item in found[Kind.PLACEMENT]] == [placement]


def test_an_id_that_is_really_gone_stays_missing(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", estate=False)
    write(repo, {"tags/summer.yaml": "kind: tag\nname: Summer\n"})
    sandbox = Sandbox(app=create_app(), root=repo)
    assert sandbox.run("apply", "--auto-approve").exit_code == 0
    state = statefile.read(repo / "state" / "local.json")
    assert state is not None
    tag = state.objects["tags/summer"].id  # type: ignore[index]

    async def main(client: Any) -> dict[Kind, list[dict[str, Any]]]:
        await client.delete(Kind.TAG, tag, if_match=None)
        live: dict[Kind, list[dict[str, Any]]] = {kind: [] for kind in Kind}
        await commands.confirm_missing(client, state, live)
        return live

    assert sandbox.call(main) == {kind: [] for kind in Kind}
