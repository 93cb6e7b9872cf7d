"""The settings of an operator command (`doctor`, `replay`, `backfill`, `connections`,
`sage-login`...): the environment's, completed from a running `bridge dev`, for one
connection.

- **A running `bridge dev`**: when `REDIS_URL` is not set, the command reads the state file
  of `bridge dev` (`<state dir>/dev.json`; `BRIDGE_DEV_STATE_DIR`, `.bridge/` by default)
  and takes from it what
  the environment leaves unset: `REDIS_URL` (the embedded Redis takes a new port at each
  start), `SAGE_API_URL` / `SAGE_AUTH_URL` (the sandbox), the webhook secrets, the admin
  token and the Stripe stand-in. What the environment sets wins.
- **`--connection NAME`**: the settings that connection is served with (its mapping, its
  Sage organisation, its secrets), exactly as the worker builds them
  (`bridge.connections.hub`); the environment's connection by default.
- **A partial environment** (`missing_for_service`): a shell that lacks what the running
  bridge has (no Sage URL, no webhook secret) would make `bridge doctor` report problems
  the running bridge does not have. Such a report is printed, never stored where the
  console and the worker's hold read it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import SecretStr, ValidationError

from bridge.connections.hub import ServicesHub
from bridge.connections.registry import ROOT, RegistryError
from bridge.connections.secrets import SecretKeyError
from bridge.dev.state import RunInfo, running_instance
from bridge.dev.stripe_standin import STANDIN_KEY
from bridge.services import Services, build_services
from bridge.settings import Settings, load_settings


class OperatorError(Exception):
    """The command cannot run: the message says why and what to do."""


@dataclass
class Operator:
    """What an operator command works with: its connection's services, and where its
    settings came from."""

    services: Services
    base: Services  # the environment's connection (owns the Redis client)
    dev: RunInfo | None  # the running `bridge dev` the settings were completed from

    @property
    def settings(self) -> Settings:
        return self.services.settings

    def close(self) -> None:
        if self.services is not self.base:
            self.services.close()
        self.base.close()


def dev_overrides(settings: Settings, info: RunInfo) -> dict[str, Any]:
    """What a running `bridge dev` (`info`) adds to `settings`: only what they leave unset."""
    found: dict[str, Any] = {"redis_url": info.redis_url}
    if "api_url" not in settings.sage.model_fields_set:
        update = {"api_url": info.sage_api_url, "auth_url": info.sage_auth_url}
        found["sage"] = settings.sage.model_copy(update=update)
    if not settings.shopify_webhook_secret:
        found["shopify_webhook_secret"] = [SecretStr(info.shopify_webhook_secret)]
    if not settings.stripe_webhook_secret:
        found["stripe_webhook_secret"] = [SecretStr(info.stripe_webhook_secret)]
    if settings.admin_token is None:
        found["admin_token"] = SecretStr(info.admin_token)
    if info.stripe_standin_url and settings.stripe_api_key is None:
        found["stripe_api_key"] = SecretStr(STANDIN_KEY)
        found["stripe_api_url"] = info.stripe_standin_url
    return found


def environment_settings(state_dir: Path | None = None) -> tuple[Settings, RunInfo | None]:
    """The environment's settings, completed from a running `bridge dev` when `REDIS_URL`
    is unset.

    Raises:
        OperatorError: invalid settings, or no Redis to work with.
    """
    try:
        settings = load_settings()
    except ValidationError as exc:
        raise OperatorError(f"invalid settings: {exc}") from exc
    if settings.redis_url:
        return settings, None
    folder = state_dir or Path(settings.dev_state_dir)
    info = running_instance(folder)
    if info is None:
        raise OperatorError(
            "REDIS_URL is not set (e.g. redis://127.0.0.1:6379/0), and no running "
            f"`bridge dev` was found in {folder}/ (give its --state-dir)"
        )
    # model_copy: the values are the running instance's, already validated by its Settings.
    completed = settings.model_copy(update=dev_overrides(settings, info))
    for name in ("shopify_secrets", "stripe_secrets", "admin_tokens"):
        completed.__dict__.pop(name, None)  # cached from the environment's values
    return completed, info


def open_operator(connection: str | None = None, state_dir: Path | None = None) -> Operator:
    """The services of `connection` (None: the environment's), see the module docstring.

    Raises:
        OperatorError: invalid settings, no Redis, unknown connection, unreadable secrets.
    """
    settings, info = environment_settings(state_dir)
    base = build_services(settings)
    if connection is None or connection == settings.connection:
        if connection is None and base.redis.hexists(ROOT, settings.connection):
            base.close()  # BRIDGE_CONNECTION=shop-b would check the environment's mapping
            raise OperatorError(
                f"BRIDGE_CONNECTION={settings.connection} names a registered connection: "
                f"use --connection {settings.connection} (and leave BRIDGE_CONNECTION to "
                "the environment's own connection)"
            )
        return Operator(base, base, info)
    try:
        services = ServicesHub(base).services(connection)
    except (SecretKeyError, RegistryError) as exc:
        base.close()
        raise OperatorError(f"connection {connection!r}: {exc}") from exc
    except Exception:
        base.close()
        raise
    if services is None:
        base.close()
        raise OperatorError(f"no connection named {connection!r} (see `bridge connections list`)")
    return Operator(services, base, info)


def missing_for_service(settings: Settings) -> list[str]:
    """What a serving bridge has and `settings` lack (a partial environment): [] when
    they are complete enough for their doctor report to stand for the running bridge."""
    missing = []
    if not settings.sage.api_url:
        missing.append("SAGE_API_URL")
    if not settings.shopify_secrets and not settings.stripe_secrets:
        missing.append("SHOPIFY_WEBHOOK_SECRET / STRIPE_WEBHOOK_SECRET")
    return missing
