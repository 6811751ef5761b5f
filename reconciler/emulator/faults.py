"""Fault injection on data calls: rate limiting, injected 5xx, dropped connections, scripted faults.

Draws come from one RNG seeded by `EmulatorSettings.seed`, so a run is reproducible. Scripted
write faults are exact instead: each of the next writes (POST, PATCH, DELETE) takes the next
fault of the script, so a test says precisely which answer is lost and when.
A dropped connection is a response that declares a longer `Content-Length` than the body it
sends and then ends: uvicorn cannot finish the message and aborts the connection, so an HTTP
client sees a protocol error; an in-process (ASGI transport) caller sees a truncated body.
"""

from __future__ import annotations

import collections
import enum
import logging
import math
import random
from collections.abc import Callable, Iterable

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from reconciler.emulator.problems import Problem
from reconciler.emulator.settings import EmulatorSettings

_INJECTED_STATUSES = (500, 502, 503)


class Drop(enum.Enum):
    """Whether and when a data call's connection is dropped."""

    NONE = "none"
    BEFORE = "before processing"
    AFTER = "after committing"


class WriteFault(enum.Enum):
    """What happens to one scripted write."""

    FAIL = "fail"
    """503 before processing: nothing is written."""
    FAIL_AFTER = "fail-after"
    """The write is committed, then answered 500 (a gateway that lost the backend's answer)."""
    DROP = "drop"
    """The connection drops before processing: nothing is written."""
    DROP_AFTER = "drop-after"
    """The write is committed, then the connection drops: the answer is lost."""
    NO_ETAG = "no-etag"
    """The write is committed and answered with a receipt that carries no etag."""
    NO_ETAG_THEN_UI_EDIT = "no-etag-then-ui-edit"
    """As no-etag, and a UI edit (the racer's) lands on the object before the answer is sent,
    so a read-back after it shows someone else's edit."""
    NONE = "none"
    """Nothing happens to this write (lets a script skip one)."""


class ConnectionDropped(Exception):
    """Raised under a real server once the truncated response has been sent (see QuietDrops)."""


class Faults:
    """The fault injector's moving parts: the seeded RNG and one token bucket per client."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._seed: int | None = None
        self._rng: random.Random | None = None
        self._buckets: dict[str, tuple[float, float]] = {}
        self._script: collections.deque[WriteFault] = collections.deque()

    def script(self, faults: Iterable[WriteFault]) -> None:
        """Queue faults for the next writes, one each, in the order they arrive."""
        self._script.extend(faults)

    @property
    def scripted(self) -> tuple[WriteFault, ...]:
        """The faults still queued."""
        return tuple(self._script)

    def next_write(self) -> WriteFault:
        """The fault for a write arriving now (NONE when the script is empty)."""
        return self._script.popleft() if self._script else WriteFault.NONE

    def refusal(self, settings: EmulatorSettings, client_id: str) -> Problem | None:
        """429 over the rate limit, else an injected 5xx at error_rate, else None."""
        if settings.rate_limit is not None:
            wait = self._take(client_id, settings.rate_limit)
            if wait > 0:
                seconds = max(1, math.ceil(wait))
                return Problem(
                    429,
                    "rate-limited",
                    f"too many requests: at most {settings.rate_limit:g} per second per client; "
                    f"retry after {seconds} s",
                    headers={"Retry-After": str(seconds)},
                )
        rng = self._random(settings)
        if settings.error_rate and rng.random() < settings.error_rate:
            status = rng.choice(_INJECTED_STATUSES)
            return Problem(status, "injected-failure", "injected failure: nothing was done")
        return None

    def drop(self, settings: EmulatorSettings) -> Drop:
        if not settings.drop_rate:
            return Drop.NONE
        rng = self._random(settings)
        if rng.random() >= settings.drop_rate:
            return Drop.NONE
        return Drop.BEFORE if rng.random() < 0.5 else Drop.AFTER

    def _random(self, settings: EmulatorSettings) -> random.Random:
        if self._rng is None or settings.seed != self._seed:
            self._seed, self._rng = settings.seed, random.Random(settings.seed)
        return self._rng

    def _take(self, client_id: str, rate: float) -> float:
        """Spend one token of the client's bucket; the seconds until one is available if empty."""
        now = self._clock()
        capacity = max(1.0, rate)
        tokens, last = self._buckets.get(client_id, (capacity, now))
        tokens = min(capacity, tokens + max(0.0, now - last) * rate)
        if tokens >= 1.0:
            self._buckets[client_id] = (tokens - 1.0, now)
            return 0.0
        self._buckets[client_id] = (tokens, now)
        return (1.0 - tokens) / rate


class DroppedResponse(Response):
    """Sends the status, headers and half of `response`'s body, declaring the whole length plus one."""

    def __init__(self, response: Response) -> None:
        super().__init__(status_code=response.status_code)
        self.whole = bytes(response.body)
        self.raw_headers = [
            *(pair for pair in response.raw_headers if pair[0] != b"content-length"),
            (b"content-length", str(len(self.whole) + 1).encode()),
        ]

    @classmethod
    def placeholder(cls, method: str) -> DroppedResponse:
        """What a call dropped before processing sends: the start of what success would send."""
        if method == "DELETE":
            return cls(Response(b"", 200))
        status, body = (
            (201, b'{"etag":1,"id":"dps:') if method == "POST" else (200, b'{"etag":2,"id":"dps:')
        )
        return cls(Response(body, status, media_type="application/json"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        try:
            await send(
                {
                    "type": "http.response.body",
                    "body": self.whole[: len(self.whole) // 2],
                    "more_body": False,
                }
            )
        except Exception as refused:  # the server will not end a short message: it aborts
            raise ConnectionDropped("connection dropped by fault injection") from refused


class QuietDrops(logging.Filter):
    """Keeps uvicorn from logging a traceback for every injected dropped connection."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not isinstance(error, ConnectionDropped)
