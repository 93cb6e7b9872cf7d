"""Where a webhook may go: https only, and never to a private, loopback or link-local address.

The check runs on the addresses a name resolves to, not on the name, so a public-looking
name that resolves to 127.0.0.1 is refused. `allow_private` lifts both rules (plain http and
any address) for development and tests. The delivery then connects to an address checked
here, never resolving the name a second time (see `delivery.py`).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import SplitResult, urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[..., Sequence[tuple[Any, ...]]]


class DestinationRefused(Exception):
    """A subscriber URL the bridge will not send to; `reason` says why, for a person."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def parse_url(url: str, *, allow_private: bool) -> SplitResult:
    """Check the URL's shape: scheme, host, no credentials.

    Raises:
        DestinationRefused: not an absolute http(s) URL, http without `allow_private`,
            credentials in the URL, or a bad port.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise DestinationRefused(f"not a valid URL: {exc}") from exc
    if parts.scheme not in ("https", "http"):
        raise DestinationRefused("the URL must start with https://")
    if parts.scheme == "http" and not allow_private:
        raise DestinationRefused("plain http is not allowed: use https")
    if not parts.hostname:
        raise DestinationRefused("the URL has no host")
    if parts.username is not None or parts.password is not None:
        raise DestinationRefused("credentials in the URL are not allowed")
    if port == 0:
        raise DestinationRefused("port 0 is not a destination")
    return parts


def default_port(parts: SplitResult) -> int:
    """The port a URL names, or its scheme's default."""
    return parts.port or (443 if parts.scheme == "https" else 80)


def as_ip(text: str) -> IPAddress | None:
    try:
        address = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    return address


NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
IPV4_TRANSLATED = ipaddress.ip_network("::ffff:0:0:0/96")


def embedded_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries, and reaches on a network that routes
    it: 6to4 (2002::/16), Teredo (2001::/32: server and client), NAT64 (64:ff9b::/96,
    64:ff9b:1::/48), IPv4-compatible (::a.b.c.d) and IPv4-translated (::ffff:0:a.b.c.d)."""
    found: list[ipaddress.IPv4Address] = []
    if address.sixtofour is not None:
        found.append(address.sixtofour)
    if address.teredo is not None:
        found.extend(address.teredo)
    low = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if any(address in net for net in (*NAT64, IPV4_TRANSLATED)):
        found.append(low)
    if address in IPV4_COMPATIBLE and int(address) > 1:  # not :: nor ::1
        found.append(low)
    return found


def refusal(address: IPAddress) -> str | None:
    """What kind of non-public address this is ("a loopback address"...), or None; an IPv6
    address is judged by the IPv4 addresses it embeds too (see `embedded_ipv4`)."""
    if isinstance(address, ipaddress.IPv6Address):
        for inner in embedded_ipv4(address):
            kind = refusal(inner)
            if kind is not None:
                return f"an IPv6 address embedding {inner}, {kind}"
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_private:
        return "a private address"
    if address.is_multicast or address.is_unspecified or address.is_reserved:
        return "not a unicast address"
    if not address.is_global:
        return "not a public address"
    return None


def check_url(url: str, *, allow_private: bool) -> SplitResult:
    """Everything that can be checked without DNS: shape, and the host if it is an address.

    Raises:
        DestinationRefused: see `parse_url`, or a literal address that is not public.
    """
    parts = parse_url(url, allow_private=allow_private)
    literal = as_ip(parts.hostname or "")
    if literal is not None and not allow_private:
        kind = refusal(literal)
        if kind:
            raise DestinationRefused(f"{literal} is {kind}")
    return parts


def check_destination(
    url: str, *, allow_private: bool, resolver: Resolver = socket.getaddrinfo
) -> list[str]:
    """The addresses `url` may be reached at, after DNS; every one of them is checked.

    Raises:
        DestinationRefused: a bad URL, a name that does not resolve, or any resolved
            address that is private, loopback, link-local or otherwise not public.
    """
    parts = check_url(url, allow_private=allow_private)
    host = parts.hostname or ""
    literal = as_ip(host)
    if literal is not None:
        return [str(literal)]
    try:
        infos = resolver(host, default_port(parts), type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise DestinationRefused(f"cannot resolve {host}: {exc}") from exc
    addresses: list[str] = []
    for info in infos:
        address = as_ip(str(info[4][0]))
        if address is None:
            continue
        if not allow_private:
            kind = refusal(address)
            if kind:
                raise DestinationRefused(f"{host} resolves to {address}, {kind}")
        if str(address) not in addresses:
            addresses.append(str(address))
    if not addresses:
        raise DestinationRefused(f"{host} has no usable address")
    return addresses
