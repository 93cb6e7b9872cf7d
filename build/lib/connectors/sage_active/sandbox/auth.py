"""OAuth2 as Sage's identity server does it, in memory: codes, tokens, and the rate limit.

Access tokens are opaque random strings that expire after `token_lifetime` seconds;
authorization codes are valid once, for `code_lifetime` seconds; the configured refresh
token and every refresh token issued here stay valid until a reset.

To act out a refused connection (`POST /_sandbox/auth`): `refuse_grants` makes every
refresh-token grant answer `invalid_grant` (as Sage does for a revoked or expired refresh
token) until it is turned off; `revoke_access()` forgets every access token issued so far,
so the API answers 401 until a new grant. Authorization-code grants (`bridge sage-login`)
still work, like a person logging in again.
"""

from __future__ import annotations

import math
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass

from connectors.sage_active.sandbox.config import SandboxConfig

SCOPE = "RDSA WDSA offline_access"


class OAuthError(Exception):
    """An OAuth error answer: `error` code and HTTP status (400 or 401)."""

    def __init__(self, error: str, status: int = 400) -> None:
        super().__init__(error)
        self.error = error
        self.status = status


@dataclass(slots=True)
class _Code:
    client_id: str
    redirect_uri: str
    expires_at: float


class Tokens:
    """Issues and checks codes and tokens for the one configured client."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self._lock = threading.Lock()
        self._access: dict[str, tuple[str, float]] = {}
        self._refresh: dict[str, str] = {config.refresh_token: config.client_id}
        self._codes: dict[str, _Code] = {}
        self.refuse_grants = False

    def revoke_access(self) -> int:
        """Forget every access token issued so far; how many there were."""
        with self._lock:
            count = len(self._access)
            self._access.clear()
        return count

    def authorize(
        self, client_id: str | None, redirect_uri: str | None, response_type: str | None
    ) -> str:
        """A fresh authorization code (the user approves at once).

        Raises:
            OAuthError: invalid_request, unsupported_response_type or unauthorized_client.
        """
        if not redirect_uri or not client_id:
            raise OAuthError("invalid_request")
        if response_type != "code":
            raise OAuthError("unsupported_response_type")
        if client_id != self.config.client_id:
            raise OAuthError("unauthorized_client")
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._codes[code] = _Code(
                client_id, redirect_uri, time.monotonic() + self.config.code_lifetime
            )
        return code

    def grant(self, form: dict[str, str]) -> dict[str, object]:
        """The token endpoint: refresh_token and authorization_code grants.

        Raises:
            OAuthError: invalid_client (401), invalid_request, invalid_grant,
                unsupported_grant_type.
        """
        client_ok = secrets.compare_digest(form.get("client_id", ""), self.config.client_id)
        secret_ok = secrets.compare_digest(form.get("client_secret", ""), self.config.client_secret)
        if not (client_ok and secret_ok):
            raise OAuthError("invalid_client", 401)
        grant_type = form.get("grant_type")
        if grant_type == "refresh_token":
            if self.refuse_grants:
                raise OAuthError("invalid_grant")
            with self._lock:
                if self._refresh.get(form.get("refresh_token", "")) != self.config.client_id:
                    raise OAuthError("invalid_grant")
        elif grant_type == "authorization_code":
            self._redeem(form.get("code", ""), form.get("redirect_uri"))
        elif not grant_type:
            raise OAuthError("invalid_request")
        else:
            raise OAuthError("unsupported_grant_type")
        return self._issue()

    def _redeem(self, code: str, redirect_uri: str | None) -> None:
        with self._lock:
            found = self._codes.pop(code, None)  # once only, even when it fails below
        if found is None or found.expires_at < time.monotonic():
            raise OAuthError("invalid_grant")
        if redirect_uri is not None and redirect_uri != found.redirect_uri:
            raise OAuthError("invalid_grant")

    def _issue(self) -> dict[str, object]:
        access = secrets.token_urlsafe(32)
        refresh = secrets.token_hex(32).upper()
        lifetime = self.config.token_lifetime
        now = time.monotonic()
        with self._lock:
            # Forget expired tokens, so a long-running sandbox does not grow without end.
            self._access = {k: v for k, v in self._access.items() if v[1] > now}
            self._access[access] = (self.config.client_id, now + lifetime)
            self._refresh[refresh] = self.config.client_id
        return {
            "access_token": access,
            "expires_in": lifetime,
            "refresh_token": refresh,
            "scope": SCOPE,
            "token_type": "Bearer",
        }

    def client_for(self, authorization: str | None, api_key: str | None) -> str | None:
        """The client id behind a valid `Bearer` token and `x-api-key`, else None."""
        if not api_key or not secrets.compare_digest(api_key, self.config.api_key):
            return None
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            return None
        with self._lock:
            found = self._access.get(token.strip())
        if found is None or found[1] < time.monotonic():
            return None
        return found[0]


class RateLimiter:
    """A sliding 60-second window of requests per client."""

    WINDOW = 60.0

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self._lock = threading.Lock()
        self._seen: dict[str, deque[float]] = {}

    def reset(self) -> None:
        with self._lock:
            self._seen.clear()

    def admit(self, client_id: str) -> int | None:
        """None when the request may go on, else the seconds to wait (Retry-After)."""
        now = time.monotonic()
        with self._lock:
            seen = self._seen.setdefault(client_id, deque())
            while seen and seen[0] <= now - self.WINDOW:
                seen.popleft()
            if len(seen) >= self.config.rate_limit_per_minute:
                oldest = seen[0] if seen else now
                return max(1, math.ceil(oldest + self.WINDOW - now))
            seen.append(now)
            return None
