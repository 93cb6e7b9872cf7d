"""Shopify Payments payouts and their balance transactions, read from the REST Admin API.

`GET /admin/api/<version>/shopify_payments/payouts.json` (`date_min`, `status`) and
`GET .../shopify_payments/balance_transactions.json?payout_id=<id>`, each followed page by
page through the `Link: <...>; rel="next"` header (the next URL must stay on the shop's
API). Amounts are decimal strings in the payout's currency. `ShopifyPaymentsRest` is one
`PayoutReader`: a GraphQL reader (`shopifyPaymentsAccount.payouts`) can stand in for it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any, Protocol

import httpx
from pydantic import BaseModel, ConfigDict, ValidationError

from connectors.rest import ProviderApiError, RestReader

PAGE_SIZE = 250


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
    """What the bridge reads of Shopify Payments (REST now, GraphQL later)."""

    shop_domain: str

    def payouts(self, since: dt.date) -> Iterator[dict[str, Any]]:
        """Payouts dated on or after `since`, as Shopify sends them."""
        ...

    def transactions(self, payout_id: int) -> Iterator[ShopifyBalanceTransaction]:
        """Every balance transaction of one payout."""
        ...

    def close(self) -> None: ...


class ShopifyPaymentsRest:
    """`PayoutReader` over the REST Admin API (scope `read_shopify_payments_payouts`)."""

    def __init__(
        self,
        shop_domain: str,
        access_token: str,
        *,
        api_version: str,
        base_url: str | None = None,
        timeout: float = 30.0,
        client: httpx.Client | None = None,
    ) -> None:
        self.shop_domain = shop_domain
        root = (base_url or f"https://{shop_domain}").rstrip("/")
        self._root = f"{root}/admin/api/{api_version}/shopify_payments"
        self._client = client or httpx.Client(
            headers={"X-Shopify-Access-Token": access_token}, timeout=timeout
        )
        self._reader = RestReader("Shopify", self._client)

    def payouts(self, since: dt.date) -> Iterator[dict[str, Any]]:
        """Raises: ProviderApiError (ProviderAuthError for a refused token)."""
        params: dict[str, str | int | list[str]] = {
            "date_min": since.isoformat(),
            "limit": PAGE_SIZE,
        }
        yield from self._walk("payouts.json", "payouts", params)

    def transactions(self, payout_id: int) -> Iterator[ShopifyBalanceTransaction]:
        """Raises: ProviderApiError, also for a transaction that cannot be read."""
        params: dict[str, str | int | list[str]] = {"payout_id": payout_id, "limit": PAGE_SIZE}
        for item in self._walk("balance_transactions.json", "transactions", params):
            try:
                yield ShopifyBalanceTransaction.model_validate(item)
            except ValidationError as exc:
                raise ProviderApiError(
                    f"Shopify balance transaction {item.get('id')!r} is unreadable: {exc}"
                ) from exc

    def _walk(
        self, path: str, key: str, params: dict[str, str | int | list[str]]
    ) -> Iterator[dict[str, Any]]:
        url: str | None = f"{self._root}/{path}"
        query: dict[str, str | int | list[str]] | None = params
        while url is not None:
            response = self._reader.get(url, query)
            try:
                items = response.json().get(key)
            except (ValueError, AttributeError) as exc:
                raise ProviderApiError(f"Shopify answered {path} with non-JSON") from exc
            if not isinstance(items, list):
                raise ProviderApiError(f"Shopify answered {path} without a `{key}` list")
            yield from (item for item in items if isinstance(item, dict))
            url, query = response.links.get("next", {}).get("url"), None
            if url is not None and not url.startswith(self._root + "/"):
                raise ProviderApiError(f"Shopify's next page is not on {self._root}: {url}")

    def close(self) -> None:
        self._client.close()


def parse_payout(raw: dict[str, Any]) -> ShopifyPayout:
    """Raises: ValueError (pydantic) for a payout without id, status, date or amount."""
    return ShopifyPayout.model_validate(raw)
