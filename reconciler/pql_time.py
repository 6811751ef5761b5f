"""Pure: PQL time: the reserved words, `this/last/next` periods, calendar shifts, `occurs` tests.

Days start at midnight UTC (a profile's time zone is not known offline). A month, year, decade,
century or millennium is calendar arithmetic (31 January + 1 month = 28 or 29 February); shorter
units are fixed lengths. What datetime-functions.md leaves open is Unknown, never guessed: the
direction `from`, and `this/last/next` of a week (which day starts it?), decade, century, millennium.
"""

from __future__ import annotations

import calendar
import datetime
from dataclasses import dataclass
from typing import TypeAlias, assert_never

from reconciler import pql_ast as ast
from reconciler.pql_ast import Comparison, Direction, Relative, TimeUnit, TimeWord
from reconciler.pql_value import Unknown, Value, is_day, kind, timestamp

Occurs: TypeAlias = "ast.OccursWithin | ast.OccursRelative | ast.OccursOn | ast.OccursBetween"

_FROM = Unknown('occurs … from (the direction "from" is not documented)')


@dataclass(frozen=True, slots=True)
class Span:
    """A stretch of time [start, end); an instant when end equals start."""

    start: datetime.datetime
    end: datetime.datetime

    @property
    def is_instant(self) -> bool:
        return self.start == self.end


def instant(moment: datetime.datetime) -> Span:
    return Span(moment, moment)


def _midnight(moment: datetime.datetime) -> datetime.datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def word_time(word: TimeWord, now: datetime.datetime) -> datetime.datetime:
    """`now`, or the start of today, yesterday, tomorrow (datetime-functions.md: Now, Today)."""
    match word:
        case TimeWord.NOW:
            return now
        case TimeWord.TODAY:
            return _midnight(now)
        case TimeWord.YESTERDAY:
            return _midnight(now) - datetime.timedelta(days=1)
        case TimeWord.TOMORROW:
            return _midnight(now) + datetime.timedelta(days=1)
        case _:
            assert_never(word)


def word_span(word: TimeWord, now: datetime.datetime) -> Span:
    """The instant `now`, or the whole day the other words name."""
    start = word_time(word, now)
    if word is TimeWord.NOW:
        return instant(start)
    return Span(start, start + datetime.timedelta(days=1))


def _length(unit: TimeUnit) -> datetime.timedelta | int:
    """A unit as a fixed length, or as a number of calendar months."""
    match unit:
        case TimeUnit.MILLISECOND:
            return datetime.timedelta(milliseconds=1)
        case TimeUnit.SECOND:
            return datetime.timedelta(seconds=1)
        case TimeUnit.MINUTE:
            return datetime.timedelta(minutes=1)
        case TimeUnit.HOUR:
            return datetime.timedelta(hours=1)
        case TimeUnit.DAY:
            return datetime.timedelta(days=1)
        case TimeUnit.WEEK:
            return datetime.timedelta(weeks=1)
        case TimeUnit.MONTH:
            return 1
        case TimeUnit.YEAR:
            return 12
        case TimeUnit.DECADE:
            return 120
        case TimeUnit.CENTURY:
            return 1200
        case TimeUnit.MILLENNIUM:
            return 12000
        case _:
            assert_never(unit)


def shift(moment: datetime.datetime, amount: int, unit: TimeUnit) -> datetime.datetime | Unknown:
    """`moment` moved by `amount` units (negative: back); Unknown past the years 1 to 9999."""
    length = _length(unit)
    try:
        if isinstance(length, datetime.timedelta):
            return moment + amount * length
        months = moment.year * 12 + moment.month - 1 + amount * length
        year, month = divmod(months, 12)
        day = min(moment.day, calendar.monthrange(year, month + 1)[1])
        return moment.replace(year=year, month=month + 1, day=day)
    except (OverflowError, ValueError):
        return Unknown(f"{amount} {unit.value}s from {moment.isoformat()}, outside the calendar")


def _period_start(now: datetime.datetime, unit: TimeUnit) -> datetime.datetime | Unknown:
    match unit:
        case TimeUnit.MILLISECOND:
            return now.replace(microsecond=now.microsecond // 1000 * 1000)
        case TimeUnit.SECOND:
            return now.replace(microsecond=0)
        case TimeUnit.MINUTE:
            return now.replace(second=0, microsecond=0)
        case TimeUnit.HOUR:
            return now.replace(minute=0, second=0, microsecond=0)
        case TimeUnit.DAY:
            return _midnight(now)
        case TimeUnit.MONTH:
            return _midnight(now).replace(day=1)
        case TimeUnit.YEAR:
            return _midnight(now).replace(month=1, day=1)
        case TimeUnit.WEEK | TimeUnit.DECADE | TimeUnit.CENTURY | TimeUnit.MILLENNIUM:
            return Unknown(f"a period of a {unit.value} (where one starts is not documented)")
        case _:
            assert_never(unit)


def period_span(relative: Relative, unit: TimeUnit, now: datetime.datetime) -> Span | Unknown:
    """`this month`, `last year`, `next hour`: the calendar period holding now, or a neighbour."""
    start = _period_start(now, unit)
    if isinstance(start, Unknown):
        return start
    match relative:
        case Relative.THIS:
            step = 0
        case Relative.LAST:
            step = -1
        case Relative.NEXT:
            step = 1
        case _:
            assert_never(relative)
    first = shift(start, step, unit)
    if isinstance(first, Unknown):
        return first
    end = shift(first, 1, unit)
    return end if isinstance(end, Unknown) else Span(first, end)


def occurs_relative(moment: datetime.datetime, direction: Direction, span: Span) -> bool | Unknown:
    """`t occurs before X`: earlier than X starts; `after X`: later than X (than all of it)."""
    match direction:
        case Direction.BEFORE:
            return moment < span.start
        case Direction.AFTER:
            return moment > span.start if span.is_instant else moment >= span.end
        case Direction.FROM:
            return _FROM
        case _:
            assert_never(direction)


def occurs_on(moment: datetime.datetime, span: Span) -> bool:
    """`t occurs on X`, `t occurs X`: within X (equal to it when X is an instant)."""
    if span.is_instant:
        return moment == span.start
    return span.start <= moment < span.end


def occurs_between(moment: datetime.datetime, first: Span, last: Span) -> bool:
    """`t occurs between A and B`: from the start of A to the end of B, both included."""
    if moment < first.start:
        return False
    return moment <= last.start if last.is_instant else moment < last.end


def occurs_within(
    moment: datetime.datetime,
    comparison: Comparison,
    amount: int,
    unit: TimeUnit,
    direction: Direction,
    anchor: datetime.datetime,
) -> bool | Unknown:
    """`t occurs <= 3 days before now`: t is before `anchor` by at most 3 days.

    `<` and `<=` keep t on the named side of the anchor (between `3 days before now` and now),
    `>` and `>=` put it further than the bound, `=` and `!=` compare t with the bound itself.
    """
    if direction is Direction.FROM:
        return _FROM
    past = direction is Direction.BEFORE
    bound = shift(anchor, -amount if past else amount, unit)
    if isinstance(bound, Unknown):
        return bound
    near, far = (bound, anchor) if past else (anchor, bound)
    match comparison:
        case Comparison.EQ:
            return moment == bound
        case Comparison.NE:
            return moment != bound
        case Comparison.LT:
            return (near < moment <= far) if past else (near <= moment < far)
        case Comparison.LE:
            return near <= moment <= far
        case Comparison.GT:
            return moment < bound if past else moment > bound
        case Comparison.GE:
            return moment <= bound if past else moment >= bound
        case _:
            assert_never(comparison)


def date_of(parts: list[Value]) -> Value | Unknown:
    """`date(2020, 3, 14)` (overview.md, PQL literals)."""
    numbers = [part for part in parts if isinstance(part, int) and not isinstance(part, bool)]
    if len(numbers) != len(parts):
        return Unknown(f"date({', '.join(kind(part) for part in parts)})")
    year, month, day = numbers
    try:
        return datetime.date(year, month, day)
    except ValueError:
        return Unknown(f"date({year}, {month}, {day}), which is not a day of the calendar")


def value_span(value: Value) -> Span | Unknown:
    """A date (or an ISO date without a time) is its whole day; any other timestamp an instant."""
    moment = timestamp(value)
    if isinstance(moment, Unknown):
        return moment
    if is_day(value):
        return Span(moment, moment + datetime.timedelta(days=1))
    return instant(moment)


def times(node: Occurs) -> tuple[ast.Expression, ...]:
    """The times an occurs test measures its subject against, in order."""
    match node:
        case ast.OccursWithin(anchor=anchor):
            return (anchor,)
        case ast.OccursRelative(time=time) | ast.OccursOn(time=time):
            return (time,)
        case ast.OccursBetween(start=start, end=end):
            return (start, end)
        case _:
            assert_never(node)


def occurs(node: Occurs, moment: datetime.datetime, spans: list[Span]) -> bool | Unknown:
    """The occurs test `node` for the subject `moment`, given the spans of its `times`."""
    match node:
        case ast.OccursWithin(_, comparison, amount, unit, direction, _):
            return occurs_within(moment, comparison, amount, unit, direction, spans[0].start)
        case ast.OccursRelative(_, direction, _):
            return occurs_relative(moment, direction, spans[0])
        case ast.OccursOn():
            return occurs_on(moment, spans[0])
        case ast.OccursBetween():
            return occurs_between(moment, spans[0], spans[1])
        case _:
            assert_never(node)
