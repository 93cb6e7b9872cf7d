"""The total rule's comparison: Sage's draft figures against the provider's, to the cent."""

from __future__ import annotations

from decimal import Decimal

from bridge.sync.totals import Figures, difference, vat_by_rate
from connectors.sage_active.models import SalesInvoice, SalesInvoiceLine

D = Decimal


def draft(total: str, *lines: tuple[str, str, str]) -> SalesInvoice:
    """A Pending credit note as Sage answers it: (rate, net, liquid) per line."""
    return SalesInvoice(
        id="cn",
        status="Pending",
        total_liquid=D(total),
        lines=[
            SalesInvoiceLine(vat_percentage=D(rate), total_net=D(net), total_liquid=D(liquid))
            for rate, net, liquid in lines
        ],
    )


def test_the_24_credit_note_drafted_at_120_is_a_difference_naming_both_amounts() -> None:
    # given Stripe's 24.00 credit note (20.00 + 4.00 VAT) and a draft crediting the whole
    # 120.00 line (the bug of issue 20)
    expected = Figures(D("24.00"), {D("20"): D("4.00")}).negated()
    wrong = draft("-120.00", ("20", "-100.00", "-120.00"))

    found = difference(expected, wrong)

    assert found == (
        "total -120.00 in Sage, -24.00 from the provider; "
        "VAT -20.00 at 20 % in Sage, -4.00 at 20 % expected"
    )


def test_the_24_credit_note_drafted_at_24_passes() -> None:
    expected = Figures(D("24.00"), {D("20"): D("4.00")}).negated()

    assert difference(expected, draft("-24.00", ("20", "-20.00", "-24.00"))) is None


def test_vat_is_compared_per_rate_not_only_in_total() -> None:
    # the right total, the VAT on the wrong rates
    expected = Figures(D("30.00"), {D("20"): D("4.00"), D("5.5"): D("0.31")})
    swapped = draft("30.00", ("20", "5.69", "6.00"), ("5.5", "20.00", "24.00"))

    assert vat_by_rate(swapped.lines) == {D("20"): D("0.31"), D("5.5"): D("4.00")}
    found = difference(expected, swapped)
    assert found is not None
    assert found.startswith("VAT ")


def test_zero_vat_lines_need_no_entry() -> None:
    expected = Figures(D("10.00"), {})

    assert difference(expected, draft("10.00", ("0", "10.00", "10.00"))) is None
