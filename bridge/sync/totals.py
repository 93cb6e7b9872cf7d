"""One rule for every document: its total is the provider's amount, to the cent, or it is
not posted.

Before an invoice or a credit note is posted, what Sage computed on the draft (its
`totalLiquid` and the VAT of its lines per rate) is compared with the provider's figures
(`Figures`). A difference leaves nothing posted: the draft is deleted while it is Pending
(a Closed one, numbered at creation, stays unposted), one attention item names both
amounts, and the event fails with that reason (`TotalMismatch`, a `PermanentError`).

`difference` is the pure comparison; `enforce` applies the rule. Every path that posts a
sales document calls `enforce` first (`bridge.sync.invoices`, `bridge.sync.refunds`, and
any later kind of document).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from bridge.store.attention import AttentionItem
from bridge.sync.context import SyncContext
from bridge.sync.dispatch import PermanentError
from bridge.sync.sage_documents import delete_document
from connectors.sage_active.models import SalesInvoice, SalesInvoiceLine

ZERO = Decimal("0")
CENT = Decimal("0.01")


class TotalMismatch(PermanentError):
    """Sage's figures for a draft are not the provider's: nothing was posted."""


@dataclass(frozen=True)
class Figures:
    """A document's total (VAT included) and its VAT per rate (percent -> amount).

    Signs as Sage shows them: a credit note's figures are negative.
    """

    total: Decimal
    vat: Mapping[Decimal, Decimal] = field(default_factory=dict)

    def negated(self) -> Figures:
        return Figures(-self.total, {rate: -v for rate, v in self.vat.items()})


def vat_by_rate(lines: Iterable[SalesInvoiceLine]) -> dict[Decimal, Decimal]:
    """VAT per rate of Sage's document lines (`totalLiquid - totalNet` of each line)."""
    found: dict[Decimal, Decimal] = {}
    for line in lines:
        vat = (line.total_liquid or ZERO) - (line.total_net or ZERO)
        rate = line.vat_percentage or ZERO
        found[rate] = found.get(rate, ZERO) + vat
    return found


def _nonzero(vat: Mapping[Decimal, Decimal]) -> dict[Decimal, Decimal]:
    return {rate: amount for rate, amount in vat.items() if amount != 0}


def _amount(value: Decimal | None) -> str:
    """An amount with at least its cents (Sage may answer `-120` for -120.00)."""
    if value is None:
        return "nothing"
    exponent = value.as_tuple().exponent
    return f"{value.quantize(CENT) if isinstance(exponent, int) and exponent > -2 else value}"


def _show(vat: Mapping[Decimal, Decimal]) -> str:
    shown = ", ".join(f"{_amount(v)} at {r.normalize():f} %" for r, v in sorted(vat.items()))
    return shown or "none"


def difference(expected: Figures, document: SalesInvoice) -> str | None:
    """What differs between the provider's figures and Sage's draft, or None when equal."""
    got_total = document.total_liquid
    got_vat = _nonzero(vat_by_rate(document.lines))
    wanted_vat = _nonzero(expected.vat)
    problems = []
    if got_total != expected.total:
        problems.append(
            f"total {_amount(got_total)} in Sage, {_amount(expected.total)} from the provider"
        )
    if got_vat != wanted_vat:
        problems.append(f"VAT {_show(got_vat)} in Sage, {_show(wanted_vat)} expected")
    return "; ".join(problems) or None


def enforce(
    ctx: SyncContext,
    document: SalesInvoice,
    expected: Figures,
    *,
    what: str,
    order_reference: str,
    source: str,
    currency: str | None = None,
) -> None:
    """Let `document` be posted only if its figures are `expected` (module docstring).

    `what` names the document for a person ("credit note of refund re_1"); `source` is
    the provider object it books (the attention item's key, one per source).

    Raises:
        TotalMismatch: the figures differ; the draft was deleted when it was Pending.
        SageError: the delete failed (classified by the caller; retried, checked again).
    """
    problem = difference(expected, document)
    if problem is None:
        return
    kept = ""
    if document.status == "Pending":
        ctx.check()
        delete_document(ctx.sage, document.id)
        kept = "; the draft was deleted, nothing was posted"
    else:
        kept = f"; it stays {document.status} in Sage, not posted"
    reason = f"{what}: {problem}{kept}"
    ctx.needs_attention(
        AttentionItem(
            id=f"total_mismatch:{order_reference}:{source}",
            kind="total_mismatch",
            order_reference=order_reference,
            amount=expected.total,
            currency=currency,
            reason=reason,
            source=source,
        )
    )
    raise TotalMismatch(reason)
