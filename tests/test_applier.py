"""The applier, table by table: each row is a plan, what happens to the sandbox before and during
the write (UI edits, lost answers, 5xx, a receipt without etag), and the whole outcome: the
result, the requests sent by method, what state recorded and what the sandbox holds.

Everything runs against the real emulator in-process (the same app the marketer's client and
the applier's client talk to); faults are the emulator's own switches and scripted write faults.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import Sandbox, make_repo
from estate import FILES, write

from reconciler import commands, planner, statefile
from reconciler.applier import Applier
from reconciler.emulator.app import EmulatorSettings, create_app
from reconciler.emulator.faults import WriteFault
from reconciler.model import (
    Action,
    Etag,
    Key,
    Kind,
    ObjectId,
    Outcome,
    Plan,
    Report,
    Result,
)

UI = "marketer-ui@techacct.adobe.com"
RACER = "ui-racer@techacct.adobe.com"
SALE = Key("summer/sale")
CLOCK = "2026-11-30T12:00:00.000Z"


def config(preconditions: str) -> str:
    return (
        "default: local\nprune: true\nsandboxes:\n  local:\n    endpoint: embedded\n"
        f"    preconditions: {preconditions}\n"
    )


def estate(root: Path) -> None:
    files = dict(FILES)
    # A description git owns: every race edit (description or priority) then hits a guarded field.
    files["summer/sale.yaml"] = files["summer/sale.yaml"].replace(
        "status: approved\n", "status: approved\ndescription: Sixty percent off\n"
    )
    write(root, files)


def applied(tmp_path: Path, preconditions: str, **settings: Any) -> Sandbox:
    """The small estate, applied; then the emulator takes `settings` (faults) from now on."""
    repo = make_repo(tmp_path / "repo", config=config(preconditions), estate=False)
    estate(repo)
    sandbox = Sandbox(app=create_app(), root=repo)
    done = sandbox.run("apply", "--auto-approve")
    assert done.exit_code == 0, done.output
    sandbox.app.state.settings = EmulatorSettings(**settings)  # type: ignore[attr-defined]
    return sandbox


def edit_git(sandbox: Sandbox, name: str, old: str, new: str) -> None:
    path = sandbox.root / "offers" / name
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def workspace(sandbox: Sandbox) -> commands.Workspace:
    return commands.workspace(sandbox.root, sandbox.deps())


def make_plan(sandbox: Sandbox) -> Plan:
    return commands.plan(workspace(sandbox), None)


def run(
    sandbox: Sandbox,
    plan: Plan,
    *,
    faults: tuple[WriteFault, ...] = (),
    on_result: Callable[[Applier, Result], None] | None = None,
) -> tuple[Report, dict[str, int]]:
    """Apply a plan with the applier's own client; the report and the requests by method."""
    ws = workspace(sandbox)
    target = ws.config.sandbox(None)
    sandbox.app.state.runtime.faults.script(faults)  # type: ignore[attr-defined]

    async def main() -> tuple[Report, dict[str, int]]:
        with statefile.locked(
            ws.state_path(target), sandbox=target.key, org=target.org, endpoint=target.endpoint
        ) as writer:
            async with sandbox.client("reconciler-cli") as client:
                applier: Applier

                def report(result: Result) -> None:
                    if on_result is not None:
                        on_result(applier, result)

                applier = Applier(plan, client, writer, clock=lambda: CLOCK, on_result=report)
                done = await applier.run()
                return done, dict(client.counters.by_method)

    return asyncio.run(main())


def live(sandbox: Sandbox, kind: Kind, object_id: str) -> dict[str, Any]:
    return sandbox.call(lambda client: client.get(kind, object_id))  # type: ignore[no-any-return]


def entry(sandbox: Sandbox, key: str) -> dict[str, Any]:
    state = statefile.read(sandbox.root / "state" / "local.json")
    assert state is not None
    found = state.objects[Key(key)]
    return {"id": found.id, "etag": found.etag, "applied": dict(found.applied or {})}


def ui_patch(sandbox: Sandbox, kind: Kind, object_id: str, ops: list[dict[str, Any]]) -> None:
    async def edit(client: Any) -> None:
        await client.patch(kind, object_id, ops, if_match=None)

    sandbox.call(edit)


# --- updates ------------------------------------------------------------------------------------

GUARDED = [{"op": "replace", "path": "/status", "value": "draft"}]
UNOWNED = [{"op": "add", "path": "/labels", "value": ["core/C1"]}]


@dataclasses.dataclass(frozen=True)
class Update:
    name: str
    preconditions: str
    ignore_if_match: bool
    before_apply: list[dict[str, Any]] | None  # a UI edit of the offer between plan and apply
    race_write: float  # a UI edit lands on the offer right before the write is processed
    faults: tuple[WriteFault, ...]
    outcome: Outcome
    by: str | None
    requests: dict[str, int]
    priority: int  # what the sandbox holds afterwards
    status: str


UPDATES = [
    Update(
        "one PATCH, nothing else",
        "test",
        False,
        None,
        0,
        (),
        Outcome.APPLIED,
        None,
        {"PATCH": 1},
        9,
        "approved",
    ),
    Update(
        "if-match mode reads first",
        "if-match",
        False,
        None,
        0,
        (),
        Outcome.APPLIED,
        None,
        {"GET": 1, "PATCH": 1},
        9,
        "approved",
    ),
    Update(
        "a UI edit after the plan: the tests fail the PATCH",
        "test",
        False,
        GUARDED,
        0,
        (),
        Outcome.CONFLICT,
        UI,
        {"PATCH": 1, "GET": 1},
        5,
        "draft",
    ),
    Update(
        "the same where If-Match is ignored",
        "test",
        True,
        GUARDED,
        0,
        (),
        Outcome.CONFLICT,
        UI,
        {"PATCH": 1, "GET": 1},
        5,
        "draft",
    ),
    Update(
        "if-match mode: the read before the write sees it",
        "if-match",
        False,
        GUARDED,
        0,
        (),
        Outcome.CONFLICT,
        UI,
        {"GET": 1},
        5,
        "draft",
    ),
    Update(
        "a UI edit of a field git does not own: If-Match refuses, apply re-reads and retries",
        "test",
        False,
        UNOWNED,
        0,
        (),
        Outcome.APPLIED,
        None,
        {"PATCH": 2, "GET": 1},
        9,
        "approved",
    ),
    Update(
        "the same where If-Match is ignored: one PATCH",
        "test",
        True,
        UNOWNED,
        0,
        (),
        Outcome.APPLIED,
        None,
        {"PATCH": 1},
        9,
        "approved",
    ),
    Update(
        "a UI edit lands right before the PATCH, If-Match ignored",
        "test",
        True,
        None,
        1.0,
        (),
        Outcome.CONFLICT,
        RACER,
        {"PATCH": 1, "GET": 1},
        -1,
        "approved",
    ),
    Update(
        "a UI edit lands right before the PATCH",
        "test",
        False,
        None,
        1.0,
        (),
        Outcome.CONFLICT,
        RACER,
        {"PATCH": 1, "GET": 1},
        -1,
        "approved",
    ),
    Update(
        "if-match mode: a UI edit after the read",
        "if-match",
        False,
        None,
        1.0,
        (),
        Outcome.CONFLICT,
        RACER,
        {"GET": 2, "PATCH": 1},
        -1,
        "approved",
    ),
    Update(
        "the answer is lost after the write landed",
        "test",
        True,
        None,
        0,
        (WriteFault.DROP_AFTER,),
        Outcome.APPLIED,
        None,
        {"PATCH": 1, "GET": 1},
        9,
        "approved",
    ),
    Update(
        "the connection drops before the write: sent again",
        "test",
        True,
        None,
        0,
        (WriteFault.DROP,),
        Outcome.APPLIED,
        None,
        {"PATCH": 2, "GET": 1},
        9,
        "approved",
    ),
    Update(
        "a 503 before the write: sent again",
        "test",
        True,
        None,
        0,
        (WriteFault.FAIL,),
        Outcome.APPLIED,
        None,
        {"PATCH": 2, "GET": 1},
        9,
        "approved",
    ),
    Update(
        "a 500 after the write landed",
        "test",
        True,
        None,
        0,
        (WriteFault.FAIL_AFTER,),
        Outcome.APPLIED,
        None,
        {"PATCH": 1, "GET": 1},
        9,
        "approved",
    ),
    Update(
        "if-match mode: a 500 after the write landed",
        "if-match",
        True,
        None,
        0,
        (WriteFault.FAIL_AFTER,),
        Outcome.APPLIED,
        None,
        {"GET": 2, "PATCH": 1},
        9,
        "approved",
    ),
    Update(
        "a receipt without etag: read back",
        "test",
        False,
        None,
        0,
        (WriteFault.NO_ETAG,),
        Outcome.APPLIED,
        None,
        {"PATCH": 1, "GET": 1},
        9,
        "approved",
    ),
]


@pytest.mark.parametrize("row", UPDATES, ids=[row.name for row in UPDATES])
def test_an_update(tmp_path: Path, row: Update) -> None:
    sandbox = applied(
        tmp_path, row.preconditions, ignore_if_match=row.ignore_if_match, race_write=row.race_write
    )
    edit_git(sandbox, "summer/sale.yaml", "priority: 5", "priority: 9")
    plan = make_plan(sandbox)
    assert [(c.key, c.action) for c in plan.changes] == [(SALE, Action.UPDATE)]
    offer = plan.changes[0].id
    assert offer is not None
    before = entry(sandbox, SALE)
    if row.before_apply is not None:
        ui_patch(sandbox, Kind.PERSONALIZED_OFFER, offer, row.before_apply)
    report, requests = run(sandbox, plan, faults=row.faults)
    now = live(sandbox, Kind.PERSONALIZED_OFFER, offer)
    by = now["lastModifiedBy"] if row.by else None
    at = now["modified"] if row.by else None
    assert report.results == (
        Result(SALE, Kind.PERSONALIZED_OFFER, Action.UPDATE, row.outcome, offer, None, by, at),
    )
    assert (requests, now["lastModifiedBy"] == (row.by or now["lastModifiedBy"])) == (
        row.requests,
        True,
    )
    if row.priority >= 0:
        assert (now["rank"]["priority"], now["status"]) == (row.priority, row.status)
    if row.outcome is Outcome.APPLIED:
        # The etag recorded names the live revision, whose git-owned fields are the ones written.
        assert entry(sandbox, SALE) == {
            "id": offer,
            "etag": Etag(str(now["etag"])),
            "applied": {**before["applied"], "rank": {"priority": 9}},
        }
        if row.before_apply == UNOWNED:
            assert now["labels"] == ["core/C1"]  # the UI's field is kept
    else:
        assert entry(sandbox, SALE) == before  # nothing recorded: the edit stays, plan again
        assert make_plan(sandbox).changes[0].drift is not None  # the next plan shows it


def test_a_read_back_that_shows_another_edit_records_no_etag(tmp_path: Path) -> None:
    """A receipt without etag, and a UI edit lands before apply can read back: the etag read
    back is not recorded (it would absorb the UI edit into state); the next plan shows it."""
    sandbox = applied(tmp_path, "test")
    edit_git(sandbox, "summer/sale.yaml", "priority: 5", "priority: 6")
    plan = make_plan(sandbox)
    offer = plan.changes[0].id
    assert offer is not None
    report, requests = run(sandbox, plan, faults=(WriteFault.NO_ETAG_THEN_UI_EDIT,))
    assert [(r.outcome, r.detail) for r in report.results] == [(Outcome.APPLIED, None)]
    assert requests == {"PATCH": 1, "GET": 1}
    assert entry(sandbox, SALE)["etag"] is None
    following = make_plan(sandbox)
    assert [(c.key, c.action, c.drift is not None) for c in following.changes] == [
        (SALE, Action.UPDATE, True)
    ]
    assert following.changes[0].seen is not None
    assert following.changes[0].seen.by == RACER


# --- creates ------------------------------------------------------------------------------------

NEW_TAG = "kind: tag\nname: Autumn\n"


def _tags(sandbox: Sandbox) -> list[tuple[str, str]]:
    async def names(client: Any) -> list[tuple[str, str]]:
        return sorted((str(t["name"]), str(t["id"])) for t in await client.list_all(Kind.TAG))

    return sandbox.call(names)  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("faults", "requests"),
    [
        # A lookup by name before the POST and one after it (for a twin another run made).
        ((), {"GET": 2, "POST": 1}),
        ((WriteFault.DROP_AFTER,), {"GET": 3, "POST": 1}),  # looked up by name after the loss
        ((WriteFault.NO_ETAG,), {"GET": 3, "POST": 1}),  # read back for its etag
    ],
    ids=["two lookups and one POST", "the answer is lost: found by name", "no etag: read back"],
)
def test_a_create(tmp_path: Path, faults: tuple[WriteFault, ...], requests: dict[str, int]) -> None:
    sandbox = applied(tmp_path, "test")
    (sandbox.root / "offers" / "tags" / "autumn.yaml").write_text(NEW_TAG)
    plan = make_plan(sandbox)
    report, sent = run(sandbox, plan, faults=faults)
    tags = _tags(sandbox)
    autumn = next(object_id for name, object_id in tags if name == "Autumn")
    assert report.results == (
        Result(Key("tags/autumn"), Kind.TAG, Action.CREATE, Outcome.APPLIED, ObjectId(autumn)),
    )
    assert (sent, [name for name, _ in tags]) == (requests, ["Autumn", "Summer"])
    now = live(sandbox, Kind.TAG, autumn)
    assert entry(sandbox, "tags/autumn") == {
        "id": autumn,
        "etag": Etag(str(now["etag"])),
        "applied": {"name": "Autumn"},
    }


SIDE = (
    "kind: placement\nname: Side banner\ncomponentType: html\n"
    "channel: https://ns.adobe.com/xdm/channel-types/web\n"
)
SIDE_BODY = {
    "name": "Side banner",
    "componentType": "html",
    "channel": "https://ns.adobe.com/xdm/channel-types/web",
}


@pytest.mark.parametrize(
    ("body", "outcome", "detail"),
    [
        (
            {**SIDE_BODY, "description": "a field git does not own"},
            Outcome.APPLIED,
            "found by name, created by other-clone@techacct.adobe.com at {at} with git's "
            "content: adopted",
        ),
        (
            {**SIDE_BODY, "componentType": "text"},
            Outcome.CONFLICT,
            "a placement named 'Side banner' appeared after the plan: plan again to adopt it",
        ),
    ],
    ids=["with git's content: adopted", "with other content: a conflict"],
)
def test_a_name_taken_after_the_plan_is_never_created_twice(
    tmp_path: Path, body: dict[str, Any], outcome: Outcome, detail: str
) -> None:
    sandbox = applied(tmp_path, "test")
    (sandbox.root / "offers" / "placements" / "side.yaml").write_text(SIDE)
    plan = make_plan(sandbox)

    async def other_clone(client: Any) -> dict[str, Any]:
        receipt = await client.create(Kind.PLACEMENT, body, name="Side banner")
        return await client.get(Kind.PLACEMENT, receipt.id)  # type: ignore[no-any-return]

    made = sandbox.call(other_clone, client_id="other-clone")
    report, sent = run(sandbox, plan)
    conflict = outcome is Outcome.CONFLICT
    assert report.results == (
        Result(
            Key("placements/side"),
            Kind.PLACEMENT,
            Action.CREATE,
            outcome,
            made["id"],
            detail.format(at=made["modified"]),
            made["lastModifiedBy"] if conflict else None,
            made["modified"] if conflict else None,
        ),
    )

    async def names(client: Any) -> list[str]:
        return sorted(str(p["name"]) for p in await client.list_all(Kind.PLACEMENT))

    assert (sent, sandbox.call(names)) == ({"GET": 1}, ["Side banner", "Web banner"])
    recorded = entry(sandbox, "placements/side") if not conflict else None
    assert recorded == (
        None
        if conflict
        else {"id": made["id"], "etag": Etag(str(made["etag"])), "applied": SIDE_BODY}
    )


# --- deletes ------------------------------------------------------------------------------------


EXTRA = "kind: tag\nname: Extra\n"


@pytest.mark.parametrize(
    ("ignore_if_match", "ui_edit", "race", "faults", "outcome", "requests", "names"),
    [
        (False, False, 0, (), Outcome.APPLIED, {"GET": 1, "DELETE": 1}, ["Summer"]),
        (False, True, 0, (), Outcome.CONFLICT, {"GET": 1}, ["Extra 2", "Summer"]),
        (False, False, 1.0, (), Outcome.CONFLICT, {"GET": 2, "DELETE": 1}, ["Extra", "Summer"]),
        (
            True,
            False,
            0,
            (WriteFault.DROP_AFTER,),
            Outcome.APPLIED,
            {"GET": 2, "DELETE": 1},
            ["Summer"],
        ),
        (True, False, 0, (WriteFault.FAIL,), Outcome.APPLIED, {"GET": 2, "DELETE": 2}, ["Summer"]),
    ],
    ids=[
        "a read, then the delete",
        "a UI edit after the plan: not deleted",
        "a UI edit right before the delete: If-Match refuses it",
        "the answer is lost after the delete: gone is done",
        "a 503: sent again",
    ],
)
def test_a_delete(
    tmp_path: Path,
    ignore_if_match: bool,
    ui_edit: bool,
    race: float,
    faults: tuple[WriteFault, ...],
    outcome: Outcome,
    requests: dict[str, int],
    names: list[str],
) -> None:
    sandbox = applied(tmp_path, "test")
    extra = sandbox.root / "offers" / "tags" / "extra.yaml"
    extra.write_text(EXTRA)
    assert sandbox.run("apply", "--auto-approve").exit_code == 0
    sandbox.app.state.settings = EmulatorSettings(  # type: ignore[attr-defined]
        ignore_if_match=ignore_if_match, race_write=race
    )
    extra.unlink()
    plan = make_plan(sandbox)
    assert [(c.key, c.action) for c in plan.changes] == [(Key("tags/extra"), Action.DELETE)]
    tag = plan.changes[0].id
    assert tag is not None
    if ui_edit:
        ui_patch(sandbox, Kind.TAG, tag, [{"op": "replace", "path": "/name", "value": "Extra 2"}])
    report, sent = run(sandbox, plan, faults=faults)
    assert ([r.outcome for r in report.results], sent) == ([outcome], requests)
    assert [name for name, _ in _tags(sandbox)] == names


def _remove_tag_from_git(sandbox: Sandbox) -> None:
    (sandbox.root / "offers" / "tags" / "summer.yaml").unlink()
    edit_git(sandbox, "summer/sale.yaml", "tags:\n  - {ref: tags/summer}\n", "")
    edit_git(
        sandbox,
        "summer/collection.yaml",
        "filterType: any-tags\nids:\n  - {ref: tags/summer}\n",
        "filterType: offers\nids:\n  - {ref: summer/sale}\n",
    )


def test_a_delete_the_server_refuses_is_a_failure_with_its_reason(tmp_path: Path) -> None:
    sandbox = applied(tmp_path, "test")
    tag = entry(sandbox, "tags/summer")["id"]

    async def ui_collection(client: Any) -> None:
        await client.create(
            Kind.COLLECTION,
            {"name": "UI collection", "filterType": "any-tags", "ids": [tag]},
            name="UI collection",
        )

    sandbox.call(ui_collection)
    _remove_tag_from_git(sandbox)
    report, _ = run(sandbox, make_plan(sandbox))
    last = report.results[-1]
    assert (last.key, last.outcome) == (Key("tags/summer"), Outcome.FAILED)
    assert last.detail is not None
    assert last.detail.startswith(f"delete tag {tag}: HTTP 409: tag {tag} is still used by ")


# --- state only, and stopping -------------------------------------------------------------------


def test_a_state_refresh_sends_nothing(tmp_path: Path) -> None:
    """The UI made the change git makes: the plan records it, apply sends no request."""
    sandbox = applied(tmp_path, "test")
    offer = entry(sandbox, SALE)["id"]
    ui_patch(
        sandbox,
        Kind.PERSONALIZED_OFFER,
        offer,
        [{"op": "replace", "path": "/rank/priority", "value": 6}],
    )
    edit_git(sandbox, "summer/sale.yaml", "priority: 5", "priority: 6")
    plan = make_plan(sandbox)
    assert [(c.key, c.action, c.ops) for c in plan.changes] == [(SALE, Action.REFRESH, ())]
    report, sent = run(sandbox, plan)
    assert report.results == (
        Result(
            SALE, Kind.PERSONALIZED_OFFER, Action.REFRESH, Outcome.APPLIED, offer, "state refreshed"
        ),
    )
    assert sent == {}
    now = live(sandbox, Kind.PERSONALIZED_OFFER, offer)
    assert entry(sandbox, SALE)["etag"] == Etag(str(now["etag"]))
    assert make_plan(sandbox).changes == ()


def test_an_interrupt_finishes_what_is_in_flight_and_starts_nothing_more(tmp_path: Path) -> None:
    sandbox = applied(tmp_path, "test")
    for name in ("autumn", "winter", "spring"):
        (sandbox.root / "offers" / "tags" / f"{name}.yaml").write_text(f"kind: tag\nname: {name}\n")
    plan = make_plan(sandbox)

    def interrupt(applier: Applier, result: Result) -> None:
        applier.interrupt()

    def run_one_at_a_time() -> Report:
        one = dataclasses.replace(plan)
        ws = workspace(sandbox)
        target = ws.config.sandbox(None)

        async def main() -> Report:
            with statefile.locked(
                ws.state_path(target), sandbox=target.key, org=target.org, endpoint=target.endpoint
            ) as writer:
                async with sandbox.client("reconciler-cli") as client:
                    applier: Applier

                    def report(result: Result) -> None:
                        interrupt(applier, result)

                    applier = Applier(
                        one, client, writer, clock=lambda: CLOCK, parallelism=1, on_result=report
                    )
                    return await applier.run()

        return asyncio.run(main())

    report = run_one_at_a_time()
    assert report.interrupted
    assert [(r.key, r.outcome, r.detail) for r in report.results] == [
        (Key("tags/autumn"), Outcome.APPLIED, None),
        (Key("tags/spring"), Outcome.NOT_ATTEMPTED, "interrupted before it started"),
        (Key("tags/winter"), Outcome.NOT_ATTEMPTED, "interrupted before it started"),
    ]


# --- what JSON Patch cannot guard ---------------------------------------------------------------

FALLBACK = Key("summer/fallback")


@pytest.mark.parametrize(
    ("ui_adds_it", "outcome", "requests", "description"),
    [
        (False, Outcome.APPLIED, {"GET": 1, "PATCH": 1}, "git's"),
        (True, Outcome.CONFLICT, {"GET": 1}, "the UI's"),
    ],
    ids=["read first, then the guarded PATCH", "the UI added it after the plan: not written"],
)
def test_a_top_level_field_git_adds_is_read_first_since_a_test_cannot_assert_absence(
    tmp_path: Path,
    ui_adds_it: bool,
    outcome: Outcome,
    requests: dict[str, int],
    description: str,
) -> None:
    sandbox = applied(tmp_path, "test", ignore_if_match=True)
    edit_git(
        sandbox,
        "summer/fallback.yaml",
        "status: approved\n",
        "status: approved\ndescription: git's\n",
    )
    plan = make_plan(sandbox)
    [change] = plan.changes
    assert (change.key, change.action, change.unguarded) == (
        FALLBACK,
        Action.UPDATE,
        ("/description",),
    )
    assert change.id is not None
    if ui_adds_it:
        ui_patch(
            sandbox,
            Kind.FALLBACK_OFFER,
            change.id,
            [{"op": "add", "path": "/description", "value": "the UI's"}],
        )
    report, sent = run(sandbox, plan)
    assert ([r.outcome for r in report.results], sent) == ([outcome], requests)
    assert live(sandbox, Kind.FALLBACK_OFFER, change.id)["description"] == description


# --- found by the review ------------------------------------------------------------------------


def _state_ids(sandbox: Sandbox) -> dict[str, str | None]:
    state = statefile.read(sandbox.root / "state" / "local.json")
    assert state is not None
    return {key: entry.id for key, entry in state.objects.items()}


def test_a_lost_post_never_takes_an_object_another_key_manages(tmp_path: Path) -> None:
    """The UI renamed the Summer tag to "Autumn"; git adds a tag named Autumn; the POST is
    dropped before the server sees it: the lookup by name must not take tags/summer's object."""
    sandbox = applied(tmp_path, "test")
    summer = entry(sandbox, "tags/summer")["id"]
    ui_patch(sandbox, Kind.TAG, summer, [{"op": "replace", "path": "/name", "value": "Autumn"}])
    (sandbox.root / "offers" / "tags" / "autumn.yaml").write_text(NEW_TAG)
    plan = commands.plan(
        workspace(sandbox), None, selection=planner.Selection(only=("tags/autumn",))
    )
    assert [(c.key, c.action) for c in plan.changes] == [(Key("tags/autumn"), Action.CREATE)]
    report, _ = run(sandbox, plan, faults=(WriteFault.DROP,))
    ids = [object_id for object_id in _state_ids(sandbox).values() if object_id is not None]
    assert len(ids) == len(set(ids))  # never two keys on one id
    assert entry(sandbox, "tags/summer")["id"] == summer
    [result] = report.results
    assert result.id != summer


def test_a_renamed_file_whose_write_conflicts_stays_managed_by_its_new_key(tmp_path: Path) -> None:
    sandbox = applied(tmp_path, "test")
    sale = entry(sandbox, SALE)["id"]
    applied_before = entry(sandbox, SALE)["applied"]
    old = sandbox.root / "offers" / "summer" / "sale.yaml"
    (sandbox.root / "offers" / "summer" / "sale-60.yaml").write_text(
        old.read_text().replace("priority: 5", "priority: 6")
    )
    old.unlink()
    plan = make_plan(sandbox)
    assert [(c.key, c.action, c.moved_from) for c in plan.changes] == [
        (Key("summer/sale-60"), Action.ADOPT, SALE)
    ]
    ui_patch(sandbox, Kind.PERSONALIZED_OFFER, sale, GUARDED)
    report, _ = run(sandbox, plan)
    assert [r.outcome for r in report.results] == [Outcome.CONFLICT]
    # Moved before the write, in one journal line: the new key manages it, with its last body.
    ids = _state_ids(sandbox)
    assert (ids.get("summer/sale-60"), "summer/sale" in ids) == (sale, False)
    assert entry(sandbox, "summer/sale-60")["applied"] == applied_before
    following = make_plan(sandbox)
    assert [(c.key, c.action) for c in following.changes] == [
        (Key("summer/sale-60"), Action.UPDATE)
    ]


def test_git_s_empty_object_is_guarded_so_a_ui_edit_removing_it_is_a_conflict(
    tmp_path: Path,
) -> None:
    sandbox = applied(tmp_path, "test", ignore_if_match=True)
    edit_git(
        sandbox, "summer/sale.yaml", "status: approved\n", "status: approved\ncharacteristics: {}\n"
    )
    assert sandbox.run("apply", "--auto-approve").exit_code == 0
    offer = entry(sandbox, SALE)["id"]
    edit_git(sandbox, "summer/sale.yaml", "priority: 5", "priority: 9")
    plan = make_plan(sandbox)
    ui_patch(
        sandbox, Kind.PERSONALIZED_OFFER, offer, [{"op": "remove", "path": "/characteristics"}]
    )
    report, _ = run(sandbox, plan)
    assert [r.outcome for r in report.results] == [Outcome.CONFLICT]
    assert sandbox.run("plan", "--detailed-exitcode").exit_code == 2  # the next plan shows it


def test_two_clones_creating_at_the_same_moment_leave_one_object(tmp_path: Path) -> None:
    """Both look the name up before either POSTs (the lookup and the POST are two requests):
    the later twin sees the earlier one after its POST, deletes itself and adopts it."""
    app = create_app(EmulatorSettings(latency_ms=30))
    clones = []
    for name in ("a", "b"):
        repo = make_repo(tmp_path / name, config=config("test"), estate=False)
        (repo / "offers" / "placements").mkdir()
        (repo / "offers" / "placements" / "side.yaml").write_text(SIDE)
        clones.append(Sandbox(app=app, root=repo))
    plans = [make_plan(clone) for clone in clones]

    async def both() -> list[Report]:
        async def one(clone: Sandbox, plan: Plan) -> Report:
            ws = workspace(clone)
            target = ws.config.sandbox(None)
            with statefile.locked(
                ws.state_path(target), sandbox=target.key, org=target.org, endpoint=target.endpoint
            ) as writer:
                async with clone.client("reconciler-cli") as client:
                    return await Applier(plan, client, writer, clock=lambda: CLOCK).run()

        return list(await asyncio.gather(*(one(c, p) for c, p in zip(clones, plans, strict=True))))

    reports = asyncio.run(both())

    async def placements(client: Any) -> list[str]:
        return [str(p["id"]) for p in await client.list_all(Kind.PLACEMENT)]

    [survivor] = clones[0].call(placements)
    assert [r.outcome for report in reports for r in report.results] == [Outcome.APPLIED] * 2
    assert {entry(clone, "placements/side")["id"] for clone in clones} == {survivor}


def test_if_match_mode_says_when_the_server_ignored_if_match_and_a_write_slipped_in(
    tmp_path: Path,
) -> None:
    """Without preconditions nothing stops the write, but the etag tells: it moved by more than
    one write. The result is a conflict that says so, never a silent success."""
    sandbox = applied(tmp_path, "if-match", ignore_if_match=True, race_write=1.0)
    edit_git(sandbox, "summer/sale.yaml", "priority: 5", "priority: 9")
    plan = make_plan(sandbox)
    report, sent = run(sandbox, plan)
    [result] = report.results
    planned = int(plan.changes[0].etag or 0)
    assert (result.outcome, result.detail, sent) == (
        Outcome.CONFLICT,
        f"the server ignored If-Match: another write landed between the read (etag {planned}) "
        f"and this write (etag {planned + 2}), and this write may have replaced some of what "
        "it set; check the object (`preconditions: test` guards against this)",
        {"GET": 1, "PATCH": 1},
    )
