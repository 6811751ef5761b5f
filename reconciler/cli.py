"""Command line: parse, build dependencies, print, and map errors to exit codes (the only printer)."""

from __future__ import annotations

import sys

import click

from reconciler import __version__
from reconciler.errors import ReconcilerError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="reconciler")
def cli() -> None:
    """Manage Adobe Offer Decisioning objects as code: validate, plan, apply, drift."""


@cli.group()
def emulator() -> None:
    """The local Offer Library emulator (the sandbox tests and `make run` use)."""


def main() -> None:
    """Console entry point: one clear line and exit code 1 for every expected failure."""
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Exit as done:
        sys.exit(done.exit_code)
    except click.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(1)
    except click.ClickException as usage:
        usage.show()
        sys.exit(1)
    except ReconcilerError as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(error.exit_code)
