"""`rediss://`: the ledger, the locks and Celery's broker over TLS, to Debian's redis-server.

Given a redis-server that speaks only TLS (a certificate for 127.0.0.1 signed by a CA made
in the test), when `REDIS_URL` is `rediss://...?ssl_ca_certs=<ca>`, then an event is
recorded and read back, an order lock is taken and released, and a message goes through
Celery's broker and back; with a CA that did not sign the certificate, nothing connects.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import redis

from bridge.redis_url import redis_client
from bridge.services import build_services
from bridge.settings import Settings
from bridge.store.events import NewEvent
from bridge.sync.locks import OrderLock
from tasks.app import make_celery
from tests.support.redis_ha import free_port, self_signed, server_config, servers, start

pytestmark = pytest.mark.integration


def test_the_ledger_locks_and_broker_speak_tls(tmp_path: Path) -> None:
    certs = self_signed(tmp_path / "tls")
    other = self_signed(tmp_path / "other")
    port = free_port()
    url = f"rediss://127.0.0.1:{port}/0?ssl_ca_certs={certs.ca}"
    config = server_config(
        0, tmp_path / "redis",
        f"tls-port {port}", f"tls-cert-file {certs.cert}", f"tls-key-file {certs.key}",
        f"tls-ca-cert-file {certs.ca}", "tls-auth-clients no",
    )  # fmt: skip
    with servers() as running:
        running.append(start("redis-server", tmp_path / "redis", config, redis_client(url)))
        plain = redis.Redis(host="127.0.0.1", port=port, socket_timeout=2)
        with pytest.raises(redis.ConnectionError):
            plain.ping()  # TLS only
        plain.close()

        services = build_services(Settings(REDIS_URL=url, BRIDGE_CONNECTION="tls"))
        try:
            event = NewEvent(provider="stripe", provider_id="evt_tls", topic="x.y", body="{}")
            assert services.events.record(event)
            stored = services.events.get(event.ref)
            assert stored is not None
            assert stored.status.value == "queued"
            with OrderLock(services.redis, services.settings.key("lock", "order", "o1")):
                assert services.redis.exists(services.settings.key("lock", "order", "o1"))
        finally:
            services.close()

        app = make_celery(Settings(REDIS_URL=url))
        with app.connection_for_write() as connection:
            queue = connection.SimpleQueue("bridge-tls-check")
            queue.put({"hello": "tls"})
            message = queue.get(timeout=5)
            assert message.payload == {"hello": "tls"}
            message.ack()
            queue.close()

        wrong = redis_client(f"rediss://127.0.0.1:{port}/0?ssl_ca_certs={other.ca}")
        with pytest.raises(redis.ConnectionError, match=r"(?i)certificate"):
            wrong.ping()  # the server's certificate is checked
        wrong.close()
