"""`reconciler pull` through the CLI: edits made in the UI come back into git as the smallest
textual change, and afterwards plan and drift are clean.

Every test applies the example estate (both models) to the emulator, then a 'marketer' edits
through the same API the UI uses. File texts are compared whole, before and after.
"""

from __future__ import annotations

import difflib
import json
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import EMBEDDED_CONFIG, Sandbox, make_repo

from reconciler import pull_report
from reconciler.emulator.app import create_app
from reconciler.model import JsonValue, Key, Kind, Op
from reconciler.pulling import FieldPull, ObjectPull, Pull, Pulled
from reconciler.roundtrip import Edit

MARKETER = "marketer-ui@techacct.adobe.com"
SALE = "summer/sale-60"
COAT = "decisioning/items/winter-coat"
TRAVEL = "decisioning/collections/winter-travel"


def _applied(
    tmp_path: Path, *, config: str = EMBEDDED_CONFIG, files: dict[str, str] | None = None
) -> Sandbox:
    """The example estate, with some files rewritten (key: text), applied to a fresh emulator."""
    sandbox = Sandbox(app=create_app(), root=make_repo(tmp_path / "repo", config=config))
    for key, text in (files or {}).items():
        _path(sandbox, key).write_text(text)
    done = sandbox.run("apply", "--auto-approve", "--format", "json")
    assert done.exit_code == 0, done.output
    return sandbox


def _path(sandbox: Sandbox, key: str) -> Path:
    return sandbox.root / "offers" / f"{key}.yaml"


def _text(sandbox: Sandbox, key: str) -> str:
    return _path(sandbox, key).read_text()


def _state(sandbox: Sandbox) -> dict[str, Any]:
    state: dict[str, Any] = json.loads((sandbox.root / "state" / "local.json").read_text())
    return state


def _id(sandbox: Sandbox, key: str) -> str:
    return str(_state(sandbox)["objects"][key]["id"])


def _patch(sandbox: Sandbox, kind: Kind, key: str, ops: list[dict[str, JsonValue]]) -> None:
    object_id = _id(sandbox, key)

    async def edit(client):  # type: ignore[no-untyped-def]
        await client.patch(kind, object_id, ops, if_match=None)

    sandbox.call(edit)


def _delete(sandbox: Sandbox, kind: Kind, key: str) -> None:
    object_id = _id(sandbox, key)

    async def delete(client):  # type: ignore[no-untyped-def]
        await client.delete(kind, object_id, if_match=None)

    sandbox.call(delete)


def _replace(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def _hunks(before: str, after: str) -> list[str]:
    """The unified diff's hunks (zero lines of context: one hunk is one changed stretch)."""
    lines = difflib.unified_diff(before.splitlines(True), after.splitlines(True), n=0)
    return [line for line in lines if line.startswith("@@")]


def _clean(sandbox: Sandbox) -> None:
    """Afterwards the next apply changes nothing, and nothing drifted."""
    plan = sandbox.run("plan", "--detailed-exitcode")
    assert plan.exit_code == 0, plan.output
    drift = sandbox.run("drift")
    assert drift.exit_code == 0, drift.output
    assert sandbox.run("pull").exit_code == 0


def _pulled(sandbox: Sandbox, *args: str, code: int = 2) -> dict[str, Any]:
    done = sandbox.run("pull", "--format", "json", *args)
    assert done.exit_code == code, done.output
    report: dict[str, Any] = json.loads(done.stdout)
    return report


# --- one UI edit, pulled --------------------------------------------------------------------


COMMENTED_SALE = _replace(
    (Path(__file__).resolve().parent.parent / "offers" / f"{SALE}.yaml").read_text(),
    "rank:\n  priority: 50\n",
    "rank:\n  # Agreed with the web team: above every clearance offer.\n"
    "  priority: 50   # out of 100\n",
)


def test_a_ui_edit_of_a_priority_is_one_changed_line_with_every_comment_kept(
    tmp_path: Path,
) -> None:
    sandbox = _applied(tmp_path, files={SALE: COMMENTED_SALE})
    _patch(
        sandbox,
        Kind.PERSONALIZED_OFFER,
        SALE,
        [{"op": "replace", "path": "/rank/priority", "value": 70}],
    )
    before = _text(sandbox, SALE)
    report = _pulled(sandbox)
    after = _text(sandbox, SALE)
    assert after == _replace(
        before, "  priority: 50   # out of 100\n", "  priority: 70   # out of 100\n"
    )
    assert len(_hunks(before, after)) == 1
    (pulled,) = report["objects"]
    assert (pulled["key"], pulled["by"], pulled["fields"]) == (
        SALE,
        MARKETER,
        [{"op": "replace", "path": "/rank/priority", "git": 50, "live": 70}],
    )
    entry = _state(sandbox)["objects"][SALE]
    assert entry["applied"]["rank"] == {"priority": 70}
    _clean(sandbox)


def test_the_text_summary_names_the_field_who_changed_it_and_when(tmp_path: Path) -> None:
    sandbox = _applied(tmp_path)
    _patch(
        sandbox,
        Kind.PERSONALIZED_OFFER,
        SALE,
        [{"op": "replace", "path": "/rank/priority", "value": 70}],
    )
    done = sandbox.run("pull")
    assert done.exit_code == 2, done.output
    lines = done.stdout.splitlines()
    assert lines[0] == "Pulled 1 object from sandbox 'local' into offers/:"
    assert lines[2].startswith(
        f'  ~ personalized-offer {SALE} "Summer sale 60%" (offers/{SALE}.yaml) changed '
        f"outside git by {MARKETER} at 20"
    )
    assert lines[3:] == [
        "      ~ /rank/priority: 50 -> 70",
        "",
        "Recorded 1 object in state/local.json. Review the files with `git diff`, then commit "
        "offers/.",
    ]


def test_a_decision_item_s_priority_is_pulled_and_its_catalog_id_stays_out(
    tmp_path: Path,
) -> None:
    sandbox = _applied(tmp_path)
    before = _text(sandbox, COAT)
    _patch(
        sandbox,
        Kind.DECISION_ITEM,
        COAT,
        [
            {
                "op": "replace",
                "path": "/_experience/decisioning/decisionitem/itemPriority",
                "value": 45,
            }
        ],
    )
    report = _pulled(sandbox)
    assert _text(sandbox, COAT) == _replace(before, "itemPriority: 40\n", "itemPriority: 45\n")
    assert [f["path"] for f in report["objects"][0]["fields"]] == [
        "/_experience/decisioning/decisionitem/itemPriority"
    ]
    _clean(sandbox)


UI_MODEL = {"operator": "equals", "value": {"left": "_reconciler.category", "right": "outdoor"}}


@pytest.mark.parametrize(
    "stored",
    [
        pytest.param(json.dumps(UI_MODEL, separators=(",", ":"), sort_keys=True), id="compact"),
        pytest.param(json.dumps(UI_MODEL), id="spaced-by-the-ui"),
    ],
)
def test_an_item_collection_s_ui_model_is_written_as_yaml_one_line_changed(
    tmp_path: Path, stored: str
) -> None:
    sandbox = _applied(tmp_path)
    before = _text(sandbox, TRAVEL)
    _patch(
        sandbox,
        Kind.ITEM_COLLECTION,
        TRAVEL,
        [{"op": "replace", "path": "/constraints/0/uiModel", "value": stored}],
    )
    report = _pulled(sandbox)
    assert _text(sandbox, TRAVEL) == _replace(before, "right: travel\n", "right: outdoor\n")
    assert report["objects"][0]["fields"] == [
        {
            "op": "replace",
            "path": "/constraints/0/uiModel/value/right",
            "git": "travel",
            "live": "outdoor",
        }
    ]
    _clean(sandbox)


def test_a_formula_s_return_type_read_back_upper_case_is_not_an_edit(tmp_path: Path) -> None:
    # Adobe reads `returnType.type` back upper-case: git's lower-case text stays.
    sandbox = _applied(tmp_path)
    before = _text(sandbox, "decisioning/formulas/margin-first")
    _patch(
        sandbox,
        Kind.RANKING_FORMULA,
        "decisioning/formulas/margin-first",
        [{"op": "replace", "path": "/description", "value": "Margin, then priority"}],
    )
    _pulled(sandbox)
    assert _text(sandbox, "decisioning/formulas/margin-first") == _replace(
        before,
        "description: Ranks decision items by their margin, then by priority\n",
        "description: Margin, then priority\n",
    )
    _clean(sandbox)


# --- references -----------------------------------------------------------------------------


def test_a_reference_changed_in_the_ui_to_another_managed_object_stays_a_reference(
    tmp_path: Path,
) -> None:
    sandbox = _applied(tmp_path)
    key = "decisioning/strategies/apparel-by-priority"
    before = _text(sandbox, key)
    travel = _id(sandbox, TRAVEL)
    _patch(
        sandbox,
        Kind.SELECTION_STRATEGY,
        key,
        [{"op": "replace", "path": "/optionSelection/filter", "value": travel}],
    )
    _pulled(sandbox)
    assert _text(sandbox, key) == _replace(
        before,
        "  filter: {ref: decisioning/collections/winter-apparel}\n",
        "  filter: {ref: decisioning/collections/winter-travel}\n",
    )
    _clean(sandbox)


def test_a_list_item_changed_in_the_middle_changes_one_line(tmp_path: Path) -> None:
    sandbox = _applied(tmp_path)
    key = "summer/free-shipping"
    before = _text(sandbox, key)
    ids = [_id(sandbox, "tags/summer"), _id(sandbox, "tags/clearance")]
    _patch(
        sandbox,
        Kind.PERSONALIZED_OFFER,
        key,
        [{"op": "replace", "path": "/tags", "value": ids}],  # type: ignore[dict-item]
    )
    _pulled(sandbox)
    after = _text(sandbox, key)
    assert after == _replace(before, "  - {ref: tags/shipping}\n", "  - {ref: tags/clearance}\n")
    _clean(sandbox)


def test_a_removed_field_goes_with_its_comment_lines(tmp_path: Path) -> None:
    text = _replace(
        (Path(__file__).resolve().parent.parent / "offers" / f"{SALE}.yaml").read_text(),
        "description: Sixty percent off the summer range for gold members\n",
        "# Shown in the UI's offer list only.\n"
        "description: Sixty percent off the summer range for gold members\n",
    )
    sandbox = _applied(tmp_path, files={SALE: text})
    _patch(sandbox, Kind.PERSONALIZED_OFFER, SALE, [{"op": "remove", "path": "/description"}])
    report = _pulled(sandbox)
    assert _text(sandbox, SALE) == _replace(
        text,
        "# Shown in the UI's offer list only.\n"
        "description: Sixty percent off the summer range for gold members\n",
        "",
    )
    assert report["objects"][0]["fields"] == [
        {
            "op": "remove",
            "path": "/description",
            "git": "Sixty percent off the summer range for gold members",
            "live": None,
        }
    ]
    _clean(sandbox)


# --- deletions ------------------------------------------------------------------------------


FREQUENCY = "adobe/frequency-example"


def test_an_object_deleted_in_the_ui_is_reported_and_its_file_kept(tmp_path: Path) -> None:
    sandbox = _applied(tmp_path)
    before = _text(sandbox, FREQUENCY)
    _delete(sandbox, Kind.PERSONALIZED_OFFER, FREQUENCY)
    done = sandbox.run("pull")
    assert done.exit_code == 2, done.output
    assert (
        f'  - personalized-offer {FREQUENCY} "Test personalized offer with frequency '
        f'constraint" deleted outside git ({_id(sandbox, FREQUENCY)}): offers/{FREQUENCY}.yaml '
        "kept (`--deletions` deletes it)"
    ) in done.stdout.splitlines()
    assert _text(sandbox, FREQUENCY) == before
    assert FREQUENCY in _state(sandbox)["objects"]


def test_with_deletions_the_file_is_deleted_and_the_object_forgotten(tmp_path: Path) -> None:
    sandbox = _applied(tmp_path)
    _delete(sandbox, Kind.PERSONALIZED_OFFER, FREQUENCY)
    report = _pulled(sandbox, "--deletions")
    assert [(d["key"], d["forgotten"]) for d in report["deleted"]] == [(FREQUENCY, True)]
    assert not _path(sandbox, FREQUENCY).exists()
    assert FREQUENCY not in _state(sandbox)["objects"]
    assert sandbox.run("validate").exit_code == 0
    _clean(sandbox)


def test_a_deleted_object_that_a_file_still_refers_to_keeps_its_file(tmp_path: Path) -> None:
    # The UI takes the tag off its offer, then deletes it (Adobe refuses to delete a tag in use).
    sandbox = _applied(tmp_path)
    offer = "summer/free-shipping"
    _patch(
        sandbox,
        Kind.PERSONALIZED_OFFER,
        offer,
        [{"op": "replace", "path": "/tags", "value": [_id(sandbox, "tags/summer")]}],
    )
    _delete(sandbox, Kind.TAG, "tags/shipping")
    # The offer is not pulled: its file still names the tag, so the tag's file stays.
    report = _pulled(sandbox, "--deletions", "tags/shipping")
    assert [(d["key"], d["referenced_by"], d["forgotten"]) for d in report["deleted"]] == [
        ("tags/shipping", [offer], False)
    ]
    assert _path(sandbox, "tags/shipping").exists()
    assert "tags/shipping" in _state(sandbox)["objects"]
    # Pulled together, the offer lets go of the tag and the tag's file goes.
    report = _pulled(sandbox, "--deletions")
    assert [(d["key"], d["referenced_by"], d["forgotten"]) for d in report["deleted"]] == [
        ("tags/shipping", [], True)
    ]
    assert not _path(sandbox, "tags/shipping").exists()
    assert "  - {ref: tags/shipping}\n" not in _text(sandbox, offer)
    assert sandbox.run("validate").exit_code == 0
    _clean(sandbox)


# --- dry run, selection, ignore rules, conflicts ----------------------------------------------


def test_dry_run_prints_the_unified_diff_and_writes_nothing(tmp_path: Path) -> None:
    sandbox = _applied(tmp_path)
    _patch(
        sandbox,
        Kind.PERSONALIZED_OFFER,
        SALE,
        [{"op": "replace", "path": "/rank/priority", "value": 70}],
    )
    _delete(sandbox, Kind.PERSONALIZED_OFFER, FREQUENCY)  # reported, not in the diff
    state = (sandbox.root / "state" / "local.json").read_text()
    before = _text(sandbox, SALE)
    done = sandbox.run("pull", "--dry-run")
    assert done.exit_code == 2, done.output
    assert done.stdout == (
        f"--- a/offers/{SALE}.yaml\n"
        f"+++ b/offers/{SALE}.yaml\n"
        "@@ -24,7 +24,7 @@\n"
        "   profileConstraintType: eligibilityRule\n"
        "   eligibilityRule: {ref: rules/gold-members}\n"
        " rank:\n"
        "-  priority: 50\n"
        "+  priority: 70\n"
        " frequencyCappingConstraints:\n"
        "   - enabled: true\n"
        "     limit: 3\n"
    )
    assert "Dry run: nothing written." in done.stderr
    assert _text(sandbox, SALE) == before
    assert (sandbox.root / "state" / "local.json").read_text() == state


def test_dry_run_with_deletions_shows_the_file_deleted(tmp_path: Path) -> None:
    sandbox = _applied(tmp_path)
    _delete(sandbox, Kind.PERSONALIZED_OFFER, FREQUENCY)
    text = _text(sandbox, FREQUENCY)
    done = sandbox.run("pull", "--dry-run", "--deletions")
    assert done.exit_code == 2, done.output
    removed = "".join(f"-{line}\n" for line in text.splitlines())
    count = len(text.splitlines())
    assert done.stdout == (
        f"--- a/offers/{FREQUENCY}.yaml\n+++ /dev/null\n@@ -1,{count} +0,0 @@\n{removed}"
    )
    assert _path(sandbox, FREQUENCY).exists()


def test_keys_select_what_is_pulled(tmp_path: Path) -> None:
    sandbox = _applied(tmp_path)
    _patch(
        sandbox,
        Kind.PERSONALIZED_OFFER,
        SALE,
        [{"op": "replace", "path": "/rank/priority", "value": 70}],
    )
    item = "/_experience/decisioning/decisionitem/itemPriority"
    _patch(sandbox, Kind.DECISION_ITEM, COAT, [{"op": "replace", "path": item, "value": 45}])
    coat = _text(sandbox, COAT)
    report = _pulled(sandbox, "summer/*")
    assert [o["key"] for o in report["objects"]] == [SALE]
    assert _text(sandbox, COAT) == coat
    assert sandbox.run("drift").exit_code == 2  # the item still drifts
    report = _pulled(sandbox, COAT)
    assert [o["key"] for o in report["objects"]] == [COAT]
    _clean(sandbox)


def test_a_key_no_object_has_is_an_error(tmp_path: Path) -> None:
    sandbox = _applied(tmp_path)
    done = sandbox.run("pull", "summer/sale-06")
    assert done.exit_code == 1
    assert done.stderr == (
        "Error: summer/sale-06: no object managed in sandbox local has this key (see "
        "`reconciler state list --sandbox local`)\n"
    )


def test_ignored_fields_are_not_pulled(tmp_path: Path) -> None:
    config = EMBEDDED_CONFIG + "ignore:\n  personalized-offer: [/rank/priority]\n"
    sandbox = _applied(tmp_path, config=config)
    before = _text(sandbox, SALE)
    _patch(
        sandbox,
        Kind.PERSONALIZED_OFFER,
        SALE,
        [{"op": "replace", "path": "/rank/priority", "value": 70}],
    )
    done = sandbox.run("pull")
    assert done.exit_code == 0, done.output
    assert done.stdout.startswith("Nothing to pull: the 30 managed objects")
    _patch(
        sandbox,
        Kind.PERSONALIZED_OFFER,
        SALE,
        [{"op": "replace", "path": "/status", "value": "draft"}],
    )
    report = _pulled(sandbox)
    assert [f["path"] for f in report["objects"][0]["fields"]] == ["/status"]
    assert _text(sandbox, SALE) == _replace(before, "status: approved\n", "status: draft\n")
    assert _state(sandbox)["objects"][SALE]["applied"]["rank"] == {"priority": 70}
    _clean(sandbox)


def test_a_field_changed_in_git_and_in_the_ui_keeps_git_s_value(tmp_path: Path) -> None:
    sandbox = _applied(tmp_path)
    _patch(
        sandbox,
        Kind.PERSONALIZED_OFFER,
        SALE,
        [
            {"op": "replace", "path": "/rank/priority", "value": 70},
            {"op": "replace", "path": "/status", "value": "draft"},
        ],
    )
    edited = _replace(_text(sandbox, SALE), "  priority: 50\n", "  priority: 90\n")
    _path(sandbox, SALE).write_text(edited)
    report = _pulled(sandbox)
    (pulled,) = report["objects"]
    assert pulled["fields"] == [
        {"op": "replace", "path": "/status", "git": "approved", "live": "draft"}
    ]
    assert pulled["conflicts"] == [{"path": "/rank/priority", "git": 90, "applied": 50, "live": 70}]
    assert _text(sandbox, SALE) == _replace(edited, "status: approved\n", "status: draft\n")
    # The conflict still shows: drift reports it, and the plan reverts the UI's edit.
    assert sandbox.run("drift").exit_code == 2
    plan = json.loads(sandbox.run("plan", "--format", "json").stdout)
    (change,) = plan["changes"]
    assert [(op["path"], op["value"]) for op in change["patch"] if op["op"] != "test"] == [
        ("/rank/priority", 90)
    ]


def test_nothing_to_pull_exits_0(tmp_path: Path) -> None:
    sandbox = _applied(tmp_path)
    done = sandbox.run("pull")
    assert (done.exit_code, done.stdout) == (
        0,
        "Nothing to pull: the 30 managed objects in sandbox 'local' are as git last applied "
        "them.\n",
    )


# --- per-sandbox overrides ------------------------------------------------------------------


def test_a_field_the_sandbox_overrides_is_written_in_its_override(tmp_path: Path) -> None:
    text = (
        Path(__file__).resolve().parent.parent / "offers" / f"{SALE}.yaml"
    ).read_text() + "overrides:\n  local:\n    rank: {priority: 5}   # low in the sandbox\n"
    sandbox = _applied(tmp_path, files={SALE: text})
    _patch(
        sandbox,
        Kind.PERSONALIZED_OFFER,
        SALE,
        [
            {"op": "replace", "path": "/rank/priority", "value": 7},
            {"op": "replace", "path": "/status", "value": "draft"},
        ],
    )
    report = _pulled(sandbox)
    assert _text(sandbox, SALE) == _replace(
        _replace(text, "status: approved\n", "status: draft\n"),
        "    rank: {priority: 5}   # low in the sandbox\n",
        "    rank: {priority: 7}   # low in the sandbox\n",
    )
    assert report["objects"][0]["fields"] == [
        {"op": "replace", "path": "/overrides/local/rank/priority", "git": 5, "live": 7},
        {"op": "replace", "path": "/status", "git": "approved", "live": "draft"},
    ]
    _clean(sandbox)


def test_a_field_the_override_sets_and_the_ui_removed_becomes_null_there(tmp_path: Path) -> None:
    text = (
        Path(__file__).resolve().parent.parent / "offers" / f"{SALE}.yaml"
    ).read_text() + "overrides:\n  local:\n    description: Only in the sandbox\n"
    sandbox = _applied(tmp_path, files={SALE: text})
    _patch(sandbox, Kind.PERSONALIZED_OFFER, SALE, [{"op": "remove", "path": "/description"}])
    _pulled(sandbox)
    assert _text(sandbox, SALE) == _replace(
        text, "    description: Only in the sandbox\n", "    description: null\n"
    )
    _clean(sandbox)


SALE_TEXT = (Path(__file__).resolve().parent.parent / "offers" / f"{SALE}.yaml").read_text()


@pytest.mark.parametrize(
    ("override", "removed", "pulled", "fields"),
    [
        pytest.param(
            "    rank: {priority: 5}   # low in the sandbox\n",
            "/rank",
            "    rank: null            # low in the sandbox\n",  # the comment keeps its column
            [
                {
                    "op": "replace",
                    "path": "/overrides/local/rank",
                    "git": {"priority": 5},
                    "live": None,
                }
            ],
            id="a mapping the override writes whole",
        ),
        pytest.param(
            "    characteristics: {team: web}\n",
            "/characteristics",
            "    characteristics: null\n",
            [
                {
                    "op": "replace",
                    "path": "/overrides/local/characteristics",
                    "git": {"team": "web"},
                    "live": None,
                }
            ],
            id="a mapping the override adds a field to: the body's fields stay",
        ),
    ],
)
def test_a_mapping_the_override_sets_and_the_ui_removed_is_one_null_at_its_level(
    tmp_path: Path, override: str, removed: str, pulled: str, fields: list[dict[str, Any]]
) -> None:
    """Found in review: `rank: {priority: null}` merged into `rank: {}`, an invalid body."""
    text = SALE_TEXT + "overrides:\n  local:\n" + override
    sandbox = _applied(tmp_path, files={SALE: text})
    _patch(sandbox, Kind.PERSONALIZED_OFFER, SALE, [{"op": "remove", "path": removed}])
    report = _pulled(sandbox)
    assert _text(sandbox, SALE) == _replace(text, override, pulled)
    assert report["objects"][0]["fields"] == fields
    assert sandbox.run("validate").exit_code == 0
    _clean(sandbox)


def test_a_field_the_override_removes_and_the_ui_put_back_is_pulled_into_the_override(
    tmp_path: Path,
) -> None:
    text = SALE_TEXT + "overrides:\n  local:\n    description: null   # not in the sandbox\n"
    sandbox = _applied(tmp_path, files={SALE: text})
    _patch(
        sandbox,
        Kind.PERSONALIZED_OFFER,
        SALE,
        [{"op": "add", "path": "/description", "value": "Back in the sandbox"}],
    )
    report = _pulled(sandbox)
    assert _text(sandbox, SALE) == _replace(
        text,
        "    description: null   # not in the sandbox\n",
        "    description: Back in the sandbox # not in the sandbox\n",
    )
    assert report["objects"][0]["fields"] == [
        {
            "op": "replace",
            "path": "/overrides/local/description",
            "git": None,
            "live": "Back in the sandbox",
        }
    ]
    _clean(sandbox)


BLOCK_TAGS = "tags:\n  - {ref: tags/summer}\n  - {ref: tags/loyalty}\n"


@pytest.mark.parametrize(
    ("text", "old", "new"),
    [
        pytest.param(
            SALE_TEXT
            + "overrides:\n  local:\n    tags: [{ref: tags/summer}, {ref: tags/loyalty}]\n",
            "    tags: [{ref: tags/summer}, {ref: tags/loyalty}]\n",
            "    tags: [{ref: tags/summer}, {ref: tags/clearance}]\n",
            id="in an override",
        ),
        pytest.param(
            _replace(SALE_TEXT, BLOCK_TAGS, "tags: [{ref: tags/summer}, {ref: tags/loyalty}]\n"),
            "tags: [{ref: tags/summer}, {ref: tags/loyalty}]\n",
            "tags: [{ref: tags/summer}, {ref: tags/clearance}]\n",
            id="in the body",
        ),
    ],
)
def test_a_flow_list_of_references_keeps_its_braces(
    tmp_path: Path, text: str, old: str, new: str
) -> None:
    """Found in review: the edited line came back as `[ref: tags/summer, ref: tags/clearance]`."""
    sandbox = _applied(tmp_path, files={SALE: text})
    ids = [_id(sandbox, "tags/summer"), _id(sandbox, "tags/clearance")]
    _patch(
        sandbox,
        Kind.PERSONALIZED_OFFER,
        SALE,
        [{"op": "replace", "path": "/tags", "value": ids}],  # type: ignore[dict-item]
    )
    _pulled(sandbox)
    assert _text(sandbox, SALE) == _replace(text, old, new)
    _clean(sandbox)


def test_an_item_added_to_an_override_s_list_of_flow_mappings_is_a_flow_mapping(
    tmp_path: Path,
) -> None:
    web = (
        "    representations:\n"
        "      - channel: https://ns.adobe.com/xdm/channel-types/web\n"
        "        placement: {ref: placements/web-banner}\n"
        "        components:\n"
        "          - {type: html, format: text/html, language: [en-us], content: <p>Sale</p>}\n"
    )
    text = SALE_TEXT + "overrides:\n  local:\n" + web
    sandbox = _applied(tmp_path, files={SALE: text})
    french = {
        "type": "html",
        "format": "text/html",
        "language": ["fr-fr"],
        "content": "<p>Soldes</p>",
    }
    _patch(
        sandbox,
        Kind.PERSONALIZED_OFFER,
        SALE,
        [{"op": "add", "path": "/representations/0/components/-", "value": french}],
    )
    _pulled(sandbox)
    assert _text(sandbox, SALE) == text + (
        "          - {type: html, format: text/html, language: [fr-fr], content: <p>Soldes</p>}\n"
    )
    _clean(sandbox)


# --- what pull leaves in place ----------------------------------------------------------------

PROD = """\
  prod:
    endpoint: https://platform.adobe.io/data/core/dps
    ims: https://ims-na1.adobelogin.com/ims/token/v3
    org: 1234ABCD@AdobeOrg
"""
PRIORITY_POLICY = """\
policies:
  - name: summer-priority
    severity: error
    kinds: [personalized-offer]
    keys: [summer/*]
    check: {range: {field: rank.priority, min: 0, max: 60}}
"""


@pytest.mark.parametrize(
    ("config", "text", "edit", "why"),
    [
        pytest.param(
            EMBEDDED_CONFIG + PROD,
            SALE_TEXT + "overrides:\n  prod:\n    selectionConstraint:\n"
            '      endDate: "2027-07-01T00:00:00.000Z"\n',
            {
                "op": "replace",
                "path": "/selectionConstraint/startDate",
                "value": "2027-07-15T00:00:00.000Z",
            },
            f"offers/{SALE}.yaml:48:16: in sandbox prod: selectionConstraint.endDate: "
            "2027-07-01T00:00:00.000Z is not after startDate 2027-07-15T00:00:00.000Z: the end "
            "must come after the start",
            id="another sandbox's body would be invalid",
        ),
        pytest.param(
            EMBEDDED_CONFIG + PRIORITY_POLICY,
            SALE_TEXT,
            {"op": "replace", "path": "/rank/priority", "value": 70},
            f"offers/{SALE}.yaml:27:13: rank.priority: 70 is above the maximum 60 (policy "
            "summer-priority)",
            id="a team policy of severity error would fail",
        ),
    ],
)
def test_an_edit_validate_would_refuse_is_not_pulled_and_the_others_are(
    tmp_path: Path, config: str, text: str, edit: dict[str, JsonValue], why: str
) -> None:
    sandbox = _applied(tmp_path, config=config, files={SALE: text})
    _patch(sandbox, Kind.PERSONALIZED_OFFER, SALE, [edit])
    item = "/_experience/decisioning/decisionitem/itemPriority"
    _patch(sandbox, Kind.DECISION_ITEM, COAT, [{"op": "replace", "path": item, "value": 45}])
    entry = _state(sandbox)["objects"][SALE]
    coat = _text(sandbox, COAT)
    done = sandbox.run("pull")
    assert done.exit_code == 2, done.output
    refused = f"the edited file would not validate: {why}"
    assert f"  ! {SALE} (offers/{SALE}.yaml) not written, nor recorded: {refused}" in (
        done.stdout.splitlines()
    )
    assert _text(sandbox, SALE) == text
    assert _state(sandbox)["objects"][SALE] == entry
    assert _text(sandbox, COAT) == _replace(coat, "itemPriority: 40\n", "itemPriority: 45\n")
    report = _pulled(sandbox)  # again: only the refused edit is left
    assert (report["objects"], report["refused"], report["files"]) == (
        [],
        [{"key": SALE, "path": f"offers/{SALE}.yaml", "reason": refused}],
        [],
    )
    drift = json.loads(sandbox.run("drift", "--format", "json").stdout)
    assert [o["key"] for o in drift["objects"]] == [SALE]


@pytest.mark.parametrize(
    ("outside_git", "lines"),
    [
        pytest.param(
            "changed",
            [
                "Nothing pulled from sandbox 'local' into offers/:",
                "",
                f'  ~ personalized-offer {FREQUENCY} "Test personalized offer with frequency '
                f'constraint" changed outside git by {MARKETER} at <when>, not pulled: no file '
                f"in git defines it (restore offers/{FREQUENCY}.yaml and pull again, or stop "
                f"managing it with `reconciler state rm {FREQUENCY}`)",
                "      ~ /rank/priority: 0 -> 3",
                "",
            ],
            id="a drifted orphan",
        ),
        pytest.param(
            "deleted",
            [
                "Nothing pulled from sandbox 'local' into offers/:",
                "",
                f'  - personalized-offer {FREQUENCY} "Test personalized offer with frequency '
                'constraint" deleted outside git (<id>): no file in git (`--deletions` forgets '
                "its state entry)",
                "",
            ],
            id="an orphan deleted outside git",
        ),
    ],
)
def test_an_orphan_s_drift_is_reported_not_pulled(
    tmp_path: Path, outside_git: str, lines: list[str]
) -> None:
    """Found in review: a drifted orphan alone read "Nothing to pull", exit 0."""
    sandbox = _applied(tmp_path)
    object_id = _id(sandbox, FREQUENCY)
    if outside_git == "changed":
        _patch(
            sandbox,
            Kind.PERSONALIZED_OFFER,
            FREQUENCY,
            [{"op": "replace", "path": "/rank/priority", "value": 3}],
        )
    else:
        _delete(sandbox, Kind.PERSONALIZED_OFFER, FREQUENCY)
    _path(sandbox, FREQUENCY).unlink()
    state = _state(sandbox)
    done = sandbox.run("pull")
    assert done.exit_code == 2, done.output
    shown = [re.sub(r" at \S+Z,", " at <when>,", line) for line in done.stdout.splitlines()]
    assert shown == [line.replace("<id>", object_id) for line in lines]
    assert not _path(sandbox, FREQUENCY).exists()
    assert _state(sandbox) == state
    report = _pulled(sandbox)
    assert [(o["key"], o["id"], o["by"], o["fields"]) for o in report["orphans"]] == (
        [
            (
                FREQUENCY,
                object_id,
                MARKETER,
                [{"op": "replace", "path": "/rank/priority", "git": 0, "live": 3}],
            )
        ]
        if outside_git == "changed"
        else []
    )
    body = sandbox.run("pull", "--format", "markdown").stdout
    assert pull_report.LEFT in body  # the drift workflow reports what pull left


# --- the pull request body ------------------------------------------------------------------


def _done(objects: tuple[ObjectPull, ...], *, dry_run: bool = False) -> Pulled:
    return Pulled(Pull("prod", objects, (), 30), (), (), dry_run)


def test_the_pull_request_body_names_who_changed_what_and_when() -> None:
    pulled = ObjectPull(
        key=Key(SALE),
        kind=Kind.PERSONALIZED_OFFER,
        name="Summer sale 60%",
        path=f"offers/{SALE}.yaml",
        fields=(FieldPull(Op.REPLACE, "/rank/priority", 50, 70),),
        edits=(Edit(("rank", "priority"), 70),),
        applied={},
        etag=None,
        by="marketer@example.com",
        at="2027-06-03T14:12:09.000Z",
    )
    body = pull_report.pull_markdown(_done((pulled,)))
    assert body.splitlines()[:8] == [
        "<!-- reconciler:pull:prod -->",
        "### reconciler pull: sandbox `prod`",
        "",
        "**Edits made outside git to 1 object, written into `offers/`.** Merge this pull "
        "request to accept them; close it to reject them (the next apply then reverts them, "
        "as the plan of any pull request shows).",
        "",
        "| Object | Kind | Fields | Who | When |",
        "|---|---|---|---|---|",
        f"| `{SALE}` | personalized-offer | `/rank/priority` | marketer@example.com | "
        "2027-06-03T14:12:09.000Z |",
    ]
    assert "~ /rank/priority: 50 -> 70" in body
    assert len(pull_report.pull_markdown(_done((pulled,) * 2000))) <= pull_report.BODY_LIMIT


def test_a_change_git_and_the_ui_agree_on_moves_the_baseline_and_leaves_the_file(
    tmp_path: Path,
) -> None:
    """Found in review: pull said "nothing to pull" and drift and plan stayed dirty."""
    sandbox = _applied(tmp_path, files={SALE: COMMENTED_SALE})
    _patch(
        sandbox,
        Kind.PERSONALIZED_OFFER,
        SALE,
        [{"op": "replace", "path": "/rank/priority", "value": 70}],
    )
    path = _path(sandbox, SALE)
    path.write_text(_replace(path.read_text(), "priority: 50", "priority: 70"))
    before = _text(sandbox, SALE)
    done = sandbox.run("pull", "--format", "json")
    assert _text(sandbox, SALE) == before
    assert _state(sandbox)["objects"][SALE]["applied"]["rank"] == {"priority": 70}
    assert done.exit_code == 2, done.output  # something was recorded: drift there was
    _clean(sandbox)


def test_with_deletions_a_protected_object_s_file_is_kept(tmp_path: Path) -> None:
    """Found in review: the drift pull request (pull --deletions) deleted a protected file."""
    sandbox = _applied(tmp_path)
    path = _path(sandbox, FREQUENCY)
    path.write_text(path.read_text() + "protect: true\n")
    assert sandbox.run("apply", "--auto-approve").exit_code == 0  # records the protection
    _delete(sandbox, Kind.PERSONALIZED_OFFER, FREQUENCY)
    before = path.read_text()
    done = sandbox.run("pull", "--deletions")
    assert done.exit_code == 2, done.output
    assert path.read_text() == before
    assert FREQUENCY in _state(sandbox)["objects"]
    lines = [line for line in done.output.splitlines() if "deleted outside git" in line]
    assert len(lines) == 1
    assert lines[0].endswith(
        ": kept, protected (a plan refuses to re-create it: restore it in Adobe, or lift the "
        "protection or `reconciler state rm` it to let it go)"
    )
