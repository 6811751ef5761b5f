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
