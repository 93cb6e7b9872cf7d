"""Exactly once through the batch writer: a lost answer to a batched document, and a worker
killed while its writer's batched document is in Sage."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from bridge.settings import SageSettings
from tests.support.pipeline import SHOP, payload
from tests.support.rig import Rig

HEARTBEAT_TTL = 6  # seconds: a killed worker is known dead this soon after its last beat
# The writer's default: this many documents go alone before the next steps gather in one.
IN_FLIGHT = int(SageSettings.model_fields["writer_in_flight"].default)
ORDERS = IN_FLIGHT + 3


def orders(first_id: int) -> list[tuple[str, dict[str, Any]]]:
    """`ORDERS` copies of order 001 (19.80) with their own ids and names."""
    made = []
    for n in range(ORDERS):
        body = copy.deepcopy(payload("shopify", "orders-create-001-ttc-single-mug"))
        body.update(id=first_id + n, name=f"#BW{first_id % 1000 + n}")
        made.append((f"shopify:{SHOP}:{body['id']}", body))
    return made


def invoices_of(rig: Rig, reference: str) -> list[Any]:
    documents = rig.services.sage.invoices_by_sales_order_number(reference)
    return [d for d in documents if d.type != "CREDIT_NOTE"]


def test_lost_answer_to_a_batched_create_books_each_order_once(rig: Rig) -> None:
    # given a slow create (the first IN_FLIGHT go alone, the others gather while they are
    # in Sage) whose answers, for the first IN_FLIGHT + 1 requests, are lost after Sage
    # committed them
    rig.control.faults(
        operations=["createSalesInvoice"],
        latency_ms=2000,
        drop_after_commit={"operations": ["createSalesInvoice"], "count": IN_FLIGHT + 1},
    )
    sent = orders(5930000000100)
    refs = [rig.send("orders/create", body) for _, body in sent]

    # when a worker takes them all at once
    rig.worker(concurrency=6)

    # then every order ends Posted, with one invoice each
    for reference, _ in sent:
        rig.wait_status(reference, "Posted", timeout=120)
    rig.wait_for(
        lambda: all(rig.event_status(r) == "processed" for r in refs), 60, "every order processed"
    )
    for reference, _ in sent:
        assert len(invoices_of(rig, reference)) == 1
    stats = rig.control.stats()
    # (how many requests carried them depends on how the steps gathered: on a busy machine
    # the writer may find several waiting at once)
    assert 1 <= stats["by_status"].get("502", 0) <= IN_FLIGHT + 1
    # and every order lost its answer in those requests: the last carried three creates
    for ref in refs:
        record = rig.services.events.get(ref)
        assert record is not None
        assert "retry" in [a.outcome for a in record.attempts], record.attempts
    assert stats["by_operation"]["createSalesInvoice"] == ORDERS  # none sent twice


@pytest.mark.timeout(300)
def test_worker_killed_while_a_batched_close_and_post_is_in_sage(
    rig: Rig, start_beat: Callable[..., None]
) -> None:
    # given a slow close+post: the first IN_FLIGHT go alone, the others gather into a
    # document that leaves when one comes back (the client waits longer than Sage takes)
    env = {
        **rig.worker_env,
        "BRIDGE_WORKER_HEARTBEAT_TTL": str(HEARTBEAT_TTL),
        "SAGE_TIMEOUT": "30",
    }
    start_beat(**env)
    # long enough that, on a busy machine too, the later orders reach their close while the
    # first ones are still out (else each goes alone and no document carries several)
    rig.control.faults(operations=["closeSalesInvoice"], latency_ms=8000)
    sent = orders(5930000000200)
    refs = [rig.send("orders/create", body) for _, body in sent]
    first = rig.start_worker(pool="threads", concurrency=6, **env)
    writer = rig.services.sage.writer
    inflight_key = writer.keys().inflight

    def batch_in_sage() -> bool:  # more closes in Sage than requests: one carries several
        stats = rig.control.stats()
        in_sage = stats["in_flight"].get("closeSalesInvoice", 0)
        return in_sage > stats["requests_in_flight"] and rig.services.redis.hlen(inflight_key) > 1

    # when the worker is killed while Sage works on a document of several close+posts
    rig.wait_for(batch_in_sage, 120, "a batched close+post in Sage")
    first.kill()
    rig.control.clear_faults()

    # then a new worker, given the events back by the sweep, finishes every order once
    rig.start_worker(pool="threads", concurrency=4, **env)
    rig.wait_for(lambda: all(rig.event_status(r) == "processed" for r in refs), 90, "recovery")
    for reference, _ in sent:
        link = rig.services.links.order(reference)
        assert link is not None
        assert link.status == "Posted"
        assert not link.intents
        assert [i.status for i in invoices_of(rig, reference)] == ["Posted"]
    # and the dead writer's steps were answered "outcome unknown" by the new one
    rig.wait_for(
        lambda: rig.services.redis.hlen(inflight_key) == 0, 60, "the orphaned steps answered"
    )
