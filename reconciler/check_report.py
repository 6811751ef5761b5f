"""Pure: a `reconciler check` as text, JSON, and markdown for a job summary."""

from __future__ import annotations

import json
from collections.abc import Sequence

from reconciler import render
from reconciler.model import JsonValue
from reconciler.render import Styled
from reconciler.served import Checked, Probe, Verdict
from reconciler.verdicts import plural

_COLOUR = {
    Verdict.MATCHED: "green",
    Verdict.MISMATCHED: "red",
    Verdict.UNCERTAIN: "yellow",
    Verdict.SKIPPED: "yellow",
}


def summary(checked: Checked) -> str:
    """`5 decision tests: 2 matched, 1 mismatched, 2 skipped`."""
    if not checked.probes:
        return "no decision tests in offers/ (kind: decision-test)"
    tally = {v: sum(1 for p in checked.probes if p.verdict is v) for v in Verdict}
    counts = [
        f"{tally[verdict]} {verdict.value}"
        for verdict in Verdict
        if tally[verdict] or verdict is not Verdict.UNCERTAIN
    ]
    return f"{plural(len(checked.probes), 'decision test')}: {', '.join(counts)}"


def seeding(checked: Checked) -> str | None:
    if checked.seeded is None:
        return None
    return (
        f"seeded {plural(checked.seeded, 'profile')} into the embedded sandbox's emulator "
        "first (it has no Profile service)"
    )


def check_text(checked: Checked) -> list[Styled]:
    """Each test's verdict, then one line per mismatch (or the reason it was skipped)."""
    lines = [Styled(f"reconciler check: sandbox {checked.sandbox}", bold=True)]
    seeded = seeding(checked)
    if seeded is not None:
        lines.append(Styled(seeded))
    width = max(len(verdict.value) for verdict in Verdict)
    for probe in checked.probes:
        at = f" at {_at(probe)}" if probe.at is not None else ""
        label = probe.verdict.value.upper().ljust(width)
        lines.append(Styled(f"{label}  {probe.test}{at}", _COLOUR[probe.verdict], bold=True))
        lines += [Styled(f"{' ' * width}    {line}") for line in probe.lines]
    lines.append(Styled(""))
    lines.append(Styled(summary(checked), bold=True))
    return lines


def check_json(checked: Checked) -> str:
    value: dict[str, JsonValue] = {
        "sandbox": checked.sandbox,
        "seeded": checked.seeded,
        "healthy": checked.healthy,
        "summary": summary(checked),
        "tests": [_probe_value(probe) for probe in checked.probes],
    }
    return json.dumps(value, indent=2, sort_keys=True) + "\n"


def _probe_value(probe: Probe) -> dict[str, JsonValue]:
    return {
        "test": probe.test,
        "file": probe.source,
        "decision": probe.decision,
        "verdict": probe.verdict.value,
        "at": _at(probe) if probe.at is not None else None,
        "lines": list(probe.lines),
        "placements": [
            {
                "placement": row.placement,
                "live": row.live,
                "simulated": row.simulated,
                "matches": row.matches,
            }
            for row in probe.placements
        ],
    }


def check_markdown(checked: Checked) -> str:
    """The job summary's section: the verdict first, then a row per decision test."""
    lines = [
        render.marker("check", checked.sandbox),
        f"### reconciler check: sandbox `{checked.sandbox}`",
        "",
    ]
    failing = [p for p in checked.probes if p.verdict is Verdict.MISMATCHED]
    if failing:
        lines.append(
            f":x: **Health failure:** the live sandbox serves something else than offers/ "
            f"simulates for {plural(len(failing), 'decision test')} ({summary(checked)})."
        )
    else:
        lines.append(f":white_check_mark: {_cell(summary(checked))}.")
    seeded = seeding(checked)
    if seeded is not None:
        lines += ["", f"_{seeded[0].upper()}{seeded[1:]}._"]
    if checked.probes:
        lines += ["", "| decision test | verdict | details |", "|---|---|---|"]
        for probe in checked.probes:
            details = _details(probe)
            cells = (f"`{probe.test}`", probe.verdict.value, details)
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _details(probe: Probe) -> str:
    texts: Sequence[str] = probe.lines or [
        f"{row.placement}: {row.live}" for row in probe.placements
    ]
    return "<br>".join(_cell(text) for text in texts)


def _cell(text: str) -> str:
    return render.html_escaped(render.table_cell(text))


def _at(probe: Probe) -> str:
    assert probe.at is not None
    return probe.at.isoformat(timespec="milliseconds").replace("+00:00", "Z")
