"""Pure: problems, plans, drift and apply reports rendered as text, markdown, JSON or annotations."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import assert_never

from reconciler.model import (
    Action,
    Change,
    Drift,
    DriftStatus,
    FieldDrift,
    JsonValue,
    ObjectDrift,
    Op,
    Outcome,
    PatchOp,
    Plan,
    Problem,
    Ref,
    Report,
    Result,
)
from reconciler.policies import Finding, Policy, Severity


def problems_text(problems: Sequence[Problem]) -> str:
    """`path:line:column: message`, one per line, in file order."""
    return "".join(f"{problem}\n" for problem in problems)


def problems_github(problems: Sequence[Problem]) -> str:
    """GitHub workflow commands that annotate the offending lines of a pull request."""
    return "".join(
        f"::error file={_escape_property(p.path)},line={p.line},col={p.column}::"
        f"{_escape_command(p.message)}\n"
        for p in problems
    )


def problems_json(problems: Sequence[Problem]) -> str:
    rows = [
        {"path": p.path, "line": p.line, "column": p.column, "message": p.message} for p in problems
    ]
    return json.dumps(rows, indent=2, sort_keys=True) + "\n"


def _escape_property(text: str) -> str:
    # GitHub's workflow-command escaping for a property value (file=...).
    return _escape_command(text).replace(":", "%3A").replace(",", "%2C")


def _escape_command(text: str) -> str:
    # GitHub's workflow-command escaping for the message part.
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


# --- values ---------------------------------------------------------------------------------


def value(item: JsonValue) -> str:
    """A JSON value as a reviewer reads it; a reference to an object not created yet says so
    (inside a list or an object too, so it never looks like a plain `{"ref": ...}` map)."""
    if isinstance(item, Ref):
        return _unknown(item)
    return json.dumps(item, ensure_ascii=False, sort_keys=True, default=_ref_json)


def _unknown(item: Ref) -> str:
    return f"(id of {item.key}, known after apply)"


def _ref_json(item: object) -> object:
    if isinstance(item, Ref):
        return _unknown(item)
    raise TypeError(f"{type(item).__name__} is not JSON")


def _op_line(op: PatchOp) -> str:
    match op.op:
        case Op.ADD:
            text = f"+ {op.path}: {value(op.value)}"
        case Op.REPLACE:
            text = f"~ {op.path}: {value(op.old)} -> {value(op.value)}"
        case Op.REMOVE:
            text = f"- {op.path}: {value(op.old)}"
        case Op.TEST:
            text = f"? {op.path} == {value(op.value)}   (precondition)"
        case _:
            assert_never(op.op)
    if op.reverts is not None:
        text += f"   (reverts an edit by {op.reverts.by} at {op.reverts.at})"
    return text


def summary(plan: Plan) -> str:
    text = (
        f"Plan: {plan.count(Action.CREATE)} to create, {plan.count(Action.UPDATE)} to update, "
        f"{plan.count(Action.DELETE)} to delete"
    )
    if plan.count(Action.ADOPT):
        text += f", {plan.count(Action.ADOPT)} to adopt"
    if plan.count(Action.REFRESH):
        text += f", {plan.count(Action.REFRESH)} state-only"
    return text + "."


def _hidden_note(plan: Plan) -> str | None:
    if not plan.hidden:
        return None
    them = "them" if plan.hidden != 1 else "it"
    return (
        f"{_plural(plan.hidden, 'change')} not shown: --only/--exclude leave {them} out, and "
        f"applying this plan leaves {them} out too."
    )


def _empty(plan: Plan) -> str:
    if plan.hidden:
        return "No changes among the selected objects."
    return f"No changes. Sandbox {plan.sandbox!r} matches git."


def _notes(change: Change, code: str = "") -> list[str]:
    """Sentences a reviewer needs to read a change beyond its operations (`code` quotes ids)."""
    notes: list[str] = []
    object_id = f"{code}{change.id or 'an object never created'}{code}"
    if change.action is Action.CREATE and change.id is not None:
        notes.append(f"Was {object_id}, deleted outside git: it is created again.")
    if change.action is Action.ADOPT and change.moved_from is not None:
        notes.append(
            f"Adopts {object_id}, which {code}{change.moved_from}{code} managed until its file "
            "was renamed: state moves it, nothing is created or deleted."
        )
    elif change.action is Action.ADOPT:
        notes.append(f"Adopts {object_id}, found by kind and name: nothing is created.")
    if change.action is Action.REFRESH:
        notes.append(f"Live already matches git ({object_id}): state records it, nothing is sent.")
    if change.action is Action.DELETE:
        notes.append(f"Deletes {object_id} from the sandbox.")
    return notes


def _headline(change: Change) -> str:
    reasons = ", ".join(reason.value for reason in change.reasons)
    return f'{change.action.value} {change.kind.value} {change.key} "{change.name}" ({reasons})'


def _reverted(plan: Plan) -> int:
    return sum(1 for change in plan.changes for op in change.ops if op.reverts is not None)


# --- plan -----------------------------------------------------------------------------------

_COLOURS: Mapping[Action, str] = {
    Action.CREATE: "green",
    Action.UPDATE: "yellow",
    Action.DELETE: "red",
    Action.ADOPT: "cyan",
    Action.REFRESH: "cyan",
}


@dataclass(frozen=True, slots=True)
class Styled:
    """A line of text with an optional colour; the CLI decides whether colour is shown."""

    text: str
    colour: str | None = None
    bold: bool = False


def plan_text(plan: Plan, *, verbose: bool = False) -> list[Styled]:
    """The plan as terraform users expect it: + create, ~ update with each operation, - delete.

    verbose adds each update's `test` preconditions (they are always in the JSON plan).
    """
    lines: list[Styled] = []
    if plan.is_empty:
        lines.append(Styled(_empty(plan), "green", True))
    else:
        lines.append(Styled(f"reconciler will perform these actions on sandbox {plan.sandbox!r}:"))
        lines.append(Styled(""))
        for change in plan.changes:
            lines.append(
                Styled(
                    f"  {change.action.glyph} {_headline(change)}", _COLOURS[change.action], True
                )
            )
            lines += [Styled(f"      {note}") for note in _notes(change)]
            if verbose and change.ops:
                lines += [Styled(f"      {_op_line(op)}", "cyan") for op in change.tests]
                lines += [
                    Styled(
                        f"      ! {path}: JSON Patch cannot assert it is still absent: "
                        "apply reads the object first and sends If-Match"
                    )
                    for path in change.unguarded
                ]
            for op in change.ops:
                lines.append(Styled(f"      {_op_line(op)}", "red" if op.reverts else None))
            if change.drift is not None:
                lines.append(
                    Styled(
                        f"      ! changed outside git by {change.drift.by} at {change.drift.at}: "
                        "the lines marked 'reverts' undo that edit",
                        "red",
                    )
                )
            if change.depends_on:
                lines.append(Styled(f"      waits for: {', '.join(change.depends_on)}"))
        lines.append(Styled(""))
    if plan.ignored:
        lines.append(Styled("Ignored by reconciler.yaml (not enforced):"))
        for item in plan.ignored:
            live = value(item.live) if item.live_present else "(absent)"
            lines.append(
                Styled(f"  {item.key} {item.path}: git {value(item.desired)}, live {live}")
            )
        lines.append(Styled(""))
    if plan.orphans:
        lines.append(
            Styled("Orphans (in state, gone from git; --prune would delete them):", "yellow")
        )
        for orphan in plan.orphans:
            protected = " (protected)" if orphan.protected else ""
            lines.append(
                Styled(
                    f"  {orphan.key} ({orphan.kind.value} {orphan.id or 'never created'})"
                    f"{protected}"
                )
            )
        lines.append(Styled(""))
    lines.append(Styled(summary(plan), None, True))
    hidden = _hidden_note(plan)
    if hidden:
        lines.append(Styled(hidden, "yellow"))
    reverted = _reverted(plan)
    if reverted:
        lines.append(
            Styled(
                f"{reverted} operation{'s' if reverted != 1 else ''} revert{'s' if reverted == 1 else ''} "
                "edits made outside git (marked above). Add ignore rules to cede fields to the UI.",
                "red",
            )
        )
    return lines


COMMENT_LIMIT = 65_536


def marker(kind: str, sandbox: str) -> str:
    """The hidden marker a workflow uses to find and update its sticky comment or issue."""
    return f"<!-- reconciler:{kind}:{sandbox} -->"


def plan_markdown(plan: Plan, *, limit: int = COMMENT_LIMIT) -> str:
    """A pull-request comment: summary first, details per object collapsed, under the limit."""
    head = [marker("plan", plan.sandbox), f"### reconciler plan: sandbox `{plan.sandbox}`", ""]
    if plan.is_empty and plan.hidden:
        head.append("**No changes among the selected objects.**")
    elif plan.is_empty:
        head.append(f"**No changes.** Sandbox `{plan.sandbox}` matches git.")
    else:
        head.append(f"**{summary(plan)}**")
    hidden = _hidden_note(plan)
    if hidden:
        head += ["", f":information_source: {hidden}"]
    if not plan.is_empty:
        reverted = _reverted(plan)
        if reverted:
            head.append("")
            head.append(
                f":warning: **{reverted} operation{'s undo' if reverted != 1 else ' undoes'} edits "
                "made outside git** (marked *reverts* below); merging this pull request loses them."
            )
        head += ["", "| | Object | Kind | Reason |", "|---|---|---|---|"]
        for change in plan.changes:
            reasons = ", ".join(r.value for r in change.reasons)
            head.append(
                f"| `{change.action.glyph}` {change.action.value} | `{change.key}` | "
                f"{change.kind.value} | {table_cell(reasons)} |"
            )
    sections: list[str] = []
    for change in plan.changes:
        body = [
            f"<details><summary><code>{change.action.glyph}</code> {change.action.value} "
            f"<code>{html_escaped(change.key)}</code> ({change.kind.value}): {html_escaped(change.name)}</summary>"
        ]
        notes: list[str] = []
        if change.source:
            notes.append(f"Defined in `{change.source}`.")
        notes += _notes(change, "`")
        if change.drift is not None:
            notes.append(
                f"Last changed outside git by {code_span(change.drift.by)} at "
                f"{html_escaped(change.drift.at)}."
            )
        if notes:
            body += ["", *notes]
        if change.action is Action.CREATE and change.desired is not None:
            created = json.dumps(
                change.desired, indent=2, sort_keys=True, ensure_ascii=False, default=_ref_json
            )
            body += ["", *_fenced("json", created.splitlines())]
        elif change.ops or change.action is Action.UPDATE:
            ops = [_op_line(op) for op in change.ops] or ["(no field changes)"]
            body += ["", *_fenced("diff", ops)]
        body += ["", "</details>"]
        sections.append("\n".join(body))
    tail: list[str] = []
    if plan.ignored:
        rows = [
            f"- `{item.key}` `{item.path}`: git `{_code(value(item.desired))}`, "
            f"live `{_code(value(item.live) if item.live_present else '(absent)')}`"
            for item in plan.ignored
        ]
        summary_line = "<details><summary>Ignored by reconciler.yaml (not enforced)</summary>"
        tail.append("\n".join([summary_line, "", *rows, "", "</details>"]))
    if plan.orphans:
        rows = [
            f"- `{o.key}` ({o.kind.value} `{o.id or 'never created'}`)"
            + (" (protected)" if o.protected else "")
            for o in plan.orphans
        ]
        heading = "**Orphans** (in state, gone from git; pruning is off, so they stay):"
        tail.append("\n".join([heading, "", *rows]))
    everything = (
        f"`reconciler plan --sandbox {plan.sandbox}` shows all of them, and the workflow run's "
        f"`plan-{plan.sandbox}` artifact holds the whole plan."
    )
    return _fit("\n".join(head), sections, "\n\n".join(tail), limit, "objects", everything)


# --- drift ----------------------------------------------------------------------------------


def _unapplied(drift: Drift) -> list[str]:
    if not drift.unapplied:
        return []
    return [
        f"{_plural(drift.unapplied, 'managed object')} not checked: state has no last-applied "
        "body for them yet (imported after state was lost); `reconciler apply` records it."
    ]


def drift_text(drift: Drift) -> list[Styled]:
    if not drift.has_drift:
        return [
            Styled(
                f"No drift: the {drift.checked} managed objects in sandbox {drift.sandbox!r} are as git "
                "last applied them.",
                "green",
                True,
            ),
            *(Styled(line, "yellow") for line in _unapplied(drift)),
        ]
    lines = [Styled(f"Drift in sandbox {drift.sandbox!r}:", None, True), Styled("")]
    for item in drift.objects:
        lines += [
            Styled(
                f"  {_drift_headline(item)}",
                "red" if item.status is DriftStatus.DELETED else "yellow",
                True,
            )
        ]
        lines += [Styled(f"      {_field_line(f)}") for f in item.fields]
    lines.append(Styled(""))
    lines.append(Styled(_drift_summary(drift), None, True))
    lines += [Styled(line, "yellow") for line in _unapplied(drift)]
    return lines


def drift_markdown(drift: Drift, *, limit: int = COMMENT_LIMIT) -> str:
    head = [marker("drift", drift.sandbox), f"### reconciler drift: sandbox `{drift.sandbox}`", ""]
    if not drift.has_drift:
        head.append(
            f"**No drift.** The {drift.checked} managed objects match what git last applied."
        )
        return "\n".join(head) + "\n"
    head += [
        f"**{_drift_summary(drift)}**",
        "",
        "| Object | Kind | What | Who | When |",
        "|---|---|---|---|---|",
    ]
    for item in drift.objects:
        head.append(
            f"| {code_span(item.key or item.id)} | {item.kind.value} | {item.status.value} | "
            f"{table_cell(code_span(item.by or ''))} | {table_cell(html_escaped(item.at or ''))} |"
        )
    sections = []
    for item in drift.objects:
        if not item.fields:
            continue
        lines = [
            f"<details><summary><code>{html_escaped(item.key or item.id)}</code>: {len(item.fields)} field(s)</summary>",
            "",
            *_fenced("diff", [_field_line(f) for f in item.fields]),
            "",
            "</details>",
        ]
        sections.append("\n".join(lines))
    tail = (
        "Git is the source of truth: the next apply reverts these edits. To keep one, copy it into "
        "the YAML in a pull request, or cede the field with an ignore rule in `reconciler.yaml`."
    )
    everything = f"`reconciler drift --sandbox {drift.sandbox}` shows all of them."
    return _fit("\n".join(head), sections, tail, limit, "objects", everything)


def _drift_headline(item: ObjectDrift) -> str:
    who = f" by {item.by} at {item.at}" if item.by else ""
    match item.status:
        case DriftStatus.CHANGED:
            return f'~ {item.kind.value} {item.key} "{item.name}" changed outside git{who}'
        case DriftStatus.DELETED:
            return f'- {item.kind.value} {item.key} "{item.name}" deleted outside git ({item.id})'
        case DriftStatus.UNMANAGED:
            return f'? {item.kind.value} {item.id} "{item.name}" is not managed by git{who}'
        case _:
            assert_never(item.status)


def _field_line(field: FieldDrift) -> str:
    match field.op:
        case Op.ADD:
            return f"+ {field.path}: {value(field.live)} (added outside git)"
        case Op.REPLACE:
            return f"~ {field.path}: {value(field.applied)} -> {value(field.live)}"
        case Op.REMOVE:
            return f"- {field.path}: {value(field.applied)} (removed outside git)"
        case Op.TEST:
            raise ValueError("drift has no test operations")
        case _:
            assert_never(field.op)


def _drift_summary(drift: Drift) -> str:
    counts = {status: sum(1 for o in drift.objects if o.status is status) for status in DriftStatus}
    parts = [f"{counts[DriftStatus.CHANGED]} changed", f"{counts[DriftStatus.DELETED]} deleted"]
    if counts[DriftStatus.UNMANAGED]:
        parts.append(f"{counts[DriftStatus.UNMANAGED]} unmanaged")
    return f"Drift: {', '.join(parts)} (of {drift.checked} managed objects)."


def drift_json(drift: Drift) -> str:
    document = {
        "format_version": 1,
        "sandbox": drift.sandbox,
        "checked": drift.checked,
        "drift": drift.has_drift,
        "objects": [
            {
                "key": item.key,
                "kind": item.kind.value,
                "id": item.id,
                "name": item.name,
                "status": item.status.value,
                "by": item.by,
                "at": item.at,
                "fields": [
                    {"op": f.op.value, "path": f.path, "applied": f.applied, "live": f.live}
                    for f in item.fields
                ],
            }
            for item in drift.objects
        ],
        "ignored": [
            {
                "key": i.key,
                "kind": i.kind.value,
                "path": i.path,
                "applied": i.desired,
                "live": i.live,
            }
            for i in drift.ignored
        ],
    }
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


# --- apply report ---------------------------------------------------------------------------


def report_text(report: Report) -> list[Styled]:
    colours = {
        Outcome.APPLIED: "green",
        Outcome.FAILED: "red",
        Outcome.CONFLICT: "red",
        Outcome.NOT_ATTEMPTED: "yellow",
    }
    lines = [Styled(f"Apply on sandbox {report.sandbox!r}:", None, True)]
    for result in report.results:
        lines.append(Styled(f"  {_result_line(result)}", colours[result.outcome]))
    lines.append(Styled(""))
    lines.append(Styled(_report_summary(report), None, True))
    if report.throttled:
        lines.append(Styled(_throttled(report), "yellow"))
    if report.interrupted:
        lines.append(
            Styled(
                "Interrupted: the writes in flight finished and were recorded; nothing else "
                "was started. Run apply again to converge.",
                "yellow",
            )
        )
    if report.count(Outcome.CONFLICT):
        lines.append(
            Styled(
                "Objects changed after the plan were not written: run `reconciler plan` again, review "
                "the new plan, then apply it.",
                "red",
            )
        )
    return lines


def report_markdown(report: Report) -> str:
    lines = [
        marker("apply", report.sandbox),
        f"### reconciler apply: sandbox `{report.sandbox}`",
        "",
        f"**{_report_summary(report)}**",
        *(["", _throttled(report)] if report.throttled else []),
        "",
        "| Object | Action | Outcome | Detail |",
        "|---|---|---|---|",
    ]
    for result in report.results:
        lines.append(
            f"| `{result.key}` | {result.action.value} | {result.outcome.value} | "
            f"{table_cell(html_escaped(_result_detail(result)))} |"
        )
    if not report.succeeded:
        lines += [
            "",
            "Fix the cause (a pull request for invalid content; a new plan for conflicts), then re-run "
            "the apply workflow: apply converges from wherever this run stopped.",
        ]
    return "\n".join(lines) + "\n"


def report_json(report: Report) -> str:
    document = {
        "format_version": 1,
        "sandbox": report.sandbox,
        "succeeded": report.succeeded,
        "requests": report.requests,
        "throttled": report.throttled,
        "interrupted": report.interrupted,
        "summary": {outcome.value: report.count(outcome) for outcome in Outcome},
        "results": [
            {
                "key": r.key,
                "kind": r.kind.value,
                "action": r.action.value,
                "outcome": r.outcome.value,
                "id": r.id,
                "detail": r.detail,
                "by": r.by,
                "at": r.at,
            }
            for r in report.results
        ],
    }
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _result_line(result: Result) -> str:
    text = f"{result.outcome.value}: {result.action.value} {result.kind.value} {result.key}"
    if result.id:
        text += f" ({result.id})"
    detail = _result_detail(result)
    return f"{text}: {detail}" if detail else text


def _result_detail(result: Result) -> str:
    if result.outcome is Outcome.CONFLICT:
        text = f"changed after the plan by {result.by} at {result.at}; " if result.by else ""
        return text + "not written" + (f" ({result.detail})" if result.detail else "")
    return result.detail or ""


def _throttled(report: Report) -> str:
    return (
        f"The sandbox answered 429 (rate limited) {_plural(report.throttled, 'time')}: each "
        f"request was sent again, with at most {report.lowest_limit} in flight at the lowest."
    )


def _report_summary(report: Report) -> str:
    return (
        f"Apply: {report.count(Outcome.APPLIED)} applied, {report.count(Outcome.FAILED)} failed, "
        f"{_plural(report.count(Outcome.CONFLICT), 'conflict')}, "
        f"{report.count(Outcome.NOT_ATTEMPTED)} not attempted."
    )


# --- markdown helpers -----------------------------------------------------------------------


def _fit(
    head: str, sections: Sequence[str], tail: str, limit: int, noun: str, everything: str = ""
) -> str:
    """Join head, sections and tail, dropping trailing sections (with a note) to stay under limit.

    `everything` tells the reader where the dropped details are: the job summary carries the same
    text as the comment, so it names the command and, for a plan, the uploaded plan.json.
    """

    def build(count: int) -> str:
        hidden = len(sections) - count
        note = (
            f"*Details of {hidden} more {noun} are not shown: a comment holds at most {limit:,} "
            f"characters.{' ' + everything if everything else ''}*"
            if hidden
            else ""
        )
        parts = (head, *sections[:count], tail, note)
        return "\n\n".join(part for part in parts if part) + "\n"

    text = build(len(sections))
    if len(text) > limit:
        # Add up lengths rather than joining again per dropped section: plans can be huge.
        used, count = len(build(0)), 0
        for section in sections:
            if used + len(section) + 2 > limit:
                break
            used, count = used + len(section) + 2, count + 1
        text = build(count)
        while len(text) > limit and count:
            count -= 1
            text = build(count)
    if len(text) > limit:
        # Even the summary table is too long: cut it at a line, and say so.
        ending = f"\n\n*Truncated: a comment holds at most {limit:,} characters.{' ' + everything if everything else ''}*\n"
        room = max(limit - len(ending), 0)
        cut = text.rfind("\n", 0, room)
        text = (text[: cut if cut > 0 else room] + ending)[:limit]
    return text


def _fenced(language: str, lines: Sequence[str]) -> list[str]:
    """A fenced code block whose fence no line of the content can close."""
    longest = max((len(run) for line in lines for run in re.findall(r"`{3,}", line)), default=2)
    fence = "`" * (longest + 1)
    return [f"{fence}{language}", *lines, fence]


def table_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _code(text: str) -> str:
    return text.replace("`", "'")


def code_span(text: str) -> str:
    """Text as inline code, where no tag, link, emphasis or @mention of it renders."""
    return f"`{_code(text)}`" if text.strip() else ""


def html_escaped(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def validation_markdown(problems: Sequence[Problem], valid: int, sandbox: str, reason: str) -> str:
    """The pull-request comment when no plan can be computed (a fork gets no credentials)."""
    lines = [marker("plan", sandbox), f"### reconciler plan: sandbox `{sandbox}`", ""]
    lines.append(f"**No plan computed:** {reason}")
    lines.append("")
    if problems:
        lines.append(
            f":x: **Validation failed: {len(problems)} problem{'s' if len(problems) != 1 else ''}.**"
        )
        lines += ["", *_fenced("text", [str(p) for p in problems])]
    else:
        lines.append(
            f":white_check_mark: **Validation passed:** {valid} object{'s' if valid != 1 else ''} in `offers/`."
        )
    return _fit("\n".join(lines), [], "", COMMENT_LIMIT, "problems")


def state_guard(paths: Sequence[str]) -> str:
    """Annotations for hand edits of state/ in a pull request (only apply writes it)."""
    return "".join(
        f"::error file={_escape_property(path)}::{_escape_command(path + ' is written only by reconciler apply: revert this change; to rename or forget an object use `reconciler state mv` / `state rm` on main, or `reconciler import` to adopt one')}\n"
        for path in paths
    )


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


# --- team policies --------------------------------------------------------------------------


def findings_text(findings: Sequence[Finding]) -> str:
    """Policy findings as problems are shown; a warning says so after the position."""
    return "".join(
        f"{f.problem.path}:{f.problem.line}:{f.problem.column}: "
        f"{'warning: ' if f.severity is Severity.WARNING else ''}{f.problem.message}\n"
        for f in findings
    )


def findings_github(findings: Sequence[Finding]) -> str:
    """Policy findings as workflow annotations: ::error or ::warning, by the policy's severity."""
    return "".join(
        f"::{f.severity.value} file={_escape_property(f.problem.path)},line={f.problem.line},"
        f"col={f.problem.column}::{_escape_command(f.problem.message)}\n"
        for f in findings
    )


def findings_json(findings: Sequence[Finding]) -> str:
    """The rows of problems_json, each with the policy's name and severity."""
    rows = [
        {
            "path": f.problem.path,
            "line": f.problem.line,
            "column": f.problem.column,
            "message": f.problem.message,
            "severity": f.severity.value,
            "policy": f.policy,
        }
        for f in findings
    ]
    return json.dumps(rows, indent=2, sort_keys=True) + "\n"


def policies_text(policies: Sequence[Policy]) -> str:
    """`reconciler policies`: one line per policy, tab-separated: name, severity, kinds, keys,
    check."""
    return "".join(
        f"{p.name}\t{p.severity.value}\t"
        f"{p.kinds_shown()}\t"
        f"{','.join(p.keys)}\t{p.check.describe()}\n"
        for p in policies
    )


def policies_json(policies: Sequence[Policy]) -> str:
    return json.dumps([p.to_json() for p in policies], indent=2, sort_keys=True) + "\n"


def annotation(level: str, path: str, message: str) -> str:
    """A GitHub workflow command (`error`, `warning`, `notice`) that annotates a file."""
    return f"::{level} file={_escape_property(path)}::{_escape_command(message)}\n"


def escape_command(text: str) -> str:
    """A workflow command's message, escaped as GitHub reads it."""
    return _escape_command(text)
