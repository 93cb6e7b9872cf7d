from __future__ import annotations

import time
from email.utils import formatdate

import httpx
import pytest

from connectors.outbound import deliver, parse_retry_after
from tests.support.outbound import PUBLIC_DNS, resolver_for

URL = "https://hooks.example.com:8443/in?x=1"
HEADERS = {"webhook-id": "msg_1", "content-type": "application/json"}


def send(handler: object, url: str = URL, resolver: object = PUBLIC_DNS) -> object:
    transport = httpx.MockTransport(handler)  # type: ignore[arg-type]
    return deliver(
        url,
        HEADERS,
        b'{"a":1}',
        timeout=2.0,
        allow_private=False,
        transport=transport,
        resolver=resolver,  # type: ignore[arg-type]
    )


def test_the_request_goes_to_the_checked_address_with_the_original_name() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, text="thanks")

    result = send(handler)

    assert result.ok
    assert result.status_code == 200
    assert result.excerpt == "thanks"
    (request,) = seen
    # pinned: the connection target is the address that was checked, not the name
    assert request.url.host == "93.184.216.34"
    assert request.url.port == 8443
    assert request.url.raw_path == b"/in?x=1"
    assert request.headers["host"] == "hooks.example.com:8443"
    assert request.extensions["sni_hostname"] == "hooks.example.com"
    assert request.headers["webhook-id"] == "msg_1"
    assert request.content == b'{"a":1}'


def test_a_refused_destination_sends_nothing() -> None:
    seen: list[httpx.Request] = []
    rebinding = resolver_for({"hooks.example.com": ["127.0.0.1"]})

    result = send(lambda r: seen.append(r) or httpx.Response(200), resolver=rebinding)

    assert not result.ok
    assert result.status_code is None
    assert (
        result.error
        == "destination refused: hooks.example.com resolves to 127.0.0.1, a loopback address"
    )
    assert seen == []


def test_redirects_are_failures_and_never_followed() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(302, headers={"location": "http://169.254.169.254/"})

    result = send(handler)

    assert not result.ok
    assert result.status_code == 302
    assert not result.disable
    assert "redirect to 'http://169.254.169.254/' not followed" in (result.error or "")
    assert len(seen) == 1


def test_410_asks_to_disable() -> None:
    result = send(lambda r: httpx.Response(410))
    assert not result.ok
    assert result.disable
    assert result.status_code == 410


@pytest.mark.parametrize("code", [429, 503])
def test_retry_after_in_seconds_is_reported(code: int) -> None:
    result = send(lambda r: httpx.Response(code, headers={"retry-after": "120"}))
    assert not result.ok
    assert result.retry_after == 120.0
    assert not result.disable


def test_retry_after_as_an_http_date() -> None:
    when = formatdate(time.time() + 600, usegmt=True)
    result = send(lambda r: httpx.Response(429, headers={"retry-after": when}))
    assert result.retry_after is not None
    assert 595 <= result.retry_after <= 601


def test_retry_after_is_ignored_on_other_statuses() -> None:
    result = send(lambda r: httpx.Response(500, headers={"retry-after": "120"}))
    assert result.retry_after is None
    assert result.error == "HTTP 500"


def test_a_timeout_is_a_failed_attempt_not_an_exception() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    result = send(handler)
    assert not result.ok
    assert result.status_code is None
    assert result.error == "timed out after 2 s"


def test_a_connection_error_is_data() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    result = send(handler)
    assert result.error == "ConnectError: connection refused"
    assert not result.ok


def test_the_excerpt_is_the_first_500_characters() -> None:
    result = send(lambda r: httpx.Response(200, text="é" * 5000))
    assert result.excerpt == "é" * 500


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("5", 5.0),
        (" 1.5 ", 1.5),
        ("-3", 0.0),
        ("soon", None),
        ("", None),
        (None, None),
        ("nan", None),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, now=time.time()) == expected
