"""A scripted Sage Active for unit tests: an `httpx.MockTransport` handler and a fake clock."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import httpx
from pydantic import SecretStr

from connectors.sage_active.config import SageConfig

API = "https://api.test/graphql"
AUTH = "https://auth.test"
ORG = "00000000-0000-0000-0000-00000000000a"

Responder = Callable[[dict[str, Any], httpx.Request], httpx.Response]


def make_config(**overrides: Any) -> SageConfig:
    values: dict[str, Any] = {
        "api_url": API,
        "auth_url": AUTH,
        "client_id": "cid",
        "client_secret": SecretStr("csecret"),
        "refresh_token": SecretStr("refresh-0"),
        "api_key": SecretStr("key"),
        "organization_id": ORG,
        "timeout": 5.0,
        "key_prefix": "test:sage",
    }
    values.update(overrides)
    return SageConfig(**values)


def ok(data: dict[str, Any]) -> httpx.Response:
    return httpx.Response(200, json={"data": data})


@dataclass
class FakeTime:
    now: float = 1_800_000_000.0
    sleeps: list[float] = field(default_factory=list)

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@dataclass
class FakeSage:
    """Answers the token endpoint and hands GraphQL bodies to `responders` in turn."""

    responders: list[Responder] = field(default_factory=list)
    default: Responder | None = None
    token_grants: list[dict[str, str]] = field(default_factory=list)
    graphql: list[httpx.Request] = field(default_factory=list)
    expires_in: int = 3600
    rotate: bool = False

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/connect/token":
            form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
            self.token_grants.append(form)
            n = len(self.token_grants)
            body: dict[str, Any] = {"access_token": f"token-{n}", "expires_in": self.expires_in}
            if self.rotate:
                body["refresh_token"] = f"refresh-{n}"
            return httpx.Response(200, json=body)
        self.graphql.append(request)
        payload = json.loads(request.content)
        responder = self.responders.pop(0) if self.responders else self.default
        if responder is None:
            raise AssertionError(f"unexpected request: {payload['query']}")
        return responder(payload, request)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)
