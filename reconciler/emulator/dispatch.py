"""One data call, once past the gateway and the fault injector: route, headers, body, verb.

A path names a collection (and maybe an object); its kinds are the specs of that collection
(`offer-type` picks one on /offers; /offer-rules holds both rule kinds, told apart per object).
Collections answer GET and POST; objects GET, DELETE and their kinds' update methods
(`library.methods`): 405 with `Allow` otherwise. Writes need `Content-Type: application/json`
(PATCH also takes application/json-patch+json and the legacy xcore patch type Adobe's legacy
update page lists). Every call on /offer-items carries `x-schema-id`, the schema id of an item
catalog of the sandbox (400 when missing or unknown).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import NoReturn, cast

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from reconciler.emulator import listing
from reconciler.emulator.gateway import Caller
from reconciler.emulator.library import OfferLibrary, Target
from reconciler.emulator.problems import Problem, bad_request, not_found
from reconciler.emulator.racer import Racer
from reconciler.emulator.records import Record
from reconciler.emulator.settings import Catalog, EmulatorSettings
from reconciler.emulator.updates import methods
from reconciler.kinds import SPECS, KindSpec
from reconciler.model import JsonValue

_JSON = "application/json"
XCORE_PATCH = "application/vnd.adobe.platform.xcore.patch.hal+json"
"""The PATCH media type of the legacy update page's header table (its parameters are ignored)."""
_PATCH_TYPES = frozenset({_JSON, "application/json-patch+json", XCORE_PATCH})
_COLLECTIONS: Mapping[str, tuple[KindSpec, ...]] = {
    path: tuple(spec for spec in SPECS.values() if spec.collection == path)
    for path in {spec.collection for spec in SPECS.values()}
}


async def dispatch(
    request: Request,
    settings: EmulatorSettings,
    library: OfferLibrary,
    racer: Racer,
    caller: Caller,
) -> Response:
    method, object_id = request.method, request.path_params.get("object_id")
    specs = route(request)
    if object_id is None:
        allowed: tuple[str, ...] = ("GET", "POST")
    else:
        offered = {m for spec in specs for m in methods(spec.kind)}
        allowed = tuple(m for m in ("GET", "PATCH", "PUT", "DELETE") if m in offered)
    if method not in allowed:
        raise Problem(
            405,
            "method-not-allowed",
            f"{method} is not allowed on {request.url.path}",
            headers={"Allow": ", ".join(allowed)},
        )
    if method in ("POST", "PATCH", "PUT"):
        _require_json(request, _PATCH_TYPES if method == "PATCH" else frozenset({_JSON}))
    target = Target(tuple(spec.kind for spec in specs), _catalog(request, specs, settings))
    spec = specs[0]
    if method == "GET" and object_id is None:
        query = listing.parse_query(request.url.query)
        racer.before_list(settings, caller, target.kinds)
        page = library.list(caller, target, query)
        body = {
            "results": page.results,
            "count": len(page.results),
            "total": page.total,
            "_links": listing.links(spec.collection, query, page, spec.offer_type),
        }
        return JSONResponse(body)
    if method == "GET":
        record = library.read(caller, target, str(object_id))
        return JSONResponse(record.read(), headers=etag_header(record))
    if method == "POST":
        record = library.create(caller, target, await _body(request), settings)
        if settings.sparse_receipts:
            return JSONResponse({"id": record.id, "etag": str(record.etag)})
        location = f"{spec.collection}/{record.id}" + _offer_query(spec)
        headers = {**etag_header(record), "Location": location}
        return JSONResponse(record.receipt(caller.partition), 201, headers=headers)
    if_match = request.headers.get("if-match")
    if method in ("PATCH", "PUT"):
        document = await _body(request)
        racer.before_write(settings, caller, target.kinds, str(object_id))
        write = library.patch if method == "PATCH" else library.put
        record = write(caller, target, str(object_id), document, if_match, settings)
        if settings.sparse_receipts:
            return JSONResponse({"etag": str(record.etag)})
        return JSONResponse(record.receipt(caller.partition), headers=etag_header(record))
    racer.before_write(settings, caller, target.kinds, str(object_id))
    library.delete(caller, target, str(object_id), if_match, settings)
    return Response(status_code=200)


def route(request: Request) -> tuple[KindSpec, ...]:
    """The specs a path and its offer-type name; 404 for unknown paths, 400 for a bad offer-type."""
    collection = "/" + str(request.path_params.get("collection", ""))
    specs = _COLLECTIONS.get(collection)
    if "rest" in request.path_params or not specs:
        raise not_found(f"{request.url.path} is not an Offer Library endpoint")
    if all(spec.offer_type is None for spec in specs):
        return specs
    offer_type = request.query_params.get("offer-type")
    for spec in specs:
        if offer_type is not None and offer_type.lower() == spec.offer_type:
            return (spec,)
    choices = " or ".join(str(spec.offer_type) for spec in specs)
    if offer_type is None:
        raise bad_request(f"the offer-type query parameter is required on {collection}: {choices}")
    raise bad_request(f"offer-type={offer_type!r} is not known: use {choices}")


def _catalog(
    request: Request, specs: tuple[KindSpec, ...], settings: EmulatorSettings
) -> Catalog | None:
    """The catalog a call's x-schema-id names, where the kind needs one; 400 when it names none."""
    if not any(spec.schema_header for spec in specs):
        return None
    known = ", ".join(catalog.schema for catalog in settings.catalogs) or "none configured"
    header = request.headers.get("x-schema-id")
    if header is None or not header.strip():
        raise bad_request(
            f"the x-schema-id header is required on {specs[0].collection}: send the schema id "
            f"of the item catalog ({known})"
        )
    catalog = settings.catalog_of_schema(header.strip())
    if catalog is None:
        raise bad_request(
            f"x-schema-id {header.strip()!r} is not the schema of an item catalog of this "
            f"sandbox: use {known}"
        )
    return catalog


def _require_json(request: Request, accepted: frozenset[str]) -> None:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in accepted:
        raise bad_request("A valid content-type must be specified")


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")


async def _body(request: Request) -> JsonValue:
    raw = await request.body()
    if not raw.strip():
        raise bad_request("the request body is empty: send a JSON document")
    try:
        value = cast(JsonValue, json.loads(raw.decode("utf-8"), parse_constant=_reject_constant))
    except UnicodeDecodeError:
        raise bad_request("the request body is not UTF-8 text") from None
    except json.JSONDecodeError as error:
        raise bad_request(
            f"the request body is not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})"
        ) from None
    except ValueError as error:
        raise bad_request(f"the request body is not valid JSON: {error}") from None
    except RecursionError:
        raise bad_request(_TOO_DEEP) from None
    if _depth(value) > MAX_DEPTH:
        raise bad_request(_TOO_DEEP)
    if _SURROGATE.search(raw):
        try:
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise bad_request(
                "the request body holds an unpaired UTF-16 surrogate escape"
            ) from None
    return value


MAX_DEPTH = 32
"""No Offer Library body nests nearly this deep; refusing deeper ones keeps recursion bounded."""
_TOO_DEEP = f"the request body is nested deeper than {MAX_DEPTH} levels"
_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]")


def _depth(value: JsonValue) -> int:
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict | list):
            deepest = max(deepest, level)
            stack.extend(
                (child, level + 1) for child in (node.values() if isinstance(node, dict) else node)
            )
    return deepest


def etag_header(record: Record) -> dict[str, str]:
    return {"ETag": f'"{record.etag}"'}


def _offer_query(spec: KindSpec) -> str:
    return f"?offer-type={spec.offer_type}" if spec.offer_type else ""
