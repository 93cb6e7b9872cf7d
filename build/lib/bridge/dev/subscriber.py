"""A local webhook subscriber for `bridge demo`: receives the bridge's outbound events on
127.0.0.1 and checks each signature (Standard Webhooks) before keeping it.

It only answers 2xx to a correctly signed message, so a delivery the demo shows as received
is one any subscriber would have accepted.
"""

from __future__ import annotations

import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from connectors.outbound.signing import InvalidSecret, sign

PATH = "/demo-hooks"


class QuietHandler(WSGIRequestHandler):
    """No access log: the demo prints what it received itself (the Stripe stand-in too)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return


@dataclass(frozen=True)
class Received:
    """One outbound event, as the subscriber got it."""

    msg_id: str
    type: str
    data: dict[str, Any]
    received_at: float


@dataclass
class Subscriber:
    """A threaded HTTP server collecting signed events. Use as a context manager."""

    secret: str = ""
    received: list[Received] = field(default_factory=list)
    rejected: int = 0
    _server: BaseWSGIServer | None = None
    _thread: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_port}{PATH}"

    def _verified(self, request: Request) -> bool:
        msg_id = request.headers.get("webhook-id", "")
        stamp = request.headers.get("webhook-timestamp", "")
        given = request.headers.get("webhook-signature", "").split()
        if not (msg_id and stamp.isdigit() and given and self.secret):
            return False
        try:
            expected = sign(self.secret, msg_id, int(stamp), request.get_data())
        except InvalidSecret:
            return False
        return any(hmac.compare_digest(expected, candidate) for candidate in given)

    def _app(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        if request.method != "POST" or request.path != PATH:
            return Response(status=404)(environ, start_response)
        with self._lock:
            if not self._verified(request):
                self.rejected += 1
                return Response("bad signature", status=401)(environ, start_response)
            try:
                body = json.loads(request.get_data())
                item = Received(
                    request.headers["webhook-id"], str(body["type"]), dict(body["data"]),
                    time.time(),
                )  # fmt: skip
            except (ValueError, KeyError, TypeError):
                return Response("bad body", status=400)(environ, start_response)
            if all(r.msg_id != item.msg_id for r in self.received):  # a retry is one event
                self.received.append(item)
        return Response(status=204)(environ, start_response)

    def snapshot(self) -> list[Received]:
        """The events received so far, in arrival order."""
        with self._lock:
            return list(self.received)

    def __enter__(self) -> Subscriber:
        self._server = make_server(
            "127.0.0.1", 0, self._app, threaded=True, request_handler=QuietHandler
        )
        self._thread = threading.Thread(target=self._server.serve_forever, name="demo-subscriber")
        self._thread.daemon = True
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(5)
