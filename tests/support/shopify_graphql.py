"""A fake Shopify GraphQL Admin API on 127.0.0.1, for the backfill and write-back tests.

`POST /admin/api/<version>/graphql.json` with `X-Shopify-Access-Token`. Each document is
parsed and validated with graphql-core against a subset of Shopify's schema (an unknown
field is a GraphQL error, as on Shopify), priced, and run:

- cost: Shopify's rules (object 1, connection 2 + `first` x its node, mutation 10,
  scalars 0); a query over `max_query_cost` (1,000) is refused `MAX_COST_EXCEEDED`; a
  bucket of `maximum` points refilled at `restore_rate` a second (Shopify: 2,000 and 100;
  tests shrink both to run fast) REFUSES with `THROTTLED` a query whose requested cost
  does not fit; every answer carries `extensions.cost`. `.refused` counts refusals.
- `orders(first, after, query: "updated_at:>='...' updated_at:<='...'", sortKey)` with
  cursor pagination; `ordersCount(query)`; `order(id)`; `refund(id)`; `node(id)` of a
  bulk operation; nested `lineItems` / `shippingLines` / `agreements { sales }` connections.
- `bulkOperationRunQuery(query)`: the query is validated (at most 5 connections, two
  levels), run over the orders, and written as JSONL (children with `__parentId`, right
  after their order only with `groupObjects: true`), served at `/bulk/<n>.jsonl`; its
  status is RUNNING for `bulk_polls` looks, then COMPLETED (or FAILED: `fail_bulk`).
- `shopifyPaymentsAccount { payouts(first, after, query: "issued_at:>=...") }` (newest
  first) and `balanceTransactions(first, after, query: "payments_transfer_id:<payout id>")`
  over `add_payout(rest_payout, rest_transactions)`.
- `orderMarkAsPaid(input: {id})`: marks the order PAID, recorded in `.marked_paid`; an
  order already paid gets a user error, as on Shopify.
- `webhookSubscriptionCreate(topic, webhookSubscription: {uri, format})`: recorded in
  `.subscriptions`; the same topic and address twice is a user error ("has already been
  taken"), as on Shopify.

`fail_next(status)` answers the next requests with an HTTP error without running them;
`drop_next_answer(operation)` runs the next one of that name, then answers 502.

Orders are put in with `add_order(rest_order, rest_transactions)`: webhook bodies, turned
into GraphQL objects by `tests.support.shopify_shapes`.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, Response, jsonify, request, send_file
from graphql import (
    FieldNode,
    GraphQLResolveInfo,
    OperationDefinitionNode,
    SelectionSetNode,
    build_schema,
    execute,
    parse,
    validate,
)
from graphql.error import GraphQLError, GraphQLSyntaxError
from graphql.language import IntValueNode, VariableNode

from tests.support import shopify_shapes
from tests.support.servers import serve_wsgi

SHOP_DOMAIN = "backfill-shop.myshopify.com"
ACCESS_TOKEN = "shpat_backfill"
API_VERSION = "2026-10"

SDL = """
scalar DateTime
scalar Decimal
interface Node { id: ID! }
type PageInfo { hasNextPage: Boolean! hasPreviousPage: Boolean! endCursor: String
  startCursor: String }
type MoneyV2 { amount: Decimal! currencyCode: String! }
type MoneyBag { shopMoney: MoneyV2! presentmentMoney: MoneyV2! }
type TaxLine { title: String rate: Float ratePercentage: Float channelLiable: Boolean
  priceSet: MoneyBag }
type DiscountApplication { index: Int! }
type DiscountAllocation { allocatedAmountSet: MoneyBag! discountApplication: DiscountApplication! }
type Duty implements Node { id: ID! harmonizedSystemCode: String countryCodeOfOrigin: String
  price: MoneyBag! taxLines: [TaxLine!]! }
type LineItem implements Node { id: ID! name: String title: String variantTitle: String
  sku: String quantity: Int! currentQuantity: Int taxable: Boolean! isGiftCard: Boolean!
  requiresShipping: Boolean! originalUnitPriceSet: MoneyBag totalDiscountSet: MoneyBag
  discountAllocations: [DiscountAllocation!]! taxLines: [TaxLine!]! duties: [Duty!]! }
type LineItemEdge { node: LineItem! cursor: String! }
type LineItemConnection { nodes: [LineItem!]! edges: [LineItemEdge!]! pageInfo: PageInfo! }
type ShippingLine { id: ID title: String code: String originalPriceSet: MoneyBag
  discountedPriceSet: MoneyBag discountAllocations: [DiscountAllocation!]! taxLines: [TaxLine!]! }
type ShippingLineEdge { node: ShippingLine! cursor: String! }
type ShippingLineConnection { nodes: [ShippingLine!]! edges: [ShippingLineEdge!]!
  pageInfo: PageInfo! }
type MailingAddress { firstName: String lastName: String name: String company: String
  address1: String address2: String city: String zip: String province: String
  provinceCode: String country: String countryCodeV2: String phone: String }
type Customer implements Node { id: ID! email: String firstName: String lastName: String
  phone: String taxExempt: Boolean! taxExemptions: [String!]! defaultAddress: MailingAddress }
type PurchasingCompany { company: Company! location: CompanyLocation }
union PurchasingEntity = Customer | PurchasingCompany
type Attribute { key: String! value: String }
type OrderTransaction implements Node { id: ID! kind: String! status: String! gateway: String
  createdAt: DateTime processedAt: DateTime test: Boolean! parentTransaction: OrderTransaction
  amountSet: MoneyBag! totalUnsettledSet: MoneyBag
  currencyExchangeAdjustment: CurrencyExchangeAdjustment }
type CurrencyExchangeAdjustment implements Node { id: ID! adjustment: MoneyV2!
  originalAmountSet: MoneyV2! finalAmountSet: MoneyV2! }
enum SaleLineType { ADDITIONAL_FEE ADJUSTMENT DUTY FEE GIFT_CARD PRODUCT SHIPPING TIP UNKNOWN }
interface Sale { lineType: SaleLineType! }
type ProductSale implements Sale { lineType: SaleLineType! lineItem: LineItem }
type TipSale implements Sale { lineType: SaleLineType! lineItem: LineItem! }
type SaleConnection { nodes: [Sale!]! pageInfo: PageInfo! }
interface SalesAgreement { id: ID! sales(first: Int, after: String): SaleConnection! }
type OrderAgreement implements SalesAgreement { id: ID!
  sales(first: Int, after: String): SaleConnection! }
type SalesAgreementConnection { nodes: [SalesAgreement!]! pageInfo: PageInfo! }
type RefundDuty { amountSet: MoneyBag! originalDuty: Duty }
type OrderTransactionEdge { node: OrderTransaction! cursor: String! }
type OrderTransactionConnection { nodes: [OrderTransaction!]! edges: [OrderTransactionEdge!]!
  pageInfo: PageInfo! }
type CashRoundingAdjustment { paymentSet: MoneyBag refundSet: MoneyBag }
type Order implements Node { id: ID! name: String! email: String createdAt: DateTime!
  processedAt: DateTime updatedAt: DateTime! cancelledAt: DateTime cancelReason: String
  currencyCode: String! presentmentCurrencyCode: String! taxesIncluded: Boolean!
  displayFinancialStatus: String displayFulfillmentStatus: String!
  paymentGatewayNames: [String!]! test: Boolean!
  totalPriceSet: MoneyBag! subtotalPriceSet: MoneyBag totalTaxSet: MoneyBag
  totalDiscountsSet: MoneyBag totalOutstandingSet: MoneyBag currentTotalDutiesSet: MoneyBag
  originalTotalDutiesSet: MoneyBag totalTipReceivedSet: MoneyBag
  currentTotalAdditionalFeesSet: MoneyBag originalTotalAdditionalFeesSet: MoneyBag
  totalShippingPriceSet: MoneyBag! currentTotalPriceSet: MoneyBag! currentSubtotalPriceSet: MoneyBag
  currentTotalTaxSet: MoneyBag totalCashRoundingAdjustment: CashRoundingAdjustment
  customer: Customer billingAddress: MailingAddress shippingAddress: MailingAddress
  purchasingEntity: PurchasingEntity
  customAttributes: [Attribute!]! taxLines: [TaxLine!]!
  lineItems(first: Int, after: String): LineItemConnection!
  shippingLines(first: Int, after: String): ShippingLineConnection!
  transactions(first: Int): [OrderTransaction!]!
  refunds(first: Int): [Refund!]!
  agreements(first: Int, after: String): SalesAgreementConnection! }
type OrderEdge { node: Order! cursor: String! }
type OrderConnection { nodes: [Order!]! edges: [OrderEdge!]! pageInfo: PageInfo! }
type RefundLineItem { id: ID quantity: Int! restockType: String subtotalSet: MoneyBag
  totalTaxSet: MoneyBag lineItem: LineItem! }
type RefundLineItemConnection { nodes: [RefundLineItem!]! pageInfo: PageInfo! }
type RefundShippingLine { id: ID shippingLine: ShippingLine subtotalAmountSet: MoneyBag!
  taxAmountSet: MoneyBag }
type RefundShippingLineConnection { nodes: [RefundShippingLine!]! pageInfo: PageInfo! }
type OrderAdjustment { id: ID! reason: String amountSet: MoneyBag! taxAmountSet: MoneyBag }
type OrderAdjustmentConnection { nodes: [OrderAdjustment!]! pageInfo: PageInfo! }
type Refund implements Node { id: ID! createdAt: DateTime updatedAt: DateTime note: String
  order: Order! totalRefundedSet: MoneyBag
  refundLineItems(first: Int, after: String): RefundLineItemConnection!
  refundShippingLines(first: Int, after: String): RefundShippingLineConnection!
  orderAdjustments(first: Int, after: String): OrderAdjustmentConnection!
  transactions(first: Int, after: String): OrderTransactionConnection!
  duties: [RefundDuty!] }
type ShopifyPaymentsPayout implements Node { id: ID! legacyResourceId: String! status: String!
  issuedAt: DateTime! net: MoneyV2! transactionType: String! }
type ShopifyPaymentsPayoutConnection { nodes: [ShopifyPaymentsPayout!]! pageInfo: PageInfo! }
type ShopifyPaymentsAssociatedOrder { id: ID! name: String! }
type ShopifyPaymentsBalanceTransaction implements Node { id: ID! type: String! test: Boolean!
  sourceType: String sourceId: String amount: MoneyV2! fee: MoneyV2! net: MoneyV2!
  associatedOrder: ShopifyPaymentsAssociatedOrder }
type ShopifyPaymentsBalanceTransactionConnection {
  nodes: [ShopifyPaymentsBalanceTransaction!]! pageInfo: PageInfo! }
type ShopifyPaymentsAccount { id: ID!
  payouts(first: Int, after: String, query: String): ShopifyPaymentsPayoutConnection!
  balanceTransactions(first: Int, after: String, query: String):
    ShopifyPaymentsBalanceTransactionConnection! }
type Count { count: Int! precision: String! }
type BulkOperation implements Node { id: ID! status: String! errorCode: String
  objectCount: String! url: String partialDataUrl: String }
type UserError { field: [String!] message: String! }
type BulkOperationRunQueryPayload { bulkOperation: BulkOperation userErrors: [UserError!]! }
input OrderMarkAsPaidInput { id: ID! }
type OrderMarkAsPaidPayload { order: Order userErrors: [UserError!]! }
enum OrderSortKeys { CREATED_AT ID PROCESSED_AT UPDATED_AT }
type Company { id: ID! name: String! }
type CompanyAddress { countryCode: String }
type CompanyLocationTaxSettings { taxRegistrationId: String taxExempt: Boolean!
  taxExemptions: [String!]! }
type CompanyLocation { id: ID! name: String! company: Company!
  billingAddress: CompanyAddress taxSettings: CompanyLocationTaxSettings! }
enum WebhookSubscriptionTopic { ORDERS_CREATE ORDERS_UPDATED ORDERS_EDITED ORDERS_PAID
  ORDERS_CANCELLED ORDER_TRANSACTIONS_CREATE REFUNDS_CREATE APP_UNINSTALLED }
enum WebhookSubscriptionFormat { JSON XML }
input WebhookSubscriptionInput { uri: String format: WebhookSubscriptionFormat
  includeFields: [String!] metafieldNamespaces: [String!] filter: String }
type WebhookSubscription implements Node { id: ID! topic: WebhookSubscriptionTopic!
  uri: String! format: WebhookSubscriptionFormat! }
type WebhookSubscriptionCreatePayload { webhookSubscription: WebhookSubscription
  userErrors: [UserError!]! }
type Query {
  companyLocation(id: ID!): CompanyLocation
  orders(first: Int, after: String, query: String, sortKey: OrderSortKeys,
    reverse: Boolean): OrderConnection!
  ordersCount(query: String, limit: Int = 10000): Count
  order(id: ID!): Order
  refund(id: ID!): Refund
  node(id: ID!): Node
  shopifyPaymentsAccount: ShopifyPaymentsAccount
}
type Mutation {
  bulkOperationRunQuery(query: String!, groupObjects: Boolean): BulkOperationRunQueryPayload!
  orderMarkAsPaid(input: OrderMarkAsPaidInput!): OrderMarkAsPaidPayload!
  webhookSubscriptionCreate(topic: WebhookSubscriptionTopic!,
    webhookSubscription: WebhookSubscriptionInput!): WebhookSubscriptionCreatePayload!
}
"""

SCHEMA = build_schema(SDL)
_TYPE_OF_GID = {"Order": "Order", "BulkOperation": "BulkOperation", "Refund": "Refund"}
SCHEMA.type_map["Node"].resolve_type = (  # type: ignore[attr-defined]
    lambda value, *_: _TYPE_OF_GID.get(str(value["id"]).split("/")[3])
)
SCHEMA.type_map["Sale"].resolve_type = (  # type: ignore[attr-defined]
    lambda value, *_: "TipSale" if value["lineType"] == "TIP" else "ProductSale"
)
SCHEMA.type_map["PurchasingEntity"].resolve_type = (  # type: ignore[attr-defined]
    lambda value, *_: "PurchasingCompany" if "location" in value else "Customer"
)
SCHEMA.type_map["SalesAgreement"].resolve_type = lambda *_: "OrderAgreement"  # type: ignore[attr-defined]
_FILTER = re.compile(r"(\w+):(>=|<=|>|<)?'?([^' ]+)'?")
MAX_CONNECTIONS, MAX_NESTING = 5, 2


@dataclass
class _Bulk:
    id: str
    path: Path
    count: int
    polls_left: int
    fail: bool = False


@dataclass
class Bucket:
    maximum: float
    restore_rate: float
    available: float = 0.0
    at: float = field(default_factory=time.monotonic)

    def refill(self) -> float:
        now = time.monotonic()
        self.available = min(self.maximum, self.available + (now - self.at) * self.restore_rate)
        self.at = now
        return self.available

    def status(self) -> dict[str, float]:
        return {"maximumAvailable": self.maximum, "currentlyAvailable": round(self.available, 1),
                "restoreRate": self.restore_rate}  # fmt: skip


class FakeShopifyGraphQL:
    """See the module docstring."""

    def __init__(
        self,
        shop_domain: str = SHOP_DOMAIN,
        access_token: str = ACCESS_TOKEN,
        api_version: str = API_VERSION,
        *,
        maximum: float = 2000.0,
        restore_rate: float = 100.0,
        max_query_cost: int = 1000,
        bulk_polls: int = 1,
    ) -> None:
        self.shop_domain, self.access_token, self.api_version = (
            shop_domain, access_token, api_version
        )  # fmt: skip
        self.bucket = Bucket(maximum, restore_rate, available=maximum)
        self.max_query_cost = max_query_cost
        self.bulk_polls = bulk_polls
        self.store: dict[str, dict[str, Any]] = {}  # order gid -> GraphQL order
        self.payouts: list[dict[str, Any]] = []  # GraphQL `ShopifyPaymentsPayout`s
        self.balance_transactions: list[dict[str, Any]] = []  # with their `payoutId`
        self.requests: list[str] = []  # the operation names (or root fields) asked for
        self.refused = 0  # THROTTLED answers
        self.marked_paid: list[str] = []  # order gids `orderMarkAsPaid` changed
        self.locations: dict[str, dict[str, Any]] = {}  # B2B company locations by gid
        self.subscriptions: list[dict[str, Any]] = []  # `webhookSubscriptionCreate`d
        self.fail_bulk = False
        self._faults: list[int] = []
        self._drops: list[tuple[str, int]] = []
        self._bulks: dict[str, _Bulk] = {}
        self._dir: Path | None = None  # made by the first bulk operation
        self._lock = threading.Lock()
        self.app = Flask("fake-shopify-graphql")
        self.app.post("/admin/api/<version>/graphql.json")(self._graphql)
        self.app.get("/bulk/<int:number>.jsonl")(self._bulk_file)

    # --- what tests put in -------------------------------------------------------------

    def add_order(
        self, order: dict[str, Any], transactions: list[dict[str, Any]] | None = None
    ) -> None:
        """Add (or replace) an order from its webhook body, its transactions and refunds."""
        node = shopify_shapes.order(order, transactions or [])
        with self._lock:
            self.store[node["id"]] = node

    def add_payout(self, payout: dict[str, Any], transactions: list[dict[str, Any]]) -> None:
        """Add (or replace) a Shopify Payments payout and its balance transactions, given
        in the REST shapes (`shopify_payments/payouts.json`, `balance_transactions.json`)."""
        node = shopify_shapes.payout(payout)
        txns = [shopify_shapes.balance_transaction(t, payout["id"]) for t in transactions]
        with self._lock:
            self.payouts = [p for p in self.payouts if p["id"] != node["id"]] + [node]
            self.balance_transactions = [
                t for t in self.balance_transactions if t["payoutId"] != payout["id"]
            ] + txns

    def add_company_location(self, node: dict[str, Any]) -> None:
        """Add (or replace) a B2B company location, in its GraphQL shape."""
        with self._lock:
            self.locations[node["id"]] = node

    def companyLocation(self, info: GraphQLResolveInfo, id: str) -> dict[str, Any] | None:
        with self._lock:
            return self.locations.get(id)

    def add_graphql_order(self, node: dict[str, Any]) -> None:
        """Add (or replace) an order already in GraphQL shape."""
        with self._lock:
            self.store[node["id"]] = node

    def drain(self, restore_rate: float | None = None) -> None:
        """Empty the bucket now (another app of the shop spent it), maybe slowing its refill."""
        with self._lock:
            self.bucket.available, self.bucket.at = 0.0, time.monotonic()
            if restore_rate is not None:
                self.bucket.restore_rate = restore_rate

    def fail_next(self, status: int, count: int = 1) -> None:
        """Answer the next `count` requests with HTTP `status`, running nothing."""
        with self._lock:
            self._faults += [status] * count

    def drop_next_answer(self, operation: str, status: int = 502) -> None:
        """Run the next request of `operation` (its name), then answer HTTP `status`
        instead of its result (a proxy lost Shopify's answer; the effect is kept)."""
        with self._lock:
            self._drops.append((operation, status))

    def close(self) -> None:
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)

    # --- HTTP --------------------------------------------------------------------------

    def _graphql(self, version: str) -> Response:
        if request.headers.get("X-Shopify-Access-Token") != self.access_token:
            return _json({"errors": "[API] Invalid API key or access token (unrecognized login "
                          "or wrong password)"}, 401)  # fmt: skip
        if version != self.api_version:
            return _json({"errors": "Not Found"}, 404)
        with self._lock:
            fault = self._faults.pop(0) if self._faults else None
        if fault is not None:
            return _json({"errors": "Internal Server Error"}, fault)
        body = request.get_json(silent=True) or {}
        try:
            document = parse(str(body.get("query", "")))
        except GraphQLSyntaxError as exc:
            return _json({"errors": [{"message": exc.message}]})
        problems = validate(SCHEMA, document)
        if problems:
            return _json({"errors": [{"message": p.message} for p in problems]})
        operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
        variables = body.get("variables") or {}
        name = operation.name.value if operation.name else "anonymous"
        self.requests.append(name)
        requested = _operation_cost(operation, variables)
        if requested > self.max_query_cost:
            return _json({"errors": [{"message": f"Query cost is {requested}, which exceeds the "
                          f"single query max cost limit ({self.max_query_cost}).",
                          "extensions": {"code": "MAX_COST_EXCEEDED"}}]})  # fmt: skip
        with self._lock:
            if self.bucket.refill() < requested:
                self.refused += 1
                return _json({"errors": [{"message": "Throttled",
                                          "extensions": {"code": "THROTTLED"}}],
                              "extensions": self._cost(requested, None)})  # fmt: skip
            self.bucket.available -= requested
        result = execute(SCHEMA, document, root_value=self, variable_values=variables)
        answer: dict[str, Any] = {"data": result.data}
        if result.errors:
            answer["errors"] = [{"message": e.message, "path": e.path} for e in result.errors]
        actual = min(requested, _count_objects(result.data))
        with self._lock:
            self.bucket.refill()
            self.bucket.available = min(
                self.bucket.maximum, self.bucket.available + requested - actual
            )
            answer["extensions"] = self._cost(requested, actual)
            drop = next((d for d in self._drops if d[0] == name), None)
            if drop is not None:
                self._drops.remove(drop)
        if drop is not None:
            return _json({"errors": "Bad Gateway"}, drop[1])
        return _json(answer)

    def _cost(self, requested: int, actual: int | None) -> dict[str, Any]:
        return {"cost": {"requestedQueryCost": requested, "actualQueryCost": actual,
                         "throttleStatus": self.bucket.status()}}  # fmt: skip

    def _bulk_file(self, number: int) -> Response:
        bulk = self._bulks.get(f"gid://shopify/BulkOperation/{number}")
        if bulk is None:
            return _json({"errors": "Not Found"}, 404)
        return send_file(bulk.path, mimetype="application/jsonl")

    # --- root fields (graphql-core calls these as attributes of the root value) ---------

    def _matching(self, text: str | None) -> list[dict[str, Any]]:
        bounds: list[tuple[str, dt.datetime]] = []
        for name, op, value in _FILTER.findall(text or ""):
            if name != "updated_at":
                raise GraphQLError(f"the fake does not filter on {name}")
            bounds.append((op or "=", _moment(value)))
        with self._lock:
            orders = sorted(self.store.values(), key=_order_key)
        checks = {">=": dt.datetime.__ge__, "<=": dt.datetime.__le__, ">": dt.datetime.__gt__,
                  "<": dt.datetime.__lt__, "=": dt.datetime.__eq__}  # fmt: skip
        return [
            order for order in orders
            if all(checks[op](_moment(order["updatedAt"]), bound) for op, bound in bounds)
        ]  # fmt: skip

    def orders(self, info: GraphQLResolveInfo, **args: Any) -> dict[str, Any]:
        return _connection(self._matching(args.get("query")), args.get("first"),
                           args.get("after"))  # fmt: skip

    def ordersCount(self, info: GraphQLResolveInfo, **args: Any) -> dict[str, Any]:
        count, limit = len(self._matching(args.get("query"))), args.get("limit", 10000)
        if limit is not None and count > limit:
            return {"count": limit, "precision": "AT_LEAST"}
        return {"count": count, "precision": "EXACT"}

    def order(self, info: GraphQLResolveInfo, id: str) -> dict[str, Any] | None:
        with self._lock:
            return self.store.get(id)

    def refund(self, info: GraphQLResolveInfo, id: str) -> dict[str, Any] | None:
        with self._lock:
            for order in self.store.values():
                for refund in order.get("refunds") or []:
                    if refund["id"] == id:
                        return {**refund, "order": order}
        return None

    def shopifyPaymentsAccount(self, info: GraphQLResolveInfo) -> dict[str, Any]:
        return {"id": "gid://shopify/ShopifyPaymentsAccount/1", "fake": self}

    def _payouts(self, args: dict[str, Any]) -> dict[str, Any]:
        bounds = [(op or "=", _moment(value)) for name, op, value in _filters(
            args.get("query"), "issued_at")]  # fmt: skip
        checks = {">=": dt.datetime.__ge__, "<=": dt.datetime.__le__, ">": dt.datetime.__gt__,
                  "<": dt.datetime.__lt__, "=": dt.datetime.__eq__}  # fmt: skip
        with self._lock:
            payouts = sorted(self.payouts, key=lambda p: (p["issuedAt"], p["id"]), reverse=True)
        chosen = [p for p in payouts
                  if all(checks[op](_moment(p["issuedAt"]), b) for op, b in bounds)]  # fmt: skip
        return _connection(chosen, args.get("first"), args.get("after"))

    def _balance_transactions(self, args: dict[str, Any]) -> dict[str, Any]:
        wanted = {value for _, _, value in _filters(args.get("query"), "payments_transfer_id")}
        with self._lock:
            txns = list(self.balance_transactions)
        chosen = [t for t in txns if not wanted or str(t["payoutId"]) in wanted]
        return _connection(chosen, args.get("first"), args.get("after"))

    def node(self, info: GraphQLResolveInfo, id: str) -> dict[str, Any] | None:
        bulk = self._bulks.get(id)
        if bulk is None:
            return self.order(info, id)
        url: str | None = f"{request.host_url.rstrip('/')}/bulk/{id.rsplit('/', 1)[1]}.jsonl"
        status, error = "COMPLETED", None
        if bulk.polls_left > 0:
            bulk.polls_left -= 1
            status, url = "RUNNING", None
        elif bulk.fail:
            status, url, error = "FAILED", None, "INTERNAL_SERVER_ERROR"
        return {
            "id": id,
            "status": status,
            "errorCode": error,
            "objectCount": str(bulk.count),
            "url": url if bulk.count else None,
            "partialDataUrl": None,
        }

    def bulkOperationRunQuery(
        self,
        info: GraphQLResolveInfo,
        query: str,
        groupObjects: bool = False,
    ) -> dict[str, Any]:
        try:
            document = parse(query)
        except GraphQLSyntaxError as exc:
            return _user_error(f"Invalid bulk query: {exc.message}")
        problems = validate(SCHEMA, document)
        operation = document.definitions[0]
        if problems or not isinstance(operation, OperationDefinitionNode):
            return _user_error("Invalid bulk query: " + "; ".join(p.message for p in problems))
        connections, depth = _connections(operation.selection_set, 0)
        if connections > MAX_CONNECTIONS or depth > MAX_NESTING:
            return _user_error(f"Bulk queries allow {MAX_CONNECTIONS} connections, "
                               f"{MAX_NESTING} levels deep")  # fmt: skip
        number = len(self._bulks) + 1
        bulk_id = f"gid://shopify/BulkOperation/{number}"
        if self._dir is None:
            self._dir = Path(tempfile.mkdtemp(prefix="fake-shopify-bulk-"))
        path = self._dir / f"{number}.jsonl"
        count = self._write_bulk(document, path, grouped=groupObjects)
        self._bulks[bulk_id] = _Bulk(bulk_id, path, count, self.bulk_polls, self.fail_bulk)
        return {"bulkOperation": {"id": bulk_id, "status": "CREATED", "objectCount": "0"},
                "userErrors": []}  # fmt: skip

    def orderMarkAsPaid(
        self,
        info: GraphQLResolveInfo,
        input: dict[str, Any],
    ) -> dict[str, Any]:
        with self._lock:
            order = self.store.get(input["id"])
            if order is None:
                return _user_error("Order does not exist", ["id"], key="order")
            if order.get("displayFinancialStatus") in ("PAID", "PARTIALLY_REFUNDED", "REFUNDED"):
                return _user_error("Order cannot be marked as paid.", ["id"], key="order")
            order["displayFinancialStatus"] = "PAID"
            order["totalOutstandingSet"] = None
            self.marked_paid.append(input["id"])
            return {"order": order, "userErrors": []}

    def webhookSubscriptionCreate(
        self,
        info: GraphQLResolveInfo,
        topic: str,
        webhookSubscription: dict[str, Any],
    ) -> dict[str, Any]:
        uri = webhookSubscription.get("uri") or ""
        with self._lock:
            if not uri.startswith("https://") and not uri.startswith("http://127.0.0.1"):
                return _user_error("Address is invalid", ["webhookSubscription", "uri"],
                                   key="webhookSubscription")  # fmt: skip
            if any(s["topic"] == topic and s["uri"] == uri for s in self.subscriptions):
                return _user_error("Address for this topic has already been taken",
                                   ["webhookSubscription", "uri"],
                                   key="webhookSubscription")  # fmt: skip
            made = {"id": f"gid://shopify/WebhookSubscription/{len(self.subscriptions) + 1}",
                    "topic": topic, "uri": uri,
                    "format": webhookSubscription.get("format") or "JSON"}  # fmt: skip
            self.subscriptions.append(made)
            return {"webhookSubscription": made, "userErrors": []}

    # --- bulk results --------------------------------------------------------------------

    def _write_bulk(self, document: Any, path: Path, *, grouped: bool) -> int:
        """Run the bulk query in chunks of orders and write the JSONL lines: each order then
        its children when `grouped` (`groupObjects: true`), else the children of a chunk
        after all its orders (as Shopify may, from 2026-01, unless asked to group)."""
        count = 0
        with self._lock:
            orders = list(self.store.values())
        with path.open("w", encoding="utf-8") as out:
            for start in range(0, len(orders), 500):
                chunk = orders[start : start + 500]
                result = execute(SCHEMA, document, root_value=_BulkRoot(self, chunk))
                if result.errors:
                    raise result.errors[0]
                later: list[str] = []
                for edge in (result.data or {})["orders"]["edges"]:
                    count += _write_object(out, edge["node"], None, None if grouped else later)
                out.writelines(later)
        return count


class _BulkRoot:
    """The root value a bulk query runs on: every matching order of one chunk, unpaged."""

    def __init__(self, fake: FakeShopifyGraphQL, chunk: list[dict[str, Any]]) -> None:
        self._fake, self._chunk = fake, chunk

    def orders(self, info: GraphQLResolveInfo, **args: Any) -> dict[str, Any]:
        wanted = {order["id"] for order in self._fake._matching(args.get("query"))}
        return _connection([o for o in self._chunk if o["id"] in wanted], None, None)


def _write_object(
    out: Any, node: dict[str, Any], parent: str | None, later: list[str] | None
) -> int:
    """One JSONL line for `node` (without its connections), then its connections' nodes
    (right after it, or into `later` when given)."""
    children: list[dict[str, Any]] = []
    line: dict[str, Any] = {}
    for key, value in node.items():
        if isinstance(value, dict) and "edges" in value:
            children += [edge["node"] for edge in value["edges"]]
        else:
            line[key] = value
    if parent is not None:
        line["__parentId"] = parent
    text = json.dumps(line, separators=(",", ":")) + "\n"
    if parent is not None and later is not None:
        later.append(text)
    else:
        out.write(text)
    return 1 + sum(_write_object(out, child, node["id"], later) for child in children)


# --- resolvers of nested connections ----------------------------------------------------


def _connection(items: list[dict[str, Any]], first: int | None, after: str | None
                ) -> dict[str, Any]:  # fmt: skip
    start = _decode(after) + 1 if after else 0
    page = items[start:] if first is None else items[start : start + first]
    cursors = [_encode(start + n) for n in range(len(page))]
    more = first is not None and start + first < len(items)
    return {"nodes": page, "edges": [{"node": n, "cursor": c} for n, c in zip(page, cursors,
            strict=True)], "pageInfo": {"hasNextPage": more, "hasPreviousPage": start > 0,
            "endCursor": cursors[-1] if cursors else None,
            "startCursor": cursors[0] if cursors else None}}  # fmt: skip


def _nested(name: str) -> Any:
    def resolve(source: dict[str, Any], info: GraphQLResolveInfo, **args: Any) -> Any:
        return _connection(source.get(name) or [], args.get("first"), args.get("after"))

    return resolve


for _type, _fields in {
    "Order": ("lineItems", "shippingLines", "agreements"),
    "OrderAgreement": ("sales",),
    "Refund": ("refundLineItems", "refundShippingLines", "orderAdjustments", "transactions"),
}.items():
    for _name in _fields:
        SCHEMA.type_map[_type].fields[_name].resolve = _nested(_name)  # type: ignore[attr-defined]


_ACCOUNT = SCHEMA.type_map["ShopifyPaymentsAccount"]
_ACCOUNT.fields["payouts"].resolve = (  # type: ignore[attr-defined]
    lambda source, info, **args: source["fake"]._payouts(args)
)
_ACCOUNT.fields["balanceTransactions"].resolve = (  # type: ignore[attr-defined]
    lambda source, info, **args: source["fake"]._balance_transactions(args)
)


def _filters(text: str | None, allowed: str) -> list[tuple[str, str, str]]:
    """The `name:op value` terms of a search, refusing a key the fake does not filter on."""
    found = _FILTER.findall(text or "")
    for name, _, _ in found:
        if name != allowed:
            raise GraphQLError(f"the fake does not filter on {name}")
    return found


def _encode(index: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"i": index}).encode()).decode()


def _decode(cursor: str) -> int:
    try:
        return int(json.loads(base64.urlsafe_b64decode(cursor))["i"])
    except (ValueError, KeyError, TypeError) as exc:
        raise GraphQLError(f"Invalid cursor: {cursor}") from exc


# --- cost ---------------------------------------------------------------------------------


def _operation_cost(operation: OperationDefinitionNode, variables: dict[str, Any]) -> int:
    cost = _cost(operation.selection_set, variables)
    return max(cost, 10) if operation.operation.value == "mutation" else cost


def _cost(selection_set: SelectionSetNode | None, variables: dict[str, Any]) -> int:
    total = 0
    for selection in selection_set.selections if selection_set else ():
        if not isinstance(selection, FieldNode):
            total += _cost(getattr(selection, "selection_set", None), variables)
            continue
        if selection.selection_set is None:
            continue
        inner = _cost(selection.selection_set, variables)
        first = _first(selection, variables)
        if first is not None:
            total += 2 + first * max(1, inner)
        elif selection.name.value in ("nodes", "edges", "node") and not selection.arguments:
            total += inner
        elif selection.name.value != "pageInfo":
            total += 1 + inner
    return total


def _first(node: FieldNode, variables: dict[str, Any]) -> int | None:
    for argument in node.arguments or ():
        if argument.name.value == "first":
            value = argument.value
            if isinstance(value, IntValueNode):
                return int(value.value)
            if isinstance(value, VariableNode):
                return int(variables.get(value.name.value) or 0)
    return None


def _connections(selection_set: SelectionSetNode | None, depth: int) -> tuple[int, int]:
    count, deepest = 0, depth
    for selection in selection_set.selections if selection_set else ():
        if not isinstance(selection, FieldNode) or selection.selection_set is None:
            continue
        is_connection = any(
            isinstance(s, FieldNode) and s.name.value in ("edges", "nodes")
            for s in selection.selection_set.selections
        )
        inner, inner_depth = _connections(selection.selection_set, depth + is_connection)
        count, deepest = count + inner + is_connection, max(deepest, inner_depth)
    return count, deepest


def _count_objects(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + sum(_count_objects(v) for v in value.values())
    if isinstance(value, list):
        return sum(_count_objects(v) for v in value)
    return 0


def _moment(value: str) -> dt.datetime:
    parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _order_key(order: dict[str, Any]) -> tuple[dt.datetime, str]:
    return (_moment(order["updatedAt"]), order["id"])


def _user_error(message: str, fields: list[str] | None = None, key: str = "bulkOperation"
                ) -> dict[str, Any]:  # fmt: skip
    return {key: None, "userErrors": [{"field": fields, "message": message}]}


def _json(body: Any, status: int = 200) -> Response:
    response = jsonify(body)
    response.status_code = status
    version = (request.view_args or {}).get("version")
    if version:  # Shopify names the version it served (the asked one, if supported)
        response.headers["X-Shopify-API-Version"] = version
    return response


@pytest.fixture
def fake_shopify_graphql() -> Iterator[tuple[FakeShopifyGraphQL, str]]:
    """An empty `FakeShopifyGraphQL` served over HTTP, and its base URL."""
    fake = FakeShopifyGraphQL()
    with serve_wsgi(fake.app) as url:
        yield fake, url
    fake.close()
