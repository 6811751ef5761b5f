"""Pure: a PQL expression's value for one profile (and offer), or Unknown naming what it needs.

Paths without a root (`loyalty.tier`) and `profile.`, `$1.` or a lambda's parameter read the
profile; `offer.` the offer; `context.` and `@{schema}.` the request's context data. A missing
field is null; every comparison with null is false (`notIn` and the negative string tests too).
In a boolean position null counts as false. `and`/`or` are decided by one side when it settles
them (`false and <unknown>` is false). What cannot be known offline (event queries, undocumented
or per-item functions, type clashes) is Unknown, named, never guessed.
"""

from __future__ import annotations

import datetime
import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TypeAlias, assert_never

from reconciler import pql_ast as ast
from reconciler import pql_functions, pql_time
from reconciler.model import JsonValue
from reconciler.pql_value import (
    Unknown,
    Value,
    calculate,
    compare,
    from_json,
    kind,
)
from reconciler.pql_value import timestamp as timestamp_of
from reconciler.pql_value import truth as truth_of

__all__ = ["Evaluation", "Scope", "Value", "evaluate", "truth"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Scope:
    """What an expression may read: the profile's XDM attributes, the offer (ranking formulas),
    the audiences the profile belongs to, the request's context data, and the moment `now`."""

    profile: Mapping[str, JsonValue]
    now: datetime.datetime
    offer: Mapping[str, JsonValue] | None = None
    audiences: frozenset[str] = frozenset()
    context: Mapping[str, JsonValue] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.now.tzinfo is None:
            raise ValueError("Scope.now must be timezone-aware")


@dataclass(frozen=True, slots=True)
class Evaluation:
    """A result (None when unknown), what made it unknown, and the fields read, in order."""

    value: Value
    unknown: str | None
    reads: tuple[tuple[str, JsonValue], ...]


def truth(evaluation: Evaluation) -> bool | None:
    """True or false for a rule; None when unknown or not a boolean (null is false)."""
    if evaluation.unknown is not None:
        return None
    value = evaluation.value
    if value is None:
        return False
    return value if isinstance(value, bool) else None


def evaluate(expression: ast.Expression, scope: Scope) -> Evaluation:
    """The value of `expression` in `scope`, reading nothing but the scope."""
    run = _Run(scope)
    try:
        result = run.value(expression, {})
    except RecursionError:
        result = Unknown("an expression nested too deeply to evaluate")
    except (ArithmeticError, ValueError) as error:  # a number or date out of Python's range
        result = Unknown(f"a value out of range ({error})")
    reads = tuple(run.reads.items())
    if isinstance(result, Unknown):
        return Evaluation(None, result.construct, reads)
    return Evaluation(result, None, reads)


class _Root(enum.Enum):
    PROFILE = "profile"
    OFFER = "offer"
    CONTEXT = "context"


Env: TypeAlias = Mapping[str, "Value | _Root"]
"""Names in scope: `let` variables, and a lambda's parameter (the profile)."""

_CONTEXT_SCHEMA = re.compile(r"@\{(.*)\}", re.DOTALL)


class _Run:
    """One evaluation: the scope, and the fields read so far (first read of each path wins)."""

    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self.now = scope.now.astimezone(datetime.UTC)
        self.reads: dict[str, JsonValue] = {}

    def value(self, node: ast.Expression, env: Env) -> Value | Unknown:
        match node:
            case ast.Literal(value):
                return value
            case ast.ListOf(items):
                values: list[Value] = []
                for item in items:
                    found = self.value(item, env)
                    if isinstance(found, Unknown):
                        return found
                    values.append(found)
                return values
            case ast.Path(names):
                return self.path(names, env)
            case ast.Field(target, name):
                return self.field(target, name, env)
            case ast.Call():
                return self.call(node, env)
            case ast.Not(operand):
                decided = self.truth(operand, env)
                return decided if isinstance(decided, Unknown) else not decided
            case ast.Logical(op, left, right):
                return self.logical(op, left, right, env)
            case ast.Compare(op, left, right):
                sides = self.both(left, right, env)
                if not isinstance(sides, tuple):
                    return sides
                return False if None in sides else compare(op, *sides)
            case ast.In(item, collection, negated):
                sides = self.both(item, collection, env)
                return pql_functions.inside(*sides, negated) if isinstance(sides, tuple) else sides
            case ast.Like(text, pattern):
                sides = self.both(text, pattern, env)
                return pql_functions.like(*sides) if isinstance(sides, tuple) else sides
            case ast.Arithmetic(op, left, right):
                sides = self.both(left, right, env)
                return calculate(op, *sides) if isinstance(sides, tuple) else sides
            case ast.Negative(operand):
                return self.negative(operand, env)
            case ast.TimeRef(word):
                return pql_time.word_time(word, self.now)
            case ast.Period(relative, unit):
                return Unknown(f'"{relative.value} {unit.value}" outside an occurs test')
            case ast.OccursWithin() | ast.OccursRelative() | ast.OccursOn() | ast.OccursBetween():
                return self.occurs(node, env)
            case ast.Let(name, bound, body):
                found = self.value(bound, env)
                return (
                    found if isinstance(found, Unknown) else self.value(body, {**env, name: found})
                )
            case ast.Lambda(parameter, body):
                return self.value(body, {**env, parameter: _Root.PROFILE})
            case ast.Query(quantifier, bindings):
                return Unknown(f"{quantifier.value} … {_source(bindings)}")
            case ast.Aggregate(function, _, bindings):
                return Unknown(f"{function.value} … over … {_source(bindings)}")
            case ast.Filter():
                return Unknown("a filter [...] (filter-functions.md)")
            case ast.Up():
                return Unknown("the up operator ^ (filter-functions.md)")
            case _:
                assert_never(node)

    def both(
        self, left: ast.Expression, right: ast.Expression, env: Env
    ) -> tuple[Value, Value] | Unknown:
        first = self.value(left, env)
        if isinstance(first, Unknown):
            return first
        second = self.value(right, env)
        return second if isinstance(second, Unknown) else (first, second)

    def truth(self, node: ast.Expression, env: Env) -> bool | Unknown:
        found = self.value(node, env)
        return found if isinstance(found, Unknown) else truth_of(found)

    def logical(
        self, op: ast.Logic, left: ast.Expression, right: ast.Expression, env: Env
    ) -> Value | Unknown:
        match op:
            case ast.Logic.AND:
                deciding = False
            case ast.Logic.OR:
                deciding = True
            case _:
                assert_never(op)
        first = self.truth(left, env)
        if first is deciding:
            return deciding
        second = self.truth(right, env)
        if second is deciding:
            return deciding
        if isinstance(first, Unknown):
            return first
        return second if isinstance(second, Unknown) else not deciding

    def path(self, names: tuple[str, ...], env: Env) -> Value | Unknown:
        head, rest = names[0], names[1:]
        if head in env:
            bound = env[head]
            if isinstance(bound, _Root):
                return self.read(bound, rest, f"{bound.value}")
            return self.descend(bound, rest)
        if head in ("profile", "$1"):
            return self.read(_Root.PROFILE, rest, "profile")
        if head in ("offer", "context"):
            return self.read(_Root(head), rest, head)
        if head == "xEvent":
            return Unknown("xEvent (event queries)")
        if head.startswith("$"):
            return Unknown(f"the parameter {head}")
        schema = _CONTEXT_SCHEMA.fullmatch(head)
        if schema is not None:
            return self.read(_Root.CONTEXT, (schema.group(1), *rest), head, shown=rest)
        return self.read(_Root.PROFILE, names, "profile")

    def read(
        self, root: _Root, names: tuple[str, ...], label: str, shown: tuple[str, ...] | None = None
    ) -> Value | Unknown:
        """A field of the profile, offer or context, recorded as read (`profile.loyalty.tier`)."""
        source: Mapping[str, JsonValue] | None
        match root:
            case _Root.PROFILE:
                source = self.scope.profile
            case _Root.OFFER:
                source = self.scope.offer
            case _Root.CONTEXT:
                source = self.scope.context
            case _:
                assert_never(root)
        written = ".".join((label, *(names if shown is None else shown)))
        if source is None:
            return Unknown(
                f"{written} with no offer in scope (offers are read by ranking formulas)"
            )
        found: JsonValue | Mapping[str, JsonValue] = source
        for index, name in enumerate(names):
            if isinstance(found, Mapping):
                found = found.get(name)
            elif isinstance(found, list):
                return Unknown(f"a path through an array ({'.'.join((label, *names[:index]))})")
            elif found is not None:
                return Unknown(f'field "{name}" of a value that is not an object ({written})')
        if isinstance(found, Mapping) and not isinstance(found, dict):
            found = dict(found)
        self.reads.setdefault(written, found)
        return from_json(found)

    def descend(self, value: Value, names: tuple[str, ...]) -> Value | Unknown:
        for name in names:
            if value is None:
                return None
            if not isinstance(value, dict):
                return Unknown(f'field "{name}" of {kind(value)}')
            value = value.get(name)
        return value

    def field(self, target: ast.Expression, name: str, env: Env) -> Value | Unknown:
        found = self.value(target, env)
        return found if isinstance(found, Unknown) else self.descend(found, (name,))

    def call(self, node: ast.Call, env: Env) -> Value | Unknown:
        match node:
            case ast.Call("get", ast.Path(names), (ast.Literal(str() as key),)):
                # `offer.characteristics.get("city")` reads offer.characteristics.city, no more
                return self.path((*names, key), env)
        if node.target is None:
            return self.function(node.name, node.args, env)
        found = self.value(node.target, env)
        if isinstance(found, Unknown):
            return found
        values = self.value(ast.ListOf(node.args), env)
        if isinstance(values, Unknown):
            return values
        assert isinstance(values, list)
        return pql_functions.call(node.name, found, tuple(values))

    def function(self, name: str, args: tuple[ast.Expression, ...], env: Env) -> Value | Unknown:
        if name == "if":
            test = self.truth(args[0], env)
            return test if isinstance(test, Unknown) else self.value(args[1 if test else 2], env)
        values = self.value(ast.ListOf(args), env)
        if isinstance(values, Unknown):
            return values
        assert isinstance(values, list)
        if name == "date":
            return pql_time.date_of(values)
        if name == "inSegment":
            audience = values[0]
            if not isinstance(audience, str):
                return Unknown(f"inSegment of {kind(audience)}")
            inside = audience in self.scope.audiences
            self.reads.setdefault(f'inSegment("{audience}")', inside)
            return inside
        if name in ("currentMonth", "currentYear", "currentDayOfMonth"):
            return {"currentMonth": self.now.month, "currentYear": self.now.year}.get(
                name, self.now.day
            )
        return Unknown(f'function "{name}"')

    def negative(self, operand: ast.Expression, env: Env) -> Value | Unknown:
        found = self.value(operand, env)
        if found is None or isinstance(found, Unknown):
            return found
        return calculate(ast.Operator.SUBTRACT, 0, found)

    def span(self, node: ast.Expression, env: Env) -> pql_time.Span | Unknown | None:
        """The time an occurs test measures against: an instant, or a whole day or period."""
        match node:
            case ast.TimeRef(word):
                return pql_time.word_span(word, self.now)
            case ast.Period(relative, unit):
                return pql_time.period_span(relative, unit, self.now)
        found = self.value(node, env)
        return found if found is None or isinstance(found, Unknown) else pql_time.value_span(found)

    def occurs(self, node: pql_time.Occurs, env: Env) -> Value | Unknown:
        subject = self.value(node.subject, env)
        if subject is None or isinstance(subject, Unknown):
            return False if subject is None else subject
        moment = timestamp_of(subject)
        if isinstance(moment, Unknown):
            return moment
        spans: list[pql_time.Span] = []
        for time in pql_time.times(node):
            span = self.span(time, env)
            if span is None or isinstance(span, Unknown):
                return False if span is None else span
            spans.append(span)
        return pql_time.occurs(node, moment, spans)


def _source(bindings: tuple[ast.Binding, ...]) -> str:
    """Where a query looks: the experience events, or an array of the profile."""
    for binding in bindings:
        if isinstance(binding.source, ast.Path) and binding.source.names[0] == "xEvent":
            return "from xEvent (event queries)"
    return "from an array (array queries)"
