"""Shopify orders for the backfill, read through the GraphQL Admin API.

`ShopifyOrders.pages(since, until)` yields pages of `OrderRecord`s: each order updated in
the window as a webhook (REST) body, its transactions likewise, and the ids of its
refunds; `refund(...)` reads one refund when the backfill needs it (most are booked
already, so most are never read).

How the window is read depends on its size (`ordersCount` first):
- up to `bulk_threshold` orders (2,000): the paged `orders` query, `ORDER_PAGE` orders a
  page (fewer if Shopify prices a page over its per-query limit), cursor by cursor, each
  page waiting for Shopify's cost bucket;
- more: one bulk operation (`bulkOperationRunQuery`), polled until it is COMPLETED, its
  JSONL result downloaded as a stream and reassembled order by order (each line item and
  shipping line names its order in `__parentId` and comes right after it), so memory does
  not grow with the number of orders.

An order that received a tip is asked for its sales too (one small query): only they say
which line items are tips.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from connectors.http import ProviderApiError
from connectors.shopify import convert, queries
from connectors.shopify.graphql import ShopifyGraphQL, ShopifyGraphQLError

BULK_THRESHOLD = 2000
BULK_PAGE = 250  # orders handed to the backfill at a time from a bulk result
BULK_POLL = 2.0  # seconds between two looks at a running bulk operation
BULK_TIMEOUT = 3600.0  # seconds a bulk operation may run before the backfill gives up
BULK_DONE = "COMPLETED"
BULK_RUNNING = frozenset({"CREATED", "RUNNING"})


@dataclass
class OrderRecord:
    """One order as the webhooks would have brought it."""

    order: dict[str, Any]  # an `orders/updated` body
    transactions: list[dict[str, Any]] = field(default_factory=list)  # `order_transactions/...`
    refunds: list[tuple[int, str]] = field(default_factory=list)  # (refund id, its global id)

    @property
    def id(self) -> int:
        return int(self.order["id"])


def search(since: dt.datetime, until: dt.datetime) -> str:
    """Shopify's search syntax for orders updated in [since, until]."""
    low, high = (moment.astimezone(dt.UTC).isoformat() for moment in (since, until))
    return f"updated_at:>='{low}' updated_at:<='{high}'"


class ShopifyOrders:
    """Reads one shop's orders, transactions and refunds (see the module docstring)."""

    def __init__(
        self,
        api: ShopifyGraphQL,
        *,
        bulk_threshold: int = BULK_THRESHOLD,
        bulk_poll: float = BULK_POLL,
        bulk_timeout: float = BULK_TIMEOUT,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.api = api
        self.bulk_threshold = bulk_threshold
        self._bulk_poll, self._bulk_timeout = bulk_poll, bulk_timeout
        self._sleep = sleep
        self.used_bulk = False  # whether the last `pages` read a bulk operation

    @property
    def shop_domain(self) -> str:
        return self.api.shop_domain

    @property
    def api_version(self) -> str:
        return self.api.api_version

    def pages(self, since: dt.datetime, until: dt.datetime) -> Iterator[list[OrderRecord]]:
        """Pages of the orders (any status) updated in [since, until].

        Raises:
            ProviderAuthError: the access token was refused.
            ProviderApiError: Shopify refused, stayed unavailable, answered nonsense, or a
                bulk operation failed.
        """
        text = search(since, until)
        self.used_bulk = self.count(text) > self.bulk_threshold
        if self.used_bulk:
            yield from self._bulk_pages(text)
            return
        yield from self._paged(text)

    def count(self, text: str) -> int:
        """How many orders match a search (`ordersCount`; Shopify caps it at 10,000).

        Raises:
            ProviderApiError: as `pages`.
        """
        data = self.api.execute(queries.ORDERS_COUNT, {"query": text})
        count = (data.get("ordersCount") or {}).get("count")
        if not isinstance(count, int):
            raise ProviderApiError("Shopify's ordersCount has no count")
        return count

    def refund(self, refund_gid: str, order_id: int) -> dict[str, Any]:
        """One refund as a `refunds/create` body.

        Raises:
            ProviderApiError: as `pages`, or Shopify does not know the refund.
        """
        data = self.api.execute(queries.REFUND, {"id": refund_gid})
        refund = data.get("refund")
        if not isinstance(refund, dict):
            raise ProviderApiError(f"Shopify does not know refund {refund_gid}")
        try:
            return convert.refund_body(refund, order_id)
        except ValueError as exc:
            raise ProviderApiError(f"Shopify answered a refund that cannot be read: {exc}") from exc

    def close(self) -> None:
        self.api.close()

    # --- paged ------------------------------------------------------------------------

    def _paged(self, text: str) -> Iterator[list[OrderRecord]]:
        """The `orders` query page by page; a page Shopify prices over its per-query limit
        (`MAX_COST_EXCEEDED`) is asked again with half as many orders.

        Raises:
            ProviderApiError: as `pages`.
        """
        size, after = queries.ORDER_PAGE, None
        while True:
            try:
                data = self.api.execute(queries.orders_query(size), {"query": text, "after": after})
            except ShopifyGraphQLError as exc:
                if "MAX_COST_EXCEEDED" not in exc.codes or size == 1:
                    raise
                size = max(1, size // 2)
                continue
            connection = data.get("orders")
            if not isinstance(connection, dict) or not isinstance(connection.get("nodes"), list):
                raise ProviderApiError("Shopify's answer has no `orders` connection")
            yield [self._record(node) for node in connection["nodes"] if isinstance(node, dict)]
            info = connection.get("pageInfo") or {}
            after = info.get("endCursor") if info.get("hasNextPage") else None
            if not isinstance(after, str):
                return

    def _record(self, node: dict[str, Any]) -> OrderRecord:
        lines = node.get("lineItems") or {}
        info = lines.get("pageInfo") or {}
        if info.get("hasNextPage"):
            rest = self._more_lines(str(node["id"]), info.get("endCursor"))
            node = {**node, "lineItems": {"nodes": [*lines.get("nodes", []), *rest]}}
        return _assemble(self._with_tips(node))

    def _with_tips(self, node: dict[str, Any]) -> dict[str, Any]:
        """The order with its sales (`agreements`) when it received a tip: they say which
        line items are tips (`queries.ORDER_TIPS`); an order without a tip costs nothing.

        Raises:
            ProviderApiError: as `pages`.
        """
        if not _tipped(node) or not node.get("id"):
            return node
        data = self.api.execute(queries.ORDER_TIPS, {"id": str(node["id"])})
        agreements = (data.get("order") or {}).get("agreements")
        return {**node, "agreements": agreements} if isinstance(agreements, dict) else node

    def _more_lines(self, order_gid: str, after: object) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        while isinstance(after, str):
            data = self.api.execute(queries.ORDER_LINES, {"id": order_gid, "after": after})
            connection = ((data.get("order") or {}).get("lineItems")) or {}
            found += [n for n in connection.get("nodes") or [] if isinstance(n, dict)]
            info = connection.get("pageInfo") or {}
            after = info.get("endCursor") if info.get("hasNextPage") else None
        return found

    # --- bulk -------------------------------------------------------------------------

    def _bulk_pages(self, text: str) -> Iterator[list[OrderRecord]]:
        url = self._run_bulk(queries.BULK_ORDERS % json.dumps(text))
        if url is None:
            return
        page: list[OrderRecord] = []
        for node in reassemble(self.api.download(url)):
            page.append(_assemble(self._with_tips(node)))
            if len(page) >= BULK_PAGE:
                yield page
                page = []
        if page:
            yield page

    def _run_bulk(self, query: str) -> str | None:
        """Start a bulk query and wait for it; the result's URL (None: no objects).

        Raises:
            ProviderApiError: Shopify refused the operation, it failed, or it did not
                complete within `bulk_timeout` seconds.
        """
        data = self.api.execute(queries.bulk_run(self.api_version), {"query": query})
        payload = data.get("bulkOperationRunQuery") or {}
        errors = payload.get("userErrors") or []
        operation = payload.get("bulkOperation")
        if errors or not isinstance(operation, dict):
            messages = "; ".join(str(e.get("message")) for e in errors if isinstance(e, dict))
            raise ProviderApiError(f"Shopify refused the bulk query: {messages or 'no operation'}")
        operation_id = str(operation["id"])
        waited = 0.0
        while True:
            status = self.api.execute(queries.BULK_STATUS, {"id": operation_id}).get("node")
            if not isinstance(status, dict):
                raise ProviderApiError(f"Shopify lost bulk operation {operation_id}")
            state = status.get("status")
            if state == BULK_DONE:
                url = status.get("url")
                return url if isinstance(url, str) else None
            if state not in BULK_RUNNING:
                code = status.get("errorCode") or "no error code"
                raise ProviderApiError(
                    f"Shopify's bulk operation {operation_id} ended {state} ({code})"
                )
            if waited >= self._bulk_timeout:
                raise ProviderApiError(
                    f"Shopify's bulk operation {operation_id} still {state} after "
                    f"{waited:.0f} s: the window is read again next time"
                )
            self._sleep(self._bulk_poll)
            waited += self._bulk_poll


def reassemble(lines: Iterable[str]) -> Iterator[dict[str, Any]]:
    """Orders from a bulk JSONL stream, each with its `lineItems` / `shippingLines` nodes.

    A child line (`__parentId`) must follow its order; one that names another order means
    the file is not grouped, which is refused rather than read wrong.

    Raises:
        ProviderApiError: a line is not JSON, or a child is not next to its order.
    """
    current: dict[str, Any] | None = None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError as exc:
            raise ProviderApiError(f"Shopify's bulk result: line {number} is not JSON") from exc
        parent = item.pop("__parentId", None)
        if parent is None:
            if current is not None:
                yield current
            current = {**item, "lineItems": {"nodes": []}, "shippingLines": {"nodes": []}}
            continue
        if current is None or parent != current.get("id"):
            raise ProviderApiError(
                f"Shopify's bulk result: line {number} belongs to {parent}, not next to it"
            )
        kind = "lineItems" if "/LineItem/" in str(item.get("id")) else "shippingLines"
        current[kind]["nodes"].append(item)
    if current is not None:
        yield current


def _tipped(node: dict[str, Any]) -> bool:
    money = (node.get("totalTipReceivedSet") or {}).get("shopMoney") or {}
    try:
        return Decimal(str(money.get("amount") or "0")) > 0
    except ArithmeticError:
        return False


def _assemble(node: dict[str, Any]) -> OrderRecord:
    """The record of one GraphQL order.

    Raises:
        ProviderApiError: the order (or one of its parts) has no usable id.
    """
    try:
        return _convert(node)
    except ValueError as exc:
        raise ProviderApiError(f"Shopify answered an order that cannot be read: {exc}") from exc


def _convert(node: dict[str, Any]) -> OrderRecord:
    order = convert.order_body(node)
    order_id = order["id"]
    transactions = [convert.transaction_body(tx, order_id) for tx in node.get("transactions") or []]
    refunds = [
        (convert.legacy_id(refund["id"]), str(refund["id"]))
        for refund in node.get("refunds") or []
        if isinstance(refund, dict) and refund.get("id")
    ]
    return OrderRecord(order=order, transactions=transactions, refunds=refunds)
