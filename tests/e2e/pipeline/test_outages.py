"""Sage outages wait, nothing is dead-lettered, and everything completes by itself after;
bulk replay of dead letters. A real worker and beat, the sandbox over HTTP, real Redis."""

from __future__ import annotations

import copy
import json
import os
import time
from typing import Any

import pytest
from click.testing import CliRunner

from bridge.cli import main
from bridge.ops.gates import GATE_AUTH, GATE_CIRCUIT, sage_status
from bridge.outbound.events import EventType
from bridge.services import build_services
from bridge.sync.dispatch import run_event
from tests.support.pipeline import SHOP, payload, sandbox_settings
from tests.support.rig import ADMIN_TOKEN, Rig

ORDER = "orders-create-001-ttc-single-mug"  # 19.80 EUR
TX = "order-transactions-create-001-sale-shopify-payments"
BASE_ORDER = 5_920_000_000_000
BASE_TX = 7_220_000_000_000
FAST_GATES = {"BRIDGE_SAGE_PROBE_INTERVAL": "1"}
# How long Sage refuses the token / answers 503 at least (seconds). The suite keeps them
# short (held events spend no attempts, so length changes nothing); the lengths:
#   BRIDGE_TEST_OUTAGE_SECONDS=60 pytest --timeout 600 tests/e2e/pipeline/test_outages.py -k token
#   BRIDGE_TEST_OUTAGE_SECONDS=300 pytest --timeout 900 tests/e2e/pipeline/test_outages.py -k 503
OUTAGE_SECONDS = float(os.environ.get("BRIDGE_TEST_OUTAGE_SECONDS", "0"))


def order(n: int, **changes: Any) -> dict[str, Any]:
    body = copy.deepcopy(payload("shopify", ORDER))
    body.update(id=BASE_ORDER + n, name=f"#O{n}", order_number=60_000 + n, **changes)
    return body


def transaction(n: int) -> dict[str, Any]:
    body = copy.deepcopy(payload("shopify", TX))
    body.update(id=BASE_TX + n, order_id=BASE_ORDER + n, amount="19.80")
    body.pop("amount_set", None)
    return body


def reference(n: int) -> str:
    return f"shopify:{SHOP}:{BASE_ORDER + n}"


def send_orders(rig: Rig, numbers: range) -> list[str]:
    refs: list[str] = []
    for n in numbers:
        refs.append(rig.send("orders/create", order(n)))
        refs.append(rig.send("order_transactions/create", transaction(n)))
    return refs


def settled(rig: Rig) -> bool:
    """Nothing runs or waits to run: every event is processed, failed or parked."""
    counts = rig.services.events.counts()
    lengths = rig.services.events.queue_lengths()
    return counts["queued"] == counts["processing"] == lengths["outbox"] == 0


def collected(rig: Rig, numbers: range) -> bool:
    links = [rig.services.links.order(reference(n)) for n in numbers]
    return all(link is not None and link.status == "Collected" for link in links)


def outbound_events_of(rig: Rig, kind: EventType) -> list[dict[str, Any]]:
    found = []
    for key in rig.services.redis.scan_iter(rig.services.settings.key("outbound", "event", "*")):
        record = json.loads(rig.services.redis.get(key) or "{}")
        if record.get("type") == kind.value:
            found.append(record)
    return found


def test_token_refused_during_a_stream_of_100_orders(rig: Rig) -> None:
    env = {**rig.worker_env, **FAST_GATES}
    rig.start_worker(pool="threads", concurrency=4, **env)  # its gate probe: no beat needed
    refs = send_orders(rig, range(20))
    rig.wait_for(lambda: collected(rig, range(3)), timeout=120, what="the first orders")

    # Sage refuses the tokens: revoked access token, every refresh grant invalid_grant.
    rig.control.auth(refuse_grants=True, revoke_access=True)
    refused_until = time.monotonic() + OUTAGE_SECONDS
    refs += send_orders(rig, range(20, 100))

    def waiting() -> bool:
        status = sage_status(rig.services.redis, rig.services.settings)
        return status.needs_login is not None and settled(rig) and status.held[GATE_AUTH] > 0

    rig.wait_for(waiting, timeout=180, what="every event processed or waiting at the gate")
    assert rig.services.events.counts()["failed"] == 0
    held = sage_status(rig.services.redis, rig.services.settings).held[GATE_AUTH]
    assert held > 0
    while time.monotonic() < refused_until:  # a longer refusal, when asked: nothing fails
        time.sleep(min(10.0, max(0.0, refused_until - time.monotonic())))
        assert rig.services.events.counts()["failed"] == 0

    rig.control.auth(refuse_grants=False)  # the token works again
    rig.wait_for(lambda: collected(rig, range(100)), timeout=240, what="100 orders Collected")
    rig.wait_for(
        lambda: all(rig.event_status(r) == "processed" for r in refs),
        timeout=60,
        what="every event processed",
    )
    counts = rig.services.events.counts()
    assert counts["failed"] == 0
    assert counts["processed"] == 200
    assert sage_status(rig.services.redis, rig.services.settings).needs_login is None
    [alert] = outbound_events_of(rig, EventType.CONNECTION_AUTH_FAILED)  # exactly one
    assert "invalid_grant" in alert["body"]
    # the books: one invoice per order, Collected, read from Sage itself
    assert rig.wait_status(reference(99), "Collected").total_liquid is not None


def test_sage_503_for_a_long_stretch_then_back(rig: Rig) -> None:
    env = {
        **rig.worker_env,
        **FAST_GATES,
        "SAGE_CIRCUIT_THRESHOLD": "5",
        "SAGE_CIRCUIT_COOLDOWN": "2",
        "SAGE_MAX_RETRIES": "1",
    }
    rig.start_worker(pool="threads", concurrency=4, **env)
    rig.control.faults(error_rate=1.0, error_status=503)  # every GraphQL request
    down_until = time.monotonic() + OUTAGE_SECONDS
    refs = send_orders(rig, range(100))

    def waiting() -> bool:
        status = sage_status(rig.services.redis, rig.services.settings)
        return status.circuit.opened_count > 0 and settled(rig) and status.held[GATE_CIRCUIT] > 0

    rig.wait_for(waiting, timeout=180, what="every event waiting at the open circuit")
    quiet = rig.control.stats()["by_status"].get("503", 0)
    # the outage goes on: probes (one per cool-down) keep failing, nothing is dead-lettered
    rig.wait_for(
        lambda: rig.control.stats()["by_status"].get("503", 0) >= quiet + 3,
        timeout=120,
        what="three more failed probes",
    )
    assert rig.services.events.counts()["failed"] == 0
    while time.monotonic() < down_until:  # a longer outage, when asked: still nothing fails
        time.sleep(min(10.0, max(0.0, down_until - time.monotonic())))
        assert rig.services.events.counts()["failed"] == 0

    rig.control.clear_faults()  # Sage is back
    rig.wait_for(lambda: collected(rig, range(100)), timeout=240, what="100 orders Collected")
    rig.wait_for(
        lambda: all(rig.event_status(r) == "processed" for r in refs),
        timeout=60,
        what="every event processed",
    )
    assert rig.services.events.counts()["failed"] == 0
    status = sage_status(rig.services.redis, rig.services.settings)
    assert status.circuit.state == "closed"
    assert status.held == {GATE_AUTH: 0, GATE_CIRCUIT: 0}


def test_bulk_replay_of_500_failed_events(
    rig: Rig, redis_url: str, sandbox_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 500 cancelled orders (booked without a Sage call) fail in a USD-only configuration.
    refs = [
        rig.send("orders/create", order(n, cancelled_at="2026-11-20T10:00:00Z")) for n in range(500)
    ]
    usd = build_services(
        sandbox_settings(
            redis_url, sandbox_url, BRIDGE_CONNECTION="default", BRIDGE_SHOP_CURRENCY="USD"
        )
    )
    try:
        for ref in refs:
            assert run_event(usd, ref, "usd").status == "failed"
    finally:
        usd.close()
    rig.services.redis.delete(rig.services.events.outbox_key)  # their first hand-off: done
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}

    bad = rig.client.post("/admin/events/replay", json={"status": "processed"}, headers=headers)
    assert bad.status_code == 400
    bad = rig.client.post("/admin/events/replay", json={"since": "yesterday"}, headers=headers)
    assert bad.status_code == 400
    dry = rig.client.post(
        "/admin/events/replay",
        json={"status": "failed", "topic": "orders/create", "dry_run": True},
        headers=headers,
    )
    assert (dry.status_code, dry.get_json()) == (
        200,
        {"matched": 500, "queued": 0, "dry_run": True},
    )
    assert rig.services.events.counts()["failed"] == 500

    first = rig.client.post(
        "/admin/events/replay", json={"status": "failed", "provider": "shopify"}, headers=headers
    )
    assert (first.status_code, first.get_json()["queued"]) == (202, 500)
    again = rig.client.post("/admin/events/replay", json={"status": "failed"}, headers=headers)
    assert again.get_json()["queued"] == 0  # already queued: nothing twice
    assert rig.services.events.queue_lengths()["outbox"] == 500

    rig.worker(concurrency=4)
    rig.wait_for(
        lambda: rig.services.events.counts()["processed"] == 500,
        timeout=180,
        what="500 replayed events processed",
    )
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("BRIDGE_CONNECTION", "default")
    result = CliRunner().invoke(main, ["replay", "--status", "failed"])
    assert result.exit_code == 0, result.output
    assert "0 failed events match; queued 0" in result.output
    assert rig.services.events.counts()["failed"] == 0
