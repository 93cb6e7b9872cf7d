"""The corpus holds the cross-border and business sales the EU VAT rules are built for."""

from __future__ import annotations

from decimal import Decimal

from bridge.models import Order
from tests.unit.translate.test_corpus import CASES, _expected

ORDER_TOPICS = {"orders/create", "invoice.paid", "invoice.finalized"}


def _orders() -> dict[str, Order]:
    found = {}
    for _, path in CASES:
        expected = _expected(path)
        if expected["topic"] in ORDER_TOPICS and "error" not in expected:
            found[path.stem] = Order.model_validate(expected["result"])
    return found


def test_the_corpus_has_every_kind_of_sale_across_borders() -> None:
    orders = _orders()
    oss = orders["orders-create-050-ttc-oss-germany-consumer-v2026-10"]
    assert (oss.total, oss.vat_total, oss.destination) == (
        Decimal("123.90"), Decimal("19.78"), "DE",
    )  # fmt: skip
    assert {line.vat_rate for line in oss.lines} == {Decimal(19)}
    guest = orders["orders-create-051-ht-export-us-guest-v2026-10"]
    assert guest.customer is not None
    assert (guest.customer.is_guest, guest.customer.country) == (True, "US")
    b2b = orders["orders-create-052-ht-b2b-belgium-company-location-v2026-10"]
    assert b2b.customer is not None
    assert b2b.customer.company_location == "gid://shopify/CompanyLocation/98765101"
    assert (b2b.customer.vat_number, b2b.customer.tax_exempt) == ("BE0123456749", True)
    swiss = orders["orders-create-053-ttc-export-switzerland-consumer-v2026-10"]
    assert swiss.destination == "CH"
    assert swiss.vat_total == 0
    stripe = orders["invoice-finalized-103-endive-reverse-charge-de"]
    assert stripe.customer is not None
    assert (stripe.customer.vat_number, stripe.customer.country) == ("DE129273398", "DE")
    assert stripe.vat_total == 0
    spanish = orders["orders-create-054-ttc-es-shop-21-and-10-v2026-10"]
    assert {line.vat_rate for line in spanish.lines} == {Decimal(21), Decimal(10)}
    german = orders["orders-create-055-ttc-de-shop-19-and-7-v2026-10"]
    assert {line.vat_rate for line in german.lines} == {Decimal(19), Decimal(7)}
