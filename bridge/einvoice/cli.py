"""`bridge einvoice`: French e-invoicing from the command line (docs/einvoicing.md).

bridge einvoice retry REF     resubmit the e-invoice of order REF (or a Sage document id)
bridge einvoice status REF    how the order's invoice was sent, its status and history
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

import click

from bridge.services import Services


@contextmanager
def _services() -> Iterator[Services]:
    from pydantic import ValidationError

    from bridge.services import build_services
    from bridge.settings import load_settings

    try:
        settings = load_settings()
    except ValidationError as exc:
        raise click.ClickException(f"invalid settings: {exc}") from exc
    if not settings.redis_url:
        raise click.ClickException("REDIS_URL is not set (e.g. redis://127.0.0.1:6379/0)")
    services = build_services(settings)
    try:
        yield services
    finally:
        services.close()


@click.group("einvoice")
def einvoice() -> None:
    """French e-invoicing through Sage Active's platform: status and retries."""


@einvoice.command("retry")
@click.argument("ref")
def retry_command(ref: str) -> None:
    """Submit the e-invoice of order REF again (one retrySalesInvoiceElectronicSubmission)."""
    from bridge.einvoice.retry import RetryRefused, describe_error, retry
    from connectors.sage_active.errors import SageError

    with _services() as services:
        try:
            result = retry(services, ref)
        except RetryRefused as exc:
            raise click.ClickException(f"not retried: {exc}") from exc
        except SageError as exc:
            raise click.ClickException(describe_error(exc)) from exc
    resolved = f"; resolved {', '.join(result.resolved)}" if result.resolved else ""
    click.echo(
        f"{ref}: e-invoice {result.invoice_id} submitted again (was "
        f"{result.previous_status or 'unknown'}){resolved}. Its new status arrives with the "
        "poller (invoice.einvoice_status_changed)."
    )


@einvoice.command("status")
@click.argument("ref")
def status_command(ref: str) -> None:
    """Print the e-invoicing of order REF as JSON (sent with, status, history)."""
    from bridge.einvoice.retry import order_einvoicing

    with _services() as services:
        link = services.links.order(ref)
        if link is None:
            raise click.ClickException(f"no order {ref!r}")
        found = order_einvoicing(services, link)
    click.echo(json.dumps(found or {"sent": False}, indent=2))
