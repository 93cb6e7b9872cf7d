"""A local stand-in for the few Stripe API reads the bridge makes, for `bridge dev` only.

`bridge dev` has no Stripe account behind it (as it has no Sage account: the sandbox stands
in for Sage). When `STRIPE_API_KEY` is not set, it serves this on a free loopback port and
points the worker at it (`STRIPE_API_URL`, a throw-away key), so that a payout can be booked
end to end. It holds only what it is given: `POST /_standin/payouts {"payout": {...},
"transactions": [...]}` (what `bridge demo` sends: its own charge, with Stripe's standard
European card fee); it answers `GET /v1/payouts/<id>`,
`GET /v1/balance_transactions?payout=` (pages of `limit`, `starting_after`) and
`GET /v1/events`, `/v1/checkout/sessions` and `/v1/credit_notes` (always empty: the
stand-in has no event log, no Checkout sale and no credit note). Nothing here reaches Stripe.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

from bridge.dev.subscriber import QuietHandler

STANDIN_KEY = "sk_test_bridge_dev_standin"  # a local, throw-away key


class StripeStandin:
    """The WSGI app and its in-memory payouts; `start()` serves it on 127.0.0.1."""

    def __init__(self) -> None:
        self._payouts: dict[str, dict[str, Any]] = {}
        self._transactions: dict[str, list[dict[str, Any]]] = {}
        self._lock = threading.Lock()
        self._server: BaseWSGIServer | None = None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self._answer(Request(environ))(environ, start_response)

    def _answer(self, request: Request) -> Response:
        path = request.path
        if request.method == "POST" and path == "/_standin/payouts":
            body = request.get_json(silent=True) or {}
            payout = body.get("payout")
            if not isinstance(payout, dict) or not isinstance(body.get("transactions"), list):
                return _json({"error": {"message": "need payout and transactions"}}, 400)
            with self._lock:
                self._payouts[str(payout["id"])] = payout
                self._transactions[str(payout["id"])] = list(body["transactions"])
            return _json({"ok": True}, 201)
        if request.headers.get("Authorization") != f"Bearer {STANDIN_KEY}":
            return _json({"error": {"message": "Invalid API Key provided"}}, 401)
        if path in _EMPTY_LISTS:
            return _json({"object": "list", "data": [], "has_more": False})
        if path.startswith("/v1/payouts/"):
            with self._lock:
                payout = self._payouts.get(path.rsplit("/", 1)[1])
            if payout is None:
                return _json({"error": {"message": "No such payout"}}, 404)
            return _json(payout)
        if path == "/v1/balance_transactions":
            return self._page(request)
        return _json({"error": {"message": f"Unrecognized request URL ({path})"}}, 404)

    def _page(self, request: Request) -> Response:
        with self._lock:
            items = list(self._transactions.get(request.args.get("payout", ""), []))
        limit = int(request.args.get("limit", "10"))
        after = request.args.get("starting_after")
        ids = [str(item["id"]) for item in items]
        start = ids.index(after) + 1 if after in ids else 0
        page = items[start : start + limit]
        return _json({"object": "list", "data": page, "has_more": start + limit < len(items)})

    def start(self) -> str:
        """Serve on a free loopback port (a daemon thread); return the base URL."""
        self._server = make_server(
            "127.0.0.1", 0, self, threaded=True, request_handler=QuietHandler
        )
        threading.Thread(
            target=self._server.serve_forever, name="stripe-standin", daemon=True
        ).start()
        return f"http://127.0.0.1:{self._server.server_port}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


_EMPTY_LISTS = frozenset({"/v1/events", "/v1/checkout/sessions", "/v1/credit_notes"})


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")
