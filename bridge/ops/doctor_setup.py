"""Doctor checks of the set-up (registered in `bridge.ops.doctor.CHECK_MODULES`):

- **Line products**: the products of the lines that are not product sales and that only
  the sandbox seeds (duties, fees, tip, gift card sold, cash rounding). A missing one is an
  error that holds processing: such a line is never booked on a stand-in (a gift card sold
  is a liability, not a sale).
- **Go-live date**: which orders the bridge leaves to the books kept by hand.
- **Shop routing**: the environment's connection keeps its shop's webhooks when other
  connections are registered (its domain is set, or learnt from its first signed delivery).
"""

from __future__ import annotations

from collections.abc import Iterator

from bridge.connections.registry import ConnectionRegistry
from bridge.connections.secrets import SecretBox
from bridge.ops.doctor import DoctorContext, Finding, Level, check

LINE_PRODUCTS = "Line products"


def line_product_codes(ctx: DoctorContext) -> dict[str, str]:
    """Setting name -> product code, for the lines that are not product sales."""
    settings = ctx.settings
    return {
        "BRIDGE_DUTIES_PRODUCT": settings.duties_product_code,
        "BRIDGE_FEES_PRODUCT": settings.fees_product_code,
        "BRIDGE_TIP_PRODUCT": settings.tip_product_code,
        "BRIDGE_GIFT_CARD_PRODUCT": settings.gift_card_product_code,
        "BRIDGE_CASH_ROUNDING_PRODUCT": settings.cash_rounding_product_code,
    }


@check(LINE_PRODUCTS, needs_sage=True)
def line_products(ctx: DoctorContext) -> Iterator[Finding]:
    wanted = line_product_codes(ctx)
    found = ctx.sage.products_by_codes(wanted.values())
    missing = {name: code for name, code in wanted.items() if code not in found}
    for name, code in missing.items():
        yield Finding(
            check=LINE_PRODUCTS,
            level=Level.ERROR,
            detail=f"{name} names {code!r}, which Sage does not have: such lines would "
            "have no product (nothing is booked on a stand-in)",
            fix=f"create product {code!r} in Sage, or set {name} to a product it has",
            holds=True,
        )
    if not missing:
        listed = ", ".join(f"{code}" for code in dict.fromkeys(wanted.values()))
        yield Finding(
            check=LINE_PRODUCTS,
            level=Level.OK,
            detail=f"duties, fees, tip, gift card and cash rounding found ({listed})",
        )


@check("Go-live date")
def go_live(ctx: DoctorContext) -> Iterator[Finding]:
    start = ctx.settings.start_date
    if start is None:
        detail = "not set: orders of any date are invoiced (BRIDGE_START_DATE)"
    else:
        detail = (
            f"{start}: older orders are not invoiced; their payments and refunds are "
            "listed in the attention items (kind before_go_live) to book by hand"
        )
    yield Finding(check="Go-live date", level=Level.OK, detail=detail)


@check("Shop routing")
def shop_routing(ctx: DoctorContext) -> Iterator[Finding]:
    settings = ctx.settings
    if not settings.shopify_secrets:
        return
    registry = ConnectionRegistry(ctx.redis, lambda: SecretBox(settings.secret_key))
    learnt = registry.env_shop(settings.connection)
    declared = settings.shopify_shop_domain
    if declared or learnt:
        how = "declared" if declared else "learnt from its first signed webhook"
        detail = f"{declared or learnt} ({how})"
    else:
        detail = (
            "no shop yet: the first shop whose webhook is signed with SHOPIFY_WEBHOOK_SECRET "
            "becomes this connection's (other shops need a connection each)"
        )
    yield Finding(check="Shop routing", level=Level.OK, detail=detail)
