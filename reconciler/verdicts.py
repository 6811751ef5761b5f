"""Pure: the words of a simulation. Why a candidate was kept or dropped, as a marketer reads it.

Each verdict is a value (a Fate and a sentence); the simulator decides, this module only names.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Sequence
from dataclasses import dataclass

from reconciler.model import JsonValue, Key


class Fate(enum.Enum):
    """What became of one candidate in one placement."""

    CHOSEN = "chosen"  # proposed, in rank order
    OUTRANKED = "outranked"  # eligible, but others ranked higher and the placement was full
    DROPPED = "dropped"  # not eligible: status, dates, placement, rule, audience, duplicate
    UNKNOWN = "unknown"  # its eligibility or rank uses PQL outside the simulated subset
    FALLBACK = "fallback"  # the decision's fallback, proposed because nothing else qualified


@dataclass(frozen=True, slots=True)
class Why:
    """One candidate's fate in one placement, with the reason in words."""

    offer: Key
    fate: Fate
    reason: str

    def to_json(self) -> dict[str, JsonValue]:
        return {"offer": self.offer, "verdict": self.fate.value, "reason": self.reason}


def shown(value: object) -> str:
    """A value as a reason quotes it: JSON, so a string is quoted and a missing one is null."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    if any("\ud800" <= character <= "\udfff" for character in text):  # a lone surrogate
        return json.dumps(value, ensure_ascii=True, sort_keys=True, default=str)
    return text


def reads(found: Sequence[tuple[str, JsonValue]]) -> str:
    """The profile fields a rule read, as `profile.loyalty.tier = "silver"`; empty: none."""
    parts = [f"{path} = {shown(value)}" for path, value in found]
    return f" ({', '.join(parts)})" if parts else ""


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def listed(offers: Sequence[Key]) -> str:
    """Offers as a reason lists them: `[a, b]`, or `nothing`."""
    return f"[{', '.join(offers)}]" if offers else "nothing"


def phrase(offers: Sequence[Key], fallback: bool) -> str:
    """A placement's outcome in one phrase: `[a, b]`, `[fallback/x] (fallback)` or `nothing`."""
    text = listed(offers)
    return f"{text} (fallback)" if fallback and offers else text
