"""One webhook delivery attempt over HTTP; every outcome comes back as a `DeliveryResult`.

`deliver` never raises on an HTTP status or a network failure: the caller records the
result and decides what happens next. Rules it applies itself:

- the destination is checked after DNS (see `destination.py`) and the request goes to the
  address that was checked: the URL's host is replaced by that address, and the original
  name is kept in the `Host` header and as the TLS server name (SNI and certificate check),
  so a name that resolves differently a second time (DNS rebinding) cannot redirect it;
- redirects are never followed (a 3xx is a failure, its `Location` recorded);
- environment proxies are ignored (`trust_env=False`): they would bypass the check;
- only the first bytes of the answer are read, for the excerpt.

`timeout` bounds each phase (connect, write, each read), not the sum of them.
"""

from __future__ import annotations

import socket
import ssl
import time
from dataclasses import dataclass
from functools import cache

import httpx

from connectors.outbound.destination import (
    DestinationRefused,
    Resolver,
    as_ip,
    check_destination,
)
from connectors.retry_after import parse_retry_after

EXCERPT_CHARS = 500
_READ_LIMIT = 4096
USER_AGENT = "sage-active-bridge-webhooks/1"


@dataclass(frozen=True)
class DeliveryResult:
    """The outcome of one attempt. `disable` is True when the subscriber answered 410."""

    ok: bool
    status_code: int | None
    duration_ms: float
    excerpt: str = ""
    retry_after: float | None = None
    error: str | None = None
    disable: bool = False


@cache
def _ssl_context() -> ssl.SSLContext:
    # Loading the CA bundle takes a while: one context serves every attempt.
    return ssl.create_default_context()


def _pinned(url: str, address: str) -> tuple[httpx.URL, dict[str, str], dict[str, str]]:
    """The URL aimed at `address`, plus the Host header and TLS extensions keeping the name."""
    original = httpx.URL(url)
    headers = {"host": original.netloc.decode("ascii")}
    extensions: dict[str, str] = {}
    if original.scheme == "https" and as_ip(original.host) is None:
        extensions["sni_hostname"] = original.host
    return original.copy_with(host=address), headers, extensions


def _classify(response: httpx.Response, excerpt: str, elapsed: float) -> DeliveryResult:
    code = response.status_code
    duration = round(elapsed * 1000, 1)
    if 200 <= code < 300:
        return DeliveryResult(True, code, duration, excerpt)
    error = f"HTTP {code}"
    if 300 <= code < 400:
        error = f"HTTP {code}: redirect to {response.headers.get('location', '?')!r} not followed"
    retry_after = None
    if code in (429, 503):
        retry_after = parse_retry_after(response.headers.get("retry-after"), now=time.time())
    return DeliveryResult(
        False, code, duration, excerpt, retry_after=retry_after, error=error, disable=code == 410
    )


def deliver(
    url: str,
    headers: dict[str, str],
    body: bytes,
    *,
    timeout: float,
    allow_private: bool,
    transport: httpx.BaseTransport | None = None,
    resolver: Resolver = socket.getaddrinfo,
) -> DeliveryResult:
    """POST `body` to `url` once and say what happened. Never raises for HTTP or network.

    `transport` replaces the network (tests); `resolver` replaces DNS (tests).
    """
    started = time.perf_counter()
    try:
        address = check_destination(url, allow_private=allow_private, resolver=resolver)[0]
    except DestinationRefused as exc:
        return DeliveryResult(False, None, 0.0, error=f"destination refused: {exc.reason}")
    target, host_header, extensions = _pinned(url, address)
    send_headers = {"user-agent": USER_AGENT, **headers, **host_header}
    try:
        return _post(target, send_headers, body, extensions, timeout, transport, started)
    except httpx.TimeoutException:
        error = f"timed out after {timeout:g} s"
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}"
    elapsed = round((time.perf_counter() - started) * 1000, 1)
    return DeliveryResult(False, None, elapsed, error=error)


def _post(
    target: httpx.URL,
    headers: dict[str, str],
    body: bytes,
    extensions: dict[str, str],
    timeout: float,
    transport: httpx.BaseTransport | None,
    started: float,
) -> DeliveryResult:
    """POST once without following redirects; read only the start of the answer.

    Raises:
        httpx.HTTPError: timeouts and network failures (`deliver` turns them into data).
    """
    if transport is None:
        transport = httpx.HTTPTransport(verify=_ssl_context())
    with (
        httpx.Client(
            transport=transport,
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,
            trust_env=False,  # environment proxies would bypass the destination check
        ) as client,
        client.stream(
            "POST", target, content=body, headers=headers, extensions=extensions
        ) as response,
    ):
        raw = bytearray()
        for chunk in response.iter_bytes():
            raw.extend(chunk)
            if len(raw) >= _READ_LIMIT:
                break
        excerpt = raw.decode("utf-8", errors="replace")[:EXCERPT_CHARS]
        return _classify(response, excerpt, time.perf_counter() - started)
