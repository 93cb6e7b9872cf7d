"""Write-back: a Shopify order whose invoice someone else collected is marked paid in Shopify.

A B2B order on payment terms, or one paid by bank transfer, is settled in Sage by a person
(or a bank feed), not by a Shopify transaction. With `BRIDGE_SHOPIFY_WRITE_BACK=true`, when
the poller sees such an invoice Collected, Shopify is told (`orderMarkAsPaid`), once:

1. The poller (`request_mark_paid`, no call to Shopify) records an event in the ledger,
   `shopify:writeback.paid.<order id>`, topic `bridge/mark_paid`, when the invoice is a
   Shopify order's and the bridge's own settlements do not cover it. The ledger keys it by
   id, so seeing the invoice again records nothing new.
2. A worker runs it (`mark_paid`, the handler `handle_mark_paid`) under the order's lock:
   it reads the write-back marker (done: nothing to do), then the order's
   `displayFinancialStatus` in Shopify (already paid: nothing to send, recorded as such),
   writes the marker `sending`, calls `orderMarkAsPaid`, and writes `done`. A run that
   died after the call finds the order paid in Shopify at step 2: never a second call.
3. A failure (Shopify refuses, the token lacks `write_orders`, Shopify stays down) fails
   the event: it is listed with its error in the console's dead letters and replayed from
   there (or `bridge replay shopify:writeback.paid.<order id>`); the marker says `failed`.

The marker (`bridge:<connection>:writeback:<reference>`, JSON `WriteBack`) is what the
admin API (`GET /admin/orders/<reference>`, `shopify_write_back`) and the console show.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from typing import Literal

import redis
from pydantic import BaseModel

from bridge.services import Services
from bridge.settings import Settings
from bridge.store.events import EventStatus, NewEvent
from connectors.http import ProviderApiError, ProviderUnavailable
from connectors.sage_active.models import SalesInvoice
from connectors.shopify import queries
from connectors.shopify.graphql import ShopifyGraphQL

TOPIC = "bridge/mark_paid"
PAID = frozenset({"PAID", "PARTIALLY_REFUNDED", "REFUNDED"})  # Shopify already shows paid
CREDIT_NOTE = "CREDIT_NOTE"

State = Literal["sending", "done", "already_paid", "failed"]


class WriteBack(BaseModel):
    """Where marking one order paid in Shopify stands."""

    state: State
    at: dt.datetime
    detail: str = ""


class WriteBackStore:
    """The write-back markers, one JSON value per order reference."""

    def __init__(
        self, client: redis.Redis, settings: Settings, clock: Callable[[], float] = time.time
    ) -> None:
        self._redis, self._settings, self._clock = client, settings, clock

    def key(self, reference: str) -> str:
        return self._settings.key("writeback", reference)

    def get(self, reference: str) -> WriteBack | None:
        raw = self._redis.get(self.key(reference))
        return WriteBack.model_validate_json(raw) if raw else None

    def get_many(self, references: list[str]) -> dict[str, WriteBack]:
        if not references:
            return {}
        values = self._redis.mget([self.key(ref) for ref in references])
        return {
            ref: WriteBack.model_validate_json(raw)
            for ref, raw in zip(references, values, strict=True)
            if raw
        }

    def set(self, reference: str, state: State, detail: str = "") -> None:
        now = dt.datetime.fromtimestamp(self._clock(), dt.UTC)
        value = WriteBack(state=state, at=now, detail=detail[:500])
        # kept as long as the order's link (a run after it expired asks Shopify first)
        self._redis.set(
            self.key(reference), value.model_dump_json(), ex=self._settings.link_retention
        )


def shopify_order_id(reference: str, shop_domain: str | None) -> str | None:
    """The order id of `shopify:<shop>:<id>` when the shop is the configured one."""
    parts = reference.split(":")
    if len(parts) != 3 or parts[0] != "shopify" or not parts[2].isdigit():
        return None
    return parts[2] if shop_domain and parts[1] == shop_domain else None


def request_mark_paid(services: Services, invoice: SalesInvoice) -> bool:
    """Record the write-back event for a Collected invoice not settled by the bridge; True
    when a new event was recorded. Calls nobody but Redis (the poller's loop stays fast).

    Raises:
        redis.RedisError: Redis is unreachable.
    """
    settings = services.settings
    reference = invoice.sales_order_number or ""
    if not settings.shopify_write_back or invoice.status != "Collected":
        return False
    order_id = shopify_order_id(reference, settings.shopify_shop_domain)
    if order_id is None or invoice.type == CREDIT_NOTE:
        return False
    link = services.links.order(reference)
    if link is None or (link.order is not None and link.paid >= link.order_total):
        return False  # not the bridge's order, or its own settlements cover it
    body = {"reference": reference, "order_id": int(order_id), "invoice_id": invoice.id}
    event = NewEvent(
        provider="shopify",
        provider_id=f"writeback.paid.{order_id}",
        topic=TOPIC,
        body=json.dumps(body),
        headers={"X-Bridge-Source": "writeback", "X-Shopify-Shop-Domain": reference.split(":")[1]},
        status=EventStatus.QUEUED,
    )
    return services.events.record(event)


class WriteBackRefused(Exception):
    """Shopify refused to mark the order paid, for good (the message says why)."""


class WriteBackUnavailable(Exception):
    """Shopify could not be reached or kept failing; trying again later may work."""


def mark_paid(
    services: Services, reference: str, api: ShopifyGraphQL, store: WriteBackStore
) -> str:
    """Mark one order paid in Shopify unless it is done or Shopify shows it paid (see the
    module docstring); the caller holds the order's lock. Returns what happened.

    Raises:
        WriteBackRefused: Shopify refused (unknown order, user errors, token refused).
        WriteBackUnavailable: Shopify stayed unavailable (the marker is left as it was).
        redis.RedisError: Redis is unreachable.
    """
    known = store.get(reference)
    if known is not None and known.state in ("done", "already_paid"):
        return f"already {known.state.replace('_', ' ')}"
    link = services.links.order(reference)
    if link is not None and link.order is not None and link.paid >= link.order_total:
        return "settled by the bridge's own payments: nothing to write back"
    gid = f"gid://shopify/Order/{reference.rsplit(':', 1)[1]}"
    try:
        status = _financial_status(api, gid)
        if status in PAID and known is not None and known.state == "sending":
            store.set(reference, "done", f"marked paid in Shopify (confirmed: {status})")
            return f"marked paid in Shopify by an earlier try (now {status})"
        if status in PAID:
            store.set(reference, "already_paid", f"Shopify already shows {status}")
            return f"Shopify already shows {status}: nothing sent"
        store.set(reference, "sending", f"orderMarkAsPaid sent (was {status})")
        problem = _send(api, gid)
        # the mutation may have run before an error (a retried 5xx): Shopify's word wins
        if problem is not None and _financial_status(api, gid) not in PAID:
            raise WriteBackRefused(problem)
    except WriteBackRefused as exc:
        store.set(reference, "failed", str(exc))
        raise
    except ProviderUnavailable as exc:  # as `bridge.sync.errors.classified` decides
        raise WriteBackUnavailable(str(exc)) from exc
    except ProviderApiError as exc:  # refused credentials, GraphQL errors, other 4xx
        store.set(reference, "failed", str(exc))
        raise WriteBackRefused(str(exc)) from exc
    store.set(reference, "done", "marked paid in Shopify")
    return "marked paid in Shopify"


def _financial_status(api: ShopifyGraphQL, gid: str) -> str:
    """The order's `displayFinancialStatus`.

    Raises:
        WriteBackRefused: Shopify does not know the order.
        ProviderApiError: as `ShopifyGraphQL.execute`.
    """
    order = api.execute(queries.ORDER_STATUS, {"id": gid}).get("order")
    if not isinstance(order, dict):
        raise WriteBackRefused(f"Shopify does not know order {gid}")
    return str(order.get("displayFinancialStatus"))


def _send(api: ShopifyGraphQL, gid: str) -> str | None:
    """Send `orderMarkAsPaid`; Shopify's user errors as one line, or None.

    Raises:
        ProviderApiError: as `ShopifyGraphQL.execute`.
    """
    answer = api.execute(queries.MARK_AS_PAID, {"input": {"id": gid}})
    payload = answer.get("orderMarkAsPaid") or {}
    errors = [str(e.get("message")) for e in payload.get("userErrors") or [] if isinstance(e, dict)]
    return f"Shopify refused orderMarkAsPaid: {'; '.join(errors)}" if errors else None
