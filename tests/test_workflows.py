"""The GitHub workflows keep their design: least privilege, secrets only where Adobe is called.

actionlint (`make lint-workflows`) checks the syntax and the expressions; these tests check the
properties a reviewer would otherwise have to re-verify by eye on every change.
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from ruamel.yaml import YAML

from reconciler import commands, planfile, pull_report, render
from reconciler.cli import cli
from reconciler.model import Action, Change, Key, Kind, Plan, Reason

WORKFLOWS = Path(__file__).resolve().parent.parent / ".github" / "workflows"
NAMES = ["apply-sandbox.yml", "apply.yml", "ci.yml", "drift.yml", "plan-comment.yml", "plan.yml"]
ADOBE_SECRETS = {"ADOBE_CLIENT_ID", "ADOBE_CLIENT_SECRET", "ADOBE_SCOPES"}
CALLS_ADOBE = re.compile(r"^\s*reconciler (plan|apply|drift|pull)\b", re.MULTILINE)
DRIFT_PR_TOKEN = "${{ secrets.DRIFT_PR_TOKEN || github.token }}"
PUSH_CREDENTIALS = {"PUSH_TOKEN", "DEPLOY_KEY"}
"""The env names a step that pushes with git gets its credential under (no other step does)."""
APPLY_SANDBOX = "./.github/workflows/apply-sandbox.yml"

# Every action the workflows use, pinned to the commit of a release of the major in use (read
# from each action's repository: tags are movable, commits are not). Moving a pin is deliberate.
PINS = {
    "actions/checkout": ("11d5960a326750d5838078e36cf38b85af677262", "v4.4.0"),
    "actions/setup-python": ("a26af69be951a213d495a4c3e4e4022e16d87065", "v5.6.0"),
    "actions/setup-node": ("49933ea5288caeca8642d1e84afbd3f7d6820020", "v4.4.0"),
    "actions/github-script": ("f28e40c7f34bde8b3046d885e986cb6290c5673b", "v7.1.0"),
    "actions/upload-artifact": ("ea165f8d65b6e75b540449e92b4886f43607fa02", "v4.6.2"),
    "actions/download-artifact": ("d3f86a106a0bac45b974a628896c90dbdf5c8093", "v4.3.0"),
}
PINNED_LINE = re.compile(
    r"^\s*(?:- )?uses: (?P<action>[\w.-]+/[\w.-]+)@(?P<sha>[0-9a-f]{40}) # (?P<tag>v\d+\.\d+\.\d+)$"
)


def _load(name: str) -> dict[str, Any]:
    document = YAML(typ="safe").load((WORKFLOWS / name).read_text())
    assert isinstance(document, dict)
    return document


def _steps(workflow: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for job_id, job in workflow["jobs"].items():
        for step in job.get("steps", []):
            yield job_id, step


def _action(step: dict[str, Any]) -> str | None:
    """The action a step uses, without its ref (`actions/checkout`), or None for a script."""
    uses = step.get("uses")
    return uses.split("@")[0] if isinstance(uses, str) else None


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
    apply_jobs = [j for j, job in _load("apply.yml")["jobs"].items() if "uses" in job]
    # A called workflow gets at most what its caller grants: every call grants what it needs.
    assert granted == {
        ("apply-sandbox.yml", "apply"): {"contents": "write", "issues": "write"},
        **{("apply.yml", j): {"contents": "write", "issues": "write"} for j in apply_jobs},
        ("drift.yml", "drift"): {"contents": "read", "issues": "write"},
        ("drift.yml", "pull-request"): {
            "contents": "write",
            "pull-requests": "write",
            "issues": "write",
        },
        ("plan-comment.yml", "comment"): {"actions": "read", "pull-requests": "write"},
    }


def test_the_workflow_that_may_write_comments_never_runs_pull_request_code() -> None:
    workflow = _load("plan-comment.yml")
    assert workflow["on"] == {"workflow_run": {"workflows": ["plan"], "types": ["completed"]}}
    steps = [step for _, step in _steps(workflow)]
    assert [_action(step) for step in steps] == [
        "actions/download-artifact",
        "actions/github-script",
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


@pytest.mark.parametrize(
    ("name", "job", "kinds"),
    [
        ("apply-sandbox.yml", "apply", ["apply", "apply"]),
        ("drift.yml", "drift", ["drift", "drift"]),
        # The pull request (open-or-update, close), and the drift issue for what pull could not
        # write when no pull request carries it.
        ("drift.yml", "pull-request", ["pull", "drift", "pull"]),
    ],
)
def test_issues_are_found_by_the_marker_the_renderer_writes(
    name: str, job: str, kinds: list[str]
) -> None:
    steps = _load(name)["jobs"][job]["steps"]
    scripts = [s["with"]["script"] for s in steps if "script" in s.get("with", {})]
    assert len(scripts) == len(kinds)
    for script, kind in zip(scripts, kinds, strict=True):
        assert f"const marker = `{render.marker(kind, '${sandbox}')}`;" in script


def test_apply_is_serialised_per_sandbox_never_cancelled_and_in_its_environment() -> None:
    workflow = _load("apply-sandbox.yml")
    job = workflow["jobs"]["apply"]
    assert job["concurrency"] == {
        "group": "apply-${{ inputs.sandbox }}",
        "cancel-in-progress": False,
    }
    assert job["environment"] == "${{ inputs.sandbox }}"
    for name in ("apply.yml", "apply-sandbox.yml"):
        # A workflow-level group could cancel a queued apply.
        assert "concurrency" not in _load(name)
    independent = _load("apply.yml")["jobs"]["independent"]
    assert independent["strategy"]["fail-fast"] is False  # one sandbox failing stops no other


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
            if (name, job_id) == ("apply-sandbox.yml", "apply") and _pushes([step]):
                # A deploy key to push state/ past branch protection: git only, never Adobe.
                assert step["env"]["DEPLOY_KEY"] == "${{ secrets.STATE_DEPLOY_KEY }}"
                allowed.add(f"{where}.env.DEPLOY_KEY")
            if (name, job_id) == ("drift.yml", "pull-request"):
                # A token that pushes the drift branch and opens its pull request: GitHub only.
                if _pushes([step]):
                    assert step["env"]["PUSH_TOKEN"] == DRIFT_PR_TOKEN
                    allowed.add(f"{where}.env.PUSH_TOKEN")
                if "github-token" in step.get("with", {}):
                    assert step["with"]["github-token"] == DRIFT_PR_TOKEN
                    allowed.add(f"{where}.with.github-token")
        if job.get("uses") == APPLY_SANDBOX:
            # The repository's secrets, passed one by one to apply-sandbox.yml (never `inherit`).
            for key, value in job["secrets"].items():
                assert value == f"${{{{ secrets.{key} }}}}"
                allowed.add(f"jobs.{job_id}.secrets.{key}")
    assert {where for where, _ in _secret_uses(name)} == allowed


def test_apply_sandbox_gets_exactly_the_secrets_it_declares() -> None:
    declared = _load("apply-sandbox.yml")["on"]["workflow_call"]["secrets"]
    assert set(declared) == ADOBE_SECRETS | {"STATE_DEPLOY_KEY"}
    assert all(spec == {"required": False} for spec in declared.values())
    callers = [job for job in _load("apply.yml")["jobs"].values() if "uses" in job]
    assert len(callers) >= 2
    for job in callers:
        assert job["uses"] == APPLY_SANDBOX
        assert set(job["secrets"]) == set(declared)


def test_every_step_that_calls_adobe_gets_the_credentials() -> None:
    callers = [
        (name, job_id, step)
        for name in NAMES
        for job_id, step in _steps(_load(name))
        if CALLS_ADOBE.search(step.get("run", ""))
    ]
    assert sorted((name, job_id) for name, job_id, _ in callers) == [
        ("apply-sandbox.yml", "apply"),
        ("drift.yml", "drift"),
        ("drift.yml", "pull-request"),
        ("plan.yml", "sandbox"),
    ]
    for name, _, step in callers:
        assert set(step["env"]) >= ADOBE_SECRETS
        source = "inputs" if name == "apply-sandbox.yml" else "matrix"
        assert step["env"]["SANDBOX"] == f"${{{{ {source}.sandbox }}}}"
        for call in CALLS_ADOBE.finditer(step["run"]):
            line = step["run"][call.start() : step["run"].index("\n", call.end())]
            assert '--sandbox "$SANDBOX"' in line, line


@pytest.mark.parametrize("name", NAMES)
def test_no_script_prints_a_secret_or_expands_an_expression(name: str) -> None:
    for job_id, step in _steps(_load(name)):
        script = step.get("run", "")
        # Values reach scripts through env: only reconciler reads the credentials, and an
        # expression expanded into a script (a branch name, a title) could inject commands.
        assert "${{" not in script, (job_id, script)
        for variable in ADOBE_SECRETS | {"STATE_DEPLOY_KEY", "DRIFT_PR_TOKEN"}:
            assert f"${variable}" not in script
            assert f"${{{variable}" not in script


def test_drift_runs_on_a_schedule_and_on_demand() -> None:
    triggers = _load("drift.yml")["on"]
    assert set(triggers) == {"schedule", "workflow_dispatch"}
    assert [entry["cron"] for entry in triggers["schedule"]] == ["17 6 * * *"]


@pytest.mark.parametrize(
    ("name", "matrices"),
    [
        # drift: the sandboxes of each `drift:` choice have their own job.
        (
            "drift.yml",
            {
                "drift": ("issue", "--remote --drift issue --format json"),
                "pull-request": ("pull_request", "--remote --drift pull-request --format json"),
            },
        ),
        ("plan.yml", {"sandbox": ("sandboxes", "--remote --format json")}),
    ],
)
def test_each_sandbox_is_a_job_from_the_reconciler_sandboxes_matrix(
    name: str, matrices: dict[str, tuple[str, str]]
) -> None:
    jobs = _load(name)["jobs"]
    matrix_jobs = {j: job for j, job in jobs.items() if "matrix" in job.get("strategy", {})}
    assert set(matrix_jobs) == set(matrices)
    for job_id, (output_name, flags) in matrices.items():
        job = matrix_jobs[job_id]
        lister = job["needs"]
        assert job["strategy"]["matrix"] == {
            "sandbox": f"${{{{ fromJSON(needs.{lister}.outputs.{output_name}) }}}}"
        }
        assert f"needs.{lister}.outputs.{output_name} != '[]'" in job["if"]  # none: no job
        output = jobs[lister]["outputs"][output_name]
        step_id = re.fullmatch(rf"\$\{{\{{ steps\.([\w-]+)\.outputs\.{output_name} \}}\}}", output)
        assert step_id is not None
        (step,) = [s for s in jobs[lister]["steps"] if s.get("id") == step_id.group(1)]
        assert f"reconciler sandboxes {flags}" in step["run"]
        assert f'echo "{output_name}=$' in step["run"]


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
        if _action(step) == "actions/upload-artifact"
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
    trigger = _load("apply.yml")["on"]["push"]
    assert trigger["branches"] == ["main"]
    assert not any(path.startswith("state") for path in trigger["paths"])
    assert {".github/workflows/apply.yml", ".github/workflows/apply-sandbox.yml"} <= set(
        trigger["paths"]
    )
    workflow = _load("apply-sandbox.yml")
    commit = _step(workflow, "apply", "git push")
    assert commit["if"].startswith("always()")
    for text in ("git add -- state/", "[skip ci]", "git pull --quiet --rebase", "for attempt in"):
        assert text in commit["run"]


def test_apply_applies_exactly_the_plan_it_just_made_and_refuses_an_older_one() -> None:
    job = _load("apply-sandbox.yml")["jobs"]["apply"]
    run = _step(_load("apply-sandbox.yml"), "apply", "--max-age")["run"]
    plan = re.search(r'reconciler plan --sandbox "\$SANDBOX" (.+?)(?<!\\)\n', run, re.DOTALL)
    assert plan is not None
    for flag in ("--detailed-exitcode", "--format markdown", '--out "$plan"'):
        assert flag in plan.group(1)
    # Only a plan with changes (exit 2) is applied: an empty one leaves state/ untouched.
    assert 'if [ "$code" -eq 2 ]; then' in run
    apply = re.search(r'reconciler apply "\$plan" --sandbox "\$SANDBOX" --max-age (\S+)', run)
    assert apply is not None
    # The plan is this job's own: no older than the job can run.
    max_age = planfile.parse_duration(apply.group(1))
    assert max_age <= datetime.timedelta(minutes=job["timeout-minutes"])
    assert "--auto-approve" not in run  # a saved plan needs none; planning is not approval
    assert '| tee "$RUNNER_TEMP/report.md"' in run
    assert run.count('>> "$GITHUB_STEP_SUMMARY"') == 2  # the plan, then the report


@pytest.mark.parametrize("name", NAMES)
def test_actions_are_official_and_pinned_to_a_commit_with_its_tag(name: str) -> None:
    # A tag can be moved to other code, a commit cannot; the comment says which release it is.
    lines = [line for line in (WORKFLOWS / name).read_text().splitlines() if " uses: " in line]
    steps = [step["uses"] for _, step in _steps(_load(name)) if "uses" in step]
    assert len(lines) == len(steps) + sum(
        1 for job in _load(name)["jobs"].values() if "uses" in job
    )
    for line in lines:
        if line.strip().startswith("uses: ./"):
            continue  # a workflow of this repository, at the commit of the run
        pinned = PINNED_LINE.match(line)
        assert pinned is not None, f"{name}: not pinned to a commit with a # vX.Y.Z comment: {line}"
        assert PINS[pinned["action"]] == (pinned["sha"], pinned["tag"]), line
    for uses in steps:
        action, _, ref = uses.partition("@")
        assert PINS[action][0] == ref


def _pushes(steps: list[dict[str, Any]]) -> bool:
    return any(re.search(r"\bgit push\b", step.get("run", "")) for step in steps)


@pytest.mark.parametrize("name", NAMES)
def test_no_checkout_keeps_credentials(name: str) -> None:
    # A credential persisted in .git/config is readable by every later step of the job; the
    # steps that push get theirs for their own git calls (the next test).
    for job_id, step in _steps(_load(name)):
        if _action(step) == "actions/checkout":
            assert step["with"]["persist-credentials"] is False, (name, job_id)
            assert not {"token", "ssh-key"} & set(step["with"]), (name, job_id)
    assert "artipacked" not in (WORKFLOWS / name).read_text()  # no zizmor ignore needed


@pytest.mark.parametrize(
    ("name", "job_id", "credentials"),
    [
        (
            "apply-sandbox.yml",
            "apply",
            {"DEPLOY_KEY": "${{ secrets.STATE_DEPLOY_KEY }}", "PUSH_TOKEN": "${{ github.token }}"},
        ),
        ("drift.yml", "pull-request", {"PUSH_TOKEN": DRIFT_PR_TOKEN}),
    ],
)
def test_a_push_credential_reaches_only_the_step_that_pushes(
    name: str, job_id: str, credentials: dict[str, str]
) -> None:
    steps = _load(name)["jobs"][job_id]["steps"]
    holders = [step for step in steps if PUSH_CREDENTIALS & set(step.get("env", {}))]
    assert holders == [step for step in steps if _pushes([step])]
    (step,) = holders
    assert {key: step["env"][key] for key in PUSH_CREDENTIALS & set(step["env"])} == credentials
    run = step["run"]
    # The token goes into an HTTP header in the environment of this step's git calls, masked;
    # never into .git/config (`git config`, `git remote`) nor onto a command line (`git -c`).
    assert [line.strip() for line in run.splitlines() if "$PUSH_TOKEN" in line] == [
        "auth=$(printf 'x-access-token:%s' \"$PUSH_TOKEN\" | base64 --wrap=0)"
    ]
    assert 'echo "::add-mask::$auth"' in run
    assert 'GIT_CONFIG_KEY_0="http.$GITHUB_SERVER_URL/.extraheader"' in run
    assert 'GIT_CONFIG_VALUE_0="AUTHORIZATION: basic $auth"' in run
    assert all(
        re.fullmatch(r'git config user\.(name|email) "[^"]+"', line.strip())
        for line in run.splitlines()
        if "git config" in line
    )
    assert not re.search(r"git (-c|remote|credential)\b", run)
    if "DEPLOY_KEY" in credentials:
        # The deploy key goes to a file only this step's ssh reads, removed on exit, and the
        # server's host keys come from its API over HTTPS (no trust on first use).
        assert [line.strip() for line in run.splitlines() if "$DEPLOY_KEY" in line] == [
            'if [ -n "$DEPLOY_KEY" ]; then',
            '(umask 077 && printf \'%s\\n\' "$DEPLOY_KEY" > "$key")',
        ]
        assert "trap 'rm -f \"$key\"' EXIT" in run
        assert '"$GITHUB_API_URL/meta"' in run
        assert "-o StrictHostKeyChecking=yes" in run


@pytest.mark.parametrize("name", NAMES)
def test_every_zizmor_ignore_says_why(name: str) -> None:
    # zizmor findings are fixed; a deliberate design is ignored in place, with its reason.
    for number, line in enumerate((WORKFLOWS / name).read_text().splitlines(), 1):
        if "zizmor:" in line:
            ignore = re.search(r"# zizmor: ignore\[[a-z-]+\] (\S.*)$", line)
            assert ignore is not None, f"{name}:{number}: an ignore without a reason: {line}"
            assert len(ignore.group(1)) >= 10, f"{name}:{number}: {line}"


# --- drift pull requests -------------------------------------------------------------------


def test_a_drift_pull_request_carries_offers_only_from_reconciler_pull() -> None:
    workflow = _load("drift.yml")
    job = workflow["jobs"]["pull-request"]
    # One run per sandbox at a time, shared with the issue job's group.
    assert job["concurrency"] == workflow["jobs"]["drift"]["concurrency"]
    assert job["strategy"]["fail-fast"] is False
    pull = _step(workflow, "pull-request", "reconciler pull")
    assert pull["id"] == "pull"
    assert (
        'reconciler pull --sandbox "$SANDBOX" --deletions --format markdown > "$RUNNER_TEMP/pull.md"'
        in pull["run"]
    )
    assert '[ "$code" -eq 0 ] || [ "$code" -eq 2 ]' in pull["run"]  # 2: pulled, not a failure
    push = _step(workflow, "pull-request", "git push")
    assert push["if"] == "steps.pull.outputs.exitcode == '2'"
    run = push["run"]
    assert 'branch="reconciler/drift-$SANDBOX"' in run
    # offers/ only: state/ is written by apply alone, and the plan check refuses it.
    assert re.findall(r"git add .*", run) == ["git add --all -- offers/"]
    assert 'git push --quiet --force origin "HEAD:refs/heads/$branch"' in run
    scripts = {
        step["name"]: step for step in job["steps"] if _action(step) == "actions/github-script"
    }
    opened = scripts["Open or update the drift pull request"]
    assert opened["if"] == "steps.push.outputs.pushed == 'true'"
    assert opened["env"]["REPORT"] == "${{ runner.temp }}/pull.md"
    assert "github.rest.pulls.create" in opened["with"]["script"]
    assert "head: branch" in opened["with"]["script"]
    closed = scripts["Close the drift pull request when the sandbox is clean"]
    assert closed["if"] == "steps.pull.outputs.exitcode == '0'"
    assert 'state: "closed"' in closed["with"]["script"]


def _drift_scripts() -> dict[str, dict[str, Any]]:
    job = _load("drift.yml")["jobs"]["pull-request"]
    return {step["name"]: step for step in job["steps"] if _action(step) == "actions/github-script"}


def test_a_rejected_drift_is_known_by_the_digest_of_its_change() -> None:
    """Found in review: a rejection was keyed to the branch's tip, so once main moved the same
    UI edits came back as a new pull request."""
    opened = _drift_scripts()["Open or update the drift pull request"]
    script = opened["with"]["script"]
    # The digest the renderer hides in the body (pull_report.digest: the fields and values
    # pulled, not who or when, nor the base commit) is what the script reads...
    pattern = re.search(r"const digest = body\.match\(/(.+)/\)\?\.\[1\];", script)
    assert pattern is not None
    assert pattern.group(1) == pull_report.DIGEST.pattern
    hexdigest = "0123456789abcdef" * 4
    assert re.fullmatch(pattern.group(1), pull_report.digest_comment(hexdigest))
    # ...and compares with the bodies of the pull requests closed without merging.
    comment = pull_report.digest_comment("${digest}")
    assert f'(p.body ?? "").includes(`{comment}`)' in script
    assert "!p.merged_at" in script
    assert "head.sha" not in script
    assert "getBranch" not in script


def test_what_pull_cannot_write_is_in_the_pull_request_or_else_the_drift_issue() -> None:
    """Found in review: conflicts, kept deletions and files pull cannot edit were only in the
    job summary when no pull request was opened."""
    scripts = _drift_scripts()
    opened = scripts["Open or update the drift pull request"]
    assert opened["id"] == "proposal"
    # The pull request's body is the whole report, the part pull could not write included.
    assert opened["env"]["REPORT"] == "${{ runner.temp }}/pull.md"
    assert opened["with"]["script"].count('core.setOutput("carried", "true");') == 2
    issue = scripts["Report what pull could not write in the drift issue"]
    assert issue["if"] == (
        "steps.pull.outputs.exitcode == '0' || steps.pull.outputs.exitcode == '2'"
    )
    assert issue["env"] == {
        "SANDBOX": "${{ matrix.sandbox }}",
        "REPORT": "${{ runner.temp }}/pull.md",
        "CARRIED": "${{ steps.proposal.outputs.carried == 'true' }}",
    }
    assert "github-token" not in issue["with"]  # the workflow's own token: issues: write
    script = issue["with"]["script"]
    assert f'report.includes("{pull_report.LEFT}")' in script
    assert 'if (left && process.env.CARRIED !== "true") {' in script
    assert "github.rest.issues.create(" in script
    assert 'state: "closed"' in script  # nothing left, or a pull request carries it
    # Steps run in order: the proposal says whether it carries the report before the issue.
    names = [step.get("name") for step in _load("drift.yml")["jobs"]["pull-request"]["steps"]]
    assert names.index(opened["name"]) < names.index(issue["name"])


def test_the_drift_jobs_get_the_sandboxes_of_their_choice(tmp_path: Path) -> None:
    config = (
        "default: local\nsandboxes:\n  local:\n    endpoint: embedded\n"
        + f"  prod:\n{REMOTE}    drift: pull-request\n"
        + f"  stage:\n{REMOTE}    drift: issue\n"
        + f"  dev:\n{REMOTE}"
    )
    (tmp_path / "reconciler.yaml").write_text(config)
    listed = {}
    for mode in ("issue", "pull-request"):
        done = CliRunner().invoke(
            cli,
            ["-C", str(tmp_path), "sandboxes", "--remote", "--drift", mode, "--format", "json"],
            obj=commands.Dependencies(env={}),
        )
        assert done.exit_code == 0, done.output
        listed[mode] = json.loads(done.output)
    assert listed == {"issue": ["dev", "stage"], "pull-request": ["prod"]}


# --- promotion order ------------------------------------------------------------------------


def _promote_jobs() -> list[tuple[str, dict[str, Any]]]:
    jobs = _load("apply.yml")["jobs"]
    found = sorted(
        ((j, job) for j, job in jobs.items() if re.fullmatch(r"promote-\d+", j)),
        key=lambda item: int(item[0].split("-")[1]),
    )
    assert [j for j, _ in found] == [f"promote-{n}" for n in range(1, len(found) + 1)]
    return found


def test_the_promotion_chain_is_sequential_each_after_the_one_before_succeeded() -> None:
    jobs = _load("apply.yml")["jobs"]
    promote = _promote_jobs()
    lister = _step(_load("apply.yml"), "sandboxes", "reconciler sandboxes")
    assert "reconciler sandboxes --remote --promotion --format json" in lister["run"]
    # As many promote jobs as the lister allows stages: a longer chain fails the lister.
    assert int(lister["env"]["STAGES"]) == len(promote) >= 3
    assert '-gt "$STAGES"' in lister["run"]
    for n, (job_id, job) in enumerate(promote, 1):
        expected = "sandboxes" if n == 1 else ["sandboxes", f"promote-{n - 1}"]
        assert job["needs"] == expected, job_id
        # No status function in the condition: GitHub then adds success(), so a failed or
        # skipped predecessor (a failed apply, a rejected approval) skips this job too.
        assert job["if"] == f"fromJSON(needs.sandboxes.outputs.promotion)[{n - 1}] != null"
        assert not re.search(r"always\(|cancelled\(|failure\(|success\(", job["if"])
        assert job["uses"] == APPLY_SANDBOX
        assert job["with"] == {
            "sandbox": f"${{{{ fromJSON(needs.sandboxes.outputs.promotion)[{n - 1}] }}}}"
        }
        assert "strategy" not in job  # one sandbox per position, never a matrix
    independent = jobs["independent"]
    assert independent["needs"] == "sandboxes"
    assert independent["uses"] == APPLY_SANDBOX
    assert independent["with"] == {"sandbox": "${{ matrix.sandbox }}"}
    assert independent["strategy"]["matrix"] == {
        "sandbox": "${{ fromJSON(needs.sandboxes.outputs.independent) }}"
    }
    assert "needs.sandboxes.outputs.independent != '[]'" in independent["if"]
    outputs = jobs["sandboxes"]["outputs"]
    assert outputs == {
        "promotion": "${{ steps.list.outputs.promotion }}",
        "independent": "${{ steps.list.outputs.independent }}",
    }
    assert lister["id"] == "list"


REMOTE = "    endpoint: https://platform.adobe.io/data/core/dps\n    ims: https://ims/t\n    org: O@AdobeOrg\n"


def _order(config: str, tmp_path: Path) -> tuple[list[str], list[str]]:
    """The sandboxes the promote jobs apply, in order, and the independent ones, as the apply
    workflow computes them from `reconciler sandboxes --remote --promotion --format json`."""
    (tmp_path / "reconciler.yaml").write_text(config)
    done = CliRunner().invoke(
        cli,
        ["-C", str(tmp_path), "sandboxes", "--remote", "--promotion", "--format", "json"],
        obj=commands.Dependencies(env={}),
    )
    assert done.exit_code == 0, done.output
    listed = json.loads(done.output)
    chain: list[str] = []
    for _, job in _promote_jobs():
        index = re.search(r"\[(\d+)\]", job["if"])
        assert index is not None
        position = int(index.group(1))
        if position < len(listed["promotion"]):  # `[n] != null`
            chain.append(listed["promotion"][position])
    return chain, listed["independent"]


def test_the_workflow_applies_the_promotion_order_of_reconciler_yaml(tmp_path: Path) -> None:
    config = (
        "default: local\npromotion: [dev, local, stage, prod]\nsandboxes:\n"
        "  local:\n    endpoint: embedded\n"
        + "".join(f"  {key}:\n{REMOTE}" for key in ("prod", "eu", "stage", "dev", "us"))
    )
    # The embedded sandbox is never applied by a workflow; the rest keep their order.
    assert _order(config, tmp_path) == (["dev", "stage", "prod"], ["eu", "us"])
    without = config.replace("promotion: [dev, local, stage, prod]\n", "")
    assert _order(without, tmp_path) == ([], ["dev", "eu", "prod", "stage", "us"])


def test_pull_requests_run_the_decision_tests_and_comment_the_outcomes_that_change() -> None:
    """Decision tests run in the validate job (offline: forks too); each sandbox's comment gains
    the outcomes, simulated on a checkout of the base commit, appended after the plan."""
    workflow = _load("plan.yml")
    steps = workflow["jobs"]["validate"]["steps"]
    tests = _step(workflow, "validate", "reconciler test")
    assert tests["run"] == "reconciler test --format github"
    assert "env" not in tests  # no credentials: it never calls Adobe
    assert steps.index(tests) > steps.index(_step(workflow, "validate", "validate --format github"))
    sandbox = workflow["jobs"]["sandbox"]["steps"]
    base = next(s for s in sandbox if s.get("with", {}).get("path") == ".base")
    assert _action(base) == "actions/checkout"
    assert base["with"] == {
        "ref": "${{ github.event.pull_request.base.sha }}",
        "path": ".base",
        "persist-credentials": False,
    }
    outcomes = _step(workflow, "sandbox", "reconciler outcomes")
    assert (
        'reconciler outcomes --before .base --sandbox "$SANDBOX" --format markdown'
        in outcomes["run"]
    )
    assert outcomes["run"].rstrip().endswith(">> comment/body.md")
    order = [
        sandbox.index(s)
        for s in (
            _step(workflow, "sandbox", "reconciler plan --sandbox"),
            base,
            outcomes,
            _step(workflow, "sandbox", "STEP_SUMMARY"),
        )
    ]
    assert order == sorted(order)
