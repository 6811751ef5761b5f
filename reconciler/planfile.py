"""Saved plans (`plan --out`, `apply plan.json`) and the versioned JSON plan format.

A saved plan carries, per change, the documents it was derived from (git's body, the live
payload the plan saw, the last-applied body, the goal) and the patch that follows from them:
the `test` preconditions (in `test` mode) then the operations, each operation with the value it
replaces and whose edit it reverts. Reading a plan derives the patch again from its documents
and refuses the file when the two disagree, so what apply sends is always what the plan shows.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from reconciler import diff, graph, threeway
from reconciler.errors import PatchBug, PlanFileError
from reconciler.model import (
    Action,
    Attribution,
    Change,
    Etag,
    Ignored,
    JsonValue,
    Key,
    Kind,
    ObjectId,
    Op,
    Orphan,
    PatchOp,
    Plan,
    Preconditions,
    Reason,
    json_default,
)

FORMAT_VERSION = 2
CREATED = "created_at"
"""When `plan --out` saved the plan (UTC, ISO 8601): `apply --max-age` reads it. Not part of
the plan's content (its digest), and absent from plans saved before it was recorded."""


def to_json(plan: Plan) -> dict[str, JsonValue]:
    """The documented JSON plan (format_version 2)."""
    return {
        "format_version": FORMAT_VERSION,
        "sandbox": plan.sandbox,
        "org": plan.org,
        "endpoint": plan.endpoint,
        "state": {"lineage": plan.lineage, "serial": plan.serial},
        "prune": plan.prune,
        "preconditions": plan.preconditions.value,
        "changes": [_change_json(change, plan.preconditions) for change in plan.changes],
        "orphans": [
            {
                "key": o.key,
                "kind": o.kind.value,
                "id": o.id,
                **({"protected": True} if o.protected else {}),
            }
            for o in plan.orphans
        ],
        "ignored": [
            {
                "key": i.key,
                "kind": i.kind.value,
                "path": i.path,
                "desired": i.desired,
                **({"live": i.live} if i.live_present else {}),
            }
            for i in plan.ignored
        ],
        "summary": {
            **{action.value: plan.count(action) for action in Action},
            "unchanged": plan.unchanged,
            "hidden": plan.hidden,
            "orphans": len(plan.orphans),
            "ignored": len(plan.ignored),
        },
    }


def dumps(plan: Plan) -> str:
    """Deterministic JSON text of a plan (sorted keys, 2-space indent, trailing newline)."""
    text = json.dumps(
        to_json(plan), indent=2, sort_keys=True, ensure_ascii=False, default=json_default
    )
    return text + "\n"


def digest(plan: Plan) -> str:
    """A fingerprint of a plan's content: state remembers the last one apply started on."""
    compact = json.dumps(
        to_json(plan),
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
        default=json_default,
    )
    return hashlib.sha256(compact.encode("utf-8")).hexdigest()


def write(path: Path, plan: Plan, *, created: str | None = None) -> None:
    """Save a plan atomically, with the time it was made; a folder that does not exist is one
    clear line."""
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise PlanFileError(
            f"{path}: the folder {folder} does not exist: create it or choose another"
        )
    text = dumps(plan)
    if created is not None:
        document = json.loads(text)
        document[CREATED] = created
        text = json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as error:
        raise PlanFileError(f"{path}: cannot write the plan ({error.strerror})") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as error:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise PlanFileError(f"{path}: cannot write the plan ({error.strerror})") from None


def read(path: Path) -> Plan:
    """Load a saved plan; anything unreadable or inconsistent is one clear line."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PlanFileError(
            f"{path}: no such plan file: create it with `reconciler plan --out {path}`"
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise PlanFileError(f"{path}: not a reconciler plan ({error})") from None
    version = document.get("format_version") if isinstance(document, dict) else None
    if version != FORMAT_VERSION:
        raise PlanFileError(
            f"{path}: plan format_version {version!r} is not {FORMAT_VERSION}, the one this "
            "reconciler reads: plan again with this version"
        )
    try:
        return _plan(document, path)
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise PlanFileError(f"{path}: malformed plan ({error}): plan again") from None


# --- age ----------------------------------------------------------------------------------

_DURATION = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")
_PARTS = re.compile(r"(?:\d+[smhd])+")
_UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def parse_duration(text: str) -> datetime.timedelta:
    """`90m`, `24h`, `2d` or `1d12h` (s, m, h, d; each unit once, the largest first) as a
    positive timedelta; ValueError saying what is wrong for anything else (`2h2h`, `30m1h`)."""
    found = _DURATION.fullmatch(text)
    if found is None or not text:
        if text and _PARTS.fullmatch(text):
            units = re.findall(r"[smhd]", text)
            twice = next((unit for unit in _UNITS if units.count(unit) > 1), None)
            what = f"names {twice} twice" if twice else "puts a smaller unit first"
            raise ValueError(
                f"{text!r} {what}: write each unit once, the largest first, such as 1d12h or 1h30m"
            )
        raise ValueError(f"{text!r} is not a duration such as 90m, 24h or 2d")
    seconds = sum(
        int(amount) * factor
        for amount, factor in zip(found.groups(), _UNITS.values(), strict=True)
        if amount is not None
    )
    if seconds == 0:
        raise ValueError(f"{text!r} is no time at all: give a duration such as 24h")
    try:
        return datetime.timedelta(seconds=seconds)
    except OverflowError:
        raise ValueError(
            f"{text!r} is longer than any plan can be old: use days, such as 30d"
        ) from None


def span(delta: datetime.timedelta) -> str:
    """A duration as people say it, to its two largest units: `2d 3h`, `5h 12m`, `45s`."""
    seconds = max(int(delta.total_seconds()), 0)
    parts = [
        f"{amount}{unit}"
        for amount, unit in (
            (seconds // 86400, "d"),
            (seconds % 86400 // 3600, "h"),
            (seconds % 3600 // 60, "m"),
            (seconds % 60, "s"),
        )
        if amount
    ]
    return " ".join(parts[:2]) or "0s"


def _instant(text: str) -> datetime.datetime | None:
    try:
        moment = datetime.datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return None
    return moment if moment.tzinfo is not None else None


CLOCK_SKEW = datetime.timedelta(minutes=5)
"""How far ahead of this clock a plan's time may be (the planner's clock a little ahead)."""


def check_age(path: Path, plan: Plan, now: str, max_age: datetime.timedelta, limit: str) -> None:
    """Refuse the saved plan at path when it is older than max_age (`apply --max-age limit`),
    or when it does not record when it was made. now is the clock's ISO 8601 time."""
    again = f"run `reconciler plan --sandbox {plan.sandbox} --out {path}` again and apply that"
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise PlanFileError(f"{path}: not a reconciler plan ({error})") from None
    recorded = document.get(CREATED)
    if recorded is None:
        raise PlanFileError(
            f"{path} does not record when it was made (an older reconciler saved it), so "
            f"--max-age cannot vouch for it: {again}"
        )
    made, current = _instant(str(recorded)), _instant(now)
    if made is None or current is None:
        raise PlanFileError(
            f"{path}: {CREATED} {recorded!r} is not a time such as 2026-11-22T12:00:00Z: {again}"
        )
    age = current - made
    if -age > CLOCK_SKEW:
        raise PlanFileError(
            f"{path} says it was made {span(-age)} from now ({recorded}): a plan from the future "
            f"cannot be vouched for (check the clocks): {again}"
        )
    if age > max_age:
        raise PlanFileError(
            f"{path} was made {span(age)} ago ({recorded}), more than --max-age {limit} "
            f"allows: {again}"
        )


# --- writing ------------------------------------------------------------------------------


def _change_json(change: Change, preconditions: Preconditions) -> dict[str, JsonValue]:
    out: dict[str, JsonValue] = {
        "key": change.key,
        "kind": change.kind.value,
        "action": change.action.value,
        "name": change.name,
        "id": change.id,
        "etag": change.etag,
        "reason": ", ".join(reason.value for reason in change.reasons),
        "reasons": [reason.value for reason in change.reasons],
        "patch": [_op_json(op) for op in change.sent(preconditions)],
        "unguarded": list(change.unguarded),
        "ignore": list(change.ignore),
        "depends_on": list(change.depends_on),
        "documents": {
            name: dict(document) if document is not None else None
            for name, document in (
                ("desired", change.desired),
                ("live", change.live),
                ("last", change.last),
                ("goal", change.goal),
            )
        },
    }
    if change.source is not None:
        out["source"] = change.source
    if change.seen is not None:
        out["seen"] = {"by": change.seen.by, "at": change.seen.at}
    if change.moved_from is not None:
        out["moved_from"] = change.moved_from
    if change.protect:
        out["protect"] = True  # recorded in state by apply; never sent
    if change.absent:
        out["absent"] = list(change.absent)  # the override's nulls: the goal lacks them
    return out


def _op_json(op: PatchOp) -> dict[str, JsonValue]:
    out = op.to_json()
    if op.op in (Op.REPLACE, Op.REMOVE):
        out["old"] = op.old
    if op.reverts is not None:
        out["reverts"] = {"by": op.reverts.by, "at": op.reverts.at}
    return out


# --- reading ------------------------------------------------------------------------------


def _plan(document: Mapping[str, Any], path: Path) -> Plan:
    state = document["state"]
    preconditions = Preconditions(document["preconditions"])
    return Plan(
        sandbox=str(document["sandbox"]),
        org=str(document["org"]),
        endpoint=str(document["endpoint"]),
        lineage=state["lineage"],
        serial=int(state["serial"]),
        changes=tuple(_change(item, preconditions, path) for item in document["changes"]),
        orphans=tuple(
            Orphan(
                Key(o["key"]),
                Kind(o["kind"]),
                ObjectId(o["id"]) if o["id"] else None,
                protected=o.get("protected") is True,
            )
            for o in document.get("orphans", [])
        ),
        ignored=tuple(
            Ignored(
                Key(i["key"]), Kind(i["kind"]), i["path"], i["desired"], i.get("live"), "live" in i
            )
            for i in document.get("ignored", [])
        ),
        unchanged=int(document.get("summary", {}).get("unchanged", 0)),
        prune=bool(document.get("prune", False)),
        preconditions=preconditions,
        hidden=int(document.get("summary", {}).get("hidden", 0)),
    )


def _change(item: Mapping[str, Any], preconditions: Preconditions, path: Path) -> Change:
    kind = Kind(item["kind"])
    documents = item["documents"]
    desired, live, last = (
        _document(kind, documents.get(name)) for name in ("desired", "live", "last")
    )
    seen = item.get("seen")
    who = Attribution(seen["by"], seen["at"]) if seen else None
    change = Change(
        key=Key(item["key"]),
        kind=kind,
        action=Action(item["action"]),
        reasons=tuple(Reason(r) for r in item["reasons"]),
        name=str(item["name"]),
        id=ObjectId(item["id"]) if item.get("id") else None,
        etag=Etag(str(item["etag"])) if item.get("etag") is not None else None,
        desired=desired,
        live=live,
        last=last,
        ignore=tuple(str(p) for p in item.get("ignore", [])),
        seen=who,
        source=item.get("source"),
        depends_on=tuple(Key(k) for k in item.get("depends_on", [])),
        moved_from=Key(item["moved_from"]) if item.get("moved_from") else None,
        protect=item.get("protect") is True,
        absent=tuple(str(p) for p in item.get("absent", [])),
    )
    if change.action in (Action.UPDATE, Action.ADOPT, Action.REFRESH):
        if desired is None or live is None:
            raise ValueError(f"{change.key}: an {change.action.value} needs desired and live")
        try:
            derived = threeway.derive(
                desired, last, live, ignore=change.ignore, who=who, absent=change.absent
            )
        except PatchBug as bug:
            raise PlanFileError(f"{path}: {change.key}: {bug}") from None
        change = dataclasses.replace(
            change,
            goal=derived.goal,
            ops=derived.ops,
            tests=derived.tests,
            unguarded=derived.unguarded,
        )
    derived_patch = json.loads(
        json.dumps([op.to_json() for op in change.sent(preconditions)], default=json_default)
    )
    saved: list[JsonValue] = [
        {name: value for name, value in op.items() if name in ("op", "path", "value")}
        for op in item.get("patch", [])
    ]
    if not diff.json_equal(derived_patch, saved):
        raise PlanFileError(
            f"{path}: the patch of {change.key} does not follow from the documents the plan "
            "holds (the file was edited): plan again"
        )
    return change


def _document(kind: Kind, value: Any) -> dict[str, JsonValue] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise TypeError("a document is not a JSON object")
    return graph.typed(kind, value)
