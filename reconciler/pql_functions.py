"""Pure: PQL's methods (`x.equals(..)`, `x.intersects(..)`, `x.get(..)`, ...) on evaluated values.

Each does what its Adobe page says (string-, array-, map-, object-, aggregation- and
datetime-functions.md under help/segmentation/pql/). With a null target or argument the tests
are false, negative ones too ("true if both strings are not null and ..."), and the others give
null. A method whose argument is an expression over each item (groupBy, filter, map, topN,
bottomN, sum(expr), ...) or that the pages do not document is Unknown, named.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import TypeAlias

import regex

from reconciler.pql_value import Unknown, Value, kind, member, timestamp

Method: TypeAlias = "Callable[[str, Value, tuple[Value, ...]], Value | Unknown]"


def call(name: str, target: Value, args: tuple[Value, ...]) -> Value | Unknown:
    """`target.name(*args)`, or Unknown naming the function when it is not simulated."""
    method = _METHODS.get(name)
    if method is None:
        return Unknown(f'function "{name}"')
    return method(name, target, args)


def inside(item: Value, items: Value, negated: bool) -> Value | Unknown:
    """`item in items`, `item notIn items` (array-functions.md): false when either is null."""
    if item is None or items is None:
        return False
    if not isinstance(items, list):
        return Unknown(f'"{"notIn" if negated else "in"}" {kind(items)}')
    found = member(item, items)
    return found if isinstance(found, Unknown) else found != negated


def like(text: Value, pattern: Value) -> Value | Unknown:
    """`text like pattern` (string-functions.md): `%` any run of characters, `_` exactly one."""
    if text is None or pattern is None:
        return False
    if not isinstance(text, str) or not isinstance(pattern, str):
        return Unknown(f'"like" on {kind(text)} and {kind(pattern)}')
    shape = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
    try:
        return regex.fullmatch(shape, text, regex.DOTALL, timeout=REGEX_SECONDS) is not None
    except TimeoutError:
        return Unknown(f'"like" with the pattern {pattern!r}, too slow to match ({_SLOW})')


def _text_test(test: Callable[[str, str], bool], negated: bool) -> Method:
    """startsWith and its kin: (string, case sensitive = true) -> boolean."""

    def run(name: str, target: Value, args: tuple[Value, ...]) -> Value | Unknown:
        other = args[0]
        if target is None or other is None:
            return False
        if not isinstance(target, str) or not isinstance(other, str):
            return Unknown(f'"{name}" on {kind(target)} and {kind(other)}')
        sensitive = args[1] if len(args) > 1 else True
        if not isinstance(sensitive, bool):
            return Unknown(f'"{name}" with {kind(sensitive)} as its case sensitivity')
        if not sensitive:
            target, other = target.lower(), other.lower()
        return test(target, other) != negated

    return run


REGEX_SECONDS = 0.25
"""How long one regular expression may take on one text: a pattern that backtracks without end
(`(a+)+$`) would otherwise stall `reconciler test` in CI. The `regex` library enforces it."""
_SLOW = f"stopped after {REGEX_SECONDS} s"


def _regex(name: str, target: Value, pattern: Value) -> regex.Pattern[str] | Unknown | None:
    if target is None or pattern is None:
        return None
    if not isinstance(target, str) or not isinstance(pattern, str):
        return Unknown(f'"{name}" on {kind(target)} and {kind(pattern)}')
    try:
        return regex.compile(pattern)
    except (regex.error, ValueError) as error:
        return Unknown(f"the regular expression {pattern!r} ({error})")


def _matches(name: str, target: Value, args: tuple[Value, ...]) -> Value | Unknown:
    """Whether the regular expression is found in the string (`"(?i)^John"`: starts with john)."""
    compiled = _regex(name, target, args[0])
    if compiled is None:
        return False
    if isinstance(compiled, Unknown):
        return compiled
    assert isinstance(target, str)
    try:
        return compiled.search(target, timeout=REGEX_SECONDS) is not None
    except TimeoutError:
        return Unknown(f'"{name}" with the pattern {compiled.pattern!r}, too slow ({_SLOW})')


def _regex_group(name: str, target: Value, args: tuple[Value, ...]) -> Value | Unknown:
    """The text of group N of the first match (`"@(\\\\w+)", 1`: an email's domain), or null."""
    if len(args) < 2 or not isinstance(args[1], int) or isinstance(args[1], bool):
        return Unknown(f'"{name}" without a group number')
    compiled = _regex(name, target, args[0])
    if compiled is None or isinstance(compiled, Unknown):
        return compiled
    assert isinstance(target, str)
    try:
        found = compiled.search(target, timeout=REGEX_SECONDS)
    except TimeoutError:
        return Unknown(f'"{name}" with the pattern {compiled.pattern!r}, too slow ({_SLOW})')
    if found is None:
        return None
    try:
        group: str | None = found.group(args[1])
    except IndexError:
        return Unknown(f'"{name}" of group {args[1]}, which the expression does not have')
    return group


def _items(name: str, value: Value) -> list[Value] | Unknown | None:
    if value is None or isinstance(value, list):
        return value
    return Unknown(f'"{name}" on {kind(value)}')


def _every(items: list[Value], among: list[Value]) -> bool | Unknown:
    """Whether every non-null item is a member of `among`."""
    doubt: Unknown | None = None
    for item in items:
        found = member(item, among) if item is not None else True
        if found is False:
            return False
        if isinstance(found, Unknown):
            doubt = doubt or found
    return doubt or True


def _set_test(name: str, target: Value, args: tuple[Value, ...]) -> Value | Unknown:
    """intersects, subsetOf, supersetOf: false when either list is null."""
    mine, theirs = _items(name, target), _items(name, args[0])
    if isinstance(mine, Unknown) or isinstance(theirs, Unknown):
        return mine if isinstance(mine, Unknown) else theirs
    if mine is None or theirs is None:
        return False
    if name == "subsetOf":
        return _every(mine, theirs)
    if name == "supersetOf":
        return _every(theirs, mine)
    doubt: Unknown | None = None
    for item in mine:
        found = member(item, theirs) if item is not None else False
        if found is True:
            return True
        if isinstance(found, Unknown):
            doubt = doubt or found
    return doubt or False


def _intersection(name: str, target: Value, args: tuple[Value, ...]) -> Value | Unknown:
    mine, theirs = _items(name, target), _items(name, args[0])
    if isinstance(mine, Unknown) or isinstance(theirs, Unknown):
        return mine if isinstance(mine, Unknown) else theirs
    if mine is None or theirs is None:
        return None
    common: list[Value] = [
        item for item in mine if item is not None and member(item, theirs) is True
    ]
    return _distinct(name, common, ())


def _includes(name: str, target: Value, args: tuple[Value, ...]) -> Value | Unknown:
    items = _items(name, target)
    if items is None or args[0] is None:
        return False
    if isinstance(items, Unknown):
        return items
    return member(args[0], items)


def _distinct(name: str, target: Value, args: tuple[Value, ...]) -> Value | Unknown:
    items = _items(name, target)
    if items is None or isinstance(items, Unknown):
        return items
    kept: list[Value] = []
    for item in items:
        seen = member(item, kept) if item is not None else None in kept
        if isinstance(seen, Unknown):
            return seen
        if not seen:
            kept.append(item)
    return kept


def _count(name: str, target: Value, args: tuple[Value, ...]) -> Value | Unknown:
    """The number of items; a missing array has none."""
    items = _items(name, target)
    return items if isinstance(items, Unknown) else len(items or [])


def _head(name: str, target: Value, args: tuple[Value, ...]) -> Value | Unknown:
    items = _items(name, target)
    if items is None or isinstance(items, Unknown):
        return items
    return items[0] if items else None


def _aggregate(name: str, target: Value, args: tuple[Value, ...]) -> Value | Unknown:
    """sum, average, min, max of a list of numbers (nulls skipped); null when there are none."""
    if args:
        return Unknown(f'function "{name}" with an expression per item')
    items = _items(name, target)
    if items is None or isinstance(items, Unknown):
        return items
    values: list[int | float] = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, int | float | None):
            return Unknown(f'"{name}" of a list holding {kind(item)}')
        if item is not None:
            values.append(item)
    if name == "sum":
        return sum(values)
    if not values:
        return None
    if name == "average":
        return sum(values) / len(values)
    return min(values) if name == "min" else max(values)


def _map(name: str, target: Value, args: tuple[Value, ...]) -> Value | Unknown:
    """get(key), keys(), values() of an object; null on null."""
    if target is None:
        return None
    if not isinstance(target, dict):
        return Unknown(f'"{name}" on {kind(target)}')
    if name == "keys":
        return list(target)
    if name == "values":
        return list(target.values())
    key = args[0]
    if not isinstance(key, str):
        return None if key is None else Unknown(f'"{name}" of {kind(key)}')
    return target.get(key)


def _date_part(name: str, target: Value, args: tuple[Value, ...]) -> Value | Unknown:
    """getMonth, getYear, getDayOfMonth of a timestamp (in UTC)."""
    if target is None:
        return None
    moment = timestamp(target)
    if isinstance(moment, Unknown):
        return moment
    if name == "getMonth":
        return moment.month
    return moment.year if name == "getYear" else moment.day


def _is_null(name: str, target: Value, args: tuple[Value, ...]) -> Value | Unknown:
    return (target is None) == (name == "isNull")


_METHODS: Mapping[str, Method] = {
    "equals": _text_test(lambda text, other: text == other, negated=False),
    "notEqualTo": _text_test(lambda text, other: text == other, negated=True),
    "startsWith": _text_test(str.startswith, negated=False),
    "doesNotStartWith": _text_test(str.startswith, negated=True),
    "endsWith": _text_test(str.endswith, negated=False),
    "doesNotEndWith": _text_test(str.endswith, negated=True),
    "contains": _text_test(lambda text, other: other in text, negated=False),
    "doesNotContain": _text_test(lambda text, other: other in text, negated=True),
    "matches": _matches,
    "regexGroup": _regex_group,
    "intersects": _set_test,
    "subsetOf": _set_test,
    "supersetOf": _set_test,
    "intersection": _intersection,
    "includes": _includes,
    "distinct": _distinct,
    "count": _count,
    "head": _head,
    **dict.fromkeys(("sum", "average", "min", "max"), _aggregate),
    **dict.fromkeys(("get", "keys", "values"), _map),
    **dict.fromkeys(("getMonth", "getYear", "getDayOfMonth"), _date_part),
    **dict.fromkeys(("isNull", "isNotNull"), _is_null),
}
