"""GraphQL Admin API objects -> the webhook (REST) bodies the worker translates.

The backfill reads orders, transactions and refunds through GraphQL, but feeds them to the
same handlers as a webhook, which parse REST-shaped bodies (`connectors.shopify.payloads`).
This module is the one place that maps one shape to the other:

- ids: `gid://shopify/Order/123` -> `123` (an int, as REST sends it);
- money: a `MoneyBag` (`shopMoney` / `presentmentMoney`, each `amount` + `currencyCode`)
  -> a `*_set` (`shop_money` / `presentment_money`, `amount` + `currency_code`), and the
  plain field as REST gives it: an order's, line's or tax's (`total_price`, `price`) in the
  shop currency, a transaction's `amount` / `currency` in the presentment currency;
- enums: `PAID` -> `paid`, `SALE` -> `sale`, `SHIPPING_REFUND` -> `shipping_refund`;
- camelCase names -> REST's snake_case names, including the lines real cross-border orders
  carry (`duties`, `current_total_duties_set`, `total_tip_received`,
  `total_cash_rounding_*_adjustment_set`, `current_total_additional_fees_set`,
  `gift_card`);
- a transaction's `currencyExchangeAdjustment` (`MoneyV2`s) -> `currency_exchange_adjustment`
  (`adjustment`, `original_amount`, `final_amount`, `currency`);
- a refund's `duties` (`RefundDuty.amountSet`) -> its `duties` and their sum,
  `total_duties_set`;
- tip line items: GraphQL's `LineItem` does not mark them; the order's sales do (`TipSale`,
  read as `agreements`): those lines get REST's `tip_payment_gateway` (the gateway is not
  in the sale: None).

Pure functions over plain JSON values; a GraphQL object missing a required field (no `id`)
raises `ValueError` naming it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

JSON = dict[str, Any]


def legacy_id(gid: object) -> int:
    """The numeric id of a global id (`gid://shopify/Order/123` -> 123).

    Raises:
        ValueError: not a Shopify global id with a numeric tail.
    """
    text = str(gid or "")
    tail = text.rsplit("/", 1)[-1].split("?", 1)[0]
    if not text.startswith("gid://shopify/") or not tail.isdigit():
        raise ValueError(f"not a Shopify global id: {gid!r}")
    return int(tail)


def _optional_id(value: object) -> int | None:
    node = value.get("id") if isinstance(value, dict) else None
    return legacy_id(node) if node else None


def _money(money: object) -> JSON | None:
    if not isinstance(money, dict):
        return None
    return {"amount": money.get("amount"), "currency_code": money.get("currencyCode")}


def money_set(bag: object) -> JSON | None:
    """A REST `*_set` from a GraphQL `MoneyBag` (None stays None)."""
    if not isinstance(bag, dict) or not isinstance(bag.get("shopMoney"), dict):
        return None
    shop = _money(bag["shopMoney"])
    presentment = _money(bag.get("presentmentMoney")) or shop
    return {"shop_money": shop, "presentment_money": presentment}


def _shop(bag: object) -> str | None:
    """REST's plain amount field of an order, a line, a tax: the shop money's amount."""
    converted = money_set(bag)
    return converted["shop_money"]["amount"] if converted else None


def _lower(value: object) -> str | None:
    return value.lower() if isinstance(value, str) else None


def _list(value: object) -> list[JSON]:
    if isinstance(value, dict):  # a connection read as `nodes` or `edges { node }`
        if isinstance(value.get("nodes"), list):
            value = value["nodes"]
        elif isinstance(value.get("edges"), list):
            value = [edge.get("node") for edge in value["edges"] if isinstance(edge, dict)]
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _address(address: object) -> JSON | None:
    if not isinstance(address, dict):
        return None
    names = ("first_name", "last_name", "name", "company", "address1", "address2", "city")
    camel = ("firstName", "lastName", "name", "company", "address1", "address2", "city")
    body = {rest: address.get(gql) for rest, gql in zip(names, camel, strict=True)}
    body.update(
        zip=address.get("zip"),
        province=address.get("province"),
        province_code=address.get("provinceCode"),
        country=address.get("country"),
        country_code=address.get("countryCodeV2") or address.get("countryCode"),
        phone=address.get("phone"),
    )
    return body


def _tax_line(tax: JSON) -> JSON:
    return {
        "title": tax.get("title"),
        "price": _shop(tax.get("priceSet")),
        "price_set": money_set(tax.get("priceSet")),
        "rate": tax.get("rate") if tax.get("rate") is not None else 0,
        "channel_liable": tax.get("channelLiable"),
    }


def _allocation(allocation: JSON) -> JSON:
    application = allocation.get("discountApplication")
    index = application.get("index") if isinstance(application, dict) else None
    return {
        "amount": _shop(allocation.get("allocatedAmountSet")),
        "amount_set": money_set(allocation.get("allocatedAmountSet")),
        "discount_application_index": index,
    }


def _duty(duty: JSON) -> JSON:
    return {
        "id": legacy_id(duty["id"]) if duty.get("id") else None,
        "harmonized_system_code": duty.get("harmonizedSystemCode"),
        "country_code_of_origin": duty.get("countryCodeOfOrigin"),
        "price_set": money_set(duty.get("price")),
        "tax_lines": [_tax_line(t) for t in _list(duty.get("taxLines"))],
    }


def line_item_body(item: JSON) -> JSON:
    """A REST line item from a GraphQL `LineItem`."""
    return {
        "id": legacy_id(item.get("id")),
        "title": item.get("title") or item.get("name") or "",
        "name": item.get("name"),
        "variant_title": item.get("variantTitle"),
        "sku": item.get("sku"),
        "quantity": item.get("quantity", 0),
        "current_quantity": item.get("currentQuantity"),
        "price": _shop(item.get("originalUnitPriceSet")),
        "price_set": money_set(item.get("originalUnitPriceSet")),
        "total_discount": _shop(item.get("totalDiscountSet")),
        "total_discount_set": money_set(item.get("totalDiscountSet")),
        "discount_allocations": [_allocation(a) for a in _list(item.get("discountAllocations"))],
        "tax_lines": [_tax_line(t) for t in _list(item.get("taxLines"))],
        "taxable": item.get("taxable", True),
        "gift_card": bool(item.get("isGiftCard")),
        "requires_shipping": item.get("requiresShipping"),
        "duties": [_duty(d) for d in _list(item.get("duties"))],
    }


def shipping_line_body(line: JSON) -> JSON:
    """A REST shipping line from a GraphQL `ShippingLine`."""
    return {
        "id": legacy_id(line.get("id")),
        "title": line.get("title") or "",
        "code": line.get("code"),
        "price": _shop(line.get("originalPriceSet")),
        "price_set": money_set(line.get("originalPriceSet")),
        "discounted_price_set": money_set(line.get("discountedPriceSet")),
        "discount_allocations": [_allocation(a) for a in _list(line.get("discountAllocations"))],
        "tax_lines": [_tax_line(t) for t in _list(line.get("taxLines"))],
    }


def _exchange(adjustment: object) -> JSON | None:
    """REST's `currency_exchange_adjustment` from a GraphQL `CurrencyExchangeAdjustment`."""
    if not isinstance(adjustment, dict):
        return None
    final = _money(adjustment.get("finalAmountSet")) or {}
    original = _money(adjustment.get("originalAmountSet")) or {}
    change = _money(adjustment.get("adjustment")) or {}
    return {
        "id": legacy_id(adjustment["id"]) if adjustment.get("id") else None,
        "adjustment": change.get("amount"),
        "original_amount": original.get("amount"),
        "final_amount": final.get("amount"),
        "currency": final.get("currency_code") or original.get("currency_code"),
    }


def transaction_body(tx: JSON, order_id: int) -> JSON:
    """A REST transaction (`order_transactions/create`) from a GraphQL `OrderTransaction`.

    `amount` / `currency` are the presentment money's, as Shopify's webhook reports them.
    """
    amount = money_set(tx.get("amountSet"))
    presentment = amount["presentment_money"] if amount else {}
    return {
        "id": legacy_id(tx.get("id")),
        "order_id": order_id,
        "kind": _lower(tx.get("kind")),
        "status": _lower(tx.get("status")),
        "gateway": tx.get("gateway"),
        "amount": presentment.get("amount"),
        "currency": presentment.get("currency_code"),
        "amount_set": amount,
        "total_unsettled_set": money_set(tx.get("totalUnsettledSet")),
        "currency_exchange_adjustment": _exchange(tx.get("currencyExchangeAdjustment")),
        "parent_id": _optional_id(tx.get("parentTransaction")),
        "created_at": tx.get("createdAt"),
        "processed_at": tx.get("processedAt"),
        "test": bool(tx.get("test")),
    }


def _refund_line(item: JSON) -> JSON:
    found = item.get("lineItem")
    line: JSON = found if isinstance(found, dict) else {}
    line_id = legacy_id(line.get("id"))
    return {
        "id": legacy_id(item["id"]) if item.get("id") else line_id,
        "line_item_id": line_id,
        "quantity": item.get("quantity", 0),
        "restock_type": _lower(item.get("restockType")),
        "subtotal_set": money_set(item.get("subtotalSet")),
        "total_tax_set": money_set(item.get("totalTaxSet")),
        "line_item": {"id": line_id, "sku": line.get("sku"), "title": line.get("title") or "",
                      "name": line.get("name"), "quantity": item.get("quantity", 0)},
    }  # fmt: skip


def _refund_shipping(line: JSON) -> JSON:
    return {
        "id": legacy_id(line["id"]) if line.get("id") else None,
        "shipping_line_id": _optional_id(line.get("shippingLine")),
        "subtotal_amount_set": money_set(line.get("subtotalAmountSet")),
        "tax_amount_set": money_set(line.get("taxAmountSet")),
    }


def _adjustment(adjustment: JSON, order_id: int, refund_id: int) -> JSON:
    return {
        "id": legacy_id(adjustment.get("id")),
        "order_id": order_id,
        "refund_id": refund_id,
        "kind": _lower(adjustment.get("reason")),
        "reason": _lower(adjustment.get("reason")),
        "amount": _shop(adjustment.get("amountSet")),
        "amount_set": money_set(adjustment.get("amountSet")),
        "tax_amount": _shop(adjustment.get("taxAmountSet")),
        "tax_amount_set": money_set(adjustment.get("taxAmountSet")),
    }


def _sum_sets(sets: list[JSON]) -> JSON | None:
    """The sum of REST `*_set`s, money by money (None for none)."""
    if not sets:
        return None
    total: JSON = {}
    for side in ("shop_money", "presentment_money"):
        amounts = [Decimal(str(s[side]["amount"])) for s in sets]
        code = sets[0][side]["currency_code"]
        total[side] = {"amount": str(sum(amounts, Decimal(0))), "currency_code": code}
    return total


def _refund_duties(refund: JSON) -> list[JSON]:
    duties = []
    for duty in _list(refund.get("duties")):
        amount = money_set(duty.get("amountSet"))
        if amount is not None:
            duties.append({"duty_id": _optional_id(duty.get("originalDuty")), "amount_set": amount})
    return duties


def refund_body(refund: JSON, order_id: int) -> JSON:
    """A REST refund (`refunds/create`) from a GraphQL `Refund`."""
    refund_id = legacy_id(refund.get("id"))
    duties = _refund_duties(refund)
    return {
        "id": refund_id,
        "order_id": order_id,
        "created_at": refund.get("createdAt"),
        "processed_at": refund.get("createdAt"),
        "note": refund.get("note"),
        "refund_line_items": [_refund_line(i) for i in _list(refund.get("refundLineItems"))],
        "refund_shipping_lines": [
            _refund_shipping(s) for s in _list(refund.get("refundShippingLines"))
        ],
        "order_adjustments": [
            _adjustment(a, order_id, refund_id) for a in _list(refund.get("orderAdjustments"))
        ],
        "transactions": [transaction_body(t, order_id) for t in _list(refund.get("transactions"))],
        "duties": duties,
        "total_duties_set": _sum_sets([d["amount_set"] for d in duties]),
    }


_FULFILMENT = {"FULFILLED": "fulfilled", "PARTIALLY_FULFILLED": "partial"}


def _order_refunds(order: JSON) -> list[JSON] | None:
    """The order's `refunds[]` with the units of each line they gave back, when the GraphQL
    order was read with its refunds' `refundLineItems` (None otherwise: a translation
    cannot then tell units refunded from units an order edit removed)."""
    refunds = order.get("refunds")
    if not isinstance(refunds, list) or not all(
        isinstance(r, dict) and "refundLineItems" in r for r in refunds
    ):
        return None
    return [
        {"refund_line_items": [_refund_line(i) for i in _list(r.get("refundLineItems"))]}
        for r in refunds
    ]


def _customer(customer: object) -> JSON | None:
    if not isinstance(customer, dict) or not customer.get("id"):
        return None
    return {
        "id": legacy_id(customer["id"]),
        "email": customer.get("email"),
        "first_name": customer.get("firstName"),
        "last_name": customer.get("lastName"),
        "phone": customer.get("phone"),
        "tax_exempt": bool(customer.get("taxExempt")),
        "tax_exemptions": [str(e) for e in customer.get("taxExemptions") or [] if e],
        "default_address": _address(customer.get("defaultAddress")),
    }


def _company(entity: object) -> JSON | None:
    """A B2B order's `purchasingEntity` (a `PurchasingCompany`) as the webhook's `company`."""
    if not isinstance(entity, dict):
        return None
    company, location = entity.get("company"), entity.get("location")
    if not isinstance(company, dict) or not company.get("id"):
        return None
    place = location.get("id") if isinstance(location, dict) else None
    return {"id": legacy_id(company["id"]), "location_id": legacy_id(place) if place else None}


def _order_money(order: JSON) -> JSON:
    rounding = order.get("totalCashRoundingAdjustment") or {}
    tip = money_set(order.get("totalTipReceivedSet"))
    return {
        "total_price": _shop(order.get("totalPriceSet")),
        "total_price_set": money_set(order.get("totalPriceSet")),
        "subtotal_price_set": money_set(order.get("subtotalPriceSet")),
        "total_tax_set": money_set(order.get("totalTaxSet")),
        "total_discounts_set": money_set(order.get("totalDiscountsSet")),
        "total_outstanding": _shop(order.get("totalOutstandingSet")),
        "current_total_duties_set": money_set(order.get("currentTotalDutiesSet")),
        "original_total_duties_set": money_set(order.get("originalTotalDutiesSet")),
        "current_total_additional_fees_set": money_set(order.get("currentTotalAdditionalFeesSet")),
        "original_total_additional_fees_set": money_set(
            order.get("originalTotalAdditionalFeesSet")
        ),
        "total_shipping_price_set": money_set(order.get("totalShippingPriceSet")),
        "current_total_price_set": money_set(order.get("currentTotalPriceSet")),
        "current_subtotal_price_set": money_set(order.get("currentSubtotalPriceSet")),
        "current_total_tax_set": money_set(order.get("currentTotalTaxSet")),
        "total_tip_received": tip["shop_money"]["amount"] if tip else None,
        "total_cash_rounding_payment_adjustment_set": money_set(rounding.get("paymentSet")),
        "total_cash_rounding_refund_adjustment_set": money_set(rounding.get("refundSet")),
    }


def tip_line_ids(order: JSON) -> set[str]:
    """The global ids of an order's tip line items, from its sales (`agreements`)."""
    found = set()
    for agreement in _list(order.get("agreements")):
        for sale in _list(agreement.get("sales")):
            item = sale.get("lineItem")
            if sale.get("lineType") == "TIP" and isinstance(item, dict) and item.get("id"):
                found.add(str(item["id"]))
    return found


def _line_items(order: JSON) -> list[JSON]:
    tips = tip_line_ids(order)
    lines = []
    for item in _list(order.get("lineItems")):
        body = line_item_body(item)
        if str(item.get("id")) in tips:
            body["tip_payment_gateway"] = None  # REST's marker of a tip line (see top)
        lines.append(body)
    return lines


def order_body(order: JSON) -> JSON:
    """A REST order (`orders/updated`) from a GraphQL `Order` and its line items and
    shipping lines (transactions and refunds are converted on their own).

    Raises:
        ValueError: the order (or a line) has no global id.
    """
    order_id = legacy_id(order.get("id"))
    status = order.get("displayFulfillmentStatus")
    name = order.get("name") or f"#{order_id}"
    return {
        "id": order_id,
        "admin_graphql_api_id": order.get("id"),
        "name": name,
        "order_number": int(name[1:]) if name[1:].isdigit() else None,
        "email": order.get("email"),
        "created_at": order.get("createdAt"),
        "processed_at": order.get("processedAt"),
        "updated_at": order.get("updatedAt"),
        "cancelled_at": order.get("cancelledAt"),
        "cancel_reason": _lower(order.get("cancelReason")),
        "currency": order.get("currencyCode"),
        "presentment_currency": order.get("presentmentCurrencyCode"),
        "taxes_included": bool(order.get("taxesIncluded")),
        **_order_money(order),
        "financial_status": _lower(order.get("displayFinancialStatus")),
        "fulfillment_status": _FULFILMENT.get(status) if isinstance(status, str) else None,
        "payment_gateway_names": list(order.get("paymentGatewayNames") or []),
        "customer": _customer(order.get("customer")),
        "company": _company(order.get("purchasingEntity")),
        "billing_address": _address(order.get("billingAddress")),
        "shipping_address": _address(order.get("shippingAddress")),
        "line_items": _line_items(order),
        "shipping_lines": [shipping_line_body(s) for s in _list(order.get("shippingLines"))],
        "note_attributes": [
            {"name": a.get("key"), "value": a.get("value")}
            for a in _list(order.get("customAttributes"))
        ],
        "tax_lines": [_tax_line(t) for t in _list(order.get("taxLines"))],
        "test": bool(order.get("test")),
        "refunds": _order_refunds(order),
    }
