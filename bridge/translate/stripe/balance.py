"""The part of a Stripe invoice paid from the customer's credit balance (pure).

Stripe applies a customer's credit balance (negative `starting_balance`: credit from a
downgrade, a credit note to the balance, an adjustment) to the invoice when it is
finalized; only the rest is charged (`amount_due`). Nothing else reports that part as a
payment: InvoicePayments and Charges cover only the money charged. So the bridge books it
as a payment of its own, read from the invoice itself: `ending_balance - starting_balance`
(the credit used, exact, in every API version), keyed `<invoice id>:balance` so that
`invoice.finalized`, `invoice.paid` and any replay settle it once, on the payment method
of gateway `stripe_customer_balance` (`BRIDGE_PAYMENT_METHODS`, "Stripe customer balance"
by default).
"""

from __future__ import annotations

from datetime import UTC, datetime

from bridge.models import Payment, TranslationError
from bridge.money import from_minor_units
from bridge.translate.stripe.objects import stripe_reference
from connectors.stripe import payloads as st

BALANCE_GATEWAY = "stripe_customer_balance"


def balance_payment_id(invoice_id: str) -> str:
    """The settlement key (`documentNumber`) of an invoice's part paid from the balance."""
    return f"{invoice_id}:balance"


def balance_payment_from_invoice(invoice: st.StripeInvoice, *, account: str) -> Payment | None:
    """The Payment of the part of `invoice` paid from the customer's credit balance, or
    None when no credit was used (not finalized yet, nothing applied, a credit invoice).

    Raises:
        TranslationError: the balance used exceeds the invoice's total.
    """
    if invoice.ending_balance is None or invoice.total <= 0:
        return None
    used = invoice.ending_balance - invoice.starting_balance
    if used <= 0:
        return None
    if used > invoice.total:
        raise TranslationError(
            f"Stripe invoice {invoice.number or invoice.id}: {used} (minor units) taken from "
            f"the customer's balance, more than its total {invoice.total}"
        )
    transitions = invoice.status_transitions
    stamp = (transitions.finalized_at if transitions else None) or invoice.created
    return Payment(
        provider="stripe",
        account=account,
        provider_id=balance_payment_id(invoice.id),
        order_reference=stripe_reference(account, invoice.id),
        amount=from_minor_units(used, invoice.currency),
        currency=invoice.currency.upper(),
        gateway=BALANCE_GATEWAY,
        date=datetime.fromtimestamp(stamp, tz=UTC).date(),
    )
