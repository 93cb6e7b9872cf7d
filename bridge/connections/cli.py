"""`bridge connections ...`: manage the connections from a shell (same rules as the API).

    bridge connections keygen                        a new BRIDGE_SECRET_KEY value
    bridge connections add NAME --shop x.myshopify.com --sage-organization ID --webhook-secret S
    bridge connections add NAME --stripe [--stripe-account acct_...] --sage-organization ID ...
    bridge connections add ... --register-webhooks --bridge-url https://bridge.example.com
        (with --shopify-access-token or --stripe-api-key: subscribes the bridge itself)
    bridge connections add ... --start-date 2026-11-01   (go-live date, BRIDGE_START_DATE)
    bridge connections list | show NAME
    bridge connections update NAME [--mapping JSON] [--webhook-secret S ...] [...]
    bridge connections disable NAME | enable NAME | remove NAME
    bridge connections rotate-key                    re-encrypt every secret with the first key
    bridge connections env-shop [--forget]           the environment's connection's shop

Secrets given on the command line are never printed back; `--webhook-secret -` reads them
from stdin (one a line) to keep them out of the shell's history.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from typing import Any

import click
from pydantic import ValidationError

from bridge.connections.at_rest import reseal
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
from bridge.connections.webhooks import bridge_base, register_shopify, register_stripe
from bridge.ops.operator import OperatorError, environment_settings, open_operator
from bridge.services import build_services
from bridge.settings import Settings
from connectors.http import ProviderApiError


def _settings() -> Settings:
    """The environment's settings, completed from a running `bridge dev` (see
    `bridge.ops.operator`)."""
    try:
        settings, _ = environment_settings()
    except OperatorError as exc:
        raise click.ClickException(str(exc)) from exc
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
@click.option(
    "--start-date",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Go-live date: orders dated before it are left to the books kept by hand.",
)
@click.option("--shopify-access-token", help="Admin API token (backfill, --register-webhooks).")
@click.option("--stripe-api-key", help="Secret or restricted key (backfill, --register-webhooks).")
@click.option(
    "--register-webhooks",
    is_flag=True,
    help="Subscribe the bridge to the provider's webhooks (Shopify: every topic it reads; "
    "Stripe: an endpoint whose signing secret is stored).",
)
@click.option("--bridge-url", help="The bridge's public base URL, for --register-webhooks.")
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
    start_date: dt.datetime | None,
    shopify_access_token: str | None,
    stripe_api_key: str | None,
    register_webhooks: bool,
    bridge_url: str | None,
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
    given = _mapping(mapping) or {}
    if start_date is not None:
        given["start_date"] = start_date.date().isoformat()
    secrets: dict[str, Any] = {
        "webhook_secrets": _secrets(webhook),
        "sage_refresh_token": sage_refresh_token,
        "shopify_access_token": shopify_access_token,
        "stripe_api_key": stripe_api_key,
    }
    body = {
        "name": name,
        "source": "stripe" if stripe else "shopify",
        "shop_domain": shop_domain,
        "stripe_account": stripe_account,
        "sage_organization_id": organization,
        "mapping": given,
        "secrets": secrets,
        "enabled": not disabled,
    }
    settings = _settings()
    hub = ServicesHub(build_services(settings))
    if register_webhooks:
        _register(settings, hub, body, bridge_url)
    stored = _run(lambda: hub.add(ConnectionCreate.model_validate(body)))
    _show(ConnectionView.of(stored))
    if stored.source.value == "stripe" and not register_webhooks:
        click.echo(f"Point Stripe at https://<bridge>/webhooks/stripe/{stored.name}", err=True)


def _register(settings: Settings, hub: ServicesHub, body: dict[str, Any], url: str | None) -> None:
    """Subscribe the bridge to the provider's webhooks before the connection is stored
    (Stripe's signing secret goes into `body`); nothing is stored if the provider refuses.

    Raises:
        click.ClickException, click.UsageError: what is missing, or what the provider said.
    """
    if not url:
        raise click.UsageError("--register-webhooks needs --bridge-url (its public https URL)")
    try:
        base = bridge_base(url)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    secrets = body["secrets"]
    stripe = body["source"] == "stripe"
    if not stripe and not secrets["shopify_access_token"]:
        raise click.UsageError("--register-webhooks needs --shopify-access-token")
    if stripe and not secrets["stripe_api_key"]:
        raise click.UsageError("--register-webhooks needs --stripe-api-key")
    # Everything else checked first (name, shop, mapping): no subscription for nothing.
    placeholder = {**secrets, "webhook_secrets": secrets["webhook_secrets"] or ["whsec_pending"]}
    spec = _run(lambda: ConnectionCreate.model_validate({**body, "secrets": placeholder}))
    if _run(hub.registry.snapshot).by_name.get(spec.name) is not None:
        raise click.ClickException(f"a connection named {spec.name!r} exists")
    try:
        if stripe:
            endpoint = register_stripe(
                settings, secrets["stripe_api_key"], base, spec.name, bool(spec.stripe_account)
            )
            secrets["webhook_secrets"] = [endpoint.secret, *(secrets["webhook_secrets"] or [])]
            click.echo(
                f"Stripe endpoint {endpoint.id} created for {endpoint.url} "
                f"({len(endpoint.enabled_events)} events, API version {endpoint.api_version}); "
                "its signing secret is stored",
                err=True,
            )
        else:
            done = register_shopify(
                settings, str(spec.shop_domain), secrets["shopify_access_token"], base
            )
            made = sum(1 for d in done if d.id)
            click.echo(
                f"Shopify: {made} webhook subscription(s) created, {len(done) - made} already "
                f"there, for {base}/webhooks/shopify",
                err=True,
            )
    except ProviderApiError as exc:
        raise click.ClickException(f"{exc} (nothing was stored)") from exc


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
@click.option(
    "--start-date",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Go-live date: orders dated before it are left to the books kept by hand.",
)
def update(
    name: str,
    shop_domain: str | None,
    stripe_account: str | None,
    organization: str | None,
    webhook: tuple[str, ...],
    sage_refresh_token: str | None,
    mapping: str | None,
    start_date: dt.datetime | None,
) -> None:
    """Change a connection: what is given replaces what is stored."""
    changed = _mapping(mapping)
    if start_date is not None:
        changed = {**(changed or {}), "start_date": start_date.date().isoformat()}
    secrets = {"webhook_secrets": _secrets(webhook), "sage_refresh_token": sage_refresh_token}
    body: dict[str, Any] = {
        "shop_domain": shop_domain,
        "stripe_account": stripe_account,
        "sage_organization_id": organization,
        "mapping": changed,
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


@connections.command("env-shop")
@click.option("--forget", is_flag=True, help="Forget the learnt shop (the next one is learnt).")
def env_shop(forget: bool) -> None:
    """The environment's connection's shop: SHOPIFY_SHOP_DOMAIN, else the one learnt from
    its first signed webhook (kept so that adding connections never cuts it off)."""
    settings = _settings()
    registry = ConnectionRegistry(build_services(settings).redis, lambda: SecretBox([]))
    if forget:
        forgotten = _run(lambda: registry.forget_env_shop(settings.connection))
        click.echo(f"forgot {forgotten}" if forgotten else "no learnt shop to forget")
        return
    learnt = _run(lambda: registry.env_shop(settings.connection))
    declared = settings.shopify_shop_domain
    if declared:
        click.echo(f"{declared} (SHOPIFY_SHOP_DOMAIN)")
    elif learnt:
        click.echo(f"{learnt} (learnt from its first signed webhook)")
    else:
        click.echo("none yet: the first shop signed with SHOPIFY_WEBHOOK_SECRET becomes it")


@connections.command("rotate-key")
def rotate_key() -> None:
    """Re-encrypt every stored secret with the first BRIDGE_SECRET_KEY value: connection
    secrets, Sage tokens and outbound signing secrets (those in clear are encrypted)."""
    registry = _registry()
    changed = _run(registry.rotate_key)
    click.echo(f"{changed} connection(s) re-encrypted with the first key")
    settings = _settings()
    names = [settings.connection, *(c.name for c in registry.all())]
    values = _run(lambda: reseal(registry.redis, settings.secret_key, names))
    click.echo(f"{values} Sage token(s) and outbound signing secret(s) re-encrypted")


def connection_settings_for(name: str | None) -> Settings:
    """The settings of connection `name` (None: the environment's), as the operator commands
    build them (`bridge.ops.operator`: a running `bridge dev` found when REDIS_URL is unset).

    Raises:
        click.ClickException: unknown connection, or its secrets cannot be read.
    """
    try:
        operator = open_operator(name)
    except OperatorError as exc:
        raise click.ClickException(str(exc)) from exc
    operator.close()
    return operator.settings
