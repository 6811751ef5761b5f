"""`reconciler migrate --to decisioning`: the mapping table, the transform, the report, the files."""

from __future__ import annotations

import json
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Union, get_args, get_origin

import pytest
from click.testing import CliRunner, Result
from conftest import ROOT, Sandbox, make_repo
from pydantic import BaseModel

from reconciler import documents, fields, migration, migration_report, offerfiles, schema
from reconciler.cli import cli
from reconciler.emulator.app import create_app
from reconciler.migration import (
    FOLDERS,
    LEGACY,
    ROWS,
    TARGETS,
    FileStatus,
    MigrationError,
    covers,
    row_for,
)
from reconciler.migration_row import NO_AUDIENCES
from reconciler.model import Desired, Key, Kind, Ref, Source

OUT = "decisioning-migrated"


def run(root: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["-C", str(root), *args])


def tree(root: Path) -> dict[str, bytes]:
    """Every file under offers/ and state/, with its bytes."""
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for folder in ("offers", "state")
        for path in sorted((root / folder).rglob("*"))
        if path.is_file()
    }


def generated(root: Path) -> dict[str, bytes]:
    return {k: v for k, v in tree(root).items() if k.startswith(f"offers/{OUT}/")}


def load(root: Path) -> list[Any]:
    return list(documents.load(root))


def small_repo(tmp_path: Path, files: dict[str, str]) -> Path:
    root = make_repo(tmp_path / "repo", estate=False)
    for name, text in files.items():
        path = root / "offers" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


PLACEMENT = """\
kind: placement
name: Web banner
componentType: html
channel: https://ns.adobe.com/xdm/channel-types/web
"""
RULE = """\
kind: decision-rule
name: Gold members
condition: {type: PQL, format: pql/text, value: 'loyalty.tier.equals("gold", false)'}
"""
TAG = "kind: tag\nname: Summer\n"


def offer(name: str, *, kind: str = "personalized-offer", extra: str = "") -> str:
    constraint = (
        "selectionConstraint:\n  profileConstraintType: none\n"
        if kind == "personalized-offer"
        else ""
    )
    return (
        f"kind: {kind}\nname: {name}\nstatus: approved\n"
        "representations:\n"
        "  - channel: https://ns.adobe.com/xdm/channel-types/web\n"
        "    placement: {ref: web}\n"
        "    components: [{type: html, format: text/html, content: <p>hi</p>}]\n"
        f"{constraint}{extra}"
    )


# --- the example estate -------------------------------------------------------------------------

EXPECTED_KEYS = {
    f"{OUT}/collections/clearance-collection",
    f"{OUT}/collections/summer-collection",
    f"{OUT}/formulas/formulas-loyalty-boost",
    f"{OUT}/items/adobe-frequency-example",
    f"{OUT}/items/clearance-last-chance",
    f"{OUT}/items/fallback-default",
    f"{OUT}/items/summer-california-vip",
    f"{OUT}/items/summer-free-shipping",
    f"{OUT}/items/summer-sale-60",
    f"{OUT}/placements/placements-app-card",
    f"{OUT}/placements/placements-email-body",
    f"{OUT}/placements/placements-web-banner",
    f"{OUT}/rules/rules-californians",
    f"{OUT}/rules/rules-gold-members",
    f"{OUT}/strategies/decisions-home-page-1",
    f"{OUT}/strategies/decisions-home-page-2",
}

SALE_60 = f"""\
# yaml-language-server: $schema=../../../reconciler/offers.schema.json
# Written by reconciler migrate --to decisioning, from the legacy summer/sale-60
kind: decision-item
_experience:
  decisioning:
    offeritem:
      lifecycleStatus: approved
    decisionitem:
      itemName: Summer sale 60%
      itemDescription: Sixty percent off the summer range for gold members
      itemPriority: 50
      itemCalendarConstraints:
        startDate: '2027-06-01T00:00:00.000Z'
        endDate: '2027-08-31T23:59:59.000Z'
      itemConstraints:
        profileConstraintType: eligibilityRule
        eligibilityRule: {{ref: {OUT}/rules/rules-gold-members}}
_reconciler:
  migratedofferattributes:
    campaign: summer-2027
    discount: '60'
  migratedtags:
    - Summer 2027
    - Loyalty members
"""

STRATEGY_2 = f"""\
# yaml-language-server: $schema=../../../reconciler/offers.schema.json
# Written by reconciler migrate --to decisioning, from the legacy decisions/home-page
kind: selection-strategy
name: Home page, newsletter and app, summer 2027 (criterion 2)
description: Picks the summer offers for the home page banner, the newsletter and the app card
rank:
  priority: 1
  order:
    orderEvaluationType: scoringFunction
    function: {{ref: {OUT}/formulas/formulas-loyalty-boost}}
profileConstraint:
  profileConstraintType: none
optionSelection:
  filter: {{ref: {OUT}/collections/clearance-collection}}
"""

ITEM = "_experience.decisioning.decisionitem."
CAPPING = next(row for row in ROWS if row.legacy_path == "frequencyCappingConstraints")
CONTENT = next(row for row in ROWS if row.legacy_path == "representations")
SALE_60_REPORT = {
    "key": "summer/sale-60",
    "kind": "personalized-offer",
    "file": "offers/summer/sale-60.yaml",
    "pulled_in_by": [],
    "targets": [
        {
            "key": f"{OUT}/items/summer-sale-60",
            "kind": "decision-item",
            "name": "Summer sale 60%",
            "file": f"offers/{OUT}/items/summer-sale-60.yaml",
            "status": "create",
        }
    ],
    "migrated": [
        {
            "field": field,
            "to": "decision-item",
            "path": path,
            "how": how,
            "source": source,
        }
        for field, path, how, source in (
            ("name", ITEM + "itemName", "copied", "api-reference/decisions-items/create.md"),
            (
                "description",
                ITEM + "itemDescription",
                "copied",
                "api-reference/decisions-items/create.md",
            ),
            (
                "status",
                "_experience.decisioning.offeritem.lifecycleStatus",
                "copied (draft, approved, archived in both models)",
                "api-reference/decisions-items/create.md",
            ),
            (
                "selectionConstraint.startDate",
                ITEM + "itemCalendarConstraints.startDate",
                "copied",
                "api-reference/decisions-items/create.md",
            ),
            (
                "selectionConstraint.endDate",
                ITEM + "itemCalendarConstraints.endDate",
                "copied",
                "api-reference/decisions-items/create.md",
            ),
            (
                "selectionConstraint.profileConstraintType",
                ITEM + "itemConstraints.profileConstraintType",
                "copied",
                "api-reference/decisions-items/create.md",
            ),
            (
                "selectionConstraint.eligibilityRule",
                ITEM + "itemConstraints.eligibilityRule",
                "a reference to the migrated eligibility rule",
                "api-reference/decisions-items/create.md",
            ),
            (
                "rank.priority",
                ITEM + "itemPriority",
                "copied (0 when the offer has no rank)",
                "api-reference/decisions-items/create.md",
            ),
            (
                "characteristics",
                "_reconciler.migratedofferattributes",
                "copied as a custom attribute of the item, where Adobe's Migration API keeps them",
                "decisioning-migration-api.md: Additional Attributes",
            ),
            (
                "tags",
                "_reconciler.migratedtags",
                "the names of the offer's tags, which item collections select on (Adobe's "
                "Migration API makes Unified Tags, which the Offer Library API does not manage)",
                "collections.md",
            ),
        )
    ],
    "not_migrated": [
        {"field": "representations", "reason": CONTENT.reason, "source": CONTENT.source},
        {
            "field": "frequencyCappingConstraints",
            "reason": CAPPING.reason,
            "source": CAPPING.source,
        },
    ],
    "notes": [],
}


def test_the_example_estate_migrates_with_a_complete_report(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo")
    before = tree(root)
    done = run(root, "migrate", "--to", "decisioning", "--format", "json")
    assert done.exit_code == 0, done.output
    assert done.stderr == (
        f"Wrote 16 files under offers/{OUT}/ (0 unchanged); the legacy files are untouched: "
        "review, commit, and run reconciler plan.\n"
    )
    after = tree(root)
    # the legacy files are untouched; only new files appear, all under the output folder
    assert {k: v for k, v in after.items() if k in before} == before
    written = {
        key.removeprefix("offers/").removesuffix(".yaml") for key in set(after) - set(before)
    }
    assert written == EXPECTED_KEYS
    assert after[f"offers/{OUT}/items/summer-sale-60.yaml"].decode() == SALE_60
    assert after[f"offers/{OUT}/strategies/decisions-home-page-2.yaml"].decode() == STRATEGY_2

    report = json.loads(done.stdout)
    by_key = {item["key"]: item for item in report["objects"]}
    assert by_key["summer/sale-60"] == SALE_60_REPORT
    legacy = sorted(str(item.key) for item in documents.load(ROOT) if migration.is_legacy(item))
    assert sorted(by_key) == legacy  # every legacy object is in the report
    assert report["summary"] == {
        "objects": len(legacy),
        "pulled_in": 0,
        "definitions": 16,
        "create": 16,
        "unchanged": 0,
        "overwrite": 0,
        "conflict": 0,
        "not_migrated": sum(len(item["not_migrated"]) for item in report["objects"]),
    }
    assert (report["format_version"], report["to"], report["out"], report["tenant"]) == (
        1,
        "decisioning",
        f"offers/{OUT}",
        "_reconciler",
    )
    # every field of every legacy file is in the report, migrated or not
    for item in documents.load(ROOT):
        if not migration.is_legacy(item):
            continue
        reported = [f["field"] for f in by_key[item.key]["migrated"]] + [
            f["field"] for f in by_key[item.key]["not_migrated"]
        ]
        for path in migration.field_paths(item.body):
            assert any(path == f or path.startswith((f + ".", f + "[")) for f in reported), (
                item.key,
                path,
            )


def test_the_decision_becomes_one_strategy_per_criterion_with_the_next_step(
    tmp_path: Path,
) -> None:
    root = make_repo(tmp_path / "repo")
    done = run(root, "migrate", "--to", "decisioning", "--format", "json")
    report = {item["key"]: item for item in json.loads(done.stdout)["objects"]}
    decision = report["decisions/home-page"]
    assert [t["key"] for t in decision["targets"]] == [
        f"{OUT}/strategies/decisions-home-page-1",
        f"{OUT}/strategies/decisions-home-page-2",
    ]
    assert [f["field"] for f in decision["not_migrated"]] == [
        "status",
        "startDate",
        "endDate",
        "fallback",
        "criteria[].placements",
    ]
    assert decision["notes"] == [
        "next step: a decision policy in the campaign or journey that shows these placements "
        "evaluates the selection strategies in this order: Home page, newsletter and app, summer "
        "2027 (criterion 1) (placements: 'Web hero banner', 'Newsletter body'); Home page, "
        "newsletter and app, summer 2027 (criterion 2) (placements: 'Mobile app card'); its "
        "fallback item is 'Everyone gets free returns' (create-decision-policy.md)"
    ]
    formula = report["formulas/loyalty-boost"]
    assert formula["targets"][0]["name"] == "Loyalty boost (Decisioning)"
    assert formula["notes"][0] == (
        f"{OUT}/formulas/formulas-loyalty-boost is named 'Loyalty boost (Decisioning)': 'Loyalty "
        "boost' is the name of offers/formulas/loyalty-boost.yaml (names are unique per kind)"
    )


def test_migrating_twice_gives_the_same_bytes_and_rewrites_nothing(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo")
    first = run(root, "migrate", "--to", "decisioning")
    assert first.exit_code == 0, first.output
    files = generated(root)
    times = {name: (root / name).stat().st_mtime_ns for name in files}
    second = run(root, "migrate", "--to", "decisioning")
    assert second.exit_code == 0, second.output
    assert generated(root) == files
    assert {name: (root / name).stat().st_mtime_ns for name in files} == times
    assert "Files: 0 to create, 16 unchanged, 0 to overwrite, 0 that differ" in second.stdout
    # the report of the second run differs only in the statuses
    assert first.stdout.replace("  create", "  unchanged").replace("+ ", "= ") == (
        second.stdout.replace(
            "Files: 0 to create, 16 unchanged", "Files: 16 to create, 0 unchanged"
        ).replace("+ ", "= ")
    )
    # and a fresh copy of the repository migrates to the same bytes
    again = make_repo(tmp_path / "again")
    assert run(again, "migrate", "--to", "decisioning").exit_code == 0
    assert generated(again) == files


def test_the_report_is_deterministic_in_every_format(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo")
    for fmt in ("text", "markdown", "json"):
        runs = [
            run(root, "migrate", "--to", "decisioning", "--dry-run", "--format", fmt).stdout
            for _ in range(2)
        ]
        assert runs[0] == runs[1]
    markdown = run(root, "migrate", "--to", "decisioning", "--dry-run", "--format", "markdown")
    assert markdown.stdout.startswith(
        "### reconciler migrate --to decisioning\n\n**Migration to Decisioning of the whole "
        "estate: "
    )
    assert f"| `summer/sale-60` | personalized-offer | `{OUT}/items/summer-sale-60` " in (
        markdown.stdout
    )
    assert "'&lt;name> (Decisioning)'" not in markdown.stdout  # only rows that apply are listed


def test_dry_run_prints_the_report_and_writes_nothing(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo")
    before = tree(root)
    done = run(root, "migrate", "--to", "decisioning", "--dry-run")
    assert done.exit_code == 0, done.output
    assert tree(root) == before
    assert not (root / "offers" / OUT).exists()
    assert done.stdout.startswith(
        "Migration to Decisioning of the whole estate: 19 legacy objects -> 16 definitions "
        f"under offers/{OUT}/ (custom attributes under _reconciler)\n"
    )
    assert f'  + {OUT}/items/summer-sale-60  decision-item "Summer sale 60%"  create\n' in (
        done.stdout
    )
    assert "  not migrated: representations [1], frequencyCappingConstraints [2]\n" in done.stdout
    assert done.stderr == (
        f"Dry run: nothing written (16 files to write, 0 unchanged, under offers/{OUT}/).\n"
    )


def test_a_key_pulls_in_what_it_needs_and_says_so(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo")
    done = run(root, "migrate", "--to", "decisioning", "--format", "json", "decisions/home-page")
    assert done.exit_code == 0, done.output
    report = json.loads(done.stdout)
    assert report["selected"] == ["decisions/home-page"]
    pulled = {item["key"]: item["pulled_in_by"] for item in report["objects"]}
    assert pulled == {
        "clearance/collection": ["decisions/home-page"],
        "clearance/last-chance": ["clearance/collection"],
        "decisions/home-page": [],
        "fallback/default": ["decisions/home-page"],
        "formulas/loyalty-boost": ["decisions/home-page"],
        "rules/californians": ["summer/california-vip"],
        "rules/gold-members": ["summer/sale-60"],
        "summer/california-vip": ["summer/collection"],
        "summer/collection": ["decisions/home-page"],
        "summer/free-shipping": ["clearance/collection", "summer/collection"],
        "summer/sale-60": ["summer/collection"],
    }
    written = {name.removeprefix("offers/").removesuffix(".yaml") for name in generated(root)}
    assert written == EXPECTED_KEYS - {
        f"{OUT}/items/adobe-frequency-example",
        f"{OUT}/placements/placements-app-card",
        f"{OUT}/placements/placements-email-body",
        f"{OUT}/placements/placements-web-banner",
    }
    # the keys and names are those of a whole migration: the files are the same bytes
    whole = make_repo(tmp_path / "whole")
    assert run(whole, "migrate", "--to", "decisioning").exit_code == 0
    assert {k: v for k, v in generated(whole).items() if k in generated(root)} == generated(root)
    text = run(root, "migrate", "--to", "decisioning", "--dry-run", "decisions/home-page").stdout
    assert text.startswith("Migration to Decisioning of decisions/home-page and what it needs: ")
    assert "summer/sale-60 (personalized-offer, offers/summer/sale-60.yaml, pulled in by " in text
    assert (
        "Pulled in: clearance/collection, clearance/last-chance, fallback/default, "
        "formulas/loyalty-boost, rules/californians, rules/gold-members, summer/california-vip, "
        "summer/collection, summer/free-shipping, summer/sale-60.\n"
    ) in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["summer/nope"],
            "Error: summer/nope: no file defines this key (a key is the path under offers/ "
            "without .yaml)\n",
        ),
        (
            ["offers/summer/sale-60.yaml"],
            "Error: offers/summer/sale-60.yaml: no file defines this key: did you mean "
            "summer/sale-60? (a key is the path under offers/ without .yaml)\n",
        ),
        (
            ["summer/sale-6"],
            "Error: summer/sale-6: no file defines this key: did you mean summer/sale-60? (a "
            "key is the path under offers/ without .yaml)\n",
        ),
        (
            ["decisioning/items/winter-coat"],
            "Error: decisioning/items/winter-coat: a decision-item of Decisioning, not a legacy "
            "object: migrate takes tag, placement, decision-rule, ranking-formula, "
            "personalized-offer, fallback-offer, collection, decision (a ranking formula without "
            "exdFunction: true)\n",
        ),
        (
            ["--out", "elsewhere"],
            "Error: --out elsewhere: not a folder under offers/: choose a folder under offers/, "
            "such as offers/decisioning-migrated\n",
        ),
        (
            ["--out", "offers"],
            "Error: --out offers: not a folder under offers/: choose a folder under offers/, "
            "such as offers/decisioning-migrated\n",
        ),
        (
            ["--out", "offers/../state"],
            "Error: --out offers/../state: not a folder under offers/: choose a folder under "
            "offers/, such as offers/decisioning-migrated\n",
        ),
        (
            ["--out", "offers/summer/sale-60.yaml/x"],
            "Error: --out offers/summer/sale-60.yaml/x: offers/summer/sale-60.yaml is a file, "
            "not a folder: choose a folder under offers/, such as offers/decisioning-migrated\n",
        ),
        (
            ["--out", "offers/linked/x"],
            "Error: --out offers/linked/x: a symlink that leads out of offers/: choose a folder "
            "under offers/, such as offers/decisioning-migrated\n",
        ),
        (
            ["--out", "offers/.hidden"],
            "Error: --out offers/.hidden: a key is a path under offers/ such as summer/sale-60: "
            "no empty part, no leading slash, no part starting with a dot, no spaces around a "
            "part: choose a folder under offers/, such as offers/decisioning-migrated\n",
        ),
        (
            ["--tenant", "acme corp"],
            "Error: --tenant 'acme corp' is not a tenant namespace: give the org's tenant key, "
            "such as _acme (_ then letters, digits and _; not _experience, which Adobe's fields "
            "use)\n",
        ),
        (
            ["--tenant", "acme"],
            "Error: --tenant 'acme' is not a tenant namespace: give the org's tenant key, "
            "such as _acme (_ then letters, digits and _; not _experience, which Adobe's fields "
            "use)\n",
        ),
        (
            ["--tenant", "_experience"],
            "Error: --tenant '_experience' is not a tenant namespace: give the org's tenant key, "
            "such as _acme (_ then letters, digits and _; not _experience, which Adobe's fields "
            "use)\n",
        ),
        (
            ["--to", "offers"],
            "Error: Invalid value for '--to': 'offers' is not 'decisioning'. (see `cli "
            "migrate --help`)\n",
        ),
    ],
)
def test_bad_input_is_one_line_exit_1_and_writes_nothing(
    tmp_path: Path, args: list[str], message: str
) -> None:
    root = make_repo(tmp_path / "repo")
    (tmp_path / "outside").mkdir()
    if "offers/linked/x" in args:  # a link out of the repository (the loader refuses it too)
        (root / "offers" / "linked").symlink_to(tmp_path / "outside")
    before = tree(root)
    to = [] if "--to" in args else ["--to", "decisioning"]
    done = run(root, "migrate", *to, *args)
    assert (done.exit_code, done.stdout) == (1, "")
    assert done.stderr == message
    assert tree(root) == before
    assert not list((tmp_path / "outside").iterdir())


def test_a_generated_file_edited_by_hand_is_refused_unless_forced(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo")
    assert run(root, "migrate", "--to", "decisioning").exit_code == 0
    edited = root / "offers" / OUT / "items" / "summer-sale-60.yaml"
    edited.write_text(edited.read_text().replace("itemPriority: 50", "itemPriority: 70"))
    before = tree(root)
    refused = run(root, "migrate", "--to", "decisioning")
    assert refused.exit_code == 1
    assert f'  ! {OUT}/items/summer-sale-60  decision-item "Summer sale 60%"  conflict\n' in (
        refused.stdout
    )
    assert refused.stderr == (
        f"Error: 1 file under offers/{OUT}/ differs from what migrate writes (marked conflict): "
        "nothing written; review it, then pass --force to overwrite\n"
    )
    assert tree(root) == before
    # a dry run says the same, and writes nothing either
    assert run(root, "migrate", "--to", "decisioning", "--dry-run").exit_code == 1
    assert tree(root) == before
    forced = run(root, "migrate", "--to", "decisioning", "--force")
    assert forced.exit_code == 0, forced.output
    assert f'  ~ {OUT}/items/summer-sale-60  decision-item "Summer sale 60%"  overwrite\n' in (
        forced.stdout
    )
    assert edited.read_text() == SALE_60
    assert not list((root / "offers").rglob("*.tmp"))


def test_a_legacy_file_at_a_generated_key_is_never_overwritten(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo")
    clash = root / "offers" / OUT / "placements" / "placements-app-card.yaml"
    clash.parent.mkdir(parents=True)
    clash.write_text((root / "offers" / "tags" / "summer.yaml").read_text().replace("2027", "27"))
    before = tree(root)
    done = run(root, "migrate", "--to", "decisioning", "--force")
    assert done.exit_code == 1
    assert done.stderr == (
        f"Error: offers/{OUT}/placements/placements-app-card.yaml defines a tag (a legacy one), "
        "where migrate writes the exd-placement 'Mobile app card': choose another --out\n"
    )
    assert tree(root) == before


def test_the_tenant_comes_from_the_option_then_the_config(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo")
    done = run(root, "migrate", "--to", "decisioning", "--tenant", "_acme", "summer/sale-60")
    assert done.exit_code == 0, done.output
    text = (root / "offers" / OUT / "items" / "summer-sale-60.yaml").read_text()
    assert "\n_acme:\n  migratedofferattributes:\n" in text
    config = make_repo(
        tmp_path / "configured",
        config=(ROOT / "reconciler.yaml")
        .read_text()
        .replace("tenant: _reconciler", "tenant: _luma"),
    )
    assert run(config, "migrate", "--to", "decisioning", "summer/sale-60").exit_code == 0
    text = (config / "offers" / OUT / "items" / "summer-sale-60.yaml").read_text()
    assert "\n_luma:\n  migratedofferattributes:\n" in text
    bare = make_repo(
        tmp_path / "bare", config="default: local\nsandboxes:\n  local:\n    endpoint: embedded\n"
    )
    assert run(bare, "migrate", "--to", "decisioning", "summer/sale-60").exit_code == 0
    assert (
        "\n_reconciler:\n" in (bare / "offers" / OUT / "items" / "summer-sale-60.yaml").read_text()
    )


def test_another_out_folder_gives_keys_under_it(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo")
    done = run(
        root, "migrate", "--to", "decisioning", "--out", "offers/next/exd", "rules/gold-members"
    )
    assert done.exit_code == 0, done.output
    assert (root / "offers/next/exd/rules/rules-gold-members.yaml").read_text() == (
        "# yaml-language-server: $schema=../../../../reconciler/offers.schema.json\n"
        "# Written by reconciler migrate --to decisioning, from the legacy rules/gold-members\n"
        "kind: eligibility-rule\n"
        "name: Gold loyalty members\n"
        "description: Profiles in the gold tier of the loyalty programme\n"
        "exdRule: true\n"
        "condition:\n"
        "  type: PQL\n"
        "  format: pql/text\n"
        '  value: loyalty.tier.equals("gold", false)\n'
    )


def test_files_left_from_an_earlier_run_are_listed(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo")
    assert run(root, "migrate", "--to", "decisioning").exit_code == 0
    (root / "offers" / "rules" / "californians.yaml").unlink()
    (root / "offers" / "summer" / "california-vip.yaml").unlink()
    done = run(root, "migrate", "--to", "decisioning", "--format", "json")
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["stale"] == [
        f"offers/{OUT}/items/summer-california-vip.yaml",
        f"offers/{OUT}/rules/rules-californians.yaml",
    ]


def test_names_stay_unique_beside_hand_written_definitions_under_out(tmp_path: Path) -> None:
    # offers/decisioning holds hand-written definitions, one an eligibility rule "Winter shoppers"
    root = make_repo(tmp_path / "repo")
    (root / "offers" / "rules" / "winter.yaml").write_text(
        RULE.replace("Gold members", "Winter shoppers")
    )
    done = run(root, "migrate", "--to", "decisioning", "--out", "offers/decisioning")
    assert done.exit_code == 0, done.output
    migrated = (root / "offers" / "decisioning" / "rules" / "rules-winter.yaml").read_text()
    assert "\nname: Winter shoppers (Decisioning)\n" in migrated
    assert (
        "note: decisioning/rules/rules-winter is named 'Winter shoppers (Decisioning)': "
        "'Winter shoppers' is the name of offers/decisioning/rules/winter-shoppers.yaml "
        "(names are unique per kind)"
    ) in done.stdout
    checked = run(root, "validate")
    assert checked.exit_code == 0, checked.output


def test_only_migrated_files_of_gone_legacy_objects_are_stale_and_none_once_pruned(
    tmp_path: Path,
) -> None:
    root = make_repo(tmp_path / "repo")
    out = ("--out", "offers/decisioning")
    assert run(root, "migrate", "--to", "decisioning", *out).exit_code == 0
    # the hand-written files under --out are not migrate's: never listed
    done = run(root, "migrate", "--to", "decisioning", *out, "--format", "json")
    assert json.loads(done.stdout)["stale"] == []
    (root / "offers" / "rules" / "californians.yaml").unlink()
    (root / "offers" / "summer" / "california-vip.yaml").unlink()
    done = run(root, "migrate", "--to", "decisioning", *out)
    assert done.exit_code == 0, done.output
    assert (
        "Migrated by an earlier run from legacy objects that are gone, still under "
        "offers/decisioning/: offers/decisioning/items/summer-california-vip.yaml, "
        "offers/decisioning/rules/rules-californians.yaml (delete them unless they are to stay)."
    ) in done.stdout
    # pull request 2: the legacy files are pruned, the migrated ones stand alone
    for item in documents.load(root):
        if migration.is_legacy(item):
            (root / item.source.path).unlink()
    drop_legacy_decision_tests(root)
    assert run(root, "validate").exit_code == 0
    done = run(root, "migrate", "--to", "decisioning", *out)
    assert done.exit_code == 0, done.output
    assert "delete" not in done.stdout
    assert done.stdout.endswith(
        "Nothing is left to migrate: no legacy definition remains, and the Decisioning "
        "definitions stand alone.\n"
    )
    done = run(root, "migrate", "--to", "decisioning", *out, "--format", "json")
    assert json.loads(done.stdout)["stale"] == []


def drop_legacy_decision_tests(root: Path) -> None:
    """The decision tests of legacy decisions go with them (validate refuses a test of a
    decision that is gone); the tests of selection strategies stay."""
    for path in sorted((root / "offers" / "tests").glob("*.yaml")):
        if "decision: {ref: decisions/" in path.read_text():
            path.unlink()


# --- the transform on small estates -------------------------------------------------------------


def migrate(root: Path, *keys: str, tenant: str = "_reconciler") -> migration.Migration:
    return migration.migrate(
        documents.load(root), prefix=OUT, tenant=tenant, keys=[Key(k) for k in keys]
    )


def test_collections_select_by_item_names_or_by_tags(tmp_path: Path) -> None:
    root = small_repo(
        tmp_path,
        {
            "web.yaml": PLACEMENT,
            "tags/summer.yaml": TAG,
            "tags/sale.yaml": "kind: tag\nname: Sale\n",
            "a.yaml": offer("Alpha", extra="tags: [{ref: tags/summer}, {ref: tags/sale}]\n"),
            "b.yaml": offer("Beta", extra="tags: [{ref: tags/summer}]\n"),
            "fallback.yaml": offer(
                "Fallback", kind="fallback-offer", extra="tags: [{ref: tags/summer}]\n"
            ),
            "listed.yaml": "kind: collection\nname: Listed\nfilterType: offers\n"
            "ids: [{ref: b}, {ref: a}]\n",
            "all.yaml": "kind: collection\nname: All\nfilterType: all-tags\n"
            "ids: [{ref: tags/summer}, {ref: tags/sale}]\n",
            "any.yaml": "kind: collection\nname: Any\nfilterType: any-tags\n"
            "ids: [{ref: tags/summer}, {ref: tags/sale}]\n",
        },
    )
    result = migrate(root)
    bodies = {str(o.key): o.body for o in result.outputs}
    assert bodies[f"{OUT}/collections/listed"]["constraints"] == [
        {
            "uiModel": {
                "operator": "contains",
                "value": {
                    "left": "_experience.decisioning.decisionitem.itemName",
                    "right": ["Beta", "Alpha"],
                },
            }
        }
    ]
    tags = "_reconciler.migratedtags"
    assert bodies[f"{OUT}/collections/all"]["constraints"] == [
        {
            "uiModel": {
                "operator": "and",
                "value": [
                    {"operator": "contains", "value": {"left": tags, "right": ["Summer"]}},
                    {"operator": "contains", "value": {"left": tags, "right": ["Sale"]}},
                ],
            }
        }
    ]
    assert bodies[f"{OUT}/collections/any"]["constraints"] == [
        {
            "uiModel": {
                "operator": "contains",
                "value": {"left": tags, "right": ["Summer", "Sale"]},
            }
        }
    ]
    notes = {str(item.key): item.notes for item in result.objects}
    assert notes["any"] == (
        "the fallback offers fallback carry these tags: their migrated items are in this item "
        "collection too (a legacy collection never held fallback offers)",
    )
    assert notes["all"] == ()  # the fallback offer does not carry both tags
    # a tag collection pulls in the offers carrying its tags, and only those
    pulled = migrate(root, "all")
    assert sorted(item.key for item in pulled.objects) == ["a", "all"]
    assert sorted(item.key for item in migrate(root, "any").objects) == ["a", "any", "b"]


def test_a_fallback_offer_becomes_an_item_with_no_constraint(tmp_path: Path) -> None:
    root = small_repo(
        tmp_path,
        {"web.yaml": PLACEMENT, "fallback.yaml": offer("Fallback", kind="fallback-offer")},
    )
    (item,) = [o for o in migrate(root).outputs if o.kind is Kind.DECISION_ITEM]
    assert item.body == {
        "_experience": {
            "decisioning": {
                "offeritem": {"lifecycleStatus": "approved"},
                "decisionitem": {
                    "itemName": "Fallback",
                    "itemPriority": 0,
                    "itemConstraints": {"profileConstraintType": "none"},
                },
            }
        }
    }


def test_names_stay_unique_per_kind(tmp_path: Path) -> None:
    root = small_repo(
        tmp_path,
        {
            "web.yaml": PLACEMENT,
            "a.yaml": offer("Same"),
            "b.yaml": offer("Same", kind="fallback-offer"),
            "c.yaml": offer("Taken"),
            "exd/taken.yaml": "kind: decision-item\n_experience:\n  decisioning:\n"
            "    offeritem: {lifecycleStatus: draft}\n"
            "    decisionitem: {itemName: Taken, itemPriority: 0}\n",
        },
    )
    result = migrate(root)
    names = {str(o.key): o.name for o in result.outputs}
    assert names == {
        f"{OUT}/items/a": "Same",
        f"{OUT}/items/b": "Same (Decisioning)",
        f"{OUT}/items/c": "Taken (Decisioning)",
        f"{OUT}/placements/web": "Web banner",
    }
    notes = {str(item.key): item.notes for item in result.objects}
    assert notes["b"] == (
        f"{OUT}/items/b is named 'Same (Decisioning)': 'Same' is the name of the decision-item "
        "migrated from a (names are unique per kind)",
    )
    assert notes["c"] == (
        f"{OUT}/items/c is named 'Taken (Decisioning)': 'Taken' is the name of "
        "offers/exd/taken.yaml (names are unique per kind)",
    )
    # the same names whichever objects are chosen
    assert [o.name for o in migrate(root, "b").outputs] == ["Same (Decisioning)"]


def test_slug_collisions_get_a_counter(tmp_path: Path) -> None:
    root = small_repo(
        tmp_path,
        {"web.yaml": PLACEMENT, "a/b-c.yaml": RULE, "a-b/c.yaml": RULE.replace("Gold", "Silver")},
    )
    keys = [str(o.key) for o in migrate(root).outputs]
    assert keys == [f"{OUT}/rules/a-b-c", f"{OUT}/rules/a-b-c-2", f"{OUT}/placements/web"]
    assert offerfiles.slug("Summer/Sale 60%") == "summer-sale-60"


def test_what_cannot_be_migrated_faithfully_stops_the_migration(tmp_path: Path) -> None:
    root = small_repo(
        tmp_path,
        {
            "web.yaml": PLACEMENT,
            "tags/summer.yaml": TAG,
            "rules/gold.yaml": RULE,
            "audience.yaml": offer("Audience").replace(
                "profileConstraintType: none",
                "profileConstraintType: anySegments\n  segmentIdentities:\n"
                "    - {_id: 7a5f, namespace: {code: ups}}",
            ),
            "literal.yaml": offer("Literal", extra="tags: ['dps:tag:1234']\n").replace(
                "profileConstraintType: none",
                "profileConstraintType: eligibilityRule\n  eligibilityRule: dps:eligibility-rule:99",
            ),
            "fine.yaml": offer("Fine", extra="tags: [{ref: tags/summer}]\n"),
            "listed.yaml": "kind: collection\nname: Listed\nfilterType: offers\n"
            "ids: ['dps:personalized-offer:42']\n",
        },
    )
    with pytest.raises(MigrationError) as raised:
        migrate(root)
    assert str(raised.value) == (
        "cannot migrate (4 problems, nothing written): offers/audience.yaml: selectionConstraint: "
        f"profileConstraintType anySegments: {NO_AUDIENCES}; offers/listed.yaml: "
        "ids[0]: the literal id 'dps:personalized-offer:42' names an offer this repository does "
        "not define, so its name is unknown: define the offer here ({ref: <key>}) or import it "
        "first; offers/literal.yaml: selectionConstraint.eligibilityRule: the literal id "
        "'dps:eligibility-rule:99' names a rule this repository does not define, so its migrated "
        "rule is unknown: define the rule here ({ref: <key>}) or import it first; "
        "offers/literal.yaml: tags[0]: the literal id 'dps:tag:1234' names a tag this "
        "repository does not define, so its name is unknown: define the tag here ({ref: <key>}) "
        "or import it first"
    )
    # a selection that leaves them out migrates
    assert [o.key for o in migrate(root, "fine").outputs] == [f"{OUT}/items/fine"]
    # through the command: one line, exit 1, nothing written
    before = tree(root)
    done = run(root, "migrate", "--to", "decisioning")
    assert (done.exit_code, done.stdout) == (1, "")
    assert done.stderr.startswith("Error: cannot migrate (4 problems, nothing written): ")
    assert done.stderr.count("\n") == 1
    assert tree(root) == before


def test_formulas_and_strategies(tmp_path: Path) -> None:
    formula = (
        "kind: ranking-formula\nname: Boost\nreturnType: {type: number}\n"
        'expression: {type: PQL, format: pql/text, value: \'offer.characteristics.get("x") + '
        "offer.rank.priority'}\n"
    )
    exd = formula.replace("Boost", "Exd").replace("returnType", "exdFunction: true\nreturnType")
    decision = (
        "kind: decision\nname: Home\nstatus: live\nfallback: {ref: fallback}\ncriteria:\n"
        "  - placements: [{ref: web}]\n"
        "    rank: {priority: 2, order: {orderEvaluationType: scoringFunction, "
        "function: {ref: boost}}}\n"
        "    profileConstraint: {profileConstraintType: eligibilityRule, "
        "eligibilityRule: {ref: rules/gold}}\n"
        "    optionSelection: {filter: {ref: listed}}\n"
        "  - placements: [{ref: web}]\n"
        "    rank: {priority: 1, order: {orderEvaluationType: scoringFunction, "
        "function: {ref: exd}}}\n"
        "    optionSelection: {filter: {ref: listed}}\n"
        "  - placements: [{ref: web}]\n"
        "    rank: {priority: 0, order: {orderEvaluationType: ranking-strategy, "
        "rankingStrategy: dps:ranking-strategy:1}}\n"
        "    optionSelection: {filter: {ref: listed}}\n"
    )
    root = small_repo(
        tmp_path,
        {
            "web.yaml": PLACEMENT,
            "rules/gold.yaml": RULE,
            "boost.yaml": formula,
            "exd.yaml": exd,
            "a.yaml": offer("Alpha"),
            "fallback.yaml": offer("Fallback", kind="fallback-offer"),
            "listed.yaml": "kind: collection\nname: Listed\nfilterType: offers\nids: [{ref: a}]\n",
            "home.yaml": decision,
        },
    )
    with pytest.raises(MigrationError, match="exd: a ranking-formula of Decisioning"):
        migrate(root, "exd")
    result = migrate(root, "home")
    assert sorted(item.key for item in result.objects) == [
        "a",
        "boost",
        "fallback",
        "home",
        "listed",
        "rules/gold",
    ]
    bodies = {str(o.key): o.body for o in result.outputs}
    assert bodies[f"{OUT}/formulas/boost"] == {
        "name": "Boost (Decisioning)",
        "exdFunction": True,
        "returnType": {"type": "number"},
        "expression": {
            "type": "PQL",
            "format": "pql/text",
            "value": 'offer.characteristics.get("x") + offer.rank.priority',
        },
    }
    assert [str(o.key) for o in result.outputs if o.kind is Kind.SELECTION_STRATEGY] == [
        f"{OUT}/strategies/home-1",
        f"{OUT}/strategies/home-2",
        f"{OUT}/strategies/home-3",
    ]
    assert bodies[f"{OUT}/strategies/home-1"] == {
        "name": "Home (criterion 1)",
        "rank": {
            "priority": 2,
            "order": {
                "orderEvaluationType": "scoringFunction",
                "function": Ref(Key(f"{OUT}/formulas/boost")),
            },
        },
        "profileConstraint": {
            "profileConstraintType": "eligibilityRule",
            "eligibilityRule": Ref(Key(f"{OUT}/rules/rules-gold")),
        },
        "optionSelection": {"filter": Ref(Key(f"{OUT}/collections/listed"))},
    }
    # a formula that is Decisioning's already is referenced as it is
    assert bodies[f"{OUT}/strategies/home-2"]["rank"] == {
        "priority": 1,
        "order": {"orderEvaluationType": "scoringFunction", "function": Ref(Key("exd"))},
    }
    assert bodies[f"{OUT}/strategies/home-3"]["rank"] == {
        "priority": 0,
        "order": {"orderEvaluationType": "static"},
    }
    by_key = {str(item.key): item for item in result.objects}
    assert [fate.path for fate in by_key["home"].not_migrated] == [
        "status",
        "fallback",
        "criteria[].placements",
        "criteria[].rank.order.rankingStrategy",
    ]
    assert (
        "Home (criterion 3) (placements: 'Web banner'), ranked by priority until you select "
        "an AI model; its fallback item is 'Fallback'" in by_key["home"].notes[0]
    )
    assert by_key["boost"].notes[-1] == (
        "the expression reads legacy offer attributes (offer.characteristics, offer.rank): a "
        "decision item's are its standard and custom attributes (ranking/ranking-formulas.md, "
        "Define criteria using the code editor): rewrite them before merging"
    )


# --- the mapping table --------------------------------------------------------------------------


def _unwrap(annotation: Any) -> Any:
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    return annotation


def model_paths(model: type[BaseModel], prefix: str = "") -> Iterator[str]:
    """Every field path a model allows: `[]` steps into lists, `*` into mappings; a reference
    (`{ref: key}` or a literal id) is a leaf."""
    for name, info in model.model_fields.items():
        key = info.alias or name
        if not prefix and key in ("kind", "protect", "overrides"):  # reconciler's own, never sent
            continue
        yield from _annotation_paths(info.annotation, f"{prefix}.{key}" if prefix else key)


def _annotation_paths(annotation: Any, here: str) -> Iterator[str]:
    annotation = _unwrap(annotation)
    origin, arguments = get_origin(annotation), get_args(annotation)
    if origin in (Union, types.UnionType):
        members = [_unwrap(a) for a in arguments if a is not type(None)]
        if fields.Ref in members:
            yield here  # a reference
            return
        for member in members:
            yield from _annotation_paths(member, here)
    elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation is fields.Ref:
            yield here
        else:
            yield from model_paths(annotation, here)
    elif origin is list:
        yield from _annotation_paths(arguments[0], here + "[]")
    elif origin is dict:
        yield from _annotation_paths(arguments[1], here + ".*")
    else:
        yield here


def test_every_field_the_legacy_models_allow_is_covered_by_a_row() -> None:
    assert set(LEGACY) <= set(schema.MODELS)
    uncovered = [
        (kind.value, path)
        for kind in LEGACY
        for path in sorted(set(model_paths(schema.MODELS[kind])))
        if row_for(kind, path) is None
    ]
    assert uncovered == []


def test_every_row_names_a_field_the_legacy_models_allow() -> None:
    allowed = {kind: set(model_paths(schema.MODELS[kind])) for kind in LEGACY}
    stale = [
        (row.kind.value, row.legacy_path)
        for row in ROWS
        if not any(covers(row, path) for path in allowed[row.kind])
    ]
    assert stale == []


def test_the_table_is_well_formed() -> None:
    assert len({(row.kind, row.legacy_path) for row in ROWS}) == len(ROWS)
    for row in ROWS:
        assert row.kind in LEGACY
        assert (row.target_kind is None) == (row.target_path is None), row
        if row.target_kind is not None:
            assert row.target_kind in (TARGETS[row.kind], Kind.DECISION_ITEM), row
        page = row.source.partition(": ")[0]
        assert row.source == migration.INFERRED or page.endswith(".md"), row
        assert row.reason, row
        assert not row.reason.endswith("."), row
    assert set(FOLDERS) == {kind for kind in TARGETS.values() if kind is not None}


def test_a_field_no_row_covers_is_reported_not_dropped() -> None:
    item = Desired(
        Key("r"),
        Kind.DECISION_RULE,
        {"name": "R", "condition": {"type": "PQL"}, "someday": {"new": 1}},
        Source("offers/r.yaml"),
    )
    (migrated,) = migration.migrate([item], prefix=OUT, tenant="_x").objects
    assert [(f.path, f.source) for f in migrated.not_migrated] == [("someday.new", "inferred")]


def test_the_readme_holds_the_mapping_table() -> None:
    readme = (ROOT / "README.md").read_text()
    assert readme.count(migration.mapping_markdown()) == 1


def test_a_huge_report_stays_under_githubs_comment_limit(tmp_path: Path) -> None:
    files = {"web.yaml": PLACEMENT}
    for n in range(600):
        files[f"o/{n:04d}.yaml"] = offer(f"Offer {n}", extra="cappingConstraint: {globalCap: 5}\n")
    root = small_repo(tmp_path, files)
    result = migrate(root)
    statuses = {o.key: FileStatus.CREATE for o in result.outputs}
    text = migration_report.migration_markdown(result, statuses)
    assert len(text) <= migration_report.MARKDOWN_LIMIT
    assert "more left out of this comment: `reconciler migrate --to decisioning --dry-run " in text


# --- end to end: validate, plan (creates only), apply, plan again (empty) -------------------------


def test_the_two_pull_requests_create_then_prune_and_converge(repo: Path) -> None:
    sandbox = Sandbox(app=create_app(), root=repo)
    legacy = sandbox.run("apply", "--auto-approve")
    assert legacy.exit_code == 0, legacy.output
    # pull request 1: the migrated files, next to the legacy ones: validate, plan creates only
    done = sandbox.run("migrate", "--to", "decisioning")
    assert done.exit_code == 0, done.output
    valid = sandbox.run("validate")
    assert valid.exit_code == 0, valid.output
    planned = sandbox.run("plan", "--format", "json")
    assert planned.exit_code == 0, planned.output
    changes = json.loads(planned.stdout)["changes"]
    assert {change["action"] for change in changes} == {"create"}
    assert {change["key"] for change in changes} == EXPECTED_KEYS
    applied = sandbox.run("apply", "--auto-approve")
    assert applied.exit_code == 0, applied.output
    again = sandbox.run("plan", "--detailed-exitcode")
    assert again.exit_code == 0, again.output
    assert "No changes." in again.stdout
    # pull request 2: the legacy files go; the migrated files stand alone; prune deletes only
    legacy_keys, kept = set(), 0
    for item in documents.load(repo):
        if migration.is_legacy(item):
            (repo / item.source.path).unlink()
            legacy_keys.add(item.key)
        else:
            kept += 1
    drop_legacy_decision_tests(repo)
    valid = sandbox.run("validate")
    assert (valid.exit_code, valid.stdout) == (0, f"Valid: {kept} objects in offers/.\n")
    pruned = sandbox.run("plan", "--prune", "--format", "json")
    assert pruned.exit_code == 0, pruned.output
    changes = json.loads(pruned.stdout)["changes"]
    assert {change["action"] for change in changes} == {"delete"}
    assert {change["key"] for change in changes} == legacy_keys
    applied = sandbox.run("apply", "--prune", "--auto-approve")
    assert applied.exit_code == 0, applied.output
    final = sandbox.run("plan", "--detailed-exitcode")
    assert final.exit_code == 0, final.output
