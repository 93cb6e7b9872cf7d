"""Payment arithmetic: oldest open items first; park delays grow and are capped; Markets
payments are booked in shop money."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from bridge.models import Line, LineKind, Order, Payment, Presentment, ShownMoney
from bridge.store.links import OrderLink
from bridge.sync.dispatch import PermanentError
from bridge.sync.payments import after_settlement, allocate, in_shop_money, park_delay
from bridge.sync.products import rate_key
from connectors.sage_active.models import OpenItem

D = Decimal


def item(ident: str, amount: str, paid: str, day: int) -> OpenItem:
    return OpenItem(
        id=ident,
        amount=D(amount),
        paid_amount_accumulated=D(paid),
        due_date=dt.datetime(2026, 3, day, tzinfo=dt.UTC),
    )


def test_allocation_pays_the_oldest_open_item_first() -> None:
    items = [item("late", "50", "0", 20), item("early", "30", "10", 1)]

    lines = allocate(items, D("40"))

    assert [(ln.open_item_id, ln.paid_amount) for ln in lines] == [
        ("early", D(20)),
        ("late", D(20)),
    ]
    after = after_settlement(items, lines)
    assert [i.outstanding for i in after] == [D(30), D(0)]


def test_park_delay_grows_and_is_capped_at_30_minutes() -> None:
    delays = [park_delay(n) for n in range(10)]

    assert delays[:3] == [5.0, 15.0, 60.0]
    assert delays == sorted(delays)
    assert max(delays) == 1800.0


def test_rate_keys_match_the_fallback_settings() -> None:
    assert [rate_key(D(r)) for r in ("20", "20.00", "5.50", "0", "2.1")] == [
        "20",
        "20",
        "5.5",
        "0",
        "2.1",
    ]


def _markets_link(paid_gbp: str = "0", paid_eur: str = "0") -> OrderLink:
    order = Order(
        provider="shopify",
        account="vins.myshopify.com",
        provider_id="1",
        number="#1",
        reference="shopify:vins.myshopify.com:1",
        external_reference="#1",
        currency="EUR",
        date=dt.date(2026, 11, 2),
        lines=[
            Line.build(
                kind=LineKind.PRODUCT,
                title="Vin",
                quantity=D(1),
                unit_price=D("135.03"),
                vat_rate=D(20),
            )
        ],
        total=D("162.04"),
        presentment=Presentment(currency="GBP", total=D("142.32")),
    )
    return OrderLink(
        reference=order.reference,
        order=order,
        paid=D(paid_eur),
        presentment_paid=D(paid_gbp),
    )


def _payment(amount: str, currency: str = "GBP") -> Payment:
    return Payment(
        provider="shopify",
        account="vins.myshopify.com",
        provider_id="77",
        order_reference="shopify:vins.myshopify.com:1",
        amount=D(amount),
        currency=currency,
        gateway="shopify_payments",
        date=dt.date(2026, 11, 2),
    )


def test_a_payment_in_the_presentment_currency_settles_its_share_in_shop_money() -> None:
    converted, shown = in_shop_money(_markets_link(), _payment("142.32"))

    assert (converted.amount, converted.currency, shown) == (D("162.04"), "EUR", D("142.32"))
    second, _ = in_shop_money(_markets_link("100.00", "113.86"), _payment("42.32"))
    assert second.amount == D("48.18")


def test_a_payment_in_the_shop_currency_is_kept_as_it_is() -> None:
    payment = _payment("20.00", "EUR")

    assert in_shop_money(_markets_link(), payment) == (payment, None)


def test_shopify_s_shop_money_counts_its_gbp_towards_the_total_for_the_completing_payment() -> None:
    # given a first payment with Shopify's own shop money (113.90 EUR for 100.00 GBP)
    given = _payment("113.90", "EUR").model_copy(
        update={"shown": ShownMoney(amount=D("100.00"), currency="GBP")}
    )
    kept, shown = in_shop_money(_markets_link(), given)
    assert (kept, shown) == (given, D("100.00"))

    # when the rest comes in GBP only, it takes what the EUR total still lacks
    rest, _ = in_shop_money(_markets_link("100.00", "113.90"), _payment("42.32"))
    assert rest.amount == D("48.14")


def test_a_payment_in_a_third_currency_is_refused_naming_the_currencies() -> None:
    with pytest.raises(PermanentError, match=r"in USD, the invoice in EUR \(.*presented in GBP\)"):
        in_shop_money(_markets_link(), _payment("10.00", "USD"))


def test_a_completing_payment_when_the_invoice_is_settled_already_is_refused() -> None:
    with pytest.raises(PermanentError, match="already settled"):
        in_shop_money(_markets_link("100.00", "162.04"), _payment("42.32"))
