"""PQL: parsing (reconciler.pql) and offline evaluation (reconciler.pql_eval), as tables.

Page rows come from Adobe's PQL pages, `help/segmentation/pql/<page>` in the repository
AdobeDocs/experience-platform.en: each row carries its page, the example as the page writes it,
a profile built from the page's explanation (dotted keys, nested by `nest`), and the result that
explanation promises. KIRBY rows come from Adobe's earlier PQL specification
(AdobeAtAdobe/kirby_docs, unified_profile_pql.md), which spells out results and null handling;
AJO rows from Journey Optimizer's ranking-formula page (AdobeDocs/journey-optimizer.en,
help/using/offers/ranking/create-ranking-formulas.md); API rows from Adobe's Offer Library
examples kept in tests/adobe-examples/.
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Mapping
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler import pql, pql_eval
from reconciler.errors import ReconcilerError
from reconciler.model import JsonValue
from reconciler.pql_ast import Call, Literal
from reconciler.pql_ast import Path as PqlPath

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime.datetime(2024, 6, 10, 12, 0, tzinfo=datetime.UTC)  # a Monday, noon UTC

OVERVIEW = "overview.md"
CMP = "comparison-functions.md"
BOOL = "boolean-functions.md"
STR = "string-functions.md"
TIME = "datetime-functions.md"
ARRAY = "array-functions.md"
AGG = "aggregation-functions.md"
OBJ = "object-functions.md"
MAP = "map-functions.md"
MATH = "arithmetic-functions.md"
QUANT = "logical-quantifiers.md"
FILTER = "filter-functions.md"
MISC = "misc-functions.md"
KIRBY = "kirby_docs/unified_profile_pql.md"
AJO = "journey-optimizer.en/create-ranking-formulas.md"
API = "tests/adobe-examples"

Json = dict[str, JsonValue]


def nest(fields: Mapping[str, JsonValue]) -> Json:
    """`{"person.name": "Jo"}` -> `{"person": {"name": "Jo"}}`."""
    nested: Json = {}
    for dotted, value in fields.items():
        *parents, last = dotted.split(".")
        holder = nested
        for name in parents:
            child = holder.setdefault(name, {})
            assert isinstance(child, dict)
            holder = child
        holder[last] = value
    return nested


def run(
    text: str,
    profile: Mapping[str, JsonValue] | None = None,
    offer: Mapping[str, JsonValue] | None = None,
    audiences: frozenset[str] = frozenset(),
    context: Mapping[str, JsonValue] | None = None,
) -> pql_eval.Evaluation:
    scope = pql_eval.Scope(
        profile=nest(profile or {}),
        offer=None if offer is None else nest(offer),
        audiences=audiences,
        now=NOW,
        context=context or {},
    )
    return pql_eval.evaluate(pql.parse(text), scope)


def outcome(evaluation: pql_eval.Evaluation) -> tuple[object, str | None]:
    return (evaluation.value, evaluation.unknown)


CA = {"homeAddress.countryISO": "CA"}
US = {"homeAddress.countryISO": "US"}
SAME = {"homeAddress.stateProvince": "CA", "workAddress.stateProvince": "CA"}
OTHER = {"homeAddress.stateProvince": "CA", "workAddress.stateProvince": "NV"}
LAMBDA = "(Profile) => Profile.homeAddress.stateProvince = Profile.workAddress.stateProvince"
BETWEEN = "product.saleDate occurs between date(2015, 1, 8) and date(2017, 7, 1)"
IN_1990S = "person.birthday.getYear() in [1991, 1992, 1993, 1994, 1995]"
COLORS = '["red", "blue", "green"]'
SHARED = f"person1.favoriteColors.intersection(person2.favoriteColors) = {COLORS}"
MONTH_AGO = "X.timestamp occurs <= 1 month before today"

# page, PQL as the page writes it, the profile its explanation describes, the promised result
PAGE_EXAMPLES: list[tuple[str, str, Json, object]] = [
    (OVERVIEW, "homeAddress.stateProvince = workAddress.stateProvince", SAME, True),
    (OVERVIEW, "homeAddress.stateProvince = workAddress.stateProvince", OTHER, False),
    (OVERVIEW, "$1.homeAddress.stateProvince = $1.homeAddress.stateProvince", SAME, True),
    (OVERVIEW, LAMBDA, SAME, True),
    (OVERVIEW, LAMBDA, OTHER, False),
    (OVERVIEW, '"antidisestablishmentarianism"', {}, "antidisestablishmentarianism"),
    (OVERVIEW, "true", {}, True),
    (OVERVIEW, "-201", {}, -201),
    (OVERVIEW, "-51.24", {}, -51.24),
    (OVERVIEW, "0.6942058", {}, 0.6942058),
    (OVERVIEW, "date(2020, 3, 14)", {}, datetime.date(2020, 3, 14)),
    (OVERVIEW, "[1, 4, 7]", {}, [1, 4, 7]),
    (OVERVIEW, '["US", "CA"]', {}, ["US", "CA"]),
    (OVERVIEW, "X.timestamp occurs before today", {"X.timestamp": "2024-06-09T23:59:59Z"}, True),
    (OVERVIEW, "X.timestamp occurs before today", {"X.timestamp": "2024-06-10T00:00:00Z"}, False),
    (OVERVIEW, "X.timestamp occurs last month", {"X.timestamp": "2024-05-31T08:00:00Z"}, True),
    (OVERVIEW, "X.timestamp occurs last month", {"X.timestamp": "2024-06-01T08:00:00Z"}, False),
    (
        OVERVIEW,
        "X.timestamp occurs <= 3 days before now",
        {"X.timestamp": "2024-06-07T12:00Z"},
        True,
    ),
    (
        OVERVIEW,
        "X.timestamp occurs <= 3 days before now",
        {"X.timestamp": "2024-06-07T11:59Z"},
        False,
    ),
    (CMP, 'homeAddress.countryISO = "CA"', CA, True),
    (CMP, 'homeAddress.countryISO = "CA"', US, False),
    (CMP, 'homeAddress.countryISO != "CA"', US, True),
    (CMP, 'homeAddress.countryISO != "CA"', CA, False),
    (CMP, "person.birthMonth > 2", {"person.birthMonth": 3}, True),
    (CMP, "person.birthMonth > 2", {"person.birthMonth": 2}, False),
    (CMP, "person.birthMonth >= 3", {"person.birthMonth": 3}, True),
    (CMP, "person.birthMonth >= 3", {"person.birthMonth": 2}, False),
    (CMP, "person.birthMonth < 2", {"person.birthMonth": 1}, True),
    (CMP, "person.birthMonth < 2", {"person.birthMonth": 2}, False),
    (CMP, "person.birthMonth <= 2", {"person.birthMonth": 2}, True),
    (CMP, "person.birthMonth <= 2", {"person.birthMonth": 3}, False),
    (
        BOOL,
        'homeAddress.countryISO = "CA" and person.birthYear = 1985',
        {**CA, "person.birthYear": 1985},
        True,
    ),
    (
        BOOL,
        'homeAddress.countryISO = "CA" and person.birthYear = 1985',
        {**CA, "person.birthYear": 1990},
        False,
    ),
    (
        BOOL,
        'homeAddress.countryISO = "CA" or person.birthYear = 1985',
        {**US, "person.birthYear": 1985},
        True,
    ),
    (
        BOOL,
        'homeAddress.countryISO = "CA" or person.birthYear = 1985',
        {**US, "person.birthYear": 1990},
        False,
    ),
    (BOOL, 'not (homeAddress.countryISO = "CA")', US, True),
    (BOOL, 'not (homeAddress.countryISO = "CA")', CA, False),
    (BOOL, '!(homeAddress.countryISO = "CA")', CA, False),
    (BOOL, 'if (homeAddress.countryISO = "CA", 1, 2)', CA, 1),
    (BOOL, 'if (homeAddress.countryISO = "CA", 1, 2)', US, 2),
    (STR, 'city like "%es%"', {"city": "Los Angeles"}, True),
    (STR, 'city like "%es%"', {"city": "Boston"}, False),
    (STR, 'person.name.startsWith("Joe")', {"person.name": "Joe Bloggs"}, True),
    (STR, 'person.name.startsWith("Joe")', {"person.name": "joe bloggs"}, False),
    (STR, 'person.name.doesNotStartWith("Joe")', {"person.name": "Jim"}, True),
    (STR, 'person.name.doesNotStartWith("Joe")', {"person.name": "Joey"}, False),
    (STR, 'person.emailAddress.endsWith(".com")', {"person.emailAddress": "a@b.com"}, True),
    (STR, 'person.emailAddress.endsWith(".com")', {"person.emailAddress": "a@b.COM"}, False),
    (STR, 'person.emailAddress.doesNotEndWith(".com")', {"person.emailAddress": "a@b.fr"}, True),
    (STR, 'person.emailAddress.contains("2010@gm")', {"person.emailAddress": "j2010@gm.de"}, True),
    (STR, 'person.emailAddress.contains("2010@gm")', {"person.emailAddress": "j2011@gm.de"}, False),
    (
        STR,
        'person.emailAddress.doesNotContain("2010@gm")',
        {"person.emailAddress": "j@gm.de"},
        True,
    ),
    (STR, 'person.name.equals("John")', {"person.name": "John"}, True),
    (STR, 'person.name.equals("John")', {"person.name": "john"}, False),
    (STR, 'person.name.notEqualTo("John")', {"person.name": "john"}, True),
    (STR, 'person.name.notEqualTo("John")', {"person.name": "John"}, False),
    (STR, 'person.name.matches("(?i)^John")', {"person.name": "JOHN Smith"}, True),
    (STR, 'person.name.matches("(?i)^John")', {"person.name": "Mr John"}, False),
    (STR, 'emailAddress.regexGroup("@(\\\\w+)", 1)', {"emailAddress": "jo@example.com"}, "example"),
    (TIME, "person.birthMonth = currentMonth()", {"person.birthMonth": 6}, True),
    (TIME, "person.birthMonth = currentMonth()", {"person.birthMonth": 5}, False),
    (TIME, "person.birthdate.getMonth() = 6", {"person.birthdate": "1990-06-15"}, True),
    (TIME, "person.birthdate.getMonth() = 6", {"person.birthdate": "1990-07-15"}, False),
    (TIME, "product.saleYear = currentYear()", {"product.saleYear": 2024}, True),
    (TIME, IN_1990S, {"person.birthday": "1993-02-01"}, True),
    (TIME, IN_1990S, {"person.birthday": "1990-02-01"}, False),
    (TIME, "person.birthDay = currentDayOfMonth()", {"person.birthDay": 10}, True),
    (TIME, "product.sale.getDayOfMonth() <= 15", {"product.sale": "2024-05-15T23:00Z"}, True),
    (TIME, "product.sale.getDayOfMonth() <= 15", {"product.sale": "2024-05-16T01:00Z"}, False),
    (TIME, BETWEEN, {"product.saleDate": "2017-07-01T18:00:00Z"}, True),
    (TIME, BETWEEN, {"product.saleDate": "2015-01-07T18:00:00Z"}, False),
    (
        TIME,
        "product.saleDate occurs = 3 hours before now",
        {"product.saleDate": "2024-06-10T09:00Z"},
        True,
    ),
    (
        TIME,
        "product.saleDate occurs = 3 hours before now",
        {"product.saleDate": "2024-06-10T09:30Z"},
        False,
    ),
    (TIME, "person.birthday occurs = 3 days before today", {"person.birthday": "2024-06-07"}, True),
    (
        TIME,
        "person.birthday occurs = 3 days before today",
        {"person.birthday": "2024-06-08"},
        False,
    ),
    (TIME, "timestamp occurs on date(2019,12,31)", {"timestamp": "2019-12-31T23:59:00Z"}, True),
    (TIME, "timestamp occurs on date(2019,12,31)", {"timestamp": "2020-01-01T00:00:00Z"}, False),
    (ARRAY, "person.birthMonth in [3, 6, 9]", {"person.birthMonth": 6}, True),
    (ARRAY, "person.birthMonth in [3, 6, 9]", {"person.birthMonth": 7}, False),
    (ARRAY, "person.birthMonth notIn [3, 6, 9]", {"person.birthMonth": 7}, True),
    (ARRAY, "person.birthMonth notIn [3, 6, 9]", {"person.birthMonth": 6}, False),
    (ARRAY, "person.birthMonth notIn [3, 6, 9]", {}, False),  # "ensures ... not equal to null"
    (
        ARRAY,
        f"person.favoriteColors.intersects({COLORS})",
        {"person.favoriteColors": ["green"]},
        True,
    ),
    (
        ARRAY,
        f"person.favoriteColors.intersects({COLORS})",
        {"person.favoriteColors": ["black"]},
        False,
    ),
    (
        ARRAY,
        SHARED,
        {
            "person1.favoriteColors": ["red", "pink", "blue", "green"],
            "person2.favoriteColors": ["green", "red", "blue", "black"],
        },
        True,
    ),
    (
        ARRAY,
        "person.favoriteCities.subsetOf(person.visitedCities)",
        {"person.favoriteCities": ["Rome"], "person.visitedCities": ["Oslo", "Rome"]},
        True,
    ),
    (
        ARRAY,
        "person.favoriteCities.subsetOf(person.visitedCities)",
        {"person.favoriteCities": ["Lima"], "person.visitedCities": ["Oslo", "Rome"]},
        False,
    ),
    (
        ARRAY,
        'person.eatenFoods.supersetOf(["sushi", "pizza"])',
        {"person.eatenFoods": ["pizza", "pasta", "sushi"]},
        True,
    ),
    (
        ARRAY,
        'person.eatenFoods.supersetOf(["sushi", "pizza"])',
        {"person.eatenFoods": ["pizza"]},
        False,
    ),
    (
        ARRAY,
        'person.favoriteColors.includes("red")',
        {"person.favoriteColors": ["blue", "red"]},
        True,
    ),
    (ARRAY, 'person.favoriteColors.includes("red")', {"person.favoriteColors": ["blue"]}, False),
    (AGG, "orders.count()", {"orders": [{"price": 1}, {"price": 2}, {"price": 3}]}, 3),
    (OBJ, "person.homeAddress.isNull()", {"person.name": "Jo"}, True),
    (OBJ, "person.homeAddress.isNull()", {"person.homeAddress.city": "Oslo"}, False),
    (OBJ, "person.homeAddress.isNotNull()", {"person.homeAddress.city": "Oslo"}, True),
    (OBJ, "person.homeAddress.isNotNull()", {}, False),
    (
        MAP,
        'identityMap.get("example@example.com")',
        {"identityMap": {"example@example.com": [1]}},
        [1],
    ),
    (MAP, "identityMap.keys()", {"identityMap": {"email": [], "crmid": []}}, ["email", "crmid"]),
    (MAP, "identityMap.values()", {"identityMap": {"email": [1], "crmid": [2]}}, [[1], [2]]),
    (MATH, "product1.price + product2.price", {"product1.price": 10, "product2.price": 5.5}, 15.5),
    (
        MATH,
        "product.inventory * product.price",
        {"product.inventory": 4, "product.price": 2.5},
        10.0,
    ),
    (MATH, "product1.price - product2.price", {"product1.price": 10, "product2.price": 4}, 6),
    (
        MATH,
        "totalProduct.price / totalProduct.sold",
        {"totalProduct.price": 100.0, "totalProduct.sold": 8},
        12.5,
    ),
    (MATH, "person.age % 5 = 0", {"person.age": 40}, True),
    (MATH, "person.age % 5 = 0", {"person.age": 41}, False),
    (
        KIRBY,
        'workEmail.address.startsWith("joe")',
        {"workEmail.address": "JOE.lean@work.com"},
        False,
    ),
    (
        KIRBY,
        'workEmail.address.startsWith("joe", false)',
        {"workEmail.address": "JOE.l@w.com"},
        True,
    ),
    (
        KIRBY,
        'workEmail.address.doesNotStartWith("joe", false)',
        {"workEmail.address": "JOE@w.com"},
        False,
    ),
    (
        KIRBY,
        'workEmail.address.endsWith(".edu", true)',
        {"workEmail.address": "joe.lean@work.EDU"},
        False,
    ),
    (
        KIRBY,
        'workEmail.address.doesNotEndWith(".edu")',
        {"workEmail.address": "joe.lean@work.EDU"},
        True,
    ),
    (
        KIRBY,
        'workEmail.address.contains("yahoo", false)',
        {"workEmail.address": "joe@YAHOO.com"},
        True,
    ),
    (
        KIRBY,
        'workEmail.address.doesNotContain("yahoo")',
        {"workEmail.address": "joe@YAHOO.com"},
        True,
    ),
    (KIRBY, 'person.firstName.equals("John", false)', {"person.firstName": "Johnny"}, False),
    (KIRBY, 'person.firstName.equals("John", false)', {"person.firstName": "john"}, True),
    (KIRBY, 'person.firstName.notEqualTo("John", false)', {"person.firstName": "john"}, False),
    (KIRBY, 'person.firstName.notEqualTo("John", true)', {"person.firstName": "john"}, True),
    # "a property reference which turns out to be undefined ... false for both"
    (KIRBY, 'workEmail.address.contains("yahoo")', {}, False),
    (KIRBY, 'workEmail.address.doesNotContain("yahoo")', {}, False),
    # "between one month ago and the start of today"
    (KIRBY, MONTH_AGO, {"X.timestamp": "2024-05-10T00:00:00Z"}, True),
    (KIRBY, MONTH_AGO, {"X.timestamp": "2024-05-09T23:59:59Z"}, False),
    (KIRBY, MONTH_AGO, {"X.timestamp": "2024-06-10T08:00:00Z"}, False),
    (KIRBY, 'user.age > 35 and\nuser.state = "CA"', {"user.age": 36, "user.state": "CA"}, True),
]


@pytest.mark.parametrize(("page", "text", "profile", "expected"), PAGE_EXAMPLES)
def test_adobe_examples_give_the_result_their_page_explains(
    page: str, text: str, profile: Json, expected: object
) -> None:
    assert outcome(run(text, profile)) == (expected, None)


EXISTS = (
    'E from xEvent where (E.commerce.item.price > 50), I from E.productListItems where I.SKU = "PS"'
)
LET = (
    "let S = (sum X.commerce.order.priceTotal over X from xEvent"
    ' where X.commerce.order.currencyCode = "USD") in (S > 100 and S < 1000)'
)
FLIGHTS = (
    'countryISO = "US" and (select F1 from xEvent where F1.type = "FLIGHT", F2 from xEvent'
    ' where F2.type = "FLIGHT" and F1 != F2 and F2.ts_flight occurs <= 30 days after F1.ts_flight)'
)
EVENTS = "(event queries)"

# page, PQL as the page writes it, what the evaluator names as beyond the offline subset
PAGE_UNKNOWNS: list[tuple[str, str, str]] = [
    (
        TIME,
        "product.saleDate occurs last week",
        "a period of a week (where one starts is not documented)",
    ),
    # overview.md says array items are not reachable by a path; this example reaches them anyway
    (
        ARRAY,
        "person.orders.storeId.distinct().count() > 1",
        "a path through an array (profile.person.orders)",
    ),
    (ARRAY, "orders.groupBy(storeId)", 'function "groupBy"'),
    (ARRAY, "person.filter(age >= 21)", 'function "filter"'),
    (ARRAY, "numbers.map(square)", 'function "map"'),
    (ARRAY, "orders.topN(price, 5)", 'function "topN"'),
    (ARRAY, "orders.bottomN(price, 5)", 'function "bottomN"'),
    (ARRAY, "orders.topN(price, 5).head()", 'function "topN"'),
    (AGG, "orders.sum(order.price)", 'function "sum" with an expression per item'),
    (AGG, "orders.average(order.price)", 'function "average" with an expression per item'),
    (AGG, "orders.min(order.price)", 'function "min" with an expression per item'),
    (AGG, "orders.max(order.price)", 'function "max" with an expression per item'),
    (QUANT, f"exists {EXISTS}", f"exists … from xEvent {EVENTS}"),
    (QUANT, f"forall {EXISTS}", f"forall … from xEvent {EVENTS}"),
    (FILTER, 'xEvent[productListItems[SKU="PS"]]', "a filter [...] (filter-functions.md)"),
    (
        FILTER,
        'xEvent[productListItems[SKU="PS" or ^^.person.gender="female"]]',
        "a filter [...] (filter-functions.md)",
    ),
    (MISC, LET, f"sum … over … from xEvent {EVENTS}"),
    (
        KIRBY,
        '(select X from xEvent where X.type = "FLIGHT").count() > 1',
        f"select … from xEvent {EVENTS}",
    ),
    (KIRBY, FLIGHTS, f"select … from xEvent {EVENTS}"),
]


@pytest.mark.parametrize(("page", "text", "unknown"), PAGE_UNKNOWNS)
def test_adobe_examples_beyond_the_subset_are_unknown_and_named(
    page: str, text: str, unknown: str
) -> None:
    profile = {
        "countryISO": "US",
        "orders": [{"storeId": "s1"}],
        "person.orders": [{"storeId": "s1"}],
        "product.saleDate": "2024-06-05T10:00:00Z",
    }
    assert outcome(run(text, profile)) == (None, unknown)


SCHEMA = "_xdm.context.additionalParameters;version=1"
HOT = {SCHEMA: {"weather": "hot"}}
CITY = 'if( offer.characteristics.get("city") = homeAddress.city, offer.rank.priority * 2, offer.rank.priority)'
ENDING = (
    "if( offer.selectionConstraint.endDate occurs <= 24 hours after now,"
    " offer.rank.priority * 3, offer.rank.priority)"
)
BY_ID = (
    'if( offer._id = "xcore:personalized-offer:1", offer.rank.priority + 5, offer.rank.priority)'
)
AUDIENCE = (
    'if( segmentMembership.get("ups").get(offer.characteristics.get("prioritySegmentId")).status'
    ' in (["realized","existing"]), offer.rank.priority + 10, offer.rank.priority)'
)
WEATHER = (
    f'if (@{{{SCHEMA}}}.weather.isNotNull() and offer.characteristics.get("weather")'
    f"=@{{{SCHEMA}}}.weather, offer.rank.priority + 5, offer.rank.priority)"
)
BOOST = (
    f"if (@{{{SCHEMA}}}.weather.isNotNull() and offer.characteristics.weather=@{{{SCHEMA}}}.weather,"
    " offer.rank.priority * offer.characteristics.scoringBoost, offer.rank.priority)"
)
TAGGED = (
    "if(offer.rank.priority.isNotNull(), offer.rank.priority, 0)"
    " * if(offer.tags.intersects(boosted.tags), 2, 1)"
)
P10 = {"rank.priority": 10}

# page, formula, profile, offer, context, score
FORMULAS: list[tuple[str, str, Json, Json, Json, object]] = [
    (AJO, CITY, {"homeAddress.city": "Bondi"}, {"characteristics.city": "Bondi", **P10}, {}, 20),
    (AJO, CITY, {"homeAddress.city": "Manly"}, {"characteristics.city": "Bondi", **P10}, {}, 10),
    (AJO, ENDING, {}, {"selectionConstraint.endDate": "2024-06-10T17:00:00Z", **P10}, {}, 30),
    (AJO, ENDING, {}, {"selectionConstraint.endDate": "2024-06-11T18:00:00Z", **P10}, {}, 10),
    (AJO, BY_ID, {}, {"_id": "xcore:personalized-offer:1", **P10}, {}, 15),
    (
        AJO,
        AUDIENCE,
        {"segmentMembership.ups": {"seg-1": {"status": "existing"}}},
        {"characteristics.prioritySegmentId": "seg-1", **P10},
        {},
        20,
    ),
    (
        AJO,
        AUDIENCE,
        {"segmentMembership.ups": {"seg-1": {"status": "exited"}}},
        {"characteristics.prioritySegmentId": "seg-1", **P10},
        {},
        10,
    ),
    (AJO, WEATHER, {}, {"characteristics.weather": "hot", **P10}, HOT, 15),
    (AJO, WEATHER, {}, {"characteristics.weather": "hot", **P10}, {}, 10),
    (AJO, BOOST, {}, {"characteristics": {"weather": "hot", "scoringBoost": 3}, **P10}, HOT, 30),
    (API, TAGGED, {"boosted.tags": ["t2"]}, {"tags": ["t1", "t2"], **P10}, {}, 20),
    (API, TAGGED, {}, {"tags": ["t1"]}, {}, 0),
    (API, "42 = 11", {}, {}, {}, False),
    (API, "false", {}, {}, {}, False),
]


@pytest.mark.parametrize(("page", "text", "profile", "offer", "context", "score"), FORMULAS)
def test_ranking_formulas_score_offers_as_their_page_explains(
    page: str, text: str, profile: Json, offer: Json, context: Json, score: object
) -> None:
    assert outcome(run(text, profile, offer, context=context)) == (score, None)


SEGMENT = "849807b6-0a76-4895-96d9-89996477f23b"
SAN_JOSE = f'inSegment("{SEGMENT}") and billingAddress.city.equals("san jose", false)'

# PQL of Adobe's Offer Library examples (tests/adobe-examples/), profile, audiences, result
API_RULES: list[tuple[str, Json, frozenset[str], object]] = [
    (SAN_JOSE, {"billingAddress.city": "San Jose"}, frozenset({SEGMENT}), True),
    (SAN_JOSE, {"billingAddress.city": "San Jose"}, frozenset(), False),
    (
        'profile.person.name.firstName.equals("Joe", false)',
        {"person.name.firstName": "JOE"},
        frozenset(),
        True,
    ),
    (
        'personalEmail.address.equals("youz@adobe.com", false)',
        {"personalEmail.address": "YouZ@Adobe.com"},
        frozenset(),
        True,
    ),
    (
        "person.birthDate occurs after date(1981, 1, 1)",
        {"person.birthDate": "1981-01-02"},
        frozenset(),
        True,
    ),
    (
        "person.birthDate occurs after date(1981, 1, 1)",
        {"person.birthDate": "1981-01-01"},
        frozenset(),
        False,
    ),
]


@pytest.mark.parametrize(("text", "profile", "audiences", "expected"), API_RULES)
def test_the_offer_library_examples_evaluate(
    text: str, profile: Json, audiences: frozenset[str], expected: object
) -> None:
    assert outcome(run(text, profile, audiences=audiences)) == (expected, None)


NO_OFFER = "offer.rank.priority with no offer in scope (offers are read by ranking formulas)"

# file under offers/, profile, offer (formulas only), value, unknown
ESTATE: list[tuple[str, Json, Json | None, object, str | None]] = [
    ("rules/gold-members.yaml", {"loyalty.tier": "GOLD"}, None, True, None),
    ("rules/gold-members.yaml", {"loyalty.tier": "silver"}, None, False, None),
    ("rules/gold-members.yaml", {}, None, False, None),
    ("rules/californians.yaml", {"homeAddress.stateProvince": "NY"}, None, False, None),
    (
        "rules/californians.yaml",
        {"homeAddress.stateProvince": "ca"},
        None,
        None,
        f"select … from xEvent {EVENTS}",
    ),
    ("decisioning/rules/winter-shoppers.yaml", {"homeAddress.region": "North"}, None, True, None),
    (
        "decisioning/rules/winter-shoppers.yaml",
        {"homeAddress.region": "south", "preferences.category": "Outerwear"},
        None,
        True,
        None,
    ),
    (
        "decisioning/rules/winter-shoppers.yaml",
        {"homeAddress.region": "south", "preferences.category": "shoes"},
        None,
        False,
        None,
    ),
    ("formulas/loyalty-boost.yaml", {"loyalty.tier": "gold"}, {"rank.priority": 5}, 10, None),
    ("formulas/loyalty-boost.yaml", {}, {"rank.priority": 5}, 5, None),
    ("formulas/loyalty-boost.yaml", {}, None, None, NO_OFFER),
    (
        "decisioning/formulas/margin-first.yaml",
        {},
        {"_reconciler.margin": 4, "itemPriority": 2},
        42,
        None,
    ),
    ("decisioning/formulas/margin-first.yaml", {}, {"itemPriority": 2}, 2, None),
    (
        "decisioning/formulas/margin-first.yaml",
        {},
        {"_reconciler.margin": 0.5, "itemPriority": 1},
        6.0,
        None,
    ),
    ("decisioning/formulas/margin-first.yaml", {}, {"_reconciler.margin": 4}, None, None),
]

_PQL_VALUE = re.compile(r"format: pql/text\n\s*value: (.*)")


def estate_pql(name: str) -> str:
    (text,) = _PQL_VALUE.findall((ROOT / "offers" / name).read_text(encoding="utf-8"))
    return str(text)


@pytest.mark.parametrize(("name", "profile", "offer", "value", "unknown"), ESTATE)
def test_the_estate_rules_and_formulas_evaluate_against_concrete_profiles(
    name: str, profile: Json, offer: Json | None, value: object, unknown: str | None
) -> None:
    assert outcome(run(estate_pql(name), profile, offer)) == (value, unknown)


def every_pql_text() -> list[str]:
    """Every PQL text of the repository: offers/, the valid corpus, Adobe's API examples."""
    texts: list[str] = []
    for folder in (ROOT / "offers", ROOT / "tests" / "corpus" / "valid"):
        for path in sorted(folder.rglob("*.yaml")):
            texts += _PQL_VALUE.findall(path.read_text(encoding="utf-8"))

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if node.get("format") == "pql/text" and isinstance(node.get("value"), str):
                texts.append(node["value"])
            for item in node.values():
                walk(item)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    for path in sorted((ROOT / "tests" / "adobe-examples").rglob("*.json")):
        walk(json.loads(path.read_text(encoding="utf-8")))
    return sorted(set(texts))


def unparsable(text: str) -> str | None:
    try:
        pql.parse(text)
    except pql.PqlSyntaxError as error:
        return f"{text}: {error}"
    return None


def test_every_pql_text_in_the_repository_parses() -> None:
    texts = every_pql_text()
    assert len(texts) >= 10
    assert [problem for problem in map(unparsable, texts) if problem] == []


# text, message, offset, line, column
SYNTAX_ERRORS: list[tuple[str, str, int, int, int]] = [
    ('loyalty.tier.equals("gold", )', 'unexpected ")"; expected a value', 28, 1, 29),
    ("a = ", "unexpected end; expected a value", 3, 1, 4),
    ("if(a, b, c))", 'unexpected ")"; expected the end', 11, 1, 12),
    ("(a = 1", 'unexpected end; expected ")"', 6, 1, 7),
    ("a b", 'unexpected "b"; expected an operator or the end', 2, 1, 3),
    ("a orb", 'unexpected "orb"; expected an operator or the end', 2, 1, 3),
    ("a = b = c", 'unexpected "="; expected an operator or the end', 6, 1, 7),
    ("loyalty.", "unexpected end; expected a name", 8, 1, 9),
    ("[1, 2", 'unexpected end; expected "," or "]"', 5, 1, 6),
    ('x = "abc', "unterminated string: no closing quote", 4, 1, 5),
    ("x = 'abc'", 'unexpected "\'"; PQL strings are in double quotes', 4, 1, 5),
    ("x # 1", 'unexpected character "#"', 2, 1, 3),
    ("+3", 'unexpected "+"; expected a value', 0, 1, 1),
    ("", "empty rule; expected a value", 0, 1, 1),
    ("  \n ", "empty rule; expected a value", 4, 2, 2),
    ("if(a, b)", "if() takes 3 arguments, not 2", 0, 1, 1),
    ('x.equals("a", true, 1)', "equals() takes 1 to 2 arguments, not 3", 2, 1, 3),
    ("x.isNull(1)", "isNull() takes 0 arguments, not 1", 2, 1, 3),
    ("x occurs <= 1.5 days before now", '"1.5" is not a whole number of days', 12, 1, 13),
    ("x occurs < 3 days", 'unexpected end; expected "before", "after" or "from"', 17, 1, 18),
    ("x occurs < 3", "unexpected end; expected a time unit", 12, 1, 13),
    ("select X", 'unexpected end; expected "from"', 8, 1, 9),
    ("let S < 3 in S", 'unexpected "<"; expected "="', 6, 1, 7),
    # string-functions.md's older example; the page now says the backslash must be doubled
    (
        'emailAddress.regexGroup("@(\\w+)", 1)',
        'unknown escape "\\w" in a string; write "\\\\w"',
        27,
        1,
        28,
    ),
    ("a = 1 and\n  b = )", 'unexpected ")"; expected a value', 16, 2, 7),
    (
        'x.equals("gold")\nand\n(select v from xEvent where)',
        'unexpected ")"; expected a value',
        48,
        3,
        28,
    ),
]


@pytest.mark.parametrize(("text", "message", "offset", "line", "column"), SYNTAX_ERRORS)
def test_syntax_errors_say_what_and_where(
    text: str, message: str, offset: int, line: int, column: int
) -> None:
    with pytest.raises(pql.PqlSyntaxError) as caught:
        pql.parse(text)
    error = caught.value
    assert (error.message, error.offset, error.line, error.column, str(error)) == (
        message,
        offset,
        line,
        column,
        f"{line}:{column}: {message}",
    )
    assert isinstance(error, ReconcilerError)


# text, profile, what is named
UNKNOWNS: list[tuple[str, Json, str]] = [
    ("average(x)", {}, 'function "average"'),
    ("x.notIncludes(1)", {"x": [2]}, 'function "notIncludes"'),
    ("x.toUpperCase()", {"x": "a"}, 'function "toUpperCase"'),
    ("loyalty.points > 100", {"loyalty.points": "120"}, '">" between a string and a number'),
    ("loyalty.points = 100", {"loyalty.points": "100"}, '"=" between a string and a number'),
    ("x + 1", {"x": "a"}, '"+" on a string and a number'),
    ("not x", {"x": 3}, "a number where true or false is expected"),
    ("7 / 2", {}, "integer division 7 / 2 (whether it truncates is undocumented)"),
    ("x / 0", {"x": 1.5}, '"/" by zero'),
    ('x.contains("a")', {"x": ["a"]}, '"contains" on a list and a string'),
    (
        'x.matches("(")',
        {"x": "a"},
        "the regular expression '(' (missing ) at position 1)",
    ),
    (
        "x occurs before now",
        {"x": "next tuesday"},
        "'next tuesday', which is not an ISO 8601 timestamp",
    ),
    (
        "x occurs from now",
        {"x": "2024-06-01"},
        'occurs … from (the direction "from" is not documented)',
    ),
    (
        "x occurs <= 3 days from now",
        {"x": "2024-06-01"},
        'occurs … from (the direction "from" is not documented)',
    ),
    (
        "x occurs this decade",
        {"x": "2024-06-01"},
        "a period of a decade (where one starts is not documented)",
    ),
    ("date(2020, 2, 30)", {}, "date(2020, 2, 30), which is not a day of the calendar"),
    ("$2.x = 1", {}, "the parameter $2"),
    ("xEvent.count() > 1", {}, "xEvent (event queries)"),
    (
        "(select X from person.orders where X.total > 3)",
        {},
        "select … from an array (array queries)",
    ),
    ("x.y.z = 1", {"x.y": "text"}, 'field "z" of a value that is not an object (profile.x.y.z)'),
    ('x.regexGroup("a")', {"x": "a"}, '"regexGroup" without a group number'),
]


@pytest.mark.parametrize(("text", "profile", "unknown"), UNKNOWNS)
def test_constructs_outside_the_subset_are_unknown_never_guessed(
    text: str, profile: Json, unknown: str
) -> None:
    assert outcome(run(text, profile)) == (None, unknown)


# text, value, for a profile without x: comparisons with null are false, the rest is null
NULLS: list[tuple[str, object]] = [
    ("x = 1", False),
    ("x != 1", False),
    ("x < 1", False),
    ("x >= 1", False),
    ("x = null", False),
    ("x in [1, null]", False),
    ("x notIn [1]", False),
    ('x like "%"', False),
    ('x.equals("a")', False),
    ('x.notEqualTo("a")', False),
    ('x.startsWith("a")', False),
    ('x.doesNotStartWith("a")', False),
    ('x.matches(".*")', False),
    ("x occurs before now", False),
    ("x.intersects([1])", False),
    ("x.includes(1)", False),
    ("x.subsetOf([1])", False),
    ("not (x = 1)", True),
    ("x.isNull()", True),
    ("if(x, 1, 2)", 2),
    ("x and true", False),
    ("x or true", True),
    ("x + 1", None),
    ("-x", None),
    ("x.count()", 0),
    ("x.head()", None),
    ('x.get("a")', None),
    ("x.getYear()", None),
    ("[1, x]", [1, None]),
]


@pytest.mark.parametrize(("text", "value"), NULLS)
def test_missing_fields_are_null_and_comparisons_with_null_are_false(
    text: str, value: object
) -> None:
    assert outcome(run(text, {})) == (value, None)


def test_a_deciding_side_settles_and_or_even_when_the_other_is_unknown() -> None:
    query = '(select X from xEvent where X.type = "purchase")'
    texts = [
        f"false and {query}",
        f"{query} and false",
        f"true or {query}",
        f"{query} or true",
        f"true and {query}",
        f"{query} or false",
        f"not {query}",
    ]
    unknown = (None, f"select … from xEvent {EVENTS}")
    assert [outcome(run(text)) for text in texts] == [
        (False, None),
        (False, None),
        (True, None),
        (True, None),
        unknown,
        unknown,
        unknown,
    ]


CONTEXT: Json = {"channel": "web", "ctx;version=1": {"weather": "hot"}}

# text, profile, offer, the reads in first-read order (context: CONTEXT, audiences: silver)
READS: list[tuple[str, Json, Json | None, tuple[tuple[str, JsonValue], ...]]] = [
    (
        'loyalty.tier.equals("gold", false)',
        {"loyalty.tier": "silver"},
        None,
        (("profile.loyalty.tier", "silver"),),
    ),
    (
        'profile.loyalty.tier = "gold" or $1.loyalty.tier = "silver"',
        {"loyalty.tier": "silver"},
        None,
        (("profile.loyalty.tier", "silver"),),
    ),
    (
        "if(loyalty.tier.isNotNull(), offer.rank.priority * 2, offer.rank.priority)",
        {},
        {"rank.priority": 4},
        (("profile.loyalty.tier", None), ("offer.rank.priority", 4)),
    ),
    (
        'offer.characteristics.get("city") = homeAddress.city',
        {},
        {"characteristics.city": "Oslo"},
        (("offer.characteristics.city", "Oslo"), ("profile.homeAddress.city", None)),
    ),
    (
        'context.channel = "web" and @{ctx;version=1}.weather = "hot"',
        {},
        None,
        (("context.channel", "web"), ("@{ctx;version=1}.weather", "hot")),
    ),
    (
        'inSegment("gold") or inSegment("silver")',
        {},
        None,
        (('inSegment("gold")', False), ('inSegment("silver")', True)),
    ),
    ("a.b = 1 and c = 2", {"a.b": 2, "c": 2}, None, (("profile.a.b", 2),)),
    ("let S = x.y in S > 1 and S < 9", {"x.y": 5}, None, (("profile.x.y", 5),)),
    ("(P) => P.x.y > 1", {"x.y": 5}, None, (("profile.x.y", 5),)),
    (
        "person.tags.count() > 1",
        {"person.tags": ["a", "b"]},
        None,
        (("profile.person.tags", ["a", "b"]),),
    ),
]


@pytest.mark.parametrize(("text", "profile", "offer", "reads"), READS)
def test_reads_list_the_fields_read_in_first_read_order(
    text: str, profile: Json, offer: Json | None, reads: tuple[tuple[str, JsonValue], ...]
) -> None:
    assert run(text, profile, offer, frozenset({"silver"}), CONTEXT).reads == reads


def utc(*parts: int) -> datetime.datetime:
    return datetime.datetime(*parts, tzinfo=datetime.UTC)


# text, value (now: Monday 2024-06-10 12:00 UTC)
TIMES: list[tuple[str, object]] = [
    ("now", NOW),
    ("today", utc(2024, 6, 10)),
    ("yesterday", utc(2024, 6, 9)),
    ("tomorrow", utc(2024, 6, 11)),
    ('"2024-06-10T11:00:00Z" occurs today', True),
    ('"2024-06-09T11:00:00Z" occurs yesterday', True),
    ('"2024-06-10T11:00:00Z" occurs after yesterday', True),
    ('"2024-06-09T11:00:00Z" occurs after yesterday', False),
    ('"2024-06-10T12:00:01Z" occurs after now', True),
    ('"2024-06-10T12:00:00Z" occurs on now', True),
    ('"2024-06-10T10:00:00+02:00" occurs on now', False),
    ('"2024-06-10T14:00:00+02:00" occurs on now', True),
    ('"2024-06-01" occurs this month', True),
    ('"2023-12-31T23:59:59Z" occurs last year', True),
    ('"2024-06-10T13:30:00Z" occurs next hour', True),
    ('"2024-06-10T12:00:00Z" occurs between yesterday and now', True),
    ('"2024-06-10T12:00:01Z" occurs between yesterday and now', False),
    ('"2024-06-08T12:00:00Z" occurs < 2 days before now', False),
    ('"2024-06-08T12:00:01Z" occurs < 2 days before now', True),
    ('"2024-06-08T12:00:00Z" occurs > 2 days before now', False),
    ('"2024-06-08T11:59:59Z" occurs > 2 days before now', True),
    ('"2024-06-08T12:00:00Z" occurs >= 2 days before now', True),
    ('"2024-06-12T12:00:00Z" occurs < 2 days after now', False),
    ('"2024-06-12T12:00:00Z" occurs >= 2 days after now', True),
    ('"2024-06-10T11:00:00Z" occurs <= 2 days after now', False),
    ('"2024-06-10T12:00:00Z" occurs != 1 week before now', True),
    ('"2024-02-29T12:00:00Z" occurs = 1 month before "2024-03-31T12:00:00Z"', True),
    ('"2023-02-28" occurs = 1 year before "2024-02-29"', True),
    ('"2014-06-10T00:00:00Z" occurs = 1 decade before today', True),
    ('"2024-06-10T11:59:59.999Z" occurs = 1 millisecond before "2024-06-10T12:00:00Z"', True),
    ("date(2024, 6, 10) = today", True),
    ('"2024-06-10" = today', True),  # beside a timestamp, a string is read as ISO 8601
    ("x < now", False),
]


@pytest.mark.parametrize(("text", "value"), TIMES)
def test_time_words_periods_and_occurs_follow_the_calendar_in_utc(text: str, value: object) -> None:
    assert outcome(run(text)) == (value, None)


def test_truth_is_none_for_unknown_and_non_boolean_results_and_false_for_null() -> None:
    texts = ("n > 1", "n < 1", "missing", "n", "xEvent")
    assert [pql_eval.truth(run(text, {"n": 3})) for text in texts] == [
        True,
        False,
        False,
        None,
        None,
    ]


def test_parse_builds_an_immutable_tree_and_caches_it() -> None:
    tree = pql.parse('loyalty.tier.equals("gold", false)')
    assert tree == Call("equals", PqlPath(("loyalty", "tier")), (Literal("gold"), Literal(False)))
    assert pql.parse('loyalty.tier.equals("gold", false)') is tree
    with pytest.raises(AttributeError):
        tree.name = "contains"  # type: ignore[misc]


def test_a_scope_needs_a_timezone_aware_now() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        pql_eval.Scope(profile={}, now=datetime.datetime(2024, 1, 1))


def test_string_literals_take_json_escapes() -> None:
    assert pql.parse(r'"a\"b\\c\/d\n\u00e9"') == Literal('a"b\\c/d\né')


_WORDS = st.sampled_from(
    [
        *("a", "x.y", "1", "2.5", '"s"', "(", ")", "[", "]", ",", ".", "=", "!=", "<", ">="),
        *("+", "-", "*", "/", "%", "and", "or", "not", "!", "in", "notIn", "like", "occurs"),
        *("before", "after", "from", "between", "last", "week", "days", "now", "today", "select"),
        *("exists", "X", "where", ":", "let", "over", "sum", "if(", "equals(", "true", "null"),
        *("^", "@{s}", "$1", "=>", "date(", "\n", " "),
    ]
)


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(max_size=60), st.lists(_WORDS, max_size=25).map(" ".join)))
def test_parse_raises_only_pql_syntax_errors_and_evaluate_never_raises(text: str) -> None:
    try:
        expression = pql.parse(text)
    except pql.PqlSyntaxError as error:
        placed = (0 <= error.offset <= len(text), error.line >= 1, error.column >= 1)
    else:
        scope = pql_eval.Scope(profile={"a": 1, "x": {"y": "2024-01-01"}}, offer={}, now=NOW)
        evaluation = pql_eval.evaluate(expression, scope)
        placed = (evaluation.unknown is None or evaluation.value is None, True, True)
    assert placed == (True, True, True)
