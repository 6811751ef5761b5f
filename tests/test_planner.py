"""The planner is pure: literal desired objects, state and live objects in, a whole Plan out."""

from collections.abc import Mapping

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
    Reason,
    Source,
    State,
)

TARGET = planner.Target(sandbox="local", org="ORG@AdobeOrg", endpoint="embedded")
WEB = "dps:offer-placement:00000000000000a1"
OFFER = "dps:personalized-offer:00000000000000b1"
TAG = "dps:tag:00000000000000c1"


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
        "modified": "2026-11-02T11:00:00.000Z",
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


def entry(kind: Kind, object_id: str, applied: Mapping[str, JsonValue], etag: int = 1) -> Entry:
    return Entry(
        kind=kind,
        id=ObjectId(object_id),
        etag=Etag(str(etag)),
        applied=dict(applied),
        applied_at="2026-11-02T11:00:00.000Z",
    )


OFFER_BODY: dict[str, JsonValue] = {
    "name": "Summer sale",
    "status": "approved",
    "representations": [
        {"channel": "web", "placement": WEB, "components": [{"type": "html", "content": "60%"}]}
    ],
    "rank": {"priority": 5},
}


def run(
    wanted: list[Desired],
    current: State | None,
    objects: Mapping[Kind, list[dict[str, JsonValue]]],
    *,
    prune: bool = False,
    ignore: Mapping[Kind, tuple[str, ...]] | None = None,
) -> Plan:
    return planner.plan(wanted, current, objects, target=TARGET, ignore=ignore or {}, prune=prune)


def test_new_objects_are_created_in_dependency_order_with_unknown_ids() -> None:
    offer = dict(
        OFFER_BODY,
        representations=[
            {"channel": "web", "placement": {"ref": "placements/web"}, "components": []}
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
    assert result == Plan(
        sandbox="local",
        org="ORG@AdobeOrg",
        endpoint="embedded",
        lineage=None,
        serial=0,
        changes=(
            Change(
                key=Key("placements/web"),
                kind=Kind.PLACEMENT,
                action=Action.CREATE,
                reasons=(Reason.NEW,),
                name="Web",
                body={"name": "Web", "channel": "web", "componentType": "html"},
                source="offers/placements/web.yaml",
            ),
            Change(
                key=Key("summer/sale"),
                kind=Kind.PERSONALIZED_OFFER,
                action=Action.CREATE,
                reasons=(Reason.NEW,),
                name="Summer sale",
                body=offer,
                source="offers/summer/sale.yaml",
                depends_on=(Key("placements/web"),),
            ),
        ),
    )


def test_an_unchanged_object_costs_nothing_and_plans_nothing() -> None:
    result = run(
        [desired("summer/sale", Kind.PERSONALIZED_OFFER, OFFER_BODY)],
        state(summer__sale=entry(Kind.PERSONALIZED_OFFER, OFFER, OFFER_BODY)),
        {Kind.PERSONALIZED_OFFER: [live(OFFER, OFFER_BODY)]},
    )
    assert result.changes == ()
    assert result.unchanged == 1
    assert (result.lineage, result.serial) == ("lin-1", 7)


def test_server_defaults_never_show_up_as_changes() -> None:
    with_defaults = dict(
        OFFER_BODY, labels=[], cappingConstraint={}, rank={"priority": 5, "order": 0}
    )
    result = run(
        [desired("summer/sale", Kind.PERSONALIZED_OFFER, OFFER_BODY)],
        state(summer__sale=entry(Kind.PERSONALIZED_OFFER, OFFER, OFFER_BODY, etag=1)),
        {Kind.PERSONALIZED_OFFER: [live(OFFER, with_defaults, etag=2)]},
    )
    assert result.changes == ()


def test_a_git_change_is_one_minimal_operation() -> None:
    changed = dict(OFFER_BODY, rank={"priority": 6})
    result = run(
        [desired("summer/sale", Kind.PERSONALIZED_OFFER, changed)],
        state(summer__sale=entry(Kind.PERSONALIZED_OFFER, OFFER, OFFER_BODY, etag=3)),
        {Kind.PERSONALIZED_OFFER: [live(OFFER, OFFER_BODY, etag=3)]},
    )
    assert result.changes == (
        Change(
            key=Key("summer/sale"),
            kind=Kind.PERSONALIZED_OFFER,
            action=Action.UPDATE,
            reasons=(Reason.CHANGED_IN_GIT,),
            name="Summer sale",
            id=ObjectId(OFFER),
            etag=Etag("3"),
            ops=(PatchOp(Op.REPLACE, "/rank/priority", 6, 5),),
            body=changed,
            source="offers/summer/sale.yaml",
        ),
    )


def test_a_field_removed_from_git_is_removed_but_a_ui_only_field_stays() -> None:
    applied = dict(OFFER_BODY, description="Old text")
    live_body = dict(applied, characteristics={"team": "ui"})
    result = run(
        [desired("summer/sale", Kind.PERSONALIZED_OFFER, OFFER_BODY)],
        state(summer__sale=entry(Kind.PERSONALIZED_OFFER, OFFER, applied, etag=4)),
        {Kind.PERSONALIZED_OFFER: [live(OFFER, live_body, etag=5)]},
    )
    assert [op for change in result.changes for op in change.ops] == [
        PatchOp(Op.REMOVE, "/description", None, "Old text")
    ]


def test_an_outside_edit_is_reverted_and_says_whose_edit_it_was() -> None:
    edited = dict(OFFER_BODY, rank={"priority": 99})
    result = run(
        [desired("summer/sale", Kind.PERSONALIZED_OFFER, OFFER_BODY)],
        state(summer__sale=entry(Kind.PERSONALIZED_OFFER, OFFER, OFFER_BODY, etag=1)),
        {Kind.PERSONALIZED_OFFER: [live(OFFER, edited, etag=2, by="alice@example.com")]},
    )
    who = Attribution("alice@example.com", "2026-11-02T11:00:00.000Z")
    (change,) = result.changes
    assert change.reasons == (Reason.DRIFTED,)
    assert change.drift == who
    assert change.ops == (PatchOp(Op.REPLACE, "/rank/priority", 5, 99, reverts=who),)


def test_an_ignored_field_is_never_planned_and_is_listed() -> None:
    edited = dict(OFFER_BODY, rank={"priority": 99})
    result = run(
        [desired("summer/sale", Kind.PERSONALIZED_OFFER, OFFER_BODY)],
        state(summer__sale=entry(Kind.PERSONALIZED_OFFER, OFFER, OFFER_BODY, etag=1)),
        {Kind.PERSONALIZED_OFFER: [live(OFFER, edited, etag=2)]},
        ignore={Kind.PERSONALIZED_OFFER: ("/rank/priority",)},
    )
    assert result.changes == ()
    assert result.ignored == (
        Ignored(Key("summer/sale"), Kind.PERSONALIZED_OFFER, "/rank/priority", 5, 99, True),
    )


def test_an_object_deleted_outside_git_is_recreated_with_that_reason() -> None:
    result = run(
        [desired("tags/sale", Kind.TAG, {"name": "Sale"})],
        state(tags__sale=entry(Kind.TAG, TAG, {"name": "Sale"})),
        {},
    )
    (change,) = result.changes
    assert (change.action, change.reasons, change.id) == (
        Action.CREATE,
        (Reason.MISSING_REMOTELY,),
        TAG,
    )


def test_an_interrupted_create_is_found_by_name_and_adopted() -> None:
    pending = Entry(kind=Kind.TAG, pending=Pending(name="Sale", since="2026-11-22T10:00:00.000Z"))
    result = run(
        [desired("tags/sale", Kind.TAG, {"name": "Sale"})],
        state(tags__sale=pending),
        {Kind.TAG: [live(TAG, {"name": "Sale"})]},
    )
    (change,) = result.changes
    assert (change.action, change.reasons, change.id, change.etag, change.ops) == (
        Action.UPDATE,
        (Reason.ADOPTED,),
        TAG,
        "1",
        (),
    )


def test_creating_a_name_that_exists_unmanaged_is_refused() -> None:
    with pytest.raises(planner.PlanError) as raised:
        run(
            [desired("tags/sale", Kind.TAG, {"name": "Sale"})],
            None,
            {Kind.TAG: [live(TAG, {"name": "Sale"})]},
        )
    assert str(raised.value) == (
        "offers/tags/sale.yaml: a tag named 'Sale' already exists in the sandbox "
        f"({TAG}) and is not managed: adopt it with `reconciler import tags/sale {TAG}` or give this one "
        "another name"
    )


def test_removed_keys_are_orphans_unless_pruning_then_deleted_after_their_referrers() -> None:
    current = state(
        tags__old=entry(Kind.TAG, TAG, {"name": "Old"}),
        offers__old=entry(Kind.PERSONALIZED_OFFER, OFFER, dict(OFFER_BODY, tags=[TAG])),
    )
    objects = {
        Kind.TAG: [live(TAG, {"name": "Old"}, etag=2)],
        Kind.PERSONALIZED_OFFER: [live(OFFER, dict(OFFER_BODY, tags=[TAG]), etag=3)],
    }
    kept = run([], current, objects)
    assert kept.changes == ()
    assert kept.orphans == (
        Orphan(Key("offers/old"), Kind.PERSONALIZED_OFFER, ObjectId(OFFER)),
        Orphan(Key("tags/old"), Kind.TAG, ObjectId(TAG)),
    )
    pruned = run([], current, objects, prune=True)
    assert [(c.action, c.key, c.etag) for c in pruned.changes] == [
        (Action.DELETE, "offers/old", "3"),
        (Action.DELETE, "tags/old", "2"),
    ]


def test_references_resolve_to_ids_from_state_so_no_perpetual_diff() -> None:
    offer = dict(
        OFFER_BODY,
        representations=[
            {"channel": "web", "placement": {"ref": "placements/web"}, "components": []}
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
    assert result.changes == ()
    assert result.unchanged == 2


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
            "2026-11-02T11:00:00.000Z",
        ),
        ObjectDrift(Key("tags/gone"), Kind.TAG, ObjectId(TAG), "Gone", DriftStatus.DELETED),
    )
    assert found.checked == 2
