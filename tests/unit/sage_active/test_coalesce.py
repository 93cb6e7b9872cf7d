"""Coalescing concurrent calls into one aliased document, on a scripted Sage."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import pytest
import redis

from connectors.sage_active.batch import Operation
from connectors.sage_active.client import MAX_BATCH_SIZE, SageClient
from connectors.sage_active.coalesce import Coalescer, Result
from connectors.sage_active.errors import (
    SageBusinessError,
    SageError,
    SageInvalidRequest,
    SageTransientError,
)
from connectors.sage_active.models import (
    SalesInvoiceInput,
    SalesInvoiceLineInput,
    SettlementInput,
    SettlementLine,
)
from connectors.sage_active.operations import SageActive

from .fakes import FakeSage, make_config, ok

_ALIAS = re.compile(r"(op\d+): (\w+)\(")


@pytest.fixture
def fake() -> FakeSage:
    return FakeSage()


@pytest.fixture
def sage(fake: FakeSage, redis_client: redis.Redis) -> Iterator[SageActive]:
    with SageClient(make_config(), redis_client, transport=fake.transport()) as client:
        yield SageActive(client)


def _window_of(sage: SageActive, calls: int, ops_each: int) -> None:
    """A long window that closes as soon as `calls` callers are in: deterministic."""
    sage.coalescer = Coalescer(
        sage.client.execute_batch,
        window=5.0,
        max_cost=sage.client.config.max_batch_cost,
        max_size=calls * ops_each,
    )


def _concurrently(*calls: Callable[[], Any]) -> list[Any]:
    """Run each call in its own thread; return its result or the exception it raised."""

    def outcome(call: Callable[[], Any]) -> Any:
        try:
            return call()
        except SageError as err:
            return err

    with ThreadPoolExecutor(len(calls)) as pool:
        futures = [pool.submit(outcome, call) for call in calls]
        return [future.result(timeout=10) for future in futures]


def _closes_and_posts(fail_post_of: str | None = None) -> Callable[..., httpx.Response]:
    """Answers any number of aliased close / post mutations, each for its own invoice."""

    def respond(payload: dict[str, Any], _r: httpx.Request) -> httpx.Response:
        data: dict[str, Any] = {}
        errors: list[dict[str, Any]] = []
        for alias, field in _ALIAS.findall(payload["query"]):
            invoice = payload["variables"][f"{alias}_input"]["salesInvoiceId"]
            if field == "closeSalesInvoice":
                data[alias] = {"id": invoice, "operationalNumber": f"N-{invoice}"}
            elif invoice == fail_post_of:
                data[alias] = None
                errors.append({"message": "global.businessErrors.journalNotFound", "path": [alias]})
            else:
                data[alias] = {"accountingEntryId": f"E-{invoice}"}
        return httpx.Response(200, json={"data": data, "errors": errors or None})

    return respond


def test_two_concurrent_close_and_post_share_one_request(sage: SageActive, fake: FakeSage) -> None:
    _window_of(sage, calls=2, ops_each=2)
    fake.default = _closes_and_posts()

    a, b = _concurrently(
        lambda: sage.close_and_post("inv-a", "j1", "A"),
        lambda: sage.close_and_post("inv-b", "j1", "B"),
    )

    assert len(fake.graphql) == 1
    query = json.loads(fake.graphql[0].content)["query"]
    assert [field for _, field in _ALIAS.findall(query)] == [
        "closeSalesInvoice",
        "postSalesInvoice",
        "closeSalesInvoice",
        "postSalesInvoice",
    ]
    assert (a.closed.operational_number, a.posted.accounting_entry_id) == ("N-inv-a", "E-inv-a")
    assert (b.closed.operational_number, b.posted.accounting_entry_id) == ("N-inv-b", "E-inv-b")


def test_a_refused_alias_fails_only_its_own_caller(sage: SageActive, fake: FakeSage) -> None:
    _window_of(sage, calls=2, ops_each=2)
    fake.default = _closes_and_posts(fail_post_of="inv-b")

    a, b = _concurrently(
        lambda: sage.close_and_post("inv-a", "j1", "A"),
        lambda: sage.close_and_post("inv-b", "j1", "B"),
    )

    assert len(fake.graphql) == 1
    assert a.posted.accounting_entry_id == "E-inv-a"
    assert isinstance(b, SageBusinessError)
    assert b.keys == ["global.businessErrors.journalNotFound"]


def test_a_failed_request_reaches_every_caller_with_maybe_committed(
    sage: SageActive, fake: FakeSage
) -> None:
    _window_of(sage, calls=2, ops_each=2)
    fake.default = lambda _p, _r: httpx.Response(500, text="boom")

    a, b = _concurrently(
        lambda: sage.close_and_post("inv-a", "j1", "A"),
        lambda: sage.close_and_post("inv-b", "j1", "B"),
    )

    assert len(fake.graphql) == 1  # a mutation after a 500 may have run: never resent
    for err in (a, b):
        assert isinstance(err, SageTransientError)
        assert err.maybe_committed is True


def test_a_document_refused_unrun_is_resent_caller_by_caller(
    sage: SageActive, fake: FakeSage
) -> None:
    # given a Sage that refuses (HTTP 400, nothing run) any document with a malformed id
    _window_of(sage, calls=2, ops_each=2)
    posts = _closes_and_posts()

    def respond(payload: dict[str, Any], request: httpx.Request) -> httpx.Response:
        if "not-a-uuid" in json.dumps(payload["variables"]):
            return httpx.Response(400, json={"errors": [{"message": "UUID cannot represent"}]})
        return posts(payload, request)

    fake.default = respond

    # when a good and a bad caller meet in one window
    good, bad = _concurrently(
        lambda: sage.close_and_post("inv-a", "j1", "A"),
        lambda: sage.close_and_post("not-a-uuid", "j1", "B"),
    )

    # then the shared request and one request per caller were sent; only the bad one fails
    assert len(fake.graphql) == 3
    assert good.posted.accounting_entry_id == "E-inv-a"
    assert isinstance(bad, SageInvalidRequest)
    assert bad.status == 400


def test_concurrent_open_items_share_one_query(sage: SageActive, fake: FakeSage) -> None:
    _window_of(sage, calls=2, ops_each=1)

    def respond(payload: dict[str, Any], _r: httpx.Request) -> httpx.Response:
        data = {}
        for alias, _field in _ALIAS.findall(payload["query"]):
            invoice = payload["variables"][f"{alias}_where"]["id"]["eq"]
            item = {"id": f"oi-{invoice}", "amount": "12.34", "paidAmountAccumulated": "0"}
            data[alias] = {"nodes": [{"id": invoice, "openItems": [item]}]}
        return ok(data)

    fake.default = respond

    a, b = _concurrently(lambda: sage.open_items("inv-a"), lambda: sage.open_items("inv-b"))

    assert len(fake.graphql) == 1
    assert json.loads(fake.graphql[0].content)["query"].startswith("query Batch(")
    assert [i.id for i in a] == ["oi-inv-a"]
    assert [i.id for i in b] == ["oi-inv-b"]
    assert a[0].amount == Decimal("12.34")


def _op(n: int) -> Operation:
    return Operation("postSalesInvoice", "id", {"input": ("In!", {"n": n})})


class _Recorder:
    """A `run_batch` that records each batch and answers each op with its own `n`;
    a batch holding op `fail_on` fails as a whole."""

    def __init__(self, fail_on: int | None = None) -> None:
        self.batches: list[list[int]] = []
        self.fail_on = fail_on

    def __call__(self, ops: Sequence[Operation]) -> list[Result]:
        numbers = [op.arguments["input"][1]["n"] for op in ops]
        self.batches.append(numbers)
        if self.fail_on in numbers:
            raise SageTransientError("down", maybe_committed=True)
        return [{"n": n} for n in numbers]


def test_callers_in_one_window_share_one_request() -> None:
    # given three callers of two ops each and a window that closes at six ops
    run = _Recorder()
    coalescer = Coalescer(run, window=5.0, max_cost=10_000, max_size=6)

    # when they arrive together
    out = _concurrently(
        lambda: coalescer.submit([_op(1), _op(2)]),
        lambda: coalescer.submit([_op(3), _op(4)]),
        lambda: coalescer.submit([_op(5), _op(6)]),
    )

    # then one request carried them all and each caller got its own results
    assert len(run.batches) == 1
    assert sorted(run.batches[0]) == [1, 2, 3, 4, 5, 6]
    assert out == [[{"n": 1}, {"n": 2}], [{"n": 3}, {"n": 4}], [{"n": 5}, {"n": 6}]]


def test_callers_are_packed_whole_and_a_failed_request_hides_no_other() -> None:
    # given a cost budget of two ops per request, and the request carrying op 2 failing
    run = _Recorder(fail_on=2)
    coalescer = Coalescer(run, window=5.0, max_cost=2 * _op(0).estimated_cost(), max_size=4)

    # when three callers (one, two and one op) arrive together
    one, two, four = _concurrently(
        lambda: coalescer.submit([_op(1)]),
        lambda: coalescer.submit([_op(2), _op(3)]),
        lambda: coalescer.submit([_op(4)]),
    )

    # then no request went over budget and the two-op caller was never split
    assert all(len(batch) <= 2 for batch in run.batches)
    assert [2, 3] in run.batches
    assert sorted(n for batch in run.batches for n in batch) == [1, 2, 3, 4]
    # and only the failed request's caller saw its error; the others got their results
    assert isinstance(two, SageTransientError)
    assert two.maybe_committed
    assert (one, four) == ([{"n": 1}], [{"n": 4}])


def test_window_zero_sends_each_call_alone_and_kinds_are_checked() -> None:
    run = _Recorder()
    coalescer = Coalescer(run, window=0, max_cost=10_000, max_size=MAX_BATCH_SIZE)
    assert coalescer.submit([_op(1)]) == [{"n": 1}]
    assert coalescer.submit([_op(2)]) == [{"n": 2}]
    assert run.batches == [[1], [2]]
    with pytest.raises(ValueError, match="one kind"):
        coalescer.submit([_op(1), Operation("taxes", "id", mutation=False)])
    with pytest.raises(ValueError, match="one kind"):
        coalescer.submit([])


def test_concurrent_creates_and_settlements_share_requests(
    sage: SageActive, fake: FakeSage
) -> None:
    _window_of(sage, calls=2, ops_each=1)

    def respond(payload: dict[str, Any], _r: httpx.Request) -> httpx.Response:
        data: dict[str, Any] = {}
        for alias, field in _ALIAS.findall(payload["query"]):
            given = payload["variables"][f"{alias}_input"]
            if field == "createSalesInvoice":
                data[alias] = {"id": f"inv-{given['salesOrderNumber']}", "status": "Pending"}
            else:
                data[alias] = {"accountingEntryId": f"E-{given['documentNumber']}"}
        return httpx.Response(200, json={"data": data})

    fake.default = respond

    def create(ref: str) -> Callable[[], Any]:
        line = SalesInvoiceLineInput(
            product_id="p1", total_quantity=Decimal(1), unit_price=Decimal(9)
        )
        values = SalesInvoiceInput(customer_id="c1", document_date=date(2026, 11, 23),
                                   sales_order_number=ref, lines=[line])  # fmt: skip
        return lambda: sage.create_invoice(values)

    def settle(number: str) -> Callable[[], Any]:
        values = SettlementInput(
            entry_date=date(2026, 11, 23), payment_method_id="pm", third_party_id="c1",
            document_number=number,
            lines=[SettlementLine(open_item_id="o1", paid_amount=Decimal("9.00"))],
        )  # fmt: skip
        return lambda: sage.settle(values)

    made = _concurrently(create("a"), create("b"))
    paid = _concurrently(settle("pi_a"), settle("pi_b"))

    assert len(fake.graphql) == 2  # one request per pair
    assert sorted(invoice.id for invoice in made) == ["inv-a", "inv-b"]
    assert sorted(s.accounting_entry_id for s in paid) == ["E-pi_a", "E-pi_b"]
    second = json.loads(fake.graphql[1].content)
    assert [f for _, f in _ALIAS.findall(second["query"])] == ["createSalesOpenItemSettlement"] * 2
