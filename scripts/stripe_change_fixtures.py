"""Rebuild the Stripe fixtures of changes inside invoices (prorations, credits, customer
balance) in both supported API versions, from Stripe's published object shapes
(`/work/shared/reference/stripe/objects-2024-06-20.json` and `objects-current.json`).

    .venv/bin/python scripts/stripe_change_fixtures.py ../shared/reference/stripe

Writes `invoice-paid-0NN-2024-*` (API version `2024-06-20`: line `proration`,
`tax_amounts`, `discount_amounts`) and `invoice-paid-1NN-endive-*` (`2026-10-28.endive`:
line `parent...proration`, `taxes[]`, `pretax_credit_amounts`, invoice
`total_pretax_credit_amounts`). The `.expected.json` files are written by hand.

The cases: a subscription upgrade (unused time -50.00, new plan +80.00, 20 % VAT: 36.00),
a downgrade (unused time -80.00, new plan +50.00: -36.00, a credit), an invoice of 120.00
paid 100.00 by card and 20.00 from the customer's credit balance, and (endive) a line
reduced by a credit grant.
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import stripe_fixtures as endive

OUT = endive.OUT
OLD = "2024-06-20"
CREATED = endive.CREATED
VAT20 = "txr_1TDemoTva20"
SUB = "sub_1TDemoChange0001"


def _event(event_id: str, version: str, obj: dict[str, Any]) -> dict[str, Any]:
    body = endive.event(event_id, "invoice.paid", obj, CREATED + 6)
    body["api_version"] = version
    return body


def _old_line(
    shapes: dict[str, Any], invoice: str, n: int, amount: int, text: str, proration: bool
) -> dict[str, Any]:
    body = copy.deepcopy(shapes["line_item"])
    body.update(
        id=f"il_1TDemoChange{invoice[-4:]}L{n}",
        invoice=invoice,
        invoice_item=f"ii_1TDemoChange{invoice[-4:]}L{n}" if proration else None,
        amount=amount,
        amount_excluding_tax=amount,
        unit_amount_excluding_tax=str(amount),
        currency="eur",
        description=text,
        discount_amounts=[],
        metadata={},
        period={"start": CREATED - 1296000, "end": CREATED},
        proration=proration,
        subscription=SUB,
        subscription_item="si_TDemoChange0001",
        tax_amounts=[
            {
                "amount": amount // 5,
                "inclusive": False,
                "tax_rate": VAT20,
                "taxability_reason": "standard_rated",
                "taxable_amount": amount,
            }
        ],
        type="invoiceitem" if proration else "subscription",
    )
    body["price"].update(
        id=f"price_1TDemoChange{n:04d}",
        currency="eur",
        unit_amount=abs(amount),
        unit_amount_decimal=str(abs(amount)),
        product=f"prod_TDemoChange{n:04d}",
        type="recurring",
    )
    return body


def _old_invoice(
    shapes: dict[str, Any], suffix: str, lines: list[dict[str, Any]], **values: Any
) -> dict[str, Any]:
    body = copy.deepcopy(shapes["invoice"])
    invoice_id = f"in_1TDemoChange{suffix}"
    for each in lines:
        each["invoice"] = invoice_id
    total = sum(line["amount"] * 6 // 5 for line in lines)
    tax = total - sum(line["amount"] for line in lines)
    paid = max(total, 0)
    body.update(
        id=invoice_id,
        number=f"BDEMO-{suffix}",
        currency="eur",
        created=CREATED,
        effective_at=CREATED,
        due_date=None,
        status="paid",
        paid=True,
        billing_reason="subscription_update",
        account_country="FR",
        account_name="Boutique Démo SAS",
        amount_due=paid,
        amount_paid=paid,
        amount_remaining=0,
        attempt_count=1,
        attempted=True,
        subtotal=total - tax,
        subtotal_excluding_tax=total - tax,
        total_excluding_tax=total - tax,
        tax=tax,
        total=total,
        starting_balance=0,
        ending_balance=min(total, 0),
        subscription=SUB,
        lines={
            "data": lines,
            "has_more": False,
            "object": "list",
            "url": f"/v1/invoices/{invoice_id}/lines",
        },
        total_tax_amounts=[
            {
                "amount": tax,
                "inclusive": False,
                "tax_rate": VAT20,
                "taxability_reason": "standard_rated",
                "taxable_amount": total - tax,
            }
        ],
        next_payment_attempt=None,
        webhooks_delivered_at=CREATED,
        status_transitions={
            "finalized_at": CREATED,
            "marked_uncollectible_at": None,
            "paid_at": CREATED + 5,
            "voided_at": None,
        },
        **endive.CUSTOMER,
    )
    body["subscription_details"] = {"metadata": {}}
    body.update(values)
    return body


def _new_line(
    shapes: dict[str, Any],
    invoice: str,
    n: int,
    amount: int,
    text: str,
    proration: bool,
    **values: Any,
) -> dict[str, Any]:
    taxable = amount - sum(c["amount"] for c in values.get("pretax_credit_amounts", []))
    body = endive.line(
        shapes,
        invoice,
        n,
        amount,
        text,
        taxes=[endive.tax(taxable // 5, taxable, VAT20, "exclusive", "standard_rated")],
        **values,
    )
    body["id"] = f"il_1TDemoChange{invoice[-4:]}L{n}"
    body["subscription"] = SUB
    details = body["parent"]["subscription_item_details"]
    details.update(proration=proration, subscription=SUB)
    if proration:
        details["proration_details"] = {
            "credited_items": {"invoice": "in_1TDemoChange0100", "invoice_line_items": []}
        }
    return body


def _new_invoice(
    shapes: dict[str, Any], suffix: str, lines: list[dict[str, Any]], **values: Any
) -> dict[str, Any]:
    credits = [c for line in lines for c in line.get("pretax_credit_amounts") or []]
    taxable = sum(line["amount"] for line in lines) - sum(c["amount"] for c in credits)
    total = taxable * 6 // 5
    paid = max(total, 0)
    body = endive.invoice(
        shapes,
        suffix,
        f"BDEMO-{suffix}",
        lines,
        total=total,
        subtotal=sum(line["amount"] for line in lines),
        subtotal_excluding_tax=sum(line["amount"] for line in lines),
        total_excluding_tax=taxable,
        billing_reason="subscription_update",
        amount_due=paid,
        amount_paid=paid,
        starting_balance=0,
        ending_balance=min(total, 0),
        total_pretax_credit_amounts=credits,
    )
    body["id"] = f"in_1TDemoChange{suffix}"
    for each in lines:
        each["invoice"] = body["id"]
    body["lines"]["url"] = f"/v1/invoices/{body['id']}/lines"
    body["parent"]["subscription_details"]["subscription"] = SUB
    body.update(values)
    return body


def build(old: dict[str, Any], new: dict[str, Any]) -> dict[str, dict[str, Any]]:
    unused, plan = "Temps non utilisé sur Atelier Pro", "Temps restant sur Atelier Studio"
    cases: dict[str, dict[str, Any]] = {}
    for version, n, suffix, shapes in ((OLD, "0", "2024", old), ("endive", "1", "endive", new)):
        make_line, make_invoice = (
            (_old_line, _old_invoice) if version == OLD else (_new_line, _new_invoice)
        )
        up = f"{n}105"
        down = f"{n}106"
        balance = f"{n}107"
        cases[f"invoice-paid-{n}05-{suffix}-upgrade-proration"] = _event(
            f"evt_1TDemoChange{up}",
            OLD if version == OLD else endive.VERSION,
            make_invoice(
                shapes,
                up,
                [
                    make_line(shapes, up, 1, -5000, unused, True),
                    make_line(shapes, up, 2, 8000, plan, True),
                ],
            ),
        )
        cases[f"invoice-paid-{n}06-{suffix}-downgrade-negative-total"] = _event(
            f"evt_1TDemoChange{down}",
            OLD if version == OLD else endive.VERSION,
            make_invoice(
                shapes,
                down,
                [
                    make_line(shapes, down, 1, -8000, unused, True),
                    make_line(shapes, down, 2, 5000, plan, True),
                ],
            ),
        )
        paid_from_balance = make_invoice(
            shapes,
            balance,
            [make_line(shapes, balance, 1, 10000, "Atelier Pro", False)],
            billing_reason="subscription_cycle",
            starting_balance=-2000,
            ending_balance=0,
            amount_due=10000,
            amount_paid=10000,
        )
        cases[f"invoice-paid-{n}07-{suffix}-paid-from-customer-balance"] = _event(
            f"evt_1TDemoChange{balance}",
            OLD if version == OLD else endive.VERSION,
            paid_from_balance,
        )
    grant = "1108"
    credit = [
        {
            "amount": 1500,
            "type": "credit_balance_transaction",
            "discount": None,
            "credit_balance_transaction": "cbtxn_1TDemoChange0001",
        }
    ]
    cases["invoice-paid-108-endive-credit-grant"] = _event(
        f"evt_1TDemoChange{grant}",
        endive.VERSION,
        _new_invoice(
            new,
            grant,
            [
                _new_line(
                    new,
                    grant,
                    1,
                    6000,
                    "Appels API (novembre)",
                    False,
                    pretax_credit_amounts=credit,
                )
            ],
            billing_reason="subscription_cycle",
        ),
    )
    return cases


def main(reference: str) -> None:
    folder = Path(reference)
    old = json.loads((folder / "objects-2024-06-20.json").read_text("utf-8"))
    new = json.loads((folder / "objects-current.json").read_text("utf-8"))
    for name, body in build(old, new).items():
        text = json.dumps(body, indent=2, ensure_ascii=False) + "\n"
        (OUT / f"{name}.json").write_text(text, "utf-8")
        print(f"wrote {name}.json")


if __name__ == "__main__":
    main(sys.argv[1])
