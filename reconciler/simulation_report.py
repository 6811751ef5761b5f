"""Pure: simulations and decision-test results as text, JSON and GitHub annotations."""

from __future__ import annotations

import json
from collections.abc import Sequence

from reconciler import render
from reconciler.model import JsonValue
from reconciler.outcomes import Outcomes
from reconciler.render import Styled
from reconciler.simulation import Placed, Simulation
from reconciler.trials import Status, Trial, outcome_line
from reconciler.verdicts import Fate, plural

DROPPED_SHOWN = 20
"""Text output lists this many dropped candidates per placement; JSON lists every one."""

_GLYPH = {
    Fate.CHOSEN: "✓",
    Fate.FALLBACK: "↩",
    Fate.OUTRANKED: "·",
    Fate.UNKNOWN: "?",
    Fate.DROPPED: "✗",
}


def at_text(simulation: Simulation) -> str:
    return simulation.at.isoformat().replace("+00:00", "Z")


def simulation_json(simulation: Simulation) -> str:
    return json.dumps(simulation_value(simulation), indent=2, sort_keys=True) + "\n"


def simulation_value(simulation: Simulation) -> dict[str, JsonValue]:
    """`{"decision", "at", "placements": {key: {"offers", "fallback", "why", "unknown"}}, "notes"}`"""
    return {
        "decision": simulation.decision,
        "at": at_text(simulation),
        "placements": {p.placement: _placed_value(p) for p in simulation.placements},
        "notes": list(simulation.notes),
    }


def _placed_value(placed: Placed) -> dict[str, JsonValue]:
    return {
        "offers": list(placed.offers),
        "fallback": placed.fallback,
        "why": [why.to_json() for why in placed.why],
        "unknown": list(placed.unknown),
    }


def simulation_text(simulation: Simulation) -> list[Styled]:
    """Per placement, a short table: each candidate's verdict and reason, chosen first."""
    lines = [Styled(f"{simulation.decision} at {at_text(simulation)}", bold=True)]
    for placed in simulation.placements:
        lines.append(Styled(""))
        lines.append(Styled(f"{placed.placement}: {outcome_line(placed)}", bold=True))
        lines += _why_lines(placed)
        for doubt in placed.unknown:
            lines.append(Styled(f"  uncertain: {doubt}", "yellow"))
    if simulation.notes:
        lines.append(Styled(""))
        lines += [Styled(f"note: {note}") for note in simulation.notes]
    return lines


def _why_lines(placed: Placed) -> list[Styled]:
    width = max((len(why.offer) for why in placed.why), default=0)
    colour = {Fate.CHOSEN: "green", Fate.FALLBACK: "green", Fate.DROPPED: "red"}
    lines: list[Styled] = []
    dropped = 0
    for why in placed.why:
        if why.fate is Fate.DROPPED:
            dropped += 1
            if dropped > DROPPED_SHOWN:
                continue
        text = f"  {_GLYPH[why.fate]} {why.offer.ljust(width)}  {why.fate.value:<9}  {why.reason}"
        lines.append(Styled(text, colour.get(why.fate)))
    if dropped > DROPPED_SHOWN:
        hidden = dropped - DROPPED_SHOWN
        lines.append(Styled(f"  … and {plural(hidden, 'more dropped candidate')} (--format json)"))
    return lines


# --- decision tests ----------------------------------------------------------------------------


def trials_text(trials: Sequence[Trial]) -> list[Styled]:
    lines: list[Styled] = []
    for trial in trials:
        colour = "green" if trial.passed else "red"
        lines.append(Styled(f"{trial.status.value.upper():<7} {trial.test.key}", colour, bold=True))
        for mismatch in trial.mismatches:
            lines.append(Styled(f"        {mismatch}"))
        if not trial.passed and trial.simulation is not None:
            lines += [Styled(f"      {line.text}", line.colour) for line in _failing_why(trial)]
    lines.append(Styled(""))
    lines.append(Styled(trials_summary(trials), bold=True))
    return lines


def _failing_why(trial: Trial) -> list[Styled]:
    """The simulator's why for each placement the test names."""
    assert trial.simulation is not None
    named = set(trial.test.expect or {}) or {p.placement for p in trial.simulation.placements}
    lines: list[Styled] = []
    for placed in trial.simulation.placements:
        if placed.placement in named:
            lines.append(Styled(f"{placed.placement}: {outcome_line(placed)}"))
            lines += _why_lines(placed)
    return lines


def trials_summary(trials: Sequence[Trial]) -> str:
    counts = {status: sum(1 for t in trials if t.status is status) for status in Status}
    if not trials:
        return "no decision tests in offers/ (kind: decision-test)"
    parts = [f"{counts[Status.PASSED]} passed", f"{counts[Status.FAILED]} failed"]
    if counts[Status.UNKNOWN]:
        parts.append(f"{counts[Status.UNKNOWN]} unknown")
    return f"{plural(len(trials), 'decision test')}: {', '.join(parts)}"


def trials_json(trials: Sequence[Trial]) -> str:
    rows = [
        {
            "test": trial.test.key,
            "file": trial.test.source,
            "decision": trial.test.decision,
            "status": trial.status.value,
            "mismatches": list(trial.mismatches),
            "simulation": (
                simulation_value(trial.simulation) if trial.simulation is not None else None
            ),
        }
        for trial in trials
    ]
    return (
        json.dumps({"tests": rows, "summary": trials_summary(trials)}, indent=2, sort_keys=True)
        + "\n"
    )


def trials_github(trials: Sequence[Trial]) -> str:
    """An ::error annotation at each failing test's file; a notice line with the summary."""
    out = []
    for trial in trials:
        if trial.passed:
            continue
        message = f"decision test {trial.test.key} {trial.status.value}: " + "; ".join(
            trial.mismatches
        )
        out.append(render.annotation("error", trial.test.source, message))
    out.append(f"::notice::{render.escape_command(trials_summary(trials))}\n")
    return "".join(out)


# --- outcomes that change ----------------------------------------------------------------------

OUTCOMES_HEADING = "### Outcomes that change"


def outcomes_markdown(found: Outcomes, sandbox: str) -> str:
    """The plan comment's section: per decision test, what its profile saw before and after,
    and the decisions the changed objects reach as a Mermaid diagram."""
    lines = [OUTCOMES_HEADING, ""]
    if not found.tests:
        lines.append(
            "No decision tests in `offers/` (`kind: decision-test`): add some to see here what "
            "customers would see change."
        )
    elif not found.shifts:
        lines.append(
            f"None: the {plural(found.tests, 'decision test')} see the same offers before and "
            f"after this pull request (sandbox `{sandbox}`)."
        )
    else:
        lines.append(
            f"What each decision test's profile sees before and after this pull request "
            f"(sandbox `{sandbox}`):"
        )
        lines.append("")
        lines.append("| decision test | placement | before | after |")
        lines.append("|---|---|---|---|")
        for shift in found.shifts:
            cells = (shift.test, shift.placement, shift.before, shift.after)
            lines.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
    if found.diagram:
        lines += [
            "",
            f"Decisions the changed objects reach ({', '.join(found.reached)}), changed "
            "objects highlighted:",
            "",
            "```mermaid",
            found.diagram,
            "```",
        ]
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return render.html_escaped(render.table_cell(text))


def outcomes_text(found: Outcomes) -> list[Styled]:
    if not found.shifts:
        return [Styled(f"No outcome changes ({plural(found.tests, 'decision test')} compared).")]
    lines = [Styled("Outcomes that change:", bold=True)]
    for shift in found.shifts:
        lines.append(Styled(f"  {shift.test}  {shift.placement}"))
        lines.append(Styled(f"    before: {shift.before}", "red"))
        lines.append(Styled(f"    after:  {shift.after}", "green"))
    if found.reached:
        lines.append(Styled(f"Decisions reached: {', '.join(found.reached)}"))
    return lines


def outcomes_json(found: Outcomes) -> str:
    value = {
        "shifts": [
            {
                "test": s.test,
                "decision": s.decision,
                "placement": s.placement,
                "before": s.before,
                "after": s.after,
            }
            for s in found.shifts
        ],
        "tests": found.tests,
        "changed": list(found.changed),
        "reached": list(found.reached),
        "mermaid": found.diagram,
    }
    return json.dumps(value, indent=2, sort_keys=True) + "\n"
