"""Helpers for the connector's integration tests: configs and a client for the sandbox."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from connectors.sage_active.config import SageConfig


def sandbox_config(base: str, **overrides: Any) -> SageConfig:
    """A connector config for the sandbox at `base` with its development credentials."""
    values: dict[str, Any] = {
        "api_url": f"{base}/graphql",
        "auth_url": base,
        "client_id": "sandbox-client",
        "client_secret": SecretStr("sandbox-secret"),
        "refresh_token": SecretStr("sandbox-refresh"),
        "api_key": SecretStr("sandbox-key"),
        "timeout": 5.0,
        "backoff_base": 0.05,
        "backoff_max": 0.5,
        "key_prefix": "it:sage",
    }
    values.update(overrides)
    return SageConfig(**values)


class Control:
    """The sandbox's `/_sandbox` control surface."""

    def __init__(self, http: httpx.Client) -> None:
        self.http = http

    def faults(self, **spec: Any) -> None:
        self.http.post("/_sandbox/faults", json=spec).raise_for_status()

    def clear_faults(self) -> None:
        self.http.delete("/_sandbox/faults").raise_for_status()

    def stats(self) -> dict[str, Any]:
        response = self.http.get("/_sandbox/stats")
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body

    def reset_stats(self) -> None:
        self.http.delete("/_sandbox/stats").raise_for_status()

    def configure(self, **values: Any) -> None:
        self.http.post("/_sandbox/config", json=values).raise_for_status()

    def reset(self) -> None:
        self.http.post("/_sandbox/reset").raise_for_status()


@pytest.fixture
def control_for() -> Iterator[Callable[..., Control]]:
    clients: list[httpx.Client] = []

    def make(base: str, transport: httpx.BaseTransport | None = None) -> Control:
        client = httpx.Client(base_url=base, timeout=10.0, transport=transport)
        clients.append(client)
        return Control(client)

    yield make
    for client in clients:
        client.close()
