"""Operator alerts by e-mail and chat, against a local SMTP server and a local HTTP
receiver, with the real Redis: Sage needing a login, the circuit opening, a dead-lettered
event and an attention item each queue one alert where they happen; a flush sends the
batch as one e-mail and one chat message; a daily digest holds the non-urgent ones; a
channel that fails gets its alerts again without the other channel getting them twice."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from werkzeug.wrappers import Request, Response

from bridge.ops.alerts import Alerts
from bridge.ops.notify import channels, flush, send_digest
from bridge.services import Services, build_services
from bridge.settings import Settings
from bridge.store.alert_queue import AlertQueue
from bridge.store.attention import AttentionItem
from bridge.store.events import NewEvent
from bridge.sync.dispatch import run_event
from tests.support.servers import serve_wsgi
from tests.support.smtp import SmtpRecorder, smtp_server

pytestmark = pytest.mark.integration

ITEM = AttentionItem(
    id="refund_adjustment:shopify:1:0",
    kind="refund_adjustment",
    order_reference="shopify:shop:1",
    amount=Decimal("-2.00"),
    currency="EUR",
    reason="-2.00 refunded without line detail <!channel>",
)


class Receiver:
    """A chat webhook: records each JSON body, answers `status`."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.status = 200
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        with self.lock:
            if self.status == 200:
                self.bodies.append(json.loads(request.get_data()))
            return Response("ok", status=self.status)(environ, start_response)


@pytest.fixture
def smtp() -> Iterator[SmtpRecorder]:
    with smtp_server() as recorder:
        yield recorder


@pytest.fixture
def chat() -> Iterator[tuple[Receiver, str]]:
    receiver = Receiver()
    with serve_wsgi(receiver) as url:
        yield receiver, f"{url}/hooks/T0/B0/x"


def make(redis_url: str, smtp: SmtpRecorder, chat_url: str, **extra: Any) -> Services:
    settings = Settings(
        REDIS_URL=redis_url,
        BRIDGE_CONNECTION="alerts",
        BRIDGE_ALERT_SMTP_HOST=smtp.host,
        BRIDGE_ALERT_SMTP_PORT=smtp.port,
        BRIDGE_ALERT_SMTP_TLS="none",
        BRIDGE_ALERT_SMTP_USER="ops",
        BRIDGE_ALERT_SMTP_PASSWORD="s3cret",
        BRIDGE_ALERT_EMAIL_FROM="bridge@shop.example",
        BRIDGE_ALERT_EMAIL_TO="ops@shop.example, compta@shop.example",
        BRIDGE_ALERT_CHAT_WEBHOOK_URL=chat_url,
        BRIDGE_ALERT_CONSOLE_URL="https://bridge.shop.example",
        **extra,
    )
    return build_services(settings)


def dead_letter_one(services: Services) -> str:
    """A Shopify order whose body is not an order: dead-lettered at once (no Sage call)."""
    event = NewEvent(provider="shopify", provider_id="bad-1", topic="orders/create", body="[]")
    assert services.events.record(event)
    assert run_event(services, event.ref, "task-alerts").status == "failed"
    return event.ref


def happen(services: Services) -> str:
    alerts = Alerts(services.settings, lambda: services.outbound, services.redis)
    alerts.sage_needs_login("invalid_grant")
    alerts.sage_circuit("closed", "open")
    ref = dead_letter_one(services)
    assert services.attention.add(ITEM)
    assert not services.attention.add(ITEM)  # the same finding again: no second alert
    alerts.sage_circuit("half_open", "open")  # within the same 10 minutes: once
    return ref


def test_one_email_and_one_chat_message_for_the_batch(
    redis_url: str, smtp: SmtpRecorder, chat: tuple[Receiver, str]
) -> None:
    receiver, url = chat
    services = make(redis_url, smtp, url)
    try:
        ref = happen(services)
        queue = AlertQueue(services.redis)

        taken = flush(queue, services.settings, channels(services.settings))
        again = flush(queue, services.settings, channels(services.settings))
    finally:
        services.close()

    assert (taken, again) == (4, 0)
    [mail] = smtp.received
    assert mail.login == ("ops", "s3cret")
    assert mail.rcpt_to == ["ops@shop.example", "compta@shop.example"]
    assert mail.message["From"] == "bridge@shop.example"
    assert mail.message["Subject"].strip().startswith("[Sage Active Bridge] 4 alert(s)")
    text = mail.message.get_content()
    for words in (
        "Sage needs a new login",
        "Sage is unavailable (circuit open)",
        "Event failed: shopify orders/create",
        "To book by hand: refund adjustment",
        f"https://bridge.shop.example/console/events/{ref}",
        "[alerts]",
    ):
        assert words in text, words
    assert "without line detail <!channel>" in text  # plain text: as the provider wrote it
    [body] = receiver.bodies
    assert set(body) == {"text"}
    assert "Sage needs a new login" in body["text"]
    assert "-2.00 refunded without line detail &lt;!channel&gt;" in body["text"]  # no ping


def test_daily_digest_holds_dead_letters_and_attention(
    redis_url: str, smtp: SmtpRecorder, chat: tuple[Receiver, str]
) -> None:
    receiver, url = chat
    services = make(redis_url, smtp, url, BRIDGE_ALERT_DIGEST="daily")
    try:
        happen(services)
        queue = AlertQueue(services.redis)
        flush(queue, services.settings, channels(services.settings))
        # (a long subject is folded after "Subject:": unfolded, it keeps the fold's space)
        urgent = [r.message["Subject"].strip() for r in smtp.received]

        held = send_digest(
            queue,
            services.settings,
            channels(services.settings),
            lambda: "Open now: 1 failed event(s).",
        )
        nothing = send_digest(queue, services.settings, channels(services.settings), str)
    finally:
        services.close()

    assert urgent == [
        "[Sage Active Bridge] 2 alert(s): Sage is unavailable, Sage needs a new login"
    ]
    assert (held, nothing) == (2, 0)
    digest = smtp.received[1].message
    assert digest["Subject"].strip() == (
        "[Sage Active Bridge] daily digest: 2 alert(s). Open now: 1 failed event(s)."
    )
    assert "Event failed" in digest.get_content()
    assert len(receiver.bodies) == 2


def test_a_failing_channel_gets_its_alerts_later_the_other_not_twice(
    redis_url: str, smtp: SmtpRecorder, chat: tuple[Receiver, str]
) -> None:
    receiver, url = chat
    receiver.status = 503
    services = make(redis_url, smtp, url)
    try:
        services.attention.add(ITEM)
        queue = AlertQueue(services.redis)
        flush(queue, services.settings, channels(services.settings))
        assert (len(smtp.received), len(receiver.bodies)) == (1, 0)

        receiver.status = 200
        flush(queue, services.settings, channels(services.settings))
    finally:
        services.close()

    assert (len(smtp.received), len(receiver.bodies)) == (1, 1)
    assert "refunded without line detail" in receiver.bodies[0]["text"]


def test_nothing_is_queued_without_a_channel(redis_url: str) -> None:
    services = build_services(Settings(REDIS_URL=redis_url, BRIDGE_CONNECTION="quiet"))
    try:
        services.attention.add(ITEM)
        Alerts(services.settings, lambda: services.outbound, services.redis).sage_circuit(
            "closed", "open"
        )
        assert AlertQueue(services.redis).take() == []
    finally:
        services.close()
