"""List pages: filter, sort, keyset cursor and `_links`, cached per store version.

Sorting follows `orderby` (default `-modified`) with the id as a final tie-breaker, so the order
is total. `start` is the sort value of the previous page's last item and the next page holds
items strictly after it (reference §2.4). A page is extended past `limit` so that items sharing
the boundary sort value are never split across pages; only when such a tie would make the
page larger than MAX_LIMIT is it split, and then the cursor carries the id as well (`cursors`).
A collection that holds two kinds (/offer-rules: decision rules and eligibility rules) lists
both in one order unless a filter tells them apart (`property=exdRule==true`). The `_links`
hrefs echo every filter sent, so following `next` keeps it (Adobe's eligibility-rule and
ranking-formula list examples show a self href without the filter they were sent: read as a
doc slip). Filters the server adds (the catalog of an x-schema-id) are never echoed.
"""

from __future__ import annotations

import bisect
import json
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import quote, unquote_plus, urlencode

from reconciler.emulator import cursors, filters
from reconciler.emulator.problems import bad_request
from reconciler.emulator.records import Partition, Record
from reconciler.emulator.store import Store
from reconciler.model import JsonObject, JsonValue, Kind, name_path

DEFAULT_ORDER = "-modified"
DEFAULT_LIMIT = 50
MAX_LIMIT = 1000
_CACHE_SIZE = 32

Comparable = tuple[int, object]


class _Descending:
    """Inverts the order of a comparable, for `-field` sort keys."""

    __slots__ = ("key",)

    def __init__(self, key: Comparable) -> None:
        self.key = key

    def __lt__(self, other: _Descending) -> bool:
        return other.key < self.key

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Descending) and other.key == self.key

    __hash__ = None  # type: ignore[assignment]


@dataclass(frozen=True, slots=True)
class Query:
    """A parsed list request."""

    expressions: tuple[str, ...]
    orderby: tuple[tuple[tuple[str, ...], bool], ...]
    limit: int
    start: str | None

    @property
    def orderby_text(self) -> str:
        return ",".join(("-" if down else "") + ".".join(path) for path, down in self.orderby)


@dataclass(frozen=True, slots=True)
class Page:
    results: list[JsonObject]
    total: int
    next_start: str | None
    prev_start: str | None
    is_first: bool


@dataclass(frozen=True, slots=True)
class _Sorted:
    records: list[Record]
    keys: list[tuple[object, ...]]


def parse_query(raw_query: str) -> Query:
    """The list parameters of a raw query string; raises a 400 Problem on bad values."""
    pairs = [part.partition("=") for part in raw_query.split("&") if part]
    raw = [(unquote_plus(name), value) for name, _, value in pairs]
    expressions = tuple(
        e for name, value in raw if name == "property" for e in filters.split(value)
    )
    filters.parse(expressions)  # syntax errors are reported before anything is read
    params = [(name, unquote_plus(value)) for name, value in raw if name != "property"]
    orderby_values = [value for name, value in params if name in ("orderby", "orderBy")]
    fields = [f.strip() for value in orderby_values for f in value.split(",")] or [DEFAULT_ORDER]
    order = []
    for field in fields:
        descending = field.startswith("-")
        path = field.lstrip("+-")
        if not path or any(not part for part in path.split(".")):
            raise bad_request(f"orderby={','.join(fields)!r}: {field!r} is not a field path")
        order.append((tuple(path.split(".")), descending))
    limit_values = [value for name, value in params if name == "limit"]
    limit = DEFAULT_LIMIT
    if limit_values:
        text = limit_values[-1].strip()
        if not text.isdigit() or int(text) < 1:
            raise bad_request(f"limit={limit_values[-1]!r}: must be a whole number >= 1")
        limit = min(int(text), MAX_LIMIT)
    starts = [value for name, value in params if name == "start"]
    return Query(expressions, tuple(order), limit, starts[-1] if starts else None)


class Lister:
    """Pages through the kinds of one collection of one sandbox (both rule kinds share
    /offer-rules); sorted views are reused until the store changes."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._cache: OrderedDict[tuple[object, ...], _Sorted] = OrderedDict()

    def page(
        self,
        partition: Partition,
        kinds: tuple[Kind, ...],
        query: Query,
        scope: tuple[str, ...] = (),
    ) -> Page:
        """One page; `scope` are filter expressions the server adds (never echoed in links)."""
        view = self._sorted(partition, kinds, query, scope)
        width = len(query.orderby)
        begin = 0 if query.start is None else self._after(view, query, query.start)
        end = min(begin + query.limit, len(view.keys))
        split = False
        if begin < end < len(view.keys):
            boundary = view.keys[end - 1][:width]
            while end < len(view.keys) and view.keys[end][:width] == boundary:
                if end - begin >= MAX_LIMIT:
                    split = True
                    break
                end += 1
        results = [record.read() for record in view.records[begin:end]]
        following = None
        if end < len(view.keys):
            following = cursors.encode(
                _values(view.records[end - 1], query), view.records[end - 1].id if split else None
            )
        previous = None
        if begin > 0 and begin - query.limit > 0:
            anchor = view.records[begin - query.limit - 1]
            previous = cursors.encode(_values(anchor, query), anchor.id)
        return Page(results, len(view.keys), following, previous, begin == 0)

    def _sorted(
        self, partition: Partition, kinds: tuple[Kind, ...], query: Query, scope: tuple[str, ...]
    ) -> _Sorted:
        cache_key = (
            partition,
            kinds,
            tuple(self._store.version(partition, kind) for kind in kinds),
            query.expressions + scope,
            query.orderby,
        )
        cached = self._cache.get(cache_key)
        if cached is not None:
            self._cache.move_to_end(cache_key)
            return cached
        conditions = filters.parse(query.expressions + scope)
        candidates = [
            record for kind in kinds for record in self._candidates(partition, kind, conditions)
        ]
        records = [record for record in candidates if not conditions or _holds(conditions, record)]
        # Stable sorts from the last key to the first give the same order as comparing `keys`.
        records.sort(key=lambda record: record.id)
        for path, descending in reversed(query.orderby):
            records.sort(key=_sort_key(path), reverse=descending)
        view = _Sorted(
            records, [_key(_values(record, query), query, record.id) for record in records]
        )
        self._cache[cache_key] = view
        while len(self._cache) > _CACHE_SIZE:
            self._cache.popitem(last=False)
        return view

    def _candidates(
        self, partition: Partition, kind: Kind, conditions: Sequence[filters.Condition]
    ) -> Iterable[Record]:
        """The objects of a kind that may hold: the name index answers a filter on the name."""
        path = name_path(kind)
        by_name = next(
            (c.value for c in conditions if c.path == path and c.op == "==" and not c.negated),
            None,
        )
        if by_name is not None:
            return self._store.named(partition, kind, by_name)
        return self._store.objects(partition, kind).values()

    @staticmethod
    def _after(view: _Sorted, query: Query, start: str) -> int:
        """The index of the first item strictly after the cursor."""
        values, object_id = cursors.decode(start, len(query.orderby))
        if object_id is None:
            width = len(values)
            probe = _key(values, query, None)
            return bisect.bisect_right(view.keys, probe, key=lambda key: key[:width])
        return bisect.bisect_right(view.keys, _key(values, query, object_id))


def links(collection: str, query: Query, page: Page, offer_type: str | None) -> JsonObject:
    """`_links` with self, next (unless last page) and prev (unless first page), relative hrefs."""

    def href(start: str | None) -> JsonObject:
        params = [("orderby", query.orderby_text), ("limit", str(query.limit))]
        params += [("property", expression) for expression in query.expressions]
        if start is not None:
            params.append(("start", start))
        if offer_type is not None:
            params.append(("offer-type", offer_type.upper()))
        return {
            "href": f"{collection}?{urlencode(params, quote_via=quote, safe=':')}",
            "type": "application/json",
        }

    out: JsonObject = {"self": href(query.start)}
    if page.next_start is not None:
        out["next"] = href(page.next_start)
    if not page.is_first:
        out["prev"] = href(page.prev_start)
    return out


def _holds(conditions: Sequence[filters.Condition], record: Record) -> bool:
    shape = record.read()
    return all(condition.holds(shape) for condition in conditions)


def _value(record: Record, path: tuple[str, ...]) -> JsonValue:
    """The value at a dotted path of the read shape (envelope fields included), None if absent."""
    node: JsonValue | Mapping[str, JsonValue] = (
        record.read() if path[0] in _ENVELOPE else record.body
    )
    for part in path:
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node  # type: ignore[return-value]


_ENVELOPE = frozenset(
    {"created", "modified", "etag", "schemas", "createdBy", "lastModifiedBy", "id"}
)


def _sort_key(path: tuple[str, ...]) -> Callable[[Record], Comparable]:
    return lambda record: _comparable(_value(record, path))


def _values(record: Record, query: Query) -> list[JsonValue]:
    return [_value(record, path) for path, _ in query.orderby]


def _comparable(value: JsonValue) -> Comparable:
    """A total order across JSON types: absent/null, booleans, numbers, strings, then structures."""
    if value is None:
        return (0, 0)
    if isinstance(value, bool):
        return (1, int(value))
    if isinstance(value, int | float):
        return (2, value)
    if isinstance(value, str):
        return (3, value)
    return (4, json.dumps(value, sort_keys=True))


def _key(values: Sequence[JsonValue], query: Query, object_id: str | None) -> tuple[object, ...]:
    """The comparable form of sort values (and optionally the id tie-breaker)."""
    parts: list[object] = []
    for value, (_, descending) in zip(values, query.orderby, strict=True):
        comparable = _comparable(value)
        parts.append(_Descending(comparable) if descending else comparable)
    if object_id is not None:
        parts.append(object_id)
    return tuple(parts)
