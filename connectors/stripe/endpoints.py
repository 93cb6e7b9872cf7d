"""Stripe webhook endpoints (`POST /v1/webhook_endpoints`): how `bridge connections add
--register-webhooks` subscribes the bridge to a Stripe account.

The endpoint is created with the events the bridge acts on and the API version its
translators read (`WEBHOOK_API_VERSION`), so that what Stripe sends does not depend on the
account's default version. Stripe answers the endpoint with its signing secret
(`whsec_...`), shown only then: the caller stores it at once.

A POST is not retried: a request that timed out may have created the endpoint, and a
second one would make Stripe deliver every event twice (the ledger would absorb it, but
the operator would not know which to delete). Errors are `connectors.http`'s.
"""

from __future__ import annotations

from collections.abc import Collection
from urllib.parse import urlencode

import httpx
from pydantic import BaseModel, ConfigDict, ValidationError

from connectors.http import ProviderApiError, RetryPolicy, send, stripe_client

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
    transport: httpx.BaseTransport | None = None,
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
    body = urlencode(form).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    with stripe_client(api_key, base_url, transport=transport) as client:
        response = send(
            "Stripe",
            "POST /v1/webhook_endpoints",
            lambda: client.post("/v1/webhook_endpoints", content=body, headers=headers),
            RetryPolicy(max_attempts=1),  # never twice: see the module docstring
        )
    try:
        return WebhookEndpoint.model_validate_json(response.content)
    except ValidationError as exc:
        raise ProviderApiError(f"Stripe answered an endpoint without its secret: {exc}") from exc
