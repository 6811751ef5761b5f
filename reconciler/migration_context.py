"""Pure: what every converter reads (the new key and name of each legacy object, the tenant)
and collects (problems), with the steps converters share."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field

from reconciler.migration_body import at, ref
from reconciler.migration_model import Output
from reconciler.migration_naming import Target
from reconciler.migration_row import NO_AUDIENCES
from reconciler.model import Desired, JsonValue, Key, Ref


@dataclass
class Context:
    """The estate by key, the planned definitions of every legacy object, the tenant, and the
    problems converters find (all of them are reported at once, and nothing is written)."""

    by_key: Mapping[Key, Desired]
    targets: Mapping[Key, tuple[Target, ...]]
    tenant: str
    problems: list[str] = field(default_factory=list)

    def file(self, key: Key) -> str:
        item = self.by_key.get(key)
        return item.source.path if item is not None and item.source.path else f"offers/{key}.yaml"

    def problem(self, item: Desired, where: str, message: str) -> None:
        self.problems.append(f"{self.file(item.key)}: {where}: {message}")

    def name(self, key: Key) -> str:
        return self.by_key[key].name

    def target(self, key: Key) -> Target:
        return self.targets[key][0]


Result = tuple[list[Output], list[str]]


def copied(value: JsonValue) -> JsonValue:
    return copy.deepcopy(value)


def described(target: Target, body: Mapping[str, JsonValue]) -> dict[str, JsonValue]:
    out: dict[str, JsonValue] = {"name": target.name}
    if "description" in body:
        out["description"] = copied(body["description"])
    return out


def rule_reference(item: Desired, where: str, value: JsonValue, context: Context) -> Ref | None:
    key = ref(value)
    if key is None:
        context.problem(
            item,
            where,
            f"the literal id {value!r} names a rule this repository does not define, so its "
            "migrated rule is unknown: define the rule here ({ref: <key>}) or import it first",
        )
        return None
    return Ref(context.target(key).key)


def no_audiences(item: Desired, where: str, constraint: object, context: Context) -> bool:
    chosen = at(constraint, "profileConstraintType")
    if chosen in ("anySegments", "allSegments"):
        context.problem(item, where, f"profileConstraintType {chosen}: {NO_AUDIENCES}")
        return False
    return True
