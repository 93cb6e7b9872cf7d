"""The console's sessions: signed cookies for its pages only, `Secure` outside development,
and a server-side record per session so that a logout ends it for good.

The cookie alone (signed, 12 h) would stay valid after a logout if someone kept it; each
login therefore writes `bridge:_console_sessions:<sid>` (12 h), the cookie carries the sid,
every console request checks the record exists, and logout deletes it.
"""

from __future__ import annotations

import secrets

import redis
from flask import Flask, Request, request, session
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface

from bridge.settings import Environment
from bridge.web.common import current_hub

PREFIX = "/console"
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
SESSION_SECONDS = 12 * 3600


class ConsoleSessions(SecureCookieSessionInterface):
    """Signed-cookie sessions for the console's pages only.

    Webhooks, the admin API and health checks never use a session; opening one costs a
    signature check on every request of the ingress hot path, so elsewhere the session is
    the null one (read-only, and nothing is ever written back).
    """

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if not request.path.startswith(PREFIX):
            return self.null_session_class()
        return super().open_session(app, request)

    def get_cookie_secure(self, app: Flask) -> bool:
        """`Secure` outside development: `BRIDGE_SECURE_COOKIES` when set; else always
        outside `BRIDGE_ENV=development`, and in development for every host but a loopback
        one (`bridge dev` on http://127.0.0.1)."""
        settings = current_hub().base.settings
        if settings.secure_cookies is not None:
            return settings.secure_cookies
        if settings.environment is not Environment.DEVELOPMENT:
            return True
        host = request.host.rsplit(":", 1)[0].strip("[]").lower()
        return host not in LOOPBACK_HOSTS


def session_key(sid: str) -> str:
    """The server-side record of a console session (one for the deployment, whichever
    connection a page shows): a logout, or its 12 h, ends it."""
    return f"bridge:_console_sessions:{sid}"


def sessions_redis() -> redis.Redis:
    return current_hub().base.redis


def session_alive() -> bool:
    sid = str(session.get("sid", ""))
    return bool(sid) and bool(sessions_redis().exists(session_key(sid)))


def start_session() -> None:
    """A new server-side record for the session just logged in."""
    session["sid"] = secrets.token_urlsafe(24)
    sessions_redis().set(session_key(session["sid"]), "1", ex=SESSION_SECONDS)


def end_session() -> None:
    """End the session here and on the server: the cookie, even if kept, opens nothing."""
    sid = str(session.get("sid", ""))
    if sid:
        sessions_redis().delete(session_key(sid))
    session.clear()
