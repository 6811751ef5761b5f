"""The UI racer: edits a marketer saves in the UI, landing at the worst moments (chaos tests).

`race_list` makes a list page first edit a random object of its kind in its sandbox, so the
edit falls between the pages of a client's listing; `race_write` makes a PATCH, PUT or DELETE first
edit its own target, so the caller's etag is stale by the time its write is processed.

A race edit is a real write through the library, as the UI's save would be (JSON Patch, or PUT
for exd placements, which take nothing else): validated, etag
+1, `modified` now, attributed to `race_client_id`, and journaled like any other write. It
changes only what every kind accepts and the UI lets a marketer change: the description (added
if absent; a decision item's is `_experience/decisioning/decisionitem/itemDescription`) or, for
a personalized offer, sometimes the rank priority. Never a name or a
reference, so it never breaks the sandbox's graph. Draws come from an RNG seeded by `seed`
(apart from the fault injector's, so turning races on leaves the other faults' draws as they were).
"""

from __future__ import annotations

import random

from reconciler.emulator.gateway import Caller
from reconciler.emulator.library import OfferLibrary, Target
from reconciler.emulator.problems import Problem
from reconciler.emulator.records import Record
from reconciler.emulator.settings import EmulatorSettings
from reconciler.emulator.updates import methods
from reconciler.model import JsonValue, Kind

DESCRIPTIONS = {Kind.DECISION_ITEM: "/_experience/decisioning/decisionitem/itemDescription"}
"""Where a kind keeps its description, when not at /description."""

PRIORITY_SHARE = 0.5
"""Share of race edits to a personalized offer that change its rank priority, not its description."""


class Racer:
    """Makes race edits through one library; `edits` counts those made since the app started."""

    def __init__(self, library: OfferLibrary) -> None:
        self._library = library
        self._seed: int | None = None
        self._rng: random.Random | None = None
        self.edits = 0

    def before_list(
        self, settings: EmulatorSettings, caller: Caller, kinds: tuple[Kind, ...]
    ) -> None:
        """Maybe edit one object of these kinds in the caller's sandbox, before its page is cut."""
        if not self._draw(settings, settings.race_list):
            return
        store = self._library.store
        store.refresh()
        # Creation order (kept by replays and compaction), not the random ids: the same seed
        # and the same requests then pick the same objects.
        ids = [i for kind in kinds for i in store.objects(caller.partition, kind)]
        if ids:
            self._edit(settings, caller, kinds, self._random(settings).choice(ids))

    def before_write(
        self, settings: EmulatorSettings, caller: Caller, kinds: tuple[Kind, ...], object_id: str
    ) -> None:
        """Maybe edit the target of a PATCH, PUT or DELETE just before the library processes it."""
        if self._draw(settings, settings.race_write):
            self._edit(settings, caller, kinds, object_id)

    def edit(
        self, settings: EmulatorSettings, caller: Caller, kinds: tuple[Kind, ...], object_id: str
    ) -> None:
        """Make one race edit to this object now (a scripted fault asks for it)."""
        self._edit(settings, caller, kinds, object_id)

    def _edit(
        self, settings: EmulatorSettings, caller: Caller, kinds: tuple[Kind, ...], object_id: str
    ) -> None:
        store = self._library.store
        store.refresh()
        record = store.get(caller.partition, object_id)
        if record is None or record.kind not in kinds:
            return  # nothing there to edit: the request will answer 404 on its own
        ui = Caller(client_id=settings.race_client_id, org=caller.org, sandbox=caller.sandbox)
        target = Target((record.kind,))
        try:
            if "PATCH" in methods(record.kind):
                operations = _operations(record, self._random(settings))
                self._library.patch(ui, target, object_id, operations, None, settings)
            else:  # exd placements: the documented PUT, with the one field the save changes
                change: JsonValue = {"description": _description(record)}
                self._library.put(ui, target, object_id, change, None, settings)
        except Problem:
            return  # the UI would refuse this save too (a guardrail lowered since): no race
        self.edits += 1

    def _draw(self, settings: EmulatorSettings, share: float) -> bool:
        return bool(share) and self._random(settings).random() < share

    def _random(self, settings: EmulatorSettings) -> random.Random:
        if self._rng is None or settings.seed != self._seed:
            seed = None if settings.seed is None else f"racer:{settings.seed}"
            self._seed, self._rng = settings.seed, random.Random(seed)
        return self._rng


def _operations(record: Record, rng: random.Random) -> list[JsonValue]:
    """The JSON Patch of one UI save: a new description, or a new rank priority for an offer."""
    if record.kind is Kind.PERSONALIZED_OFFER and rng.random() < PRIORITY_SHARE:
        rank = record.body.get("rank")
        priority = rank.get("priority") if isinstance(rank, dict) else None
        if isinstance(priority, int) and not isinstance(priority, bool):
            return [{"op": "replace", "path": "/rank/priority", "value": priority + 1}]
        return [{"op": "add", "path": "/rank", "value": {"priority": rng.randrange(1, 100)}}]
    where = DESCRIPTIONS.get(record.kind, "/description")
    return [{"op": "add", "path": where, "value": _description(record)}]


def _description(record: Record) -> str:
    return f"Edited in the UI (revision {record.etag + 1})"
