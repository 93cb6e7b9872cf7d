"""Rebuild the `2026-10-28.endive` Stripe fixtures of tests/fixtures/stripe from Stripe's
published object shapes (`openapi/fixtures3.json`, as cut down in the project's reference
`objects-current.json`): every field of Stripe's sample is kept, and the values the bridge
reads are set to those of a realistic French Billing account.

    .venv/bin/python scripts/stripe_fixtures.py ../shared/reference/stripe/objects-current.json

Writes the `*-1NN-endive-*.json` bodies (whole `event` objects); their `.expected.json`
files are written by hand (checked against the bodies' own totals), not by this script.
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import Any

VERSION = "2026-10-28.endive"
OUT = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "stripe"
CREATED = 1795338000  # 2026-11-22T09:00:00Z
CUSTOMER = {
    "customer": "cus_TDemoEndive0001",
    "customer_email": "compta@atelier-lumiere.fr",
    "customer_name": "Atelier Lumière SARL",
    "customer_phone": "+33 1 44 55 66 77",
    "customer_address": {
        "city": "Paris",
        "country": "FR",
        "line1": "12 rue de la Roquette",
        "line2": None,
        "postal_code": "75011",
        "state": None,
    },
    "customer_tax_ids": [{"type": "eu_vat", "value": "FR40303265045"}],
}


def event(event_id: str, type_: str, obj: dict[str, Any], created: int) -> dict[str, Any]:
    return {
        "id": event_id,
        "object": "event",
        "api_version": VERSION,
        "created": created,
        "data": {"object": obj},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": type_,
    }


def tax(amount: int, taxable: int, rate: str, behavior: str, reason: str) -> dict[str, Any]:
    return {
        "amount": amount,
        "tax_behavior": behavior,
        "tax_rate_details": {"tax_rate": rate},
        "taxability_reason": reason,
        "taxable_amount": taxable,
        "type": "tax_rate_details",
    }


def line(
    shapes: dict[str, Any], invoice: str, n: int, amount: int, description: str, **values: Any
) -> dict[str, Any]:
    body = copy.deepcopy(shapes["line_item"])
    item = f"si_TDemoEndive{n:04d}"
    body.update(
        id=f"il_1TDemoEndive{invoice[-4:]}L{n}",
        invoice=invoice,
        amount=amount,
        subtotal=amount,
        currency="eur",
        description=description,
        discount_amounts=[],
        discounts=[],
        metadata={},
        period={"start": CREATED - 2592000, "end": CREATED},
        quantity=1,
        pretax_credit_amounts=[],
        subscription="sub_1TDemoEndive0001",
        pricing={
            "type": "price_details",
            "price_details": {
                "price": f"price_1TDemoEndive{n:04d}",
                "product": f"prod_TDemo{n:04d}",
            },
            "unit_amount_decimal": str(amount),
        },
        parent={
            "type": "subscription_item_details",
            "invoice_item_details": None,
            "subscription_item_details": {
                "invoice_item": None,
                "proration": False,
                "proration_details": {"credited_items": None},
                "subscription": "sub_1TDemoEndive0001",
                "subscription_item": item,
            },
        },
    )
    body.update(values)
    return body


def invoice(
    shapes: dict[str, Any], suffix: str, number: str, lines: list[dict[str, Any]], **values: Any
) -> dict[str, Any]:
    body = copy.deepcopy(shapes["invoice"])
    invoice_id = f"in_1TDemoEndive{suffix}"
    for each in lines:
        each["invoice"] = invoice_id
    taxes: dict[str, dict[str, Any]] = {}
    for each in lines:
        for t in each.get("taxes") or []:
            key = t["tax_rate_details"]["tax_rate"]
            found = taxes.setdefault(key, {**t, "amount": 0, "taxable_amount": 0})
            found["amount"] += t["amount"]
            found["taxable_amount"] += t["taxable_amount"]
    total = values.pop("total")
    body.update(
        id=invoice_id,
        number=number,
        currency="eur",
        created=CREATED,
        effective_at=CREATED,
        due_date=None,
        status="paid",
        billing_reason="subscription_cycle",
        account_country="FR",
        account_name="Boutique Démo SAS",
        amount_due=total,
        amount_paid=total,
        amount_remaining=0,
        amount_overpaid=0,
        amount_shipping=0,
        attempt_count=1,
        attempted=True,
        total=total,
        lines={
            "data": lines,
            "has_more": False,
            "object": "list",
            "url": f"/v1/invoices/{invoice_id}/lines",
        },
        total_taxes=list(taxes.values()),
        from_invoice=None,
        last_finalization_error=None,
        next_payment_attempt=None,
        shipping_cost=None,
        webhooks_delivered_at=CREATED,
        hosted_invoice_url=f"https://invoice.stripe.com/i/acct_1TDemo/test_{suffix}",
        status_transitions={
            "finalized_at": CREATED,
            "marked_uncollectible_at": None,
            "paid_at": CREATED + 5,
            "voided_at": None,
        },
        parent={
            "type": "subscription_details",
            "quote_details": None,
            "subscription_details": {"metadata": {}, "subscription": "sub_1TDemoEndive0001"},
        },
        **CUSTOMER,
    )
    body.update(values)
    return body


def invoice_payment(
    shapes: dict[str, Any], suffix: str, invoice_id: str, amount: int, payment: dict[str, Any]
) -> dict[str, Any]:
    body = copy.deepcopy(shapes["invoice_payment"])
    body.update(
        id=f"inpay_1TDemoEndive{suffix}",
        invoice=invoice_id,
        amount_paid=amount,
        amount_requested=amount,
        currency="eur",
        created=CREATED + 5,
        livemode=False,
        status="paid",
        payment=payment,
        status_transitions={"canceled_at": None, "paid_at": CREATED + 5},
    )
    return body


def charge(shapes: dict[str, Any], suffix: str, amount: int, intent: str | None) -> dict[str, Any]:
    body = copy.deepcopy(shapes["charge"])
    body["source"] = None  # a card payment of today has no Source
    body.update(
        id=f"ch_3TDemoEndive{suffix}",
        amount=amount,
        amount_captured=amount,
        captured=True,
        currency="eur",
        created=CREATED + 4,
        customer=CUSTOMER["customer"],
        description="Subscription update",
        payment_intent=intent,
        balance_transaction=f"txn_3TDemoEndive{suffix}",
        payment_method=f"pm_1TDemoEndive{suffix}",
        receipt_url=f"https://pay.stripe.com/receipts/payment/ch_3TDemoEndive{suffix}",
        status="succeeded",
        paid=True,
        metadata={},
        refunds={"data": [], "has_more": False, "object": "list", "url": "/v1/charges/x/refunds"},
    )
    body["billing_details"]["name"] = "Atelier Lumière SARL"
    body["outcome"].update(network_status="approved_by_network", type="authorized",
                           seller_message="Payment complete.", reason=None)  # fmt: skip
    return body


def intent(shapes: dict[str, Any], suffix: str, amount: int, **values: Any) -> dict[str, Any]:
    body = copy.deepcopy(shapes["payment_intent"])
    body.update(
        id=f"pi_3TDemoEndive{suffix}",
        amount=amount,
        amount_received=amount,
        currency="eur",
        created=CREATED + 3,
        canceled_at=None,
        client_secret=f"pi_3TDemoEndive{suffix}_secret_demo",
        last_payment_error=None,
        next_action=None,
        latest_charge=f"ch_3TDemoEndive{suffix}",
        status="succeeded",
        metadata={},
        transfer_data=None,
    )
    body.update(values)
    return body


def build(shapes: dict[str, Any]) -> dict[str, dict[str, Any]]:
    vat20, vat55, vat10 = "txr_1TDemoTva20", "txr_1TDemoTva055", "txr_1TDemoTva10"
    one = invoice(
        shapes,
        "0101",
        "BDEMO-0101",
        [
            line(
                shapes,
                "0101",
                1,
                10000,
                "Abonnement Atelier Pro (novembre 2026)",
                taxes=[tax(2000, 10000, vat20, "exclusive", "standard_rated")],
            ),
        ],
        total=12000,
        subtotal=10000,
        subtotal_excluding_tax=10000,
        total_excluding_tax=10000,
    )
    two_lines = [
        line(
            shapes,
            "0102",
            1,
            6000,
            "Coffret bougies (TTC)",
            discount_amounts=[{"amount": 600, "discount": "di_1TDemoEndive0102"}],
            taxes=[tax(900, 4500, vat20, "inclusive", "standard_rated")],
        ),
        line(
            shapes,
            "0102",
            2,
            2110,
            "Livre « Lumières d'atelier » (TTC)",
            discount_amounts=[{"amount": 211, "discount": "di_1TDemoEndive0102"}],
            taxes=[tax(99, 1800, vat55, "inclusive", "reduced_rated")],
        ),
    ]
    two = invoice(
        shapes,
        "0102",
        "BDEMO-0102",
        two_lines,
        total=7299,
        subtotal=8110,
        subtotal_excluding_tax=7111,
        total_excluding_tax=6300,
        billing_reason="manual",
        parent=None,
        total_discount_amounts=[{"amount": 811, "discount": "di_1TDemoEndive0102"}],
    )
    de = invoice(
        shapes,
        "0103",
        "BDEMO-0103",
        [
            line(
                shapes,
                "0103",
                1,
                25000,
                "Licence atelier B2B (novembre 2026)",
                taxes=[tax(0, 25000, "txr_1TDemoReverseDE", "exclusive", "reverse_charge")],
            ),
        ],
        total=25000,
        subtotal=25000,
        subtotal_excluding_tax=25000,
        total_excluding_tax=25000,
        customer="cus_TDemoEndive0002",
        customer_email="buchhaltung@werkstatt-licht.de",
        customer_name="Werkstatt Licht GmbH",
        customer_phone=None,
        customer_address={
            "city": "Berlin",
            "country": "DE",
            "line1": "Torstraße 140",
            "line2": None,
            "postal_code": "10119",
            "state": None,
        },
        customer_tax_ids=[{"type": "eu_vat", "value": "DE129273398"}],
        status="open",
        amount_paid=0,
        amount_remaining=25000,
    )
    de["status_transitions"]["paid_at"] = None
    ten = invoice(
        shapes,
        "0104",
        "BDEMO-0104",
        [
            line(
                shapes,
                "0104",
                1,
                4550,
                "Atelier cuisine (mise en place)",
                taxes=[tax(455, 4550, vat10, "exclusive", "standard_rated")],
            ),
        ],
        total=5005,
        subtotal=4550,
        subtotal_excluding_tax=4550,
        total_excluding_tax=4550,
        default_tax_rates=[
            {
                **shapes["tax_rate"],
                "id": vat10,
                "country": "FR",
                "description": "TVA 10 %",
                "display_name": "TVA",
                "jurisdiction": "FR",
                "percentage": 10.0,
                "flat_amount": None,
                "rate_type": "percentage",
                "effective_percentage": 10.0,
            }
        ],
    )
    one_id, two_id = one["id"], two["id"]
    pi_full = f"pi_3TDemoEndive{'0101'}"
    return {
        "invoice-paid-101-endive-one-line-20-vat-rate-id-only": event(
            "evt_1TDemoEndive0101", "invoice.paid", one, CREATED + 6),
        "invoice-paid-102-endive-inclusive-two-rates-discount": event(
            "evt_1TDemoEndive0102", "invoice.paid", two, CREATED + 6),
        "invoice-finalized-103-endive-reverse-charge-de": event(
            "evt_1TDemoEndive0103", "invoice.finalized", de, CREATED + 1),
        "invoice-paid-104-endive-default-tax-rate-expanded": event(
            "evt_1TDemoEndive0104", "invoice.paid", ten, CREATED + 6),
        "invoice-payment-paid-101-endive-payment-intent": event(
            "evt_1TDemoEndive0201", "invoice_payment.paid",
            invoice_payment(shapes, "0101", one_id, 12000,
                            {"type": "payment_intent", "payment_intent": pi_full}), CREATED + 6),
        "invoice-payment-paid-102-endive-partial-by-charge": event(
            "evt_1TDemoEndive0202", "invoice_payment.paid",
            invoice_payment(shapes, "0102", two_id, 3000,
                            {"type": "charge", "charge": "ch_3TDemoEndive0102"}), CREATED + 6),
        "charge-succeeded-101-endive-no-invoice-linked-by-caller": event(
            "evt_1TDemoEndive0301", "charge.succeeded",
            charge(shapes, "0101", 12000, pi_full), CREATED + 4),
        "payment-intent-succeeded-101-endive-unlinked": event(
            "evt_1TDemoEndive0302", "payment_intent.succeeded",
            intent(shapes, "0901", 4500, description="Cours de poterie (autre produit)"),
            CREATED + 3),
    }  # fmt: skip


def main(reference: str) -> None:
    shapes = json.loads(Path(reference).read_text("utf-8"))
    for name, body in build(shapes).items():
        text = json.dumps(body, indent=2, ensure_ascii=False) + "\n"
        (OUT / f"{name}.json").write_text(text, "utf-8")
        print(f"wrote {name}.json")


if __name__ == "__main__":
    main(sys.argv[1])
