"""How big a large Shopify order webhook is: the measure behind `BRIDGE_MAX_BODY`'s default.

Builds, from the recorded B2B order `tests/fixtures/shopify/orders-create-015-...`, an order
of N lines (default 500) where every line carries every money field Shopify sends with its
`*_set` twin (price, total discount, two tax lines, two discount allocations, a duty with
its tax line), three line properties and a staff attribution; then the same order once
fulfilled (`orders/updated`: the fulfillment repeats every line). Prints each size in bytes,
as compact JSON (as Shopify sends it) and with the fixture's key order.

    .venv/bin/python bench/webhook_size.py [--lines 500]
"""

from __future__ import annotations

import argparse
import copy
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

FIXTURE = (
    Path(__file__).resolve().parents[1]
    / "tests/fixtures/shopify/orders-create-015-ht-fr-b2b-quantities.json"
)


def money_set(amount: Decimal, currency: str = "EUR") -> dict[str, Any]:
    """A Shopify `*_set`: the amount in shop and presentment currency."""
    money = {"amount": f"{amount:.2f}", "currency_code": currency}
    return {"shop_money": money, "presentment_money": dict(money)}


def full_line(template: dict[str, Any], n: int) -> dict[str, Any]:
    """Line `n` with every optional money field and its `*_set` filled."""
    line = copy.deepcopy(template)
    price = Decimal("12.34") + n
    line.update(
        id=17_000_000_000 + n,
        admin_graphql_api_id=f"gid://shopify/LineItem/{17_000_000_000 + n}",
        sku=f"B2B-{n:05d}",
        title=f"Article professionnel n° {n} - conditionnement carton de 12",
        name=f"Article professionnel n° {n} - conditionnement carton de 12 - Bleu / XL",
        variant_title="Bleu / XL",
        vendor="Fournisseur Industriel SAS",
        product_id=9_000_000_000 + n,
        variant_id=8_000_000_000 + n,
        quantity=24,
        current_quantity=24,
        fulfillable_quantity=24,
        price=f"{price:.2f}",
        price_set=money_set(price),
        total_discount="1.20",
        total_discount_set=money_set(Decimal("1.20")),
        properties=[
            {"name": "PO line", "value": f"PO-2026-{n:05d}"},
            {"name": "Cost centre", "value": "Atelier Lyon 3"},
            {"name": "Delivery slot", "value": "Semaine 48, quai B"},
        ],
        attributed_staffs=[
            {"id": "gid://shopify/StaffMember/902541635", "quantity": 24},
        ],
        tax_lines=[
            {
                "title": "TVA",
                "price": "59.23",
                "rate": 0.2,
                "channel_liable": False,
                "price_set": money_set(Decimal("59.23")),
            },
            {
                "title": "Éco-participation",
                "price": "0.48",
                "rate": 0.002,
                "channel_liable": False,
                "price_set": money_set(Decimal("0.48")),
            },
        ],
        discount_allocations=[
            {
                "amount": "0.80",
                "amount_set": money_set(Decimal("0.80")),
                "discount_application_index": 0,
            },
            {
                "amount": "0.40",
                "amount_set": money_set(Decimal("0.40")),
                "discount_application_index": 1,
            },
        ],
        duties=[
            {
                "id": str(5_000_000_000 + n),
                "harmonized_system_code": "620342",
                "country_code_of_origin": "FR",
                "shop_money": {"amount": "0.00", "currency_code": "EUR"},
                "presentment_money": {"amount": "0.00", "currency_code": "EUR"},
                "tax_lines": [
                    {
                        "title": "Droits",
                        "price": "0.00",
                        "rate": 0.0,
                        "price_set": money_set(Decimal("0")),
                    }
                ],
                "admin_graphql_api_id": f"gid://shopify/Duty/{5_000_000_000 + n}",
            },
        ],
    )
    return line


def large_order(lines: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the order as `orders/create` sends it, the same order fulfilled)."""
    order: dict[str, Any] = json.loads(FIXTURE.read_text(encoding="utf-8"))
    template = order["line_items"][0]
    order["line_items"] = [full_line(template, n) for n in range(lines)]
    fulfilled = copy.deepcopy(order)
    fulfilled["fulfillment_status"] = "fulfilled"
    fulfilled["fulfillments"] = [
        {
            "id": 4_400_000_000,
            "admin_graphql_api_id": "gid://shopify/Fulfillment/4400000000",
            "status": "success",
            "shipment_status": None,
            "tracking_company": "DHL Express",
            "tracking_number": "JD014600006281230704",
            "line_items": copy.deepcopy(order["line_items"]),
        }
    ]
    return order, fulfilled


def main() -> None:
    import stopping  # here: tests import this module as bench.webhook_size

    stopping.install()  # SIGINT / SIGTERM: stop every child this bench started
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=500)
    args = parser.parse_args()
    order, fulfilled = large_order(args.lines)
    for label, body in (("orders/create", order), ("orders/updated, fulfilled", fulfilled)):
        compact = len(json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode())
        spaced = len(json.dumps(body, ensure_ascii=False).encode())
        print(f"{label:<28} {args.lines} lines: {compact:>9,} bytes compact "
              f"({compact / 1024 / 1024:.2f} MiB), {spaced:,} with spaces")  # fmt: skip


if __name__ == "__main__":
    main()
