"""A local Sage Active: the GraphQL API, OAuth and a control surface, for building without
a Sage account. See the README section "Sage Active sandbox".

`create_app(config)` gives the WSGI app, `serve(config, host, port)` runs it.
"""

from connectors.sage_active.sandbox.app import create_app
from connectors.sage_active.sandbox.config import SandboxConfig
from connectors.sage_active.sandbox.seed import seed_id
from connectors.sage_active.sandbox.server import serve

__all__ = ["SandboxConfig", "create_app", "seed_id", "serve"]
