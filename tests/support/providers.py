"""A fake Stripe API on 127.0.0.1, for tests of `bridge backfill` and of the worker's
Stripe reads (Shopify's GraphQL Admin API: `tests.support.shopify_graphql`).

The fake is a small Flask app holding what the test put in it (`add_event`, ...) and
answering the read endpoints the bridge uses, with Stripe's auth, filters, pagination and
error bodies:

- `FakeStripe`: `GET /v1/events` (Bearer key; `created[gte|gt|lt|lte]`, `types[]` or the
  SDK's `types[0]`, `limit`, `starting_after`; newest first);
  `GET /v1/checkout/sessions/<id>/line_items` (`limit`, `starting_after`, `expand[]`; 404
  for an unknown session), `GET /v1/checkout/sessions` (`payment_intent`, `limit`,
  `starting_after`) and `GET /v1/credit_notes` (`invoice`, `limit`, `starting_after`) over
  `add_line_items` / `add_checkout_session` / `add_credit_note`.
It records every request in `.requests` and can be told to fail the next ones
(`fail_next(503, count=2, retry_after="1")`). Query parameters a fake does not implement
are refused with a 400, so a client cannot silently rely on a filter that is not applied.

The fixture `fake_stripe` yields `(fake, base_url)`, the fake served over HTTP.
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
        self._line_items: dict[str, list[dict[str, Any]]] = {}
        self._credit_notes: dict[str, dict[str, Any]] = {}
        self._sessions: dict[str, dict[str, Any]] = {}
        self.app.get("/v1/events")(self._list_events)
        self.app.get("/v1/checkout/sessions/<session_id>/line_items")(self._list_line_items)
        self.app.get("/v1/credit_notes")(self._list_credit_notes)
        self.app.get("/v1/checkout/sessions")(self._list_sessions)

    def add_line_items(self, session_id: str, items: list[dict[str, Any]]) -> None:
        """Set the line items of Checkout Session `session_id` (copied)."""
        with self._lock:
            self._line_items[session_id] = copy.deepcopy(items)

    def add_checkout_session(self, session: dict[str, Any]) -> None:
        """Add (or replace, by id) a Checkout Session object; it is copied."""
        with self._lock:
            self._sessions[session["id"]] = copy.deepcopy(session)

    def add_credit_note(self, note: dict[str, Any]) -> None:
        """Add (or replace, by id) a credit note object; it is copied."""
        with self._lock:
            self._credit_notes[note["id"]] = copy.deepcopy(note)

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

    def _refused(self) -> Response | None:
        auth = request.headers.get("Authorization", "")
        if auth != f"Bearer {self.api_key}":
            given = auth.removeprefix("Bearer ")
            masked = f"{given[:8]}***" if given else ""
            return self.error(401, f"Invalid API Key provided: {masked}")
        return None

    def _list_page(self, url: str, objects: list[dict[str, Any]], query: Query) -> Response:
        """A Stripe list of `objects` (in their order) after `starting_after`, `limit` long."""
        limit = _limit(query, default=10, maximum=100)
        after = query.get("starting_after", [None])[-1]
        if after is not None:
            ids = [obj["id"] for obj in objects]
            if after not in ids:
                raise _BadRequest(f"No such object: '{after}'")
            objects = objects[ids.index(after) + 1 :]
        page = {"object": "list", "url": url, "has_more": len(objects) > limit}
        return _json({**page, "data": objects[:limit]})

    def _list_line_items(self, session_id: str) -> Response:
        refused = self._refused()
        if refused is not None:
            return refused
        query = request.args.to_dict(flat=False)
        try:
            unknown = _unknown_params(query, {"limit", "starting_after", "expand[]"})
            if unknown:
                raise _BadRequest(f"Received unknown parameter: {unknown[0]}")
            with self._lock:
                items = copy.deepcopy(self._line_items.get(session_id))
            if items is None:
                return self.error(404, f"No such checkout.session: '{session_id}'")
            expanded = set(query.get("expand[]", []))
            for item in items:  # Stripe leaves out what was not expanded
                for field in ("taxes", "discounts"):
                    if f"data.{field}" not in expanded:
                        item.pop(field, None)
            url = f"/v1/checkout/sessions/{session_id}/line_items"
            return self._list_page(url, items, query)
        except _BadRequest as exc:
            return self.error(400, str(exc))

    def _list_credit_notes(self) -> Response:
        return self._list_filtered("/v1/credit_notes", self._credit_notes, "invoice")

    def _list_sessions(self) -> Response:
        return self._list_filtered("/v1/checkout/sessions", self._sessions, "payment_intent")

    def _list_filtered(self, url: str, objects: dict[str, dict[str, Any]], field: str) -> Response:
        """`objects` newest first, those whose `field` is the query's when it names one."""
        refused = self._refused()
        if refused is not None:
            return refused
        query = request.args.to_dict(flat=False)
        try:
            unknown = _unknown_params(query, {field, "limit", "starting_after"})
            if unknown:
                raise _BadRequest(f"Received unknown parameter: {unknown[0]}")
            wanted = query.get(field, [None])[-1]
            with self._lock:
                found = [
                    obj
                    for obj in sorted(objects.values(), key=_event_key, reverse=True)
                    if wanted is None or obj.get(field) == wanted
                ]
            return self._list_page(url, found, query)
        except _BadRequest as exc:
            return self.error(400, str(exc))

    def _list_events(self) -> Response:
        refused = self._refused()
        if refused is not None:
            return refused
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
