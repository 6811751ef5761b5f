"""Lists: every property operator, orderby, limit, keyset paging without skips or repeats, links."""

from __future__ import annotations

import itertools
from typing import Any
from urllib.parse import quote

import pytest
from emulator_support import EPOCH, Clock, Session, offer, placement, session

from reconciler.emulator.settings import DEFAULT_LIMITS, EmulatorSettings

pytestmark = pytest.mark.anyio

EMAIL = "https://ns.adobe.com/xdm/channel-types/email"
PLACEMENTS: dict[str, dict[str, Any]] = {
    "A": placement("Alpha", itemCount=1, description="first"),
    "B": placement(
        "beta", itemCount=3, channel=EMAIL, componentType="text", allowDuplicatePlacements=True
    ),
    "C": placement("Gamma", itemCount=2, componentType="json"),
    "D": placement(
        "Delta 10",
        itemCount=10,
        channel=EMAIL,
        componentType="imagelink",
        returnMetaData={"offerName": True},
    ),
    "E": placement("epsilon"),
}


async def _placements(emu: Session, clock: Clock) -> dict[str, str]:
    """A..E created one second apart (A first); returns letter -> id and id -> letter."""
    names: dict[str, str] = {}
    for second, (letter, body) in enumerate(PLACEMENTS.items()):
        clock.now = EPOCH + second
        object_id = await emu.create("/placements", body)
        names[letter], names[object_id] = object_id, letter
    return names


async def _letters(emu: Session, names: dict[str, str], params: list[tuple[str, str]]) -> list[str]:
    # Written as a person writes the URL: everything encoded except the commas joining filters.
    query = "&".join(f"{name}={quote(value, safe=',')}" for name, value in params)
    response = await emu.http.get(f"/data/core/dps/placements?{query}", headers=emu.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["count"] == len(body["results"]) == body["total"]
    return [names[item["id"]] for item in body["results"]]


@pytest.mark.parametrize(
    ("expressions", "expected"),
    [
        ([], ["E", "D", "C", "B", "A"]),
        (["name==Alpha"], ["A"]),
        (["name==alpha"], []),
        (["name!=Alpha"], ["E", "D", "C", "B"]),
        (["itemCount>2"], ["D", "B"]),
        (["itemCount>=2"], ["D", "C", "B"]),
        (["itemCount<2"], ["A"]),
        (["itemCount<=2"], ["C", "A"]),
        (["itemCount==10"], ["D"]),
        (["itemCount==10.0"], ["D"]),
        (["itemCount==ten"], []),
        (["name~alpha"], ["A"]),
        (["name~.*TA.*"], ["D", "B"]),
        (["name~e"], []),
        (["name~(alpha|gamma)"], ["C", "A"]),
        (["description"], ["A"]),
        (["!description"], ["E", "D", "C", "B"]),
        (["!name~.*a"], ["E", "D"]),
        (["returnMetaData.offerName==true"], ["D"]),
        (["returnMetaData"], ["D"]),
        (["allowDuplicatePlacements==true"], ["B"]),
        (["allowDuplicatePlacements!=true"], ["E", "D", "C", "A"]),
        ([f"channel=={EMAIL}"], ["D", "B"]),
        (["channel~.*email,itemCount>5"], ["D"]),
        (["componentType==html", "itemCount"], ["A"]),
        (["name!=Alpha,name!=beta", "!description"], ["E", "D", "C"]),
        (["modified>=2027-01-15T08:00:02.000Z"], ["E", "D", "C"]),
        (["modified<=2027-01-15T09:00:01+01:00"], ["B", "A"]),
        (["modified<2027-01-15T09:00:01+01:00"], ["A"]),
        (["created>2027-01-15T08:00:03.000Z"], ["E"]),
        (["etag==1"], ["E", "D", "C", "B", "A"]),
        (["lastModifiedBy==tester@techacct.adobe.com"], ["E", "D", "C", "B", "A"]),
        (["schemas~.*offer-placement.*"], ["E", "D", "C", "B", "A"]),
    ],
)
async def test_every_property_operator(expressions: list[str], expected: list[str]) -> None:
    clock = Clock()
    async with session(clock=clock) as emu:
        names = await _placements(emu, clock)
        assert await _letters(emu, names, [("property", e) for e in expressions]) == expected


async def test_filter_values_are_url_decoded_and_an_id_is_filterable() -> None:
    clock = Clock()
    async with session(clock=clock) as emu:
        names = await _placements(emu, clock)
        raw = await emu.http.get(
            "/data/core/dps/placements?property=itemCount%3E%3D3&property=name%7E.%2Ata.%2A",
            headers=emu.headers,
        )
        assert [names[item["id"]] for item in raw.json()["results"]] == ["D", "B"]
        assert await _letters(emu, names, [("property", f"id=={names['C']}")]) == ["C"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("property=name%3D%3DSale%2Csummer", ["Sale,summer"]),
        ("property=name==Sale,summer", []),  # a literal comma joins two filters
        ("property=name==Sale, summer", ["Sale, summer"]),  # unless no filter starts after it
        ("property=name~Sale.{0,3}", ["Sale"]),
        ("property=name~Sale.{0,9}&property=name!=Sale", ["Sale,summer", "Sale, summer"]),
    ],
)
async def test_only_literal_commas_that_start_a_filter_join_filters(
    query: str, expected: list[str]
) -> None:
    clock = Clock()
    async with session(clock=clock) as emu:
        for name in ("Sale", "Sale,summer", "Sale, summer"):
            clock.now += 1
            await emu.create("/tags", {"name": name})
        response = await emu.http.get(
            f"/data/core/dps/tags?{query}&orderby=created", headers=emu.headers
        )
        assert [item["name"] for item in response.json()["results"]] == expected


async def test_the_client_library_encodes_commas_inside_values() -> None:
    async with session() as emu:
        tag = await emu.create("/tags", {"name": "Sale,summer"})
        listed = await emu.get("/tags", property="name==Sale,summer")
        assert [item["id"] for item in listed["results"]] == [tag]


@pytest.mark.parametrize(
    ("params", "detail"),
    [
        (
            [("property", "name=Alpha")],
            "property='name=Alpha' is not a filter: use [!]field[op]value with op in ==,!=,<=,>=,<,>,~",
        ),
        (
            [("property", "==Alpha")],
            "property='==Alpha' is not a filter: use [!]field[op]value with op in ==,!=,<=,>=,<,>,~",
        ),
        (
            [("property", "name~(")],
            "property='name~(': not a regular expression: missing ), unterminated subpattern at position 0",
        ),
        ([("limit", "0")], "limit='0': must be a whole number >= 1"),
        ([("limit", "ten")], "limit='ten': must be a whole number >= 1"),
        ([("orderby", "name,,-modified")], "orderby='name,,-modified': '' is not a field path"),
        ([("orderby", "a..b")], "orderby='a..b': 'a..b' is not a field path"),
        (
            [("orderby", "name,id"), ("start", "Alpha")],
            "start='Alpha' does not fit orderby: it needs 2 values",
        ),
        ([("start", "[1, 2]")], "start='[1, 2]' does not fit orderby: it needs 1 values"),
        ([("start", "{bad")], "start='{bad' is not a cursor from a next link"),
    ],
)
async def test_bad_list_parameters_are_400(params: list[tuple[str, str]], detail: str) -> None:
    async with session() as emu:
        response = await emu.call("GET", "/placements", params=params)
        assert (response.status_code, response.json()["detail"]) == (400, detail)


@pytest.mark.parametrize(
    ("orderby", "expected"),
    [
        (None, ["E", "D", "C", "B", "A"]),
        ("modified", ["A", "B", "C", "D", "E"]),
        ("name", ["A", "D", "C", "B", "E"]),
        ("-name", ["E", "B", "C", "D", "A"]),
        ("itemCount", ["E", "A", "C", "B", "D"]),
        ("-itemCount", ["D", "B", "C", "A", "E"]),
        ("channel,-itemCount", ["D", "B", "C", "A", "E"]),
        ("-channel,itemCount", ["E", "A", "C", "B", "D"]),
        ("returnMetaData.offerName", ["A", "B", "C", "E", "D"]),
        ("-returnMetaData.offerName,+name", ["D", "A", "C", "B", "E"]),
    ],
)
async def test_orderby_sorts_by_dotted_paths_both_ways(
    orderby: str | None, expected: list[str]
) -> None:
    clock = Clock()
    async with session(clock=clock) as emu:
        names = await _placements(emu, clock)
        params = [("orderby", orderby)] if orderby else []
        assert await _letters(emu, names, params) == expected
        # The same order holds when paging one item at a time through the cursors.
        seen: list[str] = []
        page = (await emu.call("GET", "/placements", params=[*params, ("limit", "1")])).json()
        while True:
            seen += [names[item["id"]] for item in page["results"]]
            if "next" not in page["_links"]:
                break
            page = (
                await emu.http.get(
                    "/data/core/dps" + page["_links"]["next"]["href"], headers=emu.headers
                )
            ).json()
        assert seen == expected


async def _page_through(emu: Session, first: str) -> list[dict[str, Any]]:
    pages = []
    href: str | None = first
    while href is not None:
        response = await emu.http.get("/data/core/dps" + href, headers=emu.headers)
        assert response.status_code == 200, response.text
        pages.append(response.json())
        href = pages[-1]["_links"].get("next", {}).get("href")
    return pages


async def test_paging_with_ties_in_modified_never_skips_or_repeats() -> None:
    clock = Clock()
    async with session(clock=clock) as emu:
        created = []
        for index in range(126):
            clock.now = EPOCH + index // 4  # four objects share each `modified`
            created.append(await emu.create("/tags", {"name": f"tag-{index:03d}"}))
        pages = await _page_through(emu, "/tags?limit=7")
        items = [item for page in pages for item in page["results"]]
        ids = [item["id"] for item in items]
        assert sorted(ids) == sorted(created)
        assert len(set(ids)) == 126
        newest_first = sorted(created, key=lambda i: (-(created.index(i) // 4), i))
        assert ids == newest_first
        for page, following in itertools.pairwise(pages):
            assert page["results"][-1]["modified"] != following["results"][0]["modified"]
        assert [page["count"] for page in pages] == [len(page["results"]) for page in pages]
        assert all(page["total"] == 126 for page in pages)
        assert all(7 <= page["count"] <= 10 for page in pages[:-1])
        filtered = await _page_through(emu, "/tags?limit=7&property=name~tag-0%5B0-4%5D.*")
        assert [page["total"] for page in filtered] == [50] * len(filtered)
        assert sum(page["count"] for page in filtered) == 50


async def test_a_tie_larger_than_the_page_cap_is_split_by_id() -> None:
    limits = {**DEFAULT_LIMITS, "tags": 2000}
    async with session(settings=EmulatorSettings(limits=limits)) as emu:
        created = {await emu.create("/tags", {"name": f"t{index}"}) for index in range(1003)}
        pages = await _page_through(emu, "/tags?limit=1000")
        assert [page["count"] for page in pages] == [1000, 3]
        assert {item["id"] for page in pages for item in page["results"]} == created
        assert '"id"' in pages[0]["_links"]["next"]["href"].replace("%22", '"')


async def test_links_are_relative_and_carry_every_parameter() -> None:
    clock = Clock()
    async with session(clock=clock) as emu:
        names = await _placements(emu, clock)
        first = await emu.get("/placements", limit="2")
        assert first["_links"] == {
            "self": {"href": "/placements?orderby=-modified&limit=2", "type": "application/json"},
            "next": {
                "href": "/placements?orderby=-modified&limit=2&start=2027-01-15T08:00:03.000Z",
                "type": "application/json",
            },
        }
        second = await emu.get("/placements", limit="2", start="2027-01-15T08:00:03.000Z")
        assert [names[item["id"]] for item in second["results"]] == ["C", "B"]
        assert second["_links"]["prev"] == {
            "href": "/placements?orderby=-modified&limit=2",
            "type": "application/json",
        }
        third = await emu.get("/placements", limit="2", start="2027-01-15T08:00:01.000Z")
        assert [names[item["id"]] for item in third["results"]] == ["A"]
        assert "next" not in third["_links"]
        back = await emu.http.get(
            "/data/core/dps" + third["_links"]["prev"]["href"], headers=emu.headers
        )
        assert [names[item["id"]] for item in back.json()["results"]] == ["C", "B"]
        assert (await emu.get("/placements"))["_links"] == {
            "self": {"href": "/placements?orderby=-modified&limit=50", "type": "application/json"}
        }
        capped = await emu.get("/placements", limit="5000", property="name==Alpha")
        assert (
            capped["_links"]["self"]["href"]
            == "/placements?orderby=-modified&limit=1000&property=name%3D%3DAlpha"
        )


async def test_offer_links_echo_the_offer_type() -> None:
    async with session() as emu:
        placement_id = await emu.create("/placements", placement())
        for index in range(3):
            await emu.create("/offers?offer-type=personalized", offer(placement_id, f"o{index}"))
        page = await emu.get(
            "/offers", **{"offer-type": "personalized", "limit": "2", "orderby": "name"}
        )
        assert page["_links"] == {
            "self": {
                "href": "/offers?orderby=name&limit=2&offer-type=PERSONALIZED",
                "type": "application/json",
            },
            "next": {
                "href": "/offers?orderby=name&limit=2&start=o1&offer-type=PERSONALIZED",
                "type": "application/json",
            },
        }
        rest = await emu.http.get(
            "/data/core/dps" + page["_links"]["next"]["href"], headers=emu.headers
        )
        assert [item["name"] for item in rest.json()["results"]] == ["o2"]


async def test_paging_through_ten_thousand_offers_lists_each_once() -> None:
    clock = Clock()
    async with session(clock=clock) as emu:
        placement_id = await emu.create("/placements", placement())
        body = offer(placement_id)
        for index in range(10_000):
            clock.now = EPOCH + index * 0.002
            await emu.call(
                "POST", "/offers?offer-type=personalized", json={**body, "name": f"offer {index}"}
            )
        pages = await _page_through(emu, "/offers?limit=100&offer-type=personalized")
        ids = [item["id"] for page in pages for item in page["results"]]
        assert len(ids) == len(set(ids)) == 10_000
        assert len(pages) == 100
        assert all(page["total"] == 10_000 for page in pages)
