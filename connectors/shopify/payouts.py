"""Shopify Payments payouts and their balance transactions, read through the GraphQL Admin
API (`connectors.shopify.graphql`: cost-throttled, retried; scope
`read_shopify_payments_payouts`).

- payouts: `shopifyPaymentsAccount { payouts(first, after, query: "issued_at:>=<date>") }`,
  each `ShopifyPaymentsPayout` (`legacyResourceId`, `status`, `issuedAt`, `net`) handed on
  in the REST shape the bridge records as the payout's event body (`id`, `status`, `date`,
  `currency`, `amount`), so events recorded before and after read alike;
- a payout's balance transactions: `shopifyPaymentsAccount { balanceTransactions(first,
  after, query: "payments_transfer_id:<payout id>") }` (Shopify's search key for the payout
  a transaction was paid out in), each `ShopifyPaymentsBalanceTransaction` (`type`,
  `amount`, `fee`, `net`, `sourceType`, `associatedOrder`) parsed into
  `ShopifyBalanceTransaction`.

Both are walked cursor by cursor and yielded one item at a time: only the current page is
held, so memory does not grow with the number of pages. `PayoutReader` is what the bridge
needs (`bridge.payouts.shopify`); `ShopifyPaymentsGraphQL` is the reader.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, ValidationError

from connectors.http import ProviderApiError
from connectors.shopify import queries
from connectors.shopify.convert import legacy_id
from connectors.shopify.graphql import ShopifyGraphQL


class _Tolerant(BaseModel):
    model_config = ConfigDict(extra="ignore")


class ShopifyPayout(_Tolerant):
    id: int
    status: str  # scheduled, in_transit, paid, failed, canceled
    date: dt.date
    currency: str
    amount: Decimal


class ShopifyBalanceTransaction(_Tolerant):
    id: int
    type: str  # charge, refund, dispute, adjustment, payout, payout_failure, ...
    currency: str
    amount: Decimal
    fee: Decimal = Decimal("0")
    net: Decimal
    source_type: str | None = None
    source_order_id: int | None = None


class PayoutReader(Protocol):
    """What the bridge reads of Shopify Payments."""

    shop_domain: str

    def payouts(self, since: dt.date) -> Iterator[dict[str, Any]]:
        """Payouts issued on or after `since`, as REST-shaped payout bodies."""
        ...

    def transactions(self, payout_id: int) -> Iterator[ShopifyBalanceTransaction]:
        """Every balance transaction of one payout."""
        ...

    def close(self) -> None: ...


class ShopifyPaymentsGraphQL:
    """`PayoutReader` over the GraphQL Admin API (see the module docstring)."""

    def __init__(self, api: ShopifyGraphQL) -> None:
        self.api = api
        self.shop_domain = api.shop_domain

    def payouts(self, since: dt.date) -> Iterator[dict[str, Any]]:
        """Raises: ProviderApiError (ProviderAuthError for a refused token), also for a
        payout Shopify answers without its id, status, date or amount."""
        search = f"issued_at:>={since.isoformat()}"
        for node in self._walk(queries.PAYOUTS, "payouts", search):
            yield payout_body(node)

    def transactions(self, payout_id: int) -> Iterator[ShopifyBalanceTransaction]:
        """Raises: ProviderApiError, also for a transaction that cannot be read."""
        search = f"payments_transfer_id:{payout_id}"
        for node in self._walk(queries.PAYOUT_TRANSACTIONS, "balanceTransactions", search):
            yield balance_transaction(node)

    def _walk(self, document: str, key: str, search: str) -> Iterator[dict[str, Any]]:
        after: str | None = None
        while True:
            data = self.api.execute(document, {"query": search, "after": after})
            account = data.get("shopifyPaymentsAccount") if isinstance(data, dict) else None
            if account is None:
                raise ProviderApiError("Shopify answered no Shopify Payments account")
            connection = account.get(key) if isinstance(account, dict) else None
            if not isinstance(connection, dict) or not isinstance(connection.get("nodes"), list):
                raise ProviderApiError(f"Shopify's answer has no `{key}` connection")
            yield from (node for node in connection["nodes"] if isinstance(node, dict))
            info = connection.get("pageInfo") or {}
            cursor = info.get("endCursor") if info.get("hasNextPage") else None
            if not isinstance(cursor, str):
                return
            after = cursor

    def close(self) -> None:
        self.api.close()


def _money(value: object) -> tuple[str | None, str | None]:
    if not isinstance(value, dict):
        return None, None
    return value.get("amount"), value.get("currencyCode")


def _lower(value: object) -> str | None:
    return value.lower() if isinstance(value, str) else None


def payout_body(node: dict[str, Any]) -> dict[str, Any]:
    """The REST payout body of a GraphQL `ShopifyPaymentsPayout`.

    Raises:
        ProviderApiError: no usable id.
    """
    try:
        payout_id = int(node.get("legacyResourceId") or legacy_id(node.get("id")))
    except ValueError as exc:
        raise ProviderApiError(f"Shopify answered a payout without an id: {exc}") from exc
    amount, currency = _money(node.get("net"))
    issued = node.get("issuedAt")
    return {
        "id": payout_id,
        "admin_graphql_api_id": node.get("id"),
        "status": _lower(node.get("status")),
        "date": issued[:10] if isinstance(issued, str) else None,
        "currency": currency,
        "amount": amount,
    }


def balance_transaction(node: dict[str, Any]) -> ShopifyBalanceTransaction:
    """A GraphQL `ShopifyPaymentsBalanceTransaction`, parsed.

    Raises:
        ProviderApiError: it cannot be read (no id, type or amounts).
    """
    amount, currency = _money(node.get("amount"))
    order = node.get("associatedOrder")
    try:
        return ShopifyBalanceTransaction.model_validate(
            {
                "id": legacy_id(node.get("id")),
                "type": _lower(node.get("type")),
                "currency": currency,
                "amount": amount,
                "fee": _money(node.get("fee"))[0] or "0",
                "net": _money(node.get("net"))[0],
                "source_type": _lower(node.get("sourceType")),
                "source_order_id": legacy_id(order["id"]) if isinstance(order, dict) else None,
            }
        )
    except (ValidationError, ValueError, KeyError) as exc:
        raise ProviderApiError(
            f"Shopify balance transaction {node.get('id')!r} is unreadable: {exc}"
        ) from exc


def parse_payout(raw: dict[str, Any]) -> ShopifyPayout:
    """Raises: ValueError (pydantic) for a payout without id, status, date or amount."""
    return ShopifyPayout.model_validate(raw)
