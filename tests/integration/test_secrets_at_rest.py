"""Secrets at rest: Sage tokens and outbound signing secrets are encrypted with
`BRIDGE_SECRET_KEY`; those found in clear are encrypted at start; a rotation re-encrypts
them with the new key; the embedded Redis asks for a password and keeps its files private.
"""

from __future__ import annotations

import stat
import time
from pathlib import Path

import pytest
import redis
from cryptography.fernet import Fernet

from bridge.connections.at_rest import PREFIX, reseal
from bridge.embedded_redis import EmbeddedRedis
from bridge.services import build_services
from bridge.settings import Settings
from bridge.store.outbound import OutboundStore, Subscription
from tests.support.pipeline import sandbox_settings

pytestmark = pytest.mark.integration


def _raw(client: redis.Redis, key: str) -> str:
    value = client.get(key)
    assert value is not None, key
    return value.decode() if isinstance(value, bytes) else str(value)


def test_sage_tokens_are_stored_encrypted_and_still_work(redis_url: str, sandbox_url: str) -> None:
    key = Fernet.generate_key().decode()
    settings = sandbox_settings(redis_url, sandbox_url, BRIDGE_SECRET_KEY=key)
    services = build_services(settings)
    try:
        access = services.sage.client.tokens.access_token()
        assert services.sage.organizations()  # Sage accepts it
    finally:
        services.close()
    client = redis.Redis.from_url(redis_url)
    try:
        stored_access = _raw(client, settings.key("sage", "token"))
        stored_refresh = _raw(client, settings.key("sage", "refresh_token"))
        assert stored_access.startswith(PREFIX)
        assert access not in stored_access
        assert stored_refresh.startswith(PREFIX)
        assert "sandbox" not in stored_refresh  # the sandbox's refresh tokens name it
        again = build_services(settings)  # another process reads the same sealed token
        try:
            assert again.sage.client.tokens.access_token() == access
        finally:
            again.close()
    finally:
        client.close()


def test_clear_values_are_encrypted_at_start_and_rotated_with_the_key(redis_url: str) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        settings = Settings(REDIS_URL=redis_url, BRIDGE_CONNECTION="shop")
        client.set(settings.key("sage", "refresh_token"), "rt-in-clear")
        client.set(settings.key("sage", "token"), "at-in-clear", px=60_000)
        plain_store = OutboundStore(client, settings)  # no key yet: written in clear
        sub = Subscription(
            id="sub_1", url="https://example.com/hook", event_types=["invoice.posted"],
            created_at=time.time(), updated_at=time.time(),
        )  # fmt: skip
        plain_store.put_subscription(sub, "whsec_outbound_in_clear")
        assert client.hget(settings.key("outbound", "secrets"), "sub_1") == (
            "whsec_outbound_in_clear"
        )

        with_old = Settings(REDIS_URL=redis_url, BRIDGE_CONNECTION="shop", BRIDGE_SECRET_KEY=old)
        assert reseal(client, with_old.secret_key, ["shop"]) == 3  # what a worker does at start
        for key in (settings.key("sage", "refresh_token"), settings.key("sage", "token")):
            assert _raw(client, key).startswith(PREFIX)
            assert "clear" not in _raw(client, key)
        assert client.pttl(settings.key("sage", "token")) > 0  # its expiry kept
        sealed = client.hget(settings.key("outbound", "secrets"), "sub_1")
        assert sealed is not None
        assert sealed.startswith(PREFIX)
        assert OutboundStore(client, with_old).secret("sub_1") == "whsec_outbound_in_clear"

        rotating = Settings(
            REDIS_URL=redis_url, BRIDGE_CONNECTION="shop", BRIDGE_SECRET_KEY=f"{new},{old}"
        )
        assert reseal(client, rotating.secret_key, ["shop"]) == 3
        only_new = Settings(REDIS_URL=redis_url, BRIDGE_CONNECTION="shop", BRIDGE_SECRET_KEY=new)
        assert OutboundStore(client, only_new).secret("sub_1") == "whsec_outbound_in_clear"
        box = Fernet(new.encode())
        refresh = _raw(client, settings.key("sage", "refresh_token"))
        assert box.decrypt(refresh.removeprefix(PREFIX).encode()) == b"rt-in-clear"
    finally:
        client.close()


def test_the_embedded_redis_asks_for_a_password_and_keeps_its_files_private(
    tmp_path: Path,
) -> None:
    data = tmp_path / "redis"
    with EmbeddedRedis(data_dir=data, persistent=True) as server:
        assert server.password
        assert server.password in server.url
        anonymous = redis.Redis(host="127.0.0.1", port=server.port)
        with pytest.raises(redis.AuthenticationError):
            anonymous.set("k", "v")
        anonymous.close()
        client = redis.Redis.from_url(server.url)
        client.set("k", "v")
        client.close()
        url = server.url
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    files = [p for p in data.rglob("*") if p.is_file()]
    assert any("appendonly" in p.name or p.parent.name == "appendonlydir" for p in files)
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, path
    with EmbeddedRedis(data_dir=data, port=server.port, persistent=True) as again:
        assert again.url == url  # the same password after a restart on the same directory
