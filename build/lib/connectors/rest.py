"""Reading a provider's REST API (Stripe) for the backfill: GET JSON, bounded retries.

Its error classes are shared with Shopify's GraphQL client (`connectors.shopify.graphql`).

`RestReader.get` retries what is worth retrying and says plainly what is not:
- 429 and 5xx wait `Retry-After` when the provider sends one (capped), else back off
  exponentially, up to `max_attempts` tries in all;
- a connection error or timeout is retried the same way (a GET changes nothing);
- 401 / 403 raise `ProviderAuthError`, any other 4xx `ProviderApiError`, each with the
  provider's own message; running out of attempts raises `ProviderUnavailable` (a
  `ProviderApiError` too), which a caller may retry later.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from connectors.retry_after import parse_retry_after

Params = Mapping[str, str | int | list[str]]


class ProviderApiError(Exception):
    """A provider API refused a request or stayed unavailable; the message says which."""


class ProviderAuthError(ProviderApiError):
    """The provider refused the credentials (401 / 403)."""


class ProviderUnavailable(ProviderApiError):
    """The provider stayed unreachable or kept answering 429 / 5xx: trying later may work."""


def provider_message(response: httpx.Response) -> str:
    """The provider's own error text: Stripe's `error.message`, Shopify's `errors`, or the body."""
    try:
        data = response.json()
    except ValueError:
        return response.text[:300].strip() or response.reason_phrase
    if isinstance(data, dict):
        error = data.get("error")
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])
        if data.get("errors"):
            return str(data["errors"])
    return str(data)[:300]


@dataclass
class RestReader:
    """GETs JSON from one provider's API through `client` (which carries base URL and auth)."""

    provider: str  # for messages: "Stripe", "Shopify"
    client: httpx.Client
    max_attempts: int = 6
    max_wait: float = 60.0  # seconds: a longer Retry-After is capped to this
    backoff: float = 0.5  # seconds before the 2nd try; doubles each time
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)

    def get(self, url: str, params: Params | None = None) -> httpx.Response:
        """The successful (2xx) response to `GET url`.

        Raises:
            ProviderAuthError: the credentials were refused.
            ProviderApiError: any other refusal, or still failing after `max_attempts`.
        """
        attempt = 0
        while True:
            attempt += 1
            last = attempt >= self.max_attempts
            delay = self.backoff * 2 ** (attempt - 1)
            try:
                response = self.client.get(url, params=params)
            except httpx.TransportError as exc:
                if last:
                    raise ProviderUnavailable(
                        f"{self.provider} API unreachable after {attempt} tries: {exc!r}"
                    ) from exc
                self.sleep(delay)
                continue
            status = response.status_code
            if status < 300:
                return response
            if status in (401, 403):
                raise ProviderAuthError(
                    f"{self.provider} refused the credentials ({status}): "
                    f"{provider_message(response)}"
                )
            if status != 429 and status < 500:
                raise ProviderApiError(
                    f"{self.provider} answered {status} to GET {response.request.url.path}: "
                    f"{provider_message(response)}"
                )
            if last:
                raise ProviderUnavailable(
                    f"{self.provider} still answered {status} after {attempt} tries: "
                    f"{provider_message(response)}"
                )
            wait = parse_retry_after(response.headers.get("Retry-After"), now=time.time())
            self.sleep(min(self.max_wait, delay if wait is None else wait))

    def json(self, url: str, params: Params | None = None) -> Any:
        """The JSON body of `GET url` (see `get`).

        Raises:
            ProviderApiError: as `get`, or the body is not JSON.
        """
        response = self.get(url, params)
        try:
            return response.json()
        except ValueError as exc:
            raise ProviderApiError(f"{self.provider} answered GET {url} with non-JSON") from exc
