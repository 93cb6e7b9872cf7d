"""Poll cycles against the sandbox over HTTP: what they see, emit and cost."""

from __future__ import annotations

import dataclasses
import threading
from datetime import timedelta

from bridge.poller.cycle import Poller, poll_once
from bridge.store.poller import PollerStore
from tests.support.poller_env import SALES_JOURNAL, Env

SHOP_REF = "shopify:demo.myshopify.com:1001"


def _poll_all(env: Env) -> Env:
    return dataclasses.replace(
        env, settings=env.settings.model_copy(update={"poll_all_invoices": True})
    )


def test_a_hand_settlement_is_collected_within_one_cycle(env: Env) -> None:
    # given a bridge invoice the poller already knows as Posted
    invoice_id = env.make_invoice(SHOP_REF)
    poller = Poller(env, env.sage)
    first = poller.cycle()
    assert first.changes == 1
    assert first.emitted == []  # the pipeline announces its own invoice.posted

    # when a person settles it in Sage
    env.settle_by_hand(invoice_id)
    report = poller.cycle()

    # then the next cycle emits invoice.collected, once
    assert env.event_types(report.emitted) == ["invoice.collected"]
    data = env.event_data(report.emitted[0])
    assert data["invoice_id"] == invoice_id
    assert data["order_reference"] == SHOP_REF
    assert data["status"] == "Collected"
    assert data["amount_due"] == "0.00"
    assert data["total"] == "12.00"  # 10.00 + 20 % VAT
    assert poller.cycle().emitted == []


def test_a_partial_settlement_carries_exact_amounts(env: Env) -> None:
    invoice_id = env.make_invoice(SHOP_REF, qty=3)  # 36.00 with VAT
    poller = Poller(env, env.sage)
    poller.cycle()

    env.settle_by_hand(invoice_id, "10.01")
    report = poller.cycle()

    assert env.event_types(report.emitted) == ["invoice.partially_collected"]
    data = env.event_data(report.emitted[0])
    assert data["amount_paid"] == "10.01"
    assert data["amount_due"] == "25.99"


def test_an_idle_cycle_costs_one_request_whatever_the_number_of_invoices(env: Env) -> None:
    # given 2,000 invoices in Sage, older than the overlap window, and a warm poller
    env.seed(2000)
    env.make_invoice(SHOP_REF)
    poller = Poller(_poll_all(env), env.sage)
    store = PollerStore(env.redis, env.settings)
    poller.cycle()  # first cycle: starts from now, history is not replayed
    watermark = store.watermark()
    assert watermark is not None
    store.advance(watermark + timedelta(seconds=5))  # time passes: all of it out of window

    # when nothing changes
    env.reset_stats()
    report = poller.cycle()

    # then the cycle is one request, and nothing is emitted
    assert env.requests() == 1
    assert report.fetched == 0
    assert report.emitted == []


def test_every_page_is_walked_and_the_watermark_follows(env: Env) -> None:
    # given five bridge invoices changed since the last cycle, read two per page
    poller = Poller(env, env.sage, page_size=2)
    poller.cycle()
    ids = [env.make_invoice(f"stripe:default:pi_{n}") for n in range(5)]
    for invoice_id in ids:
        env.settle_by_hand(invoice_id)

    # when one cycle runs
    env.reset_stats()
    report = poller.cycle()

    # then all five were collected, in three pages, and the watermark is the latest change
    assert env.event_types(report.emitted) == ["invoice.collected"] * 5
    assert {env.event_data(e)["invoice_id"] for e in report.emitted} == set(ids)
    assert env.requests() == 3
    latest = env.sage.invoice(ids[-1])
    assert latest is not None
    assert report.watermark == latest.modification_date


def test_the_overlap_window_is_read_again_but_handled_once(env: Env) -> None:
    invoice_id = env.make_invoice(SHOP_REF)
    poller = Poller(env, env.sage)
    poller.cycle()
    env.settle_by_hand(invoice_id)
    first = poller.cycle()

    second = poller.cycle()  # within the overlap: Sage returns it again

    assert len(first.emitted) == 1
    assert second.fetched >= 1
    assert second.changes == 0
    assert second.emitted == []


def test_by_default_only_the_bridge_invoices_are_watched(env: Env) -> None:
    poller = Poller(env, env.sage)
    poller.cycle()
    env.make_invoice("phone order 7")  # made by a person, posted by hand
    env.make_invoice(None)

    report = poller.cycle()

    assert report.fetched == 0


def test_watching_all_invoices_announces_those_posted_by_hand(env: Env) -> None:
    parts = _poll_all(env)
    poller = Poller(parts, env.sage)
    poller.cycle()
    invoice_id = env.make_invoice("phone order 7")

    report = poller.cycle()

    assert env.event_types(report.emitted) == ["invoice.posted"]
    assert env.event_data(report.emitted[0])["invoice_id"] == invoice_id


def test_a_credit_note_made_by_hand_credits_its_invoice(env: Env) -> None:
    # given a bridge invoice the poller has never seen, credited in Sage by a person
    poller = Poller(env, env.sage)
    poller.cycle()
    invoice_id = env.make_invoice(SHOP_REF, qty=2)
    note_id = env.sage.generate_credit_note(invoice_id)  # Sage copies the salesOrderNumber
    env.sage.close_and_post(note_id, SALES_JOURNAL, "Credit note")

    report = poller.cycle()

    credited = [e for e in report.emitted if env.outbound.event(e).type == "invoice.credited"]
    assert len(credited) == 1
    data = env.event_data(credited[0])
    assert data["invoice_id"] == invoice_id
    assert data["credit_note_id"] == note_id
    assert data["credited_amount"] == "24.00"


def test_only_one_poller_runs_at_a_time(env: Env) -> None:
    store = PollerStore(env.redis, env.settings)
    token = store.acquire(30)
    assert token is not None

    assert poll_once(env, env.sage) is None  # another poller holds the lease
    assert store.release("not-the-owner") is False

    assert store.release(token) is True
    report = poll_once(env, env.sage)
    assert report is not None
    assert store.acquire(30) is not None  # poll_once released its own lock


def test_two_pollers_at_once_run_one_cycle(env: Env) -> None:
    # given a slow Sage, so that two cycles started together overlap in time
    poller = Poller(env, env.sage)
    poller.cycle()  # warm: token and watermark in place
    env.control.post("/_sandbox/faults", json={"latency_ms": 500}).raise_for_status()
    results: list[object] = []
    try:
        threads = [
            threading.Thread(target=lambda: results.append(poll_once(env, env.sage)))
            for _ in range(2)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    finally:
        env.control.delete("/_sandbox/faults").raise_for_status()

    # then one of them ran, the other found the lock held
    assert len(results) == 2
    assert sum(r is None for r in results) == 1


def test_a_change_made_while_a_worker_holds_the_order_waits_for_the_next_cycle(
    env: Env,
) -> None:
    """The worker announces its own changes in order (payment.settled before
    invoice.collected): the poller does not announce them in the middle of its work."""
    from bridge.sync.locks import OrderLock

    invoice_id = env.make_invoice(SHOP_REF)
    poller = Poller(env, env.sage)
    poller.cycle()
    lock = OrderLock(env.redis, env.settings.key("lock", "order", SHOP_REF))
    with lock:  # a worker is settling this order's payment
        env.settle_by_hand(invoice_id)
        assert poller.cycle().emitted == []
    report = poller.cycle()  # the worker left it as it was (a hand settlement): announced
    assert env.event_types(report.emitted) == ["invoice.collected"]
