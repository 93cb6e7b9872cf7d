"""A provider payment booked once as a settlement of its invoice's open items.

Under the order's lock: a payment whose order or invoice does not exist yet is parked
(retried with a growing delay, and released at once when the invoice is made); with
`BRIDGE_INVOICE_ON=payment` the payment makes the invoice first. The open items are
settled oldest first with the payment's amount, the settlement's `documentNumber` being the
provider's payment id, which is how an earlier attempt's settlement is found again (only
when its intent marker says one may have reached Sage). A payment in a Markets order's
presentment currency settles its share of the shop total (`in_shop_money`).
"""

from __future__ import annotations

from decimal import Decimal

from bridge.models import Payment
from bridge.settings import InvoiceMoment
from bridge.store.attention import AttentionItem
from bridge.store.links import OrderLink, PaymentLink
from bridge.sync.chain import Groups, chain_open_items, record_chain_status
from bridge.sync.context import SyncContext
from bridge.sync.dispatch import Outcome, Parked, PermanentError, Processed
from bridge.sync.expiry import UNKNOWN_ORDER, links_may_have_expired
from bridge.sync.invoices import ensure_invoice
from bridge.sync.notify import observe_invoice, payment_settled
from bridge.translate.markets import settle_share
from connectors.sage_active.models import OpenItem, SettlementInput, SettlementLine

SETTLE = "settle"
DOCUMENT_NUMBER_MAX = 50  # Sage's documentNumber limit: written and looked up cut alike
PARK_DELAYS = (5.0, 15.0, 60.0, 300.0, 900.0, 1800.0)  # then every 30 min, never dropped


def park_delay(parked_before: int) -> float:
    """Seconds until a parked event is tried again, after `parked_before` earlier parks."""
    return PARK_DELAYS[min(parked_before, len(PARK_DELAYS) - 1)]


def park(ctx: SyncContext, reference: str, event_ref: str, parked_before: int, why: str) -> Parked:
    """Park `event_ref` until order `reference` has its invoice.

    Raises:
        redis.RedisError: Redis is unreachable.
    """
    ctx.links.park(reference, event_ref)
    return Parked(park_delay(parked_before), f"{why}; waiting for the invoice of {reference}")


def allocate(items: list[OpenItem], amount: Decimal) -> list[SettlementLine]:
    """Spread `amount` over open items oldest first (by due date, and in the order given
    when due the same day: an order's invoice before its supplementary invoices); the
    caller checked that it does not exceed what they still owe."""
    lines: list[SettlementLine] = []
    left = amount
    for item in sorted(items, key=lambda i: (i.due_date is None, i.due_date)):
        pay = min(item.outstanding, left)
        if pay > 0:
            lines.append(SettlementLine(open_item_id=item.id, paid_amount=pay))
            left -= pay
    return lines


def payment_method_id(ctx: SyncContext, gateway: str) -> tuple[str, str]:
    """(Sage payment method id, its name) for a provider gateway.

    Raises:
        PermanentError: the gateway is not mapped, or its method is not in Sage.
    """
    name = ctx.settings.payment_methods.get(gateway)
    if name is None:
        raise PermanentError(
            f"payment gateway {gateway!r} is not mapped to a Sage payment method: add it to "
            f"BRIDGE_PAYMENT_METHODS (now {sorted(ctx.settings.payment_methods)})"
        )
    method = ctx.sage.payment_method_by_name(name)
    if method is None:
        raise PermanentError(
            f"payment method {name!r} (gateway {gateway!r}) is not in Sage or is disabled"
        )
    return method.id, name


def _invoice_ready(
    ctx: SyncContext, link: OrderLink | None, payment: Payment, event_ref: str, parked: int
) -> OrderLink | Parked:
    if link is None or link.order is None:
        return park(ctx, payment.order_reference, event_ref, parked, UNKNOWN_ORDER)
    moment = ctx.settings.invoice_on
    if link.invoice_id is None and moment is InvoiceMoment.FULFILMENT and not link.order.fulfilled:
        return park(ctx, link.reference, event_ref, parked, "order not fulfilled yet")
    if link.invoice_id is None and moment is InvoiceMoment.ORDER and link.cancelled:
        raise PermanentError(f"order {link.reference} was cancelled before it was invoiced")
    ensure_invoice(ctx, link)
    return link


def after_settlement(items: list[OpenItem], lines: list[SettlementLine]) -> list[OpenItem]:
    """The open items as they are once `lines` are paid."""
    paid: dict[str, Decimal] = {}
    for line in lines:
        paid[line.open_item_id] = paid.get(line.open_item_id, Decimal("0")) + line.paid_amount
    return [
        item.model_copy(
            update={"paid_amount_accumulated": item.paid_amount_accumulated + paid.get(item.id, 0)}
        )
        for item in items
    ]


def in_shop_money(link: OrderLink, payment: Payment) -> tuple[Payment, Decimal | None]:
    """`payment` in the invoice's currency, and its presentment amount when it was converted.

    A payment in the invoice's currency is kept as it is. A payment in the order's
    presentment currency (Shopify Markets) settles its share of
    the shop total at the order's own ratio, the one completing the presentment total
    taking the cents that remain (`bridge.translate.markets.settle_share`). Called under
    the order's lock, so the amounts already paid cannot move meanwhile; a retry computes
    the same share, as nothing is recorded before the settlement is.

    Raises:
        PermanentError: the payment's currency is neither the invoice's nor the order's
            presentment currency, or nothing is left for it to settle.
    """
    order = link.order
    if order is None:
        return payment, None
    shown = order.presentment
    if payment.currency == order.currency:
        # Shopify's own shop money: kept as it is; what it was in the presentment currency
        # counts towards the presentment total, for the payment that will complete it.
        given = payment.shown
        if given is not None and shown is not None and given.currency == shown.currency:
            return payment, given.amount
        return payment, None
    if shown is None or payment.currency != shown.currency:
        also = f" (the order was presented in {shown.currency})" if shown else ""
        raise PermanentError(
            f"payment {payment.provider_id} is in {payment.currency}, the invoice in "
            f"{order.currency}{also}"
        )
    share = settle_share(
        payment.amount,
        presentment=shown,
        presentment_paid=link.presentment_paid,
        shop_total=order.total,
        shop_paid=link.paid,
        currency=order.currency,
    )
    if share <= 0:
        raise PermanentError(
            f"payment {payment.provider_id} of {payment.amount} {payment.currency} completes "
            f"the order's {shown.total} {shown.currency}, but its {order.total} "
            f"{order.currency} are already settled ({link.paid})"
        )
    converted = payment.model_copy(update={"amount": share, "currency": order.currency})
    return converted, payment.amount


def _record(
    ctx: SyncContext,
    link: OrderLink,
    plink: PaymentLink,
    payment: Payment,
    method: str,
    groups: Groups,
) -> Processed:
    items = [item for _, each in groups for item in each]
    collected = all(item.outstanding <= 0 for item in items)
    if payment.provider_id not in link.payments:
        link.payments.append(payment.provider_id)
        link.paid += payment.amount
        link.presentment_paid += plink.presentment_amount or Decimal("0")
    link.status = "Collected" if collected else "PartiallyCollected"
    payment_settled(ctx, link, payment, plink.entry_id or "", method)
    observe_invoice(ctx, link, groups[0][1])
    ctx.links.save_order(link)
    record_chain_status(ctx, groups)
    plink.status = link.status
    plink.done(SETTLE)
    ctx.links.save_payment(plink)
    return Processed(f"payment {payment.provider_id} settled as entry {plink.entry_number}")


def sync_payment(ctx: SyncContext, payment: Payment, event_ref: str, parked: int) -> Outcome:
    """Settle `payment` on its invoice once (see the module docstring).

    Raises:
        PermanentError: unmapped gateway, overpayment, other currency, cancelled order.
        SageError: a call failed (classified by the caller).
    """
    plink = ctx.links.payment(payment.provider, payment.provider_id)
    if plink is not None and plink.entry_id is not None:
        return Processed(f"payment {payment.provider_id} already settled")
    ready = _invoice_ready(
        ctx, ctx.links.order(payment.order_reference), payment, event_ref, parked
    )
    if isinstance(ready, Parked):
        return ready
    link = ready
    payment, shown = in_shop_money(link, payment)
    method_id, method = payment_method_id(ctx, payment.gateway)
    fresh = plink is None
    plink = plink or PaymentLink(
        provider=payment.provider,
        payment_id=payment.provider_id,
        order_reference=link.reference,
        amount=payment.amount,
        presentment_amount=shown,
    )
    if payment.provider_id in link.payments:  # its own link expired, the order's did not
        return Processed(f"payment {payment.provider_id} already settled on {link.reference}")
    forgotten = fresh and links_may_have_expired(ctx, payment.date)
    if plink.intended(SETTLE) or forgotten:
        entries = ctx.sage.accounting_entries_by_document_number(
            payment.provider_id[:DOCUMENT_NUMBER_MAX]
        )
        if entries:
            plink.entry_id, plink.entry_number = entries[0].id, entries[0].number
            return _record(ctx, link, plink, payment, method, chain_open_items(ctx, link))
    if payment.fallback and link.payments:
        return Processed(f"orders/paid fallback: {link.reference} has settlements already")
    groups = chain_open_items(ctx, link)
    items = [item for _, each in groups for item in each if item.outstanding > 0]
    due = sum((i.outstanding for i in items), Decimal("0"))
    if payment.amount > due:
        return _overpaid(ctx, link, payment, due)
    lines = allocate(items, payment.amount)
    values = SettlementInput(
        entry_date=payment.date,
        payment_method_id=method_id,
        third_party_id=link.customer_id or "",
        description=f"{payment.provider} {payment.provider_id} {link.number or ''}".strip()[:200],
        document_number=payment.provider_id[:DOCUMENT_NUMBER_MAX],
        lines=lines,
    )
    ctx.check()
    plink.intend(SETTLE, ctx.now())
    ctx.links.save_payment(plink)
    settlement = ctx.sage.settle(values)
    plink.entry_id = settlement.accounting_entry_id
    plink.entry_number = settlement.accounting_entry_number
    after = [(doc, after_settlement(each, lines)) for doc, each in groups]
    return _record(ctx, link, plink, payment, method, after)


def _overpaid(ctx: SyncContext, link: OrderLink, payment: Payment, due: Decimal) -> Processed:
    """A payment above what is due: an error, unless a fallback settlement explains it.

    Raises:
        PermanentError: the overpayment, naming both amounts.
    """
    fallback = next((p for p in link.payments if p.startswith("paid:")), None)
    if fallback is None or payment.fallback:
        raise PermanentError(
            f"payment {payment.provider_id} of {payment.amount} {payment.currency} exceeds the "
            f"{due:.2f} still due on invoice {link.number or link.invoice_id} ({link.reference})"
        )
    ctx.needs_attention(
        AttentionItem(
            id=f"payment-after-fallback:{payment.provider}:{payment.provider_id}",
            kind="payment_after_fallback",
            order_reference=link.reference,
            amount=payment.amount,
            currency=payment.currency,
            reason=f"transaction {payment.provider_id} arrived after the orders/paid fallback "
            f"settlement {fallback}; only {due:.2f} is still due, check the settlements",
            source=payment.provider_id,
        )
    )
    return Processed(f"payment {payment.provider_id} covered by fallback {fallback}")
