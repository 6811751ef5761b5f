"""Pure: the values PQL computes with, and the type rules for comparing and combining them.

A comparison or operator across types that PQL would coerce by the XDM schema (a string field
against a number, say) is Unknown here, never guessed: without the schema nothing says which way.
Null is handled by the callers (pql_eval): every comparison with null is false.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeAlias, TypeGuard

from reconciler.model import JsonValue
from reconciler.pql_ast import Comparison, Operator

Value: TypeAlias = (
    "bool | int | float | str | list[Value] | dict[str, Value]"
    " | datetime.datetime | datetime.date | None"
)
"""What an expression yields: JSON, or a timestamp (`now`, `today`) or a date (`date(2020, 3, 14)`)."""

UTC = datetime.UTC


@dataclass(frozen=True, slots=True)
class Unknown:
    """An answer the offline evaluator cannot give; `construct` names what it would need."""

    construct: str


def kind(value: Value) -> str:
    """A value's type in words, for messages: `a string`, `a number`, `null`."""
    match value:
        case None:
            return "null"
        case bool():
            return "a boolean"
        case int() | float():
            return "a number"
        case str():
            return "a string"
        case list():
            return "a list"
        case dict():
            return "an object"
        case datetime.datetime():
            return "a timestamp"
        case datetime.date():
            return "a date"
    return "a value"  # pragma: no cover - Value is closed; mypy sees every case above


def from_json(value: JsonValue) -> Value | Unknown:
    """A value read from a profile, an offer or the context, as the evaluator's Value."""
    if isinstance(value, list):
        items: list[Value] = []
        for item in value:
            converted = from_json(item)
            if isinstance(converted, Unknown):
                return converted
            items.append(converted)
        return items
    if isinstance(value, dict):
        fields: dict[str, Value] = {}
        for key, item in value.items():
            converted = from_json(item)
            if isinstance(converted, Unknown):
                return converted
            fields[key] = converted
        return fields
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return Unknown(f"a reference {value!r} where JSON is expected")


def is_number(value: Value) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def timestamp(value: Value) -> datetime.datetime | Unknown:
    """A timestamp from a datetime, a date (midnight UTC) or an ISO 8601 string (UTC if naive)."""
    if isinstance(value, datetime.datetime):
        moment = value
    elif isinstance(value, datetime.date):
        moment = datetime.datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        try:
            moment = datetime.datetime.fromisoformat(value)
        except ValueError:
            return Unknown(f"{value!r}, which is not an ISO 8601 timestamp")
    else:
        return Unknown(f"{kind(value)} where a timestamp is expected")
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def is_day(value: Value) -> bool:
    """A whole day rather than an instant: a date, or an ISO date string without a time."""
    if isinstance(value, str):
        return len(value) == 10 and not isinstance(timestamp(value), Unknown)
    return isinstance(value, datetime.date) and not isinstance(value, datetime.datetime)


def _is_temporal(value: Value) -> bool:
    return isinstance(value, datetime.date)


def _mismatch(symbol: str, left: Value, right: Value) -> Unknown:
    return Unknown(f'"{symbol}" between {kind(left)} and {kind(right)}')


def equal(left: Value, right: Value, symbol: str = "=") -> bool | Unknown:
    """PQL equality of two non-null values; Unknown across types no rule coerces."""
    if _is_temporal(left) or _is_temporal(right):
        first, second = timestamp(left), timestamp(right)
        if isinstance(first, Unknown) or isinstance(second, Unknown):
            return _mismatch(symbol, left, right)
        return first == second
    if is_number(left) and is_number(right):
        return left == right
    if isinstance(left, list) and isinstance(right, list):
        if len(left) != len(right):
            return False
        for one, other in zip(left, right, strict=True):
            same = (
                equal(one, other, symbol) if one is not None and other is not None else one is other
            )
            if same is not True:
                return same
        return True
    if type(left) is type(right) and isinstance(left, bool | str | dict):
        return left == right
    return _mismatch(symbol, left, right)


def order(left: Value, right: Value, symbol: str) -> int | Unknown:
    """-1, 0 or 1 for two non-null numbers, strings or timestamps; Unknown otherwise."""
    if is_number(left) and is_number(right):
        return (left > right) - (left < right)
    if isinstance(left, str) and isinstance(right, str):
        return (left > right) - (left < right)
    if _is_temporal(left) or _is_temporal(right):
        first, second = timestamp(left), timestamp(right)
        if isinstance(first, Unknown) or isinstance(second, Unknown):
            return _mismatch(symbol, left, right)
        return (first > second) - (first < second)
    return _mismatch(symbol, left, right)


_ORDERED: Mapping[Comparison, Callable[[int], bool]] = {
    Comparison.LT: lambda sign: sign < 0,
    Comparison.LE: lambda sign: sign <= 0,
    Comparison.GT: lambda sign: sign > 0,
    Comparison.GE: lambda sign: sign >= 0,
}


def compare(op: Comparison, left: Value, right: Value) -> bool | Unknown:
    """`left op right` for non-null values."""
    match op:
        case Comparison.EQ:
            return equal(left, right, op.value)
        case Comparison.NE:
            same = equal(left, right, op.value)
            return same if isinstance(same, Unknown) else not same
        case Comparison.LT | Comparison.LE | Comparison.GT | Comparison.GE:
            sign = order(left, right, op.value)
            if isinstance(sign, Unknown):
                return sign
            return _ORDERED[op](sign)


def member(item: Value, items: Sequence[Value]) -> bool | Unknown:
    """Whether a non-null item equals one of items; Unknown if it matches none and a test was."""
    doubt: Unknown | None = None
    for candidate in items:
        if candidate is None:
            continue
        same = equal(item, candidate, "in")
        if same is True:
            return True
        if isinstance(same, Unknown) and doubt is None:
            doubt = same
    return False if doubt is None else doubt


def calculate(op: Operator, left: Value, right: Value) -> Value | Unknown:
    """`left op right` on numbers; null when either is null (as SQL would have it)."""
    if left is None or right is None:
        return None
    if is_number(left) and is_number(right):
        return _arithmetic(op, left, right)
    return Unknown(f'"{op.value}" on {kind(left)} and {kind(right)}')


def _arithmetic(op: Operator, left: int | float, right: int | float) -> Value | Unknown:
    match op:
        case Operator.ADD:
            return left + right
        case Operator.SUBTRACT:
            return left - right
        case Operator.MULTIPLY:
            return left * right
        case Operator.DIVIDE | Operator.REMAINDER if right == 0:
            return Unknown(f'"{op.value}" by zero')
        case Operator.DIVIDE:
            if isinstance(left, int) and isinstance(right, int) and left % right:
                return Unknown(
                    f"integer division {left} / {right} (whether it truncates is undocumented)"
                )
            return (
                left // right if isinstance(left, int) and isinstance(right, int) else left / right
            )
        case Operator.REMAINDER:
            # Java's remainder: the sign of the dividend, unlike Python's modulo
            if isinstance(left, int) and isinstance(right, int):
                rest = abs(left) % abs(right)
                return rest if left >= 0 else -rest
            return math.fmod(left, right)
    return Unknown(f'operator "{op.value}"')  # pragma: no cover - the match is exhaustive


def truth(value: Value) -> bool | Unknown:
    """A value where true or false is expected: null counts as false, any other type is Unknown."""
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    return Unknown(f"{kind(value)} where true or false is expected")
