"""The `SAGE_*` settings: `Settings.sage`, nested, declared once.

Each field the Sage Active connector takes (`connectors.sage_active.SageConfig`) is
declared here by `from_connector`: its type's bounds, its default and its description are
`SageConfig`'s own, and only its environment variable (and, where the bridge differs, its
default) is added. `sage_config` then builds a `SageConfig` field by field, by name: a field
added to both needs no copy anywhere.

The variables stay flat (`SAGE_TIMEOUT`, not `SAGE__TIMEOUT`): `FlatSageSource` reads them
for `Settings` from the environment and `.env`, and `nest_flat` accepts the flat keyword
forms (`Settings(SAGE_TIMEOUT=5)`, `Settings(sage_timeout=5)`) that existed before.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, EnvSettingsSource, PydanticBaseSettingsSource

from connectors.sage_active.config import SageConfig

SANDBOX_CLIENT_ID = "sandbox-client"
SANDBOX_CLIENT_SECRET = "sandbox-secret"  # noqa: S105 - documented development credential
SANDBOX_API_KEY = "sandbox-key"
SANDBOX_REFRESH_TOKEN = "sandbox-refresh"  # noqa: S105 - documented development credential


def from_connector(name: str, env: str, **changes: Any) -> Any:
    """`SageConfig`'s field `name` (bounds, default, description), read from `env`.

    `changes` are `Field` arguments the bridge sets differently (e.g. a default where the
    connector has none).
    """
    connector = SageConfig.model_fields[name]
    attributes = {**connector.asdict()["attributes"], "validation_alias": env, **changes}
    field: FieldInfo = Field(**attributes)
    field.metadata = [*connector.metadata, *field.metadata]  # gt, le, pattern...
    return field


class SageSettings(BaseModel):
    """Sage Active: the app's credentials, the organisation, the client's limits."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", populate_by_name=True, hide_input_in_errors=True
    )

    api_url: str | None = from_connector(
        "api_url",
        "SAGE_API_URL",
        default=None,
        description="Sage Active GraphQL endpoint (the URL of `/graphql` itself); unset: "
        "`bridge dev` runs the sandbox.",
    )
    auth_url: str = from_connector("auth_url", "SAGE_AUTH_URL")
    client_id: str = from_connector("client_id", "SAGE_CLIENT_ID", default=SANDBOX_CLIENT_ID)
    client_secret: SecretStr = from_connector(
        "client_secret", "SAGE_CLIENT_SECRET", default=SecretStr(SANDBOX_CLIENT_SECRET)
    )
    refresh_token: SecretStr = from_connector(
        "refresh_token", "SAGE_REFRESH_TOKEN", default=SecretStr(SANDBOX_REFRESH_TOKEN)
    )
    api_key: SecretStr = from_connector(
        "api_key", "SAGE_API_KEY", default=SecretStr(SANDBOX_API_KEY)
    )
    organization_id: str | None = from_connector("organization_id", "SAGE_ORGANIZATION_ID")
    redirect_uri: str = Field(
        default="http://127.0.0.1:8765/callback",
        validation_alias="SAGE_REDIRECT_URI",
        description="Callback of `bridge sage-login` (registered with the Sage app).",
    )
    timeout: float = from_connector("timeout", "SAGE_TIMEOUT")
    rate_limit_per_minute: int = from_connector(
        "rate_limit_per_minute", "SAGE_RATE_LIMIT_PER_MINUTE"
    )
    rate_headroom: float = from_connector("rate_headroom", "SAGE_RATE_HEADROOM")
    max_concurrent_mutations: int = from_connector(
        "max_concurrent_mutations", "SAGE_MAX_CONCURRENT_MUTATIONS"
    )
    max_retries: int = from_connector("max_retries", "SAGE_MAX_RETRIES")
    settlement_mutation: str = from_connector("settlement_mutation", "SAGE_SETTLEMENT_MUTATION")
    cache_ttl: int = from_connector("cache_ttl", "SAGE_CACHE_TTL")
    batch_max_operations: int = from_connector("batch_max_operations", "SAGE_BATCH_MAX_OPERATIONS")
    max_batch_cost: int = from_connector("max_batch_cost", "SAGE_BATCH_MAX_COST")
    writer_in_flight: int = from_connector("writer_in_flight", "SAGE_WRITER_IN_FLIGHT")
    circuit_threshold: int = from_connector("circuit_threshold", "SAGE_CIRCUIT_THRESHOLD")
    circuit_cooldown: float = from_connector("circuit_cooldown", "SAGE_CIRCUIT_COOLDOWN")

    def connector_values(self) -> dict[str, Any]:
        """The values of every field `SageConfig` also has, by name."""
        return {
            name: getattr(self, name)
            for name in type(self).model_fields
            if name in SageConfig.model_fields
        }


def env_name(name: str) -> str:
    """The environment variable of `SageSettings.<name>`."""
    alias = SageSettings.model_fields[name].validation_alias
    assert isinstance(alias, str), name
    return alias


def _flat_keys() -> dict[str, str]:
    """Flat keyword -> field name: the variable (any case) and the old `sage_<name>`."""
    keys: dict[str, str] = {}
    for name in SageSettings.model_fields:
        env = env_name(name)
        keys.update({env: name, env.lower(): name, f"sage_{name}": name})
    return keys


FLAT_KEYS: Mapping[str, str] = _flat_keys()


def split_flat(data: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(`data` without its flat Sage keys, their values by `SageSettings` field name)."""
    rest = {key: value for key, value in data.items() if key not in FLAT_KEYS}
    flat = {FLAT_KEYS[key]: value for key, value in data.items() if key in FLAT_KEYS}
    return rest, flat


def nest_flat(data: Mapping[str, Any]) -> dict[str, Any]:
    """`data` (a `Settings` input) with its flat Sage keys moved into `data["sage"]`.

    `data["sage"]` ends keyed by variable (as errors name them). A flat key wins over the
    same field in `data["sage"]`; there, a field given by name (a caller's) wins over its
    variable (a settings source's).
    """
    out, flat = split_flat(data)
    nested = out.get("sage")
    if not flat and not isinstance(nested, dict):
        return out
    given = dict(nested.model_dump() if isinstance(nested, SageSettings) else nested or {})
    names = {key: given.pop(key) for key in list(given) if key in SageSettings.model_fields}
    for name, value in {**names, **flat}.items():
        given[env_name(name)] = value
    out["sage"] = given
    return out


class FlatSageSource(PydanticBaseSettingsSource):
    """`SageSettings`' flat variables as one environment source (environment, `.env`) has
    them, as `{"sage": {...}}`; the source's own rules (case, prefix, dotenv file) apply."""

    def __init__(self, settings_cls: type[BaseSettings], source: EnvSettingsSource) -> None:
        super().__init__(settings_cls)
        self.source = source
        self.__name__ = f"FlatSageSource({type(source).__name__})"  # as pydantic logs it

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # `__call__` does the work

    def __call__(self) -> dict[str, Any]:
        found = {}
        for name, field in SageSettings.model_fields.items():
            value, _, _ = self.source.get_field_value(field, name)
            if value is not None:
                found[env_name(name)] = value
        return {"sage": found} if found else {}
