"""What a refund credits, in terms `generateCreditNote` can express (pure, no I/O).

`generateCreditNote` credits products by quantity at the invoice's prices, or the whole
invoice. So:
- a refunded line credits its order line's product, quantity and unit price; a refund
  amount that differs from what Sage will compute for it is recorded for attention;
- refunded shipping credits the shipping line with a fractional quantity when one exists
  that is exact to the cent, else it needs attention; refunded duties and fees (amount-only
  refund lines of those kinds) credit the order's duties / fees line the same way;
- money tied to no line (`adjustments`: goodwill, restocking fees, Stripe refunds, which
  carry no lines) cannot be expressed, except a refund of everything still credited-free
  with no line detail, which is a full credit note; anything else needs attention;
- a cancellation (`full`) credits whatever remains.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from bridge.models import Line, LineKind, Refund, RefundLine
from bridge.money import sage_line_amounts
from bridge.store.attention import AttentionItem
from bridge.store.links import OrderLink
from connectors.sage_active.models import CreditNoteLineInput

QUANTITY_QUANTUM = Decimal("0.000001")


@dataclass
class CreditPlan:
    """Lines to credit (or `full`), the amount Sage will credit, and what needs attention."""

    lines: list[CreditNoteLineInput] = field(default_factory=list)
    full: bool = False
    amount: Decimal = Decimal("0")
    attention: list[AttentionItem] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.full and not self.lines


def _gross(line: Line, quantity: Decimal) -> Decimal:
    net, vat = sage_line_amounts(quantity, line.unit_price, line.discount_percent, line.vat_rate)
    return net + vat


def _find_line(lines: list[Line], wanted: RefundLine) -> int | None:
    for index, line in enumerate(lines):
        if wanted.provider_line_id and line.provider_line_id == wanted.provider_line_id:
            return index
    if wanted.sku:
        for index, line in enumerate(lines):
            if line.kind is LineKind.PRODUCT and line.sku == wanted.sku:
                return index
    return None


def shipping_quantity(line: Line, amount: Decimal) -> Decimal | None:
    """The share of shipping line `line` that `amount` is, when it is exact, else None.

    Exact means: `amount / line gross` is a quantity of at most 6 decimals with no
    remainder (half the shipping: 0.5), and Sage's arithmetic on it gives `amount` to the
    cent. A share that only rounds to the amount (0.01 of 6.00) is not a credit of part
    of the shipping but an amount without line detail.
    """
    if amount == line.gross:
        return line.quantity
    if line.gross <= 0 or amount <= 0:
        return None
    share = amount * line.quantity / line.gross
    quantity = share.quantize(QUANTITY_QUANTUM, ROUND_HALF_UP)
    if quantity != share or not 0 < quantity <= line.quantity:
        return None
    return quantity.normalize() if _gross(line, quantity) == amount else None


class _Planner:
    def __init__(self, link: OrderLink, refund: Refund) -> None:
        if link.order is None:
            raise ValueError(f"order {link.reference} has no snapshot")
        self.link, self.refund, self.order = link, refund, link.order
        self.plan = CreditPlan()

    def attention(self, kind: str, amount: Decimal, reason: str, n: int = 0) -> None:
        refund = self.refund
        self.plan.attention.append(
            AttentionItem(
                id=f"{kind}:{refund.provider}:{refund.provider_id}:{n}",
                kind=kind,
                order_reference=self.link.reference,
                amount=amount,
                currency=refund.currency or self.order.currency,
                reason=reason,
                source=refund.provider_id,
            )
        )

    def credit(self, index: int, quantity: Decimal) -> Decimal:
        line = self.order.lines[index]
        self.plan.lines.append(
            CreditNoteLineInput(
                product_id=self.link.line_products[index],
                quantity=quantity,
                unit_price=line.unit_price,
            )
        )
        gross = _gross(line, quantity)
        self.plan.amount += gross
        return gross

    def lines(self) -> None:
        for n, wanted in enumerate(self.refund.lines):
            if wanted.quantity == 0 and wanted.kind is not LineKind.PRODUCT:
                self.share(wanted.kind, wanted.amount, f"{wanted.kind.value}_refund", n)
                continue
            if wanted.quantity <= 0:
                continue
            index = _find_line(self.order.lines, wanted)
            if index is None:
                self.attention(
                    "refund_line_unknown",
                    wanted.amount,
                    f"refunded line {wanted.provider_line_id or wanted.sku} is not on the invoice",
                    n,
                )
                continue
            gross = self.credit(index, wanted.quantity)
            if gross != wanted.amount:
                self.attention(
                    "refund_line_difference",
                    wanted.amount - gross,
                    f"line {self.order.lines[index].title!r}: {wanted.amount} refunded, the "
                    f"credit note credits {gross} at the invoice's prices",
                    n,
                )

    def shipping(self) -> None:
        if self.refund.shipping != 0:
            self.share(LineKind.SHIPPING, self.refund.shipping, "shipping_refund")

    def share(self, kind: LineKind, amount: Decimal, attention: str, n: int = 0) -> None:
        """Credit `amount` as an exact share of the order's line of `kind`, or ask a person."""
        for index, line in enumerate(self.order.lines):
            if line.kind is kind:
                quantity = shipping_quantity(line, amount)
                if quantity is not None:
                    self.credit(index, quantity)
                    return
        self.attention(
            attention,
            amount,
            f"{kind.value} refund of {amount} matches no exact quantity of a {kind.value} line",
            n,
        )

    def adjustments(self) -> None:
        amount = self.refund.adjustments
        if amount == 0:
            return
        remaining = self.order.total - self.link.credited
        if not self.plan.lines and amount == remaining and not self.link.refunds:
            self.plan.full, self.plan.amount = True, remaining
            return
        self.attention(
            "refund_adjustment",
            amount,
            f"{amount} refunded without line detail (order adjustment or provider refund): "
            "Sage's credit note API cannot express it; book it by hand",
        )


def plan_credit(link: OrderLink, refund: Refund) -> CreditPlan:
    """The credit note for `refund` on `link`'s invoice (see the module docstring).

    Raises:
        ValueError: the link has no order snapshot.
    """
    planner = _Planner(link, refund)
    if refund.full:
        planner.plan.full = True
        planner.plan.amount = planner.order.total - link.credited
        return planner.plan
    planner.lines()
    planner.shipping()
    planner.adjustments()
    return planner.plan
