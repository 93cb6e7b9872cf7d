"""How a sandbox is started: credentials, token lifetime, rate limit, where to keep state."""

from __future__ import annotations

from dataclasses import dataclass

# Documented development credentials (DESIGN.md section 3), accepted unless overridden.
DEFAULT_CLIENT_ID = "sandbox-client"
DEFAULT_CLIENT_SECRET = "sandbox-secret"  # noqa: S105 - public development credential
DEFAULT_API_KEY = "sandbox-key"
DEFAULT_REFRESH_TOKEN = "sandbox-refresh"  # noqa: S105 - public development credential


@dataclass
class SandboxConfig:
    """Settings of one sandbox; `token_lifetime` and the rate limit can change at runtime."""

    state_file: str | None = None
    token_lifetime: int = 28800
    rate_limit_per_minute: int = 3000
    client_id: str = DEFAULT_CLIENT_ID
    client_secret: str = DEFAULT_CLIENT_SECRET
    api_key: str = DEFAULT_API_KEY
    refresh_token: str = DEFAULT_REFRESH_TOKEN
    code_lifetime: int = 60
    persist_delay: float = 0.5
    max_field_cost: int = 650_000  # Sage's `maxFieldCost`; documents above are refused
    einvoice_step: float = 2.0  # seconds per step of the simulated e-invoicing platform
