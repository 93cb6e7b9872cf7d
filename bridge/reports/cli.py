"""`bridge report --from --to [--connection] [--format text|csv]`: the variance report."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click
import redis

from connectors.sage_active.errors import SageError


@click.command("report")
@click.option(
    "--from", "first", required=True, type=click.DateTime(["%Y-%m-%d"]), help="First day."
)
@click.option(
    "--to",
    "last",
    default=None,
    type=click.DateTime(["%Y-%m-%d"]),
    help="Last day, included (default: the first day).",
)
@click.option(
    "--format",
    "form",
    type=click.Choice(["text", "csv"]),
    default="text",
    show_default=True,
    help="Text for a terminal, CSV for a spreadsheet.",
)
@click.option("--connection", default=None, help="The connection (default: the environment's).")
@click.option(
    "--state-dir",
    default=None,
    type=click.Path(file_okay=False, path_type=Path),
    help="Where a running `bridge dev` is found when REDIS_URL is not set.",
)
def report(
    first: dt.datetime,
    last: dt.datetime | None,
    form: str,
    connection: str | None,
    state_dir: Path | None,
) -> None:
    """Per day, provider sales / refunds / payments / fees against Sage's invoices / credit
    notes / settlements / fee entries, and every order that differs. Exit 1 on a difference."""
    from bridge.ops.operator import OperatorError, open_operator
    from bridge.reports.render import render_csv, render_text
    from bridge.reports.variance import build_report, check_range
    from bridge.services import ConfigurationError

    start, end = first.date(), (last or first).date()
    try:
        check_range(start, end)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc
    try:
        operator = open_operator(connection, state_dir)
    except OperatorError as exc:
        raise click.ClickException(str(exc)) from exc
    try:
        built = build_report(operator.services, start, end)
    except redis.RedisError as exc:
        raise click.ClickException(f"Redis did not answer: {exc}") from exc
    except (SageError, ConfigurationError) as exc:
        raise click.ClickException(f"Sage could not be read: {exc}") from exc
    finally:
        operator.close()
    click.echo(render_csv(built) if form == "csv" else render_text(built), nl=form != "csv")
    sys.exit(1 if built.differences else 0)
