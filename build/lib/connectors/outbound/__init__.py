"""Outbound webhooks, the Standard Webhooks way: signing, destination checks and delivery.

Knows nothing of the bridge: it signs bytes and sends them, and reports each attempt as
data (`DeliveryResult`) rather than raising on a status or a network error.
"""

from connectors.outbound.delivery import DeliveryResult, deliver
from connectors.outbound.destination import DestinationRefused, check_destination, check_url
from connectors.outbound.signing import (
    InvalidSecret,
    new_secret,
    secret_key,
    sign,
    signed_headers,
)
from connectors.retry_after import parse_retry_after

__all__ = [
    "DeliveryResult",
    "DestinationRefused",
    "InvalidSecret",
    "check_destination",
    "check_url",
    "deliver",
    "new_secret",
    "parse_retry_after",
    "secret_key",
    "sign",
    "signed_headers",
]
