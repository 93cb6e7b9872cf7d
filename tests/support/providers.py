"""A fake Stripe REST API on 127.0.0.1, for tests of `bridge backfill`.

(Shopify's is the GraphQL Admin API: `tests.support.shopify_graphql`.)

The fake is a small Flask app holding what the test put in it (`add_event`) and answering
the read endpoint the backfill uses, with the provider's auth, filters, pagination and
error bodies:

- `FakeStripe`: `GET /v1/events` (Bearer key; `created[gte|gt|lt|lte]`, `types[]` or the
  SDK's `types[0]`, `limit`, `starting_after`; newest first).

It records every request in `.requests` and can be told to fail the next ones
(`fail_next(503, count=2, retry_after="1")`). Query parameters it does not implement are
refused with a 400, so a client cannot silently rely on a filter that is not applied.

Fixture `fake_stripe` yields `(fake, base_url)`, the fake served over HTTP.
"""

from __future__ import annotations

import copy
import operator
import re
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import pytest
from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from tests.support.servers import serve_wsgi

Query = dict[str, list[str]]

STRIPE_API_KEY = "sk_test_backfill"


@dataclass
class _Fault:
    status: int
    remaining: int
    retry_after: str | None


class _FakeApi(ABC):
    """What both fakes share: the Flask app, the request log and the queue of failures."""

    def __init__(self, name: str) -> None:
        self.app = Flask(name)
        self.requests: list[tuple[str, Query]] = []
        self._faults: list[_Fault] = []
        self._lock = threading.Lock()  # the server is threaded
        self.app.before_request(self._record_or_fail)
        self.app.register_error_handler(HTTPException, self._http_error)

    def fail_next(self, status: int, count: int = 1, retry_after: str | None = None) -> None:
        """Answer the next `count` requests with `status` (and `Retry-After`), not serving.

        Calls queue up: `fail_next(429)` then `fail_next(500)` fails one request with each.
        """
        with self._lock:
            self._faults.append(_Fault(status, count, retry_after))

    @abstractmethod
    def error(self, status: int, message: str) -> Response:
        """The provider's error body for `status`."""

    def _record_or_fail(self) -> Response | None:
        with self._lock:
            self.requests.append((request.path, request.args.to_dict(flat=False)))
            fault = self._faults[0] if self._faults else None
            if fault is not None:
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.pop(0)
        if fault is None:
            return None
        response = self.error(fault.status, _fault_message(fault.status))
        if fault.retry_after is not None:
            response.headers["Retry-After"] = fault.retry_after
        return response

    def _http_error(self, exc: HTTPException) -> Response:
        status = exc.code or 500
        if status == 404:
            return self.error(404, f"Unrecognized request URL ({request.method}: {request.path})")
        return self.error(status, HTTPStatus(status).phrase)


def _fault_message(status: int) -> str:
    if status == 429:
        return "Too many requests. Reduce request rates to resume uninterrupted service."
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"HTTP {status}"


def _json(body: Any, status: int = 200) -> Response:
    response = jsonify(body)
    response.status_code = status
    return response


def _unknown_params(query: Query, allowed: set[str]) -> list[str]:
    return sorted(name for name in query if name not in allowed)


class _BadRequest(Exception):
    """A parameter the fake refuses: answered as the provider's 400."""


def _int_param(query: Query, name: str) -> int | None:
    if name not in query:
        return None
    value = query[name][-1]
    try:
        return int(value)
    except ValueError:
        raise _BadRequest(f"Invalid integer: {value} (parameter {name})") from None


def _limit(query: Query, default: int, maximum: int) -> int:
    limit = _int_param(query, "limit")
    if limit is None:
        return default
    if not 1 <= limit <= maximum:
        raise _BadRequest(f"limit must be between 1 and {maximum}, got {limit}")
    return limit


# --- Stripe ---------------------------------------------------------------------------

_CREATED_OPS: dict[str, Callable[[int, int], bool]] = {
    "gte": operator.ge,
    "gt": operator.gt,
    "lte": operator.le,
    "lt": operator.lt,
}
_TYPES_PARAM = re.compile(r"types\[\d*\]")


class FakeStripe(_FakeApi):
    """Stripe's `GET /v1/events`, over the events given to `add_event`."""

    def __init__(self, api_key: str = STRIPE_API_KEY) -> None:
        super().__init__("fake-stripe")
        self.api_key = api_key
        self._events: dict[str, dict[str, Any]] = {}
        self.app.get("/v1/events")(self._list_events)

    def add_event(self, event: dict[str, Any]) -> None:
        """Add (or replace, by id) a Stripe event object; it is copied."""
        with self._lock:
            self._events[event["id"]] = copy.deepcopy(event)

    def error(self, status: int, message: str) -> Response:
        kind = "api_error" if status >= 500 else "invalid_request_error"
        error: dict[str, Any] = {"type": kind, "message": message}
        if status == 429:
            error["code"] = "rate_limit"
        return _json({"error": error}, status)

    def _list_events(self) -> Response:
        auth = request.headers.get("Authorization", "")
        if auth != f"Bearer {self.api_key}":
            given = auth.removeprefix("Bearer ")
            masked = f"{given[:8]}***" if given else ""
            return self.error(401, f"Invalid API Key provided: {masked}")
        try:
            return _json(self._events_page(request.args.to_dict(flat=False)))
        except _BadRequest as exc:
            return self.error(400, str(exc))

    def _events_page(self, query: Query) -> dict[str, Any]:
        allowed = {"limit", "starting_after", *(f"created[{op}]" for op in _CREATED_OPS)}
        unknown = [
            name for name in _unknown_params(query, allowed) if not _TYPES_PARAM.fullmatch(name)
        ]
        if unknown:
            raise _BadRequest(f"Received unknown parameter: {unknown[0]}")
        limit = _limit(query, default=10, maximum=100)
        bounds = [
            (compare, bound)
            for op, compare in _CREATED_OPS.items()
            if (bound := _int_param(query, f"created[{op}]")) is not None
        ]
        types = {value for name in query if name.startswith("types[") for value in query[name]}
        with self._lock:
            events = sorted(self._events.values(), key=_event_key, reverse=True)
            cursor_id = query.get("starting_after", [None])[-1]
            if cursor_id is not None:
                if cursor_id not in self._events:
                    raise _BadRequest(f"No such event: '{cursor_id}'")
                cursor = _event_key(self._events[cursor_id])
                events = [event for event in events if _event_key(event) < cursor]
        matching = [
            event
            for event in events
            if (not types or event["type"] in types)
            and all(compare(event["created"], bound) for compare, bound in bounds)
        ]
        return {
            "object": "list",
            "url": "/v1/events",
            "has_more": len(matching) > limit,
            "data": matching[:limit],
        }


def _event_key(event: dict[str, Any]) -> tuple[int, str]:
    return (event["created"], event["id"])


# --- Fixtures -------------------------------------------------------------------------


@pytest.fixture
def fake_stripe() -> Iterator[tuple[FakeStripe, str]]:
    """An empty `FakeStripe` served over HTTP, and its base URL (`<url>/v1/events`)."""
    fake = FakeStripe()
    with serve_wsgi(fake.app) as url:
        yield fake, url
