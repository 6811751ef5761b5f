"""Adobe's edge: IMS token issuance (`/ims/token/v3`) and the header checks on every data call.

Gateway refusals use the adobe.io body `{"error_code", "message"}` (reference §6.1); IMS
refusals use OAuth's `{"error", "error_description"}`.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl

from starlette.responses import JSONResponse, Response

from reconciler.emulator.records import Partition
from reconciler.emulator.settings import EmulatorSettings


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is calling, as established by the gateway: the token's client and the target sandbox."""

    client_id: str
    org: str
    sandbox: str

    @property
    def partition(self) -> Partition:
        return (self.org, self.sandbox)


class Refused(Exception):
    """A request the gateway or IMS answers itself."""

    def __init__(self, status: int, body: Mapping[str, str]) -> None:
        super().__init__(body)
        self.status = status
        self.body = dict(body)

    def response(self) -> Response:
        return JSONResponse(self.body, self.status)


def _gateway(status: int, code: str, message: str) -> Refused:
    return Refused(status, {"error_code": code, "message": message})


def _oauth(status: int, error: str, description: str) -> Refused:
    return Refused(status, {"error": error, "error_description": description})


class Tokens:
    """Opaque access tokens and the client each was issued to, until they expire."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._issued: dict[str, tuple[str, float]] = {}

    def issue(self, settings: EmulatorSettings, form: Mapping[str, str]) -> dict[str, object]:
        """The OAuth server-to-server answer to a token request; raises Refused."""
        if form.get("grant_type") != "client_credentials":
            raise _oauth(400, "unsupported_grant_type", "grant_type must be client_credentials")
        client_id, secret = form.get("client_id"), form.get("client_secret")
        if not client_id or not secret:
            raise _oauth(400, "invalid_request", "client_id and client_secret are required")
        pinned = settings.client_id is not None
        if pinned and (client_id, secret) != (settings.client_id, settings.client_secret):
            raise _oauth(401, "invalid_client", "invalid client_id or client_secret")
        now = self._clock()
        self._issued = {t: held for t, held in self._issued.items() if held[1] > now}
        token = secrets.token_urlsafe(32)
        self._issued[token] = (client_id, now + settings.token_ttl)
        return {"access_token": token, "token_type": "bearer", "expires_in": settings.token_ttl}

    def client_of(self, token: str) -> str | None:
        held = self._issued.get(token)
        if held is None or held[1] <= self._clock():
            return None
        return held[0]


def token_form(query: str, content_type: str, body: bytes) -> dict[str, str]:
    """IMS takes its parameters form-encoded in the body or in the query string (body wins)."""
    form = dict(parse_qsl(query, keep_blank_values=True))
    if content_type.split(";")[0].strip().lower() == "application/x-www-form-urlencoded":
        try:
            form.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        except UnicodeDecodeError:
            raise _oauth(400, "invalid_request", "the form is not UTF-8") from None
    return form


def authenticate(headers: Mapping[str, str], tokens: Tokens) -> Caller:
    """The caller of a data call, or Refused with the gateway's documented error."""
    authorization = headers.get("authorization")
    if not authorization:
        raise _gateway(401, "403010", "Oauth token is missing.")
    scheme, _, token = authorization.strip().partition(" ")
    client_id = tokens.client_of(token.strip()) if scheme.lower() == "bearer" else None
    if client_id is None:
        raise _gateway(401, "401013", "Oauth token is not valid")
    api_key = headers.get("x-api-key")
    if not api_key:
        raise _gateway(403, "403000", "Api Key is required")
    if api_key != client_id:
        raise _gateway(403, "403003", "Api Key is invalid")
    org, sandbox = headers.get("x-gw-ims-org-id"), headers.get("x-sandbox-name")
    if not org or not sandbox:
        raise _gateway(400, "400003", "Missing header")
    return Caller(client_id=client_id, org=org, sandbox=sandbox)
