"""The neutral models: invariants checked on construction, JSON round trip, customer codes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from pydantic import ValidationError

from bridge.models import (
    Line,
    LineKind,
    Order,
    Payment,
    Refund,
    RefundLine,
    TranslationError,
    customer_code,
)

D = Decimal


def _line(**overrides: object) -> Line:
    values: dict[str, object] = {
        "kind": LineKind.PRODUCT,
        "title": "Mug",
        "sku": "MUG-001",
        "quantity": D(2),
        "unit_price": D("12.416667"),
        "vat_rate": D(20),
    }
    values.update(overrides)
    return Line.build(**values)  # type: ignore[arg-type]


def _order(lines: list[Line], total: Decimal, rounding: Decimal = Decimal(0)) -> Order:
    return Order(
        provider="shopify",
        account="boutique-demo.myshopify.com",
        provider_id="1",
        number="#1001",
        reference="shopify:boutique-demo.myshopify.com:1",
        external_reference="#1001",
        currency="EUR",
        date=dt.date(2026, 3, 2),
        lines=lines,
        total=total,
        rounding=rounding,
    )


def test_line_build_computes_what_sage_will() -> None:
    line = _line()
    assert (line.net, line.vat, line.gross) == (D("24.83"), D("4.97"), D("29.80"))


def test_line_with_net_that_sage_would_not_compute_is_refused() -> None:
    with pytest.raises(ValidationError, match="differ from Sage's"):
        Line(
            kind=LineKind.PRODUCT,
            title="Mug",
            quantity=D(1),
            unit_price=D("10"),
            vat_rate=D(20),
            net=D("10.00"),
            vat=D("2.01"),
        )


def test_order_totals_must_agree_with_its_lines() -> None:
    line = _line()
    assert _order([line], D("29.80")).sage_total == D("29.80")
    with pytest.raises(ValidationError, match=r"lines sum to 29\.80, total is 29\.81"):
        _order([line], D("29.81"))


def test_order_rounding_must_match_its_rounding_lines() -> None:
    rounding = _line(
        kind=LineKind.ROUNDING, sku=None, quantity=D(1), unit_price=D("0.01"), vat_rate=D(0)
    )
    order = _order([_line(), rounding], D("29.81"), D("0.01"))
    assert (order.net_total, order.vat_total, order.rounding) == (D("24.84"), D("4.97"), D("0.01"))
    with pytest.raises(ValidationError, match=r"rounding 0 but rounding lines sum to 0\.01"):
        _order([_line(), rounding], D("29.81"))


def test_order_round_trips_through_json_with_exact_decimals() -> None:
    order = _order([_line()], D("29.80"))
    text = order.model_dump_json()
    assert '"unit_price":"12.416667"' in text
    assert Order.model_validate_json(text) == order


def test_models_are_frozen_and_refuse_unknown_fields_and_floats() -> None:
    order = _order([_line()], D("29.80"))
    with pytest.raises(ValidationError):
        order.total = D(1)  # type: ignore[misc]
    with pytest.raises(ValidationError, match="Extra inputs"):
        RefundLine(kind=LineKind.PRODUCT, quantity=D(1), amount=D(1), colour="red")  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match=r"not 0\.1"):
        RefundLine(kind=LineKind.PRODUCT, quantity=D(1), amount=0.1)  # type: ignore[arg-type]


def test_payment_and_refund_bounds() -> None:
    base = {
        "provider": "stripe",
        "account": "default",
        "order_reference": "stripe:default:in_1",
        "date": dt.date(2026, 3, 2),
    }
    with pytest.raises(ValidationError, match="greater than 0"):
        Payment(provider_id="pi_1", amount=D(0), currency="EUR", gateway="stripe", **base)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="at most 50"):
        Payment(provider_id="x" * 51, amount=D(1), currency="EUR", gateway="stripe", **base)  # type: ignore[arg-type]
    refund = Refund(provider_id="re_1", **base)  # type: ignore[arg-type]
    assert (refund.amount, refund.full, refund.lines) == (D(0), False, [])


@pytest.mark.parametrize(
    ("provider", "provider_id", "expected"),
    [
        ("shopify", "7012345678901", "SH7012345678901"),
        ("stripe", "cus_NffrFeUfNV2Hib", "STNffrFeUfNV2Hib"),
    ],
)
def test_customer_code_is_the_prefixed_id_when_it_fits(
    provider: str, provider_id: str, expected: str
) -> None:
    assert customer_code(provider, provider_id) == expected


def test_customer_code_hashes_ids_that_do_not_fit() -> None:
    code = customer_code("stripe", "cus_averyveryverylongidentifier")
    assert len(code) == 17
    assert code.startswith("ST")
    assert code == customer_code("stripe", "cus_averyveryverylongidentifier")
    assert code != customer_code("stripe", "cus_averyveryverylongidentifieR")
    assert len(customer_code("shopify", "gid://shopify/Customer/1")) == 17


def test_customer_code_refuses_unknown_provider_and_empty_id() -> None:
    with pytest.raises(ValueError, match="unknown provider"):
        customer_code("paypal", "1")
    with pytest.raises(ValueError, match="empty provider id"):
        customer_code("shopify", "")


def test_translation_error_is_a_value_error() -> None:
    assert issubclass(TranslationError, ValueError)
