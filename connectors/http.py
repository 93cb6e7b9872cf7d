"""The one HTTP layer of the provider clients (Stripe's REST API, Shopify's GraphQL Admin API).

`send(request, policy)` runs one request with bounded retries, and every provider client
goes through it, so they all behave alike:
- a connection error or timeout, a 429 and a 5xx are retried: the wait is the provider's
  `Retry-After` when it sends one (capped at `max_wait`), else an exponential back-off with
  jitter, up to `max_attempts` tries in all;
- 401 / 403 raise `ProviderAuthError` at once, any other 3xx / 4xx `ProviderApiError`, each
  with the provider's own message (never retried: trying again cannot change the answer);
- running out of tries raises `ProviderUnavailable`, whatever the last failure was.

The errors are one family (`ProviderApiError` and its two subclasses); which of them may
succeed later is decided once, in `bridge.sync.errors.classified`. Clients are made by
`provider_client`, with explicit timeouts and an injectable transport (tests hand it
`httpx.MockTransport` or a local server).

The Sage Active client (`connectors.sage_active`) keeps its own loop: it shares a rate
limit, a circuit breaker and token refresh across workers, which this layer has no part in.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import httpx

from connectors.retry_after import parse_retry_after

DEFAULT_TIMEOUT = 30.0


class ProviderApiError(Exception):
    """A provider API refused a request for good; the message says which and why."""


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


@dataclass(frozen=True)
class RetryPolicy:
    """How long one request may keep trying."""

    max_attempts: int = 6
    backoff: float = 0.5  # seconds before the 2nd try; doubles each time
    max_wait: float = 60.0  # seconds: a longer Retry-After is capped to this
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False, compare=False)
    jitter: Callable[[], float] = field(default=random.random, repr=False, compare=False)

    def delay(self, attempt: int) -> float:
        """The back-off before try `attempt + 1`: doubling, with up to +50 % jitter."""
        base = self.backoff * float(2 ** (attempt - 1))
        return min(self.max_wait, base * (1 + self.jitter() / 2))


def send(
    provider: str,
    what: str,
    request: Callable[[], httpx.Response],
    policy: RetryPolicy | None = None,
) -> httpx.Response:
    """The successful (2xx) response to `request()`, tried as the module docstring says.

    `provider` and `what` ("GET /v1/events") name the call in error messages.

    Raises:
        ProviderAuthError: the credentials were refused.
        ProviderUnavailable: still failing (network, 429, 5xx) after `max_attempts` tries.
        ProviderApiError: any other refusal.
    """
    policy = policy or RetryPolicy()
    attempt = 0
    while True:
        attempt += 1
        last = attempt >= policy.max_attempts
        try:
            response = request()
        except httpx.TransportError as exc:
            if last:
                raise ProviderUnavailable(
                    f"{provider} API unreachable after {attempt} tries ({what}): {exc!r}"
                ) from exc
            policy.sleep(policy.delay(attempt))
            continue
        status = response.status_code
        if status < 300:
            return response
        if status in (401, 403):
            raise ProviderAuthError(
                f"{provider} refused the credentials ({status}): {provider_message(response)}"
            )
        if status != 429 and status < 500:
            raise ProviderApiError(
                f"{provider} answered {status} to {what}: {provider_message(response)}"
            )
        if last:
            raise ProviderUnavailable(
                f"{provider} still answered {status} after {attempt} tries ({what}): "
                f"{provider_message(response)}"
            )
        hint = parse_retry_after(response.headers.get("Retry-After"), now=time.time())
        policy.sleep(policy.delay(attempt) if hint is None else min(policy.max_wait, hint))


def provider_client(
    base_url: str = "",
    *,
    headers: Mapping[str, str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    transport: httpx.BaseTransport | None = None,
) -> httpx.Client:
    """An `httpx.Client` for one provider API: base URL, auth headers, explicit timeouts."""
    return httpx.Client(
        base_url=base_url,
        headers=dict(headers or {}),
        timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
        transport=transport,
    )


def stripe_client(
    api_key: str,
    base_url: str,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    transport: httpx.BaseTransport | None = None,
) -> httpx.Client:
    """A client of Stripe's REST API for the key's account (every Stripe reader uses one)."""
    return provider_client(
        base_url,
        headers={"Authorization": f"Bearer {api_key}"},
        timeout=timeout,
        transport=transport,
    )
