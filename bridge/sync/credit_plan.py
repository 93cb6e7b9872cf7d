"""What a refund credits, as `generateCreditNote` lines, to the cent (pure, no I/O).

`generateCreditNote` credits the invoice's lines by quantity at the invoice's prices
(reference 10-sales-actions: quantities are decimals, never above what is left), or the
whole invoice. Every refund becomes such lines, priced from the invoice as Sage holds it
(`SalesInvoice` lines with `availableForCreditNoteQuantity`), the order snapshot only
saying which line is which:

- a refunded line whose amount is what its quantity costs at the invoice's price credits
  that quantity; a line refunded for another amount (a Stripe credit-note line credited
  by amount, a Shopify line refunded at a different price) credits exactly that amount
  on that line (`bridge.sync.credit_split`);
- refunded shipping, duties and fees credit that amount on the invoice's lines of that
  kind (on all lines, pro rata, when the invoice has none);
- money tied to no line (`adjustments`: Stripe refunds, which carry no lines, Shopify
  goodwill and `refund_discrepancy` adjustments, Stripe custom lines and credit-note
  discounts) is a rebate: credited over the invoice's VAT bases, pro rata, exact per rate;
  money kept (a negative adjustment: a restocking fee) lowers the lines refunded with it,
  pro rata;
- a cancellation (`full`) credits whatever is left.

The plan's total is the provider's amount to the cent, or `CreditRefused` says why not
(more than is left to credit, a line not on the invoice, no exact split): then nothing is
credited at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from bridge.models import Line, LineKind, Order, Refund, RefundLine
from bridge.store.links import OrderLink
from bridge.sync.credit_split import NotExpressible, Piece, Room, credit_amount
from connectors.sage_active.models import CreditNoteLineInput, SalesInvoice

ZERO = Decimal("0")


class CreditRefused(ValueError):
    """The refund cannot be credited exactly (nothing is); `kind` names the reason's kind."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass
class CreditPlan:
    """Lines to credit (or `full`), and what Sage must compute for them."""

    lines: list[CreditNoteLineInput] = field(default_factory=list)
    full: bool = False
    amount: Decimal = ZERO
    vat: dict[Decimal, Decimal] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.full and not self.lines


def rooms_of(invoice: SalesInvoice) -> list[Room]:
    """What is left to credit on each line of `invoice`, at Sage's prices."""
    return [
        Room(
            index=n,
            unit_price=line.unit_price,
            discount=line.first_discount or ZERO,
            rate=line.vat_percentage or ZERO,
            available=line.total_quantity
            if line.available_for_credit_note_quantity is None
            else line.available_for_credit_note_quantity,
        )
        for n, line in enumerate(invoice.lines)
    ]


def _find_line(lines: list[Line], wanted: RefundLine) -> int | None:
    for index, line in enumerate(lines):
        if wanted.provider_line_id and line.provider_line_id == wanted.provider_line_id:
            return index
    if wanted.sku:
        for index, line in enumerate(lines):
            if line.kind is LineKind.PRODUCT and line.sku == wanted.sku:
                return index
    return None


class _Planner:
    def __init__(self, order: Order, invoice: SalesInvoice, refund: Refund) -> None:
        self.order, self.invoice, self.refund = order, invoice, refund
        self.rooms = rooms_of(invoice)
        self.pieces: list[Piece] = []
        self.wanted = ZERO  # the provider's amount, as the refund's parts add up

    def used(self) -> dict[int, Decimal]:
        taken: dict[int, Decimal] = {}
        for piece in self.pieces:
            taken[piece.index] = taken.get(piece.index, ZERO) + piece.quantity
        return taken

    def amount_on(self, rooms: list[Room], gross: Decimal, what: str) -> None:
        self.wanted += gross
        try:
            self.pieces += credit_amount(rooms, gross, self.used())
        except NotExpressible as exc:
            kind = "refund_exceeds" if "left to credit" in str(exc) else "refund_not_exact"
            raise CreditRefused(kind, f"{what} of {gross}: {exc}") from exc

    def of_kind(self, kind: LineKind) -> list[Room]:
        found = [r for r in self.rooms if self.order.lines[r.index].kind is kind]
        return found or self.rooms

    def line(self, wanted: RefundLine) -> None:
        if wanted.quantity == 0 and wanted.kind is not LineKind.PRODUCT:
            self.amount_on(self.of_kind(wanted.kind), wanted.amount, f"{wanted.kind.value} refund")
            return
        if wanted.quantity <= 0:
            return
        index = _find_line(self.order.lines, wanted)
        if index is None:
            raise CreditRefused(
                "refund_line_unknown",
                f"refunded line {wanted.provider_line_id or wanted.sku} is not on the invoice",
            )
        room = self.rooms[index]
        net, vat = room.amounts(wanted.quantity)
        left = room.available - self.used().get(index, ZERO)
        if net + vat == wanted.amount and wanted.quantity <= left:
            self.wanted += wanted.amount
            self.pieces.append(Piece(index, wanted.quantity, net, vat, room.rate))
            return
        title = self.order.lines[index].title
        self.amount_on([room], wanted.amount, f"line {title!r} refunded")

    def keep(self, kept: Decimal) -> None:
        """Lower what the refund's lines credit by `kept` (a restocking fee), pro rata."""
        credited = sum((p.gross for p in self.pieces), ZERO)
        if kept >= credited:
            raise CreditRefused(
                "refund_not_exact",
                f"{kept} kept on a refund crediting {credited}: nothing left to credit",
            )
        capped = [
            Room(r.index, r.unit_price, r.discount, r.rate, q)
            for r in self.rooms
            if (q := self.used().get(r.index, ZERO)) > 0
        ]
        self.pieces, self.wanted = [], self.wanted - kept
        try:
            self.pieces = credit_amount(capped, credited - kept)
        except NotExpressible as exc:
            raise CreditRefused("refund_not_exact", f"refund less {kept} kept: {exc}") from exc

    def plan(self) -> CreditPlan:
        refund = self.refund
        for wanted in refund.lines:
            self.line(wanted)
        if refund.shipping != 0:
            self.amount_on(self.of_kind(LineKind.SHIPPING), refund.shipping, "shipping refund")
        if refund.adjustments > 0:
            self.amount_on(self.rooms, refund.adjustments, "amount refunded without a line")
        elif refund.adjustments < 0:
            self.keep(-refund.adjustments)
        return _plan_of(self.pieces, self.invoice, self.wanted)


def _plan_of(pieces: list[Piece], invoice: SalesInvoice, wanted: Decimal) -> CreditPlan:
    plan = CreditPlan()
    for piece in pieces:
        line = invoice.lines[piece.index]
        plan.lines.append(
            CreditNoteLineInput(
                product_id=str(line.product_id), quantity=piece.quantity, unit_price=line.unit_price
            )
        )
        plan.amount += piece.gross
        plan.vat[piece.rate] = plan.vat.get(piece.rate, ZERO) + piece.vat
    if plan.amount != wanted:  # the splitter's promise, checked rather than trusted
        raise CreditRefused(
            "refund_not_exact", f"the credit note would credit {plan.amount}, not {wanted}"
        )
    return plan


def full_plan(invoice: SalesInvoice) -> CreditPlan:
    """Everything left on `invoice` (a cancellation, a voided invoice)."""
    plan = CreditPlan(full=True)
    for room in rooms_of(invoice):
        if room.available > 0:
            net, vat = room.left()
            plan.amount += net + vat
            plan.vat[room.rate] = plan.vat.get(room.rate, ZERO) + vat
    return plan


def plan_credit(link: OrderLink, invoice: SalesInvoice, refund: Refund) -> CreditPlan:
    """The credit note for `refund` on `invoice`, `link`'s Sage invoice (module docstring).

    Raises:
        CreditRefused: it cannot be credited exactly; nothing is to be credited.
        ValueError: the link has no order snapshot.
    """
    order = link.order
    if order is None:
        raise ValueError(f"order {link.reference} has no snapshot")
    if refund.full:
        return full_plan(invoice)
    if len(invoice.lines) != len(order.lines):
        raise CreditRefused(
            "refund_not_exact",
            f"invoice {invoice.operational_number or invoice.id} has {len(invoice.lines)} "
            f"lines, the order {len(order.lines)}: its lines cannot be matched",
        )
    return _Planner(order, invoice, refund).plan()
