"""Stripe webhook endpoints (`POST /v1/webhook_endpoints`): how `bridge connections add
--register-webhooks` subscribes the bridge to a Stripe account.

The endpoint is created with the events the bridge acts on and the API version its
translators read (`WEBHOOK_API_VERSION`), so that what Stripe sends does not depend on the
account's default version. Stripe answers the endpoint with its signing secret
(`whsec_...`), shown only then: the caller stores it at once.

A POST is not retried: a request that timed out may have created the endpoint, and a
second one would make Stripe deliver every event twice (the ledger would absorb it, but
the operator would not know which to delete). Errors are `connectors.rest`'s.
"""

from __future__ import annotations

from collections.abc import Collection
from urllib.parse import urlencode

import httpx
from pydantic import BaseModel, ConfigDict, ValidationError

from connectors.rest import ProviderApiError, ProviderAuthError, provider_message

DEFAULT_URL = "https://api.stripe.com"
# The newest version the translators read (bridge/translate/stripe/objects.py reads every
# version from 2024-06-20 to this one).
WEBHOOK_API_VERSION = "2026-10-28.endive"


class WebhookEndpoint(BaseModel):
    """What the bridge keeps of Stripe's answer (unknown fields ignored)."""

    model_config = ConfigDict(extra="ignore")

    id: str
    url: str
    secret: str
    enabled_events: list[str]
    api_version: str | None = None


def create_webhook_endpoint(
    api_key: str,
    url: str,
    events: Collection[str],
    *,
    api_version: str = WEBHOOK_API_VERSION,
    connect: bool = False,
    description: str = "Sage Active Bridge",
    base_url: str = DEFAULT_URL,
    timeout: float = 30.0,
    client: httpx.Client | None = None,
) -> WebhookEndpoint:
    """Create a webhook endpoint for `url` with `events`; returns it with its secret.

    Raises:
        ProviderAuthError: the API key was refused.
        ProviderApiError: Stripe refused the endpoint, did not answer, or answered nonsense.
    """
    form: list[tuple[str, str]] = [("url", url), ("api_version", api_version)]
    form += [("enabled_events[]", event) for event in sorted(events)]
    form += [("description", description)]
    if connect:
        form.append(("connect", "true"))
    own = client is None
    http = client or httpx.Client(timeout=timeout)
    try:
        response = http.post(
            f"{base_url.rstrip('/')}/v1/webhook_endpoints",
            content=urlencode(form).encode(),
            headers={
                "Authorization": f"Bearer {api_key}",
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )
    except httpx.HTTPError as exc:
        raise ProviderApiError(f"Stripe did not answer: {exc}") from exc
    finally:
        if own:
            http.close()
    if response.status_code in (401, 403):
        raise ProviderAuthError(f"Stripe refused the API key: {provider_message(response)}")
    if response.status_code >= 300:
        raise ProviderApiError(
            f"Stripe refused the webhook endpoint ({response.status_code}): "
            f"{provider_message(response)}"
        )
    try:
        return WebhookEndpoint.model_validate_json(response.content)
    except ValidationError as exc:
        raise ProviderApiError(f"Stripe answered an endpoint without its secret: {exc}") from exc
