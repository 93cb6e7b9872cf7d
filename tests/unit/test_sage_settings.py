"""Sage's settings are declared once: `Settings.sage` takes its fields' bounds, defaults and
descriptions from the connector's `SageConfig`, the flat `SAGE_*` variables fill it, and
`sage_config` builds the connector's configuration from it by name."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import pytest
from pydantic import SecretStr, ValidationError

from bridge.dev.state import RunInfo
from bridge.ops import config_reference
from bridge.ops.operator import dev_overrides
from bridge.sage_settings import SageSettings, env_name
from bridge.services import sage_config
from bridge.settings import Settings
from connectors.sage_active.config import SageConfig

SHARED = sorted(set(SageSettings.model_fields) & set(SageConfig.model_fields))
# Where the bridge's default differs from the connector's (which has none, or requires one).
BRIDGE_DEFAULTS = {"api_url", "client_id", "client_secret", "refresh_token", "api_key"}
# Connector fields the bridge leaves at the connector's defaults or derives itself.
NOT_CONFIGURED = {
    "rate_burst",
    "max_limiter_wait",
    "mutation_lease",
    "backoff_base",
    "backoff_max",
    "token_refresh_margin",
    "writer_lease",
    "key_prefix",  # the connection's namespace: `Settings.key("sage")`
    "limiter_prefix",
}


@pytest.fixture(autouse=True)
def _no_sage_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in SageSettings.model_fields:
        monkeypatch.delenv(env_name(name), raising=False)


def settings(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)


def other_value(name: str) -> Any:
    """A valid value of `SageSettings.<name>` that is not its default."""
    field = SageSettings.model_fields[name]
    default = field.default
    if isinstance(default, bool):
        return not default
    if isinstance(default, int):
        return default + 1
    if isinstance(default, float):
        return default / 2
    if isinstance(default, SecretStr):
        return SecretStr(f"secret{name}")
    return f"https://{name}.example/graphql" if name.endswith("url") else f"value{name}"


def test_every_connector_field_is_configured_by_the_settings_or_left_on_purpose() -> None:
    assert set(SageConfig.model_fields) - set(SHARED) == NOT_CONFIGURED


@pytest.mark.parametrize("name", SHARED)
def test_bounds_defaults_and_descriptions_are_the_connectors(name: str) -> None:
    # Not equal copies: the very objects the connector declares (change one, both change).
    ours, connector = SageSettings.model_fields[name], SageConfig.model_fields[name]
    assert len(ours.metadata) == len(connector.metadata)  # gt, le, pattern...
    assert all(a is b for a, b in zip(ours.metadata, connector.metadata, strict=True))
    if name in BRIDGE_DEFAULTS:
        assert ours.default != connector.default
    else:
        assert ours.default is connector.default
        assert ours.description is connector.description
    assert ours.description
    assert ours.annotation in (connector.annotation, Optional[connector.annotation])  # noqa: UP045


def test_every_field_reaches_the_connector_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    values = {name: other_value(name) for name in SHARED}
    for name, value in values.items():
        text = value.get_secret_value() if isinstance(value, SecretStr) else str(value)
        monkeypatch.setenv(env_name(name), text)
    config = sage_config(settings(BRIDGE_CONNECTION="shop-1"))
    for name, value in values.items():
        got = getattr(config, name)
        if isinstance(value, SecretStr):
            assert got.get_secret_value() == value.get_secret_value(), name
        else:
            assert got == value, name
    assert config.key_prefix == "bridge:shop-1:sage"


def test_sage_timeout_in_the_environment_reaches_the_connector(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SAGE_API_URL", "http://127.0.0.1:1/graphql")
    monkeypatch.setenv("SAGE_TIMEOUT", "7")
    config = sage_config(settings())
    assert config.timeout == 7.0
    assert config.api_url == "http://127.0.0.1:1/graphql"


def test_a_dotenv_file_fills_sage_and_the_environment_wins_over_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("SAGE_TIMEOUT=9\nSAGE_BATCH_MAX_COST=1234\nSAGE_ORGANIZATION_ID=org-a\n")
    monkeypatch.setenv("SAGE_ORGANIZATION_ID", "org-b")
    loaded = Settings(_env_file=env_file)
    assert (loaded.sage.timeout, loaded.sage.max_batch_cost) == (9.0, 1234)
    assert loaded.sage.organization_id == "org-b"


def test_a_bound_is_checked_at_start_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAGE_RATE_HEADROOM", "1.5")
    with pytest.raises(ValidationError) as caught:
        settings()
    errors = caught.value.errors()
    assert [(e["loc"], e["type"]) for e in errors] == [
        (("sage", "SAGE_RATE_HEADROOM"), "less_than_equal")
    ]
    assert "sage.SAGE_RATE_HEADROOM" in str(caught.value)
    assert "1.5" not in str(caught.value)  # inputs hidden: a bad value may be a secret


def test_a_bound_stated_by_the_connector_only_is_checked_too() -> None:
    # Only `SageConfig` said it (`pattern`); the bridge now refuses it at start, not on use.
    with pytest.raises(ValidationError, match="SAGE_SETTLEMENT_MUTATION"):
        settings(SAGE_SETTLEMENT_MUTATION="not a mutation")


def test_the_flat_keyword_forms_still_set_sage(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAGE_TIMEOUT", "7")  # a keyword wins over the environment
    assert settings(SAGE_TIMEOUT=5).sage.timeout == 5.0
    assert settings(sage_timeout=4).sage.timeout == 4.0
    assert settings(sage_batch_max_cost=1000).sage.max_batch_cost == 1000
    assert settings(sage={"timeout": 3}).sage.timeout == 3.0
    assert settings(sage=SageSettings(timeout=2)).sage.timeout == 2.0
    assert settings().sage.timeout == 7.0
    with pytest.raises(ValidationError, match="SAGE_TIMEOUT"):
        settings(sage_timeout=0)


def test_model_copy_with_a_flat_key_updates_sage() -> None:
    base = settings(SAGE_ORGANIZATION_ID="org-a", SAGE_TIMEOUT=5)
    copied = base.model_copy(update={"sage_organization_id": "org-b", "connection": "c2"})
    assert (copied.sage.organization_id, copied.sage.timeout) == ("org-b", 5.0)
    assert (copied.connection, base.sage.organization_id) == ("c2", "org-a")


def test_the_configuration_reference_lists_every_sage_variable() -> None:
    rows = {env.split("`")[1]: (group, default, text) for group, env, default, text in (
        config_reference.rows()
    )}  # fmt: skip
    for name, field in SageSettings.model_fields.items():
        group, default, text = rows[env_name(name)]
        assert group == "Sage Active"
        assert text == " ".join((field.description or "").split()).replace("|", "\\|")
        assert default == config_reference.default_text(field)
    assert rows["SAGE_TIMEOUT"][1] == "`30.0`"
    assert "SAGE" not in rows  # the nested model is not a variable
    assert not [env for env in config_reference.undescribed() if "SAGE" in env]


def test_a_running_bridge_dev_fills_in_sage_only_when_not_given() -> None:
    info = RunInfo(
        pid=1, web_url="http://127.0.0.1:8000", redis_url="redis://127.0.0.1:1/0",
        sage_api_url="http://127.0.0.1:8090/graphql", sage_auth_url="http://127.0.0.1:8090",
        sandbox_url="http://127.0.0.1:8090", admin_token="t", shopify_webhook_secret="s",
        stripe_webhook_secret="whsec_x", state_dir="/tmp/x",
    )  # fmt: skip
    unset = settings(SAGE_TIMEOUT=5)
    completed = unset.model_copy(update=dev_overrides(unset, info))
    assert (completed.sage.api_url, completed.sage.auth_url) == (
        "http://127.0.0.1:8090/graphql",
        "http://127.0.0.1:8090",
    )
    assert completed.sage.timeout == 5.0
    given = settings(SAGE_API_URL="https://api.fr.active.sage.com/graphql")
    kept = given.model_copy(update=dev_overrides(given, info))
    assert kept.sage.api_url == "https://api.fr.active.sage.com/graphql"
