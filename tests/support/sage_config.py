"""A Sage connector config for the sandbox at a base URL, with its development credentials."""

from __future__ import annotations

from typing import Any

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
