"""What the sync reads from Stripe's API that webhooks do not carry (with `STRIPE_API_KEY`).

- `line_items(session_id)`: every line item of a Checkout Session
  (`GET /v1/checkout/sessions/{id}/line_items`, all pages, with `data.taxes` and
  `data.discounts` expanded): a `checkout.session.*` event never includes them.
- `credit_notes(invoice_id)`: the credit notes of an invoice (`GET /v1/credit_notes`), to
  tell whether a refund was made by one (then its credit note books it).
- `checkout_sessions(payment_intent)`: the Checkout Session of a PaymentIntent
  (`GET /v1/checkout/sessions?payment_intent=`), to tell that a payment naming no order is
  a Checkout sale's (then the session's event books and settles it).

Through the backfill's `RestReader` (bounded retries on 429 / 5xx / network errors, then
`ProviderUnavailable`; `ProviderAuthError` for a refused key; `ProviderApiError` for any
other refusal). A restricted key with read access to Checkout Sessions and Credit Notes
is enough.
"""

from __future__ import annotations

from typing import Any

import httpx

from connectors.http import ProviderApiError, stripe_client
from connectors.rest import RestReader
from connectors.stripe.api import DEFAULT_URL, PAGE_SIZE

MAX_ATTEMPTS = 3  # in a worker: a longer outage is retried by the event's own backoff
MAX_WAIT = 10.0
LINE_ITEM_EXPAND = ["data.taxes", "data.discounts"]


class StripeObjects:
    """Reads Checkout line items and credit notes of one Stripe account (the key's)."""

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str = DEFAULT_URL,
        timeout: float = 20.0,
        client: httpx.Client | None = None,
    ) -> None:
        self._client = client or stripe_client(api_key, base_url, timeout=timeout)
        self._reader = RestReader(
            "Stripe", self._client, max_attempts=MAX_ATTEMPTS, max_wait=MAX_WAIT
        )

    def _all(self, url: str, params: dict[str, str | int | list[str]]) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        while True:
            page = self._reader.json(url, params)
            data = page.get("data") if isinstance(page, dict) else None
            if not isinstance(data, list) or not all(isinstance(d, dict) for d in data):
                raise ProviderApiError(f"Stripe answered GET {url} without a `data` list")
            found.extend(data)
            if not page.get("has_more") or not data:
                return found
            params["starting_after"] = str(data[-1].get("id"))

    def line_items(self, session_id: str) -> list[dict[str, Any]]:
        """Every line item of Checkout Session `session_id`, in Stripe's order.

        Raises:
            ProviderAuthError: the key was refused.
            ProviderUnavailable: Stripe stayed unavailable.
            ProviderApiError: any other refusal (an unknown session), or a malformed answer.
        """
        params: dict[str, str | int | list[str]] = {
            "limit": PAGE_SIZE,
            "expand[]": list(LINE_ITEM_EXPAND),
        }
        return self._all(f"/v1/checkout/sessions/{session_id}/line_items", params)

    def credit_notes(self, invoice_id: str) -> list[dict[str, Any]]:
        """Every credit note of invoice `invoice_id`.

        Raises:
            ProviderAuthError, ProviderUnavailable, ProviderApiError: as `line_items`.
        """
        params: dict[str, str | int | list[str]] = {"invoice": invoice_id, "limit": PAGE_SIZE}
        return self._all("/v1/credit_notes", params)

    def checkout_sessions(self, payment_intent: str) -> list[dict[str, Any]]:
        """The Checkout Sessions of PaymentIntent `payment_intent` (one, or none).

        Raises:
            ProviderAuthError, ProviderUnavailable, ProviderApiError: as `line_items`.
        """
        params: dict[str, str | int | list[str]] = {"payment_intent": payment_intent}
        return self._all("/v1/checkout/sessions", params)

    def close(self) -> None:
        self._client.close()
