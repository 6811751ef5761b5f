"""offers/**/*.yaml -> desired objects, with every problem located at file:line:column.

The only module that imports ruamel.yaml. The hot path parses with ruamel's fastest loader
(`typ="safe"` on the C extension, YAML 1.2, timestamps kept as the strings written); only a file
with a problem is composed again, in pure Python, to find the line and column of each problem.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, SequenceNode

from reconciler import graph, kinds, schema
from reconciler.errors import ConfigError, InvalidDocuments
from reconciler.model import Desired, JsonValue, Key, Kind, Problem, Source

SUFFIXES = (".yaml", ".yml")
SCHEMA_FILE = "reconciler/offers.schema.json"
_KINDS = ", ".join(kind.value for kind in Kind)
Location = tuple[str | int, ...]


def _loader(*, pure: bool) -> YAML:
    yaml = YAML(typ="safe", pure=pure)
    yaml.version = (1, 2)  # `no` stays a string
    # Dates stay exactly the strings written: the API stores them as sent.
    yaml.constructor.add_constructor(
        "tag:yaml.org,2002:timestamp", lambda constructor, node: constructor.construct_scalar(node)
    )
    return yaml


@dataclass
class _File:
    """One definition file: where it is, its text, and (lazily) its node tree for positions."""

    path: Path
    display: str
    text: str
    _root: Node | None = field(default=None, init=False)

    def locate(self, location: Location, *, key: bool = False) -> tuple[int, int]:
        """(line, column), 1-based, of the value at location (or of its key, with key=True).

        Steps that do not match the tree (a missing member, say) stop at the deepest node found.
        """
        if self._root is None:
            self._root = _loader(pure=True).compose(self.text)
        node = self._root
        mark = node.start_mark if node is not None else None
        for step in location:
            if isinstance(node, MappingNode) and isinstance(step, str):
                found = next((pair for pair in node.value if pair[0].value == step), None)
                if found is None:
                    break
                mark = found[0].start_mark if key and step == location[-1] else found[1].start_mark
                node = found[1]
            elif isinstance(node, SequenceNode) and isinstance(step, int):
                if not 0 <= step < len(node.value):
                    break
                node = node.value[step]
                mark = node.start_mark
            else:
                continue  # a step pydantic adds (a union branch), not a place in the file
        if mark is None:
            return 1, 1
        return mark.line + 1, mark.column + 1

    def problem(self, location: Location, message: str, *, key: bool = False) -> Problem:
        line, column = self.locate(location, key=key)
        return Problem(self.display, line, column, message)


def load(root: Path) -> tuple[Desired, ...]:
    """Every object under root/offers, sorted by key; InvalidDocuments lists all problems."""
    if not (root / "offers").is_dir():
        raise ConfigError(
            f"no offers/ folder in {root}: run reconciler from the repository root or pass -C <root>"
        )
    problems: list[Problem] = []
    loaded: list[tuple[_File, Desired]] = []
    fast = _loader(pure=False)
    seen: dict[Key, str] = {}
    for path in _definition_files(root / "offers"):
        relative = path.relative_to(root / "offers")
        key = Key(relative.with_suffix("").as_posix())
        display = (Path("offers") / relative).as_posix()
        if key in seen:
            problems.append(
                Problem(
                    display, 1, 1, f"{seen[key]} already defines the key {key}: rename one of them"
                )
            )
            continue
        seen[key] = display
        item = _read(path, display, key, fast, problems)
        if item is not None:
            loaded.append(item)
    problems += _across_files(loaded)
    if problems:
        problems.sort(key=lambda p: (p.path, p.line, p.column))
        raise InvalidDocuments(tuple(problems))
    return tuple(sorted((desired for _, desired in loaded), key=lambda d: d.key))


def _definition_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*") if p.suffix in SUFFIXES and p.is_file())


def _read(
    path: Path, display: str, key: Key, fast: YAML, problems: list[Problem]
) -> tuple[_File, Desired] | None:
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        before = data[: error.start]
        line = before.count(b"\n") + 1
        column = error.start - (before.rfind(b"\n") + 1) + 1
        problems.append(Problem(display, line, column, "not UTF-8 text: save the file as UTF-8"))
        return None
    text = text.removeprefix("\ufeff")
    source = _File(path, display, text)
    try:
        parsed = fast.load(text)
    except YAMLError:
        problems.append(_syntax_problem(source))
        return None
    if parsed is None:
        problems.append(Problem(display, 1, 1, f"empty file: give it a kind ({_KINDS}) and fields"))
        return None
    if not isinstance(parsed, dict):
        problems.append(
            source.problem((), f"the top level must be a mapping starting with kind: ({_KINDS})")
        )
        return None
    kind_name = parsed.get("kind")
    if kind_name is None:
        problems.append(Problem(display, 1, 1, f"missing kind: add kind: one of {_KINDS}"))
        return None
    try:
        kind = Kind(kind_name)
    except ValueError:
        problems.append(
            source.problem(("kind",), f"kind: {kind_name!r} is not a kind: use one of {_KINDS}")
        )
        return None
    # Even a file with problems takes part in the checks across files, so that every problem
    # of every file shows in one run and references to it are not reported as dangling.
    problems += _shape_problems(source, kind, parsed)
    body = {name: value for name, value in parsed.items() if name != "kind"}
    return source, Desired(key, kind, body, Source(display))


def _syntax_problem(source: _File) -> Problem:
    """A YAML error re-read by the pure-Python parser, whose marks carry exact columns."""
    try:
        _loader(pure=True).load(source.text)
    except MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        message = (error.problem or error.context or "invalid YAML").strip()
        if "duplicate key" in message:
            message = message.split(" with value")[0] + ": each key may appear once in a mapping"
        elif "another document" in message or "expected a single document" in str(error):
            message = "several documents in one file: put one object per file"
        elif "\\t" in message or "tab" in message.lower():
            message = f"{message}: indent with spaces, not tabs"
        else:
            message = f"invalid YAML: {message}"
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        return Problem(source.display, line, column, message)
    except YAMLError as error:
        return Problem(source.display, 1, 1, f"invalid YAML: {error}")
    return Problem(source.display, 1, 1, "invalid YAML")


def _shape_problems(source: _File, kind: Kind, data: dict[str, Any]) -> Iterator[Problem]:
    """Nulls, then the model's complaints, then the rules across fields: all of them."""
    nulls = list(_nulls(data, ()))
    for location in nulls:
        yield source.problem(
            location,
            f"{_dotted(location)}: null is not a value here: give it one or remove the line",
        )
    try:
        schema.MODELS[kind].model_validate(data)
    except ValidationError as invalid:
        for error in invalid.errors(include_url=False):
            location = tuple(error["loc"])
            if location in nulls:
                continue
            yield _model_problem(source, kind, location, error)
    for location, message in schema.semantic_problems(kind, data):
        yield source.problem(location, f"{_dotted(location)}: {message}")


def _model_problem(
    source: _File, kind: Kind, location: Location, error: Mapping[str, Any]
) -> Problem:
    kind_of_error = error["type"]
    where = _dotted(location)
    if kind_of_error == "missing":
        parent = location[:-1]
        holder = f" in {_dotted(parent)}" if parent else ""
        return source.problem(parent, f"missing required field {location[-1]}{holder}")
    if kind_of_error == "extra_forbidden":
        fields = _fields_at(kind, location[:-1])
        hint = f" (fields here: {', '.join(fields)})" if fields else ""
        return source.problem(
            location, f"{where}: unknown field: remove it or fix its spelling{hint}", key=True
        )
    if kind_of_error == "literal_error":
        expected = str(error["ctx"]["expected"]).replace("'", "").replace(" or ", ", ")
        return source.problem(
            location, f"{where}: {_got(error)} is not allowed: expected one of {expected}"
        )
    message = str(error["msg"]).removeprefix("Value error, ")
    message = message[0].lower() + message[1:]
    return source.problem(location, f"{where}: {message}{_got_suffix(error)}")


def _got(error: Mapping[str, Any]) -> str:
    value = error.get("input")
    return (
        json.dumps(value)
        if isinstance(value, (str, int, float, bool))
        else "a " + _yaml_type(value)
    )


def _got_suffix(error: Mapping[str, Any]) -> str:
    value = error.get("input")
    if isinstance(value, (str, int, float, bool)):
        return f" (got {json.dumps(value)})"
    return f" (got a {_yaml_type(value)})"


def _yaml_type(value: object) -> str:
    return "mapping" if isinstance(value, dict) else "list" if isinstance(value, list) else "null"


def _fields_at(kind: Kind, location: Location) -> list[str]:
    """The fields the model accepts at a place in the document (to suggest a spelling)."""
    model: Any = schema.MODELS[kind]
    for step in location:
        if isinstance(step, int):
            continue
        info = getattr(model, "model_fields", {}).get(step)
        if info is None:
            return []
        model = _model_in(info.annotation)
        if model is None:
            return []
    return sorted((info.alias or name) for name, info in getattr(model, "model_fields", {}).items())


def _model_in(annotation: Any) -> Any:
    if isinstance(annotation, type) and hasattr(annotation, "model_fields"):
        return annotation
    for argument in getattr(annotation, "__args__", ()) or ():
        found = _model_in(argument)
        if found is not None:
            return found
    for argument in getattr(annotation, "__metadata__", ()) or ():
        found = _model_in(argument)
        if found is not None:
            return found
    origin = getattr(annotation, "__origin__", None)
    return (
        _model_in(origin) if origin not in (None, list, dict) and origin is not annotation else None
    )


def _nulls(value: Any, location: Location) -> Iterator[Location]:
    if value is None:
        yield location
    elif isinstance(value, dict):
        for name, item in value.items():
            yield from _nulls(item, (*location, name))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _nulls(item, (*location, index))


def _across_files(loaded: list[tuple[_File, Desired]]) -> list[Problem]:
    """Names unique per kind, references that resolve to the right kind, no cycles."""
    problems: list[Problem] = []
    by_key = {desired.key: desired for _, desired in loaded}
    first_named: dict[tuple[Kind, str], str] = {}
    for source, desired in loaded:
        identity = (desired.kind, desired.name)
        if identity in first_named:
            problems.append(
                source.problem(
                    ("name",),
                    f"name: {desired.name!r} is already the name of a {desired.kind.value} in "
                    f"{first_named[identity]}: names are unique per kind (they find interrupted "
                    "creates)",
                )
            )
        else:
            first_named[identity] = source.display
        problems += _reference_problems(source, desired, by_key)
    # Edges only along references that are otherwise right; each remembers where it is written.
    files = {desired.key: source for source, desired in loaded}
    edges: dict[Key, dict[Key, Location]] = {}
    for _, desired in loaded:
        for reference in kinds.references(desired.kind, desired.body):
            target = by_key.get(graph.ref_key(reference.value) or Key(""))
            if target is not None and target.kind in reference.targets:
                edges.setdefault(desired.key, {}).setdefault(target.key, reference.path)
    cycle = graph.find_cycle({key: sorted(targets) for key, targets in edges.items()})
    if cycle is not None:
        first, second = cycle[0], cycle[1]
        problems.append(
            files[first].problem(
                edges[first][second], f"reference cycle: {' -> '.join(cycle)}: break it"
            )
        )
    return problems


def _reference_problems(
    source: _File, desired: Desired, by_key: Mapping[Key, Desired]
) -> Iterator[Problem]:
    for reference in kinds.references(desired.kind, desired.body):
        allowed = " or ".join(sorted(kind.value for kind in reference.targets))
        where = _dotted(reference.path)
        target_key = graph.ref_key(reference.value)
        if target_key is not None:
            target = by_key.get(target_key)
            if target is None:
                yield source.problem(
                    reference.path,
                    f"{where}: no file defines {target_key} (offers/{target_key}.yaml): "
                    "fix the key or add the file",
                )
            elif target.kind not in reference.targets:
                yield source.problem(
                    reference.path,
                    f"{where}: {target_key} is a {target.kind.value}, but this field takes a {allowed}",
                )
        elif isinstance(reference.value, str):
            named = kinds.kind_of_id(reference.value)
            if named is not None and named not in reference.targets:
                yield source.problem(
                    reference.path,
                    f"{where}: {reference.value} is the id of a {named.value}, but this field "
                    f"takes a {allowed}",
                )


def _dotted(location: Iterable[str | int]) -> str:
    out = ""
    for step in location:
        if isinstance(step, int):
            out += f"[{step}]"
        else:
            out += f".{step}" if out else str(step)
    return out or "top level"


# --- reconciler.yaml ------------------------------------------------------------------------


def read_mapping(
    path: Path, *, display: str
) -> tuple[dict[str, JsonValue], Callable[[Location], tuple[int, int]]]:
    """A small YAML mapping file (reconciler.yaml) and a locator of its paths."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{display}: cannot be read ({error})") from None
    source = _File(path, display, text)
    try:
        data = _loader(pure=False).load(text)
    except YAMLError:
        raise ConfigError(str(_syntax_problem(source))) from None
    if not isinstance(data, dict):
        raise ConfigError(f"{display}:1:1: the top level must be a mapping (default:, sandboxes:)")
    return data, source.locate


# --- writing definitions (import) -----------------------------------------------------------


def slug(text: str) -> str:
    """A file-name-safe form of a name: `Summer Sale 60%` -> `summer-sale-60`."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60].strip("-") or "object"


def render_yaml(key: Key, kind: Kind, body: Mapping[str, JsonValue]) -> str:
    """A definition file's text: the schema comment, kind:, then the body in block style."""
    depth = len(key.split("/"))
    header = f"# yaml-language-server: $schema={'../' * depth}{SCHEMA_FILE}\n"
    document = CommentedMap({"kind": kind.value})
    for name, value in body.items():
        document[name] = _styled(value)
    yaml = YAML(typ="rt")
    yaml.version = None
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


def _styled(value: JsonValue) -> Any:
    if graph.ref_key(value) is not None:
        flow = CommentedMap(value)
        flow.fa.set_flow_style()
        return flow
    if isinstance(value, dict):
        block = CommentedMap()
        for name, item in value.items():
            block[name] = _styled(item)
        return block
    if isinstance(value, list):
        return [_styled(item) for item in value]
    return value
