"""The sample events `bridge demo` sends: a Shopify order, its payment, a partial refund, a
Stripe Billing invoice, its invoice payment and the charge that paid it, signed the way
Shopify and Stripe sign them. The Stripe events are in the shapes of API version
`2026-10-28.endive` (the charge names no invoice: the InvoicePayment links them).

The payloads are recorded provider payloads (the JSON files next to this module). Each run
gives them fresh ids, derived from `run`, so that running the demo again books new
documents instead of being recognised as duplicates.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from importlib import resources
from typing import Any, Literal

SHOP_DOMAIN = "boutique-demo.myshopify.com"
STRIPE_ACCOUNT = "default"  # the bridge's account label for events without `account`


@dataclass(frozen=True)
class DemoEvent:
    """One signed webhook delivery."""

    label: str
    provider: Literal["shopify", "stripe"]
    topic: str
    delivery_id: str
    payload: dict[str, Any]

    @property
    def ref(self) -> str:
        """The bridge's event ref (`provider:id`), as the admin API names it."""
        return f"{self.provider}:{self.delivery_id}"

    @property
    def body(self) -> bytes:
        return json.dumps(self.payload, ensure_ascii=False).encode()

    def headers(self, secret: str, now: float | None = None) -> dict[str, str]:
        """The headers the provider would send with `body`, signed with `secret`."""
        body = self.body
        if self.provider == "shopify":
            digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
            return {
                "Content-Type": "application/json",
                "X-Shopify-Hmac-Sha256": base64.b64encode(digest).decode(),
                "X-Shopify-Topic": self.topic,
                "X-Shopify-Shop-Domain": SHOP_DOMAIN,
                "X-Shopify-API-Version": "2026-10",
                "X-Shopify-Webhook-Id": self.delivery_id,
            }
        stamp = int(time.time() if now is None else now)
        mac = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
        return {"Content-Type": "application/json", "Stripe-Signature": f"t={stamp},v1={mac}"}


@dataclass(frozen=True)
class DemoRun:
    """The events of one run and the references the bridge will write in Sage."""

    run: int
    order: DemoEvent
    payment: DemoEvent
    refund: DemoEvent
    invoice: DemoEvent
    invoice_payment: DemoEvent
    charge: DemoEvent
    order_reference: str
    stripe_reference: str
    order_name: str

    @property
    def events(self) -> list[DemoEvent]:
        return [
            self.order,
            self.payment,
            self.refund,
            self.invoice,
            self.invoice_payment,
            self.charge,
        ]


def _load(name: str) -> dict[str, Any]:
    text = resources.files(__name__).joinpath(name).read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def _shopify(run: int) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    order, payment, refund = (
        _load(f"shopify-{name}.json") for name in ("order", "transaction", "refund")
    )
    order_id, sale_id = 6_100_000_000_000 + run, 7_300_000_000_000 + run
    order["id"] = order_id
    order["name"] = f"#D{run % 1_000_000:06d}"
    order["admin_graphql_api_id"] = f"gid://shopify/Order/{order_id}"
    payment.update(id=sale_id, order_id=order_id, payment_id=f"{order['name']}.1")
    payment["admin_graphql_api_id"] = f"gid://shopify/OrderTransaction/{sale_id}"
    refund.update(id=940_000_000_000 + run, order_id=order_id)
    for transaction in refund["transactions"]:
        transaction.update(id=7_400_000_000_000 + run, order_id=order_id, parent_id=sale_id)
    return order, payment, refund


def _stripe(run: int) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    ids = {"invoice": f"in_demo{run}", "charge": f"ch_demo{run}", "payment_intent": f"pi_demo{run}"}
    paid, charged = _load("stripe-invoice-paid.json"), _load("stripe-charge-succeeded.json")
    settled = _load("stripe-invoice-payment-paid.json")
    for suffix, event in (("i", paid), ("p", settled), ("c", charged)):
        event.update(id=f"evt_demo{run}{suffix}", created=int(time.time()))
    invoice, payment, charge = (e["data"]["object"] for e in (paid, settled, charged))
    invoice.update(id=ids["invoice"], number=f"DEMO-{run % 1_000_000:06d}")
    payment.update(id=f"inpay_demo{run}", invoice=ids["invoice"])
    payment["payment"].update(payment_intent=ids["payment_intent"])
    charge.update(id=ids["charge"], payment_intent=ids["payment_intent"])
    return paid, settled, charged


def demo_run(run: int) -> DemoRun:
    """The events of run number `run` (e.g. the current time in seconds)."""
    order, payment, refund = _shopify(run)
    stripe_event, invoice_payment, charge = _stripe(run)
    name, number = str(order["name"]), str(stripe_event["data"]["object"]["number"])
    return DemoRun(
        run=run,
        order=DemoEvent(f"Shopify order {name}", "shopify", "orders/create", f"demo-{run}-order",
                        order),
        payment=DemoEvent(f"Shopify payment of {name}", "shopify", "order_transactions/create",
                          f"demo-{run}-payment", payment),
        refund=DemoEvent(f"Shopify partial refund of {name}", "shopify", "refunds/create",
                         f"demo-{run}-refund", refund),
        invoice=DemoEvent(f"Stripe Billing invoice {number}", "stripe", "invoice.paid",
                          str(stripe_event["id"]), stripe_event),
        invoice_payment=DemoEvent(f"Stripe invoice payment of {number}", "stripe",
                                  "invoice_payment.paid", str(invoice_payment["id"]),
                                  invoice_payment),
        charge=DemoEvent(f"Stripe charge of {number}", "stripe", "charge.succeeded",
                         str(charge["id"]), charge),
        order_reference=f"shopify:{SHOP_DOMAIN}:{order['id']}",
        stripe_reference=f"stripe:{STRIPE_ACCOUNT}:{stripe_event['data']['object']['id']}",
        order_name=name,
    )  # fmt: skip
