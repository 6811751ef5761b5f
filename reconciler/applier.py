"""Executes a Plan: dependency order, bounded concurrency, guarded writes, state after each one.

Apply never writes over an edit its plan did not show. In `test` mode each update is one PATCH
whose `test` operations assert the fields git owns as the plan saw them (threeway), with
If-Match as well: a UI edit that landed after the plan makes the whole PATCH fail, whether or not
the server honours If-Match. Where JSON Patch cannot assert something (a top-level member the
update adds must still be absent), and for every delete, apply reads the object first and
compares its etag, and sends If-Match. In `if-match` mode every update is guarded that way.

After an answer is lost (a dropped connection, a 5xx, a 409 from a resent request), apply reads
the object and settles: the fields it guards are the goal's (the write landed), or they are still
the plan's (nothing landed: send again, a few times), or they moved (a conflict: the UI edit
stays). An etag is recorded only when it names a revision apply knows has git's fields: the
write's own receipt, or a read-back whose fields are the ones written. Creates record their
intent before the POST and look the name up just before it, so an interrupted create is adopted
by the next plan and two clones never create the same object twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
from collections.abc import Callable, Mapping

from reconciler import api, graph, kinds, threeway, wire
from reconciler.errors import ReconcilerError
from reconciler.kinds import Update
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
    Preconditions,
    Report,
    Result,
    etag_of,
)
from reconciler.statefile import Writer

Clock = Callable[[], str]
OnResult = Callable[[Result], None]

ATTEMPTS = 5
"""Sends of one write, when each earlier one is known not to have landed (a 5xx, a drop)."""


class _Stop(Exception):
    """Ends one change early with its result."""

    def __init__(self, result: Result) -> None:
        super().__init__(result.detail or result.outcome.value)
        self.result = result


class _Gone(_Stop):
    """The object was deleted after the plan (a conflict for an update, done for a delete)."""


class _Settled(enum.Enum):
    """What a read after an unclear answer says about a write."""

    LANDED = "landed"  # the fields apply guards are the goal's
    UNCHANGED = "unchanged"  # they are still the ones the plan saw: nothing landed
    MOVED = "moved"  # someone else changed them
    GONE = "gone"  # the object no longer exists


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
        self._interrupted = False

    def interrupt(self) -> None:
        """Start nothing new (SIGINT); writes in flight finish and are recorded."""
        self._interrupted = True
        self._halted = "interrupted before it started"

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
            sandbox=self.plan.sandbox,
            results=results,
            requests=self.client.counters.total,
            throttled=self.client.counters.throttled,
            lowest_limit=self.client.counters.min_limit,
            interrupted=self._interrupted,
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
                if self._halted is not None:
                    result = self._result(change, Outcome.NOT_ATTEMPTED, detail=self._halted)
                else:
                    result = await self._execute(change)
        self._results[change.key] = result
        if self.on_result is not None:
            self.on_result(result)
        self._done[change.key].set()

    def _delete_waits(self, deletes: list[Change]) -> dict[Key, tuple[Key, ...]]:
        """A delete waits for the deletes of objects referring to it (deletes start only after
        every other change has finished)."""
        ids = {c.id: c.key for c in deletes if c.id is not None}
        referrers: dict[Key, list[Key]] = {c.key: [] for c in deletes}
        for change in deletes:
            for target in _referenced_ids(change):
                key = ids.get(ObjectId(target))
                if key is not None and key != change.key:
                    referrers[key].append(change.key)
        return {key: tuple(sorted(keys)) for key, keys in referrers.items()}

    async def _execute(self, change: Change) -> Result:
        try:
            match change.action:
                case Action.CREATE:
                    return await self._create(change)
                case Action.UPDATE | Action.ADOPT | Action.REFRESH:
                    if change.moved_from is not None and self.writer.entry(change.key) is None:
                        # The entry moves to the new key in one journal line, before any write:
                        # whatever happens next, exactly one key manages the object, with its
                        # last-applied body.
                        self.writer.move(change.moved_from, change.key)
                    if change.ops:
                        return await self._update(change)
                    return self._record_as_seen(change)
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

    # --- create -----------------------------------------------------------------------------

    async def _create(self, change: Change) -> Result:
        entry = self.writer.entry(change.key)
        if entry is not None and entry.id is not None and entry.id != change.id:
            return self._result(
                change,
                Outcome.CONFLICT,
                object_id=entry.id,
                detail="another run created it after the plan: plan again",
            )
        body = self._document(change, change.desired)
        named = [
            found
            for found in await self.client.find_by_name(change.kind, change.name)
            if self.writer.manager(str(found.get("id"))) is None
        ]
        if named:
            return self._named_after_plan(change, named, body)
        self._record(
            change.key,
            Entry(
                kind=change.kind,
                pending=Pending(change.name, self.clock()),
                protect=change.protect,
            ),
        )
        receipt = await self.client.create(
            change.kind,
            body,
            name=change.name,
            claimed=lambda object_id: self.writer.manager(object_id) is not None,
        )
        found = receipt.read_back
        sent = threeway.fields(body, change.ignore)
        if found is not None and not threeway.agree(_as_sent(change, found, body), body, sent):
            # The POST's answer was lost, and the object that has the name is not the one sent:
            # the pending entry stays, and the next plan shows that object to adopt.
            who = attribution(found)
            return self._result(
                change,
                Outcome.CONFLICT,
                object_id=receipt.id,
                by=who.by,
                at=who.at,
                detail="the answer to the POST was lost, and the object found by its name is "
                "not the one sent: plan again",
            )
        etag = await self._confirmed(change, receipt, body, sent)
        twin = await self._earlier_twin(change, receipt.id)
        if twin is not None:
            return await self._yield_to(change, receipt.id, etag, twin, body, sent)
        self._record(change.key, self._entry(change, receipt.id, etag, body))
        return self._result(change, Outcome.APPLIED, object_id=receipt.id)

    async def _earlier_twin(self, change: Change, mine: ObjectId) -> JsonObject | None:
        """An object another run created under the same name at the same moment (the lookup
        before a POST and the POST are two requests), created before this one: it stays, this
        one goes. The later of two twins always sees the earlier one (it was committed first),
        so exactly one survives whichever run looks last."""
        twins = [
            found
            for found in await self.client.find_by_name(change.kind, change.name)
            if self.writer.manager(str(found.get("id"))) is None
        ]
        if len(twins) < 2 or all(str(found.get("id")) != mine for found in twins):
            return None
        first = min(twins, key=lambda found: (str(found.get("created")), str(found.get("id"))))
        return None if str(first.get("id")) == mine else first

    async def _yield_to(
        self,
        change: Change,
        mine: ObjectId,
        etag: Etag | None,
        twin: JsonObject,
        body: JsonObject,
        sent: tuple[str, ...],
    ) -> Result:
        """Delete this run's later twin (nothing refers to it yet: its dependents wait for this
        create), then adopt the earlier one if it holds git's fields."""
        with contextlib.suppress(api.NotFound):
            await self.client.delete(change.kind, mine, if_match=etag)
        twin_id = ObjectId(str(twin["id"]))
        who = attribution(twin)
        if not threeway.agree(_as_sent(change, twin, body), body, sent):
            return self._result(
                change,
                Outcome.CONFLICT,
                object_id=twin_id,
                by=who.by,
                at=who.at,
                detail=f"another run created a {change.kind.value} named {change.name!r} at the "
                f"same moment with other content; this run's copy ({mine}) was deleted: plan "
                "again to adopt it",
            )
        self._record(change.key, self._entry(change, twin_id, etag_of(twin.get("etag")), body))
        return self._result(
            change,
            Outcome.APPLIED,
            object_id=twin_id,
            detail=f"another run created it at the same moment ({who.by} at {who.at}): adopted "
            f"that one and deleted this run's copy ({mine})",
        )

    def _named_after_plan(
        self, change: Change, named: list[JsonObject], body: JsonObject
    ) -> Result:
        """A live object took the name after the plan: adopt it if it is git's, else refuse."""
        first = named[0]
        who = attribution(first)
        object_id = ObjectId(str(first["id"]))
        if len(named) == 1 and threeway.agree(
            _as_sent(change, first, body), body, threeway.fields(body, change.ignore)
        ):
            self._record(
                change.key, self._entry(change, object_id, etag_of(first.get("etag")), body)
            )
            return self._result(
                change,
                Outcome.APPLIED,
                object_id=object_id,
                detail=f"found by name, created by {who.by} at {who.at} with git's content: adopted",
            )
        return self._result(
            change,
            Outcome.CONFLICT,
            object_id=object_id,
            by=who.by,
            at=who.at,
            detail=f"a {change.kind.value} named {change.name!r} appeared after the plan: "
            "plan again to adopt it",
        )

    # --- update -----------------------------------------------------------------------------

    async def _update(self, change: Change) -> Result:
        assert change.id is not None
        assert change.goal is not None
        guarded = _tested(self.plan, change)
        goal = self._document(change, change.goal)
        desired = self._document(change, change.desired)
        applied = threeway.recorded(desired, goal, change.ignore)
        if not guarded or change.unguarded:
            await self._guard(change)
        if_match = change.etag
        for attempt in range(1, ATTEMPTS + 1):
            try:
                receipt = await self._write(change, goal, if_match)
            except api.NotFound:
                raise _Stop(self._gone(change)) from None
            except (api.Conflict, api.OutcomeUnknown, api.ServerFailed) as unclear:
                settled, now = await self._settle(change, goal)
                match settled:
                    case _Settled.LANDED:
                        assert now is not None
                        etag = etag_of(now.get("etag"))
                        if not guarded and _skipped(if_match, etag):
                            return self._slipped(change, if_match, etag, applied)
                        self._record(change.key, self._entry(change, change.id, etag, applied))
                        return self._result(change, Outcome.APPLIED, object_id=change.id)
                    case _Settled.GONE:
                        return self._gone(change)
                    case _Settled.MOVED:
                        assert now is not None
                        return self._conflict(change, now)
                    case _Settled.UNCHANGED:
                        assert now is not None
                        now_etag = etag_of(now.get("etag"))
                        if isinstance(unclear, api.Conflict) and now_etag == if_match:
                            # Nothing moved, yet the server refused: not a precondition.
                            return self._result(change, Outcome.FAILED, detail=str(unclear))
                        if attempt == ATTEMPTS:
                            return self._result(change, Outcome.FAILED, detail=str(unclear))
                        if_match = now_etag  # only fields git does not own moved
                        await asyncio.sleep(0.05 * 2**attempt)
                        continue
            etag = await self._confirmed(change, receipt, goal, _guarded(change))
            if not guarded and _skipped(if_match, receipt.etag):
                return self._slipped(change, if_match, receipt.etag, applied)
            self._record(change.key, self._entry(change, change.id, etag, applied))
            return self._result(change, Outcome.APPLIED, object_id=change.id)
        raise AssertionError("unreachable: the last attempt returns")  # pragma: no cover

    def _slipped(
        self, change: Change, if_match: Etag | None, etag: Etag | None, applied: JsonObject
    ) -> Result:
        """No preconditions, and the etag moved by more than this write: another write landed
        between the read and this one, and the server ignored If-Match (the etag is not kept:
        the next plan diffs in full)."""
        assert change.id is not None
        self._record(change.key, self._entry(change, change.id, None, applied))
        return self._result(
            change,
            Outcome.CONFLICT,
            object_id=change.id,
            detail=f"the server ignored If-Match: another write landed between the read "
            f"(etag {if_match}) and this write (etag {etag}), and this write may have replaced "
            "some of what it set; check the object "
            + (
                "(Adobe updates this kind by PUT, which only If-Match can guard)"
                if kinds.spec(change.kind).update is Update.PUT
                else "(`preconditions: test` guards against this)"
            ),
        )

    async def _write(self, change: Change, goal: JsonObject, if_match: Etag | None) -> api.Receipt:
        """Send one update: the plan's operations as a JSON Patch, or the goal by PUT for the
        kinds Adobe updates that way (a field the goal drops is sent as null)."""
        assert change.id is not None
        assert change.live is not None
        if kinds.spec(change.kind).update is Update.PUT:
            # Only the top-level fields the update changes, as Adobe's example sends them (the
            # server keeps the others), so an edit of another field is never sent back.
            touched = {
                op.path.split("/")[1].replace("~1", "/").replace("~0", "~") for op in change.ops
            }
            body: dict[str, JsonValue] = {name: goal.get(name) for name in sorted(touched)}
            return await self.client.put(change.kind, change.id, body, if_match=if_match)
        operations = [
            self._document(change, op.to_json()) for op in change.sent(self.plan.preconditions)
        ]
        live = self._document(change, change.live)
        sent = wire.encode_patch(change.kind, operations, live, goal)
        return await self.client.patch(change.kind, change.id, sent, if_match=if_match)

    async def _guard(self, change: Change) -> JsonObject:
        """Read the object right before writing: a different etag means someone edited it."""
        assert change.id is not None
        try:
            live = await self.client.get(change.kind, change.id)
        except api.NotFound:
            raise _Gone(self._gone(change)) from None
        if etag_of(live.get("etag")) != change.etag:
            raise _Stop(self._conflict(change, live))
        return live

    async def _settle(self, change: Change, goal: JsonObject) -> tuple[_Settled, JsonObject | None]:
        """Read the object after an unclear answer and say what became of the write."""
        assert change.id is not None
        assert change.live is not None
        try:
            now = await self.client.get(change.kind, change.id)
        except api.NotFound:
            return _Settled.GONE, None
        current, places = payload(now), _guarded(change)
        if threeway.agree(_as_sent(change, now, goal), goal, places):
            return _Settled.LANDED, now
        # The preconditions still hold, and the members the update adds are still absent.
        unmoved = threeway.agree(current, change.live, places)
        if not _tested(self.plan, change):
            unmoved = unmoved and etag_of(now.get("etag")) == change.etag
        return (_Settled.UNCHANGED if unmoved else _Settled.MOVED), now

    # --- delete -----------------------------------------------------------------------------

    async def _delete(self, change: Change) -> Result:
        if change.id is None:
            self._record(change.key, None)
            return self._result(change, Outcome.APPLIED, detail="never created; removed from state")
        try:
            await self._guard(change)
        except _Gone:
            self._record(change.key, None)
            return self._result(change, Outcome.APPLIED, object_id=change.id, detail="already gone")
        for attempt in range(1, ATTEMPTS + 1):
            try:
                await self.client.delete(change.kind, change.id, if_match=change.etag)
            except api.NotFound:
                pass
            except (api.Conflict, api.OutcomeUnknown, api.ServerFailed) as unclear:
                try:
                    now = await self.client.get(change.kind, change.id)
                except api.NotFound:
                    pass  # it landed (or someone else deleted it): gone either way
                else:
                    if etag_of(now.get("etag")) != change.etag:
                        return self._conflict(change, now)
                    if isinstance(unclear, api.Conflict) or attempt == ATTEMPTS:
                        return self._result(change, Outcome.FAILED, detail=str(unclear))
                    await asyncio.sleep(0.05 * 2**attempt)
                    continue
            self._record(change.key, None)
            return self._result(change, Outcome.APPLIED, object_id=change.id)
        raise AssertionError("unreachable: the last attempt returns")  # pragma: no cover

    # --- state and values -------------------------------------------------------------------

    def _record_as_seen(self, change: Change) -> Result:
        """An adoption or refresh without operations: record what the plan saw, send nothing."""
        assert change.id is not None
        desired = self._document(change, change.desired)
        applied = threeway.recorded(desired, self._document(change, change.goal), change.ignore)
        self._record(change.key, self._entry(change, change.id, change.etag, applied))
        detail = "adopted" if change.action is Action.ADOPT else "state refreshed"
        return self._result(change, Outcome.APPLIED, object_id=change.id, detail=detail)

    async def _confirmed(
        self, change: Change, receipt: api.Receipt, goal: JsonObject, places: tuple[str, ...]
    ) -> Etag | None:
        """The etag to record for a write: its receipt's, or a read-back's that holds the goal
        at every place the write guards or sets (None when it shows someone else's edit)."""
        if receipt.etag is not None and receipt.read_back is None:
            return receipt.etag
        now = receipt.read_back or await self.client.get(change.kind, receipt.id)
        if threeway.agree(_as_sent(change, now, goal), goal, places):
            return etag_of(now.get("etag"))
        return None

    def _record(self, key: Key, entry: Entry | None) -> None:
        self.writer.record(key, entry)

    def _resolved(self, change: Change, value: JsonValue) -> JsonValue:
        """value with the ids of objects this apply created; NOT_ATTEMPTED if one is missing."""
        resolved, missing = graph.resolve_refs(value, self.writer.ids)
        if missing:
            raise _Stop(
                self._result(
                    change,
                    Outcome.NOT_ATTEMPTED,
                    detail=f"no id yet for {', '.join(sorted(missing))}",
                )
            )
        return resolved

    def _document(self, change: Change, document: Mapping[str, JsonValue] | None) -> JsonObject:
        resolved = self._resolved(change, dict(document or {}))
        assert isinstance(resolved, dict)
        return resolved

    def _entry(
        self, change: Change, object_id: ObjectId, etag: Etag | None, body: JsonObject
    ) -> Entry:
        return Entry(
            kind=change.kind,
            id=object_id,
            etag=etag,
            applied=body,
            applied_at=self.clock(),
            protect=change.protect,
        )

    def _gone(self, change: Change) -> Result:
        return self._result(change, Outcome.CONFLICT, object_id=change.id, detail=_GONE)

    def _conflict(self, change: Change, live: JsonObject) -> Result:
        """The object changed after the plan: not written; who changed it and when."""
        who = attribution(live)
        return self._result(change, Outcome.CONFLICT, object_id=change.id, by=who.by, at=who.at)

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


_GONE = "deleted after the plan"


def _as_sent(change: Change, live: Mapping[str, JsonValue], sent: JsonObject) -> JsonObject:
    """A live object's payload, in the case it was sent where the server folds case."""
    return wire.align(change.kind, payload(live), sent)


def _tested(plan: Plan, change: Change) -> bool:
    """Whether an update's write carries its `test` preconditions (a PUT cannot)."""
    return (
        plan.preconditions is Preconditions.TEST and kinds.spec(change.kind).update is Update.PATCH
    )


def _skipped(before: Etag | None, after: Etag | None) -> bool:
    """Whether integer etags (as Adobe's are: +1 per write) moved by more than one write."""
    if before is None or after is None or not before.isdigit() or not after.isdigit():
        return False
    return int(after) > int(before) + 1


def _guarded(change: Change) -> tuple[str, ...]:
    """The places an update's write guards (its tests' paths) or sets at the top level."""
    return (*(op.path for op in change.tests), *change.unguarded)


def _referenced_ids(change: Change) -> list[str]:
    return [
        str(ref.value)
        for ref in kinds.references(change.kind, change.last or change.live or {})
        if isinstance(ref.value, str)
    ]
