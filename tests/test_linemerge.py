"""A dump merged line by line into the text it came from: the edit's lines, the rest as written."""

from __future__ import annotations

import pytest

from reconciler.linemerge import merge, own_comments


@pytest.mark.parametrize(
    ("original", "before", "after", "merged"),
    [
        # The dumper normalised spacing everywhere: only the edited line is the dump's.
        (
            "a:   1\nb: 2\nc:    3\n",
            "a: 1\nb: 2\nc: 3\n",
            "a: 1\nb: 5\nc: 3\n",
            "a:   1\nb: 5\nc:    3\n",
        ),
        # ...also right next to the edit.
        ("a:   1\nb: 2\n", "a: 1\nb: 2\n", "a: 1\nb: 7\n", "a:   1\nb: 7\n"),
        # A line added at the end of a mapping; the original's last line had no newline.
        ("a: 1\nb:  2", "a: 1\nb: 2\n", "a: 1\nb: 2\nc: 3\n", "a: 1\nb:  2\nc: 3\n"),
        # Nothing changed: the original, byte for byte.
        ("x:  'y'\n", "x: 'y'\n", "x: 'y'\n", "x:  'y'\n"),
    ],
)
def test_lines_the_edit_did_not_change_stay_as_written(
    original: str, before: str, after: str, merged: str
) -> None:
    assert merge(original, before, after) == merged


def test_a_removed_entry_takes_its_comment_lines_and_leaves_the_next_one_s() -> None:
    before = "a: 1\n# about b\nb: 2\n\n# about c\nc: 3\n"
    # ruamel drops what follows b (it is kept with b) and keeps what is above it (with a).
    after = "a: 1\n# about b\nc: 3\n"
    assert own_comments(before, after) == "a: 1\n\n# about c\nc: 3\n"
