"""Stripe Billing invoices (`invoice.paid`, `invoice.finalized`): listed in `HANDLER_MODULES`.

What each becomes in Sage (docs/accounting.md, "Changes after the sale"):

- An invoice of positive total: one posted Sage invoice of its lines, a proration's unused
  time (and any other negative line) as a line of negative quantity at the same price, so
  that an upgrade of -50.00 and +80.00 at 20 % is booked at 36.00 with 6.00 of VAT.
- An invoice of zero total (a trial, a change that cancels out): nothing is posted; the
  event is `ignored` with the reason. A zero document would add nothing to the books.
- An invoice of negative total (a downgrade: more unused time credited than charged):
  Stripe puts the amount on the customer's credit balance. Sage Active's API makes credit
  notes only out of an invoice (`generateCreditNote`), and this credit has no Sage invoice
  of its own to come from, so it is booked as a standalone credit document of the
  customer: a sales document whose lines are the Stripe lines (the credits at negative
  quantity), negative in total, posted, with the Stripe invoice's reference
  (`stripe:<account>:<in_...>`) and number. Its entry credits the customer (411) and
  debits sales (706) and VAT (44571), as a credit note does.
- The part paid from the customer's credit balance (`bridge.translate.stripe.balance`):
  settled, after the invoice is booked and under the same lock, with the "Stripe
  customer balance" payment method, keyed `<in_...>:balance`: once, whichever of
  `invoice.finalized`, `invoice.paid` or a replay brings it.
"""

from __future__ import annotations

from bridge.models import Order, Payment
from bridge.reports.facts import note_translated
from bridge.services import Services
from bridge.store.events import EventRecord
from bridge.sync.context import SyncContext
from bridge.sync.dispatch import Ignored, Outcome, Processed, handler
from bridge.sync.errors import classified
from bridge.sync.orders import sync_order
from bridge.sync.payments import sync_payment
from bridge.sync.running import (
    event_body,
    parked_before,
    run_locked,
    run_translated,
    translation_context,
)
from bridge.translate import translate
from bridge.translate.stripe.balance import balance_payment_from_invoice
from connectors.stripe import payloads as st


def _balance_payment(body: dict[str, object], order: Order) -> Payment | None:
    data = body.get("data") if body.get("object") == "event" else None
    obj = data.get("object") if isinstance(data, dict) else body
    invoice = st.StripeInvoice.model_validate(obj)
    return balance_payment_from_invoice(invoice, account=order.account)


def _book(
    ctx: SyncContext, order: Order, balance: Payment | None, event_ref: str, parked: int
) -> Outcome:
    outcome = sync_order(ctx, order)
    if balance is None or not isinstance(outcome, Processed):
        return outcome
    # a payment like any other: it makes the invoice when BRIDGE_INVOICE_ON=payment
    paid = sync_payment(ctx, balance, event_ref, parked)
    if not isinstance(paid, Processed):
        return paid
    return Processed(f"{outcome.detail}; {paid.detail}")


def handle_stripe_invoice(event: EventRecord, services: Services) -> Outcome:
    """`invoice.paid` / `invoice.finalized` (see the module docstring).

    Raises:
        TransientError, PermanentError: as `bridge.sync.running.handle`.
    """
    with classified(f"stripe {event.topic} {event.ref}"):
        body = event_body(event)
        result = translate(event.provider, event.topic, body, translation_context(event, services))
        if not isinstance(result, Order):
            return run_translated(event, services, result)
        order = result
        if order.total == 0:
            return Ignored(
                f"Stripe invoice {order.number} totals 0.00 {order.currency}: nothing to book"
            )
        balance = _balance_payment(body, order)
        note_translated(services.redis, services.settings, event.ref, [order, balance])
        parked = parked_before(event)
        return run_locked(
            services, order.reference, lambda ctx: _book(ctx, order, balance, event.ref, parked)
        )


for _topic in ("invoice.paid", "invoice.finalized"):
    handler("stripe", _topic)(handle_stripe_invoice)
