"""offers/**/*.yaml -> desired objects, with every problem located at file:line:column.

With roundtrip.py (which edits definitions in place for `pull`), the only module that imports
ruamel.yaml. The hot path parses with ruamel's fastest loader
(`typ="safe"` on the C parser of ruamel.yaml.clib) under YAML 1.2, with timestamps kept as the
text written. Only a file with a problem is composed again into ruamel's node tree, to map each
problem's path in the body to the line and column of the key or value it concerns.
"""

from __future__ import annotations

import difflib
import io
import itertools
import os
import re
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.constructor import ConstructorError, DuplicateKeyError, SafeConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import (
    AliasEvent,
    CollectionEndEvent,
    CollectionStartEvent,
    Event,
    ScalarEvent,
)
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.reader import ReaderError
from ruamel.yaml.resolver import VersionedResolver, implicit_resolvers
from ruamel.yaml.tag import Tag

from reconciler import (
    cases,
    graph,
    guardrails,
    kinds,
    memory,
    offerfiles,
    overrides,
    roundtrip,
    schema,
    wire,
)
from reconciler.eligibility import Profile
from reconciler.errors import ConfigError, InvalidDocuments
from reconciler.model import (
    Desired,
    JsonObject,
    JsonValue,
    Key,
    Kind,
    Problem,
    Source,
    name_of,
    name_path,
)
from reconciler.rules import Anchor, Issue, Location, dotted

SUFFIXES = offerfiles.SUFFIXES
SCHEMA_FILE = "reconciler/offers.schema.json"
KINDS = ", ".join([*(kind.value for kind in Kind), *cases.KINDS])


# --- the loader -----------------------------------------------------------------------------


def _keep_text(constructor: SafeConstructor, node: ScalarNode) -> str:
    return str(constructor.construct_scalar(node))


def _refuse(constructor: SafeConstructor, node: Node) -> None:
    raise ConstructorError(
        None,
        None,
        f"the tag {node.tag} is not supported: offers/ files hold plain values "
        "(text, numbers, true/false, lists and mappings)",
        node.start_mark,
    )


class _Constructor(SafeConstructor):
    """Plain JSON values only: no sets, binaries, pairs or custom tags; dates stay text."""


# The API stores and echoes dates as the text it was sent: never turn them into datetimes.
_Constructor.add_constructor("tag:yaml.org,2002:timestamp", _keep_text)
# ruamel resolves a lone `=` and a `<<` value to tags it then cannot build; in YAML 1.2 both are text.
_Constructor.add_constructor("tag:yaml.org,2002:value", _keep_text)
_Constructor.add_constructor("tag:yaml.org,2002:merge", _keep_text)
for _tag in ("binary", "set", "omap", "pairs"):
    _Constructor.add_constructor(f"tag:yaml.org,2002:{_tag}", _refuse)
_Constructor.add_constructor(None, _refuse)

_PLAIN: dict[str, list[tuple[Tag, re.Pattern[str]]]] = {}
for _versions, _suffix, _regexp, _firsts in implicit_resolvers:
    if (1, 2) in _versions and _suffix not in ("tag:yaml.org,2002:value", "tag:yaml.org,2002:yaml"):
        for _first in _firsts:
            # ruamel keeps its patterns behind a lazy proxy: compile them once, for real.
            _compiled = re.compile(_regexp.pattern, _regexp.flags)
            _PLAIN.setdefault(_first, []).append((Tag(suffix=_suffix), _compiled))


class _Resolver(VersionedResolver):
    """YAML 1.2 whatever a %YAML directive says (`no`, `on` are text), from a table built once.

    ruamel looks the YAML version up again for every scalar; doing it once makes loading
    about 40% faster, and the rules are ruamel's own 1.2 rules.
    """

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is ScalarNode:
            if implicit[0]:
                for tag, regexp in _PLAIN.get(value[:1], ()):
                    if regexp.match(value):
                        return tag
            return self.DEFAULT_SCALAR_TAG
        if kind is SequenceNode:
            return self.DEFAULT_SEQUENCE_TAG
        return self.DEFAULT_MAPPING_TAG


def _yaml(*, pure: bool, duplicates: list[_Duplicate] | None = None) -> YAML:
    """The loader; given a list, it keeps the first copy of a duplicate key and records the
    others there instead of stopping at the first."""
    yaml = YAML(typ="safe", pure=pure)
    yaml.version = (1, 2)
    yaml.Constructor = _Constructor if duplicates is None else _recording(duplicates)
    yaml.Resolver = _Resolver
    return yaml


def _recording(duplicates: list[_Duplicate]) -> type[_Constructor]:
    # ruamel makes its own constructor object for each load: the list travels in a class.
    class _Recording(_Constructor):
        def check_mapping_key(
            self, node: Any, key_node: Any, mapping: Any, key: Any, value: Any
        ) -> bool:
            if key not in mapping:
                return True
            first = next(
                (k for k, _ in node.value if self.constructed_objects.get(k) == key), key_node
            )
            text = key_node.value if isinstance(key_node, ScalarNode) else str(key)
            duplicates.append((key_node, first, str(text)))
            return False  # the first copy stays

    return _Recording


def parser_name() -> str:
    """The parser class of the hot path: `CParser` when ruamel.yaml.clib is installed."""
    return str(_yaml(pure=False).Parser.__name__)


# --- positions ------------------------------------------------------------------------------


@dataclass
class _Text:
    """One YAML text and, composed only when a problem needs a position, its node tree."""

    display: str
    text: str
    _root: Node | None = field(default=None, init=False)
    _composed: bool = field(default=False, init=False)
    _index: dict[int, dict[str, Any]] = field(default_factory=dict, init=False)

    def root(self) -> Node | None:
        if not self._composed:
            self._composed = True
            for pure in (False, True):  # the C composer is 12x faster; the pure one reads all 1.2
                try:
                    self._root = _yaml(pure=pure).compose(self.text)
                    break
                except (YAMLError, RecursionError):
                    continue  # neither could: positions fall back to 1:1
        return self._root

    def position(
        self, location: Location, anchor: Anchor = Anchor.VALUE, within: int | None = None
    ) -> tuple[int, int]:
        """(line, column), 1-based, of what a location names; steps not in the file stop early.
        `within`: a character offset inside the text value there (a PQL syntax error)."""
        if anchor is Anchor.PARENT:
            location = location[:-1]
        node = self.root()
        if node is None:
            return 1, 1
        mark = node.start_mark
        for index, step in enumerate(location):
            if isinstance(node, MappingNode):
                pair = self._members(node).get(str(step))
                if pair is None:
                    break
                last = index == len(location) - 1
                mark = pair[0].start_mark if anchor is Anchor.KEY and last else pair[1].start_mark
                if _is_blank(pair[1]):  # `description:` with nothing after: its key is the place
                    mark = pair[0].start_mark
                node = pair[1]
            elif isinstance(node, SequenceNode) and isinstance(step, int):
                if not 0 <= step < len(node.value):
                    break
                node = node.value[step]
                mark = node.start_mark
            else:
                break
        else:
            if within is not None and isinstance(node, ScalarNode):
                return self._inside(node, within)
        return mark.line + 1, mark.column + 1

    def _inside(self, node: ScalarNode, offset: int) -> tuple[int, int]:
        """The position of a character of a scalar's text: exact for a one-line plain or
        quoted scalar (escapes aside) and for a literal block (`|`); else the scalar's start."""
        start, end = node.start_mark, node.end_mark
        if node.style in (None, "", '"', "'") and start.line == end.line:
            quoted = 1 if node.style in ('"', "'") else 0
            return start.line + 1, start.column + 1 + quoted + offset
        if node.style == "|":
            lines = self.text.splitlines()
            before = str(node.value)[:offset]
            row = before.count("\n")
            column = len(before) - (before.rfind("\n") + 1)
            first = start.line + 1  # the line after the `|` header
            if first + row < len(lines):
                content = lines[first]
                indent = len(content) - len(content.lstrip(" "))
                return first + row + 1, indent + column + 1
        return start.line + 1, start.column + 1

    def _members(self, node: MappingNode) -> dict[str, Any]:
        """A mapping node's (key, value) pairs by key, first copy first, built once per node:
        a file with 40,000 unknown keys has 40,000 problems to place, each in constant time."""
        index = self._index.get(id(node))
        if index is None:
            index = {}
            for pair in node.value:
                index.setdefault(str(pair[0].value), pair)
            self._index[id(node)] = index
        return index

    def problem(
        self,
        location: Location,
        message: str,
        anchor: Anchor = Anchor.VALUE,
        within: int | None = None,
    ) -> Problem:
        line, column = self.position(location, anchor, within)
        return Problem(self.display, line, column, message)


def _is_blank(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.value == "" and not node.style


# --- loading offers/ ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Loaded:
    text: _Text
    desired: Desired


@dataclass(frozen=True, slots=True)
class _Case:
    """A file of reconciler's own kinds (reconciler.cases): checked, never planned or sent."""

    text: _Text
    key: Key
    kind: str
    data: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Definitions:
    """Everything under offers/: the objects for Adobe, and the profiles and decision tests."""

    objects: tuple[Desired, ...]
    profiles: Mapping[Key, Profile]
    tests: tuple[cases.DecisionTest, ...]


def load(root: Path, sandboxes: Collection[str] | None = None) -> tuple[Desired, ...]:
    """Every object under root/offers, sorted by key; InvalidDocuments lists every problem.

    `sandboxes` names the sandboxes of reconciler.yaml: `overrides:` may name only those, and
    every sandbox's body is checked (None: no reconciler.yaml, override names unchecked)."""
    return load_all(root, sandboxes).objects


def load_all(root: Path, sandboxes: Collection[str] | None = None) -> Definitions:
    """`load`, with the profiles and decision tests (sorted by key) that offers/ also holds."""
    folder = root / "offers"
    if not folder.is_dir():
        raise ConfigError(
            f"no offers/ folder in {root}: run reconciler from the repository root or pass -C <root>"
        )
    if not offerfiles.within(os.path.realpath(folder), os.path.realpath(root)):
        raise ConfigError(
            f"offers/ in {root} is a symlink to {os.path.realpath(folder)}, outside the "
            "repository: definitions must be in it (a fork's pull request could point anywhere)"
        )
    problems: list[Problem] = []
    loaded: list[_Loaded] = []
    local: list[_Case] = []
    owners: dict[Key, str] = {}
    yaml = _yaml(pure=False)
    with memory.bulk():  # bulk loading only allocates: no collector passes over the heap
        for path in offerfiles.definition_files(folder, problems):
            relative = path.relative_to(folder)
            key = Key(relative.with_suffix("").as_posix())
            display = f"offers/{relative.as_posix()}"
            try:
                data = path.read_bytes()
            except OSError as error:  # it can vanish or break after the walk saw it
                problems.append(Problem(display, 1, 1, offerfiles.unreadable(path, error)))
                item = None
            else:
                item = _read(data, display, key, yaml, problems, sandboxes)
            if key in owners:
                problems.append(
                    Problem(
                        display,
                        1,
                        1,
                        f"{owners[key]} already defines the key {key}: "
                        "rename or delete one of the two files",
                    )
                )
            else:
                owners[key] = display
                if isinstance(item, _Case):
                    local.append(item)
                elif item is not None:
                    loaded.append(item)
        problems += _across_sandboxes(loaded, frozenset(owners), sandboxes)
        problems += _estate(loaded)
        problems += _case_problems(local, loaded, frozenset(owners))
    if problems:
        problems.sort(key=lambda p: (p.path, p.line, p.column, p.message))
        raise InvalidDocuments(tuple(problems))
    local.sort(key=lambda c: c.key)
    return Definitions(
        objects=tuple(sorted((item.desired for item in loaded), key=lambda d: d.key)),
        profiles={c.key: cases.profile_of(c.data) for c in local if c.kind == cases.PROFILE},
        tests=tuple(
            cases.test_of(c.key, c.text.display, c.data)
            for c in local
            if c.kind == cases.DECISION_TEST
        ),
    )


# --- reading one file -----------------------------------------------------------------------


def _read(
    data: bytes,
    display: str,
    key: Key,
    yaml: YAML,
    problems: list[Problem],
    sandboxes: Collection[str] | None = None,
) -> _Loaded | _Case | None:
    """One file's object, or None when it is not one (its problems are added either way)."""
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as error:
        problems.append(_not_utf8(display, data, error))
        return None
    source = _Text(display, text)
    too_deep = _too_deep(text)
    if too_deep is not None:
        problems.append(Problem(display, *too_deep, _TOO_DEEP))
        return None
    too_many = _too_many_aliased(text)
    if too_many is not None:
        problems.append(Problem(display, *too_many, _TOO_MANY_ALIASED))
        return None
    try:
        parsed, duplicates = _parse(text, yaml)
    except YAMLError as error:
        problems.append(_syntax_problem(source, error))
        return None
    except RecursionError:
        problems.append(Problem(display, 1, 1, _TOO_DEEP))
        return None
    except ValueError:  # an integer of more digits than Python converts (4,300)
        problems.append(Problem(display, 1, 1, _HUGE_NUMBER))
        return None
    problems += (_duplicate_problem(source, duplicate) for duplicate in duplicates)
    if not isinstance(parsed, dict):
        if parsed is None and source.root() is None:
            message = f"empty file: start it with kind: (one of {KINDS}) and the object's fields"
        else:
            message = f"the top level must be a mapping that starts with kind: (one of {KINDS})"
        problems.append(source.problem((), message))
        return None
    if "\\u" in text or "\\U" in text:  # only an escape can hold a lone UTF-16 surrogate
        lone = [source.problem(at, _SURROGATE) for at in _surrogates(parsed, ())]
        if lone:
            problems += lone
            return None
    kind_name = parsed.get("kind")
    if kind_name in cases.KINDS:
        return _case(source, key, str(kind_name), parsed, problems)
    if kind_name is None:
        problems.append(
            source.problem(("kind",), f"kind: missing: add kind: one of {KINDS}", Anchor.PARENT)
        )
        return None
    kind = next((k for k in Kind if k.value == kind_name), None)
    if kind is None:
        problems.append(
            source.problem(
                ("kind",), f"kind: {schema.got(kind_name)} is not a kind: use one of {KINDS}"
            )
        )
        return None
    # A file with problems still takes part in the checks across files: every problem of every
    # file shows in one run, and references to it are not reported as dangling.
    # With `overrides:`, the body of each sandbox is checked (reconciler.overrides).
    patches, issues = overrides.check(parsed, sandboxes, lambda body: _issues(kind, body))
    for issue in issues:
        problems.append(source.problem(issue.location, issue.message, issue.anchor, issue.within))
    # `{ref: key}` becomes a typed reference at the kind's reference fields, and only there.
    # `kind`, `protect` and `overrides` are reconciler's own: never sent to Adobe, never diffed.
    fields = {name: value for name, value in parsed.items() if name not in _OWN}
    body = graph.typed(kind, wire.structure(kind, {**kinds.spec(kind).fixed, **fields}))
    protect = parsed.get("protect") is True
    desired = Desired(key, kind, body, Source(display), protect=protect, overrides=patches)
    return _Loaded(source, desired)


_OWN = ("kind", "protect", overrides.FIELD)
_HUGE_NUMBER = (
    "a number of thousands of digits, more than any field can hold: shorten it, or quote it as text"
)


def _case(
    source: _Text, key: Key, kind: str, parsed: Mapping[str, Any], problems: list[Problem]
) -> _Case | None:
    """A profile or decision test, or None when it has problems (added to `problems`)."""
    issues = list(schema.check_model(cases.MODELS[kind], parsed))
    if not issues and kind == cases.DECISION_TEST:
        shape = cases.shape_issue(parsed)
        if shape is not None:
            issues.append(Issue(("kind",), shape, Anchor.PARENT))
    for issue in issues:
        problems.append(source.problem(issue.location, issue.message, issue.anchor, issue.within))
    return None if issues else _Case(source, key, kind, parsed)


def _case_problems(
    local: Sequence[_Case], loaded: Sequence[_Loaded], files: frozenset[Key]
) -> list[Problem]:
    """A decision test's decision, profile, placements and offers must be in offers/."""
    kinds_of = {item.desired.key: item.desired.kind for item in loaded}
    bodies = {item.desired.key: item.desired.body for item in loaded}
    profiles = frozenset(c.key for c in local if c.kind == cases.PROFILE)
    problems: list[Problem] = []
    for case in local:
        if case.kind == cases.DECISION_TEST:
            for issue in cases.reference_issues(case.data, kinds_of, bodies, profiles, files):
                problems.append(case.text.problem(issue.location, issue.message, issue.anchor))
    return problems


def _issues(kind: Kind, body: Mapping[str, Any]) -> Iterator[Issue]:
    """The schema's issues of one body, a field pasted from a GET response said as such."""
    for issue in schema.check(kind, body):
        if (
            issue.anchor is Anchor.KEY
            and len(issue.location) == 1
            and (issue.location[0] in kinds.SERVER_MANAGED)
        ):
            # Pasted from a GET response: the server owns these, and state/ keeps id and etag.
            message = f"{issue.location[0]}: set by the server, never in git: remove it"
            issue = Issue(issue.location, message, issue.anchor)
        yield issue


_SURROGATE = (
    "a UTF-16 surrogate escape (\\ud800 to \\udfff) is not text and cannot be sent: write the "
    "character itself, or its 8-digit escape (\\U0001F600)"
)


def _surrogates(value: Any, at: Location) -> Iterator[Location]:
    """Where strings (keys or values) hold a lone surrogate."""
    if isinstance(value, str):
        if any("\ud800" <= character <= "\udfff" for character in value):
            yield at
    elif isinstance(value, dict):
        for name, item in value.items():
            if isinstance(name, str) and any("\ud800" <= c <= "\udfff" for c in name):
                yield (*at, name)
            yield from _surrogates(item, (*at, name))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _surrogates(item, (*at, index))


def _not_utf8(display: str, data: bytes, error: UnicodeDecodeError) -> Problem:
    start = data.rfind(b"\n", 0, error.start) + 1
    line = data.count(b"\n", 0, error.start) + 1
    column = len(data[start : error.start].decode("utf-8", errors="replace")) + 1
    return Problem(
        display,
        line,
        column,
        f"not UTF-8 text (byte 0x{data[error.start]:02x}): save the file as UTF-8",
    )


_MAX_NESTING = 200
_TOO_DEEP = (
    f"nested more than {_MAX_NESTING} levels deep: no kind has fields that deep, "
    "remove the extra levels"
)


def _too_deep(text: str) -> tuple[int, int] | None:
    """Where the text first nests deeper than the parsers survive, or None.

    ruamel's C composer recurses without a limit (a crash near 30,000 levels) and the pure one
    raises RecursionError near 1,000. Every level costs a `[`, `{`, `-`, `?` or a line, so
    counting those rules nearly every file out at C speed; the rest are measured from parser
    events, which libyaml produces without recursion.
    """
    bound = sum(text.count(mark) for mark in "[{-?\n")
    if bound <= _MAX_NESTING:
        return None
    depth = 0
    try:
        for event in _yaml(pure=False).parse(text):
            if isinstance(event, CollectionStartEvent):
                depth += 1
                if depth > _MAX_NESTING:
                    return event.start_mark.line + 1, event.start_mark.column + 1
            elif isinstance(event, CollectionEndEvent):
                depth -= 1
    except YAMLError:
        return None  # parsing proper reports it, with the pure parser's exact position
    return None


_MAX_ALIASED = 10_000
_TOO_MANY_ALIASED = (
    f"with this alias, the aliases of the file repeat more than {_MAX_ALIASED:,} values (the "
    "limit): write the values out or use fewer aliases"
)


def _too_many_aliased(text: str) -> tuple[int, int] | None:
    """Where the values that aliases repeat first pass _MAX_ALIASED, or None.

    An alias shares its anchor's value, so nine anchors of nine aliases each load at once; but
    the schema checks and every JSON walk after them see the expanded tree, 9^9 values. One pass
    over the parser events counts that tree without building it: each anchor's expanded size
    is known when its value ends, and each alias adds the size of its anchor. Only a text with
    both `&` and `*` can hold an alias, so nearly every file skips this second parse.
    """
    if "&" not in text or "*" not in text:
        return None
    for pure in (False, True):  # libyaml refuses some YAML 1.2: then the pure parser counts
        try:
            return _first_alias_past_limit(_yaml(pure=pure).parse(text))
        except YAMLError:
            continue  # parsing proper reports it
    return None


def _first_alias_past_limit(events: Iterable[Event]) -> tuple[int, int] | None:
    sizes: dict[str, int] = {}  # anchor -> the number of values its value expands to
    starts: list[tuple[str | None, int]] = []  # open collections: anchor, values before it
    values = 0  # in the expanded tree so far
    repeated = 0  # of those, brought in by aliases
    for event in events:
        if isinstance(event, AliasEvent):
            size = sizes.get(event.anchor, 1)  # an anchor still open contains itself: 1
            values += size
            repeated += size
            if repeated > _MAX_ALIASED:
                return event.start_mark.line + 1, event.start_mark.column + 1
        elif isinstance(event, ScalarEvent):
            values += 1
            if event.anchor is not None:
                sizes[event.anchor] = 1
        elif isinstance(event, CollectionStartEvent):
            if event.anchor is not None:
                sizes.pop(event.anchor, None)  # a reused name: the new value counts from here
            starts.append((event.anchor, values))
            values += 1
        elif isinstance(event, CollectionEndEvent):
            anchor, before = starts.pop()
            if anchor is not None:
                sizes[anchor] = values - before
    return None


# A key found again in a mapping: its node, the node of its first copy, and its text.
_Duplicate = tuple[Node, Node, str]


def _parse(text: str, fast: YAML) -> tuple[Any, list[_Duplicate]]:
    """The text's single document, and every duplicate key in it.

    By the C parser, or when it refuses, by the pure one: libyaml scans YAML 1.1, which refuses
    some YAML 1.2 text such as `{filter: dps:offer-filter:1}` (a colon inside a flow scalar); the
    pure parser is the judge, and its marks name exact columns. A duplicate key stops ruamel at
    the first one, which would hide the file's other problems: such a text is loaded again,
    keeping the first copy of each key (the copy that problems are located at) and recording
    the others.
    """
    try:
        return fast.load(text), []
    except DuplicateKeyError:
        pass  # keys are checked once the whole text is composed: libyaml read all of it
    except YAMLError:
        try:
            return _yaml(pure=True).load(text), []
        except DuplicateKeyError:
            pass
    duplicates: list[_Duplicate] = []
    try:
        return _yaml(pure=False, duplicates=duplicates).load(text), duplicates
    except YAMLError:
        duplicates.clear()
        return _yaml(pure=True, duplicates=duplicates).load(text), duplicates


def _syntax_problem(source: _Text, error: YAMLError) -> Problem:
    """A YAML error as one line at its position, saying what to do."""
    if isinstance(error, ReaderError):
        before = source.text[: error.position]
        line, column = before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1
        character = error.character if isinstance(error.character, int) else 0
        message = f"the control character U+{character:04X} is not allowed in YAML: remove it"
        return Problem(source.display, line, column, message)
    if not isinstance(error, MarkedYAMLError):
        return Problem(source.display, 1, 1, f"invalid YAML: {' '.join(str(error).split())}")
    mark = error.problem_mark
    problem = " ".join((error.problem or error.context or "invalid YAML").split())
    if isinstance(error, DuplicateKeyError):
        name, first = _duplicate(source, mark)
        return _at(
            source,
            mark,
            f'duplicate key "{name}" (first on line {first}): a key may appear once in a '
            "mapping: keep one",
        )
    if "another document" in problem or "single document" in str(error):
        return _at(source, mark, "several documents in one file: keep one object per file")
    if "\\t" in problem or re.search(r"\btab", problem):
        return _at(source, mark, f"a tab where YAML expects spaces: indent with spaces ({problem})")
    if isinstance(error, ConstructorError) and problem.startswith("the tag"):
        return _at(source, mark, problem)
    context = ""
    if error.context and _before(error.context_mark, mark):
        context = f" ({error.context} on line {error.context_mark.line + 1})"
    return _at(source, mark, f"invalid YAML: {problem}{context}")


def _before(first: Any, second: Any) -> bool:
    """True when a context mark is on an earlier line than the problem: worth naming."""
    return first is not None and (second is None or first.line < second.line)


def _at(source: _Text, mark: Any, message: str) -> Problem:
    line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    return Problem(source.display, line, column, message)


def _duplicate_problem(source: _Text, duplicate: _Duplicate) -> Problem:
    again, first, name = duplicate
    return _at(
        source,
        again.start_mark,
        f'duplicate key "{name}" (first on line {first.start_mark.line + 1}): a key may appear '
        "once in a mapping: keep one",
    )


def _duplicate(source: _Text, mark: Any) -> tuple[str, int]:
    """The key found twice, whose second copy is at mark, and the line of its first copy."""
    pending = [source.root()]
    seen: set[int] = set()  # an alias can make a node its own descendant
    while pending and mark is not None:
        node = pending.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, MappingNode):
            keys = [key for key, _ in node.value]
            for key in keys:
                if (key.start_mark.line, key.start_mark.column) == (mark.line, mark.column):
                    first = next(other for other in keys if other.value == key.value)
                    return str(key.value), int(first.start_mark.line) + 1
            pending += [value for _, value in node.value]
        elif isinstance(node, SequenceNode):
            pending += node.value
    return "?", 0


# --- checks across files --------------------------------------------------------------------


def _across_files(loaded: list[_Loaded], files: frozenset[Key]) -> list[Problem]:
    """Names unique per kind, references that resolve to an object of the right kind, no cycles.

    `files` holds every key with a file, including files too broken to hold an object: a
    reference to one of those is not dangling (the file's own problem is reported).
    """
    problems = list(_name_clashes(loaded))
    by_key = {item.desired.key: item for item in loaded}
    for item in loaded:
        problems += _reference_problems(item, by_key, files)
    problems += _cycle_problems(loaded, by_key)
    return problems


def _estate(loaded: list[_Loaded]) -> list[Problem]:
    """Adobe's sandbox-wide guardrails (reconciler.guardrails), each at the file where it breaks."""
    by_key = {item.desired.key: item for item in loaded}
    objects = ((item.desired.key, item.desired.kind, item.desired.body) for item in loaded)
    return [
        by_key[key].text.problem(issue.location, issue.message, issue.anchor)
        for key, issue in guardrails.estate(objects)
    ]


def positions(
    root: Path, display: str, places: Iterable[tuple[Location, Anchor]]
) -> list[tuple[int, int]]:
    """(line, column) of each place in the definition file `display` (offers/...) under root,
    as its problems are located; 1:1 for each when the file cannot be read or parsed."""
    places = list(places)
    try:
        text = (root / display).read_bytes().decode("utf-8").removeprefix("\ufeff")
    except (OSError, UnicodeDecodeError):
        return [(1, 1)] * len(places)
    source = _Text(display, text)
    return [source.position(location, anchor) for location, anchor in places]


def _across_sandboxes(
    loaded: list[_Loaded], files: frozenset[Key], sandboxes: Collection[str] | None
) -> list[Problem]:
    """_across_files for the bodies as written and for each sandbox an override names: each
    problem once, naming its sandboxes unless every sandbox has it."""
    base = _across_files(loaded, files)
    named = sorted({name for item in loaded for name in item.desired.overrides})
    if not named:
        return base
    runs = {
        name: _across_files([_in_sandbox(item, name) for item in loaded], files) for name in named
    }
    return [
        Problem(found.path, found.line, found.column, overrides.labeled(found.message, label))
        for found, label in overrides.per_sandbox(base, runs, sandboxes)
    ]


def _in_sandbox(item: _Loaded, sandbox: str) -> _Loaded:
    patch = item.desired.overrides.get(sandbox)
    if patch is None:
        return item
    text = _InSandbox(item.text, item.desired.body, patch, sandbox)
    return _Loaded(text, overrides.resolve(item.desired, sandbox))


class _InSandbox(_Text):
    """A file as one sandbox reads it: a problem with a value its override wrote is placed there."""

    def __init__(
        self, text: _Text, body: Mapping[str, JsonValue], patch: JsonObject, sandbox: str
    ) -> None:
        super().__init__(text.display, text.text)
        self._text, self._body, self._patch, self._sandbox = text, body, patch, sandbox

    def problem(
        self,
        location: Location,
        message: str,
        anchor: Anchor = Anchor.VALUE,
        within: int | None = None,
    ) -> Problem:
        location, anchor = overrides.located(
            self._body, self._patch, self._sandbox, location, anchor
        )
        return self._text.problem(location, message, anchor, within)


def _name_clashes(loaded: list[_Loaded]) -> Iterator[Problem]:
    """A name used by several objects of one kind, at each of them, naming the others."""
    named: dict[tuple[Kind, str], list[_Loaded]] = {}
    for item in loaded:
        name = name_of(item.desired.kind, item.desired.body)
        if name is not None:
            named.setdefault((item.desired.kind, name), []).append(item)
    for (kind, name), items in named.items():
        if len(items) < 2:
            continue
        for item in items:
            others = [other.text.display for other in items if other is not item]
            if len(others) == 1:
                where, fix = f"{kind.value} in {others[0]}", "rename one"
            else:
                listed = f"{', '.join(others[:-1])} and {others[-1]}"
                where, fix = f"{kind.value}s in {listed}", "rename all but one"
            where_name = name_path(kind)
            yield item.text.problem(
                where_name,
                f"{'.'.join(where_name)}: {schema.got(name)} is also the name of the {where}: names are unique "
                f"per kind (an interrupted create is found again by its name): {fix}",
            )


def _reference_problems(
    item: _Loaded, by_key: Mapping[Key, _Loaded], files: frozenset[Key]
) -> Iterator[Problem]:
    desired = item.desired
    for reference in kinds.references(desired.kind, desired.body):
        allowed = " or ".join(sorted(kind.value for kind in reference.targets))
        where = dotted(reference.path)
        target_key = graph.ref_key(reference.value)
        if target_key is not None:
            target = by_key.get(target_key)
            if target is None and target_key in files:
                continue  # its file is there but broken: that file's problem says why
            if target is None:
                hint = _dangling_hint(target_key, reference.targets, by_key)
                message = f"{where}: no file defines the key {target_key}: {hint}"
            elif target.desired.kind not in reference.targets:
                message = (
                    f"{where}: {target_key} is {_a(target.desired.kind.value)}, but this field "
                    f"takes {_a(allowed)}: reference {_a(allowed)}"
                )
            else:
                continue
            yield item.text.problem(reference.path, message)
        elif isinstance(reference.value, str):
            literal = reference.value
            named = kinds.kinds_of_id(literal)
            if named and not set(named) & reference.targets:
                yield item.text.problem(
                    reference.path,
                    f"{where}: {literal} is the id of {_a(named[0].value)}, but this field takes "
                    f"{_a(allowed)}: use the id of {_a(allowed)}",
                )
            elif Key(literal) in by_key:
                yield item.text.problem(
                    reference.path,
                    f"{where}: {literal} is the key of {by_key[Key(literal)].text.display}, not an "
                    f"Adobe id: write {{ref: {literal}}}",
                )


def _dangling_hint(key: Key, targets: frozenset[Kind], by_key: Mapping[Key, _Loaded]) -> str:
    for candidate in (key.removesuffix(".yaml").removesuffix(".yml"), key.removeprefix("offers/")):
        if candidate != key and Key(candidate) in by_key:
            return (
                f"write {{ref: {candidate}}} (a key is the path under offers/ without the suffix)"
            )
    fitting = sorted(k for k, item in by_key.items() if item.desired.kind in targets)
    close = difflib.get_close_matches(key, fitting, n=1, cutoff=0.85)
    if close:
        return f"did you mean {close[0]}?"
    return f"fix the key or add offers/{key}.yaml"


def _cycle_problems(loaded: list[_Loaded], by_key: Mapping[Key, _Loaded]) -> list[Problem]:
    """A cycle along references that are otherwise right (dangling and wrong-kind ones are
    reported already), at the place of one of its references.

    The kinds' references only point down (offers to placements, decisions to collections...), so
    no cycle can form today; the check keeps it that way if the catalog of kinds grows.
    """
    edges: dict[Key, dict[Key, Location]] = {}
    for item in loaded:
        for reference in kinds.references(item.desired.kind, item.desired.body):
            target = by_key.get(graph.ref_key(reference.value) or Key(""))
            if target is not None and target.desired.kind in reference.targets:
                edges.setdefault(item.desired.key, {}).setdefault(
                    target.desired.key, reference.path
                )
    found = reference_cycle(edges)
    if found is None:
        return []
    key, location, message = found
    return [by_key[key].text.problem(location, message)]


def reference_cycle(
    edges: Mapping[Key, Mapping[Key, Location]],
) -> tuple[Key, Location, str] | None:
    """A cycle among references (key -> the keys it names, each at a location in its file):
    the file to report it in, the reference's location there, and the message."""
    cycle = graph.find_cycle({key: sorted(targets) for key, targets in edges.items()})
    if cycle is None:
        return None
    order = tuple(reversed(cycle))  # graphlib lists each key before the key that refers to it
    for key, target in itertools.pairwise(order):
        if target in edges.get(key, {}):
            location = edges[key][target]
            start = order.index(key)
            shown = (*order[start:-1], *order[:start], key)
            return (
                key,
                location,
                (
                    f"{dotted(location)}: reference cycle {' -> '.join(shown)}: "
                    "remove one of these references"
                ),
            )
    return None


# --- reconciler.yaml ------------------------------------------------------------------------


def read_mapping(
    path: Path, *, display: str
) -> tuple[dict[str, JsonValue], Callable[[Location], tuple[int, int]]]:
    """A small YAML mapping file (reconciler.yaml) and a locator of its paths."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ConfigError(f"{display}: cannot be read ({error.strerror})") from None
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as error:
        raise ConfigError(str(_not_utf8(display, data, error))) from None
    source = _Text(display, text)
    too_deep = _too_deep(text)
    if too_deep is not None:
        raise ConfigError(str(Problem(display, *too_deep, _TOO_DEEP)))
    too_many = _too_many_aliased(text)
    if too_many is not None:
        raise ConfigError(str(Problem(display, *too_many, _TOO_MANY_ALIASED)))
    try:
        parsed, duplicates = _parse(text, _yaml(pure=False))
    except YAMLError as error:
        raise ConfigError(str(_syntax_problem(source, error))) from None
    except ValueError:
        raise ConfigError(f"{display}:1:1: {_HUGE_NUMBER}") from None
    if duplicates:
        raise ConfigError(str(_duplicate_problem(source, duplicates[0])))
    if not isinstance(parsed, dict):
        raise ConfigError(f"{display}:1:1: the top level must be a mapping (default:, sandboxes:)")
    return parsed, source.position


# --- writing definitions (import) -----------------------------------------------------------


def render_yaml(
    key: Key, kind: Kind, body: Mapping[str, JsonValue], *, comment: str | None = None
) -> str:
    """A definition file's text: the schema comment (then `comment`, if any), kind:, then the
    body in block style.

    `{ref: key}` references stay flow mappings and text with line breaks becomes a literal
    block; `load` reads the text back to exactly `body`.
    """
    depth = len(key.split("/"))
    header = f"# yaml-language-server: $schema={'../' * depth}{SCHEMA_FILE}\n"
    if comment is not None:
        header += f"# {comment}\n"
    document = CommentedMap({"kind": kind.value})
    for name, value in body.items():
        document[name] = roundtrip.styled(value)
    yaml = YAML(typ="rt")
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    out = io.StringIO()
    yaml.dump(document, out)
    return header + out.getvalue()


def write_definition(root: Path, key: Key, kind: Kind, body: Mapping[str, JsonValue]) -> Path:
    """Write offers/KEY.yaml (refusing to overwrite an existing file)."""
    path = root / "offers" / f"{key}.yaml"
    if path.exists() or path.with_suffix(".yml").exists():
        raise ConfigError(f"offers/{key}.yaml already exists: choose another key")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_yaml(key, kind, body), encoding="utf-8")
    return path


def _a(noun: str) -> str:
    """The noun with its indefinite article: a tag, an eligibility-rule."""
    return f"{'an' if noun[:1] in 'aeiou' else 'a'} {noun}"
