"""Fakes shared by the outbound unit tests: a DNS resolver, a clock, a scripted sender."""

from __future__ import annotations

import socket
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from connectors.outbound import DeliveryResult


def resolver_for(table: dict[str, list[str]]) -> Any:
    """A `getaddrinfo` stand-in answering from `table` (host -> addresses)."""

    def resolve(host: str, port: int, *args: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        infos = []
        for address in table[host]:
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            infos.append((family, socket.SOCK_STREAM, 6, "", (address, port)))
        return infos

    return resolve


PUBLIC_DNS = resolver_for({"hooks.example.com": ["93.184.216.34"]})


@dataclass
class FakeClock:
    now: float = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class ScriptedSend:
    """A `send` that answers from a script (the last answer repeats) and records calls."""

    answers: Iterable[DeliveryResult]
    calls: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._answers = list(self.answers)

    def __call__(self, url: str, headers: dict[str, str], body: bytes, **kw: Any) -> Any:
        self.calls.append({"url": url, "headers": headers, "body": body, **kw})
        index = min(len(self.calls) - 1, len(self._answers) - 1)
        return self._answers[index]


def fail(code: int | None = 500, retry_after: float | None = None) -> DeliveryResult:
    return DeliveryResult(
        ok=False,
        status_code=code,
        duration_ms=3.0,
        excerpt="nope",
        retry_after=retry_after,
        error=f"HTTP {code}",
        disable=code == 410,
    )


OK = DeliveryResult(ok=True, status_code=204, duration_ms=2.0)
