"""reconciler.yaml and the environment -> settings: sandboxes, prune policy, ignore rules, credentials."""

from __future__ import annotations

import enum
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import ErrorDetails

from reconciler import protection
from reconciler.errors import ConfigError
from reconciler.model import Credentials, JsonValue, Kind, Preconditions
from reconciler.policies import Policy, PolicyError, PolicyModel, build_policies
from reconciler.schema import got

FILE_NAME = "reconciler.yaml"
EMBEDDED = "embedded"
EMBEDDED_ORG = "0000000000000000000EMBED@AdobeOrg"

Locator = Callable[[tuple[str | int, ...]], tuple[int, int]]
"""Maps a path inside the YAML file to its (line, column), 1-based."""

_POINTER = re.compile(r"^(/([^/~]|~[01])*)+$")
_SANDBOX_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")


@dataclass(frozen=True, slots=True)
class Catalog:
    """A sandbox's Decisioning item catalog: its id, the schema of its items, their tenant key.

    Both ids differ per sandbox, so definitions leave them out and each sandbox names its own.
    """

    id: str
    schema: str
    tenant: str | None = None


class DriftMode(enum.Enum):
    """What the drift workflow makes of a sandbox's drift: an issue that reports it, or a pull
    request that brings it into git (`reconciler pull`) for review."""

    ISSUE = "issue"
    PULL_REQUEST = "pull-request"


@dataclass(frozen=True, slots=True)
class Sandbox:
    """One target sandbox: where its API lives and which org and sandbox headers it takes."""

    key: str
    endpoint: str
    ims: str | None
    org: str
    name: str
    page_size: int = 100
    preconditions: Preconditions = Preconditions.TEST
    catalog: Catalog | None = None
    drift: DriftMode = DriftMode.ISSUE

    @property
    def is_embedded(self) -> bool:
        return self.endpoint == EMBEDDED


@dataclass(frozen=True, slots=True)
class Config:
    """The validated reconciler.yaml."""

    default: str
    prune: bool
    sandboxes: Mapping[str, Sandbox]
    ignore: Mapping[Kind, tuple[str, ...]] = field(default_factory=dict)
    protect: tuple[str, ...] = ()
    """Key globs of objects no plan may delete or re-create (see reconciler.protection)."""
    promotion: tuple[str, ...] = ()
    """Sandbox keys in the order the apply workflow promotes to them, each after the one before."""
    policies: tuple[Policy, ...] = ()
    """The team policies `reconciler validate` checks (see reconciler.policies)."""

    def sandbox(self, key: str | None) -> Sandbox:
        chosen = key or self.default
        if chosen not in self.sandboxes:
            known = ", ".join(sorted(self.sandboxes))
            raise ConfigError(
                f"{FILE_NAME}: no sandbox named {chosen!r}: choose one of {known} or add it under sandboxes:"
            )
        return self.sandboxes[chosen]


class _DecisioningModel(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    catalog: str = Field(min_length=1)
    schema_id: str = Field(alias="schema", min_length=1)
    tenant: str | None = Field(default=None, pattern=r"^_[A-Za-z0-9][A-Za-z0-9_]*$")

    @field_validator("tenant")
    @classmethod
    def _not_adobe_s(cls, value: str | None) -> str | None:
        if value == "_experience":
            raise ValueError(
                "_experience holds Adobe's fields: give the org's tenant key, such as _acme"
            )
        return value


class _SandboxModel(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    endpoint: str = Field(min_length=1)
    ims: str | None = None
    org: str | None = None
    name: str | None = None
    page_size: int = Field(default=100, ge=1, le=1000)
    preconditions: Literal["test", "if-match"] = "test"
    decisioning: _DecisioningModel | None = None
    drift: Literal["issue", "pull-request"] = "issue"

    @field_validator("endpoint")
    @classmethod
    def _endpoint(cls, value: str) -> str:
        if value != EMBEDDED and not value.startswith(("https://", "http://")):
            raise ValueError(f"must be {EMBEDDED!r} or an http(s) URL of the DPS API")
        return value.rstrip("/")


class _ConfigModel(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    default: str
    prune: bool = False
    sandboxes: dict[str, _SandboxModel] = Field(min_length=1)
    ignore: dict[str, list[str]] = Field(default_factory=dict)
    protect: list[str] = Field(default_factory=list)
    promotion: list[str] = Field(default_factory=list)
    policies: list[PolicyModel] = Field(default_factory=list)

    @field_validator("sandboxes")
    @classmethod
    def _keys(cls, value: dict[str, _SandboxModel]) -> dict[str, _SandboxModel]:
        for key in value:
            if not _SANDBOX_KEY.fullmatch(key):
                raise ValueError(
                    f"{key!r} cannot name a sandbox: it names state/<key>.json, so use letters, "
                    "digits, '-' and '_' (such as prod or dev-eu)"
                )
        return value

    @field_validator("ignore")
    @classmethod
    def _pointers(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        known = [kind.value for kind in Kind]
        for kind, pointers in value.items():
            if kind not in known:
                raise ValueError(f"{kind!r} is not a kind: use one of {', '.join(known)}")
            for pointer in pointers:
                if not _POINTER.match(pointer):
                    raise ValueError(
                        f"{kind}: {pointer!r} is not a JSON Pointer such as /rank/priority"
                    )
                crossing = next(
                    (part for part in pointer.split("/")[1:] if part.isdigit() or part == "-"),
                    None,
                )
                if crossing is not None:
                    whole = pointer[: pointer.index(f"/{crossing}")]
                    raise ValueError(
                        f"{kind}: {pointer!r} goes through an array index ({crossing}): array "
                        f"items move, so an index names no field; ignore the whole array "
                        f"({whole}) instead"
                    )
        return value


_EXPECTED: Mapping[str, str] = {
    "default": "the key of a sandbox under sandboxes:, such as prod",
    "prune": "true or false",
    "sandboxes": "a mapping of sandbox keys to their settings, such as {local: {endpoint: embedded}}",
    "sandboxes.*": "a mapping of the sandbox's settings, such as {endpoint: embedded}",
    "sandboxes.*.endpoint": f"{EMBEDDED} or the https:// URL of the DPS API",
    "sandboxes.*.ims": "the URL of Adobe IMS, such as https://ims-na1.adobelogin.com/ims/token/v3",
    "sandboxes.*.org": "the org id as text, such as 1234ABCD@AdobeOrg",
    "sandboxes.*.name": "the sandbox's name in Adobe as text, such as prod",
    "sandboxes.*.page_size": "a whole number from 1 to 1000",
    "sandboxes.*.preconditions": "test or if-match",
    "sandboxes.*.drift": "issue or pull-request",
    "sandboxes.*.decisioning": (
        "a mapping such as {catalog: <item catalog id>, schema: <its schema id>}"
    ),
    "sandboxes.*.decisioning.catalog": "the id of the sandbox's item catalog as text",
    "sandboxes.*.decisioning.schema": "the schema id of its items as text",
    "sandboxes.*.decisioning.tenant": (
        "the org's tenant key: _ then letters, digits and _, such as _acme"
    ),
    "ignore": "a mapping of kinds to JSON Pointers, such as {personalized-offer: [/rank/priority]}",
    "ignore.*": "a list of JSON Pointers, such as [/rank/priority]",
    "ignore.*.*": "a JSON Pointer as text, such as /rank/priority",
    "protect": "a list of key globs, such as [decisions/*, placements/web-banner]",
    "protect.*": "a key glob as text, such as decisions/*",
    "promotion": "a list of sandbox keys in promotion order, such as [dev, stage, prod]",
    "promotion.*": "a sandbox key as text, such as prod",
    "policies": (
        "a list of policies, each a mapping such as {name: offers-end, severity: error, "
        "check: {end-date: {within-days: 120}}}"
    ),
    "policies.*": (
        "a mapping with name, severity and check, such as {name: offers-end, severity: error, "
        "check: {end-date: {within-days: 120}}}"
    ),
    "policies.*.name": "one line of text, such as offers-end",
    "policies.*.severity": "error or warning",
    "policies.*.kinds": "a list of kinds, such as [personalized-offer, decision]",
    "policies.*.kinds.*": "a kind as text, such as personalized-offer",
    "policies.*.keys": "a list of key globs, such as ['*'] or [summer/*]",
    "policies.*.keys.*": "a key glob as text, such as summer/*",
    "policies.*.check": "a mapping with one check, such as {required: description}",
    "policies.*.check.required": "a field as text, such as description",
    "policies.*.check.matches": "a mapping such as {field: name, regex: '^Summer'}",
    "policies.*.check.matches.field": "a field as text, such as name",
    "policies.*.check.matches.regex": "a regular expression as text, such as '^Summer'",
    "policies.*.check.range": "a mapping such as {field: rank.priority, min: 0, max: 60}",
    "policies.*.check.range.field": "a field as text, such as rank.priority",
    "policies.*.check.range.min": "a number, such as 0",
    "policies.*.check.range.max": "a number, such as 60",
    "policies.*.check.end-date": "a mapping such as {within-days: 120}",
    "policies.*.check.end-date.within-days": "a whole number of days from 1, such as 120",
    "policies.*.check.fallback": "true, its only value: remove the check to turn it off",
    "policies.*.check.name-matches": "a regular expression as text, such as '^[A-Z]'",
}
"""What each field of reconciler.yaml takes, as a message says it (`*`: any sandbox key, kind
or list position)."""

_BY_TYPE = {
    "string_type": "text",
    "bool_type": "true or false",
    "int_type": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "list_type": "a list",
    "dict_type": "a mapping of fields",
    "model_type": "a mapping of fields",
    "model_attributes_type": "a mapping of fields",
}
"""What a field takes when _EXPECTED does not say (a field added without its words)."""


def _shape(loc: tuple[str | int, ...]) -> str:
    """A pydantic location as _EXPECTED keys it: sandbox keys, kinds and indexes as `*`."""
    return ".".join(
        "*" if isinstance(part, int) or (depth == 1 and loc[0] in ("sandboxes", "ignore")) else part
        for depth, part in enumerate(loc)
    )


def _said(error: ErrorDetails) -> str:
    """A pydantic error in the words of the file: what is wrong and what to write instead, never
    pydantic's own wording (`Input should be a valid list`)."""
    kind = error["type"]
    match kind:
        case "missing":
            return "required: add it"
        case "extra_forbidden":
            return "unknown field: remove it or fix its spelling"
        case "value_error":
            context = error.get("ctx") or {}
            return str(context.get("error", error["msg"]))
    loc = tuple(error["loc"])
    expected = _EXPECTED.get(_shape(loc)) or _BY_TYPE.get(kind, "another value")
    if kind in ("too_short", "string_too_short"):
        return f"empty: write {expected}"
    return f"expected {expected} (got {got(error['input'])})"


def parse(data: Mapping[str, JsonValue], locate: Locator, env: Mapping[str, str]) -> Config:
    """Validate the parsed reconciler.yaml; every problem names its line and what to do."""
    try:
        model = _ConfigModel.model_validate(data)
    except ValidationError as invalid:
        error = invalid.errors()[0]
        loc = tuple(error["loc"])
        line, column = locate(loc)
        where = ".".join(str(part) for part in loc) or "top level"
        raise ConfigError(f"{FILE_NAME}:{line}:{column}: {where}: {_said(error)}") from None
    if model.default not in model.sandboxes:
        line, column = locate(("default",))
        raise ConfigError(
            f"{FILE_NAME}:{line}:{column}: default: {model.default!r} is not one of the sandboxes "
            f"({', '.join(sorted(model.sandboxes))})"
        )
    _check_promotion(model.promotion, sorted(model.sandboxes), locate)
    sandboxes: dict[str, Sandbox] = {}
    for key, sandbox in model.sandboxes.items():
        org = (
            sandbox.org
            or env.get("ADOBE_ORG_ID")
            or (EMBEDDED_ORG if sandbox.endpoint == EMBEDDED else None)
        )
        if org is None:
            line, column = locate(("sandboxes", key))
            raise ConfigError(
                f"{FILE_NAME}:{line}:{column}: sandboxes.{key}: no org: set org: <ID>@AdobeOrg "
                "or the ADOBE_ORG_ID environment variable"
            )
        if sandbox.endpoint != EMBEDDED and sandbox.ims is None:
            line, column = locate(("sandboxes", key))
            raise ConfigError(
                f"{FILE_NAME}:{line}:{column}: sandboxes.{key}: a remote endpoint needs ims: "
                "(for example https://ims-na1.adobelogin.com/ims/token/v3)"
            )
        sandboxes[key] = Sandbox(
            key=key,
            endpoint=sandbox.endpoint,
            ims=sandbox.ims,
            org=org,
            name=sandbox.name or key,
            page_size=sandbox.page_size,
            preconditions=Preconditions(sandbox.preconditions),
            catalog=(
                Catalog(
                    sandbox.decisioning.catalog,
                    sandbox.decisioning.schema_id,
                    sandbox.decisioning.tenant,
                )
                if sandbox.decisioning is not None
                else None
            ),
            drift=DriftMode(sandbox.drift),
        )
    ignore = {Kind(kind): tuple(pointers) for kind, pointers in sorted(model.ignore.items())}
    policies = _policies(model.policies, locate)
    for index, glob in enumerate(model.protect):
        problem = protection.glob_problem(glob)
        if problem is not None:
            line, column = locate(("protect", index))
            raise ConfigError(f"{FILE_NAME}:{line}:{column}: protect.{index}: {problem}")
    return Config(
        default=model.default,
        prune=model.prune,
        sandboxes=sandboxes,
        ignore=ignore,
        protect=tuple(model.protect),
        promotion=tuple(model.promotion),
        policies=policies,
    )


class _PoliciesOnly(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)

    policies: list[PolicyModel] = Field(default_factory=list)


def read_policies(data: Mapping[str, JsonValue], locate: Locator) -> tuple[Policy, ...]:
    """Only the `policies:` of the parsed reconciler.yaml, each problem located: validate needs
    no environment (a sandbox whose org comes from ADOBE_ORG_ID must not fail it)."""
    try:
        model = _PoliciesOnly.model_validate(data)
    except ValidationError as invalid:
        error = invalid.errors()[0]
        loc = tuple(error["loc"])
        line, column = locate(loc)
        where = ".".join(str(part) for part in loc)
        raise ConfigError(f"{FILE_NAME}:{line}:{column}: {where}: {_said(error)}") from None
    return _policies(model.policies, locate)


def _policies(models: list[PolicyModel], locate: Locator) -> tuple[Policy, ...]:
    try:
        return build_policies(models)
    except PolicyError as bad:
        line, column = locate(("policies", *bad.location))
        where = ".".join(str(part) for part in ("policies", *bad.location))
        raise ConfigError(f"{FILE_NAME}:{line}:{column}: {where}: {bad.message}") from None


def _check_promotion(promotion: list[str], known: list[str], locate: Locator) -> None:
    """Every entry of `promotion:` names a sandbox, and none twice."""
    for index, key in enumerate(promotion):
        line, column = locate(("promotion", index))
        if key not in known:
            raise ConfigError(
                f"{FILE_NAME}:{line}:{column}: promotion: {key!r} is not one of the sandboxes "
                f"({', '.join(known)}): fix its spelling or add it under sandboxes:"
            )
        if key in promotion[:index]:
            raise ConfigError(
                f"{FILE_NAME}:{line}:{column}: promotion: {key!r} is listed twice: a sandbox has "
                "one place in the promotion order, so remove one"
            )


def default_config() -> Config:
    """What a repository without reconciler.yaml gets: the embedded sandbox only."""
    local = Sandbox(key="local", endpoint=EMBEDDED, ims=None, org=EMBEDDED_ORG, name="local")
    return Config(default="local", prune=False, sandboxes={"local": local})


def credentials(env: Mapping[str, str] | None = None) -> Credentials:
    """Credentials come only from environment variables, never from files.

    ADOBE_ACCESS_TOKEN needs no client secret; its x-api-key is ADOBE_API_KEY, else ADOBE_CLIENT_ID.
    """
    source = os.environ if env is None else env
    return Credentials(
        client_id=source.get("ADOBE_CLIENT_ID") or None,
        client_secret=source.get("ADOBE_CLIENT_SECRET") or None,
        scopes=source.get("ADOBE_SCOPES") or None,
        access_token=source.get("ADOBE_ACCESS_TOKEN") or None,
        api_key=source.get("ADOBE_API_KEY") or None,
    )
