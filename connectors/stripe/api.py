"""Stripe's event log (`GET /v1/events`), read page by page for the backfill.

Stripe keeps events for 30 days. Each listed event is the same object a webhook delivers,
so the backfill records it under its `evt_` id exactly as the ingress would, and the ledger
recognises the ones that already arrived.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterator
from typing import Any

import httpx

from connectors.http import ProviderApiError, stripe_client
from connectors.rest import RestReader

DEFAULT_URL = "https://api.stripe.com"
PAGE_SIZE = 100  # Stripe's maximum
RETENTION = dt.timedelta(days=30)  # how far back Stripe lists events


class StripeEvents:
    """Lists the events of one Stripe account (the API key's)."""

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str = DEFAULT_URL,
        timeout: float = 30.0,
        page_size: int = PAGE_SIZE,
        client: httpx.Client | None = None,
    ) -> None:
        self.page_size = page_size
        self._client = client or stripe_client(api_key, base_url, timeout=timeout)
        self._reader = RestReader("Stripe", self._client)

    def pages(
        self, since: dt.datetime, until: dt.datetime, types: Collection[str]
    ) -> Iterator[list[dict[str, Any]]]:
        """Pages of events created in [since, until) of the given types, newest first.

        Raises:
            ProviderAuthError: the API key was refused.
            ProviderApiError: Stripe refused or stayed unavailable, or answered nonsense.
        """
        params: dict[str, str | int | list[str]] = {
            "created[gte]": int(since.timestamp()),
            "created[lt]": int(until.timestamp()),
            "limit": self.page_size,
            "types[]": sorted(types),
        }
        while True:
            page = self._reader.json("/v1/events", params)
            events = page.get("data") if isinstance(page, dict) else None
            if not isinstance(events, list):
                raise ProviderApiError("Stripe listed events without a `data` list")
            if events:
                yield events
            if not page.get("has_more") or not events:
                return
            params["starting_after"] = str(events[-1]["id"])

    def close(self) -> None:
        self._client.close()
