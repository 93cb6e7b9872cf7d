"""Events wait at a gate during a Sage outage, spend no attempt there, and go on after.

In-process `run_event` on the real Redis; Sage is a scripted `httpx.MockTransport` with a
fake clock, so an outage of days takes no time.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator

import httpx
import pytest

from bridge.ops.gates import GATE_AUTH, GATE_CIRCUIT, check, sage_status
from bridge.services import Services, build_services
from bridge.settings import Settings
from bridge.store.events import Attempt, EventRecord, EventStatus, NewEvent
from bridge.sync import dispatch
from bridge.sync.dispatch import (
    MAX_ATTEMPTS,
    Outcome,
    Processed,
    TransientError,
    Waiting,
    counted_failures,
    handler,
    run_event,
)
from bridge.sync.errors import classified
from connectors.sage_active.client import SageClient
from connectors.sage_active.operations import SageActive
from tests.support.sage_fakes import FakeTime, make_config

TOPIC = "test.gate"
QUERY = "query { taxes { nodes { id } } }"


@pytest.fixture
def services(redis_url: str) -> Iterator[Services]:
    built = build_services(Settings(REDIS_URL=redis_url, BRIDGE_CONNECTION="gates"))
    yield built
    built.close()


@pytest.fixture
def register() -> Iterator[Callable[[Callable[[EventRecord, Services], Outcome]], None]]:
    def add(func: Callable[[EventRecord, Services], Outcome]) -> None:
        handler("stripe", TOPIC)(func)

    yield add
    dispatch._HANDLERS.pop(("stripe", TOPIC), None)


def recorded(services: Services, n: int = 1) -> str:
    event = NewEvent(provider="stripe", provider_id=f"evt_g{n}", topic=TOPIC, body="{}")
    assert services.events.record(event)
    return event.ref


def attempt(outcome: str | None) -> Attempt:
    return Attempt(task_id="t", started_at=dt.datetime.now(dt.UTC), outcome=outcome)


def test_counted_failures_are_the_latest_run_of_retries_held_ones_aside() -> None:
    runs = ["retry", "retry", "failed", "retry", "held", "throttled", "retry", None, "held"]
    assert counted_failures([attempt(o) for o in runs]) == 2
    assert counted_failures([attempt(o) for o in ["retry", "parked", "held"]]) == 0
    assert counted_failures([]) == 0


def test_an_open_circuit_of_any_length_never_dead_letters(
    services: Services, register: Callable[..., None]
) -> None:
    """Sage answers 503 for three simulated days: the event waits, never `failed`."""
    time_ = FakeTime()
    sent: list[int] = []

    def down(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/connect/token":
            return httpx.Response(200, json={"access_token": "a", "expires_in": 10**7})
        sent.append(1)
        return httpx.Response(503, json={"errors": []})

    config = make_config(
        max_retries=0, circuit_threshold=3, circuit_cooldown=30.0, key_prefix="gates:sage"
    )
    sage = SageClient(
        config,
        services.redis,
        transport=httpx.MockTransport(down),
        sleep=time_.sleep,
        clock=time_.clock,
    )

    def book(event: EventRecord, _: Services) -> Outcome:
        with classified(event.ref):
            sage.execute(QUERY)
        return Processed("booked")

    register(book)
    ref = recorded(services)
    outcomes: list[str] = []
    for n in range(300):  # an attempt every 15 simulated minutes: 75 hours
        result = run_event(services, ref, f"task-{n}")
        outcomes.append(str(result.status))
        time_.now += 900
    sage.close()

    record = services.events.get(ref)
    assert record is not None
    assert "failed" not in outcomes
    assert record.status == EventStatus.PARKED
    counted = [a.outcome for a in record.attempts].count("retry")
    assert counted == 2 < MAX_ATTEMPTS  # the two failures before the circuit opened
    assert [a.outcome for a in record.attempts].count("held") == 298
    assert len(sent) == 300  # one probe per cool-down, nothing more
    assert services.redis.zscore(services.gates.key(GATE_CIRCUIT), ref) is not None


def test_waiting_holds_at_the_gate_and_release_requeues(
    services: Services, register: Callable[..., None]
) -> None:
    def needs_login(*_: object) -> Outcome:
        raise Waiting("Sage needs a new login", gate=GATE_AUTH)

    register(needs_login)
    refs = [recorded(services, n) for n in range(5)]
    for ref in refs:
        assert run_event(services, ref, "t").status == "parked"
    assert services.gates.held() == {GATE_AUTH: 5, GATE_CIRCUIT: 0}
    record = services.events.get(refs[0])
    assert record is not None
    assert (record.status, record.error, record.attempts[-1].outcome) == (
        "parked",
        "Sage needs a new login",
        "held",
    )
    services.redis.delete(services.settings.celery_queue)
    assert services.gates.release(GATE_AUTH) == 5
    assert services.gates.held()[GATE_AUTH] == 0
    assert all(services.events.get(r).status == "queued" for r in refs)  # type: ignore[union-attr]
    assert services.events.queue_lengths()["outbox"] >= 5
    assert services.gates.release(GATE_AUTH) == 0


def test_counted_retries_survive_a_requeue_and_still_bound_real_failures(
    services: Services, register: Callable[..., None]
) -> None:
    def flaky(*_: object) -> Outcome:
        raise TransientError("Sage 500")

    register(flaky)
    ref = recorded(services)
    for n in range(MAX_ATTEMPTS - 1):
        assert run_event(services, ref, f"t{n}").status == "queued"
        services.events.requeue(ref)  # e.g. the sweep re-sent it: the count stays
    last = run_event(services, ref, "last")
    assert last.status == "failed"
    assert f"gave up after {MAX_ATTEMPTS}" in (services.events.get(ref).error or "")  # type: ignore[union-attr]


def test_sage_status_reads_the_gates_without_a_sage_client(services: Services) -> None:
    settings = services.settings
    services.redis.set(
        f"{settings.key('sage')}:needs_login", '{"since": 1.0, "reason": "invalid_grant"}'
    )
    services.redis.hset(
        f"{settings.key('sage')}:circuit", mapping={"state": "open", "opened_at": "1000"}
    )
    status = sage_status(services.redis, settings, now=1010.0)
    assert status.needs_login is not None
    assert status.needs_login.reason == "invalid_grant"
    assert (status.circuit.state, status.circuit.retry_in) == ("open", 20.0)
    assert not status.ok


def test_throttling_by_sage_is_retried_after_its_retry_after_and_not_counted(
    services: Services, register: Callable[..., None]
) -> None:
    def throttled(*_: object) -> Outcome:
        raise TransientError("rate limited by Sage", retry_in=7, counted=False)

    register(throttled)
    ref = recorded(services)
    for n in range(3 * MAX_ATTEMPTS):
        result = run_event(services, ref, f"t{n}")
        assert result.status == "queued"
        assert result.retry_in is not None
        assert result.retry_in >= 7
    record = services.events.get(ref)
    assert record is not None
    assert {a.outcome for a in record.attempts} == {"throttled"}


def _held(services: Services, gate: str, count: int) -> list[str]:
    """`count` events parked and held at `gate`, as `run_event` leaves them."""
    refs = []
    for n in range(count):
        ref = recorded(services, 100 + n)
        services.events.mark(ref, EventStatus.PARKED, error="waiting", retry_in=300)
        services.gates.hold(gate, ref)
        refs.append(ref)
    return refs


def test_the_probe_releases_held_events_once_a_token_works(services: Services) -> None:
    accept: list[bool] = [False]

    def token_endpoint(request: httpx.Request) -> httpx.Response:
        if not accept[0]:
            return httpx.Response(400, json={"error": "invalid_grant"})
        return httpx.Response(200, json={"access_token": "fresh", "expires_in": 3600})

    config = make_config(key_prefix=services.settings.key("sage"))
    client = SageClient(config, services.redis, transport=httpx.MockTransport(token_endpoint))
    services.__dict__["sage"] = SageActive(client)  # the process's Sage API, scripted
    assert client.tokens.mark_needs_login("invalid_grant")
    refs = _held(services, GATE_AUTH, 3)

    assert (
        check(services.gates, services.sage.client)[GATE_AUTH] == 0
    )  # still refused: they keep waiting
    assert services.gates.held()[GATE_AUTH] == 3
    accept[0] = True
    assert check(services.gates, services.sage.client)[GATE_AUTH] == 3
    assert client.tokens.needs_login() is None
    assert all(services.events.get(r).status == "queued" for r in refs)  # type: ignore[union-attr]


def _no_request(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"no request expected: {request.url}")


def test_the_probe_lets_one_event_through_a_half_open_circuit(services: Services) -> None:
    config = make_config(key_prefix=services.settings.key("sage"), circuit_cooldown=30.0)
    client = SageClient(config, services.redis, transport=httpx.MockTransport(_no_request))
    services.__dict__["sage"] = SageActive(client)
    _held(services, GATE_CIRCUIT, 4)
    # opened long ago: the cool-down is over (half-open)
    services.redis.hset(client.circuit.key, mapping={"state": "open", "opened_at": "1000"})

    assert check(services.gates, services.sage.client)[GATE_CIRCUIT] == 1  # the probe
    assert check(services.gates, services.sage.client)[GATE_CIRCUIT] == 0  # one per cool-down
    client.circuit.success()  # the probe got through: closed
    assert check(services.gates, services.sage.client)[GATE_CIRCUIT] == 3
    assert services.gates.held()[GATE_CIRCUIT] == 0


def test_the_needs_login_alert_is_an_outbound_event(services: Services) -> None:
    from bridge.ops.alerts import Alerts
    from bridge.outbound.delivery import Outbound
    from tests.support.outbound import PUBLIC_DNS

    admin = Outbound(services.redis, services.settings, resolver=PUBLIC_DNS)
    admin.create_subscription("https://hooks.example.com/in", ["connection.auth_failed"])
    Alerts(services.settings, lambda: services.outbound).sage_needs_login(
        "token grant refused (HTTP 400, invalid_grant)"
    )
    [delivery] = services.outbound.deliveries()
    body = json.loads(services.outbound.event(delivery.event_id).body)
    assert body["type"] == "connection.auth_failed"
    assert body["data"]["connection"] == "gates"
    assert body["data"]["reason"] == "token grant refused (HTTP 400, invalid_grant)"
