"""The end of `bridge demo`: a Stripe payout of the demo's charge, and the clearing account.

The payout's balance transactions are the demo's own charge (its amount, and Stripe's
standard fee for European cards, 1.5 % + 0.25 EUR) and the payout's own transaction. They
are given to `bridge dev`'s Stripe stand-in (`bridge.dev.stripe_standin`: no real Stripe),
then a signed `payout.paid` goes to the webhook; the worker reads the transactions from the
stand-in exactly as it reads them from Stripe, and books one entry. The Stripe clearing
account's balance is read from Sage before the demo's charge and after the payout: the
payout takes out exactly what the charge put in, so it is back where it was (zero on a
fresh sandbox).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import httpx

from bridge.dev.demo_data import DemoEvent
from bridge.money import from_minor_units

FEE_RATE, FEE_FIXED = Decimal("0.015"), 25  # Stripe, European cards: 1.5 % + 0.25 EUR


@dataclass(frozen=True)
class PayoutPlan:
    event: DemoEvent
    payout: dict[str, Any]
    transactions: list[dict[str, Any]]
    fee: int


def payout_plan(run: int, charge: dict[str, Any]) -> PayoutPlan:
    """The payout of `charge` (a Stripe charge object, minor units) for demo run `run`."""
    amount, currency = int(charge["amount"]), str(charge["currency"])
    fee = int((amount * FEE_RATE).quantize(Decimal(1), ROUND_HALF_UP)) + FEE_FIXED
    payout_id, now = f"po_demo{run}", int(time.time())
    payout = {"id": payout_id, "object": "payout", "amount": amount - fee, "currency": currency,
              "status": "paid", "arrival_date": now, "created": now, "automatic": True,
              "reconciliation_status": "completed", "original_payout": None,
              "method": "standard", "type": "bank_account"}  # fmt: skip
    transactions = [
        {"id": f"txn_demo{run}c", "object": "balance_transaction", "type": "charge",
         "amount": amount, "fee": fee, "net": amount - fee, "currency": currency,
         "exchange_rate": None, "reporting_category": "charge", "source": charge["id"],
         "fee_details": [{"amount": fee, "currency": currency, "type": "stripe_fee",
                          "description": "Stripe processing fees"}]},
        {"id": f"txn_demo{run}p", "object": "balance_transaction", "type": "payout",
         "amount": fee - amount, "fee": 0, "net": fee - amount, "currency": currency,
         "exchange_rate": None, "reporting_category": "payout", "source": payout_id,
         "fee_details": []},
    ]  # fmt: skip
    event = {"id": f"evt_demo{run}po", "object": "event", "api_version": "2024-06-20",
             "created": now, "type": "payout.paid", "livemode": False,
             "data": {"object": payout}}  # fmt: skip
    label = f"Stripe payout {payout_id}"
    return PayoutPlan(
        DemoEvent(label, "stripe", "payout.paid", str(event["id"]), event),
        payout,
        transactions,
        fee,
    )


def give_to_standin(standin_url: str, plan: PayoutPlan) -> None:
    """Raises: httpx.HTTPError when the stand-in refuses or is unreachable."""
    body = {"payout": plan.payout, "transactions": plan.transactions}
    httpx.post(f"{standin_url}/_standin/payouts", json=body, timeout=10).raise_for_status()


def clearing_lines(
    account: str, before: Decimal, charged: Decimal, after: Decimal, plan: PayoutPlan
) -> str:
    """The demo's closing lines about the clearing account."""
    currency = str(plan.payout["currency"])
    amount = from_minor_units(int(plan.payout["amount"]), currency)
    fee = from_minor_units(plan.fee, currency)
    back = "back at zero" if after == 0 else f"back to {before:.2f}, what it held before"
    return (
        f"\nStripe clearing account {account}, balance as Sage computes it\n"
        f"  before the demo's charge  {before:>10.2f} EUR\n"
        f"  after its settlement      {charged:>10.2f} EUR\n"
        f"  after the payout          {after:>10.2f} EUR: {back}\n"
        f"  (payout {plan.payout['id']}: {amount:.2f} EUR to the bank, {fee:.2f} EUR fees, "
        "one entry in the bank journal)\n"
    )
