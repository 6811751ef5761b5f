"""The Offer Library's verbs on the store: read, list, create, patch, delete.

Each write runs synchronously inside `Store.writing()` (no await in between), so a check and
the write it guards cannot interleave with another request.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from reconciler.emulator import listing, patching
from reconciler.emulator.gateway import Caller
from reconciler.emulator.problems import Problem, bad_request, conflict, invalid, not_found
from reconciler.emulator.records import Record, identity, new_id, timestamp
from reconciler.emulator.settings import EmulatorSettings
from reconciler.emulator.store import Store
from reconciler.emulator.validation import Context, check
from reconciler.kinds import SERVER_MANAGED
from reconciler.model import JsonValue, Kind, etag_of


@dataclass
class OfferLibrary:
    store: Store
    clock: Callable[[], float]

    def __post_init__(self) -> None:
        self.lister = listing.Lister(self.store)

    def read(self, caller: Caller, kind: Kind, object_id: str) -> Record:
        self.store.refresh()
        return self._find(caller, kind, object_id)

    def list(self, caller: Caller, kind: Kind, query: listing.Query) -> listing.Page:
        self.store.refresh()
        return self.lister.page(caller.partition, kind, query)

    def create(
        self, caller: Caller, kind: Kind, body: JsonValue, settings: EmulatorSettings
    ) -> Record:
        if not isinstance(body, dict):
            raise bad_request(f"the body of a {kind.value} must be a JSON object")
        # Server-managed fields in a create body are ignored, as the reference recommends.
        payload = {name: value for name, value in body.items() if name not in SERVER_MANAGED}
        with self.store.writing():
            check(kind, payload, self._context(caller, settings), old=None)
            if settings.server_defaults:
                payload = {**SERVER_DEFAULTS.get(kind, {}), **payload}
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
                body=payload,
            )
            self.store.put(caller.partition, record, created=True)
        return record

    def patch(
        self,
        caller: Caller,
        kind: Kind,
        object_id: str,
        operations: JsonValue,
        if_match: str | None,
        settings: EmulatorSettings,
    ) -> Record:
        try:
            checked = patching.check(operations)
        except patching.PatchError as error:
            raise Problem(error.status, "malformed-patch", str(error)) from None
        managed = sorted(set(patching.touched(checked)) & SERVER_MANAGED)
        with self.store.writing():
            old = self._find(caller, kind, object_id)
            _check_if_match(if_match, old, settings)
            if managed:
                raise invalid(f"/{managed[0]} is managed by the server and cannot be patched")
            try:
                patched = patching.apply_patch(dict(old.body), list(checked))
            except patching.PatchError as error:
                raise Problem(error.status, _SLUGS[error.status], str(error)) from None
            if not isinstance(patched, dict):
                raise invalid(f"the patch must leave a {kind.value} a JSON object")
            sneaked = sorted(set(patched) & SERVER_MANAGED)
            if sneaked:
                raise invalid(f"/{sneaked[0]} is managed by the server and cannot be patched")
            check(kind, patched, self._context(caller, settings), old=old)
            record = replace(
                old,
                etag=old.etag + 1,
                modified=timestamp(self.clock()),
                modified_by=identity(caller.client_id),
                modified_client=caller.client_id,
                body=patched,
            )
            self.store.put(caller.partition, record, created=False)
        return record

    def delete(
        self,
        caller: Caller,
        kind: Kind,
        object_id: str,
        if_match: str | None,
        settings: EmulatorSettings,
    ) -> None:
        with self.store.writing():
            old = self._find(caller, kind, object_id)
            _check_if_match(if_match, old, settings)
            users = self.store.referrers(caller.partition, object_id)
            if users:
                raise conflict(
                    f"{kind.value} {object_id} is still used by {', '.join(users)}: "
                    "remove those references first",
                    "still-referenced",
                )
            self.store.remove(
                caller.partition, old, client_id=caller.client_id, at=timestamp(self.clock())
            )

    def _find(self, caller: Caller, kind: Kind, object_id: str) -> Record:
        record = self.store.get(caller.partition, object_id)
        if record is None or record.kind is not kind:
            raise not_found(f"no {kind.value} {object_id} in sandbox {caller.sandbox}")
        return record

    def _context(self, caller: Caller, settings: EmulatorSettings) -> Context:
        return Context(self.store, caller.partition, settings.limits)


_SLUGS = {400: "malformed-patch", 409: "patch-test-failed", 422: "patch-conflict"}

_ALL_METADATA: dict[str, JsonValue] = dict.fromkeys(
    (
        "decisionName",
        "offerName",
        "offerAttributes",
        "offerPriority",
        "placementName",
        "channelType",
        "contentType",
    ),
    True,
)
SERVER_DEFAULTS: dict[Kind, dict[str, JsonValue]] = {
    Kind.PLACEMENT: {
        "itemCount": 1,
        "allowDuplicatePlacements": False,
        "returnContent": True,
        "returnMetaData": _ALL_METADATA,
        "labels": [],
    },
    Kind.PERSONALIZED_OFFER: {"cappingConstraint": {}, "labels": [], "characteristics": {}},
    Kind.FALLBACK_OFFER: {"labels": []},
    Kind.COLLECTION: {"labels": []},
    Kind.DECISION_RULE: {"exdRule": False, "labels": []},
    Kind.DECISION: {"labels": []},
}
"""What `server_defaults` fills in on create when the sender left the field out."""


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
