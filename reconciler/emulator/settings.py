"""The emulator's settings: fault injection, pinned IMS credentials, guardrails, item catalogs."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from reconciler.errors import UsageError

EMBEDDED_CATALOG = "dps:offer-catalog:0000000000000001"
"""The id of the item catalog every emulated sandbox has unless `catalogs` says otherwise."""
EMBEDDED_SCHEMA = "https://ns.adobe.com/reconciler/schemas/offer-items"
"""The schema id of that catalog: the `x-schema-id` every call on /offer-items carries."""
EMBEDDED_TENANT = "_reconciler"
"""The tenant namespace of that catalog: the top-level key of its items' custom attributes."""

TENANT = re.compile(r"_[A-Za-z0-9][A-Za-z0-9_]*")


@dataclass(frozen=True, slots=True)
class Catalog:
    """An item catalog of the sandbox (Decisioning): decision items and item collections name it
    by `id`; calls on /offer-items carry its `schema` as `x-schema-id`; its items keep their
    custom attributes under the `tenant` key (`_acme`)."""

    id: str
    schema: str
    tenant: str


EMBEDDED_CATALOGS: tuple[Catalog, ...] = (
    Catalog(EMBEDDED_CATALOG, EMBEDDED_SCHEMA, EMBEDDED_TENANT),
)

DEFAULT_LIMITS: Mapping[str, int] = MappingProxyType(
    {
        "offers": 10_000,
        "fallback_offers": 10_000,
        "tags": 1_000,
        "placements": 1_000,
        "decision_rules": 10_000,
        "collections": 10_000,
        "decisions": 10_000,
        "live_decisions": 1_000,
        "offers_per_collection": 500,
        "tags_per_object": 20,
        "placements_per_decision": 30,
        "collections_per_decision": 30,
        "caps_per_offer": 10,
        "attributes_per_offer": 30,
        "pql_bytes": 15 * 1024,
        "ranking_formula_pql_bytes": 8 * 1024,
        "rules_and_formulas": 10_000,
        "decision_items": 10_000,
        "item_collections": 10_000,
        "exd_placements": 1_000,
        "caps_per_item": 10,
        "custom_attributes": 100,
    }
)
"""The guardrails by name: Adobe's Decision Management limits page (reference §6.4) down to
`pql_bytes` (a rule's PQL, both models), then the Decisioning guardrails page
(decisioning-guardrails.md): a ranking formula's PQL, decision rules, eligibility rules and
ranking formulas together, decision items, item collections and exd placements per sandbox,
capping rules per decision item, custom attributes per decision item."""

DEFAULT_TOKEN_TTL = 86_399
"""Seconds an IMS access token lives, as Adobe's OAuth server-to-server answer says."""

DEFAULT_RACE_CLIENT_ID = "ui-racer"
"""Who race edits are attributed to (`lastModifiedByClientId`), unless `race_client_id` says."""


# Not slots=True: tests derive variants with `type(s)(**{**s.__dict__, ...})` as well as `replace`.
@dataclass(frozen=True)
class EmulatorSettings:
    """How the emulator misbehaves and what it enforces. Replace `app.state.settings` to change it live.

    latency_ms: sleep before answering every data call.
    rate_limit: data calls per second per client id (a token bucket); over it answers 429.
    error_rate: share of data calls answered 500/502/503 before touching any data.
    drop_rate: share of data calls whose connection drops, half before and half after the write.
    ignore_if_match: ignore If-Match entirely (the DPS docs never mention it).
    client_id/client_secret: when set, IMS accepts only these credentials.
    token_ttl: lifetime of issued access tokens, in seconds.
    seed: seeds the fault RNG so a run is reproducible.
    limits: guardrail counts by name (see DEFAULT_LIMITS); missing names take the default.
    server_defaults: a create fills in fields the sender left out, as the UI's defaults would
        (metadata flags on placements, empty label lists, an empty capping constraint, an item
        collection's `tags: []`...), and every write of an eligibility rule derives its
        `segmentModel` (see `derived`; what every Adobe read shows is added regardless).
    sparse_receipts: writes answer 200 (not 201) with a bare receipt: the id and the etag as a
        string, the variants Adobe's pages leave open.
    race_list: share of list pages that first get a UI edit to a random object of their kind
        in their sandbox (so the edit lands between the pages of a client's listing).
    race_write: share of PATCH, PUT and DELETE calls whose target first gets a UI edit (so the
        caller's etag is stale by the time its write is processed).
    race_client_id: the client id race edits are made and attributed as.
    catalogs: the item catalogs of every sandbox (Decisioning): EMBEDDED_CATALOGS unless given.
    """

    latency_ms: float = 0.0
    rate_limit: float | None = None
    error_rate: float = 0.0
    drop_rate: float = 0.0
    ignore_if_match: bool = False
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    token_ttl: int = DEFAULT_TOKEN_TTL
    seed: int | None = None
    limits: Mapping[str, int] = field(default_factory=lambda: DEFAULT_LIMITS)
    server_defaults: bool = False
    sparse_receipts: bool = False
    race_list: float = 0.0
    race_write: float = 0.0
    race_client_id: str = DEFAULT_RACE_CLIENT_ID
    catalogs: tuple[Catalog, ...] = EMBEDDED_CATALOGS

    def __post_init__(self) -> None:
        unknown = sorted(set(self.limits) - set(DEFAULT_LIMITS))
        if unknown:
            raise UsageError(
                f"emulator limits: unknown {', '.join(unknown)}; known: {', '.join(DEFAULT_LIMITS)}"
            )
        limits = {**DEFAULT_LIMITS, **self.limits}
        for name, value in limits.items():
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise UsageError(f"emulator limits: {name} must be a whole number >= 0")
        object.__setattr__(self, "limits", MappingProxyType(limits))
        for name in ("error_rate", "drop_rate", "race_list", "race_write"):
            share = getattr(self, name)
            if not 0.0 <= share <= 1.0:
                raise UsageError(f"emulator {name} must be between 0 and 1, not {share}")
        if self.latency_ms < 0:
            raise UsageError("emulator latency_ms must be >= 0")
        if self.rate_limit is not None and self.rate_limit <= 0:
            raise UsageError("emulator rate_limit must be > 0 requests per second (or unset)")
        if self.token_ttl < 1:
            raise UsageError("emulator token_ttl must be at least 1 second")
        if not self.race_client_id.strip():
            raise UsageError("emulator race_client_id must not be blank")
        if (self.client_id is None) != (self.client_secret is None):
            raise UsageError("emulator: pin both client_id and client_secret, or neither")
        self._check_catalogs()

    def _check_catalogs(self) -> None:
        catalogs = tuple(self.catalogs)
        object.__setattr__(self, "catalogs", catalogs)
        for catalog in catalogs:
            if not isinstance(catalog, Catalog):
                raise UsageError("emulator catalogs: each must be a Catalog(id, schema, tenant)")
            if not catalog.id.strip() or not catalog.schema.strip():
                raise UsageError("emulator catalogs: a catalog's id and schema must not be blank")
            if not TENANT.fullmatch(catalog.tenant):
                raise UsageError(
                    f"emulator catalogs: tenant {catalog.tenant!r} of {catalog.id} must be a "
                    "tenant namespace key such as _acme"
                )
        for attribute in ("id", "schema"):
            values = [getattr(catalog, attribute) for catalog in catalogs]
            twice = sorted({value for value in values if values.count(value) > 1})
            if twice:
                raise UsageError(f"emulator catalogs: {attribute} {twice[0]} is used twice")

    def catalog(self, catalog_id: str) -> Catalog | None:
        """The catalog with this id, if the sandbox has one."""
        return next((c for c in self.catalogs if c.id == catalog_id), None)

    def catalog_of_schema(self, schema: str) -> Catalog | None:
        """The catalog whose schema id this is (an `x-schema-id`), if the sandbox has one."""
        return next((c for c in self.catalogs if c.schema == schema), None)
