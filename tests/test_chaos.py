"""The chaos run, short and with fixed seeds (`make chaos SEEDS=200` runs it long)."""

from __future__ import annotations

import pytest
from chaos import Violation, one_seed


@pytest.mark.parametrize("seed", [0, 1], ids=["If-Match honoured", "If-Match ignored"])
def test_a_short_chaos_run_finds_nothing(seed: int) -> None:
    figures = one_seed(seed, rounds=4)
    assert (figures.rounds, figures.overwrites) == (4, 0)
    assert figures.writes_checked > 0  # the checker had writes to check


def test_the_checker_catches_a_ui_edit_overwritten_by_a_read_then_write() -> None:
    """The old design (read, compare the etag, PATCH without preconditions) against a server
    that ignores If-Match: a UI edit landing between the read and the write is overwritten, and
    the chaos run must say so."""

    every_write_raced = {
        "error_rate": 0.0,
        "drop_rate": 0.0,
        "race_list": 0.0,
        "race_write": 1.0,
        "rate_limit": None,
    }
    with pytest.raises(Violation, match=r"overwrote /(rank/priority|description), set by a UI"):
        one_seed(1, rounds=6, preconditions="if-match", faults=every_write_raced)
