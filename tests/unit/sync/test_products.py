"""Every kind of line that is not a product sale has its configured product."""

from __future__ import annotations

from bridge.models import LineKind
from bridge.settings import Settings
from bridge.sync.products import kind_codes


def test_each_non_product_kind_maps_to_its_setting() -> None:
    settings = Settings(
        BRIDGE_DUTIES_PRODUCT="D1",
        BRIDGE_FEES_PRODUCT="F1",
        BRIDGE_TIP_PRODUCT="T1",
        BRIDGE_GIFT_CARD_PRODUCT="G1",
        BRIDGE_CASH_ROUNDING_PRODUCT="C1",
    )

    codes = kind_codes(settings)

    assert set(codes) == set(LineKind) - {LineKind.PRODUCT}
    assert [codes[k] for k in (LineKind.DUTIES, LineKind.FEES, LineKind.TIP)] == ["D1", "F1", "T1"]
    assert (codes[LineKind.GIFT_CARD], codes[LineKind.CASH_ROUNDING]) == ("G1", "C1")
    assert (codes[LineKind.SHIPPING], codes[LineKind.ROUNDING]) == ("SHIPPING", "ROUNDING")


def test_defaults_name_the_seeded_sandbox_products() -> None:
    from connectors.sage_active.sandbox.seed import PRODUCTS

    seeded = {code: rate for code, _, rate, _ in PRODUCTS}
    for kind, code in kind_codes(Settings()).items():
        assert code in seeded, kind
        if kind is not LineKind.SHIPPING:
            assert seeded[code] == "0", kind  # duties, fees, tips, gift cards, rounding
