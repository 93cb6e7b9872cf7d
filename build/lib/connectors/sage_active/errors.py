"""The errors of the Sage Active connector, classified once, here, from responses.

Callers never see `httpx` exceptions; every failure is one of:

    SageError                    base class; `retryable` says whether trying later may help
    ├── SageAuthError            401/403, a refused token grant: fix credentials, not retry;
    │                            `needs_login` when the connection is marked "needs login"
    ├── SageTransientError       5xx, 408, timeouts, connection failures, unreadable bodies;
    │   │                        `maybe_committed` is True when a mutation may have run anyway
    │   ├── SageRateLimited      HTTP 429; `retry_after` seconds as announced by Sage
    │   └── SageCircuitOpen      not sent: Sage is failing for everyone (`circuit.py`)
    ├── SageBusinessError        HTTP 200 with `errors[]`: each `ErrorDetail(key, message, path)`
    └── SageInvalidRequest       HTTP 400 and other 4xx, documents Sage cannot run, responses
        └── SageComplexityError  that do not match the expected shape; the batch is too costly

`classify_response` and `classify_transport_error` are the only places that build them
from HTTP outcomes.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

_KEY_RE = re.compile(r"^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)+$")
_COMPLEXITY_WORDS = ("complexity", "maxfieldcost", "field cost")
DEFAULT_RETRY_AFTER = 1.0


@dataclass(frozen=True)
class ErrorDetail:
    """One entry of a GraphQL `errors[]`: message key, message and path."""

    key: str
    message: str
    path: tuple[str | int, ...] = ()

    @classmethod
    def from_graphql(cls, raw: Any) -> ErrorDetail:
        """Build from one raw error object; tolerant of missing or odd fields."""
        if not isinstance(raw, dict):
            return cls(key="", message=str(raw))
        message = str(raw.get("message") or "")
        ext_raw = raw.get("extensions")
        ext: dict[str, Any] = ext_raw if isinstance(ext_raw, dict) else {}
        key = str(ext.get("key") or ext.get("messageKey") or "")
        if not key and _KEY_RE.match(message):
            key = message  # Sage puts the key itself in `message`
        if not key:
            key = str(ext.get("code") or "")
        path_raw = raw.get("path")
        path = tuple(p for p in path_raw if isinstance(p, str | int)) if path_raw else ()
        return cls(key=key, message=message, path=path)


class SageError(Exception):
    """Base of every error the connector raises."""

    retryable = False

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class SageAuthError(SageError):
    """Credentials refused (HTTP 401/403 or the token endpoint said no).

    `needs_login` is True when no token works any more: the connection is marked "needs
    login" for every process (`auth.TokenManager`) until a grant succeeds again.
    """

    def __init__(self, message: str, *, status: int | None = None, needs_login: bool = False):
        super().__init__(message, status=status)
        self.needs_login = needs_login


class SageTransientError(SageError):
    """A failure that may heal: server error, timeout, connection trouble."""

    retryable = True

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
        maybe_committed: bool = False,
    ) -> None:
        super().__init__(message, status=status)
        self.retry_after = retry_after
        self.maybe_committed = maybe_committed


class SageRateLimited(SageTransientError):
    """HTTP 429: wait `retry_after` seconds (shared by every process)."""

    def __init__(self, retry_after: float, message: str = "rate limited by Sage") -> None:
        super().__init__(message, status=429, retry_after=retry_after)


class SageCircuitOpen(SageTransientError):
    """Sage kept failing, so the shared circuit breaker stopped sending (or this request's
    failure opened it); `retry_after` is the time left in the cool-down."""

    def __init__(self, message: str, retry_after: float, *, maybe_committed: bool = False):
        super().__init__(message, retry_after=retry_after, maybe_committed=maybe_committed)


class SageBusinessError(SageError):
    """Sage refused the operation (HTTP 200 with `errors[]`); never a success."""

    def __init__(self, errors: Sequence[ErrorDetail], *, status: int | None = 200) -> None:
        self.errors = list(errors)
        text = "; ".join(
            f"{e.key or e.message} at {'.'.join(map(str, e.path)) or '-'}" for e in self.errors
        )
        super().__init__(f"Sage business error: {text}", status=status)

    @property
    def keys(self) -> list[str]:
        return [e.key for e in self.errors]


class SageInvalidRequest(SageError):
    """The request cannot succeed as sent (HTTP 400/4xx, bad document, unexpected shape)."""

    def __init__(
        self, message: str, *, status: int | None = None, errors: Sequence[ErrorDetail] = ()
    ) -> None:
        super().__init__(message, status=status)
        self.errors = list(errors)


class SageComplexityError(SageInvalidRequest):
    """The document passes Sage's complexity limit; smaller batches will pass."""


def parse_retry_after(value: str | None, now: float) -> float:
    """Seconds to wait from a `Retry-After` header (delta-seconds or HTTP date)."""
    if not value:
        return DEFAULT_RETRY_AFTER
    with contextlib.suppress(ValueError):  # not delta-seconds: try an HTTP date
        return max(0.0, float(value))
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - now)
    except (TypeError, ValueError, IndexError):
        return DEFAULT_RETRY_AFTER


def graphql_errors_error(raw_errors: Sequence[Any]) -> SageError:
    """The error for a GraphQL `errors[]` that came with HTTP 200."""
    details = [ErrorDetail.from_graphql(e) for e in raw_errors]
    text = " ".join(f"{d.key} {d.message}".lower() for d in details)
    if any(word in text for word in _COMPLEXITY_WORDS):
        return SageComplexityError("query too complex for Sage", status=200, errors=details)
    return SageBusinessError(details)


def classify_response(response: httpx.Response, body: Any, now: float) -> SageError | None:
    """The error an HTTP response stands for, or None for HTTP 200 with a JSON object.

    `body` is the decoded JSON (None when it was not JSON). GraphQL `errors[]` in a 200
    are left to the caller (`graphql_errors_error`), which knows about batch aliases.
    """
    status = response.status_code
    if status == 429:
        return SageRateLimited(parse_retry_after(response.headers.get("Retry-After"), now))
    if status in (401, 403):
        return SageAuthError(f"Sage refused the credentials (HTTP {status})", status=status)
    if status == 408 or status >= 500:
        retry_after = response.headers.get("Retry-After")
        return SageTransientError(
            f"Sage server error (HTTP {status})",
            status=status,
            retry_after=parse_retry_after(retry_after, now) if retry_after else None,
            maybe_committed=status != 503,
        )
    if status >= 400 or status < 200:
        raw = body.get("errors") if isinstance(body, dict) else None
        details = [ErrorDetail.from_graphql(e) for e in raw] if isinstance(raw, list) else []
        summary = "; ".join(d.message for d in details) or response.text[:200]
        return SageInvalidRequest(f"HTTP {status}: {summary}", status=status, errors=details)
    if not isinstance(body, dict):
        return SageTransientError("Sage answered with a body that is not JSON", status=status)
    return None


def classify_transport_error(exc: httpx.TransportError) -> SageTransientError:
    """A transport failure as a transient error; `maybe_committed` unless it never left."""
    sent = not isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)
    kind = "timeout" if isinstance(exc, httpx.TimeoutException) else "connection error"
    return SageTransientError(f"Sage {kind}: {type(exc).__name__}", maybe_committed=sent)
