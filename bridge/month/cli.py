"""`bridge close-month`: the processors' fees of a month as supplier invoices
(`bridge.month.close`); progress on stderr, one summary line per processor on stdout."""

from __future__ import annotations

import datetime as dt
import functools
import sys

import click


@click.command("close-month")
@click.option("--month", "month_text", required=True, help="The month to close: YYYY-MM.")
@click.option("--connection", default=None, help="A registered connection [the environment's].")
@click.option(
    "--processor",
    type=click.Choice(["all", "stripe", "shopify_payments"]),
    default="all",
    show_default=True,
)
@click.option("--dry-run", is_flag=True, help="Only sum the fees and say what would be made.")
def close_month(month_text: str, connection: str | None, processor: str, dry_run: bool) -> None:
    """Invoice each processor's fees of MONTH: one Sage purchase invoice per processor from
    its supplier, with the reverse-charge VAT, posted and settled against the clearing
    account. Safe to run again: what is done is found in Sage, never made twice.
    """
    from bridge.connections.cli import connection_settings_for
    from bridge.month.close import close_month as run_close
    from bridge.month.fees import Month
    from bridge.services import ConfigurationError, build_services
    from bridge.sync.locks import LockBusy
    from connectors.sage_active.errors import SageError

    try:
        month = Month.parse(month_text)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--month") from exc
    if dt.datetime.now(dt.UTC).date() <= month.last and not dry_run:
        raise click.UsageError(
            f"{month} is not over yet: close it from {month.last + dt.timedelta(1)}"
        )
    settings = connection_settings_for(connection)
    if not settings.redis_url:
        raise click.UsageError("REDIS_URL is not set: the payouts' fees are read from Redis")
    if not settings.fee_invoices and not dry_run:
        click.echo(
            "note: BRIDGE_FEE_INVOICES is off: payouts put their fees on the expense "
            "account, so there is nothing to invoice",
            err=True,
        )
    say = functools.partial(click.echo, err=True)  # progress on stderr, the summary on stdout
    services = build_services(settings)
    try:
        records = run_close(
            services,
            month,
            None if processor == "all" else [processor],
            dry_run=dry_run,
            progress=say,
        )
    except (SageError, ConfigurationError, LockBusy) as exc:
        raise click.ClickException(f"{exc}. What was done stays done: run it again.") from exc
    finally:
        services.close()
    for record in records:
        parts = [f"{record.processor} {record.month}: {record.outcome}", f"fees {record.fees:.2f}"]
        if record.invoice_number and record.status:
            parts.append(
                f"invoice {record.invoice_number} {record.status}, pending "
                f"{record.pending or 0:.2f}, VAT {record.vat:.2f} (reverse charge)"
            )
        parts.extend(record.notes)
        click.echo("; ".join(parts))
    if any(r.outcome == "failed" for r in records):
        sys.exit(1)
