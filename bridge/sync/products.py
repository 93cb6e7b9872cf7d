"""The Sage product of each order line: SKU as product code, else the fallback per VAT rate.

Sage takes a line's VAT from its product, so a product is used only when its sales VAT
rate is the line's: a catalogue product sold at another rate (an export at 0 %, a reduced
rate) goes to the fallback product of the line's rate, which keeps the invoice total equal
to the order total. Every other kind of line (shipping, rounding, duties, fees, tip, gift
card sold, cash rounding) uses its configured product, under the same rule; when that
product does not exist at all the order fails (no stand-in: `bridge doctor` reports it and
holds processing first). All codes are looked up in one call (the connector caches them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from bridge.models import Line, LineKind
from bridge.settings import Settings
from bridge.sync.context import SyncContext
from bridge.sync.dispatch import PermanentError
from connectors.sage_active.models import Product

PRODUCT_CODE_MAX = 15


def rate_key(rate: Decimal) -> str:
    """`Decimal("5.50")` -> `"5.5"`, `Decimal("20")` -> `"20"` (keys of the fallback map)."""
    return format(rate.normalize(), "f")


@dataclass(frozen=True)
class ProductPlan:
    """Product id per line, the indexes of lines that use a fallback product, and each
    line's product category in Sage (e-invoicing: goods or services)."""

    ids: list[str]
    fallback_lines: list[int]
    categories: list[str | None] = field(default_factory=list)


def kind_codes(settings: Settings) -> dict[LineKind, str]:
    """The configured product code of each line kind that is not a product sale."""
    return {
        LineKind.SHIPPING: settings.shipping_product_code,
        LineKind.ROUNDING: settings.rounding_product_code,
        LineKind.DUTIES: settings.duties_product_code,
        LineKind.FEES: settings.fees_product_code,
        LineKind.TIP: settings.tip_product_code,
        LineKind.GIFT_CARD: settings.gift_card_product_code,
        LineKind.CASH_ROUNDING: settings.cash_rounding_product_code,
    }


KIND_SETTINGS: dict[LineKind, str] = {
    LineKind.SHIPPING: "BRIDGE_SHIPPING_PRODUCT",
    LineKind.ROUNDING: "BRIDGE_ROUNDING_PRODUCT",
    LineKind.DUTIES: "BRIDGE_DUTIES_PRODUCT",
    LineKind.FEES: "BRIDGE_FEES_PRODUCT",
    LineKind.TIP: "BRIDGE_TIP_PRODUCT",
    LineKind.GIFT_CARD: "BRIDGE_GIFT_CARD_PRODUCT",
    LineKind.CASH_ROUNDING: "BRIDGE_CASH_ROUNDING_PRODUCT",
}


def _own_code(line: Line, settings: Settings) -> str | None:
    if line.kind is not LineKind.PRODUCT:
        return kind_codes(settings)[line.kind]
    sku = (line.sku or "").strip()
    return sku if 0 < len(sku) <= PRODUCT_CODE_MAX else None


def _fits(product: Product | None, rate: Decimal) -> bool:
    return product is not None and (
        product.sales_vat_percentage is None or product.sales_vat_percentage == rate
    )


def resolve_products(
    ctx: SyncContext,
    lines: Sequence[Line],
    imposed: Sequence[str | None] | None = None,
    fallbacks: dict[str, str] | None = None,
) -> ProductPlan:
    """The Sage product id of each line (see the module docstring).

    `imposed` is the product code the sale kind gives a line (`bridge.sync.taxes`: OSS,
    intra-EU), used only at the line's rate; `fallbacks` the fallback products per rate
    (default `BRIDGE_FALLBACK_PRODUCTS`).

    Raises:
        PermanentError: no usable product and no fallback product for a line's VAT rate.
        SageError: the look-up failed (classified by the caller).
    """
    settings = ctx.settings
    fallbacks = settings.fallback_products if fallbacks is None else fallbacks
    forced = list(imposed) if imposed is not None else [None] * len(lines)
    own = [code or _own_code(line, settings) for line, code in zip(lines, forced, strict=True)]
    wanted = [c for c in own if c] + [fallbacks[k] for k in sorted(fallbacks)]
    found = ctx.sage.products_by_codes(wanted)
    ids: list[str] = []
    categories: list[str | None] = []
    fallback_lines: list[int] = []
    for index, (line, code) in enumerate(zip(lines, own, strict=True)):
        product = found.get(code) if code else None
        if forced[index] is not None and not _fits(product, line.vat_rate):
            raise PermanentError(
                f"line {line.title!r}: product {code!r} is not in Sage at "
                f"{rate_key(line.vat_rate)} % VAT (BRIDGE_OSS_PRODUCTS / BRIDGE_INTRA_EU_PRODUCT)"
            )
        if forced[index] is None and line.kind is not LineKind.PRODUCT and product is None:
            # No stand-in for a configured product: a tip, a gift card sold (a liability)
            # or duties booked on a generic sales product would be wrong in the books.
            raise PermanentError(
                f"line {line.title!r} ({line.kind.value}): {KIND_SETTINGS[line.kind]} names "
                f"{code!r}, which Sage does not have: nothing is booked on a stand-in. "
                f"Create product {code!r} in Sage (or change the setting), then replay"
            )
        if not _fits(product, line.vat_rate):
            fallback_code = fallbacks.get(rate_key(line.vat_rate))
            product = found.get(fallback_code) if fallback_code else None
            if not _fits(product, line.vat_rate):
                raise PermanentError(
                    f"line {line.title!r}: no Sage product for code {code!r} at "
                    f"{rate_key(line.vat_rate)} % VAT and no fallback product for that rate "
                    f"(BRIDGE_FALLBACK_PRODUCTS, now {fallbacks})"
                )
            fallback_lines.append(index)
        assert product is not None  # _fits checked it
        ids.append(product.id)
        categories.append(product.category)
    return ProductPlan(ids=ids, fallback_lines=fallback_lines, categories=categories)
