"""reconciler.throttle: the AIMD limit on requests in flight, as a pure state machine."""

from __future__ import annotations

import pytest

from reconciler import throttle

# --- the adaptive limit (AIMD) --------------------------------------------------------------


def limit_after(ceiling: int, steps: list[str]) -> tuple[int, int, int]:
    """Drives an AdaptiveLimit: 'send N' sends N requests (tickets 0, 1, ... in order);
    '429 A-B', 'ok A-B' and 'lost A-B' finish tickets A to B. -> (limit, lowest, 429s)."""
    limit = throttle.AdaptiveLimit(ceiling)
    outcomes = {
        "429": throttle.Outcome.THROTTLED,
        "ok": throttle.Outcome.ANSWERED,
        "lost": throttle.Outcome.FAILED,
    }
    for step in steps:
        verb, _, argument = step.partition(" ")
        if verb == "send":
            for _ in range(int(argument)):
                limit.start()
            continue
        first, _, last = argument.partition("-")
        for ticket in range(int(first), int(last or first) + 1):
            limit.finish(ticket, outcomes[verb], now=0.0)
    return limit.current, limit.lowest, limit.throttled


@pytest.mark.parametrize(
    ("ceiling", "steps", "expected"),
    [
        pytest.param(8, ["send 8", "429 0-7"], (4, 4, 8), id="one burst of 429s halves it once"),
        pytest.param(
            8,
            ["send 8", "429 0", "send 1", "429 1-7"],
            (4, 4, 8),
            id="429s sent before the halving do not halve it again",
        ),
        pytest.param(
            8,
            ["send 8", "429 0", "send 1", "429 1-7", "429 8"],
            (2, 2, 9),
            id="a 429 sent after the halving halves it again",
        ),
        pytest.param(
            2,
            ["send 2", "429 0-1", "send 1", "429 2", "send 1", "429 3"],
            (1, 1, 4),
            id="never below one in flight",
        ),
        pytest.param(
            8,
            ["send 8", "429 0-7", "send 4", "ok 8-10"],
            (4, 4, 8),
            id="less than a round of answers changes nothing",
        ),
        pytest.param(
            8,
            ["send 8", "429 0-7", "send 22", "ok 8-29"],
            (8, 4, 8),
            id="each round of answers adds one: 4+5+6+7 answers bring it back to 8",
        ),
        pytest.param(
            8,
            ["send 8", "429 0-7", "send 21", "ok 8-28"],
            (7, 4, 8),
            id="one answer short of the last round",
        ),
        pytest.param(8, ["send 40", "ok 0-39"], (8, 8, 0), id="never above the ceiling"),
        pytest.param(
            8, ["send 8", "lost 0-3", "ok 4-7"], (8, 8, 0), id="5xx and lost answers are neutral"
        ),
    ],
)
def test_the_adaptive_limit_decreases_multiplicatively_and_increases_additively(
    ceiling: int, steps: list[str], expected: tuple[int, int, int]
) -> None:
    assert limit_after(ceiling, steps) == expected


def test_retry_after_holds_every_request_until_the_latest_one_has_passed() -> None:
    limit = throttle.AdaptiveLimit(4)
    first, second, third = limit.start(), limit.start(), limit.start()
    limit.finish(first, throttle.Outcome.THROTTLED, now=100.0, retry_after=2.0)
    limit.finish(second, throttle.Outcome.THROTTLED, now=100.5, retry_after=1.0)
    limit.finish(third, throttle.Outcome.ANSWERED, now=100.6)
    assert [limit.pause(now) for now in (100.0, 101.0, 102.0, 103.0)] == [2.0, 1.0, 0.0, 0.0]
