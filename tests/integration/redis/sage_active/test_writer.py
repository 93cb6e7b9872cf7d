"""The batch writer on a scripted Sage and a real Redis: sharing, failures, dead writers."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import httpx
import pytest
import redis

from connectors.sage_active import jsonenc
from connectors.sage_active.batch import Operation
from connectors.sage_active.client import SageClient
from connectors.sage_active.errors import (
    ErrorDetail,
    SageAuthError,
    SageBusinessError,
    SageCircuitOpen,
    SageComplexityError,
    SageError,
    SageInvalidRequest,
    SageRateLimited,
    SageTransientError,
)
from connectors.sage_active.steps import Result, decode_result, encode_result
from connectors.sage_active.writer import SageWriter
from tests.support.sage_fakes import FakeSage, make_config

ALIAS = re.compile(r"(op\d+): createThing")
WAIT = 30.0  # generous: a busy machine must not fail these


def _op(name: str) -> Operation:
    return Operation("createThing", "id", {"input": ("ThingInput!", {"name": name})})


def _answer(payload: dict[str, Any], _request: httpx.Request) -> httpx.Response:
    """Each alias gets its input's name back; a name "bad" is refused, that alias only."""
    data: dict[str, Any] = {}
    errors: list[dict[str, Any]] = []
    for alias in ALIAS.findall(payload["query"]):
        name = payload["variables"][f"{alias}_input"]["name"]
        if name == "bad":
            data[alias] = None
            errors.append({"message": "thing.invalidName", "path": [alias]})
        else:
            data[alias] = {"id": name}
    body: dict[str, Any] = {"data": data}
    if errors:
        body["errors"] = errors
    return httpx.Response(200, json=body)


def _wait_until(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


@pytest.fixture
def fake() -> FakeSage:
    return FakeSage()


@pytest.fixture
def make_writer(fake: FakeSage, redis_client: redis.Redis) -> Iterator[Callable[..., SageWriter]]:
    clients: list[SageClient] = []

    def make(**overrides: Any) -> SageWriter:
        client = SageClient(make_config(**overrides), redis_client, transport=fake.transport())
        clients.append(client)
        return SageWriter(client)

    yield make
    for client in clients:
        client.close()


def _held_first_request(fake: FakeSage) -> threading.Event:
    """The first request waits for the returned event before answering: meanwhile other
    steps gather in Redis, as they do while a request is in flight."""
    release = threading.Event()

    def held(payload: dict[str, Any], request: httpx.Request) -> httpx.Response:
        assert release.wait(WAIT)
        return _answer(payload, request)

    fake.responders = [held]
    return release


def _submit_while_first_in_flight(
    writer: SageWriter, fake: FakeSage, names: list[str]
) -> tuple[list[Result], list[Future[list[Result]]]]:
    release = _held_first_request(fake)
    with ThreadPoolExecutor(len(names) + 1) as pool:
        first = pool.submit(writer.submit, [_op("first")], "first")
        _wait_until(lambda: len(fake.graphql) == 1, "the first request in flight")
        others = [pool.submit(writer.submit, [_op(n)], n) for n in names]
        _wait_until(lambda: writer.pending() == len(names), "the other steps pending")
        release.set()
        return first.result(WAIT), others


def test_steps_sent_while_a_request_is_in_flight_share_the_next_document(
    make_writer: Callable[..., SageWriter], fake: FakeSage
) -> None:
    # given a writer with one document out at a time, and three steps submitted while the
    # first step's request is in Sage
    fake.default = _answer
    writer = make_writer(writer_in_flight=1)
    first, others = _submit_while_first_in_flight(writer, fake, ["a", "bad", "c"])

    # then the three went in one document, each with its own alias
    assert first == [{"id": "first"}]
    assert len(fake.graphql) == 2
    assert len(ALIAS.findall(json.loads(fake.graphql[1].content)["query"])) == 3
    # and the refused alias fails its own step only
    a, bad, c = (f.result(WAIT) for f in others)
    assert a == [{"id": "a"}]
    assert c == [{"id": "c"}]
    [error] = bad
    assert isinstance(error, SageBusinessError)
    assert error.keys == ["thing.invalidName"]
    # and nothing is left in Redis but the lease
    keys = writer.keys()
    assert writer.pending() == 0
    assert redis_len(writer, keys.ops) == redis_len(writer, keys.inflight) == 0


def test_up_to_writer_in_flight_documents_are_out_at_once_then_steps_gather(
    make_writer: Callable[..., SageWriter], fake: FakeSage
) -> None:
    # given a writer allowed two documents out at once, and Sage holding every answer
    release = threading.Event()

    def held(payload: dict[str, Any], request: httpx.Request) -> httpx.Response:
        assert release.wait(WAIT)
        return _answer(payload, request)

    fake.default = held
    writer = make_writer(writer_in_flight=2)
    with ThreadPoolExecutor(4) as pool:
        # when a step is submitted, then another while the first is out
        first = pool.submit(writer.submit, [_op("first")], "first")
        _wait_until(lambda: len(fake.graphql) == 1, "the first document out")
        second = pool.submit(writer.submit, [_op("second")], "second")

        # then the second leaves at once, in its own document (no waiting for the first)
        _wait_until(lambda: len(fake.graphql) == 2, "the second document out")
        # and with both out, the next steps wait in Redis and gather
        others = [pool.submit(writer.submit, [_op(n)], n) for n in ("a", "b")]
        _wait_until(lambda: writer.pending() == 2, "the next steps pending")
        assert len(fake.graphql) == 2
        release.set()
        assert first.result(WAIT) == [{"id": "first"}]
        assert second.result(WAIT) == [{"id": "second"}]
        assert [f.result(WAIT) for f in others] == [[{"id": "a"}], [{"id": "b"}]]

    # and they went together in a third document
    assert len(fake.graphql) == 3
    assert len(ALIAS.findall(json.loads(fake.graphql[2].content)["query"])) == 2
    keys = writer.keys()
    assert redis_len(writer, keys.ops) == redis_len(writer, keys.inflight) == 0


def redis_len(writer: SageWriter, key: str) -> int:
    return int(writer.client.redis.hlen(key))


def test_a_lost_answer_reaches_every_step_of_the_document_and_is_not_retried(
    make_writer: Callable[..., SageWriter], fake: FakeSage
) -> None:
    # given Sage commits the second document but its answer is lost (HTTP 502, no body)
    def lost(_payload: dict[str, Any], _request: httpx.Request) -> httpx.Response:
        return httpx.Response(502, content=b"")

    fake.default = lost
    writer = make_writer(writer_in_flight=1)
    first, others = _submit_while_first_in_flight(writer, fake, ["a", "b"])

    # then both steps of that document learn that it may have run, and it is not re-sent
    assert first == [{"id": "first"}]
    for future in others:
        [error] = future.result(WAIT)
        assert isinstance(error, SageTransientError)
        assert error.maybe_committed
    assert len(fake.graphql) == 2


def test_steps_a_dead_writer_sent_are_answered_as_unknown_by_the_next(
    make_writer: Callable[..., SageWriter], fake: FakeSage
) -> None:
    # given a step that a writer (now dead) took into flight, and its lease expired
    writer = make_writer()
    keys = writer.keys()
    r = writer.client.redis
    r.hset(keys.ops, "s1", jsonenc.dumps({"key": "#1", "ops": [{"field": "createThing",
           "selection": "id", "arguments": {"input": ["ThingInput!", {"name": "x"}]},
           "mutation": True, "cost": None}]}))  # fmt: skip
    r.hset(keys.inflight, "s1", "token-of-a-dead-writer")

    # when this process's writer takes the lease
    writer.ensure_running()
    popped = r.blpop([keys.result("s1")], timeout=WAIT)

    # then the step's caller learns its outcome is unknown (look in Sage first), and
    # nothing was sent again
    assert popped is not None
    [result] = [decode_result(raw) for raw in jsonenc.loads(popped[1])]
    assert isinstance(result, SageTransientError)
    assert result.maybe_committed
    assert fake.graphql == []
    assert r.hlen(keys.inflight) == r.hlen(keys.ops) == 0


def test_a_step_whose_caller_died_before_it_was_sent_is_dropped(
    make_writer: Callable[..., SageWriter], fake: FakeSage
) -> None:
    # given a pending step whose caller stopped waiting (its alive mark expired)
    writer = make_writer()
    keys = writer.keys()
    r = writer.client.redis
    r.hset(keys.ops, "s2", jsonenc.dumps({"key": "#2", "ops": [{"field": "createThing",
           "selection": "id", "arguments": {"input": ["ThingInput!", {"name": "y"}]},
           "mutation": True, "cost": None}]}))  # fmt: skip
    r.rpush(keys.pending, "s2")

    # when the writer looks at what is pending
    writer.round()

    # then it is not sent (its event runs again and decides afresh) and is gone
    assert fake.graphql == []
    assert writer.pending() == 0
    assert r.hlen(keys.ops) == 0
    # and a caller that was only slow to refresh its mark learns it was not sent
    [raw] = jsonenc.loads(r.lpop(keys.result("s2")))  # type: ignore[arg-type]
    result = decode_result(raw)
    assert isinstance(result, SageTransientError)
    assert not result.maybe_committed


def test_documents_respect_the_operation_limit(
    make_writer: Callable[..., SageWriter], fake: FakeSage
) -> None:
    # given a writer allowing two operations per document, one document out at a time
    fake.default = _answer
    writer = make_writer(batch_max_operations=2, writer_in_flight=1)
    _, others = _submit_while_first_in_flight(writer, fake, ["a", "b", "c"])

    # then the three waiting steps need two documents after the first
    assert [f.result(WAIT) for f in others] == [[{"id": n}] for n in "abc"]
    sizes = [len(ALIAS.findall(json.loads(r.content)["query"])) for r in fake.graphql]
    assert sizes == [1, 2, 1]


def test_without_batching_each_step_is_one_request_of_its_own(
    make_writer: Callable[..., SageWriter], fake: FakeSage
) -> None:
    # given batching off (one operation per document)
    fake.default = _answer
    writer = make_writer(batch_max_operations=1)

    # when a step of two operations runs
    results = writer.submit([_op("close"), _op("post")], "inv")

    # then it is one request, sent by the caller, through no Redis queue
    assert results == [{"id": "close"}, {"id": "post"}]
    assert len(fake.graphql) == 1
    assert writer.client.redis.keys(writer.keys().base + "*") == []


@pytest.mark.parametrize(
    "error",
    [
        SageBusinessError([ErrorDetail("a.b", "a.b", ("op1", "x"))]),
        SageTransientError("timeout", status=500, retry_after=1.5, maybe_committed=True),
        SageTransientError("unavailable", status=503),
        SageRateLimited(2.0),
        SageInvalidRequest("HTTP 400: bad", status=400, errors=[ErrorDetail("", "bad")]),
        SageComplexityError("too complex", status=200),
        SageAuthError("refused", status=401),
        SageAuthError("no token works", status=400, needs_login=True),
        SageCircuitOpen("circuit open", 12.5, maybe_committed=True),
    ],
)
def test_results_keep_their_error_class_and_flags_through_redis(error: SageError) -> None:
    back = decode_result(jsonenc.loads(jsonenc.dumps(encode_result(error))))
    assert type(back) is type(error)
    assert str(back) == str(error)
    assert back.status == error.status
    if isinstance(error, SageAuthError):
        assert isinstance(back, SageAuthError)
        assert back.needs_login == error.needs_login
    if isinstance(error, SageTransientError):
        assert isinstance(back, SageTransientError)
        assert back.maybe_committed == error.maybe_committed
        assert back.retry_after == error.retry_after
    if isinstance(error, SageBusinessError | SageInvalidRequest):
        assert isinstance(back, SageBusinessError | SageInvalidRequest)
        assert back.errors == error.errors


def test_data_keeps_exact_decimals_through_redis() -> None:
    data: Result = {"id": "x", "amount": Decimal("19.80")}
    assert decode_result(jsonenc.loads(jsonenc.dumps(encode_result(data)))) == data


def test_a_writer_that_lost_redis_answers_its_own_unrecorded_steps_when_back(
    make_writer: Callable[..., SageWriter], fake: FakeSage
) -> None:
    # given the active writer, with a step it sent but could not record (Redis failed it:
    # it stopped holding the lease, which then ran out)
    writer = make_writer()
    writer.ensure_running()
    keys = writer.keys()
    r = writer.client.redis
    _wait_until(lambda: r.get(keys.lease) is not None, "the writer holding the lease")
    old_token = r.get(keys.lease)
    r.hset(keys.ops, "s3", jsonenc.dumps({"key": "#3", "ops": [{"field": "createThing",
           "selection": "id", "arguments": {"input": ["ThingInput!", {"name": "z"}]},
           "mutation": True, "cost": None}]}))  # fmt: skip
    r.hset(keys.inflight, "s3", old_token)  # type: ignore[arg-type]
    writer._holding = False
    r.delete(keys.lease)

    # when it takes the lease again
    popped = r.blpop([keys.result("s3")], timeout=WAIT)

    # then under a new token, and the step's caller learns its outcome is unknown
    assert popped is not None
    [result] = [decode_result(raw) for raw in jsonenc.loads(popped[1])]
    assert isinstance(result, SageTransientError)
    assert result.maybe_committed
    assert r.get(keys.lease) not in (None, old_token)
    assert fake.graphql == []
