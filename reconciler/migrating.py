"""The shell of `reconciler migrate`: load the estate, migrate it (pure), inspect the files it
would write, and write them unless it is a dry run or a file is refused."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from reconciler import documents
from reconciler.config import Config
from reconciler.migration import migrate as migrate_objects
from reconciler.migration_files import inspect_outputs, out_prefix, provenance, write_outputs
from reconciler.migration_model import DEFAULT_TENANT, FileStatus, Migration, tenant_key
from reconciler.model import Key


@dataclass(frozen=True, slots=True)
class MigrateResult:
    """What `migrate` did: the migration, what it does to each file, the files under the
    output folder left from legacy objects that are gone, and how many files it wrote (0 on a
    dry run or a refusal)."""

    migration: Migration
    statuses: Mapping[Key, FileStatus]
    stale: tuple[str, ...]
    written: int

    def count(self, status: FileStatus) -> int:
        return sum(1 for each in self.statuses.values() if each is status)

    @property
    def refused(self) -> int:
        return self.count(FileStatus.CONFLICT)

    @property
    def unchanged(self) -> int:
        return self.count(FileStatus.UNCHANGED)


def migrate(
    root: Path,
    config: Config,
    keys: Sequence[str],
    *,
    out: str,
    tenant: str | None = None,
    force: bool = False,
    dry_run: bool = False,
) -> MigrateResult:
    """Write the Decisioning definitions of the legacy objects (all, or KEYs and what they
    need) under `out`; the legacy files are never touched. Nothing is written on a dry run, nor
    when a file to write differs from what migrate writes and force is off."""
    prefix = out_prefix(root, out)
    catalog = config.sandbox(None).catalog
    namespace = tenant_key(
        tenant or (catalog.tenant if catalog and catalog.tenant else DEFAULT_TENANT)
    )
    estate = documents.load(root)
    result = migrate_objects(estate, prefix=prefix, tenant=namespace, keys=[Key(k) for k in keys])
    texts = {
        o.key: documents.render_yaml(o.key, o.kind, o.body, comment=provenance(item.key))
        for item in result.objects
        for o in item.outputs
    }
    statuses, stale = inspect_outputs(root, result, texts, estate, force=force)
    done = MigrateResult(result, statuses, stale, 0)
    if dry_run or done.refused:
        return done
    return MigrateResult(result, statuses, stale, write_outputs(root, texts, statuses))
