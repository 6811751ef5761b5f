"""Serving the emulator over HTTP with uvicorn (`reconciler emulator serve`)."""

from __future__ import annotations

import logging
from pathlib import Path

import uvicorn

from reconciler.emulator.app import create_app
from reconciler.emulator.faults import QuietDrops
from reconciler.emulator.settings import EmulatorSettings
from reconciler.errors import UsageError

__all__ = ["EmulatorSettings", "serve"]


def serve(
    host: str = "127.0.0.1",
    port: int = 8080,
    data_file: Path | None = None,
    settings: EmulatorSettings | None = None,
    *,
    control: bool = False,
) -> None:
    """Serve until interrupted (SIGINT/SIGTERM shut down gracefully)."""
    try:
        app = create_app(settings, data_file, control=control)
    except OSError as error:
        raise UsageError(
            f"{data_file}: cannot use it as the emulator's data file: {error.strerror}"
        ) from None
    # h11 is the protocol whose refusal to end a short message turns a drop into an abort.
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        http="h11",
        lifespan="off",
        access_log=False,
        log_level="info",
        timeout_graceful_shutdown=5,
    )
    logging.getLogger("uvicorn.error").addFilter(QuietDrops())
    uvicorn.Server(config).run()
