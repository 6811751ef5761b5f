"""Promotion order (`promotion:` in reconciler.yaml, `sandboxes --promotion`) and plan age
(`apply PLAN --max-age`). The apply workflow's use of both is checked in test_workflows.py."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from conftest import Sandbox, make_repo
from estate import write

from reconciler import commands, config, documents, planfile
from reconciler.cli import cli
from reconciler.emulator.app import create_app
from reconciler.errors import ConfigError

THREE = """\
default: dev
sandboxes:
  dev:
    endpoint: embedded
  stage:
    endpoint: embedded
  prod:
    endpoint: embedded
"""


def parse(tmp_path: Path, text: str) -> config.Config:
    path = tmp_path / config.FILE_NAME
    path.write_text(text)
    data, locate = documents.read_mapping(path, display=config.FILE_NAME)
    return config.parse(data, locate, {})


# --- promotion: in reconciler.yaml ------------------------------------------------------------


@pytest.mark.parametrize(
    ("promotion", "expected"),
    [
        ("", ()),
        ("promotion: []\n", ()),
        ("promotion: [dev, stage, prod]\n", ("dev", "stage", "prod")),
        ("promotion:\n  - stage\n  - prod\n", ("stage", "prod")),
        ("promotion: [prod]\n", ("prod",)),
    ],
)
def test_promotion_is_an_ordered_list_of_sandbox_keys(
    tmp_path: Path, promotion: str, expected: tuple[str, ...]
) -> None:
    assert parse(tmp_path, THREE + promotion).promotion == expected


@pytest.mark.parametrize(
    ("promotion", "message"),
    [
        (
            "promotion: [dev, qa, prod]\n",
            "reconciler.yaml:9:18: promotion: 'qa' is not one of the sandboxes (dev, prod, "
            "stage): fix its spelling or add it under sandboxes:",
        ),
        (
            "promotion: [dev, stage, dev]\n",
            "reconciler.yaml:9:25: promotion: 'dev' is listed twice: a sandbox has one place in "
            "the promotion order, so remove one",
        ),
        (
            "promotion:\n  - dev\n  - stage\n  - stage\n",
            "reconciler.yaml:12:5: promotion: 'stage' is listed twice: a sandbox has one place "
            "in the promotion order, so remove one",
        ),
        (
            "promotion: dev\n",
            "reconciler.yaml:9:12: promotion: expected a list of sandbox keys in promotion order, "
            'such as [dev, stage, prod] (got "dev")',
        ),
        (
            "promotion: [dev, 3]\n",
            "reconciler.yaml:9:18: promotion.1: expected a sandbox key as text, such as prod "
            "(got 3)",
        ),
        (
            "promotion: {dev: stage}\n",
            "reconciler.yaml:9:12: promotion: expected a list of sandbox keys in promotion order, "
            "such as [dev, stage, prod] (got a mapping)",
        ),
    ],
)
def test_a_wrong_promotion_is_one_located_line(
    tmp_path: Path, promotion: str, message: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        parse(tmp_path, THREE + promotion)
    assert str(raised.value) == message


def _sandboxes(tmp_path: Path, text: str, *args: str) -> Result:
    (tmp_path / config.FILE_NAME).write_text(text)
    return CliRunner().invoke(
        cli, ["-C", str(tmp_path), "sandboxes", *args], obj=commands.Dependencies(env={})
    )


@pytest.mark.parametrize(
    ("promotion", "json_out", "text_out"),
    [
        (
            "promotion: [stage, dev]\n",
            {"promotion": ["stage", "dev"], "independent": ["prod"]},
            "promotion: stage -> dev\nindependent: prod\n",
        ),
        (
            "",
            {"promotion": [], "independent": ["dev", "prod", "stage"]},
            "promotion: (none)\nindependent: dev, prod, stage\n",
        ),
        (
            "promotion: [dev, stage, prod]\n",
            {"promotion": ["dev", "stage", "prod"], "independent": []},
            "promotion: dev -> stage -> prod\nindependent: (none)\n",
        ),
    ],
)
def test_sandboxes_splits_the_promotion_chain_from_the_independent_sandboxes(
    tmp_path: Path, promotion: str, json_out: dict[str, list[str]], text_out: str
) -> None:
    as_json = _sandboxes(tmp_path, THREE + promotion, "--promotion", "--format", "json")
    assert (as_json.exit_code, json.loads(as_json.output)) == (0, json_out)
    as_text = _sandboxes(tmp_path, THREE + promotion, "--promotion")
    assert (as_text.exit_code, as_text.output) == (0, text_out)
    # Without --promotion the matrix the other workflows use is unchanged: a sorted list.
    plain = _sandboxes(tmp_path, THREE + promotion, "--format", "json")
    assert json.loads(plain.output) == ["dev", "prod", "stage"]


# --- durations ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90m", datetime.timedelta(minutes=90)),
        ("24h", datetime.timedelta(hours=24)),
        ("2d", datetime.timedelta(days=2)),
        ("1d12h", datetime.timedelta(days=1, hours=12)),
        ("45s", datetime.timedelta(seconds=45)),
        ("1h0m", datetime.timedelta(hours=1)),
        ("1d2h3m4s", datetime.timedelta(days=1, hours=2, minutes=3, seconds=4)),
        ("36h", datetime.timedelta(hours=36)),
    ],
)
def test_a_duration_is_numbers_with_units(text: str, expected: datetime.timedelta) -> None:
    assert planfile.parse_duration(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("24x", "'24x' is not a duration such as 90m, 24h or 2d"),
        ("24", "'24' is not a duration such as 90m, 24h or 2d"),
        ("h", "'h' is not a duration such as 90m, 24h or 2d"),
        ("", "'' is not a duration such as 90m, 24h or 2d"),
        ("-1h", "'-1h' is not a duration such as 90m, 24h or 2d"),
        ("1.5h", "'1.5h' is not a duration such as 90m, 24h or 2d"),
        ("24 h", "'24 h' is not a duration such as 90m, 24h or 2d"),
        ("24H", "'24H' is not a duration such as 90m, 24h or 2d"),
        ("0h", "'0h' is no time at all: give a duration such as 24h"),
        (
            "2h2h",
            "'2h2h' names h twice: write each unit once, the largest first, such as 1d12h or 1h30m",
        ),
        (
            "1d2h3d",
            "'1d2h3d' names d twice: write each unit once, the largest first, such as 1d12h or "
            "1h30m",
        ),
        (
            "30m1h",
            "'30m1h' puts a smaller unit first: write each unit once, the largest first, such as "
            "1d12h or 1h30m",
        ),
        ("24h ", "'24h ' is not a duration such as 90m, 24h or 2d"),
        ("2h-2h", "'2h-2h' is not a duration such as 90m, 24h or 2d"),
        (
            "9999999999d",
            "'9999999999d' is longer than any plan can be old: use days, such as 30d",
        ),
    ],
)
def test_a_bad_duration_says_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=r".") as raised:
        planfile.parse_duration(text)
    assert str(raised.value) == message


@pytest.mark.parametrize(
    ("delta", "said"),
    [
        (datetime.timedelta(0), "0s"),
        (datetime.timedelta(seconds=45), "45s"),
        (datetime.timedelta(minutes=90), "1h 30m"),
        (datetime.timedelta(days=2, hours=3, minutes=4), "2d 3h"),
        (datetime.timedelta(days=2, minutes=4), "2d 4m"),
        (datetime.timedelta(seconds=-5), "0s"),
    ],
)
def test_an_age_is_said_in_its_two_largest_units(delta: datetime.timedelta, said: str) -> None:
    assert planfile.span(delta) == said


# --- apply PLAN --max-age -------------------------------------------------------------------

MADE = "2026-11-22T12:00:00.000Z"  # the first tick of the test clock (conftest.Sandbox.deps)


@pytest.fixture
def planned(tmp_path: Path) -> tuple[Sandbox, Path]:
    """A repository with offers not applied yet, and a saved plan made at MADE."""
    repo = make_repo(tmp_path / "repo", estate=False)
    write(repo)
    sandbox = Sandbox(app=create_app(), root=repo)
    path = tmp_path / "plan.json"
    done = sandbox.run("plan", "--out", str(path))
    assert done.exit_code == 0, done.output
    return sandbox, path


def _apply_at(sandbox: Sandbox, now: str, *args: str) -> Result:
    deps = commands.Dependencies(env={}, clock=lambda: now, app=sandbox.app)  # type: ignore[arg-type]
    return CliRunner().invoke(cli, ["-C", str(sandbox.root), "apply", *args], obj=deps)


def _applied(sandbox: Sandbox) -> bool:
    return (sandbox.root / "state" / "local.json").exists()


def test_a_saved_plan_records_when_it_was_made_outside_its_content(
    planned: tuple[Sandbox, Path],
) -> None:
    sandbox, path = planned
    document = json.loads(path.read_text())
    assert document[planfile.CREATED] == MADE
    assert document["format_version"] == planfile.FORMAT_VERSION
    # The digest (a plan is applied once) and the printed JSON are the plan's content only.
    printed = sandbox.run("plan", "--format", "json")
    assert planfile.CREATED not in json.loads(printed.output)
    del document[planfile.CREATED]
    assert document == json.loads(printed.output)


@pytest.mark.parametrize(
    ("now", "limit"),
    [
        (MADE, "24h"),
        ("2026-11-22T13:29:59.000Z", "90m"),
        ("2026-11-23T12:00:00.000Z", "1d"),  # exactly as old as allowed
        ("2026-11-22T11:59:00.000Z", "1m"),  # a clock a little behind the planner's
    ],
)
def test_a_plan_younger_than_max_age_is_applied(
    planned: tuple[Sandbox, Path], now: str, limit: str
) -> None:
    sandbox, path = planned
    done = _apply_at(sandbox, now, str(path), "--max-age", limit)
    assert done.exit_code == 0, done.output
    assert _applied(sandbox)


@pytest.mark.parametrize(
    ("now", "limit", "age"),
    [
        ("2026-11-24T12:00:00.000Z", "24h", "2d"),
        ("2026-11-22T13:30:01.000Z", "90m", "1h 30m"),
        ("2026-11-23T12:00:01.000Z", "1d", "1d 1s"),
        ("2026-12-01T15:20:00.000Z", "2d", "9d 3h"),
    ],
)
def test_a_plan_older_than_max_age_is_refused_with_its_age(
    planned: tuple[Sandbox, Path], now: str, limit: str, age: str
) -> None:
    sandbox, path = planned
    done = _apply_at(sandbox, now, str(path), "--max-age", limit)
    assert (done.exit_code, done.output) == (
        1,
        f"Error: {path} was made {age} ago ({MADE}), more than --max-age {limit} allows: run "
        f"`reconciler plan --sandbox local --out {path}` again and apply that\n",
    )
    assert not _applied(sandbox)  # nothing sent, nothing recorded


def test_a_plan_saved_before_plans_recorded_their_time(planned: tuple[Sandbox, Path]) -> None:
    sandbox, path = planned
    document = json.loads(path.read_text())
    del document[planfile.CREATED]
    path.write_text(json.dumps(document))
    refused = _apply_at(sandbox, MADE, str(path), "--max-age", "24h")
    assert (refused.exit_code, refused.output) == (
        1,
        f"Error: {path} does not record when it was made (an older reconciler saved it), so "
        f"--max-age cannot vouch for it: run `reconciler plan --sandbox local --out {path}` "
        "again and apply that\n",
    )
    assert not _applied(sandbox)
    # Without --max-age it is still read and applied, as before.
    done = _apply_at(sandbox, MADE, str(path))
    assert done.exit_code == 0, done.output
    assert _applied(sandbox)


def test_a_creation_time_that_is_not_a_time_is_refused(planned: tuple[Sandbox, Path]) -> None:
    sandbox, path = planned
    document = json.loads(path.read_text())
    document[planfile.CREATED] = "yesterday"
    path.write_text(json.dumps(document))
    done = _apply_at(sandbox, MADE, str(path), "--max-age", "24h")
    assert (done.exit_code, done.output) == (
        1,
        f"Error: {path}: created_at 'yesterday' is not a time such as 2026-11-22T12:00:00Z: "
        f"run `reconciler plan --sandbox local --out {path}` again and apply that\n",
    )


@pytest.mark.parametrize(
    ("limit", "why"),
    [
        ("24x", "'24x' is not a duration such as 90m, 24h or 2d"),
        ("0m", "'0m' is no time at all: give a duration such as 24h"),
        ("tomorrow", "'tomorrow' is not a duration such as 90m, 24h or 2d"),
        (
            "2h2h",
            "'2h2h' names h twice: write each unit once, the largest first, such as 1d12h or 1h30m",
        ),
    ],
)
def test_a_bad_max_age_is_a_usage_error(
    planned: tuple[Sandbox, Path], limit: str, why: str
) -> None:
    sandbox, path = planned
    done = _apply_at(sandbox, MADE, str(path), "--max-age", limit)
    assert (done.exit_code, done.output) == (
        1,
        # `cli`: the name click gives the group under CliRunner (`reconciler` when installed).
        f"Error: Invalid value for '--max-age': {why} (see `cli apply --help`)\n",
    )
    assert not _applied(sandbox)


def test_max_age_needs_a_saved_plan(planned: tuple[Sandbox, Path]) -> None:
    sandbox, _ = planned
    done = _apply_at(sandbox, MADE, "--auto-approve", "--max-age", "24h")
    assert (done.exit_code, done.output) == (
        1,
        "Error: --max-age limits how old a saved plan may be: give the plan file "
        "(`reconciler apply plan.json --max-age 24h`)\n",
    )
    assert not _applied(sandbox)


def test_a_plan_from_the_future_is_refused(planned: tuple[Sandbox, Path]) -> None:
    """Found in review: a negative age passed any --max-age (created_at is outside the digest)."""
    sandbox, path = planned
    done = _apply_at(sandbox, "2026-11-22T11:00:00.000Z", str(path), "--max-age", "24h")
    assert (done.exit_code, done.output) == (
        1,
        f"Error: {path} says it was made 1h from now ({MADE}): a plan from the future cannot be "
        f"vouched for (check the clocks): run `reconciler plan --sandbox local --out {path}` "
        "again and apply that\n",
    )
