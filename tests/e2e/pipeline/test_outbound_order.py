"""A Stripe Billing invoice and the charge that paid it, sent together: the subscriber hears
about the invoice in the order things happened, even when one delivery must be retried."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from werkzeug.wrappers import Request, Response

from bridge.outbound.delivery import Outbound
from tests.support.pipeline import payload
from tests.support.rig import Rig
from tests.support.servers import serve_wsgi
from tests.support.webhooks import stripe_headers

ORDER = ["invoice.created", "invoice.posted", "payment.settled", "invoice.collected"]


class Subscriber:
    """Records each delivery's type; the first `invoice.posted` gets a 503 (retried later)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.answers: list[tuple[str, int]] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        kind = json.loads(Request(environ).get_data())["type"]
        with self.lock:
            refused = kind == "invoice.posted" and not self.answers_of(kind)
            self.answers.append((kind, 503 if refused else 204))
        headers = {"Retry-After": "1"} if refused else {}
        return Response(status=503 if refused else 204, headers=headers)(environ, start_response)

    def answers_of(self, kind: str) -> list[int]:
        return [code for k, code in self.answers if k == kind]

    def delivered(self) -> list[str]:
        with self.lock:
            return [kind for kind, code in self.answers if code == 204]


@pytest.fixture
def subscriber() -> Iterator[tuple[Subscriber, str]]:
    sub = Subscriber()
    with serve_wsgi(sub) as url:
        yield sub, url


def send_stripe(rig: Rig, name: str) -> None:
    raw = json.dumps(payload("stripe", name)).encode()
    response = rig.client.post("/webhooks/stripe", data=raw, headers=stripe_headers(raw))
    assert response.status_code == 202, response.get_data(as_text=True)


def test_stripe_billing_invoice_events_arrive_in_order(
    rig: Rig, start_beat: Callable[..., None], subscriber: tuple[Subscriber, str]
) -> None:
    sub, url = subscriber
    settings = rig.services.settings.model_copy(update={"outbound_allow_private": True})
    Outbound(rig.services.redis, settings).create_subscription(f"{url}/hooks", ORDER)
    env = {**rig.worker_env, "BRIDGE_OUTBOUND_ALLOW_PRIVATE": "true"}
    send_stripe(rig, "invoice-paid-001-several-lines-exclusive-tax")
    send_stripe(rig, "charge-succeeded-002-invoice-payment")
    rig.start_worker(pool="threads", concurrency=4, **env)
    start_beat(**env)

    rig.wait_for(
        lambda: "invoice.collected" in sub.delivered(), timeout=90, what="invoice.collected"
    )
    assert sub.answers_of("invoice.posted") == [503, 204]  # it was retried...
    assert sub.delivered() == ORDER  # ...and nothing overtook it
