"""The emulator's HTTP surface: routes, request parsing, and the order of gateway, faults and verbs.

A data call goes: latency, gateway checks (401/403/400), rate limit (429), injected 5xx,
maybe a drop before processing, maybe a race edit by the UI racer, the verb itself, maybe a
drop after committing.
`app.state.settings` holds the EmulatorSettings in force; tests may replace it at any time.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from reconciler.emulator import decisions
from reconciler.emulator.dispatch import dispatch, route
from reconciler.emulator.faults import Drop, DroppedResponse, Faults, WriteFault
from reconciler.emulator.gateway import Refused, Tokens, authenticate, token_form
from reconciler.emulator.library import OfferLibrary
from reconciler.emulator.problems import Problem, bad_request
from reconciler.emulator.profiles import PATH as PROFILES_PATH
from reconciler.emulator.profiles import Profiles, profile_json, seed
from reconciler.emulator.racer import Racer
from reconciler.emulator.settings import EmulatorSettings
from reconciler.emulator.store import Store
from reconciler.errors import UsageError

__all__ = ["BASE_PATH", "EmulatorSettings", "Runtime", "create_app"]

BASE_PATH = "/data/core/dps"
IMS_PATH = "/ims/token/v3"
_METHODS = ["GET", "POST", "PATCH", "DELETE", "PUT"]


@dataclass(frozen=True, slots=True)
class Runtime:
    """The emulator's moving parts behind one app: data, tokens, the fault injector and the racer."""

    store: Store
    library: OfferLibrary
    tokens: Tokens
    faults: Faults
    racer: Racer
    profiles: Profiles


CONTROL_PATH = "/_emulator/control"


def create_app(
    settings: EmulatorSettings | None = None,
    data_file: Path | None = None,
    *,
    clock: Callable[[], float] = time.time,
    control: bool = False,
) -> Starlette:
    """An emulator app; with `data_file` its data is journaled there and shared with other processes.

    With `control`, `POST /_emulator/control` changes the fault settings and scripts write faults
    of a served emulator while it runs (tests only; off by default).
    """
    store = Store(data_file)
    extra = [Route(CONTROL_PATH, _control, methods=["GET", "POST"])] if control else []
    app = Starlette(
        routes=[
            *extra,
            Route(IMS_PATH, _token, methods=["POST"]),
            Route(decisions.PATH, _decisions, methods=["POST"]),
            Route(PROFILES_PATH + "/{namespace}/{identity:path}", _profile, methods=["PUT"]),
            Route(BASE_PATH + "/{collection}", _data, methods=_METHODS),
            Route(BASE_PATH + "/{collection}/{object_id}", _data, methods=_METHODS),
            Route(BASE_PATH + "/{rest:path}", _data, methods=_METHODS),
        ],
        exception_handlers={HTTPException: _http_problem},
    )
    app.state.settings = settings or EmulatorSettings()
    library = OfferLibrary(store, clock)
    app.state.runtime = Runtime(
        store, library, Tokens(clock), Faults(clock), Racer(library), Profiles()
    )
    return app


def _state(request: Request) -> tuple[EmulatorSettings, Runtime]:
    """The settings in force for this request (read once) and the app's runtime."""
    settings: EmulatorSettings = request.app.state.settings
    runtime: Runtime = request.app.state.runtime
    return settings, runtime


async def _token(request: Request) -> Response:
    settings, runtime = _state(request)
    try:
        form = token_form(
            request.url.query, request.headers.get("content-type", ""), await request.body()
        )
        return JSONResponse(runtime.tokens.issue(settings, form))
    except Refused as refused:
        return refused.response()


async def _control(request: Request) -> Response:
    """Read (GET) or change (POST {"settings": {...}, "write_faults": [...]}) the fault settings."""
    settings, runtime = _state(request)
    if request.method == "POST":
        try:
            document = json.loads(await request.body() or b"{}")
            changes = document.get("settings", {})
            faults = [WriteFault(name) for name in document.get("write_faults", [])]
            request.app.state.settings = dataclasses.replace(settings, **changes)
        except (ValueError, TypeError, AttributeError, UsageError) as error:
            return bad_request(f"not a control document: {error}").response()
        runtime.faults.script(faults)
    current: EmulatorSettings = request.app.state.settings
    return JSONResponse(
        {
            "race_edits": runtime.racer.edits,
            "write_faults": [fault.value for fault in runtime.faults.scripted],
            "settings": {
                name: getattr(current, name)
                for name in (
                    "latency_ms",
                    "rate_limit",
                    "error_rate",
                    "drop_rate",
                    "ignore_if_match",
                    "race_list",
                    "race_write",
                    "seed",
                )
            },
        }
    )


async def _data(request: Request) -> Response:
    settings, runtime = _state(request)
    response = await _answer(request, settings, runtime)
    request_id = request.headers.get("x-request-id")
    if request_id:
        response.headers["x-request-id"] = request_id
    return response


async def _decisions(request: Request) -> Response:
    """The Decisioning API: the gateway and the fault injector's refusals, then the decision."""
    settings, runtime = _state(request)
    if settings.latency_ms:
        await asyncio.sleep(settings.latency_ms / 1000)
    try:
        caller = authenticate(request.headers, runtime.tokens)
    except Refused as refused:
        return refused.response()
    refusal = runtime.faults.refusal(settings, caller.client_id)
    if refusal is not None:
        return refusal.response()
    try:
        response = decisions.answer(
            request.headers,
            await request.body(),
            caller,
            runtime.store,
            runtime.profiles,
            runtime.library.clock,
        )
    except Problem as problem:
        response = problem.response()
    request_id = request.headers.get("x-request-id")
    if request_id:
        response.headers["x-request-id"] = request_id
    return response


async def _profile(request: Request) -> Response:
    """Seed a profile under an identity of the caller's sandbox (the emulator has no Profile
    service: see reconciler.emulator.decisions)."""
    _, runtime = _state(request)
    try:
        caller = authenticate(request.headers, runtime.tokens)
    except Refused as refused:
        return refused.response()
    try:
        profile = seed(
            caller,
            runtime.profiles,
            request.path_params["namespace"],
            request.path_params["identity"],
            decisions.read_json(await request.body()),
        )
    except Problem as problem:
        return problem.response()
    return JSONResponse(profile_json(profile))


async def _answer(request: Request, settings: EmulatorSettings, runtime: Runtime) -> Response:
    if settings.latency_ms:
        await asyncio.sleep(settings.latency_ms / 1000)
    try:
        caller = authenticate(request.headers, runtime.tokens)
    except Refused as refused:
        return refused.response()
    refusal = runtime.faults.refusal(settings, caller.client_id)
    if refusal is not None:
        return refusal.response()
    drop = runtime.faults.drop(settings)
    scripted = runtime.faults.next_write() if request.method in _WRITES else WriteFault.NONE
    if scripted is WriteFault.FAIL:
        return Problem(503, "injected-failure", "scripted failure: nothing was done").response()
    if drop is Drop.BEFORE or scripted is WriteFault.DROP:
        await request.body()  # unread bytes would make the close a reset, not a short message
        return DroppedResponse.placeholder(request.method)
    try:
        response = await dispatch(request, settings, runtime.library, runtime.racer, caller)
    except Problem as problem:
        response = problem.response()
    if response.status_code < 300 and scripted is WriteFault.NO_ETAG_THEN_UI_EDIT:
        object_id = request.path_params.get("object_id") or _receipt_id(response)
        if object_id is not None:
            kinds = tuple(spec.kind for spec in route(request))
            runtime.racer.edit(settings, caller, kinds, object_id)
        scripted = WriteFault.NO_ETAG
    if response.status_code < 300 and scripted is not WriteFault.NONE:
        response = _scripted(response, scripted)
    return DroppedResponse(response) if drop is Drop.AFTER else response


def _scripted(response: Response, fault: WriteFault) -> Response:
    """A committed write's answer, spoiled as its scripted fault says."""
    match fault:
        case WriteFault.FAIL_AFTER:
            return Problem(500, "injected-failure", "scripted failure after the write").response()
        case WriteFault.DROP_AFTER:
            return DroppedResponse(response)
        case WriteFault.NO_ETAG:
            body = json.loads(bytes(response.body)) if response.body else {}
            if isinstance(body, dict):
                body.pop("etag", None)
            headers = {k: v for k, v in response.headers.items() if k.lower() not in _DERIVED}
            return JSONResponse(body, response.status_code, headers=headers)
        case _:
            return response


def _receipt_id(response: Response) -> str | None:
    try:
        body = json.loads(bytes(response.body))
    except ValueError:
        return None
    found = body.get("id") if isinstance(body, dict) else None
    return found if isinstance(found, str) else None


_WRITES = frozenset({"POST", "PATCH", "DELETE", "PUT"})
_DERIVED = frozenset({"etag", "content-length", "content-type"})


async def _http_problem(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    if error.status_code == 404:
        detail = f"{request.url.path} is not an endpoint of the emulator"
    elif error.status_code == 405:
        detail = f"{request.method} is not allowed on {request.url.path}"
    else:
        detail = str(error.detail)
    return Problem(error.status_code, "http", detail, headers=error.headers).response()
