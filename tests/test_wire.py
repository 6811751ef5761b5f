"""The wire form of Decisioning bodies: stringified uiModel, case of returnType, patches."""

from __future__ import annotations

from reconciler import kinds, wire
from reconciler.model import Kind

ADOBE_UI_MODEL = (
    '{"operator":"equals","value":{"left":"_experience.decisioning.decisionitem.itemName",'
    '"right":"Some offer item"}}'
)
STRUCTURED = {
    "operator": "equals",
    "value": {"left": "_experience.decisioning.decisionitem.itemName", "right": "Some offer item"},
}


def collection(ui_model: object) -> dict[str, object]:
    return {
        "name": "C",
        "constraints": [{"itemCatalogId": "cat", "uiModel": ui_model}],
    }


def test_adobe_s_ui_model_text_decodes_and_encodes_back_to_the_same_text() -> None:
    decoded = wire.decode(Kind.ITEM_COLLECTION, collection(ADOBE_UI_MODEL))
    assert decoded == collection(STRUCTURED)
    assert wire.encode(Kind.ITEM_COLLECTION, decoded) == collection(ADOBE_UI_MODEL)


def test_a_ui_model_text_spaced_otherwise_stays_text_so_a_test_asserts_it_exactly() -> None:
    spaced = '{"operator": "equals", "value": {"left": "a", "right": "b"}}'
    assert wire.decode(Kind.ITEM_COLLECTION, collection(spaced)) == collection(spaced)
    assert wire.decode(Kind.ITEM_COLLECTION, collection("not json")) == collection("not json")
    # A definition's text is structured however it is spaced: the file means the structure.
    assert wire.structure(Kind.ITEM_COLLECTION, collection(spaced)) == collection(
        {"operator": "equals", "value": {"left": "a", "right": "b"}}
    )


def test_a_ranking_formula_s_return_type_takes_live_s_case_only_where_it_is_the_same_value() -> (
    None
):
    live = {"name": "F", "returnType": {"type": "INTEGER"}}
    assert wire.decode(Kind.RANKING_FORMULA, live) == live  # read as the server holds it
    assert wire.align(Kind.RANKING_FORMULA, {"returnType": {"type": "integer"}}, live) == {
        "returnType": {"type": "INTEGER"}
    }
    assert wire.align(Kind.RANKING_FORMULA, {"returnType": {"type": "number"}}, live) == {
        "returnType": {"type": "number"}
    }
    assert wire.align(Kind.TAG, {"name": "t"}, {"name": "T"}) == {"name": "t"}


def test_operations_inside_an_encoded_field_become_one_test_and_one_write_of_the_field() -> None:
    live = collection(STRUCTURED)
    goal = collection({**STRUCTURED, "value": {**STRUCTURED["value"], "right": "Other"}})  # type: ignore[dict-item]
    sent = [
        {"op": "test", "path": "/name", "value": "C"},
        {"op": "test", "path": "/constraints/0/uiModel/value/right", "value": "Some offer item"},
        {"op": "test", "path": "/constraints/0/itemCatalogId", "value": "cat"},
        {"op": "replace", "path": "/constraints/0/uiModel/value/right", "value": "Other"},
        {"op": "replace", "path": "/name", "value": "D"},
    ]
    assert wire.encode_patch(Kind.ITEM_COLLECTION, sent, live, goal) == [
        {"op": "test", "path": "/name", "value": "C"},
        {
            "op": "test",
            "path": "/constraints",
            "value": [{"itemCatalogId": "cat", "uiModel": ADOBE_UI_MODEL}],
        },
        {
            "op": "replace",
            "path": "/constraints",
            "value": [
                {
                    "itemCatalogId": "cat",
                    "uiModel": ADOBE_UI_MODEL.replace("Some offer item", "Other"),
                }
            ],
        },
        {"op": "replace", "path": "/name", "value": "D"},
    ]


def test_other_kinds_patches_pass_unchanged() -> None:
    ops = [{"op": "replace", "path": "/constraints/0", "value": 1}]
    assert wire.encode_patch(Kind.DECISION, ops, {}, {}) == ops


def test_the_catalog_is_filled_where_a_file_leaves_it_out_and_left_out_on_import() -> None:
    item = {"_experience": {"decisioning": {"decisionitem": {"itemName": "I"}, "offeritem": {}}}}
    filled = kinds.with_catalog(Kind.DECISION_ITEM, item, "cat-1")
    assert filled == {
        "_experience": {
            "decisioning": {
                "decisionitem": {"itemName": "I", "itemCatalogID": "cat-1"},
                "offeritem": {},
            }
        }
    }
    assert kinds.with_catalog(Kind.ITEM_COLLECTION, collection({}), "cat-2") == collection({})
    assert kinds.with_catalog(
        Kind.ITEM_COLLECTION, {"constraints": [{"uiModel": {}}]}, "cat-2"
    ) == {"constraints": [{"uiModel": {}, "itemCatalogId": "cat-2"}]}
    live = {
        "_experience": {
            "decisioning": {
                "decisionitem": {"itemName": "I", "itemCatalogID": "cat-1", "itemID": "x"},
                "offeritem": {"fCapConstraintsLastIndex": 0, "lifecycleStatus": "draft"},
            }
        }
    }
    assert kinds.authored(Kind.DECISION_ITEM, live, "cat-1") == {
        "_experience": {
            "decisioning": {
                "decisionitem": {"itemName": "I"},
                "offeritem": {"lifecycleStatus": "draft"},
            }
        }
    }
    # Another sandbox's catalog id is kept: the file then names it on purpose.
    assert kinds.authored(Kind.DECISION_ITEM, live, "cat-9")["_experience"] == {
        "decisioning": {
            "decisionitem": {"itemName": "I", "itemCatalogID": "cat-1"},
            "offeritem": {"lifecycleStatus": "draft"},
        }
    }


def test_rules_of_both_models_share_a_collection_and_are_told_apart_by_exd_rule() -> None:
    legacy, exd = kinds.spec(Kind.DECISION_RULE), kinds.spec(Kind.ELIGIBILITY_RULE)
    assert kinds.sharing(Kind.DECISION_RULE) == (Kind.DECISION_RULE, Kind.ELIGIBILITY_RULE)
    assert (
        legacy.holds({}),
        legacy.holds({"exdRule": False}),
        legacy.holds({"exdRule": True}),
    ) == (
        True,
        True,
        False,
    )
    assert (exd.holds({}), exd.holds({"exdRule": "true"}), exd.holds({"exdRule": True})) == (
        False,
        False,
        True,
    )
