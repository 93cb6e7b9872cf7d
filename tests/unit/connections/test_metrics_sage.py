"""Plain `/metrics` of a deployment with connections keeps the Sage gauges, one series per
connection, the environment's included (Flask test client, real Redis)."""

from __future__ import annotations

import redis
from flask.testing import FlaskClient

from bridge.ops.gates import GATE_AUTH, sage_key
from bridge.settings import Settings
from connectors.sage_active.auth import NeedsLogin
from tests.unit.connections.test_web import client, two_shops  # noqa: F401 - fixtures


def test_sage_gauges_are_labelled_by_connection(
    two_shops: FlaskClient,  # noqa: F811 - the fixture imported above
    redis_client: redis.Redis,
) -> None:
    alpha = Settings(BRIDGE_CONNECTION="alpha")
    mark = NeedsLogin(since=1.0, reason="refresh token revoked").model_dump_json()
    redis_client.set(sage_key(alpha, "needs_login"), mark)
    redis_client.zadd(alpha.key("held", GATE_AUTH), {"shopify:1": 1.0, "shopify:2": 2.0})

    page = two_shops.get("/metrics").get_data(as_text=True)

    assert 'bridge_sage_needs_login{connection="alpha"} 1' in page
    assert 'bridge_sage_needs_login{connection="beta"} 0' in page
    assert 'bridge_sage_needs_login{connection="default"} 0' in page
    assert f'bridge_events_held{{connection="alpha",gate="{GATE_AUTH}"}} 2' in page
    assert f'bridge_events_held{{connection="default",gate="{GATE_AUTH}"}} 0' in page
    for name in ("default", "alpha", "beta", "gamma"):
        assert f'bridge_sage_circuit_state{{connection="{name}",state="closed"}} 1' in page
    for family in ("bridge_sage_needs_login", "bridge_sage_circuit_state", "bridge_events_held"):
        assert page.count(f"# TYPE {family} gauge") == 1
