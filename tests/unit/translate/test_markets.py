"""Markets money: presentment amounts booked in shop money at the order's own ratio."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.models import Presentment, TranslationError
from bridge.translate.markets import OrderMoney, settle_share, to_shop

D = Decimal
GBP_ORDER = Presentment(currency="GBP", total=D("142.32"))  # booked at 162.04 EUR


def share(amount: str, paid_gbp: str = "0", paid_eur: str = "0") -> Decimal:
    return settle_share(
        D(amount),
        presentment=GBP_ORDER,
        presentment_paid=D(paid_gbp),
        shop_total=D("162.04"),
        shop_paid=D(paid_eur),
        currency="EUR",
    )


def test_a_payment_of_the_whole_presentment_total_settles_the_whole_shop_total() -> None:
    # the wine shop: 142.32 GBP paid, no amount_set, invoice 162.04 EUR
    assert share("142.32") == D("162.04")


def test_two_partial_payments_settle_exactly_the_shop_total() -> None:
    first = share("100.00")
    second = share("42.32", paid_gbp="100.00", paid_eur=str(first))

    assert first == D("113.86")  # 100 x 162.04 / 142.32 = 113.8561...
    assert first + second == D("162.04")


def test_the_completing_payment_takes_what_the_shop_total_still_lacks() -> None:
    # whatever the earlier payments settled (113.90, not the 113.86 of the order's ratio)
    assert share("42.32", paid_gbp="100.00", paid_eur="113.90") == D("48.14")


def test_a_payment_beyond_the_presentment_total_is_converted_so_it_can_be_refused() -> None:
    assert share("150.00") == to_shop(D("150.00"), GBP_ORDER, D("162.04"), "EUR")
    assert share("150.00") > D("162.04")


@settings(max_examples=200, deadline=None)
@given(
    total=st.integers(min_value=100, max_value=10_000_000),
    shop=st.integers(min_value=100, max_value=10_000_000),
    cuts=st.lists(st.integers(min_value=1, max_value=10_000), min_size=1, max_size=6),
)
def test_payments_adding_up_to_the_presentment_total_settle_the_shop_total(
    total: int, shop: int, cuts: list[int]
) -> None:
    shown = Presentment(currency="GBP", total=D(total) / 100)
    weights = sum(cuts)
    parts = [D(total * c // weights) / 100 for c in cuts[:-1]]
    parts.append(shown.total - sum(parts, D(0)))
    paid_shown, paid_shop = D(0), D(0)
    for part in parts:
        step = settle_share(
            part,
            presentment=shown,
            presentment_paid=paid_shown,
            shop_total=D(shop) / 100,
            shop_paid=paid_shop,
            currency="EUR",
        )
        assert step >= 0
        paid_shown, paid_shop = paid_shown + part, paid_shop + step
    assert paid_shop == D(shop) / 100


def test_order_money_converts_the_presentment_currency_and_refuses_any_other() -> None:
    money = OrderMoney("EUR", D("162.04"), GBP_ORDER)

    assert money.in_shop(D("12.50"), "eur", "refund") == D("12.50")
    assert money.in_shop(D("33.00"), "GBP", "refund") == D("37.57")
    with pytest.raises(TranslationError, match=r"refund tx 9 is in USD, the order in EUR.*GBP"):
        money.in_shop(D("10"), "USD", "refund tx 9")
    with pytest.raises(TranslationError, match="is in GBP, the order in EUR: no rate"):
        OrderMoney("EUR", D("10")).in_shop(D("1"), "GBP", "refund tx 9")
