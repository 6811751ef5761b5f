"""The imperative shell: validate, plan, apply, drift, import and state repairs as plain functions.

Only this module sequences I/O: it reads files, builds the client, refreshes live objects, calls
the pure planner, and hands plans to the applier. Everything it needs comes in as parameters.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime
import os
import shutil
import signal
import tempfile
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from reconciler import (
    api,
    config,
    documents,
    graph,
    kinds,
    memory,
    offerfiles,
    overrides,
    planfile,
    planner,
    policies,
    protection,
    pull_outcome,
    pulling,
    roundtrip,
    statefile,
)
from reconciler.applier import Applier
from reconciler.config import Config, Sandbox
from reconciler.drift import drift as drift_of
from reconciler.emulator.embedded import embedded_app
from reconciler.errors import ConfigError, InvalidDocuments, PlanFileError, StateError, UsageError
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
    Problem,
    Report,
    Result,
    State,
    etag_of,
    name_of,
)

ASGIApp = Callable[..., Awaitable[None]]
T = TypeVar("T")
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

    def lock(self, sandbox: Sandbox) -> contextlib.AbstractContextManager[statefile.Writer]:
        """The sandbox's state, locked for writing (see statefile.locked)."""
        return statefile.locked(
            self.state_path(sandbox),
            sandbox=sandbox.key,
            org=sandbox.org,
            endpoint=sandbox.endpoint,
        )


def workspace(root: Path, deps: Dependencies) -> Workspace:
    path = root / config.FILE_NAME
    if not path.is_file():
        raise ConfigError(
            f"no {config.FILE_NAME} in {root}: run reconciler from the repository root (or pass "
            f"-C <root>), or create one: `printf 'default: local\\nsandboxes:\\n  local:\\n"
            f"    endpoint: embedded\\n' > {config.FILE_NAME}` (README: Configuration)"
        )
    data, locate = documents.read_mapping(path, display=config.FILE_NAME)
    return Workspace(root=root, config=config.parse(data, locate, deps.env), deps=deps)


def validate(root: Path) -> tuple[Desired, ...]:
    """Load and check every definition under root/offers; raises InvalidDocuments. The sandboxes
    of reconciler.yaml, when there is one, are the names `overrides:` may use."""
    return documents.load(root, sandbox_names(root))


def sandbox_names(root: Path) -> tuple[str, ...] | None:
    """The sandbox keys reconciler.yaml lists, read offline (no org or credentials needed), or
    None without a reconciler.yaml."""
    path = root / config.FILE_NAME
    if not path.is_file():
        return None
    data, _ = documents.read_mapping(path, display=config.FILE_NAME)
    sandboxes = data.get("sandboxes")
    return tuple(str(key) for key in sandboxes) if isinstance(sandboxes, dict) else None


def read_policies(root: Path) -> tuple[policies.Policy, ...]:
    """The `policies:` of root/reconciler.yaml (none without the file), read without the
    environment: validate runs where no credentials or org id are set."""
    path = root / config.FILE_NAME
    if not path.is_file():
        return ()
    data, locate = documents.read_mapping(path, display=config.FILE_NAME)
    # The whole file is checked here too (protect, promotion, drift, decisioning...), so a pull
    # request's validate fails on it rather than the apply after the merge; an org id that
    # would come from the environment is not needed to check the file.
    config.parse(data, locate, {"ADOBE_ORG_ID": OFFLINE_ORG})
    return config.read_policies(data, locate)


OFFLINE_ORG = "validate-offline@AdobeOrg"
"""Stands for ADOBE_ORG_ID when validate checks reconciler.yaml without the environment."""


def policy_findings(root: Path, objects: Sequence[Desired]) -> tuple[policies.Finding, ...]:
    """The team policies of reconciler.yaml on valid definitions, each located in its file
    (none without reconciler.yaml); a wrong `policies:` raises ConfigError."""
    rules = read_policies(root)
    names = sandbox_names(root) or ()
    if not rules:
        violations: list[policies.Violation] = []
    elif not names:
        violations = policies.evaluate(rules, objects)
    else:
        # Each sandbox's resolved bodies (overrides merged): a violation only some sandboxes
        # have names them, as validation problems do.
        seen: dict[tuple[str, str, str, str], tuple[policies.Violation, list[str]]] = {}
        for name in names:
            resolved = [overrides.resolve(item, name) for item in objects]
            for violation in policies.evaluate(rules, resolved):
                key = (
                    violation.path,
                    str(violation.location),
                    violation.message,
                    violation.policy.name,
                )
                seen.setdefault(key, (violation, []))[1].append(name)
        violations = []
        for violation, where in seen.values():
            if len(where) < len(names):
                label = "sandbox" if len(where) == 1 else "sandboxes"
                prefix = f"in {label} {', '.join(where)}: "
                violation = dataclasses.replace(violation, message=prefix + violation.message)
            violations.append(violation)
    by_file: dict[str, list[policies.Violation]] = {}
    for violation in violations:
        by_file.setdefault(violation.path, []).append(violation)
    found: list[policies.Finding] = []
    for path, group in by_file.items():
        places = documents.positions(root, path, ((v.location, v.anchor) for v in group))
        for violation, (line, column) in zip(group, places, strict=True):
            problem = Problem(path, line, column, violation.message)
            found.append(
                policies.Finding(problem, violation.policy.severity, violation.policy.name)
            )
    found.sort(key=lambda f: (f.problem.path, f.problem.line, f.problem.column, f.problem.message))
    return tuple(found)


# --- client ---------------------------------------------------------------------------------


def client_for(ws: Workspace, sandbox: Sandbox, *, max_in_flight: int = 8) -> api.Client:
    if sandbox.is_embedded:
        app = ws.deps.app or embedded_app(ws.root)
        return api.Client(
            api.Endpoint(EMBEDDED_BASE, EMBEDDED_IMS, sandbox.org, sandbox.name, _schema(sandbox)),
            EMBEDDED_CREDENTIALS,
            transport=api.asgi_transport(app),
            max_in_flight=max_in_flight,
            log=ws.deps.log,
        )
    return api.Client(
        api.Endpoint(sandbox.endpoint, sandbox.ims, sandbox.org, sandbox.name, _schema(sandbox)),
        config.credentials(ws.deps.env),
        max_in_flight=max_in_flight,
        log=ws.deps.log,
    )


def _schema(sandbox: Sandbox) -> str | None:
    return sandbox.catalog.schema if sandbox.catalog is not None else None


def localized(desired: Sequence[Desired], sandbox: Sandbox) -> tuple[Desired, ...]:
    """Git's objects as this sandbox gets them: its overrides merged in (reconciler.overrides),
    its item catalog id where a file leaves it out."""
    out: list[Desired] = []
    for item in desired:
        item = overrides.resolve(item, sandbox.key)
        spec = kinds.spec(item.kind)
        if spec.catalog:
            needs = spec.schema_header or kinds.with_catalog(item.kind, item.body, "") != item.body
            if sandbox.catalog is None and not needs:
                out.append(item)  # every catalog id is written in the file
                continue
            if sandbox.catalog is None:
                raise ConfigError(
                    f"{item.source.path or item.key}: this {item.kind.value} needs the "
                    f"sandbox's item catalog, and sandbox {sandbox.key} names none: add "
                    "decisioning: {catalog: <item catalog id>, schema: <its schema id>} under "
                    f"sandboxes.{sandbox.key} in reconciler.yaml"
                )
            tenant = sandbox.catalog.tenant
            stray = sorted(
                name
                for name in item.body
                if name.startswith("_") and name != "_experience" and name != tenant
            )
            if tenant is not None and stray:
                raise ConfigError(
                    f"{item.source.path or item.key}: {stray[0]} is not the tenant namespace of "
                    f"sandbox {sandbox.key}'s catalog ({tenant}): move the custom attributes "
                    "under it, or correct decisioning.tenant in reconciler.yaml"
                )
            body = kinds.with_catalog(item.kind, item.body, sandbox.catalog.id)
            item = dataclasses.replace(item, body=body)
        out.append(item)
    return tuple(out)


async def refresh(client: api.Client, page_size: int) -> dict[Kind, list[JsonObject]]:
    """Every live object of every kind, page by page (one request per page per kind)."""
    with memory.bulk():
        return await _refresh(client, page_size)


def reachable(client: api.Client, among: Iterable[Kind] = kinds.ORDERED) -> list[Kind]:
    """The kinds a client can ask for: without a catalog schema id, decision items cannot be
    (a sandbox that names no catalog manages none: `localized` refuses definitions of them)."""
    return [
        kind
        for kind in among
        if client.endpoint.schema_id is not None or not kinds.spec(kind).schema_header
    ]


async def _refresh(client: api.Client, page_size: int) -> dict[Kind, list[JsonObject]]:
    listed = reachable(client)
    found = await every(client.list_all(kind, page_size=page_size) for kind in listed)
    return dict(zip(listed, found, strict=True))


async def every(coroutines: Iterable[Coroutine[Any, Any, T]]) -> list[T]:
    """The results of concurrent calls, in order. A task group, not gather: when one fails the
    others are cancelled and finished before the client closes (nothing is left running), and
    the first failure is raised as itself, so it stays one line."""
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(coroutine) for coroutine in coroutines]
    except BaseExceptionGroup as failed:
        raise failed.exceptions[0] from None
    return [task.result() for task in tasks]


async def confirm_missing(
    client: api.Client, state: State | None, live: dict[Kind, list[JsonObject]]
) -> None:
    """Read, one by one, the objects state names that the listing did not show, and add the
    ones that exist: a plan never re-creates an object a listing missed, and drift never
    reports one as deleted."""
    if state is None:
        return
    listed = {(kind, str(item.get("id"))) for kind, items in live.items() for item in items}
    missing = [
        (entry.kind, entry.id)
        for _, entry in sorted(state.objects.items())
        if entry.id is not None and (entry.kind, entry.id) not in listed
    ]

    async def read(kind: Kind, object_id: str) -> tuple[Kind, JsonObject | None]:
        try:
            return kind, await client.get(kind, object_id)
        except api.NotFound:
            return kind, None

    for kind, found in await every(read(kind, oid) for kind, oid in missing):
        if found is not None:
            live.setdefault(kind, []).append(found)


def _target(sandbox: Sandbox) -> planner.Target:
    return planner.Target(
        sandbox=sandbox.key,
        org=sandbox.org,
        endpoint=sandbox.endpoint,
        preconditions=sandbox.preconditions,
    )


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
    loaded = localized(documents.load(ws.root, ws.config.sandboxes), sandbox)
    desired = protection.applied(loaded, ws.config.protect)  # globs recorded in state too
    state = _read_state(ws, sandbox)

    async def run() -> Plan:
        async with client_for(ws, sandbox) as client:
            live = await refresh(client, sandbox.page_size)
            await confirm_missing(client, state, live)
        return planner.plan(
            desired,
            state,
            live,
            target=_target(sandbox),
            ignore=ws.config.ignore,
            prune=ws.config.prune if prune is None else prune,
            selection=selection or planner.Selection(),
            protect=ws.config.protect,
        )

    return asyncio.run(run())


# --- apply ----------------------------------------------------------------------------------


def check_saved_plan(ws: Workspace, saved: Plan, sandbox_key: str | None) -> Sandbox:
    """Refuse a plan made for another sandbox, org, endpoint, state lineage or serial."""
    key = sandbox_key or saved.sandbox
    sandbox = ws.config.sandbox(key)
    for what, planned, actual in (
        ("sandbox", saved.sandbox, sandbox.key),
        ("org", saved.org, sandbox.org),
        ("endpoint", saved.endpoint, sandbox.endpoint),
        ("preconditions", saved.preconditions.value, sandbox.preconditions.value),
    ):
        if planned != actual:
            raise PlanFileError(
                f"the plan was made for {what} {planned!r}, not {actual!r}: "
                f"run `reconciler plan --sandbox {sandbox.key} --out plan.json` and apply that"
            )
    check_plan_state(ws, sandbox, saved, _read_state(ws, sandbox))
    return sandbox


def check_plan_state(ws: Workspace, sandbox: Sandbox, chosen: Plan, state: State | None) -> None:
    """A plan is bound to the state it was computed on: same lineage, same serial (as Terraform's
    "saved plan is stale"), and it is applied once."""
    name = ws.state_path(sandbox).name
    again = f"run `reconciler plan --sandbox {sandbox.key}` again and apply that plan"
    if (
        state is not None
        and state.last_plan is not None
        and state.last_plan == planfile.digest(chosen)
    ):
        raise PlanFileError(
            f"this plan was applied already (an apply started on it; {name} is at serial "
            f"{state.serial} now): nothing was sent; {again} to see what is left"
        )
    if chosen.lineage is None:
        if state is not None and state.objects:
            raise PlanFileError(
                f"the plan was made before {name} existed, and it has been written since: {again}"
            )
        return
    if state is None or state.lineage != chosen.lineage:
        raise PlanFileError(
            f"the plan was made on state lineage {chosen.lineage}, but {name} has "
            f"{'no state' if state is None else 'lineage ' + state.lineage}: {again}"
        )
    serial = state.serial
    if chosen.serial != serial:
        raise PlanFileError(
            f"the plan was made at state serial {chosen.serial}, but {name} is at serial "
            f"{serial}: something was applied since; {again}"
        )


def apply(
    ws: Workspace,
    sandbox: Sandbox,
    chosen: Plan,
    *,
    parallelism: int = 4,
    on_result: Callable[[Result], None] | None = None,
    saved: bool = False,
) -> Report:
    """Execute a plan, recording every id and etag as it goes. SIGINT stops it cleanly."""
    if parallelism < 1:
        raise UsageError("--parallelism must be at least 1")

    with ws.lock(sandbox) as writer:
        # Under the lock: no other run can have moved the state between this check and the writes.
        check_plan_state(ws, sandbox, chosen, writer.state)
        if saved:
            writer.record_plan(planfile.digest(chosen))

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
                loop = asyncio.get_running_loop()

                def interrupted() -> None:
                    applier.interrupt()
                    loop.remove_signal_handler(signal.SIGINT)  # a second Ctrl-C stops at once

                with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                    loop.add_signal_handler(signal.SIGINT, interrupted)  # main thread only
                try:
                    return await applier.run()
                finally:
                    loop.remove_signal_handler(signal.SIGINT)

        return asyncio.run(run())


# --- drift ----------------------------------------------------------------------------------


def drift(ws: Workspace, sandbox_key: str | None, *, unmanaged: bool = False) -> Drift:
    """Live + state -> Drift; git's definitions say only which fields their overrides remove in
    this sandbox (a value the UI puts there is drift: git owns the absence)."""
    sandbox = ws.config.sandbox(sandbox_key)
    state = _read_state(ws, sandbox) or statefile.new(sandbox.key, sandbox.org, sandbox.endpoint)
    try:
        defined = (
            documents.load(ws.root, ws.config.sandboxes) if (ws.root / "offers").is_dir() else ()
        )
    except InvalidDocuments as invalid:
        # Drift compares live with state: a broken definition on main must not stop it. Only
        # the fields an override removes on purpose are then not known to be git's.
        if ws.deps.log is not None:
            ws.deps.log(f"note: {invalid}; drift runs without the fields overrides remove")
        defined = ()
    absent = {
        item.key: overrides.resolve(item, sandbox.key).absent
        for item in defined
        if item.key in state.objects and state.objects[item.key].kind is item.kind
    }

    async def run() -> dict[Kind, list[JsonObject]]:
        async with client_for(ws, sandbox) as client:
            live = await refresh(client, sandbox.page_size)
            await confirm_missing(client, state, live)
            return live

    live = asyncio.run(run())
    return drift_of(
        state,
        live,
        sandbox=sandbox.key,
        ignore=ws.config.ignore,
        unmanaged=unmanaged,
        absent=absent,
    )


# --- pull -----------------------------------------------------------------------------------


def pull(
    ws: Workspace,
    sandbox_key: str | None,
    keys: Sequence[str] = (),
    *,
    dry_run: bool = False,
    deletions: bool = False,
) -> pull_outcome.Outcome:
    """Write the live values of the fields git owns into the files of the objects edited
    outside git (see reconciler.pulling), then record their live revisions in state.

    Files first, then state, under the state's lock: a crash in between leaves state behind
    git (the next plan refreshes it), never ahead of it (which would plan the UI edits away).
    With `deletions`, the file of an object deleted outside git is deleted and its entry
    forgotten, unless another definition still refers to it. A file that cannot be edited in
    place, or that `validate` would refuse once edited (`_unwritable`), is refused (reported,
    nothing of its object written or recorded), not the pull."""
    sandbox = ws.config.sandbox(sandbox_key)
    files = documents.load(ws.root, ws.config.sandboxes)
    state = _read_state(ws, sandbox) or statefile.new(sandbox.key, sandbox.org, sandbox.endpoint)
    for glob in keys:
        if not any(pulling.selects([glob], key) for key in state.objects):
            raise UsageError(
                f"{glob}: no object managed in sandbox {sandbox.key} has this key (see "
                f"`reconciler state list --sandbox {sandbox.key}`)"
            )

    async def run() -> dict[Kind, list[JsonObject]]:
        async with client_for(ws, sandbox) as client:
            live = await refresh(client, sandbox.page_size)
            await confirm_missing(client, state, live)
            return live

    found = pulling.pull(
        files,
        localized(files, sandbox),
        state,
        asyncio.run(run()) if state.objects else {},
        ignore=ws.config.ignore,
        catalog=_catalog_id(sandbox),
        keys=keys,
    )
    changes: list[pulling.FileChange] = []
    refused: list[pull_outcome.Refused] = []
    for item in found.edits:
        before = (ws.root / item.path).read_bytes().decode("utf-8")
        try:
            after = roundtrip.edited(before, item.edits, display=item.path)
        except roundtrip.EditError as error:
            refused.append(pull_outcome.Refused(item.key, item.path, str(error)))
            continue
        changes.append(pulling.FileChange(item.path, before, after))
    # Nothing is written that `validate` would refuse: such a file is refused as one that
    # cannot be edited in place is.
    invalid = _unwritable(ws, files, found, changes)
    refused += invalid
    changes = [change for change in changes if change.path not in {i.path for i in invalid}]
    refused_keys = {item.key for item in refused}
    defined_keys = {definition.key: definition for definition in files}
    deleted: list[pulling.Deletion] = []
    for gone_item in found.deleted:
        entry = state.objects.get(gone_item.key)
        on_file = defined_keys.get(gone_item.key)
        guarded = (
            (on_file is not None and on_file.protect)
            or (entry is not None and entry.protect)
            or protection.matching(gone_item.key, ws.config.protect) is not None
        )
        # A refused file stays as it is: it may still refer to the deleted object.
        still = tuple(
            key for key in sorted(refused_keys) if _refers(defined_keys[key], gone_item.key)
        )
        referrers = tuple(sorted({*gone_item.referenced_by, *still}))
        deleted.append(
            dataclasses.replace(gone_item, protected=bool(guarded), referenced_by=referrers)
        )
    objects = tuple(item for item in found.objects if item.key not in refused_keys)
    found = dataclasses.replace(found, objects=objects, deleted=tuple(deleted))
    forgotten = [
        item
        for item in found.deleted
        if deletions and not item.referenced_by and not item.protected
    ]
    for gone in forgotten:
        if gone.path is not None:
            text = (ws.root / gone.path).read_bytes().decode("utf-8")
            changes.append(pulling.FileChange(gone.path, text, None))
    keys_forgotten = tuple(item.key for item in forgotten)
    done = pulling.Pulled(found, tuple(changes), keys_forgotten, dry_run)
    outcome = pull_outcome.Outcome(
        done, tuple(refused), pull_outcome.shared(done, files, ws.config.sandboxes)
    )
    if dry_run or not (found.objects or forgotten):
        return outcome
    with ws.lock(sandbox) as writer:
        if writer.serial != state.serial:
            raise StateError(
                f"{ws.state_path(sandbox).name} changed while pulling (an apply or import ran): "
                "nothing was written; run pull again"
            )
        for change in changes:
            if change.after is None:
                roundtrip.remove(ws.root / change.path)
            elif change.after != change.before:
                roundtrip.replace(ws.root / change.path, change.after)
        for item in found.objects:  # those whose file is unchanged too: git and the UI agreed
            entry = writer.entry(item.key)
            assert entry is not None
            recorded = dataclasses.replace(
                entry, etag=item.etag, applied=item.applied, applied_at=ws.deps.clock()
            )
            writer.record(item.key, recorded)
        for key in keys_forgotten:
            writer.record(key, None)
    return outcome


def _unwritable(
    ws: Workspace,
    files: Sequence[Desired],
    found: pulling.Pull,
    changes: Sequence[pulling.FileChange],
) -> list[pull_outcome.Refused]:
    """The objects whose edited file `reconciler validate` would refuse after the pull, each with
    the file and its first problem. The edits are checked together in a copy of the
    repository's offers/ and reconciler.yaml (files hard-linked where they can be), as validate
    checks it: every sandbox's body, the checks across files, and the team policies of severity
    error that the files did not break before. A refused file goes back to its text and the rest
    is checked again."""
    if not changes:
        return []
    edited = {change.path for change in changes}
    owners = {item.path: item.key for item in found.edits if item.path in edited}
    broken = {(f.problem.path, f.problem.message) for f in _policy_errors(ws.root, files)}
    refused: dict[Key, pull_outcome.Refused] = {}
    with tempfile.TemporaryDirectory(prefix="reconciler-pull-") as folder:
        copy = Path(folder)
        if (ws.root / config.FILE_NAME).is_file():
            shutil.copyfile(ws.root / config.FILE_NAME, copy / config.FILE_NAME)
        shutil.copytree(ws.root / "offers", copy / "offers", copy_function=_linked)
        for change in changes:
            _write_copy(copy / change.path, change.after)
        while True:
            problems = _validation_problems(copy, broken)
            first: dict[str, str] = {}
            for problem in problems:
                if problem.path in owners and owners[problem.path] not in refused:
                    first.setdefault(problem.path, str(problem))
            if not first:
                break
            for path, why in first.items():
                reason = f"the edited file would not validate: {why}"
                refused[owners[path]] = pull_outcome.Refused(owners[path], path, reason)
                _write_copy(copy / path, next(c.before for c in changes if c.path == path))
        if problems:
            raise roundtrip.EditError(
                f"pull would leave offers/ invalid ({problems[0]}): nothing was written; pull "
                "the objects one at a time (`reconciler pull KEY`) to find the one at fault"
            )
    return list(refused.values())


def _validation_problems(root: Path, broken: set[tuple[str, str]]) -> list[Problem]:
    """What `reconciler validate` reports for root, without the policy errors in `broken`."""
    try:
        objects = validate(root)
    except InvalidDocuments as invalid:
        return [problem for problem in invalid.problems if isinstance(problem, Problem)]
    return [
        finding.problem
        for finding in _policy_errors(root, objects)
        if (finding.problem.path, finding.problem.message) not in broken
    ]


def _policy_errors(root: Path, objects: Sequence[Desired]) -> list[policies.Finding]:
    findings = policy_findings(root, objects)
    return [f for f in findings if f.severity is policies.Severity.ERROR]


def _linked(source: str, target: str) -> None:
    """A file of the copy validate reads: a hard link where the file system allows one."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _write_copy(path: Path, text: str | None) -> None:
    """A file of the copy replaced (never written through: it may be a link to the original)."""
    path.unlink(missing_ok=True)
    if text is not None:
        path.write_bytes(text.encode("utf-8"))


def _refers(definition: Desired, key: Key) -> bool:
    """Whether a definition refers to key, in the body written for every sandbox or in any
    sandbox's (its override merged in)."""
    bodies = [definition.body]
    bodies += [overrides.resolve(definition, name).body for name in definition.overrides]
    return any(key in graph.dependencies(definition.kind, body) for body in bodies)


# --- import ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Imported:
    """One adopted object: the key that manages it now, and the file written (None when the
    file already defined it and only state was missing)."""

    key: Key
    kind: Kind
    id: ObjectId
    path: Path | None


FOLDERS: Mapping[Kind, str] = {
    Kind.TAG: "tags",
    Kind.PLACEMENT: "placements",
    Kind.DECISION_RULE: "rules",
    Kind.PERSONALIZED_OFFER: "personalized",
    Kind.FALLBACK_OFFER: "fallback",
    Kind.COLLECTION: "collections",
    Kind.DECISION: "decisions",
    Kind.RANKING_FORMULA: "formulas",
    Kind.ELIGIBILITY_RULE: "eligibility-rules",
    Kind.DECISION_ITEM: "items",
    Kind.ITEM_COLLECTION: "item-collections",
    Kind.SELECTION_STRATEGY: "strategies",
    Kind.EXD_PLACEMENT: "exd-placements",
}
"""Where `import --all` writes each kind's files under offers/."""


def import_objects(
    ws: Workspace,
    sandbox_key: str | None,
    *,
    key: Key | None = None,
    object_id: str | None = None,
    kind: Kind | None = None,
    everything: bool = False,
) -> list[Imported]:
    """Record existing live objects in state, writing their definition files where none exist.

    A live object that a file already defines (the same key, or with --all the same kind and
    name) is only recorded in state: recovery after state was lost. The next plan shows how it
    differs from git, if at all.
    """
    sandbox = ws.config.sandbox(sandbox_key)
    has_offers = (ws.root / "offers").is_dir()
    defined = (
        {
            item.key: overrides.resolve(item, sandbox.key)
            for item in documents.load(ws.root, ws.config.sandboxes)
        }
        if has_offers
        else {}
    )

    async def run() -> dict[Kind, list[JsonObject]]:
        async with client_for(ws, sandbox) as client:
            if everything:
                wanted = reachable(client, [kind] if kind else kinds.ORDERED)
                found = await every(client.list_all(k, page_size=sandbox.page_size) for k in wanted)
                return dict(zip(wanted, found, strict=True))
            assert object_id is not None
            candidates = reachable(client, [kind] if kind else _kinds_for_id(object_id))
            for candidate in candidates:
                try:
                    return {candidate: [await client.get(candidate, object_id)]}
                except (api.NotFound, api.WrongKind):
                    continue
            raise UsageError(
                f"{object_id}: no such object in sandbox {sandbox.key!r}"
                + ("" if kind else " (if its id does not name its kind, pass --kind)")
            )

    live = asyncio.run(run())
    with ws.lock(sandbox) as writer:
        state = writer.state
        managed: dict[str, Key] = {
            entry.id: k for k, entry in state.objects.items() if entry.id is not None
        }
        by_name = {
            (item.kind, item.name): item.key
            for item in defined.values()
            if item.key not in state.objects or state.objects[item.key].id is None
        }
        taken = set(state.objects) | set(defined)
        chosen: dict[str, tuple[Key, bool]] = {}  # id -> (key, whether its file exists)
        for item_kind in kinds.ORDERED:
            for item in live.get(item_kind, []):
                item_id = str(item["id"])
                if item_id in managed:
                    if not everything:
                        raise UsageError(f"{item_id} is already managed as {managed[item_id]}")
                    continue
                if key is not None:
                    chosen[item_id] = (key, _check_key(ws, state, defined, key, item_kind, item_id))
                    continue
                named = by_name.pop((item_kind, str(name_of(item_kind, item))), None)
                if named is not None:
                    chosen[item_id] = (named, True)
                    continue
                new_key = _free_key(item_kind, item, taken)
                taken.add(new_key)
                chosen[item_id] = (new_key, False)
        keys_by_id: dict[str, Key] = {**managed, **{i: k for i, (k, _) in chosen.items()}}
        out: list[Imported] = []
        for item_kind in kinds.ORDERED:
            for item in live.get(item_kind, []):
                item_id = str(item["id"])
                if item_id not in chosen:
                    continue
                new_key, exists = chosen[item_id]
                body = kinds.authored(item_kind, payload(item), None)
                path = None
                if exists:
                    # The file is git's truth: state learns the id; the next plan diffs git
                    # against live (two-way, as for an adoption) and records the rest.
                    entry = Entry(kind=item_kind, id=ObjectId(item_id))
                else:
                    written = kinds.authored(item_kind, body, _catalog_id(sandbox))
                    path = documents.write_definition(
                        ws.root, new_key, item_kind, graph.unresolve(item_kind, written, keys_by_id)
                    )
                    entry = Entry(
                        kind=item_kind,
                        id=ObjectId(item_id),
                        etag=etag_of(item.get("etag")),
                        applied=body,
                        applied_at=ws.deps.clock(),
                    )
                writer.record(new_key, entry)
                out.append(Imported(new_key, item_kind, ObjectId(item_id), path))
    return out


def _catalog_id(sandbox: Sandbox) -> str | None:
    return sandbox.catalog.id if sandbox.catalog is not None else None


def _check_key(
    ws: Workspace,
    state: State,
    defined: Mapping[Key, Desired],
    key: Key,
    kind: Kind,
    object_id: str,
) -> bool:
    """Whether `import KEY ID` may use key (True when its file already exists)."""
    entry = state.objects.get(key)
    if entry is not None and entry.id is not None:
        raise UsageError(
            f"{key} already manages {entry.id} in {ws.state_path(ws.config.sandbox(state.sandbox)).name}: "
            f"to manage {object_id} instead, `reconciler state rm {key}` first"
        )
    existing = defined.get(key)
    if existing is None:
        return False
    if existing.kind is not kind:
        raise UsageError(
            f"{existing.source.path} defines a {existing.kind.value}, but {object_id} is a "
            f"{kind.value}: choose another key"
        )
    return True


def _kinds_for_id(object_id: str) -> list[Kind]:
    return list(kinds.kinds_of_id(object_id) or kinds.ORDERED)


def _free_key(kind: Kind, item: Mapping[str, Any], taken: set[Key]) -> Key:
    base = offerfiles.slug(str(name_of(kind, item) or item["id"]))
    candidate = Key(f"{FOLDERS[kind]}/{base}")
    counter = 2
    while candidate in taken:
        candidate = Key(f"{FOLDERS[kind]}/{base}-{counter}")
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
    with ws.lock(sandbox) as writer:
        for key in keys:
            if writer.entry(Key(key)) is None:
                raise StateError(f"{key}: not in {ws.state_path(sandbox).name}")
        for key in keys:
            writer.record(Key(key), None)


def state_mv(ws: Workspace, sandbox_key: str | None, old: str, new: str) -> None:
    """Rename a key (after moving its file) without re-creating the object."""
    sandbox = ws.config.sandbox(sandbox_key)
    with ws.lock(sandbox) as writer:
        if writer.entry(Key(old)) is None:
            raise StateError(f"{old}: not in {ws.state_path(sandbox).name}")
        if writer.entry(Key(new)) is not None:
            raise StateError(f"{new}: already in {ws.state_path(sandbox).name}: choose another key")
        writer.move(Key(old), Key(new))
