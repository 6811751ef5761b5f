"""offers/ -> desired objects: every YAML pitfall and schema rule gives one precise message."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from reconciler import documents, schema
from reconciler.cli import cli
from reconciler.errors import InvalidDocuments
from reconciler.model import Key, Kind

ROOT = Path(__file__).resolve().parent.parent
TAG = "kind: tag\nname: Sale\n"
PLACEMENT = (
    "kind: placement\nname: Web\ncomponentType: html\n"
    "channel: https://ns.adobe.com/xdm/channel-types/web\n"
)
OFFER = """\
kind: personalized-offer
name: Offer
status: approved
representations:
  - channel: https://ns.adobe.com/xdm/channel-types/web
    placement: {ref: web}
    components:
      - type: html
        format: text/html
selectionConstraint:
  profileConstraintType: none
"""


def problems(files: dict[str, bytes | str]) -> list[str]:
    """Write files under a fresh offers/ and return the validation problems as text lines."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for name, content in files.items():
            path = root / "offers" / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content.encode() if isinstance(content, str) else content)
        try:
            documents.load(root)
        except InvalidDocuments as invalid:
            return [str(p) for p in invalid.problems]
        return []


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            "",
            "offers/x.yaml:1:1: empty file: give it a kind (tag, placement, decision-rule, personalized-offer, fallback-offer, collection, decision) and fields",
        ),
        (
            "kind: tag\nname: a\nname: b\n",
            'offers/x.yaml:3:1: found duplicate key "name": each key may appear once in a mapping',
        ),
        (
            "kind: tag\n\tname: x\n",
            "offers/x.yaml:2:1: found character '\\t' that cannot start any token: indent with spaces, not tabs",
        ),
        (
            "kind: tag\nname: a\n---\nkind: tag\nname: b\n",
            "offers/x.yaml:3:1: several documents in one file: put one object per file",
        ),
        (
            b"kind: tag\nname: caf\xe9\n",
            "offers/x.yaml:2:10: not UTF-8 text: save the file as UTF-8",
        ),
        (
            "- a\n- b\n",
            "offers/x.yaml:1:1: the top level must be a mapping starting with kind: (tag, placement, decision-rule, personalized-offer, fallback-offer, collection, decision)",
        ),
        (
            "name: a\n",
            "offers/x.yaml:1:1: missing kind: add kind: one of tag, placement, decision-rule, personalized-offer, fallback-offer, collection, decision",
        ),
        (
            "kind: widget\nname: a\n",
            "offers/x.yaml:1:7: kind: 'widget' is not a kind: use one of tag, placement, decision-rule, personalized-offer, fallback-offer, collection, decision",
        ),
        (
            "kind: tag\nname: [a\n",
            "offers/x.yaml:3:1: invalid YAML: expected ',' or ']', but got '<stream end>'",
        ),
        (
            "kind: tag\nname: a\ndescription: ~\n",
            "offers/x.yaml:3:14: description: null is not a value here: give it one or remove the line",
        ),
    ],
)
def test_a_yaml_pitfall_is_one_clear_located_problem(content: str | bytes, expected: str) -> None:
    assert problems({"x.yaml": content}) == [expected]


def test_an_unknown_field_gives_the_key_position_and_the_fields_allowed() -> None:
    assert problems({"x.yaml": "kind: tag\nnam: a\n"}) == [
        "offers/x.yaml:1:1: missing required field name",
        "offers/x.yaml:2:1: nam: unknown field: remove it or fix its spelling (fields here: description, kind, name)",
    ]


def test_every_problem_deep_in_lists_is_reported_at_its_line() -> None:
    offer = (
        OFFER.replace("status: approved", "status: aproved").replace(
            "        format: text/html\n",
            "        format: text/html\n      - type: html\n        formt: text/html\n",
        )
        + "rank:\n  priority: true\ncharacteristics: {a: 1}\n"
    )
    assert problems({"web.yaml": PLACEMENT, "o.yaml": offer}) == [
        'offers/o.yaml:3:9: status: "aproved" is not allowed: expected one of draft, approved, archived',
        "offers/o.yaml:10:9: missing required field format in representations[0].components[1]",
        "offers/o.yaml:11:9: representations[0].components[1].formt: unknown field: remove it or fix "
        "its spelling (fields here: content, deliveryURL, format, language, linkURL, repoId, "
        "repoName, resolveURL, type)",
        "offers/o.yaml:15:13: rank.priority: input should be a valid integer (got true)",
        "offers/o.yaml:16:22: characteristics.a: input should be a valid string (got 1)",
    ]


def test_rules_across_fields() -> None:
    offer = OFFER.replace(
        "  profileConstraintType: none\n",
        '  startDate: "2027-06-01T00:00:00Z"\n  endDate: "2027-05-01T00:00:00Z"\n  profileConstraintType: none\n',
    ).replace(
        "selectionConstraint:",
        "  - channel: https://ns.adobe.com/xdm/channel-types/web\n    placement: {ref: web}\n"
        "    components: [{type: html, format: text/html}]\nselectionConstraint:",
    )
    assert problems({"web.yaml": PLACEMENT, "o.yaml": offer}) == [
        "offers/o.yaml:11:16: representations[1].placement: a second representation for the same "
        "placement (the first is representations[0]): an offer has one representation per placement",
        "offers/o.yaml:15:12: selectionConstraint.endDate: endDate 2027-05-01T00:00:00Z is not after "
        "startDate 2027-06-01T00:00:00Z",
    ]


def test_bad_references_dangling_wrong_kind_and_wrong_kind_ids() -> None:
    offer = OFFER.replace("{ref: web}", "{ref: nowhere}") + (
        "tags:\n  - {ref: web}\n  - dps:offer-placement:0123456789abcdef\n"
    )
    assert problems({"web.yaml": PLACEMENT, "o.yaml": offer}) == [
        "offers/o.yaml:6:16: representations[0].placement: no file defines nowhere "
        "(offers/nowhere.yaml): fix the key or add the file",
        "offers/o.yaml:13:5: tags[0]: web is a placement, but this field takes a tag",
        "offers/o.yaml:14:5: tags[1]: dps:offer-placement:0123456789abcdef is the id of a placement, "
        "but this field takes a tag",
    ]


def test_names_and_keys_are_unique_and_all_files_report_in_one_run() -> None:
    assert problems({"a.yaml": TAG, "b.yaml": TAG, "b.yml": TAG, "c.yaml": "kind: tag\n"}) == [
        "offers/b.yaml:2:7: name: 'Sale' is already the name of a tag in offers/a.yaml: names are "
        "unique per kind (they find interrupted creates)",
        "offers/b.yml:1:1: offers/b.yaml already defines the key b: rename one of them",
        "offers/c.yaml:1:1: missing required field name",
    ]


def test_yaml_12_and_dates_stay_exactly_as_written() -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "offers").mkdir()
        (root / "offers" / "r.yaml").write_text(
            "kind: decision-rule\nname: no\ndescription: 2027-06-01T00:00:00.000+00:00\n"
            "condition: {type: PQL, format: pql/text, value: 'true'}\n"
        )
        (loaded,) = documents.load(root)
    assert loaded.body == {
        "name": "no",
        "description": "2027-06-01T00:00:00.000+00:00",
        "condition": {"type": "PQL", "format": "pql/text", "value": "true"},
    }


def test_the_adobe_example_body_pastes_in_as_it_is() -> None:
    estate = {d.key: d for d in documents.load(ROOT)}
    example = estate[Key("adobe/frequency-example")]
    adobe = json.loads((ROOT / "tests" / "adobe_create_body.json").read_text())
    adobe["representations"][0]["placement"] = {"ref": "placements/web-banner"}
    assert (example.kind, dict(example.body)) == (Kind.PERSONALIZED_OFFER, adobe)


def test_the_example_estate_is_valid() -> None:
    loaded = documents.load(ROOT)
    assert len(loaded) == 16
    assert {d.kind for d in loaded} == set(Kind)


def test_the_committed_schema_is_the_generated_one() -> None:
    committed = json.loads((ROOT / "reconciler" / "offers.schema.json").read_text())
    # Regenerate with: reconciler schema > reconciler/offers.schema.json
    assert committed == schema.json_schema(None)


def test_every_definition_file_points_editors_at_the_schema() -> None:
    for path in sorted((ROOT / "offers").rglob("*.yaml")):
        depth = len(path.relative_to(ROOT / "offers").parts)
        first = path.read_text().splitlines()[0]
        assert (
            first == f"# yaml-language-server: $schema={'../' * depth}reconciler/offers.schema.json"
        )


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        (
            "text",
            'offers/o.yaml:3:9: status: "nope" is not allowed: expected one of draft, approved, archived\n',
        ),
        (
            "github",
            '::error file=offers/o.yaml,line=3,col=9::status: "nope" is not allowed: expected one of draft, approved, archived\n',
        ),
        (
            "json",
            json.dumps(
                [
                    {
                        "column": 9,
                        "line": 3,
                        "message": 'status: "nope" is not allowed: expected one of draft, approved, archived',
                        "path": "offers/o.yaml",
                    }
                ],
                indent=2,
                sort_keys=True,
            )
            + "\n",
        ),
    ],
)
def test_validate_through_the_cli(tmp_path: Path, fmt: str, expected: str) -> None:
    (tmp_path / "offers").mkdir()
    (tmp_path / "offers" / "web.yaml").write_text(PLACEMENT)
    (tmp_path / "offers" / "o.yaml").write_text(OFFER.replace("approved", "nope"))
    done = CliRunner().invoke(cli, ["-C", str(tmp_path), "validate", "--format", fmt])
    assert (done.exit_code, done.stdout) == (1, expected)
    assert done.exception is None or isinstance(done.exception, SystemExit)


def test_validate_passes_on_the_example_estate() -> None:
    done = CliRunner().invoke(cli, ["-C", str(ROOT), "validate"])
    assert (done.exit_code, done.output) == (0, "Valid: 16 objects in offers/.\n")


def test_import_writes_files_that_load_back_identically(tmp_path: Path) -> None:
    body = {
        "name": "Spring",
        "status": "draft",
        "representations": [
            {
                "channel": "https://ns.adobe.com/xdm/channel-types/web",
                "placement": {"ref": "web"},
                "components": [
                    {"type": "html", "format": "text/html", "content": "a: b\n# not a comment"}
                ],
            }
        ],
        "selectionConstraint": {
            "startDate": "2027-01-01T00:00:00Z",
            "profileConstraintType": "none",
        },
        "characteristics": {"code": "007", "flag": "yes"},
    }
    (tmp_path / "offers").mkdir()
    (tmp_path / "offers" / "web.yaml").write_text(PLACEMENT)
    documents.write_definition(tmp_path, Key("spring/offer"), Kind.PERSONALIZED_OFFER, body)
    loaded = {d.key: d for d in documents.load(tmp_path)}
    assert dict(loaded[Key("spring/offer")].body) == body
