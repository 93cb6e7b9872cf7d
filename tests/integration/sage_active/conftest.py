"""Helpers for the connector's integration tests: configs and a client for the sandbox."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from connectors.sage_active.config import SageConfig
from tests.support.sandbox import SandboxControl


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


Control = SandboxControl


@pytest.fixture
def control_for() -> Iterator[Callable[..., Control]]:
    made: list[Control] = []

    def make(base: str, transport: httpx.BaseTransport | None = None) -> Control:
        made.append(Control(base, transport))
        return made[-1]

    yield make
    for control in made:
        control.close()
