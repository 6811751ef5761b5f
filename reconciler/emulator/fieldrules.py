"""Rules across fields that both models' bodies share: date windows, lists, profile constraints.

Each yields `pointer: message` problems (JSON Pointers into the body) for `validation.check`.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Sequence


def _instant(value: str | None) -> datetime.datetime | None:
    return datetime.datetime.fromisoformat(value) if value is not None else None


def window(start: str | None, end: str | None, where: str) -> Iterator[str]:
    begins, ends = _instant(start), _instant(end)
    if begins is not None and ends is not None and ends <= begins:
        yield f"{where}/endDate: must be after {where}/startDate"


def unique(values: Sequence[str], where: str) -> Iterator[str]:
    seen: set[str] = set()
    for index, value in enumerate(values):
        if value in seen:
            yield f"{where}/{index}: {value} is listed twice"
        seen.add(value)


def at_most(values: Sequence[object], limit: int, where: str, what: str) -> Iterator[str]:
    if len(values) > limit:
        yield f"{where}: at most {limit} {what} (guardrail), not {len(values)}"


def profile(
    kind: str, rule: str | None, segments: Sequence[object] | None, where: str
) -> Iterator[str]:
    if kind == "eligibilityRule" and rule is None:
        yield f"{where}/eligibilityRule: is required when profileConstraintType is eligibilityRule"
    if kind != "eligibilityRule" and rule is not None:
        yield f"{where}/eligibilityRule: only allowed when profileConstraintType is eligibilityRule"
    if kind in ("anySegments", "allSegments") and not segments:
        yield f"{where}/segmentIdentities: is required when profileConstraintType is {kind}"


def order_members(
    evaluation: str, function: str | None, ranking_strategy: str | None, where: str
) -> Iterator[str]:
    """`function` with scoringFunction only, `rankingStrategy` with ranking-strategy only."""
    for member, value, wanted in (
        ("function", function, "scoringFunction"),
        ("rankingStrategy", ranking_strategy, "ranking-strategy"),
    ):
        if evaluation == wanted and value is None:
            yield f"{where}/{member}: is required when orderEvaluationType is {wanted}"
        if evaluation != wanted and value is not None:
            yield f"{where}/{member}: only allowed when orderEvaluationType is {wanted}"
