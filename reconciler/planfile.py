"""Saved plans (`plan --out`, `apply plan.json`) and the versioned JSON plan format."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from reconciler.errors import PlanFileError
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
    Reason,
)

FORMAT_VERSION = 1


def to_json(plan: Plan) -> dict[str, JsonValue]:
    """The documented JSON plan (format_version 1)."""
    return {
        "format_version": FORMAT_VERSION,
        "sandbox": plan.sandbox,
        "org": plan.org,
        "endpoint": plan.endpoint,
        "state": {"lineage": plan.lineage, "serial": plan.serial},
        "prune": plan.prune,
        "changes": [_change_json(change) for change in plan.changes],
        "orphans": [{"key": o.key, "kind": o.kind.value, "id": o.id} for o in plan.orphans],
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
            "create": plan.count(Action.CREATE),
            "update": plan.count(Action.UPDATE),
            "delete": plan.count(Action.DELETE),
            "unchanged": plan.unchanged,
            "orphans": len(plan.orphans),
            "ignored": len(plan.ignored),
        },
    }


def dumps(plan: Plan) -> str:
    return json.dumps(to_json(plan), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write(path: Path, plan: Plan) -> None:
    """Save a plan atomically."""
    folder = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(dumps(plan))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def read(path: Path) -> Plan:
    """Load a saved plan; anything unreadable is one clear line."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PlanFileError(
            f"{path}: no such plan file: create it with `reconciler plan --out {path}`"
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise PlanFileError(f"{path}: not a reconciler plan ({error})") from None
    if not isinstance(document, dict) or document.get("format_version") != FORMAT_VERSION:
        raise PlanFileError(
            f"{path}: unsupported plan format_version "
            f"{document.get('format_version') if isinstance(document, dict) else None!r}: plan again"
        )
    try:
        return _plan(document)
    except (KeyError, TypeError, ValueError) as error:
        raise PlanFileError(f"{path}: malformed plan ({error}): plan again") from None


def _change_json(change: Change) -> dict[str, JsonValue]:
    out: dict[str, JsonValue] = {
        "key": change.key,
        "kind": change.kind.value,
        "action": change.action.value,
        "name": change.name,
        "id": change.id,
        "etag": change.etag,
        "reason": ", ".join(reason.value for reason in change.reasons),
        "reasons": [reason.value for reason in change.reasons],
        "patch": [_op_json(op) for op in change.ops],
        "depends_on": list(change.depends_on),
    }
    if change.body is not None:
        out["body"] = dict(change.body)
    if change.source is not None:
        out["source"] = change.source
    if change.drift is not None:
        out["drift"] = {"by": change.drift.by, "at": change.drift.at}
    return out


def _op_json(op: PatchOp) -> dict[str, JsonValue]:
    out = op.to_json()
    if op.op is not Op.ADD:
        out["old"] = op.old
    if op.reverts is not None:
        out["reverts"] = {"by": op.reverts.by, "at": op.reverts.at}
    return out


def _plan(document: Mapping[str, Any]) -> Plan:
    state = document["state"]
    return Plan(
        sandbox=str(document["sandbox"]),
        org=str(document["org"]),
        endpoint=str(document["endpoint"]),
        lineage=state["lineage"],
        serial=int(state["serial"]),
        changes=tuple(_change(item) for item in document["changes"]),
        orphans=tuple(
            Orphan(Key(o["key"]), Kind(o["kind"]), ObjectId(o["id"]) if o["id"] else None)
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
    )


def _change(item: Mapping[str, Any]) -> Change:
    drift = item.get("drift")
    return Change(
        key=Key(item["key"]),
        kind=Kind(item["kind"]),
        action=Action(item["action"]),
        reasons=tuple(Reason(r) for r in item["reasons"]),
        name=str(item["name"]),
        id=ObjectId(item["id"]) if item.get("id") else None,
        etag=Etag(str(item["etag"])) if item.get("etag") is not None else None,
        ops=tuple(_op(op) for op in item.get("patch", [])),
        body=item.get("body"),
        drift=Attribution(drift["by"], drift["at"]) if drift else None,
        source=item.get("source"),
        depends_on=tuple(Key(k) for k in item.get("depends_on", [])),
    )


def _op(item: Mapping[str, Any]) -> PatchOp:
    reverts = item.get("reverts")
    return PatchOp(
        op=Op(item["op"]),
        path=str(item["path"]),
        value=item.get("value"),
        old=item.get("old"),
        reverts=Attribution(reverts["by"], reverts["at"]) if reverts else None,
    )
