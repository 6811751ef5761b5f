import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from reconciler import statefile
from reconciler.errors import StateError
from reconciler.model import Entry, Etag, Key, Kind, ObjectId, Pending

BINDING = {"sandbox": "local", "org": "ORG@AdobeOrg", "endpoint": "embedded"}


def _entry(n: int) -> Entry:
    return Entry(
        kind=Kind.TAG,
        id=ObjectId(f"dps:tag:{n:016x}"),
        etag=Etag("1"),
        applied={"name": f"Tag {n}"},
        applied_at="2026-11-22T10:00:00.000Z",
    )


def test_a_new_state_is_written_before_anything_is_recorded(tmp_path: Path) -> None:
    path = statefile.path_for(tmp_path, "local")
    with statefile.locked(path, **BINDING) as writer:
        lineage = writer.state.lineage
    document = json.loads(path.read_text())
    assert document == {
        "endpoint": "embedded",
        "format_version": 1,
        "lineage": lineage,
        "objects": {},
        "org": "ORG@AdobeOrg",
        "sandbox": "local",
        "serial": 0,
    }


def test_records_are_journaled_then_compacted_deterministically(tmp_path: Path) -> None:
    path = statefile.path_for(tmp_path, "local")
    with statefile.locked(path, **BINDING) as writer:
        writer.record(Key("tags/b"), _entry(2))
        writer.record(Key("tags/a"), _entry(1))
        journal = path.with_suffix(".journal")
        assert len(journal.read_text().splitlines()) == 2
        # A reader mid-apply sees the journaled entries too.
        assert set(statefile.read(path).objects) == {"tags/a", "tags/b"}  # type: ignore[union-attr]
    assert not path.with_suffix(".journal").exists()
    text = path.read_text()
    assert text.endswith("}\n")
    assert text.index('"tags/a"') < text.index('"tags/b"')
    state = statefile.read(path)
    assert state is not None
    assert state.serial == 2
    assert state.objects[Key("tags/a")] == _entry(1)
    assert path.with_name("local.json.bak").exists()


def test_a_pending_create_round_trips(tmp_path: Path) -> None:
    path = statefile.path_for(tmp_path, "local")
    pending = Entry(
        kind=Kind.PLACEMENT, pending=Pending(name="Web", since="2026-11-22T10:00:00.000Z")
    )
    with statefile.locked(path, **BINDING) as writer:
        writer.record(Key("placements/web"), pending)
    assert json.loads(path.read_text())["objects"] == {
        "placements/web": {
            "kind": "placement",
            "pending_create": {"name": "Web", "since": "2026-11-22T10:00:00.000Z"},
        }
    }
    assert statefile.read(path).objects[Key("placements/web")] == pending  # type: ignore[union-attr]


def test_a_crash_mid_apply_loses_nothing(tmp_path: Path) -> None:
    """SIGKILL after two recorded writes: the next reader replays the journal, torn line ignored."""
    script = textwrap.dedent(
        f"""
        import os, signal
        from pathlib import Path
        from reconciler import statefile
        from reconciler.model import Entry, Etag, Key, Kind, ObjectId
        path = statefile.path_for(Path({str(tmp_path)!r}), "local")
        with statefile.locked(path, sandbox="local", org="ORG@AdobeOrg", endpoint="embedded") as w:
            for n in (1, 2):
                w.record(Key(f"tags/t{{n}}"), Entry(kind=Kind.TAG, id=ObjectId(f"dps:tag:{{n:016x}}"), etag=Etag("1")))
            with open(path.with_suffix(".journal"), "a") as torn:
                torn.write('{{"key": "tags/t3", "ent')
            os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    done = subprocess.run([sys.executable, "-c", script], check=False)
    assert done.returncode == -9
    path = statefile.path_for(tmp_path, "local")
    state = statefile.read(path)
    assert state is not None
    assert sorted(state.objects) == ["tags/t1", "tags/t2"]
    assert state.serial == 2
    # The next writer folds the journal in and goes on from there.
    with statefile.locked(path, **BINDING) as writer:
        assert writer.state.serial == 2
        assert not path.with_suffix(".journal").exists()
    assert sorted(json.loads(path.read_text())["objects"]) == ["tags/t1", "tags/t2"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "state/local.json:1:2: not valid JSON"),
        ('{"format_version": 9}', "state/local.json: unknown state format_version 9"),
        ('{"format_version": 1, "serial": 1}', "state/local.json: malformed state"),
    ],
)
def test_a_corrupt_or_unknown_state_is_refused_and_never_overwritten(
    tmp_path: Path, content: str, message: str
) -> None:
    path = statefile.path_for(tmp_path, "local")
    path.parent.mkdir()
    path.write_text(content)
    with pytest.raises(StateError) as raised, statefile.locked(path, **BINDING):
        pass
    assert str(raised.value).startswith(message)
    assert path.read_text() == content


def test_a_state_of_another_sandbox_is_refused(tmp_path: Path) -> None:
    path = statefile.path_for(tmp_path, "local")
    with statefile.locked(path, **BINDING):
        pass
    with (
        pytest.raises(StateError) as raised,
        statefile.locked(path, **{**BINDING, "org": "OTHER@AdobeOrg"}),
    ):
        pass
    assert str(raised.value) == (
        "state/local.json belongs to org 'ORG@AdobeOrg', not 'OTHER@AdobeOrg': check reconciler.yaml "
        "or use the state file of that sandbox"
    )


def test_two_writers_cannot_interleave(tmp_path: Path) -> None:
    path = statefile.path_for(tmp_path, "local")
    with (
        statefile.locked(path, **BINDING),
        pytest.raises(StateError) as raised,
        statefile.locked(path, **BINDING, timeout=0.1),
    ):
        pass
    assert str(raised.value) == (
        "state/local.json is locked by another reconciler run: wait for it to finish "
        "(or delete state/local.lock if that run is gone)"
    )


def test_writes_are_atomic_replacements(tmp_path: Path) -> None:
    path = statefile.path_for(tmp_path, "local")
    with statefile.locked(path, **BINDING) as writer:
        writer.record(Key("tags/a"), _entry(1))
    inode = os.stat(path).st_ino
    with statefile.locked(path, **BINDING) as writer:
        writer.record(Key("tags/b"), _entry(2))
    assert os.stat(path).st_ino != inode  # replaced by rename, never rewritten in place
    assert sorted(p.name for p in path.parent.iterdir()) == [
        "local.json",
        "local.json.bak",
        "local.lock",
    ]


def test_a_started_saved_plan_is_recorded_durably_before_any_write(tmp_path: Path) -> None:
    path = statefile.path_for(tmp_path, "local")
    with statefile.locked(path, **BINDING) as writer:
        writer.record_plan("sha256:0123abcd")
        # Compacted at once: a crash now still leaves the plan marked as started, and the serial
        # moved, so a plan made now differs from it even if nothing else is ever written.
        written = json.loads(path.read_text())
        assert (written["last_plan"], written["serial"]) == ("sha256:0123abcd", 1)
        writer.record(Key("tags/a"), _entry(1))
        assert statefile.read(path).last_plan == "sha256:0123abcd"  # type: ignore[union-attr]
    state = statefile.read(path)
    assert state is not None
    assert (state.last_plan, state.serial, list(state.objects)) == (
        "sha256:0123abcd",
        2,
        ["tags/a"],
    )


# --- strict entries ---------------------------------------------------------------------------

_STAMP = "2026-11-22T10:00:00.000Z"
_VALID = {"kind": "tag", "id": "dps:tag:0000000000000001", "etag": "1", "applied": {"name": "A"}}


def _document(objects: object, **top: object) -> dict[str, object]:
    return {
        "format_version": 1,
        "lineage": "3f1e0c52-0000-4000-8000-000000000000",
        "serial": 4,
        "sandbox": "local",
        "org": "ORG@AdobeOrg",
        "endpoint": "embedded",
        "objects": objects,
        **top,
    }


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ({**_VALID, "id": 12}, 'objects["tags/a"].id must be a string, not 12'),
        ({**_VALID, "id": None}, 'objects["tags/a"].id must be a string, not null'),
        ({**_VALID, "applied": [1]}, 'objects["tags/a"].applied must be an object, not an array'),
        ({**_VALID, "etag": True}, 'objects["tags/a"].etag must be a non-empty string, not true'),
        ({**_VALID, "etag": 1.5}, 'objects["tags/a"].etag must be a non-empty string, not 1.5'),
        ({**_VALID, "etag": ""}, 'objects["tags/a"].etag must be a non-empty string, not ""'),
        (
            {**_VALID, "kind": "nope"},
            'objects["tags/a"].kind must be one of tag, placement, decision-rule, '
            "personalized-offer, fallback-offer, collection, decision, ranking-formula, "
            "eligibility-rule, decision-item, item-collection, selection-strategy, exd-placement, "
            'not "nope"',
        ),
        ({"id": "dps:tag:0000000000000001"}, 'objects["tags/a"].kind is missing'),
        ({**_VALID, "applied_at": 5}, 'objects["tags/a"].applied_at must be a string, not 5'),
        (
            {"kind": "tag", "pending_create": "Web"},
            'objects["tags/a"].pending_create must be an object, not "Web"',
        ),
        (
            {"kind": "tag", "pending_create": {"name": "Web"}},
            'objects["tags/a"].pending_create.since is missing',
        ),
        (
            {"kind": "tag", "pending_create": {"name": 3, "since": _STAMP}},
            'objects["tags/a"].pending_create.name must be a string, not 3',
        ),
        (
            {"kind": "tag", "pending_create": {"name": "Web", "since": _STAMP, "by": "me"}},
            'objects["tags/a"].pending_create.by is not a known field',
        ),
        ({**_VALID, "etags": "2"}, 'objects["tags/a"].etags is not a known field'),
        ("tag", 'objects["tags/a"] must be an object, not "tag"'),
    ],
)
def test_a_malformed_entry_is_refused_naming_the_key_and_the_field(
    tmp_path: Path, entry: object, problem: str
) -> None:
    path = statefile.path_for(tmp_path, "local")
    path.parent.mkdir()
    content = json.dumps(_document({"tags/a": entry, "tags/b": _VALID}))
    path.write_text(content)
    with pytest.raises(StateError) as raised:
        statefile.read(path)
    assert str(raised.value) == (
        f"state/local.json: malformed state: {problem}: restore it from git or local.json.bak"
    )
    with pytest.raises(StateError), statefile.locked(path, **BINDING):
        pass
    assert path.read_text() == content


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ({"format_version": 1, "serial": 1}, "lineage is missing"),
        (_document({}, serial="4"), 'serial must be an integer, not "4"'),
        (_document({}, serial=True), "serial must be an integer, not true"),
        (_document([]), "objects must be an object, not an array"),
        (_document({}, extra=1), "extra is not a known field"),
    ],
)
def test_a_malformed_state_document_is_refused_naming_the_field(
    tmp_path: Path, document: object, problem: str
) -> None:
    path = statefile.path_for(tmp_path, "local")
    path.parent.mkdir()
    path.write_text(json.dumps(document))
    with pytest.raises(StateError) as raised:
        statefile.read(path)
    assert str(raised.value) == (
        f"state/local.json: malformed state: {problem}: restore it from git or local.json.bak"
    )


def test_an_integer_etag_is_read_as_its_text_and_written_back_as_text(tmp_path: Path) -> None:
    """The API sends etags as integers: a state that kept one means the same revision."""
    path = statefile.path_for(tmp_path, "local")
    path.parent.mkdir()
    path.write_text(json.dumps(_document({"tags/a": {**_VALID, "etag": 7}})))
    state = statefile.read(path)
    assert state is not None
    assert state.objects == {
        Key("tags/a"): Entry(
            kind=Kind.TAG,
            id=ObjectId("dps:tag:0000000000000001"),
            etag=Etag("7"),
            applied={"name": "A"},
        )
    }
    with statefile.locked(path, **BINDING) as writer:
        writer.record(Key("tags/b"), _entry(2))
    assert json.loads(path.read_text())["objects"]["tags/a"]["etag"] == "7"


# --- strict journal lines ---------------------------------------------------------------------


def _journal_line(serial: int, lineage: str, key: str = "tags/a", **entry: object) -> str:
    body = {"kind": "tag", "id": f"dps:tag:{serial:016x}", "etag": "1", **entry}
    return json.dumps({"lineage": lineage, "serial": serial, "key": key, "entry": body}) + "\n"


@pytest.mark.parametrize(
    ("second", "problem"),
    [
        ("{not json\n", "corrupt journal line (not JSON)"),
        ("[2]\n", "malformed journal line: the line must be a JSON object, not an array"),
        (
            '{"lineage": "LINEAGE", "serial": 2, "key": "tags/b"}\n',
            "malformed journal line: entry is missing",
        ),
        (
            '{"lineage": "LINEAGE", "serial": "2", "key": "tags/b", "entry": null}\n',
            'malformed journal line: serial must be an integer, not "2"',
        ),
        (
            '{"lineage": "LINEAGE", "serial": 2, "key": "tags/b", "entry": {"kind": "tag", '
            '"etag": true}}\n',
            'malformed journal line: objects["tags/b"].etag must be a non-empty string, not true',
        ),
        (
            '{"lineage": "LINEAGE", "serial": 3, "key": "tags/b", "entry": null}\n',
            "journal line has serial 3 but 2 comes next",
        ),
    ],
)
def test_a_malformed_journal_line_is_refused_naming_the_line(
    tmp_path: Path, second: str, problem: str
) -> None:
    path = statefile.path_for(tmp_path, "local")
    with statefile.locked(path, **BINDING) as writer:
        lineage = writer.state.lineage
    # Two complete lines and a torn third: the second is the bad one, wherever it comes.
    journal = path.with_suffix(".journal")
    journal.write_text(
        _journal_line(1, lineage) + second.replace("LINEAGE", lineage) + '{"lineage": "'
    )
    with pytest.raises(StateError) as raised:
        statefile.read(path)
    assert str(raised.value) == (
        f"state/local.journal:2: {problem}: fix that line, or delete local.journal to forget the "
        "writes it recorded"
    )


def test_a_complete_last_journal_line_that_is_not_json_is_corrupt_not_torn(tmp_path: Path) -> None:
    """Only a line without its newline can come from a crashed writer."""
    path = statefile.path_for(tmp_path, "local")
    with statefile.locked(path, **BINDING) as writer:
        lineage = writer.state.lineage
    path.with_suffix(".journal").write_text(_journal_line(1, lineage) + '{"lineage": "\n')
    with pytest.raises(StateError) as raised:
        statefile.read(path)
    assert str(raised.value).startswith("state/local.journal:2: corrupt journal line (not JSON)")


# --- readers during compaction ----------------------------------------------------------------

_WRITER = """
import sys
from pathlib import Path
from reconciler import statefile
from reconciler.model import Entry, Etag, Key, Kind, ObjectId

path, runs = Path(sys.argv[1]), int(sys.argv[2])
for _ in range(runs):
    with statefile.locked(path, sandbox="local", org="ORG@AdobeOrg", endpoint="embedded") as w:
        for _ in range(2):  # two journaled records, then the compaction as the run ends
            n = w.state.serial + 1
            entry = Entry(kind=Kind.TAG, id=ObjectId(f"dps:tag:{n:016x}"), etag=Etag(str(n)))
            w.record(Key(f"tags/t{n % 3}"), entry)
"""


def _expected_objects(serial: int) -> dict[Key, Entry]:
    """What the writer above has recorded once its serial is `serial`."""
    latest = {n % 3: n for n in range(1, serial + 1)}
    return {
        Key(f"tags/t{k}"): Entry(kind=Kind.TAG, id=ObjectId(f"dps:tag:{n:016x}"), etag=Etag(str(n)))
        for k, n in latest.items()
    }


def test_a_reader_always_sees_a_whole_state_while_a_writer_compacts(tmp_path: Path) -> None:
    """A real writer records and compacts in a loop; every lock-free read is one of its states."""
    path = statefile.path_for(tmp_path, "local")
    with statefile.locked(path, **BINDING):
        pass
    runs = 60
    writer = subprocess.Popen([sys.executable, "-c", _WRITER, str(path), str(runs)])
    try:
        last = 0
        reads = 0
        while writer.poll() is None:
            state = statefile.read(path)
            assert state is not None
            assert state.serial >= last  # never an older state than one already seen
            assert state.objects == _expected_objects(state.serial)
            last = state.serial
            reads += 1
    finally:
        writer.wait()
    assert writer.returncode == 0
    final = statefile.read(path)
    assert final is not None
    assert (final.serial, final.objects) == (2 * runs, _expected_objects(2 * runs))
    assert not path.with_suffix(".journal").exists()


def test_two_keys_managing_one_id_is_refused(tmp_path: Path) -> None:
    path = statefile.path_for(tmp_path, "local")
    path.parent.mkdir(parents=True)
    entry = {"kind": "tag", "id": "dps:tag:0000000000000001", "etag": "1", "applied": {"name": "A"}}
    path.write_text(json.dumps(_document({"tags/a": entry, "tags/b": entry})))
    with pytest.raises(StateError) as raised:
        statefile.read(path)
    assert str(raised.value) == (
        'state/local.json: malformed state: objects["tags/a"] and objects["tags/b"] both manage '
        "dps:tag:0000000000000001 (an object has one key; `--prune` would delete it for the "
        "other): restore it from git or local.json.bak"
    )
