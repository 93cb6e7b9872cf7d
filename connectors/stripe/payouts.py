"""Stripe payouts and the balance transactions they carry, read through the REST client.

`StripePayouts.payout(id)` is `GET /v1/payouts/<id>`; `transactions(id)` streams
`GET /v1/balance_transactions?payout=<id>&expand[]=data.source`, every page (100 a page,
`starting_after`), one page in memory at a time, each item parsed into a `BalanceTransaction`
(fields the bridge does not need are ignored).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from connectors.http import ProviderApiError, stripe_client
from connectors.rest import RestReader

DEFAULT_URL = "https://api.stripe.com"
PAGE_SIZE = 100  # Stripe's maximum


class _Tolerant(BaseModel):
    model_config = ConfigDict(extra="ignore")


class FeeDetail(_Tolerant):
    amount: int
    type: str = "stripe_fee"  # stripe_fee, application_fee, tax, ...
    description: str | None = None


class StripePayout(_Tolerant):
    id: str
    amount: int  # minor units, > 0 for a payout to the bank
    currency: str
    status: str  # paid, pending, in_transit, canceled, failed
    arrival_date: int | None = None
    created: int | None = None
    automatic: bool = True
    reconciliation_status: str | None = None  # not_applicable, in_progress, completed
    original_payout: str | dict[str, Any] | None = None


class BalanceTransaction(_Tolerant):
    id: str
    type: str
    amount: int  # minor units, signed: what moved the balance before fees
    fee: int = 0
    net: int
    currency: str
    exchange_rate: float | None = None
    reporting_category: str | None = None
    fee_details: list[FeeDetail] = Field(default_factory=list)
    source: str | dict[str, Any] | None = None

    @property
    def source_id(self) -> str | None:
        if isinstance(self.source, dict):
            value = self.source.get("id")
            return str(value) if value is not None else None
        return self.source

    def source_field(self, name: str) -> str | None:
        """A field of the expanded source (e.g. a refund's `payment_intent`), as an id."""
        if not isinstance(self.source, dict):
            return None
        value = self.source.get(name)
        if isinstance(value, dict):
            value = value.get("id")
        return str(value) if isinstance(value, str) else None


class StripePayouts:
    """Reads one Stripe account's payouts (the API key's; restricted read access is enough)."""

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str = DEFAULT_URL,
        timeout: float = 30.0,
        page_size: int = PAGE_SIZE,
        client: httpx.Client | None = None,
        reader: RestReader | None = None,
    ) -> None:
        self.page_size = page_size
        self._client = client or stripe_client(api_key, base_url, timeout=timeout)
        self._reader = reader or RestReader("Stripe", self._client)

    def payout(self, payout_id: str) -> StripePayout:
        """The payout as Stripe has it now.

        Raises:
            ProviderAuthError: the key was refused.
            ProviderApiError: Stripe refused (no such payout) or stayed unavailable.
        """
        data = self._reader.json(f"/v1/payouts/{payout_id}")
        try:
            return StripePayout.model_validate(data)
        except ValidationError as exc:
            raise ProviderApiError(f"Stripe answered an unexpected payout: {exc}") from exc

    def transactions(self, payout_id: str) -> Iterator[BalanceTransaction]:
        """Every balance transaction of the payout (its own `payout` one included).

        Raises:
            ProviderApiError: as `payout`, or a page is not a list of transactions.
        """
        params: dict[str, str | int | list[str]] = {
            "payout": payout_id,
            "limit": self.page_size,
            "expand[]": ["data.source"],
        }
        while True:
            page = self._reader.json("/v1/balance_transactions", params)
            items = page.get("data") if isinstance(page, dict) else None
            if not isinstance(items, list):
                raise ProviderApiError("Stripe listed balance transactions without `data`")
            for item in items:
                try:
                    yield BalanceTransaction.model_validate(item)
                except ValidationError as exc:
                    raise ProviderApiError(
                        f"Stripe balance transaction {item.get('id')!r} is unreadable: {exc}"
                    ) from exc
            if not page.get("has_more") or not items:
                return
            params["starting_after"] = str(items[-1]["id"])

    def close(self) -> None:
        self._client.close()
