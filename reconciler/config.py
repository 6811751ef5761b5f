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


def _said(error: ErrorDetails) -> str:
    """A pydantic error in the words of the file: no class names, the next step named."""
    match error["type"]:
        case "missing":
            return "required: add it"
        case "model_type" | "model_attributes_type" | "dict_type":
            return "expected a mapping of fields"
        case "extra_forbidden":
            return "unknown field: remove it or fix its spelling"
        case _:
            return str(error["msg"])


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
