"""Command line: parse, build dependencies, print, and map errors to exit codes (the only printer).

Exit codes: 0 success; 1 any error (usage errors included); 2 only ever means "changes present"
(plan --detailed-exitcode) or "drift found" (drift; pull: edits made outside git were pulled, or
would be on a dry run, or are reported).
"""

from __future__ import annotations

import datetime
import json
import os
import sys
import tempfile
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import click

from reconciler import (
    __version__,
    check_report,
    checking,
    commands,
    migrating,
    offerfiles,
    planfile,
    planner,
    policies,
    pull_report,
    render,
    schema,
    simulating,
    simulation_report,
    statefile,
)
from reconciler.config import DriftMode
from reconciler.errors import InvalidDocuments, ReconcilerError, UsageError
from reconciler.migration_files import DEFAULT_OUT
from reconciler.migration_report import migration_json, migration_markdown, migration_text
from reconciler.model import Desired, Key, Kind, Plan, Problem, Report, Result

FORMATS_PLAN = ["text", "markdown", "json"]


@dataclass(frozen=True, slots=True)
class Context:
    """What every command gets from the global options."""

    root: Path
    deps: commands.Dependencies
    color: bool
    verbose: bool = False

    def workspace(self) -> commands.Workspace:
        return commands.workspace(self.root, self.deps)


class _Group(click.Group):
    """Maps every expected failure to one clear line and exit code 1, in tests and for real."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> NoReturn:
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.exceptions.Exit as done:
            sys.exit(done.exit_code)
        except click.Abort as abort:
            if isinstance(abort.__cause__ or abort.__context__, KeyboardInterrupt):
                click.echo("Interrupted.", err=True)
                sys.exit(130)
            click.echo("Aborted.", err=True)
            sys.exit(1)
        except click.ClickException as usage:
            # One line, as every other error: the message and where the help is.
            where = (
                usage.ctx.command_path
                if isinstance(usage, click.UsageError) and usage.ctx
                else None
            )
            hint = f" (see `{where} --help`)" if where else ""
            click.echo(f"Error: {usage.format_message()}{hint}", err=True)
            sys.exit(1)
        except InvalidDocuments as invalid:
            problems = tuple(p for p in invalid.problems if isinstance(p, Problem))
            click.echo(render.problems_text(problems), nl=False, err=True)
            click.echo(f"Error: {invalid}: fix them (`reconciler validate` lists them).", err=True)
            sys.exit(1)
        except ReconcilerError as error:
            click.echo(f"Error: {error}", err=True)
            sys.exit(error.exit_code)
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            sys.exit(130)
        except OSError as error:
            where = _log_crash()
            what = f"{error.strerror or error}" + (f": {error.filename}" if error.filename else "")
            click.echo(f"Error: {what} (details in {where})", err=True)
            sys.exit(1)
        except Exception:
            where = _log_crash()
            click.echo(
                f"Error: reconciler failed unexpectedly; the details are in {where}: "
                "please report it with that file",
                err=True,
            )
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)


def _log_crash() -> str:
    """Write the traceback of the exception being handled to a file; return its path."""
    text = traceback.format_exc()
    try:
        fd, path = tempfile.mkstemp(prefix="reconciler-crash-", suffix=".log")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError:
        return "nowhere: the temporary folder is not writable either"
    return path


def _echo(lines: Sequence[render.Styled], color: bool, *, err: bool = False) -> None:
    for line in lines:
        text = click.style(line.text, fg=line.colour, bold=line.bold) if color else line.text
        click.echo(text, err=err, color=color)


_sandbox_option = click.option(
    "--sandbox", "-s", default=None, help="Sandbox from reconciler.yaml (default: its default)."
)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="reconciler")
@click.option(
    "-C",
    "--chdir",
    "root",
    type=click.Path(file_okay=False, path_type=Path),
    default=".",
    help="Repository root holding reconciler.yaml, offers/ and state/ (default: current folder).",
)
@click.option(
    "-v", "--verbose", count=True, help="Log each API request to stderr (tokens redacted)."
)
@click.option("--no-color", is_flag=True, help="No colour (also when NO_COLOR is set).")
@click.pass_context
def cli(ctx: click.Context, root: Path, verbose: int, no_color: bool) -> None:
    """Manage Adobe Offer Decisioning objects as code: validate, plan, apply, drift."""
    injected = ctx.obj if isinstance(ctx.obj, commands.Dependencies) else commands.Dependencies()
    log = (lambda line: click.echo(line, err=True)) if verbose else injected.log
    deps = commands.Dependencies(env=injected.env, clock=injected.clock, app=injected.app, log=log)
    color = sys.stdout.isatty() and not no_color and "NO_COLOR" not in os.environ
    ctx.obj = Context(root=root, deps=deps, color=color, verbose=verbose > 0)


# --- validate / schema ----------------------------------------------------------------------


@cli.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "github", "markdown"]),
    default="text",
    show_default=True,
    help="text: path:line:column lines; github: workflow annotations; json: a list; "
    "markdown: a pull-request comment saying no plan was computed (see --reason).",
)
@click.option("--sandbox", "-s", default=None, help="markdown: the sandbox whose comment this is.")
@click.option(
    "--reason",
    default="this pull request comes from a fork, which gets no credentials; only validation ran.",
    show_default=True,
    help="markdown: why no plan was computed.",
)
@click.pass_obj
def validate(ctx: Context, fmt: str, sandbox: str | None, reason: str) -> int:
    """Check every file under offers/ offline: no network, no credentials."""
    if fmt == "markdown":
        problems: tuple[Problem, ...]
        try:
            valid = commands.validate(ctx.root)
            count, problems = len(valid), _policy_errors(ctx, valid)
        except InvalidDocuments as invalid:
            count, problems = 0, tuple(p for p in invalid.problems if isinstance(p, Problem))
        name = sandbox or ctx.workspace().config.default
        click.echo(render.validation_markdown(problems, count, name, reason), nl=False)
        return 1 if problems else 0
    try:
        objects = commands.validate(ctx.root)
    except InvalidDocuments as invalid:
        problems = tuple(p for p in invalid.problems if isinstance(p, Problem))
        renderer = {
            "text": render.problems_text,
            "json": render.problems_json,
            "github": render.problems_github,
        }[fmt]
        click.echo(renderer(problems), nl=False)
        if fmt != "json":
            click.echo(f"{invalid}: fix the lines above and run validate again.", err=True)
        return 1
    findings = commands.policy_findings(ctx.root, objects)
    shown = {
        "text": render.findings_text,
        "json": render.findings_json,
        "github": render.findings_github,
    }[fmt]
    click.echo(shown(findings), nl=False)
    errors = sum(1 for f in findings if f.severity is policies.Severity.ERROR)
    warnings = len(findings) - errors
    noted = f", and {warnings} policy warning{'s' if warnings != 1 else ''}" if warnings else ""
    if errors:
        if fmt != "json":
            click.echo(
                f"{errors} policy error{'s' if errors != 1 else ''}{noted}: fix the lines above "
                "and run validate again.",
                err=True,
            )
        return 1
    if fmt != "json":
        count = len(objects)
        click.echo(
            f"Valid: {count} object{'s' if count != 1 else ''} in offers/"
            + (f" ({noted.removeprefix(', and ')})." if warnings else "."),
            err=fmt == "github",
        )
    return 0


def _policy_errors(ctx: Context, objects: Sequence[Desired]) -> tuple[Problem, ...]:
    """The problems of the policies of severity error (warnings do not fail a pull request)."""
    findings = commands.policy_findings(ctx.root, objects)
    return tuple(f.problem for f in findings if f.severity is policies.Severity.ERROR)


@cli.command("policies")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.pass_obj
def policies_command(ctx: Context, fmt: str) -> None:
    """List the team policies of reconciler.yaml: name, severity, kinds, keys, check."""
    listed = commands.read_policies(ctx.root)
    if fmt == "json":
        click.echo(render.policies_json(listed), nl=False)
    elif listed:
        click.echo(render.policies_text(listed), nl=False)
    else:
        click.echo("No policies: add them under policies: in reconciler.yaml.", err=True)


@cli.command("schema")
@click.option(
    "--kind",
    type=click.Choice([kind.value for kind in Kind]),
    default=None,
    help="Only this kind's schema (default: the whole file format).",
)
def schema_command(kind: str | None) -> None:
    """Print the JSON Schema of the offers/ file format (editors use it to autocomplete)."""
    document = schema.json_schema(Kind(kind) if kind else None)
    click.echo(json.dumps(document, indent=2, sort_keys=True))


# --- simulate / test ------------------------------------------------------------------------


@cli.command()
@click.option("--decision", "-d", required=True, metavar="KEY", help="Decision or strategy key.")
@click.option(
    "--profile",
    "-p",
    "profile_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="A YAML or JSON file: attributes:, audiences:, context:.",
)
@click.option("--at", default=None, metavar="TIMESTAMP", help="The moment (default: now).")
@click.option(
    "--item-count",
    type=click.IntRange(1, 30),
    default=1,
    show_default=True,
    help="Items a selection strategy proposes.",
)
@_sandbox_option
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.pass_obj
def simulate(
    ctx: Context,
    decision: str,
    profile_path: Path,
    at: str | None,
    item_count: int,
    sandbox: str | None,
    fmt: str,
) -> None:
    """Which offers a decision proposes to one profile, and why: offline, from offers/."""
    loaded = simulating.load(ctx.root, sandbox)
    profile = simulating.read_profile(profile_path, str(profile_path))
    moment = simulating.parse_at(at, _now(ctx))
    outcome = simulating.simulate_one(loaded, decision, profile, moment, item_count)
    if fmt == "json":
        click.echo(simulation_report.simulation_json(outcome), nl=False)
    else:
        _echo(simulation_report.simulation_text(outcome), ctx.color)


def _now(ctx: Context) -> datetime.datetime:
    return datetime.datetime.fromisoformat(ctx.deps.clock().replace("Z", "+00:00"))


@cli.command("test")
@_sandbox_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "github"]),
    default="text",
    show_default=True,
    help="github: an annotation at each failing test's file.",
)
@click.pass_obj
def test_command(ctx: Context, sandbox: str | None, fmt: str) -> int:
    """Run the decision tests of offers/ (kind: decision-test) on the simulator; exit 1 on any
    failure."""
    results = simulating.run_tests(simulating.load(ctx.root, sandbox))
    match fmt:
        case "json":
            click.echo(simulation_report.trials_json(results), nl=False)
        case "github":
            click.echo(simulation_report.trials_github(results), nl=False)
        case _:
            _echo(simulation_report.trials_text(results), ctx.color)
    return 0 if all(trial.passed for trial in results) else 1


@cli.command()
@_sandbox_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "markdown"]),
    default="text",
    show_default=True,
    help="markdown: the apply job's summary.",
)
@click.pass_obj
def check(ctx: Context, sandbox: str | None, fmt: str) -> int:
    """After apply: ask the live sandbox's Decisioning API what each decision test's profile is
    served, and compare it with the simulation; exit 1 on any mismatch (a health failure)."""
    checked = checking.check(ctx.workspace(), sandbox)
    match fmt:
        case "json":
            click.echo(check_report.check_json(checked), nl=False)
        case "markdown":
            click.echo(check_report.check_markdown(checked), nl=False)
        case _:
            _echo(check_report.check_text(checked), ctx.color)
    return 0 if checked.healthy else 1


@cli.command()
@click.option(
    "--before",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="A checkout of the base branch (its offers/ is the estate before the change).",
)
@_sandbox_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "markdown", "json"]),
    default="text",
    show_default=True,
    help="markdown: the plan comment's section Outcomes that change.",
)
@click.pass_obj
def outcomes(ctx: Context, before: Path, sandbox: str | None, fmt: str) -> None:
    """What each decision test's profile sees before and after a change (offline)."""
    found = simulating.outcomes(ctx.root, before, sandbox)
    match fmt:
        case "json":
            click.echo(simulation_report.outcomes_json(found), nl=False)
        case "markdown":
            name = simulating.sandbox_key(ctx.root, sandbox)
            click.echo(simulation_report.outcomes_markdown(found, name), nl=False)
        case _:
            _echo(simulation_report.outcomes_text(found), ctx.color)


# --- plan -----------------------------------------------------------------------------------


def _print_plan(ctx: Context, plan: Plan, fmt: str) -> None:
    match fmt:
        case "json":
            click.echo(planfile.dumps(plan), nl=False)
        case "markdown":
            click.echo(render.plan_markdown(plan), nl=False)
        case _:
            _echo(render.plan_text(plan, verbose=ctx.verbose), ctx.color)


@cli.command()
@_sandbox_option
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), help="Save the plan for apply."
)
@click.option("--format", "fmt", type=click.Choice(FORMATS_PLAN), default="text", show_default=True)
@click.option(
    "--detailed-exitcode", is_flag=True, help="Exit 2 when there are changes, 0 when none."
)
@click.option("--only", multiple=True, metavar="GLOB", help="Only keys matching GLOB (repeatable).")
@click.option(
    "--exclude", multiple=True, metavar="GLOB", help="Skip keys matching GLOB (repeatable)."
)
@click.option(
    "--prune/--no-prune",
    default=None,
    help="Delete objects removed from git (default: reconciler.yaml).",
)
@click.pass_obj
def plan(
    ctx: Context,
    sandbox: str | None,
    out: Path | None,
    fmt: str,
    detailed_exitcode: bool,
    only: tuple[str, ...],
    exclude: tuple[str, ...],
    prune: bool | None,
) -> int:
    """Show what apply would change: creates, minimal JSON patches, deletes."""
    ws = ctx.workspace()
    result = commands.plan(ws, sandbox, selection=planner.Selection(only, exclude), prune=prune)
    _print_plan(ctx, result, fmt)
    if out is not None:
        planfile.write(out, result, created=ctx.deps.clock())
        click.echo(
            f"Saved the plan to {out}: `reconciler apply {out}` executes exactly it.", err=True
        )
    return 2 if detailed_exitcode and not result.is_empty else 0


# --- apply ----------------------------------------------------------------------------------


def _duration(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> tuple[str, datetime.timedelta] | None:
    """`90m`, `24h`, `2d`: kept as written (for messages) with its timedelta."""
    if value is None:
        return None
    try:
        return value, planfile.parse_duration(value)
    except ValueError as bad:
        raise click.BadParameter(str(bad), ctx=ctx, param=param) from None


@cli.command()
@click.argument("plan_file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@_sandbox_option
@click.option(
    "--auto-approve", is_flag=True, help="Apply without asking (required with no terminal)."
)
@click.option("--parallelism", type=click.IntRange(min=1, max=64), default=4, show_default=True)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "markdown"]),
    default="text",
    show_default=True,
)
@click.option(
    "--prune/--no-prune",
    default=None,
    help="Delete objects removed from git (default: reconciler.yaml).",
)
@click.option("--only", multiple=True, metavar="GLOB", help="Only keys matching GLOB (repeatable).")
@click.option(
    "--exclude", multiple=True, metavar="GLOB", help="Skip keys matching GLOB (repeatable)."
)
@click.option(
    "--max-age",
    metavar="DURATION",
    callback=_duration,
    default=None,
    help="Refuse a saved plan made longer ago than this (90m, 24h, 2d, 1d12h).",
)
@click.pass_obj
def apply(
    ctx: Context,
    plan_file: Path | None,
    sandbox: str | None,
    auto_approve: bool,
    parallelism: int,
    fmt: str,
    prune: bool | None,
    only: tuple[str, ...],
    exclude: tuple[str, ...],
    max_age: tuple[str, datetime.timedelta] | None,
) -> int:
    """Execute a saved plan exactly, or plan and apply after confirmation."""
    ws = ctx.workspace()
    if plan_file is not None:
        if only or exclude or prune is not None:
            raise UsageError(
                "a saved plan is applied exactly as it was made: choose --only, --exclude and "
                "--prune when running `reconciler plan --out`"
            )
        chosen = planfile.read(plan_file)
        if max_age is not None:
            planfile.check_age(plan_file, chosen, ctx.deps.clock(), max_age[1], max_age[0])
        target = commands.check_saved_plan(ws, chosen, sandbox)
    else:
        if max_age is not None:
            raise UsageError(
                "--max-age limits how old a saved plan may be: give the plan file "
                "(`reconciler apply plan.json --max-age 24h`)"
            )
        selection = planner.Selection(only, exclude)
        chosen = commands.plan(ws, sandbox, selection=selection, prune=prune)
        target = ws.config.sandbox(sandbox)
        if fmt == "text":
            _echo(render.plan_text(chosen, verbose=ctx.verbose), ctx.color)
        if chosen.is_empty:
            empty = Report(chosen.sandbox, ())
            if fmt == "json":
                click.echo(render.report_json(empty), nl=False)
            elif fmt == "markdown":
                click.echo(render.report_markdown(empty), nl=False)
            return 0
        if not auto_approve:
            if not sys.stdin.isatty():
                raise UsageError(
                    "refusing to apply unattended (no terminal): review with `reconciler plan`, "
                    "then pass --auto-approve or a saved plan"
                )
            if not click.confirm(f"Apply these changes to sandbox {target.key!r}?", default=False):
                click.echo("Nothing applied.", err=True)
                return 1
    total = len(chosen.changes)
    show_bar = sys.stderr.isatty() and total > 0
    with (
        click.progressbar(length=total, label="Applying", file=sys.stderr)
        if show_bar
        else _NoBar() as bar
    ):

        def progress(_: Result) -> None:
            bar.update(1)

        report = commands.apply(
            ws,
            target,
            chosen,
            parallelism=parallelism,
            on_result=progress,
            saved=plan_file is not None,
        )
    match fmt:
        case "json":
            click.echo(render.report_json(report), nl=False)
        case "markdown":
            click.echo(render.report_markdown(report), nl=False)
        case _:
            _echo(render.report_text(report), ctx.color)
    if report.interrupted:
        return 130
    return 0 if report.succeeded else 1


class _NoBar:
    def __enter__(self) -> _NoBar:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def update(self, steps: int) -> None:
        return None


# --- drift ----------------------------------------------------------------------------------


@cli.command()
@_sandbox_option
@click.option("--format", "fmt", type=click.Choice(FORMATS_PLAN), default="text", show_default=True)
@click.option("--unmanaged", is_flag=True, help="Also list live objects no file manages.")
@click.pass_obj
def drift(ctx: Context, sandbox: str | None, fmt: str, unmanaged: bool) -> int:
    """Report what changed outside git since the last apply: who, when, which fields. Exit 2 on drift."""
    found = commands.drift(ctx.workspace(), sandbox, unmanaged=unmanaged)
    match fmt:
        case "json":
            click.echo(render.drift_json(found), nl=False)
        case "markdown":
            click.echo(render.drift_markdown(found), nl=False)
        case _:
            _echo(render.drift_text(found), ctx.color)
    return 2 if found.has_drift else 0


# --- pull -----------------------------------------------------------------------------------


@cli.command()
@click.argument("keys", nargs=-1, metavar="[KEY]...")
@_sandbox_option
@click.option(
    "--dry-run", is_flag=True, help="Print the unified diff it would write; write nothing."
)
@click.option(
    "--deletions",
    is_flag=True,
    help="Delete the files of objects deleted outside git (and forget them in state).",
)
@click.option("--format", "fmt", type=click.Choice(FORMATS_PLAN), default="text", show_default=True)
@click.pass_obj
def pull(
    ctx: Context,
    keys: tuple[str, ...],
    sandbox: str | None,
    dry_run: bool,
    deletions: bool,
    fmt: str,
) -> int:
    """Bring edits made outside git into git: write the live values of the fields git owns into
    the files of the objects that drifted (all, or the KEYs: keys or globs) and record them in
    state, so that plan and drift are clean. Exit 0: nothing to pull; 2: pulled (or, with
    --dry-run, would pull) or reported drift."""
    done = commands.pull(ctx.workspace(), sandbox, keys, dry_run=dry_run, deletions=deletions)
    match fmt:
        case "json":
            click.echo(pull_report.pull_json(done), nl=False)
        case "markdown":
            click.echo(pull_report.pull_markdown(done), nl=False)
        case _:
            if dry_run:
                click.echo(pull_report.unified_diff(done), nl=False)
            _echo(pull_report.pull_text(done), ctx.color, err=dry_run)
    return 2 if done.has_drift else 0


# --- import ---------------------------------------------------------------------------------


@cli.command("import")
@click.argument("key", required=False)
@click.argument("object_id", required=False, metavar="ID")
@click.option("--all", "everything", is_flag=True, help="Import every unmanaged live object.")
@click.option("--kind", type=click.Choice([kind.value for kind in Kind]), default=None)
@_sandbox_option
@click.pass_obj
def import_command(
    ctx: Context,
    key: str | None,
    object_id: str | None,
    everything: bool,
    kind: str | None,
    sandbox: str | None,
) -> None:
    """Adopt existing objects: record them in state and write offers/KEY.yaml."""
    if everything == bool(key or object_id) or (not everything and not (key and object_id)):
        raise UsageError("give KEY and ID, or --all (optionally with --kind)")
    problem = offerfiles.key_problem(key) if key is not None else None
    if problem is not None:
        raise UsageError(f"{key!r}: {problem}")
    done = commands.import_objects(
        ctx.workspace(),
        sandbox,
        key=Key(key) if key else None,
        object_id=object_id,
        kind=Kind(kind) if kind else None,
        everything=everything,
    )
    for item in done:
        where = (
            item.path.as_posix()
            if item.path is not None
            else "state only: its file already defines it"
        )
        click.echo(f"Imported {item.kind.value} {item.id} as {item.key} ({where})")
    click.echo(f"{len(done)} object{'s' if len(done) != 1 else ''} imported.")


# --- sandboxes ------------------------------------------------------------------------------


@cli.command()
@click.option("--remote", is_flag=True, help="Only sandboxes with a real endpoint (not embedded).")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option(
    "--promotion",
    is_flag=True,
    help="Split them into the promotion: order of reconciler.yaml and the independent rest "
    '(json: {"promotion": [...], "independent": [...]}, the jobs of the apply workflow).',
)
@click.option(
    "--drift",
    "drift_mode",
    type=click.Choice([mode.value for mode in DriftMode]),
    default=None,
    help="Only the sandboxes whose drift: is this (the jobs of the drift workflow).",
)
@click.pass_obj
def sandboxes(
    ctx: Context, remote: bool, fmt: str, promotion: bool, drift_mode: str | None
) -> None:
    """List the sandboxes of reconciler.yaml (json: a workflow matrix)."""
    config = ctx.workspace().config
    names = [
        key
        for key, sb in sorted(config.sandboxes.items())
        if not (remote and sb.is_embedded)
        and (drift_mode is None or sb.drift is DriftMode(drift_mode))
    ]
    if promotion:
        chain = [key for key in config.promotion if key in names]
        independent = [key for key in names if key not in chain]
        if fmt == "json":
            click.echo(json.dumps({"promotion": chain, "independent": independent}))
        else:
            click.echo(f"promotion: {' -> '.join(chain) or '(none)'}")
            click.echo(f"independent: {', '.join(independent) or '(none)'}")
        return
    if fmt == "json":
        click.echo(json.dumps(names))
    else:
        for key in names:
            sb = config.sandboxes[key]
            default = " (default)" if key == config.default else ""
            click.echo(f"{key}\t{sb.endpoint}\t{sb.name}{default}")


# --- state ----------------------------------------------------------------------------------


@cli.group()
def state() -> None:
    """Inspect and repair the state file (only apply and these commands write it)."""


@state.command("list")
@_sandbox_option
@click.pass_obj
def state_list(ctx: Context, sandbox: str | None) -> None:
    """One line per managed object: key, kind, id, etag."""
    current = commands.state_show(ctx.workspace(), sandbox)
    for key in sorted(current.objects):
        entry = current.objects[key]
        pending = " (create interrupted)" if entry.pending else ""
        click.echo(f"{key}\t{entry.kind.value}\t{entry.id or '-'}\t{entry.etag or '-'}{pending}")


@state.command("show")
@click.argument("key")
@_sandbox_option
@click.pass_obj
def state_show(ctx: Context, key: str, sandbox: str | None) -> None:
    """An entry as the state file records it."""
    current = commands.state_show(ctx.workspace(), sandbox)
    if key not in current.objects:
        raise UsageError(f"{key}: not in state (see `reconciler state list`)")
    document = json.loads(statefile.dumps(current))["objects"][key]
    click.echo(json.dumps(document, indent=2, sort_keys=True))


@state.command("rm")
@click.argument("keys", nargs=-1, required=True)
@_sandbox_option
@click.pass_obj
def state_rm(ctx: Context, keys: tuple[str, ...], sandbox: str | None) -> None:
    """Stop managing objects without deleting them."""
    commands.state_rm(ctx.workspace(), sandbox, keys)
    click.echo(
        f"Removed {len(keys)} entr{'ies' if len(keys) != 1 else 'y'} from state; the objects still exist."
    )


@state.command("guard")
@click.argument("paths", nargs=-1)
def state_guard(paths: tuple[str, ...]) -> int:
    """Fail (with annotations) when PATHS, the files a pull request changes, touch state/."""
    touched = sorted(
        p for p in paths if p.replace("\\", "/").startswith("state/") and p != "state/.gitkeep"
    )
    if touched:
        click.echo(render.state_guard(touched), nl=False)
        click.echo(
            f"{len(touched)} state file(s) edited by hand: only apply writes state/.", err=True
        )
        return 1
    click.echo("state/ untouched.")
    return 0


@state.command("mv")
@click.argument("old")
@click.argument("new")
@_sandbox_option
@click.pass_obj
def state_mv(ctx: Context, old: str, new: str, sandbox: str | None) -> None:
    """Rename a key (after renaming its file) without re-creating the object."""
    problem = offerfiles.key_problem(new)
    if problem is not None:
        raise UsageError(f"{new!r}: {problem}")
    commands.state_mv(ctx.workspace(), sandbox, old, new)
    click.echo(f"Moved {old} to {new}.")


# --- migrate --------------------------------------------------------------------------------


@cli.command()
@click.argument("keys", nargs=-1, metavar="[KEY]...")
@click.option(
    "--to",
    "target",
    type=click.Choice(["decisioning"]),
    required=True,
    help="The model to migrate to: Decisioning (Adobe labels Decision management legacy).",
)
@click.option(
    "--out",
    default=DEFAULT_OUT,
    show_default=True,
    help="Folder under offers/ for the new files (relative to the repository root).",
)
@click.option("--dry-run", is_flag=True, help="Print the report only; write nothing.")
@click.option(
    "--force", is_flag=True, help="Overwrite generated files that differ (their edits are lost)."
)
@click.option(
    "--tenant",
    default=None,
    help="Tenant namespace of the custom attributes (default: the default sandbox's "
    "decisioning.tenant in reconciler.yaml, else _reconciler).",
)
@click.option("--format", "fmt", type=click.Choice(FORMATS_PLAN), default="text", show_default=True)
@click.pass_obj
def migrate(
    ctx: Context,
    keys: tuple[str, ...],
    target: str,
    out: str,
    dry_run: bool,
    force: bool,
    tenant: str | None,
    fmt: str,
) -> int:
    """Write Decisioning definitions of the legacy objects (all, or KEYs and what they need)
    as new files under --out, with a report of every field; the legacy files stay as they are."""
    ws = ctx.workspace()
    done = migrating.migrate(
        ws.root, ws.config, keys, out=out, tenant=tenant, force=force, dry_run=dry_run
    )
    render_report = {
        "json": migration_json,
        "markdown": migration_markdown,
        "text": migration_text,
    }[fmt]
    click.echo(render_report(done.migration, done.statuses, done.stale), nl=False)
    where = f"offers/{done.migration.prefix}/"
    if done.refused:
        many = done.refused != 1
        raise UsageError(
            f"{done.refused} file{'s' if many else ''} under {where} "
            f"{'differ' if many else 'differs'} from what migrate writes (marked conflict): "
            f"nothing written; review {'them' if many else 'it'}, then pass --force to "
            "overwrite"
        )
    unchanged = done.unchanged
    if dry_run:
        pending = len(done.statuses) - unchanged
        click.echo(
            f"Dry run: nothing written ({pending} file{'s' if pending != 1 else ''} to write, "
            f"{unchanged} unchanged, under {where}).",
            err=True,
        )
    else:
        click.echo(
            f"Wrote {done.written} file{'s' if done.written != 1 else ''} under {where} "
            f"({unchanged} unchanged); the legacy files are untouched: review, commit, and "
            "run reconciler plan.",
            err=True,
        )
    return 0


# --- emulator -------------------------------------------------------------------------------


@cli.group()
def emulator() -> None:
    """The local Offer Library emulator (the sandbox tests and `make run` use)."""


@emulator.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--data",
    "data_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Journal file to persist to and replay on start (default: memory only).",
)
@click.option(
    "--latency-ms", type=click.FloatRange(min=0), default=0.0, help="Delay per data call."
)
@click.option(
    "--rate-limit",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Data calls per second per client; over it answers 429 with Retry-After.",
)
@click.option(
    "--error-rate",
    type=click.FloatRange(0, 1),
    default=0.0,
    help="Share of data calls answered 5xx.",
)
@click.option(
    "--drop-rate",
    type=click.FloatRange(0, 1),
    default=0.0,
    help="Share of data calls whose connection drops (half before, half after the write).",
)
@click.option("--ignore-if-match", is_flag=True, help="Ignore If-Match headers entirely.")
@click.option(
    "--client-id", default=None, help="Accept only this IMS client id (with --client-secret)."
)
@click.option("--client-secret", default=None, help="Accept only this IMS client secret.")
@click.option(
    "--token-ttl",
    type=click.IntRange(min=1),
    default=86399,
    show_default=True,
    help="Token lifetime, s.",
)
@click.option("--seed", type=int, default=None, help="Seed of the fault-injection and race RNGs.")
@click.option(
    "--server-defaults", is_flag=True, help="Fill in UI defaults on create (labels, metadata...)."
)
@click.option(
    "--sparse-receipts", is_flag=True, help="Answer writes 200 with a bare receipt (etag a string)."
)
@click.option(
    "--race-list",
    type=click.FloatRange(0, 1),
    default=0.0,
    help="Share of list pages that first get a UI edit to a random object of their kind.",
)
@click.option(
    "--race-write",
    type=click.FloatRange(0, 1),
    default=0.0,
    help="Share of PATCH and DELETE calls whose target first gets a UI edit.",
)
@click.option(
    "--control",
    is_flag=True,
    help="Accept POST /_emulator/control to change faults while serving (for tests).",
)
@click.option(
    "--race-client-id",
    default="ui-racer",
    show_default=True,
    help="Client id that race edits are made as (lastModifiedByClientId).",
)
def emulator_serve(
    host: str,
    port: int,
    data_file: Path | None,
    latency_ms: float,
    rate_limit: float | None,
    error_rate: float,
    drop_rate: float,
    ignore_if_match: bool,
    client_id: str | None,
    client_secret: str | None,
    token_ttl: int,
    seed: int | None,
    server_defaults: bool,
    sparse_receipts: bool,
    race_list: float,
    race_write: float,
    race_client_id: str,
    control: bool,
) -> None:
    """Serve the Offer Library emulator (/data/core/dps, /ims/token/v3) until interrupted."""
    from reconciler.emulator import server  # uvicorn is loaded only when serving

    settings = server.EmulatorSettings(
        latency_ms=latency_ms,
        rate_limit=rate_limit,
        error_rate=error_rate,
        drop_rate=drop_rate,
        ignore_if_match=ignore_if_match,
        client_id=client_id,
        client_secret=client_secret,
        token_ttl=token_ttl,
        seed=seed,
        server_defaults=server_defaults,
        sparse_receipts=sparse_receipts,
        race_list=race_list,
        race_write=race_write,
        race_client_id=race_client_id,
    )
    server.serve(host, port, data_file, settings, control=control)


def main() -> None:
    """Console entry point."""
    cli.main(prog_name="reconciler")


if __name__ == "__main__":
    main()
