"""Metrics in Redis, shared by every process, rendered in the Prometheus text format."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from bridge.metrics import Metrics, label_field
from bridge.settings import Settings


@pytest.fixture
def clients(redis_url: str) -> Iterator[tuple[redis.Redis, redis.Redis]]:
    a = redis.Redis.from_url(redis_url, decode_responses=True)
    b = redis.Redis.from_url(redis_url, decode_responses=True)
    yield a, b
    a.close()
    b.close()


def test_counters_from_two_processes_add_up(clients: tuple[redis.Redis, redis.Redis]) -> None:
    settings = Settings()
    web, worker = (Metrics(c, settings) for c in clients)
    web.incr("bridge_sage_requests_total", {"operation": "createSalesInvoice", "outcome": "ok"})
    worker.incr(
        "bridge_sage_requests_total", {"outcome": "ok", "operation": "createSalesInvoice"}, 2
    )
    worker.set_gauge("bridge_limiter_wait_seconds", None, 0.25)
    text = web.render()
    assert "# TYPE bridge_sage_requests_total counter" in text
    assert 'bridge_sage_requests_total{operation="createSalesInvoice",outcome="ok"} 3' in text
    assert "# TYPE bridge_limiter_wait_seconds gauge" in text
    assert "bridge_limiter_wait_seconds 0.25" in text


def test_label_values_are_escaped() -> None:
    assert label_field({"b": 'say "hi"\n', "a": "x\\y"}) == 'a="x\\\\y",b="say \\"hi\\"\\n"'


@pytest.mark.parametrize(("name", "labels"), [("bad-name", {}), ("ok_name", {"bad-label": "x"})])
def test_invalid_names_are_refused(
    clients: tuple[redis.Redis, redis.Redis], name: str, labels: dict[str, str]
) -> None:
    metrics = Metrics(clients[0], Settings())
    with pytest.raises(ValueError, match="invalid metric"):
        metrics.incr(name, labels)
    assert clients[0].dbsize() == 0


def test_collectors_are_measured_at_render(clients: tuple[redis.Redis, redis.Redis]) -> None:
    metrics = Metrics(clients[0], Settings())
    depth = {"n": 3}
    metrics.collector("bridge_queue_depth", lambda: {'queue="outbox"': depth["n"]})
    assert 'bridge_queue_depth{queue="outbox"} 3' in metrics.render()
    depth["n"] = 5
    assert 'bridge_queue_depth{queue="outbox"} 5' in metrics.render()
