"""The worker's view of `bridge doctor`'s hold, per connection, on a real Redis: each
connection's hold is read from its own report and cached on its own; a check stores and
caches only its connection's; one connection that cannot be checked does not stop the
others'."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from cryptography.fernet import Fernet

from bridge.connections.hub import ServicesHub
from bridge.ops.doctor import DoctorStore, Finding, Level, Report
from bridge.services import Services, build_services
from bridge.settings import Settings
from tasks import doctor
from tests.support.connections import KEY, spec

SAGE_DOWN = "http://127.0.0.1:9/graphql"  # nothing listens: the Sage check fails at once


def _services(redis_url: str, connection: str, key: str = KEY) -> Services:
    return build_services(
        Settings(
            REDIS_URL=redis_url,
            BRIDGE_CONNECTION=connection,
            SAGE_API_URL=SAGE_DOWN,
            SAGE_TIMEOUT=2,
            SAGE_MAX_RETRIES=0,
            BRIDGE_SECRET_KEY=key,
        )
    )


def _held_report(detail: str) -> Report:
    finding = Finding(check="Walk-in customer", level=Level.ERROR, detail=detail, holds=True)
    return Report(checked_at=dt.datetime.now(dt.UTC), findings=[finding])


@pytest.fixture(autouse=True)
def empty_cache() -> Iterator[None]:
    doctor._cache.clear()
    yield
    doctor._cache.clear()


@pytest.fixture
def pair(redis_url: str) -> Iterator[tuple[Services, Services]]:
    a, b = _services(redis_url, "alpha"), _services(redis_url, "beta")
    yield a, b
    a.close()
    b.close()


def test_each_connection_reads_its_own_hold(pair: tuple[Services, Services]) -> None:
    a, b = pair
    DoctorStore(a.redis, a.settings).save(_held_report("'W1' is not a customer in Sage"))
    assert "'W1' is not a customer" in doctor.hold_message(a)
    assert doctor.hold_message(b) == ""


def test_each_connection_is_cached_on_its_own(
    pair: tuple[Services, Services], monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = pair
    monkeypatch.setattr(doctor, "HOLD_CACHE_SECONDS", 3600.0)
    assert doctor.hold_message(a) == ""  # alpha read (and cached) before beta is held
    DoctorStore(b.redis, b.settings).save(_held_report("beta's code"))
    assert "beta's code" in doctor.hold_message(b)  # beta's first read: not alpha's entry
    DoctorStore(a.redis, a.settings).save(_held_report("alpha's code"))
    assert doctor.hold_message(a) == ""  # alpha's cached view, until it expires
    monkeypatch.setattr(doctor, "HOLD_CACHE_SECONDS", 0.0)
    assert "alpha's code" in doctor.hold_message(a)
    assert "beta's code" in doctor.hold_message(b)


def test_a_check_updates_only_its_connections_entry(
    pair: tuple[Services, Services], monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = pair
    monkeypatch.setattr(doctor, "HOLD_CACHE_SECONDS", 3600.0)
    for services in pair:
        DoctorStore(services.redis, services.settings).save(_held_report("old code"))
        assert doctor.hold_message(services)  # cached as held
    report = doctor.check_and_store(a)  # Sage down: errors, but no mapping code holds
    assert report.errors
    assert not report.holding
    assert doctor.hold_message(a) == ""  # the check's result, without waiting for the cache
    stored = DoctorStore(a.redis, a.settings).load()
    assert stored is not None
    assert stored.hold_message() == ""
    assert "old code" in doctor.hold_message(b)  # beta's entry and report untouched
    assert "old code" in DoctorStore(b.redis, b.settings).hold_message()


def test_a_connection_that_cannot_be_checked_does_not_stop_the_others(redis_url: str) -> None:
    # The registry's secrets were sealed with another key: "gamma" cannot be built.
    other = _services(redis_url, "default", key=Fernet.generate_key().decode())
    hub = ServicesHub(other, ttl=0.0)
    base = _services(redis_url, "default")
    try:
        ServicesHub(base, ttl=0.0).registry.add(spec("gamma"))
        assert hub.names() == ["default", "gamma"]
        reports = doctor.check_connections(hub, wait=60.0)
        assert set(reports) == {"default"}
        assert DoctorStore(other.redis, other.settings).load() is not None
        assert other.redis.get("bridge:gamma:doctor") is None
    finally:
        hub.close()
        other.close()
        base.close()
