"""`REDIS_URL` read once for every part: plain, TLS (certificate checked by default) and
Sentinel URLs give the ledger's client and Celery's settings."""

from __future__ import annotations

import ssl

import pytest
from redis.sentinel import SentinelConnectionPool

from bridge.redis_url import RedisUrlError, celery_options, redis_client, sentinel_target


def test_a_sentinel_url_names_its_sentinels_service_and_db() -> None:
    url = "redis+sentinel://:pw@10.0.0.1:26379,[::1]:26380/mymaster/2?sentinel_password=sp"
    target = sentinel_target(url)
    assert target is not None
    assert target.hosts == [("10.0.0.1", 26379), ("::1", 26380)]
    assert (target.service, target.db, target.password) == ("mymaster", 2, "pw")
    assert target.sentinel_password == "sp"
    client = redis_client(url, decode_responses=True)  # nothing connects yet
    assert isinstance(client.connection_pool, SentinelConnectionPool)
    options = celery_options(url)
    assert options["broker_url"] == ("sentinel://:pw@10.0.0.1:26379/2;sentinel://:pw@[::1]:26380/2")
    assert options["broker_transport_options"] == {
        "master_name": "mymaster",
        "sentinel_kwargs": {"password": "sp"},
    }


def test_tls_urls_check_the_certificate_unless_told_otherwise() -> None:
    options = celery_options("rediss://h:6380/0?ssl_ca_certs=/ca.pem")
    assert "ssl_cert_reqs=required" in options["broker_url"]
    assert "ssl_ca_certs=%2Fca.pem" in options["broker_url"]
    relaxed = celery_options("rediss://h:6380/0?ssl_cert_reqs=none")["broker_url"]
    assert relaxed.endswith("ssl_cert_reqs=none")
    sentinel = celery_options("redis+sentinels://h:26379/m?ssl_ca_certs=/ca.pem")
    assert sentinel["broker_use_ssl"] == {
        "ssl_ca_certs": "/ca.pem",
        "ssl_cert_reqs": ssl.CERT_REQUIRED,
    }
    assert celery_options("redis://h:6379/1") == {
        "broker_url": "redis://h:6379/1",
        "result_backend": "redis://h:6379/1",
    }


@pytest.mark.parametrize(
    "url",
    ["redis+sentinel://h:26379/", "redis+sentinel://h/m", "redis+sentinel://h:1/m/x"],
)
def test_a_sentinel_url_that_cannot_be_read_says_why(url: str) -> None:
    with pytest.raises(RedisUrlError, match="REDIS_URL"):
        sentinel_target(url)
