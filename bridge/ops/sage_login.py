"""`bridge sage-login`: the one-time OAuth authorization-code exchange with Sage Active.

1. Listen on `SAGE_REDIRECT_URI` (default `http://127.0.0.1:8765/callback`, which must be
   registered as a callback of the Sage app) for Sage's redirect.
2. Send the person to `<SAGE_AUTH_URL>/connect/authorize` (printed, and opened in a browser
   when there is one) with a random `state`.
3. On the redirect, check the `state` (a mismatch is refused: it did not come from our
   request), trade the code for tokens at `/connect/token`, and store the refresh token in
   Redis where the connector reads it first and keeps it rotated (`<prefix>:refresh_token`).

On a server without a browser, either tunnel the redirect to it (`ssh -L 8765:127.0.0.1:8765
server`, then `bridge sage-login --no-browser` there and open the URL on your laptop), or
listen on another interface with `--host` / `--port` (`bind`): `SAGE_REDIRECT_URI` then
names where the person's browser reaches that listener (e.g.
`https://bridge.example.com/sage-callback` behind a proxy that forwards to it), registered
with the Sage app; the one-time `state` still refuses any redirect our request did not start.
"""

from __future__ import annotations

import secrets
import threading
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from bridge.connections.at_rest import sealer
from bridge.services import build_services, sage_config
from bridge.settings import Settings
from connectors.sage_active.client import SageClient
from connectors.sage_active.errors import SageError

SCOPES = "RDSA WDSA offline_access"


class SageLoginError(RuntimeError):
    """The login did not complete; the message says why and what to do."""


class _Quiet(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return


@dataclass
class Callback:
    """Sage's redirect, as received by the local listener."""

    state: str
    code: str | None = None
    error: str | None = None
    arrived: threading.Event = field(default_factory=threading.Event)

    def app(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        if not hmac_equal(request.args.get("state", ""), self.state):
            answer = Response("Unexpected state: start `bridge sage-login` again.", status=400)
            return answer(environ, start_response)
        self.code = request.args.get("code")
        self.error = request.args.get("error_description") or request.args.get("error")
        self.arrived.set()
        text = "Sage Active login done: you can close this tab." if self.code else "Login refused."
        return Response(text, mimetype="text/plain")(environ, start_response)


def hmac_equal(given: str, expected: str) -> bool:
    """Constant-time comparison of two strings."""
    return secrets.compare_digest(given.encode(), expected.encode())


def authorize_url(settings: Settings, state: str) -> str:
    """The Sage authorization URL the person opens."""
    query = urllib.parse.urlencode(
        {
            "response_type": "code",
            "client_id": settings.sage.client_id,
            "scope": SCOPES,
            "redirect_uri": settings.sage.redirect_uri,
            "state": state,
        },
        quote_via=urllib.parse.quote,
    )
    return f"{settings.sage.auth_url.rstrip('/')}/connect/authorize?{query}"


@dataclass(frozen=True)
class Bind:
    """Where the listener binds when it is not the redirect URI's own (local) address."""

    host: str | None = None
    port: int | None = None


def _listen(settings: Settings, callback: Callback, bind: Bind) -> BaseWSGIServer:
    parsed = urllib.parse.urlsplit(settings.sage.redirect_uri)
    if bind.host is None and (
        parsed.scheme != "http" or parsed.hostname not in ("127.0.0.1", "localhost")
    ):
        raise SageLoginError(
            "SAGE_REDIRECT_URI must be http://127.0.0.1:<port>/<path> (a local listener), "
            "or give --host/--port for a listener the redirect reaches another way"
        )
    host = bind.host or parsed.hostname or "127.0.0.1"
    port = bind.port or parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        return make_server(host, port, callback.app, request_handler=_Quiet)
    except OSError as exc:
        raise SageLoginError(f"cannot listen on {host}:{port}: {exc}") from exc


def wait_for_code(
    settings: Settings, timeout: float, on_ready: Callable[[str], None], bind: Bind | None = None
) -> str:
    """Listen (on the redirect URI, or `bind`), call `on_ready(authorize URL)`, wait for
    Sage's redirect.

    Raises:
        SageLoginError: the address is taken, the login was refused, or it timed out.
    """
    callback = Callback(state=secrets.token_urlsafe(24))
    server = _listen(settings, callback, bind or Bind())
    thread = threading.Thread(target=server.serve_forever, name="sage-login", daemon=True)
    thread.start()
    try:
        on_ready(authorize_url(settings, callback.state))
        if not callback.arrived.wait(timeout):
            raise SageLoginError(f"no answer from Sage within {timeout:.0f}s: try again")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
    if not callback.code:
        raise SageLoginError(f"Sage refused the login: {callback.error or 'no code'}")
    return callback.code


def exchange(settings: Settings, code: str) -> str:
    """Trade `code` for tokens; the refresh token is stored in Redis. Returns the Redis key.

    Raises:
        SageLoginError: Sage refused the code (expired, reused, wrong client or secret).
        ConfigurationError: `REDIS_URL` or `SAGE_API_URL` is not set.
    """
    services = build_services(settings)
    config = sage_config(settings)
    try:
        with SageClient(config, services.redis, sealer=sealer(settings.secret_key)) as client:
            client.tokens.exchange_code(code, settings.sage.redirect_uri)
    except SageError as exc:
        raise SageLoginError(f"Sage refused the authorization code: {exc}") from exc
    finally:
        services.close()
    return config.key("refresh_token")
