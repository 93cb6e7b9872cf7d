"""The shared circuit breaker: opens after repeated failures, one probe, closes on success."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import redis

from connectors.sage_active.circuit import CircuitBreaker, Ticket
from connectors.sage_active.client import SageClient
from connectors.sage_active.errors import SageAuthError, SageCircuitOpen, SageTransientError
from tests.support.sage_fakes import FakeSage, FakeTime, make_config, ok

QUERY = "query { taxes { nodes { id } } }"
CLOSED = Ticket()  # a request let through a closed circuit


@pytest.fixture
def breaker(redis_client: redis.Redis) -> CircuitBreaker:
    config = make_config(circuit_threshold=3, circuit_cooldown=30.0, timeout=5.0)
    return CircuitBreaker(config, redis_client)


def test_opens_after_threshold_then_lets_one_probe_through(breaker: CircuitBreaker) -> None:
    now = 1000.0
    for _ in range(2):
        assert not breaker.allow(now).probe
        assert breaker.failure(now, CLOSED) is False
    assert breaker.failure(now, CLOSED) is True  # the third opens it
    with pytest.raises(SageCircuitOpen) as info:
        breaker.allow(now + 10)
    assert info.value.retry_after == pytest.approx(20.0)
    assert breaker.state(now + 10).state == "open"
    assert breaker.state(now + 31).state == "half_open"
    assert breaker.allow(now + 31).probe  # the probe
    with pytest.raises(SageCircuitOpen):
        breaker.allow(now + 31.5)  # only one probe at a time
    breaker.success()
    assert breaker.state(now + 32).state == "closed"
    assert breaker.allow(now + 32) == Ticket(probe=False, clean=True)


def test_failed_probe_opens_for_another_cooldown(breaker: CircuitBreaker) -> None:
    for _ in range(3):
        breaker.failure(1000.0, CLOSED)
    probe = breaker.allow(1031.0)
    assert probe.probe
    assert breaker.failure(1031.0, probe) is True
    with pytest.raises(SageCircuitOpen):
        breaker.allow(1050.0)
    assert breaker.allow(1062.0).probe


def test_a_success_resets_the_count_and_time_does_not(breaker: CircuitBreaker) -> None:
    breaker.failure(1000.0, CLOSED)
    ticket = breaker.allow(1000.0)
    assert not ticket.clean  # a failure is counted: its success must reset it
    breaker.failure(1000.0, CLOSED)
    breaker.success(ticket)
    assert breaker.allow(1001.0).clean
    breaker.failure(1001.0, CLOSED)
    breaker.failure(1001.0, CLOSED)
    assert breaker.state(1001.0).state == "closed"
    # a quiet connection: one event's retries minutes apart, Sage never answering
    assert breaker.failure(1900.0, CLOSED) is True


def test_a_probe_whose_process_died_frees_its_lease(breaker: CircuitBreaker) -> None:
    for _ in range(3):
        breaker.failure(1000.0, CLOSED)
    assert breaker.allow(1031.0).probe  # then its process dies: no success, no failure
    with pytest.raises(SageCircuitOpen):
        breaker.allow(1035.0)
    assert breaker.allow(1031.0 + breaker.probe_lease + 0.1).probe


@pytest.fixture
def client(redis_client: redis.Redis, fake: FakeSage, time_: FakeTime) -> Iterator[SageClient]:
    config = make_config(max_retries=2, circuit_threshold=4, circuit_cooldown=30.0)
    with SageClient(
        config, redis_client, transport=fake.transport(), sleep=time_.sleep, clock=time_.clock
    ) as sage:
        yield sage


@pytest.fixture
def fake() -> FakeSage:
    return FakeSage()


@pytest.fixture
def time_() -> FakeTime:
    return FakeTime()


def test_client_stops_sending_while_open_and_resumes_after_a_probe(
    client: SageClient, fake: FakeSage, time_: FakeTime
) -> None:
    fake.default = lambda _p, _r: httpx.Response(503, json={"errors": []})
    with pytest.raises(SageTransientError) as first:
        client.execute(QUERY)  # 3 attempts: 3 failures, still closed
    assert not isinstance(first.value, SageCircuitOpen)
    with pytest.raises(SageCircuitOpen):
        client.execute(QUERY)  # the 4th failure opens it: no retry after that
    sent = len(fake.graphql)
    assert sent == 4
    for _ in range(20):
        with pytest.raises(SageCircuitOpen):
            client.execute(QUERY)
    assert len(fake.graphql) == sent  # nothing sent while open

    time_.now += 31
    fake.default = lambda _p, _r: ok({"taxes": {"nodes": []}})
    assert client.execute(QUERY) == {"taxes": {"nodes": []}}  # the probe closes it
    assert client.circuit.state(time_.now).state == "closed"


def test_a_token_endpoint_outage_counts_too(
    client: SageClient, fake: FakeSage, time_: FakeTime, redis_client: redis.Redis
) -> None:
    def down(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503)

    with httpx.Client(transport=httpx.MockTransport(down)) as http:
        tokens = type(client.tokens)(
            client.config, redis_client, http, clock=time_.clock, circuit=client.circuit
        )
        for _ in range(3):
            with pytest.raises(SageTransientError):
                tokens.access_token()
        with pytest.raises(SageCircuitOpen):
            tokens.access_token()
        with pytest.raises(SageCircuitOpen, match="not sent"):
            tokens.access_token()


def test_429s_are_not_failures_of_sage(client: SageClient, fake: FakeSage) -> None:
    fake.default = lambda _p, _r: httpx.Response(429, headers={"Retry-After": "0"}, json={})
    for _ in range(5):
        with pytest.raises(SageTransientError) as info:
            client.execute(QUERY)
        assert not isinstance(info.value, SageCircuitOpen)
    assert client.circuit.state(0).state == "closed"


def test_a_401_on_a_freshly_refreshed_token_means_needs_login(
    client: SageClient, fake: FakeSage
) -> None:
    fake.default = lambda _p, _r: httpx.Response(401, json={"errors": [{"message": "no"}]})
    with pytest.raises(SageAuthError) as info:
        client.execute(QUERY)
    assert info.value.needs_login
    assert len(fake.token_grants) == 2  # the first token, then one refresh: no more
    mark = client.tokens.needs_login()
    assert mark is not None
    assert "401" in mark.reason
    with pytest.raises(SageAuthError, match="needs a new login"):
        client.execute(QUERY)  # at once: nothing sent, no grant asked
    assert len(fake.graphql) == 2
    assert len(fake.token_grants) == 2
