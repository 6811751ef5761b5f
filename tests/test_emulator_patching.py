"""PATCH: the public RFC 6902 conformance suite, statuses, atomicity, re-validation, receipts.

DPS documents add, replace, remove, copy and test: `move` is refused 400 naming it, so the
suite's records holding a move must be refused, every other record gives its result.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from emulator_support import placement, session

from reconciler.emulator.patching import (
    MalformedPatch,
    PatchConflict,
    PatchError,
    PatchTestFailed,
    apply_patch,
)

SUITE = Path(__file__).parent / "json-patch-tests"  # the public suite, vendored (see SOURCE.md)


def _records() -> list[Any]:
    records = []
    for name in ("tests.json", "spec_tests.json"):
        path = SUITE / name
        for index, record in enumerate(json.loads(path.read_text())):
            if not record.get("disabled"):
                label = f"{name}:{index}:{record.get('comment', '')[:40]}"
                records.append(pytest.param(record, id=label))
    return records


RECORDS = _records()


def _moves(record: dict[str, Any]) -> bool:
    patch = record["patch"]
    return isinstance(patch, list) and any(
        isinstance(op, dict) and op.get("op") == "move" for op in patch
    )


@pytest.mark.parametrize("record", RECORDS)
def test_the_conformance_suite(record: dict[str, Any]) -> None:
    document = copy.deepcopy(record["doc"])
    if _moves(record):
        with pytest.raises(MalformedPatch, match="move is not supported") as refused:
            apply_patch(document, record["patch"])
        assert refused.value.status == 400
    elif "error" in record:
        with pytest.raises(PatchError) as refused:
            apply_patch(document, record["patch"])
        assert 400 <= refused.value.status < 500
    else:
        assert apply_patch(document, record["patch"]) == record["expected"]
    assert document == record["doc"]  # never modified in place


def test_the_suite_is_all_there() -> None:
    assert len(RECORDS) == 108
    assert sum(1 for param in RECORDS if _moves(param.values[0])) == 9  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("patch", "error", "status"),
    [
        ({"op": "add"}, MalformedPatch, 400),
        ([["add"]], MalformedPatch, 400),
        ([{"path": "/a", "value": 1}], MalformedPatch, 400),
        ([{"op": "append", "path": "/a", "value": 1}], MalformedPatch, 400),
        ([{"op": "add", "path": "a", "value": 1}], MalformedPatch, 400),
        ([{"op": "add", "path": "/a~2", "value": 1}], MalformedPatch, 400),
        ([{"op": "add", "path": "/a"}], MalformedPatch, 400),
        ([{"op": "move", "path": "/a"}], MalformedPatch, 400),
        ([{"op": "move", "from": "/a", "path": "/c"}], MalformedPatch, 400),
        ([{"op": "copy", "from": 3, "path": "/a"}], MalformedPatch, 400),
        ([{"op": "test", "path": "/a", "value": 2}], PatchTestFailed, 409),
        ([{"op": "test", "path": "/a", "value": True}], PatchTestFailed, 409),
        ([{"op": "test", "path": "/missing", "value": 1}], PatchTestFailed, 409),
        ([{"op": "replace", "path": "/missing", "value": 1}], PatchConflict, 422),
        ([{"op": "remove", "path": "/b/5"}], PatchConflict, 422),
        ([{"op": "add", "path": "/b/01", "value": 1}], PatchConflict, 422),
        ([{"op": "add", "path": "/x/y", "value": 1}], PatchConflict, 422),
        ([{"op": "copy", "from": "/missing", "path": "/c"}], PatchConflict, 422),
    ],
)
def test_each_failure_has_its_own_type_and_status(
    patch: Any, error: type[PatchError], status: int
) -> None:
    document = {"a": 1, "b": [1, 2]}
    with pytest.raises(error) as refused:
        apply_patch(document, patch)
    assert refused.value.status == status
    assert document == {"a": 1, "b": [1, 2]}


def test_every_operation_applies() -> None:
    patch = [
        {"op": "add", "path": "/b/-", "value": 3},
        {"op": "replace", "path": "/a", "value": {"x": [1]}},
        {"op": "copy", "from": "/a/x", "path": "/c"},
        {"op": "remove", "path": "/e"},
        {"op": "test", "path": "/b", "value": [1, 2, 3]},
    ]
    assert apply_patch({"a": 1, "b": [1, 2], "e": None}, patch) == {
        "a": {"x": [1]},
        "b": [1, 2, 3],
        "c": [1],
    }


def test_move_is_refused_naming_it_and_what_to_send_instead() -> None:
    document = {"a": 1, "b": [1, 2]}
    with pytest.raises(MalformedPatch) as refused:
        apply_patch(
            document,
            [{"op": "test", "path": "/a", "value": 1}, {"op": "move", "from": "/a", "path": "/c"}],
        )
    assert (refused.value.status, str(refused.value)) == (
        400,
        "operation 1: move is not supported: the DPS API documents add, replace, remove, copy "
        "and test; send a remove and an add instead of a move",
    )
    assert document == {"a": 1, "b": [1, 2]}


async def _tag(emu: Any) -> str:
    return str(await emu.create("/tags", {"name": "Sneakers", "description": "Shoes"}))


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("patch", "status", "slug", "detail"),
    [
        (
            {"op": "add"},
            400,
            "malformed-patch",
            "a JSON Patch document must be a JSON array of operations",
        ),
        (
            [{"op": "spam", "path": "/name"}],
            400,
            "malformed-patch",
            "operation 0: op must be one of add, copy, remove, replace, test, not 'spam'",
        ),
        (
            [{"op": "replace", "path": "/name"}],
            400,
            "malformed-patch",
            "operation 0 (replace): 'value' is required",
        ),
        (
            [{"op": "test", "path": "/name", "value": "Boots"}],
            409,
            "patch-test-failed",
            "operation 0 (test /name): the test failed: the document does not hold the tested "
            "value there",
        ),
        (
            [{"op": "remove", "path": "/labels"}],
            422,
            "patch-conflict",
            "operation 0 (remove /labels): can't remove a non-existent object 'labels'",
        ),
        (
            [{"op": "remove", "path": "/name"}],
            422,
            "invalid-content",
            "invalid tag: /name: is required",
        ),
        (
            [{"op": "add", "path": "/color", "value": "red"}],
            422,
            "invalid-content",
            "invalid tag: /color: is not a known field",
        ),
        (
            [{"op": "replace", "path": "/name", "value": 7}],
            422,
            "invalid-content",
            "invalid tag: /name: input should be a valid string",
        ),
    ],
)
async def test_a_refused_patch_changes_nothing(
    patch: Any, status: int, slug: str, detail: str
) -> None:
    async with session() as emu:
        tag_id = await _tag(emu)
        before = await emu.get(f"/tags/{tag_id}")
        # The first operations would apply; the failing one must undo them all.
        operations = (
            [{"op": "replace", "path": "/description", "value": "changed"}, *patch]
            if isinstance(patch, list)
            else patch
        )
        response = await emu.call("PATCH", f"/tags/{tag_id}", json=operations)
        assert response.status_code == status
        assert response.headers["content-type"] == "application/problem+json"
        body = response.json()
        assert (body["type"], body["status"]) == (f"/problems/{slug}", status)
        assert body["detail"].replace("operation 1", "operation 0") == detail
        assert await emu.get(f"/tags/{tag_id}") == before


@pytest.mark.anyio
async def test_a_guarded_patch_with_test_and_copy_applies_atomically() -> None:
    async with session() as emu:
        placement_id = await emu.create("/placements", placement(description="Hero"))
        patch: list[dict[str, Any]] = [
            {"op": "test", "path": "/componentType", "value": "html"},
            {"op": "copy", "from": "/description", "path": "/name"},
            {"op": "copy", "from": "/description", "path": "/returnMetaData"},
        ]
        refused = await emu.call("PATCH", f"/placements/{placement_id}", json=patch)
        assert refused.status_code == 422  # returnMetaData must be an object: nothing applied
        moved = [*patch[:2], {"op": "move", "from": "/description", "path": "/labels"}]
        refused = await emu.call("PATCH", f"/placements/{placement_id}", json=moved)
        assert (refused.status_code, refused.json()["type"]) == (400, "/problems/malformed-patch")
        assert "move is not supported" in refused.json()["detail"]
        patch[2] = {"op": "add", "path": "/returnMetaData", "value": {"offerName": True}}
        response = await emu.call("PATCH", f"/placements/{placement_id}", json=patch)
        assert (response.status_code, response.json()["etag"]) == (200, 2)
        read = await emu.get(f"/placements/{placement_id}")
        assert (read["name"], read["description"], read["returnMetaData"]) == (
            "Hero",
            "Hero",
            {"offerName": True},
        )


@pytest.mark.anyio
async def test_an_empty_patch_still_counts_as_a_write() -> None:
    async with session() as emu:
        tag_id = await _tag(emu)
        response = await emu.call("PATCH", f"/tags/{tag_id}", json=[])
        assert (response.status_code, response.json()["etag"]) == (200, 2)


@pytest.mark.anyio
async def test_a_failed_test_operation_is_409_naming_its_index_and_path_never_the_value() -> None:
    async with session() as emu:
        tag_id = await _tag(emu)
        guarded = [
            {"op": "test", "path": "/name", "value": "Sneakers"},
            {"op": "test", "path": "/description", "value": "private: do not echo this"},
            {"op": "replace", "path": "/description", "value": "Boots"},
        ]
        response = await emu.call(
            "PATCH", f"/tags/{tag_id}", json=guarded, headers={"If-Match": '"1"'}
        )
        assert (response.status_code, response.json()) == (
            409,
            {
                "type": "/problems/patch-test-failed",
                "title": "ConflictError",
                "status": 409,
                "detail": "operation 1 (test /description): the test failed: the document does "
                "not hold the tested value there",
            },
        )
        assert (await emu.get(f"/tags/{tag_id}"))["etag"] == 1
