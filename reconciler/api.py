"""Offer Library client over httpx: IMS auth, retries, pagination, typed errors (the only httpx user)."""

from __future__ import annotations

import asyncio
import json
import math
import random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

import httpx

from reconciler import kinds, throttle, wire
from reconciler.errors import ConfigError, ReconcilerError
from reconciler.model import (
    Credentials,
    Etag,
    JsonObject,
    JsonValue,
    Kind,
    ObjectId,
    etag_of,
    name_of,
    name_path,
)

Log = Callable[[str], None]


# --- errors ---------------------------------------------------------------------------------


class ApiError(ReconcilerError):
    """A request failed; the message names the operation, the object and the server's detail."""

    def __init__(self, operation: str, status: int | None, detail: str) -> None:
        self.operation = operation
        self.status = status
        self.detail = detail
        code = f"HTTP {status}" if status is not None else "no response"
        super().__init__(f"{operation}: {code}: {detail}")


class Conflict(ApiError):
    """409/412: the object changed since its etag was read."""


class NotFound(ApiError):
    """404: no such object."""


class WrongKind(ApiError):
    """The object read exists but its flag says it is of the other kind of its collection
    (Adobe's own lookup example shows `exdRule: false` on an eligibility rule): never taken
    for "gone", so no state entry is forgotten on its account."""


class Invalid(ApiError):
    """400/422: the server refused the content."""


class AuthFailed(ApiError):
    """401/403: credentials missing, wrong or not entitled."""


class RateLimited(ApiError):
    """429 for longer than the retry policy's throttled budget."""


class ServerFailed(ApiError):
    """5xx after every retry."""


class Unsettled(ApiError):
    """Every pass over a list saw fewer objects than its total: objects came and went meanwhile."""

    def __init__(self, operation: str, detail: str) -> None:
        super().__init__(operation, 200, detail)
        self.args = (f"{operation}: {detail}",)  # the server answered fine: no status to show


class OutcomeUnknown(ApiError):
    """The request may or may not have been applied (connection lost after sending)."""


_BY_STATUS: Mapping[int, type[ApiError]] = {
    400: Invalid,
    401: AuthFailed,
    403: AuthFailed,
    404: NotFound,
    409: Conflict,
    412: Conflict,
    422: Invalid,
    429: RateLimited,
}


# --- values ---------------------------------------------------------------------------------


class MissingCatalog(ConfigError):
    """A decision item call without the sandbox catalog's schema id to send as x-schema-id."""

    def __init__(self, kind: Kind) -> None:
        super().__init__(
            f"{kind.value} calls need the sandbox's catalog: set decisioning: {{catalog: <item "
            "catalog id>, schema: <its schema id>} under the sandbox in reconciler.yaml"
        )


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where a sandbox's API lives, and the headers that select it."""

    base_url: str
    ims_url: str | None
    org: str
    sandbox: str
    schema_id: str | None = None
    """The `x-schema-id` of the sandbox's item catalog, sent on every decision item call."""


@dataclass(frozen=True, slots=True)
class Receipt:
    """What a write returns, tolerant of the variants Adobe's pages show."""

    id: ObjectId
    etag: Etag | None
    modified_by: str | None = None
    modified_at: str | None = None
    read_back: Mapping[str, JsonValue] | None = None
    """The object itself, when the answer was lost and the object was found by name instead."""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How long a request is retried.

    5xx answers and lost connections are retried `attempts` times within `budget` seconds.
    429 answers say nothing was done and the server is merely busy, so a throttled request
    keeps trying for up to `throttled_budget` seconds from its first 429, however many tries.
    """

    attempts: int = 8
    initial: float = 0.2
    maximum: float = 10.0
    budget: float = 120.0
    throttled_budget: float = 900.0


@dataclass
class Counters:
    """Requests sent, by method, and how the server throttled them (benchmarks, the apply report)."""

    by_method: dict[str, int] = field(default_factory=dict)
    retries: int = 0
    throttled: int = 0
    """429 answers seen."""
    limit: int = 0
    """Requests allowed in flight now (the adaptive limit)."""
    min_limit: int = 0
    """The lowest the adaptive limit went."""

    @property
    def total(self) -> int:
        return sum(self.by_method.values())


_RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_MAYBE_SENT = (
    httpx.ReadTimeout,
    httpx.WriteTimeout,
    httpx.RemoteProtocolError,
    httpx.ReadError,
    httpx.WriteError,
)


DPS_PATH = "/data/core/dps"
_XDM = "application/vnd.adobe.xdm+json"
DECISION_REQUEST = f'{_XDM}; schema="https://ns.adobe.com/experience/offer-management/decision-request;version=1.0"'
DECISION_RESPONSE = f'{_XDM}; schema="https://ns.adobe.com/experience/offer-management/decision-response;version=1.0"'
"""The Decisioning API's media types (its page's required-headers table)."""

LIST_ORDER = "created"
"""Lists sort by creation time (ascending), which no edit changes; ties stay on one page."""
LIST_PASSES = 3
"""Times a list is read from the start when a pass sees fewer objects than its total."""
MAX_PAGES = 100_000


def asgi_transport(app: Callable[..., Awaitable[None]]) -> httpx.AsyncBaseTransport:
    """An in-process transport to an ASGI app (the embedded sandbox, tests)."""
    return httpx.ASGITransport(app=app)


class Client:
    """An async client for every Decision Management kind and verb."""

    def __init__(
        self,
        endpoint: Endpoint,
        credentials: Credentials,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        max_in_flight: int = 8,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        log: Log | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        seed: int | None = None,
    ) -> None:
        """`max_in_flight` is the ceiling of the adaptive limit; `clock` and `sleep` go together."""
        self.endpoint = endpoint
        self._credentials = credentials
        self._retry = retry or RetryPolicy()
        self._log = log
        self._sleep = sleep
        self._clock = clock
        self._rng = random.Random(seed)
        self._gate = throttle.Gate(throttle.AdaptiveLimit(max_in_flight), clock, sleep)
        self._token: str | None = credentials.access_token
        self._token_expires = math.inf if credentials.access_token else 0.0
        self._token_lock = asyncio.Lock()
        self._auth_refused: AuthFailed | None = None
        ceiling = self._gate.limit.ceiling
        self.counters = Counters(limit=ceiling, min_limit=ceiling)
        self._http = httpx.AsyncClient(
            transport=transport,
            timeout=httpx.Timeout(timeout, connect=10.0),
            limits=httpx.Limits(
                max_connections=max_in_flight, max_keepalive_connections=max_in_flight
            ),
            follow_redirects=False,
        )

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # --- reads ------------------------------------------------------------------------------

    async def list_all(
        self, kind: Kind, *, filters: Sequence[str] = (), page_size: int = 100
    ) -> list[JsonObject]:
        """Every object of a kind, in creation order, each once.

        Pages are sorted by `created`, which no edit changes: under the default `-modified`
        an object edited while we page jumps ahead of the cursor and is never seen. Objects
        created or deleted meanwhile can still make a pass see fewer objects than the `total`
        the pages report; then the whole list is read again, up to LIST_PASSES times.
        """
        operation = f"list {kind.value}"
        spec = kinds.spec(kind)
        for _ in range(LIST_PASSES):
            # A collection shared by two kinds (/offer-rules) is listed whole, its total checked,
            # and its objects told apart by their flag: a filter that the next pages' links
            # dropped (Adobe's own example drops it from `self`) would break the total.
            found, total = await self._list_pass(kind, filters, page_size)
            if total is None or len(found) >= total:
                return [wire.decode(kind, item) for item in found.values() if spec.holds(item)]
            if self._log is not None:
                self._log(f"{operation}: saw {len(found)} of {total} objects; listing again")
        raise Unsettled(
            operation,
            f"{LIST_PASSES} passes each saw fewer objects than the total (the last {len(found)} "
            f"of {total}): objects are being created or deleted meanwhile; run the command again",
        )

    async def _list_pass(
        self, kind: Kind, filters: Sequence[str], page_size: int
    ) -> tuple[dict[str, JsonObject], int | None]:
        """One pass over every page: the objects by id (the latest copy), and the last total."""
        spec = kinds.spec(kind)
        operation = f"list {kind.value}"
        params: list[tuple[str, str]] = [
            *spec.query.items(),
            ("orderby", LIST_ORDER),
            ("limit", str(page_size)),
        ]
        params += [("property", expression) for expression in filters]
        url = self._url(spec.collection)
        found: dict[str, JsonObject] = {}
        for _ in range(MAX_PAGES):
            body = await self._json("GET", url, operation, params=params, kind=kind)
            page = body.get("results") if isinstance(body, dict) else None
            if not isinstance(page, list):
                raise ApiError(operation, 200, "the response has no results list")
            for item in page:
                if isinstance(item, dict):
                    found[str(item.get("id"))] = item
            following = _next_href(body)
            if following is None:
                total = body.get("total")
                is_count = isinstance(total, int) and not isinstance(total, bool)
                return found, total if is_count else None
            url, params = self._url(following), []
        raise ApiError(operation, 200, "pagination does not end")

    async def get(self, kind: Kind, object_id: str) -> JsonObject:
        spec = kinds.spec(kind)
        body = await self._json(
            "GET",
            self._object_url(kind, object_id),
            f"read {kind.value} {object_id}",
            params=list(spec.query.items()),
            kind=kind,
        )
        if not isinstance(body, dict):
            raise ApiError(f"read {kind.value} {object_id}", 200, "the response is not an object")
        if not spec.holds(body):  # the other kind of a shared collection (/offer-rules)
            raise WrongKind(
                f"read {kind.value} {object_id}",
                200,
                f"the object's flag says it is not {'an' if kind.value[0] in 'aeiou' else 'a'} "
                f"{kind.value}",
            )
        return wire.decode(kind, body)

    async def find_by_name(self, kind: Kind, name: str) -> list[JsonObject]:
        """Live objects of a kind with exactly this name (how an interrupted create is found)."""
        field = ".".join(name_path(kind))
        found = await self.list_all(kind, filters=(f"{field}=={name}",))
        return [item for item in found if name_of(kind, item) == name]

    # --- writes -----------------------------------------------------------------------------

    async def create(
        self,
        kind: Kind,
        body: Mapping[str, JsonValue],
        *,
        name: str,
        claimed: Callable[[str], bool] = lambda _: False,
    ) -> Receipt:
        """POST a new object. When the outcome is unknown, look it up by name before trying again.

        An object found by name after a lost answer comes back as the receipt's `read_back`, for
        the caller to check it is the one sent; objects whose id `claimed` says is someone
        else's (another key manages it) are never taken for it.
        """
        spec = kinds.spec(kind)
        operation = f"create {kind.value} {name!r}"
        url = self._url(spec.collection)
        params = list(spec.query.items())
        payload = json.dumps(wire.encode(kind, body), ensure_ascii=False).encode("utf-8")
        attempt = 0
        while True:
            attempt += 1
            try:
                response = await self._send(
                    "POST",
                    url,
                    operation,
                    params=params,
                    content=payload,
                    idempotent=False,
                    kind=kind,
                )
            except (OutcomeUnknown, ServerFailed) as unknown:
                existing = [
                    found
                    for found in await self.find_by_name(kind, name)
                    if not claimed(str(found.get("id")))
                ]
                if len(existing) == 1:
                    return _receipt_from_object(existing[0])
                if existing or attempt >= self._retry.attempts:
                    raise unknown
                await self._backoff(attempt, None)
                continue
            return _receipt(response, operation)

    async def patch(
        self,
        kind: Kind,
        object_id: str,
        operations: Sequence[Mapping[str, JsonValue]],
        *,
        if_match: Etag | None,
    ) -> Receipt:
        """PATCH with RFC 6902 operations, guarded by If-Match. Never resent when the outcome is unknown."""
        sent: list[JsonValue] = [dict(op) for op in operations]
        return await self._update("PATCH", kind, object_id, sent, if_match)

    async def put(
        self,
        kind: Kind,
        object_id: str,
        body: Mapping[str, JsonValue],
        *,
        if_match: Etag | None,
    ) -> Receipt:
        """PUT a body, with its id, as the exd placement update page documents.

        The page's example sends only some fields, so the server may merge: the caller sends
        null for a top-level field it removes. Never resent when the outcome is unknown.
        """
        sent: JsonValue = {"id": object_id, **wire.encode(kind, body)}
        return await self._update("PUT", kind, object_id, sent, if_match)

    async def _update(
        self, method: str, kind: Kind, object_id: str, content: JsonValue, if_match: Etag | None
    ) -> Receipt:
        operation = f"update {kind.value} {object_id}"
        headers = {"If-Match": f'"{if_match}"'} if if_match is not None else {}
        response = await self._send(
            method,
            self._object_url(kind, object_id),
            operation,
            params=list(kinds.spec(kind).query.items()),
            content=json.dumps(content, ensure_ascii=False).encode("utf-8"),
            headers=headers,
            idempotent=False,
            kind=kind,
        )
        return _receipt(response, operation, fallback_id=object_id)

    async def delete(self, kind: Kind, object_id: str, *, if_match: Etag | None) -> None:
        spec = kinds.spec(kind)
        operation = f"delete {kind.value} {object_id}"
        headers = {"If-Match": f'"{if_match}"'} if if_match is not None else {}
        await self._send(
            "DELETE",
            self._object_url(kind, object_id),
            operation,
            params=list(spec.query.items()),
            headers=headers,
            idempotent=False,
            kind=kind,
        )

    # --- the Decisioning API (offer delivery) --------------------------------------------------

    async def decide(
        self,
        activity: ObjectId,
        placements: Sequence[ObjectId],
        identity: tuple[str, str],
    ) -> JsonObject:
        """Adobe's answer for one profile (an identity: namespace code, id) to one legacy
        decision in each of its placements: `POST /data/core/ods/decisions`, next to the DPS
        endpoint. Nothing is stored, so a failed call is tried again like a read."""
        namespace, identity_id = identity
        operation = f"decide {activity} for {namespace} {identity_id}"
        body = {
            "xdm:propositionRequests": [
                {"xdm:activityId": activity, "xdm:placementId": placement}
                for placement in placements
            ],
            "xdm:profiles": [
                {"xdm:identityMap": {namespace: [{"xdm:id": identity_id, "primary": True}]}}
            ],
            "xdm:responseFormat": {"xdm:includeContent": False},
        }
        response = await self._send(
            "POST",
            self._service_url("/data/core/ods/decisions"),
            operation,
            content=json.dumps(body, ensure_ascii=False).encode("utf-8"),
            headers={"Content-Type": DECISION_REQUEST, "Accept": DECISION_RESPONSE},
            idempotent=True,
        )
        try:
            answer = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise ApiError(operation, response.status_code, "the response is not JSON") from None
        if not isinstance(answer, dict):
            raise ApiError(operation, response.status_code, "the response is not an object")
        return answer

    async def seed_profile(
        self,
        identity: tuple[str, str],
        attributes: Mapping[str, JsonValue],
        audiences: Sequence[str],
    ) -> None:
        """Store a profile in the emulator's stand-in profile store (the emulator only: Adobe
        has no such endpoint; see reconciler.emulator.profiles)."""
        namespace, identity_id = identity
        path = f"/_emulator/profiles/{quote(namespace, safe='')}/{quote(identity_id, safe='@')}"
        body = {"attributes": dict(attributes), "audiences": list(audiences)}
        await self._send(
            "PUT",
            self._service_url(path),
            f"seed the emulator's profile {namespace} {identity_id}",
            content=json.dumps(body, ensure_ascii=False).encode("utf-8"),
            idempotent=True,
        )

    def _service_url(self, path: str) -> str:
        """A path on the host of the DPS endpoint (`.../data/core/dps`)."""
        base = self.endpoint.base_url.rstrip("/")
        if not base.endswith(DPS_PATH):
            raise ConfigError(
                f"endpoint {base}: the Decisioning API is found next to the DPS API, so the "
                f"endpoint must end in {DPS_PATH} (https://platform.adobe.io{DPS_PATH})"
            )
        return base.removesuffix(DPS_PATH) + path

    # --- plumbing ---------------------------------------------------------------------------

    def _kind_headers(self, kind: Kind | None) -> dict[str, str]:
        """Decision item calls carry the sandbox catalog's schema id (`x-schema-id`)."""
        if kind is None or not kinds.spec(kind).schema_header:
            return {}
        if self.endpoint.schema_id is None:
            raise MissingCatalog(kind)
        return {"x-schema-id": self.endpoint.schema_id}

    def _url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        return self.endpoint.base_url.rstrip("/") + "/" + path.lstrip("/")

    def _object_url(self, kind: Kind, object_id: str) -> str:
        return self._url(f"{kinds.spec(kind).collection}/{quote(object_id, safe=':')}")

    async def _json(
        self,
        method: str,
        url: str,
        operation: str,
        *,
        params: list[tuple[str, str]],
        kind: Kind | None = None,
    ) -> Any:
        """A read whose body must be JSON; a body cut short by a dropped connection is read again."""
        for attempt in range(1, self._retry.attempts + 1):
            response = await self._send(
                method, url, operation, params=params, idempotent=True, kind=kind
            )
            try:
                return response.json()
            except (json.JSONDecodeError, UnicodeDecodeError):
                if attempt < self._retry.attempts:
                    await self._backoff(attempt, None)
        raise ApiError(operation, response.status_code, "the response is not JSON")

    async def _send(
        self,
        method: str,
        url: str,
        operation: str,
        *,
        params: list[tuple[str, str]] | None = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool,
        kind: Kind | None = None,
    ) -> httpx.Response:
        """One logical request: auth, adaptive concurrency, retries where they are safe.

        5xx and lost connections count against the retry policy's attempts and budget; 429s
        do not: nothing was done, so the request waits its turn for up to throttled_budget.
        """
        attempt = 0  # tries that failed, or were answered 5xx
        throttled = 0  # tries answered 429
        throttled_since: float | None = None
        refreshed = False
        started = self._clock()
        while True:
            attempt += 1
            request_headers = {
                **(await self._auth_headers()),
                **self._kind_headers(kind),
                **(headers or {}),
            }
            if content is not None:
                request_headers.setdefault("Content-Type", "application/json")
            begun = time.perf_counter()
            try:
                response = await self._exchange(method, url, params, content, request_headers)
            except _NEVER_SENT as error:
                self._trace(method, url, params, None, begun)
                if attempt < self._retry.attempts and self._within_budget(started):
                    await self._backoff(attempt, None)
                    continue
                raise ApiError(
                    operation, None, f"cannot connect ({type(error).__name__})"
                ) from None
            except (*_MAYBE_SENT, httpx.TransportError) as error:
                self._trace(method, url, params, None, begun)
                if idempotent and attempt < self._retry.attempts and self._within_budget(started):
                    await self._backoff(attempt, None)
                    continue
                raise OutcomeUnknown(
                    operation,
                    None,
                    f"connection lost ({type(error).__name__}); it may have been applied",
                ) from None
            self._trace(method, url, params, response.status_code, begun)
            status = response.status_code
            if status == 401 and not refreshed and self._can_refresh():
                refreshed = True
                self._token, self._token_expires = None, 0.0
                continue
            if status == 429:
                attempt -= 1
                throttled += 1
                now = self._clock()
                throttled_since = now if throttled_since is None else throttled_since
                if now - throttled_since < self._retry.throttled_budget:
                    self.counters.retries += 1
                    if _retry_after_seconds(response.headers.get("Retry-After")) is None:
                        await self._backoff(throttled, None)  # else the gate waits it out
                    continue
                raise RateLimited(
                    operation,
                    status,
                    f"{_detail(response)} (still refused after "
                    f"{self._retry.throttled_budget:.0f} s of retries: try again later)",
                )
            if status in _RETRYABLE_STATUS:
                if idempotent and attempt < self._retry.attempts and self._within_budget(started):
                    self.counters.retries += 1
                    await self._backoff(attempt, response.headers.get("Retry-After"))
                    continue
                raise ServerFailed(operation, status, _detail(response))
            if status >= 400:
                raise _BY_STATUS.get(status, ApiError)(operation, status, _detail(response))
            if _cut_short(response, parse=not idempotent):
                if idempotent and attempt < self._retry.attempts:
                    await self._backoff(attempt, None)
                    continue
                raise OutcomeUnknown(
                    operation, status, "the response was cut short; it may have been applied"
                )
            return response

    async def _exchange(
        self,
        method: str,
        url: str,
        params: list[tuple[str, str]] | None,
        content: bytes | None,
        headers: Mapping[str, str],
    ) -> httpx.Response:
        """One HTTP exchange, admitted by the adaptive gate and reported back to it."""
        ticket = await self._gate.enter()
        outcome, retry_after = throttle.Outcome.FAILED, None
        try:
            self.counters.by_method[method] = self.counters.by_method.get(method, 0) + 1
            response = await self._http.request(
                method,
                url,
                params=tuple(params) if params else None,
                content=content,
                headers=headers,
            )
            await response.aread()
            if response.status_code == 429:
                outcome = throttle.Outcome.THROTTLED
                retry_after = _retry_after_seconds(response.headers.get("Retry-After"))
                if retry_after is not None:
                    retry_after = min(retry_after, self._retry.maximum * 6)
            elif response.status_code < 500:
                outcome = throttle.Outcome.ANSWERED
            return response
        finally:
            self._gate.leave(ticket, outcome, retry_after)
            self._count(self._gate.limit)

    def _count(self, limit: throttle.AdaptiveLimit) -> None:
        if self._log is not None and limit.current < self.counters.limit:
            self._log(
                f"throttled (429): at most {limit.current} requests in flight now, "
                f"was {self.counters.limit}"
            )
        self.counters.throttled = limit.throttled
        self.counters.limit = limit.current
        self.counters.min_limit = limit.lowest

    def _within_budget(self, started: float) -> bool:
        return self._clock() - started < self._retry.budget

    async def _backoff(self, attempt: int, retry_after: str | None) -> None:
        delay = _retry_after_seconds(retry_after)
        if delay is None:
            ceiling = min(self._retry.maximum, self._retry.initial * (2 ** (attempt - 1)))
            delay = self._rng.uniform(0, ceiling)  # full jitter
        await self._sleep(min(delay, self._retry.maximum * 6))

    def _can_refresh(self) -> bool:
        return bool(self._credentials.client_id and self._credentials.client_secret)

    async def _auth_headers(self) -> dict[str, str]:
        token = await self._access_token()
        api_key = self._credentials.api_key or self._credentials.client_id
        if not api_key:
            raise AuthFailed(
                "authenticate",
                None,
                "no API key for the x-api-key header: set ADOBE_API_KEY "
                "(or ADOBE_CLIENT_ID) to the credential's client id",
            )
        return {
            "Authorization": f"Bearer {token}",
            "x-api-key": api_key,
            "x-gw-ims-org-id": self.endpoint.org,
            "x-sandbox-name": self.endpoint.sandbox,
            "Accept": "application/json",
        }

    async def _access_token(self) -> str:
        if self._token is not None and self._clock() < self._token_expires:
            return self._token
        async with self._token_lock:
            if self._token is not None and self._clock() < self._token_expires:
                return self._token
            if self._auth_refused is not None:  # asking again would only be refused again
                refused = self._auth_refused
                raise AuthFailed(refused.operation, refused.status, refused.detail)
            try:
                self._token, lifetime = await self._fetch_token()
            except AuthFailed as refused:
                if refused.status is None or refused.status < 500:
                    self._auth_refused = refused
                raise
            # Refresh a little before expiry so a long apply never sends a dying token.
            self._token_expires = self._clock() + max(lifetime - min(300.0, lifetime / 10), 1.0)
            return self._token

    async def _fetch_token(self) -> tuple[str, float]:
        creds = self._credentials
        if not (creds.client_id and creds.client_secret):
            raise AuthFailed(
                "authenticate",
                None,
                "no credentials: set ADOBE_CLIENT_ID and ADOBE_CLIENT_SECRET (and ADOBE_SCOPES), "
                "or ADOBE_ACCESS_TOKEN and ADOBE_API_KEY",
            )
        if self.endpoint.ims_url is None:
            raise AuthFailed("authenticate", None, "the sandbox has no ims: URL in reconciler.yaml")
        form = {
            "grant_type": "client_credentials",
            "client_id": creds.client_id,
            "client_secret": creds.client_secret,
        }
        if creds.scopes:
            form["scope"] = creds.scopes
        attempt = 0
        while True:
            attempt += 1
            begun = time.perf_counter()
            try:
                response = await self._http.post(self.endpoint.ims_url, data=form)
            except httpx.TransportError as error:
                self._trace("POST", self.endpoint.ims_url, None, None, begun)
                if attempt < self._retry.attempts:
                    await self._backoff(attempt, None)
                    continue
                raise AuthFailed(
                    "authenticate", None, f"IMS unreachable ({type(error).__name__})"
                ) from None
            self._trace("POST", self.endpoint.ims_url, None, response.status_code, begun)
            if response.status_code in _RETRYABLE_STATUS and attempt < self._retry.attempts:
                await self._backoff(attempt, response.headers.get("Retry-After"))
                continue
            break
        if response.status_code == 404:
            raise AuthFailed(
                "authenticate",
                404,
                f"no IMS token endpoint at {self.endpoint.ims_url}: check ims: in reconciler.yaml "
                "(for example https://ims-na1.adobelogin.com/ims/token/v3)",
            )
        if response.status_code != 200:
            raise AuthFailed(
                "authenticate",
                response.status_code,
                "IMS refused the client credentials: check ADOBE_CLIENT_ID/SECRET/SCOPES",
            )
        try:
            body = response.json()
            token = body["access_token"]
            lifetime = float(body.get("expires_in", 3600))
        except (ValueError, KeyError, TypeError):
            raise AuthFailed("authenticate", 200, "IMS answered without an access_token") from None
        if not isinstance(token, str) or not token:
            raise AuthFailed("authenticate", 200, "IMS answered without an access_token")
        return token, lifetime

    def _trace(
        self,
        method: str,
        url: str,
        params: list[tuple[str, str]] | None,
        status: int | None,
        begun: float,
    ) -> None:
        if self._log is None:
            return
        path = httpx.URL(url).raw_path.decode("ascii", "replace")
        if params:
            path += ("&" if "?" in path else "?") + str(httpx.QueryParams(tuple(params)))
        elapsed = (time.perf_counter() - begun) * 1000
        outcome = str(status) if status is not None else "no response"
        self._log(self._redact(f"{method} {path} -> {outcome} ({elapsed:.0f} ms)"))

    def _redact(self, text: str) -> str:
        for secret in (*self._credentials.secrets, self._token or ""):
            if len(secret) >= 4:  # shorter values are not credentials, and would mangle every line
                text = text.replace(secret, "[REDACTED]")
        return text


def _next_href(body: Any) -> str | None:
    links = body.get("_links") if isinstance(body, dict) else None
    following = links.get("next") if isinstance(links, dict) else None
    href = following.get("href") if isinstance(following, dict) else None
    return href if isinstance(href, str) and href else None


def _cut_short(response: httpx.Response, *, parse: bool) -> bool:
    """A body shorter than its declared length, or JSON that does not parse: the connection dropped."""
    declared = response.headers.get("Content-Length")
    if declared is not None and declared.isdigit() and int(declared) != len(response.content):
        return True
    if parse and response.content and "json" in response.headers.get("Content-Type", ""):
        try:
            response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            return True
    return False


def _detail(response: httpx.Response) -> str:
    """The server's own explanation, from problem+json or the gateway's {error_code, message}."""
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        text = response.text.strip().splitlines()
        return text[0][:300] if text else response.reason_phrase
    if isinstance(body, dict):
        for name in ("detail", "message", "title", "error_description", "error"):
            value = body.get(name)
            if isinstance(value, str) and value:
                code = body.get("error_code")
                return f"{value} ({code})" if isinstance(code, str) else value
    return response.reason_phrase


def _receipt(response: httpx.Response, operation: str, fallback_id: str | None = None) -> Receipt:
    try:
        body = response.json() if response.content else {}
    except (json.JSONDecodeError, UnicodeDecodeError):
        body = {}
    if not isinstance(body, dict):
        body = {}
    object_id = body.get("id") or body.get("@id") or fallback_id
    if not isinstance(object_id, str):
        location = response.headers.get("Location", "")
        object_id = location.rstrip("/").rsplit("/", 1)[-1].split("?", 1)[0] or None
    if not object_id:
        raise OutcomeUnknown(operation, response.status_code, "the receipt names no id")
    return Receipt(
        id=ObjectId(object_id),
        etag=etag_of(body.get("etag", response.headers.get("ETag"))),
        modified_by=_text(body.get("lastModifiedBy")),
        modified_at=_text(body.get("lastModifiedDate") or body.get("modified")),
    )


def _receipt_from_object(item: Mapping[str, JsonValue]) -> Receipt:
    return Receipt(
        id=ObjectId(str(item["id"])),
        etag=etag_of(item.get("etag")),
        modified_by=_text(item.get("lastModifiedBy")),
        modified_at=_text(item.get("modified")),
        read_back=item,
    )


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())
