"""Standard Webhooks signing: secrets, signatures and the three `webhook-*` headers.

A secret is `whsec_` followed by the base64 of the key bytes. The signature of a message is
`v1,` + base64(HMAC-SHA256(key, f"{msg_id}.{timestamp}.{body}")), as the specification
(https://www.standardwebhooks.com) describes; receivers verify it with any of its libraries.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format's prefix, not a secret
# The specification asks for keys of 24 to 64 bytes; we generate 32.
MIN_KEY_BYTES = 24
MAX_KEY_BYTES = 64
_NEW_KEY_BYTES = 32


class InvalidSecret(ValueError):
    """A signing secret that is not `whsec_` + base64 of 24 to 64 bytes."""


def new_secret() -> str:
    """A fresh random signing secret, `whsec_...`."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(_NEW_KEY_BYTES)).decode()


def secret_key(secret: str) -> bytes:
    """The key bytes of a `whsec_` secret.

    Raises:
        InvalidSecret: no `whsec_` prefix, not base64, or a key of the wrong length.
    """
    if not secret.startswith(SECRET_PREFIX):
        raise InvalidSecret("a signing secret starts with 'whsec_'")
    try:
        key = base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
    except binascii.Error as exc:
        raise InvalidSecret("a signing secret is 'whsec_' followed by base64") from exc
    if not MIN_KEY_BYTES <= len(key) <= MAX_KEY_BYTES:
        raise InvalidSecret(
            f"a signing secret holds {MIN_KEY_BYTES} to {MAX_KEY_BYTES} bytes, not {len(key)}"
        )
    return key


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` value `v1,<base64>` for one message.

    Raises:
        InvalidSecret: `secret` is not a valid `whsec_` secret.
    """
    signed = b"%s.%d.%s" % (msg_id.encode(), timestamp, body)
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signed_headers(secret: str, msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The headers of one delivery attempt: id, timestamp, signature and content type.

    Raises:
        InvalidSecret: `secret` is not a valid `whsec_` secret.
    """
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, msg_id, timestamp, body),
        "content-type": "application/json",
    }
