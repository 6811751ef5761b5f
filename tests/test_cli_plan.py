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
