"""`reconciler.pull_outcome`: what a pull's reports say, as values. A change is said field by
field, a field pulled into the body reaches every other sandbox that does not override it, and
the digest is of the change, not of who made it or when."""

from __future__ import annotations

import pytest

from reconciler import pull_outcome
from reconciler.model import Desired, JsonObject, JsonValue, Key, Kind, Op
from reconciler.pull_outcome import Shared
from reconciler.pulling import FieldPull, ObjectPull, Pull, Pulled
from reconciler.roundtrip import Edit

SALE = "summer/sale-60"
SHIPPING = "summer/free-shipping"
MARKETER = "marketer-ui@techacct.adobe.com"


def _object(
    fields: tuple[FieldPull, ...], *, key: str = SALE, by: str = MARKETER, at: str = "T"
) -> ObjectPull:
    return ObjectPull(
        key=Key(key),
        kind=Kind.PERSONALIZED_OFFER,
        name="Summer sale 60%",
        path=f"offers/{key}.yaml",
        fields=fields,
        edits=(Edit(("name",), "x"),),
        applied={},
        etag=None,
        by=by,
        at=at,
    )


def _done(*objects: ObjectPull) -> Pulled:
    return Pulled(Pull("prod", objects, (), 30), (), (), False)


# --- field by field -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pulled", "expected"),
    [
        pytest.param(
            FieldPull(
                Op.REPLACE,
                "/overrides/prod",
                {"rank": {"priority": 5}, "status": "draft"},
                {"rank": {"priority": 7}, "status": "approved"},
            ),
            (
                FieldPull(Op.REPLACE, "/overrides/prod/rank/priority", 5, 7),
                FieldPull(Op.REPLACE, "/overrides/prod/status", "draft", "approved"),
            ),
            id="an override whose every field changed",
        ),
        pytest.param(
            FieldPull(
                Op.ADD, "/overrides/prod", None, {"status": "draft", "rank": {"priority": 1}}
            ),
            (
                FieldPull(Op.ADD, "/overrides/prod/status", None, "draft"),
                FieldPull(Op.ADD, "/overrides/prod/rank/priority", None, 1),
            ),
            id="an override added",
        ),
        pytest.param(
            FieldPull(Op.REMOVE, "/selectionConstraint", {"startDate": "a", "endDate": "b"}, None),
            (
                FieldPull(Op.REMOVE, "/selectionConstraint/startDate", "a", None),
                FieldPull(Op.REMOVE, "/selectionConstraint/endDate", "b", None),
            ),
            id="a base mapping removed",
        ),
        pytest.param(
            FieldPull(
                Op.REPLACE, "/c", {"same": 1, "gone": 2, "a/b": 3}, {"same": 1, "new": 4, "a/b": 5}
            ),
            (
                FieldPull(Op.REMOVE, "/c/gone", 2, None),
                FieldPull(Op.REPLACE, "/c/a~1b", 3, 5),
                FieldPull(Op.ADD, "/c/new", None, 4),
            ),
            id="members kept, removed, added, escaped",
        ),
        pytest.param(
            FieldPull(Op.REPLACE, "/tags", [{"ref": "tags/a"}], [{"ref": "tags/b"}]),
            (FieldPull(Op.REPLACE, "/tags", [{"ref": "tags/a"}], [{"ref": "tags/b"}]),),
            id="a list stays whole",
        ),
        pytest.param(
            FieldPull(Op.REPLACE, "/rank", {"priority": 1}, "none"),
            (FieldPull(Op.REPLACE, "/rank", {"priority": 1}, "none"),),
            id="a mapping replaced by a value stays whole",
        ),
        pytest.param(
            FieldPull(Op.ADD, "/characteristics", None, {}),
            (FieldPull(Op.ADD, "/characteristics", None, {}),),
            id="an empty mapping added",
        ),
    ],
)
def test_a_change_is_said_field_by_field(
    pulled: FieldPull, expected: tuple[FieldPull, ...]
) -> None:
    assert pull_outcome.leaves([pulled]) == expected


# --- the other sandboxes a merge changes ----------------------------------------------------


def _desired(overrides: dict[str, JsonObject]) -> Desired:
    return Desired(Key(SALE), Kind.PERSONALIZED_OFFER, {"name": "x"}, overrides=overrides)


@pytest.mark.parametrize(
    ("path", "overrides", "expected"),
    [
        ("/rank/priority", {}, ("dev", "stage")),
        ("/rank/priority", {"dev": {"rank": {"priority": 1}}}, ("stage",)),
        ("/rank/priority", {"dev": {"rank": None}}, ("stage",)),  # dev removes it: not its
        ("/rank/priority", {"dev": {"status": "draft"}, "stage": {"rank": {}}}, ("dev", "stage")),
        ("/representations/0/content", {"stage": {"representations": []}}, ("dev",)),
        ("/status", {"dev": {"status": "draft"}, "stage": {"status": "draft"}}, ()),
        ("/overrides/prod/status", {}, ()),  # the pulled sandbox's own override
    ],
)
def test_a_field_pulled_into_the_body_reaches_every_sandbox_that_does_not_override_it(
    path: str, overrides: dict[str, JsonObject], expected: tuple[str, ...]
) -> None:
    done = _done(_object((FieldPull(Op.REPLACE, path, 1, 2),)))
    found = pull_outcome.shared(done, [_desired(overrides)], ["stage", "prod", "dev"])
    assert found == ((Shared(Key(SALE), path, expected),) if expected else ())


# --- the digest of the change ---------------------------------------------------------------


def _edit(live: JsonValue, *, by: str = MARKETER, at: str = "T1", key: str = SALE) -> Pulled:
    return _done(
        _object((FieldPull(Op.REPLACE, "/rank/priority", 50, live),), by=by, at=at, key=key)
    )


@pytest.mark.parametrize(
    ("one", "other", "same"),
    [
        (_edit(70), _edit(70, by="someone@else", at="T2"), True),  # who and when do not count
        (_edit(70), _edit(71), False),
        (_edit(70), _edit(70, key=SHIPPING), False),
        (
            _done(_object((FieldPull(Op.REPLACE, "/o", {"a": 1, "b": 2}, {"a": 3, "b": 4}),))),
            _done(
                _object((FieldPull(Op.REPLACE, "/o/a", 1, 3), FieldPull(Op.REPLACE, "/o/b", 2, 4)))
            ),
            True,  # one operation or two, the same fields
        ),
    ],
)
def test_the_digest_is_the_change_not_who_made_it_or_when(
    one: Pulled, other: Pulled, same: bool
) -> None:
    assert (pull_outcome.digest(one) == pull_outcome.digest(other)) is same


def test_nothing_written_has_no_digest() -> None:
    assert pull_outcome.digest(_done()) is None
