"""A person's retry of an e-invoice the platform did not accept, and the order's e-invoicing.

`retry(services, ref)` calls `retrySalesInvoiceElectronicSubmission` exactly once for the
order's invoice (or a Sage document id the bridge follows, e.g. a credit note): the console
button, `bridge einvoice retry <ref>` and `POST /admin/einvoice/retry` all come here. Sage
decides whether the invoice can be retried; its refusal is reported as is. The attention
items of the failed submission are resolved: the new submission's outcome arrives through
the poller (`invoice.einvoice_status_changed`), and opens a new one if it fails again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bridge.einvoice.lifecycle import ATTENTION_KIND, TROUBLE, EInvoiceHistory
from bridge.services import Services
from bridge.store.links import OrderLink
from bridge.store.poller import StatusStore
from connectors.sage_active.errors import SageBusinessError, SageError


class RetryRefused(Exception):
    """The retry was not sent, or Sage refused it; the message says why."""


@dataclass(frozen=True)
class RetryResult:
    invoice_id: str
    order_reference: str | None
    previous_status: str | None
    resolved: list[str]


def _target(services: Services, ref: str) -> tuple[str, OrderLink | None]:
    link = services.links.order(ref)
    if link is not None:
        if link.invoice_id is None:
            raise RetryRefused(f"order {ref} has no Sage invoice yet")
        return link.invoice_id, link
    if StatusStore(services.redis, services.settings).state(ref) is not None:
        return ref, None
    raise RetryRefused(f"no order or followed Sage document {ref!r} (see GET /admin/orders)")


def retry(services: Services, ref: str) -> RetryResult:
    """Resubmit the e-invoice of order (or Sage document) `ref`, once.

    Raises:
        RetryRefused: unknown reference, not sent electronically, or Sage refused.
        SageError: Sage could not be reached (nothing is known to have been retried).
        redis.RedisError: Redis is unreachable.
    """
    invoice_id, link = _target(services, ref)
    state = StatusStore(services.redis, services.settings).state(invoice_id)
    status = state.einvoice_status if state else None
    if link is not None and link.einvoice is None and status is None:
        why = f": {link.einvoice_note}" if link.einvoice_note else ""
        raise RetryRefused(f"the invoice of {ref} was not sent electronically{why}")
    try:
        services.sage.retry_einvoice(invoice_id)
    except SageBusinessError as exc:
        keys = ", ".join(k for k in exc.keys if k) or exc.message
        raise RetryRefused(f"Sage refused the retry of invoice {invoice_id} ({keys})") from exc
    resolved = [
        item.id
        for item in services.attention.items(limit=10_000, kind=ATTENTION_KIND)
        if item.source == invoice_id and services.attention.resolve(item.id)
    ]
    reference = link.reference if link else (state.order_reference if state else None)
    return RetryResult(invoice_id, reference, status, resolved)


def order_einvoicing(services: Services, link: OrderLink) -> dict[str, Any] | None:
    """The e-invoicing part of an order's page: how it was sent, its status, its history."""
    if link.invoice_id is None or (link.einvoice is None and link.einvoice_note is None):
        return None
    state = StatusStore(services.redis, services.settings).state(link.invoice_id)
    status = state.einvoice_status if state else None
    history = EInvoiceHistory(services.redis, services.settings).entries(link.invoice_id)
    return {
        "sent": link.einvoice is not None,
        "address_type": link.einvoice.address_type if link.einvoice else None,
        "address": link.einvoice.address if link.einvoice else None,
        "regulatory_billing_framework": link.einvoice.framework if link.einvoice else None,
        "note": link.einvoice_note,
        "status": status,
        "reason": state.einvoice_reason if state else None,
        "needs_attention": status in TROUBLE,
        "history": [entry.model_dump(mode="json") for entry in history],
    }


def describe_error(exc: SageError) -> str:
    return (
        f"Sage did not answer the retry ({exc.message}): it may or may not have been "
        "submitted again; check the order's e-invoicing status before retrying"
    )
