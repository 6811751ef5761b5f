"""The `property` filter grammar of DPS lists: `[!]field[op]value`, op in ==,!=,<=,>=,<,>,~.

Semantics (reference §2.4, following the xcore repository): a bare `field` keeps objects that
have it, `!field` those that do not; `~` is a case-insensitive regex matching the entire value;
the other operators are case-sensitive and compare numbers as numbers, booleans as
true/false, and two date-times as instants. Dotted paths reach into nested objects and across
arrays; when a path holds an array, any element may match (`!=` means none does, so it also
holds where the field is absent: `exdRule!=true` keeps the legacy decision rules that never
sent `exdRule`, `exdRule==false` only those that sent false, `!exdRule` those without it). A leading
`!` before an expression with an operator negates it. Expressions joined by literal commas or
repeated `property=` parameters must all hold.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import unquote_plus

from reconciler.emulator.problems import bad_request
from reconciler.model import JsonValue

_OPERATORS = ("==", "!=", "<=", ">=", "<", ">", "~")
_FIELD = r"[A-Za-z_@$][\w@:$-]*(?:\.[\w@:$-]+)*"
_EXPRESSION = re.compile(
    rf"(?P<neg>!?)(?P<field>{_FIELD})(?:(?P<op>==|!=|<=|>=|<|>|~)(?P<value>.*))?", re.S
)
_STARTS = re.compile(rf"!?{_FIELD}(?:==|!=|<=|>=|<|>|~|$)", re.S)


@dataclass(frozen=True, slots=True)
class Condition:
    """One parsed property expression."""

    path: tuple[str, ...]
    op: str | None
    value: str
    negated: bool
    pattern: re.Pattern[str] | None = None

    def holds(self, item: Mapping[str, JsonValue]) -> bool:
        return self._test(item) != self.negated

    def _test(self, item: Mapping[str, JsonValue]) -> bool:
        found = list(resolve(item, self.path))
        if self.op is None:
            return bool(found)
        candidates = [v for value in found for v in (value if isinstance(value, list) else [value])]
        if self.op == "!=":
            return not any(_equal(candidate, self.value) for candidate in candidates)
        return any(self._compare(candidate) for candidate in candidates)

    def _compare(self, candidate: JsonValue) -> bool:
        if self.op == "==":
            return _equal(candidate, self.value)
        if self.op == "~":
            assert self.pattern is not None
            text = candidate if isinstance(candidate, str) else _text(candidate)
            return self.pattern.fullmatch(text) is not None
        order = _order(candidate, self.value)
        if order is None:
            return False
        return {"<": order < 0, "<=": order <= 0, ">": order > 0, ">=": order >= 0}[str(self.op)]


def split(raw: str) -> list[str]:
    """The expressions in one raw (still percent-encoded) `property` value, decoded.

    Only a literal comma joins expressions, and only where another expression starts after
    it: an encoded comma (%2C, as HTTP clients send one inside a value) never splits, nor
    does the comma in `name==Sale, summer` or in the regex `a{1,3}`.
    """
    expressions: list[str] = []
    for piece in raw.split(","):
        text = unquote_plus(piece)
        if expressions and not _STARTS.match(text):
            expressions[-1] += "," + text
        else:
            expressions.append(text)
    return [expression for expression in expressions if expression]


def parse(expressions: Sequence[str]) -> tuple[Condition, ...]:
    """The conditions of `property` expressions; raises a 400 Problem on bad syntax."""
    return tuple(_parse_one(expression) for expression in expressions)


def _parse_one(text: str) -> Condition:
    match = _EXPRESSION.fullmatch(text)
    if match is None:
        raise bad_request(
            f"property={text!r} is not a filter: use [!]field[op]value with op in {','.join(_OPERATORS)}"
        )
    op, value = match["op"], match["value"] or ""
    pattern = None
    if op == "~":
        try:
            pattern = re.compile(value, re.IGNORECASE)
        except re.error as error:
            raise bad_request(f"property={text!r}: not a regular expression: {error}") from None
    return Condition(tuple(match["field"].split(".")), op, value, bool(match["neg"]), pattern)


def resolve(node: JsonValue | Mapping[str, JsonValue], path: Sequence[str]) -> Iterator[JsonValue]:
    """The values at a dotted path; arrays met on the way are crossed element by element."""
    if not path:
        yield node  # type: ignore[misc]
        return
    if isinstance(node, list):
        for element in node:
            yield from resolve(element, path)
    elif isinstance(node, Mapping) and path[0] in node:
        yield from resolve(node[path[0]], path[1:])


def _text(value: JsonValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return str(value)


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _instant(text: str) -> datetime.datetime | None:
    if "T" not in text:
        return None
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _equal(candidate: JsonValue, text: str) -> bool:
    if isinstance(candidate, bool) or candidate is None:
        return _text(candidate) == text
    if isinstance(candidate, int | float):
        number = _number(text)
        return number is not None and candidate == number
    if isinstance(candidate, str):
        return candidate == text
    return False


def _order(candidate: JsonValue, text: str) -> int | None:
    """-1, 0 or 1 as candidate sorts before, with or after the filter value; None if incomparable."""
    if isinstance(candidate, bool) or candidate is None:
        return None
    if isinstance(candidate, int | float):
        number = _number(text)
        return None if number is None else (candidate > number) - (candidate < number)
    if isinstance(candidate, str):
        left, right = _instant(candidate), _instant(text)
        if left is not None and right is not None:
            return (left > right) - (left < right)
        return (candidate > text) - (candidate < text)
    return None
