"""A payout's balance transactions summed into one entry (pure): recorded Stripe shapes
(tests/fixtures/payouts, API version 2024-06-20) asserted whole, and each refusal."""

from __future__ import annotations

import dataclasses
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bridge.payouts import shopify, stripe
from bridge.payouts.entry import (
    Accounts,
    Kind,
    Movement,
    PayoutFacts,
    PayoutTotals,
    entry_input,
    entry_lines,
    failure_input,
)
from connectors.shopify.payouts import ShopifyBalanceTransaction
from connectors.stripe.payouts import BalanceTransaction, StripePayout

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "payouts"
ACCOUNTS = Accounts("512000000", "511500000", "627000000", "411000000", "BQ")
CUSTOMERS = {"pi_3QmH1aBDemoPI0101 ch_3QmH1aBDemoChg0101": "SH7012345678901"}


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def stripe_case() -> tuple[PayoutFacts, list[Movement]]:
    payout = StripePayout.model_validate(load("stripe-2024-06-20-payout-001-paid.json"))
    page = load("stripe-2024-06-20-balance-transactions-001-mixed.json")
    moves = [stripe.movement(BalanceTransaction.model_validate(t)) for t in page["data"]]
    return stripe.facts(payout), moves


def totals_of(payout: PayoutFacts, moves: list[Movement]) -> PayoutTotals:
    totals = PayoutTotals(currency=payout.currency)
    for move in moves:
        totals.add(move)
    return totals


def test_recorded_stripe_payout_becomes_its_whole_expected_entry() -> None:
    payout, moves = stripe_case()
    assert [m.kind for m in moves] == [
        Kind.SALE, Kind.SALE, Kind.REFUND, Kind.DISPUTE, Kind.FEE, Kind.FEE, Kind.PAYOUT,
    ]  # fmt: skip
    totals = totals_of(payout, moves)
    assert totals.check(payout) == []

    values = entry_input(payout, ACCOUNTS, entry_lines(payout, totals, ACCOUNTS, CUSTOMERS.get))

    expected = load("stripe-2024-06-20-payout-001-paid.expected.json")
    assert json.loads(json.dumps(values.to_graphql(), default=str)) == expected


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"currency": "USD"}, "currency conversion"),
        ({"converted": True}, "currency conversion"),
        ({"kind": Kind.UNKNOWN, "type": "reserve_transaction"}, "'reserve_transaction' is not"),
        ({"net": Decimal("42.00")}, "net adds up to"),
    ],
)
def test_a_payout_that_cannot_be_booked_as_it_is_is_refused_whole(
    change: dict[str, Any], problem: str
) -> None:
    payout, moves = stripe_case()
    moves[0] = dataclasses.replace(moves[0], **change)
    problems = totals_of(payout, moves).check(payout)
    assert problems
    assert problem in problems[0]


def test_the_payouts_own_transaction_must_match_it() -> None:
    payout, moves = stripe_case()
    problems = totals_of(dataclasses.replace(payout, amount=Decimal("11.28")), moves).check(
        dataclasses.replace(payout, amount=Decimal("11.28"))
    )
    assert "the payout's own transaction says 11.27, the payout 11.28" in problems


def test_a_refund_of_an_order_the_bridge_did_not_book_stays_on_the_clearing_account() -> None:
    payout, moves = stripe_case()
    totals = totals_of(payout, moves)
    sides = entry_lines(payout, totals, ACCOUNTS, lambda _hint: None)
    unknown = [s for s in sides if s[3].endswith("order unknown")]
    assert unknown == [
        (Decimal("37.40"), "511500000", None, "Stripe refunds/disputes, order unknown")
    ]
    assert sum(s[0] for s in sides) == 0


def test_failure_puts_the_amount_back_from_the_bank_to_the_clearing_account() -> None:
    payout, _ = stripe_case()
    values = failure_input(payout, ACCOUNTS, "po_3QpA1aBDemoPo0001:failed")
    assert [(ln.sub_account_code, ln.debit_amount, ln.credit_amount) for ln in values.lines] == [
        ("511500000", Decimal("11.27"), Decimal(0)),
        ("512000000", Decimal(0), Decimal("11.27")),
    ]


def test_shopify_payments_transactions() -> None:
    raw = {"id": 72, "type": "dispute", "test": False, "payout_id": 880001,
           "payout_status": "paid", "currency": "EUR", "amount": "-19.80", "fee": "15.00",
           "net": "-34.80", "source_id": 9001, "source_type": "Dispute",
           "source_order_id": 5930000000001, "source_order_transaction_id": None,
           "processed_at": "2026-03-05T10:00:00-05:00"}  # fmt: skip
    move = shopify.movement(ShopifyBalanceTransaction.model_validate(raw))
    assert (move.kind, move.amount, move.fee, move.net, move.hint) == (
        Kind.DISPUTE, Decimal("-19.80"), Decimal("15.00"), Decimal("-34.80"), "5930000000001",
    )  # fmt: skip
    reserve = shopify.movement(ShopifyBalanceTransaction.model_validate({**raw, "type": "reserve"}))
    assert reserve.kind is Kind.UNKNOWN
