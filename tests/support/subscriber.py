"""A real local webhook subscriber (werkzeug over HTTP) that records what it receives."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from werkzeug.wrappers import Request, Response

from tests.support.servers import serve_wsgi


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Subscriber:
    """Answers by path: /ok 204, /redirect 302, /gone 410, /busy 429, /down 503, /slow."""

    base_url: str = ""
    received: list[Received] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        with self.lock:
            self.received.append(Received(request.path, dict(request.headers), request.get_data()))
        return self.answer(request.path)(environ, start_response)

    def answer(self, path: str) -> Response:
        if path == "/redirect":
            return Response(status=302, headers={"Location": "http://169.254.169.254/"})
        if path == "/gone":
            return Response("gone for good", status=410)
        if path == "/busy":
            return Response("slow down", status=429, headers={"Retry-After": "7"})
        if path == "/down":
            return Response("maintenance", status=503, headers={"Retry-After": "11"})
        if path == "/slow":
            self.release.wait(5)  # longer than the client's timeout; released at teardown
            return Response(status=204)
        return Response(status=204)

    def url(self, path: str) -> str:
        return self.base_url + path


@pytest.fixture(scope="module")
def _served_subscriber() -> Iterator[Subscriber]:
    # One server per module: stopping a werkzeug server takes half a second.
    sub = Subscriber()
    with serve_wsgi(sub) as base_url:
        sub.base_url = base_url
        yield sub


@pytest.fixture
def subscriber(_served_subscriber: Subscriber) -> Iterator[Subscriber]:
    """The module's subscriber, with nothing received yet."""
    sub = _served_subscriber
    with sub.lock:
        sub.received.clear()
    sub.release = threading.Event()
    try:
        yield sub
    finally:
        sub.release.set()  # lets a /slow handler still waiting finish now
