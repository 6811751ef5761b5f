"""Garbage-collector control for the bulk phases (loading 10,000 files, reading 10,000 objects).

Those phases build tens of thousands of long-lived containers and hardly any cycles; the cyclic
collector would rescan the growing heap again and again (performance-notes §3: about 5x on
validation). Collection pauses during a bulk phase, and what it built is frozen afterwards.
Frozen objects are still freed when nothing refers to them, but cyclic garbage frozen with them
never is: right for a process that runs one command, as the CLI does; a process that runs many
(a test harness) calls `gc.unfreeze()` between them.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def bulk() -> Iterator[None]:
    """Pause the cyclic collector; on the way out, freeze the survivors and resume it."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()
