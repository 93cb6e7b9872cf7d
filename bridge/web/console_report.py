"""The console's Report page (`/console/report?from=&to=`): the variance report of
`bridge report` (`bridge.reports.variance`), with a CSV download (`&format=csv`). It reads
Sage, so it is built only when asked (the form), never on every page load."""

from __future__ import annotations

import datetime as dt

import redis
from flask import Response, abort, render_template, request

from bridge.reports.render import cents, render_csv
from bridge.reports.variance import COLUMNS, SAGE_NAMES, build_report, check_range
from bridge.services import ConfigurationError
from bridge.web.common import current_services
from bridge.web.console_parts import console_blueprint
from connectors.sage_active.errors import SageError

bp = console_blueprint("console_report", __name__)


def _day(name: str, default: dt.date) -> dt.date:
    text = request.args.get(name) or ""
    if not text:
        return default
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        abort(400, f"{name}={text!r} is not a date (YYYY-MM-DD)")


@bp.get("/report")
def report() -> str | Response:
    """The form; with `from` (and `to`), the report of those days."""
    today = dt.datetime.now(dt.UTC).date()
    first = _day("from", today.replace(day=1))
    last = _day("to", today)
    asked = "from" in request.args
    context = {
        "first": first,
        "last": last,
        "columns": COLUMNS,
        "sage_names": SAGE_NAMES,
        "cents": cents,
        "report": None,
        "error": None,
    }
    if asked:
        try:
            check_range(first, last)
        except ValueError as exc:
            abort(400, str(exc))
        try:
            built = build_report(current_services(), first, last)
        except (SageError, ConfigurationError) as exc:
            context["error"] = f"Sage could not be read: {exc}"
        except redis.RedisError as exc:
            context["error"] = f"Redis did not answer: {exc}"
        else:
            if request.args.get("format") == "csv":
                name = f"variance-{first}-{last}.csv"
                disposition = {"Content-Disposition": f"attachment; filename={name}"}
                return Response(render_csv(built), mimetype="text/csv", headers=disposition)
            context["report"] = built
    return render_template("console/report.html", **context)
