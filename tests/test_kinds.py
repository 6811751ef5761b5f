from reconciler import kinds
from reconciler.model import Kind


def test_create_order_puts_dependencies_first() -> None:
    assert kinds.ORDERED == (
        Kind.TAG,
        Kind.PLACEMENT,
        Kind.DECISION_RULE,
        Kind.FALLBACK_OFFER,
        Kind.PERSONALIZED_OFFER,
        Kind.COLLECTION,
        Kind.DECISION,
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


def test_kind_of_id_reads_the_middle_segment() -> None:
    assert kinds.kind_of_id("dps:offer-placement:0123456789abcdef") is Kind.PLACEMENT
    assert kinds.kind_of_id("xcore:tag:124e147572cd7866") is Kind.TAG
    assert kinds.kind_of_id("offerPlacement1234") is None
