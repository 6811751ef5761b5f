"""The Offer Library's verbs on the store: read, list, create, patch, put, delete.

Each write runs synchronously inside `Store.writing()` (no await in between), so a check and
the write it guards cannot interleave with another request.

A request names a `Target`: the kinds its path's collection holds (two on /offer-rules, told
apart by `exdRule`: a create takes the kind its body's flag says, a read or write by id acts on
the stored object's kind, a list returns both) and, on /offer-items, the catalog of its
`x-schema-id` (an item of another catalog is not found there). How each kind is updated is in
`updates`; what the server owns inside a payload, in `derived`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from reconciler.emulator import derived, listing, patching, quirks, updates
from reconciler.emulator.gateway import Caller
from reconciler.emulator.problems import Problem, bad_request, conflict, invalid, not_found
from reconciler.emulator.records import Record, identity, new_id, timestamp
from reconciler.emulator.settings import Catalog, EmulatorSettings
from reconciler.emulator.store import Store
from reconciler.emulator.validation import Context, check
from reconciler.kinds import SERVER_MANAGED
from reconciler.model import JsonObject, JsonValue, Kind, etag_of


@dataclass(frozen=True, slots=True)
class Target:
    """What a request's path names: its collection's kinds and its x-schema-id's catalog."""

    kinds: tuple[Kind, ...]
    catalog: Catalog | None = None

    @property
    def label(self) -> str:
        return " or ".join(kind.value for kind in self.kinds)


Revision = Callable[[Record], JsonObject]
"""Computes the client fields of an update from the stored object (raises a Problem)."""


@dataclass
class OfferLibrary:
    store: Store
    clock: Callable[[], float]

    def __post_init__(self) -> None:
        self.lister = listing.Lister(self.store)

    def read(self, caller: Caller, target: Target, object_id: str) -> Record:
        self.store.refresh()
        return self._find(caller, target, object_id)

    def list(self, caller: Caller, target: Target, query: listing.Query) -> listing.Page:
        self.store.refresh()
        scope: tuple[str, ...] = ()
        if target.catalog is not None:
            scope = (".".join(derived.CATALOG_ID) + "==" + target.catalog.id,)
        return self.lister.page(caller.partition, target.kinds, query, scope)

    def create(
        self, caller: Caller, target: Target, body: JsonValue, settings: EmulatorSettings
    ) -> Record:
        if not isinstance(body, dict):
            raise bad_request(f"the body of a {target.label} must be a JSON object")
        kind = next(k for k in target.kinds if len(target.kinds) == 1 or quirks.holds(k, body))
        # Server-managed fields in a create body are ignored, as the reference recommends.
        payload = derived.client_fields(kind, body)
        with self.store.writing():
            check(kind, payload, self._context(caller, settings), old=None)
            updates.check_scope(kind, payload, target.catalog, settings)
            now = self.clock()
            object_id = new_id(kind, now)
            while self.store.exists(object_id):
                object_id = new_id(kind, now)
            by = identity(caller.client_id)
            record = Record(
                kind=kind,
                id=object_id,
                etag=1,
                created=timestamp(now),
                modified=timestamp(now),
                created_by=by,
                modified_by=by,
                created_client=caller.client_id,
                modified_client=caller.client_id,
                body=derived.complete(
                    kind,
                    payload,
                    object_id,
                    caller.partition,
                    created=True,
                    defaults=settings.server_defaults,
                ),
            )
            self.store.put(caller.partition, record, created=True)
        return record

    def patch(
        self,
        caller: Caller,
        target: Target,
        object_id: str,
        operations: JsonValue,
        if_match: str | None,
        settings: EmulatorSettings,
    ) -> Record:
        """JSON Patch; a JSON object replaces an eligibility rule or a ranking formula whole."""
        if isinstance(operations, dict) and updates.REPLACEABLE & set(target.kinds):
            document = operations

            def replaced(old: Record) -> JsonObject:
                if old.kind not in updates.REPLACEABLE:
                    raise bad_request(
                        f"a {old.kind.value} is patched with a JSON Patch document: send a "
                        "JSON array of operations"
                    )
                return updates.replacement(old, document)

            return self._revise(caller, target, object_id, if_match, settings, "PATCH", replaced)
        try:
            checked = patching.check(operations)
        except patching.PatchError as error:
            raise Problem(error.status, "malformed-patch", str(error)) from None

        def patched(old: Record) -> JsonObject:
            managed = sorted(set(patching.touched(checked)) & SERVER_MANAGED)
            if managed:
                raise invalid(f"/{managed[0]} is managed by the server and cannot be patched")
            derived.refuse_managed_operations(old.kind, patching.pointers(checked))
            try:
                result = patching.apply_patch(dict(old.body), list(checked))
            except patching.PatchError as error:
                raise Problem(error.status, _SLUGS[error.status], str(error)) from None
            if not isinstance(result, dict):
                raise invalid(f"the patch must leave a {old.kind.value} a JSON object")
            sneaked = sorted(set(result) & SERVER_MANAGED)
            if sneaked:
                raise invalid(f"/{sneaked[0]} is managed by the server and cannot be patched")
            return derived.keep_managed(old.kind, old.body, result)

        return self._revise(caller, target, object_id, if_match, settings, "PATCH", patched)

    def put(
        self,
        caller: Caller,
        target: Target,
        object_id: str,
        body: JsonValue,
        if_match: str | None,
        settings: EmulatorSettings,
    ) -> Record:
        """Replace (eligibility rules, ranking formulas) or merge (exd placements) a body."""
        if not isinstance(body, dict):
            raise bad_request(f"the body of a PUT on a {target.label} must be a JSON object")

        def put(old: Record) -> JsonObject:
            if old.kind in updates.REPLACEABLE:
                return updates.replacement(old, body)
            return updates.merge(old, body)

        return self._revise(caller, target, object_id, if_match, settings, "PUT", put)

    def delete(
        self,
        caller: Caller,
        target: Target,
        object_id: str,
        if_match: str | None,
        settings: EmulatorSettings,
    ) -> None:
        with self.store.writing():
            old = self._find(caller, target, object_id)
            _check_if_match(if_match, old, settings)
            users = self.store.referrers(caller.partition, object_id)
            if users:
                raise conflict(
                    f"{old.kind.value} {object_id} is still used by {', '.join(users)}: "
                    "remove those references first",
                    "still-referenced",
                )
            self.store.remove(
                caller.partition, old, client_id=caller.client_id, at=timestamp(self.clock())
            )

    def _revise(
        self,
        caller: Caller,
        target: Target,
        object_id: str,
        if_match: str | None,
        settings: EmulatorSettings,
        method: str,
        revision: Revision,
    ) -> Record:
        with self.store.writing():
            old = self._find(caller, target, object_id)
            allowed = updates.methods(old.kind)
            if method not in allowed:
                raise updates.not_allowed(method, old.kind, allowed)
            _check_if_match(if_match, old, settings)
            payload = revision(old)
            updates.check_flag(old.kind, payload)
            check(old.kind, payload, self._context(caller, settings), old=old)
            updates.check_scope(old.kind, payload, target.catalog, settings)
            body = derived.complete(
                old.kind,
                payload,
                old.id,
                caller.partition,
                created=False,
                defaults=settings.server_defaults,
            )
            record = replace(
                old,
                etag=old.etag + 1,
                modified=timestamp(self.clock()),
                modified_by=identity(caller.client_id),
                modified_client=caller.client_id,
                body=body,
            )
            self.store.put(caller.partition, record, created=False)
        return record

    def _find(self, caller: Caller, target: Target, object_id: str) -> Record:
        record = self.store.get(caller.partition, object_id)
        if record is None or record.kind not in target.kinds:
            raise not_found(f"no {target.label} {object_id} in sandbox {caller.sandbox}")
        catalog = target.catalog
        if catalog is not None and derived.at(record.body, derived.CATALOG_ID) != catalog.id:
            raise not_found(
                f"no {target.label} {object_id} in catalog {catalog.id} (x-schema-id "
                f"{catalog.schema}) of sandbox {caller.sandbox}"
            )
        return record

    def _context(self, caller: Caller, settings: EmulatorSettings) -> Context:
        return Context(self.store, caller.partition, settings.limits, settings.catalogs)


_SLUGS = {400: "malformed-patch", 409: "patch-test-failed", 422: "patch-conflict"}


def _check_if_match(header: str | None, record: Record, settings: EmulatorSettings) -> None:
    """If-Match holds the integer etag, quoted, unquoted or weak, or `*`; a mismatch is 409."""
    if header is None or settings.ignore_if_match:
        return
    for candidate in header.split(","):
        if candidate.strip() == "*" or etag_of(candidate) == str(record.etag):
            return
    raise conflict(
        f"If-Match {header.strip()!r} does not match: the current etag of {record.id} is "
        f"{record.etag}; read it again and retry",
        "etag-mismatch",
    )
