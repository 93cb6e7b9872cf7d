"""`bridge.poller.status.observe`: transitions, exactly-once emission, stale news, credit notes."""

from __future__ import annotations

import json
import threading
from decimal import Decimal

import pytest

from bridge.outbound.events import EventType
from bridge.poller.status import (
    UnknownSourceInvoice,
    event_key,
    flush_pending,
    invoice_state,
    observe,
)
from bridge.store.poller import PendingEvent, StatusStore
from tests.support.poller_parts import Parts, invoice


def _types(parts: Parts, ids: list[str]) -> list[str]:
    return [parts.outbound.event(i).type.value for i in ids]


def _data(parts: Parts, event_id: str) -> dict[str, object]:
    body: dict[str, dict[str, object]] = json.loads(parts.outbound.event(event_id).body)
    return body["data"]


def test_hand_made_invoice_posted_then_partly_then_fully_collected(parts: Parts) -> None:
    # given an invoice made in Sage by a person, seen as it moves on
    assert observe(parts, invoice("Pending", minutes=0)) == []
    posted = observe(parts, invoice("Posted", minutes=1))
    partial = observe(parts, invoice("PartiallyCollected", minutes=2, paid="20.00"))
    collected = observe(parts, invoice("Collected", minutes=3))

    # then each transition emitted its event once, with amounts as strings
    assert _types(parts, posted) == ["invoice.posted"]
    assert _types(parts, partial) == ["invoice.partially_collected"]
    assert _types(parts, collected) == ["invoice.collected"]
    data = _data(parts, partial[0])
    assert data["amount_paid"] == "20.00"
    assert data["amount_due"] == "100.00"
    assert data["total"] == "120.00"
    assert data["currency"] == "EUR"
    assert _data(parts, collected[0])["amount_due"] == "0.00"


def test_same_news_twice_emits_nothing_the_second_time(parts: Parts) -> None:
    first = observe(parts, invoice("Collected", minutes=5))
    again = observe(parts, invoice("Collected", minutes=5))
    assert _types(parts, first) == ["invoice.collected"]
    assert again == []


def test_bridge_invoices_do_not_get_posted_from_here(parts: Parts) -> None:
    # the pipeline emits invoice.posted itself for the invoices it made
    ref = "shopify:demo.myshopify.com:1001"
    assert observe(parts, invoice("Posted", minutes=1, ref=ref)) == []
    collected = observe(parts, invoice("Collected", minutes=2, ref=ref))
    assert _types(parts, collected) == ["invoice.collected"]
    assert _data(parts, collected[0])["order_reference"] == ref


def test_posted_and_paid_between_two_looks_emits_both(parts: Parts) -> None:
    observe(parts, invoice("Closed", minutes=0))
    ids = observe(parts, invoice("Collected", minutes=4))
    assert _types(parts, ids) == ["invoice.posted", "invoice.collected"]


def test_first_seen_already_collected_is_not_announced_as_posted(parts: Parts) -> None:
    ids = observe(parts, invoice("Collected", minutes=4))
    assert _types(parts, ids) == ["invoice.collected"]


def test_older_news_is_ignored(parts: Parts) -> None:
    observe(parts, invoice("Collected", minutes=10))
    assert observe(parts, invoice("PartiallyCollected", minutes=9, paid="1")) == []
    assert StatusStore(parts.redis, parts.settings).read("inv-1")[0] == "Collected"


def test_news_without_a_date_never_moves_the_status_back(parts: Parts) -> None:
    observe(parts, invoice("Collected", minutes=10))
    assert observe(parts, invoice("Posted", minutes=None)) == []
    # but a dated later change may (a settlement removed in Sage), silently
    assert observe(parts, invoice("Posted", minutes=11)) == []
    assert StatusStore(parts.redis, parts.settings).read("inv-1")[0] == "Posted"


def test_partial_without_open_items_is_refused_and_changes_nothing(parts: Parts) -> None:
    with pytest.raises(ValueError, match="openItems"):
        observe(parts, invoice("PartiallyCollected", minutes=1))
    assert StatusStore(parts.redis, parts.settings).read("inv-1") == ("", "")


def test_concurrent_observers_emit_each_transition_once(parts: Parts) -> None:
    # given twenty threads told the same news at once
    results: list[list[str]] = []
    lock = threading.Lock()

    def look() -> None:
        found = observe(parts, invoice("Collected", minutes=3))
        with lock:
            results.append(found)

    threads = [threading.Thread(target=look) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    # then exactly one of them emitted, exactly one event
    emitted = [ids for ids in results if ids]
    assert len(results) == 20
    assert len(emitted) == 1
    assert _types(parts, emitted[0]) == ["invoice.collected"]


def test_hand_made_credit_note_credits_its_source(parts: Parts) -> None:
    observe(parts, invoice("Posted", minutes=1))
    note = invoice(
        "Pending",
        id_="cn-1",
        minutes=2,
        total="-30.00",
        type="CREDIT_NOTE",
        source_sales_invoice_id="inv-1",
    )
    assert observe(parts, note) == []  # a draft is not a credit yet
    ids = observe(parts, note.model_copy(update={"status": "Posted", "operational_number": "AV1"}))
    assert _types(parts, ids) == ["invoice.credited"]
    data = _data(parts, ids[0])
    assert data["invoice_id"] == "inv-1"
    assert data["credit_note_id"] == "cn-1"
    assert data["credit_note_number"] == "AV1"
    assert data["credited_amount"] == "30.00"


def test_bridge_credit_notes_are_left_to_the_pipeline(parts: Parts) -> None:
    observe(parts, invoice("Posted", minutes=1, ref="stripe:default:ch_1"))
    note = invoice(
        "Posted",
        id_="cn-2",
        minutes=2,
        ref="stripe:default:ch_1:refund:re_1",
        total="-10.00",
        type="CREDIT_NOTE",
        source_sales_invoice_id="inv-1",
    )
    assert observe(parts, note) == []


def test_credit_note_of_an_unknown_source_is_refused(parts: Parts) -> None:
    note = invoice(
        "Posted", id_="cn-3", minutes=2, type="CREDIT_NOTE", source_sales_invoice_id="inv-x"
    )
    with pytest.raises(UnknownSourceInvoice):
        observe(parts, note)
    assert StatusStore(parts.redis, parts.settings).read("cn-3") == ("", "")


def test_an_event_queued_by_a_dead_process_is_emitted_once(parts: Parts) -> None:
    # given a status change recorded with its event, and the process gone before emitting
    store = StatusStore(parts.redis, parts.settings)
    state = invoice_state(invoice("Collected", minutes=3))
    key = event_key(EventType.INVOICE_COLLECTED, "inv-1", state.modification_date)
    data = '{"invoice_id":"inv-1","status":"Collected","total":"120.00","currency":"EUR",'
    data += '"amount_paid":"120.00","amount_due":"0"}'
    pending = PendingEvent(key=key, type=EventType.INVOICE_COLLECTED, data=data)
    assert store.compare_and_set(("", ""), state, [pending])

    # when the next observer flushes, twice
    first = flush_pending(parts)
    second = flush_pending(parts)

    # then it went out once, and the same news observed again adds nothing
    assert _types(parts, first) == ["invoice.collected"]
    assert second == []
    assert observe(parts, invoice("Collected", minutes=3)) == []


def test_replaying_an_emitted_event_gives_the_same_event(parts: Parts) -> None:
    # given an event already emitted, queued again (a process died after emitting it)
    ids = observe(parts, invoice("Collected", minutes=3))
    store = StatusStore(parts.redis, parts.settings)
    event = parts.outbound.event(ids[0])
    data = json.dumps(json.loads(event.body)["data"])
    key = event_key(EventType.INVOICE_COLLECTED, "inv-1", store.read("inv-1")[1])
    state = store.state("inv-1")
    assert state is not None
    assert store.compare_and_set(
        store.read("inv-1"),
        state,
        [PendingEvent(key=key, type=EventType.INVOICE_COLLECTED, data=data)],
    )

    # when it is flushed, then Outbound knows it already: same id, nothing new
    assert flush_pending(parts) == ids
    assert store.pending() == []


def test_state_keeps_money_exact(parts: Parts) -> None:
    state = invoice_state(invoice("PartiallyCollected", total="0.30", paid="0.10"))
    assert state.amount_due == Decimal("0.20")
    assert isinstance(state.amount_paid, Decimal)
