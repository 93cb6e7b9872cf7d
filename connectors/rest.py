"""Reading a provider's REST API (Stripe): GET JSON through the one HTTP layer.

Retries, waits and errors are `connectors.http`'s (`send`): this module adds only the
`GET` and the JSON body. The error classes are re-exported for the callers that name them.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from connectors.http import (
    ProviderApiError,
    ProviderAuthError,
    ProviderUnavailable,
    RetryPolicy,
    provider_message,
    send,
)

__all__ = [
    "Params",
    "ProviderApiError",
    "ProviderAuthError",
    "ProviderUnavailable",
    "RestReader",
    "provider_message",
]

Params = Mapping[str, str | int | list[str]]


@dataclass
class RestReader:
    """GETs JSON from one provider's API through `client` (which carries base URL and auth)."""

    provider: str  # for messages: "Stripe", "Shopify"
    client: httpx.Client
    max_attempts: int = 6
    max_wait: float = 60.0  # seconds: a longer Retry-After is capped to this
    backoff: float = 0.5  # seconds before the 2nd try; doubles each time
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    jitter: Callable[[], float] = field(default=random.random, repr=False)

    @property
    def policy(self) -> RetryPolicy:
        return RetryPolicy(self.max_attempts, self.backoff, self.max_wait, self.sleep, self.jitter)

    def get(self, url: str, params: Params | None = None) -> httpx.Response:
        """The successful (2xx) response to `GET url`.

        Raises:
            ProviderAuthError: the credentials were refused.
            ProviderUnavailable: still failing after `max_attempts` tries.
            ProviderApiError: any other refusal.
        """
        return send(
            self.provider, f"GET {url}", lambda: self.client.get(url, params=params), self.policy
        )

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
