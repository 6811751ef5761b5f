"""The planner is pure: literal desired objects, state and live objects in, a whole Plan out."""

from collections.abc import Mapping
from functools import partial

import pytest

from reconciler import planner
from reconciler.drift import drift
from reconciler.model import (
    Action,
    Attribution,
    Change,
    Desired,
    DriftStatus,
    Entry,
    Etag,
    FieldDrift,
    Ignored,
    JsonValue,
    Key,
    Kind,
    ObjectDrift,
    ObjectId,
    Op,
    Orphan,
    PatchOp,
    Pending,
    Plan,
    Preconditions,
    Reason,
    Ref,
    Source,
    State,
)

TARGET = planner.Target(sandbox="local", org="ORG@AdobeOrg", endpoint="embedded")
WEB = "dps:offer-placement:00000000000000a1"
OFFER = "dps:personalized-offer:00000000000000b1"
TAG = "dps:tag:00000000000000c1"
TAG_2 = "dps:tag:00000000000000c2"
MODIFIED = "2026-11-02T11:00:00.000Z"
CLI = Attribution("reconciler-cli@techacct.adobe.com", MODIFIED)
ALICE = Attribution("alice@example.com", MODIFIED)


def desired(key: str, kind: Kind, body: Mapping[str, JsonValue]) -> Desired:
    return Desired(Key(key), kind, dict(body), Source(f"offers/{key}.yaml"))


def live(
    object_id: str,
    body: Mapping[str, JsonValue],
    etag: int = 1,
    by: str = "reconciler-cli@techacct.adobe.com",
) -> dict[str, JsonValue]:
    return {
        "created": "2026-11-01T10:00:00.000Z",
        "modified": MODIFIED,
        "etag": etag,
        "schemas": ["https://ns.adobe.com/experience/offer-management/tag;version=0.1"],
        "createdBy": "reconciler-cli@techacct.adobe.com",
        "lastModifiedBy": by,
        "id": object_id,
        **body,
    }


def state(**entries: Entry) -> State:
    return State(
        lineage="lin-1",
        serial=7,
        sandbox="local",
        org="ORG@AdobeOrg",
        endpoint="embedded",
        objects={Key(k.replace("__", "/")): v for k, v in entries.items()},
    )


def entry(
    kind: Kind, object_id: str, applied: Mapping[str, JsonValue], etag: int | None = 1
) -> Entry:
    return Entry(
        kind=kind,
        id=ObjectId(object_id),
        etag=Etag(str(etag)) if etag is not None else None,
        applied=dict(applied),
        applied_at=MODIFIED,
    )


def expected_plan(
    *changes: Change,
    managed: bool = True,
    unchanged: int = 0,
    hidden: int = 0,
    orphans: tuple[Orphan, ...] = (),
    ignored: tuple[Ignored, ...] = (),
    prune: bool = False,
    preconditions: Preconditions = Preconditions.TEST,
) -> Plan:
    """The Plan against `state(...)` (managed) or against no state file at all."""
    return Plan(
        sandbox="local",
        org="ORG@AdobeOrg",
        endpoint="embedded",
        lineage="lin-1" if managed else None,
        serial=7 if managed else 0,
        changes=changes,
        orphans=orphans,
        ignored=ignored,
        unchanged=unchanged,
        prune=prune,
        preconditions=preconditions,
        hidden=hidden,
    )


# A change of the summer/sale offer or of the tags/sale tag: their identity, then what a test says.
sale_change = partial(
    Change,
    key=Key("summer/sale"),
    kind=Kind.PERSONALIZED_OFFER,
    name="Summer sale",
    source="offers/summer/sale.yaml",
)
tag_change = partial(
    Change, key=Key("tags/sale"), kind=Kind.TAG, name="Sale", source="offers/tags/sale.yaml"
)


REPRESENTATIONS: list[JsonValue] = [
    {"channel": "web", "placement": WEB, "components": [{"type": "html", "content": "60%"}]}
]
OFFER_BODY: dict[str, JsonValue] = {
    "name": "Summer sale",
    "status": "approved",
    "representations": REPRESENTATIONS,
    "rank": {"priority": 5},
}

EVERYTHING = planner.Selection()


def run(
    wanted: list[Desired],
    current: State | None,
    objects: Mapping[Kind, list[dict[str, JsonValue]]],
    *,
    prune: bool = False,
    ignore: Mapping[Kind, tuple[str, ...]] | None = None,
    selection: planner.Selection = EVERYTHING,
) -> Plan:
    return planner.plan(
        wanted,
        current,
        objects,
        target=TARGET,
        ignore=ignore or {},
        prune=prune,
        selection=selection,
    )


# --- creates ------------------------------------------------------------------------------------


def test_new_objects_are_created_in_dependency_order_with_unknown_ids() -> None:
    offer = dict(
        OFFER_BODY,
        representations=[
            {"channel": "web", "placement": Ref(Key("placements/web")), "components": []}
        ],
    )
    result = run(
        [
            desired("summer/sale", Kind.PERSONALIZED_OFFER, offer),
            desired(
                "placements/web",
                Kind.PLACEMENT,
                {"name": "Web", "channel": "web", "componentType": "html"},
            ),
        ],
        None,
        {},
    )
    assert result == expected_plan(
        Change(
            key=Key("placements/web"),
            kind=Kind.PLACEMENT,
            action=Action.CREATE,
            reasons=(Reason.NEW,),
            name="Web",
            desired={"name": "Web", "channel": "web", "componentType": "html"},
            source="offers/placements/web.yaml",
        ),
        sale_change(
            action=Action.CREATE,
            reasons=(Reason.NEW,),
            desired={
                "name": "Summer sale",
                "status": "approved",
                "representations": [
                    {"channel": "web", "placement": Ref(Key("placements/web")), "components": []}
                ],
                "rank": {"priority": 5},
            },
            depends_on=(Key("placements/web"),),
        ),
        managed=False,
    )


def test_an_object_deleted_outside_git_is_recreated_with_that_reason() -> None:
    result = run(
        [desired("tags/sale", Kind.TAG, {"name": "Sale"})],
        state(tags__sale=entry(Kind.TAG, TAG, {"name": "Sale"})),
        {},
    )
    assert result == expected_plan(
        tag_change(
            action=Action.CREATE,
            reasons=(Reason.MISSING_REMOTELY,),
            id=ObjectId(TAG),
            desired={"name": "Sale"},
        )
    )


# --- nothing to do ------------------------------------------------------------------------------


def test_an_unchanged_object_costs_nothing_and_plans_nothing() -> None:
    result = run(
        [desired("summer/sale", Kind.PERSONALIZED_OFFER, OFFER_BODY)],
        state(summer__sale=entry(Kind.PERSONALIZED_OFFER, OFFER, OFFER_BODY)),
        {Kind.PERSONALIZED_OFFER: [live(OFFER, OFFER_BODY)]},
    )
    assert result == expected_plan(unchanged=1)


def test_server_defaults_never_show_up_as_changes() -> None:
    with_defaults = dict(
        OFFER_BODY, labels=[], cappingConstraint={}, rank={"priority": 5, "order": 0}
    )
    result = run(
        [desired("summer/sale", Kind.PERSONALIZED_OFFER, OFFER_BODY)],
        state(summer__sale=entry(Kind.PERSONALIZED_OFFER, OFFER, OFFER_BODY, etag=1)),
        {Kind.PERSONALIZED_OFFER: [live(OFFER, with_defaults, etag=2)]},
    )
    assert result == expected_plan(unchanged=1)


def test_references_resolve_to_ids_from_state_so_no_perpetual_diff() -> None:
    offer = dict(
        OFFER_BODY,
        representations=[
            {"channel": "web", "placement": Ref(Key("placements/web")), "components": []}
        ],
    )
    resolved = dict(
        OFFER_BODY, representations=[{"channel": "web", "placement": WEB, "components": []}]
    )
    result = run(
        [
            desired("summer/sale", Kind.PERSONALIZED_OFFER, offer),
            desired("placements/web", Kind.PLACEMENT, {"name": "Web"}),
        ],
        state(
            summer__sale=entry(Kind.PERSONALIZED_OFFER, OFFER, resolved, etag=2),
            placements__web=entry(Kind.PLACEMENT, WEB, {"name": "Web"}),
        ),
        {
            Kind.PERSONALIZED_OFFER: [live(OFFER, resolved, etag=2)],
            Kind.PLACEMENT: [live(WEB, {"name": "Web"})],
        },
    )
    assert result == expected_plan(unchanged=2)


# --- updates ------------------------------------------------------------------------------------


def test_a_git_change_is_one_operation_guarded_by_tests_of_every_field_git_owns() -> None:
    changed = dict(OFFER_BODY, rank={"priority": 6})
    result = run(
        [desired("summer/sale", Kind.PERSONALIZED_OFFER, changed)],
        state(summer__sale=entry(Kind.PERSONALIZED_OFFER, OFFER, OFFER_BODY, etag=3)),
        {Kind.PERSONALIZED_OFFER: [live(OFFER, OFFER_BODY, etag=3)]},
    )
    assert result == expected_plan(
        sale_change(
            action=Action.UPDATE,
            reasons=(Reason.CHANGED_IN_GIT,),
            id=ObjectId(OFFER),
            etag=Etag("3"),
            desired=changed,
            live=OFFER_BODY,
            last=OFFER_BODY,
            goal=changed,
            ops=(PatchOp(Op.REPLACE, "/rank/priority", 6, 5),),
            tests=(
                PatchOp(Op.TEST, "/name", "Summer sale"),
                PatchOp(Op.TEST, "/rank/priority", 5),
                PatchOp(Op.TEST, "/representations", REPRESENTATIONS),
                PatchOp(Op.TEST, "/status", "approved"),
            ),
            seen=CLI,
        )
    )


def test_a_field_removed_from_git_is_removed_but_a_ui_only_field_stays() -> None:
    applied = dict(OFFER_BODY, description="Old text")
    live_body = dict(applied, characteristics={"team": "ui"})
    result = run(
        [desired("summer/sale", Kind.PERSONALIZED_OFFER, OFFER_BODY)],
        state(summer__sale=entry(Kind.PERSONALIZED_OFFER, OFFER, applied, etag=4)),
        {Kind.PERSONALIZED_OFFER: [live(OFFER, live_body, etag=5)]},
    )
    assert result == expected_plan(
        sale_change(
            action=Action.UPDATE,
            reasons=(Reason.CHANGED_IN_GIT,),
            id=ObjectId(OFFER),
            etag=Etag("5"),
            desired=OFFER_BODY,
            live=live_body,
            last=applied,
            goal=dict(OFFER_BODY, characteristics={"team": "ui"}),
            ops=(PatchOp(Op.REMOVE, "/description", None, "Old text"),),
            tests=(
                PatchOp(Op.TEST, "/description", "Old text"),
                PatchOp(Op.TEST, "/name", "Summer sale"),
                PatchOp(Op.TEST, "/rank/priority", 5),
                PatchOp(Op.TEST, "/representations", REPRESENTATIONS),
                PatchOp(Op.TEST, "/status", "approved"),
            ),
            seen=CLI,
        )
    )


def test_an_outside_edit_is_reverted_and_says_whose_edit_it_was() -> None:
    edited = dict(OFFER_BODY, rank={"priority": 99})
    result = run(
        [desired("summer/sale", Kind.PERSONALIZED_OFFER, OFFER_BODY)],
        state(summer__sale=entry(Kind.PERSONALIZED_OFFER, OFFER, OFFER_BODY, etag=1)),
        {Kind.PERSONALIZED_OFFER: [live(OFFER, edited, etag=2, by="alice@example.com")]},
    )
    assert result == expected_plan(
        sale_change(
            action=Action.UPDATE,
            reasons=(Reason.DRIFTED,),
            id=ObjectId(OFFER),
            etag=Etag("2"),
            desired=OFFER_BODY,
            live=edited,
            last=OFFER_BODY,
            goal=OFFER_BODY,
            ops=(PatchOp(Op.REPLACE, "/rank/priority", 5, 99, reverts=ALICE),),
            tests=(
                PatchOp(Op.TEST, "/name", "Summer sale"),
                PatchOp(Op.TEST, "/rank/priority", 99),
                PatchOp(Op.TEST, "/representations", REPRESENTATIONS),
                PatchOp(Op.TEST, "/status", "approved"),
            ),
            seen=ALICE,
        )
    )
    assert result.changes[0].drift == ALICE


TAIL: list[JsonValue] = ["C", "D", "E", "F", "G", "H", "I", "J", "K"]


@pytest.mark.parametrize(
    ("last", "ui", "git", "ops"),
    [
        pytest.param(
            ["A", "X", *TAIL],
            ["A", "B", *TAIL],
            ["Z", "A", "X", *TAIL],
            (
                PatchOp(Op.ADD, "/list/0", "Z"),
                PatchOp(Op.REPLACE, "/list/2", "X", "B", reverts=ALICE),
            ),
            id="item edits: the replaced item is matched by value, not by its shifted index",
        ),
        pytest.param(
            ["A", "X"],
            ["A", "B"],
            ["Z", "A", "X"],
            (PatchOp(Op.REPLACE, "/list", ["Z", "A", "X"], ["A", "B"], reverts=ALICE),),
            id="a short list is replaced whole, and that reverts the edit too",
        ),
    ],
)
def test_an_insert_in_front_does_not_hide_the_revert_of_a_ui_edit_behind_it(
    last: list[JsonValue], ui: list[JsonValue], git: list[JsonValue], ops: tuple[PatchOp, ...]
) -> None:
    # Regression: the revert of the UI's "B" was shown as `null -> "B"` with no warning.
    result = run(
        [desired("tags/sale", Kind.TAG, {"name": "Sale", "list": git})],
        state(tags__sale=entry(Kind.TAG, TAG, {"name": "Sale", "list": last})),
        {Kind.TAG: [live(TAG, {"name": "Sale", "list": ui}, etag=2, by="alice@example.com")]},
    )
    assert result == expected_plan(
        tag_change(
            action=Action.UPDATE,
            reasons=(Reason.CHANGED_IN_GIT, Reason.DRIFTED),
            id=ObjectId(TAG),
            etag=Etag("2"),
            desired={"name": "Sale", "list": git},
            live={"name": "Sale", "list": ui},
            last={"name": "Sale", "list": last},
            goal={"name": "Sale", "list": git},
            ops=ops,
            tests=(PatchOp(Op.TEST, "/list", ui), PatchOp(Op.TEST, "/name", "Sale")),
            seen=ALICE,
        )
    )


def test_a_member_added_at_the_top_level_is_unguarded_and_a_ui_removal_is_reverted() -> None:
    applied = {"name": "Sale", "description": "Sale items"}
    result = run(
        [desired("tags/sale", Kind.TAG, applied)],
        state(tags__sale=entry(Kind.TAG, TAG, applied)),
        {Kind.TAG: [live(TAG, {"name": "Sale"}, etag=2, by="alice@example.com")]},
    )
    assert result == expected_plan(
        tag_change(
            action=Action.UPDATE,
            reasons=(Reason.DRIFTED,),
            id=ObjectId(TAG),
            etag=Etag("2"),
            desired=applied,
            live={"name": "Sale"},
            last=applied,
            goal=applied,
            ops=(PatchOp(Op.ADD, "/description", "Sale items", reverts=ALICE),),
            tests=(PatchOp(Op.TEST, "/name", "Sale"),),
            unguarded=("/description",),
            seen=ALICE,
        )
    )


def test_a_ref_mapping_outside_the_reference_fields_is_plain_data_and_never_substituted() -> None:
    # `{ref: ...}` is a reference only at the kinds catalog's reference fields.
    with_map = dict(OFFER_BODY, characteristics={"ref": "placements/web"})
    result = run(
        [
            desired("summer/sale", Kind.PERSONALIZED_OFFER, with_map),
            desired("placements/web", Kind.PLACEMENT, {"name": "Web"}),
        ],
        state(
            summer__sale=entry(Kind.PERSONALIZED_OFFER, OFFER, OFFER_BODY),
            placements__web=entry(Kind.PLACEMENT, WEB, {"name": "Web"}),
        ),
        {
            Kind.PERSONALIZED_OFFER: [live(OFFER, OFFER_BODY)],
            Kind.PLACEMENT: [live(WEB, {"name": "Web"})],
        },
    )
    assert result == expected_plan(
        sale_change(
            action=Action.UPDATE,
            reasons=(Reason.CHANGED_IN_GIT,),
            id=ObjectId(OFFER),
            etag=Etag("1"),
            desired=with_map,
            live=OFFER_BODY,
            last=OFFER_BODY,
            goal=with_map,
            # The mapping, not the placement's id (and not a Ref, which would not equal it).
            ops=(PatchOp(Op.ADD, "/characteristics", {"ref": "placements/web"}),),
            tests=(
                PatchOp(Op.TEST, "/name", "Summer sale"),
                PatchOp(Op.TEST, "/rank/priority", 5),
                PatchOp(Op.TEST, "/representations", REPRESENTATIONS),
                PatchOp(Op.TEST, "/status", "approved"),
            ),
            unguarded=("/characteristics",),
            seen=CLI,
        ),
        unchanged=1,
    )


# --- state-only refreshes -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("applied", "recorded_etag"),
    [
        pytest.param(OFFER_BODY, 1, id="the UI made the change git makes"),
        pytest.param(
            dict(OFFER_BODY, rank={"priority": 6}), None, id="state lost the answer's etag"
        ),
    ],
)
def test_live_already_matching_git_with_state_behind_is_a_state_only_refresh(
    applied: dict[str, JsonValue], recorded_etag: int | None
) -> None:
    changed = dict(OFFER_BODY, rank={"priority": 6})
    result = run(
        [desired("summer/sale", Kind.PERSONALIZED_OFFER, changed)],
        state(summer__sale=entry(Kind.PERSONALIZED_OFFER, OFFER, applied, etag=recorded_etag)),
        {Kind.PERSONALIZED_OFFER: [live(OFFER, changed, etag=2, by="alice@example.com")]},
    )
    assert result == expected_plan(
        sale_change(
            action=Action.REFRESH,
            reasons=(Reason.STATE_BEHIND,),
            id=ObjectId(OFFER),
            etag=Etag("2"),
            desired=changed,
            live=changed,
            last=applied,
            goal=changed,
            tests=(
                PatchOp(Op.TEST, "/name", "Summer sale"),
                PatchOp(Op.TEST, "/rank/priority", 6),
                PatchOp(Op.TEST, "/representations", REPRESENTATIONS),
                PatchOp(Op.TEST, "/status", "approved"),
            ),
            seen=ALICE,
        )
    )
    assert not result.changes[0].writes


# --- ignore rules -------------------------------------------------------------------------------


def test_an_ignored_field_is_never_planned_and_is_listed() -> None:
    edited = dict(OFFER_BODY, rank={"priority": 99})
    result = run(
        [desired("summer/sale", Kind.PERSONALIZED_OFFER, OFFER_BODY)],
        state(summer__sale=entry(Kind.PERSONALIZED_OFFER, OFFER, OFFER_BODY, etag=1)),
        {Kind.PERSONALIZED_OFFER: [live(OFFER, edited, etag=2)]},
        ignore={Kind.PERSONALIZED_OFFER: ("/rank/priority",)},
    )
    assert result == expected_plan(
        unchanged=1,
        ignored=(
            Ignored(Key("summer/sale"), Kind.PERSONALIZED_OFFER, "/rank/priority", 5, 99, True),
        ),
    )


def test_a_git_edit_of_an_ignored_field_alone_plans_nothing() -> None:
    changed = dict(OFFER_BODY, rank={"priority": 8})
    result = run(
        [desired("summer/sale", Kind.PERSONALIZED_OFFER, changed)],
        state(summer__sale=entry(Kind.PERSONALIZED_OFFER, OFFER, OFFER_BODY, etag=1)),
        {Kind.PERSONALIZED_OFFER: [live(OFFER, OFFER_BODY, etag=1)]},
        ignore={Kind.PERSONALIZED_OFFER: ("/rank/priority",)},
    )
    assert result == expected_plan(
        unchanged=1,
        ignored=(
            Ignored(Key("summer/sale"), Kind.PERSONALIZED_OFFER, "/rank/priority", 8, 5, True),
        ),
    )


def test_once_the_rule_is_dropped_git_s_value_of_the_ignored_field_is_enforced() -> None:
    # After a git edit under the rule (which plans nothing), state still has live's value.
    changed = dict(OFFER_BODY, rank={"priority": 8})
    result = run(
        [desired("summer/sale", Kind.PERSONALIZED_OFFER, changed)],
        state(summer__sale=entry(Kind.PERSONALIZED_OFFER, OFFER, OFFER_BODY, etag=1)),
        {Kind.PERSONALIZED_OFFER: [live(OFFER, OFFER_BODY, etag=1)]},
    )
    assert result == expected_plan(
        sale_change(
            action=Action.UPDATE,
            reasons=(Reason.CHANGED_IN_GIT,),
            id=ObjectId(OFFER),
            etag=Etag("1"),
            desired=changed,
            live=OFFER_BODY,
            last=OFFER_BODY,
            goal=changed,
            ops=(PatchOp(Op.REPLACE, "/rank/priority", 8, 5),),
            tests=(
                PatchOp(Op.TEST, "/name", "Summer sale"),
                PatchOp(Op.TEST, "/rank/priority", 5),
                PatchOp(Op.TEST, "/representations", REPRESENTATIONS),
                PatchOp(Op.TEST, "/status", "approved"),
            ),
            seen=CLI,
        )
    )


def test_a_revert_beside_a_ui_edit_of_an_ignored_field_is_not_called_a_git_change() -> None:
    edited = dict(OFFER_BODY, rank={"priority": 99}, status="draft")
    result = run(
        [desired("summer/sale", Kind.PERSONALIZED_OFFER, OFFER_BODY)],
        state(summer__sale=entry(Kind.PERSONALIZED_OFFER, OFFER, OFFER_BODY, etag=1)),
        {Kind.PERSONALIZED_OFFER: [live(OFFER, edited, etag=2, by="alice@example.com")]},
        ignore={Kind.PERSONALIZED_OFFER: ("/rank/priority",)},
    )
    assert result == expected_plan(
        sale_change(
            action=Action.UPDATE,
            reasons=(Reason.DRIFTED,),
            id=ObjectId(OFFER),
            etag=Etag("2"),
            desired=OFFER_BODY,
            live=edited,
            last=OFFER_BODY,
            ignore=("/rank/priority",),
            goal=dict(OFFER_BODY, rank={"priority": 99}),
            ops=(PatchOp(Op.REPLACE, "/status", "approved", "draft", reverts=ALICE),),
            tests=(
                PatchOp(Op.TEST, "/name", "Summer sale"),
                PatchOp(Op.TEST, "/representations", REPRESENTATIONS),
                PatchOp(Op.TEST, "/status", "draft"),
            ),
            seen=ALICE,
        ),
        ignored=(
            Ignored(Key("summer/sale"), Kind.PERSONALIZED_OFFER, "/rank/priority", 5, 99, True),
        ),
    )


# --- adoption: a live object found by kind and name ---------------------------------------------


def test_an_object_missing_from_state_is_adopted_by_name_never_created_again() -> None:
    result = run(
        [desired("tags/sale", Kind.TAG, {"name": "Sale", "description": "Sale items"})],
        None,
        {Kind.TAG: [live(TAG, {"name": "Sale"}, by="alice@example.com")]},
    )
    assert result == expected_plan(
        tag_change(
            action=Action.ADOPT,
            reasons=(Reason.FOUND_BY_NAME,),
            id=ObjectId(TAG),
            etag=Etag("1"),
            desired={"name": "Sale", "description": "Sale items"},
            live={"name": "Sale"},
            goal={"name": "Sale", "description": "Sale items"},
            # Without a last-applied document nothing can be called a revert.
            ops=(PatchOp(Op.ADD, "/description", "Sale items"),),
            tests=(PatchOp(Op.TEST, "/name", "Sale"),),
            unguarded=("/description",),
            seen=ALICE,
        ),
        managed=False,
    )


def test_an_object_whose_recorded_id_is_gone_is_adopted_by_name() -> None:
    result = run(
        [desired("tags/sale", Kind.TAG, {"name": "Sale"})],
        state(tags__sale=entry(Kind.TAG, TAG, {"name": "Sale"})),
        {Kind.TAG: [live(TAG_2, {"name": "Sale"}, by="alice@example.com")]},
    )
    assert result == expected_plan(
        tag_change(
            action=Action.ADOPT,
            reasons=(Reason.MISSING_REMOTELY,),
            id=ObjectId(TAG_2),
            etag=Etag("1"),
            desired={"name": "Sale"},
            live={"name": "Sale"},
            goal={"name": "Sale"},
            tests=(PatchOp(Op.TEST, "/name", "Sale"),),
            seen=ALICE,
        )
    )


def test_an_interrupted_create_is_found_by_name_and_adopted() -> None:
    pending = Entry(kind=Kind.TAG, pending=Pending(name="Sale", since="2026-11-22T10:00:00.000Z"))
    result = run(
        [desired("tags/sale", Kind.TAG, {"name": "Sale"})],
        state(tags__sale=pending),
        {Kind.TAG: [live(TAG, {"name": "Sale"})]},
    )
    assert result == expected_plan(
        tag_change(
            action=Action.ADOPT,
            reasons=(Reason.INTERRUPTED_CREATE,),
            id=ObjectId(TAG),
            etag=Etag("1"),
            desired={"name": "Sale"},
            live={"name": "Sale"},
            goal={"name": "Sale"},
            tests=(PatchOp(Op.TEST, "/name", "Sale"),),
            seen=CLI,
        )
    )


def test_an_object_another_key_manages_is_never_adopted_even_when_renamed_to_the_name() -> None:
    # The UI renamed tags/old's object to "Sale": it stays tags/old's, and tags/sale is new.
    result = run(
        [
            desired("tags/sale", Kind.TAG, {"name": "Sale"}),
            desired("tags/old", Kind.TAG, {"name": "Old"}),
        ],
        state(tags__old=entry(Kind.TAG, TAG, {"name": "Old"})),
        {Kind.TAG: [live(TAG, {"name": "Sale"}, etag=2, by="alice@example.com")]},
    )
    assert result == expected_plan(
        Change(
            key=Key("tags/old"),
            kind=Kind.TAG,
            action=Action.UPDATE,
            reasons=(Reason.DRIFTED,),
            name="Old",
            id=ObjectId(TAG),
            etag=Etag("2"),
            desired={"name": "Old"},
            live={"name": "Sale"},
            last={"name": "Old"},
            goal={"name": "Old"},
            ops=(PatchOp(Op.REPLACE, "/name", "Old", "Sale", reverts=ALICE),),
            tests=(PatchOp(Op.TEST, "/name", "Sale"),),
            seen=ALICE,
            source="offers/tags/old.yaml",
        ),
        # It waits for tags/old's update, which takes the name "Sale" away first.
        tag_change(
            action=Action.CREATE,
            reasons=(Reason.NEW,),
            desired={"name": "Sale"},
            depends_on=(Key("tags/old"),),
        ),
    )


@pytest.mark.parametrize(
    ("wanted", "objects", "message"),
    [
        pytest.param(
            [desired("tags/sale", Kind.TAG, {"name": "Sale"})],
            [live(TAG_2, {"name": "Sale"}), live(TAG, {"name": "Sale"})],
            "offers/tags/sale.yaml: 2 unmanaged tag objects are named 'Sale' "
            f"({TAG}, {TAG_2}): choose the one this file manages with "
            "`reconciler import tags/sale <id>`, or rename one of them",
            id="several live objects have the name",
        ),
        pytest.param(
            [
                desired("tags/a", Kind.TAG, {"name": "Sale"}),
                desired("tags/b", Kind.TAG, {"name": "Sale"}),
            ],
            [live(TAG, {"name": "Sale"})],
            f"offers/tags/b.yaml: tags/a and tags/b both match {TAG} by name: "
            "give them different names",
            id="several keys would adopt one object",
        ),
    ],
)
def test_an_unclear_adoption_is_refused_and_says_what_to_do(
    wanted: list[Desired], objects: list[dict[str, JsonValue]], message: str
) -> None:
    with pytest.raises(planner.PlanError) as raised:
        run(wanted, None, {Kind.TAG: objects})
    assert str(raised.value) == message


# --- renamed files: the key gone from git hands its object to the new key ----------------------


# tags/summer.yaml moved to tags/season.yaml: the adoption, then what a test says.
season_change = partial(
    Change,
    key=Key("tags/season"),
    kind=Kind.TAG,
    action=Action.ADOPT,
    reasons=(Reason.RENAMED,),
    name="Summer",
    id=ObjectId(TAG),
    etag=Etag("1"),
    seen=CLI,
    source="offers/tags/season.yaml",
    moved_from=Key("tags/summer"),
)


@pytest.mark.parametrize("prune", [False, True], ids=["keeping orphans", "pruning"])
def test_a_renamed_file_adopts_its_old_key_s_object_which_is_neither_orphaned_nor_deleted(
    prune: bool,
) -> None:
    tagged = dict(OFFER_BODY, tags=[TAG])
    result = run(
        [
            desired("tags/season", Kind.TAG, {"name": "Summer"}),
            desired(
                "summer/sale",
                Kind.PERSONALIZED_OFFER,
                dict(OFFER_BODY, tags=[Ref(Key("tags/season"))]),
            ),
        ],
        state(
            tags__summer=entry(Kind.TAG, TAG, {"name": "Summer"}),
            summer__sale=entry(Kind.PERSONALIZED_OFFER, OFFER, tagged),
        ),
        {
            Kind.TAG: [live(TAG, {"name": "Summer"})],
            Kind.PERSONALIZED_OFFER: [live(OFFER, tagged)],
        },
        prune=prune,
    )
    assert result == expected_plan(
        season_change(
            desired={"name": "Summer"},
            live={"name": "Summer"},
            last={"name": "Summer"},
            goal={"name": "Summer"},
            tests=(PatchOp(Op.TEST, "/name", "Summer"),),
        ),
        unchanged=1,  # summer/sale refers to the same id under the new key
        prune=prune,
    )


def test_a_rename_that_also_drops_a_field_removes_it_as_state_mv_would() -> None:
    applied = {"name": "Summer", "description": "Summer items"}
    result = run(
        [desired("tags/season", Kind.TAG, {"name": "Summer"})],
        state(tags__summer=entry(Kind.TAG, TAG, applied)),
        {Kind.TAG: [live(TAG, applied)]},
    )
    assert result == expected_plan(
        season_change(
            desired={"name": "Summer"},
            live=applied,
            last=applied,
            goal={"name": "Summer"},
            ops=(PatchOp(Op.REMOVE, "/description", old="Summer items"),),
            tests=(
                PatchOp(Op.TEST, "/description", "Summer items"),
                PatchOp(Op.TEST, "/name", "Summer"),
            ),
        )
    )


# --- removed keys -------------------------------------------------------------------------------


def test_removed_keys_are_orphans_unless_pruning_then_deleted_after_their_referrers() -> None:
    offer_applied = dict(OFFER_BODY, tags=[TAG])
    current = state(
        tags__old=entry(Kind.TAG, TAG, {"name": "Old"}),
        offers__old=entry(Kind.PERSONALIZED_OFFER, OFFER, offer_applied),
    )
    objects = {
        Kind.TAG: [live(TAG, {"name": "Old"}, etag=2)],
        Kind.PERSONALIZED_OFFER: [live(OFFER, offer_applied, etag=3)],
    }
    assert run([], current, objects) == expected_plan(
        orphans=(
            Orphan(Key("offers/old"), Kind.PERSONALIZED_OFFER, ObjectId(OFFER)),
            Orphan(Key("tags/old"), Kind.TAG, ObjectId(TAG)),
        ),
    )
    assert run([], current, objects, prune=True) == expected_plan(
        Change(
            key=Key("offers/old"),
            kind=Kind.PERSONALIZED_OFFER,
            action=Action.DELETE,
            reasons=(Reason.REMOVED_FROM_GIT,),
            name="Summer sale",
            id=ObjectId(OFFER),
            etag=Etag("3"),
            live=offer_applied,
            last=offer_applied,
            seen=CLI,
        ),
        Change(
            key=Key("tags/old"),
            kind=Kind.TAG,
            action=Action.DELETE,
            reasons=(Reason.REMOVED_FROM_GIT,),
            name="Old",
            id=ObjectId(TAG),
            etag=Etag("2"),
            live={"name": "Old"},
            last={"name": "Old"},
            seen=CLI,
        ),
        prune=True,
    )


# --- --only / --exclude -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("selection", "prune", "planned", "hidden", "orphans"),
    [
        pytest.param(planner.Selection(), True, ["tags/a", "tags/b", "tags/gone"], 0, [], id="all"),
        pytest.param(planner.Selection(only=("tags/a",)), True, ["tags/a"], 2, [], id="only"),
        pytest.param(
            planner.Selection(exclude=("tags/a",)),
            True,
            ["tags/b", "tags/gone"],
            1,
            [],
            id="exclude",
        ),
        pytest.param(
            planner.Selection(only=("tags/gone",)),
            False,
            [],
            2,
            ["tags/gone"],
            id="orphans are listed, not counted as changes",
        ),
    ],
)
def test_only_and_exclude_leave_changes_out_of_the_plan_and_count_them(
    selection: planner.Selection,
    prune: bool,
    planned: list[str],
    hidden: int,
    orphans: list[str],
) -> None:
    result = run(
        [desired("tags/a", Kind.TAG, {"name": "A"}), desired("tags/b", Kind.TAG, {"name": "B"})],
        state(tags__gone=entry(Kind.TAG, TAG, {"name": "Gone"})),
        {Kind.TAG: [live(TAG, {"name": "Gone"})]},
        prune=prune,
        selection=selection,
    )
    assert ([c.key for c in result.changes], result.hidden, [o.key for o in result.orphans]) == (
        planned,
        hidden,
        orphans,
    )


def test_the_target_s_preconditions_mode_is_the_plan_s() -> None:
    target = planner.Target("local", "ORG@AdobeOrg", "embedded", Preconditions.IF_MATCH)
    result = planner.plan([], None, {}, target=target, ignore={}, prune=False)
    assert result == expected_plan(managed=False, preconditions=Preconditions.IF_MATCH)


# --- drift --------------------------------------------------------------------------------------


def test_drift_names_fields_who_and_when_and_deleted_objects() -> None:
    current = state(
        summer__sale=entry(Kind.PERSONALIZED_OFFER, OFFER, OFFER_BODY, etag=1),
        tags__gone=entry(Kind.TAG, TAG, {"name": "Gone"}),
    )
    edited = dict(OFFER_BODY, rank={"priority": 99}, labels=["ui-only"])
    found = drift(
        current,
        {Kind.PERSONALIZED_OFFER: [live(OFFER, edited, etag=2, by="alice@example.com")]},
        sandbox="local",
        ignore={},
        unmanaged=False,
    )
    assert found.objects == (
        ObjectDrift(
            Key("summer/sale"),
            Kind.PERSONALIZED_OFFER,
            ObjectId(OFFER),
            "Summer sale",
            DriftStatus.CHANGED,
            (FieldDrift(Op.REPLACE, "/rank/priority", 5, 99),),
            "alice@example.com",
            MODIFIED,
        ),
        ObjectDrift(Key("tags/gone"), Kind.TAG, ObjectId(TAG), "Gone", DriftStatus.DELETED),
    )
    assert found.checked == 2


# --- found by the hostile test ------------------------------------------------------------------


def test_a_file_whose_kind_changed_is_refused_naming_what_to_do() -> None:
    with pytest.raises(planner.PlanError) as raised:
        run(
            [
                desired(
                    "x", Kind.PLACEMENT, {"name": "X", "channel": "web", "componentType": "html"}
                )
            ],
            state(x=entry(Kind.TAG, TAG, {"name": "X"})),
            {Kind.TAG: [live(TAG, {"name": "X"})]},
        )
    assert str(raised.value) == (
        "offers/x.yaml: its kind changed from tag to placement, but an object cannot change "
        "kind: give the file another name (a new key: the tag is then removed from git and the "
        "placement created), or forget the tag first with `reconciler state rm x`"
    )


def test_a_create_waits_for_the_update_that_renames_its_name_away() -> None:
    result = run(
        [
            desired("tags/a", Kind.TAG, {"name": "Renamed"}),
            desired("tags/b", Kind.TAG, {"name": "Summer"}),
        ],
        state(tags__a=entry(Kind.TAG, TAG, {"name": "Summer"})),
        {Kind.TAG: [live(TAG, {"name": "Summer"})]},
    )
    assert [(c.key, c.action, c.depends_on) for c in result.changes] == [
        (Key("tags/a"), Action.UPDATE, ()),
        (Key("tags/b"), Action.CREATE, (Key("tags/a"),)),
    ]
