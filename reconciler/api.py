"""Offer Library client over httpx: IMS auth, retries, pagination, typed errors (the only httpx user)."""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

import httpx

from reconciler import kinds
from reconciler.errors import ReconcilerError
from reconciler.model import Credentials, Etag, JsonObject, JsonValue, Kind, ObjectId, etag_of

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


class Invalid(ApiError):
    """400/422: the server refused the content."""


class AuthFailed(ApiError):
    """401/403: credentials missing, wrong or not entitled."""


class RateLimited(ApiError):
    """429 after every retry."""


class ServerFailed(ApiError):
    """5xx after every retry."""


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


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where a sandbox's API lives, and the headers that select it."""

    base_url: str
    ims_url: str | None
    org: str
    sandbox: str


@dataclass(frozen=True, slots=True)
class Receipt:
    """What a write returns, tolerant of the variants Adobe's pages show."""

    id: ObjectId
    etag: Etag | None
    modified_by: str | None = None
    modified_at: str | None = None


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 8
    initial: float = 0.2
    maximum: float = 10.0
    budget: float = 120.0


@dataclass
class Counters:
    """Requests sent, by method (for benchmarks and the apply report)."""

    by_method: dict[str, int] = field(default_factory=dict)
    retries: int = 0

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
        seed: int | None = None,
    ) -> None:
        self.endpoint = endpoint
        self._credentials = credentials
        self._retry = retry or RetryPolicy()
        self._log = log
        self._sleep = sleep
        self._rng = random.Random(seed)
        self._gate = asyncio.Semaphore(max_in_flight)
        self._token: str | None = credentials.access_token
        self._token_expires = float("inf") if credentials.access_token else 0.0
        self._token_lock = asyncio.Lock()
        self.counters = Counters()
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
        """Every object of a kind, following `_links.next` until it is absent."""
        spec = kinds.spec(kind)
        params: list[tuple[str, str]] = [*spec.query.items(), ("limit", str(page_size))]
        params += [("property", expression) for expression in filters]
        url = self._url(spec.collection)
        results: list[JsonObject] = []
        seen_pages = 0
        while True:
            body = await self._json("GET", url, f"list {kind.value}", params=params)
            page = body.get("results") if isinstance(body, dict) else None
            if not isinstance(page, list):
                raise ApiError(f"list {kind.value}", 200, "the response has no results list")
            results.extend(item for item in page if isinstance(item, dict))
            seen_pages += 1
            following = _next_href(body)
            if following is None:
                return results
            url, params = self._url(following), []
            if seen_pages > 100_000:
                raise ApiError(f"list {kind.value}", 200, "pagination does not end")

    async def get(self, kind: Kind, object_id: str) -> JsonObject:
        spec = kinds.spec(kind)
        body = await self._json(
            "GET",
            self._object_url(kind, object_id),
            f"read {kind.value} {object_id}",
            params=list(spec.query.items()),
        )
        if not isinstance(body, dict):
            raise ApiError(f"read {kind.value} {object_id}", 200, "the response is not an object")
        return body

    async def find_by_name(self, kind: Kind, name: str) -> list[JsonObject]:
        """Live objects of a kind with exactly this name (how an interrupted create is found)."""
        found = await self.list_all(kind, filters=(f"name=={name}",))
        return [item for item in found if item.get("name") == name]

    # --- writes -----------------------------------------------------------------------------

    async def create(self, kind: Kind, body: Mapping[str, JsonValue], *, name: str) -> Receipt:
        """POST a new object. When the outcome is unknown, look it up by name before trying again."""
        spec = kinds.spec(kind)
        operation = f"create {kind.value} {name!r}"
        url = self._url(spec.collection)
        params = list(spec.query.items())
        payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
        attempt = 0
        while True:
            attempt += 1
            try:
                response = await self._send(
                    "POST", url, operation, params=params, content=payload, idempotent=False
                )
            except (OutcomeUnknown, ServerFailed) as unknown:
                existing = await self.find_by_name(kind, name)
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
        spec = kinds.spec(kind)
        operation = f"update {kind.value} {object_id}"
        headers = {"If-Match": f'"{if_match}"'} if if_match is not None else {}
        response = await self._send(
            "PATCH",
            self._object_url(kind, object_id),
            operation,
            params=list(spec.query.items()),
            content=json.dumps(list(operations), ensure_ascii=False).encode("utf-8"),
            headers=headers,
            idempotent=False,
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
        )

    # --- plumbing ---------------------------------------------------------------------------

    def _url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        return self.endpoint.base_url.rstrip("/") + "/" + path.lstrip("/")

    def _object_url(self, kind: Kind, object_id: str) -> str:
        return self._url(f"{kinds.spec(kind).collection}/{quote(object_id, safe=':')}")

    async def _json(
        self, method: str, url: str, operation: str, *, params: list[tuple[str, str]]
    ) -> Any:
        """A read whose body must be JSON; a body cut short by a dropped connection is read again."""
        for attempt in range(1, self._retry.attempts + 1):
            response = await self._send(method, url, operation, params=params, idempotent=True)
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
    ) -> httpx.Response:
        """One logical request: auth, bounded concurrency, retries where they are safe."""
        attempt = 0
        refreshed = False
        started = time.monotonic()
        while True:
            attempt += 1
            request_headers = {**(await self._auth_headers()), **(headers or {})}
            if content is not None:
                request_headers["Content-Type"] = "application/json"
            begun = time.monotonic()
            try:
                async with self._gate:
                    self.counters.by_method[method] = self.counters.by_method.get(method, 0) + 1
                    response = await self._http.request(
                        method,
                        url,
                        params=tuple(params) if params else None,
                        content=content,
                        headers=request_headers,
                    )
                    await response.aread()
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
            if status in _RETRYABLE_STATUS:
                retry_safe = status == 429 or idempotent
                if retry_safe and attempt < self._retry.attempts and self._within_budget(started):
                    self.counters.retries += 1
                    await self._backoff(attempt, response.headers.get("Retry-After"))
                    continue
                if status == 429:
                    raise RateLimited(operation, status, _detail(response) + " (retries exhausted)")
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

    def _within_budget(self, started: float) -> bool:
        return time.monotonic() - started < self._retry.budget

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
        return {
            "Authorization": f"Bearer {token}",
            "x-api-key": self._credentials.client_id or "",
            "x-gw-ims-org-id": self.endpoint.org,
            "x-sandbox-name": self.endpoint.sandbox,
            "Accept": "application/json",
        }

    async def _access_token(self) -> str:
        if self._token is not None and time.monotonic() < self._token_expires:
            return self._token
        async with self._token_lock:
            if self._token is not None and time.monotonic() < self._token_expires:
                return self._token
            self._token, lifetime = await self._fetch_token()
            # Refresh a little before expiry so a long apply never sends a dying token.
            self._token_expires = time.monotonic() + max(lifetime - min(300.0, lifetime / 10), 1.0)
            return self._token

    async def _fetch_token(self) -> tuple[str, float]:
        creds = self._credentials
        if not (creds.client_id and creds.client_secret):
            raise AuthFailed(
                "authenticate",
                None,
                "no credentials: set ADOBE_CLIENT_ID and ADOBE_CLIENT_SECRET (and ADOBE_SCOPES), "
                "or ADOBE_ACCESS_TOKEN",
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
            begun = time.monotonic()
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
        elapsed = (time.monotonic() - begun) * 1000
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
