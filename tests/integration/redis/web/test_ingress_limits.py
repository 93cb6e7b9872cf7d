"""The body limit: an oversized body is read to its end (bounded) before its 413, and the
default limit fits a large real order with room to spare."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
import redis
from flask import Flask
from werkzeug.test import EnvironBuilder

from bench.webhook_size import large_order
from bridge.settings import Settings
from bridge.web import ingress
from tests.support.webhooks import stripe_event, stripe_headers


def _call(app: Flask, environ: dict[str, Any]) -> tuple[str, dict[str, str], bytes]:
    answer: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], *_: Any) -> None:
        answer.update(status=status, headers=dict(headers))

    body = b"".join(app(environ, start_response))
    return answer["status"], answer["headers"], body


def _environ(body: bytes, chunked: bool) -> tuple[dict[str, Any], io.BytesIO]:
    builder = EnvironBuilder(path="/webhooks/stripe", method="POST", headers=stripe_headers(body))
    environ: dict[str, Any] = builder.get_environ()
    stream = io.BytesIO(body)
    environ["wsgi.input"] = stream
    if chunked:  # as a server passes a chunked body: no length, the stream ends with it
        environ.pop("CONTENT_LENGTH", None)
        environ["wsgi.input_terminated"] = True
    else:
        environ["CONTENT_LENGTH"] = str(len(body))
    return environ, stream


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_an_oversized_body_is_read_to_its_end_then_413_with_connection_close(
    app: Flask, settings: Settings, redis_client: redis.Redis, chunked: bool
) -> None:
    body = stripe_event("evt_huge", pad="x" * (settings.webhook_max_body + 300_000))
    environ, stream = _environ(body, chunked)
    status, headers, answer = _call(app, environ)
    assert status.startswith("413")
    assert json.loads(answer)["error"] == "payload_too_large"
    assert headers["Connection"] == "close"
    assert stream.tell() == len(body)  # nothing left for the server to reset the client with
    assert redis_client.keys("*") == []


def test_the_drain_is_bounded(
    app: Flask, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ingress, "DRAIN_MAX_BYTES", 1000)
    body = stripe_event("evt_huge", pad="x" * (settings.webhook_max_body + 300_000))
    environ, stream = _environ(body, chunked=False)
    status, headers, _ = _call(app, environ)
    assert status.startswith("413")
    assert headers["Connection"] == "close"
    assert stream.tell() == 1000


def test_a_500_line_b2b_order_fits_the_default_limit_with_room_to_spare() -> None:
    limit = Settings().webhook_max_body
    for body in large_order(500):
        size = len(json.dumps(body).encode())
        assert size * 3 < limit, (size, limit)
