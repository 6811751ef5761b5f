"""`reconciler.pull_report`: the drift pull request's body says every change field by field,
names the other sandboxes a merge changes, shows what pull could not write, carries a digest of
the change, and renders nothing of the UI's text as markup.

The pure renderers are fed literal pulls; the rest runs `reconciler pull` through the CLI against
the emulator, as tests/test_pull.py does.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from conftest import EMBEDDED_CONFIG, Sandbox, make_repo

from reconciler import pull_outcome, pull_report
from reconciler.emulator.app import create_app
from reconciler.model import JsonValue, Key, Kind, ObjectId, Op
from reconciler.pulling import Conflict, Deletion, FieldPull, ObjectPull, Pull, Pulled
from reconciler.roundtrip import Edit

SALE = "summer/sale-60"
SHIPPING = "summer/free-shipping"
HOSTILE = "<img src=x onerror=alert(1)>"
MARKETER = "marketer-ui@techacct.adobe.com"
ESTATE = Path(__file__).resolve().parent.parent / "offers"


def _object(
    fields: tuple[FieldPull, ...], *, key: str = SALE, by: str = MARKETER, at: str = "T"
) -> ObjectPull:
    return ObjectPull(
        key=Key(key),
        kind=Kind.PERSONALIZED_OFFER,
        name="Summer sale 60%",
        path=f"offers/{key}.yaml",
        fields=fields,
        edits=(Edit(("name",), "x"),),
        applied={},
        etag=None,
        by=by,
        at=at,
    )


def _done(*objects: ObjectPull, deleted: tuple[Deletion, ...] = ()) -> Pulled:
    return Pulled(Pull("prod", objects, deleted, 30), (), (), False)


# --- field by field -------------------------------------------------------------------------


OVERRIDDEN_SALE = ESTATE.joinpath(f"{SALE}.yaml").read_text() + (
    "overrides:\n  local:\n    status: draft\n    rank: {priority: 5}\n"
)


def test_override_changes_are_reported_field_by_field(tmp_path: Path) -> None:
    """Found in review: a change to every field of an override was one blob."""
    sandbox = _applied(tmp_path, files={SALE: OVERRIDDEN_SALE})
    _patch(
        sandbox,
        SALE,
        [
            {"op": "replace", "path": "/rank/priority", "value": 7},
            {"op": "replace", "path": "/status", "value": "approved"},
        ],
    )
    report = _json(sandbox, "pull", "--dry-run", "--format", "json")
    assert report["objects"][0]["fields"] == [
        {"op": "replace", "path": "/overrides/local/status", "git": "draft", "live": "approved"},
        {"op": "replace", "path": "/overrides/local/rank/priority", "git": 5, "live": 7},
    ]
    body = sandbox.run("pull", "--format", "markdown").stdout
    assert "| `/overrides/local/status`, `/overrides/local/rank/priority` |" in body
    assert (
        "```diff\n"
        '~ /overrides/local/status: "draft" -> "approved"\n'
        "~ /overrides/local/rank/priority: 5 -> 7\n"
        "```\n"
    ) in body


# --- the other sandboxes a merge changes ----------------------------------------------------


MULTI = EMBEDDED_CONFIG + "  dev:\n    endpoint: embedded\n  stage:\n    endpoint: embedded\n"
DEV_RANK = ESTATE.joinpath(f"{SALE}.yaml").read_text() + (
    "overrides:\n  dev:\n    rank: {priority: 1}\n"
)


def test_merging_a_base_field_names_the_other_sandboxes_it_changes(tmp_path: Path) -> None:
    sandbox = _applied(tmp_path, config=MULTI, files={SALE: DEV_RANK})
    _patch(
        sandbox,
        SALE,
        [
            {"op": "replace", "path": "/rank/priority", "value": 70},
            {"op": "replace", "path": "/status", "value": "draft"},
        ],
    )
    report = _json(sandbox, "pull", "--dry-run", "--format", "json")
    assert report["objects"][0]["shared"] == {
        "/rank/priority": ["stage"],
        "/status": ["dev", "stage"],
    }
    text = sandbox.run("pull", "--dry-run").stderr
    assert (
        "      ~ /rank/priority: 50 -> 70\n"
        '      ~ /status: "approved" -> "draft"\n'
        "      merging also changes /rank/priority in sandbox stage (no override there)\n"
        "      merging also changes /status in sandboxes dev, stage (no override there)\n"
    ) in text
    body = sandbox.run("pull", "--format", "markdown").stdout
    assert (
        ":warning: **Merging also changes other sandboxes.** These fields are pulled into the "
        "body written for every sandbox, so each sandbox whose `overrides:` does not set them "
        "gets the new values at its next apply:\n"
        "\n"
        "| Object | Fields | Also changes |\n"
        "|---|---|---|\n"
        f"| `{SALE}` | `/rank/priority` | `stage` |\n"
        f"| `{SALE}` | `/status` | `dev`, `stage` |\n"
    ) in body


def test_a_field_pulled_into_the_sandbox_s_override_names_no_other_sandbox(
    tmp_path: Path,
) -> None:
    local = DEV_RANK.replace("  dev:\n", "  local:\n    status: draft\n  dev:\n")
    sandbox = _applied(tmp_path, config=MULTI, files={SALE: local})
    _patch(sandbox, SALE, [{"op": "replace", "path": "/status", "value": "archived"}])
    report = _json(sandbox, "pull", "--format", "json")
    assert [(o["fields"], o["shared"]) for o in report["objects"]] == [
        (
            [
                {
                    "op": "replace",
                    "path": "/overrides/local/status",
                    "git": "draft",
                    "live": "archived",
                }
            ],
            {},
        )
    ]


# --- inert live text ------------------------------------------------------------------------


def test_live_text_renders_inert_in_the_pull_request_body() -> None:
    """Found in review: names, values and `by` went into the body as markup (an <img> tag, an
    @mention of a team)."""
    edited = _object(
        (
            FieldPull(Op.REPLACE, "/name", "Summer sale", HOSTILE),
            FieldPull(Op.REPLACE, "/description", "a", "```\n@org/team `x`"),
        ),
        by="@org/team",
        at="2027-06-03T14:12:09.000Z",
    )
    clash = ObjectPull(
        key=Key("tags/summer"),
        kind=Kind.TAG,
        name="Summer",
        path="offers/tags/summer.yaml",
        fields=(),
        edits=(),
        applied={},
        etag=None,
        by="<script>alert(1)</script>",
        at="`now` | @here",
        conflicts=(Conflict("/name", "Summer", "Sommer", HOSTILE),),
    )
    gone = Deletion(
        Key("tags/loyalty"),
        Kind.TAG,
        ObjectId("dps:offer-tag:1"),
        HOSTILE,
        "offers/tags/loyalty.yaml",
        referenced_by=(Key(SALE),),
    )
    done = _done(edited, clash, deleted=(gone,))
    digest = pull_outcome.digest(done)
    assert digest is not None
    assert pull_report.pull_markdown(done) == (
        "<!-- reconciler:pull:prod -->\n"
        "### reconciler pull: sandbox `prod`\n"
        "\n"
        "**Edits made outside git to 1 object, written into `offers/`.** Merge this pull request "
        "to accept them; close it to reject them (the next apply then reverts them, as the plan "
        "of any pull request shows).\n"
        "\n"
        "| Object | Kind | Fields | Who | When |\n"
        "|---|---|---|---|---|\n"
        f"| `{SALE}` | personalized-offer | `/name`, `/description` | `@org/team` | "
        "2027-06-03T14:12:09.000Z |\n"
        "\n"
        f"<details><summary><code>{SALE}</code> (offers/{SALE}.yaml): 2 fields</summary>\n"
        "\n"
        "````diff\n"
        '~ /name: "Summer sale" -> "<img src=x onerror=alert(1)>"\n'
        '~ /description: "a" -> "```\\n@org/team `x`"\n'
        "````\n"
        "\n"
        "</details>\n"
        "\n"
        "**Deleted outside git:**\n"
        "\n"
        "- tag `tags/loyalty` `<img src=x onerror=alert(1)>` deleted outside git "
        f"(`dps:offer-tag:1`): kept, still referenced by `{SALE}` (remove the references, then "
        "pull again)\n"
        "\n"
        "**Not pulled: changed in git too** (git's values stay; the next apply reverts these "
        "edits unless git takes them):\n"
        "\n"
        "- `tags/summer` by `<script>alert(1)</script>` at `'now' \\| @here`\n"
        "\n"
        "```diff\n"
        '! /name: git "Summer", outside git "<img src=x onerror=alert(1)>" (last applied '
        '"Sommer")\n'
        "```\n"
        "\n"
        "<!-- reconciler:pull-left -->\n"
        f"<!-- reconciler:pull-digest:{digest} -->\n"
    )


# --- what pull could not write --------------------------------------------------------------

# The dates of selectionConstraint come through a merge key from the anchor of dev's override:
# the UI removing one in sandbox local cannot be written without changing dev's.
MERGED_SALE = (
    ESTATE.joinpath(f"{SALE}.yaml")
    .read_text()
    .replace(
        "status: approved\n",
        "status: approved\noverrides:\n  dev:\n    selectionConstraint: &dates\n"
        '      startDate: "2027-06-01T00:00:00.000Z"\n'
        '      endDate: "2027-08-31T23:59:59.000Z"\n',
    )
    .replace(
        'selectionConstraint:\n  startDate: "2027-06-01T00:00:00.000Z"\n'
        '  endDate: "2027-08-31T23:59:59.000Z"\n',
        "selectionConstraint:\n  <<: *dates\n",
    )
)
REFUSAL = (
    f"offers/{SALE}.yaml: the edit cannot be written without changing other values (a field "
    "inherited through a merge key `<<`, say): edit the file by hand"
)
REFUSAL_SPAN = REFUSAL.replace("`", "'")  # a backtick would end the code span it is shown in


def test_a_file_that_cannot_be_edited_is_reported_and_the_rest_is_pulled(tmp_path: Path) -> None:
    """Found in review: one such file stopped the whole pull (exit 1), so the drift pull request
    said nothing about it."""
    sandbox = _applied(tmp_path, config=MULTI, files={SALE: MERGED_SALE})
    _patch(sandbox, SALE, [{"op": "remove", "path": "/selectionConstraint/endDate"}])
    _patch(sandbox, SHIPPING, [{"op": "replace", "path": "/name", "value": "Free shipping"}])
    before = (sandbox.root / "offers" / f"{SALE}.yaml").read_text()
    done = sandbox.run("pull", "--format", "markdown")
    assert done.exit_code == 2, done.output
    body = done.stdout
    assert (
        "**Not written: the file cannot be edited in place** (edit it by hand to keep these "
        "edits; the next apply reverts them otherwise):\n"
        "\n"
        f"- `{SALE}` (`offers/{SALE}.yaml`): `{REFUSAL_SPAN}`\n"
        "\n"
        "<!-- reconciler:pull-left -->\n"
    ) in body
    assert (sandbox.root / "offers" / f"{SALE}.yaml").read_text() == before
    assert "name: Free shipping\n" in (sandbox.root / "offers" / f"{SHIPPING}.yaml").read_text()
    # Nothing of the refused object was recorded: drift still shows its edit, the pull again.
    drift = sandbox.run("drift")
    assert drift.exit_code == 2
    assert f"personalized-offer {SALE} " in drift.output
    assert f"personalized-offer {SHIPPING} " not in drift.output
    again = _json(sandbox, "pull", "--format", "json")
    assert (again["objects"], again["refused"]) == (
        [],
        [{"key": SALE, "path": f"offers/{SALE}.yaml", "reason": REFUSAL}],
    )
    text = sandbox.run("pull")
    assert (text.exit_code, text.stdout.splitlines()[2]) == (
        2,
        f"  ! {SALE} (offers/{SALE}.yaml) not written, nor recorded: {REFUSAL}",
    )


def test_a_deleted_object_a_refused_file_still_refers_to_keeps_its_file(tmp_path: Path) -> None:
    """The refused file stays as written, so what it refers to stays too (pulled, its edit
    would have dropped the reference)."""
    sandbox = _applied(tmp_path, config=MULTI, files={SALE: MERGED_SALE})
    state = json.loads((sandbox.root / "state" / "local.json").read_text())
    summer, loyalty = (state["objects"][key]["id"] for key in ("tags/summer", "tags/loyalty"))
    _patch(
        sandbox,
        SALE,
        [
            {"op": "remove", "path": "/selectionConstraint/endDate"},
            {"op": "replace", "path": "/tags", "value": [summer]},
        ],
    )

    async def delete(client):  # type: ignore[no-untyped-def]
        await client.delete(Kind.TAG, loyalty, if_match=None)

    sandbox.call(delete)
    report = _json(sandbox, "pull", "--deletions", "--format", "json")
    assert [(d["key"], d["referenced_by"], d["forgotten"]) for d in report["deleted"]] == [
        ("tags/loyalty", [SALE], False)
    ]
    assert (sandbox.root / "offers" / "tags" / "loyalty.yaml").exists()
    assert sandbox.run("validate").exit_code == 0


def test_a_body_that_leaves_nothing_unwritten_has_no_left_marker(tmp_path: Path) -> None:
    sandbox = _applied(tmp_path)
    _patch(sandbox, SHIPPING, [{"op": "replace", "path": "/name", "value": "Free shipping"}])
    body = sandbox.run("pull", "--dry-run", "--format", "markdown").stdout
    assert pull_report.LEFT not in body
    assert pull_report.DIGEST.search(body) is not None


# --- the digest of the change ---------------------------------------------------------------


def test_nothing_written_has_no_digest_comment() -> None:
    assert pull_report.DIGEST.search(pull_report.pull_markdown(_done())) is None


def test_the_same_drift_has_the_same_digest_after_main_moves(tmp_path: Path) -> None:
    """Found in review: a rejected drift pull request was remembered by its branch's commit, so
    the same UI edits came back as a new pull request once main moved."""
    sandbox = _applied(tmp_path)
    _patch(sandbox, SALE, [{"op": "replace", "path": "/rank/priority", "value": 70}])

    def digest() -> str:
        found = pull_report.DIGEST.search(
            sandbox.run("pull", "--dry-run", "--format", "markdown").stdout
        )
        assert found is not None
        assert found.group(1) == _json(sandbox, "pull", "--dry-run", "--format", "json")["digest"]
        return found.group(1)

    rejected = digest()
    # main moves: another file changes and is applied; the sale's file gets a comment.
    shipping = sandbox.root / "offers" / f"{SHIPPING}.yaml"
    shipping.write_text(shipping.read_text().replace("status: approved", "status: draft"))
    sale = sandbox.root / "offers" / f"{SALE}.yaml"
    sale.write_text("# Reviewed in June.\n" + sale.read_text())
    assert sandbox.run("apply", "--auto-approve", "--only", SHIPPING).exit_code == 0
    assert digest() == rejected
    _patch(sandbox, SALE, [{"op": "replace", "path": "/rank/priority", "value": 75}])
    assert digest() != rejected


# --- helpers --------------------------------------------------------------------------------


def _applied(
    tmp_path: Path, *, config: str = EMBEDDED_CONFIG, files: dict[str, str] | None = None
) -> Sandbox:
    sandbox = Sandbox(app=create_app(), root=make_repo(tmp_path / "repo", config=config))
    for key, text in (files or {}).items():
        (sandbox.root / "offers" / f"{key}.yaml").write_text(text)
    done = sandbox.run("apply", "--auto-approve", "--format", "json")
    assert done.exit_code == 0, done.output
    return sandbox


def _patch(sandbox: Sandbox, key: str, ops: list[dict[str, JsonValue]]) -> None:
    state = json.loads((sandbox.root / "state" / "local.json").read_text())
    object_id = state["objects"][key]["id"]

    async def edit(client):  # type: ignore[no-untyped-def]
        await client.patch(Kind.PERSONALIZED_OFFER, object_id, ops, if_match=None)

    sandbox.call(edit)


def _json(sandbox: Sandbox, *args: str) -> dict[str, Any]:
    done = sandbox.run(*args)
    assert done.exit_code == 2, done.output
    report: dict[str, Any] = json.loads(done.stdout)
    return report
