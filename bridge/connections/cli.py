"""`bridge connections ...`: manage the connections from a shell (same rules as the API).

    bridge connections keygen                        a new BRIDGE_SECRET_KEY value
    bridge connections add NAME --shop x.myshopify.com --sage-organization ID --webhook-secret S
    bridge connections add NAME --stripe [--stripe-account acct_...] --sage-organization ID ...
    bridge connections list | show NAME
    bridge connections update NAME [--mapping JSON] [--webhook-secret S ...] [...]
    bridge connections disable NAME | enable NAME | remove NAME
    bridge connections rotate-key                    re-encrypt every secret with the first key

Secrets given on the command line are never printed back; `--webhook-secret -` reads them
from stdin (one a line) to keep them out of the shell's history.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click
from pydantic import ValidationError

from bridge.connections.hub import ServicesHub
from bridge.connections.models import (
    ConnectionCreate,
    ConnectionMapping,
    ConnectionUpdate,
    ConnectionView,
)
from bridge.connections.organization_check import check_organization
from bridge.connections.registry import ConnectionRegistry, RegistryError
from bridge.connections.secrets import SecretBox, SecretKeyError, new_key
from bridge.services import Services, build_services
from bridge.settings import Settings, load_settings


def _settings() -> Settings:
    try:
        settings = load_settings()
    except ValidationError as exc:
        raise click.ClickException(f"invalid settings: {exc}") from exc
    if not settings.redis_url:
        raise click.ClickException("REDIS_URL is not set (e.g. redis://127.0.0.1:6379/0)")
    return settings


def _registry() -> ConnectionRegistry:
    settings = _settings()
    services = build_services(settings)
    return ConnectionRegistry(services.redis, lambda: SecretBox(settings.secret_key))


def _secrets(values: tuple[str, ...]) -> list[str] | None:
    if values == ("-",):
        return [line.strip() for line in sys.stdin if line.strip()]
    return list(values) or None


def _mapping(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise click.BadParameter(f"not JSON: {exc}", param_hint="--mapping") from exc
    if not isinstance(value, dict):
        raise click.BadParameter("a JSON object", param_hint="--mapping")
    _run(lambda: ConnectionMapping.model_validate(value))  # named before anything is written
    return dict(value)


def _run(action: Any) -> Any:
    try:
        return action()
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'input'}: {e['msg']}"
            for e in exc.errors(include_url=False, include_input=False)
        )
        raise click.ClickException(problems) from exc
    except (RegistryError, SecretKeyError) as exc:
        raise click.ClickException(str(exc)) from exc


def _show(view: ConnectionView) -> None:
    click.echo(json.dumps(view.model_dump(mode="json"), indent=2))


@click.group("connections")
def connections() -> None:
    """Shops, Stripe accounts and Sage organisations served by this deployment."""


@connections.command()
def keygen() -> None:
    """Print a new key for BRIDGE_SECRET_KEY (put it first to rotate, keep the old after)."""
    click.echo(new_key())


@connections.command()
@click.argument("name")
@click.option("--shop", "shop_domain", help="Shopify shop domain (a Shopify connection).")
@click.option("--stripe", "stripe", is_flag=True, help="A Stripe connection.")
@click.option("--stripe-account", help="Stripe Connect account id (acct_...), if any.")
@click.option("--sage-organization", "organization", required=True, help="X-OrganizationId.")
@click.option("--webhook-secret", "webhook", multiple=True, help="Signing secret ('-': stdin).")
@click.option("--sage-refresh-token", help="Until `bridge sage-login --connection NAME` ran.")
@click.option("--mapping", help='JSON, e.g. {"sales_journal_code": "VE"} (see README).')
@click.option("--disabled", is_flag=True, help="Add it paused (its events wait).")
@click.option(
    "--skip-sage-check", is_flag=True, help="Do not ask Sage whether the organisation is READY."
)
def add(
    name: str,
    shop_domain: str | None,
    stripe: bool,
    stripe_account: str | None,
    organization: str,
    webhook: tuple[str, ...],
    sage_refresh_token: str | None,
    mapping: str | None,
    disabled: bool,
    skip_sage_check: bool,
) -> None:
    """Add a connection; prints it (secrets only as fingerprints). Its Sage organisation
    must be READY and onboarded (checked in Sage unless --skip-sage-check)."""
    if bool(shop_domain) == stripe:
        raise click.UsageError("give either --shop DOMAIN or --stripe")
    if not skip_sage_check:
        ok, message = check_organization(_settings(), name, organization, sage_refresh_token)
        if not ok:
            raise click.ClickException(message)
        if message:
            click.echo(message, err=True)
    body = {
        "name": name,
        "source": "stripe" if stripe else "shopify",
        "shop_domain": shop_domain,
        "stripe_account": stripe_account,
        "sage_organization_id": organization,
        "mapping": _mapping(mapping) or {},
        "secrets": {"webhook_secrets": _secrets(webhook), "sage_refresh_token": sage_refresh_token},
        "enabled": not disabled,
    }
    registry = _registry()
    stored = _run(lambda: registry.add(ConnectionCreate.model_validate(body)))
    _show(ConnectionView.of(stored))
    if stored.source.value == "stripe":
        click.echo(f"Point Stripe at https://<bridge>/webhooks/stripe/{stored.name}", err=True)


@connections.command("list")
def list_() -> None:
    """One line per connection: name, source, organisation, state."""
    for stored in _run(_registry().all):
        source = stored.shop_domain or stored.stripe_account or f"/webhooks/stripe/{stored.name}"
        state = "enabled" if stored.enabled else "disabled"
        click.echo(
            f"{stored.name}\t{stored.source.value}\t{source}\t{stored.sage_organization_id}\t{state}"
        )


@connections.command()
@click.argument("name")
def show(name: str) -> None:
    """A connection (secrets only as fingerprints)."""
    registry = _registry()
    _show(ConnectionView.of(_run(lambda: registry.require(name))))


@connections.command()
@click.argument("name")
@click.option("--shop", "shop_domain")
@click.option("--stripe-account")
@click.option("--sage-organization", "organization")
@click.option("--webhook-secret", "webhook", multiple=True, help="Replaces all ('-': stdin).")
@click.option("--sage-refresh-token")
@click.option("--mapping", help="JSON merged over the stored mapping.")
def update(
    name: str,
    shop_domain: str | None,
    stripe_account: str | None,
    organization: str | None,
    webhook: tuple[str, ...],
    sage_refresh_token: str | None,
    mapping: str | None,
) -> None:
    """Change a connection: what is given replaces what is stored."""
    secrets = {"webhook_secrets": _secrets(webhook), "sage_refresh_token": sage_refresh_token}
    body: dict[str, Any] = {
        "shop_domain": shop_domain,
        "stripe_account": stripe_account,
        "sage_organization_id": organization,
        "mapping": _mapping(mapping),
        "secrets": secrets if any(v is not None for v in secrets.values()) else None,
    }
    registry = _registry()
    change = _run(lambda: ConnectionUpdate.model_validate(body))
    _show(ConnectionView.of(_run(lambda: registry.update(name, change))))


@connections.command()
@click.argument("name")
def disable(name: str) -> None:
    """Pause a connection: its webhooks are still accepted, its events wait."""
    registry = _registry()
    _run(lambda: registry.set_enabled(name, False))
    click.echo(f"{name}: disabled (its events wait until `bridge connections enable {name}`)")


@connections.command()
@click.argument("name")
def enable(name: str) -> None:
    """Resume a connection: the events that waited are processed."""
    registry = _registry()
    _run(lambda: registry.set_enabled(name, True))
    click.echo(f"{name}: enabled")


@connections.command()
@click.argument("name")
@click.confirmation_option(prompt="Remove this connection? Its webhooks will be refused.")
def remove(name: str) -> None:
    """Forget a connection (its events and links stay in Redis under bridge:NAME:)."""
    registry = _registry()
    _run(lambda: registry.remove(name))
    click.echo(f"{name}: removed")


@connections.command("rotate-key")
def rotate_key() -> None:
    """Re-encrypt every stored secret with the first BRIDGE_SECRET_KEY value."""
    changed = _run(_registry().rotate_key)
    click.echo(f"{changed} connection(s) re-encrypted with the first key")


def connection_settings_for(name: str | None) -> Settings:
    """The settings of connection `name` (None: the environment's), for `bridge sage-login`.

    Raises:
        click.ClickException: unknown connection, or its secrets cannot be read.
    """
    settings = _settings()
    if name is None or name == settings.connection:
        return settings
    hub = ServicesHub(build_services(settings))
    services: Services | None = _run(lambda: hub.services(name))
    if services is None:
        raise click.ClickException(f"no connection named {name!r}")
    return services.settings
