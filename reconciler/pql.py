"""Pure: PQL text to an expression tree, or a PqlSyntaxError at line and column (the only lark user).

The grammar covers the Profile Query Language of Adobe's pages (help/segmentation/pql/ in
AdobeDocs/experience-platform.en): literals, paths, comparisons, boolean and arithmetic operators,
method calls, `occurs`, `select`/`exists`/`forall`, `let`, lambdas, filters. Whether a construct
can be *evaluated* offline is reconciler.pql_eval's business; this module only says what was written.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import cast

from lark import (
    Lark,
    Token,
    Transformer,
    UnexpectedCharacters,
    UnexpectedInput,
    UnexpectedToken,
    v_args,
)

from reconciler import pql_ast as ast
from reconciler.errors import ReconcilerError
from reconciler.pql_ast import Expression as Expression

_GRAMMAR = r"""
start: [LAMBDA] body
?body: expr | query | let
let: _LET NAME COMPARE postfix _IN body
query: QUANT binding ("," binding)*
    | AGG_HEAD expr _OVER binding ("," binding)* -> aggregate
binding: NAME FROM expr (_WHERE expr)?

?expr: or
?or: and | or _OR and -> or_op
?and: not | and _AND not -> and_op
?not: comparison | _NOT not -> not_op | "!" not -> not_op
?comparison: sum
    | sum COMPARE sum -> compare
    | sum _IN sum -> in_op
    | sum _NOTIN sum -> not_in_op
    | sum _LIKE sum -> like
    | sum _OCCURS COMPARE NUMBER UNIT (DIRECTION | FROM) when -> occurs_within
    | sum _OCCURS (DIRECTION | FROM) when -> occurs_relative
    | sum _OCCURS _ON? when -> occurs_on
    | sum _OCCURS _BETWEEN when _AND when -> occurs_between
?when: postfix | RELATIVE UNIT -> period
?sum: product | sum ADD_OP product -> arithmetic
?product: unary | product MUL_OP unary -> arithmetic
?unary: postfix | ADD_OP unary -> sign
?postfix: primary
    | postfix "." NAME -> member
    | postfix "." NAME "(" [args] ")" -> method
    | postfix "[" expr "]" -> filter
args: expr ("," expr)*
?primary: STRING -> string
    | NUMBER -> number
    | TRUE -> true
    | FALSE -> false
    | NULL -> null
    | "[" [args] "]" -> list
    | NAME -> name
    | PARAM -> name
    | CONTEXT_REF -> name
    | NAME "(" [args] ")" -> call
    | TIME_WORD -> time_word
    | "(" body ")"
    | UP "." NAME -> up

LAMBDA.3: /\(\s*[A-Za-z_][A-Za-z0-9_]*\s*\)\s*=>/
AGG_HEAD.3: /(sum|count|average|min|max)\s+(?!(and|or|in|notIn|like|occurs|over)\b)(?=[A-Za-z_$@^(])/
QUANT.2: /(select|exists|forall)\b/
_LET.2: /let\b/
_IN.2: /in\b/
_NOTIN.2: /notIn\b/
_LIKE.2: /like\b/
_OCCURS.2: /occurs\b/
_OVER.2: /over\b/
_WHERE.2: /where\b/ | ":"
FROM.2: /from\b/
_OR.2: /or\b/
_AND.2: /and\b/
_NOT.2: /not\b/
_ON.2: /on\b/
_BETWEEN.2: /between\b/
DIRECTION.2: /(before|after)\b/
RELATIVE.2: /(this|last|next)\b/
UNIT.2: /(milliseconds?|seconds?|minutes?|hours?|days?|weeks?|months?|years?|decades?|century|centuries|millennium|millennia)\b/
TIME_WORD.2: /(now|today|yesterday|tomorrow)\b/
TRUE.2: /true\b/
FALSE.2: /false\b/
NULL.2: /null\b/
COMPARE: "!=" | "<=" | ">=" | "=" | "<" | ">"
ADD_OP: "+" | "-"
MUL_OP: "*" | "/" | "%"
UP: /\^+/
STRING: /"(?:[^"\\]|\\.)*"/s
NUMBER: /\d+(\.\d+)?([eE][+-]?\d+)?/
NAME: /[A-Za-z_][A-Za-z0-9_]*/
PARAM: /\$\d+/
CONTEXT_REF: /@\{[^}]*\}/
%ignore /\s+/
"""


class PqlSyntaxError(ReconcilerError):
    """PQL text that does not parse; `offset` is 0-based, `line` and `column` 1-based, in the text."""

    def __init__(self, message: str, offset: int, line: int, column: int) -> None:
        self.message = message
        self.offset = offset
        self.line = line
        self.column = column
        super().__init__(f"{line}:{column}: {message}")


class _Misplaced(Exception):
    """Raised while building the tree: a message and an offset, placed in the text by parse()."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


_ESCAPES: Mapping[str, str] = {
    '"': '"',
    "\\": "\\",
    "/": "/",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
}
_MAX_DIGITS = 1000
_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|.)", re.DOTALL)
_COMPARISONS = {op.value: op for op in ast.Comparison}
_OPERATORS = {op.value: op for op in ast.Operator}


def _unquote(token: Token) -> str:
    """A string literal's value: JSON escapes (`\\"`, `\\\\`, `\\n`, `\\u00e9`, ...), nothing else."""

    def replace(match: re.Match[str]) -> str:
        code = match.group(1)
        if code in _ESCAPES:
            return _ESCAPES[code]
        if len(code) == 5:
            return chr(int(code[1:], 16))
        offset = _start(token) + 1 + match.start()
        raise _Misplaced(f'unknown escape "\\{code}" in a string; write "\\\\{code}"', offset)

    return _ESCAPE.sub(replace, token[1:-1])


def _start(token: Token) -> int:
    return token.start_pos or 0


def _checked(name: Token, target: Expression | None, args: tuple[Expression, ...]) -> ast.Call:
    """A call, with the argument count checked against Adobe's documented signatures."""
    arity = (ast.FUNCTIONS if target is None else ast.METHODS).get(str(name))
    if arity is not None and not arity[0] <= len(args) <= arity[1]:
        least, most = arity
        wanted = str(least) if least == most else f"{least} to {most}"
        plural = "" if most == 1 else "s"
        raise _Misplaced(f"{name}() takes {wanted} argument{plural}, not {len(args)}", _start(name))
    return ast.Call(str(name), target, args)


@v_args(inline=True)
class _Builder(Transformer[Token, Expression]):
    """Parse-tree callbacks, run by the LALR parser as it reduces: no recursion, any depth."""

    def start(self, head: Token | None, body: Expression) -> Expression:
        if head is None:
            return body
        return ast.Lambda(head.strip("()=> \t\r\n"), body)

    def let(self, name: Token, sign: Token, value: Expression, body: Expression) -> Expression:
        if sign != "=":
            raise _Misplaced(f'unexpected "{sign}"; expected "="', _start(sign))
        return ast.Let(str(name), value, body)

    def query(self, kind: Token, *bindings: ast.Binding) -> Expression:
        return ast.Query(ast.Quantifier(str(kind)), bindings)

    def aggregate(self, head: Token, value: Expression, *bindings: ast.Binding) -> Expression:
        return ast.Aggregate(ast.Aggregator(head.strip()), value, bindings)

    def binding(
        self, name: Token, _from: Token, source: Expression, condition: Expression | None = None
    ) -> ast.Binding:
        return ast.Binding(str(name), source, condition)

    def or_op(self, left: Expression, right: Expression) -> Expression:
        return ast.Logical(ast.Logic.OR, left, right)

    def and_op(self, left: Expression, right: Expression) -> Expression:
        return ast.Logical(ast.Logic.AND, left, right)

    def not_op(self, operand: Expression) -> Expression:
        return ast.Not(operand)

    def compare(self, left: Expression, op: Token, right: Expression) -> Expression:
        return ast.Compare(_COMPARISONS[str(op)], left, right)

    def in_op(self, item: Expression, collection: Expression) -> Expression:
        return ast.In(item, collection, negated=False)

    def not_in_op(self, item: Expression, collection: Expression) -> Expression:
        return ast.In(item, collection, negated=True)

    def like(self, text: Expression, pattern: Expression) -> Expression:
        return ast.Like(text, pattern)

    def occurs_within(
        self,
        subject: Expression,
        op: Token,
        amount: Token,
        unit: Token,
        direction: Token,
        anchor: Expression,
    ) -> Expression:
        if not amount.isdigit():
            raise _Misplaced(f'"{amount}" is not a whole number of {unit}', _start(amount))
        return ast.OccursWithin(
            subject,
            _COMPARISONS[str(op)],
            int(amount),
            ast.UNIT_WORDS[str(unit)],
            ast.Direction(str(direction)),
            anchor,
        )

    def occurs_relative(
        self, subject: Expression, direction: Token, time: Expression
    ) -> Expression:
        return ast.OccursRelative(subject, ast.Direction(str(direction)), time)

    def occurs_on(self, subject: Expression, time: Expression) -> Expression:
        return ast.OccursOn(subject, time)

    def occurs_between(self, subject: Expression, start: Expression, end: Expression) -> Expression:
        return ast.OccursBetween(subject, start, end)

    def period(self, relative: Token, unit: Token) -> Expression:
        return ast.Period(ast.Relative(str(relative)), ast.UNIT_WORDS[str(unit)])

    def arithmetic(self, left: Expression, op: Token, right: Expression) -> Expression:
        return ast.Arithmetic(_OPERATORS[str(op)], left, right)

    def sign(self, op: Token, operand: Expression) -> Expression:
        if op != "-":
            raise _Misplaced(f'unexpected "{op}"; expected a value', _start(op))
        match operand:
            case ast.Literal(value) if isinstance(value, int | float) and not isinstance(
                value, bool
            ):
                return ast.Literal(-value)
        return ast.Negative(operand)

    def member(self, target: Expression, name: Token) -> Expression:
        match target:
            case ast.Path(names):
                return ast.Path((*names, str(name)))
            case ast.Up(levels, names):
                return ast.Up(levels, (*names, str(name)))
        return ast.Field(target, str(name))

    def method(
        self, target: Expression, name: Token, args: tuple[Expression, ...] | None
    ) -> Expression:
        return _checked(name, target, args or ())

    def call(self, name: Token, args: tuple[Expression, ...] | None) -> Expression:
        return _checked(name, None, args or ())

    def filter(self, target: Expression, condition: Expression) -> Expression:
        return ast.Filter(target, condition)

    def args(self, *items: Expression) -> tuple[Expression, ...]:
        return items

    def string(self, token: Token) -> Expression:
        return ast.Literal(_unquote(token))

    def number(self, token: Token) -> Expression:
        if any(mark in token for mark in ".eE"):
            return ast.Literal(float(token))
        if len(token) > _MAX_DIGITS:
            raise _Misplaced(f"a number of more than {_MAX_DIGITS} digits", _start(token))
        return ast.Literal(int(token))

    def true(self, _token: Token) -> Expression:
        return ast.Literal(True)

    def false(self, _token: Token) -> Expression:
        return ast.Literal(False)

    def null(self, _token: Token) -> Expression:
        return ast.Literal(None)

    def list(self, items: tuple[Expression, ...] | None) -> Expression:
        return ast.ListOf(items or ())

    def name(self, token: Token) -> Expression:
        return ast.Path((str(token),))

    def time_word(self, token: Token) -> Expression:
        return ast.TimeRef(ast.TimeWord(str(token)))

    def up(self, carets: Token, name: Token) -> Expression:
        return ast.Up(len(carets), (str(name),))


_PARSER = Lark(
    _GRAMMAR,
    parser="lalr",
    lexer="contextual",
    transformer=_Builder(),
    maybe_placeholders=True,
)

_VALUES = frozenset(
    {"STRING", "NUMBER", "TRUE", "FALSE", "NULL", "NAME", "PARAM", "CONTEXT_REF", "TIME_WORD"}
)
_OPERATOR_TERMINALS = frozenset(
    {"COMPARE", "ADD_OP", "MUL_OP", "_AND", "_OR", "_IN", "_NOTIN", "_LIKE", "_OCCURS", "DOT"}
)
_WORDS: Mapping[str, str] = {
    "RPAR": '")"',
    "RSQB": '"]"',
    "COMMA": '","',
    "UNIT": "a time unit",
    "DIRECTION": '"before", "after"',
    "FROM": '"from"',
    "_WHERE": '"where"',
    "_OVER": '"over"',
    "_BETWEEN": '"between"',
    "$END": "the end",
}


def _expectation(expected: set[str]) -> str:
    """What the parser wanted, in words: `a value`, `an operator, ")" or the end`."""
    if expected & _VALUES:
        return "a name" if expected & _VALUES == {"NAME"} else "a value"
    wanted = ["an operator"] if expected & _OPERATOR_TERMINALS else []
    wanted += [_WORDS[name] for name in sorted(expected) if name in _WORDS]
    if not wanted:
        return "something else"
    return wanted[0] if len(wanted) == 1 else f"{', '.join(wanted[:-1])} or {wanted[-1]}"


def _acceptable(error: UnexpectedToken) -> set[str]:
    """The terminals that would really have been accepted: LALR's merged states list too many."""
    parser = getattr(error, "interactive_parser", None)
    if parser is None:
        return set(error.expected)
    return set(parser.accepts())


def _shown(token: Token) -> str:
    text = str(token) if len(token) <= 30 else f"{token[:27]}..."
    if token.type == "STRING":
        return f"string {text}"
    return f'"{text}"'


def _placed(text: str, message: str, offset: int) -> PqlSyntaxError:
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return PqlSyntaxError(message, offset, line, column)


def _translated(text: str, error: UnexpectedInput) -> PqlSyntaxError:
    """lark's exception, as one short sentence at the offending character."""
    if isinstance(error, UnexpectedToken):
        expected = _expectation(_acceptable(error))
        if error.token.type == "$END":
            return _placed(text, f"unexpected end; expected {expected}", len(text.rstrip()))
        message = f"unexpected {_shown(error.token)}; expected {expected}"
        return _placed(text, message, _start(error.token))
    offset = error.pos_in_stream or 0
    if isinstance(error, UnexpectedCharacters) and error.char == '"':
        return _placed(text, "unterminated string: no closing quote", offset)
    if isinstance(error, UnexpectedCharacters) and error.char == "'":
        return _placed(text, 'unexpected "\'"; PQL strings are in double quotes', offset)
    return _placed(text, f'unexpected character "{text[offset : offset + 1]}"', offset)


@functools.lru_cache(maxsize=1024)
def parse(text: str) -> Expression:
    """The expression `text` holds; PqlSyntaxError when it is not PQL. Cached: rules repeat."""
    if not text.strip():
        raise _placed(text, "empty rule; expected a value", len(text))
    try:
        tree = _PARSER.parse(text)
    except UnexpectedInput as error:
        raise _translated(text, error) from None
    except _Misplaced as error:
        raise _placed(text, error.message, error.offset) from None
    except RecursionError:
        raise _placed(text, "the rule nests too deeply to read", 0) from None
    return cast(Expression, tree)  # the builder turns every tree into an Expression
