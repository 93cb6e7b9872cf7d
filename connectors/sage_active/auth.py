"""OAuth2 access tokens for Sage Active, shared by every process through Redis.

The access token lives at `<prefix>:token` (JSON with its expiry) and expires from Redis
`token_refresh_margin` seconds before Sage would refuse it. When it is missing, one
process takes the lock `<prefix>:token:lock` and refreshes; the others wait for the new
token instead of refreshing too (Sage may rotate refresh tokens, so concurrent refreshes
could invalidate each other). A refresh token stored at `<prefix>:refresh_token` (by
`exchange_code` or by a rotation) takes precedence over the configured one.

Needs login: when the token endpoint refuses the grant (`invalid_grant`, `invalid_client`)
with the stored refresh token AND with the configured one (a stored rotated token that is
refused while the configured one works is simply replaced), or Sage refuses a freshly
refreshed access token, the connection is marked "needs login" at `<prefix>:needs_login`
(JSON: since, reason), for every process. From then on `access_token` fails at once with
`SageAuthError(needs_login=True)` instead of asking the token endpoint again and again;
`probe()` (run every few seconds by each worker's gate probe) tries a grant, and any grant
that succeeds (`probe`, `exchange_code` by `bridge sage-login`) clears the mark. The
process that sets the mark calls `on_needs_login(reason)` once: the single alert.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from typing import Any

import httpx
import redis
from pydantic import BaseModel, ValidationError

from connectors.sage_active import jsonenc
from connectors.sage_active.circuit import CircuitBreaker
from connectors.sage_active.config import SageConfig
from connectors.sage_active.errors import (
    SageAuthError,
    SageCircuitOpen,
    SageTransientError,
    classify_transport_error,
    parse_retry_after,
)
from connectors.sealing import Plain, Sealer

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
_LOCK_SECONDS = 30.0
_POLL = 0.05

log = logging.getLogger(__name__)
NeedsLoginHook = Callable[[str], None]


class NeedsLogin(BaseModel):
    """The "needs login" mark: since when (unix seconds) and why."""

    since: float
    reason: str


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
        circuit: CircuitBreaker | None = None,
        on_needs_login: NeedsLoginHook | None = None,
        sealer: Sealer | None = None,
    ) -> None:
        self._config = config
        self._sealer: Sealer = sealer or Plain()  # tokens encrypted at rest when given one
        self._circuit = circuit
        self._on_needs_login = on_needs_login
        self._redis = redis_client
        self._http = http
        self._clock = clock
        self._sleep = sleep
        self._token_key = config.key("token")
        self._lock_key = config.key("token", "lock")
        self._refresh_key = config.key("refresh_token")
        self.needs_login_key = config.key("needs_login")
        self.refresh_count = 0  # refreshes done by this process, for tests and metrics

    def access_token(self) -> str:
        """A valid access token, refreshing it (once across processes) when needed.

        Raises:
            SageAuthError: the connection needs a login (`needs_login` is True), or the
                token endpoint refused the client.
            SageTransientError: the token endpoint failed or the wait for a peer timed out.
        """
        deadline = self._clock() + self._config.timeout + _LOCK_SECONDS
        while True:
            cached = self._cached()
            if cached:
                return cached
            mark = self.needs_login()
            if mark is not None:
                raise SageAuthError(f"Sage needs a new login: {mark.reason}", needs_login=True)
            owner = secrets.token_hex(8)
            if self._redis.set(self._lock_key, owner, nx=True, px=int(_LOCK_SECONDS * 1000)):
                try:
                    return self._cached() or self._refresh()
                finally:
                    self._redis.eval(_RELEASE, 1, self._lock_key, owner)
            if self._clock() > deadline:
                raise SageTransientError("timed out waiting for another process's token refresh")
            self._sleep(_POLL)

    def _cached(self) -> str | None:
        """The access token in Redis (None when absent, or sealed with a key we lack)."""
        raw = _text(self._redis.get(self._token_key))
        if not raw:
            return None
        try:
            return self._sealer.open(raw)
        except RuntimeError as exc:  # SecretKeyError: a key dropped too early
            log.warning("the cached Sage access token cannot be opened (%s): refreshing", exc)
            return None

    def _stored_refresh(self) -> str | None:
        """The refresh token in Redis (None when absent, or sealed with a key we lack)."""
        raw = _text(self._redis.get(self._refresh_key))
        if not raw:
            return None
        try:
            return self._sealer.open(raw)
        except RuntimeError as exc:
            log.warning("the stored Sage refresh token cannot be opened (%s)", exc)
            return None

    def needs_login(self) -> NeedsLogin | None:
        """The "needs login" mark, or None while tokens work."""
        raw = _text(self._redis.get(self.needs_login_key))
        return NeedsLogin.model_validate_json(raw) if raw else None

    def mark_needs_login(self, reason: str) -> bool:
        """Mark the connection "needs login" (forgetting the access token); True when this
        call set the mark, in which case `on_needs_login` was called: the one alert."""
        mark = NeedsLogin(since=self._clock(), reason=reason)
        self._redis.delete(self._token_key)
        if not self._redis.set(self.needs_login_key, mark.model_dump_json(), nx=True):
            return False
        log.error("Sage needs a new login (run `bridge sage-login`): %s", reason)
        if self._on_needs_login is not None:
            self._on_needs_login(reason)
        return True

    def probe(self) -> bool:
        """Try a grant if the connection needs a login; True when tokens work (again).

        Never raises for Sage's answers: a refusal or an outage is simply False.
        """
        if self.needs_login() is None:
            return True
        owner = secrets.token_hex(8)
        if not self._redis.set(self._lock_key, owner, nx=True, px=int(_LOCK_SECONDS * 1000)):
            return False  # a peer is refreshing right now
        try:
            self._refresh()
        except (SageAuthError, SageTransientError) as exc:
            log.info("Sage login probe: still refused (%s)", exc)
            return False
        finally:
            self._redis.eval(_RELEASE, 1, self._lock_key, owner)
        log.warning("Sage tokens work again: processing resumes")
        return True

    def invalidate(self, token: str) -> None:
        """Forget `token` after Sage refused it, unless a peer already replaced it."""
        raw = _text(self._redis.get(self._token_key))
        if raw and self._cached() == token:
            self._redis.eval(_RELEASE, 1, self._token_key, raw)

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
        """A new access token from the stored refresh token, else the configured one.

        Raises:
            SageAuthError: both were refused (the connection is marked "needs login").
            SageTransientError: the token endpoint failed (or its circuit is open).
        """
        stored = self._stored_refresh()
        configured = self._config.refresh_token.get_secret_value()
        try:
            token = self._refresh_with(stored or configured)
        except SageAuthError as refused:
            if not stored or stored == configured:
                self.mark_needs_login(refused.message)
                raise SageAuthError(
                    refused.message, status=refused.status, needs_login=True
                ) from None
            try:  # a stored rotated token refused: the configured one may be newer
                token = self._refresh_with(configured)
            except SageAuthError as also:
                self.mark_needs_login(f"stored and configured refresh tokens: {also.message}")
                raise SageAuthError(also.message, status=also.status, needs_login=True) from None
            log.warning("the stored Sage refresh token was refused; the configured one works")
        self.refresh_count += 1
        return self._store(token)

    def _refresh_with(self, refresh: str) -> TokenResponse:
        # No `scope` on refresh: Sage reuses the original scopes (reference 00).
        form = {"grant_type": "refresh_token", "refresh_token": refresh}
        circuit = self._circuit
        if circuit is None:
            return self._grant(form)
        ticket = circuit.allow(self._clock())
        try:
            token = self._grant(form)
        except SageTransientError as exc:
            if exc.status == 429:  # throttled, not failing
                raise
            if circuit.failure(self._clock(), ticket):
                raise SageCircuitOpen(f"{exc.message} (circuit open)", circuit.cooldown) from exc
            raise
        circuit.success(ticket)
        return token

    def _store(self, token: TokenResponse) -> str:
        """Keep a granted token (and its rotated refresh token); the connection works."""
        pipe = self._redis.pipeline(transaction=False)
        if token.refresh_token:
            pipe.set(self._refresh_key, self._sealer.seal(token.refresh_token))
        pipe.delete(self.needs_login_key)
        pipe.execute()
        # Expire early so nobody sends a token about to die; short-lived tokens (sandbox
        # tests) keep half their life instead.
        lifetime = float(token.expires_in)
        margin = self._config.token_refresh_margin
        ttl = lifetime - margin if lifetime > 2 * margin else lifetime / 2
        ttl = max(ttl, 0.2)
        sealed = self._sealer.seal(token.access_token)
        self._redis.set(self._token_key, sealed, px=int(ttl * 1000))
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
