"""Rebuild the refund-by-amount fixtures of tests/fixtures (issue 20) from the providers'
published shapes.

Stripe: credit notes, charges and refunds from Stripe's sample objects
(`openapi/fixtures3.json`, as cut down in the project's reference: `objects-current.json`
for `2026-10-28.endive`, `objects-2024-06-20.json` for `2024-06-20`); every field of the
sample is kept and the values the bridge reads are set (the invoices they credit are the
recorded `invoice-paid-101-endive-...` (120.00) and `invoice-paid-001-...` (282.00)).
Shopify: `refunds/create` bodies in the shape of Shopify's documented refund (REST
`Refund`, with `order_adjustments` of kind `refund_discrepancy`), based on the recorded
`refunds-create-009-...-v2026-10.json` body, in the versions 2026-01 and 2026-10.

    .venv/bin/python scripts/refund_fixtures.py ../shared/reference/stripe

Writes the bodies only; their `.expected.json` files are written by hand (checked
against the bodies' own totals).
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures"
ENDIVE, OLD = "2026-10-28.endive", "2024-06-20"
CREATED = 1795424400  # 2026-11-23T09:00:00Z
ENDIVE_INVOICE, ENDIVE_LINE = "in_1TDemoEndive0101", "il_1TDemoEndive0101L1"
OLD_INVOICE, OLD_LINE = "in_1QmG1aBDemoInv0001", "il_1QmG1aBDemoLine0003"
VAT20 = "txr_1TDemoTva20"


def event(event_id: str, version: str, type_: str, obj: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": event_id,
        "object": "event",
        "api_version": version,
        "created": CREATED + 5,
        "data": {"object": obj},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": type_,
    }


def endive_tax(amount: int, taxable: int) -> dict[str, Any]:
    return {
        "amount": amount,
        "tax_behavior": "exclusive",
        "tax_rate_details": {"tax_rate": VAT20},
        "taxability_reason": "standard_rated",
        "taxable_amount": taxable,
        "type": "tax_rate_details",
    }


def old_tax(amount: int, taxable: int) -> dict[str, Any]:
    return {
        "amount": amount,
        "inclusive": False,
        "tax_rate": VAT20,
        "taxability_reason": "standard_rated",
        "taxable_amount": taxable,
    }


def note_line(shapes: dict[str, Any], n: int, **values: Any) -> dict[str, Any]:
    """A credit note line in the sample's shape: the first line of its sample note."""
    line = copy.deepcopy(shapes["credit_note"]["lines"]["data"][0])
    line.update(id=f"cnli_1TDemoCn{n:04d}", discount_amount=0, discount_amounts=[], tax_rates=[])
    if "pretax_credit_amounts" in line:
        line["pretax_credit_amounts"] = []
    line.update(values)
    return line


def note(shapes: dict[str, Any], n: int, lines: list[dict[str, Any]], **values: Any) -> Any:
    obj = copy.deepcopy(shapes["credit_note"])
    obj.update(
        id=f"cn_1TDemoCreditNote{n:04d}",
        number=f"BDEMO-CN-{n:04d}",
        created=CREATED,
        effective_at=CREATED,
        currency="eur",
        customer="cus_TDemoEndive0001",
        amount_shipping=0,
        discount_amount=0,
        discount_amounts=[],
        out_of_band_amount=None,
        customer_balance_transaction=None,
        memo=None,
        reason="order_change",
        status="issued",
        type="post_payment",
        voided_at=None,
        pdf=f"https://pay.stripe.com/credit_notes/acct_1NvDemo/test_cn_{n:04d}/pdf",
    )
    obj["lines"].update(data=lines, url=f"/v1/credit_notes/cn_1TDemoCreditNote{n:04d}/lines")
    for key in ("shipping_cost", "pretax_credit_amounts", "total_taxes"):
        if key in obj:
            obj[key] = None if key == "shipping_cost" else []
    obj.update(values)
    return obj


def endive_notes(shapes: dict[str, Any]) -> dict[str, Any]:
    by_amount = note(
        shapes,
        105,
        [
            note_line(
                shapes,
                105,
                amount=2000,
                description="Geste : 20 % de l'abonnement de novembre",
                invoice_line_item=ENDIVE_LINE,
                quantity=1,
                type="invoice_line_item",
                taxes=[endive_tax(400, 2000)],
            )
        ],
        invoice=ENDIVE_INVOICE,
        amount=2400,
        subtotal=2000,
        subtotal_excluding_tax=2000,
        total=2400,
        total_excluding_tax=2000,
        total_taxes=[endive_tax(400, 2000)],
        pre_payment_amount=0,
        post_payment_amount=2400,
        refunds=[
            {
                "amount_refunded": 2400,
                "payment_record_refund": None,
                "refund": "re_3TDemoEndiveCn0105",
                "type": "refund",
            }
        ],
    )
    to_balance = note(
        shapes,
        106,
        [
            note_line(
                shapes,
                106,
                amount=1000,
                description="Avoir sur le solde client",
                quantity=1,
                type="custom_line_item",
                unit_amount=1000,
                unit_amount_decimal="1000",
                taxes=[],
            )
        ],
        invoice=ENDIVE_INVOICE,
        amount=1000,
        subtotal=1000,
        subtotal_excluding_tax=1000,
        total=1000,
        total_excluding_tax=1000,
        customer_balance_transaction="cbtxn_1TDemoEndive0106",
        pre_payment_amount=0,
        post_payment_amount=1000,
        refunds=[],
    )
    to_balance["lines"]["data"][0].pop("invoice_line_item", None)
    return {
        "credit-note-created-105-endive-by-amount-24-on-120": event(
            "evt_1TDemoEndive0105", ENDIVE, "credit_note.created", by_amount
        ),
        "credit-note-created-106-endive-to-customer-balance": event(
            "evt_1TDemoEndive0106", ENDIVE, "credit_note.created", to_balance
        ),
    }


def old_notes(shapes: dict[str, Any]) -> dict[str, Any]:
    by_amount = note(
        shapes,
        3,
        [
            note_line(
                shapes,
                31,
                amount=3000,
                amount_excluding_tax=3000,
                description="Remise sur la formation (par montant)",
                discount_amount=500,
                discount_amounts=[{"amount": 500, "discount": "di_1QmDemoCn0003"}],
                invoice_line_item=OLD_LINE,
                quantity=1,
                type="invoice_line_item",
                tax_amounts=[old_tax(500, 2500)],
                unit_amount_excluding_tax="3000",
            ),
            note_line(
                shapes,
                32,
                amount=500,
                amount_excluding_tax=500,
                description="Geste commercial",
                quantity=1,
                type="custom_line_item",
                tax_amounts=[],
                unit_amount=500,
                unit_amount_decimal="500",
                unit_amount_excluding_tax="500",
            ),
        ],
        id="cn_1QnDemoCreditNote0003",
        customer="cus_RgT5xBDemoAtelier",
        invoice=OLD_INVOICE,
        amount=3500,
        discount_amount=500,
        discount_amounts=[{"amount": 500, "discount": "di_1QmDemoCn0003"}],
        subtotal=3500,
        subtotal_excluding_tax=3500,
        total=3500,
        total_excluding_tax=3000,
        tax_amounts=[old_tax(500, 2500)],
        refund="re_3QnDemoCreditRef0003",
    )
    by_amount["lines"]["data"][1].pop("invoice_line_item", None)
    out_of_band = note(
        shapes,
        4,
        [
            note_line(
                shapes,
                41,
                amount=1200,
                amount_excluding_tax=1200,
                description="Remboursé hors Stripe (virement)",
                quantity=1,
                type="custom_line_item",
                tax_amounts=[],
                unit_amount=1200,
                unit_amount_decimal="1200",
                unit_amount_excluding_tax="1200",
            )
        ],
        id="cn_1QnDemoCreditNote0004",
        customer="cus_RgT5xBDemoAtelier",
        invoice=OLD_INVOICE,
        amount=1200,
        subtotal=1200,
        subtotal_excluding_tax=1200,
        total=1200,
        total_excluding_tax=1200,
        tax_amounts=[],
        out_of_band_amount=1200,
        refund=None,
    )
    out_of_band["lines"]["data"][0].pop("invoice_line_item", None)
    return {
        "credit-note-created-003-2024-by-amount-discount-custom-line": event(
            "evt_1QnDemoCn0003", OLD, "credit_note.created", by_amount
        ),
        "credit-note-created-004-2024-out-of-band": event(
            "evt_1QnDemoCn0004", OLD, "credit_note.created", out_of_band
        ),
    }


def partial_refunds(shapes: dict[str, Any]) -> dict[str, Any]:
    refund = copy.deepcopy(shapes["refund"])
    refund.update(
        id="re_3TDemoEndive0107",
        amount=3000,
        charge="ch_3TDemoEndive0101",
        payment_intent="pi_3TDemoEndive0101",
        created=CREATED,
        currency="eur",
        reason="requested_by_customer",
        status="succeeded",
        balance_transaction="txn_3TDemoEndive0107",
        metadata={},
    )
    charge = copy.deepcopy(shapes["charge"])
    charge.update(
        id="ch_3TDemoEndive0101",
        amount=12000,
        amount_captured=12000,
        amount_refunded=3000,
        captured=True,
        refunded=False,
        paid=True,
        status="succeeded",
        currency="eur",
        created=CREATED - 3600,
        customer="cus_TDemoEndive0001",
        description="Abonnement Atelier Pro (novembre 2026)",
        payment_intent="pi_3TDemoEndive0101",
        balance_transaction="txn_3TDemoEndive0101",
        metadata={},
        refunds={
            "object": "list",
            "data": [refund],
            "has_more": False,
            "total_count": 1,
            "url": "/v1/charges/ch_3TDemoEndive0101/refunds",
        },
    )
    return {
        "refund-created-107-endive-partial-30-of-120": event(
            "evt_1TDemoEndive0107", ENDIVE, "refund.created", refund
        ),
        "charge-refunded-108-endive-partial-30-of-120": event(
            "evt_1TDemoEndive0108", ENDIVE, "charge.refunded", charge
        ),
    }


def money(amount: str) -> dict[str, Any]:
    return {
        "shop_money": {"amount": amount, "currency_code": "EUR"},
        "presentment_money": {"amount": amount, "currency_code": "EUR"},
    }


def shopify_refund(
    template: dict[str, Any],
    refund_id: int,
    order_id: int,
    note_text: str,
    lines: list[dict[str, Any]],
    adjustment: tuple[str, str],
    paid_back: str,
) -> dict[str, Any]:
    body = copy.deepcopy(template)
    body.update(
        id=refund_id,
        order_id=order_id,
        note=note_text,
        created_at="2026-11-24T10:30:00+01:00",
        processed_at="2026-11-24T10:30:00+01:00",
        restock=bool(lines),
        admin_graphql_api_id=f"gid://shopify/Refund/{refund_id}",
        refund_line_items=lines,
        refund_shipping_lines=[],
        duties=[],
        total_duties_set=money("0.00"),
        additional_fees=[],
        total_additional_fees_set=money("0.00"),
    )
    body["return"] = None
    amount, reason = adjustment
    body["order_adjustments"] = [
        {
            "id": refund_id + 1,
            "order_id": order_id,
            "refund_id": refund_id,
            "amount": amount,
            "tax_amount": "0.00",
            "kind": "refund_discrepancy",
            "reason": reason,
            "amount_set": money(amount),
            "tax_amount_set": money("0.00"),
        }
    ]
    [transaction] = body["transactions"]
    transaction.update(
        id=refund_id + 2,
        order_id=order_id,
        amount=paid_back,
        created_at="2026-11-24T10:30:00+01:00",
        processed_at="2026-11-24T10:30:00+01:00",
        authorization="ch_3QmDemoMug1001",
        parent_id=7210000001001,
        payment_id="#1001.r1",
        admin_graphql_api_id=f"gid://shopify/OrderTransaction/{refund_id + 2}",
    )
    return body


def shopify_refunds() -> dict[str, Any]:
    template = json.loads(
        (FIXTURES / "shopify" / "refunds-create-009-returned-with-duties-v2026-10.json").read_text()
    )
    order = json.loads(
        (FIXTURES / "shopify" / "orders-create-001-ttc-single-mug.json").read_text("utf-8")
    )
    mug = order["line_items"][0]
    returned = {
        "id": 61010043001,
        "line_item_id": mug["id"],
        "location_id": 71234567890,
        "quantity": 1,
        "restock_type": "return",
        "subtotal": 14.9,
        "subtotal_set": money("14.90"),
        "total_tax": 2.48,
        "total_tax_set": money("2.48"),
        "line_item": mug,
    }
    return {
        "refunds-create-043-goodwill-refund-discrepancy-v2026-01": shopify_refund(
            template, 930100000043, order["id"], "Geste commercial (livraison en retard)",
            [], ("-5.00", "Refund discrepancy"), "5.00",
        ),
        "refunds-create-044-restocking-fee-v2026-10": shopify_refund(
            template, 930100000044, order["id"], "Mug retourné, frais de remise en stock 10 %",
            [returned], ("1.49", "Restocking fee"), "13.41",
        ),
    }  # fmt: skip


def main(reference: str) -> None:
    root = Path(reference)
    endive = json.loads((root / "objects-current.json").read_text("utf-8"))
    old = json.loads((root / "objects-2024-06-20.json").read_text("utf-8"))
    bodies = {**endive_notes(endive), **old_notes(old), **partial_refunds(endive)}
    written = [("stripe", name, body) for name, body in bodies.items()]
    written += [("shopify", name, body) for name, body in shopify_refunds().items()]
    for provider, name, body in written:
        text = json.dumps(body, indent=2, ensure_ascii=False) + "\n"
        (FIXTURES / provider / f"{name}.json").write_text(text, "utf-8")
        print(f"wrote {provider}/{name}.json")


if __name__ == "__main__":
    main(sys.argv[1])
