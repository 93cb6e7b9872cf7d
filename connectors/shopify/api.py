"""Shopify's REST Admin API, read for the backfill: orders updated in a window, and their
transactions.

Pages follow the `Link: <...>; rel="next"` header (cursor pagination); the next URL must be
on the shop's own API, so the access token is never sent anywhere else.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import httpx

from connectors.rest import ProviderApiError, RestReader
from connectors.shopify.versions import NEWEST_STABLE

DEFAULT_VERSION = NEWEST_STABLE
PAGE_SIZE = 250  # Shopify's maximum


class ShopifyOrders:
    """Reads one shop's orders and transactions with an Admin API access token."""

    def __init__(
        self,
        shop_domain: str,
        access_token: str,
        *,
        api_version: str = DEFAULT_VERSION,
        base_url: str | None = None,
        timeout: float = 30.0,
        page_size: int = PAGE_SIZE,
        client: httpx.Client | None = None,
    ) -> None:
        self.page_size = page_size
        self.shop_domain = shop_domain
        self.api_version = api_version
        self._root = f"{(base_url or f'https://{shop_domain}').rstrip('/')}/admin/api/{api_version}"
        self._client = client or httpx.Client(
            headers={"X-Shopify-Access-Token": access_token}, timeout=timeout
        )
        self._reader = RestReader("Shopify", self._client)

    def pages(self, since: dt.datetime, until: dt.datetime) -> Iterator[list[dict[str, Any]]]:
        """Pages of orders (any status) updated in [since, until].

        Raises:
            ProviderAuthError: the access token was refused.
            ProviderApiError: Shopify refused or stayed unavailable, or answered nonsense.
        """
        url: str | None = f"{self._root}/orders.json"
        params: dict[str, str | int | list[str]] | None = {
            "status": "any",
            "updated_at_min": since.isoformat(),
            "updated_at_max": until.isoformat(),
            "limit": self.page_size,
        }
        while url is not None:
            response = self._reader.get(url, params)
            orders = _list(response, "orders")
            if orders:
                yield orders
            url, params = self._next(response), None  # the next URL carries its own cursor

    def transactions(self, order_id: int | str) -> list[dict[str, Any]]:
        """Every transaction of one order.

        Raises:
            ProviderApiError: as `pages`.
        """
        response = self._reader.get(f"{self._root}/orders/{order_id}/transactions.json")
        return _list(response, "transactions")

    def _next(self, response: httpx.Response) -> str | None:
        url = response.links.get("next", {}).get("url")
        if url is None:
            return None
        if not url.startswith(self._root + "/"):
            raise ProviderApiError(f"Shopify's next page is not on {self._root}: {url}")
        return url

    def close(self) -> None:
        self._client.close()


def _list(response: httpx.Response, key: str) -> list[dict[str, Any]]:
    try:
        data = response.json()
    except ValueError as exc:
        raise ProviderApiError(f"Shopify answered {response.url} with non-JSON") from exc
    items = data.get(key) if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise ProviderApiError(f"Shopify answered {response.url} without an `{key}` list")
    return items
