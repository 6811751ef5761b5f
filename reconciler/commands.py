"""The imperative shell: validate, plan, apply, drift, import and state repairs as plain functions.

Only this module sequences I/O: it reads files, builds the client, refreshes live objects, calls
the pure planner, and hands plans to the applier. Everything it needs comes in as parameters.
"""

from __future__ import annotations

import asyncio
import datetime
import os
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reconciler import api, config, documents, graph, kinds, memory, planner, statefile
from reconciler.applier import Applier
from reconciler.config import Config, Sandbox
from reconciler.drift import drift as drift_of
from reconciler.emulator.embedded import embedded_app
from reconciler.errors import PlanFileError, StateError, UsageError
from reconciler.live import payload
from reconciler.model import (
    Credentials,
    Desired,
    Drift,
    Entry,
    JsonObject,
    Key,
    Kind,
    ObjectId,
    Plan,
    Report,
    Result,
    State,
    etag_of,
)

ASGIApp = Callable[..., Awaitable[None]]
EMBEDDED_BASE = "http://embedded.sandbox/data/core/dps"
EMBEDDED_IMS = "http://embedded.sandbox/ims/token/v3"
EMBEDDED_CREDENTIALS = Credentials(client_id="reconciler-cli", client_secret="embedded-sandbox")


def utc_now() -> str:
    return (
        datetime.datetime.now(datetime.UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


@dataclass(frozen=True)
class Dependencies:
    """What the shell needs from the outside world; tests inject their own."""

    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    clock: Callable[[], str] = utc_now
    app: ASGIApp | None = None
    """An in-process Offer Library app to use instead of the embedded sandbox."""
    log: Callable[[str], None] | None = None


@dataclass(frozen=True)
class Workspace:
    """One repository: its root, its configuration, and the injected dependencies."""

    root: Path
    config: Config
    deps: Dependencies

    def state_path(self, sandbox: Sandbox) -> Path:
        return statefile.path_for(self.root, sandbox.key)


def workspace(root: Path, deps: Dependencies) -> Workspace:
    path = root / config.FILE_NAME
    if not path.exists():
        return Workspace(root=root, config=config.default_config(), deps=deps)
    data, locate = documents.read_mapping(path, display=config.FILE_NAME)
    return Workspace(root=root, config=config.parse(data, locate, deps.env), deps=deps)


def validate(root: Path) -> tuple[Desired, ...]:
    """Load and check every definition under root/offers; raises InvalidDocuments."""
    return documents.load(root)


# --- client ---------------------------------------------------------------------------------


def client_for(ws: Workspace, sandbox: Sandbox, *, max_in_flight: int = 8) -> api.Client:
    if sandbox.is_embedded:
        app = ws.deps.app or embedded_app(ws.root)
        return api.Client(
            api.Endpoint(EMBEDDED_BASE, EMBEDDED_IMS, sandbox.org, sandbox.name),
            EMBEDDED_CREDENTIALS,
            transport=api.asgi_transport(app),
            max_in_flight=max_in_flight,
            log=ws.deps.log,
        )
    return api.Client(
        api.Endpoint(sandbox.endpoint, sandbox.ims, sandbox.org, sandbox.name),
        config.credentials(ws.deps.env),
        max_in_flight=max_in_flight,
        log=ws.deps.log,
    )


async def refresh(client: api.Client, page_size: int) -> dict[Kind, list[JsonObject]]:
    """Every live object of every kind, page by page (one request per page per kind)."""
    with memory.bulk():
        return await _refresh(client, page_size)


async def _refresh(client: api.Client, page_size: int) -> dict[Kind, list[JsonObject]]:
    found = await asyncio.gather(
        *(client.list_all(kind, page_size=page_size) for kind in kinds.ORDERED)
    )
    return dict(zip(kinds.ORDERED, found, strict=True))


def _target(sandbox: Sandbox) -> planner.Target:
    return planner.Target(sandbox=sandbox.key, org=sandbox.org, endpoint=sandbox.endpoint)


def _read_state(ws: Workspace, sandbox: Sandbox) -> State | None:
    path = ws.state_path(sandbox)
    state = statefile.read(path)
    if state is not None:
        statefile.check_binding(
            state, path, sandbox=sandbox.key, org=sandbox.org, endpoint=sandbox.endpoint
        )
    return state


# --- plan -----------------------------------------------------------------------------------


def plan(
    ws: Workspace,
    sandbox_key: str | None,
    *,
    selection: planner.Selection | None = None,
    prune: bool | None = None,
) -> Plan:
    """Desired (git) + state + live -> Plan. Never writes the state."""
    sandbox = ws.config.sandbox(sandbox_key)
    desired = documents.load(ws.root)
    state = _read_state(ws, sandbox)

    async def run() -> Plan:
        async with client_for(ws, sandbox) as client:
            live = await refresh(client, sandbox.page_size)
        return planner.plan(
            desired,
            state,
            live,
            target=_target(sandbox),
            ignore=ws.config.ignore,
            prune=ws.config.prune if prune is None else prune,
            selection=selection or planner.Selection(),
        )

    return asyncio.run(run())


# --- apply ----------------------------------------------------------------------------------


def check_saved_plan(ws: Workspace, saved: Plan, sandbox_key: str | None) -> Sandbox:
    """Refuse a plan made for another sandbox, org, endpoint or state lineage."""
    key = sandbox_key or saved.sandbox
    sandbox = ws.config.sandbox(key)
    for what, planned, actual in (
        ("sandbox", saved.sandbox, sandbox.key),
        ("org", saved.org, sandbox.org),
        ("endpoint", saved.endpoint, sandbox.endpoint),
    ):
        if planned != actual:
            raise PlanFileError(
                f"the plan was made for {what} {planned!r}, not {actual!r}: "
                f"run `reconciler plan --sandbox {sandbox.key} --out plan.json` and apply that"
            )
    state = _read_state(ws, sandbox)
    lineage = state.lineage if state is not None and state.objects else None
    if saved.lineage is not None and state is not None and state.lineage != saved.lineage:
        raise PlanFileError(
            f"the plan was made on state lineage {saved.lineage}, but {ws.state_path(sandbox).name} "
            f"has lineage {state.lineage}: plan again"
        )
    if saved.lineage is None and lineage is not None:
        raise PlanFileError(
            "the plan was made before any state existed, and state has been written since: plan again"
        )
    return sandbox


def apply(
    ws: Workspace,
    sandbox: Sandbox,
    chosen: Plan,
    *,
    parallelism: int = 4,
    on_result: Callable[[Result], None] | None = None,
) -> Report:
    """Execute a plan, recording every id and etag as it goes."""
    if parallelism < 1:
        raise UsageError("--parallelism must be at least 1")

    with statefile.locked(
        ws.state_path(sandbox), sandbox=sandbox.key, org=sandbox.org, endpoint=sandbox.endpoint
    ) as writer:

        async def run() -> Report:
            async with client_for(ws, sandbox, max_in_flight=max(parallelism * 2, 4)) as client:
                applier = Applier(
                    chosen,
                    client,
                    writer,
                    clock=ws.deps.clock,
                    parallelism=parallelism,
                    on_result=on_result,
                )
                return await applier.run()

        return asyncio.run(run())


# --- drift ----------------------------------------------------------------------------------


def drift(ws: Workspace, sandbox_key: str | None, *, unmanaged: bool = False) -> Drift:
    sandbox = ws.config.sandbox(sandbox_key)
    state = _read_state(ws, sandbox) or statefile.new(sandbox.key, sandbox.org, sandbox.endpoint)

    async def run() -> dict[Kind, list[JsonObject]]:
        async with client_for(ws, sandbox) as client:
            return await refresh(client, sandbox.page_size)

    live = asyncio.run(run())
    return drift_of(state, live, sandbox=sandbox.key, ignore=ws.config.ignore, unmanaged=unmanaged)


# --- import ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Imported:
    key: Key
    kind: Kind
    id: ObjectId
    path: Path


def import_objects(
    ws: Workspace,
    sandbox_key: str | None,
    *,
    key: Key | None = None,
    object_id: str | None = None,
    kind: Kind | None = None,
    everything: bool = False,
) -> list[Imported]:
    """Record existing live objects in state and write their definition files."""
    sandbox = ws.config.sandbox(sandbox_key)

    async def run() -> dict[Kind, list[JsonObject]]:
        async with client_for(ws, sandbox) as client:
            if everything:
                wanted = [kind] if kind else list(kinds.ORDERED)
                found = await asyncio.gather(
                    *(client.list_all(k, page_size=sandbox.page_size) for k in wanted)
                )
                return dict(zip(wanted, found, strict=True))
            assert object_id is not None
            candidates = [kind] if kind else _kinds_for_id(object_id)
            for candidate in candidates:
                try:
                    return {candidate: [await client.get(candidate, object_id)]}
                except api.NotFound:
                    continue
            raise UsageError(
                f"{object_id}: no such object in sandbox {sandbox.key!r}"
                + ("" if kind else " (if its id does not name its kind, pass --kind)")
            )

    live = asyncio.run(run())
    with statefile.locked(
        ws.state_path(sandbox), sandbox=sandbox.key, org=sandbox.org, endpoint=sandbox.endpoint
    ) as writer:
        state = writer.state
        managed: dict[str, Key] = {
            entry.id: k for k, entry in state.objects.items() if entry.id is not None
        }
        taken = set(state.objects) | {d.key for d in _existing_keys(ws.root)}
        plan_keys: dict[str, Key] = {}
        for item_kind in kinds.ORDERED:
            for item in live.get(item_kind, []):
                item_id = str(item["id"])
                if item_id in managed:
                    if not everything:
                        raise UsageError(f"{item_id} is already managed as {managed[item_id]}")
                    continue
                chosen = key if key is not None else _free_key(item_kind, item, taken)
                if key is not None and (key in state.objects or key in taken):
                    raise UsageError(f"{key} is already in use: choose another key")
                taken.add(chosen)
                plan_keys[item_id] = chosen
        keys_by_id: dict[str, Key] = {**managed, **plan_keys}
        out: list[Imported] = []
        for item_kind in kinds.ORDERED:
            for item in live.get(item_kind, []):
                item_id = str(item["id"])
                if item_id not in plan_keys:
                    continue
                new_key = plan_keys[item_id]
                body = payload(item)
                path = documents.write_definition(
                    ws.root, new_key, item_kind, graph.unresolve(item_kind, body, keys_by_id)
                )
                writer.record(
                    new_key,
                    Entry(
                        kind=item_kind,
                        id=ObjectId(item_id),
                        etag=etag_of(item.get("etag")),
                        applied=body,
                        applied_at=ws.deps.clock(),
                    ),
                )
                out.append(Imported(new_key, item_kind, ObjectId(item_id), path))
    return out


def _kinds_for_id(object_id: str) -> list[Kind]:
    recognised = kinds.kind_of_id(object_id)
    return [recognised] if recognised is not None else list(kinds.ORDERED)


def _existing_keys(root: Path) -> Sequence[Desired]:
    try:
        return documents.load(root)
    except Exception:
        return ()


def _free_key(kind: Kind, item: Mapping[str, Any], taken: set[Key]) -> Key:
    folder = {
        Kind.TAG: "tags",
        Kind.PLACEMENT: "placements",
        Kind.DECISION_RULE: "rules",
        Kind.PERSONALIZED_OFFER: "offers",
        Kind.FALLBACK_OFFER: "fallback",
        Kind.COLLECTION: "collections",
        Kind.DECISION: "decisions",
    }[kind]
    base = documents.slug(str(item.get("name") or item["id"]))
    candidate = Key(f"{folder}/{base}")
    counter = 2
    while candidate in taken:
        candidate = Key(f"{folder}/{base}-{counter}")
        counter += 1
    return candidate


# --- state repairs --------------------------------------------------------------------------


def state_show(ws: Workspace, sandbox_key: str | None) -> State:
    sandbox = ws.config.sandbox(sandbox_key)
    state = _read_state(ws, sandbox)
    if state is None:
        raise StateError(f"{ws.state_path(sandbox).name} does not exist yet: apply creates it")
    return state


def state_rm(ws: Workspace, sandbox_key: str | None, keys: Sequence[str]) -> None:
    """Forget objects without deleting them (they become unmanaged)."""
    sandbox = ws.config.sandbox(sandbox_key)
    with statefile.locked(
        ws.state_path(sandbox), sandbox=sandbox.key, org=sandbox.org, endpoint=sandbox.endpoint
    ) as writer:
        for key in keys:
            if key not in writer.state.objects:
                raise StateError(f"{key}: not in {ws.state_path(sandbox).name}")
        for key in keys:
            writer.record(Key(key), None)


def state_mv(ws: Workspace, sandbox_key: str | None, old: str, new: str) -> None:
    """Rename a key (after moving its file) without re-creating the object."""
    sandbox = ws.config.sandbox(sandbox_key)
    with statefile.locked(
        ws.state_path(sandbox), sandbox=sandbox.key, org=sandbox.org, endpoint=sandbox.endpoint
    ) as writer:
        if old not in writer.state.objects:
            raise StateError(f"{old}: not in {ws.state_path(sandbox).name}")
        if new in writer.state.objects:
            raise StateError(f"{new}: already in {ws.state_path(sandbox).name}: choose another key")
        entry = writer.state.objects[Key(old)]
        writer.record(Key(new), entry)
        writer.record(Key(old), None)
