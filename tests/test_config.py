"""reconciler.yaml and the environment -> settings: per-sandbox preconditions, credentials."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler import config, documents
from reconciler.errors import ConfigError
from reconciler.model import Credentials, Preconditions

SANDBOXES = """\
default: stage
sandboxes:
  stage:
    endpoint: embedded
  prod:
    endpoint: embedded
    preconditions: {prod}
"""


def parse(tmp_path: Path, text: str) -> config.Config:
    path = tmp_path / config.FILE_NAME
    path.write_text(text)
    data, locate = documents.read_mapping(path, display=config.FILE_NAME)
    return config.parse(data, locate, {})


@pytest.mark.parametrize(
    ("prod", "expected"),
    [
        ("test", {"stage": Preconditions.TEST, "prod": Preconditions.TEST}),
        ("if-match", {"stage": Preconditions.TEST, "prod": Preconditions.IF_MATCH}),
    ],
)
def test_preconditions_are_per_sandbox_and_default_to_test(
    tmp_path: Path, prod: str, expected: dict[str, Preconditions]
) -> None:
    parsed = parse(tmp_path, SANDBOXES.format(prod=prod))
    assert {key: sandbox.preconditions for key, sandbox in parsed.sandboxes.items()} == expected


def test_unknown_preconditions_are_a_located_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        parse(tmp_path, SANDBOXES.format(prod="etag"))
    assert str(raised.value) == (
        "reconciler.yaml:7:20: sandboxes.prod.preconditions: Input should be 'test' or 'if-match'"
    )


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (
            {"ADOBE_CLIENT_ID": "ci", "ADOBE_CLIENT_SECRET": "s", "ADOBE_SCOPES": "openid"},
            Credentials(client_id="ci", client_secret="s", scopes="openid"),
        ),
        (
            {"ADOBE_ACCESS_TOKEN": "t", "ADOBE_API_KEY": "key"},
            Credentials(access_token="t", api_key="key"),
        ),
        (
            {"ADOBE_ACCESS_TOKEN": "t", "ADOBE_CLIENT_ID": "ci", "ADOBE_API_KEY": ""},
            Credentials(access_token="t", client_id="ci"),
        ),
        ({}, Credentials()),
    ],
)
def test_credentials_come_from_the_environment(env: dict[str, str], expected: Credentials) -> None:
    assert config.credentials(env) == expected


@pytest.mark.parametrize("key", ["../../x", "", "a/b", ".hidden", "x y"])
def test_a_sandbox_key_that_cannot_name_a_state_file_is_a_located_error(
    tmp_path: Path, key: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        parse(tmp_path, f'default: "{key}"\nsandboxes:\n  "{key}":\n    endpoint: embedded\n')
    assert str(raised.value) == (
        f"reconciler.yaml:3:3: sandboxes: Value error, {key!r} cannot name a sandbox: it names "
        "state/<key>.json, so use letters, digits, '-' and '_' (such as prod or dev-eu)"
    )


LOCAL = "default: local\nsandboxes:\n  local:\n    endpoint: embedded\n"


def test_a_sandbox_names_its_decisioning_catalog(tmp_path: Path) -> None:
    parsed = parse(
        tmp_path,
        LOCAL
        + "    decisioning: {catalog: dps:offer-catalog:1, schema: https://x/s, tenant: _acme}\n",
    )
    assert parsed.sandboxes["local"].catalog == config.Catalog(
        "dps:offer-catalog:1", "https://x/s", "_acme"
    )
    assert parse(tmp_path, LOCAL).sandboxes["local"].catalog is None


@pytest.mark.parametrize(
    ("decisioning", "expected"),
    [
        ("5", "reconciler.yaml:5:18: sandboxes.local.decisioning: expected a mapping of fields"),
        (
            "{catalog: c}",
            "reconciler.yaml:5:18: sandboxes.local.decisioning.schema: required: add it",
        ),
        (
            "{catalog: c, schema: s, tenant: acme}",
            "reconciler.yaml:5:50: sandboxes.local.decisioning.tenant: String should match "
            "pattern '^_[A-Za-z0-9][A-Za-z0-9_]*$'",
        ),
        (
            "{catalog: c, schema: s, tenant: _experience}",
            "reconciler.yaml:5:50: sandboxes.local.decisioning.tenant: Value error, _experience "
            "holds Adobe's fields: give the org's tenant key, such as _acme",
        ),
        (
            "{catalog: c, schema: s, tennant: _acme}",
            "reconciler.yaml:5:51: sandboxes.local.decisioning.tennant: unknown field: remove it "
            "or fix its spelling",
        ),
    ],
)
def test_a_wrong_decisioning_block_is_one_located_line(
    tmp_path: Path, decisioning: str, expected: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        parse(tmp_path, LOCAL + f"    decisioning: {decisioning}\n")
    assert str(raised.value) == expected


DRIFT = """\
default: stage
sandboxes:
  stage:
    endpoint: embedded
  prod:
    endpoint: embedded
    drift: {mode}
"""


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("issue", {"stage": config.DriftMode.ISSUE, "prod": config.DriftMode.ISSUE}),
        ("pull-request", {"stage": config.DriftMode.ISSUE, "prod": config.DriftMode.PULL_REQUEST}),
    ],
)
def test_the_drift_workflow_s_choice_is_per_sandbox_and_defaults_to_an_issue(
    tmp_path: Path, mode: str, expected: dict[str, config.DriftMode]
) -> None:
    parsed = parse(tmp_path, DRIFT.format(mode=mode))
    assert {key: sandbox.drift for key, sandbox in parsed.sandboxes.items()} == expected


def test_an_unknown_drift_choice_is_a_located_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        parse(tmp_path, DRIFT.format(mode="pr"))
    assert str(raised.value) == (
        "reconciler.yaml:7:12: sandboxes.prod.drift: Input should be 'issue' or 'pull-request'"
    )
