"""Rebuild the Checkout and credit-note fixtures of tests/fixtures/stripe from Stripe's shapes.

    python scripts/stripe_checkout_fixtures.py [REFERENCE_DIR]

REFERENCE_DIR holds Stripe's published sample objects (`objects-2024-06-20.json` and
`objects-current.json`, cut from stripe/openapi `fixtures3.json`; default
`../shared/reference/stripe`). Each fixture starts from the sample object of its API
version (so it has exactly the fields that version sends) and gets realistic values: the
sales, VAT rates and amounts below, worked out by hand. The `.expected.json` files are
written by hand, not by this script: they are what the translation must give.
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "tests" / "fixtures" / "stripe"
OLD, NEW = "2024-06-20", "2026-10-28.endive"
CREATED = 1772870000  # 2026-03-07


def _shapes(ref: Path) -> dict[str, dict[str, Any]]:
    return {
        OLD: json.loads((ref / "objects-2024-06-20.json").read_text("utf-8")),
        NEW: json.loads((ref / "objects-current.json").read_text("utf-8")),
    }


def _from(shape: dict[str, Any], **values: Any) -> dict[str, Any]:
    """The sample object with `values` set (keys the sample lacks are refused: a typo)."""
    obj = copy.deepcopy(shape)
    for key, value in values.items():
        if key not in obj:
            raise KeyError(f"{key!r} is not a field of {obj.get('object')}")
        obj[key] = value
    return obj


def _event(version: str, n: str, type_: str, obj: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": f"evt_1QnC{n}BDemoCheckoutEv",
        "object": "event",
        "api_version": version,
        "created": obj.get("created", CREATED) + 5,
        "data": {"object": obj},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": type_,
    }


def _rate(shapes: dict[str, Any], rid: str, percent: float, inclusive: bool) -> dict[str, Any]:
    return _from(
        shapes["tax_rate"],
        id=rid,
        country="FR",
        created=1735689600,
        description=f"TVA {percent} %",
        display_name="TVA",
        inclusive=inclusive,
        jurisdiction="FR",
        percentage=percent,
    )


def _item(
    shapes: dict[str, Any],
    n: str,
    what: tuple[str, str, int, int],
    discount: int,
    tax: int,
    rate: dict[str, Any],
) -> dict[str, Any]:
    """A Checkout line item: (description, sku, quantity, unit amount), its discount and tax."""
    description, sku, quantity, unit = what
    subtotal = quantity * unit
    inclusive = rate["inclusive"]
    total = subtotal - discount + (0 if inclusive else tax)
    price = _from(
        shapes["item"]["price"],
        id=f"price_1QnC{n}BDemoPrice",
        created=1735689600,
        currency="eur",
        metadata={"sku": sku},
        product=f"prod_QnC{n}BDemo",
        tax_behavior="inclusive" if inclusive else "exclusive",
        unit_amount=unit,
        unit_amount_decimal=str(unit),
    )
    price["custom_unit_amount"] = None
    price["recurring"] = None
    price["transform_quantity"] = None
    item = _from(
        shapes["item"],
        id=f"li_1QnC{n}BDemoLineItm",
        amount_discount=discount,
        amount_subtotal=subtotal,
        amount_tax=tax,
        amount_total=total,
        currency="eur",
        description=description,
        price=price,
        quantity=quantity,
    )
    item["discounts"] = [
        {"amount": discount, "discount": {"id": "di_1QnCBDemoDiscount", "object": "discount"}}
    ]
    item["taxes"] = [
        {
            "amount": tax,
            "rate": rate,
            "taxability_reason": None,
            "taxable_amount": total - tax,
        }
    ]
    return item


def _no_invoice(session: dict[str, Any]) -> None:
    """Invoice creation off (the current sample object has it on)."""
    if session["invoice_creation"]:
        session["invoice_creation"] = {**session["invoice_creation"], "enabled": False}


def _page(session: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "object": "list",
        "data": items,
        "has_more": False,
        "url": f"/v1/checkout/sessions/{session}/line_items",
    }


def _tag(version: str) -> str:
    return "2024" if version == OLD else "endive"


def _write(name: str, data: dict[str, Any]) -> None:
    (OUT / f"{name}.json").write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def session_ttc(shapes: dict[str, Any], version: str, n: str) -> None:
    """Two lines at 20 % and 5.5 % (prices include VAT), a 10 % coupon, shipping 5.90."""
    sid = f"cs_test_b1QnC{n}BDemoSessionTtc"
    r20 = _rate(shapes, "txr_1QmE2nBDemoTtc20", 20.0, True)
    r55 = _rate(shapes, "txr_1QmE2nBDemoTtc55", 5.5, True)
    items = [
        _item(shapes, f"{n}1", ("Mug Boutique Démo", "MUG-001", 2, 1490), 298, 447, r20),
        _item(shapes, f"{n}2", ("Thé vert bio 100 g", "TEA-001", 3, 690), 207, 97, r55),
    ]
    shipping = {
        "amount_subtotal": 590,
        "amount_tax": 98,
        "amount_total": 590,
        "shipping_rate": "shr_1QnCBDemoColissimo",
        "taxes": [{"amount": 98, "rate": r20, "taxability_reason": None, "taxable_amount": 492}],
    }
    session = _from(
        shapes["checkout.session"],
        id=sid,
        amount_subtotal=5050,
        amount_total=5135,
        created=CREATED,
        currency="eur",
        customer=None,
        customer_creation="if_required",
        customer_details={
            **shapes["checkout.session"]["customer_details"],
            "address": {
                "city": "Lyon",
                "country": "FR",
                "line1": "12 rue de la République",
                "line2": None,
                "postal_code": "69002",
                "state": None,
            },
            "email": "claire.martin@example.fr",
            "name": "Claire Martin",
            "phone": None,
        },
        expires_at=CREATED + 86400,
        payment_intent=f"pi_3QnC{n}BDemoCheckoutPI",
        payment_link="plink_1QnCBDemoPaymentLink",
        payment_status="paid",
        shipping_cost=shipping,
        status="complete",
        total_details={"amount_discount": 505, "amount_shipping": 590, "amount_tax": 642},
        url=None,
    )
    _no_invoice(session)
    name = f"checkout-session-completed-00{n}-{_tag(version)}-ttc-two-rates-coupon-shipping"
    _write(name, _event(version, n, "checkout.session.completed", session))
    _write(f"{name}.line_items", _page(sid, items))


def session_b2b(shapes: dict[str, Any], version: str, n: str) -> None:
    """A company with a VAT number: 20 % and 5.5 % lines excluding VAT, 10.00 off, shipping."""
    sid = f"cs_test_b1QnC{n}BDemoSessionB2b"
    r20 = _rate(shapes, "txr_1QmE2nBDemoHt20", 20.0, False)
    r55 = _rate(shapes, "txr_1QmE2nBDemoHt55", 5.5, False)
    items = [
        _item(shapes, f"{n}1", ("T-shirt logo brodé", "TSHIRT-001", 4, 1500), 556, 1089, r20),
        _item(shapes, f"{n}2", ("Livre de recettes", "BOOK-001", 2, 2400), 444, 240, r55),
    ]
    shipping = {
        "amount_subtotal": 800,
        "amount_tax": 160,
        "amount_total": 960,
        "shipping_rate": "shr_1QnCBDemoMessagerie",
        "taxes": [{"amount": 160, "rate": r20, "taxability_reason": None, "taxable_amount": 800}],
    }
    details = {
        **shapes["checkout.session"]["customer_details"],
        "address": {
            "city": "Nantes",
            "country": "FR",
            "line1": "3 quai de la Fosse",
            "line2": None,
            "postal_code": "44000",
            "state": None,
        },
        "email": "achats@cafe-des-arts.example.fr",
        "name": "Julien Moreau",
        "phone": "+33240000000",
        "tax_ids": [{"type": "eu_vat", "value": "FR40303265045"}],
    }
    if version == NEW:
        details["business_name"] = "Café des Arts SARL"
    session = _from(
        shapes["checkout.session"],
        id=sid,
        amount_subtotal=10800,
        amount_total=12089,
        client_reference_id="CDA-2026-0311",
        created=CREATED,
        currency="eur",
        customer="cus_RgT9cBDemoCafeArts",
        customer_details=details,
        expires_at=CREATED + 86400,
        payment_intent=f"pi_3QnC{n}BDemoCheckoutPI",
        payment_status="paid",
        shipping_cost=shipping,
        status="complete",
        total_details={"amount_discount": 1000, "amount_shipping": 800, "amount_tax": 1489},
        url=None,
    )
    _no_invoice(session)
    name = f"checkout-session-completed-00{n}-{_tag(version)}-b2b-two-rates-amount-off-shipping"
    _write(name, _event(version, n, "checkout.session.completed", session))
    _write(f"{name}.line_items", _page(sid, items))


def session_invoiced(shapes: dict[str, Any], version: str, n: str) -> None:
    """A session that made a Stripe invoice: booked through the invoice, not here."""
    session = _from(
        shapes["checkout.session"],
        id=f"cs_test_b1QnC{n}BDemoSessionInv",
        amount_subtotal=23500,
        amount_total=28200,
        created=CREATED,
        currency="eur",
        customer="cus_RgT5xBDemoAtelier",
        invoice="in_1QnC3aBDemoInv0003",
        payment_intent=f"pi_3QnC{n}BDemoCheckoutPI",
        payment_status="paid",
        status="complete",
        total_details={"amount_discount": 0, "amount_shipping": 0, "amount_tax": 4700},
        url=None,
    )
    creation = shapes["checkout.session"]["invoice_creation"] or {
        "invoice_data": {"description": None, "footer": None, "metadata": {}}
    }
    session["invoice_creation"] = {**creation, "enabled": True}
    name = f"checkout-session-completed-00{n}-{_tag(version)}-invoice-creation-ignored"
    _write(name, _event(version, n, "checkout.session.completed", session))


def credit_note(shapes: dict[str, Any], version: str, n: str) -> None:
    """One line of invoice BDEMO-0042 credited (49.00 + 20 % VAT), refunded to the card."""
    cn_id = f"cn_1QnC{n}BDemoCreditNote"
    line = _from(
        shapes["credit_note_line_item"],
        id=f"cnli_1QnC{n}BDemoCnLine",
        amount=4900,
        description="Abonnement Boutique Premium (mars 2026)",
        invoice_line_item="il_1QmG1aBDemoLine0001",
        quantity=1,
        tax_rates=[_rate(shapes, "txr_1QmE2nBDemoTva20", 20.0, False)],
    )
    note = _from(
        shapes["credit_note"],
        id=cn_id,
        amount=5880,
        created=CREATED,
        currency="eur",
        customer="cus_RgT5xBDemoAtelier",
        effective_at=CREATED,
        invoice="in_1QmG1aBDemoInv0001",
        lines={
            "object": "list",
            "data": [line],
            "has_more": False,
            "url": f"/v1/credit_notes/{cn_id}/lines",
        },
        memo="Premium non utilisé en mars",
        number=f"BDEMO-0042-CN-0{n}",
        pdf=f"https://pay.stripe.com/credit_notes/acct_1NvDemo/test_{cn_id}/pdf",
        reason="order_change",
        shipping_cost=None,
        status="issued",
        subtotal=4900,
        subtotal_excluding_tax=4900,
        total=5880,
        total_excluding_tax=4900,
        type="post_payment",
        voided_at=None,
    )
    refund = f"re_3QnC{n}BDemoCreditRef"
    tax = {"amount": 980, "taxable_amount": 4900}
    if version == OLD:
        line["tax_amounts"] = [
            {
                **tax,
                "inclusive": False,
                "tax_rate": "txr_1QmE2nBDemoTva20",
                "taxability_reason": "standard_rated",
            }
        ]
        line["amount_excluding_tax"], line["unit_amount_excluding_tax"] = 4900, "4900"
        note["tax_amounts"] = line["tax_amounts"]
        note["refund"] = refund
    else:
        new_tax = {
            **tax,
            "tax_behavior": "exclusive",
            "taxability_reason": "standard_rated",
            "type": "tax_rate_details",
            "tax_rate_details": {"tax_rate": "txr_1QmE2nBDemoTva20"},
        }
        line["taxes"] = [new_tax]
        line["pretax_credit_amounts"] = []
        note["total_taxes"] = [new_tax]
        note["pretax_credit_amounts"] = []
        note["post_payment_amount"], note["pre_payment_amount"] = 5880, 0
        note["refunds"] = [
            {
                "amount_refunded": 5880,
                "payment_record_refund": None,
                "refund": refund,
                "type": "refund",
            }
        ]
    _write(
        f"credit-note-created-00{n}-{_tag(version)}-one-line-refunded",
        _event(version, f"9{n}", "credit_note.created", note),
    )


def main() -> None:
    ref = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared/reference/stripe"
    shapes = _shapes(ref)
    session_ttc(shapes[OLD], OLD, "1")
    session_b2b(shapes[NEW], NEW, "2")
    session_invoiced(shapes[OLD], OLD, "3")
    session_ttc(shapes[NEW], NEW, "4")
    session_b2b(shapes[OLD], OLD, "5")
    credit_note(shapes[OLD], OLD, "1")
    credit_note(shapes[NEW], NEW, "2")


if __name__ == "__main__":
    main()
