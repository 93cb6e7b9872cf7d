"""Crediting an amount over an invoice's lines: exact to the cent per VAT rate, with
Sage's own arithmetic (each credit-note line rounded on its own), for any amount."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.money import sage_line_amounts
from bridge.sync.credit_split import (
    NotExpressible,
    Piece,
    Room,
    allocate,
    credit_amount,
    vat_choices,
)

D = Decimal


def sage_figures(rooms: list[Room], pieces: list[Piece]) -> tuple[Decimal, dict[Decimal, Decimal]]:
    """What Sage computes for the credit note of `pieces`: total, VAT per rate."""
    by_index = {r.index: r for r in rooms}
    total, vat = D(0), {}
    for piece in pieces:
        room = by_index[piece.index]
        net, tax = sage_line_amounts(piece.quantity, room.unit_price, room.discount, room.rate)
        total += net + tax
        vat[room.rate] = vat.get(room.rate, D(0)) + tax
    return total, vat


def test_24_on_a_120_invoice_is_a_fifth_of_its_line() -> None:
    rooms = [Room(0, D("100"), D(0), D("20"), D(1))]

    pieces = credit_amount(rooms, D("24.00"))

    assert pieces == [Piece(0, D("0.2"), D("20.00"), D("4.00"), D("20"))]


def test_a_cent_sage_cannot_round_to_takes_two_lines() -> None:
    # 5.01 at 20 %: one line of 4.18 gives 0.84 VAT (5.02), of 4.17 gives 0.83 (5.00)
    rooms = [Room(0, D("100"), D(0), D("20"), D(1))]

    pieces = credit_amount(rooms, D("5.01"))

    assert len(pieces) == 2
    assert sage_figures(rooms, pieces) == (D("5.01"), {D("20"): D("0.84")})


def test_mixed_rates_split_pro_rata_to_the_cent() -> None:
    # 100.00 at 20 % (120.00) and 100.00 at 5.5 % (105.50): 45.10 refunded
    rooms = [Room(0, D("50"), D(0), D("20"), D(2)), Room(1, D("100"), D(0), D("5.5"), D(1))]

    pieces = credit_amount(rooms, D("45.10"))

    # 20 %: 45.10 x 120 / 225.50 = 24.00 (VAT 4.00); 5.5 %: 21.10 (VAT 1.10)
    assert sage_figures(rooms, pieces) == (D("45.10"), {D("20"): D("4.00"), D("5.5"): D("1.10")})


def test_more_than_is_left_is_not_expressible() -> None:
    rooms = [Room(0, D("100"), D(0), D("20"), D("0.5"))]

    with pytest.raises(NotExpressible, match=r"60\.01 is more than the 60\.00 left"):
        credit_amount(rooms, D("60.01"))


def test_a_few_cents_sage_cannot_round_to_are_refused() -> None:
    rooms = [Room(0, D("0.50"), D(0), D("5.5"), D(3))]

    with pytest.raises(NotExpressible, match="cannot carry"):
        credit_amount(rooms, D("0.10"))


def test_half_a_cent_of_vat_may_round_either_way() -> None:
    # 0.03 at 20 %: VAT 0.005; 0.02 net never carries 0.01, three lines of 0.01 carry 0.00
    rooms = [Room(0, D("0.50"), D(0), D("20"), D(1))]

    pieces = credit_amount(rooms, D("0.03"))

    assert sage_figures(rooms, pieces) == (D("0.03"), {D("20"): D("0.00")})


def test_allocate_keeps_the_sum() -> None:
    assert allocate(D("0.10"), [D(1), D(1), D(1)]) == [D("0.04"), D("0.03"), D("0.03")]
    assert allocate(D("5.00"), [D(0), D(0)]) == [D("5.00"), D("0.00")]


prices = st.decimals(min_value=D("0.50"), max_value=D("2000"), places=2)
rates = st.sampled_from([D("20"), D("10"), D("5.5"), D("2.1"), D("0")])
quantities = st.integers(min_value=1, max_value=5).map(D)
discounts = st.sampled_from([D(0), D(10), D("15")])


@st.composite
def invoices(draw: st.DrawFn) -> list[Room]:
    count = draw(st.integers(min_value=1, max_value=4))
    return [
        Room(n, draw(prices), draw(discounts), draw(rates), draw(quantities)) for n in range(count)
    ]


@settings(max_examples=300, deadline=None)
@given(rooms=invoices(), share=st.integers(min_value=1, max_value=10_000))
def test_any_amount_up_to_the_invoice_is_credited_exactly_per_rate(
    rooms: list[Room], share: int
) -> None:
    # given an invoice and an amount of up to all of it, to the cent
    left = sum((sum(r.left(), D(0)) for r in rooms), D(0))
    amount = (left * share / 10_000).quantize(D("0.01"))
    if amount <= 0:
        return

    # when it is credited by amount
    try:
        pieces = credit_amount(rooms, amount)
    except NotExpressible:
        # only a few cents can be beyond Sage's rounding (0.10 at 5.5 %: 0.09 net carries
        # no VAT, 0.10 net carries 0.01): then nothing is credited, the refund fails
        assert amount < D("0.50")
        return

    # then Sage's arithmetic on the credit note gives exactly that amount
    total, vat = sage_figures(rooms, pieces)
    assert total == amount
    # and each rate gets its pro rata share (a cent may move between rates when Sage's
    # rounding cannot carry a share), its VAT that share's, exact to the cent
    by_rate: dict[Decimal, Decimal] = {}
    for room in rooms:
        by_rate[room.rate] = by_rate.get(room.rate, D(0)) + sum(room.left(), D(0))
    rates_sorted = sorted(by_rate)
    shares = allocate(amount, [by_rate[r] for r in rates_sorted])
    got = {rate: D(0) for rate in rates_sorted}
    for piece in pieces:
        got[piece.rate] += piece.gross
    for rate, part in zip(rates_sorted, shares, strict=True):
        assert abs(got[rate] - part) <= D("0.01")
        if got[rate] == by_rate[rate]:
            assert vat.get(rate, D(0)) == sum((r.left()[1] for r in rooms if r.rate == rate), D(0))
        elif got[rate]:
            assert vat.get(rate, D(0)) in vat_choices(got[rate], rate)
    # and no line is credited beyond what it has
    for room in rooms:
        taken = sum((p.quantity for p in pieces if p.index == room.index), D(0))
        assert taken <= room.available
