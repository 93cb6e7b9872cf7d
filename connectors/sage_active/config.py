"""Connection settings of the Sage Active connector (one organisation, one app).

The bridge builds a `SageConfig` from its own settings; this package never reads the
environment. The same fields describe real Sage Active (FR / ES / DE endpoints, see
`PRODUCTION_API_URLS`) and the local sandbox.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr

PRODUCTION_API_URLS: dict[str, str] = {
    "FR": "https://api.fr.active.sage.com/graphql",
    "ES": "https://api.es.active.sage.com/graphql",
    "DE": "https://api.de.active.sage.com/graphql",
    "PT": "https://api.es.active.sage.com/graphql",  # PT shares the ES/PT environment
}
PRODUCTION_AUTH_URL = "https://sbcauth.sage.fr"


class SageConfig(BaseModel):
    """Everything the client needs to talk to one Sage Active organisation."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    api_url: str = Field(description="The GraphQL endpoint itself, e.g. https://.../graphql.")
    auth_url: str = Field(
        default=PRODUCTION_AUTH_URL, description="OAuth server base; token at /connect/token."
    )
    client_id: str = Field(description="OAuth client of the Sage app.")
    client_secret: SecretStr = Field(description="Secret of that OAuth client.")
    refresh_token: SecretStr = Field(
        description="Used until the authorization-code exchange or a rotation stores a newer "
        "one in Redis (`<key_prefix>:refresh_token`), which then takes precedence."
    )
    api_key: SecretStr = Field(description="Subscription key, sent as `x-api-key`.")
    organization_id: str | None = Field(
        default=None,
        description="X-OrganizationId. Unset: the only organisation the account sees (several "
        "visible is an error naming them). It must be READY and onboarded in Sage (2026-07).",
    )
    timeout: float = Field(default=30.0, gt=0, description="Seconds per HTTP request.")
    rate_limit_per_minute: int = Field(
        default=3000, gt=0, description="Requests per minute Sage allows the app (shared)."
    )
    rate_headroom: float = Field(
        default=0.9, gt=0, le=1, description="Share of the rate limit this app allows itself."
    )
    rate_burst: int = Field(
        default=5, ge=1, description="Requests allowed back to back before pacing starts."
    )
    max_limiter_wait: float = Field(
        default=300.0, gt=0, description="Longest total wait for the limiter before giving up."
    )
    max_concurrent_mutations: int = Field(
        default=10, gt=0, description="Mutations in flight at once, across all workers."
    )
    mutation_lease: float = Field(
        default=120.0, gt=0, description="Seconds after which a crashed holder's slot is freed."
    )
    max_retries: int = Field(default=5, ge=0, description="Retries of one request, at most.")
    backoff_base: float = Field(default=0.5, gt=0, description="First backoff step, seconds.")
    backoff_max: float = Field(default=30.0, gt=0, description="Longest single backoff.")
    token_refresh_margin: float = Field(
        default=300.0, ge=0, description="Refresh the access token this long before expiry."
    )
    settlement_mutation: str = Field(
        default="createSalesOpenItemSettlement",
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="The mutation that books a payment against an invoice.",
    )
    max_batch_cost: int = Field(
        default=60_000,
        gt=0,
        le=650_000,
        description="Estimated cost above which a batch is split; Sage refuses 650000.",
    )
    batch_max_operations: int = Field(
        default=100,
        ge=1,
        le=1000,
        description="Most operations in one document (`writer`); 1: every step is sent "
        "at once by its own caller, one request per step (the unbatched path).",
    )
    writer_in_flight: int = Field(
        default=3,
        ge=1,
        le=10,
        description="Documents one organisation's writer keeps in flight at once (Sage allows "
        "10 concurrent mutations); steps gather for the next one only while all are out.",
    )
    writer_lease: float = Field(
        default=5.0,
        gt=0,
        description="Seconds a dead writer keeps its organisation's lease before another "
        "takes over (renewed every third of it while alive).",
    )
    circuit_threshold: int = Field(
        default=10,
        ge=0,
        description="Consecutive transient failures that open the shared circuit (0: off).",
    )
    circuit_cooldown: float = Field(
        default=30.0, gt=0, description="Seconds an open circuit waits before one probe."
    )
    cache_ttl: int = Field(default=3600, gt=0, description="Seconds reference data is cached.")
    key_prefix: str = Field(default="sage", min_length=1, description="Prefix of Redis keys.")
    limiter_prefix: str | None = Field(
        default=None,
        min_length=1,
        description="Prefix of the rate limiter's keys when it is shared wider than this "
        "organisation (Sage's limit is per app: every connection of one app uses one); "
        "None: `key_prefix`.",
    )

    @property
    def token_url(self) -> str:
        return self.auth_url.rstrip("/") + "/connect/token"

    def key(self, *parts: str) -> str:
        """A Redis key under this connector's prefix."""
        return ":".join((self.key_prefix, *parts))
