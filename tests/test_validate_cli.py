"""`reconciler validate` and `reconciler schema` through the command line: exit codes, exact output."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from reconciler import schema
from reconciler.cli import cli

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(__file__).resolve().parent / "corpus"
BROKEN = CORPUS / "invalid" / "estate"
PLACEMENT = (
    "kind: placement\nname: Web\ncomponentType: html\n"
    "channel: https://ns.adobe.com/xdm/channel-types/web\n"
)
OFFER = """\
kind: personalized-offer
name: Offer
status: nope
representations:
  - channel: https://ns.adobe.com/xdm/channel-types/web
    placement: {ref: web}
    components:
      - type: html
        format: text/html
selectionConstraint:
  profileConstraintType: none
"""


def run(root: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["-C", str(root), *args])


def repo(tmp_path: Path, files: dict[str, str | bytes]) -> Path:
    (tmp_path / "offers").mkdir()
    for name, content in files.items():
        path = tmp_path / "offers" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)
    return tmp_path


STATUS = 'status: expected one of: draft, approved, archived (got "nope")'


@pytest.mark.parametrize(
    ("fmt", "stdout", "stderr"),
    [
        (
            "text",
            f"offers/o.yaml:3:9: {STATUS}\n",
            "1 problem in offers/: fix the lines above and run validate again.\n",
        ),
        (
            "github",
            f"::error file=offers/o.yaml,line=3,col=9::{STATUS}\n",
            "1 problem in offers/: fix the lines above and run validate again.\n",
        ),
        (
            "json",
            json.dumps(
                [{"column": 9, "line": 3, "message": STATUS, "path": "offers/o.yaml"}],
                indent=2,
                sort_keys=True,
            )
            + "\n",
            "",
        ),
    ],
)
def test_an_invalid_file_exits_1_with_its_problem_in_each_format(
    tmp_path: Path, fmt: str, stdout: str, stderr: str
) -> None:
    done = run(
        repo(tmp_path, {"web.yaml": PLACEMENT, "o.yaml": OFFER}), "validate", "--format", fmt
    )
    assert (done.exit_code, done.stdout, done.stderr) == (1, stdout, stderr)
    assert isinstance(done.exception, SystemExit)


def test_all_problems_of_all_files_in_one_run(tmp_path: Path) -> None:
    shutil.copytree(BROKEN / "offers", tmp_path / "offers")
    done = run(tmp_path, "validate")
    assert (done.exit_code, done.stdout, done.stderr) == (
        1,
        (BROKEN / "expected.txt").read_text(),
        "17 problems in offers/: fix the lines above and run validate again.\n",
    )


def test_github_annotations_of_every_problem(tmp_path: Path) -> None:
    shutil.copytree(BROKEN / "offers", tmp_path / "offers")
    done = run(tmp_path, "validate", "--format", "github")
    lines = done.stdout.splitlines()
    assert (done.exit_code, len(lines)) == (1, 17)
    assert lines[0] == (
        "::error file=offers/placements/web.yml,line=1,col=1::offers/placements/web.yaml already "
        "defines the key placements/web: rename or delete one of the two files"
    )
    assert lines[8] == (
        "::error file=offers/summer/sale.yaml,line=12,col=16::representations[1].placement: no "
        "file defines the key placements/email: fix the key or add offers/placements/email.yaml"
    )


@pytest.mark.parametrize(
    ("files", "stdout"),
    [
        (
            {"x.yaml": b"kind: tag\nname: caf\xe9\n"},
            "offers/x.yaml:2:10: not UTF-8 text (byte 0xe9): save the file as UTF-8\n",
        ),
        (
            {"x.yaml": "kind: tag\n\tname: x\n"},
            "offers/x.yaml:2:1: a tab where YAML expects spaces: indent with spaces (found "
            "character '\\t' that cannot start any token)\n",
        ),
        (
            {"x.yaml": "kind: tag\nname: a\n---\nkind: tag\n"},
            "offers/x.yaml:3:1: several documents in one file: keep one object per file\n",
        ),
        (
            {"x.yaml": "kind: tag\nname: a\nname: b\n"},
            'offers/x.yaml:3:1: duplicate key "name" (first on line 2): a key may appear once in '
            "a mapping: keep one\n",
        ),
        (
            {"x.yaml": "kind: tag\nname: !!binary aGk=\n"},
            "offers/x.yaml:2:7: the tag tag:yaml.org,2002:binary is not supported: offers/ files "
            "hold plain values (text, numbers, true/false, lists and mappings)\n",
        ),
        (
            {"x.yaml": "kind: tag\nname: a\nname: b\nstatus: draft\n"},
            'offers/x.yaml:3:1: duplicate key "name" (first on line 2): a key may appear once in '
            "a mapping: keep one\n"
            "offers/x.yaml:4:1: status: unknown field: remove it or fix its spelling (fields here: "
            "description, kind, name, overrides, protect)\n",
        ),
        (
            {"x.YAML": "kind: tag\nname: a\n"},
            "offers/x.YAML:1:1: rename it to x.yaml: keys come from file names and only "
            ".yaml/.yml files are read\n",
        ),
        (
            {
                "laughs.yaml": (
                    CORPUS / "invalid" / "aliases" / "offers" / "laughs.yaml"
                ).read_text()
            },
            (CORPUS / "invalid" / "aliases" / "expected.txt").read_text(),
        ),
    ],
)
def test_yaml_pitfalls_are_lines_never_tracebacks(
    tmp_path: Path, files: dict[str, str | bytes], stdout: str
) -> None:
    done = run(repo(tmp_path, files), "validate")
    assert (done.exit_code, done.stdout) == (1, stdout)
    assert "Traceback" not in done.output
    assert isinstance(done.exception, SystemExit)


def test_a_symlink_that_leads_nowhere_is_a_line_not_a_deletion(tmp_path: Path) -> None:
    # Skipped, the link's object would be deleted by `apply --prune`.
    root = repo(tmp_path, {"web.yaml": PLACEMENT})
    (root / "offers" / "moved.yaml").symlink_to("../elsewhere/moved.yaml")
    done = run(root, "validate")
    assert (done.exit_code, done.stdout, done.stderr) == (
        1,
        "offers/moved.yaml:1:1: a symlink to ../elsewhere/moved.yaml, which does not exist: fix "
        "the link or delete it\n",
        "1 problem in offers/: fix the lines above and run validate again.\n",
    )


def test_the_example_estate_is_valid(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "offers", tmp_path / "offers")
    done = run(tmp_path, "validate")
    assert (done.exit_code, done.stdout, done.stderr) == (
        0,
        "Valid: 30 objects in offers/.\n",
        "",
    )
    as_json = run(tmp_path, "validate", "--format", "json")
    assert (as_json.exit_code, as_json.stdout) == (0, "[]\n")


def test_no_offers_folder_is_one_line(tmp_path: Path) -> None:
    done = run(tmp_path, "validate")
    assert (done.exit_code, done.stdout, done.stderr) == (
        1,
        "",
        f"Error: no offers/ folder in {tmp_path}: run reconciler from the repository root or "
        "pass -C <root>\n",
    )


def test_schema_prints_the_json_schema_of_every_kind() -> None:
    done = CliRunner().invoke(cli, ["schema"])
    assert done.exit_code == 0
    assert json.loads(done.stdout) == schema.json_schema(None)
    # The committed file is exactly this output: `reconciler schema > reconciler/offers.schema.json`.
    assert done.stdout == (ROOT / "reconciler" / "offers.schema.json").read_text()


def test_schema_of_one_kind() -> None:
    done = CliRunner().invoke(cli, ["schema", "--kind", "placement"])
    document = json.loads(done.stdout)
    assert (done.exit_code, document["title"], sorted(document["properties"])) == (
        0,
        "Placement",
        [
            "allowDuplicatePlacements",
            "channel",
            "componentType",
            "description",
            "itemCount",
            "kind",
            "labels",
            "name",
            "overrides",
            "protect",
            "returnContent",
            "returnMetaData",
        ],
    )


def test_a_yaml_file_whose_name_is_not_a_key_is_a_problem_never_skipped(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "offers" / "x").mkdir(parents=True)
    (repo / "reconciler.yaml").write_text(
        "default: local\nsandboxes:\n  local:\n    endpoint: embedded\n"
    )
    (repo / "offers" / "x" / ".yaml").write_text("kind: tag\nname: A\n")
    (repo / "offers" / "b.yaml ").write_text("kind: tag\nname: B\n")
    done = CliRunner().invoke(cli, ["-C", str(repo), "validate"])
    assert (done.exit_code, done.stdout) == (
        1,
        "offers/b.yaml :1:1: 'b.yaml ' is not read: a definition file is named <key>.yaml, with "
        "no spaces around it and no dot in front: rename it\n"
        "offers/x/.yaml:1:1: '.yaml' is not read: a definition file is named <key>.yaml, with no "
        "spaces around it and no dot in front: rename it\n",
    )


@pytest.mark.parametrize("key", ["x/", "/x", "x/.hidden", " x", "x.yaml", "a//b"])
def test_import_refuses_a_key_that_cannot_name_a_file(tmp_path: Path, key: str) -> None:
    repo = tmp_path / "repo"
    (repo / "offers").mkdir(parents=True)
    (repo / "reconciler.yaml").write_text(
        "default: local\nsandboxes:\n  local:\n    endpoint: embedded\n"
    )
    done = CliRunner().invoke(cli, ["-C", str(repo), "import", key, "dps:tag:0000000000000001"])
    assert done.exit_code == 1
    assert len(done.output.splitlines()) == 1
    assert done.output.startswith(f"Error: {key!r}: a key ")


def test_an_offers_folder_that_links_out_of_the_repository_is_refused(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "reconciler.yaml").write_text(
        "default: local\nsandboxes:\n  local:\n    endpoint: embedded\n"
    )
    (tmp_path / "elsewhere").mkdir()
    (repo / "offers").symlink_to(tmp_path / "elsewhere")
    done = CliRunner().invoke(cli, ["-C", str(repo), "validate"])
    assert (done.exit_code, done.output) == (
        1,
        f"Error: offers/ in {repo} is a symlink to {tmp_path / 'elsewhere'}, outside the "
        "repository: definitions must be in it (a fork's pull request could point anywhere)\n",
    )
