"""What an order edit after invoicing adds to the order's documents (pure, no I/O).

- The lines it added (`additions`, new shipping lines) become a supplementary invoice,
  priced from the order as its update after the edit shows it: a whole new line as it is
  (Shopify's own amounts), a quantity added to a line at that line's unit price,
  discount and rate. Its reference is `<order reference>:edit:<edit id>`.
- The lines it removed (`removals`, removed shipping lines) become a credit note of
  those quantities at the invoiced prices: a Refund `edit:<edit id>` of the invoice.
- The edit waits when the order's update does not show its added lines yet (Shopify
  sends `orders/edited` and `orders/updated` in no promised order).

The caller then checks the one rule: the order's documents (invoice, supplementary
invoices, minus their credit notes) must add up to the order's current total, to the
cent, before anything is posted.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from bridge.models import Line, LineKind, Order, OrderEdit, Refund, RefundLine
from bridge.money import ZERO

EDIT_KINDS = frozenset({LineKind.PRODUCT, LineKind.GIFT_CARD, LineKind.TIP})


class EditNotPlanned(Exception):
    """The edit cannot be planned; `waiting` when a later update may let it (module doc)."""

    def __init__(self, reason: str, *, waiting: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.waiting = waiting


def edit_reference(order_reference: str, edit_id: str) -> str:
    """The `salesOrderNumber` of an edit's supplementary invoice."""
    return f"{order_reference}:edit:{edit_id}"[:250]


def edit_refund_id(edit_id: str) -> str:
    """The refund id under which an edit's removals are credited."""
    return f"edit:{edit_id}"


@dataclass(frozen=True)
class EditPlan:
    edit: OrderEdit
    invoice: Order | None  # the supplementary invoice, when the edit added something
    credit: Refund | None  # what it removed, when anything
    credited: Decimal  # the credit note's total at the invoiced prices (>= 0)

    @property
    def change(self) -> Decimal:
        """What the edit adds to the order's documents (negative when it removes more)."""
        added = self.invoice.total if self.invoice else ZERO
        return added - self.credited


def _line(lines: list[Line], line_id: str, kinds: frozenset[LineKind]) -> Line | None:
    return next((x for x in lines if x.provider_line_id == line_id and x.kind in kinds), None)


def _part(line: Line, quantity: Decimal) -> Line:
    if quantity == line.quantity:
        return line
    return Line.build(
        kind=line.kind,
        title=line.title,
        sku=line.sku,
        quantity=quantity,
        unit_price=line.unit_price,
        discount_percent=line.discount_percent,
        vat_rate=line.vat_rate,
        provider_line_id=line.provider_line_id,
    )


def _added(current: Order, edit: OrderEdit) -> list[Line]:
    found: list[Line] = []
    for added in edit.added:
        line = _line(current.lines, added.provider_line_id, EDIT_KINDS)
        if line is None or line.quantity < added.quantity:
            raise EditNotPlanned(
                f"edit {edit.provider_id}: line {added.provider_line_id} (+{added.quantity}) "
                "is not in the order's latest update yet; waiting for orders/updated",
                waiting=True,
            )
        found.append(_part(line, added.quantity))
    for ship_id in edit.shipping_added:
        line = _line(current.lines, ship_id, frozenset({LineKind.SHIPPING}))
        if line is None:
            raise EditNotPlanned(
                f"edit {edit.provider_id}: shipping line {ship_id} is not in the order's "
                "latest update yet; waiting for orders/updated",
                waiting=True,
            )
        found.append(line)
    return found


def _removed(invoiced: Order, edit: OrderEdit) -> tuple[list[RefundLine], Decimal, Decimal]:
    lines: list[RefundLine] = []
    total = ZERO
    for removed in edit.removed:
        line = _line(invoiced.lines, removed.provider_line_id, EDIT_KINDS)
        if line is None or line.quantity < removed.quantity:
            raise EditNotPlanned(
                f"edit {edit.provider_id}: removed line {removed.provider_line_id} "
                f"(-{removed.quantity}) is not on the invoice {invoiced.reference} in that "
                "quantity (added by an earlier edit?): credit it by hand",
                waiting=False,
            )
        gross = _part(line, removed.quantity).gross
        lines.append(
            RefundLine(
                kind=line.kind,
                sku=line.sku,
                provider_line_id=line.provider_line_id,
                quantity=removed.quantity,
                amount=gross,
            )
        )
        total += gross
    shipping = ZERO
    for ship_id in edit.shipping_removed:
        line = _line(invoiced.lines, ship_id, frozenset({LineKind.SHIPPING}))
        if line is None:
            raise EditNotPlanned(
                f"edit {edit.provider_id}: removed shipping line {ship_id} is not on the "
                f"invoice {invoiced.reference}: credit it by hand",
                waiting=False,
            )
        shipping += line.gross
    return lines, shipping, total + shipping


def plan_edit(invoiced: Order, current: Order, edit: OrderEdit, parent: str) -> EditPlan:
    """The documents of `edit` on the order invoiced as `invoiced`, now `current`;
    `parent` is the order's reference.

    Raises:
        EditNotPlanned: see the module docstring.
    """
    added = _added(current, edit)
    invoice = None
    if added:
        rounding = sum((x.gross for x in added if x.kind is LineKind.ROUNDING), ZERO)
        invoice = Order(
            provider=current.provider,
            account=current.account,
            provider_id=f"{current.provider_id}:edit:{edit.provider_id}",
            number=f"{current.number}/{edit.provider_id}"[:50],
            reference=edit_reference(parent, edit.provider_id),
            external_reference=current.external_reference,
            currency=current.currency,
            date=edit.date,
            customer=current.customer,
            lines=added,
            total=sum((x.gross for x in added), ZERO),
            rounding=rounding,
            taxes_included=current.taxes_included,
            gateways=current.gateways,
            fulfilled=current.fulfilled,
        )
    refund_lines, shipping, credited = _removed(invoiced, edit)
    credit = None
    if refund_lines or shipping:
        credit = Refund(
            provider=current.provider,
            account=current.account,
            provider_id=edit_refund_id(edit.provider_id),
            order_reference=parent,
            lines=refund_lines,
            shipping=shipping,
            date=edit.date,
            currency=current.currency,
        )
    return EditPlan(edit=edit, invoice=invoice, credit=credit, credited=credited)
