"""The markdown the workflows post (plan comments, job summaries, issues), from literal values.

The workflows only move this text around, so what a reviewer reads is decided and tested here.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import make_repo, served_config, served_emulator
from estate import write

from reconciler import commands, render
from reconciler.cli import cli
from reconciler.model import (
    Action,
    Attribution,
    Change,
    Credentials,
    Drift,
    DriftStatus,
    Etag,
    FieldDrift,
    Ignored,
    JsonValue,
    Key,
    Kind,
    ObjectDrift,
    ObjectId,
    Op,
    Orphan,
    Outcome,
    PatchOp,
    Plan,
    Problem,
    Reason,
    Ref,
    Report,
    Result,
)

ALICE = Attribution("alice@example.com", "2026-11-20T09:30:00.000Z")
FORK = "this pull request comes from a fork, which gets no credentials; only validation ran."


def _plan(
    *changes: Change,
    orphans: tuple[Orphan, ...] = (),
    ignored: tuple[Ignored, ...] = (),
    hidden: int = 0,
) -> Plan:
    return Plan(
        sandbox="prod",
        org="1234ABCD@AdobeOrg",
        endpoint="https://platform.adobe.io/data/core/dps",
        lineage="6f1c2a4e-0000-4000-8000-000000000001",
        serial=3,
        changes=changes,
        orphans=orphans,
        ignored=ignored,
        hidden=hidden,
    )


def _create(key: str, body: dict[str, JsonValue], name: str = "Web banner") -> Change:
    return Change(
        key=Key(key),
        kind=Kind.PLACEMENT,
        action=Action.CREATE,
        reasons=(Reason.NEW,),
        name=name,
        desired=body,
        source=f"offers/{key}.yaml",
    )


def _update(
    *ops: PatchOp, tests: tuple[PatchOp, ...] = (), unguarded: tuple[str, ...] = ()
) -> Change:
    drifted = any(op.reverts is not None for op in ops)
    return Change(
        key=Key("summer/sale"),
        kind=Kind.PERSONALIZED_OFFER,
        action=Action.UPDATE,
        reasons=(Reason.CHANGED_IN_GIT, Reason.DRIFTED) if drifted else (Reason.CHANGED_IN_GIT,),
        name="Summer <sale>",
        id=ObjectId("dps:personalized-offer:2b"),
        etag=Etag("3"),
        ops=ops,
        tests=tests,
        unguarded=unguarded,
        seen=ALICE,
        source="offers/summer/sale.yaml",
    )


DELETE = Change(
    key=Key("old/promo"),
    kind=Kind.FALLBACK_OFFER,
    action=Action.DELETE,
    reasons=(Reason.REMOVED_FROM_GIT,),
    name="Old promo",
    id=ObjectId("dps:fallback-offer:9"),
)


# --- plan comments ----------------------------------------------------------------------------


def test_a_plan_with_no_changes_is_the_marker_a_heading_and_one_line() -> None:
    assert render.plan_markdown(_plan()) == (
        "<!-- reconciler:plan:prod -->\n"
        "### reconciler plan: sandbox `prod`\n"
        "\n"
        "**No changes.** Sandbox `prod` matches git.\n"
    )


def test_a_plan_leads_with_the_summary_and_table_then_collapses_each_object() -> None:
    plan = _plan(
        _create("placements/web", {"name": "Web banner", "componentType": "html"}),
        _update(
            PatchOp(Op.REPLACE, "/rank/priority", 5, 10, reverts=ALICE),
            PatchOp(Op.ADD, "/tags/0", Ref(Key("tags/summer"))),
        ),
        DELETE,
    )
    assert render.plan_markdown(plan) == (
        "<!-- reconciler:plan:prod -->\n"
        "### reconciler plan: sandbox `prod`\n"
        "\n"
        "**Plan: 1 to create, 1 to update, 1 to delete.**\n"
        "\n"
        ":warning: **1 operation undoes edits made outside git** (marked *reverts* below); "
        "merging this pull request loses them.\n"
        "\n"
        "| | Object | Kind | Reason |\n"
        "|---|---|---|---|\n"
        "| `+` create | `placements/web` | placement | new |\n"
        "| `~` update | `summer/sale` | personalized-offer | changed in git, drifted |\n"
        "| `-` delete | `old/promo` | fallback-offer | removed from git |\n"
        "\n"
        "<details><summary><code>+</code> create <code>placements/web</code> (placement): "
        "Web banner</summary>\n"
        "\n"
        "Defined in `offers/placements/web.yaml`.\n"
        "\n"
        "```json\n"
        "{\n"
        '  "componentType": "html",\n'
        '  "name": "Web banner"\n'
        "}\n"
        "```\n"
        "\n"
        "</details>\n"
        "\n"
        "<details><summary><code>~</code> update <code>summer/sale</code> (personalized-offer): "
        "Summer &lt;sale&gt;</summary>\n"
        "\n"
        "Defined in `offers/summer/sale.yaml`.\n"
        "Last changed outside git by `alice@example.com` at 2026-11-20T09:30:00.000Z.\n"
        "\n"
        "```diff\n"
        "~ /rank/priority: 10 -> 5   "
        "(reverts an edit by alice@example.com at 2026-11-20T09:30:00.000Z)\n"
        "+ /tags/0: (id of tags/summer, known after apply)\n"
        "```\n"
        "\n"
        "</details>\n"
        "\n"
        "<details><summary><code>-</code> delete <code>old/promo</code> (fallback-offer): "
        "Old promo</summary>\n"
        "\n"
        "Deletes `dps:fallback-offer:9` from the sandbox.\n"
        "\n"
        "</details>\n"
    )


@pytest.mark.parametrize(
    ("ops", "warning"),
    [
        (
            (PatchOp(Op.REPLACE, "/rank/priority", 5, 10, reverts=ALICE),),
            ":warning: **1 operation undoes edits made outside git** (marked *reverts* below); "
            "merging this pull request loses them.",
        ),
        (
            (
                PatchOp(Op.REPLACE, "/rank/priority", 5, 10, reverts=ALICE),
                PatchOp(Op.REMOVE, "/description", old="UI copy", reverts=ALICE),
            ),
            ":warning: **2 operations undo edits made outside git** (marked *reverts* below); "
            "merging this pull request loses them.",
        ),
        ((PatchOp(Op.REPLACE, "/rank/priority", 5, 10),), None),
    ],
)
def test_operations_that_revert_outside_edits_are_warned_about_before_the_table(
    ops: tuple[PatchOp, ...], warning: str | None
) -> None:
    lines = render.plan_markdown(_plan(_update(*ops))).splitlines()
    assert lines[3] == "**Plan: 0 to create, 1 to update, 0 to delete.**"
    if warning is None:
        assert not any(line.startswith(":warning:") for line in lines)
    else:
        assert lines[4:7] == ["", warning, ""]


def test_a_re_created_object_names_the_id_it_replaces() -> None:
    recreate = Change(
        key=Key("placements/web"),
        kind=Kind.PLACEMENT,
        action=Action.CREATE,
        reasons=(Reason.MISSING_REMOTELY,),
        name="Web banner",
        id=ObjectId("dps:offer-placement:1a"),
        desired={"name": "Web banner"},
    )
    section = render.plan_markdown(_plan(recreate)).split("\n\n<details>", 1)[1]
    assert section == (
        "<summary><code>+</code> create <code>placements/web</code> (placement): Web banner"
        "</summary>\n"
        "\n"
        "Was `dps:offer-placement:1a`, deleted outside git: it is created again.\n"
        "\n"
        "```json\n"
        "{\n"
        '  "name": "Web banner"\n'
        "}\n"
        "```\n"
        "\n"
        "</details>\n"
    )


def test_ignored_differences_and_orphans_come_after_the_details() -> None:
    plan = _plan(
        orphans=(Orphan(Key("old/tag"), Kind.TAG, ObjectId("dps:tag:1")),),
        ignored=(
            Ignored(Key("summer/sale"), Kind.PERSONALIZED_OFFER, "/rank/priority", 5, 7, True),
        ),
    )
    assert render.plan_markdown(plan) == (
        "<!-- reconciler:plan:prod -->\n"
        "### reconciler plan: sandbox `prod`\n"
        "\n"
        "**No changes.** Sandbox `prod` matches git.\n"
        "\n"
        "<details><summary>Ignored by reconciler.yaml (not enforced)</summary>\n"
        "\n"
        "- `summer/sale` `/rank/priority`: git `5`, live `7`\n"
        "\n"
        "</details>\n"
        "\n"
        "**Orphans** (in state, gone from git; pruning is off, so they stay):\n"
        "\n"
        "- `old/tag` (tag `dps:tag:1`)\n"
    )


def test_offer_content_cannot_close_the_code_block() -> None:
    text = render.plan_markdown(_plan(_create("placements/md", {"description": "use ``` here"})))
    assert "\n````json\n{\n" in text
    assert '  "description": "use ``` here"\n}\n````\n' in text


def _offers(count: int) -> tuple[Change, ...]:
    content = "<p>" + "Summer sale: 60% off everything, today only. " * 20 + "</p>"
    return tuple(
        Change(
            key=Key(f"summer/offer-{n:03d}"),
            kind=Kind.PERSONALIZED_OFFER,
            action=Action.CREATE,
            reasons=(Reason.NEW,),
            name=f"Summer offer {n}",
            desired={
                "name": f"Summer offer {n}",
                "representations": [{"components": [{"content": content, "type": "html"}]}],
            },
            source=f"offers/summer/offer-{n:03d}.yaml",
        )
        for n in range(count)
    )


def test_a_plan_with_many_changes_fits_the_comment_limit_with_the_summary_first() -> None:
    text = render.plan_markdown(_plan(*_offers(400)))

    assert len(text) <= render.COMMENT_LIMIT == 65_536
    lines = text.splitlines()
    assert lines[:4] == [
        "<!-- reconciler:plan:prod -->",
        "### reconciler plan: sandbox `prod`",
        "",
        "**Plan: 400 to create, 0 to update, 0 to delete.**",
    ]
    rows = [line for line in lines if line.startswith("| `+` create | `summer/offer-")]
    assert len(rows) == 400  # the table lists every object, even those whose details are cut
    shown = text.count("<details>")
    assert 0 < shown < 400
    assert text.count("</details>") == shown  # whole sections are dropped, never cut in half
    assert lines[-1] == (
        f"*Details of {400 - shown} more objects are not shown: a comment holds at most 65,536 "
        "characters. `reconciler plan --sandbox prod` shows all of them, and the workflow run's "
        "`plan-prod` artifact holds the whole plan.*"
    )
    assert "<code>summer/offer-000</code>" in text  # the first objects are the ones shown


def test_a_table_longer_than_the_limit_is_cut_at_a_line_and_says_so() -> None:
    text = render.plan_markdown(_plan(*_offers(1500)))

    assert len(text) <= render.COMMENT_LIMIT
    assert text.startswith("<!-- reconciler:plan:prod -->\n")
    assert "<details>" not in text
    *table, blank, note = text.rstrip("\n").split("\n")
    assert (blank, note) == (
        "",
        "*Truncated: a comment holds at most 65,536 characters. "
        "`reconciler plan --sandbox prod` shows all of them, and the workflow run's `plan-prod` "
        "artifact holds the whole plan.*",
    )
    assert re.fullmatch(
        r"\| `\+` create \| `summer/offer-\d{3,4}` \| personalized-offer \| new \|", table[-1]
    )


def test_the_readme_sample_comment_is_what_the_renderer_writes() -> None:
    marketer = Attribution("marketer@example.com", "2027-06-03T14:12:09.000Z")
    plan = Plan(
        sandbox="prod",
        org="1234ABCD@AdobeOrg",
        endpoint="https://platform.adobe.io/data/core/dps",
        lineage="6f1c2a4e-0000-4000-8000-000000000001",
        serial=12,
        changes=(
            Change(
                key=Key("tags/autumn"),
                kind=Kind.TAG,
                action=Action.CREATE,
                reasons=(Reason.NEW,),
                name="Autumn",
                desired={"name": "Autumn"},
                source="offers/tags/autumn.yaml",
            ),
            Change(
                key=Key("summer/sale"),
                kind=Kind.PERSONALIZED_OFFER,
                action=Action.UPDATE,
                reasons=(Reason.CHANGED_IN_GIT, Reason.DRIFTED),
                name="Summer sale",
                id=ObjectId("dps:personalized-offer:19af09a9ae45a8d3"),
                etag=Etag("4"),
                ops=(
                    PatchOp(
                        Op.REPLACE,
                        "/selectionConstraint/endDate",
                        "2027-09-30T23:59:59.000Z",
                        "2027-08-31T23:59:59.000Z",
                    ),
                    PatchOp(Op.REPLACE, "/rank/priority", 10, 7, reverts=marketer),
                    PatchOp(Op.ADD, "/tags/1", Ref(Key("tags/autumn"))),
                ),
                seen=marketer,
                source="offers/summer/sale.yaml",
                depends_on=(Key("tags/autumn"),),
            ),
        ),
    )
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    sample = readme.split("## Run it in GitHub", 1)[1].split("````markdown\n", 1)[1]
    assert sample.split("````", 1)[0] == render.plan_markdown(plan)


# --- plan text (the terminal) -----------------------------------------------------------------

ADOPT = Change(
    key=Key("tags/summer"),
    kind=Kind.TAG,
    action=Action.ADOPT,
    reasons=(Reason.FOUND_BY_NAME,),
    name="Summer",
    id=ObjectId("dps:tag:1"),
    etag=Etag("1"),
    ops=(PatchOp(Op.ADD, "/description", "Summer items"),),
    tests=(PatchOp(Op.TEST, "/name", "Summer"),),
    unguarded=("/description",),
    source="offers/tags/summer.yaml",
)
REFRESH = Change(
    key=Key("placements/web"),
    kind=Kind.PLACEMENT,
    action=Action.REFRESH,
    reasons=(Reason.STATE_BEHIND,),
    name="Web banner",
    id=ObjectId("dps:offer-placement:1a"),
    etag=Etag("4"),
    tests=(PatchOp(Op.TEST, "/name", "Web banner"),),
    source="offers/placements/web.yaml",
)
ADOPTED = Change(
    key=Key("tags/summer"),
    kind=Kind.TAG,
    action=Action.ADOPT,
    reasons=(Reason.FOUND_BY_NAME,),
    name="Summer",
    id=ObjectId("dps:tag:1"),
    etag=Etag("1"),
    tests=(PatchOp(Op.TEST, "/name", "Summer"),),
    source="offers/tags/summer.yaml",
)
MOVED = Change(
    key=Key("tags/season"),
    kind=Kind.TAG,
    action=Action.ADOPT,
    reasons=(Reason.RENAMED,),
    name="Summer",
    id=ObjectId("dps:tag:1"),
    etag=Etag("1"),
    tests=(PatchOp(Op.TEST, "/name", "Summer"),),
    source="offers/tags/season.yaml",
    moved_from=Key("tags/summer"),
)
RECREATE = Change(
    key=Key("rules/gold"),
    kind=Kind.DECISION_RULE,
    action=Action.CREATE,
    reasons=(Reason.MISSING_REMOTELY,),
    name="Gold members",
    id=ObjectId("dps:eligibility-rule:7"),
    desired={"name": "Gold members"},
    source="offers/rules/gold.yaml",
)
GUARDED = _update(
    PatchOp(Op.REPLACE, "/rank/priority", 5, 10, reverts=ALICE),
    PatchOp(Op.ADD, "/tags/1", Ref(Key("tags/summer"))),
    PatchOp(Op.ADD, "/description", "Sale"),
    tests=(PatchOp(Op.TEST, "/rank/priority", 10), PatchOp(Op.TEST, "/tags", ["dps:tag:1"])),
    unguarded=("/description",),
)


def _text(plan: Plan, *, verbose: bool = False) -> str:
    return "".join(f"{line.text}\n" for line in render.plan_text(plan, verbose=verbose))


@pytest.mark.parametrize(
    ("verbose", "expected"),
    [
        pytest.param(
            False,
            "reconciler will perform these actions on sandbox 'prod':\n"
            "\n"
            '  ~ update personalized-offer summer/sale "Summer <sale>" (changed in git, drifted)\n'
            "      ~ /rank/priority: 10 -> 5   "
            "(reverts an edit by alice@example.com at 2026-11-20T09:30:00.000Z)\n"
            "      + /tags/1: (id of tags/summer, known after apply)\n"
            '      + /description: "Sale"\n'
            "      ! changed outside git by alice@example.com at 2026-11-20T09:30:00.000Z: "
            "the lines marked 'reverts' undo that edit\n"
            "\n"
            "Plan: 0 to create, 1 to update, 0 to delete.\n"
            "1 operation reverts edits made outside git (marked above). "
            "Add ignore rules to cede fields to the UI.\n",
            id="by default: the operations only",
        ),
        pytest.param(
            True,
            "reconciler will perform these actions on sandbox 'prod':\n"
            "\n"
            '  ~ update personalized-offer summer/sale "Summer <sale>" (changed in git, drifted)\n'
            "      ? /rank/priority == 10   (precondition)\n"
            '      ? /tags == ["dps:tag:1"]   (precondition)\n'
            "      ! /description: JSON Patch cannot assert it is still absent: "
            "apply reads the object first and sends If-Match\n"
            "      ~ /rank/priority: 10 -> 5   "
            "(reverts an edit by alice@example.com at 2026-11-20T09:30:00.000Z)\n"
            "      + /tags/1: (id of tags/summer, known after apply)\n"
            '      + /description: "Sale"\n'
            "      ! changed outside git by alice@example.com at 2026-11-20T09:30:00.000Z: "
            "the lines marked 'reverts' undo that edit\n"
            "\n"
            "Plan: 0 to create, 1 to update, 0 to delete.\n"
            "1 operation reverts edits made outside git (marked above). "
            "Add ignore rules to cede fields to the UI.\n",
            id="verbose: the preconditions first, and what they cannot assert",
        ),
    ],
)
def test_preconditions_and_unguarded_members_are_shown_only_when_verbose(
    verbose: bool, expected: str
) -> None:
    assert _text(_plan(GUARDED), verbose=verbose) == expected


def test_a_change_that_sends_nothing_shows_no_preconditions_even_when_verbose() -> None:
    assert _text(_plan(REFRESH, ADOPTED), verbose=True) == (
        "reconciler will perform these actions on sandbox 'prod':\n"
        "\n"
        '  * refresh placement placements/web "Web banner" '
        "(live already matches git, state is behind)\n"
        "      Live already matches git (dps:offer-placement:1a): state records it, "
        "nothing is sent.\n"
        '  = adopt tag tags/summer "Summer" (not in state, found by name)\n'
        "      Adopts dps:tag:1, found by kind and name: nothing is created.\n"
        "\n"
        "Plan: 0 to create, 0 to update, 0 to delete, 1 to adopt, 1 state-only.\n"
    )


def test_each_action_has_its_glyph_and_a_note_saying_what_apply_does() -> None:
    assert _text(_plan(RECREATE, ADOPT, REFRESH, DELETE)) == (
        "reconciler will perform these actions on sandbox 'prod':\n"
        "\n"
        '  + create decision-rule rules/gold "Gold members" (missing remotely)\n'
        "      Was dps:eligibility-rule:7, deleted outside git: it is created again.\n"
        '  = adopt tag tags/summer "Summer" (not in state, found by name)\n'
        "      Adopts dps:tag:1, found by kind and name: nothing is created.\n"
        '      + /description: "Summer items"\n'
        '  * refresh placement placements/web "Web banner" '
        "(live already matches git, state is behind)\n"
        "      Live already matches git (dps:offer-placement:1a): state records it, "
        "nothing is sent.\n"
        '  - delete fallback-offer old/promo "Old promo" (removed from git)\n'
        "      Deletes dps:fallback-offer:9 from the sandbox.\n"
        "\n"
        "Plan: 1 to create, 0 to update, 1 to delete, 1 to adopt, 1 state-only.\n"
    )


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ((), "Plan: 0 to create, 0 to update, 0 to delete."),
        ((RECREATE, GUARDED, DELETE), "Plan: 1 to create, 1 to update, 1 to delete."),
        ((ADOPT,), "Plan: 0 to create, 0 to update, 0 to delete, 1 to adopt."),
        ((REFRESH,), "Plan: 0 to create, 0 to update, 0 to delete, 1 state-only."),
        (
            (ADOPT, REFRESH, GUARDED),
            "Plan: 0 to create, 1 to update, 0 to delete, 1 to adopt, 1 state-only.",
        ),
    ],
)
def test_the_summary_counts_adoptions_and_state_only_changes_only_when_there_are_some(
    changes: tuple[Change, ...], expected: str
) -> None:
    assert render.summary(_plan(*changes)) == expected


@pytest.mark.parametrize(
    ("hidden", "expected"),
    [
        (0, ["Plan: 0 to create, 0 to update, 1 to delete."]),
        (
            2,
            [
                "Plan: 0 to create, 0 to update, 1 to delete.",
                "2 changes not shown: --only/--exclude leave them out, and applying this plan "
                "leaves them out too.",
            ],
        ),
        (
            1,
            [
                "Plan: 0 to create, 0 to update, 1 to delete.",
                "1 change not shown: --only/--exclude leave it out, and applying this plan "
                "leaves it out too.",
            ],
        ),
    ],
)
def test_changes_left_out_by_only_and_exclude_are_counted_after_the_summary(
    hidden: int, expected: list[str]
) -> None:
    text = _text(_plan(DELETE, hidden=hidden))
    assert text.split("\n\n")[-1].splitlines() == expected


def test_a_plan_whose_changes_are_all_left_out_never_says_the_sandbox_matches_git() -> None:
    plan = _plan(hidden=2)
    assert _text(plan) == (
        "No changes among the selected objects.\n"
        "Plan: 0 to create, 0 to update, 0 to delete.\n"
        "2 changes not shown: --only/--exclude leave them out, and applying this plan leaves "
        "them out too.\n"
    )
    assert render.plan_markdown(plan) == (
        "<!-- reconciler:plan:prod -->\n"
        "### reconciler plan: sandbox `prod`\n"
        "\n"
        "**No changes among the selected objects.**\n"
        "\n"
        ":information_source: 2 changes not shown: --only/--exclude leave them out, and "
        "applying this plan leaves them out too.\n"
    )


def test_a_comment_counts_hidden_changes_and_shows_an_adoption_s_operations() -> None:
    assert render.plan_markdown(_plan(ADOPT, hidden=2)) == (
        "<!-- reconciler:plan:prod -->\n"
        "### reconciler plan: sandbox `prod`\n"
        "\n"
        "**Plan: 0 to create, 0 to update, 0 to delete, 1 to adopt.**\n"
        "\n"
        ":information_source: 2 changes not shown: --only/--exclude leave them out, "
        "and applying this plan leaves them out too.\n"
        "\n"
        "| | Object | Kind | Reason |\n"
        "|---|---|---|---|\n"
        "| `=` adopt | `tags/summer` | tag | not in state, found by name |\n"
        "\n"
        "<details><summary><code>=</code> adopt <code>tags/summer</code> (tag): Summer</summary>\n"
        "\n"
        "Defined in `offers/tags/summer.yaml`.\n"
        "Adopts `dps:tag:1`, found by kind and name: nothing is created.\n"
        "\n"
        "```diff\n"
        '+ /description: "Summer items"\n'
        "```\n"
        "\n"
        "</details>\n"
    )


def test_a_comment_shows_a_refreshed_object_s_id_as_it_is() -> None:
    section = render.plan_markdown(_plan(REFRESH)).split("<details>", 1)[1]
    assert section == (
        "<summary><code>*</code> refresh <code>placements/web</code> (placement): Web banner"
        "</summary>\n"
        "\n"
        "Defined in `offers/placements/web.yaml`.\n"
        "Live already matches git (`dps:offer-placement:1a`): state records it, nothing is sent.\n"
        "\n"
        "</details>\n"
    )


def test_an_adoption_after_a_rename_names_the_key_that_managed_the_object() -> None:
    plan = _plan(MOVED)
    assert _text(plan) == (
        "reconciler will perform these actions on sandbox 'prod':\n"
        "\n"
        '  = adopt tag tags/season "Summer" (file renamed: state moves it to the new key)\n'
        "      Adopts dps:tag:1, which tags/summer managed until its file was renamed: state "
        "moves it, nothing is created or deleted.\n"
        "\n"
        "Plan: 0 to create, 0 to update, 0 to delete, 1 to adopt.\n"
    )
    assert render.plan_markdown(plan).split("<details>", 1)[1] == (
        "<summary><code>=</code> adopt <code>tags/season</code> (tag): Summer</summary>\n"
        "\n"
        "Defined in `offers/tags/season.yaml`.\n"
        "Adopts `dps:tag:1`, which `tags/summer` managed until its file was renamed: state "
        "moves it, nothing is created or deleted.\n"
        "\n"
        "</details>\n"
    )


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        (Ref(Key("tags/summer")), "(id of tags/summer, known after apply)"),
        ({"ref": "tags/summer"}, '{"ref": "tags/summer"}'),  # plain data, e.g. characteristics
        ("dps:tag:1", '"dps:tag:1"'),
        ({"b": "Été", "a": 1}, '{"a": 1, "b": "Été"}'),
        (
            [Ref(Key("tags/summer")), "dps:tag:1"],
            '["(id of tags/summer, known after apply)", "dps:tag:1"]',
        ),
        (
            {"fallback": Ref(Key("summer/fallback")), "ref": "x"},
            '{"fallback": "(id of summer/fallback, known after apply)", "ref": "x"}',
        ),
    ],
)
def test_a_reference_reads_as_known_after_apply_and_a_ref_mapping_as_data(
    item: JsonValue, expected: str
) -> None:
    assert render.value(item) == expected


# --- apply reports (the apply-failed issue and the job summary) --------------------------------


def test_an_apply_report_with_conflicts_failures_and_not_attempted_says_how_to_recover() -> None:
    report = Report(
        "prod",
        (
            Result(
                Key("placements/web"),
                Kind.PLACEMENT,
                Action.CREATE,
                Outcome.APPLIED,
                ObjectId("dps:offer-placement:1a"),
            ),
            Result(
                Key("summer/sale"),
                Kind.PERSONALIZED_OFFER,
                Action.UPDATE,
                Outcome.CONFLICT,
                ObjectId("dps:personalized-offer:2b"),
                by="alice@example.com",
                at="2026-11-20T09:30:00.000Z",
            ),
            Result(
                Key("summer/gold"),
                Kind.PERSONALIZED_OFFER,
                Action.UPDATE,
                Outcome.FAILED,
                ObjectId("dps:personalized-offer:3c"),
                detail="400 Bad Request: endDate | must be after startDate\n(selectionConstraint)",
            ),
            Result(
                Key("summer/collection"),
                Kind.COLLECTION,
                Action.CREATE,
                Outcome.NOT_ATTEMPTED,
                detail="waits for summer/gold, which failed",
            ),
        ),
        requests=7,
    )
    assert render.report_markdown(report) == (
        "<!-- reconciler:apply:prod -->\n"
        "### reconciler apply: sandbox `prod`\n"
        "\n"
        "**Apply: 1 applied, 1 failed, 1 conflict, 1 not attempted.**\n"
        "\n"
        "| Object | Action | Outcome | Detail |\n"
        "|---|---|---|---|\n"
        "| `placements/web` | create | applied |  |\n"
        "| `summer/sale` | update | conflict | changed after the plan by alice@example.com at "
        "2026-11-20T09:30:00.000Z; not written |\n"
        "| `summer/gold` | update | failed | 400 Bad Request: endDate \\| must be after startDate "
        "(selectionConstraint) |\n"
        "| `summer/collection` | create | not attempted | waits for summer/gold, which failed |\n"
        "\n"
        "Fix the cause (a pull request for invalid content; a new plan for conflicts), then re-run "
        "the apply workflow: apply converges from wherever this run stopped.\n"
    )


def test_a_successful_apply_report_is_the_summary_and_the_table() -> None:
    report = Report(
        "prod",
        (
            Result(
                Key("tags/summer"), Kind.TAG, Action.CREATE, Outcome.APPLIED, ObjectId("dps:tag:1")
            ),
        ),
    )
    assert render.report_markdown(report) == (
        "<!-- reconciler:apply:prod -->\n"
        "### reconciler apply: sandbox `prod`\n"
        "\n"
        "**Apply: 1 applied, 0 failed, 0 conflicts, 0 not attempted.**\n"
        "\n"
        "| Object | Action | Outcome | Detail |\n"
        "|---|---|---|---|\n"
        "| `tags/summer` | create | applied |  |\n"
    )


# --- drift issues -----------------------------------------------------------------------------


def test_no_drift_is_the_marker_a_heading_and_one_line() -> None:
    assert render.drift_markdown(Drift("prod", (), checked=12)) == (
        "<!-- reconciler:drift:prod -->\n"
        "### reconciler drift: sandbox `prod`\n"
        "\n"
        "**No drift.** The 12 managed objects match what git last applied.\n"
    )


def test_drift_lists_who_changed_what_and_how_to_keep_it() -> None:
    drift = Drift(
        "prod",
        (
            ObjectDrift(
                Key("summer/sale"),
                Kind.PERSONALIZED_OFFER,
                ObjectId("dps:personalized-offer:2b"),
                "Summer sale",
                DriftStatus.CHANGED,
                (
                    FieldDrift(Op.REPLACE, "/rank/priority", 5, 10),
                    FieldDrift(Op.ADD, "/description", None, "UI copy"),
                ),
                by="alice@example.com",
                at="2026-11-20T09:30:00.000Z",
            ),
            ObjectDrift(
                Key("placements/web"),
                Kind.PLACEMENT,
                ObjectId("dps:offer-placement:1a"),
                "Web banner",
                DriftStatus.DELETED,
            ),
            ObjectDrift(
                None,
                Kind.TAG,
                ObjectId("dps:tag:9"),
                "Made in the UI",
                DriftStatus.UNMANAGED,
                by="bob@example.com",
                at="2026-11-21T08:00:00.000Z",
            ),
        ),
        checked=12,
    )
    assert render.drift_markdown(drift) == (
        "<!-- reconciler:drift:prod -->\n"
        "### reconciler drift: sandbox `prod`\n"
        "\n"
        "**Drift: 1 changed, 1 deleted, 1 unmanaged (of 12 managed objects).**\n"
        "\n"
        "| Object | Kind | What | Who | When |\n"
        "|---|---|---|---|---|\n"
        "| `summer/sale` | personalized-offer | changed | `alice@example.com` | 2026-11-20T09:30:00.000Z |\n"
        "| `placements/web` | placement | deleted |  |  |\n"
        "| `dps:tag:9` | tag | unmanaged | `bob@example.com` | 2026-11-21T08:00:00.000Z |\n"
        "\n"
        "<details><summary><code>summer/sale</code>: 2 field(s)</summary>\n"
        "\n"
        "```diff\n"
        "~ /rank/priority: 5 -> 10\n"
        '+ /description: "UI copy" (added outside git)\n'
        "```\n"
        "\n"
        "</details>\n"
        "\n"
        "Git is the source of truth: the next apply reverts these edits. To keep one, copy it into "
        "the YAML in a pull request, or cede the field with an ignore rule in `reconciler.yaml`.\n"
    )


def test_a_lot_of_drift_fits_an_issue_and_points_at_the_command() -> None:
    long = "x" * 2_000
    objects = tuple(
        ObjectDrift(
            Key(f"summer/offer-{n:03d}"),
            Kind.PERSONALIZED_OFFER,
            ObjectId(f"dps:personalized-offer:{n}"),
            f"Offer {n}",
            DriftStatus.CHANGED,
            (FieldDrift(Op.REPLACE, "/description", long, long[::-1] + "!"),),
        )
        for n in range(200)
    )
    text = render.drift_markdown(Drift("prod", objects, checked=200))
    assert len(text) <= render.COMMENT_LIMIT
    assert text.startswith("<!-- reconciler:drift:prod -->\n")
    assert text.rstrip("\n").endswith(
        "characters. `reconciler drift --sandbox prod` shows all of them.*"
    )


# --- the comment of a pull request that gets no plan -------------------------------------------


def test_a_fork_gets_a_comment_saying_only_validation_ran() -> None:
    assert render.validation_markdown((), 7, "prod", FORK) == (
        "<!-- reconciler:plan:prod -->\n"
        "### reconciler plan: sandbox `prod`\n"
        "\n"
        "**No plan computed:** this pull request comes from a fork, which gets no credentials; "
        "only validation ran.\n"
        "\n"
        ":white_check_mark: **Validation passed:** 7 objects in `offers/`.\n"
    )


def test_a_fork_with_invalid_offers_gets_every_problem() -> None:
    problems = (
        Problem("offers/summer/sale.yaml", 12, 5, "endDate is before startDate"),
        Problem("offers/x.yaml", 1, 1, "kind: unknown kind 'offer'"),
    )
    assert render.validation_markdown(problems, 0, "prod", FORK) == (
        "<!-- reconciler:plan:prod -->\n"
        "### reconciler plan: sandbox `prod`\n"
        "\n"
        "**No plan computed:** this pull request comes from a fork, which gets no credentials; "
        "only validation ran.\n"
        "\n"
        ":x: **Validation failed: 2 problems.**\n"
        "\n"
        "```text\n"
        "offers/summer/sale.yaml:12:5: endDate is before startDate\n"
        "offers/x.yaml:1:1: kind: unknown kind 'offer'\n"
        "```\n"
    )


# --- through the CLI: the state guard and the sandbox matrix ----------------------------------


def test_the_state_guard_annotates_each_hand_edited_state_file_and_fails() -> None:
    done = CliRunner().invoke(cli, ["state", "guard", "state/prod.json", "offers/a.yaml"])
    assert done.exit_code == 1
    assert done.stdout == (
        "::error file=state/prod.json::state/prod.json is written only by reconciler apply: "
        "revert this change; to rename or forget an object use `reconciler state mv` / "
        "`state rm` on main, or `reconciler import` to adopt one\n"
    )


def test_the_state_guard_passes_a_pull_request_that_leaves_state_alone() -> None:
    done = CliRunner().invoke(cli, ["state", "guard", "offers/a.yaml", "state/.gitkeep"])
    assert (done.exit_code, done.stdout) == (0, "state/ untouched.\n")


CONFIG = """\
default: local
sandboxes:
  local:
    endpoint: embedded
  prod:
    endpoint: https://platform.adobe.io/data/core/dps
    ims: https://ims-na1.adobelogin.com/ims/token/v3
    org: 1234ABCD@AdobeOrg
  dev:
    endpoint: https://platform.adobe.io/data/core/dps
    ims: https://ims-na1.adobelogin.com/ims/token/v3
"""


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--remote"], '["dev", "prod"]\n'),  # the job matrix: real sandboxes only
        ([], '["dev", "local", "prod"]\n'),
    ],
)
def test_sandboxes_as_json_is_the_job_matrix(
    tmp_path: Path, args: list[str], expected: str
) -> None:
    (tmp_path / "reconciler.yaml").write_text(CONFIG)
    # dev has no org: the workflows give ADOBE_ORG_ID from a repository variable.
    deps = commands.Dependencies(env={"ADOBE_ORG_ID": "5678EFGH@AdobeOrg"})
    done = CliRunner().invoke(
        cli, ["-C", str(tmp_path), "sandboxes", *args, "--format", "json"], obj=deps
    )
    assert (done.exit_code, done.stdout) == (0, expected)


def test_a_repository_without_remote_sandboxes_has_an_empty_matrix(tmp_path: Path) -> None:
    (tmp_path / "reconciler.yaml").write_text(
        "default: local\nsandboxes:\n  local:\n    endpoint: embedded\n"
    )
    done = CliRunner().invoke(
        cli,
        ["-C", str(tmp_path), "sandboxes", "--remote", "--format", "json"],
        obj=commands.Dependencies(env={}),
    )
    assert (done.exit_code, done.stdout) == (0, "[]\n")


# --- nothing secret is ever rendered ----------------------------------------------------------


def test_no_renderer_can_reach_credentials() -> None:
    # The renderers take plans, drift and reports, which hold no credentials, and nothing else.
    public = [
        function
        for name, function in inspect.getmembers(render, inspect.isfunction)
        if function.__module__ == render.__name__
    ]
    assert public
    for function in public:
        annotations = " ".join(str(a) for a in function.__annotations__.values())
        assert "Credentials" not in annotations, function.__name__
    assert "Credentials" not in Path(render.__file__).read_text()


def test_rendered_output_never_contains_a_credential() -> None:
    secret, token = "p8e-FAKE-client-secret-7a1b2c", "eyJhbGciOi.FAKE-access-token.9b8a7c"
    credentials = Credentials(
        client_id="ci-bot-0f3c9d", client_secret=secret, scopes="openid", access_token=token
    )
    assert credentials.secrets == (secret, token)
    assert secret not in repr(credentials)
    assert token not in repr(credentials)
    plan = _plan(*_offers(3), _update(PatchOp(Op.REPLACE, "/rank/priority", 5, 10)), DELETE)
    report = Report(
        "prod",
        (Result(Key("a"), Kind.TAG, Action.CREATE, Outcome.FAILED, detail="401 Unauthorized"),),
    )
    drift = Drift(
        "prod",
        (ObjectDrift(Key("a"), Kind.TAG, ObjectId("dps:tag:1"), "A", DriftStatus.DELETED),),
        1,
    )
    outputs = [
        render.plan_markdown(plan),
        render.report_markdown(report),
        render.report_json(report),
        render.drift_markdown(drift),
        render.drift_json(drift),
        render.validation_markdown((), 1, "prod", FORK),
        *(line.text for line in render.plan_text(plan)),
        *(line.text for line in render.report_text(report)),
        *(line.text for line in render.drift_text(drift)),
    ]
    for text in (*credentials.secrets, "ci-bot-0f3c9d"):
        assert not any(text in output for output in outputs)


def test_what_the_workflows_post_never_contains_the_credentials(tmp_path: Path) -> None:
    """The plan, apply and drift steps, as the workflows run them, against a pinned IMS."""
    client_id, secret = "ci-bot-0f3c9d", "p8e-FAKE-client-secret-7a1b2c"
    repo = make_repo(tmp_path / "repo", estate=False)
    write(repo)
    env = {"ADOBE_CLIENT_ID": client_id, "ADOBE_CLIENT_SECRET": secret, "ADOBE_SCOPES": "openid"}
    with served_emulator("--client-id", client_id, "--client-secret", secret) as base:
        (repo / "reconciler.yaml").write_text(served_config(base, "prod"))

        def run(*args: str) -> str:
            done = CliRunner().invoke(
                cli, ["-C", str(repo), "-v", *args], obj=commands.Dependencies(env=env)
            )
            assert done.exit_code in (0, 2), done.output
            return done.output

        outputs = [
            run(
                "plan",
                "--sandbox",
                "prod",
                "--format",
                "markdown",
                "--detailed-exitcode",
                "--out",
                str(repo / "plan.json"),
            ),
            run("apply", "--sandbox", "prod", "--auto-approve", "--format", "markdown"),
            run("drift", "--sandbox", "prod", "--format", "markdown"),
        ]
    assert "**Plan: 7 to create, 0 to update, 0 to delete.**" in outputs[0]  # it really ran
    assert "**Apply: 7 applied, 0 failed, 0 conflicts, 0 not attempted.**" in outputs[1]
    files = [(repo / "plan.json").read_text(), (repo / "state" / "prod.json").read_text()]
    for text in (*outputs, *files):
        assert secret not in text


def test_a_hostile_ui_user_name_renders_inert_in_drift_and_plan_comments() -> None:
    """`by` is whatever the server says modified an object: it must not become markup, a link,
    an image or an @mention in the issue or the plan comment."""
    evil = "<img src=x onerror=alert(1)> @org/team `x` [y](z)"
    drift = Drift(
        "prod",
        (
            ObjectDrift(
                Key("summer/sale"),
                Kind.PERSONALIZED_OFFER,
                ObjectId("dps:personalized-offer:2b"),
                "Summer sale",
                DriftStatus.CHANGED,
                (FieldDrift(Op.REPLACE, "/rank/priority", 5, 10),),
                by=evil,
                at="2026-11-20T09:30:00.000Z",
            ),
        ),
        checked=1,
    )
    row = next(line for line in render.drift_markdown(drift).splitlines() if "summer/sale" in line)
    assert row == (
        "| `summer/sale` | personalized-offer | changed | "
        "`<img src=x onerror=alert(1)> @org/team 'x' [y](z)` | 2026-11-20T09:30:00.000Z |"
    )
