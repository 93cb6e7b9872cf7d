"""The console's e-invoicing pages (French e-invoicing, `bridge.einvoice`).

`/console/einvoice` lists the e-invoices that need a person (rejected, refused, not sent...)
with a retry button; `/console/einvoice/<order reference>` is an order's e-invoicing: what
the invoice was sent with, its status on Sage's platform, every status it went through, and
the retry button. Behind the console's login and CSRF check (`console.console_guard`).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from werkzeug.wrappers import Response as BaseResponse

from bridge.einvoice.lifecycle import ATTENTION_KIND
from bridge.einvoice.retry import RetryRefused, describe_error, order_einvoicing, retry
from bridge.store.links import OrderLink
from bridge.web.common import current_services
from bridge.web.console import console_guard
from connectors.sage_active.errors import SageError

bp = Blueprint(
    "console_einvoice", __name__, url_prefix="/console/einvoice", template_folder="templates"
)


@bp.before_request
def _guarded() -> Any:
    return console_guard()


@bp.app_template_global()
def einvoice_summary(link: OrderLink) -> dict[str, Any] | None:
    """The order's e-invoicing for a template (None when it has none)."""
    return order_einvoicing(current_services(), link)


@bp.get("/")
def einvoices() -> str:
    """E-invoices that need a person, newest first."""
    items = current_services().attention.items(limit=200, kind=ATTENTION_KIND)
    return render_template("console/einvoice_list.html", items=items)


@bp.get("/<path:reference>")
def order(reference: str) -> str:
    """One order's e-invoicing."""
    link = current_services().links.order(reference)
    if link is None:
        abort(404, f"no order {reference!r}")
    return render_template(
        "console/einvoice.html", link=link, einvoicing=order_einvoicing(current_services(), link)
    )


@bp.post("/<path:reference>/retry")
def retry_submission(reference: str) -> BaseResponse:
    """Resubmit the order's e-invoice to Sage's platform (once per click)."""
    try:
        result = retry(current_services(), reference)
    except RetryRefused as exc:
        flash(f"not retried: {exc}", "error")
    except SageError as exc:
        flash(describe_error(exc), "error")
    else:
        flash(
            f"{reference}: e-invoice {result.invoice_id} submitted again "
            f"(was {result.previous_status or 'unknown'}); its new status follows shortly"
        )
    return redirect(url_for("console_einvoice.order", reference=reference))
