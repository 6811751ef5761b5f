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
        'reconciler.yaml:7:20: sandboxes.prod.preconditions: expected test or if-match (got "etag")'
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
        f"reconciler.yaml:3:3: sandboxes: {key!r} cannot name a sandbox: it names "
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
        (
            "5",
            "reconciler.yaml:5:18: sandboxes.local.decisioning: expected a mapping such as "
            "{catalog: <item catalog id>, schema: <its schema id>} (got 5)",
        ),
        (
            "{catalog: c}",
            "reconciler.yaml:5:18: sandboxes.local.decisioning.schema: required: add it",
        ),
        (
            "{catalog: c, schema: s, tenant: acme}",
            "reconciler.yaml:5:50: sandboxes.local.decisioning.tenant: expected the org's "
            'tenant key: _ then letters, digits and _, such as _acme (got "acme")',
        ),
        (
            "{catalog: c, schema: s, tenant: _experience}",
            "reconciler.yaml:5:50: sandboxes.local.decisioning.tenant: _experience "
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
        'reconciler.yaml:7:12: sandboxes.prod.drift: expected issue or pull-request (got "pr")'
    )


# --- every wrong shape is one line in the file's words --------------------------------------

POLICY = "{name: p, severity: error, check: {required: description}}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "default: 3\nsandboxes: {local: {endpoint: embedded}}\n",
            "1:10: default: expected the key of a sandbox under sandboxes:, such as prod (got 3)",
        ),
        (
            LOCAL + "prune: yes\n",
            '5:8: prune: expected true or false (got "yes")',
        ),
        (
            "default: local\nsandboxes: [local]\n",
            "2:12: sandboxes: expected a mapping of sandbox keys to their settings, such as "
            "{local: {endpoint: embedded}} (got a list)",
        ),
        (
            "default: local\nsandboxes: {}\n",
            "2:12: sandboxes: empty: write a mapping of sandbox keys to their settings, such as "
            "{local: {endpoint: embedded}}",
        ),
        (
            "default: local\nsandboxes: {local: embedded}\n",
            "2:20: sandboxes.local: expected a mapping of the sandbox's settings, such as "
            '{endpoint: embedded} (got "embedded")',
        ),
        (
            "default: local\nsandboxes: {local: {endpoint: ''}}\n",
            "2:31: sandboxes.local.endpoint: empty: write embedded or the https:// URL of the DPS "
            "API",
        ),
        (
            "default: local\nsandboxes: {local: {endpoint: ftp://x}}\n",
            "2:31: sandboxes.local.endpoint: must be 'embedded' or an http(s) URL of the DPS API",
        ),
        (
            LOCAL + "    ims: 3\n",
            "5:10: sandboxes.local.ims: expected the URL of Adobe IMS, such as "
            "https://ims-na1.adobelogin.com/ims/token/v3 (got 3)",
        ),
        (
            LOCAL + "    org: [a]\n",
            "5:10: sandboxes.local.org: expected the org id as text, such as 1234ABCD@AdobeOrg "
            "(got a list)",
        ),
        (
            LOCAL + "    page_size: 0\n",
            "5:16: sandboxes.local.page_size: expected a whole number from 1 to 1000 (got 0)",
        ),
        (
            LOCAL + "    page_size: '10'\n",
            '5:16: sandboxes.local.page_size: expected a whole number from 1 to 1000 (got "10")',
        ),
        (
            LOCAL + "    drift: [issue]\n",
            "5:12: sandboxes.local.drift: expected issue or pull-request (got a list)",
        ),
        (
            LOCAL + "ignore: [tag]\n",
            "5:9: ignore: expected a mapping of kinds to JSON Pointers, such as "
            "{personalized-offer: [/rank/priority]} (got a list)",
        ),
        (
            LOCAL + "ignore: {tag: /name}\n",
            '5:15: ignore.tag: expected a list of JSON Pointers, such as [/rank/priority] (got "/name")',
        ),
        (
            LOCAL + "ignore: {tag: [1]}\n",
            "5:16: ignore.tag.0: expected a JSON Pointer as text, such as /rank/priority (got 1)",
        ),
        (
            LOCAL + "protect: decisions/*\n",
            "5:10: protect: expected a list of key globs, such as [decisions/*, "
            'placements/web-banner] (got "decisions/*")',
        ),
        (
            LOCAL + "protect: {decisions: true}\n",
            "5:10: protect: expected a list of key globs, such as [decisions/*, "
            "placements/web-banner] (got a mapping)",
        ),
        (
            LOCAL + "protect: [true]\n",
            "5:11: protect.0: expected a key glob as text, such as decisions/* (got true)",
        ),
        (
            LOCAL + "promotion: local\n",
            "5:12: promotion: expected a list of sandbox keys in promotion order, such as "
            '[dev, stage, prod] (got "local")',
        ),
        (
            LOCAL + "promotion: [[local]]\n",
            "5:13: promotion.0: expected a sandbox key as text, such as prod (got a list)",
        ),
        (
            LOCAL + f"policies: {POLICY}\n",
            "5:11: policies: expected a list of policies, each a mapping such as {name: "
            "offers-end, severity: error, check: {end-date: {within-days: 120}}} (got a mapping)",
        ),
        (
            LOCAL + "policies: [offers-end]\n",
            "5:12: policies.0: expected a mapping with name, severity and check, such as {name: "
            "offers-end, severity: error, check: {end-date: {within-days: 120}}} "
            '(got "offers-end")',
        ),
        (
            LOCAL + "policies: [{name: p, severity: error, kinds: tag, check: {required: x}}]\n",
            "5:46: policies.0.kinds: expected a list of kinds, such as [personalized-offer, "
            'decision] (got "tag")',
        ),
        (
            LOCAL + "policies: [{name: p, severity: error, keys: '*', check: {required: x}}]\n",
            "5:45: policies.0.keys: expected a list of key globs, such as ['*'] or [summer/*] "
            '(got "*")',
        ),
        (
            LOCAL + "policies: [{name: p, severity: error, check: required}]\n",
            "5:46: policies.0.check: expected a mapping with one check, such as "
            '{required: description} (got "required")',
        ),
        (
            LOCAL + "policies: [{name: p, severity: error, check: {matches: name}}]\n",
            "5:56: policies.0.check.matches: expected a mapping such as {field: name, regex: "
            "'^Summer'} (got \"name\")",
        ),
        (
            LOCAL + "policies: [{name: p, severity: error, check: {range: {field: x, max: 1y}}}]\n",
            '5:70: policies.0.check.range.max: expected a number, such as 60 (got "1y")',
        ),
        (
            LOCAL
            + "policies: [{name: p, severity: error, check: {end-date: {within-days: 1.5}}}]\n",
            "5:71: policies.0.check.end-date.within-days: expected a whole number of days from 1, "
            "such as 120 (got 1.5)",
        ),
        (
            LOCAL + "policies: [{name: '', severity: error, check: {required: x}}]\n",
            "5:19: policies.0.name: empty: write one line of text, such as offers-end",
        ),
        (
            LOCAL + "policies: [{name: p, severity: error, check: {name-matches: [a]}}]\n",
            "5:61: policies.0.check.name-matches: expected a regular expression as text, such as "
            "'^[A-Z]' (got a list)",
        ),
    ],
)
def test_a_wrong_shape_is_one_line_saying_what_to_write(
    tmp_path: Path, text: str, expected: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        parse(tmp_path, text)
    assert str(raised.value) == f"reconciler.yaml:{expected}"
    assert "Input should" not in str(raised.value)
    assert "Value error" not in str(raised.value)


@pytest.mark.parametrize(
    "text",
    [
        LOCAL + "protect: decisions/*\n",
        LOCAL + "promotion: local\n",
        LOCAL + "policies: {name: p}\n",
        LOCAL + "policies: [{name: p, severity: fatal, check: {required: x}}]\n",
    ],
)
def test_validate_reads_the_same_words_offline(tmp_path: Path, text: str) -> None:
    """`reconciler validate` reads policies: without the environment: same messages."""
    path = tmp_path / config.FILE_NAME
    path.write_text(text)
    data, locate = documents.read_mapping(path, display=config.FILE_NAME)
    with pytest.raises(ConfigError) as parsed:
        config.parse(data, locate, {})
    assert "Input should" not in str(parsed.value)
    if "policies" in text:
        with pytest.raises(ConfigError) as read:
            config.read_policies(data, locate)
        assert str(read.value) == str(parsed.value)
