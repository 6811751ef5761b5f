"""Executes a Plan: dependency order, bounded concurrency, etag guards, state after every write.

Apply never writes an object that changed after the plan: before each PATCH or DELETE it reads
the object and compares its etag with the one the plan saw, then sends If-Match as well, so the
guarantee holds whether or not the server honours the header. Creates record their intent in
state before the POST, so an interrupted create is found by name and adopted on the next run.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping

from reconciler import api, diff, graph, kinds, planner
from reconciler.errors import ReconcilerError
from reconciler.live import attribution, payload
from reconciler.model import (
    Action,
    Change,
    Entry,
    Etag,
    JsonObject,
    JsonValue,
    Key,
    ObjectId,
    Outcome,
    Pending,
    Plan,
    Report,
    Result,
    etag_of,
)
from reconciler.statefile import Writer

Clock = Callable[[], str]
OnResult = Callable[[Result], None]


class _Stop(Exception):
    """Ends one change early with its result."""

    def __init__(self, result: Result) -> None:
        super().__init__(result.detail or result.outcome.value)
        self.result = result


class Applier:
    """One run of one plan against one sandbox."""

    def __init__(
        self,
        plan: Plan,
        client: api.Client,
        writer: Writer,
        *,
        clock: Clock,
        parallelism: int = 4,
        on_result: OnResult | None = None,
    ) -> None:
        self.plan = plan
        self.client = client
        self.writer = writer
        self.clock = clock
        self.parallelism = max(1, parallelism)
        self.on_result = on_result
        self._results: dict[Key, Result] = {}
        self._done: dict[Key, asyncio.Event] = {}
        self._gate = asyncio.Semaphore(self.parallelism)
        self._halted: str | None = None

    async def run(self) -> Report:
        changes = self.plan.changes
        self._done = {change.key: asyncio.Event() for change in changes}
        writes = [c for c in changes if c.action is not Action.DELETE]
        deletes = [c for c in changes if c.action is Action.DELETE]
        await asyncio.gather(*(self._run(change, change.depends_on) for change in writes))
        waits = self._delete_waits(deletes)
        await asyncio.gather(*(self._run(change, waits[change.key]) for change in deletes))
        results = tuple(self._results[change.key] for change in changes)
        return Report(
            sandbox=self.plan.sandbox, results=results, requests=self.client.counters.total
        )

    # --- scheduling -------------------------------------------------------------------------

    async def _run(self, change: Change, waits_for: tuple[Key, ...]) -> None:
        for key in waits_for:
            if key in self._done:
                await self._done[key].wait()
        failed = [
            key
            for key in waits_for
            if key in self._results and self._results[key].outcome is not Outcome.APPLIED
        ]
        if failed and change.action is not Action.DELETE:
            result = self._result(
                change,
                Outcome.NOT_ATTEMPTED,
                detail=f"depends on {', '.join(failed)}, which was not applied",
            )
        elif self._halted is not None:
            result = self._result(change, Outcome.NOT_ATTEMPTED, detail=self._halted)
        else:
            async with self._gate:
                result = await self._execute(change)
        self._results[change.key] = result
        if self.on_result is not None:
            self.on_result(result)
        self._done[change.key].set()

    def _delete_waits(self, deletes: list[Change]) -> dict[Key, tuple[Key, ...]]:
        """A delete waits for every create and update, and for deletes of objects referring to it."""
        others = tuple(c.key for c in self.plan.changes if c.action is not Action.DELETE)
        ids = {c.id: c.key for c in deletes if c.id is not None}
        referrers: dict[Key, list[Key]] = {c.key: [] for c in deletes}
        for change in deletes:
            entry = self.writer.state.objects.get(change.key)
            if entry is None or entry.applied is None:
                continue
            for ref in kinds.references(entry.kind, entry.applied):
                target = ids.get(ObjectId(str(ref.value)))
                if target is not None and target != change.key:
                    referrers[target].append(change.key)
        return {key: (*others, *sorted(keys)) for key, keys in referrers.items()}

    async def _execute(self, change: Change) -> Result:
        try:
            match change.action:
                case Action.CREATE:
                    return await self._create(change)
                case Action.UPDATE:
                    return await self._update(change)
                case Action.DELETE:
                    return await self._delete(change)
        except _Stop as stop:
            return stop.result
        except api.ApiError as error:
            return self._result(change, Outcome.FAILED, detail=str(error))
        except ReconcilerError as error:
            self._halted = f"stopped: {error}"
            return self._result(change, Outcome.FAILED, detail=str(error))
        except OSError as error:
            self._halted = f"stopped: the state file could not be written ({error})"
            return self._result(change, Outcome.FAILED, detail=self._halted)

    # --- the three actions ------------------------------------------------------------------

    async def _create(self, change: Change) -> Result:
        entry = self.writer.state.objects.get(change.key)
        if entry is not None and entry.id is not None and entry.id != change.id:
            return self._result(
                change,
                Outcome.CONFLICT,
                object_id=entry.id,
                detail="it was created after the plan; plan again",
            )
        body = self._resolved(change)
        if entry is not None and entry.pending is not None:
            # A previous run was interrupted during this create: adopt what it made, if anything.
            found = await self.client.find_by_name(change.kind, entry.pending.name)
            if len(found) == 1:
                receipt = api.Receipt(ObjectId(str(found[0]["id"])), etag_of(found[0].get("etag")))
                return await self._adopt_created(change, receipt, body, found[0])
        self._record(
            change.key, Entry(kind=change.kind, pending=Pending(change.name, self.clock()))
        )
        receipt = await self.client.create(change.kind, body, name=change.name)
        return await self._adopt_created(change, receipt, body, None)

    async def _adopt_created(
        self, change: Change, receipt: api.Receipt, body: JsonObject, live: JsonObject | None
    ) -> Result:
        etag = receipt.etag
        if etag is None:
            live = live or await self.client.get(change.kind, receipt.id)
            etag = etag_of(live.get("etag"))
        if live is not None:
            # An interrupted create may have landed with other content (an older plan): bring
            # git's fields up to date, leaving whatever the server set on its own alone.
            current = payload(live)
            ops = diff.json_patch(current, planner.merge3(body, None, current))
            if ops:
                receipt = await self.client.patch(change.kind, receipt.id, ops, if_match=etag)
                etag = receipt.etag
        self._record(change.key, self._applied_entry(change, receipt.id, etag, body))
        return self._result(change, Outcome.APPLIED, object_id=receipt.id)

    async def _update(self, change: Change) -> Result:
        assert change.id is not None
        live = await self._guard(change)
        ops = [self._resolved_op(change, op.to_json()) for op in change.ops]
        body = self._resolved(change)
        if not ops:
            self._record(change.key, self._applied_entry(change, change.id, change.etag, body))
            return self._result(change, Outcome.APPLIED, object_id=change.id, detail="adopted")
        try:
            receipt = await self.client.patch(change.kind, change.id, ops, if_match=change.etag)
        except api.Conflict as conflict:
            raise _Stop(await self._conflict_or_failure(change, conflict)) from None
        except api.OutcomeUnknown as unknown:
            receipt = await self._settle_patch(change, live, ops, unknown)
        etag = receipt.etag
        if etag is None:
            etag = etag_of((await self.client.get(change.kind, change.id)).get("etag"))
        self._record(change.key, self._applied_entry(change, change.id, etag, body))
        return self._result(change, Outcome.APPLIED, object_id=change.id)

    async def _delete(self, change: Change) -> Result:
        if change.id is None:
            self._record(change.key, None)
            return self._result(change, Outcome.APPLIED, detail="never created; removed from state")
        try:
            await self._guard(change)
        except api.NotFound:
            self._record(change.key, None)
            return self._result(change, Outcome.APPLIED, object_id=change.id, detail="already gone")
        try:
            await self.client.delete(change.kind, change.id, if_match=change.etag)
        except api.NotFound:
            pass
        except api.Conflict as conflict:
            raise _Stop(await self._conflict_or_failure(change, conflict)) from None
        except api.OutcomeUnknown:
            try:
                await self.client.get(change.kind, change.id)
            except api.NotFound:
                pass
            else:
                raise
        self._record(change.key, None)
        return self._result(change, Outcome.APPLIED, object_id=change.id)

    # --- guards -----------------------------------------------------------------------------

    async def _guard(self, change: Change) -> JsonObject:
        """Read the object right before writing: a different etag means someone edited it."""
        assert change.id is not None
        live = await self.client.get(change.kind, change.id)
        etag = etag_of(live.get("etag"))
        if etag != change.etag:
            raise _Stop(self._conflict(change, live, f"etag {change.etag} planned, {etag} live"))
        return live

    async def _conflict_or_failure(self, change: Change, error: api.ApiError) -> Result:
        """A 409 is a conflict if the object moved; otherwise the server refused (e.g. in use)."""
        assert change.id is not None
        try:
            live = await self.client.get(change.kind, change.id)
        except api.NotFound:
            return self._result(
                change, Outcome.CONFLICT, object_id=change.id, detail="deleted after the plan"
            )
        if etag_of(live.get("etag")) != change.etag:
            return self._conflict(change, live, None)
        return self._result(change, Outcome.FAILED, object_id=change.id, detail=str(error))

    async def _settle_patch(
        self,
        change: Change,
        before: JsonObject,
        ops: list[dict[str, JsonValue]],
        unknown: api.OutcomeUnknown,
    ) -> api.Receipt:
        """The connection dropped during a PATCH: find out whether it landed; resend only if not."""
        assert change.id is not None
        now = await self.client.get(change.kind, change.id)
        etag = etag_of(now.get("etag"))
        if etag == change.etag:
            return await self.client.patch(change.kind, change.id, ops, if_match=change.etag)
        expected = diff.apply(payload(before), ops)
        if diff.json_equal(payload(now), expected):
            return api.Receipt(change.id, etag)
        raise _Stop(self._conflict(change, now, f"{unknown.detail}; the object changed meanwhile"))

    # --- state and values -------------------------------------------------------------------

    def _record(self, key: Key, entry: Entry | None) -> None:
        self.writer.record(key, entry)

    def _ids(self) -> dict[Key, str]:
        return {
            key: entry.id
            for key, entry in self.writer.state.objects.items()
            if entry.id is not None
        }

    def _resolved(self, change: Change) -> JsonObject:
        assert change.body is not None
        body = graph.resolve(change.kind, change.body, self._ids())
        missing = graph.dependencies(change.kind, body)
        if missing:
            raise _Stop(
                self._result(
                    change,
                    Outcome.NOT_ATTEMPTED,
                    detail=f"no id yet for {', '.join(sorted(missing))}",
                )
            )
        return body

    def _resolved_op(self, change: Change, op: dict[str, JsonValue]) -> dict[str, JsonValue]:
        if "value" not in op:
            return op
        ids = self._ids()
        value = op["value"]
        key = graph.ref_key(value)
        if key is not None:
            if key not in ids:
                raise _Stop(
                    self._result(change, Outcome.NOT_ATTEMPTED, detail=f"no id yet for {key}")
                )
            return {**op, "value": ids[key]}
        if isinstance(value, (dict, list)):
            return {**op, "value": _resolve_nested(value, ids)}
        return op

    def _applied_entry(
        self, change: Change, object_id: ObjectId, etag: Etag | None, body: JsonObject
    ) -> Entry:
        return Entry(
            kind=change.kind, id=object_id, etag=etag, applied=body, applied_at=self.clock()
        )

    def _conflict(self, change: Change, live: JsonObject, detail: str | None) -> Result:
        """The object changed after the plan: not written, and who changed it when."""
        who = attribution(live)
        return self._result(
            change, Outcome.CONFLICT, object_id=change.id, by=who.by, at=who.at, detail=detail
        )

    def _result(
        self,
        change: Change,
        outcome: Outcome,
        *,
        object_id: ObjectId | None = None,
        detail: str | None = None,
        by: str | None = None,
        at: str | None = None,
    ) -> Result:
        return Result(
            key=change.key,
            kind=change.kind,
            action=change.action,
            outcome=outcome,
            id=object_id or change.id,
            detail=detail,
            by=by,
            at=at,
        )


def _resolve_nested(value: JsonValue, ids: Mapping[Key, str]) -> JsonValue:
    """Replace {ref: key} anywhere inside an operation's value (a whole representation, say)."""
    key = graph.ref_key(value)
    if key is not None:
        return ids.get(key, value)
    if isinstance(value, dict):
        return {k: _resolve_nested(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve_nested(v, ids) for v in value]
    return value
