"""documents.py: offers/ -> desired objects; every YAML pitfall and every problem is one located line."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler import documents, graph, kinds
from reconciler.errors import ConfigError, InvalidDocuments
from reconciler.model import Desired, Key, Kind, Ref, Source

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(__file__).resolve().parent / "corpus"
KINDS = (
    "tag, placement, decision-rule, personalized-offer, fallback-offer, collection, decision, "
    "ranking-formula, eligibility-rule, decision-item, item-collection, selection-strategy, "
    "exd-placement, profile, decision-test"
)
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


def write(root: Path, files: Mapping[str, str | bytes]) -> Path:
    (root / "offers").mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        path = root / "offers" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)
    return root


def problems(root: Path, files: Mapping[str, str | bytes]) -> list[str]:
    """The problems of a fresh offers/ holding `files`, as `path:line:column: message` lines."""
    with pytest.raises(InvalidDocuments) as raised:
        documents.load(write(root, files))
    return [str(problem) for problem in raised.value.problems]


# --- YAML pitfalls --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            "",
            f"1:1: empty file: start it with kind: (one of {KINDS}) and the object's fields",
        ),
        (
            "# yaml-language-server: $schema=../reconciler/offers.schema.json\n",
            f"1:1: empty file: start it with kind: (one of {KINDS}) and the object's fields",
        ),
        (
            "kind: tag\nname: a\nname: b\n",
            '3:1: duplicate key "name" (first on line 2): a key may appear once in a mapping: '
            "keep one",
        ),
        (
            # Finding the first `<<` once looped for ever on a value that contains itself.
            "kind: tag\nname: a\nlabels:\n  <<: {a: 1}\n  <<: {b: 2}\ndescription: &l [*l]\n",
            '5:3: duplicate key "<<" (first on line 4): a key may appear once in a mapping: '
            "keep one",
        ),
        (
            "kind: tag\n\tname: x\n",
            "2:1: a tab where YAML expects spaces: indent with spaces (found character '\\t' "
            "that cannot start any token)",
        ),
        (
            "kind: tag\nname: a\n---\nkind: tag\nname: b\n",
            "3:1: several documents in one file: keep one object per file",
        ),
        (
            b"kind: tag\nname: caf\xe9\n",
            "2:10: not UTF-8 text (byte 0xe9): save the file as UTF-8",
        ),
        (
            # The column counts characters: é before the bad byte is one column, two bytes.
            b"kind: tag\nname: \xc3\xa9t\xe9\n",
            "2:9: not UTF-8 text (byte 0xe9): save the file as UTF-8",
        ),
        (
            "kind: tag\nname: a\n".encode("utf-16"),
            "1:1: not UTF-8 text (byte 0xff): save the file as UTF-8",
        ),
        (
            "- kind: tag\n- name: a\n",
            f"1:1: the top level must be a mapping that starts with kind: (one of {KINDS})",
        ),
        (
            "# a comment first\njust text\n",
            f"2:1: the top level must be a mapping that starts with kind: (one of {KINDS})",
        ),
        (
            "~\n",
            f"1:1: the top level must be a mapping that starts with kind: (one of {KINDS})",
        ),
        (
            "# yaml-language-server: $schema=../reconciler/offers.schema.json\nname: a\n",
            f"2:1: kind: missing: add kind: one of {KINDS}",
        ),
        (
            "kind: widget\nname: a\n",
            f'1:7: kind: "widget" is not a kind: use one of {KINDS}',
        ),
        (
            "kind: [tag]\nname: a\n",
            f"1:7: kind: a list is not a kind: use one of {KINDS}",
        ),
        (
            "kind: Tag\nname: a\n",
            f'1:7: kind: "Tag" is not a kind: use one of {KINDS}',
        ),
        (
            "kind: tag\nname: [a\n",
            "3:1: invalid YAML: expected ',' or ']', but got '<stream end>' (while parsing a "
            "flow sequence on line 2)",
        ),
        (
            "kind: tag\nname: 'a\n",
            "3:1: invalid YAML: found unexpected end of stream (while scanning a quoted scalar "
            "on line 2)",
        ),
        (
            "kind: tag\nname: a\n  description: b\n",
            "3:14: invalid YAML: mapping values are not allowed here",
        ),
        (
            "kind: tag\nname: a\u0007b\n",
            "2:8: the control character U+0007 is not allowed in YAML: remove it",
        ),
        (
            "kind: tag\nname: !!binary aGVsbG8=\n",
            "2:7: the tag tag:yaml.org,2002:binary is not supported: offers/ files hold plain "
            "values (text, numbers, true/false, lists and mappings)",
        ),
        (
            "kind: tag\nname: a\ndescription: !!set {a, b}\n",
            "3:14: the tag tag:yaml.org,2002:set is not supported: offers/ files hold plain "
            "values (text, numbers, true/false, lists and mappings)",
        ),
        (
            "kind: tag\nname: !secret a\n",
            "2:7: the tag !secret is not supported: offers/ files hold plain values (text, "
            "numbers, true/false, lists and mappings)",
        ),
        (
            "kind: tag\nname: a\ndescription: &loop [*loop]\n",
            "3:14: description[0]: an alias that contains itself: write the value out",
        ),
        (
            # Deep enough to crash ruamel's C composer (its recursion has no limit).
            "kind: tag\nname: a\ndescription: " + "[" * 50_000 + "]" * 50_000 + "\n",
            "3:213: nested more than 200 levels deep: no kind has fields that deep, remove the "
            "extra levels",
        ),
        (
            "kind: tag\nname: a\ndescription:\n" + "- " * 40_000 + "x\n",
            "4:399: nested more than 200 levels deep: no kind has fields that deep, remove the "
            "extra levels",
        ),
        (
            "kind: tag\nname: a\ndescription: " + "[" * 20 + "]" * 20 + "\n",
            "3:30: description[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]: nested deeper "
            "than any field of any kind (16 levels): remove the extra levels",
        ),
        (
            "kind: tag\nname: a\ndescription: ~\n",
            "3:14: description: null is not a value: give one or remove the line",
        ),
        (
            "kind: tag\nname: a\ndescription:\n",
            "3:1: description: null is not a value: give one or remove the line",
        ),
    ],
)
def test_a_yaml_pitfall_is_one_problem_at_its_position(
    tmp_path: Path, content: str | bytes, expected: str
) -> None:
    assert problems(tmp_path, {"x.yaml": content}) == [f"offers/x.yaml:{expected}"]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            "kind: tag\nname: a\nname: b\nstatus: draft\n",
            [
                '3:1: duplicate key "name" (first on line 2): a key may appear once in a mapping: '
                "keep one",
                "4:1: status: unknown field: remove it or fix its spelling (fields here: description, "
                "kind, name, overrides, protect)",
            ],
        ),
        (
            "kind: tag\nname: a\ndescription: {en: x,\n  en: y}\n",
            [
                "3:14: description: expected text (got a mapping)",
                '4:3: duplicate key "en" (first on line 3): a key may appear once in a mapping: '
                "keep one",
            ],
        ),
        (
            # Every duplicate, each naming its first copy; the first copy is the one checked.
            "kind: tag\nname: [a]\nname: b\nname: c\nid: tag1\nid: tag2\n",
            [
                "2:7: name: expected text (got a list)",
                '3:1: duplicate key "name" (first on line 2): a key may appear once in a mapping: '
                "keep one",
                '4:1: duplicate key "name" (first on line 2): a key may appear once in a mapping: '
                "keep one",
                "5:1: id: set by the server, never in git: remove it",
                '6:1: duplicate key "id" (first on line 5): a key may appear once in a mapping: '
                "keep one",
            ],
        ),
        (
            # libyaml refuses the colon inside a flow scalar: the pure parser reads it all.
            "kind: collection\nname: C\nname: D\nfilterType: offers\nids: [dps:x:1]\nrank: 1\n",
            [
                '3:1: duplicate key "name" (first on line 2): a key may appear once in a mapping: '
                "keep one",
                "6:1: rank: unknown field: remove it or fix its spelling (fields here: description, "
                "filterType, ids, kind, labels, name, overrides, protect)",
            ],
        ),
        (
            "kind: tag\nname: a\nname: b\ndescription: !!binary aGk=\n",
            [
                "4:14: the tag tag:yaml.org,2002:binary is not supported: offers/ files hold plain "
                "values (text, numbers, true/false, lists and mappings)",
            ],
        ),
    ],
)
def test_a_duplicate_key_is_reported_with_every_other_problem_of_its_file(
    tmp_path: Path, content: str, expected: list[str]
) -> None:
    assert problems(tmp_path, {"x.yaml": content}) == [f"offers/x.yaml:{line}" for line in expected]


def _aliases(count: int) -> str:
    """A placement whose labels hold `count` aliases of one label."""
    return PLACEMENT + "labels:\n  - &label web\n" + "  - *label\n" * count


TOO_MANY_ALIASED = (
    "with this alias, the aliases of the file repeat more than 10,000 values (the limit): write "
    "the values out or use fewer aliases"
)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (_aliases(10_000), []),
        (_aliases(10_001), [f"offers/p.yaml:10007:5: {TOO_MANY_ALIASED}"]),
        (
            # libyaml refuses the colon in `[dps:x:1]`: the pure parser counts instead.
            _aliases(10_001).replace("name: Web", "name: Web\ndescription: [dps:x:1]"),
            [f"offers/p.yaml:10008:5: {TOO_MANY_ALIASED}"],
        ),
        (
            # Each alias repeats everything its anchor holds, aliases inside it included.
            PLACEMENT
            + "labels: &ten [a, b, c, d, e, f, g, h, i]\n"
            + "description:\n"
            + "  - &hundred [*ten, *ten, *ten, *ten, *ten, *ten, *ten, *ten, *ten, *ten]\n"
            + ("  - [" + ", ".join(["*hundred"] * 10) + "]\n") * 10,
            # 10 aliases of 10 values, then 101 values for each *hundred: the 99th passes.
            [f"offers/p.yaml:17:86: {TOO_MANY_ALIASED}"],
        ),
        (
            # Without both `&` and `*` the text holds no alias and is not counted.
            PLACEMENT.replace("name: Web", "name: 'Fish & chips'\ndescription: '* 2'"),
            [],
        ),
    ],
)
def test_aliases_may_repeat_at_most_10000_values(
    tmp_path: Path, content: str, expected: list[str]
) -> None:
    if expected:
        assert problems(tmp_path, {"p.yaml": content}) == expected
    else:
        assert len(documents.load(write(tmp_path, {"p.yaml": content}))) == 1


def test_nested_aliases_are_refused_at_the_alias_that_passes_the_limit(tmp_path: Path) -> None:
    # Nine anchors, each a list of nine aliases of the one before: 9^9 values once expanded,
    # which the schema checks would walk for minutes; counting them takes one parse.
    shutil.copytree(CORPUS / "invalid" / "aliases" / "offers", tmp_path / "offers")
    expected = (CORPUS / "invalid" / "aliases" / "expected.txt").read_text().splitlines()
    assert problems(tmp_path, {}) == expected


def test_a_pasted_server_field_is_refused_each_at_its_key(tmp_path: Path) -> None:
    assert problems(tmp_path, {"x.yaml": "kind: tag\nname: a\nid: tag1234\netag: 3\n"}) == [
        "offers/x.yaml:3:1: id: set by the server, never in git: remove it",
        "offers/x.yaml:4:1: etag: set by the server, never in git: remove it",
    ]


def test_yaml_12_text_stays_text_and_dates_stay_as_written(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "p.yaml": PLACEMENT
            + "labels: [no, yes, on, off, y, 2027-06-01, 2027-06-01T00:00:00Z, '0o17', =, <<]\n",
            "d.yaml": "%YAML 1.1\n---\nkind: tag\nname: no\ndescription: 2027-06-01 10:00:00\n",
        },
    )
    tag, placement = documents.load(tmp_path)
    assert placement.body["labels"] == [
        "no",
        "yes",
        "on",
        "off",
        "y",
        "2027-06-01",
        "2027-06-01T00:00:00Z",
        "0o17",
        "=",
        "<<",
    ]
    # YAML 1.2 even when the file asks for 1.1: one meaning for every file.
    assert tag.body == {"name": "no", "description": "2027-06-01 10:00:00"}


def test_a_colon_inside_a_flow_scalar_is_yaml_12_even_where_libyaml_refuses_it(
    tmp_path: Path,
) -> None:
    write(
        tmp_path,
        {
            "c.yaml": "kind: collection\nname: C\nfilterType: offers\nids: [dps:personalized-offer:1a]\n"
        },
    )
    (collection,) = documents.load(tmp_path)
    assert collection.body["ids"] == ["dps:personalized-offer:1a"]


def test_the_hot_path_parses_with_the_c_extension() -> None:
    assert documents.parser_name() == "CParser"


def test_a_utf8_byte_order_mark_is_fine(tmp_path: Path) -> None:
    write(tmp_path, {"t.yaml": "\ufeffkind: tag\nname: Sale\n"})
    assert documents.load(tmp_path) == (
        Desired(Key("t"), Kind.TAG, {"name": "Sale"}, Source("offers/t.yaml")),
    )


# --- keys, bodies, sources ------------------------------------------------------------------


def test_keys_are_paths_under_offers_without_the_suffix_sorted(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "tags/b.yml": "kind: tag\nname: B\n",
            "tags/a.yaml": "kind: tag\nname: A\n",
            "deep/er/x.yaml": "kind: tag\nname: X\n",
            "notes.txt": "not a definition",
            "dir.yaml/inner.yaml": "kind: tag\nname: Inner\n",
        },
    )
    assert documents.load(tmp_path) == (
        Desired(Key("deep/er/x"), Kind.TAG, {"name": "X"}, Source("offers/deep/er/x.yaml")),
        Desired(
            Key("dir.yaml/inner"), Kind.TAG, {"name": "Inner"}, Source("offers/dir.yaml/inner.yaml")
        ),
        Desired(Key("tags/a"), Kind.TAG, {"name": "A"}, Source("offers/tags/a.yaml")),
        Desired(Key("tags/b"), Kind.TAG, {"name": "B"}, Source("offers/tags/b.yml")),
    )


def test_a_symlinked_file_or_folder_is_read_through_its_link(tmp_path: Path) -> None:
    write(tmp_path, {})
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "t.yaml").write_text("kind: tag\nname: T\n")
    (tmp_path / "u.yaml").write_text("kind: tag\nname: U\n")
    (tmp_path / "offers" / "linked").symlink_to("../shared")
    (tmp_path / "offers" / "u.yaml").symlink_to("../u.yaml")
    assert documents.load(tmp_path) == (
        Desired(Key("linked/t"), Kind.TAG, {"name": "T"}, Source("offers/linked/t.yaml")),
        Desired(Key("u"), Kind.TAG, {"name": "U"}, Source("offers/u.yaml")),
    )


def test_a_folder_reached_through_two_links_is_read_once_and_reported(tmp_path: Path) -> None:
    write(tmp_path, {})
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "t.yaml").write_text("kind: tag\nname: T\n")
    (tmp_path / "offers" / "a").symlink_to("../shared")
    (tmp_path / "offers" / "b").symlink_to("../shared")
    with pytest.raises(InvalidDocuments) as raised:
        documents.load(tmp_path)
    assert [str(p) for p in raised.value.problems] == [
        "offers/b:1:1: a symlink to ../shared, a folder read already through another path: its "
        "files would have two keys: delete the link"
    ]


def _link(root: Path, name: str, target: str) -> None:
    (root / "offers" / name).parent.mkdir(parents=True, exist_ok=True)
    (root / "offers" / name).symlink_to(target)


@pytest.mark.parametrize(
    ("links", "expected"),
    [
        (
            {"gone.yaml": "missing.yaml"},
            [
                "offers/gone.yaml:1:1: a symlink to missing.yaml, which does not exist: fix the "
                "link or delete it"
            ],
        ),
        (
            # A folder of definitions whose link leads nowhere: its objects are not deleted.
            {"shared": "../moved"},
            [
                "offers/shared:1:1: a symlink to ../moved, which does not exist: fix the link or delete it"
            ],
        ),
        (
            {"a.yaml": "b.yaml", "b.yaml": "a.yaml"},
            [
                "offers/a.yaml:1:1: a symlink to b.yaml, whose links lead back to themselves: fix "
                "the link or delete it",
                "offers/b.yaml:1:1: a symlink to a.yaml, whose links lead back to themselves: fix "
                "the link or delete it",
            ],
        ),
        (
            # Following it would walk offers/sub/up/sub/up/... without end.
            {"sub/up": ".."},
            [
                "offers/sub/up:1:1: a symlink to .., a folder that holds the link: following it "
                "would never end: delete the link",
            ],
        ),
        (
            {"self": "."},
            [
                "offers/self:1:1: a symlink to ., a folder that holds the link: following it "
                "would never end: delete the link",
            ],
        ),
        (
            # Outside the repository: never read (a fork's pull request could point at any file
            # of the runner, or at / for a walk that never ends).
            {"x.yaml": "/etc/hostname", "root": "/"},
            [
                "offers/root:1:1: a symlink to /, outside the repository: a link must stay inside "
                "it (copy the file in, or delete the link)",
                "offers/x.yaml:1:1: a symlink to /etc/hostname, outside the repository: a link "
                "must stay inside it (copy the file in, or delete the link)",
            ],
        ),
    ],
)
def test_what_cannot_be_read_under_offers_is_a_problem_never_skipped(
    tmp_path: Path, links: dict[str, str], expected: list[str]
) -> None:
    # A file skipped in silence is an object that `apply --prune` would delete.
    write(tmp_path, {"t.yaml": TAG, "sub/u.yaml": "kind: tag\nname: U\n"})
    for name, target in links.items():
        _link(tmp_path, name, target)
    assert problems(tmp_path, {}) == expected


def test_a_pipe_named_yaml_is_a_problem_and_is_not_read(tmp_path: Path) -> None:
    write(tmp_path, {"t.yaml": TAG})
    os.mkfifo(tmp_path / "offers" / "p.yaml")  # reading it would wait for a writer forever
    assert problems(tmp_path, {}) == [
        "offers/p.yaml:1:1: not a regular file (a pipe, socket or device): replace it with a "
        "definition file or remove it from offers/",
    ]


@pytest.mark.skipif(os.geteuid() == 0, reason="root lists a folder whatever its mode")
def test_a_folder_that_cannot_be_listed_is_a_problem(tmp_path: Path) -> None:
    write(tmp_path, {"t.yaml": TAG, "locked/u.yaml": "kind: tag\nname: U\n"})
    locked = tmp_path / "offers" / "locked"
    locked.chmod(0)
    try:
        assert problems(tmp_path, {}) == [
            "offers/locked:1:1: cannot be read (Permission denied): make it readable or remove "
            "it from offers/",
        ]
    finally:
        locked.chmod(0o755)


def test_a_suffix_in_the_wrong_case_is_a_problem(tmp_path: Path) -> None:
    files = {"a.YAML": TAG, "tags/b.Yml": TAG, "c.yaml": "kind: tag\nname: C\n", "d.YAML/e.txt": ""}
    assert problems(tmp_path, files) == [
        "offers/a.YAML:1:1: rename it to a.yaml: keys come from file names and only .yaml/.yml "
        "files are read",
        "offers/tags/b.Yml:1:1: rename it to b.yml: keys come from file names and only .yaml/.yml "
        "files are read",
    ]


def test_an_empty_offers_folder_holds_nothing(tmp_path: Path) -> None:
    assert documents.load(write(tmp_path, {})) == ()


def test_no_offers_folder_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        documents.load(tmp_path)
    assert str(raised.value) == (
        f"no offers/ folder in {tmp_path}: run reconciler from the repository root or pass -C <root>"
    )


def _plain(value: object) -> bool:
    """JSON as json.loads gives it, plus a Ref where the body refers to another object."""
    if isinstance(value, dict):
        return type(value) is dict and all(
            isinstance(k, str) and _plain(v) for k, v in value.items()
        )
    if isinstance(value, list):
        return type(value) is list and all(_plain(item) for item in value)
    return type(value) in (str, int, float, bool, Ref)


def test_bodies_are_plain_json_in_the_order_written_without_kind() -> None:
    for desired in documents.load(ROOT):
        assert _plain(dict(desired.body)), desired.key
        assert "kind" not in desired.body
    written = {d.key: d for d in documents.load(ROOT)}[Key("summer/sale-60")]
    assert list(written.body) == [
        "name",
        "description",
        "status",
        "representations",
        "selectionConstraint",
        "rank",
        "frequencyCappingConstraints",
        "characteristics",
        "tags",
    ]


def test_the_adobe_example_body_pastes_in_as_it_is() -> None:
    estate = {d.key: d for d in documents.load(ROOT)}
    example = estate[Key("adobe/frequency-example")]
    adobe = json.loads((ROOT / "tests" / "adobe_create_body.json").read_text())
    adobe["representations"][0]["placement"] = Ref(Key("placements/web-banner"))
    assert (example.kind, dict(example.body), example.source) == (
        Kind.PERSONALIZED_OFFER,
        adobe,
        Source("offers/adobe/frequency-example.yaml", 1),
    )


def test_adobe_example_bodies_of_every_kind_load_as_the_api_bodies() -> None:
    root = CORPUS / "valid" / "adobe"
    expected = json.loads((root / "expected.json").read_text())
    loaded = {d.key: {"kind": d.kind.value, "body": dict(d.body)} for d in documents.load(root)}
    assert loaded == expected


def test_the_example_estate_is_valid_and_uses_every_kind_and_reference() -> None:
    loaded = documents.load(ROOT)
    assert len(loaded) == 30  # 19 legacy, 11 Decisioning
    assert {d.kind for d in loaded} == set(Kind)
    keys = {d.key for d in loaded}
    refs = {ref for d in loaded for ref in graph.dependencies(d.kind, d.body)}
    assert refs <= keys
    used_paths = {
        tuple(step if isinstance(step, str) else "*" for step in reference.path)
        for d in loaded
        for reference in kinds.references(d.kind, d.body)
    }
    assert used_paths >= {
        ("representations", "*", "placement"),
        ("selectionConstraint", "eligibilityRule"),
        ("tags", "*"),
        ("ids", "*"),
        ("fallback",),
        ("criteria", "*", "placements", "*"),
        ("criteria", "*", "optionSelection", "filter"),
        ("criteria", "*", "rank", "order", "function"),
        ("_experience", "decisioning", "decisionitem", "itemConstraints", "eligibilityRule"),
        ("optionSelection", "filter"),
        ("profileConstraint", "eligibilityRule"),
        ("rank", "order", "function"),
    }


def test_every_definition_file_points_editors_at_the_schema() -> None:
    for path in sorted((ROOT / "offers").rglob("*.y*ml")):
        depth = len(path.relative_to(ROOT / "offers").parts)
        first = path.read_text().splitlines()[0]
        assert (
            first == f"# yaml-language-server: $schema={'../' * depth}reconciler/offers.schema.json"
        )


# --- problems deep in a body ----------------------------------------------------------------


def test_every_problem_of_a_file_is_reported_at_its_own_line(tmp_path: Path) -> None:
    offer = (
        OFFER.replace("status: approved", "status: aproved").replace(
            "        format: text/html\n",
            "        format: text/html\n      - type: html\n        formt: text/html\n",
        )
        + "rank:\n  priority: true\ncharacteristics: {code: 007, ok: 'yes'}\n"
    )
    assert problems(tmp_path, {"web.yaml": PLACEMENT, "o.yaml": offer}) == [
        'offers/o.yaml:3:9: status: expected one of: draft, approved, archived (got "aproved")',
        "offers/o.yaml:10:9: representations[0].components[1].format: required field is "
        "missing: add it",
        "offers/o.yaml:11:9: representations[0].components[1].formt: unknown field: remove it "
        "or fix its spelling (did you mean format?)",
        "offers/o.yaml:15:13: rank.priority: expected a whole number without quotes (got true)",
        "offers/o.yaml:16:25: characteristics.code: expected text: put the value in quotes (got 7)",
    ]


def test_unknown_fields_deep_in_lists(tmp_path: Path) -> None:
    offer = OFFER + (
        "frequencyCappingConstraints:\n"
        "  - limit: 1\n"
        "    scope: global\n"
        "    entity: offer\n"
        "  - limit: 2\n"
        "    scope: profile\n"
        "    entity: offer\n"
        "    repeat: {enabled: true, unit: week, units: 2}\n"
    )
    offer = offer.replace(
        "selectionConstraint:",
        "  - channel: https://ns.adobe.com/xdm/channel-types/web\n"
        "    placement: p2\n"
        "    components:\n"
        "      - {type: html, formt: text/html}\n"
        "selectionConstraint:",
    )
    assert problems(tmp_path, {"web.yaml": PLACEMENT, "o.yaml": offer}) == [
        "offers/o.yaml:13:9: representations[1].components[0].format: required field is "
        "missing: add it",
        "offers/o.yaml:13:22: representations[1].components[0].formt: unknown field: remove it "
        "or fix its spelling (did you mean format?)",
        "offers/o.yaml:23:41: frequencyCappingConstraints[1].repeat.units: unknown field: remove "
        "it or fix its spelling (did you mean unit?)",
    ]


# --- references, names, keys across files ---------------------------------------------------


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        ("{ref: tags/summer}", []),
        ("tag1234", []),
        ("dps:tag:0123456789abcdef", []),
        (
            "{ref: tags/sumer}",
            ["13:5: tags[0]: no file defines the key tags/sumer: did you mean tags/summer?"],
        ),
        (
            "{ref: tags/autumn}",
            [
                "13:5: tags[0]: no file defines the key tags/autumn: fix the key or add "
                "offers/tags/autumn.yaml"
            ],
        ),
        (
            "{ref: tags/summer.yaml}",
            [
                "13:5: tags[0]: no file defines the key tags/summer.yaml: write {ref: tags/summer} "
                "(a key is the path under offers/ without the suffix)"
            ],
        ),
        (
            "{ref: offers/tags/summer}",
            [
                "13:5: tags[0]: no file defines the key offers/tags/summer: write {ref: tags/summer} "
                "(a key is the path under offers/ without the suffix)"
            ],
        ),
        (
            "{ref: web}",
            ["13:5: tags[0]: web is a placement, but this field takes a tag: reference a tag"],
        ),
        (
            "dps:offer-placement:0123456789abcdef",
            [
                "13:5: tags[0]: dps:offer-placement:0123456789abcdef is the id of a placement, but "
                "this field takes a tag: use the id of a tag"
            ],
        ),
        (
            "tags/summer",
            [
                "13:5: tags[0]: tags/summer is the key of offers/tags/summer.yaml, not an Adobe id: "
                "write {ref: tags/summer}"
            ],
        ),
    ],
)
def test_a_reference_names_an_object_of_the_right_kind(
    tmp_path: Path, tags: str, expected: list[str]
) -> None:
    files = {
        "web.yaml": PLACEMENT,
        "tags/summer.yaml": "kind: tag\nname: Summer\n",
        "o.yaml": OFFER + f"tags:\n  - {tags}\n",
    }
    if expected:
        assert problems(tmp_path, files) == [f"offers/o.yaml:{line}" for line in expected]
    else:
        assert len(documents.load(write(tmp_path, files))) == 3


@pytest.mark.parametrize(
    ("filter_type", "expected"),
    [
        (
            "any-tags",
            [
                "offers/c.yaml:6:5: ids[1]: o is a personalized-offer, but this field takes a tag: reference a tag"
            ],
        ),
        (
            "all-tags",
            [
                "offers/c.yaml:6:5: ids[1]: o is a personalized-offer, but this field takes a tag: reference a tag"
            ],
        ),
        (
            "offers",
            [
                "offers/c.yaml:5:5: ids[0]: t is a tag, but this field takes a personalized-offer: reference a personalized-offer"
            ],
        ),
    ],
)
def test_the_filter_type_decides_what_a_collection_lists(
    tmp_path: Path, filter_type: str, expected: list[str]
) -> None:
    files = {
        "web.yaml": PLACEMENT,
        "t.yaml": "kind: tag\nname: T\n",
        "o.yaml": OFFER,
        "c.yaml": f"kind: collection\nname: C\nfilterType: {filter_type}\nids:\n  - {{ref: t}}\n  - {{ref: o}}\n",
    }
    assert problems(tmp_path, files) == expected


def test_a_reference_to_a_broken_file_is_not_also_dangling(tmp_path: Path) -> None:
    files = {"web.yaml": "kind: placement\nname: [\n", "o.yaml": OFFER}
    assert problems(tmp_path, files) == [
        "offers/web.yaml:3:1: invalid YAML: expected the node content, but found '<stream end>'",
    ]


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (
            {
                "a.yaml": TAG,
                "b/c.yaml": "# another tag\nkind: tag\ndescription: same name\nname: Sale\n",
                "p.yaml": PLACEMENT.replace("name: Web", "name: Sale"),
            },
            [
                'offers/a.yaml:2:7: name: "Sale" is also the name of the tag in offers/b/c.yaml: '
                "names are unique per kind (an interrupted create is found again by its name): "
                "rename one",
                'offers/b/c.yaml:4:7: name: "Sale" is also the name of the tag in offers/a.yaml: '
                "names are unique per kind (an interrupted create is found again by its name): "
                "rename one",
            ],
        ),
        (
            {"a.yaml": TAG, "b.yaml": TAG, "c.yaml": TAG},
            [
                'offers/a.yaml:2:7: name: "Sale" is also the name of the tags in offers/b.yaml '
                "and offers/c.yaml: names are unique per kind (an interrupted create is found "
                "again by its name): rename all but one",
                'offers/b.yaml:2:7: name: "Sale" is also the name of the tags in offers/a.yaml '
                "and offers/c.yaml: names are unique per kind (an interrupted create is found "
                "again by its name): rename all but one",
                'offers/c.yaml:2:7: name: "Sale" is also the name of the tags in offers/a.yaml '
                "and offers/b.yaml: names are unique per kind (an interrupted create is found "
                "again by its name): rename all but one",
            ],
        ),
    ],
)
def test_a_name_used_twice_in_a_kind_is_reported_at_each_file_naming_the_others(
    tmp_path: Path, files: dict[str, str], expected: list[str]
) -> None:
    assert problems(tmp_path, files) == expected


def test_two_files_for_one_key_is_an_error_at_the_second(tmp_path: Path) -> None:
    files = {"a.yaml": TAG, "a.yml": "kind: tag\nname: Other\n"}
    assert problems(tmp_path, files) == [
        "offers/a.yml:1:1: offers/a.yaml already defines the key a: rename or delete one of the "
        "two files",
    ]


def test_all_problems_of_all_files_in_one_run_sorted_by_path_line_column(tmp_path: Path) -> None:
    shutil.copytree(CORPUS / "invalid" / "estate" / "offers", tmp_path / "offers")
    expected = (CORPUS / "invalid" / "estate" / "expected.txt").read_text().splitlines()
    with pytest.raises(InvalidDocuments) as raised:
        documents.load(tmp_path)
    assert [str(p) for p in raised.value.problems] == expected
    assert str(raised.value) == "17 problems in offers/"


@pytest.mark.parametrize(
    ("edges", "expected"),
    [
        ({"a": {"b": ("tags", 0)}, "b": {}}, None),
        (
            {"x": {"y": ("fallback",)}, "y": {"x": ("ids", 0)}},
            (
                "x",
                ("fallback",),
                "fallback: reference cycle x -> y -> x: remove one of these references",
            ),
        ),
        (
            {"a": {"b": ("tags", 0)}, "b": {"c": ("ids", 1)}, "c": {"a": ("fallback",)}},
            (
                "a",
                ("tags", 0),
                "tags[0]: reference cycle a -> b -> c -> a: remove one of these references",
            ),
        ),
    ],
)
def test_a_reference_cycle_is_reported_at_one_of_its_references(
    edges: dict[str, dict[str, tuple[str | int, ...]]], expected: object
) -> None:
    # No cycle can form among today's kinds (references only point down), so the check is
    # exercised on the graph alone.
    typed = {Key(k): {Key(t): loc for t, loc in targets.items()} for k, targets in edges.items()}
    assert documents.reference_cycle(typed) == expected


def test_anchors_aliases_and_merge_keys_expand(tmp_path: Path) -> None:
    offer = (
        OFFER.replace(
            "representations:\n  - channel",
            "representations:\n  - &web\n    channel",
        )
        + "frequencyCappingConstraints:\n  - &cap {limit: 1, scope: global, entity: offer}\n  - <<: *cap\n    scope: profile\n"
    )
    write(tmp_path, {"web.yaml": PLACEMENT, "o.yaml": offer})
    loaded = {d.key: d for d in documents.load(tmp_path)}
    assert loaded[Key("o")].body["frequencyCappingConstraints"] == [
        {"limit": 1, "scope": "global", "entity": "offer"},
        {"limit": 1, "scope": "profile", "entity": "offer"},
    ]


# --- reconciler.yaml ------------------------------------------------------------------------


def test_read_mapping_locates_paths_of_a_small_file(tmp_path: Path) -> None:
    path = tmp_path / "reconciler.yaml"
    path.write_text("# config\ndefault: local\nsandboxes:\n  local:\n    endpoint: embedded\n")
    data, locate = documents.read_mapping(path, display="reconciler.yaml")
    assert data == {"default": "local", "sandboxes": {"local": {"endpoint": "embedded"}}}
    assert [
        locate(("default",)),
        locate(("sandboxes", "local", "endpoint")),
        locate(("nope",)),
    ] == [
        (2, 10),
        (5, 15),
        (2, 1),
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            "default: [\n",
            "reconciler.yaml:2:1: invalid YAML: expected the node content, but found '<stream end>'",
        ),
        ("- a\n", "reconciler.yaml:1:1: the top level must be a mapping (default:, sandboxes:)"),
        (
            b"default: caf\xe9\n",
            "reconciler.yaml:1:13: not UTF-8 text (byte 0xe9): save the file as UTF-8",
        ),
        (
            "default: a\nsandboxes: {}\ndefault: b\n",
            'reconciler.yaml:3:1: duplicate key "default" (first on line 1): a key may appear '
            "once in a mapping: keep one",
        ),
        (
            (CORPUS / "invalid" / "aliases" / "offers" / "laughs.yaml").read_text(),
            "reconciler.yaml:10:9: with this alias, the aliases of the file repeat more than "
            "10,000 values (the limit): write the values out or use fewer aliases",
        ),
    ],
)
def test_read_mapping_errors_are_one_line(
    tmp_path: Path, content: str | bytes, message: str
) -> None:
    path = tmp_path / "reconciler.yaml"
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    with pytest.raises(ConfigError) as raised:
        documents.read_mapping(path, display="reconciler.yaml")
    assert str(raised.value) == message


# --- writing definitions (import) -----------------------------------------------------------


def test_render_yaml_writes_block_style_with_flow_references() -> None:
    body = {
        "name": "Spring",
        "status": "draft",
        "representations": [
            {
                "channel": "https://ns.adobe.com/xdm/channel-types/web",
                "placement": Ref(Key("placements/web")),
                "components": [
                    {"type": "html", "format": "text/html", "content": "<p>a</p>\n<p>b</p>\n"}
                ],
            }
        ],
        "selectionConstraint": {
            "startDate": "2027-01-01T00:00:00Z",
            "profileConstraintType": "none",
        },
        "characteristics": {"code": "007", "flag": "yes"},
    }
    assert documents.render_yaml(Key("spring/offer"), Kind.PERSONALIZED_OFFER, body) == (
        "# yaml-language-server: $schema=../../reconciler/offers.schema.json\n"
        "kind: personalized-offer\n"
        "name: Spring\n"
        "status: draft\n"
        "representations:\n"
        "  - channel: https://ns.adobe.com/xdm/channel-types/web\n"
        "    placement: {ref: placements/web}\n"
        "    components:\n"
        "      - type: html\n"
        "        format: text/html\n"
        "        content: |\n"
        "          <p>a</p>\n"
        "          <p>b</p>\n"
        "selectionConstraint:\n"
        "  startDate: '2027-01-01T00:00:00Z'\n"
        "  profileConstraintType: none\n"
        "characteristics:\n"
        "  code: '007'\n"
        "  flag: 'yes'\n"
    )


def test_write_definition_refuses_to_overwrite(tmp_path: Path) -> None:
    write(tmp_path, {"tags/a.yml": TAG})
    with pytest.raises(ConfigError) as raised:
        documents.write_definition(tmp_path, Key("tags/a"), Kind.TAG, {"name": "A"})
    assert str(raised.value) == "offers/tags/a.yaml already exists: choose another key"


_TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    description=_TEXT,
    characteristics=st.dictionaries(_TEXT, _TEXT, max_size=5),
    labels=st.lists(_TEXT, max_size=4),
    priority=st.integers(0, 2**40),
)
def test_written_definitions_load_back_to_the_same_body(
    tmp_path_factory: pytest.TempPathFactory,
    description: str,
    characteristics: dict[str, str],
    labels: list[str],
    priority: int,
) -> None:
    root = tmp_path_factory.mktemp("import")
    write(root, {"web.yaml": PLACEMENT})
    body: dict[str, Any] = {
        "name": "Imported " + repr(description),
        "description": description,
        "status": "draft",
        "representations": [
            {
                "channel": "https://ns.adobe.com/xdm/channel-types/web",
                "placement": Ref(Key("web")),
                "components": [{"type": "text", "format": "text/plain", "content": description}],
            }
        ],
        "selectionConstraint": {"profileConstraintType": "none"},
        "rank": {"priority": priority},
        "characteristics": characteristics,
        "labels": labels,
    }
    documents.write_definition(root, Key("imported/offer"), Kind.PERSONALIZED_OFFER, body)
    loaded = {d.key: d for d in documents.load(root)}
    assert dict(loaded[Key("imported/offer")].body) == body


def test_a_surrogate_escape_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "t.yaml": 'kind: tag\nname: "\\ud800"\n',
            "u.yaml": 'kind: tag\nname: "smile \\U0001F600"\n',
        },
    )
    with pytest.raises(InvalidDocuments) as raised:
        documents.load(tmp_path)
    assert [str(p) for p in raised.value.problems] == [
        "offers/t.yaml:2:7: a UTF-16 surrogate escape (\\ud800 to \\udfff) is not text and cannot "
        "be sent: write the character itself, or its 8-digit escape (\\U0001F600)"
    ]
