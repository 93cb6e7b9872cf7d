"""What every answer of the web app carries, and how it reads JSON bodies.

- `BridgeRequest`: a JSON body nested too deeply for the parser (Python's recursion limit)
  is a 400 (`silent=True` callers get None, as for any unparsable body), never a 500.
- `security_headers`: a strict Content-Security-Policy (the console serves no inline script
  or style), `X-Frame-Options: DENY`, `X-Content-Type-Options: nosniff` and a same-origin
  referrer policy on every answer; `SECURITY_HEADERS` for the WSGI ingress in front.
"""

from __future__ import annotations

from typing import Any

from flask import Request, Response
from werkzeug.exceptions import BadRequest

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS: tuple[tuple[str, str], ...] = (
    ("Content-Security-Policy", CSP),
    ("X-Frame-Options", "DENY"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
)


class BridgeRequest(Request):
    def get_json(self, force: bool = False, silent: bool = False, cache: bool = True) -> Any:
        """Flask's, with a too deeply nested body refused like any malformed one."""
        try:
            return super().get_json(force=force, silent=silent, cache=cache)
        except RecursionError:
            if silent:
                return None
            raise BadRequest("the body's JSON is nested too deeply") from None


def security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS:
        response.headers.setdefault(name, value)
    return response
