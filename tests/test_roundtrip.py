"""Definition files edited in place: every test compares whole texts, before and after."""

from __future__ import annotations

import difflib
import os
import stat
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from reconciler.model import JsonValue, Key, Ref
from reconciler.roundtrip import Edit, EditError, edited, replace

OFFER = """\
# yaml-language-server: $schema=../../reconciler/offers.schema.json
kind: personalized-offer
name: Summer sale   # shown in the UI
# Approved by marketing on 2027-05-02.
status: approved
description: 'Sixty percent off'

# The web banner, then the email.
representations:
  - channel: https://ns.adobe.com/xdm/channel-types/web
    placement: {ref: placements/web-banner}   # the hero slot
    components:
      - type: html
        language: [en-us]
        content: |
          <h2>Summer sale</h2>
          <p>60% off</p>
selectionConstraint:
  startDate:   "2027-06-01T00:00:00.000Z"
  endDate: "2027-08-31T23:59:59.000Z"
rank:
  # Above every clearance offer.
  priority: 50  # out of 100
tags:
  - {ref: tags/summer}   # the season
  # Loyalty members see it first.
  - {ref: tags/loyalty}
  - {ref: tags/sale}
"""


def _edit(path: str, value: JsonValue) -> Edit:
    return Edit(tuple(path.split(".")), value)


def _removed(path: str) -> Edit:
    return Edit(tuple(path.split(".")), removed=True)


CASES = [
    pytest.param(
        [_edit("rank.priority", 70)],
        [("  priority: 50  # out of 100\n", "  priority: 70  # out of 100\n")],
        id="a scalar, its comments kept",
    ),
    pytest.param(
        [_edit("selectionConstraint.endDate", "2027-09-30T23:59:59.000Z")],
        [('  endDate: "2027-08-31T23:59:59.000Z"\n', '  endDate: "2027-09-30T23:59:59.000Z"\n')],
        id="double quotes kept, the spacing of the line above too",
    ),
    pytest.param(
        [_edit("description", "Seventy percent off")],
        [("description: 'Sixty percent off'\n", "description: 'Seventy percent off'\n")],
        id="single quotes kept",
    ),
    pytest.param(
        [_edit("tags", [Ref(Key("tags/summer")), Ref(Key("tags/vip")), Ref(Key("tags/sale"))])],
        [("  - {ref: tags/loyalty}\n", "  - {ref: tags/vip}\n")],
        id="a reference in the middle of a list: one line, still a flow mapping",
    ),
    pytest.param(
        [_edit("tags", [Ref(Key("tags/summer")), Ref(Key("tags/sale"))])],
        [("  # Loyalty members see it first.\n  - {ref: tags/loyalty}\n", "")],
        id="a list item removed with its comment line",
    ),
    pytest.param(
        [
            _edit(
                "tags",
                [
                    Ref(Key("tags/summer")),
                    Ref(Key("tags/loyalty")),
                    Ref(Key("tags/sale")),
                    "dps:tag:1",
                ],
            )
        ],
        [("  - {ref: tags/sale}\n", "  - {ref: tags/sale}\n  - dps:tag:1\n")],
        id="an item appended",
    ),
    pytest.param(
        [_edit("rank.order", {"orderEvaluationType": "static"})],
        [
            (
                "  priority: 50  # out of 100\n",
                "  priority: 50  # out of 100\n  order:\n    orderEvaluationType: static\n",
            )
        ],
        id="a new field at the end of its mapping",
    ),
    pytest.param(
        [_removed("status")],
        [("# Approved by marketing on 2027-05-02.\nstatus: approved\n", "")],
        id="a removed field goes with its comment line",
    ),
    pytest.param(
        [_removed("description")],
        [("description: 'Sixty percent off'\n", "")],
        id="the blank line and comment under a removed field stay",
    ),
    pytest.param(
        [_removed("rank")],
        [("rank:\n  # Above every clearance offer.\n  priority: 50  # out of 100\n", "")],
        id="a removed mapping goes whole",
    ),
    pytest.param(
        [
            _edit(
                "representations",
                [
                    {
                        "channel": "https://ns.adobe.com/xdm/channel-types/web",
                        "placement": Ref(Key("placements/app-card")),
                        "components": [
                            {
                                "type": "html",
                                "language": ["en-us", "fr-fr"],
                                "content": "<h2>Summer sale</h2>\n<p>60% off</p>\n",
                            }
                        ],
                    }
                ],
            )
        ],
        [
            (
                "    placement: {ref: placements/web-banner}   # the hero slot\n",
                # the comment keeps its column
                "    placement: {ref: placements/app-card}     # the hero slot\n",
            ),
            ("        language: [en-us]\n", "        language: [en-us, fr-fr]\n"),
        ],
        id="inside a list item: only the changed lines",
    ),
    pytest.param(
        [
            _edit(
                "representations",
                [
                    {
                        "channel": "https://ns.adobe.com/xdm/channel-types/web",
                        "placement": Ref(Key("placements/web-banner")),
                        "components": [
                            {
                                "type": "html",
                                "language": ["en-us"],
                                "content": "<h2>Summer sale</h2>\n<p>70% off</p>\n",
                            }
                        ],
                    }
                ],
            )
        ],
        [("          <p>60% off</p>\n", "          <p>70% off</p>\n")],
        id="a literal block stays a literal block",
    ),
]


@pytest.mark.parametrize(("edits", "replacements"), CASES)
def test_an_edit_changes_only_its_lines(
    edits: list[Edit], replacements: list[tuple[str, str]]
) -> None:
    expected = OFFER
    for old, new in replacements:
        assert expected.count(old) == 1, old
        expected = expected.replace(old, new)
    after = edited(OFFER, edits, display="offers/summer/sale.yaml")
    assert after == expected
    hunks = [
        line
        for line in difflib.unified_diff(OFFER.splitlines(), after.splitlines(), n=0)
        if line.startswith("@@")
    ]
    assert len(hunks) == len(replacements)


def test_nothing_to_edit_leaves_the_text_as_it_is() -> None:
    assert edited(OFFER, [], display="x") == OFFER


def test_other_indentations_and_line_endings_are_kept() -> None:
    text = (
        "kind: tag\r\n"
        "name: Summer\r\n"
        "characteristics:\r\n"
        "    season: summer    # four spaces\r\n"
        "    year: '2027'\r\n"
        "ids:\r\n"
        "- a\r\n"
        "- b\r\n"
    )
    after = edited(
        text,
        [_edit("characteristics.year", "2028"), _edit("ids", ["a", "c", "b"])],
        display="x",
    )
    assert after == text.replace("'2027'", "'2028'").replace("- a\r\n", "- a\r\n- c\r\n")


def test_anchors_stay_and_an_edit_through_an_alias_changes_only_its_place() -> None:
    text = (
        "kind: decision\n"
        "name: Home\n"
        "defaults: &window\n"
        "  startDate: '2027-06-01'\n"
        "  endDate: '2027-08-31'\n"
        "other: *window\n"
        "last: 1\n"
    )
    after = edited(text, [_edit("last", 2)], display="x")
    assert after == text.replace("last: 1", "last: 2")
    after = edited(text, [_edit("other.endDate", "2027-09-30")], display="x")
    loaded = YAML(typ="safe").load(after)
    assert loaded["defaults"]["endDate"] == "2027-08-31"
    assert loaded["other"] == {"startDate": "2027-06-01", "endDate": "2027-09-30"}
    assert after.startswith("kind: decision\nname: Home\ndefaults: &window\n")


def test_a_removal_a_merge_key_would_undo_is_refused_naming_the_file() -> None:
    text = "kind: tag\nbase: &b {x: 1}\nitem:\n  <<: *b\n  y: 2\n"
    with pytest.raises(EditError, match=r"^offers/x\.yaml: "):
        edited(text, [_removed("item.x")], display="offers/x.yaml")


def test_replace_is_atomic_and_keeps_the_mode(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("kind: tag\n")
    os.chmod(path, 0o640)
    replace(path, "kind: tag\nname: y\n")
    assert path.read_text() == "kind: tag\nname: y\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.yaml"]


def test_replacing_a_symlinked_definition_writes_its_target_and_keeps_the_link(
    tmp_path: Path,
) -> None:
    target = tmp_path / "real.yaml"
    target.write_text("kind: tag\nname: a\n")
    link = tmp_path / "link.yaml"
    link.symlink_to(target)
    replace(link, "kind: tag\nname: b\n")
    assert link.is_symlink()
    assert target.read_text() == "kind: tag\nname: b\n"
