"""Stripe webhook verification and envelope.

`Stripe-Signature: t=<unix time>,v1=<hex>[,v1=<hex>...]`, each v1 an HMAC-SHA256 of
`"<t>.<raw body>"` under the endpoint secret (`whsec_...`). The official `stripe` library
checks the signatures (any v1 may match; we try each configured secret, for rotation), but
it only rejects timestamps too far in the PAST; we also reject those too far in the future,
so a signature made with a wrong clock (or forged ahead of time) does not live on.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import stripe
from pydantic import BaseModel, ConfigDict, Field, ValidationError

SIGNATURE_HEADER = "Stripe-Signature"
DEFAULT_TOLERANCE = 300  # seconds, both directions

# Event types the bridge acts on (DESIGN.md 4b); others are recorded and ignored.
TOPICS = frozenset(
    {
        "invoice.paid",
        "invoice.finalized",
        "invoice_payment.paid",
        "payment_intent.succeeded",
        "charge.succeeded",
        "charge.refunded",
        "refund.created",
        "charge.dispute.created",
        "checkout.session.completed",
        "checkout.session.async_payment_succeeded",
        "credit_note.created",
        "credit_note.voided",
        "invoice.voided",
        "invoice.marked_uncollectible",
        # bridge/payouts
        "payout.paid",
        "payout.reconciliation_completed",
        "payout.failed",
        "payout.canceled",
    }
)


class SignatureError(Exception):
    """The delivery is not proven to come from Stripe; the message says why."""


class TimestampError(Exception):
    """The signature is valid but its timestamp is outside the tolerance."""


class EnvelopeError(ValueError):
    """The body is not a Stripe event; the message says why."""


def sign(body: bytes, secret: str, timestamp: int | None = None) -> str:
    """A `Stripe-Signature` value for `body` (for tests and the demo)."""
    ts = int(time.time()) if timestamp is None else timestamp
    header: str = stripe.WebhookSignature.generate_signature_header(
        body.decode("utf-8"), secret, timestamp=ts
    )
    return header


def _timestamp(header: str) -> int:
    stamps = [part[2:] for part in header.split(",") if part.strip().startswith("t=")]
    if len(stamps) != 1 or not stamps[0].strip().isdigit():
        raise SignatureError(f"malformed {SIGNATURE_HEADER} header: one t=<unix time> expected")
    return int(stamps[0])


def verify(
    body: bytes,
    header: str | None,
    secrets: Sequence[str],
    tolerance: int = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> int:
    """Check the signature of `body` under one of `secrets`, then its timestamp; return it.

    Raises:
        SignatureError: missing or malformed header, body not UTF-8, or no v1 matches.
        TimestampError: signed, but more than `tolerance` seconds from `now`.
    """
    if not header:
        raise SignatureError(f"missing {SIGNATURE_HEADER} header")
    timestamp = _timestamp(header)
    try:
        payload = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SignatureError("the body is not UTF-8, so it cannot be a signed event") from exc
    matched = False
    for secret in secrets:
        try:
            # tolerance=None: the library checks signatures only; we check time below.
            stripe.WebhookSignature.verify_header(payload, header, secret, tolerance=None)
        except stripe.SignatureVerificationError:
            continue
        matched = True
        break
    if not matched:
        raise SignatureError(f"no v1 signature in {SIGNATURE_HEADER} matches the body")
    skew = (time.time() if now is None else now) - timestamp
    if abs(skew) > tolerance:
        direction = "old" if skew > 0 else "in the future"
        raise TimestampError(
            f"signature timestamp is {abs(int(skew))} s {direction}; "
            f"the tolerance is {tolerance} s either way"
        )
    return timestamp


class StripeEnvelope(BaseModel):
    """The fields of a Stripe event the ingress needs; the rest stays in the raw body."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: str = Field(pattern=r"^evt_[A-Za-z0-9_]{1,200}$")
    type: str = Field(min_length=1, max_length=200)
    created: int | None = None
    account: str | None = None
    livemode: bool | None = None
    api_version: str | None = None


def parse_envelope(data: object) -> StripeEnvelope:
    """Read the event envelope from the parsed JSON body `data`.

    Raises:
        EnvelopeError: not an object, or no `evt_` id / type.
    """
    try:
        return StripeEnvelope.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise EnvelopeError(f"not a Stripe event: {where}: {first['msg']}") from exc
