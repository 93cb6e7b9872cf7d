"""The part of a Stripe invoice paid from the customer's credit balance (pure)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bridge.models import TranslationError
from bridge.translate.stripe.balance import balance_payment_from_invoice
from connectors.stripe import payloads as st

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "stripe"
BALANCE = "invoice-paid-107-endive-paid-from-customer-balance"


def _invoice(**changes: Any) -> st.StripeInvoice:
    body = json.loads((FIXTURES / f"{BALANCE}.json").read_text("utf-8"))["data"]["object"]
    body.update(changes)
    return st.StripeInvoice.model_validate(body)


def test_the_balance_used_is_a_payment_keyed_by_the_invoice() -> None:
    paid = balance_payment_from_invoice(_invoice(), account="default")

    assert paid is not None
    assert (paid.amount, paid.gateway) == (Decimal("20.00"), "stripe_customer_balance")
    assert paid.provider_id == "in_1TDemoChange1107:balance"
    assert paid.order_reference == "stripe:default:in_1TDemoChange1107"


@pytest.mark.parametrize(
    "changes",
    [
        {"ending_balance": None},  # not finalized: nothing applied yet
        {"starting_balance": 0, "ending_balance": 0},  # no credit
        {"starting_balance": 1500, "ending_balance": 0},  # a debit balance added to the invoice
        {"total": -3600, "starting_balance": 0, "ending_balance": -3600},  # credit added
    ],
)
def test_nothing_when_no_credit_was_used(changes: dict[str, Any]) -> None:
    assert balance_payment_from_invoice(_invoice(**changes), account="default") is None


def test_more_taken_from_the_balance_than_the_total_is_refused() -> None:
    with pytest.raises(TranslationError, match="more than its total 12000"):
        balance_payment_from_invoice(
            _invoice(starting_balance=-20000, ending_balance=0), account="default"
        )
