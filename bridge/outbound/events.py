"""The outbound event catalogue: the event types and the payload of each.

A subscriber receives `{"type": ..., "timestamp": ..., "data": ...}` where `data` is one of
the payload models below, serialised to JSON. Amounts are JSON strings ("12.30"), never
numbers, so that no receiver reads them as binary floats and cents stay exact.

`payload_model(type)` says which model an event type carries; `validate_data` builds it
from a model or a plain mapping, so callers of `Outbound.emit` may pass either.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

from bridge.money import Money


class EventType(StrEnum):
    INVOICE_CREATED = "invoice.created"
    INVOICE_POSTED = "invoice.posted"
    INVOICE_PARTIALLY_COLLECTED = "invoice.partially_collected"
    INVOICE_COLLECTED = "invoice.collected"
    INVOICE_CREDITED = "invoice.credited"
    INVOICE_UNCOLLECTIBLE = "invoice.uncollectible"
    PAYMENT_SETTLED = "payment.settled"
    SYNC_FAILED = "sync.failed"
    CONNECTION_AUTH_FAILED = "connection.auth_failed"
    INVOICE_EINVOICE_STATUS_CHANGED = "invoice.einvoice_status_changed"


def _plain(value: Decimal) -> str:
    # format "f" never yields an exponent: Decimal("1E+1") is sent as "10", not "1E+1".
    return format(value, "f")


JsonMoney = Annotated[Money, PlainSerializer(_plain, return_type=str)]
"""A Decimal amount (floats refused) that is written to JSON as a string."""


class EventData(BaseModel):
    """Base of every payload: frozen, strict about unknown fields, no NaN."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class InvoiceEventData(EventData):
    """A Sage sales invoice that was created, posted, collected (partly or wholly) or credited.

    `order_reference` is the invoice's `salesOrderNumber` (`shopify:<shop>:<order id>`...),
    `external_reference` the order's human number (`#1001`).
    """

    invoice_id: str = Field(min_length=1)
    operational_number: str | None = None
    status: str = Field(min_length=1)
    order_reference: str | None = None
    external_reference: str | None = None
    total: JsonMoney
    currency: str = Field(min_length=3, max_length=3)
    amount_paid: JsonMoney = Decimal("0")
    amount_due: JsonMoney
    customer_code: str | None = None
    credit_note_id: str | None = None
    credit_note_number: str | None = None
    credited_amount: JsonMoney | None = None
    # French e-invoicing: the invoice's lifecycle status on Sage's platform (and the reason
    # of a rejection), when it was sent electronically.
    einvoicing_status: str | None = None
    einvoicing_reason: str | None = None


class PaymentSettledData(EventData):
    """A provider payment booked in Sage as a settlement of an invoice's open item.

    `document_number` is the provider's transaction or payment id written on the entry.
    """

    invoice_id: str = Field(min_length=1)
    operational_number: str | None = None
    order_reference: str | None = None
    provider: str = Field(min_length=1)
    document_number: str = Field(min_length=1)
    settlement_id: str | None = None
    amount: JsonMoney
    currency: str = Field(min_length=3, max_length=3)
    payment_method: str | None = None
    amount_due: JsonMoney | None = None


class InvoiceUncollectibleData(EventData):
    """The provider gave up collecting an invoice (Stripe `invoice.marked_uncollectible`).

    Nothing is booked: the accountant decides the write-off. `invoice_id` is the Sage
    invoice when the bridge booked one; `provider_invoice_id` the provider's (`in_...`).
    """

    order_reference: str = Field(min_length=1)
    provider: str = Field(min_length=1)
    provider_invoice_id: str = Field(min_length=1)
    provider_number: str | None = None
    invoice_id: str | None = None
    operational_number: str | None = None
    amount_due: JsonMoney
    currency: str = Field(min_length=3, max_length=3)


class SyncFailedData(EventData):
    """An inbound provider event the bridge gave up on (dead-lettered), and why."""

    event_ref: str = Field(min_length=1)
    provider: str = Field(min_length=1)
    topic: str
    reason: str


class ConnectionAuthFailedData(EventData):
    """Sage refused the connection's tokens: events wait (nothing fails) until someone
    runs `bridge sage-login` or sets a new `SAGE_REFRESH_TOKEN`; processing then resumes
    by itself. Sent once per outage, when the connection is first marked "needs login".
    """

    connection: str = Field(min_length=1)
    organization_id: str | None = None
    reason: str
    since: str = Field(min_length=1)  # ISO 8601, UTC


class EInvoiceStatusData(EventData):
    """A sales invoice (or credit note) sent electronically moved on Sage's e-invoicing
    platform (France): `status` is Sage's `eInvoicingStatus` (SUBMITTED, ISSUE_BY_THE_PLATFORM,
    MADE_AVAILABLE, APPROVED, PAYMENT_RECEIVED, or REJECTED, REFUSED, FAILED_TO_SEND,
    SUSPENDED, DISPUTED with a `reason`); `submission` counts the submissions (a retry is the
    next one)."""

    invoice_id: str = Field(min_length=1)
    operational_number: str | None = None
    document_type: str | None = None  # NORMAL or CREDIT_NOTE
    order_reference: str | None = None
    external_reference: str | None = None
    status: str = Field(min_length=1)
    previous_status: str | None = None
    reason: str | None = None
    submission: int = Field(default=1, ge=1)
    needs_attention: bool = False


_PAYLOADS: dict[EventType, type[EventData]] = {
    EventType.INVOICE_CREATED: InvoiceEventData,
    EventType.INVOICE_POSTED: InvoiceEventData,
    EventType.INVOICE_PARTIALLY_COLLECTED: InvoiceEventData,
    EventType.INVOICE_COLLECTED: InvoiceEventData,
    EventType.INVOICE_CREDITED: InvoiceEventData,
    EventType.INVOICE_UNCOLLECTIBLE: InvoiceUncollectibleData,
    EventType.PAYMENT_SETTLED: PaymentSettledData,
    EventType.SYNC_FAILED: SyncFailedData,
    EventType.CONNECTION_AUTH_FAILED: ConnectionAuthFailedData,
    EventType.INVOICE_EINVOICE_STATUS_CHANGED: EInvoiceStatusData,
}


def payload_model(event_type: EventType) -> type[EventData]:
    """The payload model an event type carries."""
    return _PAYLOADS[event_type]


def parse_event_type(value: str) -> EventType:
    """`value` as an EventType.

    Raises:
        ValueError: not one of the types (the message lists them).
    """
    try:
        return EventType(value)
    except ValueError:
        known = ", ".join(t.value for t in EventType)
        raise ValueError(f"unknown event type {value!r}; known types: {known}") from None


def validate_data(event_type: EventType, data: BaseModel | Mapping[str, Any]) -> EventData:
    """`data` as the payload model of `event_type`.

    Raises:
        ValueError: a model of another kind than the type carries.
        pydantic.ValidationError: a mapping that does not fit the payload model.
    """
    model = payload_model(event_type)
    if isinstance(data, model):
        return data
    if isinstance(data, BaseModel):
        raise ValueError(f"{event_type.value} carries {model.__name__}, not {type(data).__name__}")
    return model.model_validate(dict(data))
