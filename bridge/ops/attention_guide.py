"""What a person should book in Sage for each kind of attention item, in Sage's terms.

An attention item says what the bridge could not express (`reason`); `guidance` says which
document or entry to make by hand, on which invoice, for how much, and on which accounts
(the French chart the bridge books with: 411 customers, 44571 VAT collected, 512 bank,
627 fees, 709 discounts granted, the processors' clearing accounts). Every kind the bridge
records has its own text (a test reads the sources for `kind=` and checks it). Kind names
in words (`KIND_LABELS`) are what the console shows instead of the key.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from bridge.models import LineKind
from bridge.settings import Settings
from bridge.store.attention import AttentionItem
from bridge.store.links import OrderLink

LINE_KINDS = tuple(kind.value for kind in LineKind)  # `<kind>_refund`: the credit planner

KIND_LABELS: dict[str, str] = {
    "refund_adjustment": "Refund without line detail",
    "refund_line_unknown": "Refunded line not on the invoice",
    "refund_line_difference": "Refund differs from the invoice's prices",
    "order_changed": "Order changed after invoicing",
    "payment_after_fallback": "Payment after the paid-status settlement",
    "unlinked_payment": "Payment with no order",
    "dispute": "Dispute (chargeback)",
    "credit_note_voided": "Credit note voided in Stripe",
    "payout": "Payout not booked",
    "payout_unmatched": "Payout lines with no order",
    "payout_mapping": "Payout accounts missing in Sage",
    "refund_not_exact": "Refund not expressible on the invoice",
    "refund_exceeds": "Refund above what is left to credit",
    "total_mismatch": "Invoice total differs from the order",
    "invoice_uncollectible": "Invoice uncollectible in Stripe",
    "payout_bank": "Payout not seen in the bank",
    "month_close": "Month close not done",
    "einvoice": "E-invoice not delivered",
    "before_go_live": "Before the go-live date: book by hand",
    **{f"{kind}_refund": f"{kind.replace('_', ' ').capitalize()} refund not exact"
       for kind in LINE_KINDS},
}  # fmt: skip


def kind_label(kind: str) -> str:
    """The kind in words (the key itself, capitalised, for a kind with no label)."""
    return KIND_LABELS.get(kind, kind.replace("_", " ").capitalize())


class _Say:
    """The facts a text is made from: amount, currency, invoice, accounts."""

    def __init__(self, item: AttentionItem, link: OrderLink | None, settings: Settings) -> None:
        self.amount = abs(item.amount) if item.amount is not None else None
        self.sign = (item.amount or Decimal(0)).compare(Decimal(0))
        self.money = f"{self.amount:.2f} {item.currency or ''}".strip() if self.amount else "it"
        number = (link.number or link.invoice_id) if link else None
        self.invoice = f"invoice {number}" if number else "the order's invoice"
        self.customer = settings.customers_account
        self.fees, self.bank = settings.fees_account, settings.payout_bank_account
        self.clearing = ", ".join(f"{v} ({k})" for k, v in settings.clearing_accounts.items())


def _credit_note(s: _Say, line: str) -> str:
    return (
        f"In Sage: Sales > Invoices > {s.invoice} > Create a credit note of {s.money} "
        f"incl. VAT with {line}; once posted it books 709 (or the product's sales "
        f"account) and 44571 VAT collected against the customer's {s.customer} account."
    )


def _refund_adjustment(s: _Say) -> str:
    if s.sign < 0:
        return (
            f"The customer got {s.money} less than the lines credited (e.g. a "
            f"restocking fee kept). In Sage: a sales invoice of {s.money} incl. VAT to the "
            f"customer on a fee product (706/708 and 44571), lettered on {s.customer}."
        )
    return _credit_note(
        s,
        "one line on your discount / adjustment product at the invoice's "
        "VAT rate (unit price = amount / (1 + rate))",
    )


def _line_refund(s: _Say) -> str:
    return _credit_note(
        s,
        "one line, quantity 1, on the product of the refunded line (its "
        "unit price excl. VAT, so the credit note's total is the amount)",
    )


def _difference(s: _Say) -> str:
    if s.sign < 0:
        return (
            f"The credit note credits {s.money} more than was refunded: in Sage, a "
            f"sales invoice of {s.money} to the customer (or ask the accountant to "
            f"accept the difference on 658/758)."
        )
    return _credit_note(s, "one line on the refunded product for the difference")


def _order_changed(s: _Say) -> str:
    if s.sign < 0:
        return _credit_note(s, "the lines removed or reduced after invoicing")
    return (
        f"The order grew by {s.money} after {s.invoice} was made: in Sage, a new sales "
        f"invoice of {s.money} incl. VAT to the same customer with the added lines."
    )


GUIDES: dict[str, Callable[[_Say], str]] = {
    "refund_adjustment": _refund_adjustment,
    "refund_line_unknown": _line_refund,
    "refund_line_difference": _difference,
    "order_changed": _order_changed,
    "payment_after_fallback": lambda s: (
        f"Open {s.invoice} > Settlements in Sage: if the paid-status settlement and this "
        f"transaction both paid it, delete the extra settlement entry in the bank journal "
        f"(or refund the customer {s.money})."),
    "unlinked_payment": lambda s: (
        f"Book {s.money} received in Sage as a customer receipt: debit the payment method's "
        f"account (512 or the clearing account), credit {s.customer}; letter it against "
        f"the invoice when you find the order, or refund it."),
    "dispute": lambda s: (
        f"Nothing to book yet: when Stripe takes the money back the payout entry books it. "
        f"If the dispute is lost, make a credit note on {s.invoice} (goods returned) or an "
        f"entry debit 654 Pertes sur créances irrécouvrables, credit {s.customer}."),
    "credit_note_voided": lambda s: (
        f"Sage credit notes cannot be deleted: make a new sales invoice of {s.money} to the "
        f"customer with the lines the voided credit note credited."),
    "payout": lambda s: (
        f"Book the payout by hand in the bank journal: debit {s.bank} (bank) {s.money}, "
        f"debit {s.fees} (fees) the payout's fees, credit the clearing account ({s.clearing}) "
        f"with the total of its sales less its refunds."),
    "payout_unmatched": lambda s: (
        f"{s.money} of refunds / disputes were booked on the clearing account ({s.clearing}): "
        f"once you know their orders, move them to the customers' {s.customer} accounts "
        f"with a transfer entry and letter them with the credit notes."),
    "payout_mapping": lambda s: (
        "Nothing to book: create the missing account or journal in Sage (Settings > Chart "
        "of accounts / Journals); payouts then book themselves at the next check."),
    "refund_not_exact": lambda s: (
        f"Nothing was credited. In Sage: Sales > Invoices > {s.invoice} > Create a credit "
        f"note of {s.money} incl. VAT with the lines and quantities refunded (or one line on "
        f"your adjustment product at the invoice's VAT rate); it books 709 and 44571 "
        f"against {s.customer}."
    ),
    "refund_exceeds": lambda s: (
        f"The refund ({s.money}) is more than is left to credit on {s.invoice}: check its "
        f"credit notes in Sage; credit only what is still invoiced, and book the money paid "
        f"back beyond it as an entry debit {s.customer}, credit the payment method's account."
    ),
    "total_mismatch": lambda s: (
        "Nothing was posted: the invoice Sage would make differs from the order's total. "
        "Check the order's lines and VAT rates against the products in Sage, fix the product "
        "or mapping and replay the order's event, or make the invoice by hand for the total."
    ),
    "invoice_uncollectible": lambda s: (
        f"Stripe gave up collecting {s.money}: write the debt off in Sage with an entry debit "
        f"654 Pertes sur créances irrécouvrables (net) and 44571 (VAT), credit {s.customer}; "
        f"or a credit note on {s.invoice} if the sale is cancelled."
    ),
    "payout_bank": lambda s: (
        f"Look for {s.money} in Sage's bank transactions ({s.bank}); when it arrives, match it "
        f"with the payout's entry; if the bank never received it, ask the processor."
    ),
    "before_go_live": lambda s: (
        f"The order predates the go-live date: its invoice was booked by hand. In Sage, find "
        f"that invoice (Sales > Invoices, by the order number) and record this {s.money} on "
        f"it: a payment as a settlement of its open item (debit the payment method's "
        f"account, credit {s.customer}), a refund as a credit note on it (and the money paid "
        f"back as an entry debit {s.customer}, credit the payment method's account)."
    ),
    "month_close": lambda s: (
        "Fix what the reason names (the supplier, purchase journal or tax code in Sage), then "
        "run `bridge close-month` again; or book the processor's fee invoice by hand as a "
        "purchase invoice with reverse-charge VAT."
    ),
    "einvoice": lambda s: (
        f"Nothing to book: {s.invoice} is posted, but Sage's e-invoicing platform did not "
        f"deliver it (the reason is above). Fix what it names (the customer's SIREN/SIRET or "
        f"routing address, the invoice's data) in Sage, then retry from the order's page, "
        f"`bridge einvoice retry <ref>` or POST /admin/einvoice/retry; if the buyer refused "
        f"it, make a credit note on {s.invoice} and a new invoice."
    ),
    **{f"{kind}_refund": _line_refund for kind in LINE_KINDS},
}  # fmt: skip


def guidance(item: AttentionItem, link: OrderLink | None, settings: Settings) -> str:
    """Which entry to make in Sage for `item` (`link`: its order, when the bridge has it)."""
    guide = GUIDES.get(item.kind)
    say = _Say(item, link, settings)
    if guide is None:
        return (
            f"Check {say.invoice} in Sage and book {say.money} by hand, then resolve "
            "this item with a note saying what you booked."
        )
    return guide(say)
