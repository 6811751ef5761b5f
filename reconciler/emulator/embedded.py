"""The embedded sandbox: the emulator in-process, persisted in the repository's .reconciler/."""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette

from reconciler.emulator.app import create_app
from reconciler.emulator.settings import EmulatorSettings

DATA_FILE = Path(".reconciler") / "sandbox.jsonl"


def embedded_app(root: Path, settings: EmulatorSettings | None = None) -> Starlette:
    """An emulator app whose data lives in `root/.reconciler/sandbox.jsonl`, shared by every process."""
    return create_app(settings, root / DATA_FILE)
