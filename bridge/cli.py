"""The `bridge` console script: one command group, one sub-command per process or tool.

Every command that serves HTTP takes `--host` and `--port`. Commands build the settings
once (`load_settings`) and hand them to the code they start.
"""

from __future__ import annotations

import click

from bridge import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="bridge")
def main() -> None:
    """Sage Active Bridge: Shopify and Stripe events booked in Sage Active."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8090, show_default=True, type=int, help="Port to listen on.")
@click.option(
    "--state-file",
    type=click.Path(dir_okay=False),
    default=None,
    help="Keep the sandbox's books in this file, so a restart keeps them.",
)
@click.option(
    "--token-lifetime",
    default=28800,
    show_default=True,
    type=int,
    help="Lifetime of issued access tokens, in seconds.",
)
@click.option(
    "--rate-limit",
    default=3000,
    show_default=True,
    type=int,
    help="Requests per minute per client before HTTP 429.",
)
def sandbox(
    host: str, port: int, state_file: str | None, token_lifetime: int, rate_limit: int
) -> None:
    """Run the Sage Active sandbox alone (GraphQL at /graphql, OAuth at /connect/token)."""
    from connectors.sage_active.sandbox import SandboxConfig, serve

    config = SandboxConfig(
        state_file=state_file, token_lifetime=token_lifetime, rate_limit_per_minute=rate_limit
    )
    serve(config, host=host, port=port)


if __name__ == "__main__":  # pragma: no cover
    main()
