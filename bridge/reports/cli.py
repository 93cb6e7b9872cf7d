"""`bridge report --from --to [--connection] [--format text|csv]`: the variance report."""

from __future__ import annotations

import datetime as dt
import sys

import click
import redis

from connectors.sage_active.errors import SageError


@click.command("report")
@click.option("--from", "first", required=True, type=click.DateTime(["%Y-%m-%d"]),
              help="First day (YYYY-MM-DD).")  # fmt: skip
@click.option("--to", "last", default=None, type=click.DateTime(["%Y-%m-%d"]),
              help="Last day, included (default: the first day).")  # fmt: skip
@click.option("--connection", default=None, help="The connection (default: the env's).")
@click.option("--format", "form", type=click.Choice(["text", "csv"]), default="text",
              show_default=True, help="Text for a terminal, CSV for a spreadsheet.")  # fmt: skip
def report(first: dt.datetime, last: dt.datetime | None, connection: str | None, form: str) -> None:
    """Per day, provider sales / refunds / payments / fees against Sage's invoices / credit
    notes / settlements / fee entries, and every order that differs. Exit 1 on a difference."""
    from bridge.connections.cli import connection_settings_for
    from bridge.reports.render import render_csv, render_text
    from bridge.reports.variance import build_report, check_range
    from bridge.services import ConfigurationError, build_services

    start, end = first.date(), (last or first).date()
    try:
        check_range(start, end)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc
    settings = connection_settings_for(connection)
    if not settings.redis_url:
        raise click.ClickException("REDIS_URL is not set (e.g. redis://127.0.0.1:6379/0)")
    services = build_services(settings)
    try:
        built = build_report(services, start, end)
    except redis.RedisError as exc:
        raise click.ClickException(f"Redis did not answer: {exc}") from exc
    except (SageError, ConfigurationError) as exc:
        raise click.ClickException(f"Sage could not be read: {exc}") from exc
    finally:
        services.close()
    click.echo(render_csv(built) if form == "csv" else render_text(built), nl=form != "csv")
    sys.exit(1 if built.differences else 0)
