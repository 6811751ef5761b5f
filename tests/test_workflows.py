"""The GitHub workflows keep their design: least privilege, secrets only where Adobe is called.

actionlint (`make lint-workflows`) checks the syntax and the expressions; these tests check the
properties a reviewer would otherwise have to re-verify by eye on every change.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from reconciler import render
from reconciler.model import Action, Change, Key, Kind, Plan, Reason

WORKFLOWS = Path(__file__).resolve().parent.parent / ".github" / "workflows"
NAMES = ["apply.yml", "ci.yml", "drift.yml", "plan-comment.yml", "plan.yml"]
ADOBE_SECRETS = {"ADOBE_CLIENT_ID", "ADOBE_CLIENT_SECRET", "ADOBE_SCOPES"}
CALLS_ADOBE = re.compile(r"^\s*reconciler (plan|apply|drift)\b", re.MULTILINE)


def _load(name: str) -> dict[str, Any]:
    document = YAML(typ="safe").load((WORKFLOWS / name).read_text())
    assert isinstance(document, dict)
    return document


def _steps(workflow: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for job_id, job in workflow["jobs"].items():
        for step in job.get("steps", []):
            yield job_id, step


def _step(workflow: dict[str, Any], job_id: str, text: str) -> dict[str, Any]:
    """The one step of a job whose run script contains text."""
    found: list[dict[str, Any]] = [
        s for s in workflow["jobs"][job_id]["steps"] if text in s.get("run", "")
    ]
    assert len(found) == 1, (job_id, text, found)
    return found[0]


def _strings(node: object, where: str) -> Iterator[tuple[str, str]]:
    """Every string in a document with its path, such as `jobs.plan.steps[3].env.X`."""
    if isinstance(node, dict):
        for key, child in node.items():
            yield from _strings(child, f"{where}.{key}" if where else str(key))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            yield from _strings(child, f"{where}[{index}]")
    elif isinstance(node, str):
        yield where, node


def test_the_workflows_are_the_ones_these_tests_know() -> None:
    assert sorted(p.name for p in WORKFLOWS.glob("*.y*ml")) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_no_workflow_runs_on_pull_request_target(name: str) -> None:
    # pull_request_target runs with a write token and secrets: never with the pull request's code.
    assert "pull_request_target" not in _load(name)["on"]


@pytest.mark.parametrize("name", NAMES)
def test_every_workflow_grants_at_most_read_access_at_the_top(name: str) -> None:
    permissions = _load(name)["permissions"]
    assert isinstance(permissions, dict)
    assert set(permissions.values()) <= {"read"}
    assert set(permissions) <= {"contents"}


def test_write_access_is_granted_only_to_the_jobs_that_write() -> None:
    granted = {
        (name, job_id): job["permissions"]
        for name in NAMES
        for job_id, job in _load(name)["jobs"].items()
        if "permissions" in job
    }
    assert granted == {
        ("apply.yml", "apply"): {"contents": "write", "issues": "write"},
        ("drift.yml", "drift"): {"contents": "read", "issues": "write"},
        ("plan-comment.yml", "comment"): {"actions": "read", "pull-requests": "write"},
    }


def test_the_workflow_that_may_write_comments_never_runs_pull_request_code() -> None:
    workflow = _load("plan-comment.yml")
    assert workflow["on"] == {"workflow_run": {"workflows": ["plan"], "types": ["completed"]}}
    steps = [step for _, step in _steps(workflow)]
    assert [step.get("uses") for step in steps] == [
        "actions/download-artifact@v4",
        "actions/github-script@v7",
    ]
    assert not any("run" in step for step in steps)
    script = steps[1]["with"]["script"]
    assert "child_process" not in script
    assert "eval(" not in script
    # The artifact's pull-request number is trusted only for the head commit that run planned.
    assert "pr.head.sha !== process.env.HEAD_SHA" in script


def test_plan_comments_are_found_by_the_marker_the_renderer_writes() -> None:
    script = _load("plan-comment.yml")["jobs"]["comment"]["steps"][1]["with"]["script"]
    pattern = re.search(r"const MARKER = /(.+)/;", script)
    assert pattern is not None
    first_line = render.marker("plan", "prod") + "\n"
    assert re.match(pattern.group(1), first_line)
    assert not re.match(pattern.group(1), render.marker("drift", "prod") + "\n")


@pytest.mark.parametrize(("name", "kind"), [("apply.yml", "apply"), ("drift.yml", "drift")])
def test_issues_are_found_by_the_marker_the_renderer_writes(name: str, kind: str) -> None:
    scripts = [s["with"]["script"] for _, s in _steps(_load(name)) if "script" in s.get("with", {})]
    assert len(scripts) == 2  # open-or-update, and close
    for script in scripts:
        assert f"const marker = `{render.marker(kind, '${sandbox}')}`;" in script


def test_apply_is_serialised_per_sandbox_never_cancelled_and_in_its_environment() -> None:
    workflow = _load("apply.yml")
    job = workflow["jobs"]["apply"]
    assert job["concurrency"] == {
        "group": "apply-${{ matrix.sandbox }}",
        "cancel-in-progress": False,
    }
    assert job["environment"] == "${{ matrix.sandbox }}"
    assert "concurrency" not in workflow  # a workflow-level group could cancel a queued apply
    assert job["strategy"]["fail-fast"] is False  # one sandbox failing never stops another


def _secret_uses(name: str) -> list[tuple[str, str]]:
    return [(where, text) for where, text in _strings(_load(name), "") if "secrets." in text]


@pytest.mark.parametrize("name", NAMES)
def test_adobe_secrets_reach_only_the_steps_that_call_adobe(name: str) -> None:
    workflow = _load(name)
    allowed: set[str] = set()
    for job_id, job in workflow["jobs"].items():
        for index, step in enumerate(job.get("steps", [])):
            where = f"jobs.{job_id}.steps[{index}]"
            if CALLS_ADOBE.search(step.get("run", "")):
                for key in ADOBE_SECRETS & set(step.get("env", {})):
                    assert step["env"][key] == f"${{{{ secrets.{key} }}}}"
                    allowed.add(f"{where}.env.{key}")
            if (name, job_id) == ("apply.yml", "apply") and step.get(
                "uses"
            ) == "actions/checkout@v4":
                # A deploy key to push state/ past branch protection: git only, never Adobe.
                assert step["with"]["ssh-key"] == "${{ secrets.STATE_DEPLOY_KEY }}"
                allowed.add(f"{where}.with.ssh-key")
    assert {where for where, _ in _secret_uses(name)} == allowed


def test_every_step_that_calls_adobe_gets_the_credentials() -> None:
    callers = [
        (name, job_id, step)
        for name in NAMES
        for job_id, step in _steps(_load(name))
        if CALLS_ADOBE.search(step.get("run", ""))
    ]
    assert sorted((name, job_id) for name, job_id, _ in callers) == [
        ("apply.yml", "apply"),
        ("drift.yml", "drift"),
        ("plan.yml", "sandbox"),
    ]
    for _, _, step in callers:
        assert set(step["env"]) >= ADOBE_SECRETS
        assert step["env"]["SANDBOX"] == "${{ matrix.sandbox }}"
        assert '--sandbox "$SANDBOX"' in step["run"]


@pytest.mark.parametrize("name", NAMES)
def test_no_script_prints_a_secret_or_expands_an_expression(name: str) -> None:
    for job_id, step in _steps(_load(name)):
        script = step.get("run", "")
        # Values reach scripts through env: only reconciler reads the credentials, and an
        # expression expanded into a script (a branch name, a title) could inject commands.
        assert "${{" not in script, (job_id, script)
        for variable in ADOBE_SECRETS | {"STATE_DEPLOY_KEY"}:
            assert f"${variable}" not in script
            assert f"${{{variable}" not in script


def test_drift_runs_on_a_schedule_and_on_demand() -> None:
    triggers = _load("drift.yml")["on"]
    assert set(triggers) == {"schedule", "workflow_dispatch"}
    assert [entry["cron"] for entry in triggers["schedule"]] == ["17 6 * * *"]


@pytest.mark.parametrize("name", ["apply.yml", "drift.yml", "plan.yml"])
def test_each_sandbox_is_a_job_from_the_reconciler_sandboxes_matrix(name: str) -> None:
    jobs = _load(name)["jobs"]
    matrix_jobs = {j: job for j, job in jobs.items() if "matrix" in job.get("strategy", {})}
    assert len(matrix_jobs) == 1
    (job,) = matrix_jobs.values()
    lister = job["needs"]
    assert job["strategy"]["matrix"] == {
        "sandbox": f"${{{{ fromJSON(needs.{lister}.outputs.sandboxes) }}}}"
    }
    assert f"needs.{lister}.outputs.sandboxes != '[]'" in job["if"]  # no sandbox: no job
    output = jobs[lister]["outputs"]["sandboxes"]
    step_id = re.fullmatch(r"\$\{\{ steps\.([\w-]+)\.outputs\.sandboxes \}\}", output)
    assert step_id is not None
    (step,) = [s for s in jobs[lister]["steps"] if s.get("id") == step_id.group(1)]
    assert "reconciler sandboxes --remote --format json" in step["run"]


def test_plan_validates_with_annotations_then_plans_each_sandbox_into_an_artifact() -> None:
    workflow = _load("plan.yml")
    assert (
        "reconciler validate --format github"
        in _step(workflow, "validate", "validate --format github")["run"]
    )
    run = _step(workflow, "sandbox", "reconciler plan --sandbox")["run"]
    for flag in ("--format markdown", "--detailed-exitcode", "--out plan.json"):
        assert flag in run
    uploads = {
        step["with"]["name"]: step["with"]["path"]
        for step in workflow["jobs"]["sandbox"]["steps"]
        if step.get("uses") == "actions/upload-artifact@v4"
    }
    # The renderer's truncation note sends readers to the `plan-<sandbox>` artifact.
    assert uploads == {
        "plan-${{ matrix.sandbox }}": "plan.json",
        "plan-comment-${{ matrix.sandbox }}": "comment/",
    }
    assert "plan-prod` artifact" in render.plan_markdown(_huge_plan())
    assert (
        'cat comment/body.md >> "$GITHUB_STEP_SUMMARY"'
        in _step(workflow, "sandbox", "STEP_SUMMARY")["run"]
    )


def _huge_plan() -> Plan:
    changes = tuple(
        Change(
            Key(f"k{n}"), Kind.TAG, Action.CREATE, (Reason.NEW,), "x", desired={"name": "x" * 5_000}
        )
        for n in range(20)
    )
    return Plan("prod", "org", "endpoint", None, 0, changes)


def test_forks_and_sandboxless_repositories_get_the_validation_comment() -> None:
    step = _step(_load("plan.yml"), "validate", "validate --format markdown")
    assert "github.event.pull_request.head.repo.full_name != github.repository" in step["if"]
    assert "steps.sandboxes.outputs.sandboxes == '[]'" in step["if"]
    assert not any("secrets." in text for _, text in _strings(step, ""))


def test_the_plan_check_always_reports_and_guards_state() -> None:
    workflow = _load("plan.yml")
    # No paths filter: a required check that never starts would block every other pull request.
    assert workflow["on"] == {"pull_request": {"types": ["opened", "synchronize", "reopened"]}}
    assert "reconciler state guard" in _step(workflow, "validate", "state guard")["run"]
    checkout = workflow["jobs"]["validate"]["steps"][0]
    assert checkout["with"]["fetch-depth"] >= 2  # the merge commit and the base it is diffed with
    gate = workflow["jobs"]["plan"]
    assert gate["name"] == "plan"
    assert gate["if"] == "${{ always() }}"
    assert sorted(gate["needs"]) == sorted(j for j in workflow["jobs"] if j != "plan")
    assert _load("ci.yml")["jobs"]["ci"]["name"] == "ci"


def test_apply_commits_state_even_after_a_failure_without_starting_itself_again() -> None:
    workflow = _load("apply.yml")
    assert workflow["on"]["push"]["branches"] == ["main"]
    assert not any(path.startswith("state") for path in workflow["on"]["push"]["paths"])
    commit = _step(workflow, "apply", "git push")
    assert commit["if"].startswith("always()")
    for text in ("git add -- state/", "[skip ci]", "git pull --quiet --rebase", "for attempt in"):
        assert text in commit["run"]
    apply = _step(workflow, "apply", "reconciler apply --sandbox")
    assert "--auto-approve --format markdown" in apply["run"]
    assert '| tee "$RUNNER_TEMP/report.md"' in apply["run"]
    assert '>> "$GITHUB_STEP_SUMMARY"' in apply["run"]


@pytest.mark.parametrize("name", NAMES)
def test_actions_are_official_and_pinned_to_a_major_version(name: str) -> None:
    pinned = {
        "actions/checkout@v4",
        "actions/setup-python@v5",
        "actions/setup-node@v4",
        "actions/upload-artifact@v4",
        "actions/download-artifact@v4",
        "actions/github-script@v7",
    }
    assert {step["uses"] for _, step in _steps(_load(name)) if "uses" in step} <= pinned


@pytest.mark.parametrize("name", NAMES)
def test_checkouts_keep_no_credentials_except_where_state_is_pushed(name: str) -> None:
    for job_id, step in _steps(_load(name)):
        if step.get("uses") == "actions/checkout@v4" and (name, job_id) != ("apply.yml", "apply"):
            assert step["with"]["persist-credentials"] is False, (name, job_id)
