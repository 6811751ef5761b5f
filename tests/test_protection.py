"""Protection through the CLI against the emulator: `protect: true` and `protect:` key globs.

A plan that would delete (pruning) or re-create (deleted outside git) a protected object fails
with one line naming it, what protects it and how to lift that; without pruning a removed
protected file is an orphan marked protected; `state rm` forgets without deleting; `protect` is
never sent, never diffed, and state remembers it for a file that is gone.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import EMBEDDED_CONFIG, Sandbox, make_repo
from estate import FILES, write

from reconciler.emulator.app import create_app
from reconciler.model import Kind

DECISION = "summer/decision"
BY_FILE = "protect: true in its file"
LIFT_FILE = "remove protect: true from its file"
RECORDED = "the protection state recorded at its last apply"
LIFT_RECORDED = "restore its file without protect: true, apply, then remove the file"


def _glob_by(glob: str) -> str:
    return f"the glob {glob!r} under protect: in reconciler.yaml"


def _glob_lift(glob: str) -> str:
    return f"remove {glob!r} from protect: in reconciler.yaml"


def _sandbox(
    tmp_path: Path,
    *,
    protected: tuple[str, ...] = (),
    globs: tuple[str, ...] = (),
    prune: bool = False,
) -> Sandbox:
    """The small estate, the files named in `protected` saying protect: true, applied."""
    config = EMBEDDED_CONFIG.replace("prune: false", f"prune: {str(prune).lower()}")
    if globs:
        config += "protect:\n" + "".join(f"  - {glob!r}\n" for glob in globs)
    root = make_repo(tmp_path / "repo", config=config, estate=False)
    write(
        root,
        {
            name: text + ("protect: true\n" if name in protected else "")
            for name, text in FILES.items()
        },
    )
    sandbox = Sandbox(app=create_app(), root=root)
    done = sandbox.run("apply", "--auto-approve")
    assert done.exit_code == 0, done.output
    return sandbox


def _state(sandbox: Sandbox) -> dict[str, Any]:
    state: dict[str, Any] = json.loads((sandbox.root / "state" / "local.json").read_text())
    return state


def _entry(sandbox: Sandbox, key: str) -> dict[str, Any]:
    entry: dict[str, Any] = _state(sandbox)["objects"][key]
    return entry


def _live(sandbox: Sandbox, kind: Kind, object_id: str) -> dict[str, Any]:
    live: dict[str, Any] = sandbox.call(lambda client: client.get(kind, object_id))
    return live


def _remove(sandbox: Sandbox, key: str) -> None:
    (sandbox.root / "offers" / f"{key}.yaml").unlink()


def _deleting(object_id: str, by: str, lift: str) -> str:
    return (
        f"Error: {DECISION}: its file is gone from git and pruning would delete it (decision "
        f"{object_id}), but it is protected by {by}: to delete it, {lift}; to keep it in Adobe "
        f"and stop managing it, run `reconciler state rm {DECISION}`\n"
    )


def _recreating(object_id: str, by: str, lift: str) -> str:
    return (
        f"Error: offers/{DECISION}.yaml: {DECISION} (decision {object_id}) was deleted outside "
        f"git and the plan would re-create it as a new object with a new id, but it is protected "
        f"by {by}: to re-create it, {lift}; or forget the deleted object with "
        f"`reconciler state rm {DECISION}` (the next plan creates it as new)\n"
    )


GUARDS = [
    pytest.param(("summer/decision.yaml",), (), "file", id="by its file"),
    pytest.param((), ("summer/dec*",), "glob", id="by a glob"),
    pytest.param((), ("summer/*",), "glob", id="by a glob over a folder"),
    pytest.param(("summer/decision.yaml",), ("summer/decision",), "both", id="by both"),
]


def _said(protected: tuple[str, ...], globs: tuple[str, ...], *, gone: bool) -> tuple[str, str]:
    """What the message says protects the decision, and how to lift it."""
    by: list[str] = []
    lift: list[str] = []
    if globs:
        lift.append(_glob_lift(globs[0]))
    if gone:  # state recorded the protection, the file's or the glob's
        by.append(RECORDED)
        lift.append(LIFT_RECORDED)
    elif protected:
        by.append(BY_FILE)
        lift.append(LIFT_FILE)
    if globs:
        by.append(_glob_by(globs[0]))
    return " and ".join(by), ", and ".join(lift)


# --- deletes ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("protected", "globs", "_"), GUARDS)
@pytest.mark.parametrize("how", ["--prune", "prune: true"])
def test_pruning_a_protected_object_fails_the_plan_and_deletes_nothing(
    tmp_path: Path, protected: tuple[str, ...], globs: tuple[str, ...], _: str, how: str
) -> None:
    sandbox = _sandbox(tmp_path, protected=protected, globs=globs, prune=how == "prune: true")
    object_id = _entry(sandbox, DECISION)["id"]
    _remove(sandbox, DECISION)
    flag = ("--prune",) if how == "--prune" else ()
    expected = _deleting(object_id, *_said(protected, globs, gone=True))
    for command in (("plan", *flag), ("apply", "--auto-approve", *flag)):
        done = sandbox.run(*command)
        assert (done.exit_code, done.output) == (1, expected), command
    assert _live(sandbox, Kind.DECISION, object_id)["name"] == "Home page summer"
    assert _entry(sandbox, DECISION)["id"] == object_id


def test_several_protected_deletes_are_one_line_each(tmp_path: Path) -> None:
    sandbox = _sandbox(tmp_path, globs=("summer/*",))
    ids = {key: entry["id"] for key, entry in _state(sandbox)["objects"].items()}
    _remove(sandbox, DECISION)
    _remove(sandbox, "summer/collection")
    done = sandbox.run("plan", "--prune")
    by = f"{RECORDED} and {_glob_by('summer/*')}"
    lift = (
        f"{_glob_lift('summer/*')}, and {LIFT_RECORDED}; to keep it in Adobe and stop managing "
        "it, run"
    )
    assert (done.exit_code, done.output) == (
        1,
        "Error: the plan would delete or re-create 2 protected objects:\n"
        f"  {DECISION}: its file is gone from git and pruning would delete it (decision "
        f"{ids[DECISION]}), but it is protected by {by}: to delete it, "
        f"{lift} `reconciler state rm {DECISION}`\n"
        "  summer/collection: its file is gone from git and pruning would delete it (collection "
        f"{ids['summer/collection']}), but it is protected by {by}: to delete "
        f"it, {lift} `reconciler state rm summer/collection`\n",
    )


def test_an_unprotected_delete_still_prunes(tmp_path: Path) -> None:
    sandbox = _sandbox(tmp_path, globs=("tags/*",), protected=("placements/web.yaml",))
    _remove(sandbox, DECISION)
    done = sandbox.run("apply", "--auto-approve", "--prune")
    assert done.exit_code == 0, done.output
    assert DECISION not in _state(sandbox)["objects"]


def test_a_protected_object_already_gone_is_only_forgotten(tmp_path: Path) -> None:
    sandbox = _sandbox(tmp_path, protected=("summer/decision.yaml",))
    object_id = _entry(sandbox, DECISION)["id"]
    sandbox.call(lambda client: client.delete(Kind.DECISION, object_id, if_match=None))
    _remove(sandbox, DECISION)
    done = sandbox.run("apply", "--auto-approve", "--prune")
    assert done.exit_code == 0, done.output
    assert DECISION not in _state(sandbox)["objects"]


# --- orphans ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("protected", "globs", "_"), GUARDS)
def test_without_pruning_a_removed_protected_file_is_an_orphan_marked_protected(
    tmp_path: Path, protected: tuple[str, ...], globs: tuple[str, ...], _: str
) -> None:
    sandbox = _sandbox(tmp_path, protected=protected, globs=globs)
    ids = {key: entry["id"] for key, entry in _state(sandbox)["objects"].items()}
    _remove(sandbox, DECISION)
    _remove(sandbox, "summer/sale")
    _remove(sandbox, "summer/collection")
    done = sandbox.run("plan", "--detailed-exitcode")
    assert done.exit_code == 0, done.output
    assert (
        "Orphans (in state, gone from git; --prune would delete them):\n"
        f"  summer/collection (collection {ids['summer/collection']})"
        + (" (protected)" if globs == ("summer/*",) else "")
        + f"\n  {DECISION} (decision {ids[DECISION]}) (protected)\n"
        f"  summer/sale (personalized-offer {ids['summer/sale']})"
        + (" (protected)" if globs == ("summer/*",) else "")
        + "\n"
    ) in done.output
    shown = json.loads(sandbox.run("plan", "--format", "json").output)
    assert {o["key"]: o.get("protected", False) for o in shown["orphans"]} == {
        "summer/collection": globs == ("summer/*",),
        DECISION: True,
        "summer/sale": globs == ("summer/*",),
    }
    markdown = sandbox.run("plan", "--format", "markdown").output
    assert f"- `{DECISION}` (decision `{ids[DECISION]}`) (protected)" in markdown


# --- re-creates ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("protected", "globs", "_"), GUARDS)
def test_re_creating_a_protected_object_deleted_outside_git_fails_until_state_rm(
    tmp_path: Path, protected: tuple[str, ...], globs: tuple[str, ...], _: str
) -> None:
    sandbox = _sandbox(tmp_path, protected=protected, globs=globs)
    object_id = _entry(sandbox, DECISION)["id"]
    sandbox.call(lambda client: client.delete(Kind.DECISION, object_id, if_match=None))
    expected = _recreating(object_id, *_said(protected, globs, gone=False))
    for command in (("plan",), ("apply", "--auto-approve")):
        done = sandbox.run(*command)
        assert (done.exit_code, done.output) == (1, expected), command
    # Forgetting the deleted object lifts it: the file is then a new object, created knowingly.
    assert sandbox.run("state", "rm", DECISION).exit_code == 0
    planned = json.loads(sandbox.run("plan", "--format", "json").output)
    assert [(c["key"], c["action"], c["reasons"]) for c in planned["changes"]] == [
        (DECISION, "create", ["new"])
    ]
    done = sandbox.run("apply", "--auto-approve")
    assert done.exit_code == 0, done.output
    assert _entry(sandbox, DECISION)["id"] != object_id
    assert _entry(sandbox, DECISION).get("protect", False) == bool(protected or globs)


# --- state rm -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("protected", "globs", "_"), GUARDS)
def test_state_rm_forgets_a_protected_object_without_deleting_it(
    tmp_path: Path, protected: tuple[str, ...], globs: tuple[str, ...], _: str
) -> None:
    sandbox = _sandbox(tmp_path, protected=protected, globs=globs)
    object_id = _entry(sandbox, DECISION)["id"]
    _remove(sandbox, DECISION)
    assert sandbox.run("plan", "--prune").exit_code == 1
    done = sandbox.run("state", "rm", DECISION)
    assert done.exit_code == 0, done.output
    assert sandbox.run("plan", "--prune", "--detailed-exitcode").exit_code == 0
    assert _live(sandbox, Kind.DECISION, object_id)["name"] == "Home page summer"


# --- lifting and recording ----------------------------------------------------------------------


@pytest.mark.parametrize("saved", [False, True], ids=["plan and apply", "a saved plan"])
def test_state_records_protection_so_a_removed_file_keeps_it(tmp_path: Path, saved: bool) -> None:
    sandbox = _sandbox(tmp_path)
    object_id = _entry(sandbox, DECISION)["id"]
    path = sandbox.root / "offers" / f"{DECISION}.yaml"

    def apply_it(expected: str) -> None:
        plan = sandbox.run("plan", *(("--out", str(tmp_path / "plan.json")) if saved else ()))
        assert plan.exit_code == 0, plan.output
        assert f"* refresh decision {DECISION}" in plan.output
        assert "(protect changed in git: state records it)" in plan.output
        done = (
            sandbox.run("apply", str(tmp_path / "plan.json"))
            if saved
            else sandbox.run("apply", "--auto-approve")
        )
        assert done.exit_code == 0, done.output
        assert sandbox.run("plan", "--detailed-exitcode").exit_code == 0
        assert (
            str(_live(sandbox, Kind.DECISION, object_id)["etag"])
            == _entry(sandbox, DECISION)["etag"]
        )
        assert expected in done.output

    # Protecting an object that does not otherwise change records it in state, sending nothing.
    path.write_text(path.read_text() + "protect: true\n")
    apply_it("state refreshed")
    assert _entry(sandbox, DECISION)["protect"] is True
    path.unlink()
    assert sandbox.run("plan", "--prune").exit_code == 1
    # Lifting: restore the file without protect: true, apply (state forgets it), then remove it.
    path.write_text(FILES[f"{DECISION}.yaml"])
    apply_it("state refreshed")
    assert "protect" not in _entry(sandbox, DECISION)
    path.unlink()
    done = sandbox.run("apply", "--auto-approve", "--prune")
    assert done.exit_code == 0, done.output
    assert f"applied: delete decision {DECISION}" in done.output


def test_removing_the_glob_then_applying_lifts_it(tmp_path: Path) -> None:
    sandbox = _sandbox(tmp_path, globs=("summer/dec*",))
    config = sandbox.root / "reconciler.yaml"
    config.write_text(config.read_text().replace("protect:\n  - 'summer/dec*'\n", ""))
    assert sandbox.run("apply", "--auto-approve").exit_code == 0  # state forgets the protection
    assert "protect" not in _entry(sandbox, DECISION)
    _remove(sandbox, DECISION)
    done = sandbox.run("apply", "--auto-approve", "--prune")
    assert done.exit_code == 0, done.output
    assert DECISION not in _state(sandbox)["objects"]


@pytest.mark.parametrize("glob", ["summer/dec*", "summer/*"])
def test_state_records_glob_protection_so_a_removed_file_and_glob_keep_it(
    tmp_path: Path, glob: str
) -> None:
    """Found in review: only `protect: true` in a file was recorded, so removing the file and
    the glob in one change deleted a glob-protected object."""
    sandbox = _sandbox(tmp_path, globs=(glob,))
    assert _entry(sandbox, DECISION)["protect"] is True
    assert "protect" not in _entry(sandbox, "tags/summer")
    assert sandbox.run("plan", "--detailed-exitcode").exit_code == 0  # recorded: nothing to do
    object_id = _entry(sandbox, DECISION)["id"]
    _remove(sandbox, DECISION)
    config = sandbox.root / "reconciler.yaml"
    config.write_text(config.read_text().replace(f"protect:\n  - {glob!r}\n", ""))
    orphans = json.loads(sandbox.run("plan", "--format", "json").output)["orphans"]
    assert [o for o in orphans if o["key"] == DECISION] == [
        {"key": DECISION, "kind": "decision", "id": object_id, "protected": True}
    ]
    expected = _deleting(object_id, RECORDED, LIFT_RECORDED)
    for command in (("plan", "--prune"), ("apply", "--auto-approve", "--prune")):
        done = sandbox.run(*command)
        assert (done.exit_code, done.output) == (1, expected), command
    assert _live(sandbox, Kind.DECISION, object_id)["name"] == "Home page summer"


def test_adding_a_glob_is_a_state_only_refresh(tmp_path: Path) -> None:
    sandbox = _sandbox(tmp_path)
    config = sandbox.root / "reconciler.yaml"
    config.write_text(config.read_text() + "protect: [summer/dec*]\n")
    plan = sandbox.run("plan")
    assert plan.exit_code == 0, plan.output
    assert f"* refresh decision {DECISION}" in plan.output
    assert "(protect changed in git: state records it)" in plan.output
    assert sandbox.run("apply", "--auto-approve").exit_code == 0
    assert _entry(sandbox, DECISION)["protect"] is True
    assert sandbox.run("plan", "--detailed-exitcode").exit_code == 0


# --- never sent, never diffed -------------------------------------------------------------------


def test_protect_is_never_sent_nor_diffed_for_any_kind(tmp_path: Path) -> None:
    """Every file of the example estate (every kind of both models) protected: nothing of it
    reaches Adobe, the plan's documents or operations; state records it for each."""
    root = make_repo(tmp_path / "repo")
    files = [  # reconciler's own kinds (profile, decision-test) are never sent: no protect
        path
        for path in sorted((root / "offers").rglob("*.yaml"))
        if path.relative_to(root / "offers").parts[0] not in ("profiles", "tests")
    ]
    kinds = set()
    for path in files:
        text = path.read_text()
        kinds.add(re.search(r"^kind: (\S+)$", text, re.MULTILINE).group(1))  # type: ignore[union-attr]
        path.write_text(re.sub(r"^(kind: \S+\n)", r"\1protect: true\n", text, flags=re.MULTILINE))
    assert kinds == {kind.value for kind in Kind}
    sandbox = Sandbox(app=create_app(), root=root)
    first = sandbox.run("plan", "--format", "json")
    assert first.exit_code == 0, first.output
    assert '"protect": true' in first.output  # the changes' flag, which apply records
    for change in json.loads(first.output)["changes"]:
        assert change["protect"] is True
        assert "protect" not in json.dumps(change["documents"]), change["key"]
        assert "protect" not in json.dumps(change["patch"]), change["key"]
    assert sandbox.run("apply", "--auto-approve").exit_code == 0
    objects = _state(sandbox)["objects"]
    assert len(objects) == len(files)
    for key, entry in objects.items():
        assert entry["protect"] is True, key
        assert "protect" not in entry["applied"], key
        live = _live(sandbox, Kind(entry["kind"]), entry["id"])
        assert "protect" not in json.dumps(live), key
    assert sandbox.run("plan", "--detailed-exitcode").exit_code == 0
    # An update of a protected object: its operations never name protect.
    tag = next(path for path in files if path.read_text().find("kind: tag") >= 0)
    tag.write_text(tag.read_text() + "description: edited\n")
    changed = json.loads(sandbox.run("plan", "--format", "json").output)["changes"]
    assert [op["path"] for c in changed for op in c["patch"] if op["op"] != "test"] == [
        "/description"
    ]


# --- validation ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "got"),
    [
        ('"yes"', 'got "yes"'),
        ("yes", 'got "yes"'),  # YAML 1.2: text, not a boolean
        ("1", "got 1"),
        ("[true]", "got a list"),
        ("{on: true}", "got a mapping"),
    ],
)
@pytest.mark.parametrize(
    ("name", "after", "line"),
    [
        ("summer/decision.yaml", "status: live\n", 4),
        ("tags/summer.yaml", "name: Summer\n", 3),
    ],
)
def test_protect_must_be_a_boolean_at_its_place(
    tmp_path: Path, value: str, got: str, name: str, after: str, line: int
) -> None:
    root = make_repo(tmp_path / "repo", estate=False)
    write(root, {**FILES, name: FILES[name].replace(after, f"{after}protect: {value}\n")})
    done = Sandbox(app=create_app(), root=root).run("validate")
    assert (done.exit_code, done.output) == (
        1,
        f"offers/{name}:{line}:10: protect: expected true or false ({got})\n"
        "1 problem in offers/: fix the lines above and run validate again.\n",
    )


def test_a_decision_item_may_be_protected(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo")
    path = root / "offers" / "decisioning" / "items" / "gift-card.yaml"
    path.write_text(
        path.read_text().replace("kind: decision-item\n", "kind: decision-item\nprotect: false\n")
    )
    done = Sandbox(app=create_app(), root=root).run("validate")
    assert done.exit_code == 0, done.output


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        (
            "protect: ['']",
            "10:11: protect.0: a glob must not be empty: write a key or a key glob such as decisions/*",
        ),
        (
            "protect: [summer/*, '  ']",
            "10:21: protect.1: a glob must not be empty: write a key or a key glob such as decisions/*",
        ),
        (
            "protect: [offers/summer/*]",
            "10:11: protect.0: 'offers/summer/*' never matches a key: a key is the path under "
            "offers/ without the suffix, so write 'summer/*'",
        ),
        (
            "protect: [summer/sale.yaml]",
            "10:11: protect.0: 'summer/sale.yaml' never matches a key: a key is the path under "
            "offers/ without the suffix, so write 'summer/sale'",
        ),
        (
            "protect: [1]",
            "10:11: protect.0: expected a key glob as text, such as decisions/* (got 1)",
        ),
        (
            "protect: summer/*",
            "10:10: protect: expected a list of key globs, such as [decisions/*, "
            'placements/web-banner] (got "summer/*")',
        ),
    ],
)
def test_protect_globs_in_the_configuration_are_checked_at_their_place(
    tmp_path: Path, setting: str, expected: str
) -> None:
    root = make_repo(tmp_path / "repo", config=EMBEDDED_CONFIG + setting + "\n", estate=False)
    write(root)
    done = Sandbox(app=create_app(), root=root).run("plan")
    assert (done.exit_code, done.output) == (1, f"Error: reconciler.yaml:{expected}\n")


def test_a_state_file_records_protect_as_a_boolean_and_older_files_load(tmp_path: Path) -> None:
    sandbox = _sandbox(tmp_path, protected=("tags/summer.yaml",))
    state = _state(sandbox)
    assert state["objects"]["tags/summer"]["protect"] is True
    assert all("protect" not in e for k, e in state["objects"].items() if k != "tags/summer")
    path = sandbox.root / "state" / "local.json"
    # A file written before protection existed: no protect field; the next plan records it.
    del state["objects"]["tags/summer"]["protect"]
    path.write_text(json.dumps(state))
    done = sandbox.run("plan")
    assert done.exit_code == 0, done.output
    assert "* refresh tag tags/summer" in done.output
    state["objects"]["tags/summer"]["protect"] = "yes"
    path.write_text(json.dumps(state))
    done = sandbox.run("plan")
    assert (done.exit_code, done.output) == (
        1,
        'Error: state/local.json: malformed state: objects["tags/summer"].protect must be a '
        'boolean, not "yes": restore it from git or local.json.bak\n',
    )
