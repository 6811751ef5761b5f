"""`reconciler plan` through the CLI against the emulator: every rule of the plan issue."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import Sandbox, make_repo
from estate import KEYS, write

from reconciler.model import Kind


def _estate(sandbox: Sandbox) -> Sandbox:
    for child in (sandbox.root / "offers").iterdir():
        if child.is_dir():
            import shutil

            shutil.rmtree(child)
        else:
            child.unlink()
    write(sandbox.root)
    return sandbox


def _applied(sandbox: Sandbox) -> Sandbox:
    _estate(sandbox)
    done = sandbox.run("apply", "--auto-approve")
    assert done.exit_code == 0, done.output
    return sandbox


def _set(sandbox: Sandbox, name: str, old: str, new: str) -> None:
    path = sandbox.root / "offers" / name
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def test_the_first_plan_creates_everything_in_dependency_order(sandbox: Sandbox) -> None:
    _estate(sandbox)
    done = sandbox.run("plan")
    assert done.exit_code == 0, done.output
    creates = [
        line.strip() for line in done.output.splitlines() if line.strip().startswith("+ create")
    ]
    assert creates == [
        '+ create tag tags/summer "Summer" (new)',
        '+ create placement placements/web "Web banner" (new)',
        '+ create decision-rule rules/gold "Gold members" (new)',
        '+ create fallback-offer summer/fallback "Everyone gets free shipping" (new)',
        '+ create personalized-offer summer/sale "Summer sale" (new)',
        '+ create collection summer/collection "Summer offers" (new)',
        '+ create decision summer/decision "Home page summer" (new)',
    ]
    assert done.output.splitlines()[-1] == "Plan: 7 to create, 0 to update, 0 to delete."
    assert not (sandbox.root / "state" / "local.json").exists()  # plan never writes state


def test_detailed_exitcode_is_2_with_changes_and_0_without(sandbox: Sandbox) -> None:
    _estate(sandbox)
    assert sandbox.run("plan", "--detailed-exitcode").exit_code == 2
    assert sandbox.run("apply", "--auto-approve").exit_code == 0
    done = sandbox.run("plan", "--detailed-exitcode")
    assert (done.exit_code, done.output) == (
        0,
        "No changes. Sandbox 'local' matches git.\nPlan: 0 to create, 0 to update, 0 to delete.\n",
    )


def test_a_fresh_apply_of_the_example_estate_plans_no_changes(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "example")
    from reconciler.emulator.app import create_app

    example = Sandbox(app=create_app(), root=repo)
    assert example.run("validate").exit_code == 0
    applied = example.run("apply", "--auto-approve")
    assert applied.exit_code == 0, applied.output
    again = example.run("plan", "--detailed-exitcode")
    assert again.exit_code == 0, again.output


def test_a_git_change_is_one_operation_at_its_path(sandbox: Sandbox) -> None:
    _applied(sandbox)
    _set(sandbox, "summer/sale.yaml", "priority: 5", "priority: 7")
    done = sandbox.run("plan", "--format", "json")
    assert done.exit_code == 0, done.output
    plan = json.loads(done.output)
    (change,) = plan["changes"]
    assert (change["key"], change["action"], change["reason"]) == (
        "summer/sale",
        "update",
        "changed in git",
    )
    assert change["patch"] == [{"op": "replace", "path": "/rank/priority", "value": 7, "old": 5}]
    assert plan["summary"] == {
        "create": 0,
        "update": 1,
        "delete": 0,
        "unchanged": 6,
        "orphans": 0,
        "ignored": 0,
    }
    text = sandbox.run("plan").output
    assert "      ~ /rank/priority: 5 -> 7" in text.splitlines()


def test_inserting_a_list_item_at_the_front_is_one_add(sandbox: Sandbox) -> None:
    _applied(sandbox)
    _set(sandbox, "summer/sale.yaml", "language: [en-us]", "language: [fr-fr, en-us]")
    plan = json.loads(sandbox.run("plan", "--format", "json").output)
    assert [c["patch"] for c in plan["changes"]] == [
        [{"op": "add", "path": "/representations/0/components/0/language/0", "value": "fr-fr"}]
    ]


def test_a_field_dropped_from_git_is_removed(sandbox: Sandbox) -> None:
    _applied(sandbox)
    _set(sandbox, "placements/web.yaml", "description: Hero banner on the home page\n", "")
    plan = json.loads(sandbox.run("plan", "--format", "json").output)
    assert [c["patch"] for c in plan["changes"]] == [
        [{"op": "remove", "path": "/description", "old": "Hero banner on the home page"}]
    ]


def test_an_outside_edit_is_planned_back_and_names_who_and_when(sandbox: Sandbox) -> None:
    _applied(sandbox)
    state = json.loads((sandbox.root / "state" / "local.json").read_text())
    offer_id = state["objects"]["summer/sale"]["id"]

    async def edit(client):  # type: ignore[no-untyped-def]
        await client.patch(
            Kind.PERSONALIZED_OFFER,
            offer_id,
            [{"op": "replace", "path": "/rank/priority", "value": 9}],
            if_match=None,
        )
        return await client.get(Kind.PERSONALIZED_OFFER, offer_id)

    live = sandbox.call(edit)
    plan = json.loads(sandbox.run("plan", "--format", "json").output)
    (change,) = plan["changes"]
    who = {"by": "marketer-ui@techacct.adobe.com", "at": live["modified"]}
    assert change["reasons"] == ["drifted"]
    assert change["drift"] == who
    assert change["patch"] == [
        {"op": "replace", "path": "/rank/priority", "value": 5, "old": 9, "reverts": who}
    ]
    text = sandbox.run("plan").output
    assert (
        f"      ~ /rank/priority: 9 -> 5   (reverts an edit by marketer-ui@techacct.adobe.com at {live['modified']})"
        in text.splitlines()
    )


def test_ignore_rules_cede_a_field_and_list_it(sandbox: Sandbox) -> None:
    _applied(sandbox)
    (sandbox.root / "reconciler.yaml").write_text(
        "default: local\nsandboxes:\n  local:\n    endpoint: embedded\nignore:\n  personalized-offer: [/rank/priority]\n"
    )
    _set(sandbox, "summer/sale.yaml", "priority: 5", "priority: 8")
    plan = json.loads(sandbox.run("plan", "--format", "json").output)
    assert plan["changes"] == []
    assert plan["ignored"] == [
        {
            "key": "summer/sale",
            "kind": "personalized-offer",
            "path": "/rank/priority",
            "desired": 8,
            "live": 5,
        }
    ]
    text = sandbox.run("plan").output
    assert "  summer/sale /rank/priority: git 8, live 5" in text.splitlines()


def test_removed_files_are_orphans_without_prune_and_deletes_with_it(sandbox: Sandbox) -> None:
    _applied(sandbox)
    (sandbox.root / "offers" / "summer" / "decision.yaml").unlink()
    kept = sandbox.run("plan")
    assert "  summer/decision (decision " in kept.output
    assert kept.output.splitlines()[-1] == "Plan: 0 to create, 0 to update, 0 to delete."
    pruned = sandbox.run("plan", "--prune")
    assert (
        '  - delete decision summer/decision "Home page summer" (removed from git)'
        in pruned.output.splitlines()
    )
    assert sandbox.run("apply", "--auto-approve", "--prune").exit_code == 0
    assert sandbox.run("plan", "--prune", "--detailed-exitcode").exit_code == 0


def test_an_object_deleted_outside_git_is_recreated(sandbox: Sandbox) -> None:
    _applied(sandbox)
    decision_id = json.loads((sandbox.root / "state" / "local.json").read_text())["objects"][
        "summer/decision"
    ]["id"]
    sandbox.call(lambda client: client.delete(Kind.DECISION, decision_id, if_match=None))
    plan = json.loads(sandbox.run("plan", "--format", "json").output)
    assert [(c["key"], c["action"], c["reason"], c["id"]) for c in plan["changes"]] == [
        ("summer/decision", "create", "missing remotely", decision_id)
    ]
    assert sandbox.run("apply", "--auto-approve").exit_code == 0
    assert sandbox.run("plan", "--detailed-exitcode").exit_code == 0


def test_only_and_exclude_select_keys(sandbox: Sandbox) -> None:
    _estate(sandbox)
    only = json.loads(
        sandbox.run("plan", "--format", "json", "--only", "tags/*", "--only", "rules/*").output
    )
    assert [c["key"] for c in only["changes"]] == ["tags/summer", "rules/gold"]
    rest = json.loads(sandbox.run("plan", "--format", "json", "--exclude", "summer/*").output)
    assert [c["key"] for c in rest["changes"]] == ["tags/summer", "placements/web", "rules/gold"]


def test_markdown_leads_with_the_summary(sandbox: Sandbox) -> None:
    _estate(sandbox)
    done = sandbox.run("plan", "--format", "markdown")
    assert done.output.splitlines()[:4] == [
        "<!-- reconciler:plan:local -->",
        "### reconciler plan: sandbox `local`",
        "",
        "**Plan: 7 to create, 0 to update, 0 to delete.**",
    ]


def test_every_key_is_planned(sandbox: Sandbox) -> None:
    _estate(sandbox)
    plan = json.loads(sandbox.run("plan", "--format", "json").output)
    assert sorted(c["key"] for c in plan["changes"]) == KEYS


def test_fields_the_server_sets_on_create_never_show_up_as_changes(tmp_path: Path) -> None:
    from reconciler.emulator.app import EmulatorSettings, create_app

    repo = make_repo(tmp_path / "defaults", estate=False)
    write(repo)
    sandbox = Sandbox(app=create_app(EmulatorSettings(server_defaults=True)), root=repo)
    assert sandbox.run("apply", "--auto-approve").exit_code == 0
    state = json.loads((repo / "state" / "local.json").read_text())
    placement = sandbox.call(
        lambda client: client.get(Kind.PLACEMENT, state["objects"]["placements/web"]["id"])
    )
    assert placement["labels"] == []  # the server did add fields git never had
    done = sandbox.run("plan", "--detailed-exitcode")
    assert (done.exit_code, done.output.splitlines()[-1]) == (
        0,
        "Plan: 0 to create, 0 to update, 0 to delete.",
    )
    assert sandbox.run("drift").exit_code == 0


def test_state_commands_list_show_move_and_forget(sandbox: Sandbox) -> None:
    _applied(sandbox)
    listed = sandbox.run("state", "list").output.splitlines()
    assert [line.split("\t")[:2] for line in listed] == [
        [key, kind]
        for key, kind in [
            ("placements/web", "placement"),
            ("rules/gold", "decision-rule"),
            ("summer/collection", "collection"),
            ("summer/decision", "decision"),
            ("summer/fallback", "fallback-offer"),
            ("summer/sale", "personalized-offer"),
            ("tags/summer", "tag"),
        ]
    ]
    shown = json.loads(sandbox.run("state", "show", "tags/summer").output)
    assert (shown["kind"], shown["etag"], shown["applied"]) == ("tag", "1", {"name": "Summer"})
    # Rename the file and its key: no re-creation, no change.
    (sandbox.root / "offers" / "tags" / "summer.yaml").rename(
        sandbox.root / "offers" / "tags" / "sun.yaml"
    )
    for name in ("summer/sale.yaml", "summer/collection.yaml"):
        _set(sandbox, name, "{ref: tags/summer}", "{ref: tags/sun}")
    assert (
        sandbox.run("state", "mv", "tags/summer", "tags/sun").output
        == "Moved tags/summer to tags/sun.\n"
    )
    assert sandbox.run("plan", "--detailed-exitcode").exit_code == 0
    # Forget an object: it stays in the sandbox, unmanaged.
    (sandbox.root / "offers" / "summer" / "decision.yaml").unlink()
    assert sandbox.run("state", "rm", "summer/decision").exit_code == 0
    assert sandbox.run("plan", "--prune", "--detailed-exitcode").exit_code == 0
    unmanaged = json.loads(sandbox.run("drift", "--unmanaged", "--format", "json").output)
    assert [(o["status"], o["name"]) for o in unmanaged["objects"]] == [
        ("unmanaged", "Home page summer")
    ]
    missing = sandbox.run("state", "show", "nope")
    assert (missing.exit_code, missing.output) == (
        1,
        "Error: nope: not in state (see `reconciler state list`)\n",
    )


def test_verbose_logs_each_request_without_secrets(sandbox: Sandbox) -> None:
    _estate(sandbox)
    done = sandbox.run("-v", "plan")
    requests = [line for line in done.output.splitlines() if " -> " in line]
    assert requests[0].startswith("POST /ims/token/v3 -> 200 (")
    assert len(requests) == 8  # the token, then one page per kind
    assert "embedded-sandbox" not in done.output
