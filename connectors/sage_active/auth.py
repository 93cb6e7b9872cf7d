"""OAuth2 access tokens for Sage Active, shared by every process through Redis.

The access token lives at `<prefix>:token` (JSON with its expiry) and expires from Redis
`token_refresh_margin` seconds before Sage would refuse it. When it is missing, one
process takes the lock `<prefix>:token:lock` and refreshes; the others wait for the new
token instead of refreshing too (Sage may rotate refresh tokens, so concurrent refreshes
could invalidate each other). A refresh token stored at `<prefix>:refresh_token` (by
`exchange_code` or by a rotation) takes precedence over the configured one.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import Any

import httpx
import redis
from pydantic import BaseModel, ValidationError

from connectors.sage_active import jsonenc
from connectors.sage_active.config import SageConfig
from connectors.sage_active.errors import (
    SageAuthError,
    SageTransientError,
    classify_transport_error,
    parse_retry_after,
)

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
_LOCK_SECONDS = 30.0
_POLL = 0.05


class TokenResponse(BaseModel):
    access_token: str
    expires_in: int = 28800
    refresh_token: str | None = None
    token_type: str = "Bearer"  # noqa: S105 - a scheme name


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value.decode() if isinstance(value, bytes) else str(value)


class TokenManager:
    """Gets, caches and refreshes the access token; see the module docstring."""

    def __init__(
        self,
        config: SageConfig,
        redis_client: redis.Redis,
        http: httpx.Client,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._config = config
        self._redis = redis_client
        self._http = http
        self._clock = clock
        self._sleep = sleep
        self._token_key = config.key("token")
        self._lock_key = config.key("token", "lock")
        self._refresh_key = config.key("refresh_token")
        self.refresh_count = 0  # refreshes done by this process, for tests and metrics

    def access_token(self) -> str:
        """A valid access token, refreshing it (once across processes) when needed.

        Raises:
            SageAuthError: the token endpoint refused the refresh token or client.
            SageTransientError: the token endpoint failed or the wait for a peer timed out.
        """
        deadline = self._clock() + self._config.timeout + _LOCK_SECONDS
        while True:
            cached = _text(self._redis.get(self._token_key))
            if cached:
                return cached
            owner = secrets.token_hex(8)
            if self._redis.set(self._lock_key, owner, nx=True, px=int(_LOCK_SECONDS * 1000)):
                try:
                    cached = _text(self._redis.get(self._token_key))
                    return cached or self._refresh()
                finally:
                    self._redis.eval(_RELEASE, 1, self._lock_key, owner)
            if self._clock() > deadline:
                raise SageTransientError("timed out waiting for another process's token refresh")
            self._sleep(_POLL)

    def invalidate(self, token: str) -> None:
        """Forget `token` after Sage refused it, unless a peer already replaced it."""
        self._redis.eval(_RELEASE, 1, self._token_key, token)

    def exchange_code(self, code: str, redirect_uri: str) -> str:
        """First set-up: trade an authorization code for tokens; store both in Redis.

        Raises:
            SageAuthError: the code was refused (expired after 60 s, reused, wrong client).
            SageTransientError: the token endpoint failed.
        """
        token = self._grant(
            {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
        )
        if not token.refresh_token:
            raise SageAuthError("the token endpoint returned no refresh token (offline_access?)")
        return self._store(token)

    def _refresh(self) -> str:
        stored = _text(self._redis.get(self._refresh_key))
        refresh = stored or self._config.refresh_token.get_secret_value()
        # No `scope` on refresh: Sage reuses the original scopes (reference 00).
        token = self._grant({"grant_type": "refresh_token", "refresh_token": refresh})
        self.refresh_count += 1
        return self._store(token)

    def _store(self, token: TokenResponse) -> str:
        if token.refresh_token:
            self._redis.set(self._refresh_key, token.refresh_token)
        # Expire early so nobody sends a token about to die; short-lived tokens (sandbox
        # tests) keep half their life instead.
        lifetime = float(token.expires_in)
        margin = self._config.token_refresh_margin
        ttl = lifetime - margin if lifetime > 2 * margin else lifetime / 2
        ttl = max(ttl, 0.2)
        self._redis.set(self._token_key, token.access_token, px=int(ttl * 1000))
        return token.access_token

    def _grant(self, form: dict[str, str]) -> TokenResponse:
        form = {
            **form,
            "client_id": self._config.client_id,
            "client_secret": self._config.client_secret.get_secret_value(),
        }
        try:
            response = self._http.post(self._config.token_url, data=form)
        except httpx.TransportError as exc:
            raise classify_transport_error(exc) from None
        return self._parse_grant(response)

    def _parse_grant(self, response: httpx.Response) -> TokenResponse:
        status = response.status_code
        if status == 429 or status >= 500:
            retry_after = parse_retry_after(response.headers.get("Retry-After"), self._clock())
            raise SageTransientError(
                f"token endpoint failed (HTTP {status})", status=status, retry_after=retry_after
            )
        try:
            body = jsonenc.loads(response.content)
        except ValueError:
            body = None
        if status != 200:
            error = body.get("error") if isinstance(body, dict) else None
            raise SageAuthError(
                f"token grant refused (HTTP {status}, {error or 'no reason'})", status=status
            )
        try:
            return TokenResponse.model_validate(body)
        except ValidationError as exc:
            raise SageTransientError(
                f"unreadable token response: {exc.error_count()} errors", status=status
            ) from None
