"""The console entry point: Ctrl-C while the CLI is still loading ends quietly, with exit 130."""

from __future__ import annotations

import signal
import sys
from types import FrameType


def main() -> None:
    """`reconciler`: load the CLI (a second or so), then run it."""
    signal.signal(signal.SIGINT, _interrupted)
    from reconciler import cli

    signal.signal(signal.SIGINT, signal.default_int_handler)
    cli.main()


def _interrupted(signum: int, frame: FrameType | None) -> None:
    sys.stderr.write("Interrupted.\n")
    sys.exit(130)
