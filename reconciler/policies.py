"""Pure: the team policies of reconciler.yaml (`policies:`) and what they find in the definitions.

A policy is small and declarative: a name, a severity (`error` fails validation, `warning` is
only reported), the kinds and key globs it applies to, and one check from a fixed set:

    required: <field>                              the field is set and not empty
    matches: {field: <field>, regex: <regex>}      the field's text matches (re.search)
    range: {field: <field>, min: <n>, max: <n>}    the number lies in [min, max]
    end-date: {within-days: <n>}                   an end date is set, within n days of the start
    fallback: true                                 a decision's fallback serves its placements
    name-matches: <regex>                          the object's name matches (re.search)

A field is a dotted path into the body as the file writes it (`rank.priority`,
`representations[0].channel`); `[*]` goes through every item of a list. Key globs are fnmatch
globs on keys, as `--only` takes them (`*` matches `/` too).
"""

from __future__ import annotations

import datetime
import enum
import fnmatch
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from reconciler import protection
from reconciler.model import Desired, Key, Kind, Problem, Ref, name_of, name_path
from reconciler.rules import Anchor, Location, dotted, instant

# --- reconciler.yaml ------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=False)


class _Matches(_Strict):
    field: str
    regex: str


class _Range(_Strict):
    field: str
    min: float | None = None
    max: float | None = None


class _EndDate(_Strict):
    within_days: int = Field(alias="within-days", ge=1)


class CheckModel(_Strict):
    """The one check of a policy: exactly one of these is set (`build` says so)."""

    required: str | None = None
    matches: _Matches | None = None
    range: _Range | None = None
    end_date: _EndDate | None = Field(default=None, alias="end-date")
    fallback: Literal[True] | None = None
    name_matches: str | None = Field(default=None, alias="name-matches")


class PolicyModel(_Strict):
    """One entry of `policies:` in reconciler.yaml, as written."""

    name: str = Field(min_length=1)
    severity: Literal["error", "warning"]
    kinds: list[str] = Field(default_factory=list)
    keys: list[str] = Field(default_factory=lambda: ["*"])
    check: CheckModel


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"


CHECKS = ("required", "matches", "range", "end-date", "fallback", "name-matches")

DATES: Mapping[Kind, tuple[Location, Location]] = {
    Kind.PERSONALIZED_OFFER: (
        ("selectionConstraint", "startDate"),
        ("selectionConstraint", "endDate"),
    ),
    Kind.DECISION: (("startDate",), ("endDate",)),
    Kind.DECISION_ITEM: (
        ("_experience", "decisioning", "decisionitem", "itemCalendarConstraints", "startDate"),
        ("_experience", "decisioning", "decisionitem", "itemCalendarConstraints", "endDate"),
    ),
}
"""Where each kind with a validity period keeps its start and end dates."""

_ONLY: Mapping[str, tuple[Kind, ...]] = {
    "end-date": tuple(DATES),
    "fallback": (Kind.DECISION,),
}
"""The kinds a check can apply to, for the checks that do not apply to every kind."""

_ALL = "[*]"
_FIELD = re.compile(r"[^.\[\]\s]+(?:\.[^.\[\]\s]+|\[(?:\d+|\*)\])*")
_STEP = re.compile(r"\[(\d+|\*)\]|\.?([^.\[\]]+)")
Step = str | int


@dataclass(frozen=True, slots=True)
class Check:
    """A compiled check: its name in CHECKS, the field it reads, and its arguments."""

    name: str
    field: tuple[Step, ...] = ()
    field_text: str = ""
    pattern: re.Pattern[str] | None = None
    low: float | None = None
    high: float | None = None
    days: int = 0
    written: Any = None  # the check as reconciler.yaml writes it, for `reconciler policies`

    def describe(self) -> str:
        match self.name:
            case "required":
                return f"required: {self.field_text}"
            case "matches":
                assert self.pattern is not None
                return f"matches: {self.field_text} ~ {self.pattern.pattern}"
            case "range":
                bounds = [f">= {_number(self.low)}"] if self.low is not None else []
                bounds += [f"<= {_number(self.high)}"] if self.high is not None else []
                return f"range: {self.field_text} {' and '.join(bounds)}"
            case "end-date":
                return f"end-date: set, within {self.days} days of the start date"
            case "fallback":
                return "fallback: set, with a representation for every placement"
            case _:
                assert self.pattern is not None
                return f"name-matches: {self.pattern.pattern}"


@dataclass(frozen=True, slots=True)
class Policy:
    """One validated policy of reconciler.yaml."""

    name: str
    severity: Severity
    kinds: tuple[Kind, ...]
    keys: tuple[str, ...]
    check: Check

    def kinds_shown(self) -> str:
        """The kinds, or `*` for every kind (`kinds:` left out of a check that fits them all)."""
        return "*" if set(self.kinds) == set(Kind) else ",".join(k.value for k in self.kinds)

    def applies(self, item: Desired) -> bool:
        return item.kind in self.kinds and any(
            fnmatch.fnmatchcase(item.key, glob) for glob in self.keys
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "severity": self.severity.value,
            "kinds": [kind.value for kind in self.kinds],
            "keys": list(self.keys),
            "check": self.check.written,
        }


class PolicyError(ValueError):
    """A policy that cannot be checked: where in `policies:` and why (config.py locates it)."""

    def __init__(self, location: Location, message: str) -> None:
        super().__init__(message)
        self.location = location
        self.message = message


def build_policies(models: Sequence[PolicyModel]) -> tuple[Policy, ...]:
    """The policies of reconciler.yaml, checked; PolicyError names the first that is wrong."""
    built: list[Policy] = []
    names: dict[str, int] = {}
    for index, model in enumerate(models):
        if not model.name.strip() or "\n" in model.name:
            raise PolicyError((index, "name"), "a name is one line of text, such as offers-end")
        if model.name in names:
            raise PolicyError(
                (index, "name"),
                f"{model.name!r} is also the name of policies.{names[model.name]}: messages "
                "name policies, so give each its own",
            )
        names[model.name] = index
        check = _check(model.check, index)
        built.append(
            Policy(
                model.name,
                Severity(model.severity),
                _policy_kinds(model.kinds, check.name, index),
                _globs(model.keys, index),
                check,
            )
        )
    return tuple(built)


def _check(model: CheckModel, index: int) -> Check:
    written = model.model_dump(by_alias=True, exclude_none=True)
    if len(written) != 1:
        chosen = f"it sets {', '.join(written)}" if written else "it sets none"
        raise PolicyError(
            (index, "check"), f"a policy has exactly one check of {', '.join(CHECKS)}: {chosen}"
        )
    at: Location = (index, "check", *(str(name) for name in written))
    if model.required is not None:
        return Check("required", *_field(model.required, at), written=written)
    if model.matches is not None:
        steps, text = _field(model.matches.field, (*at, "field"))
        pattern = _regex(model.matches.regex, (*at, "regex"))
        return Check("matches", steps, text, pattern, written=written)
    if model.range is not None:
        steps, text = _field(model.range.field, (*at, "field"))
        low, high = model.range.min, model.range.max
        if low is None and high is None:
            raise PolicyError(at, "a range needs min:, max: or both")
        if low is not None and high is not None and low > high:
            raise PolicyError((*at, "max"), f"max ({_number(high)}) is below min ({_number(low)})")
        for bound in ("min", "max"):  # as written: 40, not 40.0
            value = written["range"].get(bound)
            if isinstance(value, float) and value.is_integer():
                written["range"][bound] = int(value)
        return Check("range", steps, text, low=low, high=high, written=written)
    if model.end_date is not None:
        return Check("end-date", days=model.end_date.within_days, written=written)
    if model.fallback is not None:
        return Check("fallback", written=written)
    assert model.name_matches is not None
    return Check("name-matches", pattern=_regex(model.name_matches, at), written=written)


def _field(text: str, at: Location) -> tuple[tuple[Step, ...], str]:
    if not _FIELD.fullmatch(text):
        raise PolicyError(
            at,
            f"{text!r} is not a field: write a dotted path such as rank.priority or "
            "representations[*].channel ([n] for one item of a list, [*] for every item)",
        )
    steps: list[Step] = []
    for match in _STEP.finditer(text):
        index, name = match.groups()
        steps.append(name if name is not None else (_ALL if index == "*" else int(index)))
    return tuple(steps), text


def _regex(text: str, at: Location) -> re.Pattern[str]:
    try:
        return re.compile(text)
    except re.error as error:
        raise PolicyError(at, f"{text!r} is not a regular expression: {error}") from None


def _policy_kinds(names: Sequence[str], check: str, index: int) -> tuple[Kind, ...]:
    fitting = _ONLY.get(check, tuple(Kind))
    if not names:
        return fitting
    chosen: list[Kind] = []
    for position, name in enumerate(names):
        kind = next((kind for kind in Kind if kind.value == name), None)
        if kind is None:
            raise PolicyError(
                (index, "kinds", position),
                f"{name!r} is not a kind: use one of {', '.join(kind.value for kind in Kind)}",
            )
        if kind not in fitting:
            raise PolicyError(
                (index, "kinds", position),
                f"{check} does not apply to {name}: it applies to "
                f"{', '.join(kind.value for kind in fitting)}",
            )
        if kind not in chosen:
            chosen.append(kind)
    return tuple(chosen)


def _globs(globs: Sequence[str], index: int) -> tuple[str, ...]:
    if not globs:
        raise PolicyError((index, "keys"), "list at least one key glob, such as '*'")
    for position, glob in enumerate(globs):
        problem = protection.glob_problem(glob)
        if problem is not None:
            raise PolicyError((index, "keys", position), problem)
    return tuple(globs)


def _number(value: float | None) -> str | None:
    """A bound as reconciler.yaml wrote it: 40, not 40.0."""
    if value is None:
        return None
    return str(int(value)) if float(value).is_integer() else repr(value)


# --- evaluating -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Violation:
    """A policy broken by one definition, at a place of its file (not yet a line and column)."""

    policy: Policy
    key: Key
    path: str  # the file, offers/...
    location: Location
    anchor: Anchor
    message: str


@dataclass(frozen=True, slots=True)
class Finding:
    """A violation located at file:line:column, with the severity of its policy."""

    problem: Problem
    severity: Severity
    policy: str


def evaluate(policies: Sequence[Policy], objects: Sequence[Desired]) -> list[Violation]:
    """What every policy finds in the definitions it applies to, in key order."""
    by_key = {item.key: item for item in objects}
    found: list[Violation] = []
    for item in sorted(objects, key=lambda item: item.key):
        for policy in policies:
            if policy.applies(item):
                for location, anchor, what in _violations(policy, item, by_key):
                    message = f"{dotted(location)}: {what} (policy {policy.name})"
                    where = item.source.path or f"offers/{item.key}.yaml"
                    found.append(Violation(policy, item.key, where, location, anchor, message))
    return found


_Found = Iterator[tuple[Location, Anchor, str]]
_MISSING = object()


def _violations(policy: Policy, item: Desired, by_key: Mapping[Key, Desired]) -> _Found:
    check, body = policy.check, item.body
    match check.name:
        case "required":
            yield from _required(check, body)
        case "matches":
            for location, value in _values(body, check.field):
                if value is not _MISSING:
                    yield from _match(check, location, value)
        case "range":
            for location, value in _values(body, check.field):
                if value is not _MISSING:
                    yield from _range(check, location, value)
        case "end-date":
            yield from _end_date(check, item)
        case "fallback":
            yield from _fallback(body, by_key)
        case _:
            name = name_of(item.kind, body)
            if name is not None:
                yield from _match(check, name_path(item.kind), name)


def _values(
    node: object, steps: Sequence[Step], at: Location = ()
) -> Iterator[tuple[Location, object]]:
    """The values a field names, each at its location; _MISSING where a named step is absent
    (a list that `[*]` would go through being absent names nothing)."""
    if not steps:
        yield at, (_MISSING if node is None else node)
        return
    step, rest = steps[0], steps[1:]
    if step == _ALL:
        if isinstance(node, list):
            for index, item in enumerate(node):
                yield from _values(item, rest, (*at, index))
        return
    if isinstance(step, int):
        present = isinstance(node, list) and 0 <= step < len(node)
        child = node[step] if present else None  # type: ignore[index]
    else:
        present = isinstance(node, Mapping) and step in node
        child = node[step] if present else None  # type: ignore[index]
    if present:
        yield from _values(child, rest, (*at, step))
    elif _ALL not in rest:
        yield (*at, step, *rest), _MISSING


def _required(check: Check, body: Mapping[str, Any]) -> _Found:
    for location, value in _values(body, check.field):
        if value is _MISSING:
            yield location, Anchor.PARENT, "required: add it"
        elif value == "" or value == [] or value == {}:
            yield location, Anchor.VALUE, "required, and empty: give it a value"


def _match(check: Check, location: Location, value: object) -> _Found:
    assert check.pattern is not None
    text = value.key if isinstance(value, Ref) else value
    if not isinstance(text, str):
        yield (
            location,
            Anchor.VALUE,
            f"{_shown(value)} is not text to match {check.pattern.pattern}",
        )
    elif not check.pattern.search(text):
        yield location, Anchor.VALUE, f"{_shown(text)} does not match {check.pattern.pattern}"


def _range(check: Check, location: Location, value: object) -> _Found:
    if isinstance(value, bool) or not isinstance(value, int | float):
        yield location, Anchor.VALUE, f"{_shown(value)} is not a number"
    elif check.low is not None and value < check.low:
        yield location, Anchor.VALUE, f"{_shown(value)} is below the minimum {_number(check.low)}"
    elif check.high is not None and value > check.high:
        yield location, Anchor.VALUE, f"{_shown(value)} is above the maximum {_number(check.high)}"


def _end_date(check: Check, item: Desired) -> _Found:
    start_at, end_at = DATES[item.kind]
    start = next(iter(_values(item.body, start_at)))[1]
    end = next(iter(_values(item.body, end_at)))[1]
    start_name, days = dotted(start_at), check.days
    if end is _MISSING:
        yield end_at, Anchor.PARENT, f"required, within {days} days of {start_name}: add it"
        return
    if start is _MISSING:
        yield (
            start_at,
            Anchor.PARENT,
            f"required, to count the {days} days to {dotted(end_at)} from: add it",
        )
        return
    begins = instant(start) if isinstance(start, str) else None
    ends = instant(end) if isinstance(end, str) else None
    if begins is None or ends is None:
        return  # not a date-time: the file's validation says so
    latest = begins + datetime.timedelta(days=days)
    if ends > latest:
        yield (
            end_at,
            Anchor.VALUE,
            f"{end} is more than {days} days after {start_name} {start}: end it by "
            f"{latest.isoformat(timespec='milliseconds').replace('+00:00', 'Z')} at the latest",
        )


def _fallback(body: Mapping[str, Any], by_key: Mapping[Key, Desired]) -> _Found:
    """A fallback is set and, when it is a definition of this repository, has a representation
    for every placement of the decision's criteria (creating-fallback-offers.md: "Fallback offers
    should contain all representations used within a decision")."""
    chosen = body.get("fallback")
    if chosen is None:
        yield ("fallback",), Anchor.PARENT, "required: add {ref: <fallback offer key>} or an id"
        return
    offer = by_key.get(chosen.key) if isinstance(chosen, Ref) else None
    if offer is None or offer.kind is not Kind.FALLBACK_OFFER:
        return  # an id of an object managed elsewhere, or a wrong reference (validation says)
    represented = offer.body.get("representations")
    served = [
        item.get("placement")
        for item in (represented if isinstance(represented, list) else [])
        if isinstance(item, Mapping)
    ]
    criteria = body.get("criteria")
    for index, criterion in enumerate(criteria if isinstance(criteria, list) else []):
        listed = criterion.get("placements") if isinstance(criterion, Mapping) else None
        for position, placement in enumerate(listed if isinstance(listed, list) else []):
            if placement in served:
                continue
            same_spelling = [p for p in served if isinstance(p, Ref) == isinstance(placement, Ref)]
            if len(same_spelling) != len(served):
                continue  # ids and references mixed: which id a key gets is not known offline
            yield (
                ("criteria", index, "placements", position),
                Anchor.VALUE,
                f"the fallback {chosen.key} has no representation for {_placement(placement)}: "
                "a fallback offer holds every placement its decisions use "
                "(creating-fallback-offers.md): add one to it",
            )


def _placement(value: object) -> str:
    return f"{{ref: {value.key}}}" if isinstance(value, Ref) else _shown(value)


def _shown(value: object) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return "a mapping" if isinstance(value, dict) else "a list"
    return str(value)
