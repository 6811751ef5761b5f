"""Shared fixtures: a repository in a temp folder, the emulator in-process or served on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from emulator_support import served

from reconciler import api, commands
from reconciler.cli import cli
from reconciler.emulator.app import create_app
from reconciler.model import Credentials

ROOT = Path(__file__).resolve().parent.parent
EMBEDDED_CATALOG = "dps:offer-catalog:0000000000000001"
EMBEDDED_SCHEMA = "https://ns.adobe.com/reconciler/schemas/offer-items"
EMBEDDED_CONFIG = """\
default: local
prune: false
sandboxes:
  local:
    endpoint: embedded
    decisioning:
      catalog: dps:offer-catalog:0000000000000001
      schema: https://ns.adobe.com/reconciler/schemas/offer-items
      tenant: _reconciler
"""


@dataclass
class Sandbox:
    """An emulator app shared by the CLI under test and by a 'marketer' editing through the API."""

    app: object
    root: Path

    def deps(self) -> commands.Dependencies:
        clock = iter(f"2026-11-22T12:{n // 60:02d}:{n % 60:02d}.000Z" for n in range(100_000))
        return commands.Dependencies(env={}, clock=lambda: next(clock), app=self.app)  # type: ignore[arg-type]

    def run(self, *args: str) -> Result:
        """`reconciler -C <repo> ARGS` in-process, against this sandbox."""
        return CliRunner().invoke(cli, ["-C", str(self.root), *args], obj=self.deps())

    def client(self, client_id: str = "marketer-ui") -> api.Client:
        """A second API user (the UI) on the same sandbox, for edits made outside git."""
        return api.Client(
            api.Endpoint(
                commands.EMBEDDED_BASE,
                commands.EMBEDDED_IMS,
                "0000000000000000000EMBED@AdobeOrg",
                "local",
                EMBEDDED_SCHEMA,
            ),
            Credentials(client_id=client_id, client_secret="ui-secret"),
            transport=api.asgi_transport(self.app),  # type: ignore[arg-type]
        )

    def call(self, coroutine_factory, client_id: str = "marketer-ui"):  # type: ignore[no-untyped-def]
        """Run `coroutine_factory(client)` with a fresh client and return its result."""

        async def main():  # type: ignore[no-untyped-def]
            async with self.client(client_id) as client:
                return await coroutine_factory(client)

        return asyncio.run(main())


def make_repo(path: Path, *, config: str = EMBEDDED_CONFIG, estate: bool = True) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    (path / "reconciler.yaml").write_text(config)
    if estate:
        shutil.copytree(ROOT / "offers", path / "offers")
    else:
        (path / "offers").mkdir()
    (path / "state").mkdir()
    return path


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo")


@pytest.fixture
def sandbox(repo: Path) -> Sandbox:
    return Sandbox(app=create_app(), root=repo)


@contextlib.contextmanager
def served_emulator(*options: str, data: Path | None = None) -> Iterator[str]:
    """`reconciler emulator serve` in a subprocess on a free loopback port; yields its base URL."""
    extra = ("--data", str(data)) if data is not None else ()
    with (
        tempfile.TemporaryDirectory() as folder,
        served(*options, *extra, log=Path(folder) / "emulator.log") as base,
    ):
        yield base


def served_config(base: str, sandbox: str = "remote") -> str:
    return (
        f"default: {sandbox}\n"
        "prune: false\n"
        "sandboxes:\n"
        f"  {sandbox}:\n"
        f"    endpoint: {base}/data/core/dps\n"
        f"    ims: {base}/ims/token/v3\n"
        "    org: 1234ABCD@AdobeOrg\n"
        "    name: prod\n"
    )
