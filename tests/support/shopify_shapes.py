"""Webhook (REST) Shopify bodies -> the GraphQL Admin API objects the fake serves.

The inverse of `connectors.shopify.convert`, written from Shopify's GraphQL schema (not
from that module), so that tests can put recorded webhook payloads in the fake GraphQL
server and check that the bridge reads back what the webhook said.
"""

from __future__ import annotations

from typing import Any

JSON = dict[str, Any]


def gid(kind: str, value: object) -> str:
    return f"gid://shopify/{kind}/{value}"


def _money(money: object) -> JSON | None:
    if not isinstance(money, dict):
        return None
    code = money.get("currency_code") or money.get("currency")
    return {"amount": str(money["amount"]), "currencyCode": code}


def bag(money_set: object, amount: object = None, currency: object = None) -> JSON | None:
    """A `MoneyBag` from a REST `*_set`, or from a plain amount in one currency."""
    if isinstance(money_set, dict):
        shop = _money(money_set.get("shop_money"))
        return {"shopMoney": shop, "presentmentMoney": _money(money_set.get("presentment_money"))
                or shop}  # fmt: skip
    if amount is None or currency is None:
        return None
    money = {"amount": str(amount), "currencyCode": str(currency)}
    return {"shopMoney": money, "presentmentMoney": money}


def _upper(value: object) -> str | None:
    return value.upper() if isinstance(value, str) else None


def _tax(tax: JSON, currency: str) -> JSON:
    return {"title": tax.get("title"), "rate": tax.get("rate"),
            "ratePercentage": None, "channelLiable": tax.get("channel_liable"),
            "priceSet": bag(tax.get("price_set"), tax.get("price"), currency)}  # fmt: skip


def _allocation(allocation: JSON, currency: str) -> JSON:
    return {
        "allocatedAmountSet": bag(allocation.get("amount_set"), allocation.get("amount"), currency),
        "discountApplication": {"index": allocation.get("discount_application_index") or 0},
    }


def _address(address: object) -> JSON | None:
    if not isinstance(address, dict):
        return None
    return {"firstName": address.get("first_name"), "lastName": address.get("last_name"),
            "name": address.get("name"), "company": address.get("company"),
            "address1": address.get("address1"), "address2": address.get("address2"),
            "city": address.get("city"), "zip": address.get("zip"),
            "province": address.get("province"), "provinceCode": address.get("province_code"),
            "country": address.get("country"), "countryCodeV2": address.get("country_code"),
            "phone": address.get("phone")}  # fmt: skip


def _duty_money(duty: JSON) -> object:
    """A webhook duty's money: top-level `shop_money` / `presentment_money` (else `price_set`)."""
    if isinstance(duty.get("shop_money"), dict):
        return {"shop_money": duty["shop_money"],
                "presentment_money": duty.get("presentment_money")}  # fmt: skip
    return duty.get("price_set")


def line_item(item: JSON, currency: str) -> JSON:
    duties = [
        {"id": gid("Duty", d.get("id")), "harmonizedSystemCode": d.get("harmonized_system_code"),
         "countryCodeOfOrigin": d.get("country_code_of_origin"),
         "price": bag(_duty_money(d), d.get("price"), currency),
         "taxLines": [_tax(t, currency) for t in d.get("tax_lines") or []]}
        for d in item.get("duties") or []
    ]  # fmt: skip
    return {
        "id": gid("LineItem", item["id"]),
        "name": item.get("name"),
        "title": item.get("title"),
        "variantTitle": item.get("variant_title"),
        "sku": item.get("sku"),
        "quantity": item.get("quantity", 0),
        "currentQuantity": item.get("current_quantity"),
        "taxable": item.get("taxable", True),
        "isGiftCard": bool(item.get("gift_card")),
        "requiresShipping": bool(item.get("requires_shipping")),
        "originalUnitPriceSet": bag(item.get("price_set"), item.get("price"), currency),
        "totalDiscountSet": bag(
            item.get("total_discount_set"), item.get("total_discount", "0.00"), currency
        ),
        "discountAllocations": [
            _allocation(a, currency) for a in item.get("discount_allocations") or []
        ],
        "taxLines": [_tax(t, currency) for t in item.get("tax_lines") or []],
        "duties": duties,
    }


def shipping_line(line: JSON, currency: str) -> JSON:
    return {
        "id": gid("ShippingLine", line["id"]),
        "title": line.get("title"),
        "code": line.get("code"),
        "originalPriceSet": bag(line.get("price_set"), line.get("price"), currency),
        "discountedPriceSet": bag(line.get("discounted_price_set"), None, None),
        "discountAllocations": [
            _allocation(a, currency) for a in line.get("discount_allocations") or []
        ],
        "taxLines": [_tax(t, currency) for t in line.get("tax_lines") or []],
    }


def _exchange(adjustment: object) -> JSON | None:
    """A `CurrencyExchangeAdjustment` (its amounts are `MoneyV2`s in the shop currency)."""
    if not isinstance(adjustment, dict):
        return None
    code = adjustment.get("currency")

    def money(amount: object) -> JSON:
        return {"amount": str(amount if amount is not None else "0.00"), "currencyCode": code}

    return {"id": gid("CurrencyExchangeAdjustment", adjustment.get("id") or 1),
            "adjustment": money(adjustment.get("adjustment")),
            "originalAmountSet": money(adjustment.get("original_amount")),
            "finalAmountSet": money(adjustment.get("final_amount"))}  # fmt: skip


def transaction(tx: JSON) -> JSON:
    """A GraphQL `OrderTransaction` from a REST transaction (amount in its own currency)."""
    amount = bag(tx.get("amount_set"), tx.get("amount"), tx.get("currency"))
    adjustment = tx.get("currency_exchange_adjustment")
    if amount is not None and tx.get("amount_set") is None and isinstance(adjustment, dict):
        # GraphQL's `amountSet` always has the shop money: Shopify's converted amount.
        final, code = adjustment.get("final_amount"), adjustment.get("currency")
        if final is not None and code:
            amount["shopMoney"] = {"amount": str(final), "currencyCode": code}
    parent = tx.get("parent_id")
    return {"id": gid("OrderTransaction", tx["id"]), "kind": _upper(tx.get("kind")),
            "status": _upper(tx.get("status")), "gateway": tx.get("gateway"),
            "createdAt": tx.get("created_at"), "processedAt": tx.get("processed_at"),
            "test": bool(tx.get("test")),
            "parentTransaction": {"id": gid("OrderTransaction", parent)} if parent else None,
            "amountSet": amount,
            "totalUnsettledSet": bag(tx.get("total_unsettled_set"), None, None),
            "currencyExchangeAdjustment": _exchange(tx.get("currency_exchange_adjustment"))
            }  # fmt: skip


def refund(body: JSON, currency: str) -> JSON:
    """A GraphQL `Refund` from a REST refund (`refunds/create`)."""
    lines = [
        {"id": gid("RefundLineItem", r["id"]), "quantity": r.get("quantity", 0),
         "restockType": _upper(r.get("restock_type")),
         "subtotalSet": bag(r.get("subtotal_set"), r.get("subtotal"), currency),
         "totalTaxSet": bag(r.get("total_tax_set"), r.get("total_tax"), currency),
         "lineItem": line_item(r.get("line_item") or {"id": r["line_item_id"], "title": ""},
                               currency)}
        for r in body.get("refund_line_items") or []
    ]  # fmt: skip
    shipping = [
        {"id": gid("RefundShippingLine", s.get("id") or n),
         "shippingLine": {"id": gid("ShippingLine", s["shipping_line_id"]), "title": ""}
         if s.get("shipping_line_id") else None,
         "subtotalAmountSet": bag(s.get("subtotal_amount_set"), None, None),
         "taxAmountSet": bag(s.get("tax_amount_set"), None, None)}
        for n, s in enumerate(body.get("refund_shipping_lines") or [], 1)
    ]  # fmt: skip
    adjustments = [
        {"id": gid("OrderAdjustment", a["id"]), "reason": _upper(a.get("kind")),
         "amountSet": bag(a.get("amount_set"), a.get("amount"), currency),
         "taxAmountSet": bag(a.get("tax_amount_set"), a.get("tax_amount"), currency)}
        for a in body.get("order_adjustments") or []
    ]  # fmt: skip
    return {
        "id": gid("Refund", body["id"]),
        "createdAt": body.get("processed_at") or body.get("created_at"),
        "updatedAt": body.get("created_at"),
        "note": body.get("note"),
        "totalRefundedSet": None,
        "refundLineItems": lines,
        "refundShippingLines": shipping,
        "orderAdjustments": adjustments,
        "transactions": [transaction(t) for t in body.get("transactions") or []],
        "duties": [{"amountSet": bag(d.get("amount_set"), None, None),
                    "originalDuty": {"id": gid("Duty", d["duty_id"])} if d.get("duty_id") else None}
                   for d in body.get("duties") or []],
    }  # fmt: skip


def _agreements(body: JSON) -> list[JSON]:
    """The order's sales agreement: a `TipSale` for each tip line (REST marks them with
    `tip_payment_gateway`), a `ProductSale` for each other line."""
    sales = [{"lineType": "TIP" if "tip_payment_gateway" in item else "PRODUCT",
              "lineItem": {"id": gid("LineItem", item["id"])}}
             for item in body.get("line_items") or []]  # fmt: skip
    return [{"id": gid("OrderAgreement", body["id"]), "sales": sales}]


_FULFILMENT = {"fulfilled": "FULFILLED", "partial": "PARTIALLY_FULFILLED"}


def _purchasing_entity(company: object) -> JSON | None:
    """A B2B order's `PurchasingCompany` (its company and location) from the webhook's
    `company` ({id, location_id})."""
    if not isinstance(company, dict):
        return None
    location = company.get("location_id")
    return {
        "company": {"id": gid("Company", company["id"]), "name": ""},
        "location": {"id": gid("CompanyLocation", location)} if location else None,
    }


def order(body: JSON, transactions: list[JSON]) -> JSON:
    """A GraphQL `Order` (with `lineItems`, `shippingLines`, `transactions` and `refunds`
    as plain lists: the fake pages them) from a REST order and its transactions."""
    currency = body["currency"]  # REST's plain amounts of an order are in the shop currency
    customer = body.get("customer")
    cash = {
        "paymentSet": bag(body.get("total_cash_rounding_payment_adjustment_set"), None, None),
        "refundSet": bag(body.get("total_cash_rounding_refund_adjustment_set"), None, None),
    }
    tip = body.get("total_tip_received")
    return {
        "id": gid("Order", body["id"]),
        "name": body.get("name"),
        "email": body.get("email"),
        "createdAt": body.get("created_at"),
        "processedAt": body.get("processed_at"),
        "updatedAt": body.get("updated_at"),
        "cancelledAt": body.get("cancelled_at"),
        "cancelReason": _upper(body.get("cancel_reason")),
        "currencyCode": body["currency"],
        "presentmentCurrencyCode": body.get("presentment_currency") or currency,
        "taxesIncluded": bool(body.get("taxes_included")),
        "displayFinancialStatus": _upper(body.get("financial_status")),
        "displayFulfillmentStatus": _FULFILMENT.get(body.get("fulfillment_status") or "",
                                                    "UNFULFILLED"),
        "paymentGatewayNames": body.get("payment_gateway_names") or [],
        "test": bool(body.get("test")),
        "totalPriceSet": bag(body.get("total_price_set"), body.get("total_price"), currency),
        "subtotalPriceSet": bag(body.get("subtotal_price_set"), None, None),
        "totalTaxSet": bag(body.get("total_tax_set"), None, None),
        "totalDiscountsSet": bag(body.get("total_discounts_set"), None, None),
        "totalOutstandingSet": bag(None, body.get("total_outstanding"), currency),
        "currentTotalDutiesSet": bag(body.get("current_total_duties_set"), None, None),
        "originalTotalDutiesSet": bag(body.get("original_total_duties_set"), None, None),
        "currentTotalAdditionalFeesSet": bag(
            body.get("current_total_additional_fees_set"), None, None
        ),
        "originalTotalAdditionalFeesSet": bag(
            body.get("original_total_additional_fees_set"), None, None
        ),
        "totalShippingPriceSet": bag(body.get("total_shipping_price_set"), "0.00", currency),
        "currentTotalPriceSet": bag(
            body.get("current_total_price_set") or body.get("total_price_set"),
            body.get("total_price"), currency,
        ),
        "currentSubtotalPriceSet": bag(body.get("current_subtotal_price_set"), None, None),
        "currentTotalTaxSet": bag(body.get("current_total_tax_set"), None, None),
        "totalTipReceivedSet": bag(None, tip, currency) if tip is not None else None,
        "totalCashRoundingAdjustment": cash if any(cash.values()) else None,
        "customer": {"id": gid("Customer", customer["id"]), "email": customer.get("email"),
                     "firstName": customer.get("first_name"),
                     "lastName": customer.get("last_name"), "phone": customer.get("phone"),
                     "taxExempt": bool(customer.get("tax_exempt")),
                     "taxExemptions": list(customer.get("tax_exemptions") or []),
                     "defaultAddress": _address(customer.get("default_address"))}
        if isinstance(customer, dict) else None,
        "purchasingEntity": _purchasing_entity(body.get("company")),
        "billingAddress": _address(body.get("billing_address")),
        "shippingAddress": _address(body.get("shipping_address")),
        "customAttributes": [{"key": a.get("name"), "value": a.get("value")}
                             for a in body.get("note_attributes") or []],
        "taxLines": [_tax(t, currency) for t in body.get("tax_lines") or []],
        "lineItems": [line_item(i, currency) for i in body.get("line_items") or []],
        "shippingLines": [shipping_line(s, currency) for s in body.get("shipping_lines") or []],
        "transactions": [transaction(t) for t in transactions],
        "refunds": [refund(r, currency) for r in body.get("refunds") or []],
        "agreements": _agreements(body),
    }  # fmt: skip


def _money_v2(amount: object, currency: object) -> JSON:
    return {"amount": str(amount), "currencyCode": str(currency).upper()}


def payout(body: JSON) -> JSON:
    """A GraphQL `ShopifyPaymentsPayout` from a REST payout (`shopify_payments/payouts`)."""
    return {"id": gid("ShopifyPaymentsPayout", body["id"]), "legacyResourceId": str(body["id"]),
            "status": _upper(body.get("status")), "issuedAt": f"{body['date']}T08:00:00Z",
            "net": _money_v2(body["amount"], body["currency"]),
            "transactionType": "DEPOSIT"}  # fmt: skip


def balance_transaction(body: JSON, payout_id: object) -> JSON:
    """A GraphQL `ShopifyPaymentsBalanceTransaction` from a REST balance transaction (with
    the payout it belongs to as `payoutId`, which the fake filters on)."""
    order = body.get("source_order_id")
    currency = body["currency"]
    return {"id": gid("ShopifyPaymentsBalanceTransaction", body["id"]), "payoutId": payout_id,
            "type": _upper(body.get("type")), "test": bool(body.get("test")),
            "sourceType": _upper(body.get("source_type")),
            "sourceId": str(body["source_id"]) if body.get("source_id") else None,
            "amount": _money_v2(body["amount"], currency),
            "fee": _money_v2(body.get("fee") or "0.00", currency),
            "net": _money_v2(body["net"], currency),
            "associatedOrder": {"id": gid("Order", order), "name": f"#{order}"}
            if order else None}  # fmt: skip
