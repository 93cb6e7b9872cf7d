"""What every page of the console shares, for blueprints beside `bridge.web.console`:
`console_blueprint(name)` gives one behind the console's login and CSRF check, with the
Sage banner and HTML error pages, and the template filters (`money`, `pretty_json`),
registered app-wide.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from flask import Blueprint
from werkzeug.exceptions import HTTPException

from bridge.web import console


def console_blueprint(name: str, import_name: str) -> Blueprint:
    """A blueprint under `/console` that behaves like the console's own pages."""
    bp = Blueprint(name, import_name, url_prefix="/console", template_folder="templates")
    bp.before_request(console.console_guard)
    bp.context_processor(console.sage_banner)
    bp.register_error_handler(HTTPException, console.error_page)
    # app-wide: the console's own templates use them too
    bp.add_app_template_filter(money, "money")
    bp.add_app_template_filter(pretty_json, "pretty_json")
    return bp


def money(value: Decimal | int | str | None) -> str:
    """An amount to the cent (`12.40`), blank for None."""
    if value is None or value == "":
        return ""
    return f"{Decimal(str(value)):.2f}"


def pretty_json(text: str) -> str:
    """A JSON body indented for reading (as it is when it is not JSON)."""
    try:
        parsed: Any = json.loads(text)
    except ValueError:
        return text
    return json.dumps(parsed, indent=2, ensure_ascii=False, sort_keys=False)
