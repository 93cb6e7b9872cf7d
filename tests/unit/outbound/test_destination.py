from __future__ import annotations

import pytest

from connectors.outbound import DestinationRefused, check_destination, check_url
from tests.support.outbound import PUBLIC_DNS, resolver_for

EVIL_DNS = resolver_for(
    {
        "localhost.evil.test": ["127.0.0.1"],
        "v6loop.evil.test": ["::1"],
        "mixed.evil.test": ["93.184.216.34", "10.0.0.7"],
        "metadata.evil.test": ["169.254.169.254"],
        "mapped.evil.test": ["::ffff:192.168.1.1"],
    }
)


def test_a_public_https_destination_gives_its_addresses() -> None:
    url = "https://hooks.example.com/in"
    assert check_destination(url, allow_private=False, resolver=PUBLIC_DNS) == ["93.184.216.34"]


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://127.0.0.1/hook", "127.0.0.1 is a loopback address"),
        ("https://[::1]/hook", "::1 is a loopback address"),
        ("https://10.1.2.3/hook", "10.1.2.3 is a private address"),
        ("https://172.16.0.1/hook", "172.16.0.1 is a private address"),
        ("https://172.31.255.254/hook", "172.31.255.254 is a private address"),
        ("https://192.168.0.10/hook", "192.168.0.10 is a private address"),
        ("https://169.254.169.254/latest/meta-data", "169.254.169.254 is a link-local"),
        ("https://[fe80::1]/hook", "fe80::1 is a link-local address"),
        ("https://[fd00::1]/hook", "fd00::1 is a private address"),
        ("https://0.0.0.0/hook", "0.0.0.0 is"),
        ("https://100.64.0.1/hook", "100.64.0.1 is not a public address"),
        ("https://[::ffff:127.0.0.1]/hook", "127.0.0.1 is a loopback address"),
    ],
)
def test_literal_private_addresses_are_refused(url: str, reason: str) -> None:
    with pytest.raises(DestinationRefused, match=reason.replace(".", r"\.")):
        check_destination(url, allow_private=False, resolver=PUBLIC_DNS)


@pytest.mark.parametrize(
    ("host", "reason"),
    [
        ("localhost.evil.test", "resolves to 127.0.0.1, a loopback address"),
        ("v6loop.evil.test", "resolves to ::1, a loopback address"),
        ("mixed.evil.test", "resolves to 10.0.0.7, a private address"),
        ("metadata.evil.test", "resolves to 169.254.169.254, a link-local address"),
        ("mapped.evil.test", "resolves to 192.168.1.1, a private address"),
    ],
)
def test_names_resolving_to_private_addresses_are_refused(host: str, reason: str) -> None:
    with pytest.raises(DestinationRefused) as caught:
        check_destination(f"https://{host}/hook", allow_private=False, resolver=EVIL_DNS)
    assert caught.value.reason == f"{host} {reason}"


def test_the_real_resolver_refuses_localhost() -> None:
    with pytest.raises(DestinationRefused, match=r"localhost resolves to .*loopback"):
        check_destination("https://localhost/hook", allow_private=False)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://hooks.example.com/in", "plain http is not allowed"),
        ("ftp://hooks.example.com/in", "must start with https://"),
        ("hooks.example.com/in", "must start with https://"),
        ("https:///in", "no host"),
        ("https://user:pw@hooks.example.com/in", "credentials"),
        ("https://hooks.example.com:99999/in", "not a valid URL"),
    ],
)
def test_malformed_urls_are_refused(url: str, reason: str) -> None:
    with pytest.raises(DestinationRefused, match=reason):
        check_destination(url, allow_private=False, resolver=PUBLIC_DNS)


def test_an_unresolvable_name_is_refused() -> None:
    with pytest.raises(DestinationRefused, match=r"cannot resolve nowhere\.example"):
        check_destination("https://nowhere.example/", allow_private=False, resolver=PUBLIC_DNS)


def test_allow_private_lets_loopback_and_http_through() -> None:
    assert check_destination("http://127.0.0.1:8080/h", allow_private=True) == ["127.0.0.1"]
    names = check_destination("http://localhost.evil.test/h", allow_private=True, resolver=EVIL_DNS)
    assert names == ["127.0.0.1"]


def test_check_url_needs_no_dns_but_refuses_literal_addresses() -> None:
    assert check_url("https://not-resolved.invalid/x", allow_private=False).hostname
    with pytest.raises(DestinationRefused, match="loopback"):
        check_url("https://127.0.0.1/x", allow_private=False)
