"""`reconciler apply` through the CLI: saved plans, etag guards, faults, crash safety."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import Sandbox, make_repo, served_config, served_emulator
from estate import KEYS, write

from reconciler.emulator.app import create_app
from reconciler.model import Kind


def _state(root: Path, sandbox: str = "local") -> dict:  # type: ignore[type-arg]
    return json.loads((root / "state" / f"{sandbox}.json").read_text())


def _fresh(tmp_path: Path, **settings: object) -> Sandbox:
    from reconciler.emulator.app import EmulatorSettings

    repo = make_repo(tmp_path / "repo", estate=False)
    write(repo)
    return Sandbox(app=create_app(EmulatorSettings(**settings)), root=repo)  # type: ignore[arg-type]


def _names(sandbox: Sandbox) -> dict[str, list[str]]:
    async def collect(client):  # type: ignore[no-untyped-def]
        out = {}
        for kind in Kind:
            out[kind.value] = sorted(str(o["name"]) for o in await client.list_all(kind))
        return out

    return sandbox.call(collect)


def test_apply_records_every_id_and_etag_and_converges(tmp_path: Path) -> None:
    sandbox = _fresh(tmp_path)
    done = sandbox.run("apply", "--auto-approve", "--format", "json")
    assert done.exit_code == 0, done.output
    report = json.loads(done.output[done.output.index("{") :])
    assert report["summary"] == {"applied": 7, "failed": 0, "conflict": 0, "not attempted": 0}
    objects = _state(sandbox.root)["objects"]
    assert sorted(objects) == KEYS
    assert all(
        entry["etag"] == "1" and entry["id"].startswith("dps:") for entry in objects.values()
    )
    sale = objects["summer/sale"]
    assert sale["applied"]["representations"][0]["placement"] == objects["placements/web"]["id"]


def test_apply_without_a_terminal_needs_auto_approve(tmp_path: Path) -> None:
    sandbox = _fresh(tmp_path)
    done = sandbox.run("apply")
    assert done.exit_code == 1
    assert done.output.splitlines()[-1] == (
        "Error: refusing to apply unattended (no terminal): review with `reconciler plan`, then pass "
        "--auto-approve or a saved plan"
    )
    assert not (sandbox.root / "state" / "local.json").exists()


def test_a_saved_plan_is_executed_exactly_and_only_once(tmp_path: Path) -> None:
    sandbox = _fresh(tmp_path)
    assert sandbox.run("plan", "--out", str(tmp_path / "plan.json")).exit_code == 0
    first = sandbox.run("apply", str(tmp_path / "plan.json"))
    assert first.exit_code == 0, first.output
    again = sandbox.run("apply", str(tmp_path / "plan.json"))
    serial = _state(sandbox.root)["serial"]
    assert (again.exit_code, again.output) == (
        1,
        "Error: this plan was applied already (an apply started on it; local.json is at serial "
        f"{serial} now): nothing was sent; run `reconciler plan --sandbox local` again and "
        "apply that plan to see what is left\n",
    )
    assert _names(sandbox)["tag"] == ["Summer"]  # never a duplicate


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            "org: OTHER@AdobeOrg",
            "Error: the plan was made for org '0000000000000000000EMBED@AdobeOrg', not 'OTHER@AdobeOrg'",
        ),
    ],
)
def test_a_plan_for_another_sandbox_is_refused(tmp_path: Path, edit: str, message: str) -> None:
    sandbox = _fresh(tmp_path)
    assert sandbox.run("plan", "--out", str(tmp_path / "plan.json")).exit_code == 0
    (sandbox.root / "reconciler.yaml").write_text(
        f"default: local\nsandboxes:\n  local:\n    endpoint: embedded\n    {edit}\n"
    )
    done = sandbox.run("apply", str(tmp_path / "plan.json"))
    assert done.exit_code == 1
    assert done.output.startswith(message)


@pytest.mark.parametrize("ignore_if_match", [False, True])
def test_an_edit_after_the_plan_is_a_conflict_and_is_kept(
    tmp_path: Path, ignore_if_match: bool
) -> None:
    sandbox = _fresh(tmp_path, ignore_if_match=ignore_if_match)
    assert sandbox.run("apply", "--auto-approve").exit_code == 0
    for name, old, new in (
        ("summer/sale.yaml", "priority: 5", "priority: 6"),
        ("tags/summer.yaml", "Summer", "Summer 2027"),
    ):
        path = sandbox.root / "offers" / name
        path.write_text(path.read_text().replace(old, new))
    assert sandbox.run("plan", "--out", str(tmp_path / "plan.json")).exit_code == 0
    offer_id = _state(sandbox.root)["objects"]["summer/sale"]["id"]

    async def edit(client):  # type: ignore[no-untyped-def]
        await client.patch(
            Kind.PERSONALIZED_OFFER,
            offer_id,
            [{"op": "replace", "path": "/status", "value": "draft"}],
            if_match=None,
        )
        return await client.get(Kind.PERSONALIZED_OFFER, offer_id)

    edited = sandbox.call(edit)
    done = sandbox.run("apply", str(tmp_path / "plan.json"))
    assert done.exit_code == 1
    lines = done.output.splitlines()
    assert (
        f"  conflict: update personalized-offer summer/sale ({offer_id}): changed after the plan by "
        f"marketer-ui@techacct.adobe.com at {edited['modified']}; not written"
    ) in lines
    assert "Apply: 1 applied, 0 failed, 1 conflict, 0 not attempted." in lines
    live = sandbox.call(lambda client: client.get(Kind.PERSONALIZED_OFFER, offer_id))
    assert (live["status"], live["rank"]["priority"]) == (
        "draft",
        5,
    )  # the edit is kept, nothing written
    assert _names(sandbox)["tag"] == ["Summer 2027"]  # the other object was applied


def test_a_429_storm_and_5xx_answers_still_converge_without_duplicates(tmp_path: Path) -> None:
    sandbox = _fresh(tmp_path, rate_limit=20.0, error_rate=0.3, seed=7)
    done = sandbox.run("apply", "--auto-approve", "--parallelism", "8")
    assert done.exit_code == 0, done.output
    assert sandbox.run("plan", "--detailed-exitcode").exit_code == 0
    names = _names(sandbox)
    assert all(len(set(v)) == len(v) for v in names.values()), names
    assert sum(len(v) for v in names.values()) == 7


def test_a_failed_create_skips_its_dependents(tmp_path: Path) -> None:
    from reconciler.emulator.app import EmulatorSettings

    repo = make_repo(tmp_path / "repo", estate=False)
    write(repo)
    settings = EmulatorSettings()
    limited = type(settings)(**{**settings.__dict__, "limits": {**settings.limits, "tags": 0}})  # type: ignore[arg-type]
    sandbox = Sandbox(app=create_app(limited), root=repo)
    done = sandbox.run("apply", "--auto-approve", "--format", "json")
    assert done.exit_code == 1
    report = json.loads(done.output[done.output.index("{") :])
    outcomes = {r["key"]: (r["outcome"], r["detail"]) for r in report["results"]}
    assert outcomes["tags/summer"][0] == "failed"
    assert outcomes["summer/sale"] == (
        "not attempted",
        "depends on tags/summer, which was not applied",
    )
    assert outcomes["summer/collection"] == (
        "not attempted",
        "depends on tags/summer, which was not applied",
    )
    assert outcomes == {
        "tags/summer": outcomes["tags/summer"],
        "placements/web": ("applied", None),
        "rules/gold": ("applied", None),
        "summer/fallback": ("applied", None),
        "summer/sale": ("not attempted", "depends on tags/summer, which was not applied"),
        "summer/collection": ("not attempted", "depends on tags/summer, which was not applied"),
        "summer/decision": ("not attempted", "depends on summer/collection, which was not applied"),
    }
    assert outcomes["tags/summer"][1].startswith("create tag 'Summer': HTTP 422: ")


def test_drift_names_who_changed_what_and_when(tmp_path: Path) -> None:
    sandbox = _fresh(tmp_path)
    assert sandbox.run("apply", "--auto-approve").exit_code == 0
    assert sandbox.run("drift").exit_code == 0
    offer_id = _state(sandbox.root)["objects"]["summer/sale"]["id"]

    async def edit(client):  # type: ignore[no-untyped-def]
        await client.patch(
            Kind.PERSONALIZED_OFFER,
            offer_id,
            [{"op": "replace", "path": "/rank/priority", "value": 50}],
            if_match=None,
        )
        return await client.get(Kind.PERSONALIZED_OFFER, offer_id)

    live = sandbox.call(edit)
    done = sandbox.run("drift", "--format", "json")
    assert done.exit_code == 2
    report = json.loads(done.output)
    assert report["objects"] == [
        {
            "key": "summer/sale",
            "kind": "personalized-offer",
            "id": offer_id,
            "name": "Summer sale",
            "status": "changed",
            "by": "marketer-ui@techacct.adobe.com",
            "at": live["modified"],
            "fields": [{"op": "replace", "path": "/rank/priority", "applied": 5, "live": 50}],
        }
    ]


def test_import_then_plan_shows_no_changes(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", estate=False)
    sandbox = Sandbox(app=create_app(), root=repo)

    async def build(client):  # type: ignore[no-untyped-def]
        placement = await client.create(
            Kind.PLACEMENT,
            {
                "name": "Email body",
                "componentType": "text",
                "channel": "https://ns.adobe.com/xdm/channel-types/email",
            },
            name="Email body",
        )
        offer = await client.create(
            Kind.FALLBACK_OFFER,
            {
                "name": "Plain fallback",
                "status": "approved",
                "representations": [
                    {
                        "channel": "https://ns.adobe.com/xdm/channel-types/email",
                        "placement": placement.id,
                        "components": [
                            {"type": "text", "format": "text/plain", "content": "Hello"}
                        ],
                    }
                ],
            },
            name="Plain fallback",
        )
        return placement.id, offer.id

    placement_id, offer_id = sandbox.call(build)
    one = sandbox.run("import", "email/body", placement_id)
    assert one.exit_code == 0, one.output
    assert (repo / "offers" / "email" / "body.yaml").exists()
    rest = sandbox.run("import", "--all")
    assert rest.exit_code == 0, rest.output
    fallback_file = repo / "offers" / "fallback" / "plain-fallback.yaml"
    assert "ref: email/body" in fallback_file.read_text()
    assert sandbox.run("validate").exit_code == 0
    done = sandbox.run("plan", "--detailed-exitcode")
    assert done.exit_code == 0, done.output
    assert _state(repo)["objects"]["fallback/plain-fallback"]["id"] == offer_id


def test_sigkill_during_apply_then_apply_again_converges(tmp_path: Path) -> None:
    """Kill apply at several points; a second apply finishes with no duplicate and no lost id."""
    for kill_after in (1, 4, 9):
        repo = make_repo(tmp_path / f"kill-{kill_after}", estate=False)
        write(repo)
        with served_emulator("--latency-ms", "40") as base:
            (repo / "reconciler.yaml").write_text(served_config(base))
            env = {**os.environ, "ADOBE_CLIENT_ID": "ci-bot", "ADOBE_CLIENT_SECRET": "s3cret-value"}
            command = [
                sys.executable,
                "-m",
                "reconciler.cli",
                "-C",
                str(repo),
                "apply",
                "--auto-approve",
                "--parallelism",
                "2",
            ]
            process = subprocess.Popen(
                command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            journal = repo / "state" / "remote.journal"
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and process.poll() is None:
                if journal.exists() and len(journal.read_text().splitlines()) >= kill_after:
                    break
                time.sleep(0.005)
            process.send_signal(signal.SIGKILL)
            assert process.wait() == -signal.SIGKILL  # killed mid-apply, not finished
            assert journal.exists()
            second = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
            assert second.returncode == 0, second.stdout + second.stderr
            assert "s3cret-value" not in second.stdout + second.stderr
            check = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "reconciler.cli",
                    "-C",
                    str(repo),
                    "plan",
                    "--detailed-exitcode",
                ],
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            assert check.returncode == 0, check.stdout + check.stderr
            objects = _state(repo, "remote")["objects"]
            assert sorted(objects) == KEYS
            assert all(entry.get("id") for entry in objects.values())
            drift = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "reconciler.cli",
                    "-C",
                    str(repo),
                    "drift",
                    "--unmanaged",
                    "--format",
                    "json",
                ],
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            assert drift.returncode == 0, (
                drift.stdout
            )  # no unmanaged object: nothing was created twice


# --- lost state, second clones, import ---------------------------------------------------------


def test_a_second_clone_without_state_adopts_every_object_and_creates_none(tmp_path: Path) -> None:
    first = _fresh(tmp_path)
    assert first.run("apply", "--auto-approve").exit_code == 0
    before = _names(first)
    clone = make_repo(tmp_path / "clone", estate=False)
    write(clone)
    second = Sandbox(app=first.app, root=clone)
    done = second.run("plan", "--format", "json")
    assert done.exit_code == 0, done.output
    plan = json.loads(done.output)
    assert sorted((c["key"], c["action"], c["reason"]) for c in plan["changes"]) == [
        (key, "adopt", "not in state, found by name") for key in KEYS
    ]
    assert second.run("apply", "--auto-approve").exit_code == 0
    assert _names(second) == before  # nothing created twice
    assert second.run("plan", "--detailed-exitcode").exit_code == 0
    assert _state(clone)["objects"] == {
        key: {**entry, "applied_at": _state(clone)["objects"][key]["applied_at"]}
        for key, entry in _state(first.root)["objects"].items()
    }


def test_import_of_a_key_whose_file_exists_records_state_only(tmp_path: Path) -> None:
    sandbox = _fresh(tmp_path)
    assert sandbox.run("apply", "--auto-approve").exit_code == 0
    offer = _state(sandbox.root)["objects"]["summer/sale"]["id"]
    for name in ("local.json", "local.json.bak"):
        (sandbox.root / "state" / name).unlink(missing_ok=True)
    done = sandbox.run("import", "summer/sale", offer)
    assert (done.exit_code, done.output) == (
        0,
        f"Imported personalized-offer {offer} as summer/sale (state only: its file already "
        "defines it)\n1 object imported.\n",
    )
    assert sorted((sandbox.root / "offers").rglob("*.yaml")) == sorted(
        sandbox.root / "offers" / f"{key}.yaml" for key in KEYS
    )
    plan = json.loads(sandbox.run("plan", "--format", "json").output)
    assert sorted((c["key"], c["action"]) for c in plan["changes"]) == sorted(
        [("summer/sale", "refresh")] + [(key, "adopt") for key in KEYS if key != "summer/sale"]
    )


def test_import_all_after_state_is_lost_matches_files_by_name_and_writes_none(
    tmp_path: Path,
) -> None:
    sandbox = _fresh(tmp_path)
    assert sandbox.run("apply", "--auto-approve").exit_code == 0
    ids = {key: entry["id"] for key, entry in _state(sandbox.root)["objects"].items()}
    shutil.rmtree(sandbox.root / "state")
    done = sandbox.run("import", "--all")
    assert done.exit_code == 0, done.output
    assert done.output.splitlines()[-1] == "7 objects imported."
    assert sorted((sandbox.root / "offers").rglob("*.yaml")) == sorted(
        sandbox.root / "offers" / f"{key}.yaml" for key in KEYS
    )
    assert {key: entry["id"] for key, entry in _state(sandbox.root)["objects"].items()} == ids
    drift = sandbox.run("drift")
    assert (drift.exit_code, drift.output) == (
        0,
        "No drift: the 0 managed objects in sandbox 'local' are as git last applied them.\n"
        "7 managed objects not checked: state has no last-applied body for them yet (imported "
        "after state was lost); `reconciler apply` records it.\n",
    )
    assert sandbox.run("apply", "--auto-approve").exit_code == 0
    assert sandbox.run("plan", "--detailed-exitcode").exit_code == 0


def test_import_all_writes_each_kind_into_its_own_folder(tmp_path: Path) -> None:
    source = _fresh(tmp_path)
    assert source.run("apply", "--auto-approve").exit_code == 0
    empty = make_repo(tmp_path / "empty", estate=False)
    target = Sandbox(app=source.app, root=empty)
    done = target.run("import", "--all")
    assert done.exit_code == 0, done.output
    written = sorted(
        p.relative_to(empty / "offers").as_posix() for p in (empty / "offers").rglob("*.yaml")
    )
    assert written == [
        "collections/summer-offers.yaml",
        "decisions/home-page-summer.yaml",
        "fallback/everyone-gets-free-shipping.yaml",
        "personalized/summer-sale.yaml",
        "placements/web-banner.yaml",
        "rules/gold-members.yaml",
        "tags/summer.yaml",
    ]
    assert target.run("validate").exit_code == 0
    assert target.run("plan", "--detailed-exitcode").exit_code == 0


# --- saved plans and the state serial ----------------------------------------------------------


def test_a_saved_plan_is_refused_once_the_state_moved(tmp_path: Path) -> None:
    sandbox = _fresh(tmp_path)
    assert sandbox.run("apply", "--auto-approve").exit_code == 0
    path = sandbox.root / "offers" / "summer" / "sale.yaml"
    path.write_text(path.read_text().replace("priority: 5", "priority: 6"))
    assert sandbox.run("plan", "--out", str(tmp_path / "plan.json")).exit_code == 0
    serial = _state(sandbox.root)["serial"]
    assert sandbox.run("apply", "--auto-approve", "--only", "summer/sale").exit_code == 0
    done = sandbox.run("apply", str(tmp_path / "plan.json"))
    assert (done.exit_code, done.output) == (
        1,
        f"Error: the plan was made at state serial {serial}, but local.json is at serial "
        f"{_state(sandbox.root)['serial']}: something was applied since; run `reconciler plan "
        "--sandbox local` again and apply that plan\n",
    )


# --- the shell: one line for what a user can cause ---------------------------------------------


def test_a_missing_reconciler_yaml_is_one_line_saying_how_to_create_one(tmp_path: Path) -> None:
    sandbox = _fresh(tmp_path)
    (sandbox.root / "reconciler.yaml").unlink()
    done = sandbox.run("plan")
    assert done.exit_code == 1
    assert done.output == (
        f"Error: no reconciler.yaml in {sandbox.root}: run reconciler from the repository root "
        "(or pass -C <root>), or create one: `printf 'default: local\\nsandboxes:\\n  local:\\n"
        "    endpoint: embedded\\n' > reconciler.yaml` (README: Configuration)\n"
    )


def test_a_plan_saved_into_a_missing_folder_is_one_line(tmp_path: Path) -> None:
    sandbox = _fresh(tmp_path)
    target = tmp_path / "nowhere" / "plan.json"
    done = sandbox.run("plan", "--out", str(target))
    assert done.exit_code == 1
    assert done.output.splitlines()[-1] == (
        f"Error: {target}: the folder {target.parent} does not exist: create it or choose another"
    )


def test_a_state_path_that_is_not_a_folder_is_one_line(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", estate=False)
    write(repo)
    (repo / "state").rmdir()
    (repo / "state").write_text("not a folder")
    done = _subprocess(repo, "apply", "--auto-approve")
    assert (done.returncode, done.stdout, done.stderr) == (
        1,
        "",
        "Error: state/local.json cannot be read (Not a directory): it was not modified\n",
    )


def test_an_unexpected_os_error_is_one_line_naming_where_the_details_are(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", estate=False)
    write(repo)
    (repo / ".reconciler").write_text("the embedded sandbox's folder is a file")
    done = _subprocess(repo, "plan")
    lines = done.stderr.splitlines()
    assert (done.returncode, done.stdout, len(lines)) == (1, "", 1), done.stderr
    prefix = f"Error: File exists: {repo / '.reconciler'} (details in "
    assert lines[0].startswith(prefix), lines[0]
    log = Path(lines[0].removeprefix(prefix).removesuffix(")"))
    assert "Traceback" in log.read_text()
    log.unlink()


def _subprocess(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "reconciler.cli", "-C", str(repo), *args],
        capture_output=True,
        text=True,
        check=False,
    )


def test_sigint_finishes_in_flight_writes_reports_and_exits_130(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", estate=False)
    write(repo)
    with served_emulator("--latency-ms", "150") as base:
        (repo / "reconciler.yaml").write_text(served_config(base))
        env = {**os.environ, "ADOBE_CLIENT_ID": "ci-bot", "ADOBE_CLIENT_SECRET": "s3cret-value"}
        command = [sys.executable, "-m", "reconciler.cli", "-C", str(repo), "apply"]
        process = subprocess.Popen(
            [*command, "--auto-approve", "--parallelism", "1"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        journal = repo / "state" / "remote.journal"
        deadline = time.monotonic() + 60
        while process.poll() is None and time.monotonic() < deadline:
            if journal.exists() and len(journal.read_text().splitlines()) >= 2:
                break
            time.sleep(0.005)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
        assert process.returncode == 130, out + err
        summary = [line for line in out.splitlines() if line.startswith("Apply: ")]
        assert len(summary) == 1
        assert "interrupted before it started" in out
        assert "Traceback" not in err
        again = subprocess.run(
            [*command, "--auto-approve"], env=env, capture_output=True, text=True, check=False
        )
        assert again.returncode == 0, again.stdout + again.stderr
        assert sorted(_state(repo, "remote")["objects"]) == KEYS


def test_declining_the_prompt_applies_nothing_and_exits_1(tmp_path: Path) -> None:
    import pty

    repo = make_repo(tmp_path / "repo", estate=False)
    write(repo)
    controller, terminal = pty.openpty()
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "reconciler.cli", "-C", str(repo), "apply"],
            stdin=terminal,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        os.write(controller, b"n\n")
        out, err = process.communicate(timeout=60)
    finally:
        os.close(controller)
        os.close(terminal)
    assert process.returncode == 1, out + err
    assert err.splitlines()[-1] == "Nothing applied."
    assert "Apply these changes to sandbox 'local'? [y/N]:" in out
    assert not (repo / "state" / "local.json").exists()
    assert not (repo / ".reconciler" / "sandbox.jsonl").exists()


def test_a_saved_plan_whose_patch_was_edited_is_refused(tmp_path: Path) -> None:
    sandbox = _fresh(tmp_path)
    assert sandbox.run("apply", "--auto-approve").exit_code == 0
    path = sandbox.root / "offers" / "summer" / "sale.yaml"
    path.write_text(path.read_text().replace("priority: 5", "priority: 6"))
    saved = tmp_path / "plan.json"
    assert sandbox.run("plan", "--out", str(saved)).exit_code == 0
    plan = json.loads(saved.read_text())
    [operation] = [op for op in plan["changes"][0]["patch"] if op["op"] == "replace"]
    operation["value"] = 60
    saved.write_text(json.dumps(plan))
    done = sandbox.run("apply", str(saved))
    assert (done.exit_code, done.output) == (
        1,
        f"Error: {saved}: the patch of summer/sale does not follow from the documents the plan "
        "holds (the file was edited): plan again\n",
    )


def test_the_report_says_how_often_the_sandbox_answered_429(tmp_path: Path) -> None:
    sandbox = _fresh(tmp_path, rate_limit=5.0)
    done = sandbox.run("apply", "--auto-approve", "--parallelism", "8", "--format", "json")
    assert done.exit_code == 0, done.output
    report = json.loads(done.output[done.output.index("{") :])
    assert report["throttled"] > 0
    assert report["summary"] == {"applied": 7, "failed": 0, "conflict": 0, "not attempted": 0}


def test_a_new_plan_after_an_apply_that_wrote_nothing_is_not_taken_for_the_old_one(
    tmp_path: Path,
) -> None:
    """Found by the chaos run: an apply that wrote nothing (every send failed, or it was killed
    before its first write) left the state serial where it was, so the next plan, identical,
    was refused as 'already applied'."""
    from reconciler.emulator.faults import WriteFault

    sandbox = _fresh(tmp_path)
    assert sandbox.run("apply", "--auto-approve").exit_code == 0
    path = sandbox.root / "offers" / "summer" / "sale.yaml"
    path.write_text(path.read_text().replace("priority: 5", "priority: 6"))
    first, second = tmp_path / "first.json", tmp_path / "second.json"
    assert sandbox.run("plan", "--out", str(first)).exit_code == 0
    sandbox.app.state.runtime.faults.script([WriteFault.FAIL] * 5)  # type: ignore[attr-defined]
    failed = sandbox.run("apply", str(first))
    assert failed.exit_code == 1
    assert "Apply: 0 applied, 1 failed, 0 conflicts, 0 not attempted." in failed.output
    assert sandbox.run("plan", "--out", str(second)).exit_code == 0
    done = sandbox.run("apply", str(second))
    assert done.exit_code == 0, done.output
    assert sandbox.run("plan", "--detailed-exitcode").exit_code == 0


def test_a_saved_plan_made_with_other_preconditions_is_refused(tmp_path: Path) -> None:
    sandbox = _fresh(tmp_path)
    assert sandbox.run("plan", "--out", str(tmp_path / "plan.json")).exit_code == 0
    (sandbox.root / "reconciler.yaml").write_text(
        "default: local\nsandboxes:\n  local:\n    endpoint: embedded\n    preconditions: if-match\n"
    )
    done = sandbox.run("apply", str(tmp_path / "plan.json"))
    assert (done.exit_code, done.output) == (
        1,
        "Error: the plan was made for preconditions 'test', not 'if-match': run `reconciler "
        "plan --sandbox local --out plan.json` and apply that\n",
    )


def test_a_usage_error_is_one_line_naming_the_help(tmp_path: Path) -> None:
    sandbox = _fresh(tmp_path)
    done = sandbox.run("plan", "--bogus")
    assert (done.exit_code, done.output) == (
        1,
        "Error: No such option '--bogus'. Did you mean '--out'? (see `cli plan --help`)\n",
    )


@pytest.mark.parametrize("delay", [0.4, 2.5], ids=["while loading", "while planning"])
def test_ctrl_c_before_apply_is_one_line_and_exit_130(tmp_path: Path, delay: float) -> None:
    repo = make_repo(tmp_path / "repo", estate=False)
    write(repo)
    with served_emulator("--latency-ms", "3000") as base:
        (repo / "reconciler.yaml").write_text(served_config(base))
        env = {**os.environ, "ADOBE_CLIENT_ID": "ci-bot", "ADOBE_CLIENT_SECRET": "s3cret-value"}
        process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from reconciler.entry import main; main()",
                "-C",
                str(repo),
                "plan",
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(delay)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    # (click ends the terminal's ^C line with a newline first)
    assert (process.returncode, out, err.lstrip("\n")) == (130, "", "Interrupted.\n")
