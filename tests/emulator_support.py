"""Helpers for the emulator tests: an authenticated HTTP client, a fake clock, literal bodies."""

from __future__ import annotations

import contextlib
import re
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from reconciler.emulator.app import create_app
from reconciler.emulator.settings import EmulatorSettings

BASE = "/data/core/dps"
ORG = "1234ABCD@AdobeOrg"
SANDBOX = "prod"
CLIENT = "tester"
EPOCH = 1_800_000_000.0  # 2027-01-15T08:00:00Z
STAMP = "2027-01-15T08:00:00.000Z"
WEB = "https://ns.adobe.com/xdm/channel-types/web"
ID = re.compile(r"^dps:[a-z-]+:[0-9a-f]{16}$")
SANDBOX_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


@dataclass
class Clock:
    """A clock tests move by hand: `now` is seconds since the epoch."""

    now: float = EPOCH

    def __call__(self) -> float:
        return self.now


@dataclass
class Session:
    """An httpx client on an emulator app, authenticated as one client on one sandbox."""

    http: httpx.AsyncClient
    app: Any
    token: str = ""
    client_id: str = CLIENT
    org: str = ORG
    sandbox: str = SANDBOX
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.token}",
            "x-api-key": self.client_id,
            "x-gw-ims-org-id": self.org,
            "x-sandbox-name": self.sandbox,
            **self.extra,
        }

    async def login(self, client_id: str = CLIENT, secret: str = "secret") -> None:
        response = await self.http.post(
            "/ims/token/v3",
            data={
                "grant_type": "client_credentials",
                "client_id": client_id,
                "client_secret": secret,
            },
        )
        assert response.status_code == 200, response.text
        self.token, self.client_id = response.json()["access_token"], client_id

    async def call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Any = None,
        headers: dict[str, str] | None = None,
        content: bytes | None = None,
    ) -> httpx.Response:
        sent = dict(self.headers)
        if json is not None:
            sent["Content-Type"] = "application/json"
        sent.update(headers or {})
        return await self.http.request(
            method, BASE + path, json=json, params=params, headers=sent, content=content
        )

    async def create(self, path: str, body: dict[str, Any]) -> str:
        response = await self.call("POST", path, json=body)
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    async def get(self, path: str, **params: str) -> Any:
        response = await self.call("GET", path, params=params or None)
        assert response.status_code == 200, response.text
        return response.json()


@contextlib.asynccontextmanager
async def session(
    app: Any = None, *, settings: EmulatorSettings | None = None, clock: Clock | None = None
) -> AsyncIterator[Session]:
    """A logged-in Session on `app` (a new in-memory emulator unless given)."""
    if app is None:
        app = create_app(settings, clock=clock or Clock())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://emulator") as http:
        client = Session(http, app)
        await client.login()
        yield client


# --- literal bodies -------------------------------------------------------------------------


def placement(name: str = "Web banner", **extra: Any) -> dict[str, Any]:
    return {"name": name, "componentType": "html", "channel": WEB, **extra}


def offer(placement_id: str, name: str = "Summer sale", **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "status": "draft",
        "representations": [
            {
                "channel": WEB,
                "placement": placement_id,
                "components": [{"type": "html", "format": "text/html", "content": "<p>60%</p>"}],
            }
        ],
        "selectionConstraint": {"profileConstraintType": "none"},
        **extra,
    }


def fallback(placement_id: str, name: str = "Free shipping", **extra: Any) -> dict[str, Any]:
    body = offer(placement_id, name, **extra)
    del body["selectionConstraint"]
    return body


def rule(name: str = "Gold members") -> dict[str, Any]:
    return {
        "name": name,
        "condition": {
            "type": "PQL",
            "format": "pql/text",
            "value": 'profile.loyalty.tier.equals("gold", false)',
        },
    }


def collection(
    ids: list[str], name: str = "Summer offers", filter_type: str = "offers"
) -> dict[str, Any]:
    return {"name": name, "filterType": filter_type, "ids": ids}


def decision(
    fallback_id: str, placement_id: str, collection_id: str, **extra: Any
) -> dict[str, Any]:
    return {
        "name": "Home page",
        "status": "draft",
        "fallback": fallback_id,
        "criteria": [{"placements": [placement_id], "optionSelection": {"filter": collection_id}}],
        **extra,
    }


# --- the served emulator --------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def served(*options: str, log: Path, port: int | None = None) -> Iterator[str]:
    """`reconciler emulator serve OPTIONS` in a subprocess on a port (a free one unless given);
    yields its base URL.

    Its output is appended to `log` (a file, so a chatty server can never block on a full pipe).
    """
    port = port or free_port()
    command = [sys.executable, "-m", "reconciler.cli", "emulator", "serve", "--port", str(port)]
    with open(log, "ab") as output:
        process = subprocess.Popen([*command, *options], stdout=output, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the emulator did not start:\n{log.read_text()}")
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
