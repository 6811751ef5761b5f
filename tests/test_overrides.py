"""Per-sandbox values: `overrides:` holds a JSON Merge Patch (RFC 7386) of the body per sandbox.

The merge is RFC 7386's, checked against the RFC's own examples; validation checks every
sandbox's resulting body, naming the sandbox and placing each problem at the override when the
override wrote the value; plan, apply and drift work on the body of their sandbox, and
`overrides` never reaches Adobe, a plan or state.
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import EMBEDDED_CATALOG, EMBEDDED_SCHEMA, Sandbox, make_repo
from estate import FILES, write

from reconciler import api, commands, diff, documents, overrides, schema
from reconciler.cli import cli
from reconciler.emulator.app import create_app
from reconciler.errors import InvalidDocuments
from reconciler.model import Credentials, Desired, Key, Kind, Ref, name_path

# --- RFC 7386 ---------------------------------------------------------------------------------

# Appendix A of RFC 7386, every row; then the example of its section 3.
RFC_7386: list[tuple[Any, Any, Any]] = [
    ({"a": "b"}, {"a": "c"}, {"a": "c"}),
    ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ({"a": "b"}, {"a": None}, {}),
    ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
    ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
    ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
    ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
    (["a", "b"], ["c", "d"], ["c", "d"]),
    ({"a": "b"}, ["c"], ["c"]),
    ({"a": "foo"}, None, None),
    ({"a": "foo"}, "bar", "bar"),
    ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
    ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
    ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
    (
        {
            "title": "Goodbye!",
            "author": {"givenName": "John", "familyName": "Doe"},
            "tags": ["example", "sample"],
            "content": "This will be unchanged",
        },
        {
            "title": "Hello!",
            "phoneNumber": "+01-123-456-7890",
            "author": {"familyName": None},
            "tags": ["example"],
        },
        {
            "title": "Hello!",
            "author": {"givenName": "John"},
            "tags": ["example"],
            "content": "This will be unchanged",
            "phoneNumber": "+01-123-456-7890",
        },
    ),
]


@pytest.mark.parametrize(("target", "patch", "result"), RFC_7386)
def test_merge_is_rfc_7386(target: Any, patch: Any, result: Any) -> None:
    before = json.dumps([target, patch])
    assert overrides.merge(target, patch) == result
    assert json.dumps([target, patch]) == before  # neither argument is changed
    # A merge patch applied twice gives what it gave once.
    assert overrides.merge(overrides.merge(target, patch), patch) == result


# --- validation -------------------------------------------------------------------------------

OFFER = """\
kind: personalized-offer
name: Summer sale
status: approved
representations:
  - channel: https://ns.adobe.com/xdm/channel-types/web
    placement: dps:offer-placement:1234
    components:
      - {type: html, format: text/html, content: "<p>60% off</p>"}
selectionConstraint:
  startDate: "2027-06-01T00:00:00.000Z"
  endDate: "2027-08-31T23:59:59.000Z"
  profileConstraintType: none
rank: {priority: 5}
"""
BAD_STATUS = OFFER.replace("status: approved", "status: final")
STATUS = 'status: expected one of: draft, approved, archived (got "final")'
THREE = ("dev", "stage", "prod")
UNKNOWN_QA = (
    'overrides.qa: reconciler.yaml has no sandbox named "qa": use one of dev, prod, stage, or '
    "add it under sandboxes:"
)


def _problems(
    tmp_path: Path, files: dict[str, str], sandboxes: tuple[str, ...] | None
) -> list[str]:
    root = make_repo(tmp_path / "repo", estate=False)
    write(root, files)
    try:
        documents.load(root, sandboxes)
    except InvalidDocuments as invalid:
        return [str(problem) for problem in invalid.problems]
    return []


@pytest.mark.parametrize(
    ("files", "sandboxes", "expected"),
    [
        pytest.param(
            {
                "x.yaml": OFFER
                + "overrides:\n  dev: {status: draft}\n  prod: {rank: {priority: 9}}\n"
            },
            THREE,
            [],
            id="valid overrides",
        ),
        pytest.param(
            {"x.yaml": OFFER + "overrides:\n  dev: {rank: null}\n  stage: {}\n"},
            THREE,
            [],
            id="null removes an optional field; an empty override changes nothing",
        ),
        pytest.param(
            {"x.yaml": OFFER + "overrides:\n  dev:\n    status: final\n"},
            THREE,
            [f"offers/x.yaml:16:13: in sandbox dev: {STATUS}"],
            id="a wrong value in an override is placed there, naming the sandbox",
        ),
        pytest.param(
            {"x.yaml": OFFER + "overrides:\n  dev: {status: final}\n  prod: {status: final}\n"},
            THREE,
            [
                f"offers/x.yaml:15:17: in sandbox dev: {STATUS}",
                f"offers/x.yaml:16:18: in sandbox prod: {STATUS}",
            ],
            id="each override's wrong value at its own line",
        ),
        pytest.param(
            {"x.yaml": OFFER + "overrides:\n  prod:\n    status: null\n"},
            THREE,
            ["offers/x.yaml:16:5: in sandbox prod: status: required field is missing: add it"],
            id="a required field removed by an override: at its null",
        ),
        pytest.param(
            {"x.yaml": OFFER + "overrides:\n  stage:\n    rank: {priority: -1}\n"},
            THREE,
            [
                "offers/x.yaml:16:22: in sandbox stage: rank.priority: expected a number >= 0 "
                "(got -1)"
            ],
            id="a nested value merged in",
        ),
        pytest.param(
            {"x.yaml": OFFER + "overrides:\n  dev:\n    representations: [null]\n"},
            THREE,
            [
                "offers/x.yaml:16:23: in sandbox dev: representations[0]: null is not a value: "
                "give one or remove the line"
            ],
            id="a list replaces the whole list: a null in it is a value, refused",
        ),
        pytest.param(
            {"x.yaml": OFFER + "overrides:\n  dev: {colour: red}\n"},
            THREE,
            [
                "offers/x.yaml:15:9: in sandbox dev: colour: unknown field: remove it or fix its "
                "spelling (fields here: cappingConstraint, characteristics, description, "
                "frequencyCappingConstraints, kind, labels, name, overrides, protect, rank, "
                "representations, selectionConstraint, status, tags)"
            ],
            id="an unknown field in an override",
        ),
        pytest.param(
            {
                "x.yaml": BAD_STATUS
                + "overrides:\n  dev: {status: draft}\n  stage: {status: draft}\n"
            },
            THREE,
            [f"offers/x.yaml:3:9: in sandbox prod: {STATUS}"],
            id="a wrong base value fixed in some sandboxes: at the base, naming the others",
        ),
        pytest.param(
            {"x.yaml": BAD_STATUS + "overrides:\n  dev: {status: draft}\n"},
            THREE,
            [f"offers/x.yaml:3:9: in sandboxes prod, stage: {STATUS}"],
            id="naming every sandbox that has it",
        ),
        pytest.param(
            {
                "x.yaml": BAD_STATUS
                + "overrides:\n  dev: {status: draft}\n  stage: {status: draft}\n"
                + "  prod: {status: approved}\n"
            },
            THREE,
            [],
            id="a base value every sandbox overrides is no sandbox's",
        ),
        pytest.param(
            {"x.yaml": BAD_STATUS + "overrides:\n  dev: {rank: {priority: 1}}\n"},
            THREE,
            [f"offers/x.yaml:3:9: {STATUS}"],
            id="a problem of every sandbox reads as always",
        ),
        pytest.param(
            {"x.yaml": OFFER + "description: null\noverrides:\n  dev: {status: draft}\n"},
            THREE,
            ["offers/x.yaml:14:14: description: null is not a value: give one or remove the line"],
            id="null outside overrides is still refused",
        ),
        pytest.param(
            {
                "x.yaml": OFFER
                + "overrides:\n  stage:\n    selectionConstraint:\n"
                + '      endDate: "2027-05-01T00:00:00.000Z"\n'
            },
            THREE,
            [
                "offers/x.yaml:17:16: in sandbox stage: selectionConstraint.endDate: "
                "2027-05-01T00:00:00.000Z is not after startDate 2027-06-01T00:00:00.000Z: the end "
                "must come after the start"
            ],
            id="a rule across fields, on the merged body",
        ),
        pytest.param(
            {"x.yaml": OFFER + "overrides:\n  qa: {status: draft}\n"},
            THREE,
            [f"offers/x.yaml:15:3: {UNKNOWN_QA}"],
            id="an unknown sandbox name lists the known ones",
        ),
        pytest.param(
            {"x.yaml": OFFER + "overrides: [dev]\n"},
            THREE,
            [
                "offers/x.yaml:14:12: overrides: expected a mapping of sandbox names to the fields "
                "that differ there, such as overrides: {dev: {status: draft}} (got a list)"
            ],
            id="overrides is a mapping",
        ),
        pytest.param(
            {"x.yaml": OFFER + "overrides:\n  dev: draft\n  prod:\n"},
            THREE,
            [
                "offers/x.yaml:15:8: overrides.dev: expected a mapping of the fields whose values "
                'differ in sandbox dev, such as {status: draft} (got "draft")',
                "offers/x.yaml:16:3: overrides.prod: expected a mapping of the fields whose "
                "values differ in sandbox prod, such as {status: draft} (got null)",
            ],
            id="each override is a mapping",
        ),
        pytest.param(
            {"x.yaml": OFFER + "overrides:\n  dev: {kind: tag, protect: true}\n"},
            THREE,
            [
                "offers/x.yaml:15:9: overrides.dev.kind: kind is the same in every sandbox, so an "
                "override cannot set it: remove it here",
                "offers/x.yaml:15:20: overrides.dev.protect: protect is the same in every "
                "sandbox, so an override cannot set it: remove it here",
            ],
            id="kind and protect are the same in every sandbox",
        ),
        pytest.param(
            {"x.yaml": OFFER + "overrides:\n  dev:\n    labels: &a [*a]\n"},
            THREE,
            [
                "offers/x.yaml:16:13: overrides.dev.labels[0]: an alias that contains itself: "
                "write the value out"
            ],
            id="an override that contains itself",
        ),
        pytest.param(
            {"x.yaml": BAD_STATUS + "overrides:\n  dev: {status: draft}\n  qa: {status: draft}\n"},
            None,
            [f"offers/x.yaml:3:9: in every sandbox without an override: {STATUS}"],
            id="without reconciler.yaml: names unchecked, the others said as such",
        ),
        pytest.param(
            {
                "x.yaml": OFFER + "tags: [{ref: t}]\noverrides:\n  dev:\n    tags: [{ref: nope}]\n",
                "t.yaml": "kind: tag\nname: T\n",
            },
            THREE,
            [
                "offers/x.yaml:17:12: in sandbox dev: tags[0]: no file defines the key nope: fix "
                "the key or add offers/nope.yaml"
            ],
            id="a reference an override writes is checked",
        ),
        pytest.param(
            {
                "a.yaml": "kind: tag\nname: A\n",
                "b.yaml": "kind: tag\nname: B\noverrides:\n  prod: {name: A}\n",
            },
            THREE,
            [
                'offers/a.yaml:2:7: in sandbox prod: name: "A" is also the name of the tag in '
                "offers/b.yaml: names are unique per kind (an interrupted create is found again "
                "by its name): rename one",
                'offers/b.yaml:4:16: in sandbox prod: name: "A" is also the name of the tag in '
                "offers/a.yaml: names are unique per kind (an interrupted create is found again "
                "by its name): rename one",
            ],
            id="names are unique per kind in each sandbox",
        ),
    ],
)
def test_validation_checks_every_sandbox_body(
    tmp_path: Path,
    files: dict[str, str],
    sandboxes: tuple[str, ...] | None,
    expected: list[str],
) -> None:
    assert _problems(tmp_path, files, sandboxes) == expected


REMOTE_CONFIG = """\
default: dev
sandboxes:
  dev:
    endpoint: embedded
  stage:
    endpoint: embedded
  prod:
    endpoint: https://platform.adobe.io/data/core/dps
    ims: https://ims-na1.adobelogin.com/ims/token/v3
    org: 1234ABCD@AdobeOrg
"""


@pytest.mark.parametrize(
    ("text", "code", "out"),
    [
        (OFFER + "overrides:\n  prod: {status: draft}\n", 0, "Valid: 1 object in offers/.\n"),
        (OFFER + "overrides:\n  qa: {status: draft}\n", 1, f"offers/x.yaml:15:3: {UNKNOWN_QA}\n"),
    ],
)
def test_validate_reads_the_sandbox_names_offline(
    tmp_path: Path, text: str, code: int, out: str
) -> None:
    """validate takes the names from reconciler.yaml, without credentials."""
    root = make_repo(tmp_path / "repo", config=REMOTE_CONFIG, estate=False)
    write(root, {"x.yaml": text})
    done = CliRunner().invoke(cli, ["-C", str(root), "validate"], obj=commands.Dependencies(env={}))
    assert (done.exit_code, done.stdout or done.stderr) == (code, out)


def test_every_kind_may_carry_overrides_in_the_json_schema() -> None:
    for kind in Kind:
        document = schema.json_schema(kind)
        assert document["properties"]["overrides"]["type"] == "object", kind
        assert document["properties"]["overrides"]["additionalProperties"]["type"] == "object"


# --- resolve and source -----------------------------------------------------------------------


def _loaded(tmp_path: Path, files: dict[str, str]) -> dict[str, Desired]:
    root = make_repo(tmp_path / "repo", estate=False)
    write(root, files)
    return {item.key: item for item in documents.load(root, THREE)}


DECISION = """\
kind: decision
name: Home
status: live
fallback: {ref: f}
criteria:
  - placements: [dps:offer-placement:1]
    optionSelection: {filter: dps:offer-filter:1}
"""


@pytest.mark.parametrize(
    ("text", "sandbox", "changed"),
    [
        (OFFER + "overrides:\n  dev: {status: draft}\n", "dev", {"status": "draft"}),
        (OFFER + "overrides:\n  dev: {status: draft}\n", "prod", {}),
        (OFFER + "overrides:\n  dev: {rank: null}\n", "dev", {"rank": None}),
        (
            OFFER + "overrides:\n  dev: {selectionConstraint: {endDate: null}}\n",
            "dev",
            {
                "selectionConstraint": {
                    "startDate": "2027-06-01T00:00:00.000Z",
                    "profileConstraintType": "none",
                }
            },
        ),
        (
            DECISION + "overrides:\n  dev: {fallback: {ref: g}}\n",
            "dev",
            {"fallback": Ref(Key("g"))},
        ),
        (
            DECISION + "overrides:\n  dev: {fallback: dps:fallback-offer:9}\n",
            "dev",
            {"fallback": "dps:fallback-offer:9"},
        ),
        (
            DECISION + "overrides:\n  dev: {criteria: [{placements: [{ref: p}], "
            "optionSelection: {filter: {ref: c}}}]}\n",
            "dev",
            {
                "criteria": [
                    {"placements": [Ref(Key("p"))], "optionSelection": {"filter": Ref(Key("c"))}}
                ]
            },
        ),
    ],
)
def test_resolve_merges_the_sandbox_override_into_the_body(
    tmp_path: Path, text: str, sandbox: str, changed: dict[str, Any]
) -> None:
    fallback = FILES["summer/fallback.yaml"].replace(
        "{ref: placements/web}", "dps:offer-placement:1"
    )
    files = {
        "x.yaml": text,
        "f.yaml": fallback,
        "g.yaml": fallback.replace("Everyone gets", "All get"),
        "p.yaml": FILES["placements/web.yaml"],
        "c.yaml": "kind: collection\nname: C\nfilterType: offers\nids: [dps:personalized-offer:1]\n",
    }
    item = _loaded(tmp_path, files)[Key("x")]
    resolved = overrides.resolve(item, sandbox)
    expected = {**item.body, **changed}
    assert resolved.body == {name: value for name, value in expected.items() if value is not None}
    assert resolved.overrides == {}  # never sent, and never applied twice
    assert overrides.resolve(resolved, sandbox) == resolved
    assert "overrides" not in resolved.body


@pytest.mark.parametrize(
    ("patch", "expected"),
    [
        ({"status": "draft"}, ()),
        ({"rank": None}, ("/rank",)),
        (
            {"selectionConstraint": {"endDate": None}, "description": None},
            ("/selectionConstraint/endDate", "/description"),
        ),
        ({"representations": [{"content": None}]}, ()),  # a list is a value, replaced whole
        ({"characteristics": {"a/b": None}}, ("/characteristics/a~1b",)),
    ],
)
def test_the_fields_an_override_removes_are_its_nulls(
    patch: dict[str, Any], expected: tuple[str, ...]
) -> None:
    assert overrides.removed(patch) == expected


SOURCE_FILE = (
    OFFER
    + """\
overrides:
  dev:
    status: draft
    rank: {priority: 1}
    selectionConstraint: {endDate: null}
    representations:
      - channel: https://ns.adobe.com/xdm/channel-types/web
        placement: dps:offer-placement:1234
        components: [{type: html, format: text/html, content: "<p>dev</p>"}]
    characteristics: {team: dev}
"""
)


@pytest.mark.parametrize(
    ("sandbox", "pointer", "expected"),
    [
        ("dev", "/status", "override"),
        ("dev", "/name", "base"),
        ("dev", "/rank/priority", "override"),
        ("dev", "/selectionConstraint/startDate", "base"),
        ("dev", "/selectionConstraint/endDate", "override"),  # the override removed it
        ("dev", "/selectionConstraint/profileConstraintType", "base"),
        ("dev", "/representations/0/components/0/content", "override"),  # a list is whole
        ("dev", "/characteristics/team", "override"),
        ("dev", "/characteristics/region", "override"),  # a new field of the override's mapping
        ("dev", "/description", "base"),  # a new field of the base's mapping
        ("dev", "", "base"),
        ("prod", "/status", "base"),
        ("qa", "/status", "base"),
    ],
)
def test_source_says_where_a_field_of_the_resolved_body_comes_from(
    tmp_path: Path, sandbox: str, pointer: str, expected: str
) -> None:
    item = _loaded(tmp_path, {"x.yaml": SOURCE_FILE})[Key("x")]
    assert overrides.source(item, sandbox, pointer) == expected


# --- plan, apply and drift per sandbox -------------------------------------------------------

TWO = f"""\
default: dev
prune: false
sandboxes:
  dev:
    endpoint: embedded
    decisioning: {{catalog: "{EMBEDDED_CATALOG}", schema: "{EMBEDDED_SCHEMA}", tenant: _reconciler}}
  prod:
    endpoint: embedded
    decisioning: {{catalog: "{EMBEDDED_CATALOG}", schema: "{EMBEDDED_SCHEMA}", tenant: _reconciler}}
"""
SALE = "summer/sale"


def _two_sandboxes(tmp_path: Path, files: dict[str, str] | None = None) -> Sandbox:
    """One emulator app; dev and prod are two sandboxes of it (its data is kept per sandbox)."""
    root = make_repo(tmp_path / "repo", config=TWO, estate=files is None)
    if files is not None:
        write(root, files)
    return Sandbox(app=create_app(), root=root)


def _live(sandbox: Sandbox, name: str, kind: Kind, object_id: str) -> dict[str, Any]:
    async def read() -> dict[str, Any]:
        endpoint = api.Endpoint(
            commands.EMBEDDED_BASE,
            commands.EMBEDDED_IMS,
            "0000000000000000000EMBED@AdobeOrg",
            name,
            EMBEDDED_SCHEMA,
        )
        credentials = Credentials(client_id="marketer-ui", client_secret="ui-secret")
        async with api.Client(
            endpoint,
            credentials,
            transport=api.asgi_transport(sandbox.app),  # type: ignore[arg-type]
        ) as client:
            return await client.get(kind, object_id)

    return asyncio.run(read())


def _state(sandbox: Sandbox, name: str) -> dict[str, Any]:
    state: dict[str, Any] = json.loads((sandbox.root / "state" / f"{name}.json").read_text())
    return state


def _planned(sandbox: Sandbox, name: str) -> dict[str, dict[str, Any]]:
    done = sandbox.run("plan", "--sandbox", name, "--format", "json")
    assert done.exit_code == 0, done.output
    assert "overrides" not in done.stdout
    return {change["key"]: change for change in json.loads(done.stdout)["changes"]}


def test_each_sandbox_plans_applies_and_drifts_its_own_body(tmp_path: Path) -> None:
    files = dict(FILES)
    files[f"{SALE}.yaml"] += "overrides:\n  dev:\n    status: draft\n    rank: {priority: 1}\n"
    sandbox = _two_sandboxes(tmp_path, files)
    for name, status, priority in (("dev", "draft", 1), ("prod", "approved", 5)):
        desired = _planned(sandbox, name)[SALE]["documents"]["desired"]
        assert (desired["status"], desired["rank"]) == (status, {"priority": priority}), name
    for name, status, priority in (("dev", "draft", 1), ("prod", "approved", 5)):
        done = sandbox.run("apply", "--sandbox", name, "--auto-approve")
        assert done.exit_code == 0, done.output
        entry = _state(sandbox, name)["objects"][SALE]
        live = _live(sandbox, name, Kind.PERSONALIZED_OFFER, entry["id"])
        assert (live["status"], live["rank"]) == (status, {"priority": priority}), name
        assert "overrides" not in json.dumps(live)
        assert "overrides" not in json.dumps(_state(sandbox, name))
    for name in ("dev", "prod"):
        assert sandbox.run("plan", "--sandbox", name, "--detailed-exitcode").exit_code == 0, name
        drift = sandbox.run("drift", "--sandbox", name)
        assert drift.exit_code == 0, drift.output
    # An edit of the override changes dev only.
    path = sandbox.root / "offers" / f"{SALE}.yaml"
    path.write_text(path.read_text().replace("status: draft", "status: archived"))
    dev = _planned(sandbox, "dev")[SALE]
    changes = [(op["op"], op["path"], op["value"]) for op in dev["patch"] if op["op"] != "test"]
    assert (dev["action"], changes) == ("update", [("replace", "/status", "archived")])
    assert sandbox.run("plan", "--sandbox", "prod", "--detailed-exitcode").exit_code == 0


def test_overrides_of_every_kind_are_applied_in_their_sandbox_and_never_sent(
    tmp_path: Path,
) -> None:
    """Every file of the example estate (every kind of both models) renamed in prod by an
    override: prod gets the new names, dev the names as written; `overrides` reaches neither
    Adobe nor a plan nor state; plan and drift are clean in both afterwards."""
    sandbox = _two_sandboxes(tmp_path)
    seen = set()
    for path in sorted((sandbox.root / "offers").rglob("*.yaml")):
        text = path.read_text()
        named = re.search(r"^kind: (\S+)$", text, re.MULTILINE).group(1)  # type: ignore[union-attr]
        if named in ("profile", "decision-test"):
            continue  # reconciler's own kinds: never sent, no overrides
        kind = Kind(named)
        seen.add(kind)
        steps = name_path(kind)
        key = path.relative_to(sandbox.root / "offers").with_suffix("").as_posix()
        patch: Any = {steps[-1]: f"{key} in prod"}
        for step in reversed(steps[:-1]):
            patch = {step: patch}
        path.write_text(text + "overrides:\n  prod: " + json.dumps(patch) + "\n")
    assert seen == set(Kind)
    for name in ("dev", "prod"):
        assert "overrides" not in json.dumps(_planned(sandbox, name))
        done = sandbox.run("apply", "--sandbox", name, "--auto-approve")
        assert done.exit_code == 0, done.output
    for name in ("dev", "prod"):
        objects = _state(sandbox, name)["objects"]
        assert "overrides" not in json.dumps(objects)
        for key, entry in objects.items():
            live = _live(sandbox, name, Kind(entry["kind"]), entry["id"])
            assert "overrides" not in json.dumps(live), key
            node: Any = live
            for step in name_path(Kind(entry["kind"])):
                node = node[step]
            renamed = node == f"{key} in prod"
            assert renamed == (name == "prod"), (name, key, node)
        assert sandbox.run("plan", "--sandbox", name, "--detailed-exitcode").exit_code == 0
        assert sandbox.run("drift", "--sandbox", name).exit_code == 0


def test_a_plan_refuses_an_override_of_a_sandbox_reconciler_yaml_does_not_name(
    tmp_path: Path,
) -> None:
    files = dict(FILES)
    files[f"{SALE}.yaml"] += "overrides:\n  staging: {status: draft}\n"
    sandbox = _two_sandboxes(tmp_path, files)
    done = sandbox.run("plan", "--sandbox", "dev")
    assert done.exit_code == 1
    assert (
        "offers/summer/sale.yaml:22:3: overrides.staging: reconciler.yaml has no sandbox named "
        '"staging": use one of dev, prod, or add it under sandboxes:'
    ) in done.output


# --- a null in an override: git owns the absence ----------------------------------------------


def _client(sandbox: Sandbox, name: str) -> api.Client:
    """The UI's client on one of the two sandboxes."""
    endpoint = api.Endpoint(
        commands.EMBEDDED_BASE,
        commands.EMBEDDED_IMS,
        "0000000000000000000EMBED@AdobeOrg",
        name,
        EMBEDDED_SCHEMA,
    )
    credentials = Credentials(client_id="marketer-ui", client_secret="ui-secret")
    return api.Client(endpoint, credentials, transport=api.asgi_transport(sandbox.app))  # type: ignore[arg-type]


def _ui_edit(sandbox: Sandbox, name: str, ops: list[dict[str, Any]]) -> None:
    object_id = _state(sandbox, name)["objects"][SALE]["id"]

    async def edit() -> None:
        async with _client(sandbox, name) as client:
            await client.patch(Kind.PERSONALIZED_OFFER, object_id, ops, if_match=None)

    asyncio.run(edit())


def _changes(sandbox: Sandbox, name: str) -> list[tuple[str, str, Any, bool]]:
    """The operations (not the tests) each change of the sandbox's plan makes: op, path, value,
    and whether it reverts an edit made outside git."""
    return [
        (op["op"], op["path"], op.get("value"), "reverts" in op)
        for change in _planned(sandbox, name).values()
        for op in change["patch"]
        if op["op"] != "test"
    ]


def _drifted(sandbox: Sandbox, name: str) -> list[tuple[str, str, Any, Any]]:
    done = sandbox.run("drift", "--sandbox", name, "--format", "json")
    assert done.exit_code in (0, 2), done.output
    return [
        (change["op"], change["path"], change["applied"], change["live"])
        for item in json.loads(done.stdout)["objects"]
        for change in item["fields"]
    ]


@pytest.mark.parametrize(
    ("override", "put_back", "value", "prod"),
    [
        pytest.param(
            "    description: null\n",
            "/description",
            "Added in the UI",
            [],  # prod's body never wrote a description: the UI's, left alone
            id="a field git never wrote",
        ),
        pytest.param(
            "    selectionConstraint: {endDate: null}\n",
            "/selectionConstraint/endDate",
            "2027-09-30T23:59:59.000Z",
            [("replace", "/selectionConstraint/endDate", "2027-08-31T23:59:59.000Z", True)],
            id="a field the body writes for every other sandbox",
        ),
    ],
)
def test_a_field_the_override_removes_and_the_ui_puts_back_is_planned_away_and_drift(
    tmp_path: Path, override: str, put_back: str, value: str, prod: list[tuple[str, ...]]
) -> None:
    """Found in review: plan and drift stayed clean; an override's null is git's absence."""
    files = dict(FILES)
    files[f"{SALE}.yaml"] += "overrides:\n  dev:\n" + override
    sandbox = _two_sandboxes(tmp_path, files)
    for name in ("dev", "prod"):
        assert sandbox.run("apply", "--sandbox", name, "--auto-approve").exit_code == 0
        _ui_edit(sandbox, name, [{"op": "add", "path": put_back, "value": value}])
    assert _changes(sandbox, "dev") == [("remove", put_back, None, True)]
    assert _drifted(sandbox, "dev") == [("add", put_back, None, value)]
    assert _changes(sandbox, "prod") == prod
    saved = tmp_path / "plan.json"  # a saved plan derives the same removal again
    assert sandbox.run("plan", "--sandbox", "dev", "--out", str(saved)).exit_code == 0
    done = sandbox.run("apply", str(saved))
    assert done.exit_code == 0, done.output
    live = _live(
        sandbox, "dev", Kind.PERSONALIZED_OFFER, _state(sandbox, "dev")["objects"][SALE]["id"]
    )
    assert diff.lookup(live, put_back) == (False, None)
    assert sandbox.run("plan", "--sandbox", "dev", "--detailed-exitcode").exit_code == 0
    assert _drifted(sandbox, "dev") == []


def test_a_null_git_adds_for_a_field_only_the_ui_set_plans_its_removal(tmp_path: Path) -> None:
    """The live revision is still the one apply recorded (the UI's edit came before it), and
    git's body did not change: the plan still removes the field git now says is absent."""
    sandbox = _two_sandboxes(tmp_path, dict(FILES))
    assert sandbox.run("apply", "--sandbox", "dev", "--auto-approve").exit_code == 0
    _ui_edit(sandbox, "dev", [{"op": "add", "path": "/description", "value": "Added in the UI"}])
    path = sandbox.root / "offers" / f"{SALE}.yaml"
    path.write_text(path.read_text().replace("rank:\n  priority: 5\n", "rank:\n  priority: 6\n"))
    assert sandbox.run("apply", "--sandbox", "dev", "--auto-approve").exit_code == 0
    assert _changes(sandbox, "dev") == []  # the UI's description: git never wrote one
    path.write_text(path.read_text() + "overrides:\n  dev: {description: null}\n")
    assert _changes(sandbox, "dev") == [("remove", "/description", None, True)]


def test_drift_runs_even_when_a_definition_on_main_is_broken(tmp_path: Path) -> None:
    """Drift compares live with state: a broken file must not stop the scheduled drift job."""
    sandbox = _two_sandboxes(tmp_path)
    assert sandbox.run("apply", "--sandbox", "dev", "--auto-approve").exit_code == 0
    (sandbox.root / "offers" / "tags" / "summer.yaml").write_text("kind: tag\nname: [\n")
    result = sandbox.run("drift", "--sandbox", "dev")
    assert result.exit_code == 0, result.output
