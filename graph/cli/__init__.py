"""The ``c360`` command line: ``c360 --help`` lists the commands.

Every command turns a :class:`~graph.errors.C360Error` into one ``error: ...`` line on stderr
and exit status 1; no traceback reaches the user for an expected failure.
"""

from __future__ import annotations

import logging
import sys

import click
from neo4j import exceptions as neo4j_exceptions

from graph.cli import (  # noqa: F401  (register their commands)
    admin,
    check,
    data,
    demo,
    journeys,
    model,
    resolve,
    segments,
)
from graph.cli.app import cli
from graph.errors import C360Error

__all__ = ["cli", "main"]


def main(argv: list[str] | None = None) -> int:
    """Run the CLI with ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    # the driver logs connection retries as warnings; our errors say it once, in one line
    logging.getLogger("neo4j").addHandler(logging.NullHandler())
    logging.getLogger("neo4j").propagate = False
    try:
        status = cli.main(args=argv, prog_name="c360", standalone_mode=False)
    except C360Error as exc:
        click.echo(f"error: {exc}", err=True)
        return 1
    except neo4j_exceptions.Neo4jError as exc:
        click.echo(f"error: Neo4j refused the request: {exc.message or exc}", err=True)
        return 1
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return 130
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    return status if isinstance(status, int) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
