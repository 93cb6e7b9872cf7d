"""The GraphQL Admin API documents the bridge sends (orders, refunds, bulk, write-back).

The order selection is shared by the paged query and the bulk query, so both read the same
fields; `connectors.shopify.convert` turns what they return into webhook (REST) bodies.
Nested connections (`lineItems`, `shippingLines`) are read as one page of up to 250, which
is Shopify's own limit of line items per order. Refunds are read one by one (`REFUND`):
few orders have them, and a bulk query may hold only five connections.
"""

from __future__ import annotations

MONEY_BAG = "shopMoney { amount currencyCode } presentmentMoney { amount currencyCode }"
TAX_LINE = f"title rate channelLiable priceSet {{ {MONEY_BAG} }}"
ALLOCATION = f"allocatedAmountSet {{ {MONEY_BAG} }} discountApplication {{ index }}"
ADDRESS = (
    "firstName lastName name company address1 address2 city zip province provinceCode "
    "country countryCodeV2 phone"
)
MONEY = "amount currencyCode"
# Shopify Payments' conversion of a Markets payment into the shop currency (`MoneyV2`s).
EXCHANGE = (
    f"currencyExchangeAdjustment {{ id adjustment {{ {MONEY} }} "
    f"originalAmountSet {{ {MONEY} }} finalAmountSet {{ {MONEY} }} }}"
)
TRANSACTION = (
    f"id kind status gateway createdAt processedAt test parentTransaction {{ id }} "
    f"amountSet {{ {MONEY_BAG} }} totalUnsettledSet {{ {MONEY_BAG} }} {EXCHANGE}"
)
LINE_ITEM = (
    f"id name title variantTitle sku quantity currentQuantity taxable isGiftCard "
    f"requiresShipping "
    f"originalUnitPriceSet {{ {MONEY_BAG} }} totalDiscountSet {{ {MONEY_BAG} }} "
    f"discountAllocations {{ {ALLOCATION} }} taxLines {{ {TAX_LINE} }} "
    f"duties {{ id harmonizedSystemCode countryCodeOfOrigin price {{ {MONEY_BAG} }} "
    f"taxLines {{ {TAX_LINE} }} }}"
)
SHIPPING_LINE = (
    f"id title code originalPriceSet {{ {MONEY_BAG} }} discountedPriceSet {{ {MONEY_BAG} }} "
    f"discountAllocations {{ {ALLOCATION} }} taxLines {{ {TAX_LINE} }}"
)
ORDER_SCALARS = (
    f"id name email createdAt processedAt updatedAt cancelledAt cancelReason currencyCode "
    f"presentmentCurrencyCode taxesIncluded displayFinancialStatus displayFulfillmentStatus "
    f"paymentGatewayNames test "
    f"totalPriceSet {{ {MONEY_BAG} }} subtotalPriceSet {{ {MONEY_BAG} }} "
    f"totalTaxSet {{ {MONEY_BAG} }} totalDiscountsSet {{ {MONEY_BAG} }} "
    f"totalOutstandingSet {{ {MONEY_BAG} }} currentTotalDutiesSet {{ {MONEY_BAG} }} "
    f"originalTotalDutiesSet {{ {MONEY_BAG} }} totalTipReceivedSet {{ {MONEY_BAG} }} "
    f"currentTotalAdditionalFeesSet {{ {MONEY_BAG} }} "
    f"originalTotalAdditionalFeesSet {{ {MONEY_BAG} }} totalShippingPriceSet {{ {MONEY_BAG} }} "
    f"currentTotalPriceSet {{ {MONEY_BAG} }} currentSubtotalPriceSet {{ {MONEY_BAG} }} "
    f"currentTotalTaxSet {{ {MONEY_BAG} }} "
    f"totalCashRoundingAdjustment {{ paymentSet {{ {MONEY_BAG} }} refundSet {{ {MONEY_BAG} }} }} "
    f"customer {{ id email firstName lastName phone taxExempt taxExemptions "
    f"defaultAddress {{ {ADDRESS} }} }} "
    "purchasingEntity { ... on PurchasingCompany { company { id } location { id } } } "
    f"billingAddress {{ {ADDRESS} }} shippingAddress {{ {ADDRESS} }} "
    f"customAttributes {{ key value }} taxLines {{ {TAX_LINE} }} "
    f"transactions {{ {TRANSACTION} }} refunds {{ id updatedAt }}"
)

ORDER_PAGE = 3  # orders a page: under 300 points each, under Shopify's 1,000 a query
LINES_PAGE = 6  # line items read with the order; the rest follow (`ORDER_LINES`)
SHIPPING_PAGE = 5


def orders_query(page: int = ORDER_PAGE, lines: int = LINES_PAGE) -> str:
    """The paged orders query: `$query` (a search), `$after` (cursor)."""
    return f"""
query BridgeOrders($query: String!, $after: String) {{
  orders(first: {page}, after: $after, query: $query, sortKey: UPDATED_AT) {{
    pageInfo {{ hasNextPage endCursor }}
    nodes {{
      {ORDER_SCALARS}
      lineItems(first: {lines}) {{ pageInfo {{ hasNextPage endCursor }} nodes {{ {LINE_ITEM} }} }}
      shippingLines(first: {SHIPPING_PAGE}) {{ nodes {{ {SHIPPING_LINE} }} }}
    }}
  }}
}}
"""


ORDERS = orders_query()

# The rest of an order's line items, when it has more than a page.
ORDER_LINES = f"""
query BridgeOrderLines($id: ID!, $after: String) {{
  order(id: $id) {{
    lineItems(first: 40, after: $after) {{
      pageInfo {{ hasNextPage endCursor }} nodes {{ {LINE_ITEM} }}
    }}
  }}
}}
"""

# The bulk variant: connections without `first`, read as `edges { node }` (JSONL lines).
BULK_ORDERS = f"""
{{
  orders(query: %s, sortKey: UPDATED_AT) {{
    edges {{ node {{
      {ORDER_SCALARS}
      lineItems {{ edges {{ node {{ {LINE_ITEM} }} }} }}
      shippingLines {{ edges {{ node {{ {SHIPPING_LINE} }} }} }}
    }} }}
  }}
}}
"""

# Capped at 10,000 by default (from 2025-07): enough to choose between pages and bulk.
ORDERS_COUNT = """
query BridgeOrdersCount($query: String!) {
  ordersCount(query: $query) { count precision }
}
"""

REFUND = f"""
query BridgeRefund($id: ID!) {{
  refund(id: $id) {{
    id createdAt updatedAt note
    order {{ id }}
    totalRefundedSet {{ {MONEY_BAG} }}
    refundLineItems(first: 40) {{ nodes {{
      id quantity restockType
      subtotalSet {{ {MONEY_BAG} }} totalTaxSet {{ {MONEY_BAG} }}
      lineItem {{ id sku name title }}
    }} }}
    refundShippingLines(first: 5) {{ nodes {{
      id shippingLine {{ id }}
      subtotalAmountSet {{ {MONEY_BAG} }} taxAmountSet {{ {MONEY_BAG} }}
    }} }}
    orderAdjustments(first: 10) {{ nodes {{
      id reason amountSet {{ {MONEY_BAG} }} taxAmountSet {{ {MONEY_BAG} }}
    }} }}
    transactions(first: 10) {{ nodes {{ {TRANSACTION} }} }}
    duties {{ amountSet {{ {MONEY_BAG} }} originalDuty {{ id }} }}
  }}
}}
"""

# Which line items are tips: GraphQL's `LineItem` does not say (REST's `tip_payment_gateway`
# does); the order's sales do (`TipSale`). Asked only of orders with a tip received.
ORDER_TIPS = """
query BridgeOrderTips($id: ID!) {
  order(id: $id) {
    agreements(first: 10) {
      nodes { sales(first: 25) { nodes { lineType ... on TipSale { lineItem { id } } } } }
    }
  }
}
"""

GROUPING_SINCE = "2025-10"  # `groupObjects` exists (and is needed: later its default is off)


def bulk_run(api_version: str) -> str:
    """`bulkOperationRunQuery($query)`, asking for each parent's children right after it."""
    group = ", groupObjects: true" if api_version >= GROUPING_SINCE else ""
    return f"""
mutation BridgeBulkRun($query: String!) {{
  bulkOperationRunQuery(query: $query{group}) {{
    bulkOperation {{ id status }}
    userErrors {{ field message }}
  }}
}}
"""


BULK_STATUS = """
query BridgeBulkStatus($id: ID!) {
  node(id: $id) {
    ... on BulkOperation { id status errorCode objectCount url partialDataUrl }
  }
}
"""

ORDER_STATUS = """
query BridgeOrderStatus($id: ID!) {
  order(id: $id) { id name displayFinancialStatus }
}
"""

MARK_AS_PAID = """
mutation BridgeMarkAsPaid($input: OrderMarkAsPaidInput!) {
  orderMarkAsPaid(input: $input) {
    order { id displayFinancialStatus }
    userErrors { field message }
  }
}
"""

# Shopify Payments (`connectors.shopify.payouts`; scope `read_shopify_payments_payouts`).
PAYOUTS_PAGE = 50
PAYOUTS = f"""
query BridgePayouts($query: String!, $after: String) {{
  shopifyPaymentsAccount {{
    payouts(first: {PAYOUTS_PAGE}, after: $after, query: $query) {{
      pageInfo {{ hasNextPage endCursor }}
      nodes {{ id legacyResourceId status issuedAt net {{ amount currencyCode }} }}
    }}
  }}
}}
"""

BALANCE_TRANSACTIONS_PAGE = 100  # about 400 points a page
PAYOUT_TRANSACTIONS = f"""
query BridgePayoutTransactions($query: String!, $after: String) {{
  shopifyPaymentsAccount {{
    balanceTransactions(first: {BALANCE_TRANSACTIONS_PAGE}, after: $after, query: $query) {{
      pageInfo {{ hasNextPage endCursor }}
      nodes {{
        id type sourceType amount {{ amount currencyCode }} fee {{ amount currencyCode }}
        net {{ amount currencyCode }} associatedOrder {{ id }}
      }}
    }}
  }}
}}
"""
