"""The Decisioning API (`POST /data/core/ods/decisions`), decided by reconciler's own simulator.

The emulator shares the evaluator with `reconciler simulate`: a request turns the sandbox's
stored objects into the simulator's form (each object's id is its key, each reference field a
reference to that id) and calls `reconciler.simulation.simulate` at the server's clock, to the
millisecond of the answer's `ode:createDate`. So the emulator answers what the simulator says;
what it adds is Adobe's request and response shapes, its errors and its profile store:

- **Profiles.** The emulator has no Profile service: profiles are seeded by identity
  (`reconciler.emulator.profiles`), and a request's identities are looked up primary first.
  Adobe's page says nothing of a profile it does not know: the emulator proposes only each
  decision's fallback.
- **What is served.** Only live decisions (422 otherwise, as for an unknown activity or
  placement id, or a placement the decision does not serve). Dates are the simulator's: a
  decision outside its own dates is served as if active, its offers' dates still apply.
- **One proposition per proposition request**, for the placement it names (Adobe's example
  answers two, with other ids: the emulator answers what is asked). A placement with neither an
  offer nor a fallback that represents it gets no proposition (the page: a proposition always
  has options or a fallback). `xdm:itemCount` replaces the placement's item count;
  `xdm:acrossPlacements: false` deduplicates across the requested placements as a placement's
  `allowDuplicatePlacements: false` does (true leaves the placements' own settings);
  `xdm:acrossActivities: false` removes the options an earlier activity proposed from the later
  ones' candidates. Only the requested placements are served (one not requested takes nothing).
- **Content.** With `xdm:includeContent`, each option carries its representation's first
  component: `@type` (Adobe's content-component URIs), `xdm:content` (an image link's link URL),
  `xdm:deliveryURL`, `dc:format`. Metadata names are checked, not shown (the page's answer to
  its own request for names shows none); `xdm:score` is never shown.
"""

from __future__ import annotations

import datetime
import json
import uuid
from collections.abc import Callable, Mapping, Sequence

from starlette.responses import Response

from reconciler import graph
from reconciler.eligibility import Profile
from reconciler.emulator.decisionrequest import RESPONSE_TYPE, DecisionRequest, check_headers
from reconciler.emulator.decisionrequest import parse as parse_request
from reconciler.emulator.gateway import Caller
from reconciler.emulator.problems import bad_request, invalid
from reconciler.emulator.profiles import Profiles
from reconciler.emulator.records import Record
from reconciler.emulator.store import Store
from reconciler.estate import Estate, index
from reconciler.model import Desired, JsonObject, JsonValue, Key, Kind, Ref
from reconciler.simulation import Placed, simulate

PATH = "/data/core/ods/decisions"

_LEGACY = (
    Kind.TAG,
    Kind.PLACEMENT,
    Kind.DECISION_RULE,
    Kind.PERSONALIZED_OFFER,
    Kind.FALLBACK_OFFER,
    Kind.COLLECTION,
    Kind.DECISION,
    Kind.RANKING_FORMULA,
)
_COMPONENT = "https://ns.adobe.com/experience/decisioning/content-component-"
_TYPES = {
    "html": _COMPONENT + "html-template",
    "text": _COMPONENT + "text",
    "component-text": _COMPONENT + "text",
    "imagelink": _COMPONENT + "imagelink",
    "json": _COMPONENT + "json",
}
"""A component's DPS type as the Decisioning API's `@type` (html as Adobe's example shows it)."""


def answer(
    headers: Mapping[str, str],
    raw: bytes,
    caller: Caller,
    store: Store,
    profiles: Profiles,
    clock: Callable[[], float],
) -> Response:
    """The Decisioning API's answer to one request; raises a Problem for a refused one."""
    check_headers(headers)
    asked = parse_request(read_json(raw))
    store.refresh()
    millis = int(clock() * 1000)
    at = datetime.datetime.fromtimestamp(millis / 1000, datetime.UTC)
    records = _records(store, caller)
    _check_ids(asked, records, caller)
    profile = profiles.find(caller.partition, asked.identities())
    served = _decide(asked, records, profile, at)
    content = asked.response_format is not None and asked.response_format.include_content
    propositions: list[JsonValue] = []
    for wanted in asked.propositions:
        placed = served[(wanted.activity_id, wanted.placement_id)]
        proposition = _proposition(records, wanted.activity_id, placed, content)
        if proposition is not None:
            propositions.append(proposition)
    document: JsonObject = {
        "xdm:propositionId": str(uuid.uuid4()),
        "xdm:propositions": propositions,
        "ode:createDate": millis,
    }
    if asked.profile.decision_request_id is not None:
        document["xdm:decisionRequestId"] = asked.profile.decision_request_id
    return Response(json.dumps(document, ensure_ascii=False), 200, media_type=RESPONSE_TYPE)


def read_json(raw: bytes) -> JsonValue:
    """A request body as JSON, or a 400 saying why it is not."""
    try:
        value: JsonValue = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise bad_request("the request body is not UTF-8 text") from None
    except json.JSONDecodeError as error:
        raise bad_request(
            f"the request body is not valid JSON: {error.msg} (line {error.lineno}, "
            f"column {error.colno})"
        ) from None
    return value


# --- evaluation -------------------------------------------------------------------------------


def _records(store: Store, caller: Caller) -> dict[str, Record]:
    return {
        record.id: record
        for kind in _LEGACY
        for record in store.objects(caller.partition, kind).values()
    }


def _check_ids(asked: DecisionRequest, records: Mapping[str, Record], caller: Caller) -> None:
    for index_, wanted in enumerate(asked.propositions):
        where = f"/xdm:propositionRequests/{index_}"
        activity = records.get(wanted.activity_id)
        if activity is None or activity.kind is not Kind.DECISION:
            raise invalid(
                f"{where}/xdm:activityId: no decision {wanted.activity_id} in sandbox "
                f"{caller.sandbox}"
            )
        placement = records.get(wanted.placement_id)
        if placement is None or placement.kind is not Kind.PLACEMENT:
            raise invalid(
                f"{where}/xdm:placementId: no placement {wanted.placement_id} in sandbox "
                f"{caller.sandbox}"
            )
        if activity.body.get("status") != "live":
            raise invalid(
                f"{where}/xdm:activityId: the decision {activity.id} is "
                f"{activity.body.get('status')}: only live decisions are served"
            )
        if wanted.placement_id not in _scopes(activity.body):
            raise invalid(
                f"{where}/xdm:placementId: the decision {activity.id} has no criterion for "
                f"placement {wanted.placement_id}"
            )
    counts: dict[str, int] = {}
    for wanted in asked.propositions:
        count = wanted.item_count
        if count is not None and counts.setdefault(wanted.placement_id, count) != count:
            raise bad_request(
                f"placement {wanted.placement_id} is requested with two xdm:itemCount values"
            )


def _decide(
    asked: DecisionRequest,
    records: Mapping[str, Record],
    profile: Profile | None,
    at: datetime.datetime,
) -> dict[tuple[str, str], Placed]:
    """Each requested (activity, placement)'s outcome, activities in the order first asked."""
    duplicates = asked.duplicates
    across_placements = duplicates is None or duplicates.across_placements
    across_activities = duplicates is None or duplicates.across_activities
    counts = {w.placement_id: w.item_count for w in asked.propositions if w.item_count}
    activities = list(dict.fromkeys(w.activity_id for w in asked.propositions))
    served: dict[tuple[str, str], Placed] = {}
    taken: set[Key] = set()
    for activity in activities:
        placements = [w.placement_id for w in asked.propositions if w.activity_id == activity]
        if profile is None:
            for placement in placements:
                served[(activity, placement)] = _fallback_only(records, activity, placement)
            continue
        estate = _estate(records, activity, placements, counts, unique=not across_placements)
        if taken:
            estate = Estate(
                estate.objects,
                {
                    key: tuple(m for m in members if m.key not in taken)
                    for key, members in estate.members.items()
                },
            )
        simulation = simulate(estate, Key(activity), profile, at)
        for placement in placements:
            placed = simulation.placed(Key(placement))
            served[(activity, placement)] = placed or Placed(Key(placement), (), False, ())
            if not across_activities and placed is not None and not placed.fallback:
                taken.update(placed.offers)
    return served


def _estate(
    records: Mapping[str, Record],
    activity: str,
    placements: Sequence[str],
    counts: Mapping[str, int],
    *,
    unique: bool,
) -> Estate:
    """The sandbox as the simulator reads it, ids as keys; the activity serves only the
    requested placements, with the request's item counts and deduplication."""
    keys = {object_id: Key(object_id) for object_id in records}
    objects: list[Desired] = []
    for record in records.values():
        body = graph.unresolve(record.kind, record.body, keys)
        if record.id == activity:
            body = _only(body, frozenset(placements))
        elif record.kind is Kind.PLACEMENT and record.id in placements:
            if record.id in counts:
                body = {**body, "itemCount": counts[record.id]}
            if unique:
                body = {**body, "allowDuplicatePlacements": False}
        objects.append(Desired(Key(record.id), record.kind, body))
    return index(objects)


def _only(body: Mapping[str, JsonValue], placements: frozenset[str]) -> dict[str, JsonValue]:
    criteria: list[JsonValue] = []
    for criterion in _list(body.get("criteria")):
        if not isinstance(criterion, dict):
            continue
        kept: list[JsonValue] = [
            ref
            for ref in _list(criterion.get("placements"))
            if isinstance(ref, Ref) and ref.key in placements
        ]
        if kept:
            criteria.append({**criterion, "placements": kept})
    return {**body, "criteria": criteria}


def _fallback_only(records: Mapping[str, Record], activity: str, placement: str) -> Placed:
    fallback = records[activity].body.get("fallback")
    found = records.get(fallback) if isinstance(fallback, str) else None
    if found is not None and _representation(found, placement) is not None:
        return Placed(Key(placement), (Key(found.id),), True, ())
    return Placed(Key(placement), (), False, ())


# --- the answer -----------------------------------------------------------------------------


def _proposition(
    records: Mapping[str, Record], activity: str, placed: Placed, content: bool
) -> JsonObject | None:
    if not placed.offers:
        return None
    placement = str(placed.placement)
    proposition: JsonObject = {
        "xdm:activity": _named(records[activity]),
        "xdm:placement": _named(records[placement]),
    }
    options = [_option(records[str(key)], placement, content) for key in placed.offers]
    if placed.fallback:
        proposition["xdm:fallback"] = options[0]
    else:
        proposition["xdm:options"] = list(options)
    return proposition


def _named(record: Record) -> JsonObject:
    return {"xdm:id": record.id, "repo:etag": record.etag}


def _option(record: Record, placement: str, content: bool) -> JsonObject:
    option = _named(record)
    component = _representation(record, placement) if content else None
    if component is None:
        return option
    kind = component.get("type")
    option["@type"] = _TYPES.get(str(kind), _COMPONENT + str(kind))
    text = component.get("linkURL") if kind == "imagelink" else component.get("content")
    for name, value in (
        ("xdm:content", text),
        ("xdm:deliveryURL", component.get("deliveryURL")),
        ("dc:format", component.get("format")),
    ):
        if value is not None:
            option[name] = value
    return option


def _representation(record: Record, placement: str) -> Mapping[str, JsonValue] | None:
    """The first component of the offer's representation for the placement, if it has one."""
    for representation in _list(record.body.get("representations")):
        if isinstance(representation, dict) and representation.get("placement") == placement:
            components = [c for c in _list(representation.get("components")) if isinstance(c, dict)]
            return components[0] if components else {}
    return None


def _scopes(body: Mapping[str, JsonValue]) -> set[str]:
    return {
        str(placement)
        for criterion in _list(body.get("criteria"))
        if isinstance(criterion, dict)
        for placement in _list(criterion.get("placements"))
    }


def _list(value: object) -> list[JsonValue]:
    return value if isinstance(value, list) else []
