"""`serve()`: run the sandbox on a threaded werkzeug server until Ctrl-C or SIGTERM."""

from __future__ import annotations

import signal
import threading

import click
from werkzeug.serving import make_server

from connectors.sage_active.sandbox.app import create_app
from connectors.sage_active.sandbox.config import SandboxConfig
from connectors.sage_active.sandbox.runtime import Sandbox


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def serve(config: SandboxConfig, host: str = "127.0.0.1", port: int = 8090) -> None:
    """Serve until interrupted, then save the state (when kept in a file) and stop.

    Raises:
        StateFileError: the state file cannot be read.
        OSError: the address is in use.
    """
    app = create_app(config)
    box: Sandbox = app.extensions["sandbox"]
    server = make_server(host, port, app, threaded=True)
    base = f"http://{host}:{server.server_port}"
    org = box.state.default_books().organization
    click.echo(f"Sage Active sandbox on {base}")
    click.echo(f"  GraphQL     {base}/graphql")
    click.echo(f"  OAuth token {base}/connect/token  (client {config.client_id})")
    click.echo(f"  Control     {base}/_sandbox/  (reset, seed, faults, stats)")
    click.echo(f"  Organisation {org.social_name}: X-OrganizationId {org.id}")
    if config.state_file:
        click.echo(f"  State kept in {config.state_file}")
    if threading.current_thread() is threading.main_thread():
        # `docker stop` and process managers send SIGTERM: stop as cleanly as on Ctrl-C.
        signal.signal(signal.SIGTERM, _interrupt)
    try:
        server.serve_forever()  # werkzeug's returns on Ctrl-C (KeyboardInterrupt)
    finally:
        server.server_close()
        box.close()
        click.echo("sandbox stopped")
