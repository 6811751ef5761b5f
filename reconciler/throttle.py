"""Adaptive concurrency (AIMD) for requests to a rate-limited server: how many may be in flight.

`AdaptiveLimit` is a pure state machine (no clock, no I/O); `Gate` admits requests as it allows,
waiting out Retry-After pauses and queueing first come, first served.
"""

from __future__ import annotations

import asyncio
import collections
import enum
import math
from collections.abc import Awaitable, Callable
from typing import assert_never

DECREASE = 0.5
"""A 429 halves the in-flight limit, at most once per round (see AdaptiveLimit)."""
FLOOR = 1
"""The limit never drops below one request in flight."""


class Outcome(enum.Enum):
    """How one sent request ended, as the adaptive limit sees it."""

    ANSWERED = "answered"
    """Any answer but 429 or 5xx: the server keeps up."""
    THROTTLED = "throttled"
    """429: the server refuses this rate."""
    FAILED = "failed"
    """5xx or no answer: says nothing about the rate."""


class AdaptiveLimit:
    """AIMD on the number of requests in flight: a pure state machine, no clock and no I/O.

    The limit starts at `ceiling`. A 429 halves it (DECREASE), but only when the refused
    request was sent after the previous decrease: the requests already in flight then belong
    to the round that was refused, so one burst of 429s halves the limit once, not per 429.
    A round of answers (as many as the limit) raises it by one, back up to `ceiling`. A
    Retry-After holds every request until it has passed, since the server counts per client.
    """

    def __init__(self, ceiling: int) -> None:
        self.ceiling = max(FLOOR, ceiling)
        self.current = self.ceiling
        self.lowest = self.ceiling
        self.in_flight = 0
        self.throttled = 0
        self.resume_at = -math.inf
        self._sent = 0
        self._round = 0  # tickets below this were sent before the last decrease
        self._answered = 0  # answers since the limit last changed

    @property
    def has_room(self) -> bool:
        return self.in_flight < self.current

    def pause(self, now: float) -> float:
        """Seconds to wait before sending anything (a Retry-After not yet over)."""
        return max(0.0, self.resume_at - now)

    def start(self) -> int:
        """Count a request as sent; its ticket tells finish() which round it belonged to."""
        ticket = self._sent
        self._sent += 1
        self.in_flight += 1
        return ticket

    def finish(
        self, ticket: int, outcome: Outcome, now: float, retry_after: float | None = None
    ) -> None:
        self.in_flight -= 1
        match outcome:
            case Outcome.ANSWERED:
                self._answered += 1
                if self._answered >= self.current and self.current < self.ceiling:
                    self.current += 1
                    self._answered = 0
            case Outcome.THROTTLED:
                self.throttled += 1
                if ticket >= self._round:
                    self.current = max(FLOOR, int(self.current * DECREASE))
                    self.lowest = min(self.lowest, self.current)
                    self._round = self._sent
                    self._answered = 0
                if retry_after is not None:
                    self.resume_at = max(self.resume_at, now + retry_after)
            case Outcome.FAILED:
                pass
            case _:
                assert_never(outcome)


class Gate:
    """Admits requests as the AdaptiveLimit allows: waits out its pauses, queues for its room.

    Waiters are woken first come, first served, as many as there is room for; a woken waiter
    that finds the room taken keeps its place at the head of the queue.
    """

    def __init__(
        self,
        limit: AdaptiveLimit,
        clock: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]],
    ) -> None:
        self.limit = limit
        self._clock = clock
        self._sleep = sleep
        self._waiting: collections.deque[asyncio.Future[None]] = collections.deque()

    async def enter(self) -> int:
        first_in_line = False
        while True:
            pause = self.limit.pause(self._clock())
            if pause > 0:
                await self._sleep(pause)
                continue
            if self.limit.has_room:
                return self.limit.start()
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            if first_in_line:
                self._waiting.appendleft(waiter)  # woken but beaten to the room: keep its place
            else:
                self._waiting.append(waiter)
            try:
                await waiter
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled():
                    self._wake()  # it was woken for a room it will not take: pass it on
                raise
            first_in_line = True

    def leave(self, ticket: int, outcome: Outcome, retry_after: float | None) -> None:
        self.limit.finish(ticket, outcome, self._clock(), retry_after)
        self._wake()

    def _wake(self) -> None:
        room = self.limit.current - self.limit.in_flight
        while room > 0 and self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(None)
                room -= 1
