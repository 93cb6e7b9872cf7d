"""Fake Stripe and Shopify REST APIs on 127.0.0.1, for tests of `bridge backfill`.

Each fake is a small Flask app holding what the test put in it (`add_event`, `add_order`)
and answering the read endpoints the backfill uses, with each provider's auth, filters,
pagination and error bodies:

- `FakeStripe`: `GET /v1/events` (Bearer key; `created[gte|gt|lt|lte]`, `types[]` or the
  SDK's `types[0]`, `limit`, `starting_after`; newest first);
  `GET /v1/checkout/sessions/<id>/line_items` (`limit`, `starting_after`, `expand[]`; 404
  for an unknown session), `GET /v1/checkout/sessions` (`payment_intent`, `limit`,
  `starting_after`) and `GET /v1/credit_notes` (`invoice`, `limit`, `starting_after`) over
  `add_line_items` / `add_checkout_session` / `add_credit_note`.
- `FakeShopify`: `GET /admin/api/<version>/orders.json` (`X-Shopify-Access-Token`;
  `status`, `updated_at_min|max`, `limit`, `fields`, cursor `page_info` with a `Link`
  header) and `GET /admin/api/<version>/orders/<id>/transactions.json`.

Both record every request in `.requests` and can be told to fail the next ones
(`fail_next(503, count=2, retry_after="1")`). Query parameters a fake does not implement
are refused with a 400, so a client cannot silently rely on a filter that is not applied.

Fixtures `fake_stripe` and `fake_shopify` yield `(fake, base_url)`, the fake served over HTTP.
"""

from __future__ import annotations

import base64
import binascii
import copy
import datetime as dt
import json
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

from connectors.shopify.versions import NEWEST_STABLE
from tests.support.servers import serve_wsgi

Query = dict[str, list[str]]

STRIPE_API_KEY = "sk_test_backfill"
SHOPIFY_SHOP_DOMAIN = "backfill-shop.myshopify.com"
SHOPIFY_ACCESS_TOKEN = "shpat_backfill"
SHOPIFY_API_VERSION = NEWEST_STABLE


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


# --- Shopify --------------------------------------------------------------------------

_ORDER_FILTERS = ("status", "updated_at_min", "updated_at_max")
_STATUSES = ("open", "closed", "cancelled", "any")


class FakeShopify(_FakeApi):
    """Shopify's REST Admin orders and order transactions, over `add_order`'s orders."""

    def __init__(
        self,
        shop_domain: str = SHOPIFY_SHOP_DOMAIN,
        access_token: str = SHOPIFY_ACCESS_TOKEN,
        api_version: str = SHOPIFY_API_VERSION,
    ) -> None:
        super().__init__("fake-shopify")
        self.shop_domain = shop_domain
        self.access_token = access_token
        self.api_version = api_version
        self._orders: dict[int, dict[str, Any]] = {}
        self._transactions: dict[int, list[dict[str, Any]]] = {}
        self.app.get("/admin/api/<version>/orders.json")(self._list_orders)
        self.app.get("/admin/api/<version>/orders/<int:order_id>/transactions.json")(
            self._list_transactions
        )

    def add_order(
        self, order: dict[str, Any], transactions: list[dict[str, Any]] | None = None
    ) -> None:
        """Add (or replace, by id) an order, copied; `transactions=None` keeps its current ones."""
        with self._lock:
            self._orders[order["id"]] = copy.deepcopy(order)
            if transactions is not None or order["id"] not in self._transactions:
                self._transactions[order["id"]] = copy.deepcopy(transactions or [])

    def error(self, status: int, message: str) -> Response:
        if status == 404:
            message = "Not Found"
        return _json({"errors": message}, status)

    def _refuse(self, version: str) -> Response | None:
        """The 401 or 404 for a wrong token or API version, if any."""
        if request.headers.get("X-Shopify-Access-Token") != self.access_token:
            return self.error(
                401, "[API] Invalid API key or access token (unrecognized login or wrong password)"
            )
        if version != self.api_version:
            return self.error(404, "Not Found")
        return None

    def _list_orders(self, version: str) -> Response:
        refused = self._refuse(version)
        if refused is not None:
            return refused
        query = request.args.to_dict(flat=False)
        try:
            orders, next_cursor, limit = self._orders_page(query)
        except _BadRequest as exc:
            return self.error(400, str(exc))
        if "fields" in query:
            fields = {name.strip() for name in query["fields"][-1].split(",")}
            orders = [{k: v for k, v in order.items() if k in fields} for order in orders]
        response = _json({"orders": orders})
        if next_cursor is not None:
            base = request.host_url.rstrip("/")
            url = f"{base}/admin/api/{version}/orders.json?limit={limit}&page_info={next_cursor}"
            response.headers["Link"] = f'<{url}>; rel="next"'
        return response

    def _orders_page(self, query: Query) -> tuple[list[dict[str, Any]], str | None, int]:
        """One page of orders, the cursor of the next page (if any) and the limit."""
        unknown = _unknown_params(query, {"limit", "fields", "page_info", *_ORDER_FILTERS})
        if unknown:
            raise _BadRequest(f"unsupported parameter(s): {', '.join(unknown)}")
        limit = _limit(query, default=50, maximum=250)
        if "page_info" in query:
            extra = [name for name in query if name in _ORDER_FILTERS]
            if extra:
                raise _BadRequest(
                    f"page_info: only limit and fields may accompany it, got {', '.join(extra)}"
                )
            filters, after = _decode_cursor(query["page_info"][-1])
        else:
            filters = {name: query[name][-1] for name in _ORDER_FILTERS if name in query}
            after = None
        status = filters.get("status", "open")
        if status not in _STATUSES:
            raise _BadRequest(f"status: must be one of {', '.join(_STATUSES)}")
        low = _datetime_param(filters, "updated_at_min")
        high = _datetime_param(filters, "updated_at_max")
        with self._lock:
            orders = sorted(self._orders.values(), key=_order_key)
        matching = [
            order
            for order in orders
            if _has_status(order, status)
            and (low is None or _order_key(order)[0] >= low)
            and (high is None or _order_key(order)[0] <= high)
            and (after is None or _order_key(order) > after)
        ]
        page = matching[:limit]
        next_cursor = (
            _encode_cursor(filters, _order_key(page[-1])) if len(matching) > limit else None
        )
        return page, next_cursor, limit

    def _list_transactions(self, version: str, order_id: int) -> Response:
        refused = self._refuse(version)
        if refused is not None:
            return refused
        with self._lock:
            transactions = self._transactions.get(order_id)
        if transactions is None:
            return self.error(404, "Not Found")
        return _json({"transactions": transactions})


def _parse_datetime(value: str) -> dt.datetime:
    """An ISO 8601 date or datetime; one without an offset is taken as UTC."""
    parsed = dt.datetime.fromisoformat(value)
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=dt.UTC)


def _datetime_param(filters: dict[str, str], name: str) -> dt.datetime | None:
    if name not in filters:
        return None
    try:
        return _parse_datetime(filters[name])
    except ValueError:
        raise _BadRequest(f"{name}: invalid ISO 8601 datetime {filters[name]!r}") from None


def _order_key(order: dict[str, Any]) -> tuple[dt.datetime, int]:
    return (_parse_datetime(order["updated_at"]), order["id"])


def _has_status(order: dict[str, Any], status: str) -> bool:
    """Shopify's `status` filter; the default, "open", skips closed and cancelled orders."""
    closed = order.get("closed_at") is not None
    cancelled = order.get("cancelled_at") is not None
    return {
        "any": True,
        "open": not closed and not cancelled,
        "closed": closed,
        "cancelled": cancelled,
    }[status]


def _encode_cursor(filters: dict[str, str], after: tuple[dt.datetime, int]) -> str:
    """An opaque `page_info`: the first request's filters and the last order's sort key."""
    state = {"filters": filters, "after": [after[0].isoformat(), after[1]]}
    return base64.urlsafe_b64encode(json.dumps(state).encode()).decode().rstrip("=")


def _decode_cursor(page_info: str) -> tuple[dict[str, str], tuple[dt.datetime, int]]:
    try:
        raw = base64.urlsafe_b64decode(page_info + "=" * (-len(page_info) % 4))
        state = json.loads(raw)
        when, order_id = state["after"]
        return dict(state["filters"]), (dt.datetime.fromisoformat(when), int(order_id))
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise _BadRequest("page_info: Invalid value.") from None


# --- Fixtures -------------------------------------------------------------------------


@pytest.fixture
def fake_stripe() -> Iterator[tuple[FakeStripe, str]]:
    """An empty `FakeStripe` served over HTTP, and its base URL (`<url>/v1/events`)."""
    fake = FakeStripe()
    with serve_wsgi(fake.app) as url:
        yield fake, url


@pytest.fixture
def fake_shopify() -> Iterator[tuple[FakeShopify, str]]:
    """An empty `FakeShopify` served over HTTP, and its base URL (`<url>/admin/api/...`)."""
    fake = FakeShopify()
    with serve_wsgi(fake.app) as url:
        yield fake, url
