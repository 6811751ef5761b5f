"""The one error tree: every failure a user can cause is a ReconcilerError with a one-line message."""

from __future__ import annotations


class ReconcilerError(Exception):
    """Base of every expected failure. The message says where and what to do next."""

    exit_code = 1


class UsageError(ReconcilerError):
    """Bad command-line input or configuration (reconciler.yaml, environment)."""


class ConfigError(ReconcilerError):
    """reconciler.yaml or the environment is invalid."""


class StateError(ReconcilerError):
    """The state file is corrupt, locked, of an unknown version, or belongs elsewhere."""


class PlanFileError(ReconcilerError):
    """A saved plan cannot be used (other sandbox, other lineage, stale, unreadable)."""


class InvalidDocuments(ReconcilerError):
    """The YAML definitions have problems; `problems` holds every one of them."""

    def __init__(self, problems: tuple[object, ...]) -> None:
        self.problems = problems
        count = len(problems)
        super().__init__(f"{count} problem{'s' if count != 1 else ''} in offers/")


class PatchBug(ReconcilerError):
    """A generated patch does not reproduce its target: a bug in reconciler, never sent."""
