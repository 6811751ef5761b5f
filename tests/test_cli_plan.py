"""`reconciler plan` through the CLI against the emulator: every rule of the plan issue."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import Sandbox, make_repo
from estate import FILES, KEYS, write

from reconciler.emulator.app import EmulatorSettings, create_app
from reconciler.model import JsonValue, Kind

CLI = "reconciler-cli@techacct.adobe.com"
MARKETER = "marketer-ui@techacct.adobe.com"
WEB = "https://ns.adobe.com/xdm/channel-types/web"
HEAD = "reconciler will perform these actions on sandbox 'local':\n\n"


def _estate(sandbox: Sandbox, files: dict[str, str] | None = None) -> Sandbox:
    for child in (sandbox.root / "offers").iterdir():
        if child.is_dir():
            shutil.rmtree(child)
        else:
            child.unlink()
    write(sandbox.root, files)
    return sandbox


def _applied(sandbox: Sandbox, files: dict[str, str] | None = None) -> Sandbox:
    _estate(sandbox, files)
    done = sandbox.run("apply", "--auto-approve")
    assert done.exit_code == 0, done.output
    return sandbox


def _set(sandbox: Sandbox, name: str, old: str, new: str) -> None:
    path = sandbox.root / "offers" / name
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def _state(sandbox: Sandbox) -> dict[str, Any]:
    state: dict[str, Any] = json.loads((sandbox.root / "state" / "local.json").read_text())
    return state


def _ids(sandbox: Sandbox) -> dict[str, str]:
    return {key: entry["id"] for key, entry in _state(sandbox)["objects"].items()}


def _read(sandbox: Sandbox, kind: Kind, object_id: str) -> dict[str, Any]:
    live: dict[str, Any] = sandbox.call(lambda client: client.get(kind, object_id))
    return live


def _marketer_patch(
    sandbox: Sandbox, kind: Kind, object_id: str, operations: list[dict[str, JsonValue]]
) -> dict[str, Any]:
    """A marketer's edit through the real API (no If-Match, as the UI does); the object after."""

    async def edit(client):  # type: ignore[no-untyped-def]
        await client.patch(kind, object_id, operations, if_match=None)
        return await client.get(kind, object_id)

    live: dict[str, Any] = sandbox.call(edit)
    return live


def _operations(change: dict[str, Any]) -> list[dict[str, Any]]:
    """What a change's patch does, without the `test` preconditions that guard it."""
    return [op for op in change["patch"] if op["op"] != "test"]


def _sale(ids: dict[str, str], *, priority: int = 5) -> dict[str, Any]:
    """summer/sale as the plan's documents hold it: the estate's body, references resolved."""
    return {
        "name": "Summer sale",
        "status": "approved",
        "representations": [
            {
                "channel": WEB,
                "placement": ids["placements/web"],
                "components": [
                    {
                        "type": "html",
                        "format": "text/html",
                        "language": ["en-us"],
                        "content": "<p>60% off</p>",
                    }
                ],
            }
        ],
        "selectionConstraint": {
            "startDate": "2027-06-01T00:00:00.000Z",
            "endDate": "2027-08-31T23:59:59.000Z",
            "profileConstraintType": "eligibilityRule",
            "eligibilityRule": ids["rules/gold"],
        },
        "rank": {"priority": priority},
        "tags": [ids["tags/summer"]],
    }


# --- creates and the basics ---------------------------------------------------------------------


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
    example = Sandbox(app=create_app(), root=repo)
    assert example.run("validate").exit_code == 0
    applied = example.run("apply", "--auto-approve")
    assert applied.exit_code == 0, applied.output
    again = example.run("plan", "--detailed-exitcode")
    assert again.exit_code == 0, again.output


def test_every_key_is_planned(sandbox: Sandbox) -> None:
    _estate(sandbox)
    plan = json.loads(sandbox.run("plan", "--format", "json").output)
    assert sorted(c["key"] for c in plan["changes"]) == KEYS


def test_markdown_leads_with_the_summary(sandbox: Sandbox) -> None:
    _estate(sandbox)
    done = sandbox.run("plan", "--format", "markdown")
    assert done.output.splitlines()[:4] == [
        "<!-- reconciler:plan:local -->",
        "### reconciler plan: sandbox `local`",
        "",
        "**Plan: 7 to create, 0 to update, 0 to delete.**",
    ]


def test_fields_the_server_sets_on_create_never_show_up_as_changes(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "defaults", estate=False)
    write(repo)
    sandbox = Sandbox(app=create_app(EmulatorSettings(server_defaults=True)), root=repo)
    assert sandbox.run("apply", "--auto-approve").exit_code == 0
    placement = _read(sandbox, Kind.PLACEMENT, _ids(sandbox)["placements/web"])
    assert placement["labels"] == []  # the server did add fields git never had
    done = sandbox.run("plan", "--detailed-exitcode")
    assert (done.exit_code, done.output.splitlines()[-1]) == (
        0,
        "Plan: 0 to create, 0 to update, 0 to delete.",
    )
    assert sandbox.run("drift").exit_code == 0


# --- updates ------------------------------------------------------------------------------------


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
    assert _operations(change) == [
        {"op": "replace", "path": "/rank/priority", "value": 7, "old": 5}
    ]
    assert plan["summary"] == {
        "create": 0,
        "update": 1,
        "delete": 0,
        "adopt": 0,
        "refresh": 0,
        "unchanged": 6,
        "hidden": 0,
        "orphans": 0,
        "ignored": 0,
    }
    text = sandbox.run("plan").output
    assert "      ~ /rank/priority: 5 -> 7" in text.splitlines()


def test_the_json_plan_holds_the_documents_and_sends_tests_before_the_operations(
    sandbox: Sandbox,
) -> None:
    _applied(sandbox)
    ids = _ids(sandbox)
    live = _read(sandbox, Kind.PERSONALIZED_OFFER, ids["summer/sale"])
    _set(sandbox, "summer/sale.yaml", "priority: 5", "priority: 7")
    plan = json.loads(sandbox.run("plan", "--format", "json").output)
    assert (plan["format_version"], plan["preconditions"]) == (2, "test")
    assert plan["changes"] == [
        {
            "action": "update",
            "depends_on": [],
            "documents": {
                "desired": _sale(ids, priority=7),
                "goal": _sale(ids, priority=7),
                "last": _sale(ids),
                "live": _sale(ids),
            },
            "etag": "1",
            "id": ids["summer/sale"],
            "ignore": [],
            "key": "summer/sale",
            "kind": "personalized-offer",
            "name": "Summer sale",
            "patch": [
                {"op": "test", "path": "/name", "value": "Summer sale"},
                {"op": "test", "path": "/rank/priority", "value": 5},
                {"op": "test", "path": "/representations", "value": _sale(ids)["representations"]},
                {
                    "op": "test",
                    "path": "/selectionConstraint/eligibilityRule",
                    "value": ids["rules/gold"],
                },
                {
                    "op": "test",
                    "path": "/selectionConstraint/endDate",
                    "value": "2027-08-31T23:59:59.000Z",
                },
                {
                    "op": "test",
                    "path": "/selectionConstraint/profileConstraintType",
                    "value": "eligibilityRule",
                },
                {
                    "op": "test",
                    "path": "/selectionConstraint/startDate",
                    "value": "2027-06-01T00:00:00.000Z",
                },
                {"op": "test", "path": "/status", "value": "approved"},
                {"op": "test", "path": "/tags", "value": [ids["tags/summer"]]},
                {"op": "replace", "path": "/rank/priority", "value": 7, "old": 5},
            ],
            "reason": "changed in git",
            "reasons": ["changed in git"],
            "seen": {"by": CLI, "at": live["modified"]},
            "source": "offers/summer/sale.yaml",
            "unguarded": [],
        }
    ]


def test_in_if_match_mode_the_json_patch_is_the_operations_alone(sandbox: Sandbox) -> None:
    (sandbox.root / "reconciler.yaml").write_text(
        "default: local\nsandboxes:\n  local:\n    endpoint: embedded\n"
        "    preconditions: if-match\n"
    )
    _applied(sandbox)
    _set(sandbox, "summer/sale.yaml", "priority: 5", "priority: 7")
    plan = json.loads(sandbox.run("plan", "--format", "json").output)
    assert plan["preconditions"] == "if-match"
    assert [c["patch"] for c in plan["changes"]] == [
        [{"op": "replace", "path": "/rank/priority", "value": 7, "old": 5}]
    ]


def test_the_text_plan_shows_the_preconditions_only_when_verbose(sandbox: Sandbox) -> None:
    _applied(sandbox)
    ids = _ids(sandbox)
    _set(sandbox, "summer/sale.yaml", "priority: 5", "priority: 7")
    representations = (
        f'[{{"channel": "{WEB}", "components": [{{"content": "<p>60% off</p>", '
        f'"format": "text/html", "language": ["en-us"], "type": "html"}}], '
        f'"placement": "{ids["placements/web"]}"}}]'
    )
    quiet, verbose = sandbox.run("plan"), sandbox.run("-v", "plan")
    assert (quiet.exit_code, verbose.exit_code) == (0, 0)
    assert quiet.stdout == (
        HEAD + '  ~ update personalized-offer summer/sale "Summer sale" (changed in git)\n'
        "      ~ /rank/priority: 5 -> 7\n"
        "\n"
        "Plan: 0 to create, 1 to update, 0 to delete.\n"
    )
    assert verbose.stdout == (
        HEAD + '  ~ update personalized-offer summer/sale "Summer sale" (changed in git)\n'
        '      ? /name == "Summer sale"   (precondition)\n'
        "      ? /rank/priority == 5   (precondition)\n"
        f"      ? /representations == {representations}   (precondition)\n"
        f'      ? /selectionConstraint/eligibilityRule == "{ids["rules/gold"]}"   (precondition)\n'
        '      ? /selectionConstraint/endDate == "2027-08-31T23:59:59.000Z"   (precondition)\n'
        '      ? /selectionConstraint/profileConstraintType == "eligibilityRule"   (precondition)\n'
        '      ? /selectionConstraint/startDate == "2027-06-01T00:00:00.000Z"   (precondition)\n'
        '      ? /status == "approved"   (precondition)\n'
        f'      ? /tags == ["{ids["tags/summer"]}"]   (precondition)\n'
        "      ~ /rank/priority: 5 -> 7\n"
        "\n"
        "Plan: 0 to create, 1 to update, 0 to delete.\n"
    )


def test_inserting_a_list_item_at_the_front_is_one_add(sandbox: Sandbox) -> None:
    _applied(sandbox)
    _set(sandbox, "summer/sale.yaml", "language: [en-us]", "language: [fr-fr, en-us]")
    plan = json.loads(sandbox.run("plan", "--format", "json").output)
    assert [_operations(c) for c in plan["changes"]] == [
        [{"op": "add", "path": "/representations/0/components/0/language/0", "value": "fr-fr"}]
    ]


def test_a_field_dropped_from_git_is_removed(sandbox: Sandbox) -> None:
    _applied(sandbox)
    _set(sandbox, "placements/web.yaml", "description: Hero banner on the home page\n", "")
    plan = json.loads(sandbox.run("plan", "--format", "json").output)
    assert [_operations(c) for c in plan["changes"]] == [
        [{"op": "remove", "path": "/description", "old": "Hero banner on the home page"}]
    ]


def test_an_outside_edit_is_planned_back_and_names_who_and_when(sandbox: Sandbox) -> None:
    _applied(sandbox)
    offer_id = _ids(sandbox)["summer/sale"]
    live = _marketer_patch(
        sandbox,
        Kind.PERSONALIZED_OFFER,
        offer_id,
        [{"op": "replace", "path": "/rank/priority", "value": 9}],
    )
    plan = json.loads(sandbox.run("plan", "--format", "json").output)
    (change,) = plan["changes"]
    who = {"by": MARKETER, "at": live["modified"]}
    assert (change["reasons"], change["seen"]) == (["drifted"], who)
    assert _operations(change) == [
        {"op": "replace", "path": "/rank/priority", "value": 5, "old": 9, "reverts": who}
    ]
    text = sandbox.run("plan").output
    assert (
        f"      ~ /rank/priority: 9 -> 5   (reverts an edit by {MARKETER} at {live['modified']})"
        in text.splitlines()
    )


def test_a_ui_edit_behind_an_insert_in_front_is_shown_as_the_revert_it_is(
    sandbox: Sandbox,
) -> None:
    # Regression: last applied [en-us, de-de, ...], the UI made it [en-us, fr-fr, ...] and git
    # inserts nl-nl in front. Putting de-de back was shown as `null -> "fr-fr"`, with no warning.
    tail = "es-es, it-it, pt-pt, nl-be, sv-se, da-dk, fi-fi, nb-no, pl-pl, cs-cz, el-gr, hu-hu"
    files = dict(FILES)
    files["summer/sale.yaml"] = FILES["summer/sale.yaml"].replace(
        "language: [en-us]", f"language: [en-us, de-de, {tail}]"
    )
    _applied(sandbox, files)
    live = _marketer_patch(
        sandbox,
        Kind.PERSONALIZED_OFFER,
        _ids(sandbox)["summer/sale"],
        [
            {
                "op": "replace",
                "path": "/representations/0/components/0/language/1",
                "value": "fr-fr",
            }
        ],
    )
    _set(sandbox, "summer/sale.yaml", "language: [en-us,", "language: [nl-nl, en-us,")
    done = sandbox.run("plan")
    at = live["modified"]
    assert done.stdout == (
        HEAD + '  ~ update personalized-offer summer/sale "Summer sale" (changed in git, drifted)\n'
        '      + /representations/0/components/0/language/0: "nl-nl"\n'
        '      ~ /representations/0/components/0/language/2: "fr-fr" -> "de-de"   '
        f"(reverts an edit by {MARKETER} at {at})\n"
        f"      ! changed outside git by {MARKETER} at {at}: "
        "the lines marked 'reverts' undo that edit\n"
        "\n"
        "Plan: 0 to create, 1 to update, 0 to delete.\n"
        "1 operation reverts edits made outside git (marked above). "
        "Add ignore rules to cede fields to the UI.\n"
    )


def test_a_ref_mapping_in_characteristics_is_sent_as_a_plain_map(sandbox: Sandbox) -> None:
    # `{ref: ...}` is a reference at reference fields only; here it is an attribute named "ref".
    _applied(sandbox)
    offer_id = _ids(sandbox)["summer/sale"]
    path = sandbox.root / "offers" / "summer" / "sale.yaml"
    path.write_text(path.read_text() + "characteristics: {ref: tags/summer}\n")
    plan = json.loads(sandbox.run("plan", "--format", "json").output)
    assert [(c["key"], _operations(c)) for c in plan["changes"]] == [
        (
            "summer/sale",
            [{"op": "add", "path": "/characteristics", "value": {"ref": "tags/summer"}}],
        )
    ]
    assert '      + /characteristics: {"ref": "tags/summer"}' in sandbox.run("plan").stdout
    assert sandbox.run("apply", "--auto-approve").exit_code == 0
    live = _read(sandbox, Kind.PERSONALIZED_OFFER, offer_id)
    assert live["characteristics"] == {"ref": "tags/summer"}
    assert sandbox.run("plan", "--detailed-exitcode").exit_code == 0


# --- ignore rules -------------------------------------------------------------------------------

IGNORE_PRIORITY = (
    "default: local\nsandboxes:\n  local:\n    endpoint: embedded\n"
    "ignore:\n  personalized-offer: [/rank/priority]\n"
)


def test_ignore_rules_cede_a_field_and_list_it(sandbox: Sandbox) -> None:
    _applied(sandbox)
    (sandbox.root / "reconciler.yaml").write_text(IGNORE_PRIORITY)
    _set(sandbox, "summer/sale.yaml", "priority: 5", "priority: 8")
    plan = json.loads(sandbox.run("plan", "--format", "json").output)
    assert [op for change in plan["changes"] for op in _operations(change)] == []
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


def test_a_git_edit_of_an_ignored_field_is_enforced_once_the_rule_is_dropped(
    sandbox: Sandbox,
) -> None:
    _applied(sandbox)
    (sandbox.root / "reconciler.yaml").write_text(IGNORE_PRIORITY)
    _set(sandbox, "summer/sale.yaml", "priority: 5", "priority: 8")
    assert sandbox.run("apply", "--auto-approve").exit_code == 0
    (sandbox.root / "reconciler.yaml").write_text(
        "default: local\nsandboxes:\n  local:\n    endpoint: embedded\n"
    )
    plan = json.loads(sandbox.run("plan", "--format", "json").output)
    assert [(c["key"], c["action"], _operations(c)) for c in plan["changes"]] == [
        (
            "summer/sale",
            "update",
            [{"op": "replace", "path": "/rank/priority", "value": 8, "old": 5}],
        )
    ]


def test_a_ui_edit_of_an_ignored_field_plans_nothing(sandbox: Sandbox) -> None:
    _applied(sandbox)
    (sandbox.root / "reconciler.yaml").write_text(IGNORE_PRIORITY)
    _marketer_patch(
        sandbox,
        Kind.PERSONALIZED_OFFER,
        _ids(sandbox)["summer/sale"],
        [{"op": "replace", "path": "/rank/priority", "value": 9}],
    )
    done = sandbox.run("plan", "--detailed-exitcode")
    assert (done.exit_code, done.stdout) == (
        0,
        "No changes. Sandbox 'local' matches git.\n"
        "Ignored by reconciler.yaml (not enforced):\n"
        "  summer/sale /rank/priority: git 5, live 9\n"
        "\n"
        "Plan: 0 to create, 0 to update, 0 to delete.\n",
    )


# --- adoption and state-only refreshes ----------------------------------------------------------


def test_with_the_state_file_lost_every_object_is_adopted_by_name_and_none_created(
    sandbox: Sandbox,
) -> None:
    _applied(sandbox)
    ids = _ids(sandbox)
    (sandbox.root / "state" / "local.json").unlink()
    done = sandbox.run("plan")
    order = [
        ("tag", "tags/summer", "Summer"),
        ("placement", "placements/web", "Web banner"),
        ("decision-rule", "rules/gold", "Gold members"),
        ("fallback-offer", "summer/fallback", "Everyone gets free shipping"),
        ("personalized-offer", "summer/sale", "Summer sale"),
        ("collection", "summer/collection", "Summer offers"),
        ("decision", "summer/decision", "Home page summer"),
    ]
    assert done.stdout == HEAD + "".join(
        f'  = adopt {kind} {key} "{name}" (not in state, found by name)\n'
        f"      Adopts {ids[key]}, found by kind and name: nothing is created.\n"
        for kind, key, name in order
    ) + ("\nPlan: 0 to create, 0 to update, 0 to delete, 7 to adopt.\n")
    assert sandbox.run("apply", "--auto-approve").exit_code == 0
    assert _ids(sandbox) == ids  # the same objects, none created twice
    assert sandbox.run("plan", "--detailed-exitcode").exit_code == 0


def test_an_object_deleted_outside_git_is_recreated(sandbox: Sandbox) -> None:
    _applied(sandbox)
    decision_id = _ids(sandbox)["summer/decision"]
    sandbox.call(lambda client: client.delete(Kind.DECISION, decision_id, if_match=None))
    plan = json.loads(sandbox.run("plan", "--format", "json").output)
    assert [(c["key"], c["action"], c["reason"], c["id"]) for c in plan["changes"]] == [
        ("summer/decision", "create", "missing remotely", decision_id)
    ]
    assert sandbox.run("apply", "--auto-approve").exit_code == 0
    assert sandbox.run("plan", "--detailed-exitcode").exit_code == 0


def test_an_object_re_created_in_the_ui_under_its_name_is_adopted(sandbox: Sandbox) -> None:
    _applied(sandbox, {"tags/summer.yaml": "kind: tag\nname: Summer\n"})
    old = _ids(sandbox)["tags/summer"]

    async def recreate(client):  # type: ignore[no-untyped-def]
        await client.delete(Kind.TAG, old, if_match=None)
        return (await client.create(Kind.TAG, {"name": "Summer"}, name="Summer")).id

    new = sandbox.call(recreate)
    done = sandbox.run("plan")
    assert done.stdout == (
        HEAD + '  = adopt tag tags/summer "Summer" (missing remotely)\n'
        f"      Adopts {new}, found by kind and name: nothing is created.\n"
        "\n"
        "Plan: 0 to create, 0 to update, 0 to delete, 1 to adopt.\n"
    )
    assert sandbox.run("apply", "--auto-approve").exit_code == 0
    assert _ids(sandbox) == {"tags/summer": new}
    assert sandbox.run("plan", "--detailed-exitcode").exit_code == 0


def test_the_ui_making_git_s_change_is_a_state_only_refresh(sandbox: Sandbox) -> None:
    _applied(sandbox)
    offer_id = _ids(sandbox)["summer/sale"]
    live = _marketer_patch(
        sandbox,
        Kind.PERSONALIZED_OFFER,
        offer_id,
        [{"op": "replace", "path": "/rank/priority", "value": 7}],
    )
    _set(sandbox, "summer/sale.yaml", "priority: 5", "priority: 7")
    done = sandbox.run("plan")
    assert done.stdout == (
        HEAD + '  * refresh personalized-offer summer/sale "Summer sale" '
        "(live already matches git, state is behind)\n"
        f"      Live already matches git ({offer_id}): state records it, nothing is sent.\n"
        "\n"
        "Plan: 0 to create, 0 to update, 0 to delete, 1 state-only.\n"
    )
    assert sandbox.run("apply", "--auto-approve").exit_code == 0
    # Nothing was sent (the marketer's revision is still the live one); state caught up.
    assert _read(sandbox, Kind.PERSONALIZED_OFFER, offer_id)["etag"] == live["etag"]
    entry = _state(sandbox)["objects"]["summer/sale"]
    assert (entry["etag"], entry["applied"]["rank"]) == (str(live["etag"]), {"priority": 7})
    assert sandbox.run("plan", "--detailed-exitcode").exit_code == 0


def test_a_state_only_refresh_has_an_empty_patch_since_nothing_is_sent(sandbox: Sandbox) -> None:
    _applied(sandbox)
    _marketer_patch(
        sandbox,
        Kind.PERSONALIZED_OFFER,
        _ids(sandbox)["summer/sale"],
        [{"op": "replace", "path": "/rank/priority", "value": 7}],
    )
    _set(sandbox, "summer/sale.yaml", "priority: 5", "priority: 7")
    plan = json.loads(sandbox.run("plan", "--format", "json").output)
    assert [(c["action"], c["patch"]) for c in plan["changes"]] == [("refresh", [])]


# --- removed keys -------------------------------------------------------------------------------


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


# --- renamed files ------------------------------------------------------------------------------

RENAMED = (
    HEAD + '  = adopt tag tags/season "Summer" (file renamed: state moves it to the new key)\n'
    "      Adopts {id}, which tags/summer managed until its file was renamed: state moves it, "
    "nothing is created or deleted.\n"
    "\n"
    "Plan: 0 to create, 0 to update, 0 to delete, 1 to adopt.\n"
)


def _rename_summer_tag(sandbox: Sandbox) -> None:
    """Move offers/tags/summer.yaml to offers/tags/season.yaml and update its references."""
    tags = sandbox.root / "offers" / "tags"
    (tags / "summer.yaml").rename(tags / "season.yaml")
    for name in ("summer/sale.yaml", "summer/collection.yaml"):
        _set(sandbox, name, "{ref: tags/summer}", "{ref: tags/season}")


@pytest.mark.parametrize("prune", [(), ("--prune",)], ids=["keeping orphans", "pruning"])
def test_a_renamed_file_is_adopted_by_its_new_key_never_orphaned_or_deleted(
    sandbox: Sandbox, prune: tuple[str, ...]
) -> None:
    _applied(sandbox)
    tag_id = _ids(sandbox)["tags/summer"]
    _rename_summer_tag(sandbox)
    assert sandbox.run("plan", *prune).stdout == RENAMED.format(id=tag_id)
    plan = json.loads(sandbox.run("plan", *prune, "--format", "json").output)
    assert [
        (c["key"], c["action"], c["reasons"], c["id"], c["moved_from"], c["patch"])
        for c in plan["changes"]
    ] == [
        (
            "tags/season",
            "adopt",
            ["file renamed: state moves it to the new key"],
            tag_id,
            "tags/summer",
            [],
        )
    ]
    assert (plan["orphans"], plan["summary"]) == (
        [],
        {
            "create": 0,
            "update": 0,
            "delete": 0,
            "adopt": 1,
            "refresh": 0,
            "unchanged": 6,
            "hidden": 0,
            "orphans": 0,
            "ignored": 0,
        },
    )


@pytest.mark.parametrize("saved", [False, True], ids=["plan and apply", "a saved plan"])
def test_applying_a_rename_moves_the_state_entry_and_sends_nothing(
    sandbox: Sandbox, tmp_path: Path, saved: bool
) -> None:
    _applied(sandbox)
    ids = _ids(sandbox)
    _rename_summer_tag(sandbox)
    if saved:
        assert sandbox.run("plan", "--prune", "--out", str(tmp_path / "plan.json")).exit_code == 0
        done = sandbox.run("apply", str(tmp_path / "plan.json"))
    else:
        done = sandbox.run("apply", "--auto-approve", "--prune")
    assert done.exit_code == 0, done.output
    moved = dict(ids)
    moved["tags/season"] = moved.pop("tags/summer")
    assert _ids(sandbox) == moved
    assert _state(sandbox)["objects"]["tags/season"]["applied"] == {"name": "Summer"}
    assert _read(sandbox, Kind.TAG, ids["tags/summer"])["etag"] == 1  # the same, untouched object
    assert sandbox.run("plan", "--prune", "--detailed-exitcode").exit_code == 0


# --- --only / --exclude -------------------------------------------------------------------------


def test_only_and_exclude_select_keys(sandbox: Sandbox) -> None:
    _estate(sandbox)
    only = json.loads(
        sandbox.run("plan", "--format", "json", "--only", "tags/*", "--only", "rules/*").output
    )
    assert [c["key"] for c in only["changes"]] == ["tags/summer", "rules/gold"]
    rest = json.loads(sandbox.run("plan", "--format", "json", "--exclude", "summer/*").output)
    assert [c["key"] for c in rest["changes"]] == ["tags/summer", "placements/web", "rules/gold"]


def test_only_says_how_many_changes_it_leaves_out(sandbox: Sandbox) -> None:
    _estate(sandbox)
    done = sandbox.run("plan", "--only", "tags/*")
    assert done.stdout == (
        HEAD + '  + create tag tags/summer "Summer" (new)\n'
        "\n"
        "Plan: 1 to create, 0 to update, 0 to delete.\n"
        "6 changes not shown: --only/--exclude leave them out, and applying this plan leaves "
        "them out too.\n"
    )
    plan = json.loads(sandbox.run("plan", "--only", "tags/*", "--format", "json").output)
    assert plan["summary"] == {
        "create": 1,
        "update": 0,
        "delete": 0,
        "adopt": 0,
        "refresh": 0,
        "unchanged": 0,
        "hidden": 6,
        "orphans": 0,
        "ignored": 0,
    }


@pytest.mark.parametrize(
    ("selection", "applied", "left"),
    [
        (
            ("--only", "tags/*", "--only", "placements/*"),
            ["tags/summer", "placements/web"],
            [
                "rules/gold",
                "summer/collection",
                "summer/decision",
                "summer/fallback",
                "summer/sale",
            ],
        ),
        (
            ("--exclude", "summer/*"),
            ["tags/summer", "placements/web", "rules/gold"],
            ["summer/collection", "summer/decision", "summer/fallback", "summer/sale"],
        ),
    ],
)
def test_apply_only_and_exclude_apply_the_selected_keys_alone(
    sandbox: Sandbox, selection: tuple[str, ...], applied: list[str], left: list[str]
) -> None:
    _estate(sandbox)
    done = sandbox.run("apply", "--auto-approve", "--format", "json", *selection)
    assert done.exit_code == 0, done.output
    report = json.loads(done.output)
    assert [(r["key"], r["action"], r["outcome"]) for r in report["results"]] == [
        (key, "create", "applied") for key in applied
    ]
    assert sorted(_ids(sandbox)) == sorted(applied)
    rest = json.loads(sandbox.run("plan", "--format", "json").output)
    assert sorted((c["key"], c["action"]) for c in rest["changes"]) == [
        (key, "create") for key in left
    ]


@pytest.mark.parametrize("selection", [("--only", "x"), ("--exclude", "x")])
def test_a_saved_plan_cannot_be_narrowed_by_only_or_exclude(
    sandbox: Sandbox, tmp_path: Path, selection: tuple[str, str]
) -> None:
    _estate(sandbox)
    assert sandbox.run("plan", "--out", str(tmp_path / "plan.json")).exit_code == 0
    done = sandbox.run("apply", str(tmp_path / "plan.json"), *selection)
    assert (done.exit_code, done.output) == (
        1,
        "Error: a saved plan is applied exactly as it was made: choose --only, --exclude and "
        "--prune when running `reconciler plan --out`\n",
    )
    assert not (sandbox.root / "state" / "local.json").exists()  # nothing was applied


# --- state commands and logging -----------------------------------------------------------------


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
    assert len(requests) == 14  # the token, then one page per kind
    assert "embedded-sandbox" not in done.output
