"""The `bridge doctor` check of French e-invoicing: does it apply, and is it ready.

It says which case the bridge is in: off by setting; an organisation under another
legislation (nothing changes); French but not registered with Sage's platform, or the
registration in progress or failed (invoices are booked as today, and why); registered
(`Accepted`: French business customers' invoices are sent electronically). It also checks
the product-type mapping that gives each invoice its billing framework: every key a Sage
product category, and no product in Sage of a category it leaves out (a French B2B order
selling one would fail until it is mapped).
"""

from __future__ import annotations

from collections.abc import Iterator

from bridge.ops.doctor import DoctorContext, Finding, Level, check
from connectors.sage_active.pagination import connection

NAME = "E-invoicing"
CATEGORIES = ("NOT_SPECIFIED", "CONCEPT", "FEE", "PRODUCT", "PRODUCT_AND_SERVICE", "SERVICE")
UNMAPPED_PRODUCTS = (
    "query ($mapped: [ProductCategory!]) { products(first: 5, where: { category: "
    "{ nin: $mapped } }) { nodes { code category } } }"
)
WHERE = "Sage Active, Settings > E-Invoicing and e-reporting"


def _finding(level: Level, detail: str, fix: str = "", *, holds: bool | None = None) -> Finding:
    if holds is None:  # the doctor's default: an error holds the connection
        return Finding(check=NAME, level=level, detail=detail, fix=fix)
    return Finding(check=NAME, level=level, detail=detail, fix=fix, holds=holds)


@check(NAME, needs_sage=True)
def einvoicing(ctx: DoctorContext) -> Iterator[Finding]:
    """Registration status, then the product-type mapping (only when it is used)."""
    if not ctx.settings.einvoice:
        yield _finding(Level.OK, "off (BRIDGE_EINVOICE=false): no invoice is sent electronically")
        return
    detail = ctx.sage.organization_detail()
    name = detail.social_name or detail.id
    if (detail.legislation_code or "FR") != "FR":
        yield _finding(
            Level.OK,
            f"{name} is under {detail.legislation_code} legislation: French e-invoicing does "
            "not apply, invoices are booked as before",
        )
        return
    setup = ctx.sage.einvoice_setup()
    status = setup.status if setup else None
    as_today = "French B2B invoices are booked as today, not sent electronically"
    if status is None:
        yield _finding(
            Level.WARNING,
            f"{name} is not registered with Sage's e-invoicing platform: {as_today}",
            f"register the organisation in {WHERE} (mandatory for issuing B2B invoices in "
            "France: large and mid-size companies since September 2026, small ones from "
            "September 2027)",
        )
        return
    if status != "Accepted":
        code = f", errorCode {setup.error_code}" if setup and setup.error_code else ""
        yield _finding(
            Level.ERROR if status == "Failed" else Level.WARNING,
            f"{name}'s registration with Sage's e-invoicing platform is {status}{code}: "
            f"{as_today} until it is Accepted",
            f"finish or repair the registration in {WHERE}",
            holds=False,  # invoices go on, booked as today
        )
        return
    sources = ", ".join(s.value for s in ctx.settings.einvoice_address_sources)
    yield _finding(
        Level.OK,
        f"{name} is registered (Accepted): invoices and credit notes of French business "
        f"customers are sent electronically, routed {ctx.settings.einvoice_address_type.value} "
        f"from {sources}",
    )
    yield from _mapping(ctx)


def _mapping(ctx: DoctorContext) -> Iterator[Finding]:
    mapping = ctx.settings.einvoice_product_types
    unknown = sorted(key for key in mapping if key not in CATEGORIES)
    if unknown:
        yield _finding(
            Level.ERROR,
            f"BRIDGE_EINVOICE_PRODUCT_TYPES maps {', '.join(unknown)}, which are not Sage "
            "product categories",
            f"use the categories {', '.join(CATEGORIES)}",
        )
    mapped = [key for key in mapping if key in CATEGORIES]
    data = ctx.sage.client.execute(UNMAPPED_PRODUCTS, {"mapped": mapped}, name="products")
    nodes = connection(data, "products").nodes
    if nodes:
        shown = ", ".join(f"{n.get('code')} ({n.get('category')})" for n in nodes)
        yield _finding(
            Level.WARNING,
            f"products in Sage whose category BRIDGE_EINVOICE_PRODUCT_TYPES does not map to "
            f"goods or services, e.g. {shown}: a French B2B order selling one fails until "
            "it is mapped",
            "map those categories in BRIDGE_EINVOICE_PRODUCT_TYPES (JSON, e.g. "
            '{"PRODUCT_AND_SERVICE": "goods"}), or change the products\' category in Sage',
        )
    elif not unknown:
        kinds = ", ".join(f"{k} {v.value}" for k, v in sorted(mapping.items()))
        yield _finding(Level.OK, f"product types: every Sage product is mapped ({kinds})")
