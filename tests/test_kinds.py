from reconciler import kinds
from reconciler.model import Kind


def test_create_order_puts_dependencies_first() -> None:
    assert kinds.ORDERED == (
        Kind.TAG,
        Kind.EXD_PLACEMENT,
        Kind.PLACEMENT,
        Kind.DECISION_RULE,
        Kind.ELIGIBILITY_RULE,
        Kind.RANKING_FORMULA,
        Kind.DECISION_ITEM,
        Kind.FALLBACK_OFFER,
        Kind.PERSONALIZED_OFFER,
        Kind.COLLECTION,
        Kind.ITEM_COLLECTION,
        Kind.DECISION,
        Kind.SELECTION_STRATEGY,
    )


def test_references_walk_lists_and_narrow_collection_targets() -> None:
    body = {
        "filterType": "offers",
        "ids": [{"ref": "summer/a"}, "dps:personalized-offer:0123456789abcdef"],
    }
    found = [(r.pointer, r.value, r.targets) for r in kinds.references(Kind.COLLECTION, body)]
    assert found == [
        ("/ids/0", {"ref": "summer/a"}, frozenset({Kind.PERSONALIZED_OFFER})),
        ("/ids/1", "dps:personalized-offer:0123456789abcdef", frozenset({Kind.PERSONALIZED_OFFER})),
    ]


def test_kinds_of_id_reads_the_middle_segment() -> None:
    assert kinds.kinds_of_id("dps:offer-placement:0123456789abcdef") == (Kind.PLACEMENT,)
    assert kinds.kinds_of_id("xcore:tag:124e147572cd7866") == (Kind.TAG,)
    assert kinds.kinds_of_id("offerPlacement1234") == ()
    # Legacy decision rules and Decisioning eligibility rules share the segment.
    assert kinds.kinds_of_id("dps:eligibility-rule:19af09a9ae45a8d3") == (
        Kind.DECISION_RULE,
        Kind.ELIGIBILITY_RULE,
    )
    assert kinds.kinds_of_id("dps:ranking-function:1947f5372cc4ed74") == (Kind.RANKING_FORMULA,)


def test_the_emulator_s_own_reading_of_the_wire_agrees_with_the_client_s_catalog() -> None:
    """Both read Adobe's pages separately (the emulator is an independent oracle); here they
    must agree, so a mistake in one is caught rather than mirrored in the other."""
    from reconciler.emulator import quirks

    assert {k for k in Kind if kinds.spec(k).update is kinds.Update.PUT} == quirks.PUT_KINDS
    assert {k: kinds.spec(k).derived for k in Kind if kinds.spec(k).derived} == dict(quirks.DERIVED)
    bodies = ({}, {"exdRule": False}, {"exdRule": True}, {"exdRule": "true"})
    for kind in Kind:
        assert [kinds.spec(kind).holds(body) for body in bodies] == [
            quirks.holds(kind, body) for body in bodies
        ]
