"""Pure: the PQL expression tree, immutable nodes and the closed sets of operators they use.

`reconciler.pql` builds these from text; `reconciler.pql_eval` reads them. Every node is a frozen
value, so a parsed rule can be cached and shared between evaluations.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeAlias


class Logic(enum.Enum):
    AND = "and"
    OR = "or"


class Comparison(enum.Enum):
    EQ = "="
    NE = "!="
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="


class Operator(enum.Enum):
    ADD = "+"
    SUBTRACT = "-"
    MULTIPLY = "*"
    DIVIDE = "/"
    REMAINDER = "%"


class TimeWord(enum.Enum):
    """The reserved timestamp words (datetime-functions.md)."""

    NOW = "now"
    TODAY = "today"
    YESTERDAY = "yesterday"
    TOMORROW = "tomorrow"


class TimeUnit(enum.Enum):
    MILLISECOND = "millisecond"
    SECOND = "second"
    MINUTE = "minute"
    HOUR = "hour"
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    YEAR = "year"
    DECADE = "decade"
    CENTURY = "century"
    MILLENNIUM = "millennium"


UNIT_WORDS: Mapping[str, TimeUnit] = {
    **{unit.value: unit for unit in TimeUnit},
    **{
        unit.value + "s": unit
        for unit in TimeUnit
        if unit not in (TimeUnit.CENTURY, TimeUnit.MILLENNIUM)
    },
    "centuries": TimeUnit.CENTURY,
    "millennia": TimeUnit.MILLENNIUM,
}
"""Every spelling datetime-functions.md lists: `day`/`days`, `century`/`centuries`, ..."""


class Direction(enum.Enum):
    BEFORE = "before"
    AFTER = "after"
    FROM = "from"


class Relative(enum.Enum):
    """`this`, `last`, `next` before a time unit: the period that holds now, or its neighbours."""

    THIS = "this"
    LAST = "last"
    NEXT = "next"


class Quantifier(enum.Enum):
    SELECT = "select"
    EXISTS = "exists"
    FORALL = "forall"


class Aggregator(enum.Enum):
    SUM = "sum"
    COUNT = "count"
    AVERAGE = "average"
    MIN = "min"
    MAX = "max"


@dataclass(frozen=True, slots=True)
class Literal:
    value: str | int | float | bool | None


@dataclass(frozen=True, slots=True)
class ListOf:
    items: tuple[Expression, ...]


@dataclass(frozen=True, slots=True)
class Path:
    """Dotted names from a root: `loyalty.tier`, `offer.rank.priority`, `$1.x`, `@{schema}.x`."""

    names: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Field:
    """A field of a computed value: `x.get("ups").status`."""

    target: Expression
    name: str


@dataclass(frozen=True, slots=True)
class Call:
    """A function (`if(...)`, target None) or a method (`x.equals(...)`) call."""

    name: str
    target: Expression | None
    args: tuple[Expression, ...]


@dataclass(frozen=True, slots=True)
class Not:
    operand: Expression


@dataclass(frozen=True, slots=True)
class Logical:
    op: Logic
    left: Expression
    right: Expression


@dataclass(frozen=True, slots=True)
class Compare:
    op: Comparison
    left: Expression
    right: Expression


@dataclass(frozen=True, slots=True)
class In:
    """`x in [..]`, or `x notIn [..]` when negated (both false when either side is null)."""

    item: Expression
    collection: Expression
    negated: bool


@dataclass(frozen=True, slots=True)
class Like:
    text: Expression
    pattern: Expression


@dataclass(frozen=True, slots=True)
class Arithmetic:
    op: Operator
    left: Expression
    right: Expression


@dataclass(frozen=True, slots=True)
class Negative:
    operand: Expression


@dataclass(frozen=True, slots=True)
class TimeRef:
    word: TimeWord


@dataclass(frozen=True, slots=True)
class Period:
    """`last month`, `this year`: only as the time of an `occurs` test."""

    relative: Relative
    unit: TimeUnit


@dataclass(frozen=True, slots=True)
class OccursWithin:
    """`t occurs <= 3 days before now`."""

    subject: Expression
    comparison: Comparison
    amount: int
    unit: TimeUnit
    direction: Direction
    anchor: Expression


@dataclass(frozen=True, slots=True)
class OccursRelative:
    """`t occurs before today`."""

    subject: Expression
    direction: Direction
    time: Expression


@dataclass(frozen=True, slots=True)
class OccursOn:
    """`t occurs on date(2019, 12, 31)`, `t occurs last month`."""

    subject: Expression
    time: Expression


@dataclass(frozen=True, slots=True)
class OccursBetween:
    subject: Expression
    start: Expression
    end: Expression


@dataclass(frozen=True, slots=True)
class Let:
    name: str
    value: Expression
    body: Expression


@dataclass(frozen=True, slots=True)
class Lambda:
    """`(Profile) => Profile.x`: the parameter names the profile."""

    parameter: str
    body: Expression


@dataclass(frozen=True, slots=True)
class Binding:
    """`X from xEvent where X.type = "FLIGHT"` inside a query."""

    variable: str
    source: Expression
    condition: Expression | None


@dataclass(frozen=True, slots=True)
class Query:
    """`select ...`, `exists ...`, `forall ...` over arrays (xEvent: the experience events)."""

    kind: Quantifier
    bindings: tuple[Binding, ...]


@dataclass(frozen=True, slots=True)
class Aggregate:
    """`sum X.price over X from xEvent where ...`."""

    function: Aggregator
    value: Expression
    bindings: tuple[Binding, ...]


@dataclass(frozen=True, slots=True)
class Filter:
    """`xEvent[productListItems[SKU = "PS"]]` (filter-functions.md)."""

    target: Expression
    condition: Expression


@dataclass(frozen=True, slots=True)
class Up:
    """`^^.person.gender`: a property of an enclosing filter level."""

    levels: int
    names: tuple[str, ...]


Expression: TypeAlias = (
    "Literal | ListOf | Path | Field | Call | Not | Logical | Compare | In | Like | Arithmetic"
    " | Negative | TimeRef | Period | OccursWithin | OccursRelative | OccursOn | OccursBetween"
    " | Let | Lambda | Query | Aggregate | Filter | Up"
)

FUNCTIONS: Mapping[str, tuple[int, int]] = {
    "if": (3, 3),
    "date": (3, 3),
    "inSegment": (1, 1),
    "currentMonth": (0, 0),
    "currentYear": (0, 0),
    "currentDayOfMonth": (0, 0),
}
"""Documented functions called without a target, with their least and most arguments."""

METHODS: Mapping[str, tuple[int, int]] = {
    **dict.fromkeys(
        (
            "startsWith",
            "doesNotStartWith",
            "endsWith",
            "doesNotEndWith",
            "contains",
            "doesNotContain",
            "equals",
            "notEqualTo",
        ),
        (1, 2),
    ),
    "matches": (1, 1),
    "regexGroup": (1, 2),
    **dict.fromkeys(("isNull", "isNotNull", "distinct", "head", "keys", "values"), (0, 0)),
    **dict.fromkeys(("count", "getMonth", "getYear", "getDayOfMonth"), (0, 0)),
    **dict.fromkeys(("intersects", "intersection", "subsetOf", "supersetOf", "includes"), (1, 1)),
    **dict.fromkeys(("groupBy", "filter", "map", "get"), (1, 1)),
    **dict.fromkeys(("topN", "bottomN"), (2, 2)),
    **dict.fromkeys(("sum", "average", "min", "max"), (0, 1)),
}
"""Documented methods (`target.name(...)`), with their least and most arguments."""
